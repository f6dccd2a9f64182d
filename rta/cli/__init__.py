"""Command-line interface: ``rta COMMAND``. Thin: parsing options, calling the library,
printing results. Errors the user can fix exit with code 2 and name the file and line.

Usage errors (unknown command or option, a missing or bad value) exit 2 with one line on
stderr, ``error: ... (see 'rta CMD --help')``, never a traceback. Bare ``rta`` (and a bare
command group such as ``rta codebook``) prints its help on stderr and exits 2, as click does;
``rta --help``/``-h`` print it on stdout and exit 0."""

from __future__ import annotations

import sys

from rta.cli.app import app
from rta.errors import RtaError
from rta.textsafe import for_terminal  # messages may quote transcript, codebook or command-line text

# Each module registers its commands on ``app`` (or a group in rta.cli.app) when imported.
from rta.cli import project as _project  # noqa: F401,E402
from rta.cli import codebook as _codebook  # noqa: F401,E402
from rta.cli import coding as _coding  # noqa: F401,E402
from rta.cli import nlp as _nlp  # noqa: F401,E402
from rta.cli import themes as _themes  # noqa: F401,E402
from rta.cli import report as _report  # noqa: F401,E402
from rta.cli import anonymise as _anonymise  # noqa: F401,E402
from rta.cli import read as _read  # noqa: F401,E402
from rta.cli import checkpoint as _checkpoint  # noqa: F401,E402
from rta.cli import show as _show  # noqa: F401,E402
from rta.cli import verify as _verify  # noqa: F401,E402
from rta.cli import featured as _featured  # noqa: F401,E402
from rta.cli import merge as _merge  # noqa: F401,E402


def _click_classes(name: str) -> tuple[type, ...]:
    """``name`` from every click the CLI may raise: typer >= 0.2x bundles its own click as
    ``typer._click`` (its exceptions are not click's), older typer uses the click package."""
    import importlib

    found: list[type] = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if isinstance(cls, type) and cls not in found:
            found.append(cls)
    return tuple(found)


def _usage_line(exc: Exception) -> str:
    """A click/typer usage error as one line: what is wrong and where the help is."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    message = " ".join(message.replace("Value error, ", "").split()).rstrip(".")  # pydantic's prefix, newlines
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "rta"
    return f"error: {message} (see '{path} --help')"


_COMMAND = None


def _command():
    """The click command typer builds from ``app``, built once per process: building it reads
    every command's signature (a third of a second), which in-process callers (tests, notebooks)
    would otherwise pay on every call."""
    global _COMMAND
    if _COMMAND is None:
        import typer.main

        _COMMAND = typer.main.get_command(app)
    return _COMMAND


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``rta`` console script."""
    import rta.store

    rta.store.BUSY_NOTICE = lambda message: print(for_terminal(message), file=sys.stderr, flush=True)
    try:
        code = _command().main(args=argv, prog_name="rta", standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(N) comes back as a return value here
            sys.exit(code)
    except RtaError as exc:
        print(for_terminal(str(exc)), file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted: nothing was changed by the interrupted command", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors and aborts
        import typer

        if isinstance(exc, (typer.Abort, *_click_classes("Abort"))):
            print("aborted", file=sys.stderr)
            sys.exit(1)
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `rta` or `rta GROUP`: the help
            print(exc.format_message(), file=sys.stderr)
            sys.exit(2)
        if isinstance(exc, _click_classes("UsageError")):
            print(for_terminal(_usage_line(exc)), file=sys.stderr)
            sys.exit(2)
        typer_errors = tuple(c for c in (getattr(typer, "TyperException", None),) if isinstance(c, type))
        if isinstance(exc, (*typer_errors, *_click_classes("ClickException"))):
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            print(for_terminal(f"error: {message}"), file=sys.stderr)
            sys.exit(getattr(exc, "exit_code", 1) or 1)
        raise
