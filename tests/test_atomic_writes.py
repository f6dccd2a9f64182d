"""Commands that write several files (``rta report``, ``rta import-qdpx``) put them in place
together and only with the store's commit: a failure or a kill before the commit leaves the
previous files and no event; a kill after it is completed by the next command; what a killed
run left is cleaned up and never blocks the next run."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import rta.fsutil
from rta.fsutil import STAGED_PREFIX, StagedWrites, recover_staged, sha256_bytes
from rta.project import Project
from test_report import build_coded_project
from test_store_fixtures import code_quote, run_cli

REPO = Path(__file__).resolve().parent.parent


def _report_files(project: Project) -> dict[str, bytes]:
    folder = project.root / "rapport"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _events(project: Project, kind: str) -> list:
    return project.store.events(kind=kind)


def _staged_leftovers(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(STAGED_PREFIX)) if folder.is_dir() else []


@pytest.fixture
def reported(project, capsys):
    """A coded project with a built report (HTML and Markdown), and a new coding since, so the
    next build would change both files."""
    build_coded_project(project)
    code, _out, err = run_cli(capsys, project.root, "report")
    assert code == 0, err
    code_quote(project, "mini-skoleleder", "Tid er alltid en utfordring.", "Tid")
    return project


def _run_child(args: list[str], pause: str, cwd: Path) -> subprocess.Popen:
    """``rta ARGS`` in a child process that stops at the staging point ``pause`` and waits
    there to be killed (rta.fsutil's test hook)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), rta.fsutil.PAUSE_ENV: pause, "RTA_CODER": "killed"}
    return subprocess.Popen([sys.executable, "-m", "rta", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _kill_at_pause(child: subprocess.Popen, pause: str) -> None:
    try:
        lines = []
        for line in child.stderr:
            lines.append(line)
            if line.strip() == f"rta-test-paused:{pause}":
                break
        else:
            pytest.fail("the child never reached the pause:\n" + "".join(lines))
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL


# -- the mechanism ------------------------------------------------------------------------------


def test_staged_files_appear_only_on_commit_and_are_readable_by_the_owner_only(tmp_path):
    a, b = tmp_path / "out" / "a.txt", tmp_path / "out" / "b.txt"
    with StagedWrites() as staged:
        tmp_a = staged.stage(a, "første")
        staged.stage(b, b"second")
        assert not a.exists() and not b.exists()
        assert tmp_a.name.startswith(f"{STAGED_PREFIX}{os.getpid()}.")
        assert stat.S_IMODE(tmp_a.stat().st_mode) == 0o600
    assert a.read_text(encoding="utf-8") == "første" and b.read_bytes() == b"second"
    assert stat.S_IMODE(a.stat().st_mode) == 0o600
    assert _staged_leftovers(a.parent) == []


def test_an_exception_before_commit_removes_every_staged_file_and_keeps_the_targets(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a", encoding="utf-8")
    with pytest.raises(KeyError):
        with StagedWrites() as staged:
            staged.stage(a, "new a")
            staged.stage(b, "new b")
            raise KeyError("boom")
    assert a.read_text(encoding="utf-8") == "old a" and not b.exists()
    assert _staged_leftovers(tmp_path) == []


def test_staging_onto_a_folder_is_refused_before_anything_is_written(tmp_path):
    from rta.errors import RtaError

    (tmp_path / "report.html").mkdir()
    with pytest.raises(RtaError, match="is a folder"):
        with StagedWrites() as staged:
            staged.stage(tmp_path / "report.md", "md")
            staged.stage(tmp_path / "report.html", "html")
    assert not (tmp_path / "report.md").exists() and _staged_leftovers(tmp_path) == []


def test_leftovers_of_a_live_process_are_kept_and_of_a_gone_one_removed(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(gone.stdout)
    dead = tmp_path / f"{STAGED_PREFIX}{dead_pid}.abc123.x1.report.html.tmp"
    alive = tmp_path / f"{STAGED_PREFIX}{os.getppid()}.abc123.x2.report.html.tmp"
    mine_active = StagedWrites()
    mine_active.stage(tmp_path / "report.md", "in progress")
    unrelated = tmp_path / ".report.html.x.tmp"
    for p in (dead, alive, unrelated):
        p.write_text("x", encoding="utf-8")
    notes = recover_staged(None, [tmp_path])
    assert not dead.exists() and alive.exists() and unrelated.exists()
    assert len(_staged_leftovers(tmp_path)) == 2  # the live process's and this process's own
    assert any(str(dead) in n for n in notes)
    mine_active.discard()


# -- rta report ---------------------------------------------------------------------------------


def test_a_report_build_failing_in_the_second_files_write_leaves_the_previous_report_and_no_event(
        reported, capsys, monkeypatch):
    before = _report_files(reported)
    events = len(_events(reported, "report.built"))
    real_stage = StagedWrites.stage
    calls = []

    def failing_stage(self, path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_stage(self, path, data)

    monkeypatch.setattr(StagedWrites, "stage", failing_stage)
    with pytest.raises(OSError):
        from rta.report_build import build_report

        build_report(reported, ["html", "md"])
    assert len(calls) == 2
    assert _report_files(reported) == before  # byte-identical, no temporary file left
    assert len(_events(reported, "report.built")) == events


def test_a_failure_between_the_renames_is_completed_by_the_next_command(reported, monkeypatch):
    """The store committed the event, then the second rename failed: the next command finishes
    the renames, so the files are the ones the event records."""
    from rta.report_build import build_report

    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(rta.fsutil.os, "replace", failing_replace)
    with pytest.raises(OSError):
        build_report(reported, ["html", "md"])
    monkeypatch.setattr(rta.fsutil.os, "replace", real_replace)
    event = _events(reported, "report.built")[-1]
    folder = reported.root / "rapport"
    assert len(_staged_leftovers(folder)) == 4  # the Markdown and its 3 pictures, waiting
    notes = recover_staged(reported.store, [folder])
    assert notes and "completed" in notes[0]
    recorded = {Path(p).name: h for p, h in event.payload["files"].items()}
    assert {name: sha256_bytes(data) for name, data in _report_files(reported).items()} == recorded
    assert reported.store.conn.execute("SELECT COUNT(*) FROM meta WHERE key LIKE 'staged:%'").fetchone()[0] == 0


def test_a_report_build_killed_before_the_commit_leaves_the_previous_report_and_no_event(reported, capsys):
    before = _report_files(reported)
    events = len(_events(reported, "report.built"))
    reported.close()
    child = _run_child(["--project", str(reported.root), "report"], "before-commit", reported.root)
    _kill_at_pause(child, "before-commit")
    folder = reported.root / "rapport"
    assert len(_staged_leftovers(folder)) == 5  # what the killed build staged: html, md and the md's 3 pictures
    assert {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(STAGED_PREFIX)} == before
    assert len(_events(reported, "report.built")) == events
    # the next build cleans the leftovers and writes a report that matches its event
    code, out, err = run_cli(capsys, reported.root, "report")
    assert code == 0, err
    assert err.count("left by an interrupted command") == 5
    assert _staged_leftovers(folder) == []
    recorded = {Path(p).name: h for p, h in _events(reported, "report.built")[-1].payload["files"].items()}
    assert {name: sha256_bytes(data) for name, data in _report_files(reported).items()} == recorded


def test_a_report_build_killed_between_the_renames_is_completed_by_the_next_command(reported, capsys):
    before = _report_files(reported)
    reported.close()
    child = _run_child(["--project", str(reported.root), "report"], "mid-rename", reported.root)
    _kill_at_pause(child, "mid-rename")
    after_kill = {p.name: p.read_bytes() for p in (reported.root / "rapport").iterdir()
                  if not p.name.startswith(STAGED_PREFIX)}
    assert after_kill["report.html"] != before["report.html"] and after_kill["report.md"] == before["report.md"]
    event = _events(reported, "report.built")[-1]
    assert event.coder == "killed"  # committed: the renames are owed
    code, _out, err = run_cli(capsys, reported.root, "audit")
    assert code == 0, err  # the store itself is whole; only the files are owed
    notes = recover_staged(reported.store, [])
    assert any("completed" in n and "report.md" in n for n in notes)
    recorded = {Path(p).name: h for p, h in event.payload["files"].items()}
    assert {name: sha256_bytes(data) for name, data in _report_files(reported).items()} == recorded


# -- rta import-qdpx ----------------------------------------------------------------------------


@pytest.fixture
def qdpx(project, tmp_path, capsys) -> Path:
    code_quote(project, "mini-skoleleder", "Tid er alltid en utfordring.", "Tid")
    out = tmp_path / "prosjekt.qdpx"
    code, _out, err = run_cli(capsys, project.root, "export", "qdpx", str(out))
    assert code == 0, err
    return out


def _counts(project: Project) -> tuple[int, int, int]:
    c = project.store.conn
    return (c.execute("SELECT COUNT(*) FROM transcripts").fetchone()[0],
            c.execute("SELECT COUNT(*) FROM codings").fetchone()[0],
            c.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def test_a_killed_import_leaves_nothing_in_place_and_does_not_block_the_next_import(qdpx, tmp_path, capsys):
    fresh = Project.init(tmp_path / "ny", name="Ny", coder="mottaker")
    before = _counts(fresh)
    fresh.close()
    child = _run_child(["--project", str(fresh.root), "import-qdpx", str(qdpx)], "before-commit", fresh.root)
    _kill_at_pause(child, "before-commit")
    imported = fresh.root / "imported"
    assert [p for p in imported.iterdir() if not p.name.startswith(STAGED_PREFIX)] == []
    assert len(_staged_leftovers(imported)) == 2
    assert _counts(fresh) == before
    code, out, err = run_cli(capsys, fresh.root, "import-qdpx", str(qdpx))
    assert code == 0, err
    assert "imported 2 transcript(s) and 1 coding(s)" in out
    assert sorted(p.name for p in imported.iterdir()) == ["mini-skoleeier.txt", "mini-skoleleder.txt"]
    assert run_cli(capsys, fresh.root, "audit")[0] == 0


def test_an_import_failing_after_its_first_file_leaves_neither_files_nor_rows(qdpx, tmp_path, monkeypatch):
    from rta.qdpx import import_qdpx

    fresh = Project.init(tmp_path / "ny", name="Ny", coder="mottaker")
    before = _counts(fresh)
    real_stage = StagedWrites.stage
    calls = []

    def failing_stage(self, path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_stage(self, path, data)

    monkeypatch.setattr(StagedWrites, "stage", failing_stage)
    with pytest.raises(OSError):
        import_qdpx(fresh, qdpx)
    assert _counts(fresh) == before
    assert list((fresh.root / "imported").iterdir()) == []


def test_a_file_left_in_imported_by_an_older_killed_import_does_not_block(project, qdpx, tmp_path, capsys):
    """Before staging, a killed import left imported/<source>.txt with no row in the store and
    every later import said it already exists. The same bytes are now taken as that leftover."""
    fresh = Project.init(tmp_path / "ny", name="Ny", coder="mottaker")
    stored = project.store.transcript_text("mini-skoleeier").encode("utf-8")
    (fresh.root / "imported").mkdir()
    (fresh.root / "imported" / "mini-skoleeier.txt").write_bytes(stored)
    code, out, err = run_cli(capsys, fresh.root, "import-qdpx", str(qdpx))
    assert code == 0, err
    assert (fresh.root / "imported" / "mini-skoleeier.txt").read_bytes() == stored
    # a second import of the same file is refused by what the store holds, not by the files
    before = _counts(fresh)
    code, out, err = run_cli(capsys, fresh.root, "import-qdpx", str(qdpx))
    assert code == 2 and "already in the project" in err and "Traceback" not in err
    assert _counts(fresh) == before


def test_a_different_file_in_the_way_in_imported_is_refused_and_nothing_changes(qdpx, tmp_path, capsys):
    fresh = Project.init(tmp_path / "ny", name="Ny", coder="mottaker")
    (fresh.root / "imported").mkdir()
    (fresh.root / "imported" / "mini-skoleleder.txt").write_text("S1: noe annet\n", encoding="utf-8")
    before = _counts(fresh)
    code, _out, err = run_cli(capsys, fresh.root, "import-qdpx", str(qdpx))
    assert code == 2 and "already exists with other content" in err
    assert _counts(fresh) == before
    assert sorted(p.name for p in (fresh.root / "imported").iterdir()) == ["mini-skoleleder.txt"]
