"""The Typer application and its command groups.

Each concept's commands live in their own module (``rta/cli/<concept>.py``) and register on
these objects. Keep module import cheap: import spaCy, pandas and other heavy libraries inside
the command functions, never at module level, so ``rta --help`` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import typer
from typer.core import TyperGroup


def keep_parser_reason(exc: BaseException) -> None:
    """Put back the message of the ValueError an option's ``parser=`` raised, where click
    dropped it: typer 0.28 wraps a parser in click's FuncParamType, which replaces the
    ValueError by "Invalid value: VALUE" raised while handling it (the ValueError is the
    context). Leaves every other error as it is."""
    reason = exc.__context__
    param_type = getattr(getattr(exc, "param", None), "type", None)
    if (exc.__cause__ is None and type(reason) is ValueError and str(reason)
            and type(param_type).__name__ == "FuncParamType" and hasattr(exc, "message")):
        exc.message = str(reason)  # type: ignore[attr-defined]  # "Invalid value for '--opt': REASON"


class RtaGroup(TyperGroup):
    """The root command: every command's options are parsed inside its ``invoke``, so a parser's
    message reaches the user on every path (``rta``, ``python -m rta``, click's CliRunner)."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except Exception as exc:
            keep_parser_reason(exc)
            raise


app = typer.Typer(
    name="rta",
    cls=RtaGroup,
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
    # inherited by every group and command: `rta -h`, `rta code -h`, ...
    context_settings={"help_option_names": ["-h", "--help"]},
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


def rta_version() -> str:
    """The installed package's version (package metadata, else ``rta.__version__``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rta")
    except PackageNotFoundError:
        from rta import __version__

        return __version__


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"rta {rta_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    project: Optional[Path] = typer.Option(
        None,
        "--project",
        "-P",
        help="Project folder (default: $RTA_PROJECT, else the nearest folder upwards with rta.toml).",
        show_default=False,
    ),
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="Show rta's version and exit."),
) -> None:
    state.project_dir = project


# -- shared option types ---------------------------------------------------------------------
# Parsers for typer's ``parser=``: they run while the command line is read, before any project
# is opened, so a bad value is a usage error (exit 2, one line naming the option). A ValueError
# becomes "Invalid value for '--opt': MESSAGE".

SQL_INT_MAX = 2**63 - 1  # SQLite's INTEGER is a signed 64-bit number: ids, turns, phases...


def whole_number(value: Any) -> int:
    """Every integer option and argument: a whole number SQLite can hold."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a whole number") from None
    if number > SQL_INT_MAX:
        raise ValueError(f"{value} is too large (numbers go up to {SQL_INT_MAX})")
    if number < -SQL_INT_MAX - 1:
        raise ValueError(f"{value} is too small (numbers go down to {-SQL_INT_MAX - 1})")
    return number


def _or(choices: tuple[str, ...]) -> str:
    return choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]


def choice(*choices: str, what: str = "format") -> Callable[[Any], str]:
    """A closed list of values (case-insensitive); the value reaches the command as a str."""

    def parse(value: Any) -> str:
        text = str(getattr(value, "value", value)).strip().lower()
        if text in choices:
            return text
        raise ValueError(f"unknown {what} '{value}'; use {_or(choices)}")

    return parse


def format_option(default: str, *choices: str, help: str, short: bool = False) -> Any:
    """``--format`` (and ``-f`` with ``short``) restricted to ``choices``."""
    names = ("--format", "-f") if short else ("--format",)
    return typer.Option(default, *names, parser=choice(*choices), metavar="|".join(choices), help=help)


def _library_check(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A library check raising RtaError, as a parser (its message and hint on one line)."""
    from rta.errors import RtaError

    def parse(value: Any) -> Any:
        try:
            return check(value)
        except RtaError as exc:
            raise ValueError(f"{exc.message}; {exc.hint}" if exc.hint else exc.message) from None

    return parse


def _output_file(value: Any) -> Path:
    from rta.fsutil import check_output_file

    path = Path(value)
    if str(value) != "-":  # '-' is standard output where a command allows it
        check_output_file(path)
    return path


def _output_folder(value: Any) -> Path:
    from rta.fsutil import check_output_folder

    path = Path(value)
    check_output_folder(path)
    return path


def _since(value: Any) -> str:
    from rta.store import parse_since

    parse_since(str(value))  # refuse now; the library parses it again where it queries
    return str(value)


def _report_formats(value: Any) -> str:
    from rta.report_build import parse_formats

    return ",".join(parse_formats(str(value)))


output_file = _library_check(_output_file)
"""Parser for ``-o/--output FILE``: not a folder, and its folder exists and is writable."""
output_folder = _library_check(_output_folder)
"""Parser for an output folder: not a file, and it or its parent folder is writable."""
since_time = _library_check(_since)
"""Parser for ``--since``: an ISO date or time, or dd.mm.yyyy."""
report_formats = _library_check(_report_formats)
"""Parser for ``rta report --format``: a comma list of html and md, each checked."""


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
