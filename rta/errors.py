"""One error type for everything a user can fix.

Every problem with user input is raised as :class:`RtaError` carrying the file, the line and a
hint, so the CLI can print ``file:line: message`` plus what to do, and exit with code 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Problem:
    """One finding in a file: an error (blocks) or a warning (reported only)."""

    message: str
    path: str | Path | None = None
    line: int | None = None
    hint: str | None = None
    severity: str = "error"

    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else f"{self.path}"

    def __str__(self) -> str:
        loc = self.location()
        text = f"{loc}: {self.severity}: {self.message}" if loc else f"{self.severity}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class RtaError(Exception):
    """An error the user can act on. ``exit_code`` 2 means bad input or usage."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        hint: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint
        self.problems = problems or []

    def __str__(self) -> str:
        head = str(Problem(self.message, self.path, self.line, self.hint))
        if self.problems:
            head += "\n" + "\n".join(str(p) for p in self.problems)
        return head


class AuditFailure(RtaError):
    """Verification found the project inconsistent (exit code 1, not a usage error)."""

    exit_code = 1
