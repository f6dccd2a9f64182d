"""Merging suggestion batches and the decisions on them from another copy (:mod:`rta.merge`)."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any


from rta.copies import MERGED, identity
from rta.rowhash import SUGGESTION_COLUMNS
from rta.store import Store


if TYPE_CHECKING:
    from rta.merge import _Event


class SuggestionMerging:
    """The ``suggestion*`` handlers of :class:`rta.merge._Merger` (a mixin). A batch that
    'rta suggest' inserted there is inserted here as it was inserted (the suggestions this
    project already has, same span, code and method, are matched instead), so its logged row
    hash holds here too; each decision follows."""

    def _suggestions_generated(self, e: _Event) -> None:
        from rta.rowhash import suggestion_rows_hashes

        p = e.p
        ids = p.get("ids")
        if not (isinstance(ids, list) and len(ids) == 2):
            self._absorb(e)
            return
        first, last = ids
        offsets = (p.get(MERGED) or {}).get("offsets") or list(range(last - first + 1))
        inserted = _inserted_suggestions(self.other, first, last)
        conn = self.store.conn
        next_id = (conn.execute("SELECT MAX(id) FROM suggestions").fetchone()[0] or 0) + 1
        rows, kept = [], []
        for i, sid in enumerate(range(first, last + 1)):
            row = inserted.get(sid)
            if row is None:
                continue
            rev = self.rev_map.get((row[1], row[2]))
            if rev is None:
                continue
            same = conn.execute("SELECT id FROM suggestions WHERE transcript_id = ? AND revision = ? AND start = ? "
                                "AND end = ? AND code = ? AND method = ?",
                                (row[1], rev, row[4], row[5], row[8], row[10])).fetchone()
            if same is not None:
                self.sug_map[sid] = int(same[0])
                continue
            new = [next_id + len(rows), row[1], rev, *row[3:]]
            rows.append(new)
            kept.append(offsets[i])
            self.sug_map[sid] = new[0]
        if not rows:
            self._absorb(e)
            return
        cols = ", ".join(f'"{c}"' for c in SUGGESTION_COLUMNS)
        conn.executemany(f"INSERT INTO suggestions({cols}) VALUES ({','.join('?' * len(SUGGESTION_COLUMNS))})", rows)
        rows_sha, digests = suggestion_rows_hashes(rows)
        payload = {**p, "ids": [rows[0][0], rows[-1][0]], "rows_sha256": rows_sha, "row_digests": digests}
        self._log(e, payload, origin={"offsets": kept} if len(kept) != len(offsets) or kept != offsets else None)

    def _suggestion(self, e: _Event) -> sqlite3.Row | None:
        sid = self.sug_map.get(e.p.get("suggestion"))
        if sid is None:
            sid = self._same_suggestion(e.p.get("suggestion"))
        row = self.store.conn.execute("SELECT * FROM suggestions WHERE id = ?", (sid,)).fetchone() if sid else None
        if row is None:
            self._note("decisions on suggestions that did not come along were not merged")
        return row

    def _same_suggestion(self, osid: Any) -> int | None:
        o = self.other.conn.execute("SELECT * FROM suggestions WHERE id = ?", (osid,)).fetchone() \
            if isinstance(osid, int) else None
        if o is None:
            return None
        rev = self.rev_map.get((o["transcript_id"], o["revision"]))
        same = self.store.conn.execute(
            "SELECT id FROM suggestions WHERE transcript_id = ? AND revision = ? AND start = ? AND end = ? AND "
            "code = ? AND method = ?", (o["transcript_id"], rev, o["start"], o["end"], o["code"], o["method"])
        ).fetchone() if rev is not None else None
        if same is not None:
            self.sug_map[osid] = int(same[0])
            return int(same[0])
        return None

    def _suggestion_decided(self, e: _Event) -> None:
        p = e.p
        row = self._suggestion(e)
        if row is None:
            return
        status = {"suggestion.accepted": "accepted", "suggestion.rejected": "rejected",
                  "suggestion.recoded": "rejected"}[e.kind]
        coding = self.coding_map.get(p.get("coding")) if p.get("coding") is not None else None
        if row["status"] != "suggested":
            if row["status"] != status:
                self._note(f"suggestion {row['id']}: {row['status']} here by {row['decided_by']}, {status} there by "
                           f"{e.coder}; each decision's coding came along, the suggestion keeps this project's")
            self._absorb(e)
            return
        if e.kind != "suggestion.rejected" and p.get("coding") is not None and coding is None:
            self._note("decisions on suggestions whose coding did not come along were not merged")
            return
        conn = self.store.conn
        if e.kind == "suggestion.rejected":
            conn.execute("UPDATE suggestions SET status = 'rejected', decided_by = ?, decided_at = ? WHERE id = ?",
                         (e.coder, e.ts, row["id"]))
        else:
            conn.execute("UPDATE suggestions SET status = ?, decided_by = ?, decided_at = ?, coding_id = ? WHERE id = ?",
                         (status, e.coder, e.ts, coding, row["id"]))
        self._log(e, {**p, "suggestion": row["id"], **({"coding": coding} if "coding" in p else {})})

    _suggestion_accepted = _suggestion_rejected = _suggestion_recoded = _suggestion_decided

    def _suggestion_noted(self, e: _Event) -> None:
        row = self._suggestion(e)
        if row is not None:
            self._log(e, {**e.p, "suggestion": row["id"]})

    _suggestion_skipped = _suggestion_memo = _suggestion_noted

    def _suggestion_span_changed(self, e: _Event) -> None:
        p = e.p
        row = self._suggestion(e)
        old, new = p.get("old"), p.get("new")
        if row is None or not (isinstance(old, list) and isinstance(new, list)):
            return
        now_span = [row["start"], row["end"], row["line_start"], row["line_end"]]
        if now_span == new:
            self._absorb(e)
            return
        if now_span != old or row["status"] != "suggested":
            self._note(f"suggestion {row['id']}: its span was changed here too; the other copy's change was not merged")
            self._absorb(e)
            return
        self.store.conn.execute("UPDATE suggestions SET start = ?, end = ?, line_start = ?, line_end = ? WHERE id = ?",
                                (*new, row["id"]))
        self._log(e, {**p, "suggestion": row["id"]})

    def _suggestion_undone(self, e: _Event) -> None:
        p = e.p
        row = self._suggestion(e)
        if row is None:
            return
        undone = p.get("undoes")
        ident = self.other_idx.hashes[undone - 1] if isinstance(undone, int) and 0 < undone <= len(
            self.other_idx.hashes) else None
        origin = self._identity_at(undone) if ident else None
        seq = self.this_idx.seq_of.get(origin) if origin else None
        if seq is None or undone <= self.fork and seq != undone:
            self._note("undos of review decisions that were not merged were not merged")
            self._absorb(e)
            return
        kind = p.get("kind")
        conn = self.store.conn
        if kind in ("suggestion.accepted", "suggestion.recoded", "suggestion.rejected"):
            if row["status"] == "suggested":
                self._absorb(e)
                return
            conn.execute("UPDATE suggestions SET status = 'suggested', decided_by = NULL, decided_at = NULL"
                         + (", coding_id = NULL" if kind != "suggestion.rejected" else "") + " WHERE id = ?",
                         (row["id"],))
        elif kind == "suggestion.span_changed":
            payload = json.loads(conn.execute("SELECT payload FROM events WHERE seq = ?", (seq,)).fetchone()[0])
            old = payload.get("old")
            if isinstance(old, list) and len(old) == 4:
                conn.execute("UPDATE suggestions SET start = ?, end = ?, line_start = ?, line_end = ? WHERE id = ?",
                             (*old, row["id"]))
        self._log(e, {**p, "undoes": seq, "suggestion": row["id"]})

    def _identity_at(self, seq: int) -> str | None:
        row = self.other.conn.execute("SELECT hash, json_extract(payload, '$.merged.hash') FROM events WHERE seq = ?",
                                      (seq,)).fetchone()
        return identity(row[0], row[1]) if row else None

    def _suggestion_reanchored(self, e: _Event) -> None:
        p = e.p
        row = self._suggestion(e)
        new = p.get("new")
        if row is None or not (isinstance(new, list) and len(new) == 3):
            return
        rev = self.rev_map.get((row["transcript_id"], new[0]))
        if rev is None or row["status"] != "suggested" or row["revision"] >= rev:
            self._absorb(e)
            return
        line_start, line_end, turn = self.positions(row["transcript_id"], rev, int(new[1]), int(new[2]))
        self.store.conn.execute("UPDATE suggestions SET revision = ?, start = ?, end = ?, line_start = ?, line_end = ?, "
                                "turn_n = ? WHERE id = ?", (rev, new[1], new[2], line_start, line_end, turn, row["id"]))
        self._log(e, {**p, "suggestion": row["id"], "old": [row["revision"], row["start"], row["end"]],
                      "new": [rev, new[1], new[2]], "lines": [line_start, line_end], "turn": turn})

    def _suggestion_retired(self, e: _Event) -> None:
        row = self._suggestion(e)
        if row is None:
            return
        if row["status"] != "suggested":
            self._absorb(e)
            return
        self.store.conn.execute("UPDATE suggestions SET status = 'retired', decided_by = 'rta', decided_at = ? "
                                "WHERE id = ?", (e.ts, row["id"]))
        rev = self.rev_map.get((row["transcript_id"], e.p.get("revision")), e.p.get("revision"))
        self._log(e, {**e.p, "suggestion": row["id"], "old": [row["revision"], row["start"], row["end"]],
                      "revision": rev})

    def _suggestions_recoded(self, e: _Event) -> None:
        self._note("suggestions recoded by a codebook rename there were not merged (the codebook version was)")
        self._absorb(e)




def _inserted_suggestions(store: Store, first: int, last: int) -> dict[int, list[Any]]:
    """Suggestions ``first..last`` of ``store`` as 'rta suggest' inserted them (the logged
    decisions undone, as the audit restores them)."""
    from rta.replay import derive_positions, line_starts, replay
    from rta.rowhash import SUGGESTION_ROW_SQL

    cache = getattr(store, "_merge_origin", None)
    if cache is None:
        cache = replay(store).suggestion_origin
        store._merge_origin = cache  # type: ignore[attr-defined]
    col = {c: i for i, c in enumerate(SUGGESTION_COLUMNS)}
    out: dict[int, list[Any]] = {}
    for r in store.conn.execute(SUGGESTION_ROW_SQL + " WHERE id BETWEEN ? AND ?", (first, last)):
        row = list(r)
        row[col["status"]], row[col["decided_by"]], row[col["decided_at"]], row[col["coding_id"]] = \
            "suggested", None, None, None
        origin = cache.get(row[0], {})
        for name, value in origin.items():
            row[col[name]] = value
        if "revision" in origin:
            key = (row[col["transcript_id"]], row[col["revision"]])
            text = store.transcript_text(*key)
            turns = sorted((t[1], t[2], t[0]) for t in store.conn.execute(
                "SELECT n, start, end FROM turns WHERE transcript_id = ? AND revision = ?", key))
            found = derive_positions(line_starts(text), turns, row[col["start"]], row[col["end"]])
            if "line_start" not in origin:
                row[col["line_start"]], row[col["line_end"]] = found[0], found[1]
            row[col["turn_n"]] = found[2]
        out[row[0]] = row
    return out
