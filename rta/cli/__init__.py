"""Command-line interface: ``rta COMMAND``. Thin: parsing options, calling the library,
printing results. Errors the user can fix exit with code 2 and name the file and line."""

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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``rta`` console script."""
    try:
        code = app(args=argv, prog_name="rta", standalone_mode=False)
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
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            print("aborted", file=sys.stderr)
            sys.exit(1)
        raise
