"""Reports are receipts: ``rta audit --report FILE``.

A report goes to supervisors and readers, so it must be checkable after it has left the
project. Two ways, strongest first:

* **the record**: every ``report.built`` event records the sha256 of each file it wrote and
  the build id the file carries. A file whose bytes match a record is exactly what rta wrote;
  a file the record knows (same path, or same build id) with other bytes was changed after it
  was built, whatever the format and whatever the edit.
* **extract by extract**, for a file the record does not know (built in another copy of the
  project, or before builds were recorded): rta renders the report again from the store with
  the file's own build claims (time, version, audit line, selection) and compares. Every
  extract must be what the template renders for its coding under its theme and role heading,
  in the same order: its text and data-sha256, its attribution (informant, role), its
  transcript lines, its code. Every turn of the context appendix must be the transcript's.
  Anything else that differs is named with its line: markup the template never produces
  (a ``style`` attribute or ``<style>`` rule, ``hidden``, an element without rta's class, a
  comment) can hide, add or reorder words, so it is never waved through.

A Word report (.docx) is saved again by Word whenever a reviewer comments on it, so one the record
does not know byte for byte is checked from its hidden extract tags (rta.report_docx): each
extract's shown words against the flowing text of its span, its hash against the transcript, its
attribution, and the set and order of the extracts the project renders; a Quote-style paragraph
without a tag is an invented quote.

What cannot be verified is refused (:class:`rta.errors.RtaError`, exit 2): a file that is not
an rta report. Nothing passes with 0 quotes checked.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.audit import AuditReport
from rta.errors import RtaError
from rta.fsutil import sha256_text
from rta.report import flow
from rta.report_reading import (
    BUILD_ID,
    Claims,
    Node,
    NotAReport,
    Parsed,
    Part,
    Token,
    html_claims,
    md_claims,
    parse_html,
    parse_html_parts,
    parse_md_parts,
    short,
)
from rta.store import HEAD_FORM, Store

KIND = "report"  # the failure kind of everything found here
CHECKABLE = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".docx": "docx"}
MAX_NAMED = 12  # differences named per part of the report; the rest are counted
_HIDING = re.compile(r"style\s*=|<\s*style|\bhidden\b|display\s*:|visibility|font-size|opacity|color\s*:", re.I)


# --------------------------------------------------------------------------------------------
# The record


@dataclass
class BuiltFile:
    """One file a ``report.built`` event recorded: where it was written, its sha256 and build id."""

    seq: int
    path: str
    sha256: str
    build: str | None


def built_files(store: Store) -> list[BuiltFile]:
    """Every file the log says ``rta report`` wrote, oldest first."""
    out: list[BuiltFile] = []
    for row in store.conn.execute("SELECT seq, payload FROM events WHERE kind = 'report.built' ORDER BY seq"):
        try:
            payload = json.loads(row["payload"])
        except ValueError:
            continue  # an edited event: the chain check names it
        files = payload.get("files") if isinstance(payload, dict) else None
        build = payload.get("build") if isinstance(payload, dict) else None
        if not isinstance(files, dict):
            continue
        for name, digest in files.items():
            if isinstance(digest, str):
                out.append(BuiltFile(row["seq"], str(name), digest, build if isinstance(build, str) else None))
    return out


def _same_path(recorded: str, path: Path, root: Path) -> bool:
    """Whether a recorded path (absolute, or relative to where rta ran) names ``path``."""
    p = Path(recorded)
    candidates = [p] if p.is_absolute() else [root / p, Path.cwd() / p]
    try:
        target = path.resolve()
        return any(c.resolve() == target for c in candidates)
    except (OSError, RuntimeError):
        return False




# --------------------------------------------------------------------------------------------
# The result


@dataclass
class ReceiptCheck:
    """What ``rta audit --report`` found for one file."""

    path: Path
    format: str
    sha256: str
    recorded: int | None  # the 'report.built' event that recorded exactly these bytes
    known: int | None  # the event that recorded this file (path or build id), with other bytes
    extracts: int  # extracts verified one by one (0 when the record vouches for the file)
    audit: AuditReport = field(default_factory=AuditReport)

    @property
    def ok(self) -> bool:
        return self.audit.ok

    def summary(self) -> str:
        """One line: how the file was verified and whether it passed."""
        name = self.path.name
        if self.recorded is not None:
            return f"{name}: unchanged since it was built (event {self.recorded} recorded sha256 {self.sha256})"
        how = (f"changed after it was built (event {self.known})" if self.known is not None
               else "not in this project's record of built reports")
        verdict = "verified" if self.ok else "FAILED"
        return f"{name}: {how}; {self.extracts} extract(s) checked against the project one by one: {verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "format": self.format, "sha256": self.sha256,
                "recorded_by_event": self.recorded, "known_by_event": self.known, "extracts": self.extracts,
                "ok": self.ok, "summary": self.summary(), "failures": self.audit.to_dict()["failures"]}


# --------------------------------------------------------------------------------------------
# Entry point


def verify_report(project: Any, path: str | Path) -> ReceiptCheck:
    """Verify a built report (.html or .md) against the project: by its record when the log
    knows it, otherwise extract by extract. Refuses (RtaError) a file that is not an rta report
    or a format rta cannot check."""
    store: Store = project.store
    path = Path(path)
    fmt = CHECKABLE.get(path.suffix.lower())
    if fmt is None:
        what = path.suffix or "a file without extension"
        raise RtaError(f"cannot check this format ({what})", path=path,
                       hint="rta audit --report checks the .html, .md and .docx files 'rta report' writes")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RtaError("report not found", path=path, hint="build it with 'rta report'") from None
    except IsADirectoryError:
        raise RtaError("is a folder, not a report", path=path, hint="give the report file, e.g. rapport/report.html") from None
    except OSError as exc:
        raise RtaError(f"cannot read the report ({exc.strerror})", path=path) from None
    digest = hashlib.sha256(raw).hexdigest()
    records = built_files(store)
    exact = [b for b in records if b.sha256 == digest]
    if exact:
        check = ReceiptCheck(path, fmt, digest, exact[-1].seq, None, 0)
        check.audit.checked["report files"] = 1
        return check
    if fmt == "docx":
        return _verify_docx_file(project, path, digest, records)
    text = raw.decode("utf-8", errors="replace")
    found = BUILD_ID[fmt].search(text)
    build = found.group(1) if found else None
    mine = [b for b in records if _same_path(b.path, path, project.root)
            or (build is not None and b.build == build and CHECKABLE.get(Path(b.path).suffix.lower()) == fmt)]
    check = ReceiptCheck(path, fmt, digest, None, mine[-1].seq if mine else None, 0)
    result = check.audit
    if mine:
        b = mine[-1]
        result.add(KIND, f"{path.name} was changed after it was built (event {b.seq} recorded sha256 {b.sha256}; "
                         f"the file's is {digest})", file=path.name, event=b.seq)
    try:
        text = raw.decode("utf-8")
        doc = parse_html(text) if fmt == "html" else None
        claims = html_claims(doc) if doc is not None else md_claims(text)
    except (UnicodeDecodeError, NotAReport) as exc:
        reason = f"not UTF-8 ({exc.reason})" if isinstance(exc, UnicodeDecodeError) else str(exc)
        if mine:  # the record knows it: an edit made it unreadable
            result.add(KIND, f"{path.name} no longer reads as an rta report: {reason}", file=path.name)
            return check
        raise RtaError(f"not an rta report: {reason}", path=path,
                       hint="give a report.html or report.md that 'rta report' wrote") from None
    check.extracts = _verify_extracts(project, text, doc, claims, result, path.name)
    return check


# --------------------------------------------------------------------------------------------
# Comparing with what the project renders


def _verify_extracts(project: Any, text: str, doc: Node | None, claims: Claims, result: AuditReport,
                     name: str) -> int:
    """Render the report again from the store with the file's build claims and compare, part by
    part where they differ. ``doc`` is the parsed HTML (None: Markdown). Returns how many
    extracts the file holds."""
    from rta.report import collect
    from rta.report_render import render

    fmt = "html" if doc is not None else "md"
    report = parse_html_parts(doc) if doc is not None else parse_md_parts(text)
    extracts = [p for p in report.parts if p.kind == "extract"]
    result.checked["report extracts"] = len(extracts)
    result.checked["report context turns"] = len(report.parts) - len(extracts)
    for problem in claims.problems:
        result.add(KIND, f"{name}: {problem}", file=name)
    if not extracts:
        result.add(KIND, f"{name} holds no extract rta can check (an rta report quotes each extract with its "
                         "coding, transcript, span and hash)", file=name)
    store: Store = project.store
    try:
        data = collect(store, project.registry, AuditReport(), project_name=project.config.name, theme=claims.theme,
                       role=claims.role, unverified=not claims.audit_ok,
                       lang=claims.lang if claims.lang in ("nb", "en") else "nb", title=claims.title or None,
                       coder=claims.coder)
    except RtaError as exc:
        result.add(KIND, f"{name} cannot be rendered again from this project: {exc.message}", file=name)
        for part in extracts:
            _span_checks(part, store, result, name)
        return len(extracts)
    data.built = data.audit.built = claims.built
    data.audit.rta_version = claims.rta_version
    data.audit.phase = claims.phase
    data.audit.audit_ok = claims.audit_ok
    data.audit.audit_summary = claims.audit_summary
    data.audit.audit_failures = list(claims.audit_failures)
    data.audit.anonymisation = claims.anonymisation
    data.build_id = claims.build_id
    data.audit.log_head = claims.log_head
    if claims.figures:
        from rta.figures import add_figures

        add_figures(data)
    _check_head(store, claims, result, name)
    rendered = render(data, fmt)
    if rendered == text:
        return len(extracts)  # exactly what the project renders: every extract, turn and tag
    expected = parse_html_parts(parse_html(rendered)) if doc is not None else parse_md_parts(rendered)
    _compare_extracts(extracts, [p for p in expected.parts if p.kind == "extract"], store, result, name, fmt)
    _compare_turns([p for p in report.parts if p.kind == "turn"], [p for p in expected.parts if p.kind == "turn"],
                   result, name)
    _compare_rest(report, expected, result, name)
    return len(extracts)


def _check_head(store: Store, claims: Claims, result: AuditReport, name: str) -> None:
    """The log head the report was built at must be an entry of this project's log."""
    m = HEAD_FORM.fullmatch(claims.log_head)
    if m is None:
        return
    row = store.conn.execute("SELECT hash FROM events WHERE seq = ?", (int(m.group(1)),)).fetchone()
    if row is None or row["hash"] != m.group(2).lower():
        result.add(KIND, f"{name} was built at log head {m.group(1)}:{m.group(2)[:12]}…, which this project's log "
                         "does not hold (built in another copy that has moved on, or the log was cut or rewritten)",
                   file=name)


def _label(part: Part) -> str:
    ids = (part.data.get("coding") or "?").split()
    coding = f"coding {ids[0]}" if len(ids) == 1 else "codings " + ", ".join(ids)
    theme = f", theme «{part.theme}»" if part.theme else ""
    return f"extract «{short(part.fields.get('text', ''), 40)}» ({coding}{theme})"


def _ids(part: Part, name: str) -> dict[str, Any]:
    ids: dict[str, Any] = {"file": name, "line": part.line}
    if part.data.get("coding"):
        ids["coding"] = part.data["coding"]
    return ids


_FIELD_WORDS = {"text": "quote text", "attribution": "attribution (informant)", "role": "role and group",
                "lines": "transcript lines", "link": "link to its context", "code": "code"}


def _compare_extracts(report: list[Part], expected: list[Part], store: Store, result: AuditReport, name: str,
                      fmt: str) -> None:
    wanted = {p.key: p for p in expected}
    seen: set[tuple[str, ...]] = set()
    named = 0
    for part in report:
        if named >= MAX_NAMED:
            break
        ids = _ids(part, name)
        before = len(result.failures)
        if part.key in seen:
            result.add(KIND, f"{_label(part)} appears twice in the same theme", **ids)
        seen.add(part.key)
        exp = wanted.get(part.key)
        if exp is None:
            _unexpected(part, expected, store, result, name, fmt)
        elif part.tokens != exp.tokens:
            diffs = [f for f in ("attribution", "role", "text", "lines", "code", "link")
                     if part.fields.get(f) != exp.fields.get(f)]
            for f in diffs:
                result.add(KIND, f"{_label(part)}: its {_FIELD_WORDS[f]} reads «{short(part.fields.get(f) or '', 70)}» "
                                 f"in the report but «{short(exp.fields.get(f) or '', 70)}» in the project", **ids)
            data = [k for k in sorted(set(part.data) | set(exp.data)) if part.data.get(k) != exp.data.get(k)]
            if data:
                result.add(KIND, f"{_label(part)}: its data-{', data-'.join(data)} differ from its coding's "
                                 f"(" + "; ".join(f"{k} {part.data.get(k)!r}, project {exp.data.get(k)!r}"
                                                  for k in data[:3]) + ")", **ids)
            if diffs or data:
                _span_checks(part, store, result, name)
            else:
                result.add(KIND, f"{_label(part)}: the extract's markup differs from what rta renders for it: "
                                 + _first_difference(part.tokens, exp.tokens), **ids)
        if exp is not None and part.heading != exp.heading:
            result.add(KIND, f"{_label(part)} stands under the role heading «{part.heading}», the project puts it "
                             f"under «{exp.heading}» (moved to another informant role)", **ids)
        named += len(result.failures) > before
    present = {p.key for p in report}
    missing = [p for p in expected if p.key not in present]
    for part in missing[:MAX_NAMED]:
        result.add(KIND, f"the project's {_label(part)} is missing from the report", file=name)
    common = [p.key for p in report if p.key in wanted]
    shared = set(common)
    order = [p.key for p in expected if p.key in shared]
    if common != order and len(set(common)) == len(common):
        k = next(i for i, (a, b) in enumerate(zip(common, order)) if a != b)
        part = next(p for p in report if p.key == common[k])
        result.add(KIND, f"the extracts are not in the order rta renders them: {_label(part)} stands where the "
                         f"project has coding {order[k][0]}", **_ids(part, name))


def _unexpected(part: Part, expected: list[Part], store: Store, result: AuditReport, name: str, fmt: str) -> None:
    """An extract the project does not render there: invented, moved, or no longer coded."""
    ids = _ids(part, name)
    coding = part.data.get("coding", "")
    if fmt == "html" and ("class", "quote") not in part.tokens[0][2]:
        result.add(KIND, f"{_label(part)} is a blockquote without rta's class=\"quote\" and trace data: words rta "
                         "never rendered as an extract (an invented quote)", **ids)
        return
    if not coding:
        result.add(KIND, f"{_label(part)} names no coding: an invented quote", **ids)
        return
    coding = (coding.split() or [""])[0]
    row = store.conn.execute("SELECT status, code FROM codings WHERE id = ?", (coding,)).fetchone() \
        if coding.isdigit() else None
    if row is None:
        result.add(KIND, f"{_label(part)} names coding {coding}, which the project does not have: an invented quote",
                   **ids)
        _span_checks(part, store, result, name)
        return
    elsewhere = [p for p in expected if coding in p.key[0].split()]
    if elsewhere:
        themes = ", ".join(f"«{p.theme or p.key[1]}»" for p in elsewhere)
        result.add(KIND, f"{_label(part)} was moved: the project renders coding {coding} under theme {themes}, "
                         f"not under «{part.theme or part.key[1]}»", **ids)
    elif row["status"] != "active":
        result.add(KIND, f"{_label(part)} quotes coding {coding}, which is {row['status']} in the project", **ids)
    else:
        result.add(KIND, f"{_label(part)} quotes coding {coding} (code «{row['code']}»), which the project renders in "
                         f"no theme of this report", **ids)
    _span_checks(part, store, result, name)


def _span_checks(part: Part, store: Store, result: AuditReport, name: str) -> None:
    """The extract on its own terms: its text hashes to its data-sha256, is the transcript's
    text at its span, and is attributed to whoever said it."""
    ids = _ids(part, name)
    d = part.data
    tid, rev, start, end, sha = (d.get(k) for k in ("transcript", "revision", "start", "end", "sha256"))
    text = part.fields.get("text", "")
    if not (tid and rev and start and end and sha):
        result.add(KIND, f"{_label(part)} lacks data-transcript/revision/start/end/sha256: it cannot be traced", **ids)
        return
    if not (rev.isdigit() and start.isdigit() and end.isdigit()):
        result.add(KIND, f"{_label(part)} has non-numeric revision or offsets", **ids)
        return
    row = store.conn.execute("SELECT text FROM transcript_revisions WHERE transcript_id = ? AND revision = ?",
                             (tid, int(rev))).fetchone()
    if row is None:
        result.add(KIND, f"{_label(part)} cites {tid} revision {rev}, which the project does not have", **ids)
        return
    s, e = int(start), int(end)
    if not (0 <= s < e <= len(row["text"])):
        result.add(KIND, f"{_label(part)} cites offsets {s}-{e} outside the transcript", **ids)
        return
    span = row["text"][s:e]
    if sha256_text(span) != sha:
        result.add(KIND, f"{_label(part)}: {tid} at {s}-{e} does not hash to its data-sha256 (the hash or the span "
                         "was altered)", **ids)
    if flow(span) != text:
        result.add(KIND, f"{_label(part)} differs from {tid} at {s}-{e}, which reads «{short(span, 60)}»", **ids)
    turn = store.conn.execute("SELECT speaker, informant, role FROM turns WHERE transcript_id = ? AND revision = ? "
                              "AND start <= ? ORDER BY start DESC LIMIT 1", (tid, int(rev), s)).fetchone()
    shown = part.fields.get("attribution", "")
    if turn is None or not shown:
        return
    if not turn["informant"] and shown != turn["speaker"]:
        result.add(KIND, f"{_label(part)} presents the interviewer's words («{turn['speaker']}» at {tid} {s}-{e}) as "
                         f"{shown}'s", **ids)
    elif turn["informant"] and shown != turn["informant"]:
        result.add(KIND, f"{_label(part)} is attributed to {shown}, but the transcript gives these words to "
                         f"{turn['informant']} ({turn['role'] or 'no role'})", **ids)


def _compare_turns(report: list[Part], expected: list[Part], result: AuditReport, name: str) -> None:
    wanted = {p.key: p for p in expected}
    named = 0
    for part in report:
        if named >= MAX_NAMED:
            break
        exp = wanted.get(part.key)
        ids = {"file": name, "line": part.line, "turn": part.key[0]}
        label = f"appendix A turn {part.key[0] or '(no anchor)'}"
        if exp is None:
            result.add(KIND, f"{label} is not a turn the project shows beside these quotes "
                             f"(«{short(part.fields.get('text', ''), 50)}»)", **ids)
            named += 1
        elif part.tokens != exp.tokens:
            diffs = [f for f in exp.fields if part.fields.get(f) != exp.fields.get(f)]
            for f in diffs:
                result.add(KIND, f"{label}: its {f} reads «{short(part.fields.get(f) or '', 60)}» in the report but "
                                 f"«{short(exp.fields[f], 60)}» in the project's transcript", **ids)
            if not diffs:
                result.add(KIND, f"{label}: its markup differs from what rta renders for it: "
                                 + _first_difference(part.tokens, exp.tokens), **ids)
            named += 1
    present = {p.key for p in report}
    for part in [p for p in expected if p.key not in present][:MAX_NAMED]:
        result.add(KIND, f"appendix A lacks turn {part.key[0]} («{short(part.fields.get('text', ''), 50)}»)", file=name)


def _compare_rest(report: Parsed, expected: Parsed, result: AuditReport, name: str) -> None:
    """Everything outside the extracts and turns: headings, theme facts, matrices, appendices,
    and any markup added around the extracts."""
    if report.rest == expected.rest:
        return
    named, more = 0, 0
    for op, i1, i2, j1, j2 in _opcodes(report.rest, expected.rest):
        mine, theirs = report.rest[i1:i2], expected.rest[j1:j2]
        if any(t[0] in ("#extract", "#turn") for t in mine + theirs) and all(
                t[0] in ("#extract", "#turn") or (t[0] == "#text" and not t[1].strip()) for t in mine + theirs):
            continue  # an extract or turn added, dropped or moved (with its line break): named where compared
        if named >= MAX_NAMED:
            more += 1
            continue
        k = min(i1, len(report.rest) - 1)
        where, line = report.rest_where[k], report.rest_lines[k]
        result.add(KIND, f"{name}, {where}: {_describe(op, mine, theirs)}", file=name, line=line)
        named += 1
    if more:
        result.add(KIND, f"{name}: {more} more difference(s) from what the project renders", file=name)


def _hides(token: Token) -> bool:
    if token[0] == "<":
        return token[1] in ("style", "script", "template", "noscript") or any(
            k in ("style", "hidden", "aria-hidden", "class") for k, _ in token[2])
    return token[0] in ("#line", "#comment", "#text") and bool(_HIDING.search(str(token[1])))


def _show(tokens: list[Token]) -> str:
    parts = []
    for t in tokens:
        if t[0] == "<":
            attrs = "".join(f' {k}="{v}"' if v is not None else f" {k}" for k, v in t[2] if k != "/")
            parts.append(f"<{t[1]}{attrs}>")
        elif t[0] == "</":
            parts.append(f"</{t[1]}>")
        elif t[0] == "#comment":
            parts.append(f"<!--{short(t[1], 40)}-->")
        elif t[0] in ("#extract", "#turn"):
            parts.append(f"[{t[0][1:]}]")
        elif t[0] == "#stray":
            parts.append(f"</{t[1]}> (closing nothing)")
        else:
            parts.append(f"«{short(str(t[1]), 60)}»" if str(t[1]).strip() else "whitespace")
    return short(" ".join(parts), 160) if parts else "nothing"


MAX_DIFFED = 4000  # tokens compared one by one in a region whose start and end already differ


def _opcodes(mine: list[Token], theirs: list[Token]) -> list[tuple[str, int, int, int, int]]:
    """Where two token lists differ. The common start and end are cut off first, and a middle
    too long to align (a report rewritten wholesale) is one replacement, so hostile input
    cannot make the comparison quadratic."""
    lo = 0
    while lo < len(mine) and lo < len(theirs) and mine[lo] == theirs[lo]:
        lo += 1
    hi = 0
    while hi < len(mine) - lo and hi < len(theirs) - lo and mine[-1 - hi] == theirs[-1 - hi]:
        hi += 1
    a, b = mine[lo:len(mine) - hi], theirs[lo:len(theirs) - hi]
    if not a and not b:
        return []
    if len(a) > MAX_DIFFED or len(b) > MAX_DIFFED:
        return [("replace", lo, lo + len(a), lo, lo + len(b))]
    return [(op, i1 + lo, i2 + lo, j1 + lo, j2 + lo)
            for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op != "equal"]


def _describe(op: str, mine: list[Token], theirs: list[Token]) -> str:
    """A difference in words: what the report adds, lacks or has instead."""
    if op == "insert":
        text = f"lacks {_show(theirs)}, which rta renders there"
    elif op == "delete":
        text = f"adds {_show(mine)}, which rta never renders there"
    elif len(mine) == len(theirs) == 1 and mine[0][0] == theirs[0][0] and isinstance(mine[0][-1], str):
        was, now = _changed_text(str(mine[0][-1]), str(theirs[0][-1]))
        text = f"has «{was}» where rta renders «{now}»"
    else:
        text = f"has {_show(mine)} where rta renders {_show(theirs)}"
    return text + (" (markup that can hide, add or reorder words)" if any(_hides(t) for t in mine) else "")


def _changed_text(mine: str, theirs: str, before: int = 25, after: int = 45) -> tuple[str, str]:
    """The stretch around the first difference of two texts (both cut the same way)."""
    i = 0
    while i < len(mine) and i < len(theirs) and mine[i] == theirs[i]:
        i += 1
    start = max(0, i - before)
    cut = "…" if start else ""
    return cut + short(mine[start:i + after], 80), cut + short(theirs[start:i + after], 80)


def _first_difference(mine: list[Token], theirs: list[Token]) -> str:
    ops = _opcodes(mine, theirs)
    if not ops:
        return "(no difference found)"
    op, i1, i2, j1, j2 = ops[0]
    return "it " + _describe(op, mine[i1:i2], theirs[j1:j2]).replace(", which rta renders there", "").replace(
        ", which rta never renders there", "")


# --------------------------------------------------------------------------------------------
# Word reports


def _verify_docx_file(project: Any, path: Path, digest: str, records: list[BuiltFile]) -> ReceiptCheck:
    """A .docx the record does not know byte for byte (Word rewrites the whole file on every
    save): read its hidden extract tags and check every extract against the project."""
    from rta.report_reading import read_docx

    try:
        doc = read_docx(path)
    except NotAReport as exc:
        mine = [b for b in records if _same_path(b.path, path, project.root)]
        if mine:
            check = ReceiptCheck(path, "docx", digest, None, mine[-1].seq, 0)
            check.audit.add(KIND, f"{path.name} was changed after it was built (event {mine[-1].seq}) and no longer "
                                  f"reads as an rta report: {exc}", file=path.name)
            return check
        raise RtaError(f"not an rta report: {exc}", path=path,
                       hint="give a report.docx that 'rta report --format docx' wrote") from None
    build = doc.claims.build_id or None
    mine = [b for b in records if _same_path(b.path, path, project.root)
            or (build is not None and b.build == build and Path(b.path).suffix.lower() == ".docx")]
    check = ReceiptCheck(path, "docx", digest, None, mine[-1].seq if mine else None, 0)
    if mine:  # a Word report is saved again whenever it is opened and commented: not a failure in itself
        check.audit.notes.append(f"{path.name} is not byte for byte the file event {mine[-1].seq} recorded (Word "
                                 "rewrites a document when it saves it); its extracts are checked one by one")
    check.extracts = _verify_docx(project, doc, check.audit, path.name)
    return check


def _docx_part(key: tuple[str, str], line: int, text: str, label: str, line_text: str, data: dict[str, str],
               theme: str) -> Part:
    tokens: list[Token] = [("#text", text), ("#attribution", line_text)] + sorted(("#data", k, v) for k, v in data.items())
    return Part("extract", key, line, tokens, {"text": text, "attribution": label, "role": line_text}, data, "", theme)


def _verify_docx(project: Any, doc: Any, result: AuditReport, name: str) -> int:
    from rta.report import collect
    from rta.report_docx import attribution
    from rta.report_text import labels

    claims = doc.claims
    for problem in claims.problems:
        result.add(KIND, f"{name}: {problem}", file=name)
    result.checked["report extracts"] = len(doc.extracts)
    if not doc.extracts:
        result.add(KIND, f"{name} holds no extract rta can check (an rta Word report tags each extract with its "
                         "coding, transcript, span and hash in hidden text)", file=name)
    store: Store = project.store
    parts = []
    for x in doc.extracts:
        t = x.tag
        data = {"transcript": str(t.get("t", "")), "revision": str(t.get("r", "")), "start": str(t.get("s", "")),
                "end": str(t.get("e", "")), "sha256": str(t.get("h", "")),
                "coding": " ".join(str(c) for c in t.get("c", []) if isinstance(c, (int, str)))
                if isinstance(t.get("c"), list) else ""}
        parts.append(_docx_part((data["coding"], x.slug), x.paragraph, x.text, str(t.get("_label", "")),
                                x.attribution, data, x.theme))
        if x.tracked:
            result.add(KIND, f"{_label(parts[-1])} holds tracked changes (Word's revision marks)",
                       file=name, line=x.paragraph)
    for n, text in doc.untagged_quotes[:MAX_NAMED]:
        result.add(KIND, f"{name}, paragraph {n}: «{short(text, 60)}» is styled as a quote but carries no rta tag: "
                         "words rta never rendered as an extract (an invented quote)", file=name, line=n)
    try:
        data = collect(store, project.registry, AuditReport(), project_name=project.config.name, theme=claims.theme,
                       role=claims.role, unverified=not claims.audit_ok,
                       lang=claims.lang if claims.lang in ("nb", "en") else "nb", title=claims.title or None)
    except RtaError as exc:
        result.add(KIND, f"{name} cannot be rendered again from this project: {exc.message}", file=name)
        for part in parts:
            _span_checks(part, store, result, name)
        return len(parts)
    _check_head(store, claims, result, name)
    L = labels(data.lang)
    expected = []
    for group in ("shown", "others"):
        for t in data.themes:
            for g in getattr(t, group):
                for q in g.quotes:
                    d = {"transcript": q.transcript_id, "revision": str(q.revision), "start": str(q.start),
                         "end": str(q.end), "sha256": q.sha256, "coding": q.codings}
                    expected.append(_docx_part((q.codings, t.slug), 0, q.flow, q.label, attribution(q, L), d, t.name))
    _compare_extracts(parts, expected, store, result, name, "docx")
    return len(parts)
