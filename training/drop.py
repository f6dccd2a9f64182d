"""Copy a trained pipeline without some components (e.g. the auxiliary parser of run4).

    python training/drop.py training/output/run4/model-best training/output/run4/model-ship parser

The tok2vec the dropped component shared keeps the weights it learned with it; what is left
runs exactly as it did inside the bigger pipeline."""

from __future__ import annotations

import sys

import spacy


def main(argv: list[str]) -> int:
    src, dest, *names = argv
    nlp = spacy.load(src)
    for name in names:
        nlp.remove_pipe(name)
    nlp.to_disk(dest)
    print(f"{dest}: {nlp.pipe_names}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
