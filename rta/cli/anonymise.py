"""Commands: anonymise (see rta.cli.app for the groups)."""

from rta.cli.app import app  # noqa: F401
