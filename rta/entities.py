"""One name, one type: document-level consistency for the named entities a NER finds.

Why: a statistical NER labels each mention from a few words of context, so an unseen name can
come out as a person in one sentence and an organisation in the next, and a surname on its own
("Djuvik sier ...") is often taken for a place after the full name ("Ola Djuvik") has been
introduced. A transcript or an article is about the same people throughout, so three rules,
applied over a whole document (or over the turns of one transcript), correct the NER:

1. **Countries and Norwegian places.** A country name (CLDR's Norwegian names,
   ``rta/data/countries_nb.txt``) or a Norwegian county, municipality or town name
   (``rta/data/places_no.txt``, less those that are also common words) that the NER typed as a
   non-geo-political kind (LOC, PER, PROD, EVT, DRV, MISC) becomes ``GPE_LOC``; one it missed,
   written with a capital, is added as ``GPE_LOC``. ``ORG`` is left alone: NorNE types national
   teams and clubs as ORG.
2. **Surnames and first names.** Each capitalised word of a person's full name (a PER entity
   of two or more words) marks that word, and its genitive, as a person's name elsewhere in
   the document: a one-word entity of another type becomes PER, and a capitalised occurrence
   the NER missed is added as PER.
3. **Majority type.** Mentions with the same text (genitive -s ignored) take the type most of
   them have; a tie changes nothing.

The rules were chosen on the NorNE UD dev split with the shipped ``nb_rta``; the figures are in
``training/README.md`` ("Entity consistency rules"): over whole source articles, with each
sentence tagged alone as rta tags a transcript's turns, they raise UD NER F from 0.787 to 0.8095
on dev and from 0.673 to 0.7315 on test. The rules only relabel or add entities; spans the NER
found are kept.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

COUNTRIES_FILE = Path(__file__).resolve().parent / "data" / "countries_nb.txt"
PLACES_FILE = Path(__file__).resolve().parent / "data" / "places_no.txt"
COMPONENT = "rta_entity_consistency"

# Types a country name is never given in NorNE's scheme (ORG is: national teams).
_NOT_GEO = frozenset({"LOC", "PER", "PROD", "EVT", "DRV", "MISC"})
# Country names that are also ordinary words with a capital at the start of a sentence.
_AMBIGUOUS = frozenset({"Man"})


@functools.cache
def countries() -> frozenset[str]:
    """Norwegian country and territory names (the shipped CLDR list)."""
    lines = COUNTRIES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")) - _AMBIGUOUS


@functools.cache
def places_no() -> dict[str, bool]:
    """Norwegian county, municipality, town and district names (``rta/data/places_no.txt``),
    each mapped to whether it is also a common word ('Sola', 'Time': a trailing ``*``).

    Why: in these interviews the municipality is what identifies an informant (S1 is *the*
    school owner of municipality 1), and the NER misses place names it never saw in training.
    """
    out: dict[str, bool] = {}
    for ln in PLACES_FILE.read_text(encoding="utf-8").splitlines():
        ln = ln.strip()
        if ln and not ln.startswith("#"):
            name = ln.rstrip("*").strip()
            out[name] = out.get(name, False) or ln.endswith("*")
    return out


@functools.cache
def geo_names() -> frozenset[str]:
    """Names rule 1 types GPE_LOC: countries, and Norwegian places that are not common words."""
    return countries() | frozenset(n for n, common in places_no().items() if not common)


@functools.cache
def _country_re() -> re.Pattern[str]:
    names = sorted(geo_names(), key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(n) for n in names)})(?:s|'|’)?(?!\w)")


def base_form(text: str) -> str:
    """``text`` without a genitive ending: 'Chiles' -> 'Chile', "Hans'" -> 'Hans'."""
    if len(text) > 3 and text.endswith("s"):
        return text[:-1]
    if len(text) > 2 and text.endswith(("'", "’")):
        return text[:-1]
    return text


def _is_name_word(token: Any) -> bool:
    return token.is_alpha and len(token.text) > 1 and token.text[:1].isupper()


def harmonise_docs(docs: Sequence[Any], *, countries_rule: bool = True, surnames: bool = True,
                   vote: bool = True) -> list[Any]:
    """Apply the three rules over ``docs`` taken as one document (e.g. the turns of one
    transcript, each tagged on its own). Changes each ``doc.ents`` in place; returns the docs."""
    from spacy.tokens import Span

    ents: list[list[Any]] = [list(d.ents) for d in docs]
    if countries_rule:
        names = geo_names()
        pattern = _country_re()
        for i, doc in enumerate(docs):
            fixed = []
            for e in ents[i]:
                if e.label_ in _NOT_GEO and (e.text in names or base_form(e.text) in names):
                    e = Span(doc, e.start, e.end, label="GPE_LOC")
                fixed.append(e)
            covered = {t for e in fixed for t in range(e.start, e.end)}
            for m in pattern.finditer(doc.text):
                span = doc.char_span(m.start(), m.end(), label="GPE_LOC")
                if span is None or any(t in covered for t in range(span.start, span.end)):
                    continue
                fixed.append(span)
                covered.update(range(span.start, span.end))
            ents[i] = fixed
    if surnames:
        parts = {t.text for doc_ents in ents for e in doc_ents if e.label_ == "PER" and len(e) >= 2
                 for t in e if _is_name_word(t)}
        if parts:
            for i, doc in enumerate(docs):
                fixed = []
                for e in ents[i]:
                    if e.label_ != "PER" and len(e) == 1 and (e.text in parts or base_form(e.text) in parts):
                        e = Span(doc, e.start, e.end, label="PER")
                    fixed.append(e)
                covered = {t for e in fixed for t in range(e.start, e.end)}
                for tok in doc:
                    if tok.i not in covered and tok.text[:1].isupper() and (
                            tok.text in parts or base_form(tok.text) in parts):
                        fixed.append(Span(doc, tok.i, tok.i + 1, label="PER"))
                ents[i] = fixed
    if vote:
        labels: dict[str, Counter[str]] = defaultdict(Counter)
        for doc_ents in ents:
            for e in doc_ents:
                labels[base_form(e.text)][e.label_] += 1
        winner: dict[str, str] = {}
        for text, counts in labels.items():
            ranked = counts.most_common(2)
            if len(ranked) == 2 and ranked[0][1] > ranked[1][1]:
                winner[text] = ranked[0][0]
        if winner:
            for i, doc in enumerate(docs):
                ents[i] = [Span(doc, e.start, e.end, label=winner[base_form(e.text)])
                           if winner.get(base_form(e.text), e.label_) != e.label_ else e for e in ents[i]]
    for doc, doc_ents in zip(docs, ents):
        doc.ents = sorted(doc_ents, key=lambda e: e.start)
    return list(docs)


def harmonise(doc: Any, **rules: bool) -> Any:
    """Apply the rules within one document; returns it (changed in place)."""
    harmonise_docs([doc], **rules)
    return doc


class EntityConsistency:
    """The spaCy component: runs :func:`harmonise` on each document after the NER."""

    def __init__(self, countries_rule: bool = True, surnames: bool = True, vote: bool = True) -> None:
        self.rules = {"countries_rule": countries_rule, "surnames": surnames, "vote": vote}

    def __call__(self, doc: Any) -> Any:
        return harmonise(doc, **self.rules)

    def pipe(self, docs: Iterable[Any], batch_size: int = 128) -> Iterable[Any]:
        for doc in docs:
            yield self(doc)


def _register() -> None:
    """Register the factory (importing the module does; spaCy also does it through the
    ``spacy_factories`` entry point when rta is installed)."""
    import rta.spacy_factories  # noqa: F401


def add_to(nlp: Any) -> Any:
    """Add the component after ``ner`` if the pipeline has a NER and not the component yet."""
    if "ner" in nlp.pipe_names and COMPONENT not in nlp.pipe_names:
        _register()
        nlp.add_pipe(COMPONENT, after="ner")
    return nlp
