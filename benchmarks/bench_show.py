"""Benchmark: ``rta show`` of a 20,000-word transcript with 500 codings, end to end.

Builds a project in a temporary folder with one generated transcript (about 20,000 words in
lines of about 90 characters, turns alternating between the interviewer and two informants)
and 500 codings made through the library (``rta.coding.create_coding``, one transaction), then
runs ``rta show`` as a user would (a new process, output to a pipe) several times and reports
the median wall time and the CPU time of the child process. Baselines measured in the same run:

* ``cat`` of the transcript file (the floor of printing the text at all);
* a Python process that reads the text from the project's SQLite store and prints it;
* ``rta --version`` (the CLI's own start-up: Python, typer and the command table).

Also the in-process time of :func:`rta.show.transcript_view` + :func:`rta.show.render_text`.
The goal (issue 16) is under 0.5 s end to end; the machine's load shows in the baselines.

    python benchmarks/bench_show.py [--words 20000] [--codings 500] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = (
    "altså ja nei vi de hen skolen kommunen veilederne ordningen forfasen tid rom samarbeid kompetanse "
    "kapasitet utvikling lærerne rektor skoleeier møter plan mål tiltak refleksjon forståelse rolle uklart "
    "tydelig kontinuitet brudd struktur ressurser økonomi støtte tillit relasjoner prosess erfaring læring"
).split()
GOAL = 0.5


def generate(words: int, seed: int = 1) -> str:
    """A transcript of about ``words`` words: front matter, then turns of 1-8 lines of ~90
    characters, the interviewer (I) and the informants S1 and S2 in turn."""
    rng = random.Random(seed)
    out = ["---", "id: bench-show", "date: 2026-01-01", "interviewer: I", "group: kommune 1",
           "informants: [S1, S2]", "---"]
    count = 0
    n = 0
    while count < words:
        n += 1
        label = "I" if n % 2 else ("S1" if n % 4 == 2 else "S2")
        lines = 1 if label == "I" else rng.randint(2, 8)
        for i in range(lines):
            line: list[str] = []
            while sum(len(w) + 1 for w in line) < 85:
                line.append(rng.choice(WORDS))
            count += len(line)
            text = " ".join(line)
            out.append(f"{label}: {text.capitalize()}." if i == 0 else f"{text}.")
    return "\n".join(out) + "\n"


def build_project(folder: Path, words: int, codings: int) -> tuple[Path, Path, int]:
    """The project, the transcript file and the number of words stored."""
    from rta.coding import code_names, create_coding, ensure_codebook_version
    from rta.project import Project

    source = folder / "bench-show.txt"
    source.write_text(generate(words), encoding="utf-8")
    project = Project.init(folder / "studie", name="Benchmark show", coder="bench")
    project.add_files([source], coder="bench")
    store = project.store
    rng = random.Random(2)
    text = store.transcript_text("bench-show")
    turns = store.conn.execute("SELECT n, start, end FROM turns WHERE transcript_id='bench-show' "
                               "AND informant IS NOT NULL ORDER BY n").fetchall()
    stored_words = store.conn.execute("SELECT SUM(words) FROM turns WHERE transcript_id='bench-show'").fetchone()[0]
    made = 0
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "bench")
        names = code_names(store, version)
        taken: set[tuple[int, int, str]] = set()
        while made < codings:
            turn = rng.choice(turns)
            spaces = [i for i in range(turn["start"], turn["end"]) if text[i] in " \n"]
            if len(spaces) < 4:
                continue
            a, b = sorted(rng.sample(spaces, 2))
            start, end = a + 1, b
            code = rng.choice(names)
            if end - start < 3 or (start, end, code) in taken:
                continue
            taken.add((start, end, code))
            create_coding(store, "bench-show", start, end, code, "bench", version)
            made += 1
    project.close()
    return folder / "studie", source, int(stored_words)


def rta_command() -> list[str]:
    script = Path(sys.executable).with_name("rta")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rta"]


def timed(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float, int]:
    """Median wall seconds, median child CPU seconds (user + system) and output bytes."""
    walls: list[float] = []
    cpus: list[float] = []
    size = 0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode(errors='replace')}")
        size = len(done.stdout)
    return statistics.median(walls), statistics.median(cpus), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--codings", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="rta-bench-show-"))
    try:
        t0 = time.perf_counter()
        root, source, words = build_project(folder, args.words, args.codings)
        print(f"project: {words} words stored, {args.codings} codings, "
              f"{source.stat().st_size / 1024:.0f} KB, {len(source.read_text(encoding='utf-8').splitlines())} lines "
              f"(built in {time.perf_counter() - t0:.1f} s)")
        env = {k: v for k, v in os.environ.items() if k not in ("RTA_PROJECT", "PAGER", "RTA_PAGER")}
        env["NO_COLOR"] = "1"
        rta = rta_command()
        reader = ("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                  "sys.stdout.write(c.execute(\"SELECT text FROM transcript_revisions WHERE transcript_id='bench-show'\")"
                  ".fetchone()[0])")
        cases = [
            ("baseline: cat FILE", [shutil.which("cat") or "cat", str(source)]),
            ("baseline: python reads the text from SQLite", [sys.executable, "-c", reader, str(root / "rta.db")]),
            ("baseline: rta --version (CLI start-up)", [*rta, "--version"]),
            ("rta show", [*rta, "-P", str(root), "show", "bench-show"]),
            ("rta show --width 80", [*rta, "-P", str(root), "show", "bench-show", "--width", "80"]),
            ("rta show --format json", [*rta, "-P", str(root), "show", "bench-show", "--format", "json"]),
        ]
        print(f"\n{'command':48} {'wall (median)':>14} {'child CPU':>10} {'output':>9}")
        results: dict[str, tuple[float, float, int]] = {}
        for name, argv in cases:
            results[name] = timed(argv, args.runs, env)
            wall, cpu, size = results[name]
            print(f"{name:48} {wall:>12.3f} s {cpu:>8.3f} s {size / 1024:>6.0f} KB")

        from rta.show import render_text, transcript_view
        from rta.store import Store

        store = Store(root / "rta.db")
        t0 = time.perf_counter()
        view = transcript_view(store, "bench-show")
        rows = render_text(view, width=80)
        in_process = time.perf_counter() - t0
        store.close()
        print(f"{'in process: transcript_view + render_text':48} {in_process:>12.3f} s   "
              f"({len(rows)} rows, {len(view.codings)} codings)")

        show_wall, show_cpu, _ = results["rta show"]
        start_wall, start_cpu, _ = results["baseline: rta --version (CLI start-up)"]
        print(f"\nrta show: {show_wall:.3f} s wall, {show_cpu:.3f} s CPU; above the CLI's start-up by "
              f"{show_wall - start_wall:+.3f} s wall, {show_cpu - start_cpu:+.3f} s CPU; "
              f"{show_wall / results['baseline: cat FILE'][0]:.0f}x cat")
        verdict = "met" if show_wall < GOAL else "NOT met (see the CPU column and the baselines: a loaded machine?)"
        print(f"goal: under {GOAL} s end to end: {verdict}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
