"""Purge: replace the text of revisions older than the pseudonymised one with its pseudonymised
form, so a project can be shared without the original names inside.

``rta anonymise apply`` stores the pseudonymised text as a *new* revision; the older revisions
keep the real names (codings and the audit need them). :func:`purge_project`, given the key
``apply`` wrote, rewrites every revision older than a transcript's latest pseudonymised one:

1. the key is checked first: for every pseudonymised revision it must restore the text of the
   revision before it (so a wrong or outdated key is refused before anything changes);
2. active codings and pending suggestions still on an old revision are re-anchored to the
   current revision (:mod:`rta.anchor`), as a new revision does;
3. each old revision's text gets every keyed original (inside its turns, as ``apply`` does)
   replaced by its placeholder; its turns, and the codings and suggestions left on it (removed,
   orphaned, retired, decided ones: history), are moved to the same words in the new text;
4. each rewritten revision is logged as a ``text.redacted`` event (:mod:`rta.redact`)::

       {"table": "transcript_revisions", "id": [TRANSCRIPT, REVISION], "field": "text",
        "old_sha256": ..., "new_sha256": ..., "reason": "anonymise-purge",
        "turns_sha256": <sha256 of the revision's new turn rows, see turns_digest>,
        "edits": [[start, end, new length], ...]   (the replaced spans of the old text: offsets only),
        "codings": [{"coding": ID, "old": [start, end], "new": [start, end], "quote_sha256": ...}, ...],
        "suggestions": [{"suggestion": ID, "old": [start, end, line_start, line_end],
                         "new": [start, end, line_start, line_end]}, ...]}

   so the audit's replay can accept the new text, turns and spans; an orphaned coding whose
   recorded candidate spans point into a rewritten revision gets them moved too, logged as
   ``coding.candidates_moved`` (``{"coding", "revision", "candidates": [[start, end,
   line_start, line_end], ...], "old_sha256", "new_sha256"}`` of the JSON it had and has);
5. after the commit the store is VACUUMed and its write-ahead log truncated, so no deleted page
   of the database file (or its -wal) keeps the old text.

What purge does not reach: reports and exports written before (rebuild them), and free text a
log written by an older rta holds in its payloads.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rta.errors import RtaError
from rta.fsutil import sha256_text
from rta.store import Store, canonical_json

if TYPE_CHECKING:  # pragma: no cover
    from rta.pseudonyms import Key
    from rta.project import Project

REASON = "anonymise-purge"

Edit = tuple[int, int, str]  # start, end (in the old text), replacement


@dataclass
class PurgedRevision:
    """One rewritten revision: how many names were replaced and what moved with it."""

    transcript: str
    revision: int
    replacements: int
    codings: int
    suggestions: int
    event: int


@dataclass
class PurgeResult:
    """What :func:`purge_project` did."""

    revisions: list[PurgedRevision] = field(default_factory=list)
    reanchored: int = 0  # active codings moved from an old revision to the current one
    unchanged: int = 0  # old revisions that held no keyed original (already purged, or none)
    skipped: list[str] = field(default_factory=list)  # transcripts never pseudonymised


def pseudonymised_form(text: str, regions: Sequence[tuple[int, int]], key: "Key") -> tuple[str, list[Edit]]:
    """``text`` with every keyed original inside ``regions`` (whole words, same spelling; a
    line break may stand for a space) replaced by its placeholder, as ``rta anonymise apply``
    replaces them; placeholders and other bracketed text are left alone. Returns the new text
    and the edits made, in order."""
    from rta.pseudonyms import keyed_occurrences

    by_original = {e.original: e for e in key.entries}
    found = keyed_occurrences(text, regions, by_original)
    edits: list[Edit] = sorted((s, e, entry.placeholder) for s, e, entry in found)
    out, pos = [], 0
    for s, e, placeholder in edits:
        out.append(text[pos:s])
        out.append(placeholder)
        pos = e
    out.append(text[pos:])
    return "".join(out), edits


class OffsetMap:
    """Where an offset of the old text stands in the new one. An offset inside a replaced
    name moves to the start of its placeholder (for a span's start) or to its end (for a
    span's end), so a span never loses the words it had. Built from the edits, or from their
    logged form ``[start, end, new length]`` (:func:`purge_maps`)."""

    def __init__(self, edits: Sequence[Edit] | Sequence[Sequence[int]]) -> None:
        self.edits = [(int(s), int(e), len(rep) if isinstance(rep, str) else int(rep)) for s, e, rep in edits]
        self.starts = [s for s, _, _ in self.edits]
        self.shift: list[int] = []  # total length change of edits[0..i]
        total = 0
        for s, e, n in self.edits:
            total += n - (e - s)
            self.shift.append(total)

    def logged(self) -> list[list[int]]:
        """The edits as a purge event records them: ``[start, end, new length]``."""
        return [[s, e, n] for s, e, n in self.edits]

    def __call__(self, pos: int, is_end: bool = False) -> int:
        i = bisect_right(self.starts, pos) - 1  # the last edit starting at or before pos
        if i < 0:
            return pos
        s, e, n = self.edits[i]
        before = self.shift[i - 1] if i else 0
        if pos == s:
            return pos + before
        if pos < e:  # inside a replaced original
            return s + before + (n if is_end else 0)
        return pos + self.shift[i]


def purge_maps(store: Store) -> dict[tuple[str, int], OffsetMap]:
    """(transcript, revision) -> where its old offsets stand now, for every revision a purge
    rewrote (from the 'edits' of its 'text.redacted' events). The audit uses it for values
    logged against the old text, e.g. where a suggestion was first inserted."""
    out: dict[tuple[str, int], OffsetMap] = {}
    for (raw,) in store.conn.execute(
            "SELECT payload FROM events WHERE kind = 'text.redacted' "
            "AND json_extract(payload, '$.table') = 'transcript_revisions' AND json_extract(payload, '$.edits') "
            "IS NOT NULL ORDER BY seq"):
        try:
            p = json.loads(raw)
            key = (str(p["id"][0]), int(p["id"][1]))
            out[key] = OffsetMap(p["edits"]) if key not in out else _chain(out[key], OffsetMap(p["edits"]))
        except (ValueError, KeyError, TypeError, IndexError):
            continue
    return out


class _chain(OffsetMap):
    """Two purges of one revision, one after the other."""

    def __init__(self, first: OffsetMap, second: OffsetMap) -> None:  # noqa: D107
        self.first, self.second = first, second

    def __call__(self, pos: int, is_end: bool = False) -> int:
        return self.second(self.first(pos, is_end), is_end)


def _lines(starts: list[int], start: int, end: int) -> tuple[int, int]:
    return bisect_right(starts, start), bisect_right(starts, max(start, end - 1))


def _line_starts(text: str) -> list[int]:
    return [0, *(i + 1 for i, ch in enumerate(text) if ch == "\n")]


TURN_COLUMNS = ("n", "speaker", "informant", "role", "grp", "start", "end", "line_start", "line_end", "timestamp",
                "words")


def turns_digest(rows: Sequence[Any]) -> str:
    """sha256 of a revision's turn rows (:data:`TURN_COLUMNS`, in turn order) as canonical
    JSON, as :func:`rta.rowhash.turns_sha256` computes it: what a purge event records as
    ``turns_sha256``."""
    ordered = sorted(([r[c] for c in TURN_COLUMNS] for r in rows), key=lambda row: row[0])
    return sha256_text(canonical_json(ordered))


def pseudonymised_revisions(store: Store) -> dict[str, list[int]]:
    """Transcript id -> the revisions 'rta anonymise apply' stored (from its logged events)."""
    applied: dict[str, list[int]] = {}
    for tid, rev in store.conn.execute(
            "SELECT json_extract(payload, '$.transcript'), json_extract(payload, '$.revision') FROM events "
            "WHERE kind = 'anonymise.applied' ORDER BY seq"):
        if isinstance(tid, str) and isinstance(rev, int):
            applied.setdefault(tid, []).append(rev)
    return applied


def purged_revisions(store: Store) -> set[tuple[str, int]]:
    """(transcript, revision) of every revision a purge rewrote (its 'text.redacted' events)."""
    out = set()
    for (raw,) in store.conn.execute(
            "SELECT json_extract(payload, '$.id') FROM events WHERE kind = 'text.redacted' "
            "AND json_extract(payload, '$.table') = 'transcript_revisions'"):
        try:
            tid, rev = json.loads(raw)
        except (TypeError, ValueError):
            continue
        out.add((str(tid), int(rev)))
    return out


def _normal(text: str) -> str:
    return " ".join(text.split())


def check_key(store: Store, key: "Key", applied: dict[str, list[int]], key_path: str | Path) -> None:
    """RtaError unless ``key`` restores, for every pseudonymised revision, the text of the
    revision before it (line breaks and spacing aside): the key that pseudonymised this
    project, in its newest form."""
    from rta.pseudonyms import reverse

    for tid, revisions in sorted(applied.items()):
        for rev in revisions:
            if rev <= 1:
                continue
            try:
                after = store.transcript_text(tid, rev)
                before = store.transcript_text(tid, rev - 1)
            except RtaError:
                continue
            if _normal(reverse(after, key, tid)) != _normal(reverse(before, key, tid)):
                raise RtaError(
                    f"the key does not match this project: it does not turn revision {rev} of '{tid}' "
                    f"(pseudonymised) back into revision {rev - 1}",
                    path=key_path,
                    hint="give the key file 'rta anonymise apply' wrote for this project, in its newest copy "
                         "(every apply extends it); nothing was changed")


def purge_project(project: "Project", key_path: str | Path, coder: str | None = None,
                  vacuum: bool = True) -> PurgeResult:
    """Rewrite every revision older than each transcript's latest pseudonymised one into its
    pseudonymised form (see the module docstring), in one transaction, then VACUUM. Refused
    (nothing changed) when the project was never pseudonymised or the key does not match."""
    from rta.pseudonyms import key_outside_project, load_key

    resolved = key_outside_project(key_path, project.root)
    key = load_key(resolved)
    store = project.store
    applied = pseudonymised_revisions(store)
    if not applied:
        raise RtaError("this project was never pseudonymised: there is no 'rta anonymise apply' in its log",
                       hint="run 'rta anonymise apply --key FILE' first; purge then removes the original text "
                            "of the older revisions")
    check_key(store, key, applied, key_path)
    who = project.coder(coder)
    result = PurgeResult()
    result.skipped = sorted(r[0] for r in store.conn.execute("SELECT id FROM transcripts") if r[0] not in applied)
    store.conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left with the text
    try:
        with store.transaction():
            maps: dict[tuple[str, int], tuple[OffsetMap, str]] = {}
            for tid in sorted(applied):
                latest = max(applied[tid])
                for rev in [r[0] for r in store.conn.execute(
                        "SELECT revision FROM transcript_revisions WHERE transcript_id = ? AND revision < ? "
                        "ORDER BY revision", (tid, latest))]:
                    done = _purge_revision(store, tid, rev, key, who, result)
                    if done is not None:
                        maps[(tid, rev)] = done
            _move_candidates(store, maps, who)
    finally:
        store.conn.execute("PRAGMA secure_delete = OFF")
    if vacuum and result.revisions:
        compact(store)
    return result


def _purge_revision(store: Store, tid: str, rev: int, key: "Key", coder: str,
                    result: PurgeResult) -> tuple[OffsetMap, str] | None:
    from rta.anchor import reanchor_codings
    from rta.redact import log_redaction

    old_text = store.transcript_text(tid, rev)
    turns = store.conn.execute("SELECT * FROM turns WHERE transcript_id = ? AND revision = ? ORDER BY n",
                               (tid, rev)).fetchall()
    new_text, edits = pseudonymised_form(old_text, [(t["start"], t["end"]) for t in turns], key)
    if not edits:
        result.unchanged += 1
        return None
    current = int(store.transcript_row(tid)["revision"])
    if store.conn.execute("SELECT 1 FROM codings WHERE transcript_id = ? AND revision = ? AND status = 'active'",
                          (tid, rev)).fetchone():
        result.reanchored += len(reanchor_codings(store, tid, rev, current, coder))
    try:
        from rta.anchor import reanchor_suggestions
    except ImportError:  # pragma: no cover - an rta without suggestion re-anchoring
        pass
    else:
        reanchor_suggestions(store, tid, coder)
    move = OffsetMap(edits)
    starts = _line_starts(new_text)
    store.conn.execute("UPDATE transcript_revisions SET text = ?, sha256 = ? WHERE transcript_id = ? AND revision = ?",
                       (new_text, sha256_text(new_text), tid, rev))
    for t in turns:
        s, e = move(t["start"]), move(t["end"], True)
        ls, le = _lines(starts, s, e)
        store.conn.execute("UPDATE turns SET start = ?, end = ?, line_start = ?, line_end = ?, words = ? "
                           "WHERE transcript_id = ? AND revision = ? AND n = ?",
                           (s, e, ls, le, len(new_text[s:e].split()), tid, rev, t["n"]))
    codings = []
    for c in store.conn.execute("SELECT id, start, end FROM codings WHERE transcript_id = ? AND revision = ? "
                                "ORDER BY id", (tid, rev)).fetchall():
        s, e = move(c["start"]), move(c["end"], True)
        ls, le = _lines(starts, s, e)
        digest = sha256_text(new_text[s:e])
        store.conn.execute("UPDATE codings SET start = ?, end = ?, line_start = ?, line_end = ?, quote_sha256 = ? "
                           "WHERE id = ?", (s, e, ls, le, digest, c["id"]))
        codings.append({"coding": c["id"], "old": [c["start"], c["end"]], "new": [s, e], "quote_sha256": digest})
    suggestions = []
    for g in store.conn.execute("SELECT id, start, end, line_start, line_end FROM suggestions "
                                "WHERE transcript_id = ? AND revision = ? ORDER BY id", (tid, rev)).fetchall():
        s, e = move(g["start"]), move(g["end"], True)
        ls, le = _lines(starts, s, e)
        store.conn.execute("UPDATE suggestions SET start = ?, end = ?, line_start = ?, line_end = ? WHERE id = ?",
                           (s, e, ls, le, g["id"]))
        suggestions.append({"suggestion": g["id"], "old": [g["start"], g["end"], g["line_start"], g["line_end"]],
                            "new": [s, e, ls, le]})
    new_turns = store.conn.execute("SELECT * FROM turns WHERE transcript_id = ? AND revision = ? ORDER BY n",
                                   (tid, rev)).fetchall()
    done = log_redaction(store, "transcript_revisions", [tid, rev], "text", old_text, new_text, coder, REASON, {
        "turns_sha256": turns_digest(new_turns), "edits": move.logged(), "codings": codings,
        "suggestions": suggestions})
    result.revisions.append(PurgedRevision(tid, rev, len(edits), len(codings), len(suggestions), done.event))
    return move, new_text


def _move_candidates(store: Store, maps: dict[tuple[str, int], tuple[OffsetMap, str]], coder: str) -> None:
    """The candidate spans recorded for orphaned codings point into a revision: when purge
    rewrote that revision, they move (and show) the new text; logged as
    'coding.candidates_moved' with the hashes of the JSON before and after."""
    if not maps:
        return
    for row in store.conn.execute("SELECT id, transcript_id, anchor_candidates FROM codings "
                                  "WHERE anchor_candidates IS NOT NULL ORDER BY id").fetchall():
        try:
            data = json.loads(row["anchor_candidates"])
        except ValueError:
            continue
        found = maps.get((row["transcript_id"], data.get("revision"))) if isinstance(data, dict) else None
        if found is None:
            continue
        move, new_text = found
        starts = _line_starts(new_text)
        moved = []
        for c in data.get("candidates", []):
            s, e = move(c["start"]), move(c["end"], True)
            ls, le = _lines(starts, s, e)
            c.update(start=s, end=e, line_start=ls, line_end=le, text=new_text[s:e])
            moved.append([s, e, ls, le])
        old = row["anchor_candidates"]
        new = json.dumps(data, ensure_ascii=False)
        if new == old:
            continue
        store.conn.execute("UPDATE codings SET anchor_candidates = ? WHERE id = ?", (new, row["id"]))
        store.log_event("coding.candidates_moved", {
            "coding": row["id"], "revision": data.get("revision"), "candidates": moved,
            "old_sha256": sha256_text(old), "new_sha256": sha256_text(new)}, coder)


def compact(store: Store) -> None:
    """VACUUM the store and truncate its write-ahead log, so pages that held replaced text are
    gone from rta.db and rta.db-wal (outside any transaction)."""
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.conn.execute("VACUUM")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
