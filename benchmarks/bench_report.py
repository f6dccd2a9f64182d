"""Benchmark `rta report` on a project with 20,000 accepted codings (target: under 5 s).

    .venv/bin/python benchmarks/bench_report.py [--codings 20000] [--keep DIR]

Builds a project from transcripts_sample/ with N codings (random informant-turn spans, random
themed codes, fixed seed, each created through rta.coding.create_coding so the audit passes),
seeds the codebook's themes, then times, in the same run:

* baseline: just fetching the rows a report needs (codings joined with their turns, texts);
* the audit the report runs first; collecting the data; rendering HTML; rendering Markdown;
* the whole `build_report` (audit + collect + render both + write + log),

and prints each figure with its ratio to the baseline, and PASS/FAIL against 5 s.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def make_project(root: Path, n: int, seed: int = 6):
    """A sample project with ``n`` active codings spread over the informants' turns."""
    from rta.codebook import load_codebook
    from rta.coding import create_coding, ensure_codebook_version
    from rta.demo import sample_files
    from rta.project import Project
    from rta.themes import from_codebook

    project = Project.init(root, name="Benchmark", coder="bench")
    project.add_files(sample_files(), coder="bench")
    store = project.store
    codebook = load_codebook(project.codebook_path)
    codes = sorted({c for t in codebook.themes for c in t.codes}) + ["Identitet", "Variasjon"]
    turns = [t for t in store.current_turns() if t["informant"] and t["end"] - t["start"] > 20]
    rng = random.Random(seed)
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "bench")
        seen: set[tuple[str, int, int, str]] = set()
        while len(seen) < n:
            t = rng.choice(turns)
            length = t["end"] - t["start"]
            a = t["start"] + rng.randrange(0, length // 2)
            b = min(t["end"], a + rng.randrange(10, max(11, length // 2)))
            key = (t["transcript_id"], a, b, rng.choice(codes))
            if key in seen:  # rta refuses a second coding of the same span with the same code
                continue
            seen.add(key)
            create_coding(store, key[0], a, b, key[3], rng.choice(["kari", "ola"]), version)
    from_codebook(store, codebook, "bench")
    return project


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codings", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="Build the project here and keep it.")
    args = parser.parse_args()

    from rta.audit import audit
    from rta.report import build_report, collect, environment, render

    tmp = Path(tempfile.mkdtemp(prefix="rta-bench-report-"))
    root = args.keep or tmp / "studie"
    try:
        setup, project = timed(lambda: make_project(root, args.codings))
        store = project.store
        print(f"setup: project with {args.codings} codings in {setup:.1f} s (not part of the figures)")

        def fetch():
            rows = store.conn.execute(
                "SELECT c.*, t.informant, t.role, t.grp FROM codings c LEFT JOIN turns t ON t.transcript_id = "
                "c.transcript_id AND t.revision = c.revision AND t.n = c.turn_n WHERE c.status = 'active'").fetchall()
            texts = {(r[0], r[1]): r[2] for r in store.conn.execute(
                "SELECT transcript_id, revision, text FROM transcript_revisions")}
            return [texts[(r["transcript_id"], r["revision"])][r["start"]:r["end"]] for r in rows]

        baseline, quotes = timed(fetch)
        t_audit, result = timed(lambda: audit(store))
        t_collect, data = timed(lambda: collect(store, project.registry, result, project.config.name))
        env = environment()
        t_html, html = timed(lambda: render(data, "html", env=env))
        t_md, md = timed(lambda: render(data, "md", env=env))
        t_build, built = timed(lambda: build_report(project, ["html", "md"], tmp / "out"))
        print(f"codings: {len(quotes)}; quotes in the report: {data.total_quotes} in {len(data.themes)} themes; "
              f"HTML {len(html) / 1e6:.1f} MB, Markdown {len(md) / 1e6:.1f} MB; audit ok: {result.ok}")
        print(f"{'step':34}{'seconds':>9}{'x baseline':>12}")
        for name, secs in (("baseline: fetch rows + quote text", baseline), ("audit (rta audit)", t_audit),
                           ("collect report data", t_collect), ("render HTML", t_html), ("render Markdown", t_md),
                           ("build_report (all of it, 2 files)", t_build)):
            print(f"{name:34}{secs:>9.3f}{secs / baseline:>12.1f}")
        verdict = "PASS" if t_build < 5.0 else "FAIL"
        print(f"{verdict}: report from {args.codings} codings built in {t_build:.2f} s (target < 5 s)")
        project.close()
        return 0 if verdict == "PASS" else 1
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
