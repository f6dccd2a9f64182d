"""Codings: a person's decision that a span of a transcript belongs to a code.

Every coding points at code-point offsets in one stored transcript revision and carries the
SHA-256 of the quoted text, the coder, the time, the codebook version and its origin
(``manual`` or an accepted ``suggested`` one). Codings are never deleted: removing one is a
status change and an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rta.errors import RtaError
from rta.fsutil import sha256_bytes, sha256_text
from rta.store import Store, now


@dataclass
class Coding:
    id: int
    transcript_id: str
    revision: int
    start: int
    end: int
    line_start: int
    line_end: int
    turn_n: int | None
    code: str
    codebook_version: int | None
    coder: str
    created: str
    status: str
    origin: str
    suggestion_id: int | None
    memo: str | None
    quote_sha256: str

    @classmethod
    def from_row(cls, row: Any) -> "Coding":
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})


def ensure_codebook_version(store: Store, codebook_path: str | Path, coder: str | None) -> int:
    """The store's id for the codebook file as it is now; imports it (with its codes and an
    audit event) when its content is new. Must run inside a transaction."""
    from rta.codebook import load_codebook

    path = Path(codebook_path)
    if not path.is_file():
        raise RtaError("codebook not found", path=path, hint="set [paths] codebook in rta.toml")
    data = path.read_bytes()
    digest = sha256_bytes(data)
    row = store.conn.execute("SELECT id FROM codebook_versions WHERE sha256 = ?", (digest,)).fetchone()
    if row:
        return int(row["id"])
    codebook = load_codebook(path)
    cur = store.conn.execute(
        "INSERT INTO codebook_versions(name, sha256, content, source_path, imported, coder) VALUES (?,?,?,?,?,?)",
        (codebook.name, digest, data.decode("utf-8-sig"), str(path), now(), coder),
    )
    version = int(cur.lastrowid)
    store.conn.executemany(
        "INSERT INTO codes(codebook_version, name, guid, parent, definition, color) VALUES (?,?,?,?,?,?)",
        [(version, c.name, c.guid, c.parent, c.definition, c.color) for c in codebook.codes],
    )
    previous = store.conn.execute(
        "SELECT id FROM codebook_versions WHERE id < ? ORDER BY id DESC LIMIT 1", (version,)
    ).fetchone()
    store.log_event(
        "codebook.imported",
        {"version": version, "name": codebook.name, "sha256": digest, "codes": len(codebook.codes),
         "themes": len(codebook.themes), "previous": previous["id"] if previous else None},
        coder,
    )
    return version


def code_names(store: Store, codebook_version: int) -> list[str]:
    return [r["name"] for r in store.conn.execute(
        "SELECT name FROM codes WHERE codebook_version = ? ORDER BY name", (codebook_version,))]


def check_code(store: Store, codebook_version: int, code: str) -> str:
    """The code's name as the codebook spells it; a clear error with a did-you-mean if absent."""
    names = code_names(store, codebook_version)
    if code in names:
        return code
    folded = {n.casefold(): n for n in names}
    if code.casefold() in folded:
        return folded[code.casefold()]
    from rapidfuzz import fuzz, process

    close = [h[0] for h in process.extract(code, names, scorer=fuzz.WRatio, limit=3, score_cutoff=60)]
    hint = f"did you mean {' or '.join(close)}?" if close else "see 'rta codebook show'"
    raise RtaError(f"unknown code '{code}' in the project's codebook", hint=hint)


def turn_at(store: Store, transcript_id: str, revision: int, offset: int) -> Any:
    return store.conn.execute(
        "SELECT * FROM turns WHERE transcript_id=? AND revision=? AND start<=? AND ? < MAX(end, start+1) ORDER BY n LIMIT 1",
        (transcript_id, revision, offset, offset),
    ).fetchone()


def create_coding(
    store: Store,
    transcript_id: str,
    start: int,
    end: int,
    code: str,
    coder: str,
    codebook_version: int,
    origin: str = "manual",
    suggestion_id: int | None = None,
    memo: str | None = None,
    revision: int | None = None,
) -> int:
    """Record a coding of ``text[start:end]`` in the transcript's current revision and log it.

    Must run inside :meth:`Store.transaction`. Returns the coding id.
    """
    row = store.transcript_row(transcript_id)
    if row is None:
        raise RtaError(f"no transcript '{transcript_id}' in this project", hint="see 'rta transcripts'")
    revision = revision or row["revision"]
    text = store.transcript_text(transcript_id, revision)
    if not (0 <= start < end <= len(text)):
        raise RtaError(f"span {start}-{end} is outside transcript '{transcript_id}' (length {len(text)})")
    code = check_code(store, codebook_version, code)
    quote = text[start:end]
    turn = turn_at(store, transcript_id, revision, start)
    line_start = text.count("\n", 0, start) + 1
    line_end = line_start + text.count("\n", start, end - 1)
    digest = sha256_text(quote)
    cur = store.conn.execute(
        "INSERT INTO codings(transcript_id, revision, start, end, line_start, line_end, turn_n, code, "
        "codebook_version, coder, created, status, origin, suggestion_id, memo, quote_sha256) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,'active',?,?,?,?)",
        (transcript_id, revision, start, end, line_start, line_end, turn["n"] if turn else None, code,
         codebook_version, coder, now(), origin, suggestion_id, memo, digest),
    )
    coding_id = int(cur.lastrowid)
    store.log_event(
        "coding.added",
        {"coding": coding_id, "transcript": transcript_id, "revision": revision, "start": start, "end": end,
         "code": code, "origin": origin, "suggestion": suggestion_id, "quote_sha256": digest, "memo": memo},
        coder,
    )
    return coding_id


def get_coding(store: Store, coding_id: int) -> Coding:
    row = store.conn.execute("SELECT * FROM codings WHERE id = ?", (coding_id,)).fetchone()
    if row is None:
        raise RtaError(f"no coding with id {coding_id}", hint="see 'rta codings'")
    return Coding.from_row(row)
