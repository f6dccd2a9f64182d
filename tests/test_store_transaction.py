"""The transaction guarantee: a process killed in the middle of a write leaves the store as it
was before the command, and the audit still passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rta.audit import audit
from rta.store import Store
from test_store_fixtures import code_quote

CHILD = textwrap.dedent(
    """
    import sys
    from rta.coding import create_coding, ensure_codebook_version, span_for_turn, uncode
    from rta.project import Project

    project = Project.open(sys.argv[1])
    store = project.store
    start, end = span_for_turn(store, "mini-skoleeier", 2)
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "killed")
        n = 0
        while True:
            # inside one informant turn, and removed again so the next one is no duplicate
            coding = create_coding(store, "mini-skoleeier", start, end - n % 50, "Tid", "killed", version, memo="x" * 2000)
            uncode(store, coding, "killed")
            n += 1
            if n == 3000:
                print("ready", flush=True)  # thousands of rows written, far more than the page cache holds
    """
)


def _snapshot(store: Store) -> tuple:
    conn = store.conn
    return (
        conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0],
        conn.execute("SELECT COUNT(*), MAX(hash) FROM events").fetchone()[:],
        conn.execute("SELECT COUNT(*) FROM codebook_versions").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM coders").fetchone()[0],
    )


@pytest.mark.slow
def test_sigkill_mid_transaction_leaves_the_store_unchanged(project, tmp_path):
    code_quote(project, "mini-skoleeier", "det ble et brudd i arbeidet", "Brudd")
    before = _snapshot(project.store)
    project.close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(project.root)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = child.stdout.readline()
        assert line.strip() == "ready", child.stderr.read()
        wal = project.root / "rta.db-wal"
        assert wal.exists() and wal.stat().st_size > 0  # the write had reached the disk
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    store = Store(project.root / "rta.db")
    try:
        assert _snapshot(store) == before
        assert store.conn.execute("SELECT COUNT(*) FROM codings WHERE coder='killed'").fetchone()[0] == 0
        report = audit(store)
        assert report.ok, report.to_text()
    finally:
        store.close()


def test_an_error_inside_a_transaction_rolls_everything_back(project):
    store = project.store
    before = _snapshot(store)
    with pytest.raises(RuntimeError):
        with store.transaction():
            code_quote(project, "mini-skoleeier", "det ble et brudd i arbeidet", "Brudd")
            raise RuntimeError("boom")
    assert _snapshot(store) == before


def test_writes_outside_a_transaction_are_refused(project):
    with pytest.raises(RuntimeError, match="inside Store.transaction"):
        project.store.log_event("coding.added", {}, "x")
