"""Usage errors at the command line (issue 14): every mistake in a command line exits 2 with
one clear line on stderr and never a traceback; -h is --help everywhere; every --format is a
closed list; integers fit SQLite; -o never points at a folder or an unwritable place; --since
reads dates; a project locked by another writer is reported in one sentence.

Most tests run the CLI in-process (``rta.cli.main``) over every registered command: fast, and
the same code path as the console script. One test runs the real entry point in a subprocess.
"""

from __future__ import annotations

import inspect
import os
import sqlite3
import subprocess
import sys
import time
import typing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer
import typer.main
import typer.models

from rta.cli import app, main
from rta.cli.app import SQL_INT_MAX, output_file, output_folder, report_formats, since_time, whole_number
from rta.errors import RtaError
from rta.fsutil import atomic_write_bytes, check_output_file, check_output_folder
from rta.store import LOCK_TIMEOUT_ENV, Store, StoreBusy, parse_since
from test_store_fixtures import code_quote

HUGE = "99999999999999999999999"
REPO = Path(__file__).resolve().parent.parent


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(typer.main.get_command(app)))
IDS = [" ".join(path) or "rta" for path, _ in COMMANDS]


def _python_params(command) -> dict[str, tuple[typing.Any, typing.Any]]:
    """name -> (type hint, OptionInfo/ArgumentInfo) of the command's Python function."""
    if command.callback is None:
        return {}
    func = inspect.unwrap(command.callback)
    hints = typing.get_type_hints(func)
    return {name: (hints.get(name), p.default) for name, p in inspect.signature(func).parameters.items()}


def _is_int(hint) -> bool:
    return hint is int or (typing.get_origin(hint) is typing.Union and int in typing.get_args(hint))


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_clear_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture(autouse=True)
def _outside_any_project(tmp_path, monkeypatch):
    monkeypatch.delenv("RTA_PROJECT", raising=False)
    monkeypatch.delenv(LOCK_TIMEOUT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


# -- every command -------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=IDS)
def test_every_command_has_help(path, flag, capsys):
    code, out, err = _cli(capsys, *path, flag)
    assert code == 0, err
    assert "Usage" in out and "-h, --help" in out and "Traceback" not in out + err


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=IDS)
def test_every_command_refuses_an_unknown_option_in_one_line(path, capsys):
    code, out, err = _cli(capsys, *path, "--no-such-option")
    assert code == 2
    line = _one_clear_line(err)
    assert "no such option: --no-such-option" in line
    assert f"(see '{' '.join(('rta', *path))} --help')" in line


FORMAT_COMMANDS = [(p, c) for p, c in COMMANDS if any("--format" in getattr(x, "opts", ()) for x in c.params)]


def test_the_format_commands_are_found():
    names = {" ".join(p) for p, _ in FORMAT_COMMANDS}
    assert {"codings", "log", "memos", "audit", "orphans", "transcripts", "informants", "evaluate", "report",
            "export quotes", "export suggestions", "themes list", "themes review", "anonymise check",
            "codebook show", "codebook diff"} <= names


@pytest.mark.parametrize("path", [p for p, _ in FORMAT_COMMANDS], ids=[" ".join(p) for p, _ in FORMAT_COMMANDS])
def test_every_format_option_refuses_an_unknown_format(path, capsys):
    code, _, err = _cli(capsys, *path, "--format", "xml")
    assert code == 2
    line = _one_clear_line(err)
    assert "'--format'" in line and "'xml'" in line


INT_PARAMS = [
    (path, name, info)
    for path, command in COMMANDS
    for name, (hint, info) in _python_params(command).items()
    if _is_int(hint) and isinstance(info, (typer.models.OptionInfo, typer.models.ArgumentInfo))
]


def test_the_int_parameters_are_found():
    found = {(" ".join(p), n) for p, n, _ in INT_PARAMS}
    assert {("code", "turn"), ("uncode", "coding_id"), ("recode", "coding_id"), ("orphans", "resolve"),
            ("orphans", "candidate"), ("themes propose", "keep"), ("phase set", "number")} <= found


@pytest.mark.parametrize("path,name,info", INT_PARAMS, ids=[f"{' '.join(p)}:{n}" for p, n, _ in INT_PARAMS])
def test_every_int_parameter_uses_the_shared_sqlite_int_and_refuses_a_huge_number(path, name, info, capsys):
    assert info.parser is whole_number, "declare integer options with parser=whole_number (rta.cli.app)"
    command = dict(COMMANDS)[path]
    param = next(p for p in command.params if p.name == name)
    given = [HUGE] if isinstance(info, typer.models.ArgumentInfo) else [param.opts[0], HUGE]
    code, _, err = _cli(capsys, *path, *given)
    assert code == 2
    assert "is too large" in _one_clear_line(err)


OUTPUT_PARAMS = [
    (path, param)
    for path, command in COMMANDS
    for param in command.params
    if {"-o", "--out", "--output"} & set(getattr(param, "opts", ())) or (path, param.name) in {
        (("export", "qdpx"), "output"), (("anonymise", "apply"), "key")}
]


def test_every_output_path_is_checked_while_parsing():
    assert len(OUTPUT_PARAMS) >= 10
    for path, param in OUTPUT_PARAMS:
        info = _python_params(dict(COMMANDS)[path])[param.name][1]
        assert info.parser in (output_file, output_folder), (path, param.name)


@pytest.mark.parametrize("path,param", OUTPUT_PARAMS, ids=[f"{' '.join(p)}:{q.name}" for p, q in OUTPUT_PARAMS])
def test_every_output_refuses_the_wrong_kind_of_path(path, param, tmp_path, capsys):
    info = _python_params(dict(COMMANDS)[path])[param.name][1]
    wrong = tmp_path if info.parser is output_file else tmp_path / "a-file.txt"
    wrong.touch() if not wrong.exists() else None
    given = [str(wrong)] if isinstance(info, typer.models.ArgumentInfo) else [param.opts[0], str(wrong)]
    code, _, err = _cli(capsys, *path, *given)
    assert code == 2
    line = _one_clear_line(err)
    assert str(wrong) in line and ("is a folder" in line or "is a file" in line)


# -- the root command ------------------------------------------------------------------------


def test_bare_rta_prints_the_help_on_stderr_and_exits_2(capsys):
    code, out, err = _cli(capsys)
    assert code == 2 and out == ""
    assert err.startswith("Usage: rta") and "Commands" in err and "Traceback" not in err


def test_a_bare_group_prints_its_help(capsys):
    code, _, err = _cli(capsys, "codebook")
    assert code == 2 and "Usage: rta codebook" in err and "Traceback" not in err


def test_version(capsys):
    from importlib.metadata import version

    code, out, err = _cli(capsys, "--version")
    assert code == 0 and out == f"rta {version('rta')}\n" and err == ""


@pytest.mark.parametrize("args,expected", [
    (["bogus"], "no such command 'bogus'"),
    (["uncode"], "missing"),
    (["uncode", "abc"], "'coding_id'"),
    (["code", "k1", "--code"], "requires an argument"),
    (["phase", "set", "1e5"], "'1e5' is not a whole number"),
    (["log", "--since"], "requires an argument"),
])
def test_usage_errors_are_one_line(args, expected, capsys):
    code, out, err = _cli(capsys, *args)
    assert code == 2 and out == ""
    assert expected in _one_clear_line(err)


def test_the_real_entry_point_has_no_traceback(tmp_path):
    script = Path(sys.executable).with_name("rta")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "rta"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("RTA_PROJECT", None)
    for args, expected in (([], "Usage: rta"), (["--bogus"], "error: no such option: --bogus"),
                           (["uncode", "abc"], "error: invalid value for 'coding_id'")):
        done = subprocess.run([*command, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
        assert done.returncode == 2, (args, done.stderr)
        assert expected in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)


# -- shared types ---------------------------------------------------------------------------


def test_whole_number_bounds():
    assert whole_number("42") == 42 and whole_number(str(SQL_INT_MAX)) == SQL_INT_MAX
    assert whole_number("-3") == -3
    for bad, why in ((HUGE, "too large"), (f"-{HUGE}", "too small"), ("abc", "not a whole number"),
                     ("4.5", "not a whole number")):
        with pytest.raises(ValueError, match=why):
            whole_number(bad)


def test_report_formats_checks_every_item(capsys):
    assert report_formats("HTML, md") == "html,md"
    with pytest.raises(ValueError, match="unknown report format 'xml'"):
        report_formats("html,xml")
    code, _, err = _cli(capsys, "report", "--format", "html,xml")
    assert code == 2 and "unknown report format 'xml'" in _one_clear_line(err)


def test_a_huge_id_reaching_the_store_is_an_rta_error(project):
    """The library's safety net: an integer past 64 bits never reaches sqlite3 as OverflowError."""
    from rta.coding import get_coding

    with pytest.raises(RtaError, match="too large"):
        get_coding(project.store, 10**30)


def test_review_ids_past_64_bits_are_refused(project, capsys):
    code, _, err = _cli(capsys, "--project", str(project.root), "review", "--accept", HUGE)
    assert code == 2 and "Traceback" not in err and f"'{HUGE}' is not a suggestion id" in err


# -- output files ---------------------------------------------------------------------------


def test_output_file_checks(tmp_path):
    check_output_file(tmp_path / "ok.md")
    with pytest.raises(RtaError, match="is a folder, not a file"):
        check_output_file(tmp_path)
    with pytest.raises(RtaError, match="does not exist") as caught:
        check_output_file(tmp_path / "missing" / "out.md")
    assert "mkdir -p" in caught.value.hint
    (tmp_path / "plain").write_text("x")
    with pytest.raises(RtaError, match="is not a folder"):
        check_output_file(tmp_path / "plain" / "out.md")
    with pytest.raises(RtaError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "plain")
    check_output_folder(tmp_path / "new-report")
    with pytest.raises(RtaError, match="does not exist"):
        check_output_folder(tmp_path / "missing" / "report")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions (not root)")
def test_a_read_only_folder_is_refused(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(RtaError, match="permission denied"):
            check_output_file(locked / "out.md")
        code, _, err = _cli(capsys, "memos", "-o", str(locked / "out.md"))
        assert code == 2 and "permission denied" in _one_clear_line(err)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_an_unwritable_folder_is_refused_by_the_cli(tmp_path, monkeypatch, capsys):
    """The same as above where the test runs as root (who may write anywhere): the permission
    check is simulated."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != locked and real_access(p, mode, **kw))
    code, _, err = _cli(capsys, "export", "suggestions", "-o", str(locked / "forslag.jsonl"))
    line = _one_clear_line(err)
    assert code == 2 and f"cannot write in {locked}: permission denied" in line
    code, _, err = _cli(capsys, "report", "--out", str(locked / "rapport"))
    assert code == 2 and "permission denied" in _one_clear_line(err)
    assert list(locked.iterdir()) == []


def test_the_atomic_writer_turns_os_errors_into_rta_errors(tmp_path, monkeypatch):
    with pytest.raises(RtaError, match="folder, not a file"):
        atomic_write_bytes(tmp_path, b"x")
    target = tmp_path / "out.txt"
    target.write_bytes(b"old")

    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(RtaError, match="No space left on device") as caught:
        atomic_write_bytes(target, b"new")
    assert caught.value.path == target
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    monkeypatch.undo()

    def read_only(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", read_only)
    with pytest.raises(RtaError, match="Permission denied"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"


def test_outputs_in_a_project_are_refused_before_any_work(project, tmp_path, capsys):
    root = str(project.root)
    code, _, err = _cli(capsys, "--project", root, "memos", "--format", "md", "-o", str(tmp_path))
    assert code == 2 and str(tmp_path) in _one_clear_line(err)
    missing = tmp_path / "nowhere" / "quotes.csv"
    code, _, err = _cli(capsys, "--project", root, "export", "quotes", "-o", str(missing))
    assert code == 2 and "mkdir -p" in _one_clear_line(err)
    assert not missing.parent.exists()
    code, _, err = _cli(capsys, "--project", root, "export", "qdpx", str(tmp_path))
    assert code == 2 and "is a folder" in _one_clear_line(err)
    n_events = len(project.store.events())
    code, _, err = _cli(capsys, "--project", root, "report", "--out", str(project.root / "rta.toml"))
    assert code == 2 and "is a file, not a folder" in _one_clear_line(err)
    assert len(project.store.events()) == n_events


# -- rta log --since -------------------------------------------------------------------------


def _utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_parse_since_reads_iso_and_norwegian_dates():
    midnight = _utc(datetime(2026, 11, 1).astimezone())  # a date without a zone is local time
    assert parse_since("2026-11-01") == midnight
    assert parse_since("01.11.2026") == midnight
    assert parse_since("1.11.2026") == midnight
    assert parse_since("01.11.2026 14:30") == _utc(datetime(2026, 11, 1, 14, 30).astimezone())
    assert parse_since("2026-11-01T14:30") == _utc(datetime(2026, 11, 1, 14, 30).astimezone())
    assert parse_since("2026-11-01 14:30:15") == _utc(datetime(2026, 11, 1, 14, 30, 15).astimezone())
    assert parse_since("2026-11-01T10:00:00Z") == "2026-11-01T10:00:00Z"
    assert parse_since("2026-11-01T11:00:00+01:00") == "2026-11-01T10:00:00Z"
    for bad in ("yesterday", "01.13.2026", "31.02.2026", "2026-11", "11/01/2026", "", "2026-11-01T25:00"):
        with pytest.raises(RtaError, match="cannot read") as caught:
            parse_since(bad)
        assert "01.11.2026" in caught.value.hint


def test_log_since_a_norwegian_date_filters(project, capsys):
    code_quote(project, "mini-skoleeier", "det ble et brudd i arbeidet", "Brudd")
    root = str(project.root)
    tomorrow = (datetime.now() + timedelta(days=2)).strftime("%d.%m.%Y")
    yesterday = (datetime.now() - timedelta(days=2)).strftime("%d.%m.%Y")
    code, out, err = _cli(capsys, "--project", root, "log", "--since", tomorrow)
    assert code == 0 and out == "", err  # was: compared as text, '0x.xx.' < '20..' listed everything
    code, out, _ = _cli(capsys, "--project", root, "log", "--since", yesterday)
    assert code == 0 and "coding.added" in out
    assert len(project.store.events(since=yesterday)) == len(project.store.events())
    assert project.store.events(since=tomorrow) == []
    code, _, err = _cli(capsys, "--project", root, "log", "--since", "01.13.2026")
    assert code == 2 and "'--since'" in _one_clear_line(err) and "01.11.2026" in err
    assert since_time("2026-11-01") == "2026-11-01"


# -- a project locked by another writer ----------------------------------------------------


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    other = sqlite3.connect(str(db), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_locked_project_is_one_sentence_after_a_bounded_wait(project, monkeypatch, capsys):
    coding_id = code_quote(project, "mini-skoleeier", "det ble et brudd i arbeidet", "Brudd")
    before = (len(project.store.events()), project.store.conn.execute(
        "SELECT status FROM codings WHERE id = ?", (coding_id,)).fetchone()[0])
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "0.3")
    other = _hold_write_lock(project.root / "rta.db")
    try:
        started = time.monotonic()
        code, out, err = _cli(capsys, "--project", str(project.root), "uncode", str(coding_id), "--reason", "x")
        waited = time.monotonic() - started
        # reading while another command writes still works
        code_read, out_read, _ = _cli(capsys, "--project", str(project.root), "codings")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 2 and out == "" and "Traceback" not in err
    first = err.splitlines()[0]
    assert "another rta command is writing to this project" in first and "try again" in first
    assert 0.25 <= waited < 5
    assert code_read == 0 and "Brudd" in out_read
    after = (len(project.store.events()), project.store.conn.execute(
        "SELECT status FROM codings WHERE id = ?", (coding_id,)).fetchone()[0])
    assert after == before
    code, _, err = _cli(capsys, "--project", str(project.root), "uncode", str(coding_id), "--reason", "x")
    assert code == 0, err  # the lock is gone: the same command goes through


def test_the_store_lock_wait_is_a_parameter_and_an_environment_variable(project, monkeypatch):
    other = _hold_write_lock(project.root / "rta.db")
    try:
        store = Store(project.root / "rta.db", timeout=0.1)
        with pytest.raises(StoreBusy) as caught:
            with store.transaction():
                pass
        assert caught.value.exit_code == 2 and "waited 0.1 s" in caught.value.message
        assert not store.in_transaction
        store.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "soon")
    with pytest.raises(RtaError, match="not a number of seconds"):
        Store(project.root / "rta.db")
