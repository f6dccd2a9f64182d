"""Write the text of the train split as JSONL for `spacy pretrain` (one line per training Doc).

    python training/raw_text.py [--corpus training/corpus]   # -> <corpus>/train_raw.jsonl

Only train text: UD dev and test texts are never used for pretraining (they select and score
the model). The file stays in training/corpus (git-ignored), like the DocBins.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(REPO / "training" / "corpus"))
    a = ap.parse_args(argv)
    import spacy
    from spacy.tokens import DocBin

    corpus = Path(a.corpus)
    nlp = spacy.blank("nb")
    docs = list(DocBin().from_disk(corpus / "train.spacy").get_docs(nlp.vocab))
    out = corpus / "train_raw.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"text": d.text}, ensure_ascii=False) + "\n")
    print(f"{out}: {len(docs)} texts, {sum(len(d) for d in docs)} tokens")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
