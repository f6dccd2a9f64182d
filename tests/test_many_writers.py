"""Many writers on one machine: coders working in one shared project at the same time lose
nothing; a writer that must wait says so, retries for a bounded time, then fails clearly."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rta.audit import audit
from rta.project import Project

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "transcripts"

WRITER = textwrap.dedent(
    """
    import sys, time
    from rta.coding import create_coding, ensure_codebook_version
    from rta.memos import add_memo
    from rta.project import Project

    root, coder, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    project = Project.open(root)
    store = project.store
    turns = [r for r in store.current_turns() if r["informant"]]
    codes = ["Tid", "Brudd", "Tillit", "Rom", "Støtte", "Uklarhet", "Kompetanse", "Kontinuitet"]
    for i in range(n):
        t = turns[i % len(turns)]
        start = t["start"] + (i // len(turns)) % 7
        with store.transaction():  # one command's write: each waits for the others' to finish
            version = ensure_codebook_version(store, project.codebook_path, coder)
            cid = create_coding(store, t["transcript_id"], start, t["end"], codes[i % len(codes)], coder, version)
            add_memo(store, "coding", str(cid), f"{coder} {i}", coder)
            time.sleep(0.002)
    print("done", flush=True)
    """
)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


@pytest.fixture
def shared(tmp_path):
    project = Project.init(tmp_path / "felles", name="Felles", coder="kari", shared_group=True)
    project.add_files(sorted(DATA.glob("mini-*.txt")), coder="kari")
    project.close()
    return project.root


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(shared):
    coders = ["kari", "ola", "per", "siri"]
    n = 24
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(shared), coder, str(n)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env(RTA_LOCK_TIMEOUT="60"))
             for coder in coders]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0 and out.strip() == "done", err
    project = Project.open(shared)
    conn = project.store.conn
    per_coder = dict(conn.execute("SELECT coder, COUNT(*) FROM codings GROUP BY coder").fetchall())
    assert per_coder == {c: n for c in coders}
    memos = dict(conn.execute("SELECT coder, COUNT(*) FROM memos GROUP BY coder").fetchall())
    assert memos == {c: n for c in coders}
    seqs = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))  # one unbroken chain
    report = audit(project)
    assert report.ok, report.to_text()
    project.close()


def test_a_waiting_writer_says_so_and_goes_through_when_the_lock_is_freed(shared):
    holder = sqlite3.connect(str(shared / "rta.db"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    rta = [sys.executable, "-m", "rta", "--project", str(shared)]
    try:
        child = subprocess.Popen([*rta, "code", "mini-skoleeier", "--turn", "2", "--code", "Tid", "--coder", "ola"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=_env(RTA_LOCK_TIMEOUT="60"))
        deadline = time.monotonic() + 60
        line = child.stderr.readline()  # the notice comes while the lock is still held
        assert "another rta command is writing to this project: waiting for it (up to 60 s" in line
        assert time.monotonic() < deadline
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert "coded #1 Tid" in out


def test_a_writer_that_waits_too_long_fails_clearly_with_nothing_changed(shared):
    holder = sqlite3.connect(str(shared / "rta.db"), isolation_level=None)
    before = holder.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "rta", "--project", str(shared), "code", "mini-skoleeier",
                               "--turn", "2", "--code", "Tid"], capture_output=True, text=True,
                              env=_env(RTA_LOCK_TIMEOUT="1.5"), timeout=60)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("another rta command is writing to this project: waiting for it (up to 1.5 s")
    assert "another rta command is writing to this project (waited 1.5 s): try again" in lines[1]
    assert "nothing was changed" in done.stderr
    assert 1.4 <= waited < 30
    assert holder.execute("SELECT COUNT(*) FROM events").fetchone()[0] == before
    holder.close()
