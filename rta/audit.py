"""Verification: is every quote still what the transcript says, and is the history intact?

``rta audit`` re-derives everything a supervisor relies on from the store itself:

* **chain**: the event log is unbroken (consecutive numbers, each entry's hash recomputed and
  chained to the previous one), so an edited or deleted log row shows;
* **transcript**: every stored revision's text still hashes to its recorded sha256;
* **quote**: every coding's span lies inside its revision and its text still hashes to the
  coding's stored quote hash;
* **code**: every coding's code exists in the codebook version it was coded with;
* **codebook**: every stored codebook version's content still matches its hash;
* **record**: every coding row agrees with the decisions logged for it (replaying
  ``coding.*`` events), so an edit that keeps the hashes consistent is caught as well; every
  memo agrees with the event that recorded it.

:func:`verify_report_html` checks the quotes of a built HTML report against the store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from rta.errors import RtaError
from rta.fsutil import sha256_text
from rta.store import GENESIS_HASH, Store, event_hash

KINDS = ("chain", "transcript", "quote", "code", "codebook", "record", "report")


@dataclass
class Failure:
    """One thing that does not verify: its kind, the cause in words and the ids involved."""

    kind: str
    cause: str
    ids: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = ", ".join(f"{k} {v}" for k, v in self.ids.items())
        return f"[{self.kind}] {where}: {self.cause}" if where else f"[{self.kind}] {self.cause}"


@dataclass
class AuditReport:
    """The outcome of an audit: what was checked (counts) and every failure."""

    checked: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

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
        return {"ok": self.ok, "checked": self.checked, "failures": [asdict(f) for f in self.failures]}

    def to_text(self) -> str:
        return "\n".join([self.summary(), *(f"  {f}" for f in self.failures)]) + "\n"


# --------------------------------------------------------------------------------------------
# The store


def audit(store: Store) -> AuditReport:
    """Verify the chain, transcripts, quotes, codes, codebook versions and coding records."""
    report = AuditReport()
    _check_chain(store, report)
    texts = _check_transcripts(store, report)
    _check_codebooks(store, report)
    _check_codings(store, texts, report)
    _check_memos(store, report)
    return report


def _check_memos(store: Store, report: AuditReport) -> None:
    """Each memo's text and target must be what its 'memo.added'/'journal.added' event says."""
    logged: dict[int, dict[str, Any]] = {}
    for r in store.conn.execute("SELECT payload FROM events WHERE kind IN ('memo.added', 'journal.added')"):
        try:
            p = json.loads(r["payload"])
        except ValueError:
            continue
        if isinstance(p.get("memo"), int):
            logged[p["memo"]] = p
    n = 0
    for m in store.conn.execute("SELECT id, target_kind, target, text FROM memos"):
        n += 1
        p = logged.get(m["id"])
        if p is None:
            report.add("record", "no 'memo.added' event in the log for this memo", memo=m["id"])
        elif (p.get("on"), p.get("target"), p.get("text")) != (m["target_kind"], m["target"], m["text"]):
            report.add("record", "memo differs from its logged text or target (edited by hand)", memo=m["id"])
    report.checked["memos"] = n


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


def _check_transcripts(store: Store, report: AuditReport) -> dict[tuple[str, int], str]:
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


def _check_codebooks(store: Store, report: AuditReport) -> None:
    n = 0
    for r in store.conn.execute("SELECT id, sha256, content FROM codebook_versions"):
        n += 1
        data = r["content"].encode("utf-8")
        if r["sha256"] not in (hashlib.sha256(data).hexdigest(), hashlib.sha256(b"\xef\xbb\xbf" + data).hexdigest()):
            report.add("codebook", "stored content no longer matches its hash", codebook_version=r["id"])
    report.checked["codebook versions"] = n


def _replay(store: Store) -> dict[int, dict[str, Any]]:
    """The state of each coding according to the log alone."""
    state: dict[int, dict[str, Any]] = {}
    for r in store.conn.execute("SELECT seq, kind, payload, coder FROM events WHERE kind LIKE 'coding.%' ORDER BY seq"):
        try:
            p = json.loads(r["payload"])
        except ValueError:
            continue  # reported by the chain check when edited
        cid = p.get("coding")
        if not isinstance(cid, int):
            continue
        kind = r["kind"]
        if kind == "coding.added":
            state[cid] = {"transcript_id": p.get("transcript"), "revision": p.get("revision"), "start": p.get("start"),
                          "end": p.get("end"), "code": p.get("code"), "quote_sha256": p.get("quote_sha256"),
                          "status": "active", "coder": r["coder"], "seq": r["seq"]}
            continue
        s = state.setdefault(cid, {"seq": r["seq"], "missing_added": True})
        if kind == "coding.removed":
            s["status"] = "removed"
        elif kind == "coding.orphaned":
            s["status"] = "orphaned"
        elif kind == "coding.recoded":
            s["code"] = p.get("code", s.get("code"))
        elif kind == "coding.reanchored":
            new = p.get("new") or [None, None, None]
            s.update(revision=new[0], start=new[1], end=new[2], status="active",
                     quote_sha256=p.get("quote_sha256", s.get("quote_sha256")))
        s["seq"] = r["seq"]
    return state


def _check_codings(store: Store, texts: dict[tuple[str, int], str], report: AuditReport) -> None:
    codes: dict[int, set[str]] = {}
    for r in store.conn.execute("SELECT codebook_version, name FROM codes"):
        codes.setdefault(r["codebook_version"], set()).add(r["name"])
    logged = _replay(store)
    n = 0
    rows = store.conn.execute(
        "SELECT id, transcript_id, revision, start, end, code, codebook_version, coder, status, quote_sha256 FROM codings"
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
        state = logged.get(cid)
        if state is None or state.get("missing_added"):
            report.add("record", "no 'coding.added' event in the log for this coding", coding=cid)
            continue
        diffs = [f"{k} is {r[k]!r}, the log says {state.get(k)!r}"
                 for k in ("transcript_id", "revision", "start", "end", "code", "status", "quote_sha256", "coder")
                 if state.get(k) is not None and state.get(k) != r[k]]
        if diffs:
            report.add("record", "differs from its logged decisions: " + "; ".join(diffs), coding=cid,
                       event=state["seq"])
    for cid in sorted(set(logged) - _ids(store)):
        report.add("record", "the log records this coding but the codings table does not have it", coding=cid)
    report.checked["codings"] = n


def _ids(store: Store) -> set[int]:
    return {r[0] for r in store.conn.execute("SELECT id FROM codings")}


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# A built HTML report


@dataclass
class ReportQuote:
    """One ``<blockquote class="quote">`` of a report: its data attributes and rendered text."""

    transcript: str | None
    revision: str | None
    start: str | None
    end: str | None
    sha256: str | None
    coding: str | None
    text: str
    line: int


class _QuoteParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.quotes: list[ReportQuote] = []
        self._bq: dict[str, Any] | None = None
        self._bq_depth = 0
        self._p_depth = 0  # >0 while inside <p class="quote-text">
        self._parts: list[str] = []
        self._seen_p = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "blockquote":
            if self._bq is not None:
                self._bq_depth += 1
            elif "data-sha256" in a or "quote" in (a.get("class") or "").split():
                self._bq = {**a, "line": self.getpos()[0]}
                self._bq_depth = 1
                self._parts = []
                self._seen_p = False
            return
        if self._bq is None:
            return
        if self._p_depth:
            self._p_depth += 1 if tag not in ("br", "wbr", "img") else 0
        elif tag == "p" and "quote-text" in (a.get("class") or "").split() and not self._seen_p:
            self._p_depth = 1
            self._seen_p = True

    def handle_endtag(self, tag: str) -> None:
        if self._bq is None:
            return
        if self._p_depth and tag not in ("br", "wbr", "img"):
            self._p_depth -= 1
            return
        if tag == "blockquote":
            self._bq_depth -= 1
            if self._bq_depth == 0:
                a = self._bq
                self.quotes.append(ReportQuote(a.get("data-transcript"), a.get("data-revision"), a.get("data-start"),
                                               a.get("data-end"), a.get("data-sha256"), a.get("data-coding"),
                                               "".join(self._parts), a["line"]))
                self._bq = None

    def handle_data(self, data: str) -> None:
        if self._bq is not None and self._p_depth:
            self._parts.append(data)


def report_quotes(html_text: str) -> list[ReportQuote]:
    """The quotes of a report, text HTML-unescaped exactly as a reader sees it."""
    parser = _QuoteParser()
    parser.feed(html_text)
    parser.close()
    return parser.quotes


def verify_report_html(project: Any, path: str | Path) -> AuditReport:
    """Check every quote of a built HTML report against the store: the rendered text must hash
    to its ``data-sha256`` and equal the stored transcript text at its offsets (and, when it
    names a coding, agree with that coding). Each quote that does not is named."""
    store: Store = getattr(project, "store", project)
    path = Path(path)
    try:
        html_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RtaError("report not found", path=path, hint="build it with 'rta report'") from None
    except UnicodeDecodeError as exc:
        raise RtaError(f"the report is not UTF-8 ({exc.reason})", path=path) from None
    report = AuditReport()
    quotes = report_quotes(html_text)
    for i, q in enumerate(quotes, start=1):
        ids: dict[str, Any] = {"quote": i, "line": q.line}
        if q.coding:
            ids["coding"] = q.coding
        label = f"«{_short(q.text, 50)}»"
        if not all([q.transcript, q.revision, q.start, q.end, q.sha256]):
            report.add("report", f"{label} lacks data-transcript/revision/start/end/sha256: it cannot be traced", **ids)
            continue
        ids["transcript"] = q.transcript
        if sha256_text(q.text) != q.sha256:
            report.add("report", f"{label} as rendered does not hash to its data-sha256 (the quote text was altered)", **ids)
        try:
            revision, start, end = int(q.revision), int(q.start), int(q.end)
        except ValueError:
            report.add("report", f"{label} has non-numeric revision/offsets", **ids)
            continue
        row = store.conn.execute(
            "SELECT text FROM transcript_revisions WHERE transcript_id=? AND revision=?", (q.transcript, revision)
        ).fetchone()
        if row is None:
            report.add("report", f"{label} cites {q.transcript} revision {revision}, which the project does not have", **ids)
            continue
        stored = row["text"][start:end]
        if not (0 <= start < end <= len(row["text"])):
            report.add("report", f"{label} cites offsets {start}-{end} outside the transcript", **ids)
        elif stored != q.text:
            report.add("report", f"{label} differs from the transcript at {start}-{end}, which reads «{_short(stored, 50)}»",
                       **ids)
        if q.coding:
            c = store.conn.execute("SELECT * FROM codings WHERE id=?", (q.coding,)).fetchone() if q.coding.isdigit() else None
            if c is None:
                report.add("report", f"{label} names coding {q.coding}, which does not exist", **ids)
            elif (c["transcript_id"], c["revision"], c["start"], c["end"]) != (q.transcript, revision, start, end) \
                    or c["quote_sha256"] != q.sha256:
                report.add("report", f"{label} no longer matches coding {q.coding} (it now points at "
                           f"{c['transcript_id']} rev {c['revision']} {c['start']}-{c['end']})", **ids)
            elif c["status"] != "active":
                report.add("report", f"{label} cites coding {q.coding}, which is now {c['status']}", **ids)
    report.checked["report quotes"] = len(quotes)
    return report
