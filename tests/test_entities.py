"""rta.entities: the document-level consistency rules applied after the NER."""

from __future__ import annotations

import pytest
import spacy

from rta.entities import COMPONENT, add_to, base_form, countries, harmonise, harmonise_docs
from rta.nlp import bundled_path


@pytest.fixture(scope="module")
def blank():
    return spacy.blank("nb")


def tagged(nlp, text: str, ents: list[tuple[str, str]]):
    """A Doc of ``text`` whose entities are the given (text, label) pairs, found left to right."""
    doc = nlp(text)
    spans, pos = [], 0
    for surface, label in ents:
        start = text.index(surface, pos)
        span = doc.char_span(start, start + len(surface), label=label)
        assert span is not None, surface
        spans.append(span)
        pos = start + len(surface)
    doc.ents = spans
    return doc


def labels(doc) -> list[tuple[str, str]]:
    return [(e.text, e.label_) for e in doc.ents]


def test_country_list_is_norwegian_and_leaves_out_the_pronoun_man() -> None:
    names = countries()
    assert {"Norge", "Sverige", "Chile", "Nord-Korea", "Albania"} <= names
    assert "Man" not in names and len(names) > 200


def test_a_norwegian_municipality_is_geo_political_unless_it_is_also_a_common_word(blank) -> None:
    doc = tagged(blank, "Levanger vant over Steinkjer. Sola skinte i Sola.", [("Levanger", "PER")])
    # Levanger relabelled, Steinkjer added; Sola ('the sun') is on the list as a common word: left alone
    assert labels(harmonise(doc)) == [("Levanger", "GPE_LOC"), ("Steinkjer", "GPE_LOC")]
    club = tagged(blank, "Molde slo Rosenborg.", [("Molde", "ORG"), ("Rosenborg", "ORG")])
    assert labels(harmonise(club)) == [("Molde", "ORG"), ("Rosenborg", "ORG")]  # a club stays ORG


def test_genitive_ending_is_ignored_when_comparing_names() -> None:
    assert base_form("Chiles") == "Chile"
    assert base_form("Hans'") == "Hans"
    assert base_form("Os") == "Os"  # too short to be a genitive


def test_a_country_typed_as_a_product_or_place_becomes_geo_political(blank) -> None:
    doc = tagged(blank, "Eksporten til Albania og Chiles gruver vokste.", [("Albania", "PROD"), ("Chiles", "LOC")])
    assert labels(harmonise(doc)) == [("Albania", "GPE_LOC"), ("Chiles", "GPE_LOC")]


def test_a_country_typed_as_an_organisation_is_kept(blank) -> None:
    # NorNE types national teams as ORG: 'Norge slo Sverige 2-0'
    doc = tagged(blank, "Norge slo Sverige 2-0 i går.", [("Norge", "ORG"), ("Sverige", "ORG")])
    assert labels(harmonise(doc)) == [("Norge", "ORG"), ("Sverige", "ORG")]


def test_a_missed_country_name_is_added_but_not_the_pronoun_man(blank) -> None:
    doc = tagged(blank, "Man reiste til Nord-Korea og Chile.", [("Chile", "GPE_LOC")])
    assert labels(harmonise(doc)) == [("Nord-Korea", "GPE_LOC"), ("Chile", "GPE_LOC")]


def test_a_lone_surname_is_a_person_once_the_full_name_was_one(blank) -> None:
    doc = tagged(blank, "Ola Djuvik er rektor. Djuvik sier at Djuviks skole er liten.",
                 [("Ola Djuvik", "PER"), ("Djuvik", "GPE_LOC")])
    assert labels(harmonise(doc)) == [("Ola Djuvik", "PER"), ("Djuvik", "PER"), ("Djuviks", "PER")]


def test_the_surname_rule_adds_no_lower_case_words_and_leaves_longer_names_alone(blank) -> None:
    doc = tagged(blank, "Kari Berg gikk. Berg Sparebank og berg i dagen.",
                 [("Kari Berg", "PER"), ("Berg Sparebank", "ORG")])
    assert labels(harmonise(doc)) == [("Kari Berg", "PER"), ("Berg Sparebank", "ORG")]


def test_one_word_names_alone_do_not_start_the_surname_rule(blank) -> None:
    doc = tagged(blank, "Tindvik vant. Tindvik er fint.", [("Tindvik", "PER")])
    harmonise(doc, vote=False)
    assert labels(doc) == [("Tindvik", "PER")]  # nothing added: no full name in the document


def test_the_majority_type_wins_and_a_tie_changes_nothing(blank) -> None:
    doc = tagged(blank, "Fortodol hjelper. Fortodol selges. Fortodol virker.",
                 [("Fortodol", "PROD"), ("Fortodol", "PROD"), ("Fortodol", "PER")])
    assert [lab for _, lab in labels(harmonise(doc))] == ["PROD", "PROD", "PROD"]
    tie = tagged(blank, "Kvitmo kom. Kvitmo dro.", [("Kvitmo", "ORG"), ("Kvitmo", "LOC")])
    assert labels(harmonise(tie)) == [("Kvitmo", "ORG"), ("Kvitmo", "LOC")]


def test_rules_never_drop_or_reshape_an_entity_the_ner_found(blank) -> None:
    doc = tagged(blank, "Per Olsen og NAV Hamar møtte Olsen i Bergen.",
                 [("Per Olsen", "PER"), ("NAV Hamar", "ORG"), ("Olsen", "ORG"), ("Bergen", "GPE_LOC")])
    before = [(e.start, e.end) for e in doc.ents]
    after = [(e.start, e.end) for e in harmonise(doc).ents]
    assert set(before) <= set(after)


def test_rules_run_across_the_turns_of_one_transcript(blank) -> None:
    first = tagged(blank, "Jeg snakket med Ola Djuvik.", [("Ola Djuvik", "PER")])
    later = tagged(blank, "Djuvik var enig.", [("Djuvik", "LOC")])
    harmonise_docs([first, later])
    assert labels(later) == [("Djuvik", "PER")]


def test_component_goes_after_the_ner_and_only_where_there_is_one(blank) -> None:
    assert COMPONENT not in add_to(spacy.blank("nb")).pipe_names
    nlp = spacy.blank("nb")
    nlp.add_pipe("ner")
    add_to(add_to(nlp))
    assert nlp.pipe_names == ["ner", COMPONENT]


@pytest.mark.skipif(not (bundled_path() / "meta.json").is_file(), reason="bundled pipeline not present")
def test_bundled_pipeline_with_the_rules_keeps_a_full_name_and_its_surname_together() -> None:
    nlp = add_to(spacy.load(bundled_path()))
    doc = nlp("Rektor Ingrid Haugsvær ledet møtet i Bergen. Etterpå sa Haugsvær at hun var fornøyd.")
    found = {(e.text, e.label_) for e in doc.ents}
    assert ("Ingrid Haugsvær", "PER") in found
    assert ("Haugsvær", "PER") in found


@pytest.mark.skipif(not (bundled_path() / "meta.json").is_file(), reason="bundled pipeline not present")
def test_the_bundled_pipeline_ends_with_the_rules_when_spacy_loads_it(blank) -> None:
    # a plain spacy.load in a fresh interpreter that never imported rta: the shipped config
    # names the component and rta's spacy_factories entry point lets spaCy build it
    import subprocess
    import sys

    code = f"import spacy; print(spacy.load({str(bundled_path())!r}).pipe_names)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith(f"'ner', '{COMPONENT}']")
    nlp = spacy.load(bundled_path())
    doc = tagged(blank, "Levanger vant.", [("Levanger", "PER")])
    assert labels(nlp.get_pipe(COMPONENT)(doc)) == [("Levanger", "GPE_LOC")]


def test_the_component_factory_is_advertised_to_spacy_as_an_entry_point() -> None:
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group="spacy_factories")}
    assert found.get(COMPONENT) == "rta.spacy_factories:make_entity_consistency"


def test_harmonise_leaves_a_doc_without_entities_unchanged(blank) -> None:
    doc = blank("ingen navn her.")
    assert list(harmonise(doc).ents) == []
