"""Copies of one project and what their logs hold, as merging compares them.

A team works on copies of one project (``rta clone``). Each copy has an id (:func:`copy_id`).
Another copy is read through :class:`ReadOnlyStore` (:func:`open_other` refuses a folder that
is no project, this project itself, or another schema). Each logged decision is known by its
*identity*, the hash of its entry in the copy where it was first made, which an entry that came
through a merge keeps in its payload's ``merged`` mapping (:func:`identity`): :func:`index_log`
lists a log's identities and the codings, memos, themes and suggestion batches each decision
created, and :func:`common_prefix` finds where two copies' logs parted. :mod:`rta.merge`
replays the other copy's decisions on top of this; :mod:`rta.clone` makes the copies.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

from rta.errors import RtaError
from rta.store import SCHEMA_VERSION, Store, _Connection, lock_timeout

#: The payload key of an entry that came through a merge: ``{"from": COPY, "hash": HASH}``.
MERGED = "merged"


# --------------------------------------------------------------------------------------------
# The other copy, opened read-only


class ReadOnlyStore(Store):
    """Another project's store, opened read-only: no migration, no write, no lock taken."""

    def __init__(self, path: str | Path) -> None:  # noqa: D107 - no Store.__init__: it would migrate
        self.path = Path(path)
        uri = "file:" + url_quote(str(self.path.resolve())) + "?mode=ro"
        wait = lock_timeout()
        try:
            self.conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=wait, factory=_Connection)
            self.conn.store_path, self.conn.lock_wait = self.path, wait
            self.conn.row_factory = sqlite3.Row
            self._depth = 0
            self.version = self.schema_version()
            self.conn.execute("SELECT COUNT(*) FROM events").fetchone()
        except sqlite3.DatabaseError as exc:
            raise RtaError(f"cannot read the project store: {exc}", path=self.path,
                           hint="give the folder of a copy of this project (made with 'rta clone')") from None


def copy_id(store: Store) -> str:
    """This copy's id: the one its 'project.cloned' entry gave it, else (the copy 'rta init'
    made) the hash of its first log entry."""
    row = store.conn.execute("SELECT json_extract(payload, '$.copy') FROM events WHERE kind = 'project.cloned' "
                             "AND json_extract(payload, '$.merged') IS NULL ORDER BY seq DESC LIMIT 1").fetchone()
    if row is not None and isinstance(row[0], str):
        return row[0]
    first = store.conn.execute("SELECT hash FROM events ORDER BY seq LIMIT 1").fetchone()
    return str(first[0]) if first else "0" * 64


def open_other(path: str | Path, this_root: Path) -> tuple[Path, ReadOnlyStore]:
    """The other copy's folder and store; RtaError for a folder that is no project, this
    project itself, or a store of another schema version."""
    from rta.config import CONFIG_NAME
    from rta.project import STORE_NAME

    root = Path(path).expanduser()
    if not root.exists():
        raise RtaError("no such folder", path=root, hint="give the folder of another copy of this project")
    if not root.is_dir():
        raise RtaError("is a file, not a project folder", path=root,
                       hint="give the folder of another copy of this project (with rta.toml and rta.db)")
    if not (root / CONFIG_NAME).is_file() or not (root / STORE_NAME).is_file():
        raise RtaError("not an rta project (no rta.toml and rta.db here)", path=root,
                       hint="give the folder of another copy of this project (made with 'rta clone')")
    if root.resolve() == this_root.resolve() or os.path.samefile(root / STORE_NAME, this_root / STORE_NAME):
        raise RtaError("that is this project itself: there is nothing to merge", path=root,
                       hint="give the folder of another copy (e.g. a co-coder's, made with 'rta clone')")
    other = ReadOnlyStore(root / STORE_NAME)
    if other.version > SCHEMA_VERSION:
        other.close()
        raise RtaError(f"that project was written by a newer rta (schema {other.version}, this rta knows "
                       f"{SCHEMA_VERSION})", path=root, hint="upgrade rta here (pip install -U rta), then merge")
    if other.version < SCHEMA_VERSION:
        other.close()
        raise RtaError(f"that project was written by an older rta (schema {other.version}, this rta has "
                       f"{SCHEMA_VERSION})", path=root,
                       hint=f"open it once with this rta to upgrade it (e.g. rta --project {root} audit), then merge")
    return root, other


# --------------------------------------------------------------------------------------------
# What each log holds: identities and the objects each decision created


def identity(hash_: str, merged_hash: Any) -> str:
    """A logged decision's identity: the hash of its entry in the copy where it was first made
    (``merged_hash``, the ``merged.hash`` of an entry that came through a merge), else its own."""
    return merged_hash if isinstance(merged_hash, str) else hash_


@dataclass
class LogIndex:
    """One store's log as merging needs it: every decision's identity (its first hash) and
    seq here, and which coding, memo, theme and suggestion each creating decision made."""

    hashes: list[str] = field(default_factory=list)  # by seq - 1
    seq_of: dict[str, int] = field(default_factory=dict)  # identity -> seq here
    known: set[str] = field(default_factory=set)  # identities, plus what earlier merges absorbed
    codings: dict[str, int] = field(default_factory=dict)  # identity of coding.added -> coding id
    memos: dict[str, int] = field(default_factory=dict)
    themes: dict[tuple[str, int], int] = field(default_factory=dict)  # (identity, position in ids) -> theme id
    batches: dict[str, tuple[int, list[int]]] = field(default_factory=dict)  # identity -> (first id, offsets)
    theme_events: list[tuple[int, str, str, dict[str, Any]]] = field(default_factory=list)  # seq, identity, kind, p


def index_log(store: Store) -> LogIndex:
    idx = LogIndex()
    seen_themes: set[int] = set()
    rows = store.conn.execute(  # (payloads are canonical JSON: a merged entry holds '"merged":{')
        "SELECT seq, hash, kind, CASE WHEN instr(payload, '\"merged\":{') THEN json_extract(payload, '$.merged.hash') END, "
        "CASE WHEN kind = 'coding.added' THEN json_extract(payload, '$.coding') END, "
        "CASE WHEN kind IN ('memo.added', 'journal.added') THEN json_extract(payload, '$.memo') END, "
        "CASE WHEN kind LIKE 'theme.%' OR kind IN ('suggestions.generated', 'project.merged') THEN payload END "
        "FROM events ORDER BY seq")
    for seq, digest, kind, merged_hash, coding, memo, payload in rows:
        idx.hashes.append(digest)
        ident = identity(digest, merged_hash)
        idx.seq_of[ident] = seq
        idx.known.add(ident)
        if kind == "coding.added" and isinstance(coding, int):
            idx.codings[ident] = coding
        elif kind in ("memo.added", "journal.added") and isinstance(memo, int):
            idx.memos[ident] = memo
        elif payload is not None:
            p = json.loads(payload)
            if kind == "suggestions.generated":
                ids = p.get("ids")
                if isinstance(ids, list) and len(ids) == 2:
                    offsets = (p.get(MERGED) or {}).get("offsets") or list(range(ids[1] - ids[0] + 1))
                    idx.batches[ident] = (ids[0], offsets)
            elif kind == "project.merged":
                idx.known.update(h for h in p.get("absorbed") or [] if isinstance(h, str))
                for r in p.get("resolved") or []:
                    if isinstance(r, dict) and isinstance(r.get("hash"), str):
                        idx.known.add(r["hash"])
                for ident2, pos, tid in p.get("themes") or []:
                    idx.themes[(ident2, pos)] = tid
                    seen_themes.add(tid)
            else:
                for pos, tid in enumerate(p.get("ids") or []):
                    if isinstance(tid, int) and tid not in seen_themes:
                        seen_themes.add(tid)
                        idx.themes[(ident, pos)] = tid
                idx.theme_events.append((seq, ident, kind, p))
    return idx


def common_prefix(a: LogIndex, b: LogIndex) -> int:
    """The seq of the last entry both logs share (0: none): where the copies parted."""
    n = 0
    for x, y in zip(a.hashes, b.hashes):
        if x != y:
            break
        n += 1
    return n
