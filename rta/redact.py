"""Redaction: replacing personal text the project holds, as a logged decision.

The log is append-only, so it must not be the one place a name can never leave: events hold
hashes of free text, the text lives in its table, and a redaction replaces it there. Each
redaction appends a ``text.redacted`` event::

    {"table": "memos", "id": 12, "field": "text",
     "old_sha256": "<sha256 of the text before>", "new_sha256": "<sha256 of the text after>",
     "reason": "personal-data"}

``reason`` is a short code (``personal-data``, ``anonymise-apply``, ``anonymise-purge``, ...),
never free text, so the event itself holds no personal data. The audit's replay accepts the new
text of a row because this event says it replaced the old one (the hash of the text it had is
the ``old_sha256``). What can be redacted:

* ``memos.text``: memos and journal entries (``rta memo redact memo:12``);
* ``codings.memo``: a memo written with ``rta code --memo`` or carried from ``rta review``
  (``rta memo redact coding:7``);
* ``event_texts.<field>``: the free text of a logged decision, which the log holds only as a
  hash (:data:`rta.store.FREE_TEXT_FIELDS`): a review memo (``rta memo redact review:SEQ``,
  field ``text``), a reason; ``id`` is the event's seq;
* ``transcript_revisions.text``: only through ``rta anonymise purge`` (:mod:`rta.purge`), whose
  event also carries the re-derived turns and the moved spans (``id`` is ``[transcript,
  revision]`` there).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from rta.errors import RtaError
from rta.fsutil import sha256_text
from rta.store import Store

EVENT = "text.redacted"

REASON_FORM = re.compile(r"[a-z][a-z0-9-]{0,39}")
DEFAULT_REASON = "personal-data"
REASON_HINT = ("give a short code, not a sentence (the log must hold no personal text), e.g. personal-data, "
               "consent-withdrawn, error")

MEMO_FIELDS: dict[str, tuple[str, str]] = {
    "memo": ("memos", "text"),
    "journal": ("memos", "text"),
    "coding": ("codings", "memo"),
    "review": ("event_texts", "text"),
}
"""What ``rta memo redact KIND:ID`` redacts: the table and field a memo of that kind lives in."""


@dataclass
class Redaction:
    """One logged redaction: which row's field, the hashes before and after, and the event."""

    table: str
    id: Any
    field: str
    old_sha256: str
    new_sha256: str
    reason: str
    event: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_reason(reason: str | None) -> str:
    """The reason code to log (default ``personal-data``); RtaError for free text."""
    if reason is None:
        return DEFAULT_REASON
    code = reason.strip()
    if not REASON_FORM.fullmatch(code):
        raise RtaError(f"the reason '{reason[:40]}' is not a short code", hint=REASON_HINT)
    return code


def parse_memo_ref(ref: str) -> tuple[str, str, int]:
    """``memo:12``, ``journal:12``, ``12`` (a memo or journal entry) or ``coding:7`` (a coding's
    memo) as (table, field, id); an RtaError naming the forms for anything else."""
    kind, sep, number = ref.strip().partition(":")
    if not sep:
        kind, number = "memo", kind
    kind = kind.strip().lower()
    number = number.strip()
    if kind not in MEMO_FIELDS or not number.isdigit() or len(number) > 18:
        raise RtaError(f"cannot read '{ref}' as a memo", hint="write memo:ID (also journal entries), coding:ID, "
                                                           "review:SEQ or just ID, as 'rta anonymise check' and "
                                                           "'rta memos --format json' name them")
    table, field = MEMO_FIELDS[kind]
    return table, field, int(number)


def _select(table: str, field: str) -> tuple[str, str, tuple[str, ...]]:
    """(SELECT, UPDATE, extra args) for one redactable field; RtaError for any other."""
    if table == "event_texts":
        return ("SELECT text FROM event_texts WHERE seq = ? AND field = ?",
                "UPDATE event_texts SET text = ? WHERE seq = ? AND field = ?", (field,))
    if (table, field) not in MEMO_FIELDS.values():
        raise RtaError(f"{table}.{field} cannot be redacted this way",
                       hint="memos, journal entries, coding memos and logged texts can; transcripts through "
                            "'rta anonymise purge'")
    return f"SELECT {field} FROM {table} WHERE id = ?", f"UPDATE {table} SET {field} = ? WHERE id = ?", ()


def current_text(store: Store, table: str, field: str, row_id: int) -> str:
    """The text a redaction would replace; RtaError when the row or its text does not exist."""
    select, _, extra = _select(table, field)
    row = store.conn.execute(select, (row_id, *extra)).fetchone()
    what = {"memos": "memo or journal entry", "codings": "coding"}.get(table, "logged text")
    if row is None and table == "event_texts":
        legacy = store.conn.execute("SELECT 1 FROM events WHERE seq = ? AND json_extract(payload, '$.' || ?) "
                                    "IS NOT NULL", (row_id, field)).fetchone()
        if legacy is not None:
            raise RtaError(f"the {field} of event {row_id} was logged before rta kept free text out of the log, "
                           "so the log itself holds it and cannot change",
                           hint="write a correcting memo; the project cannot be shared without this text")
        raise RtaError(f"event {row_id} has no {field} text", hint="see 'rta memos' for review memos (review:SEQ)")
    if row is None:
        raise RtaError(f"no {what} with id {row_id}", hint="see 'rta memos'")
    if row[0] is None or not str(row[0]).strip():
        raise RtaError(f"{what} {row_id} has no memo", hint="see 'rta memos'")
    return str(row[0])


def log_redaction(store: Store, table: str, row_id: Any, field: str, old_text: str, new_text: str,
                  coder: str | None, reason: str, extra: dict[str, Any] | None = None) -> Redaction:
    """Append the ``text.redacted`` event for a replacement the caller has made (inside its
    transaction). ``extra`` adds what the replay needs besides the hashes (purge: turns and
    spans); it must hold no free text."""
    old_sha, new_sha = sha256_text(old_text), sha256_text(new_text)
    payload: dict[str, Any] = {"table": table, "id": row_id, "field": field, "old_sha256": old_sha,
                               "new_sha256": new_sha, "reason": reason, **(extra or {})}
    event = store.log_event(EVENT, payload, coder)
    return Redaction(table, row_id, field, old_sha, new_sha, reason, event.seq)


def redact_text(store: Store, table: str, field: str, row_id: int, new_text: str, coder: str | None,
                reason: str | None = None) -> Redaction:
    """Replace the free text ``table.field`` of row ``row_id`` (a memo, a journal entry, a
    coding's memo) with ``new_text`` and log it as a ``text.redacted`` event with the hashes of
    the old and new text and a reason code. Joins the caller's transaction or opens one."""
    reason = check_reason(reason)
    if not new_text.strip():
        raise RtaError("the new text is empty", hint="give the text to keep, e.g. --text '[fjernet]'")
    with store.transaction():
        old = current_text(store, table, field, row_id)
        if old == new_text:
            raise RtaError(f"the new text is the text {table}.{field} {row_id} already has",
                           hint="nothing to redact")
        _, update, extra = _select(table, field)
        store.conn.execute(update, (new_text, row_id, *extra))
        done = log_redaction(store, table, row_id, field, old, new_text, coder, reason)
        for seq, copy_field in _copies(store, table, row_id, old):
            store.conn.execute("UPDATE event_texts SET text = ? WHERE seq = ? AND field = ?", (new_text, seq, copy_field))
            log_redaction(store, "event_texts", seq, copy_field, old, new_text, coder, reason)
        return done


def _copies(store: Store, table: str, row_id: int, old: str) -> list[tuple[int, str]]:
    """The logged copies of a coding's memo (event seq, field): the 'coding.added' event's memo
    and a review memo carried into the coding, when they hold the same text. Redacting the
    coding's memo redacts them too, so no copy of the old text stays behind."""
    if table != "codings":
        return []
    try:
        rows = store.conn.execute(
            "SELECT t.seq, t.field FROM event_texts t JOIN events e ON e.seq = t.seq WHERE t.text = ? AND ("
            "(e.kind = 'coding.added' AND t.field = 'memo' AND json_extract(e.payload, '$.coding') = ?) OR "
            "(e.kind = 'suggestion.memo' AND t.field = 'text' AND json_extract(e.payload, '$.suggestion') IN "
            "(SELECT id FROM suggestions WHERE coding_id = ?))) ORDER BY t.seq", (old, row_id, row_id)).fetchall()
    except Exception as exc:  # a store without event_texts (older schema): nothing logged apart
        if "no such table" in str(exc):
            return []
        raise
    return [(int(r[0]), str(r[1])) for r in rows]


def redactions(store: Store, table: str | None = None) -> list[dict[str, Any]]:
    """The payloads of every ``text.redacted`` event (of ``table``), oldest first, each with
    its event ``seq``."""
    import json

    out = []
    for seq, payload in store.conn.execute("SELECT seq, payload FROM events WHERE kind = ? ORDER BY seq", (EVENT,)):
        try:
            p = json.loads(payload)
        except ValueError:
            continue
        if isinstance(p, dict) and (table is None or p.get("table") == table):
            out.append({**p, "seq": seq})
    return out
