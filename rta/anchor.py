"""Re-anchoring codings when a transcript gets a new revision.

Placeholder until the store issue's re-anchoring lands: codings are relocated only when their
quote occurs exactly once in the new text; all others become ``orphaned`` (never deleted), and
every move is an audit event.
"""

from __future__ import annotations

from rta.fsutil import sha256_text


def reanchor_codings(store, transcript_id: str, old_revision: int, new_revision: int, coder: str | None) -> None:
    old_text = store.transcript_text(transcript_id, old_revision)
    new_text = store.transcript_text(transcript_id, new_revision)
    rows = store.conn.execute(
        "SELECT * FROM codings WHERE transcript_id = ? AND revision = ? AND status = 'active'",
        (transcript_id, old_revision),
    ).fetchall()
    for row in rows:
        quote = old_text[row["start"] : row["end"]]
        first = new_text.find(quote)
        if first != -1 and new_text.find(quote, first + 1) == -1:
            start, end = first, first + len(quote)
            store.conn.execute(
                "UPDATE codings SET revision=?, start=?, end=?, line_start=?, line_end=?, quote_sha256=? WHERE id=?",
                (new_revision, start, end, new_text.count("\n", 0, start) + 1,
                 new_text.count("\n", 0, max(start, end - 1)) + 1, sha256_text(quote), row["id"]),
            )
            store.log_event("coding.reanchored", {"coding": row["id"], "old": [old_revision, row["start"], row["end"]],
                                                  "new": [new_revision, start, end], "method": "exact", "similarity": 1.0}, coder)
        else:
            store.conn.execute("UPDATE codings SET status='orphaned' WHERE id=?", (row["id"],))
            store.log_event("coding.orphaned", {"coding": row["id"], "old": [old_revision, row["start"], row["end"]]}, coder)
