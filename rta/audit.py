"""Verification: is every quote still what the transcript says, and is the history intact?

``rta audit`` re-derives everything a supervisor relies on from the store itself:

* **chain**: the event log is unbroken (consecutive numbers, each entry's hash recomputed and
  chained to the previous one), so an edited or deleted log row shows;
* **transcript**: every stored revision's text hashes to the sha256 recorded in its row and
  in the event that stored it; the turns (speaker, informant, role, group, offsets, lines,
  words) are what the log says the revision's text was parsed into;
* **quote**: every coding's span lies inside its revision and its text still hashes to the
  coding's stored quote hash;
* **code**: every coding's code exists in the codebook version it was coded with;
* **codebook**: every stored codebook version's content matches its hash and its logged hash,
  and its codes are the ones logged with it;
* **record**: every other table a report or export relies on agrees with the log, replayed
  by :mod:`rta.replay`: informants, codings, suggestions and their decisions, themes and their
  codes, memos and journal entries, the phase, coders and the free text of decisions. A row no
  event explains, an event whose row is missing, or a field that differs is one failure naming
  the table, the row and the field, what the row says and what the log says.

Built reports (``rta audit --report``) are checked by :mod:`rta.receipts`.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from rta.errors import RtaError
from rta.fsutil import sha256_text
from rta.replay import Expect, Replay, derive_positions, line_starts, replay
from rta.rowhash import (ROW_DIGEST_CHARS, SUGGESTION_ROW_SQL, TURN_COLUMNS, code_rows_sha256, rows_sha256,
                         suggestion_rows_sha256, turns_sha256)
from rta.store import GENESIS_HASH, Store, event_hash

KINDS = ("chain", "transcript", "quote", "code", "codebook", "record", "report")


@dataclass
class Failure:
    """One thing that does not verify: its kind, the cause in words and the ids involved
    (for a table row: ``table``, the row's key and ``field``)."""

    kind: str
    cause: str
    ids: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = ", ".join(f"{k} {v}" for k, v in self.ids.items())
        return f"[{self.kind}] {where}: {self.cause}" if where else f"[{self.kind}] {self.cause}"


@dataclass
class AuditReport:
    """The outcome of an audit: what was checked (counts), every failure, and notes on what an
    older log let it check only partly."""

    checked: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def add(self, kind: str, cause: str, **ids: Any) -> None:
        self.failures.append(Failure(kind, cause, ids))

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.failures:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        return counts

    def summary(self) -> str:
        checked = ", ".join(f"{n} {what}" for what, n in self.checked.items())
        if self.ok:
            return f"audit passed: {checked}"
        kinds = ", ".join(f"{n} {k}" for k, n in self.by_kind().items())
        return f"audit FAILED: {len(self.failures)} failure(s) ({kinds}); checked {checked}"

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "failures": [asdict(f) for f in self.failures],
                "notes": self.notes}

    def to_text(self) -> str:
        notes = [f"  note: {n}" for n in self.notes]
        return "\n".join([self.summary(), *notes, *(f"  {f}" for f in self.failures)]) + "\n"


# --------------------------------------------------------------------------------------------
# The store


def audit(store: Any, registry: Any = None) -> AuditReport:
    """Verify the chain, transcripts, quotes, codes and codebook versions, and every table
    against the replayed log (:mod:`rta.replay`). ``store`` may be a project; ``registry``
    (default: the project's, when the store sits in a project folder) re-derives the turns of
    revisions logged by an older rta without a turn hash."""
    if registry is None and hasattr(store, "registry"):
        try:
            registry = store.registry
        except RtaError:
            registry = None
    store = getattr(store, "store", store)
    if registry is None:
        registry = _project_registry(store)
    report = AuditReport()
    _check_chain(store, report)
    logged = replay(store)
    texts = _check_transcripts(store, logged, report)
    _check_turns(store, logged, texts, registry, report)
    _check_codebooks(store, logged, report)
    _check_codings(store, texts, report)
    _derive_positions(store, logged, texts)
    _check_suggestion_batches(store, logged, report)
    _check_tables(store, logged, report)
    for problem in logged.problems:
        report.add("record", f"the '{problem.kind}' entry {problem.cause}", event=problem.seq)
    report.notes.extend(logged.notes)
    return report


def _project_registry(store: Store) -> Any:
    """The registry of the project the store belongs to (its folder's rta.toml), or None."""
    root = store.path.parent
    if not (root / "rta.toml").is_file():
        return None
    try:
        from rta.project import Project

        return Project.open(root).registry
    except RtaError:
        return None


def _check_chain(store: Store, report: AuditReport) -> None:
    prev_hash, expected_seq, n = GENESIS_HASH, 1, 0
    for r in store.conn.execute("SELECT seq, ts, coder, phase, kind, payload, prev_hash, hash FROM events ORDER BY seq"):
        n += 1
        seq = r["seq"]
        if seq != expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
            report.add("chain", f"event(s) {missing} missing: the log jumps from {expected_seq - 1} to {seq}", event=seq)
        if r["prev_hash"] != prev_hash:
            report.add("chain", "does not link to the previous entry's hash (an entry before it was deleted or edited)",
                       event=seq)
        digest = event_hash(r["prev_hash"], seq, r["ts"], r["coder"], r["phase"], r["kind"], r["payload"])
        if digest != r["hash"]:
            report.add("chain", f"content does not match its hash (the '{r['kind']}' entry was edited)", event=seq)
        prev_hash, expected_seq = r["hash"], seq + 1
    report.checked["events"] = n


def _check_transcripts(store: Store, logged: Replay, report: AuditReport) -> dict[tuple[str, int], str]:
    texts: dict[tuple[str, int], str] = {}
    for r in store.conn.execute("SELECT transcript_id, revision, text, sha256 FROM transcript_revisions"):
        key = (r["transcript_id"], r["revision"])
        texts[key] = r["text"]
        if sha256_text(r["text"]) != r["sha256"]:
            report.add("transcript", "stored text no longer matches its recorded sha256 (the text was edited)",
                       transcript=r["transcript_id"], revision=r["revision"])
    for r in store.conn.execute("SELECT id, revision FROM transcripts"):
        if (r["id"], r["revision"]) not in texts:
            report.add("transcript", f"current revision {r['revision']} is missing", transcript=r["id"])
    report.checked["transcript revisions"] = len(texts)
    return texts


def _check_turns(store: Store, logged: Replay, texts: dict[tuple[str, int], str], registry: Any,
                 report: AuditReport) -> None:
    """Each revision's turns against the turn hash logged with it; for a revision an older rta
    logged without one, against its text parsed again with the project's registry."""
    stored: dict[tuple[str, int], list[list[Any]]] = {}
    cols = ", ".join(f'"{c}"' for c in TURN_COLUMNS)
    for r in store.conn.execute(f"SELECT transcript_id, revision, {cols} FROM turns ORDER BY transcript_id, revision, n"):
        stored.setdefault((r[0], r[1]), []).append(list(r)[2:])
    by_hash = reparsed = unchecked = 0
    for key in sorted(set(stored) | set(logged.turns), key=lambda k: (str(k[0]), k[1])):
        ids = {"table": "turns", "transcript": key[0], "revision": key[1]}
        rows = stored.get(key, [])
        if key not in logged.turns:
            report.add("transcript", f"{len(rows)} turn row(s) of a revision no event stored", **ids)
            continue
        expect = logged.turns[key]
        if expect is not None:
            by_hash += 1
            if turns_sha256(rows) == expect.value:
                continue
            cause = (f"the turn rows hash to {turns_sha256(rows)[:12]}…, the log says {expect.value[:12]}… "
                     f"(event {expect.seq} {expect.kind})")
        else:
            if registry is None or key not in texts:
                unchecked += 1
                continue
            reparsed += 1
            cause = None
        derived = _reparse(texts.get(key), key, registry)
        if derived is None:
            report.add("transcript", cause or "the revision's text no longer parses into turns", **ids)
            continue
        if expect is not None and turns_sha256(derived) != expect.value:
            report.add("transcript", cause + "; parsed again with the current registry it differs too", **ids)
            derived_diffs = []
        else:
            derived_diffs = _turn_diffs(rows, derived)
        if expect is not None and not derived_diffs:
            report.add("transcript", cause, **ids)
        where = (f"(the text parsed again matches its turn hash, event {expect.seq} {expect.kind})"
                 if expect is not None else "(parsed again with the registry: an older log has no turn hash)")
        for n, name, row_value, log_value in derived_diffs:
            if name is None:
                report.add("transcript", f"the turn {row_value}, the log {log_value} {where}", **ids, turn=n)
            else:
                report.add("transcript", f"the row says {_show(row_value)}, the log says {_show(log_value)} {where}",
                           **ids, turn=n, field=name)
    report.checked["turn tables (logged hash)"] = by_hash
    if reparsed:
        report.checked["turn tables (re-parsed, older log)"] = reparsed
    if unchecked:
        report.notes.append(f"turns of {unchecked} revision(s) logged by an older rta were not checked (no turn hash; "
                            "run the audit in the project folder to re-parse them)")


def _reparse(text: str | None, key: tuple[str, int], registry: Any) -> list[list[Any]] | None:
    if text is None or registry is None:
        return None
    from rta.transcripts import parse_text

    try:
        t = parse_text(text, registry, path=f"{key[0]} rev {key[1]}", default_id=key[0])
    except RtaError:
        return None
    return [[x.n, x.speaker, x.code, x.role, x.group, x.start, x.end, x.line_start, x.line_end, x.timestamp, x.words]
            for x in t.turns]


def _turn_diffs(rows: list[list[Any]], derived: list[list[Any]]) -> list[tuple[int, str | None, Any, Any]]:
    out: list[tuple[int, str | None, Any, Any]] = []
    by_n = {r[0]: r for r in rows}
    want = {r[0]: r for r in derived}
    for n in sorted(set(by_n) | set(want)):
        if n not in by_n:
            out.append((n, None, "is missing from the table", "has it"))
        elif n not in want:
            out.append((n, None, "is in the table", "has no such turn"))
        else:
            for i, name in enumerate(TURN_COLUMNS[1:], start=1):
                if by_n[n][i] != want[n][i]:
                    out.append((n, name, by_n[n][i], want[n][i]))
    return out


def _check_codebooks(store: Store, logged: Replay, report: AuditReport) -> None:
    n = 0
    for r in store.conn.execute("SELECT id, sha256, content FROM codebook_versions"):
        n += 1
        data = r["content"].encode("utf-8")
        if r["sha256"] not in (hashlib.sha256(data).hexdigest(), hashlib.sha256(b"\xef\xbb\xbf" + data).hexdigest()):
            report.add("codebook", "stored content no longer matches its hash", codebook_version=r["id"])
    report.checked["codebook versions"] = n
    rows: dict[int, list[list[Any]]] = {}
    for r in store.conn.execute("SELECT codebook_version, name, guid, parent, definition, color FROM codes"):
        rows.setdefault(r[0], []).append(list(r)[1:])
    contents = {r[0]: r[1] for r in store.conn.execute("SELECT id, content FROM codebook_versions")}
    for version in sorted(set(rows) | set(logged.codes)):
        ids = {"table": "codes", "codebook_version": version}
        have = sorted(rows.get(version, []))
        if version not in logged.codes:
            report.add("codebook", f"{len(have)} code row(s) of a codebook version no event imported", **ids)
            continue
        expect = logged.codes[version]
        if expect is not None and code_rows_sha256(have) == expect.value:
            continue
        parsed = _parse_codes(contents.get(version))
        if expect is not None and (parsed is None or code_rows_sha256(parsed) != expect.value):
            report.add("codebook", f"the code rows hash to {code_rows_sha256(have)[:12]}…, the log says "
                       f"{expect.value[:12]}… (event {expect.seq} {expect.kind})", **ids)
            continue
        if parsed is None:
            report.add("codebook", "the stored content no longer parses into codes", **ids)
            continue
        want = {r[0]: r for r in parsed}
        got = {r[0]: r for r in have}
        source = f"the log (event {expect.seq} {expect.kind})" if expect is not None else \
            "the stored content (older log: no codes hash)"
        for name in sorted(set(want) | set(got)):
            if name not in got:
                report.add("codebook", f"the table does not have it; {source} does", **ids, code=name)
            elif name not in want:
                report.add("codebook", f"no event explains this row ({source} has no such code)", **ids, code=name)
            else:
                for i, col in enumerate(("guid", "parent", "definition", "color"), start=1):
                    if got[name][i] != want[name][i]:
                        report.add("codebook", f"the row says {_show(got[name][i])}, {source} says "
                                   f"{_show(want[name][i])}", **ids, code=name, field=col)


def _parse_codes(content: str | None) -> list[list[Any]] | None:
    if content is None:
        return None
    from rta.codebook_yaml import parse_codebook

    try:
        codebook, _ = parse_codebook(content, "<stored codebook>")
    except RtaError:
        return None
    if codebook is None:
        return None
    return sorted([c.name, c.guid, c.parent, c.definition, c.color] for c in codebook.codes)


def _check_codings(store: Store, texts: dict[tuple[str, int], str], report: AuditReport) -> None:
    """Quote hashes and codes: each coding's words and code as its row records them."""
    codes: dict[int, set[str]] = {}
    for r in store.conn.execute("SELECT codebook_version, name FROM codes"):
        codes.setdefault(r["codebook_version"], set()).add(r["name"])
    n = 0
    rows = store.conn.execute(
        "SELECT id, transcript_id, revision, start, end, code, codebook_version, quote_sha256 FROM codings"
    )
    for r in rows:
        n += 1
        cid = r["id"]
        text = texts.get((r["transcript_id"], r["revision"]))
        if text is None:
            report.add("quote", f"its transcript revision {r['transcript_id']} rev {r['revision']} is not stored",
                       coding=cid, transcript=r["transcript_id"])
        elif not (0 <= r["start"] < r["end"] <= len(text)):
            report.add("quote", f"span {r['start']}-{r['end']} lies outside the transcript (length {len(text)})",
                       coding=cid, transcript=r["transcript_id"])
        elif sha256_text(text[r["start"]:r["end"]]) != r["quote_sha256"]:
            report.add("quote", f"the text at {r['start']}-{r['end']} no longer hashes to the coding's quote hash "
                       f"(quote now reads «{_short(text[r['start']:r['end']])}»)",
                       coding=cid, transcript=r["transcript_id"], revision=r["revision"])
        version = r["codebook_version"]
        if version is None:
            report.add("code", f"code '{r['code']}' has no codebook version", coding=cid)
        elif r["code"] not in codes.get(version, set()):
            report.add("code", f"code '{r['code']}' does not exist in codebook version {version}",
                       coding=cid, codebook_version=version)
    report.checked["codings"] = n


def _derive_positions(store: Store, logged: Replay, texts: dict[tuple[str, int], str]) -> None:
    """Line numbers and turn of each coding and moved suggestion, from the span the log gives
    it and the text of its revision (verified above): what rta computed when it stored them."""
    turns: dict[tuple[str, int], list[tuple[int, int, int]]] = {}
    for r in store.conn.execute("SELECT transcript_id, revision, n, start, end FROM turns"):
        turns.setdefault((r[0], r[1]), []).append((r[3], r[4], r[2]))
    for v in turns.values():
        v.sort()
    lines: dict[tuple[str, int], list[int]] = {}

    def positions(row: dict[str, Expect], transcript: Any) -> tuple[int, int, int | None] | None:
        try:
            key = (transcript, row["revision"].value)
            start, end = int(row["start"].value), int(row["end"].value)
        except (KeyError, TypeError, ValueError):
            return None
        if key not in texts:
            return None
        if key not in lines:
            lines[key] = line_starts(texts[key])
        return derive_positions(lines[key], turns.get(key, []), start, end)

    for row in logged.rows.get("codings", {}).values():
        if "transcript_id" not in row:
            continue
        found = positions(row, row["transcript_id"].value)
        if found is None:
            continue
        span = max((row[k] for k in ("revision", "start", "end")), key=lambda e: e.seq)
        for name, value in zip(("line_start", "line_end", "turn_n"), found):
            row[name] = Expect(value, span.seq, span.kind)
    moved = [(sid, row) for sid, row in logged.rows.get("suggestions", {}).items() if "turn_n" in row]
    if moved:
        current = {r[0]: r[1] for r in store.conn.execute("SELECT id, transcript_id FROM suggestions")}
        for sid, row in moved:
            found = positions(row, current.get(sid))
            if found is None:
                del row["turn_n"]
                continue
            span = row["revision"]
            for name, value in zip(("line_start", "line_end", "turn_n"), found):
                row[name] = Expect(value, span.seq, span.kind)


def _check_suggestion_batches(store: Store, logged: Replay, report: AuditReport) -> None:
    """The rows each 'rta suggest' run inserted, restored to how they were inserted (the logged
    decisions undone), must hash to what the run logged."""
    if not logged.batches:
        return
    rows = {r[0]: list(r) for r in store.conn.execute(SUGGESTION_ROW_SQL)}
    col = {c: i for i, c in enumerate(("id", "transcript_id", "revision", "turn_n", "start", "end", "line_start",
                                        "line_end", "code", "score", "method", "evidence", "pipeline", "status",
                                        "created", "decided_by", "decided_at", "coding_id"))}
    texts: dict[tuple[str, int], str] = {}
    turns: dict[tuple[str, int], list[tuple[int, int, int]]] = {}
    from rta.purge import purge_maps

    purged = purge_maps(store)
    for seq, first, last, digest, digests in logged.batches:
        restored = []
        missing = [sid for sid in range(first, last + 1) if sid not in rows]
        for sid in range(first, last + 1):
            if sid not in rows:
                continue
            row = list(rows[sid])
            row[col["status"]], row[col["decided_by"]], row[col["decided_at"]], row[col["coding_id"]] = \
                "suggested", None, None, None
            origin = logged.suggestion_origin.get(sid, {})
            for name, value in origin.items():
                row[col[name]] = value
            if "revision" in origin:  # moved to another revision: its first lines and turn follow from its text
                key = (row[col["transcript_id"]], row[col["revision"]])
                if key not in texts:
                    texts[key] = store.transcript_text(*key) if _has_revision(store, key) else ""
                    turns[key] = sorted((r[1], r[2], r[0]) for r in store.conn.execute(
                        "SELECT n, start, end FROM turns WHERE transcript_id=? AND revision=?", key))
                start, end = row[col["start"]], row[col["end"]]
                if key in purged:  # 'rta anonymise purge' rewrote that text: the logged offsets moved with it
                    start, end = purged[key](start), purged[key](end, True)
                found = derive_positions(line_starts(texts[key]), turns[key], start, end)
                if "line_start" not in origin:
                    row[col["line_start"]], row[col["line_end"]] = found[0], found[1]
                row[col["turn_n"]] = found[2]
            restored.append(row)
        ids = {"table": "suggestions", "suggestion": f"{first}-{last}", "event": seq}
        if missing or suggestion_rows_sha256(restored) == digest:  # (a missing row is named by itself)
            continue
        width = ROW_DIGEST_CHARS
        named = [row[0] for row in restored if isinstance(digests, str) and
                 digests[(row[0] - first) * width:(row[0] - first + 1) * width] != rows_sha256(row)[:width]]
        for sid in named:
            report.add("record", f"the row no longer hashes to what the 'suggestions.generated' run that inserted it "
                       f"logged (event {seq}): its span, code, score, method, evidence or pipeline was edited",
                       table="suggestions", suggestion=sid)
        if not named:
            report.add("record", "the rows this 'suggestions.generated' run inserted no longer hash to what it logged "
                       "(a suggestion's span, code, score, method, evidence or pipeline was edited)", **ids)
    report.checked["suggestions"] = len(rows)


def _has_revision(store: Store, key: tuple[str, int]) -> bool:
    return store.conn.execute("SELECT 1 FROM transcript_revisions WHERE transcript_id=? AND revision=?",
                              key).fetchone() is not None


# Each table the replay covers: its key columns, how a key is named in a failure, and the kind.
_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "transcripts": (("id",), ("transcript",), "transcript"),
    "transcript_revisions": (("transcript_id", "revision"), ("transcript", "revision"), "transcript"),
    "informants": (("code",), ("informant",), "record"),
    "codebook_versions": (("id",), ("codebook_version",), "codebook"),
    "codings": (("id",), ("coding",), "record"),
    "suggestions": (("id",), ("suggestion",), "record"),
    "themes": (("id",), ("theme",), "record"),
    "theme_codes": (("theme_id", "code"), ("theme", "code"), "record"),
    "memos": (("id",), ("memo",), "record"),
    "coders": (("name",), ("coder",), "record"),
    "meta": (("key",), ("key",), "record"),
    "event_texts": (("seq", "field"), ("event", "payload_field"), "record"),
}


def _check_tables(store: Store, logged: Replay, report: AuditReport) -> None:
    """Every row of every replayed table against the log: unexplained rows, missing rows and
    fields that differ, each one failure naming table, row and field."""
    for table, (keys, names, kind) in _TABLES.items():
        expected = logged.rows.get(table, {})
        made = logged.made.get(table, {})
        n = 0
        seen = set()
        for r in store.conn.execute(f"SELECT * FROM {table}"):
            key = r[keys[0]] if len(keys) == 1 else tuple(r[k] for k in keys)
            if table == "meta" and key not in ("name", "phase"):
                continue  # staged-write journal rows come and go with a command
            n += 1
            seen.add(key)
            want = expected.get(key)
            if want is None:
                if table not in logged.open:
                    report.add(kind, "no event in the log explains this row", **_row_ids(table, names, key))
                continue
            for name, expect in want.items():
                actual = r[name]
                if not (actual == expect.value if expect.how == "equal" else expect.holds(actual)):
                    report.add(kind, _differs(actual, expect), **_row_ids(table, names, key), field=name)
        for key in expected:
            if key not in seen:
                seq, how = made.get(key, (None, "?"))
                report.add(kind, f"the log records this row (event {seq} {how}) but the table does not have it",
                           **_row_ids(table, names, key))
        if table not in ("meta", "codings"):
            report.checked[table.replace("_", " ")] = n


def _row_ids(table: str, names: tuple[str, ...], key: Any) -> dict[str, Any]:
    """How a failure names a row: its table, then its key (``coding 12``, ``transcript k1, revision 2``)."""
    return {"table": table, **dict(zip(names, key if isinstance(key, tuple) else (key,)))}


def _differs(actual: Any, expect: Expect) -> str:
    where = f"(event {expect.seq} {expect.kind})"
    if expect.how == "sha256":
        now = sha256_text(actual)[:12] + "…" if isinstance(actual, str) else _show(actual)
        return f"the row's text hashes to {now}, the log says {str(expect.value)[:12]}… {where}"
    if expect.how == "content":
        return f"the row's content does not hash to the logged sha256 {str(expect.value)[:12]}… {where}"
    if expect.how == "time":
        return f"the row says {_show(actual)}, the log says it was written at {expect.value} {where}"
    return f"the row says {_show(actual)}, the log says {_show(expect.value)} {where}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(_short(value))
    return repr(value)


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
