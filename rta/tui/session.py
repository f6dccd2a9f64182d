"""Every decision made in ``rta read``: the same library calls as ``rta code``, ``rta uncode``,
``rta review`` and ``rta memo``, one store transaction each, with the coder resolved as those
commands resolve it. The session remembers its own decisions so the last one can be undone.

A project the user may not write to is refused before anything is tried
(:class:`ReadOnlyProject`); a write that meets another writer's lock raises
:class:`rta.store.StoreBusy` after a short wait, with nothing written, so the workbench can say
so and try again without losing the decision."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rta.errors import RtaError
from rta.project import Project

T = TypeVar("T")

UNDO_REASON = "undone in rta read"


class ReadOnlyProject(RtaError):
    """The project's store may not be written here (no write permission)."""


@dataclass
class Decision:
    """One decision of this session, with what undoing it needs."""

    kind: str  # 'code', 'accept', 'reject', 'recode', 'uncode'
    label: str  # for messages: 'coded #12 Tid'
    codings: list[int] = field(default_factory=list)
    suggestion: int | None = None


def _writable(project: Project) -> bool:
    """Whether this user may write the store (its file and its folder, for SQLite's journal)."""
    db = project.store.path
    return os.access(db, os.W_OK) and os.access(db.parent, os.W_OK)


class Session:
    """A person's session in the workbench: who decides, and what they decided here."""

    def __init__(self, project: Project, coder: str | None = None, busy_wait: float = 0.25) -> None:
        self.project = project
        self.store = project.store
        self.coder = project.coder(coder)
        self.writable = _writable(project)
        self.decisions: list[Decision] = []
        self.busy_wait = busy_wait
        # Wait only briefly for another writer's lock: the workbench retries and says so meanwhile,
        # instead of freezing the screen for the store's full wait.
        self.store.conn.execute(f"PRAGMA busy_timeout = {int(busy_wait * 1000)}")
        self.store.conn.lock_wait = busy_wait

    # -- the one way to write ----------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[None]:
        if not self.writable:
            raise ReadOnlyProject(
                f"this project is read-only for you here (no write permission on {self.store.path.name}): "
                "nothing was written", path=self.store.path,
                hint="open a copy you may write to, or ask its owner for write access")
        try:
            with self.store.transaction():
                yield
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc) or "read-only" in str(exc):
                self.writable = False
                raise ReadOnlyProject(f"the project's store cannot be written ({exc}): nothing was written",
                                      path=self.store.path) from None
            raise

    def _version(self) -> int:
        from rta.coding import ensure_codebook_version

        return ensure_codebook_version(self.store, self.project.codebook_path, self.coder)

    # -- decisions ---------------------------------------------------------------------------
    def code(self, transcript_id: str, revision: int, text_sha256: str, start: int, end: int, code: str,
             memo: str | None = None) -> list[int]:
        """Code a selection (as ``rta code``: one coding per informant turn it touches), on the
        revision it was chosen on. Returns the new coding ids."""
        from rta.coding import Basis, create_coding, split_span

        basis = Basis(transcript_id, revision, text_sha256)
        with self._write():
            parts = split_span(self.store, transcript_id, start, end, basis=basis)
            version = self._version()
            ids = [create_coding(self.store, transcript_id, p.start, p.end, code, self.coder, version, memo=memo,
                                 basis=basis, adjusted=p.adjusted) for p in parts]
            shown = self.store.conn.execute("SELECT code FROM codings WHERE id=?", (ids[0],)).fetchone()["code"]
        self.decisions.append(Decision("code", f"coded {', '.join(f'#{i}' for i in ids)} {shown}", ids))
        return ids

    def uncode(self, coding_id: int, reason: str | None) -> None:
        """Remove a coding (as ``rta uncode``), with the reason in the log."""
        from rta.coding import uncode

        with self._write():
            coding = uncode(self.store, coding_id, self.coder, reason or None)
        self.decisions.append(Decision("uncode", f"removed #{coding_id} {coding.code}", [coding_id]))

    def accept(self, suggestion_id: int) -> int:
        """Accept a pending suggestion (as ``rta review``'s accept). Returns its coding id."""
        from rta import review

        with self._write():
            coding_id = review.accept(self.store, suggestion_id, self.coder, self._version())
        self.decisions.append(Decision("accept", f"accepted suggestion {suggestion_id} as #{coding_id}",
                                       [coding_id], suggestion_id))
        return coding_id

    def reject(self, suggestion_id: int, reason: str | None = None) -> None:
        from rta import review

        with self._write():
            review.reject(self.store, suggestion_id, self.coder, reason)
        self.decisions.append(Decision("reject", f"rejected suggestion {suggestion_id}", [], suggestion_id))

    def recode(self, suggestion_id: int, code: str) -> int:
        """Right passage, other code (as ``rta review``'s recode). Returns the coding id."""
        from rta import review

        with self._write():
            coding_id = review.recode(self.store, suggestion_id, code, self.coder, self._version())
            shown = self.store.conn.execute("SELECT code FROM codings WHERE id=?", (coding_id,)).fetchone()["code"]
        self.decisions.append(Decision("recode", f"recoded suggestion {suggestion_id} as #{coding_id} {shown}",
                                       [coding_id], suggestion_id))
        return coding_id

    def memo(self, kind: str, target: str, text: str) -> str:
        """A memo on a coding or transcript (as ``rta memo add``), or on a pending suggestion
        (as ``rta review``'s memo: carried into its coding). Memos are kept, not undone."""
        if kind == "suggestion":
            from rta import review

            with self._write():
                review.add_memo(self.store, int(target), text, self.coder)
            return f"memo on suggestion {target}"
        from rta.memos import add_memo

        with self._write():
            memo = add_memo(self.store, kind, target, text, self.coder)
        return f"memo #{memo.id} on {kind} {memo.target}"

    def feature(self, coding_id: int, theme: str) -> str:
        """Feature a coding in a theme's section of the report (as ``rta feature``). Like a
        memo, it is kept by ``u``: ``rta unfeature`` takes it back."""
        from rta.featured import feature

        with self._write():
            items = feature(self.store, coding_id, theme, self.coder)
        place = [f.coding_id for f in items].index(coding_id) + 1
        return f"featured #{coding_id} in {theme} (place {place} of {len(items)})"

    def themes_of(self, code: str) -> list[str]:
        from rta.themes import list_themes

        return [t.name for t in list_themes(self.store) if code in t.codes]

    def undo(self) -> str:
        """Undo this session's last decision, as a new logged decision (nothing is deleted):
        a coding made here is removed; an accepted, rejected or recoded suggestion is pending
        again (``rta review``'s undo); a removed coding is coded again (a new coding of the
        same words with the same code and memo)."""
        if not self.decisions:
            raise RtaError("nothing to undo in this session", hint="memos are kept: write another to correct one")
        last = self.decisions[-1]
        if last.kind == "code":
            from rta.coding import uncode

            with self._write():
                for cid in last.codings:
                    uncode(self.store, cid, self.coder, UNDO_REASON)
        elif last.kind in ("accept", "reject", "recode"):
            from rta import review

            with self._write():
                undone = review.undo_last(self.store, self.coder)
                if undone is None or int(undone.get("suggestion", -1)) != last.suggestion:
                    raise RtaError(  # rolls the transaction back: nothing undone
                        f"cannot undo '{last.label}': {self.coder} made a later review decision elsewhere",
                        hint="undo that one first with 'u' in 'rta review'")
        elif last.kind == "uncode":
            from rta.coding import basis_of, create_coding, get_coding

            old = get_coding(self.store, last.codings[0])
            with self._write():
                basis = basis_of(self.store, old.transcript_id)
                new = create_coding(self.store, old.transcript_id, old.start, old.end, old.code, self.coder,
                                    self._version(), memo=old.memo, basis=basis
                                    if basis.revision == old.revision else None,
                                    revision=old.revision)
            last.label += f" (coded again as #{new})"
        self.decisions.pop()
        return f"undone: {last.label}"

    # -- reading -----------------------------------------------------------------------------
    def history(self, coding_id: int, limit: int = 8) -> list[tuple[str, str, str]]:
        """(time, coder, what) of the log's events about a coding, oldest first."""
        rows = self.store.conn.execute(
            "SELECT ts, coder, kind, payload FROM events WHERE (kind LIKE 'coding.%' AND "
            "json_extract(payload, '$.coding') = ?) OR (kind LIKE 'suggestion.%' AND "
            "json_extract(payload, '$.coding') = ?) OR (kind = 'memo.added' AND "
            "json_extract(payload, '$.on') = 'coding' AND json_extract(payload, '$.target') = ?) "
            "ORDER BY seq DESC LIMIT ?", (coding_id, coding_id, str(coding_id), limit)).fetchall()
        return [(r["ts"], r["coder"] or "-", r["kind"]) for r in reversed(rows)]

    def memos_on(self, kind: str, target: str) -> list[str]:
        from rta.memos import list_memos

        return [m.text for m in list_memos(self.store, kind=kind, target=target)]

    def code_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.store.conn.execute(
            "SELECT code, COUNT(*) FROM codings WHERE status='active' GROUP BY code")}


def attempt(action: Callable[[], T]) -> tuple[T | None, RtaError | None]:
    """Run a decision; an RtaError (refusal, read-only, busy) comes back as a value, not raised."""
    try:
        return action(), None
    except RtaError as exc:
        return None, exc


def describe(exc: RtaError) -> str:
    """One line for the status bar: the message and the hint."""
    message = getattr(exc, "message", str(exc))
    hint = getattr(exc, "hint", None)
    return f"{message} ({hint})" if hint else str(message)


__all__: list[Any] = ["Session", "Decision", "ReadOnlyProject", "attempt", "describe"]
