"""spaCy factory for rta's entity consistency component (``rta_entity_consistency``).

Why a module of its own: the bundled ``nb_rta`` pipeline ends with this component, so
``spacy.load`` must find its factory without importing rta first. pyproject.toml advertises
:func:`make_entity_consistency` under spaCy's ``spacy_factories`` entry point; spaCy imports
this module when it creates a pipeline, and the decorator registers the factory. Kept apart
from :mod:`rta.entities` so that importing rta's library does not import spaCy.
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language

from rta.entities import COMPONENT, EntityConsistency


@Language.factory(COMPONENT, default_config={"countries_rule": True, "surnames": True, "vote": True})
def make_entity_consistency(nlp: Any, name: str, countries_rule: bool, surnames: bool,
                            vote: bool) -> EntityConsistency:
    """The three consistency rules of :mod:`rta.entities` as a pipeline component."""
    return EntityConsistency(countries_rule, surnames, vote)
