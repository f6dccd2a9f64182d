"""Command: show (a transcript with line numbers, turns and codings; reads only).

Output policy, as ``git log`` has it: colour only when standard output is a terminal and
neither ``--no-color`` nor ``$NO_COLOR`` says otherwise; long output on a terminal goes through
a pager (``$RTA_PAGER``, else ``$PAGER``, else ``less -R``), and straight to the terminal when
the pager cannot start. In a pipe or a file: plain rows, one per transcript line, no pager.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import IO, Optional

import typer

from rta.cli.app import app, echo, format_option, open_project, whole_number


def use_color(no_color: bool, stream: IO[str] | None = None) -> bool:
    """Colour when ``stream`` (stdout) is a terminal, ``--no-color`` was not given, ``$NO_COLOR``
    is unset or empty (https://no-color.org) and ``$TERM`` is not ``dumb``."""
    stream = stream if stream is not None else sys.stdout
    if no_color or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def page(rows: list[str], use_pager: bool = True) -> None:
    """Print ``rows`` (already escaped for the terminal); through a pager when standard output
    is a terminal and they do not fit on the screen. A pager that cannot start (missing, bad
    ``$PAGER``) is skipped: the rows are printed as they are."""
    out = sys.stdout
    text = "\n".join(rows) + ("\n" if rows else "")
    if use_pager and _is_tty(out) and len(rows) > shutil.get_terminal_size().lines - 1:
        command = os.environ.get("RTA_PAGER") or os.environ.get("PAGER") or "less -R"
        if command.strip() and command.strip() != "cat" and _run_pager(command, text):
            return
    out.write(text)
    out.flush()


def _run_pager(command: str, text: str) -> bool:
    """Send ``text`` through ``command``; False when it cannot start (the caller prints)."""
    import shlex
    import subprocess

    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # as git: quit if one screen, keep colours, leave the screen as it is
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    assert proc.stdin is not None
    try:
        proc.stdin.write(text.encode(sys.stdout.encoding or "utf-8", errors="replace"))
        proc.stdin.close()
    except (BrokenPipeError, OSError):  # the reader quit the pager early
        pass
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.wait()
    return True


def _width(width: Optional[int]) -> int:
    """Columns to wrap at: ``--width`` (0: never), else the terminal's width on a terminal,
    else no wrapping (a pipe gets one row per transcript line)."""
    if width is not None:
        return max(0, width)
    return shutil.get_terminal_size().columns if _is_tty(sys.stdout) else 0


def _codes(value: Optional[str]) -> Optional[list[str]]:
    return None if value is None else [c for c in value.split(",")]


@app.command()
def show(
    transcript: str = typer.Argument(..., help="Transcript id (see 'rta transcripts')."),
    lines: Optional[str] = typer.Option(None, "--lines", "-l", metavar="A-B",
                                        help="Only lines A-B (1-based, inclusive; A alone for one line)."),
    turn: Optional[int] = typer.Option(None, "--turn", "-t", parser=whole_number, help="Only this turn."),
    coding: Optional[int] = typer.Option(None, "--coding", parser=whole_number,
                                         help="This coding in context, its lines flagged '>' (see --context)."),
    context: Optional[int] = typer.Option(None, "--context", "-C", parser=whole_number,
                                          help="Lines to show around --coding (default 2), --turn or --lines."),
    suggestions: bool = typer.Option(False, "--suggestions", "-s",
                                     help="Mark pending suggestions too: [?12 Tid 0.85]."),
    codes: Optional[str] = typer.Option(None, "--codes", metavar="A,B", help="Mark only codings of these codes."),
    revision: Optional[int] = typer.Option(None, "--revision", parser=whole_number,
                                           help="Show this revision (default: the current one)."),
    fmt: str = format_option("text", "text", "json", help="text, or json (turns with their codings, for scripts)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colour even on a terminal (also: $NO_COLOR)."),
    no_pager: bool = typer.Option(False, "--no-pager", help="Never page, even on a terminal."),
    width: Optional[int] = typer.Option(None, "--width", parser=whole_number,
                                        help="Wrap rows at this many columns (0: never). Default: the terminal's "
                                             "width on a terminal, one row per line in a pipe."),
) -> None:
    """Show a transcript as stored: the file's line numbers, each turn's number and speaker
    where it starts, and the codings as [#ID Code] markers on the lines they cover. Reads only."""
    from rta.show import (check_coding, header, parse_line_range, render_text, resolve_codes, select_lines,
                          transcript_view, view_json)

    span = parse_line_range(lines) if lines is not None else None
    project = open_project()
    store = project.store
    if coding is not None:
        coding_revision = check_coding(store, transcript, coding)
        if revision is not None and revision != coding_revision:
            from rta.errors import RtaError

            raise RtaError(f"coding #{coding} is on revision {coding_revision} of '{transcript}', not {revision}",
                           hint=f"leave out --revision, or use --revision {coding_revision}")
        revision = coding_revision if revision is None else revision
    view = transcript_view(store, transcript, revision, with_coding=coding)  # pending ones counted, marked on request
    wanted = resolve_codes(store, _codes(codes)) if codes is not None else None
    first, last = select_lines(view, lines=span, turn=turn, coding=coding, context=context)
    if fmt == "json":
        echo(json.dumps(view_json(view, first, last, codes=wanted, suggestions=suggestions),
                        ensure_ascii=False, indent=2))
        return
    color = use_color(no_color)
    rows = render_text(view, first, last, codes=wanted, suggestions=suggestions, highlight=coding,
                       color=color, width=_width(width))
    if _is_tty(sys.stdout):  # a reader gets told what they are looking at; a pipe gets the rows only
        rows.insert(0, header(view, first, last))
    page(rows, use_pager=not no_pager)
