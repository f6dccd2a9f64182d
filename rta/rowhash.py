"""What the log records of table rows: their columns and canonical hashes.

Writers (``rta add``, ``rta suggest``, codebook imports, merges, renames) log these hashes with
their events; the replay (rta.replay) and the audit compute them again from the tables. One
module, so both sides hash a row the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Iterable

from rta.store import canonical_json

_encode_str = json.encoder.encode_basestring  # the ensure_ascii=False form canonical_json uses

TURN_COLUMNS = ("n", "speaker", "informant", "role", "grp", "start", "end", "line_start", "line_end", "timestamp",
                "words")
CODE_COLUMNS = ("name", "guid", "parent", "definition", "color")
SUGGESTION_COLUMNS = ("id", "transcript_id", "revision", "turn_n", "start", "end", "line_start", "line_end", "code",
                      "score", "method", "evidence", "pipeline", "status", "created", "decided_by", "decided_at",
                      "coding_id")
SUGGESTION_ROW_SQL = "SELECT " + ", ".join(f'"{c}"' for c in SUGGESTION_COLUMNS) + " FROM suggestions"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rows_sha256(rows: Any) -> str:
    """The canonical hash of a list of rows (lists of column values), as events record it."""
    return _sha256(canonical_json(rows))


def turns_sha256(rows: Iterable[Iterable[Any]]) -> str:
    """Canonical hash of a revision's turn rows (:data:`TURN_COLUMNS`, by turn number)."""
    return rows_sha256(sorted((list(r) for r in rows), key=lambda r: r[0]))


def code_rows_sha256(rows: Iterable[Iterable[Any]]) -> str:
    """Canonical hash of a codebook version's code rows (:data:`CODE_COLUMNS`, by name)."""
    return rows_sha256(sorted((list(r) for r in rows), key=lambda r: r[0]))


def suggestion_rows_sha256(rows: list[list[Any]]) -> str:
    """Canonical hash of suggestion rows as inserted (:data:`SUGGESTION_COLUMNS`, by id)."""
    return rows_sha256(sorted(rows, key=lambda r: r[0]))


ROW_DIGEST_CHARS = 8


def row_digests(rows: list[list[Any]]) -> str:
    """A short digest of each row (by id), concatenated: 8 hex characters a row, so the audit can
    name the row that changed inside a run of thousands (the full hash still covers them all)."""
    return "".join(rows_sha256(r)[:ROW_DIGEST_CHARS] for r in sorted(rows, key=lambda r: r[0]))


def _row_json(row: list[Any]) -> str:
    """:func:`canonical_json` of a row of plain values (str, int, finite float, None), written
    directly: a run stores tens of thousands of rows. Anything else goes to canonical_json."""
    parts = []
    for v in row:
        t = type(v)
        if t is str:
            parts.append(_encode_str(v))
        elif t is int:
            parts.append(int.__repr__(v))
        elif v is None:
            parts.append("null")
        elif t is float and math.isfinite(v):
            parts.append(float.__repr__(v))
        else:
            return canonical_json(row)
    return "[" + ",".join(parts) + "]"


def suggestion_rows_hashes(rows: list[list[Any]]) -> tuple[str, str]:
    """``(suggestion_rows_sha256(rows), row_digests(rows))`` with each row encoded once: the
    canonical JSON of a list is its items' canonical JSON joined by commas in brackets."""
    encoded = [_row_json(r) for r in sorted(rows, key=lambda r: r[0])]
    digests = "".join(_sha256(e)[:ROW_DIGEST_CHARS] for e in encoded)
    return _sha256("[" + ",".join(encoded) + "]"), digests


def transcript_digests(transcript: Any, note: str | None) -> dict[str, Any]:
    """What a revision event records besides the text hash: its turn rows, metadata and note
    as hashes, so the audit can tell them from hand edits."""
    turns = [[t.n, t.speaker, t.code, t.role, t.group, t.start, t.end, t.line_start, t.line_end, t.timestamp, t.words]
             for t in transcript.turns]
    return {"turns_sha256": turns_sha256(turns), "metadata_sha256": _sha256(canonical_json(transcript.metadata)),
            "note_sha256": None if note is None else _sha256(note)}
