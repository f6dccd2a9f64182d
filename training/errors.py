"""Where the NER goes wrong: entity mentions seen in training vs unseen, by kind of error.

    python training/errors.py MODEL [--split dev|test] [--corpus training/corpus]

Why: NER F on UD test trails UD dev by ~10 points. Most of that is the share of mentions
whose text never occurs as a training mention (dev ~48%, test ~64%), and most errors on
those are a wrong type, not a missed name. This script prints those counts so a training
change can be judged by what it fixes. Use dev for choices; test only to report.

Each gold mention is counted once as: `ok` (same span and type), `type` (same span, other
type), `boundary` (overlaps a predicted span with other edges) or `missed`; `spurious`
counts predicted spans that overlap no gold mention. It also prints P/R/F with the type
ignored (exact spans): what matters to the anonymisation check, which flags any name.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from augment import mention_bank  # noqa: E402

KINDS = ("ok", "type", "boundary", "missed")


def classify(gold_docs, pred_docs, seen: set[str]) -> Counter:
    """Counter of (seen|unseen, kind) over gold mentions, plus ('spurious', '')."""
    c: Counter = Counter()
    for g, p in zip(gold_docs, pred_docs):
        pred = {(e.start_char, e.end_char): e.label_ for e in p.ents}
        for e in g.ents:
            part = "seen" if e.text in seen else "unseen"
            key = (e.start_char, e.end_char)
            if key in pred:
                kind = "ok" if pred[key] == e.label_ else "type"
            elif any(s < e.end_char and e.start_char < t for s, t in pred):
                kind = "boundary"
            else:
                kind = "missed"
            c[part, kind] += 1
        gold = [(e.start_char, e.end_char) for e in g.ents]
        c["predicted", ""] += len(pred)
        for s, t in pred:
            if not any(a < t and s < b for a, b in gold):
                c["spurious", ""] += 1
    return c


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--corpus", default=str(HERE / "corpus"))
    a = ap.parse_args(argv)

    import spacy
    from spacy.tokens import DocBin

    corpus = Path(a.corpus)
    seen = {" ".join(m[0]) for ms in mention_bank(corpus / "train.spacy").values() for m in ms}
    nlp = spacy.load(a.model)
    gold = list(DocBin().from_disk(corpus / f"{a.split}.spacy").get_docs(nlp.vocab))
    c = classify(gold, nlp.pipe(d.text for d in gold), seen)
    print(f"{a.model} on UD {a.split} ({corpus.name}):")
    for part in ("seen", "unseen"):
        n = sum(c[part, k] for k in KINDS)
        cells = "  ".join(f"{k} {c[part, k]:>4} ({c[part, k] / n:.1%})" for k in KINDS) if n else "-"
        print(f"  {part:<6} n={n:>4}  {cells}")
    print(f"  spurious predicted spans: {c['spurious', '']}")
    right = sum(c[part, k] for part in ("seen", "unseen") for k in ("ok", "type"))
    n_gold = sum(c[part, k] for part in ("seen", "unseen") for k in KINDS)
    p, r = right / max(c["predicted", ""], 1), right / max(n_gold, 1)
    print(f"  spans, type ignored: P {p:.3f} R {r:.3f} F {2 * p * r / max(p + r, 1e-9):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
