"""Helpers for the store, coding, audit, anchor and export tests: small projects in tmp_path
and an in-process CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

from rta.coding import create_coding, ensure_codebook_version
from rta.project import Project

STORE_DATA = Path(__file__).parent / "data" / "store"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    """Run the CLI in-process with ``args``; returns (exit code, stdout, stderr)."""
    from rta.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def run_cli(capsys, root: Path, *args: str) -> tuple[int, str, str]:
    """Run ``rta --project ROOT ARGS`` in-process; returns (exit code, stdout, stderr)."""
    from rta.cli import main

    capsys.readouterr()
    try:
        main(["--project", str(root), *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def rektor_project(tmp_path: Path) -> tuple[Project, Path]:
    """A project with one transcript (k3-rektor) copied into tmp_path, so tests can revise it."""
    src = tmp_path / "k3-rektor.txt"
    shutil.copyfile(STORE_DATA / "k3-rektor.txt", src)
    project = Project.init(tmp_path / "studie", name="Ankerprosjekt", coder="tester")
    project.add_files([src], coder="tester")
    return project, src


def code_quote(project: Project, transcript: str, quote: str, code: str, coder: str = "tester",
               memo: str | None = None) -> int:
    """Code the first verbatim occurrence of ``quote`` (via the library, in one transaction)."""
    store = project.store
    text = store.transcript_text(transcript)
    start = text.index(quote)
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, coder)
        return create_coding(store, transcript, start, start + len(quote), code, coder, version, memo=memo)
