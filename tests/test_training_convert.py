"""Tests for training/convert.py on a tiny invented fixture (tests/data/norne_mini).

The fixture sentences are made up for these tests; no corpus text is in the repository.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "training"))

import convert  # noqa: E402

MINI = REPO / "tests" / "data" / "norne_mini"


@pytest.fixture(scope="module")
def corpus():
    return convert.Corpus(MINI)


@pytest.fixture(scope="module")
def splitted(corpus):
    return convert.split(corpus)


def _forms(sent):
    return [t["form"] for t in sent]


def test_headline_pipe_is_stripped_before_matching(corpus, splitted):
    raw = corpus.ndt[0][1]
    assert raw[-1]["form"] == "|"
    assert _forms(convert.strip_headline(raw)) == ["Ola", "Hansen", "vant", "i", "Bodø"]
    train, aligned, stats = splitted
    assert stats["headline_stripped"] == 1
    # the dev sentence (no '|') found its treebank copy
    ud, ndt = aligned["dev"][0]
    assert ndt is not None and _forms(ndt) == _forms(ud["tokens"])


def test_dev_test_copies_and_prefix_match_removed_from_train(splitted):
    train, aligned, stats = splitted
    texts = {" ".join(_forms(s)) for _, s in train}
    assert texts == {
        "Huset mitt er stort .",
        "Kari jobber i Norsk Fiskeforlag og Molde .",
        "Boka som jeg leste her handler om å vinne .",
    }
    # both copies of the duplicated test text left train
    assert stats["held_out_copies"] == 4
    assert stats["dupe_heldout_texts"] == 1
    # the cut-short UD test sentence matched by prefix
    assert stats["prefix_matches"] == {"test": 1}
    assert not stats["unmatched"]


def test_punctuation_lemma_becomes_the_mark():
    assert convert.fix_lemma(".", "$.") == "."
    assert convert.fix_lemma(",", "$,") == ","
    assert convert.fix_lemma("«", '$"') == "«"
    assert convert.fix_lemma("huset", "hus") == "hus"
    rec = convert.ndt_record(convert.read_ndt_file(MINI / "ndt" / "nob" / "mini_0000.conll")[2])
    assert rec["lemmas"] == ["hus", "min", "være", "stor", "."]


def _upos(corpus, i):
    s = convert.strip_headline(corpus.ndt[i][1])
    return dict(zip(_forms(s), convert.ndt_upos(s)))


def test_upos_context_rules(corpus):
    modal = _upos(corpus, 1)
    assert modal["skal"] == "AUX"  # verb governing an infinitive
    assert modal["reise"] == "VERB"
    assert modal["ikke"] == "PART"
    assert modal["Hamar"] == "PROPN"
    assert modal["."] == "PUNCT"
    cop = _upos(corpus, 2)
    assert cop["mitt"] == "PRON"  # possessive determiner
    assert cop["er"] == "AUX"  # være with a predicative
    assert cop["Huset"] == "NOUN"
    rel = _upos(corpus, 6)
    assert rel["som"] == "PRON"  # subordinator som
    assert rel["om"] == "SCONJ"  # preposition with a clause complement
    assert rel["her"] == "ADV"
    assert rel["å"] == "PART"
    plain = _upos(corpus, 0)
    assert plain["vant"] == "VERB"  # no infinitive / predicative: stays VERB


def test_upos_agreement_on_fixture(splitted):
    _, aligned, _ = splitted
    ok, total, _ = convert.upos_agreement(aligned)
    assert total == 5 + 7 + 3
    assert ok == total


def test_entities_converted_and_repaired(tmp_path):
    import spacy
    from spacy.tokens import DocBin

    stats = convert.convert(MINI, tmp_path, n_sents=1, verbose=False)
    assert stats["counts"]["train"]["sentences"] == 3
    assert stats["counts"]["dev"]["sentences"] == 1
    assert stats["counts"]["test"]["sentences"] == 2
    nlp = spacy.blank("nb")
    train = list(DocBin().from_disk(tmp_path / "train.spacy").get_docs(nlp.vocab))
    ents = {(e.text, e.label_) for d in train for e in d.ents}
    # I-GPE_LOC after an ORG starts a new entity
    assert ents == {("Kari", "PER"), ("Norsk Fiskeforlag", "ORG"), ("Molde", "GPE_LOC")}
    dev = list(DocBin().from_disk(tmp_path / "dev.spacy").get_docs(nlp.vocab))
    assert [(e.text, e.label_) for e in dev[0].ents] == [("Ola Hansen", "PER"), ("Bodø", "GPE_LOC")]
    test = list(DocBin().from_disk(tmp_path / "test.spacy").get_docs(nlp.vocab))
    t1 = test[0]
    assert t1.text.startswith("Vi skal ikke reise til Hamar.")  # SpaceAfter=No respected
    assert [t.pos_ for t in t1] == ["PRON", "AUX", "PART", "VERB", "ADP", "PROPN", "PUNCT"]
    assert t1[-1].lemma_ == "."
    assert [(e.text, e.label_) for e in t1.ents] == [("Hamar", "GPE_LOC")]


def test_fix_iob():
    assert convert.fix_iob(["I-PER", "I-PER", "O", "B-ORG", "I-LOC", "_"]) == [
        "B-PER", "I-PER", "O", "B-ORG", "B-LOC", "O"]


def test_find_corpus_accepts_fixture():
    assert convert.find_corpus(str(MINI)) == MINI.resolve()


def test_parse_option_keeps_the_ndt_trees_in_train_only(tmp_path):
    import spacy
    from spacy.tokens import DocBin

    convert.convert(MINI, tmp_path, n_sents=2, verbose=False, parse=True)
    nlp = spacy.blank("nb")
    train = list(DocBin().from_disk(tmp_path / "train.spacy").get_docs(nlp.vocab))
    corpus = convert.Corpus(MINI)
    kept, _aligned, _stats = convert.split(corpus)
    gold = [convert.strip_headline(s) for _stem, s in kept]
    tokens = [t for d in train for t in d]
    assert all(d.has_annotation("DEP") for d in train)
    assert sum(len(list(d.sents)) for d in train) == len(gold)  # one tree per sentence
    flat = [(t, len(s), i) for s in gold for i, t in enumerate(s)]
    for tok, (ndt, _n, i) in zip(tokens, flat):
        if ndt["head"] == 0:
            assert tok.head.i == tok.i and tok.dep_ == "ROOT"
        else:
            assert tok.head.i - tok.i == ndt["head"] - 1 - i and tok.dep_ == ndt["rel"]
    dev = list(DocBin().from_disk(tmp_path / "dev.spacy").get_docs(nlp.vocab))
    assert not any(d.has_annotation("DEP") for d in dev)


def _sent(text: str) -> list[dict]:
    return [{"form": w} for w in text.split()]


def test_ud_sentences_are_grouped_into_the_articles_of_their_treebank_copies():
    corpus = convert.Corpus.__new__(convert.Corpus)
    corpus.ndt = [("a_0000", _sent("Per kom .")), ("a_0000", _sent("Han gikk .")),
                  ("b_0000", _sent("Det regner i Tromsø . |"))]
    corpus.dev = []
    corpus.test = [{"tokens": _sent(t)} for t in
                   ("Per kom .", "Han gikk .", "Det regner i Tromsø .", "Han gikk .", "Ukjent setning .")]
    corpus.test.insert(2, {"tokens": []})  # empty UD sentences are skipped, not an article break
    got = [(stem, [" ".join(t["form"] for t in s["tokens"]) for s in sents])
           for stem, sents in convert.articles(corpus, "test")]
    assert got == [
        ("a_0000", ["Per kom .", "Han gikk ."]),
        ("b_0000", ["Det regner i Tromsø ."]),  # headline '|' stripped before matching
        ("a_0000", ["Han gikk ."]),  # a new run of the same file is a new article
        (None, ["Ukjent setning ."]),
    ]


def test_the_mini_corpus_test_split_is_one_article(corpus):
    arts = convert.articles(corpus, "test")
    assert [(stem, len(sents)) for stem, sents in arts] == [("mini_0000", 2)]
