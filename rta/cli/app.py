"""The Typer application and its command groups.

Each concept's commands live in their own module (``rta/cli/<concept>.py``) and register on
these objects. Keep module import cheap: import spaCy, pandas and other heavy libraries inside
the command functions, never at module level, so ``rta --help`` stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="rta",
    help=(
        "Reflexive thematic analysis of anonymised Norwegian interview transcripts.\n\n"
        "Code transcripts against a codebook, review NLP suggestions, build themes through "
        "Braun & Clarke's six phases and write reports whose every quote traces back to its "
        "transcript line. Everything stays on this machine."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

codebook_app = typer.Typer(help="Read, validate, show, diff and exchange codebooks (YAML, REFI-QDA .qdc).", no_args_is_help=True)
export_app = typer.Typer(help="Export quotes, suggestions and REFI-QDA projects.", no_args_is_help=True)
memo_app = typer.Typer(help="Memos on codings, codes, themes and transcripts.", no_args_is_help=True)
journal_app = typer.Typer(help="The reflexive journal: phase-stamped entries about the analysis.", no_args_is_help=True)
themes_app = typer.Typer(help="Build, review and version themes (phases 3-5).", invoke_without_command=True)
phase_app = typer.Typer(help="Braun & Clarke's six phases as project state.", invoke_without_command=True)
anonymise_app = typer.Typer(help="Find and replace identifiers that anonymisation missed.", no_args_is_help=True)

app.add_typer(codebook_app, name="codebook")
app.add_typer(export_app, name="export")
app.add_typer(memo_app, name="memo")
app.add_typer(journal_app, name="journal")
app.add_typer(themes_app, name="themes")
app.add_typer(phase_app, name="phase")
app.add_typer(anonymise_app, name="anonymise")


@dataclass
class State:
    """Options that apply to every command."""

    project_dir: Optional[Path] = None


state = State()


@app.callback()
def _root(
    project: Optional[Path] = typer.Option(
        None,
        "--project",
        "-P",
        help="Project folder (default: $RTA_PROJECT, else the nearest folder upwards with rta.toml).",
        show_default=False,
    ),
) -> None:
    state.project_dir = project


def project_dir_option() -> Optional[Path]:
    """The project folder the user pointed at, if any (``--project`` or ``$RTA_PROJECT``)."""
    if state.project_dir is not None:
        return state.project_dir
    env = os.environ.get("RTA_PROJECT")
    return Path(env) if env else None


def open_project():
    """Open the project for a command (raises RtaError with a hint when there is none)."""
    from rta.project import Project

    return Project.open(project_dir_option())


def echo(message: str = "", err: bool = False, nl: bool = True) -> None:
    """Print for a person. Every command prints through here, so control characters, escape
    sequences and bidi overrides in transcript, memo or codebook text are shown escaped
    (``\\x1b``, ``\\u202e``), never acted on by the terminal (:func:`rta.textsafe.for_terminal`)."""
    from rta.textsafe import for_terminal

    typer.echo(for_terminal(message), err=err, nl=nl)
