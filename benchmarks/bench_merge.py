"""Benchmark: merging two coders' copies, and comparing two coders (issue 20).

Builds a study of 200 generated transcripts (as bench_store does) with shared codings, clones it
for a second coder, then lets each copy grow on its own (codings, memos, removals, recodes) to
about 20,000 codings and 50,000 log entries. Times, in-process:

* ``merge``: the second copy merged into the first (the whole command: the other copy's audit,
  the replay of its decisions, and the audit of the merged project before it commits);
* ``compare``: the two coders compared over all 200 transcripts (``rta compare``'s library
  call), and with agreement figures over turns.

Each against a baseline from the same run: ``rta audit`` of the merged project (the log
replayed and every table compared), so the ratio says how a merge costs next to reading the
log once. Targets: merge under 10 s, compare under 5 s.

    python benchmarks/bench_merge.py [--transcripts 200] [--shared 10000] [--each 10000] [--keep DIR]

(``--keep DIR`` keeps the two copies; run again with the same DIR to reuse them.)
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import CODES, sentence, transcript_text  # noqa: E402


def _spans(store, rng: random.Random, n: int, taken: set) -> list[tuple[str, int, int, str]]:
    turns = [r for r in store.current_turns() if r["informant"]]
    out = []
    while len(out) < n:
        t = turns[rng.randrange(len(turns))]
        length = t["end"] - t["start"]
        a = t["start"] + rng.randrange(max(1, length // 2))
        b = max(min(t["end"], a + rng.randint(20, 240)), a + 1)
        key = (t["transcript_id"], a, b, rng.choice(CODES))
        if key not in taken:
            taken.add(key)
            out.append(key)
    return out


def grow(project, coder: str, n_codings: int, rng: random.Random, taken: set, memos: int = 0, removals: int = 0,
         recodes: int = 0) -> None:
    """``n_codings`` codings by ``coder``, then memos on them, removals and recodes: one transaction."""
    from rta.coding import create_coding, ensure_codebook_version, recode, uncode
    from rta.memos import add_memo

    store = project.store
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, coder)
        ids = [create_coding(store, t, a, b, code, coder, version,
                             memo=None if rng.random() < 0.8 else "memo " + sentence(rng))
               for t, a, b, code in _spans(store, rng, n_codings, taken)]
        for cid in rng.choices(ids, k=memos):
            add_memo(store, "coding", str(cid), f"{coder}: " + sentence(rng), coder)
        chosen = rng.sample(ids, removals + recodes)
        for cid in chosen[:removals]:
            uncode(store, cid, coder, reason="for bredt")
        for cid in chosen[removals:]:
            row = store.conn.execute("SELECT * FROM codings WHERE id = ?", (cid,)).fetchone()
            new = rng.choice([c for c in CODES if c != row["code"]])
            if (row["transcript_id"], row["start"], row["end"], new) in taken:
                continue
            taken.add((row["transcript_id"], row["start"], row["end"], new))
            recode(store, cid, new, coder, version)


def build(root: Path, n_transcripts: int, shared: int, each: int) -> tuple[Path, Path, float]:
    from rta.clone import clone
    from rta.project import Project

    rng = random.Random(20)
    t0 = time.perf_counter()
    project = Project.init(root / "kari", name="Benchmark", coder="kari")
    src = root / "transkripsjoner"
    src.mkdir()
    files = []
    for i in range(n_transcripts):
        path = src / f"t{i:03d}.txt"
        path.write_text(transcript_text(rng, i), encoding="utf-8")
        files.append(path)
    project.add_files(files, coder="kari")
    taken: set = set()
    grow(project, "kari", shared, rng, taken, memos=shared)
    project.close()
    other = clone(project.root, root / "ola", "ola")
    project = Project.open(root / "kari")
    # each copy: `each` codings, one and a half times as many memos, 30 % removed and 30 % recoded
    # (with the shared part: about 20,000 codings and 50,000 log entries a copy)
    for who, copy, seed in (("kari", project, 1), ("ola", other, 2)):
        grow(copy, who, each, random.Random(seed), set(taken), memos=each * 3 // 2, removals=each * 3 // 10,
             recodes=each * 3 // 10)
    project.close()
    other.close()
    return root / "kari", root / "ola", time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=200)
    parser.add_argument("--shared", type=int, default=10_000, help="codings both copies have (before the clone)")
    parser.add_argument("--each", type=int, default=10_000, help="codings each coder adds in their copy")
    parser.add_argument("--keep", type=Path, help="build the projects in this folder and keep them")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="rta-bench-merge-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        from rta.audit import audit
        from rta.agreement import agreement
        from rta.compare import compare_coders
        from rta.merge import merge
        from rta.project import Project

        if (root / "kari" / "rta.db").is_file() and (root / "ola" / "rta.db").is_file():
            kari, ola, build_s = root / "kari", root / "ola", 0.0  # --keep DIR from an earlier run: reused
        else:
            kari, ola, build_s = build(root, args.transcripts, args.shared, args.each)
        sizes = []
        for folder in (kari, ola):
            p = Project.open(folder)
            c = p.store.conn
            sizes.append((c.execute("SELECT COUNT(*) FROM codings").fetchone()[0],
                          c.execute("SELECT COUNT(*) FROM events").fetchone()[0]))
            p.close()
        print(f"copies: {args.transcripts} transcripts; kari {sizes[0][0]:,} codings, {sizes[0][1]:,} events; "
              f"ola {sizes[1][0]:,} codings, {sizes[1][1]:,} events; built in {build_s:.1f} s")
        work = root / "work"
        results = []
        merged_s = []
        for attempt in range(2):  # each on a fresh copy of kari's project
            if work.exists():
                shutil.rmtree(work)
            shutil.copytree(kari, work)
            project = Project.open(work)
            t0 = time.perf_counter()
            result = merge(project, ola)
            merged_s.append(time.perf_counter() - t0)
            project.close()
        print(f"merged {result.total:,} decisions ({', '.join(f'{n} {k}' for k, n in sorted(result.applied.items()))})")
        project = Project.open(work)
        store = project.store
        t0 = time.perf_counter()
        report = audit(store)
        base = time.perf_counter() - t0
        assert report.ok, report.to_text()
        n = store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
        e = store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        print(f"merged project: {n:,} codings, {e:,} events")
        results.append(("baseline: audit of the merged project (library)", base, None))
        results.append(("merge ola's copy into kari's (library, whole command)", min(merged_s), 10.0))
        t0 = time.perf_counter()
        again = merge(project, ola)
        results.append(("merge again: nothing new (library)", time.perf_counter() - t0, 10.0))
        assert again.total == 0
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            cmp = compare_coders(store, "kari", "ola")
            best = min(best, time.perf_counter() - t0)
        results.append((f"compare kari,ola over {args.transcripts} transcripts (library)", best, 5.0))
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            agreement(store, "kari", "ola", unit="turn")
            best = min(best, time.perf_counter() - t0)
        results.append(("compare --agreement over turns (library)", best, 5.0))
        print(f"compare: {len(cmp.items):,} differences listed")
        project.close()
        print(f"{'measurement':58} {'seconds':>8} {'x baseline':>11}  target")
        for name, secs, target in results:
            mark = "" if target is None else (f"< {target:g} s ok" if secs < target else f"< {target:g} s MISSED")
            print(f"{name:58} {secs:8.3f} {secs / base:11.1f}  {mark}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
