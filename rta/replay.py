"""Replaying the log: the state of every table as the logged decisions say it should be.

The log is the source of truth. :func:`replay` reads the events in order and builds, for each
table a report or export relies on, the rows the decisions created and the value each field
should have, with the event that says so (:class:`Expect`). :func:`rta.audit.audit` compares
that with the tables: a row no event explains, an event whose row is missing, and a field that
differs are failures naming the table, the row and the field.

What the log holds for each table:

* **transcripts, transcript_revisions**: ``transcript.added``/``transcript.revised`` (revision,
  text sha256, source, coder; ``turns_sha256``, ``metadata_sha256`` and ``note_sha256`` since
  rta records them); ``anonymise.applied`` must agree with the revision it names.
* **turns** are derived from a revision's text: their canonical hash (:func:`rta.rowhash.turns_sha256`) is
  logged with the revision; for an older log they are re-derived by parsing the stored text
  with the project's registry (the audit says which it used).
* **informants**: ``informants.synced`` (the whole table, logged whenever it changes);
  ``informant.renamed`` carries the new turn hash of every revision whose turns it re-attributed.
* **codebook_versions, codes**: ``codebook.imported`` (content sha256, ``codes_sha256`` of the
  code rows; an older log: the codes are re-parsed from the stored content).
* **codings**: ``coding.*``; line numbers and turn are re-derived from the revision text; a
  coding (or memo) imported from another tool records its coder and date there (``imported``).
* **suggestions**: ``suggestions.generated`` (the ids and a hash of the rows it inserted) and
  each ``suggestion.*`` decision; the rows as inserted are restored from the decisions and
  hashed again.
* **themes, theme_codes**: ``theme.*`` (each carries the rows after the change, ``after``).
* **manuscript.verified** (``rta verify``) changes no table: the entry itself must hold together
  (:func:`rta.verify.check_logged`).
* **featured extracts** live only in the log (``extract.featured``/``extract.unfeatured``,
  :mod:`rta.featured`): each event must name a theme and a coding the log created and log the
  order the decisions before it give;
* **memos**: ``memo.added``/``journal.added`` (the text's sha256); **meta**: the phase from
  ``phase.changed``; **coders**: the coders of the events; **event_texts**: the free text of a
  decision (a reason, a review memo) against the sha256 in its event's payload.

Free text is logged as a hash; a ``text.redacted`` event ``{"table", "id", "field",
"old_sha256", "new_sha256"}`` (written by the redaction commands) makes the new text the one
the log expects.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, NamedTuple

from rta.rowhash import _sha256, rows_sha256
from rta.store import FREE_TEXT_FIELDS, Store

THEME_FIELDS = ("name", "definition", "central_concept", "origin", "status", "parent", "opposite", "guid", "source",
                "version", "created", "updated")
TIME_SLACK = timedelta(seconds=300)  # a row's timestamp is taken in the transaction that logs its event

# Free text whose table is not event_texts: (event kind, payload field) -> where the text lives.
EXTERNAL_TEXTS = {("memo.added", "text"), ("journal.added", "text"), ("coding.added", "memo"),
                  ("transcript.added", "note"), ("transcript.revised", "note")}


class Expect(NamedTuple):
    """What the log says one field holds: ``value`` set by event ``seq`` (``kind``). ``how``:
    'equal'; 'sha256' (the field's text must hash to ``value``); 'time' (a timestamp written in
    the transaction of the event stamped ``value``); 'content' (codebook content whose UTF-8
    bytes, with or without a BOM, hash to ``value``). A tuple: a replay makes one per field."""

    value: Any
    seq: int
    kind: str
    how: str = "equal"

    def holds(self, actual: Any) -> bool:
        if self.how == "equal":
            return actual == self.value
        if self.how == "sha256":
            return isinstance(actual, str) and _sha256(actual) == self.value
        if self.how == "content":
            if not isinstance(actual, str):
                return False
            data = actual.encode("utf-8")
            return self.value in (hashlib.sha256(data).hexdigest(), hashlib.sha256(b"\xef\xbb\xbf" + data).hexdigest())
        if self.how == "time":
            return _near(actual, self.value)
        raise ValueError(self.how)


def _near(actual: Any, logged: str) -> bool:
    try:
        row = datetime.fromisoformat(str(actual).replace("Z", "+00:00"))
        event = datetime.fromisoformat(logged.replace("Z", "+00:00"))
    except ValueError:
        return False
    return event - TIME_SLACK <= row <= event + timedelta(seconds=2)


@dataclass
class Problem:
    """An event the replay cannot reconcile with the rest of the log."""

    seq: int
    kind: str
    cause: str


@dataclass
class Replay:
    """The tables as the log says they are.

    ``rows[table][key][field]`` is what the log says (a key with no fields: the row must exist);
    ``made[table][key]`` the event that created the row; ``open`` the tables whose rows an
    older log does not fully account for (rows there without an event are not failures);
    ``turns[(transcript, revision)]`` the logged turn hash (None: an older log); ``codes[version]``
    the logged code-rows hash (None: older); ``batches`` the ``suggestions.generated`` runs
    (seq, first id, last id, rows hash, short row digests); ``suggestion_origin[id]`` the values of a suggestion
    before its first logged change; ``derive`` the codings and suggestions whose line numbers
    and turn follow from their logged span; ``notes`` what could only be checked partly."""

    rows: dict[str, dict[Any, dict[str, Expect]]] = field(default_factory=dict)
    made: dict[str, dict[Any, tuple[int, str]]] = field(default_factory=dict)
    open: set[str] = field(default_factory=set)
    turns: dict[tuple[str, int], Expect | None] = field(default_factory=dict)
    codes: dict[int, Expect | None] = field(default_factory=dict)
    batches: list[tuple[int, int, int, str, str | None]] = field(default_factory=list)
    suggestion_origin: dict[int, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: int = 0

    def row(self, table: str, key: Any, seq: int, kind: str) -> dict[str, Expect]:
        """The expected row ``key`` of ``table``, created by event ``seq`` if new."""
        rows = self.rows.setdefault(table, {})
        if key not in rows:
            rows[key] = {}
            self.made.setdefault(table, {})[key] = (seq, kind)
        return rows[key]

    def existing(self, table: str, key: Any) -> dict[str, Expect] | None:
        return self.rows.get(table, {}).get(key)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


class _Replayer:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.r = Replay()
        self.phase = 1
        self.codebook_version: int | None = None
        self.revision_sha: dict[tuple[str, int], str] = {}
        self.generated_without_ids = False
        self.payloads: dict[int, dict[str, Any]] = {}  # span changes, for their undo
        self.featured: dict[int, list[int]] = {}  # theme id -> featured coding ids (rta.featured)

    # -- one event ------------------------------------------------------------------------
    def apply(self, seq: int, ts: str, coder: str | None, phase: int | None, kind: str, p: dict[str, Any]) -> None:
        r = self.r
        if coder:
            if r.existing("coders", coder) is None:
                r.row("coders", coder, seq, kind)["first_seen"] = Expect(ts, seq, kind, "time")
        for name in FREE_TEXT_FIELDS:
            digest = p.get(f"{name}_sha256")
            if isinstance(digest, str) and (kind, name) not in EXTERNAL_TEXTS:
                r.row("event_texts", (seq, name), seq, kind)["text"] = Expect(digest, seq, kind, "sha256")
        # (a decision merged from another copy keeps the phase it was made in there)
        if kind != "phase.changed" and phase is not None and phase != self.phase and "merged" not in p:
            r.problems.append(Problem(seq, kind, f"the entry is stamped phase {phase}, but the log had moved the "
                                                 f"project to phase {self.phase} (the phase was changed by hand)"))
        handler = getattr(self, "_" + kind.replace(".", "_"), None)
        if handler is not None:
            handler(seq, ts, coder, phase, kind, p)

    # -- project, phases, informants --------------------------------------------------------
    def _project_created(self, seq, ts, coder, phase, kind, p):
        self.r.row("meta", "name", seq, kind)["value"] = Expect(p.get("name"), seq, kind)
        self.r.row("meta", "phase", seq, kind)["value"] = Expect("1", seq, kind)

    def _phase_changed(self, seq, ts, coder, phase, kind, p):
        to = p.get("to")
        self.r.row("meta", "phase", seq, kind)["value"] = Expect(str(to), seq, kind)
        if isinstance(to, int):
            self.phase = to
        if phase is not None and phase != to:
            self.r.problems.append(Problem(seq, kind, f"the entry is stamped phase {phase}, not the phase {to} it "
                                                      "moved to"))

    def _informants_synced(self, seq, ts, coder, phase, kind, p):
        rows = p.get("rows") or []
        if rows_sha256(rows) != p.get("sha256"):
            self.r.problems.append(Problem(seq, kind, "the informant rows do not hash to the sha256 logged with them"))
        table = self.r.rows.setdefault("informants", {})
        for code in list(table):
            if code not in {row[0] for row in rows}:
                del table[code]
        for code, role, grp, attributes, position in rows:
            row = self.r.row("informants", code, seq, kind)
            for name, value in (("role", role), ("grp", grp), ("attributes", attributes), ("position", position)):
                row[name] = Expect(value, seq, kind)

    # -- transcripts -------------------------------------------------------------------------
    def _transcript_added(self, seq, ts, coder, phase, kind, p):
        tid, rev, sha = p.get("transcript"), p.get("revision"), p.get("sha256")
        if not isinstance(tid, str) or not isinstance(rev, int):
            self.r.problems.append(Problem(seq, kind, "names no transcript revision"))
            return
        current = self.r.existing("transcripts", tid)
        previous = current["revision"].value if current and "revision" in current else 0
        if rev != previous + 1:
            self.r.problems.append(Problem(seq, kind, f"stores revision {rev} of '{tid}' after revision {previous}"))
        rev_row = self.r.row("transcript_revisions", (tid, rev), seq, kind)
        rev_row["text"] = Expect(sha, seq, kind, "sha256")
        rev_row["sha256"] = Expect(sha, seq, kind)
        rev_row["source_path"] = Expect(p.get("source"), seq, kind)
        rev_row["coder"] = Expect(coder, seq, kind)
        rev_row["created"] = Expect(ts, seq, kind, "time")
        if "note_sha256" in p:
            note = p["note_sha256"]
            rev_row["note"] = Expect(note, seq, kind, "equal" if note is None else "sha256")
        self.revision_sha[(tid, rev)] = sha
        row = self.r.row("transcripts", tid, seq, kind)
        if "added" not in row:
            row["added"] = Expect(ts, seq, kind, "time")
        row["revision"] = Expect(rev, seq, kind)
        row["source_path"] = Expect(p.get("source"), seq, kind)
        if "metadata_sha256" in p:
            row["metadata"] = Expect(p["metadata_sha256"], seq, kind, "sha256")
        else:
            row.pop("metadata", None)
            self.r.note("transcript metadata: not logged by the rta that stored some revisions (not checked for them)")
        digest = p.get("turns_sha256")
        self.r.turns[(tid, rev)] = Expect(digest, seq, kind, "sha256") if isinstance(digest, str) else None

    _transcript_revised = _transcript_added

    def _anonymise_applied(self, seq, ts, coder, phase, kind, p):
        key = (p.get("transcript"), p.get("revision"))
        if key not in self.revision_sha:
            self.r.problems.append(Problem(seq, kind, f"names revision {key[1]} of '{key[0]}', which no event stored"))
        elif p.get("sha256") is not None and p.get("sha256") != self.revision_sha[key]:
            self.r.problems.append(Problem(seq, kind, f"records another text hash for revision {key[1]} of '{key[0]}' "
                                                      "than the event that stored it"))

    def _informant_renamed(self, seq, ts, coder, phase, kind, p):
        """``rta informants rename``: the turns of each revision the informant spoke in were
        attributed anew; the event carries their new hash (rta.informant_rename)."""
        for entry in p.get("revisions") or []:
            if not (isinstance(entry, list) and len(entry) == 3):
                self.r.problems.append(Problem(seq, kind, f"names a revision it cannot read: {entry!r}"))
                continue
            tid, rev, digest = entry
            if (tid, rev) not in self.r.turns:
                self.r.problems.append(Problem(seq, kind, f"re-attributes the turns of revision {rev} of '{tid}', "
                                                          "which no event stored"))
                continue
            self.r.turns[(tid, rev)] = Expect(digest, seq, kind, "sha256")

    # -- codebook ------------------------------------------------------------------------------
    def _codebook_imported(self, seq, ts, coder, phase, kind, p):
        version = p.get("version")
        if not isinstance(version, int):
            self.r.problems.append(Problem(seq, kind, "names no codebook version"))
            return
        row = self.r.row("codebook_versions", version, seq, kind)
        row["name"] = Expect(p.get("name"), seq, kind)
        row["sha256"] = Expect(p.get("sha256"), seq, kind)
        row["content"] = Expect(p.get("sha256"), seq, kind, "content")
        row["coder"] = Expect(coder, seq, kind)
        row["imported"] = Expect(ts, seq, kind, "time")
        if "source" in p:
            row["source_path"] = Expect(p["source"], seq, kind)
        digest = p.get("codes_sha256")
        self.r.codes[version] = Expect(digest, seq, kind, "sha256") if isinstance(digest, str) else None
        self.codebook_version = version

    # -- codings -------------------------------------------------------------------------------
    def _coding(self, seq, kind, p) -> dict[str, Expect] | None:
        cid = p.get("coding")
        row = self.r.existing("codings", cid) if isinstance(cid, int) else None
        if row is None:
            self.r.problems.append(Problem(seq, kind, f"concerns coding {cid}, which no 'coding.added' event added"))
        return row

    def _coding_added(self, seq, ts, coder, phase, kind, p):
        cid = p.get("coding")
        if not isinstance(cid, int):
            self.r.problems.append(Problem(seq, kind, "names no coding"))
            return
        row = self.r.row("codings", cid, seq, kind)
        for name, key in (("transcript_id", "transcript"), ("revision", "revision"), ("start", "start"),
                          ("end", "end"), ("code", "code"), ("origin", "origin"), ("suggestion_id", "suggestion"),
                          ("quote_sha256", "quote_sha256")):
            row[name] = Expect(p.get(key), seq, kind)
        row["status"] = Expect("active", seq, kind)
        self._author(row, p, seq, ts, coder, kind)
        row["anchor_similarity"] = Expect(None, seq, kind)
        if "codebook_version" in p:
            row["codebook_version"] = Expect(p["codebook_version"], seq, kind)
        elif self.codebook_version is not None:
            row["codebook_version"] = Expect(self.codebook_version, seq, kind)
            self.r.note("codings: the codebook version of codings logged by an older rta is taken to be the latest "
                        "imported before them")
        if "memo_sha256" in p:
            memo = p["memo_sha256"]
            row["memo"] = Expect(memo, seq, kind, "equal" if memo is None else "sha256")
        else:
            row["memo"] = Expect(p.get("memo"), seq, kind)

    def _author(self, row, p, seq, ts, coder, kind):
        """Who wrote a coding or memo, and when: the event's coder and time, or, for one
        imported from another tool (``imported``), the coder and date recorded there."""
        imported = p.get("imported") if isinstance(p.get("imported"), dict) else {}
        row["coder"] = Expect(imported.get("coder") or coder, seq, kind)
        row["created"] = (Expect(imported["created"], seq, kind) if imported.get("created")
                          else Expect(ts, seq, kind, "time"))

    def _coding_removed(self, seq, ts, coder, phase, kind, p):
        row = self._coding(seq, kind, p)
        if row is not None:
            row["status"] = Expect("removed", seq, kind)

    def _coding_orphaned(self, seq, ts, coder, phase, kind, p):
        row = self._coding(seq, kind, p)
        if row is not None:
            row["status"] = Expect("orphaned", seq, kind)

    def _coding_recoded(self, seq, ts, coder, phase, kind, p):
        row = self._coding(seq, kind, p)
        if row is not None:
            row["code"] = Expect(p.get("code"), seq, kind)
            if "codebook_version" in p:
                row["codebook_version"] = Expect(p["codebook_version"], seq, kind)

    def _coding_reanchored(self, seq, ts, coder, phase, kind, p):
        row = self._coding(seq, kind, p)
        new = p.get("new")
        if row is None or not (isinstance(new, list) and len(new) == 3):
            return
        for name, value in zip(("revision", "start", "end"), new):
            row[name] = Expect(value, seq, kind)
        row["quote_sha256"] = Expect(p.get("quote_sha256"), seq, kind)
        row["status"] = Expect("active", seq, kind)
        row["anchor_similarity"] = Expect(None if p.get("method") == "exact" else p.get("similarity"), seq, kind)

    # -- suggestions ---------------------------------------------------------------------------
    def _suggestion(self, seq, kind, sid: Any) -> dict[str, Expect] | None:
        if not isinstance(sid, int):
            self.r.problems.append(Problem(seq, kind, "names no suggestion"))
            return None
        row = self.r.existing("suggestions", sid)
        if row is None:
            if self.generated_without_ids:
                return self.r.row("suggestions", sid, seq, kind)  # an older log: inserted without ids
            self.r.problems.append(Problem(seq, kind, f"concerns suggestion {sid}, which no 'suggestions.generated' "
                                                      "event inserted"))
        return row

    def _origin(self, sid: int, **values: Any) -> None:
        origin = self.r.suggestion_origin.setdefault(sid, {})
        for name, value in values.items():
            origin.setdefault(name, value)

    def _suggestions_generated(self, seq, ts, coder, phase, kind, p):
        ids = p.get("ids")
        if not isinstance(ids, list):
            self.generated_without_ids = True
            self.r.open.add("suggestions")
            self.r.note("suggestions: rows inserted by an older rta are not logged one by one (only their decisions "
                        "are checked)")
            return
        if len(ids) != 2:
            return  # nothing new
        first, last = ids
        self.r.batches.append((seq, first, last, p.get("rows_sha256"), p.get("row_digests")))
        for sid in range(first, last + 1):
            row = self.r.row("suggestions", sid, seq, kind)
            for name in ("decided_by", "decided_at", "coding_id"):
                row[name] = Expect(None, seq, kind)
            row["status"] = Expect("suggested", seq, kind)

    def _as_decided(self, row, p, seq, kind, code_key="code"):
        """A decision records the suggestion's code, score and method as the person saw them."""
        for name, key in (("code", code_key), ("score", "score"), ("method", "method")):
            if key in p:
                row[name] = Expect(p[key], seq, kind)

    def _suggestion_skipped(self, seq, ts, coder, phase, kind, p):
        row = self._suggestion(seq, kind, p.get("suggestion"))
        if row is not None:
            self._as_decided(row, p, seq, kind)

    def _decided(self, row, status, seq, ts, coder, kind, by=None):
        row["status"] = Expect(status, seq, kind)
        row["decided_by"] = Expect(by or coder, seq, kind)
        row["decided_at"] = Expect(ts, seq, kind, "time")

    def _suggestion_accepted(self, seq, ts, coder, phase, kind, p):
        row = self._suggestion(seq, kind, p.get("suggestion"))
        if row is not None:
            self._as_decided(row, p, seq, kind)
            self._decided(row, "accepted", seq, ts, coder, kind)
            row["coding_id"] = Expect(p.get("coding"), seq, kind)

    def _suggestion_rejected(self, seq, ts, coder, phase, kind, p):
        row = self._suggestion(seq, kind, p.get("suggestion"))
        if row is not None:
            self._as_decided(row, p, seq, kind)
            self._decided(row, "rejected", seq, ts, coder, kind)

    def _suggestion_recoded(self, seq, ts, coder, phase, kind, p):
        row = self._suggestion(seq, kind, p.get("suggestion"))
        if row is not None:
            self._as_decided(row, p, seq, kind, code_key="from")
            self._decided(row, "rejected", seq, ts, coder, kind)
            row["coding_id"] = Expect(p.get("coding"), seq, kind)

    def _suggestion_retired(self, seq, ts, coder, phase, kind, p):
        row = self._suggestion(seq, kind, p.get("suggestion"))
        if row is not None:
            self._decided(row, "retired", seq, ts, coder, kind, by="rta")

    def _suggestion_span_changed(self, seq, ts, coder, phase, kind, p):
        sid = p.get("suggestion")
        row = self._suggestion(seq, kind, sid)
        old, new = p.get("old"), p.get("new")
        if row is None or not (isinstance(old, list) and isinstance(new, list) and len(old) == len(new) == 4):
            return
        names = ("start", "end", "line_start", "line_end")
        self._origin(sid, **dict(zip(names, old)))
        for name, value in zip(names, new):
            row[name] = Expect(value, seq, kind)

    def _suggestion_reanchored(self, seq, ts, coder, phase, kind, p):
        sid = p.get("suggestion")
        row = self._suggestion(seq, kind, sid)
        old, new = p.get("old"), p.get("new")
        if row is None or not (isinstance(old, list) and isinstance(new, list) and len(old) == len(new) == 3):
            return
        names = ("revision", "start", "end")
        self._origin(sid, **dict(zip(names, old)))
        for name, value in zip(names, new):
            row[name] = Expect(value, seq, kind)
        row["turn_n"] = Expect("derive", seq, kind)

    def _suggestion_undone(self, seq, ts, coder, phase, kind, p):
        row = self._suggestion(seq, kind, p.get("suggestion"))
        if row is None:
            return
        undone = p.get("kind")
        if undone in ("suggestion.accepted", "suggestion.recoded", "suggestion.rejected"):
            row["status"] = Expect("suggested", seq, kind)
            row["decided_by"] = Expect(None, seq, kind)
            row["decided_at"] = Expect(None, seq, kind)
            if undone != "suggestion.rejected":
                row["coding_id"] = Expect(None, seq, kind)
        elif undone == "suggestion.span_changed":
            undone_seq = p.get("undoes")
            payload = self.payloads.get(undone_seq) if isinstance(undone_seq, int) else None
            old = (payload or {}).get("old")
            if isinstance(old, list) and len(old) == 4:
                for name, value in zip(("start", "end", "line_start", "line_end"), old):
                    row[name] = Expect(value, seq, kind)
            else:
                self.r.problems.append(Problem(seq, kind, f"undoes event {undone_seq}, which is no span change"))

    def _suggestions_recoded(self, seq, ts, coder, phase, kind, p):
        duplicates = p.get("duplicates") or {}
        for sid in p.get("suggestions") or []:
            row = self._suggestion(seq, kind, sid)
            if row is None:
                continue
            self._origin(sid, code=p.get("old_code"))
            if str(sid) in duplicates:  # the new code already had this suggestion: this one was decided
                row["code"] = Expect(p.get("old_code"), seq, kind)
                self._decided(row, "rejected", seq, ts, coder, kind)
            else:
                row["code"] = Expect(p.get("code"), seq, kind)

    # -- themes --------------------------------------------------------------------------------
    def _theme(self, seq, ts, coder, phase, kind, p):
        after = p.get("after")
        if isinstance(after, dict):
            for tid, state in after.items():
                self._theme_state(int(tid), state, seq, kind)
            return
        self.r.note("themes: changes logged by an older rta carry no row state (version and timestamps not "
                    "checked for them)")
        self._theme_semantic(seq, ts, kind, p)

    def _theme_state(self, tid: int, state: dict[str, Any], seq: int, kind: str) -> None:
        row = self.r.row("themes", tid, seq, kind)
        row.clear()
        for name in THEME_FIELDS:
            if name in state:
                row[name] = Expect(state[name], seq, kind)
        self._theme_codes(tid, state.get("codes") or [], seq, kind)

    def _theme_codes(self, tid: int, codes: Iterable[str], seq: int, kind: str) -> None:
        table = self.r.rows.setdefault("theme_codes", {})
        for key in [k for k in table if k[0] == tid]:
            del table[key]
        for code in codes:
            self.r.row("theme_codes", (tid, code), seq, kind)
            self.r.made["theme_codes"][(tid, code)] = (seq, kind)

    def _codes_of(self, tid: int) -> list[str]:
        return [k[1] for k in self.r.rows.get("theme_codes", {}) if k[0] == tid]

    def _theme_semantic(self, seq, ts, kind, p):
        ids = [i for i in p.get("ids") or [] if isinstance(i, int)]
        if not ids:
            self.r.problems.append(Problem(seq, kind, "names no theme"))
            return
        first = ids[0]

        def theme(tid: int) -> dict[str, Expect] | None:
            row = self.r.existing("themes", tid)
            if row is None:
                self.r.problems.append(Problem(seq, kind, f"concerns theme {tid}, which no event created"))
            return row

        if kind in ("theme.added", "theme.proposed"):
            snap = p.get("snapshot") or {"name": p.get("theme"), "definition": "", "central_concept": "",
                                          "origin": "inductive", "status": "candidate", "codes": p.get("codes") or []}
            row = self.r.row("themes", first, seq, kind)
            for name in ("name", "definition", "central_concept", "origin", "status"):
                if name in snap:
                    row[name] = Expect(snap[name], seq, kind)
            row["source"] = Expect(p.get("source") or "proposed", seq, kind)
            row["created"] = Expect(ts, seq, kind, "time")
            self._theme_codes(first, snap.get("codes") or [], seq, kind)
        elif kind in ("theme.assigned", "theme.unassigned"):
            if theme(first) is not None:
                codes = set(self._codes_of(first))
                changed = set(p.get("codes") or [])
                self._theme_codes(first, codes | changed if kind == "theme.assigned" else codes - changed, seq, kind)
        elif kind == "theme.renamed":
            row = theme(first)
            if row is not None:
                row["name"] = Expect(p.get("new"), seq, kind)
            for other in self.r.rows.get("themes", {}).values():
                for name in ("opposite", "parent"):
                    if name in other and other[name].value == p.get("old"):
                        other[name] = Expect(p.get("new"), seq, kind)
        elif kind == "theme.defined":
            row = theme(first)
            if row is not None:
                for name, value in (p.get("new") or {}).items():
                    row[name] = Expect(value, seq, kind)
        elif kind == "theme.discarded":
            row = theme(first)
            if row is not None:
                row["status"] = Expect("discarded", seq, kind)
        elif kind == "theme.merged":
            row = self.r.existing("themes", first)
            if row is None:
                row = self.r.row("themes", first, seq, kind)
                row.update(name=Expect(p.get("theme"), seq, kind), status=Expect("candidate", seq, kind),
                           source=Expect("merge", seq, kind), created=Expect(ts, seq, kind, "time"))
            self._theme_codes(first, p.get("codes") or [], seq, kind)
            for tid in ids[1:]:
                other = theme(tid)
                if other is not None:
                    other["status"] = Expect("discarded", seq, kind)
        elif kind == "theme.split":
            row = theme(first)
            parts = p.get("parts") or {}
            given = {c for codes in parts.values() for c in codes}
            if row is not None:
                if p.get("kept"):
                    self._theme_codes(first, set(self._codes_of(first)) - given, seq, kind)
                else:
                    row["status"] = Expect("discarded", seq, kind)
            for tid in ids[1:]:  # which part got which id is not logged by older rta: the rows must exist
                self.r.row("themes", tid, seq, kind)
                self.r.open.add("theme_codes")
            self.r.note("themes: a split logged by an older rta does not say which new theme got which codes")

    _theme_added = _theme_assigned = _theme_unassigned = _theme_renamed = _theme_defined = _theme
    _theme_discarded = _theme_merged = _theme_split = _theme_proposed = _theme

    # -- memos ---------------------------------------------------------------------------------
    def _memo_added(self, seq, ts, coder, phase, kind, p):
        mid = p.get("memo")
        if not isinstance(mid, int):
            self.r.problems.append(Problem(seq, kind, "names no memo"))
            return
        row = self.r.row("memos", mid, seq, kind)
        row["target_kind"] = Expect(p.get("on"), seq, kind)
        row["target"] = Expect(p.get("target"), seq, kind)
        if "text_sha256" in p:
            row["text"] = Expect(p["text_sha256"], seq, kind, "sha256")
        else:
            row["text"] = Expect(p.get("text"), seq, kind)
        row["phase"] = Expect(phase, seq, kind)
        self._author(row, p, seq, ts, coder, kind)

    _journal_added = _memo_added

    # -- manuscripts ---------------------------------------------------------------------------
    def _manuscript_verified(self, seq, ts, coder, phase, kind, p):
        """``rta verify`` changes no table; its entry must hold together (a hash of the
        manuscript, counts that add up to the extracts and agree with the outcome claimed)."""
        from rta.verify import check_logged

        cause = check_logged(p)
        if cause is not None:
            self.r.problems.append(Problem(seq, kind, cause))
    # -- featured extracts (rta.featured): the log alone holds them -----------------------------
    def _extract_featured(self, seq, ts, coder, phase, kind, p):
        from rta.featured import apply

        theme, coding = p.get("theme_id"), p.get("coding")
        if isinstance(theme, int) and self.r.existing("themes", theme) is None:
            self.r.problems.append(Problem(seq, kind, f"concerns theme {theme}, which no event created"))
        if isinstance(coding, int) and self.r.existing("codings", coding) is None:
            self.r.problems.append(Problem(seq, kind, f"concerns coding {coding}, which no 'coding.added' event added"))
        problem = apply(self.featured, kind, p)
        if problem is not None:
            self.r.problems.append(Problem(seq, kind, problem))

    _extract_unfeatured = _extract_featured

    # -- redaction -----------------------------------------------------------------------------
    def _text_redacted(self, seq, ts, coder, phase, kind, p):
        table, name = p.get("table"), p.get("field")
        key = _redaction_key(table, p.get("id"))
        if table == "event_texts" and not isinstance(key, tuple):
            key, name = (key, name), "text"  # {"id": SEQ, "field": "reason"}: that event's reason
        row = self.r.existing(table, key) if isinstance(table, str) else None
        expect = row.get(name) if row is not None and isinstance(name, str) else None
        old, new = p.get("old_sha256"), p.get("new_sha256")
        if expect is None or expect.how not in ("sha256", "equal") or not isinstance(new, str):
            self.r.problems.append(Problem(seq, kind, f"redacts {table} {p.get('id')!r} {name}, which the log does "
                                                      "not record as free text"))
            return
        logged = expect.value if expect.how == "sha256" else (_sha256(expect.value) if isinstance(expect.value, str)
                                                               else None)
        if logged != old:
            self.r.problems.append(Problem(seq, kind, f"redacts {table} {p.get('id')!r} {name} from a text the log "
                                                      f"does not have (old sha256 {str(old)[:12]}…, the log says "
                                                      f"{str(logged)[:12]}…)"))
            return
        row[name] = Expect(new, seq, kind, "sha256")
        if table == "transcript_revisions" and name == "text":
            row["sha256"] = Expect(new, seq, kind)
            self.revision_sha[key] = new
            digest = p.get("turns_sha256")
            if isinstance(digest, str):
                self.r.turns[key] = Expect(digest, seq, kind, "sha256")
            self._purge_moves(seq, kind, p)

    def _purge_moves(self, seq, kind, p):
        """The spans a purge moved with the words of a rewritten revision (rta.purge)."""
        for moved in p.get("codings") or []:
            cid = moved.get("coding") if isinstance(moved, dict) else None
            row = self.r.existing("codings", cid) if isinstance(cid, int) else None
            new = moved.get("new") if isinstance(moved, dict) else None
            if row is None or not (isinstance(new, list) and len(new) == 2):
                self.r.problems.append(Problem(seq, kind, f"moves coding {cid!r}, which the log does not have"))
                continue
            row["start"], row["end"] = Expect(new[0], seq, kind), Expect(new[1], seq, kind)
            row["quote_sha256"] = Expect(moved.get("quote_sha256"), seq, kind)
        names = ("start", "end", "line_start", "line_end")
        for moved in p.get("suggestions") or []:
            sid = moved.get("suggestion") if isinstance(moved, dict) else None
            row = self._suggestion(seq, kind, sid)
            old, new = (moved.get("old"), moved.get("new")) if isinstance(moved, dict) else (None, None)
            if row is None or not (isinstance(old, list) and isinstance(new, list) and len(old) == len(new) == 4):
                continue
            self._origin(sid, **dict(zip(names, old)))
            for name, value in zip(names, new):
                row[name] = Expect(value, seq, kind)


def _redaction_key(table: Any, rid: Any) -> Any:
    """The row key a ``text.redacted`` event's ``id`` names in the replay's ``table``."""
    if table == "transcript_revisions":
        if isinstance(rid, dict):
            return (rid.get("transcript"), rid.get("revision"))
        if isinstance(rid, list) and len(rid) == 2:
            return (rid[0], rid[1])
        if isinstance(rid, str) and ":" in rid:
            tid, _, rev = rid.rpartition(":")
            return (tid, int(rev)) if rev.isdigit() else rid
    if table == "event_texts":
        if isinstance(rid, list) and len(rid) == 2:
            return (rid[0], rid[1])
        if isinstance(rid, dict):
            return (rid.get("seq"), rid.get("field"))
    return rid


def replay(store: Store) -> Replay:
    """The state of every table as the logged events say it should be (see the module doc)."""
    rp = _Replayer(store)
    for seq, ts, coder, phase, kind, payload in store.conn.execute(
            "SELECT seq, ts, coder, phase, kind, payload FROM events ORDER BY seq"):
        try:
            p = json.loads(payload)
        except ValueError:
            rp.r.problems.append(Problem(seq, kind, "its payload is not JSON (the entry was edited)"))
            continue
        if not isinstance(p, dict):
            continue
        rp.r.events += 1
        if kind == "suggestion.span_changed":
            rp.payloads[seq] = p
        rp.apply(seq, ts, coder, phase, kind, p)
    r = rp.r
    if "informants" not in r.rows:
        r.open.add("informants")
        r.note("informants: the table was never logged (a project from an older rta: logged from its next 'rta add')")
    if "meta" not in r.rows:
        r.open.add("meta")
    return r


def line_starts(text: str) -> list[int]:
    """Offsets where each line of ``text`` starts (for :func:`derive_positions`)."""
    starts, pos = [0], text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def derive_positions(lines: list[int], turns: list[tuple[int, int, int]], start: int, end: int
                     ) -> tuple[int, int, int | None]:
    """(line_start, line_end, turn) of the span ``start:end`` of a text whose lines start at
    ``lines``: 1-based lines as rta computes them (the last line is that of the last character),
    and the turn (``(n, start, end)`` rows, by start) that holds the whole span."""
    line_start = bisect.bisect_right(lines, start)
    line_end = bisect.bisect_right(lines, max(start, end - 1))
    turn = None
    i = bisect.bisect_right(turns, (start, float("inf"), 0)) - 1 if turns else -1
    if i >= 0 and turns[i][0] <= start and end <= turns[i][1]:
        turn = turns[i][2]
    return line_start, line_end, turn
