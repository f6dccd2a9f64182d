"""Mention swap (training/augment.py) keeps every annotation aligned with its token."""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "training"))

import augment  # noqa: E402

# Invented sentences (not from the corpus).
WORDS = ["Rektor", "Kari", "Lund", "reiste", "til", "Tromsø", ".",
         "Hun", "møtte", "Per", "i", "Bodø", "."]
POS = ["NOUN", "PROPN", "PROPN", "VERB", "ADP", "PROPN", "PUNCT",
       "PRON", "VERB", "PROPN", "ADP", "PROPN", "PUNCT"]
ENTS = ["O", "B-PER", "I-PER", "O", "O", "B-GPE_LOC", "O",
        "O", "O", "B-PER", "O", "B-GPE_LOC", "O"]
STARTS = [True] + [False] * 6 + [True] + [False] * 5


def _doc(vocab) -> Doc:
    lemmas = [w.lower() if p not in ("PROPN",) else w for w, p in zip(WORDS, POS)]
    return Doc(vocab, words=WORDS, spaces=[n != "." for n in WORDS[1:]] + [False],
               pos=POS, lemmas=lemmas, ents=ENTS, sent_starts=STARTS)


@pytest.fixture()
def bank(tmp_path):
    nlp = spacy.blank("nb")
    other = Doc(nlp.vocab, words=["Ola", "Nordmann", "bor", "i", "Alta", "."],
                spaces=[True, True, True, True, False, False],
                pos=["PROPN", "PROPN", "VERB", "ADP", "PROPN", "PUNCT"],
                lemmas=["Ola", "Nordmann", "bo", "i", "Alta", "."],
                ents=["B-PER", "I-PER", "O", "O", "B-GPE_LOC", "O"])
    path = tmp_path / "train.spacy"
    DocBin(docs=[other, other]).to_disk(path)
    return augment.mention_bank(path)


def test_bank_holds_each_distinct_mention_once_per_label(bank):
    assert bank == {
        "PER": [(("Ola", "Nordmann"), (True, True), ("PROPN", "PROPN"), ("Ola", "Nordmann"))],
        "GPE_LOC": [(("Alta",), (False,), ("PROPN",), ("Alta",))],
    }


def test_full_swap_replaces_every_mention_with_one_of_its_own_label(bank):
    doc = _doc(spacy.blank("nb").vocab)
    new = augment.swap_mentions(doc, bank, level=1.0, rng=random.Random(0))
    assert [(e.text, e.label_) for e in new.ents] == [
        ("Ola Nordmann", "PER"), ("Alta", "GPE_LOC"), ("Ola Nordmann", "PER"), ("Alta", "GPE_LOC")]
    assert new.text == "Rektor Ola Nordmann reiste til Alta. Hun møtte Ola Nordmann i Alta."
    # tokens outside mentions keep their annotations, swapped-in tokens bring theirs
    assert [(t.text, t.pos_, t.lemma_) for t in new[:5]] == [
        ("Rektor", "NOUN", "rektor"), ("Ola", "PROPN", "Ola"), ("Nordmann", "PROPN", "Nordmann"),
        ("reiste", "VERB", "reiste"), ("til", "ADP", "til")]
    assert [s.text for s in new.sents] == ["Rektor Ola Nordmann reiste til Alta.",
                                           "Hun møtte Ola Nordmann i Alta."]


def test_level_zero_or_unknown_label_swaps_nothing(bank):
    doc = _doc(spacy.blank("nb").vocab)
    assert augment.swap_mentions(doc, bank, level=0.0) is None
    assert augment.swap_mentions(doc, {"ORG": bank["PER"]}, level=1.0) is None


def test_registered_augmenter_yields_a_trainable_example(bank, tmp_path):
    nlp = spacy.blank("nb")
    path = tmp_path / "train.spacy"  # written by the `bank` fixture
    aug = spacy.registry.augmenters.get("rta.mention_swap.v1")(path=str(path), level=1.0)
    from spacy.training import Example
    doc = _doc(nlp.vocab)
    (eg,) = list(aug(nlp, Example(nlp.make_doc(doc.text), doc)))
    assert eg.reference.text != doc.text
    assert [t.text for t in eg.predicted] == [t.text for t in eg.reference]
    assert {e.label_ for e in eg.reference.ents} == {"PER", "GPE_LOC"}


def test_error_breakdown_counts_each_gold_mention_once_by_kind():
    import errors

    nlp = spacy.blank("nb")
    gold = _doc(nlp.vocab)  # Kari Lund (PER), Tromsø, Per (PER), Bodø
    pred = Doc(nlp.vocab, words=WORDS, spaces=[n != "." for n in WORDS[1:]] + [False])
    pred.ents = [pred.char_span(7, 11, "PER"),              # 'Kari' only: boundary
                 pred.char_span(28, 34, "ORG"),             # Tromsø as ORG: type
                 pred.char_span(46, 49, "PER"),             # Per: ok
                 pred.char_span(0, 6, "PER")]               # 'Rektor': spurious
    c = errors.classify([gold], [pred], seen={"Per", "Tromsø"})
    assert c["unseen", "boundary"] == 1
    assert c["seen", "type"] == 1
    assert c["seen", "ok"] == 1
    assert c["unseen", "missed"] == 1      # Bodø
    assert c["spurious", ""] == 1
    assert c["predicted", ""] == 4
