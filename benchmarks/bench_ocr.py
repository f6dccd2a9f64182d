"""Benchmark: the cost of the OCR layer (rta.ocr) per run of matching.

Times ``normalise_for_matching`` on the bundled sample transcripts (all of them, one text) and
on a damaged copy made with ``rta.ocr.simulate_damage`` (æ/ø/å lost in 90 % of the letters,
hyphenated line breaks), against a baseline measured in the same run over the same text:
``str.lower()`` plus a regular-expression split into words (what any matcher does at least).

* load: reading the lemma lexicon and wordfreq's Bokmål list once per process (the pickle
  caches in ~/.cache/rta are built on the first run ever, then only read);
* cold: the per-word caches emptied before each pass (one transcript's first run);
* warm: the per-word caches filled (a word already seen in an earlier transcript);
* ocr_damage_score on the same text (``rta add --check-ocr``, ``rta doctor``).

Prints MB/s (UTF-8 bytes of the source text), seconds, and the ratio to the baseline; best
of ``--repeat`` passes. Times are the process's CPU time (``time.process_time``), so figures
taken while other work shares the cores stay comparable.

    python benchmarks/bench_ocr.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rta import ocr  # noqa: E402

SAMPLE = Path(__file__).resolve().parent.parent / "transcripts_sample"
WORD = re.compile(r"\w+")


def sample_text() -> str:
    files = sorted(p for p in SAMPLE.iterdir() if p.suffix in (".txt", ".md") and p.name != "README.md")
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def clear_word_caches() -> None:
    ocr._restore.cache_clear()
    ocr._best_candidate.cache_clear()
    ocr.match_form.cache_clear()


def best(fn, repeat: int, cold: bool) -> float:
    times = []
    for _ in range(repeat):
        if cold:
            clear_word_caches()
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def baseline(text: str) -> int:
    return len(WORD.findall(text.lower()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    t0 = time.process_time()
    ocr._lemmas()
    ocr._freqs()
    load = time.process_time() - t0
    print(f"load (lemma lexicon + wordfreq nb, once per process): {load:.2f} s")

    clean = sample_text()
    damaged = ocr.simulate_damage(clean, seed=1)
    print(f"{'text':9}{'MB':>7}{'what':>22}{'s':>9}{'MB/s':>9}{'x baseline':>12}")
    for name, text in (("sample", clean), ("damaged", damaged)):
        mb = len(text.encode("utf-8")) / 1e6
        base = best(lambda: baseline(text), args.repeat, cold=False)
        rows = [
            ("baseline lower+split", base),
            ("normalise (cold)", best(lambda: ocr.normalise_for_matching(text), args.repeat, cold=True)),
            ("normalise (warm)", best(lambda: ocr.normalise_for_matching(text), args.repeat, cold=False)),
            ("damage score (cold)", best(lambda: ocr.ocr_damage_score(text), args.repeat, cold=True)),
        ]
        for what, secs in rows:
            print(f"{name:9}{mb:7.3f}{what:>22}{secs:9.4f}{mb / secs:9.2f}{secs / base:12.1f}")
        norm = ocr.normalise_for_matching(text)
        print(f"{'':9}{'':7}{'edits':>22}{norm.changed:9d}  ({norm.restored} words restored, {norm.joined} breaks joined)")


if __name__ == "__main__":
    main()
