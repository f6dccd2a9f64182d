"""Several coders, one study: bring another copy of the project into this one.

A team works on copies of one project (``rta clone``), each coder in their own. ``rta merge
OTHER`` brings the other copy's decisions here. The log is the source of truth, so a merge is
a replay: every event of the other copy that this project does not have yet is applied here
and logged again, as a new entry of this log with

* its original coder, time and phase (the phase it was made in, over there);
* ``merged: {"from": COPY, "hash": HASH}`` in its payload: the copy where the decision was
  first made and the hash of its entry in that copy's log (kept as it is when the decision had
  itself come through another merge);
* ids translated into this project's: a coding, memo, theme or suggestion made over there gets
  this project's next id, a transcript revision or codebook version is matched by its text's
  sha256 (the same text is the same revision, whatever its number).

So ``rta audit``'s replay rebuilds the merged state from this log alone, and a second merge of
the same copy adds nothing: each decision is known by its first hash (its *identity*). Merging
both ways gives both projects the same codings, memos and themes.

Which events: the common prefix of the two logs (the entries with the same hashes, up to where
the copies parted) is skipped; after it, every decision (transcripts and revisions, codebook
versions, codings and their removals, recodes and re-anchorings, suggestions and the decisions
on them, memos and journal entries, themes) is applied. A decision whose effect this project
already has (both coders removed the same coding; a re-anchoring this project computed itself
when the revision came in) is *absorbed*: recorded as seen in the ``project.merged`` entry,
nothing changed. Bookkeeping of the other copy (its phase changes, reports, checkpoints,
informant syncs, earlier merges) is not merged.

Theme changes that disagree (both sides renamed, merged, split or defined the same theme
differently; a new theme whose name this project already uses for another) are *conflicts*:
listed, numbered, never decided by rta. ``rta merge OTHER --resolve N=ours|theirs`` decides:
``ours`` keeps this project's version (the other's change is recorded as seen), ``theirs``
applies the other's change. A recode of a coding that this project recoded otherwise is a
conflict too.

Refused, with nothing changed (exit 2): a folder that is not a project, the project itself, a
project of a newer (or older, not yet upgraded) schema, a copy whose log chain does not verify
(or whose transcript or memo text no longer matches its logged hash), and a project of another
study (no transcript revision in common).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rta.copies import MERGED, ReadOnlyStore, common_prefix, copy_id, identity, index_log, open_other
from rta.errors import RtaError
from rta.fsutil import sha256_text
from rta.merge_suggestions import SuggestionMerging
from rta.merge_themes import ThemeMerging
from rta.store import Store, log_head

# The other copy's bookkeeping: never replayed here (its merges are replayed event by event).
NOT_MERGED = {
    "project.created": "the project's creation",
    "project.cloned": "the copy's creation",
    "project.merged": "its own merges (their decisions come one by one)",
    "merge.resolved": "its own merge decisions",
    "phase.changed": "phase changes (each copy keeps its phase)",
    "informants.synced": "informant syncs (from each copy's informants.yaml)",
    "report.built": "reports built there",
    "checkpoint.signed": "signed checkpoints (each copy signs its own log)",
    "qdpx.imported": "the note of a REFI-QDA import (its transcripts and codings come one by one)",
    "coding.candidates_moved": "purge bookkeeping",
}

THEME_KINDS = ("theme.added", "theme.proposed", "theme.assigned", "theme.unassigned", "theme.renamed",
               "theme.defined", "theme.discarded", "theme.merged", "theme.split")


# --------------------------------------------------------------------------------------------
# The result


@dataclass
class Conflict:
    """Two decisions on one theme (or coding) that disagree: left for a person."""

    n: int
    kind: str  # 'rename', 'define', 'merge', 'split', 'name', 'recode'
    what: str  # 'theme Tillit', 'coding 12'
    ours: str
    theirs: str
    hash: str  # the other copy's decision (its identity)
    coder: str | None
    ts: str

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "kind": self.kind, "what": self.what, "ours": self.ours, "theirs": self.theirs,
                "hash": self.hash, "coder": self.coder, "ts": self.ts}


@dataclass
class MergeResult:
    other: Path
    other_copy: str
    other_head: str
    fork: int  # the last common entry
    applied: dict[str, int] = field(default_factory=dict)  # kind -> decisions logged here
    absorbed: list[str] = field(default_factory=list)  # identities already in effect here
    skipped: dict[str, int] = field(default_factory=dict)  # kinds not merged -> count
    conflicts: list[Conflict] = field(default_factory=list)
    resolved: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reanchored: int = 0  # codings of this project moved to a revision that came with the merge
    seq: int | None = None  # the project.merged entry (None: nothing to log, or a dry run)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.applied.values())

    def to_dict(self) -> dict[str, Any]:
        return {"other": str(self.other), "other_copy": self.other_copy, "other_head": self.other_head,
                "fork": self.fork, "applied": self.applied, "absorbed": len(self.absorbed), "skipped": self.skipped,
                "conflicts": [c.to_dict() for c in self.conflicts], "resolved": self.resolved, "notes": self.notes,
                "reanchored": self.reanchored, "event": self.seq, "dry_run": self.dry_run}


class _DryRun(Exception):
    """Raised inside the merge transaction to roll a dry run back."""


@dataclass
class _Event:
    seq: int
    ts: str
    coder: str | None
    phase: int | None
    kind: str
    p: dict[str, Any]
    hash: str
    ident: str
    texts: dict[str, str]


# --------------------------------------------------------------------------------------------
# The merge


def merge(project: Any, other_dir: str | Path, coder: str | None = None, resolve: dict[int, str] | None = None,
          dry_run: bool = False, verify: bool = False) -> MergeResult:
    """Merge the copy at ``other_dir`` into ``project`` (module doc). One transaction: all or
    nothing. ``resolve`` maps conflict numbers (as a merge without it lists them) to 'ours' or
    'theirs'. The other copy's log chain is verified first, and every text taken from its
    tables (transcript revisions, memos) against the hash its log has for it. ``verify``:
    also audit the merged project inside the transaction and undo everything if it would not
    pass (``rta merge --verify``; it costs one full audit)."""
    from rta.audit import AuditReport, _check_chain, audit

    who = project.coder(coder)
    root, other = open_other(other_dir, project.root)
    try:
        checked = AuditReport()
        _check_chain(other, checked)
        if not checked.ok:
            listed = "; ".join(str(f) for f in checked.failures[:3])
            raise RtaError(f"that copy's log does not pass its audit ({len(checked.failures)} failure(s): {listed})",
                           path=root, hint=f"audit it first (rta --project {root} audit) and repair it, or merge "
                                           "another copy; nothing was changed here")
        store = project.store
        m = _Merger(project, store, other, root, who, resolve or {})
        try:
            with store.transaction():
                m.run()
                if verify:
                    after = audit(store, registry=project.registry)
                    if not after.ok:
                        raise RtaError(f"the merged project would not pass its audit ({len(after.failures)} "
                                       f"failure(s), e.g. {after.failures[0]}); nothing was changed",
                                       hint="run 'rta audit' here and in the other copy; report this as a bug "
                                            "if both pass")
                if dry_run:
                    raise _DryRun()
        except _DryRun:
            m.result.dry_run = True
            m.result.seq = None
        return m.result
    finally:
        other.close()


class _Merger(ThemeMerging, SuggestionMerging):
    def __init__(self, project: Any, store: Store, other: ReadOnlyStore, root: Path, who: str,
                 resolve: dict[int, str]) -> None:
        self.project, self.store, self.other, self.who, self.resolve = project, store, other, who, resolve
        self.this_idx = index_log(store)
        self.other_idx = index_log(other)
        self.fork = common_prefix(self.this_idx, self.other_idx)
        self.other_copy = copy_id(other)
        head = log_head(other)
        self.result = MergeResult(root, self.other_copy, str(head), self.fork)
        self.rev_map: dict[tuple[str, int], int] = {}
        self.cb_map: dict[int, int] = {}
        self.coding_map: dict[int, int] = {}
        self.memo_map: dict[int, int] = {}
        self.theme_map: dict[int, int] = {}
        self.sug_map: dict[int, int] = {}
        self.theme_links: list[list[Any]] = []  # (identity, position, this id) decided by a resolution
        self._texts: dict[tuple[str, int], str] = {}
        self._lines: dict[tuple[str, int], list[int]] = {}
        self._turns: dict[tuple[str, int], list[tuple[int, int, int]]] = {}
        self.revised: set[str] = set()
        self.other_memos: dict[int, Any] | None = None
        self.redacted_memos: set[Any] = set()
        self.this_changes: dict[int, set[str]] = {}

    # -- setting up ---------------------------------------------------------------------------
    def _check_same_study(self) -> None:
        this = {(r[0], r[1]) for r in self.store.conn.execute("SELECT transcript_id, sha256 FROM transcript_revisions")}
        theirs = {(r[0], r[1]) for r in self.other.conn.execute("SELECT transcript_id, sha256 FROM transcript_revisions")}
        if not this & theirs:
            raise RtaError("that project shares no transcript with this one: it is another study (or a copy "
                           "made before any transcript was added)", path=self.result.other,
                           hint="merge copies of the same study; add the transcripts to both first "
                                "('rta add'), or start the co-coder's copy with 'rta clone'")

    def _build_maps(self) -> None:
        conn, oconn = self.store.conn, self.other.conn
        by_sha: dict[tuple[str, str], int] = {}
        for tid, rev, sha in conn.execute("SELECT transcript_id, revision, sha256 FROM transcript_revisions"):
            by_sha[(tid, sha)] = max(rev, by_sha.get((tid, sha), 0))
        for tid, rev, sha in oconn.execute("SELECT transcript_id, revision, sha256 FROM transcript_revisions"):
            if (tid, sha) in by_sha:
                self.rev_map[(tid, rev)] = by_sha[(tid, sha)]
        cb = {sha: i for i, sha in conn.execute("SELECT id, sha256 FROM codebook_versions")}
        for i, sha in oconn.execute("SELECT id, sha256 FROM codebook_versions"):
            if sha in cb:
                self.cb_map[i] = cb[sha]
        t, o = self.this_idx, self.other_idx
        self.coding_map = {cid: t.codings[k] for k, cid in o.codings.items() if k in t.codings}
        self.memo_map = {mid: t.memos[k] for k, mid in o.memos.items() if k in t.memos}
        self.theme_map = {tid: t.themes[k] for k, tid in o.themes.items() if k in t.themes}
        for ident, (first, offsets) in o.batches.items():
            if ident in t.batches:
                tfirst, toffsets = t.batches[ident]
                where = {off: tfirst + i for i, off in enumerate(toffsets)}
                for i, off in enumerate(offsets):
                    if off in where:
                        self.sug_map[first + i] = where[off]
        # theme changes made here that the other copy does not know: what its changes may clash with
        for seq, ident, kind, p in t.theme_events:
            if seq <= self.fork or ident in o.known:
                continue
            for tid in p.get("ids") or []:
                if isinstance(tid, int):
                    self.this_changes.setdefault(tid, set()).add(kind)
        self.other_codings = {r[0]: (r[1], r[2]) for r in oconn.execute("SELECT id, created, memo FROM codings")}

    def _other_events(self) -> list[_Event]:
        rows = self.other.conn.execute(
            "SELECT seq, ts, coder, phase, kind, payload, hash, CASE WHEN instr(payload, '\"merged\":{') THEN "
            "json_extract(payload, '$.merged.hash') END FROM events WHERE seq > ? ORDER BY seq", (self.fork,)).fetchall()
        out: list[_Event] = []
        known = self.this_idx.known
        for seq, ts, coder, phase, kind, payload, digest, merged_hash in rows:
            ident = identity(digest, merged_hash)
            if ident in known:
                continue  # here already (a re-merge reads no more than this)
            out.append(_Event(seq, ts, coder, phase, kind, json.loads(payload), digest, ident, {}))
        wanted = [e.seq for e in out if any(k.endswith("_sha256") for k in e.p)]
        texts = self.other.event_texts(wanted) if wanted else {}
        for e in out:
            e.texts = texts.get(e.seq, {})
        return out

    # -- the run --------------------------------------------------------------------------------
    def run(self) -> None:
        self._check_same_study()
        self._build_maps()
        events = self._other_events()
        for e in events:
            if e.ident in self.this_idx.known:
                continue
            if e.kind in NOT_MERGED:
                self.result.skipped[e.kind] = self.result.skipped.get(e.kind, 0) + 1
                continue
            handler: Callable[[_Event], None] | None = getattr(self, "_" + e.kind.replace(".", "_"), None)
            if handler is None:
                self.result.skipped[e.kind] = self.result.skipped.get(e.kind, 0) + 1
                self._note(f"'{e.kind}' entries are not merged (this rta does not know how)")
                continue
            handler(e)
        unknown = [n for n in self.resolve if n not in {c.n for c in self.result.conflicts}]
        if unknown:
            listed = ", ".join(str(c.n) for c in self.result.conflicts) or "none"
            raise RtaError(f"--resolve {unknown[0]}: there is no conflict {unknown[0]} (conflicts: {listed})",
                           hint="run 'rta merge OTHER' without --resolve to list the conflicts; nothing was changed")
        self._settle()
        self._informants()
        if self.result.applied or self.result.absorbed or self.result.resolved or self.result.reanchored:
            payload = {"from": self.other_copy, "path": str(self.result.other.resolve()), "head": self.result.other_head,
                       "fork": self.fork, "applied": self.result.applied, "absorbed": self.result.absorbed,
                       "conflicts": [c.to_dict() for c in self.result.conflicts], "resolved": self.result.resolved,
                       "themes": self.theme_links}
            self.result.seq = self.store.log_event("project.merged", payload, self.who).seq

    def _tampered(self, what: str) -> RtaError:
        return RtaError(f"that copy does not pass its audit: {what}", path=self.result.other,
                        hint=f"audit it first (rta --project {self.result.other} audit) and repair it, or merge "
                             "another copy; nothing was changed here")

    def _note(self, text: str) -> None:
        if text not in self.result.notes:
            self.result.notes.append(text)

    def _absorb(self, e: _Event) -> None:
        self.result.absorbed.append(e.ident)
        self.this_idx.known.add(e.ident)

    def _log(self, e: _Event, payload: dict[str, Any], kind: str | None = None, texts: dict[str, str] | None = None,
             origin: dict[str, Any] | None = None) -> int:
        """Log ``e`` here as translated (``payload``), keeping its coder, time and phase."""
        kind = kind or e.kind
        merged = e.p.get(MERGED)
        body = {k: v for k, v in payload.items() if k != MERGED}
        for name, text in {**e.texts, **(texts or {})}.items():
            body.pop(f"{name}_sha256", None)
            body[name] = text
        body[MERGED] = {**(merged if isinstance(merged, dict) else {"from": self.other_copy, "hash": e.hash}),
                        **(origin or {})}
        event = self.store.log_event(kind, body, e.coder, ts=e.ts, phase=e.phase)
        self.result.applied[kind] = self.result.applied.get(kind, 0) + 1
        self.this_idx.known.add(e.ident)
        self.this_idx.seq_of[e.ident] = event.seq
        return event.seq

    def _conflict(self, e: _Event, kind: str, what: str, ours: str, theirs: str) -> str | None:
        """List a conflict; returns the resolution given for it ('ours', 'theirs') or None."""
        n = len(self.result.conflicts) + 1
        conflict = Conflict(n, kind, what, ours, theirs, e.ident, e.coder, e.ts)
        choice = self.resolve.get(n)
        self.result.conflicts.append(conflict)
        if choice is not None:
            self.result.resolved.append({"n": n, "hash": e.ident, "kind": kind, "what": what, "choice": choice})
            if choice == "ours":
                self.this_idx.known.add(e.ident)
        return choice

    # -- transcripts and texts ------------------------------------------------------------------
    def text(self, tid: str, rev: int) -> str:
        key = (tid, rev)
        if key not in self._texts:
            self._texts[key] = self.store.transcript_text(tid, rev)
        return self._texts[key]

    def positions(self, tid: str, rev: int, start: int, end: int) -> tuple[int, int, int | None]:
        from rta.replay import derive_positions, line_starts

        key = (tid, rev)
        if key not in self._lines:
            self._lines[key] = line_starts(self.text(tid, rev))
            self._turns[key] = sorted((r[1], r[2], r[0]) for r in self.store.conn.execute(
                "SELECT n, start, end FROM turns WHERE transcript_id = ? AND revision = ?", key))
        return derive_positions(self._lines[key], self._turns[key], start, end)

    def _transcript_added(self, e: _Event) -> None:
        from rta.rowhash import TURN_COLUMNS, turns_sha256

        p = e.p
        tid, orev = p.get("transcript"), p.get("revision")
        if (tid, orev) in self.rev_map:
            self._absorb(e)
            return
        o = self.other.conn.execute("SELECT * FROM transcript_revisions WHERE transcript_id = ? AND revision = ?",
                                    (tid, orev)).fetchone()
        if o is None:
            self._note(f"transcript '{tid}' revision {orev}: not stored in that copy, not merged")
            return
        if sha256_text(o["text"]) != o["sha256"]:
            raise self._tampered(f"transcript '{tid}' revision {orev}: its text no longer matches its sha256")
        conn = self.store.conn
        row = self.store.transcript_row(tid)
        meta = self.other.conn.execute("SELECT metadata FROM transcripts WHERE id = ?", (tid,)).fetchone()[0]
        if row is None:
            rev = 1
            conn.execute("INSERT INTO transcripts(id, revision, source_path, metadata, added) VALUES (?,?,?,?,?)",
                         (tid, rev, o["source_path"], meta, e.ts))
        else:
            rev = int(row["revision"]) + 1
            ours = int(row["revision"])
            if ours not in {v for (t, _), v in self.rev_map.items() if t == tid}:
                self._note(f"transcript '{tid}': both copies revised it; the other copy's revision {orev} is now "
                           f"current here (revision {rev}), yours stays as revision {ours}: compare them "
                           f"('rta show {tid} --revision {ours}') and add the right text again if needed")
            conn.execute("UPDATE transcripts SET revision = ?, source_path = ?, metadata = ? WHERE id = ?",
                         (rev, o["source_path"], meta, tid))
        conn.execute("INSERT INTO transcript_revisions(transcript_id, revision, text, sha256, source_path, created, "
                     "coder, note) VALUES (?,?,?,?,?,?,?,?)",
                     (tid, rev, o["text"], o["sha256"], o["source_path"], o["created"], o["coder"], o["note"]))
        cols = ", ".join(f'"{c}"' for c in TURN_COLUMNS)
        turns = [list(r) for r in self.other.conn.execute(
            f"SELECT {cols} FROM turns WHERE transcript_id = ? AND revision = ? ORDER BY n", (tid, orev))]
        conn.executemany(f"INSERT INTO turns(transcript_id, revision, {cols}) VALUES (?,?,{','.join('?' * len(cols.split(',')))})",
                         [(tid, rev, *t) for t in turns])
        self.rev_map[(tid, orev)] = rev
        self.revised.add(tid)
        payload = {k: v for k, v in p.items() if k not in ("before_pseudonymisation",)}
        payload.update(revision=rev, sha256=o["sha256"], source=o["source_path"], turns_sha256=turns_sha256(turns),
                       metadata_sha256=sha256_text(meta),
                       note_sha256=None if o["note"] is None else sha256_text(o["note"]))
        payload.pop("note", None)
        self._log(e, payload, kind="transcript.added" if rev == 1 else "transcript.revised")

    _transcript_revised = _transcript_added

    def _anonymise_applied(self, e: _Event) -> None:
        p = e.p
        rev = self.rev_map.get((p.get("transcript"), p.get("revision")))
        if rev is None:
            self._note(f"a pseudonymisation of '{p.get('transcript')}' names a revision not merged: not merged")
            return
        self._log(e, {**p, "revision": rev, "sha256": sha256_text(self.text(p["transcript"], rev))})

    # -- codebook -------------------------------------------------------------------------------
    def _codebook_imported(self, e: _Event) -> None:
        p = e.p
        oid = p.get("version")
        if oid in self.cb_map:
            self._absorb(e)
            return
        o = self.other.conn.execute("SELECT * FROM codebook_versions WHERE id = ?", (oid,)).fetchone()
        if o is None:
            self._note(f"codebook version {oid}: not stored in that copy, not merged")
            return
        conn = self.store.conn
        previous = conn.execute("SELECT MAX(id) FROM codebook_versions").fetchone()[0]
        cur = conn.execute("INSERT INTO codebook_versions(name, sha256, content, source_path, imported, coder) "
                           "VALUES (?,?,?,?,?,?)", (o["name"], o["sha256"], o["content"], o["source_path"],
                                                    o["imported"], o["coder"]))
        new = int(cur.lastrowid)
        conn.executemany("INSERT INTO codes(codebook_version, name, guid, parent, definition, color) "
                         "VALUES (?,?,?,?,?,?)",
                         [(new, *r) for r in self.other.conn.execute(
                             "SELECT name, guid, parent, definition, color FROM codes WHERE codebook_version = ?",
                             (oid,))])
        self.cb_map[oid] = new
        self._log(e, {**p, "version": new, "previous": previous})

    # -- codings --------------------------------------------------------------------------------
    def _coding(self, e: _Event) -> sqlite3.Row | None:
        cid = self.coding_map.get(e.p.get("coding"))
        row = self.store.conn.execute("SELECT * FROM codings WHERE id = ?", (cid,)).fetchone() if cid else None
        if row is None:
            self._note(f"'{e.kind}' entries on codings that did not come along were not merged")
        return row

    def _coding_added(self, e: _Event) -> None:
        p = e.p
        tid, oid = p.get("transcript"), p.get("coding")
        rev = self.rev_map.get((tid, p.get("revision")))
        if rev is None or not isinstance(oid, int):
            self._note("codings on a transcript revision that did not come along were not merged")
            return
        version = p.get("codebook_version")
        version = self.cb_map.get(version) if version is not None else None
        suggestion = self.sug_map.get(p.get("suggestion")) if p.get("suggestion") is not None else None
        created, memo = self.other_codings.get(oid, (e.ts, None))
        if p.get("memo_sha256") is None and "memo" not in e.texts and not isinstance(p.get("memo"), str):
            memo = None
        start, end = int(p["start"]), int(p["end"])
        line_start, line_end, turn = self.positions(tid, rev, start, end)
        cur = self.store.conn.execute(
            "INSERT INTO codings(transcript_id, revision, start, end, line_start, line_end, turn_n, code, "
            "codebook_version, coder, created, status, origin, suggestion_id, memo, quote_sha256) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,'active',?,?,?,?)",
            (tid, rev, start, end, line_start, line_end, turn, p.get("code"), version, e.coder, created,
             p.get("origin") or "manual", suggestion, memo, p.get("quote_sha256")))
        new = int(cur.lastrowid)
        self.coding_map[oid] = new
        payload = {k: v for k, v in p.items() if k != "memo"}
        payload.update(coding=new, revision=rev, codebook_version=version, suggestion=suggestion,
                       memo_sha256=None if memo is None else sha256_text(memo))
        self._log(e, payload)

    def _coding_removed(self, e: _Event) -> None:
        row = self._coding(e)
        if row is None:
            return
        if row["status"] == "removed":
            self._absorb(e)
            return
        self.store.conn.execute("UPDATE codings SET status = 'removed' WHERE id = ?", (row["id"],))
        self._log(e, {**e.p, "coding": row["id"], "previous_status": row["status"]})

    def _coding_recoded(self, e: _Event) -> None:
        p = e.p
        row = self._coding(e)
        if row is None:
            return
        version = p.get("codebook_version")
        version = self.cb_map.get(version, row["codebook_version"]) if version is not None else row["codebook_version"]
        if row["code"] == p.get("code"):
            self._absorb(e)
            return
        if row["status"] != "active":
            self._note(f"a recode of coding {row['id']} ({row['code']} -> {p.get('code')}), {row['status']} here, "
                       "was not merged")
            self._absorb(e)
            return
        if p.get("old_code") is not None and row["code"] != p.get("old_code"):
            choice = self._conflict(e, "recode", f"coding {row['id']}", f"{row['code']} (recoded here)",
                                    f"{p.get('code')} (by {e.coder})")
            if choice != "theirs":
                return
        self.store.conn.execute("UPDATE codings SET code = ?, codebook_version = ? WHERE id = ?",
                                (p.get("code"), version, row["id"]))
        self._log(e, {**p, "coding": row["id"], "old_code": row["code"], "old_codebook_version": row["codebook_version"],
                      "codebook_version": version})

    def _coding_reanchored(self, e: _Event) -> None:
        p = e.p
        row = self._coding(e)
        new = p.get("new")
        if row is None or not (isinstance(new, list) and len(new) == 3):
            return
        rev = self.rev_map.get((row["transcript_id"], new[0]))
        if rev is None:
            self._note("re-anchorings onto transcript revisions that did not come along were not merged")
            return
        if (row["revision"], row["start"], row["end"], row["status"]) == (rev, new[1], new[2], "active") \
                or row["revision"] > rev:
            self._absorb(e)  # already there (this project re-anchored it too), or moved on since
            return
        start, end = int(new[1]), int(new[2])
        line_start, line_end, turn = self.positions(row["transcript_id"], rev, start, end)
        digest = sha256_text(self.text(row["transcript_id"], rev)[start:end])
        similarity = None if p.get("method") == "exact" else p.get("similarity")
        self.store.conn.execute(
            "UPDATE codings SET status = 'active', revision = ?, start = ?, end = ?, line_start = ?, line_end = ?, "
            "turn_n = ?, quote_sha256 = ?, anchor_similarity = ?, anchor_candidates = NULL WHERE id = ?",
            (rev, start, end, line_start, line_end, turn, digest, similarity, row["id"]))
        self._log(e, {**p, "coding": row["id"], "old": [row["revision"], row["start"], row["end"]],
                      "new": [rev, start, end], "old_sha256": row["quote_sha256"], "quote_sha256": digest})

    def _coding_orphaned(self, e: _Event) -> None:
        p = e.p
        row = self._coding(e)
        if row is None:
            return
        rev = self.rev_map.get((row["transcript_id"], p.get("new_revision")))
        if rev is None or row["status"] == "orphaned" or row["revision"] >= rev:
            self._absorb(e)
            return
        candidates = []
        for c in p.get("candidates") or []:
            if isinstance(c, list) and len(c) == 4:
                s, t = int(c[1]), int(c[2])
                ls, le, _ = self.positions(row["transcript_id"], rev, s, t)
                candidates.append({"start": s, "end": t, "line_start": ls, "line_end": le, "similarity": c[3],
                                   "text": self.text(row["transcript_id"], rev)[s:t]})
        self.store.conn.execute(
            "UPDATE codings SET status = 'orphaned', anchor_candidates = ? WHERE id = ?",
            (json.dumps({"revision": rev, "candidates": candidates}, ensure_ascii=False), row["id"]))
        self._log(e, {**p, "coding": row["id"], "old": [row["revision"], row["start"], row["end"]],
                      "new_revision": rev, "candidates": [[rev, c["start"], c["end"], c["similarity"]]
                                                          for c in candidates]})

    # -- memos ----------------------------------------------------------------------------------
    def _memo_added(self, e: _Event) -> None:
        p = e.p
        if self.other_memos is None:
            self.other_memos = {r["id"]: r for r in self.other.conn.execute("SELECT * FROM memos")}
            self.redacted_memos = {r[0] for r in self.other.conn.execute(
                "SELECT json_extract(payload, '$.id') FROM events WHERE kind = 'text.redacted' AND "
                "json_extract(payload, '$.table') = 'memos'")}
        o = self.other_memos.get(p.get("memo"))
        if o is None:
            self._note("memos the other copy no longer stores were not merged")
            return
        if "text_sha256" in p and sha256_text(o["text"]) != p["text_sha256"] and o["id"] not in self.redacted_memos:
            raise self._tampered(f"memo {o['id']}: its text does not hash to what its log says")
        target = o["target"]
        if o["target_kind"] == "coding" and target is not None and target.isdigit():
            mapped = self.coding_map.get(int(target))
            if mapped is None:
                self._note("memos on codings that did not come along were not merged")
                return
            target = str(mapped)
        cur = self.store.conn.execute(
            "INSERT INTO memos(target_kind, target, text, phase, coder, created) VALUES (?,?,?,?,?,?)",
            (o["target_kind"], target, o["text"], o["phase"], o["coder"], o["created"]))
        self.memo_map[int(o["id"])] = int(cur.lastrowid)
        payload = {k: v for k, v in p.items() if k != "text"}
        payload.update(memo=int(cur.lastrowid), target=target, text_sha256=sha256_text(o["text"]))
        self._log(e, payload)

    _journal_added = _memo_added

    def _text_redacted(self, e: _Event) -> None:
        p = e.p
        table, name = p.get("table"), p.get("field")
        if table == "memos" and isinstance(p.get("id"), int):
            target = self.memo_map.get(p["id"])
        elif table == "codings" and isinstance(p.get("id"), int):
            target = self.coding_map.get(p["id"])
        else:
            self._note("redactions of transcript text and logged texts are not merged: repeat them here "
                       "('rta anonymise purge', 'rta memo redact')")
            return
        if target is None:
            return
        current = self.store.conn.execute(f"SELECT {name} FROM {table} WHERE id = ?", (target,)).fetchone()
        new = self.other.conn.execute(f"SELECT {name} FROM {table} WHERE id = ?", (p["id"],)).fetchone()
        if current is None or new is None or not isinstance(current[0], str) or not isinstance(new[0], str):
            return
        if current[0] == new[0]:
            self._absorb(e)
            return
        self.store.conn.execute(f"UPDATE {table} SET {name} = ? WHERE id = ?", (new[0], target))
        self._log(e, {**p, "id": target, "old_sha256": sha256_text(current[0]), "new_sha256": sha256_text(new[0])})

    # -- after the events -----------------------------------------------------------------------
    def _settle(self) -> None:
        """Active codings on a revision that is no longer current (this project's, when a newer
        revision came with the merge; the other copy's, coded on a revision this project had
        already replaced) move to the current one, as when a revision is added; pending
        suggestions likewise."""
        from rta.anchor import reanchor_codings, settle_suggestions

        rows = self.store.conn.execute(
            "SELECT DISTINCT c.transcript_id, c.revision, t.revision FROM codings c JOIN transcripts t ON "
            "t.id = c.transcript_id WHERE c.status = 'active' AND c.revision < t.revision "
            "ORDER BY c.transcript_id, c.revision").fetchall()
        for tid, old, new in rows:
            moved = reanchor_codings(self.store, tid, old, new, self.who)
            self.result.reanchored += len(moved)
            orphaned = sum(1 for m in moved if m.method == "orphaned")
            if orphaned:
                self._note(f"{orphaned} coding(s) of '{tid}' lost their anchor in the merged revision: see 'rta orphans'")
        settle_suggestions(self.store, self.who)

    def _informants(self) -> None:
        """Informants the merged transcripts declare, unknown here: added as the other copy has them."""
        have = {r[0] for r in self.store.conn.execute("SELECT code FROM informants")}
        used = {r[0] for r in self.store.conn.execute("SELECT DISTINCT informant FROM turns WHERE informant IS NOT NULL")}
        missing = used - have
        if not missing:
            return
        rows = [tuple(r) for r in self.other.conn.execute("SELECT code, role, grp, attributes, position FROM informants")
                if r[0] in missing]
        self.store.conn.executemany("INSERT OR IGNORE INTO informants(code, role, grp, attributes, position) "
                                    "VALUES (?,?,?,?,?)", rows)
        self.store.log_informants(self.who)
