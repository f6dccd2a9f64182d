"""Reviewing suggestions: a person's decisions on the assistant's candidates.

Only here does a suggestion become a coding, and only through
:func:`rta.coding.create_coding` (``origin='suggested'``, with the suggestion id); a suggestion
for a passage already coded with its code is linked to that coding, never duplicated. Every
decision (accept, reject, skip, recode, widen, narrow, memo, undo) is an audit event with the
coder, inside the caller's transaction, so it can be traced and undone.

Recode means "right passage, wrong code": the suggestion is marked rejected (its code was
wrong, which is what ``rta evaluate`` should count) and a coding with the new code is created
from its span, linked to the suggestion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from rta.coding import check_code, covering_coding, create_coding, uncode
from rta.errors import RtaError
from rta.store import Store, now

DECISION_KINDS = (
    "suggestion.accepted", "suggestion.rejected", "suggestion.recoded", "suggestion.span_changed",
    "suggestion.memo", "suggestion.skipped",
)
UNDOABLE = ("suggestion.accepted", "suggestion.rejected", "suggestion.recoded", "suggestion.span_changed", "suggestion.memo")
T = TypeVar("T")
_SENTENCE_END = re.compile(r"[.!?…]+[»\")\]]*\s+")


@dataclass
class Suggestion:
    """A stored suggestion with the turn it sits in (for showing it in context)."""

    id: int
    transcript_id: str
    revision: int
    turn_n: int | None
    start: int
    end: int
    line_start: int
    line_end: int
    code: str
    score: float
    method: str
    evidence: list[dict[str, Any]]
    pipeline: str
    status: str
    coding_id: int | None
    decided_by: str | None = None
    speaker: str | None = None
    informant: str | None = None
    role: str | None = None
    group: str | None = None
    turn_start: int | None = None
    turn_end: int | None = None
    turn_line_start: int | None = None
    turn_line_end: int | None = None

    @property
    def decision(self) -> str:
        """What became of it, as a reviewer says it: 'pending', 'accepted', 'rejected',
        'recoded' (rejected with a coding of another code made from its span) or 'retired'."""
        if self.status == "suggested":
            return "pending"
        if self.status == "rejected" and self.coding_id is not None:
            return "recoded"
        return self.status

    @classmethod
    def from_row(cls, row: Any) -> "Suggestion":
        keys = set(row.keys())  # a set: read for every suggestion of a transcript when rta read redraws
        data = {k: row[k] for k in cls.__dataclass_fields__ if k in keys and k != "evidence"}
        data["evidence"] = json.loads(row["evidence"] or "[]")
        return cls(**data)


_SELECT = (
    "SELECT s.*, t.speaker, t.informant, t.role, t.grp AS 'group', t.start AS turn_start, t.end AS turn_end, "
    "t.line_start AS turn_line_start, t.line_end AS turn_line_end FROM suggestions s "
    "LEFT JOIN turns t ON t.transcript_id = s.transcript_id AND t.revision = s.revision AND t.n = s.turn_n"
)


def get_suggestion(store: Store, suggestion_id: int) -> Suggestion:
    """One suggestion by id; an RtaError naming the id when there is none."""
    row = store.conn.execute(_SELECT + " WHERE s.id = ?", (suggestion_id,)).fetchone()
    if row is None:
        raise RtaError(f"no suggestion with id {suggestion_id}", hint="see 'rta export suggestions' or run 'rta review'")
    return Suggestion.from_row(row)


def list_suggestions(store: Store, status: str | None = "suggested", code: str | None = None,
                     transcript: str | None = None, min_score: float | None = None) -> list[Suggestion]:
    """Suggestions in review order: transcript, position, best score first."""
    sql = _SELECT + " WHERE 1=1"
    args: list[Any] = []
    if status:
        sql += " AND s.status = ?"
        args.append(status)
    if code:
        sql += " AND s.code = ?"
        args.append(code)
    if transcript:
        sql += " AND s.transcript_id = ?"
        args.append(transcript)
    if min_score is not None:
        sql += " AND s.score >= ?"
        args.append(min_score)
    sql += " ORDER BY s.transcript_id, s.start, s.score DESC, s.id"
    return [Suggestion.from_row(r) for r in store.conn.execute(sql, args)]


def _pending(store: Store, suggestion_id: int) -> Suggestion:
    sug = get_suggestion(store, suggestion_id)
    if sug.status != "suggested":
        raise RtaError(
            f"suggestion {suggestion_id} is already {sug.status} (by {sug.decided_by or 'someone'})",
            hint="undo that decision first ('u' in rta review), or pick another id",
        )
    return sug


def latest_memo(store: Store, suggestion_id: int) -> str | None:
    """The last memo written on a suggestion during review and not withdrawn by an undo
    (carried into its coding)."""
    row = store.conn.execute(
        "SELECT seq, payload FROM events WHERE kind = 'suggestion.memo' AND json_extract(payload, '$.suggestion') = ? "
        "AND seq NOT IN (SELECT json_extract(payload, '$.undoes') FROM events WHERE kind = 'suggestion.undone') "
        "ORDER BY seq DESC LIMIT 1", (suggestion_id,)).fetchone()
    if row is None:
        return None
    return store.event_text(row["seq"], "text") or json.loads(row["payload"]).get("text") or None


class StaleSuggestion(RtaError):
    """A suggestion made on a revision of its transcript that a newer revision replaced."""


def refuse_stale(store: Store, sug: Suggestion) -> None:
    """:class:`StaleSuggestion` when ``sug`` was made on a revision that is no longer its
    transcript's current one: coding it would code words the transcript no longer has (after
    'rta anonymise apply': the real names). Storing a revision moves or retires pending
    suggestions (:func:`rta.anchor.reanchor_suggestions`); this catches any left over."""
    row = store.transcript_row(sug.transcript_id)
    current = int(row["revision"]) if row is not None else None
    if current != sug.revision:
        raise StaleSuggestion(
            f"suggestion {sug.id} was made on revision {sug.revision} of '{sug.transcript_id}', which revision "
            f"{current} has replaced; it cannot be accepted",
            hint="run 'rta suggest' again: it moves pending suggestions to the current text or retires them "
                 "(or reject this one)")


def _code_or_link(store: Store, sug: Suggestion, code: str, coder: str, codebook_version: int,
                  memo: str | None) -> tuple[int, bool]:
    """The coding a decision on ``sug`` with ``code`` stands for: an active coding of the same
    passage with that code when there is one (linked, never a second coding of the same words:
    :func:`rta.coding.covering_coding`), else a new coding of the suggestion's span. Refused
    for a suggestion on a superseded revision (:func:`refuse_stale`)."""
    refuse_stale(store, sug)
    existing = covering_coding(store, sug.transcript_id, sug.revision, code, sug.start, sug.end)
    if existing is not None:
        return existing, True
    return create_coding(store, sug.transcript_id, sug.start, sug.end, code, coder, codebook_version,
                         origin="suggested", suggestion_id=sug.id, memo=memo, revision=sug.revision), False


def evidence_names(evidence: list[dict[str, Any]]) -> list[str]:
    """What produced a suggestion, short, for the decision's log entry: ``method: indicator``
    per item, the learned model with its version and probability."""
    out = []
    for e in evidence:
        if e.get("method") == "learned":
            out.append(f"learned: {e.get('model')} p={e.get('probability')}")
        else:
            out.append(f"{e.get('method')}: {e.get('indicator')}")
    return out


def evidence_text(evidence: list[dict[str, Any]], short: bool = False) -> str:
    """What produced a suggestion, for a person reviewing it: ``token ~ indicator (method)``
    per item, the learned model with its probability. ``short`` (a narrow pane): each distinct
    matched word once, and ``learned p=..`` for the model. Plain text: the caller escapes it
    for its medium (transcript words are untrusted)."""
    parts: list[str] = []
    for e in evidence:
        if e.get("method") == "learned":
            part = (f"learned p={e.get('probability')}" if short else
                    f"learned from the project's decisions p={e.get('probability')} ({e.get('model')})")
        else:
            part = str(e.get("token")) if short else f"{e.get('token')} ~ {e.get('indicator')} ({e.get('method')})"
        if not (short and part in parts):
            parts.append(part)
    return ", ".join(parts) if short else "; ".join(parts)


def accept(store: Store, suggestion_id: int, coder: str, codebook_version: int, memo: str | None = None) -> int:
    """Accept a suggestion: create its coding (origin 'suggested') and mark it accepted; when
    the passage is already coded with the code, link the suggestion to that coding instead
    (``linked`` in the event). Returns the coding id. Must run inside a transaction."""
    sug = _pending(store, suggestion_id)
    memo = memo or latest_memo(store, suggestion_id)
    coding_id, linked = _code_or_link(store, sug, sug.code, coder, codebook_version, memo)
    store.conn.execute(
        "UPDATE suggestions SET status='accepted', decided_by=?, decided_at=?, coding_id=? WHERE id=?",
        (coder, now(), coding_id, sug.id))
    store.log_event("suggestion.accepted", {"suggestion": sug.id, "code": sug.code, "coding": coding_id,
                                             "score": sug.score, "method": sug.method,
                                             "evidence": evidence_names(sug.evidence),
                                             **({"linked": True} if linked else {})}, coder)
    return coding_id


def reject(store: Store, suggestion_id: int, coder: str, reason: str | None = None) -> None:
    """Reject a suggestion (it stays in the store, so a re-run never proposes it again)."""
    sug = _pending(store, suggestion_id)
    store.conn.execute("UPDATE suggestions SET status='rejected', decided_by=?, decided_at=? WHERE id=?",
                       (coder, now(), sug.id))
    store.log_event("suggestion.rejected", {"suggestion": sug.id, "code": sug.code, "reason": reason,
                                             "score": sug.score, "method": sug.method,
                                             "evidence": evidence_names(sug.evidence)}, coder)


def skip(store: Store, suggestion_id: int, coder: str) -> None:
    """Leave a suggestion for later (logged so the review session can be reconstructed)."""
    sug = get_suggestion(store, suggestion_id)
    store.log_event("suggestion.skipped", {"suggestion": sug.id, "code": sug.code}, coder)


def recode(store: Store, suggestion_id: int, new_code: str, coder: str, codebook_version: int) -> int:
    """Right passage, other code: reject the suggested code and code the span with
    ``new_code`` (a coding with origin 'suggested' linked to the suggestion)."""
    sug = _pending(store, suggestion_id)
    new_code = check_code(store, codebook_version, new_code)
    if new_code == sug.code:
        return accept(store, suggestion_id, coder, codebook_version)
    memo = latest_memo(store, suggestion_id)
    coding_id, linked = _code_or_link(store, sug, new_code, coder, codebook_version, memo)
    store.conn.execute(
        "UPDATE suggestions SET status='rejected', decided_by=?, decided_at=?, coding_id=? WHERE id=?",
        (coder, now(), coding_id, sug.id))
    store.log_event("suggestion.recoded", {"suggestion": sug.id, "from": sug.code, "to": new_code,
                                            "coding": coding_id, **({"linked": True} if linked else {})}, coder)
    return coding_id


def sentence_bounds(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]`` (a turn) as absolute spans, trimmed of spaces."""
    spans = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < end:
        spans.append((pos, end))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def change_span(store: Store, suggestion_id: int, coder: str, direction: str) -> tuple[int, int]:
    """Widen (one more sentence each side, within the turn) or narrow (one sentence less at
    each end, at least one kept) a pending suggestion's span. Returns the new span."""
    if direction not in ("widen", "narrow"):
        raise ValueError(direction)
    sug = _pending(store, suggestion_id)
    text = store.transcript_text(sug.transcript_id, sug.revision)
    t0 = sug.turn_start if sug.turn_start is not None else sug.start
    t1 = sug.turn_end if sug.turn_end is not None else sug.end
    sents = sentence_bounds(text, t0, t1)
    inside = [i for i, (a, b) in enumerate(sents) if a < sug.end and sug.start < b]
    if not inside:
        return sug.start, sug.end
    first, last = inside[0], inside[-1]
    if direction == "widen":
        first, last = max(0, first - 1), min(len(sents) - 1, last + 1)
    elif last > first:
        if last - first >= 2:
            first, last = first + 1, last - 1
        else:
            last -= 1
    start, end = sents[first][0], sents[last][1]
    if (start, end) == (sug.start, sug.end):
        return start, end
    clash = store.conn.execute(
        "SELECT id FROM suggestions WHERE transcript_id=? AND revision=? AND start=? AND end=? AND code=? AND method=? AND id != ?",
        (sug.transcript_id, sug.revision, start, end, sug.code, sug.method, sug.id)).fetchone()
    if clash:
        raise RtaError(f"suggestion {clash['id']} already proposes {sug.code} for that span",
                       hint=f"review suggestion {clash['id']} instead")
    line_start = text.count("\n", 0, start) + 1
    line_end = line_start + text.count("\n", start, max(start, end - 1))
    store.conn.execute("UPDATE suggestions SET start=?, end=?, line_start=?, line_end=? WHERE id=?",
                       (start, end, line_start, line_end, sug.id))
    store.log_event("suggestion.span_changed", {
        "suggestion": sug.id, "direction": direction, "old": [sug.start, sug.end, sug.line_start, sug.line_end],
        "new": [start, end, line_start, line_end]}, coder)
    return start, end


def add_memo(store: Store, suggestion_id: int, text: str, coder: str) -> None:
    """A memo on a suggestion: logged now, and carried into the coding if it is accepted."""
    sug = get_suggestion(store, suggestion_id)
    text = text.strip()
    if not text:
        raise RtaError("empty memo", hint="write a sentence about why, or press Enter to cancel")
    store.log_event("suggestion.memo", {"suggestion": sug.id, "text": text}, coder)


def _undone(store: Store) -> set[int]:
    return {int(json.loads(r["payload"])["undoes"]) for r in store.conn.execute(
        "SELECT payload FROM events WHERE kind = 'suggestion.undone'")}


def undo_last(store: Store, coder: str) -> dict[str, Any] | None:
    """Undo this coder's last review decision not yet undone: an accepted or recoded
    suggestion's coding is removed (a status change, never a deletion) and the suggestion is
    pending again; a rejection is lifted; a span change is reversed; a memo is withdrawn.
    Returns the undone event's payload, or None when there is nothing to undo."""
    undone = _undone(store)
    placeholders = ",".join("?" for _ in UNDOABLE)
    rows = store.conn.execute(
        f"SELECT seq, kind, payload FROM events WHERE coder = ? AND kind IN ({placeholders}) ORDER BY seq DESC",
        (coder, *UNDOABLE)).fetchall()
    for row in rows:
        if row["seq"] in undone:
            continue
        payload = json.loads(row["payload"])
        sid = int(payload["suggestion"])
        kind = row["kind"]
        if kind in ("suggestion.accepted", "suggestion.recoded"):
            coding = payload.get("coding")
            if coding is not None and not payload.get("linked"):  # a linked coding was there before: it stays
                status = store.conn.execute("SELECT status FROM codings WHERE id=?", (coding,)).fetchone()
                if status and status["status"] == "active":
                    uncode(store, int(coding), coder, reason=f"undo of review decision (event {row['seq']})")
            store.conn.execute(
                "UPDATE suggestions SET status='suggested', decided_by=NULL, decided_at=NULL, coding_id=NULL WHERE id=?", (sid,))
        elif kind == "suggestion.rejected":
            store.conn.execute(
                "UPDATE suggestions SET status='suggested', decided_by=NULL, decided_at=NULL WHERE id=?", (sid,))
        elif kind == "suggestion.span_changed":
            start, end, ls, le = payload["old"]
            store.conn.execute("UPDATE suggestions SET start=?, end=?, line_start=?, line_end=? WHERE id=?",
                               (start, end, ls, le, sid))
        elif kind == "suggestion.memo":
            pass  # the memo event stays in the log; the undo event marks it withdrawn
        store.log_event("suggestion.undone", {"undoes": row["seq"], "kind": kind, "suggestion": sid}, coder)
        return {"kind": kind, **payload}
    return None


def accept_above(store: Store, threshold: float, coder: str, codebook_version: int, code: str | None = None) -> list[int]:
    """Accept every pending suggestion scoring at least ``threshold`` (optionally one code)."""
    if not (0.0 <= threshold <= 1.0):
        raise RtaError(f"--accept-above must be between 0 and 1, got {threshold}")
    accepted = []
    for sug in list_suggestions(store, "suggested", code=code, min_score=threshold):
        accepted.append(accept(store, sug.id, coder, codebook_version))
    return accepted


def context_lines(store: Store, sug: Suggestion, width: int = 100) -> list[str]:
    """The suggestion inside its turn, the suggested span between [[ ]], for the terminal."""
    text = store.transcript_text(sug.transcript_id, sug.revision)
    t0 = sug.turn_start if sug.turn_start is not None else sug.start
    t1 = sug.turn_end if sug.turn_end is not None else sug.end
    before, span, after = text[t0:sug.start], text[sug.start:sug.end], text[sug.end:t1]
    if len(before) > 300:
        before = "..." + before[-300:]
    if len(after) > 300:
        after = after[:300] + "..."
    return (before + "[[" + span + "]]" + after).splitlines()


@dataclass
class PassageView:
    """The suggestions one passage holds (its ranked codes, whatever their status) and the
    themes they imply, best first (rta.passages.themes_ranked)."""

    transcript_id: str
    revision: int
    start: int
    end: int
    codes: list[Suggestion]
    themes: list[tuple[str, float]]

    @property
    def key(self) -> str:
        return f"{self.transcript_id}@{self.revision}:{self.start}-{self.end}"

    @property
    def pending(self) -> list[Suggestion]:
        """Its codes still to decide, best first."""
        return [s for s in self.codes if s.status == "suggested"]


def themes_for(store: Store, codebook: Any = None) -> dict[str, list[str]]:
    """Code -> themes: the project's (rta.coding.theme_map), else the codebook's membership."""
    from rta.coding import theme_map

    themes = theme_map(store)
    if not themes and codebook is not None:
        themes = {c.name: codebook.themes_of(c.name) for c in codebook.codes}
    return themes


def passage_views(store: Store, suggestions: list[Suggestion] | None = None,
                  themes_of: dict[str, list[str]] | None = None) -> dict[tuple[str, int, int, int], PassageView]:
    """Passages of ``suggestions`` (default: all), each with every suggestion on the same span
    (retired ones left out), ranked by score, and its themes. ``themes_of``: code -> themes
    (default: the project's, rta.coding.theme_map)."""
    wanted = None if suggestions is None else {(s.transcript_id, s.revision, s.start, s.end) for s in suggestions}
    transcripts = {k[0] for k in wanted} if wanted is not None else set()
    one = next(iter(transcripts)) if len(transcripts) == 1 else None  # one transcript: read only its rows
    rows = list_suggestions(store, None, transcript=one)
    if wanted is not None:
        rows = [s for s in rows if (s.transcript_id, s.revision, s.start, s.end) in wanted]
    return _group(store, rows, themes_of)


def passage_view(store: Store, transcript_id: str, revision: int, start: int, end: int,
                 themes_of: dict[str, list[str]] | None = None) -> PassageView | None:
    """One passage, as :func:`passage_views` gives it: every suggestion on exactly this span of
    the revision (decided ones too, retired ones left out), ranked, with its themes. For
    ``rta read``, which shows one passage at a time and must not read a whole transcript's
    suggestions for it. None when no suggestion has that span."""
    rows = [Suggestion.from_row(r) for r in store.conn.execute(
        _SELECT + " WHERE s.transcript_id = ? AND s.revision = ? AND s.start = ? AND s.end = ?",
        (transcript_id, revision, start, end))]
    return _group(store, rows, themes_of).get((transcript_id, revision, start, end))


def ranked_groups(items: Iterable[T], key: Callable[[T], Any]) -> dict[Any, list[T]]:
    """``items`` (suggestions, or anything with a ``score`` and an ``id``) grouped by ``key``
    (their passage), each group's codes best first: by score, then in the order they were
    stored. The one ranking rule of a passage's codes, for ``rta review`` and ``rta read``."""
    groups: dict[Any, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    for group in groups.values():
        group.sort(key=lambda s: (-s.score, s.id))
    return groups


def _group(store: Store, rows: list[Suggestion],
           themes_of: dict[str, list[str]] | None) -> dict[tuple[str, int, int, int], PassageView]:
    """``rows`` grouped by span (retired ones left out), each passage's codes ranked by score
    and its themes ranked (rta.passages.themes_ranked)."""
    from rta.coding import theme_map
    from rta.passages import themes_ranked

    if themes_of is None:
        themes_of = theme_map(store)
    groups = ranked_groups((s for s in rows if s.status != "retired"),
                           key=lambda s: (s.transcript_id, s.revision, s.start, s.end))
    return {key: PassageView(*key, group, themes_ranked([(s.code, s.score) for s in group], themes_of))
            for key, group in groups.items()}
