"""Benchmark the shipped Norwegian pipeline (rta/models/nb_rta) against spacy.blank("nb").

  python benchmarks/bench_pipeline.py [--model rta/models/nb_rta] [--corpus ../shared/data/norne]

One thread (OMP/MKL/OPENBLAS = 1, thinc NumpyOps, no torch): prints words/s for the pipeline
and the blank tokenizer-only baseline and their ratio, the size on disk, and, when the NorNE
corpus is present, UPOS / lemma / NER scores on the UD test split (and dev with --dev).
Texts: the UD test sentences if the corpus is found, else a built-in Norwegian sample.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
           "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import functools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO / "rta" / "models" / "nb_rta"

SAMPLE = (
    "Jeg jobbet som sykepleier i Tromsø i mange år før jeg flyttet til Bergen. "
    "Det var ikke lett å få fast stilling, men kommunen hadde behov for folk. "
    "Vi snakket mye om arbeidsmiljøet, og lederen min, Kari Nordmann, tok det på alvor. "
    "Etter at NAV la om rutinene, ble det mer papirarbeid og mindre tid med pasientene. "
    "Jeg tror mange kjenner seg igjen i det, særlig de som har vært her lenge."
)


def _ud_file(corpus: str | None, split: str) -> Path | None:
    cands = []
    if corpus:
        cands.append(Path(corpus))
    cands += [REPO.parent / "shared" / "data" / "norne", Path("/work/shared/data/norne")]
    for c in cands:
        f = c / "ud" / "nob" / f"no_bokmaal-ud-{split}.conllu"
        if f.is_file():
            return f
    return None


def load_texts(corpus: str | None = None) -> list[str]:
    """UD test sentence texts if available, else the sample repeated."""
    f = _ud_file(corpus, "test")
    if f is None:
        return [SAMPLE] * 200
    return [ln[len("# text = "):].rstrip("\n") for ln in open(f, encoding="utf-8")
            if ln.startswith("# text = ")]


def _single_thread():
    from thinc.api import NumpyOps, set_current_ops

    set_current_ops(NumpyOps())
    try:
        import torch  # noqa: F401  (only if installed by someone else)
        torch.set_num_threads(1)
    except Exception:
        pass


def words_per_second(nlp, texts: list[str], repeats: int = 3, batch_size: int = 256) -> float:
    _single_thread()
    list(nlp.pipe(texts[:50]))  # warm-up
    n_words = 0
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        n_words = sum(len(d) for d in nlp.pipe(texts, batch_size=batch_size))
        dt = time.perf_counter() - t0
        best = max(best, n_words / dt)
    return best


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def _gold_groups(nlp, f: Path, group: int):
    """UD sentences as gold Docs, in groups of ``group`` consecutive sentences."""
    sys.path.insert(0, str(REPO / "training"))
    from convert import read_conllu, ud_record, make_doc  # noqa: E402

    recs = [ud_record(s) for s in read_conllu(f) if s["tokens"]]
    return [([make_doc(nlp.vocab, [r]) for r in recs[i:i + group]], make_doc(nlp.vocab, recs[i:i + group]))
            for i in range(0, len(recs), group)]


@functools.cache
def _treebank(norne: Path):
    """The NorNE corpus and its sentence index, read once per run (test and dev both need it)."""
    sys.path.insert(0, str(REPO / "training"))
    from convert import Corpus, TreebankIndex  # noqa: E402

    corpus = Corpus(norne)
    return corpus, TreebankIndex(corpus.ndt)


def _article_groups(nlp, norne: Path, split: str):
    """UD sentences as gold Docs, grouped by source article (the NDT file of their treebank
    copy, ``training/convert.py: articles``): UD has no document markers of its own."""
    from convert import articles, ud_record, make_doc  # noqa: E402

    corpus, index = _treebank(norne)
    out = []
    for _stem, sents in articles(corpus, split, index):
        recs = [ud_record(s) for s in sents]
        out.append(([make_doc(nlp.vocab, [r]) for r in recs], make_doc(nlp.vocab, recs)))
    return out


def _score_groups(nlp, groups) -> dict:
    """NER scored four ways over ``groups`` of (sentence golds, group gold), see ``evaluate``."""
    from spacy.scorer import get_ner_prf
    from spacy.tokens import Doc
    from spacy.training import Example

    from rta.entities import COMPONENT, harmonise_docs

    has_rules = COMPONENT in nlp.pipe_names
    raw = [c for c in nlp.pipe_names if c != COMPONENT]
    out: dict = {}
    out["doc"] = nlp.evaluate([Example(nlp.make_doc(gold.text), gold) for _, gold in groups])
    with nlp.select_pipes(enable=raw):
        out["doc_raw"] = nlp.evaluate([Example(nlp.make_doc(gold.text), gold) for _, gold in groups])
        sents = list(nlp.pipe(g.text for sents, _ in groups for g in sents))
    per_sent_raw, per_sent = [], []
    i = 0
    for sent_golds, gold in groups:
        part = sents[i:i + len(sent_golds)]
        i += len(sent_golds)
        per_sent_raw.append(Example(Doc.from_docs([d.copy() for d in part], ensure_whitespace=True), gold))
        if has_rules:
            harmonise_docs(part)
        per_sent.append(Example(Doc.from_docs(part, ensure_whitespace=True), gold))
    out["sent_raw"] = get_ner_prf(per_sent_raw)
    out["sent"] = get_ner_prf(per_sent)
    return out


def evaluate(nlp, corpus: str | None, split: str, group: int = 10) -> dict | None:
    """Scores on a UD split, NER in eight ways (UPOS and lemma from the first):

    - ``doc``: each group of ``group`` sentences is one text (as `spacy evaluate` on
      training/corpus), the NER then rta's entity consistency over the group;
    - ``doc_raw``: the same without the consistency rules;
    - ``sent``: each sentence tagged on its own, then the consistency rules over its group;
    - ``sent_raw``: each sentence on its own, no consistency rules;
    - ``article_doc``, ``article_doc_raw``, ``article_sent``, ``article_sent_raw``: the same
      four with the source article (NDT file) as the group instead of 10 sentences.
      ``article_sent`` is how `rta anonymise check` runs: each turn tagged on its own, the
      rules over the whole transcript.
    """
    f = _ud_file(corpus, split)
    if f is None:
        return None
    out = _score_groups(nlp, _gold_groups(nlp, f, group))
    norne = f.parent.parent.parent  # <norne>/ud/nob/<file>
    if (norne / "ndt" / "nob").is_dir():
        art = _score_groups(nlp, _article_groups(nlp, norne, split))
        out.update({f"article_{k}": v for k, v in art.items()})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    ap.add_argument("--corpus", default=None, help="NorNE dir (default: ../shared/data/norne)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dev", action="store_true", help="also evaluate on UD dev")
    a = ap.parse_args(argv)

    import spacy

    _single_thread()
    texts = load_texts(a.corpus)
    from rta.entities import COMPONENT, add_to

    nlp = add_to(spacy.load(a.model))  # as rta loads it: the NER, then the consistency rules
    blank = spacy.blank("nb")
    n_words = sum(len(d) for d in blank.pipe(texts))
    wps = words_per_second(nlp, texts, a.repeats)
    wps_blank = words_per_second(blank, texts, a.repeats)
    with nlp.select_pipes(disable=[c for c in nlp.pipe_names if c == COMPONENT]):
        wps_raw = words_per_second(nlp, texts, a.repeats)
    size = dir_size(Path(a.model))
    print(f"texts: {len(texts)} ({n_words} words), one thread, spaCy {spacy.__version__}")
    print(f"pipeline {a.model}: {nlp.pipe_names}")
    print(f"  nb_rta          : {wps:10.0f} words/s")
    print(f"  without {COMPONENT}: {wps_raw:10.0f} words/s")
    print(f"  spacy.blank(nb) : {wps_blank:10.0f} words/s")
    print(f"  ratio blank/nb_rta: {wps_blank / wps:.1f}x")
    print(f"  size on disk    : {size / 1e6:.1f} MB")
    for split in ("test", "dev") if a.dev else ("test",):
        sc = evaluate(nlp, a.corpus, split)
        if sc is None:
            print("corpus not found: no accuracy figures")
            break
        d = sc["doc"]
        print(f"UD {split}: UPOS {d['pos_acc']:.4f}  lemma {d['lemma_acc']:.4f}")
        for mode, label in (("doc_raw", "10-sentence docs, NER alone             "),
                            ("doc", "10-sentence docs, NER + consistency     "),
                            ("sent_raw", "each sentence alone, NER alone          "),
                            ("sent", "each sentence, consistency per 10       "),
                            ("article_doc_raw", "whole articles, NER alone               "),
                            ("article_doc", "whole articles, NER + consistency       "),
                            ("article_sent", "each sentence, consistency per article ")):
            if mode in sc:
                v = sc[mode]
                print(f"  NER {label}: P {v['ents_p']:.4f} R {v['ents_r']:.4f} F {v['ents_f']:.4f}")
        print(f"  consistency rules: F {sc['doc']['ents_f'] - sc['doc_raw']['ents_f']:+.4f} (10-sentence docs), "
              f"{sc['sent']['ents_f'] - sc['sent_raw']['ents_f']:+.4f} (sentences, per 10)"
              + (f", {sc['article_sent']['ents_f'] - sc['article_sent_raw']['ents_f']:+.4f} (sentences, per article)"
                 if "article_sent" in sc else ""))
        best = "article_sent" if "article_sent" in sc else "sent"
        for lab, v in sorted((sc[best].get("ents_per_type") or {}).items()):
            print(f"    {lab:8s} P {v['p']:.3f} R {v['r']:.3f} F {v['f']:.3f}  ({best})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
