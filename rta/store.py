"""The project store: one SQLite file holding a study's transcripts, codings and history.

Design rules:

* Every command that writes does so inside :meth:`Store.transaction` (``BEGIN IMMEDIATE`` in
  WAL mode): a crash or Ctrl-C leaves the store exactly as it was before the command.
* Decisions are never deleted: codings change status, and every decision appends an event to
  a hash-chained, append-only log (:meth:`Store.log_event`), so tampering is detectable.
* The schema is versioned; :data:`MIGRATIONS` upgrades older stores in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from rta.errors import RtaError

GENESIS_HASH = "0" * 64

SCHEMA_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE coders (
    name TEXT PRIMARY KEY,
    first_seen TEXT NOT NULL
);
CREATE TABLE informants (
    code TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    grp TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    position INTEGER NOT NULL
);
CREATE TABLE transcripts (
    id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,          -- the current revision
    source_path TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    added TEXT NOT NULL
);
CREATE TABLE transcript_revisions (
    transcript_id TEXT NOT NULL REFERENCES transcripts(id),
    revision INTEGER NOT NULL,
    text TEXT NOT NULL,                 -- normalised text (NFC, LF); all offsets point into it
    sha256 TEXT NOT NULL,
    source_path TEXT,
    created TEXT NOT NULL,
    coder TEXT,
    note TEXT,
    PRIMARY KEY (transcript_id, revision)
);
CREATE TABLE turns (
    transcript_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    n INTEGER NOT NULL,
    speaker TEXT NOT NULL,              -- label as written, e.g. 'R 2.1'
    informant TEXT,                     -- canonical code, NULL for the interviewer
    role TEXT,
    grp TEXT,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    timestamp TEXT,
    words INTEGER NOT NULL,
    PRIMARY KEY (transcript_id, revision, n),
    FOREIGN KEY (transcript_id, revision) REFERENCES transcript_revisions(transcript_id, revision)
);
CREATE INDEX turns_informant ON turns(informant);
CREATE TABLE codebook_versions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL,              -- the YAML as imported
    source_path TEXT,
    imported TEXT NOT NULL,
    coder TEXT
);
CREATE TABLE codes (
    codebook_version INTEGER NOT NULL REFERENCES codebook_versions(id),
    name TEXT NOT NULL,
    guid TEXT,
    parent TEXT,
    definition TEXT,
    color TEXT,
    PRIMARY KEY (codebook_version, name)
);
CREATE TABLE themes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL DEFAULT '',
    central_concept TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT 'inductive' CHECK (origin IN ('inductive', 'deductive')),
    status TEXT NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'reviewed', 'defined', 'discarded')),
    parent TEXT,
    opposite TEXT,
    guid TEXT,
    source TEXT,                        -- 'codebook', 'manual', 'proposed', 'merge', 'split'
    version INTEGER NOT NULL DEFAULT 1,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE theme_codes (
    theme_id INTEGER NOT NULL REFERENCES themes(id),
    code TEXT NOT NULL,
    PRIMARY KEY (theme_id, code)
);
CREATE TABLE codings (
    id INTEGER PRIMARY KEY,
    transcript_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    turn_n INTEGER,
    code TEXT NOT NULL,
    codebook_version INTEGER REFERENCES codebook_versions(id),
    coder TEXT NOT NULL,
    created TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed', 'orphaned')),
    origin TEXT NOT NULL CHECK (origin IN ('manual', 'suggested')),
    suggestion_id INTEGER,
    memo TEXT,
    quote_sha256 TEXT NOT NULL,         -- sha256 of text[start:end] of the stored revision
    anchor_similarity REAL,             -- set when re-anchored fuzzily after a revision
    anchor_candidates TEXT,             -- JSON: best candidate spans recorded when orphaned
    FOREIGN KEY (transcript_id, revision) REFERENCES transcript_revisions(transcript_id, revision)
);
CREATE INDEX codings_code ON codings(code);
CREATE INDEX codings_transcript ON codings(transcript_id, status);
CREATE TABLE suggestions (
    id INTEGER PRIMARY KEY,
    transcript_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    turn_n INTEGER,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    code TEXT NOT NULL,
    score REAL NOT NULL,
    method TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '[]',
    pipeline TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'suggested' CHECK (status IN ('suggested', 'accepted', 'rejected')),
    created TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    coding_id INTEGER REFERENCES codings(id),
    UNIQUE (transcript_id, revision, start, end, code, method)
);
CREATE INDEX suggestions_status ON suggestions(status, code);
CREATE TABLE memos (
    id INTEGER PRIMARY KEY,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('coding', 'code', 'theme', 'transcript', 'journal', 'project')),
    target TEXT,
    text TEXT NOT NULL,
    phase INTEGER,
    coder TEXT,
    created TEXT NOT NULL
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    coder TEXT,
    phase INTEGER,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

# Version 2: a suggestion can be 'retired' by rta when a new revision of its transcript no
# longer holds its span verbatim (rta.anchor.reanchor_suggestions). SQLite cannot alter a CHECK
# constraint, so the table is rebuilt; rows, ids and the index are kept as they were.
SUGGESTIONS_RETIRED_V2 = """
CREATE TABLE suggestions_v2 (
    id INTEGER PRIMARY KEY,
    transcript_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    turn_n INTEGER,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    code TEXT NOT NULL,
    score REAL NOT NULL,
    method TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '[]',
    pipeline TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'suggested' CHECK (status IN ('suggested', 'accepted', 'rejected', 'retired')),
    created TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    coding_id INTEGER REFERENCES codings(id),
    UNIQUE (transcript_id, revision, start, end, code, method)
);
INSERT INTO suggestions_v2 SELECT id, transcript_id, revision, turn_n, start, end, line_start, line_end, code, score,
    method, evidence, pipeline, status, created, decided_by, decided_at, coding_id FROM suggestions;
DROP TABLE suggestions;
ALTER TABLE suggestions_v2 RENAME TO suggestions;
CREATE INDEX suggestions_status ON suggestions(status, code);
"""

# Version 3: the free text of a decision (a reason, a review memo) lives in event_texts, not in
# the log: the event's payload holds its sha256 (``reason_sha256``), so the text can be
# redacted by a logged 'text.redacted' event without breaking the chain (rta.replay checks
# each text against its logged hash).
EVENT_TEXTS_V3 = """
CREATE TABLE event_texts (
    seq INTEGER NOT NULL,               -- the event the text belongs to
    field TEXT NOT NULL,                -- its payload field ('reason', 'text', ...)
    text TEXT NOT NULL,
    PRIMARY KEY (seq, field)
);
"""

# Payload fields whose string values are free text: log_event stores them in event_texts and
# puts ``<field>_sha256`` in the payload instead (personal text must be removable).
FREE_TEXT_FIELDS = ("reason", "text", "note", "memo")

# Each entry upgrades the schema from version i to i+1 (index 0: empty -> 1).
MIGRATIONS: list[str] = [SCHEMA_V1, SUGGESTIONS_RETIRED_V2, EVENT_TEXTS_V3]
SCHEMA_VERSION = len(MIGRATIONS)


def now() -> str:
    """UTC timestamp with seconds precision, ISO 8601: how rta stamps decisions."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


SINCE_FORMS = "2026-11-01, 01.11.2026, 2026-11-01T14:30 or '01.11.2026 14:30'"
_NORWEGIAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?")


def parse_since(value: str) -> str:
    """A user's "since" (ISO 8601 date or date-time, or Norwegian ``dd.mm.yyyy [HH:MM[:SS]]``)
    as a stored timestamp (UTC, ``YYYY-MM-DDTHH:MM:SSZ``), so it compares with the log's ``ts``.
    A date or time without a zone is local time; anything else is an RtaError."""
    text = value.strip()
    try:
        m = _NORWEGIAN_DATE.fullmatch(text)
        if m:
            d, mo, y, hh, mm, ss = m.groups()
            when = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?", text):
            when = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "zZ" else text)
        else:
            raise ValueError(text)
        if when.tzinfo is None:
            when = when.astimezone()  # the user's local time
        return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError):
        raise RtaError(f"cannot read '{value}' as a date or time",
                       hint=f"write a date or time such as {SINCE_FORMS} (local time unless it ends in Z or +01:00)"
                       ) from None


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """The one JSON form hashes are taken of (``json.dumps(value, ensure_ascii=False,
    sort_keys=True, separators=(",", ":"))``; one encoder, as json.dumps makes a new one per
    call when given options)."""
    return _CANONICAL.encode(value)


def event_hash(prev_hash: str, seq: int, ts: str, coder: str | None, phase: int | None, kind: str, payload: str) -> str:
    """Hash of one log entry, chained to the previous entry's hash."""
    body = canonical_json([prev_hash, seq, ts, coder, phase, kind, payload])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Head:
    """The log's head: the sequence number and hash of one entry. Kept outside the project (in
    a report, an e-mail, a signed checkpoint) it anchors the log: that entry with that hash can
    only still be there if nothing up to it was cut off or rewritten. Written ``SEQ:HASH``."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    def short(self) -> str:
        """``SEQ:HASH`` with the hash cut to 12 characters, for messages."""
        return f"{self.seq}:{self.hash[:12]}…"


HEAD_FORM = re.compile(r"(\d{1,19}):([0-9a-fA-F]{64})")


def parse_head(value: str, source: str = "--expect-head", path: str | Path | None = None) -> Head:
    """``SEQ:HASH`` (as ``rta log --head`` prints it) as a :class:`Head`; anything else is an
    RtaError naming ``source`` (an option or a file)."""
    text = value.strip()
    m = HEAD_FORM.fullmatch(text)
    if m is None or not 0 < int(m.group(1)) <= SQL_INT_MAX:
        shown = text if len(text) <= 90 else text[:89] + "…"
        raise RtaError(f"{source}: cannot read '{shown}' as a log head", path=path,
                       hint="write SEQ:HASH, the entry number, a colon and its 64 hex digits, "
                            "as 'rta log --head' or 'rta audit' print it")
    return Head(int(m.group(1)), m.group(2).lower())


def log_head(store: "Store") -> Head:
    """The last entry of the log (``0:000…`` for an empty log)."""
    row = store.conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return Head(int(row[0]), str(row[1])) if row else Head(0, GENESIS_HASH)


@dataclass
class Event:
    seq: int
    ts: str
    coder: str | None
    phase: int | None
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    texts: dict[str, str] = field(default_factory=dict)  # free text logged as a hash (event_texts), by field

    def details(self) -> dict[str, Any]:
        """The payload with each free text beside its hash, as the decision was written."""
        return {**self.payload, **self.texts}


LOCK_TIMEOUT_ENV = "RTA_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 5.0  # seconds a command waits for another rta command's write to finish
SQL_INT_MAX = 2**63 - 1


FIRST_WAIT = 0.5  # seconds a writer waits for the lock before it says it is waiting
BUSY_NOTICE: Any = None  # called with a sentence when a writer must wait (the CLI prints it on stderr)


class StoreBusy(RtaError):
    """Another process kept the project's write lock longer than this command would wait."""


def lock_timeout() -> float:
    """Seconds to wait for the write lock: $RTA_LOCK_TIMEOUT, else :data:`DEFAULT_LOCK_TIMEOUT`."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 86400:
        raise RtaError(f"${LOCK_TIMEOUT_ENV} is '{raw}', not a number of seconds",
                       hint=f"set it to e.g. 30, or unset it for the default {DEFAULT_LOCK_TIMEOUT:g} s")
    return seconds


class _Connection(sqlite3.Connection):
    """Every statement of the store passes here: the two sqlite3 errors a user can cause become
    an RtaError (exit 2, one sentence) instead of a traceback. "database is locked": another rta
    command held the write lock for longer than ``lock_wait``; OverflowError: an integer beyond
    SQLite's 64 bits (an id typed with too many digits). Inside a transaction the error rolls it
    back, so nothing is changed either way."""

    store_path: Path = Path()
    lock_wait: float = DEFAULT_LOCK_TIMEOUT

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().execute(sql, parameters)
        except (sqlite3.OperationalError, OverflowError) as exc:
            if not self._translatable(exc):
                raise
            raise self._translate(exc) from None

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().executemany(sql, seq_of_parameters)
        except (sqlite3.OperationalError, OverflowError) as exc:
            if not self._translatable(exc):
                raise
            raise self._translate(exc) from None

    @staticmethod
    def _translatable(exc: Exception) -> bool:
        if isinstance(exc, OverflowError):
            return True
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF == sqlite3.SQLITE_BUSY
        return "database is locked" in str(exc)

    def _translate(self, exc: Exception) -> Exception:
        if isinstance(exc, OverflowError):
            return RtaError(f"a number is too large for the project store (at most {SQL_INT_MAX})",
                            hint="check the ids and numbers given to the command")
        return StoreBusy(f"another rta command is writing to this project (waited {self.lock_wait:g} s): "
                         "try again when it has finished", path=self.store_path,
                         hint=f"nothing was changed; set ${LOCK_TIMEOUT_ENV}=SECONDS to wait longer")


class Store:
    """A connection to a project's SQLite store."""

    def __init__(self, path: str | Path, create: bool = False, timeout: float | None = None) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise RtaError("project store not found", path=self.path, hint="run 'rta init DIR' to create a project")
        wait = lock_timeout() if timeout is None else timeout
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=wait, factory=_Connection)
        self.conn.store_path, self.conn.lock_wait = self.path, wait
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        self._head: tuple[int, str] | None = None
        self._coders: set[str] = set()
        self._migrate()

    # -- schema ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        row = self.conn.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise RtaError(
                f"this project was written by a newer rta (schema {current}, this rta knows {SCHEMA_VERSION})",
                path=self.path,
                hint="upgrade rta: pip install -U rta",
            )
        if current == SCHEMA_VERSION:
            return
        with self.transaction():
            for version in range(current, SCHEMA_VERSION):
                for statement in _split_sql(MIGRATIONS[version]):
                    self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- transactions ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: commits on success, rolls back on any exception (Ctrl-C too).

        Nested use joins the outer transaction.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        self._head, self._coders = None, set()  # the log's head and coders seen, valid inside this transaction
        try:
            yield self.conn
        except BaseException:
            self._depth = 0
            self._head = None
            self.conn.execute("ROLLBACK")
            raise
        else:
            self._depth = 0
            self._head = None
            self.conn.execute("COMMIT")

    def _begin(self) -> None:
        """``BEGIN IMMEDIATE``: take the write lock. When another process holds it (a co-coder's
        rta command in a shared project), say so through :data:`BUSY_NOTICE` after a moment and
        keep retrying (SQLite's busy handler) until ``lock_wait`` seconds have passed in all;
        then :class:`StoreBusy`, with nothing written."""
        wait = self.conn.lock_wait
        first = min(wait, FIRST_WAIT)
        if first >= wait:
            self.conn.execute("BEGIN IMMEDIATE")
            return
        self.conn.execute(f"PRAGMA busy_timeout = {int(first * 1000)}")
        try:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except StoreBusy:
                if BUSY_NOTICE is not None:
                    BUSY_NOTICE(f"another rta command is writing to this project: waiting for it (up to {wait:g} s, "
                                f"${LOCK_TIMEOUT_ENV})")
            self.conn.execute(f"PRAGMA busy_timeout = {int((wait - first) * 1000)}")
            self.conn.execute("BEGIN IMMEDIATE")
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def close(self) -> None:
        self.conn.close()

    # -- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._require_tx()
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def phase(self) -> int:
        return int(self.get_meta("phase", "1") or 1)

    # -- audit log ------------------------------------------------------------------------
    def _require_tx(self) -> None:
        if not self._depth:
            raise RuntimeError("writes to the store must happen inside Store.transaction()")

    def ensure_coder(self, coder: str | None, ts: str | None = None) -> None:
        if coder and coder not in self._coders:
            self.conn.execute(
                "INSERT OR IGNORE INTO coders(name, first_seen) VALUES (?, ?)", (coder, ts or now())
            )
            if self._depth:
                self._coders.add(coder)

    def log_event(self, kind: str, payload: dict[str, Any], coder: str | None, *, ts: str | None = None,
                  phase: int | None = None) -> Event:
        """Append a decision to the hash-chained log (inside the caller's transaction).

        Free text in the payload (a string under one of :data:`FREE_TEXT_FIELDS`) is stored in
        ``event_texts`` and replaced by its sha256 (``reason`` -> ``reason_sha256``), so the log
        never holds personal text that could not be removed; :meth:`events` gives it back as
        ``Event.texts``.

        ``ts`` and ``phase`` are for ``rta merge`` only: a decision replayed from another copy of
        the project keeps the time it was made and the phase it was made in (its payload says
        where it came from, under ``merged``)."""
        self._require_tx()
        self.ensure_coder(coder, ts)
        if self._head is None:  # (the write lock is held: no other process appends until the commit)
            last = self.conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            self._head = (last["seq"], last["hash"]) if last else (0, GENESIS_HASH)
        seq, prev = self._head[0] + 1, self._head[1]
        ts = ts or now()
        phase = self.phase() if phase is None else phase
        texts = {k: v for k, v in payload.items() if k in FREE_TEXT_FIELDS and isinstance(v, str)}
        logged = {k: v for k, v in payload.items() if k not in texts}
        for k, v in texts.items():
            logged[f"{k}_sha256"] = hashlib.sha256(v.encode("utf-8")).hexdigest()
        body = canonical_json(logged)
        digest = event_hash(prev, seq, ts, coder, phase, kind, body)
        self.conn.execute(
            "INSERT INTO events(seq, ts, coder, phase, kind, payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
            (seq, ts, coder, phase, kind, body, prev, digest),
        )
        self._head = (seq, digest)
        if texts:
            self.conn.executemany("INSERT INTO event_texts(seq, field, text) VALUES (?,?,?)",
                                  [(seq, k, v) for k, v in texts.items()])
        return Event(seq, ts, coder, phase, kind, payload, prev, digest)

    def event_texts(self, seqs: Any = None) -> dict[int, dict[str, str]]:
        """The free text of logged decisions, by event seq and field (all, or of ``seqs``)."""
        out: dict[int, dict[str, str]] = {}
        if seqs is None:
            rows = list(self.conn.execute("SELECT seq, field, text FROM event_texts"))
        else:
            wanted = sorted({int(s) for s in seqs})
            rows = [r for i in range(0, len(wanted), 500) for r in self.conn.execute(
                "SELECT seq, field, text FROM event_texts WHERE seq IN (%s)" % ",".join("?" * len(wanted[i:i + 500])),
                wanted[i:i + 500])]
        for r in rows:
            out.setdefault(int(r["seq"]), {})[r["field"]] = r["text"]
        return out

    def event_text(self, seq: int, field: str) -> str | None:
        """The free text ``field`` of event ``seq`` (from event_texts; None if there is none)."""
        row = self.conn.execute("SELECT text FROM event_texts WHERE seq = ? AND field = ?", (seq, field)).fetchone()
        return row["text"] if row else None

    def events(self, since: str | None = None, coder: str | None = None, kind: str | None = None) -> list[Event]:
        """The log, oldest first; ``since`` is any form :func:`parse_since` reads."""
        sql = "SELECT * FROM events WHERE 1=1"
        args: list[Any] = []
        if since:
            sql += " AND ts >= ?"
            args.append(parse_since(since))
        if coder:
            sql += " AND coder = ?"
            args.append(coder)
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        sql += " ORDER BY seq"
        events = [
            Event(r["seq"], r["ts"], r["coder"], r["phase"], r["kind"], json.loads(r["payload"]), r["prev_hash"], r["hash"])
            for r in self.conn.execute(sql, args)
        ]
        texts = self.event_texts([e.seq for e in events if any(k.endswith("_sha256") for k in e.payload)])
        for e in events:
            e.texts = texts.get(e.seq, {})
        return events

    # -- informants -----------------------------------------------------------------------
    def sync_informants(self, registry, coder: str | None = None) -> None:
        """Mirror the registry (plus declared informants) into the store for queries, and log
        the table when it changed (:meth:`log_informants`)."""
        self._require_tx()
        for pos, inf in enumerate(registry.informants):
            self.conn.execute(
                "INSERT INTO informants(code, role, grp, attributes, position) VALUES (?,?,?,?,?) "
                "ON CONFLICT(code) DO UPDATE SET role=excluded.role, grp=excluded.grp, "
                "attributes=excluded.attributes, position=excluded.position",
                (inf.code, inf.role, inf.group, canonical_json(inf.attributes), pos),
            )
        self.log_informants(coder)

    def informant_rows(self) -> list[list[Any]]:
        """The informants table as ``[code, role, grp, attributes, position]`` rows, by code."""
        return [[r["code"], r["role"], r["grp"], r["attributes"], r["position"]] for r in self.conn.execute(
            "SELECT code, role, grp, attributes, position FROM informants ORDER BY code")]

    def log_informants(self, coder: str | None = None) -> None:
        """Log 'informants.synced' with the whole informants table when it differs from the last
        logged one: the table is synced from the registry file, so the log says what it held."""
        self._require_tx()
        rows = self.informant_rows()
        digest = hashlib.sha256(canonical_json(rows).encode("utf-8")).hexdigest()
        last = self.conn.execute("SELECT json_extract(payload, '$.sha256') FROM events WHERE kind = 'informants.synced' "
                                 "ORDER BY seq DESC LIMIT 1").fetchone()
        if last is None or last[0] != digest:
            self.log_event("informants.synced", {"rows": rows, "sha256": digest}, coder)

    # -- transcripts ----------------------------------------------------------------------
    def transcript_row(self, transcript_id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM transcripts WHERE id = ?", (transcript_id,)).fetchone()

    def transcript_text(self, transcript_id: str, revision: int | None = None) -> str:
        if revision is None:
            row = self.transcript_row(transcript_id)
            if row is None:
                raise RtaError(f"no transcript '{transcript_id}' in this project", hint="see 'rta transcripts'")
            revision = row["revision"]
        rev = self.conn.execute(
            "SELECT text FROM transcript_revisions WHERE transcript_id = ? AND revision = ?",
            (transcript_id, revision),
        ).fetchone()
        if rev is None:
            raise RtaError(f"transcript '{transcript_id}' has no revision {revision}")
        return rev["text"]

    def insert_revision(self, transcript, source_path: str | None, coder: str | None, note: str | None = None) -> int:
        """Store a parsed transcript as a new revision (the first one creates the transcript)."""
        self._require_tx()
        row = self.transcript_row(transcript.id)
        ts = now()
        if row is None:
            revision = 1
            self.conn.execute(
                "INSERT INTO transcripts(id, revision, source_path, metadata, added) VALUES (?,?,?,?,?)",
                (transcript.id, revision, source_path, canonical_json(transcript.metadata), ts),
            )
        else:
            revision = row["revision"] + 1
            self.conn.execute(
                "UPDATE transcripts SET revision = ?, source_path = ?, metadata = ? WHERE id = ?",
                (revision, source_path, canonical_json(transcript.metadata), transcript.id),
            )
        self.conn.execute(
            "INSERT INTO transcript_revisions(transcript_id, revision, text, sha256, source_path, created, coder, note) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (transcript.id, revision, transcript.text, transcript.sha256, source_path, ts, coder, note),
        )
        self.conn.executemany(
            "INSERT INTO turns(transcript_id, revision, n, speaker, informant, role, grp, start, end, "
            "line_start, line_end, timestamp, words) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (transcript.id, revision, t.n, t.speaker, t.code, t.role, t.group, t.start, t.end,
                 t.line_start, t.line_end, t.timestamp, t.words)
                for t in transcript.turns
            ],
        )
        return revision

    def current_turns(self, transcript_id: str | None = None) -> list[sqlite3.Row]:
        sql = (
            "SELECT turns.* FROM turns JOIN transcripts ON transcripts.id = turns.transcript_id "
            "AND transcripts.revision = turns.revision"
        )
        args: tuple = ()
        if transcript_id is not None:
            sql += " WHERE turns.transcript_id = ?"
            args = (transcript_id,)
        return list(self.conn.execute(sql + " ORDER BY turns.transcript_id, turns.n", args))


def _split_sql(script: str) -> list[str]:
    """Split a schema script into statements (triggers contain ';' inside BEGIN...END)."""
    statements, buf = [], []
    for line in script.splitlines():
        buf.append(line)
        joined = "\n".join(buf).strip()
        if not joined:
            buf = []
            continue
        if sqlite3.complete_statement(joined):
            statements.append(joined)
            buf = []
    if "\n".join(buf).strip():
        statements.append("\n".join(buf))
    return statements
