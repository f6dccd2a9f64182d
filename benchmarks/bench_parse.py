"""Benchmark: transcript parsing time and memory grow linearly with the file.

Generates transcripts of about 2, 8 and 20 MB (short turns, so a 2 MB file has ~25,000 turns:
the case that was quadratic when line numbers were counted from the start for each turn) and
times ``rta.transcripts.parse_text`` on each, against a baseline measured in the same run: one
pass of a compiled regular expression over the lines of the same text (what any parser must at
least do). Prints seconds, seconds per MB (flat when linear), the ratio to the baseline and the
peak memory of the parse (tracemalloc) as a multiple of the file size (floor: under 10x).

    python benchmarks/bench_parse.py [--sizes 2,8,20]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rta.informants import default_registry  # noqa: E402
from rta.transcripts import parse_text  # noqa: E402

WORDS = (
    "altså ja nei vi de hen skolen kommunen veilederne ordningen forfasen tid rom samarbeid kompetanse "
    "kapasitet utvikling lærerne rektor skoleeier møter plan mål tiltak refleksjon forståelse rolle uklart "
    "tydelig kontinuitet brudd struktur ressurser økonomi støtte tillit relasjoner prosess erfaring: læring"
).split()
SPEAKERS = ["S1", "R1.1", "r1.2", "S2", "R 2.1", "Va", "vb", "Intervjuer"]


def generate(megabytes: float, seed: int = 1) -> str:
    rng = random.Random(seed)
    target = int(megabytes * 1024 * 1024)
    parts: list[str] = ["---\nid: bench\ninterviewer: I\n---\n"]
    size = 0
    n = 0
    while size < target:
        n += 1
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        stamp = f"[{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}] " if n % 5 == 0 else ""
        label = "I" if n % 2 else rng.choice(SPEAKERS)
        line = f"{stamp}{label}: {words.capitalize()}.\n"
        if n % 7 == 0:
            line += f"{words} (...) videre.\n"
        parts.append(line)
        size += len(line.encode("utf-8"))
    return "".join(parts)


def baseline(text: str) -> float:
    pattern = re.compile(r"[ \t]*[^:\n]{1,60}?:")
    t0 = time.perf_counter()
    hits = 0
    for line in text.split("\n"):
        if pattern.match(line):
            hits += 1
    assert hits
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="2,8,20", help="file sizes in MB, comma separated")
    args = ap.parse_args()
    registry = default_registry()
    print(f"{'size':>8} {'turns':>9} {'parse s':>8} {'s/MB':>7} {'baseline s':>10} {'x base':>7} {'peak mem':>9}")
    rows = []
    for mb in [float(x) for x in args.sizes.split(",")]:
        text = generate(mb)
        nbytes = len(text.encode("utf-8"))
        base = min(baseline(text) for _ in range(2))
        t0 = time.perf_counter()
        transcript = parse_text(text, registry, path="bench.txt")
        seconds = time.perf_counter() - t0
        tracemalloc.start()
        parse_text(text, registry, path="bench.txt")
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        per_mb = seconds / (nbytes / 1024 / 1024)
        rows.append(per_mb)
        print(
            f"{nbytes / 1024 / 1024:7.1f}M {len(transcript.turns):9,} {seconds:8.2f} {per_mb:7.3f} "
            f"{base:10.3f} {seconds / base:7.1f} {peak / nbytes:8.1f}x"
        )
    growth = max(rows) / min(rows)
    print(f"seconds per MB, largest / smallest: {growth:.2f} (linear: close to 1; quadratic would be ~{max(float(x) for x in args.sizes.split(',')) / min(float(x) for x in args.sizes.split(',')):.0f})")


if __name__ == "__main__":
    main()
