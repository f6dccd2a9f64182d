"""Benchmark `rta report` on a project with 20,000 accepted codings, every format (HTML,
Markdown, Word) with its pictures (target: under 10 s).

    .venv/bin/python benchmarks/bench_report.py [--codings 20000] [--keep DIR]

Builds a project from transcripts_sample/ with N codings (random informant-turn spans, random
themed codes, fixed seed, each created through rta.coding.create_coding so the audit passes),
seeds the codebook's themes, then times, in the same run:

* baseline: just fetching the rows a report needs (codings joined with their turns, texts);
* the audit the report runs first; collecting the data (passages, featured/picked extracts);
  drawing the three pictures; rendering HTML; rendering Markdown; rendering Word;
* the whole `build_report` (audit + collect + pictures + render all three + write + log),
* `rta audit --report` on a copy of each file the record does not know (extract by extract),

and prints each figure with its ratio to the baseline, and PASS/FAIL against 10 s.
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
    from rta.codebook_yaml import load_codebook
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
    from rta.figures import add_figures
    from rta.receipts import verify_report
    from rta.report import collect
    from rta.report_build import build_report
    from rta.report_render import environment, render
    from rta.report_docx import render_docx

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
        t_figures, _ = timed(lambda: add_figures(data))
        env = environment()
        t_html, html = timed(lambda: render(data, "html", env=env))
        t_md, md = timed(lambda: render(data, "md", env=env))
        t_docx, docx_bytes = timed(lambda: render_docx(data))
        t_build, built = timed(lambda: build_report(project, ["html", "md", "docx"], tmp / "out"))
        copies = {}
        for path in built.paths:  # each file under another build id: not in the record, checked extract by extract
            copy = tmp / f"copy{path.suffix}"
            if path.suffix == ".docx":
                import docx

                document = docx.Document(str(path))
                title = document.paragraphs[0]
                for run in title.runs:
                    run.text = run.text.replace(built.data.build_id, "0" * 32)
                document.save(str(copy))
            else:
                copy.write_text(path.read_text(encoding="utf-8").replace(built.data.build_id, "0" * 32),
                                encoding="utf-8")
            copies[path.suffix] = copy
        verify = {suffix: timed(lambda c=copy: verify_report(project, c)) for suffix, copy in copies.items()}
        n_extracts = sum(len(g.quotes) for t in data.themes for g in t.roles)
        print(f"codings: {len(quotes)}; extracts (passages) in the report: {n_extracts} in {len(data.themes)} themes "
              f"(one block per passage: {len(quotes)} codings -> {n_extracts} extracts); HTML {len(html) / 1e6:.1f} MB, "
              f"Markdown {len(md) / 1e6:.1f} MB, Word {len(docx_bytes) / 1e6:.1f} MB; audit ok: {result.ok}")
        print(f"{'step':42}{'seconds':>9}{'x baseline':>12}")
        rows = [("baseline: fetch rows + quote text", baseline), ("audit (rta audit)", t_audit),
                ("collect report data", t_collect), ("draw 3 pictures (matplotlib)", t_figures),
                ("render HTML", t_html), ("render Markdown", t_md), ("render Word (docx)", t_docx),
                ("build_report (all of it, 3 formats)", t_build)]
        rows += [(f"audit --report {suffix} (not recorded)", secs) for suffix, (secs, _) in verify.items()]
        for name, secs in rows:
            print(f"{name:42}{secs:>9.3f}{secs / baseline:>12.1f}")
        bad = [suffix for suffix, (_, check) in verify.items() if not check.ok]
        verdict = "PASS" if t_build < 10.0 and not bad else "FAIL"
        print(f"{verdict}: report from {args.codings} codings in html, md and docx with pictures built in "
              f"{t_build:.2f} s (target < 10 s){'; copies failing the check: ' + ', '.join(bad) if bad else ''}")
        project.close()
        return 0 if verdict == "PASS" else 1
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
