"""Command: read (the full-screen workbench). Textual is imported only when it runs."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from rta.cli.app import app, open_project
from rta.errors import RtaError


@app.command()
def read(
    transcript: Optional[str] = typer.Argument(None, help="Transcript id to open (default: the first; 't' in the "
                                                          "app lists them all with their coverage)."),
    coder: Optional[str] = typer.Option(None, help="Who codes (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Read and code transcripts in a full-screen terminal workbench: move by sentence, select
    by word, sentence or turn, code with a searchable code picker, review suggestions, uncode,
    write memos, undo. Every decision goes through the same library calls as 'rta code',
    'rta uncode', 'rta review' and 'rta memo' and is logged with the coder. '?' in the app
    lists the keys."""
    project = open_project()
    if transcript is not None:
        from rta.coding import basis_of

        basis_of(project.store, transcript)  # unknown id: exit 2 with a did-you-mean
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise RtaError("rta read needs a terminal (it is a full-screen app)",
                       hint="use 'rta show TRANSCRIPT' for plain output, or 'rta codings' to list codings")
    from rta.tui.app import ReadApp

    ReadApp(project, transcript, coder).run()
