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

What cannot be verified is refused (:class:`rta.errors.RtaError`, exit 2): a file that is not
an rta report, or a format rta does not build (.docx). Nothing passes with 0 quotes checked.
"""

from __future__ import annotations

import difflib
import hashlib
import html as htmllib
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

from rta.audit import AuditReport
from rta.errors import RtaError
from rta.fsutil import sha256_text
from rta.store import HEAD_FORM, Store

KIND = "report"  # the failure kind of everything found here
CHECKABLE = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}
MAX_NAMED = 12  # differences named per part of the report; the rest are counted
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
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


_BUILD_ID = {"html": re.compile(r'<meta name="rta-build" content="([0-9a-f]{8,64})">'),
             "md": re.compile(r"<!-- rta-build: ([0-9a-f]{8,64}) -->")}


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
                       hint="rta audit --report checks the .html and .md files 'rta report' writes"
                            + ("; rta does not build .docx reports yet" if path.suffix.lower() == ".docx" else ""))
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
    text = raw.decode("utf-8", errors="replace")
    found = _BUILD_ID[fmt].search(text)
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
        doc = _parse_html(text) if fmt == "html" else None
        claims = _html_claims(doc) if doc is not None else _md_claims(text)
    except (UnicodeDecodeError, _NotAReport) as exc:
        reason = f"not UTF-8 ({exc.reason})" if isinstance(exc, UnicodeDecodeError) else str(exc)
        if mine:  # the record knows it: an edit made it unreadable
            result.add(KIND, f"{path.name} no longer reads as an rta report: {reason}", file=path.name)
            return check
        raise RtaError(f"not an rta report: {reason}", path=path,
                       hint="give a report.html or report.md that 'rta report' wrote") from None
    check.extracts = _verify_extracts(project, text, doc, claims, result, path.name)
    return check


# --------------------------------------------------------------------------------------------
# Build claims: what the file says about its own build (checked for form, then re-rendered)


class _NotAReport(Exception):
    pass


@dataclass
class Claims:
    """What a report says about its build. They are inputs of the re-render, so a false claim
    shows as a difference; their form is checked so no free text rides in on them."""

    build_id: str = ""
    built: str = ""
    rta_version: str = ""
    phase: int = 0
    audit_ok: bool = False
    audit_summary: str = ""
    audit_failures: list[str] = field(default_factory=list)
    anonymisation: list[tuple[str, int]] | None = None
    log_head: str = ""
    theme: str | None = None
    role: str | None = None
    problems: list[str] = field(default_factory=list)


_BUILT = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(rta ([0-9A-Za-z.+!_-]{1,40}), fase (\d)\)")
_COUNTS = r"\d+ [0-9A-Za-z ()'./-]+(?:, \d+ [0-9A-Za-z ()'./-]+)*"  # "23 events, 4 turn tables (logged hash)"
_SUMMARY = re.compile(rf"audit passed: {_COUNTS}|audit FAILED: \d+ failure\(s\) \({_COUNTS}\); checked {_COUNTS}")
_FAILURE = re.compile(r"\[[a-z]+\] .*")
_FILTERS = re.compile(r" · utvalg: (?:tema = (.*?))?(?:, )?(?:rolle = (.*))?")
_ANON_ITEM = re.compile(r"(.+?) \((\d+)\)(?:, |$)")


def _check_claims(c: Claims) -> None:
    """Note every claim whose form rta never writes (the re-render then differs there too)."""
    if c.build_id and not re.fullmatch(r"[0-9a-f]{32}", c.build_id):
        c.problems.append(f"its build id «{_short(c.build_id)}» is not one rta writes")
    if c.log_head and not HEAD_FORM.fullmatch(c.log_head):
        c.problems.append(f"its log head «{_short(c.log_head)}» is not one rta writes")
    if not _SUMMARY.fullmatch(c.audit_summary):
        c.problems.append(f"its audit line «{_short(c.audit_summary)}» is not one rta writes")
    elif c.audit_ok != c.audit_summary.startswith("audit passed"):
        c.problems.append("its audit line and its verified/unverified marking disagree")
    if c.audit_ok and c.audit_failures:
        c.problems.append("it lists audit failures under an audit that passed")
    bad = [f for f in c.audit_failures if not _FAILURE.fullmatch(f)]
    if bad:
        c.problems.append(f"its audit failure «{_short(bad[0])}» is not one rta writes")


def _html_claims(doc: _Node) -> Claims:
    c = Claims()
    generator = next((n for n in doc.iter() if n.tag == "meta" and n.attr("name") == "generator"), None)
    gen = generator.attr("content") if generator is not None else None
    if not gen or not gen.startswith("rta "):
        raise _NotAReport('it has no <meta name="generator" content="rta ..."> (rta writes one into every report)')
    build = next((n for n in doc.iter() if n.tag == "meta" and n.attr("name") == "rta-build"), None)
    c.build_id = (build.attr("content") or "") if build is not None else ""
    head = next((n for n in doc.iter() if n.tag == "meta" and n.attr("name") == "rta-log-head"), None)
    c.log_head = (head.attr("content") or "") if head is not None else ""
    built_dd = None
    for n in doc.iter():
        if n.tag == "dt" and n.text_content().strip() == "Bygget":
            built_dd = n.next_element()
            break
    result = next((n for n in doc.iter() if n.attr("id") == "revisjon-resultat"), None)
    if built_dd is None or result is None:
        raise _NotAReport("it has no audit appendix (Vedlegg B with «Bygget» and the audit result)")
    m = _BUILT.fullmatch(built_dd.text_content())
    if m:
        c.built, c.rta_version, c.phase = m.group(1), m.group(2), int(m.group(3))
    else:
        c.problems.append(f"its build line «{_short(built_dd.text_content())}» is not one rta writes")
    c.audit_ok = "audit-ok" in result.classes()
    c.audit_summary = result.text_content()
    failures = next((n for n in doc.iter() if n.tag == "ul" and "audit-failures" in n.classes()), None)
    if failures is not None:
        c.audit_failures = [li.text_content() for li in failures.children if li.tag == "li"]
    anon = next((n for n in doc.iter() if n.attr("id") == "anonymisering"), None)
    if anon is not None:
        t = anon.text_content()
        m = re.fullmatch(r"Mulige identifikatorer igjen i (.*)\. Se rta anonymise check før rapporten deles\.", t)
        c.anonymisation = _anon_items(m.group(1)) if m else []
    header = next((n for n in doc.iter() if n.tag == "header"), None)
    meta = next((n for n in header.iter() if n.tag == "p"), None) if header is not None else None
    if meta is not None:
        _filters(c, meta.text_content())
    _check_claims(c)
    return c


def _md_claims(text: str) -> Claims:
    c = Claims()
    lines = text.split("\n")
    if "## Vedlegg B: sporbarhet og revisjon" not in lines:
        raise _NotAReport("it has no audit appendix («## Vedlegg B: sporbarhet og revisjon»)")
    built = next((ln for ln in lines if ln.startswith("- **Bygget:** ")), None)
    result_i = next((i for i, ln in enumerate(lines) if ln.startswith("- **Revisjon:** ")), None)
    if built is None or result_i is None:
        raise _NotAReport("its audit appendix lacks «Bygget» or «Revisjon»")
    m = _BUILT.fullmatch(built[len("- **Bygget:** "):])
    if m:
        c.built, c.rta_version, c.phase = m.group(1), m.group(2), int(m.group(3))
    else:
        c.problems.append(f"its build line «{_short(built)}» is not one rta writes")
    c.audit_summary = md_unescape(lines[result_i][len("- **Revisjon:** "):])
    c.audit_ok = c.audit_summary.startswith("audit passed")
    for ln in lines[result_i + 1:]:
        if ln.startswith("- **Anonymisering:** "):
            m = re.fullmatch(r"mulige identifikatorer igjen i (.*); se `rta anonymise check` før rapporten deles\.",
                             ln[len("- **Anonymisering:** "):])
            c.anonymisation = [(md_unescape(t), n) for t, n in _anon_items(m.group(1))] if m else []
        elif ln.startswith("  - `") and ln.endswith("`"):
            c.audit_failures.append(ln[5:-1])
        elif ln.strip():
            break
    found = _BUILD_ID["md"].search(text)
    c.build_id = found.group(1) if found else ""
    found = re.search(r"<!-- rta-log-head: (\S*) -->", text)
    c.log_head = found.group(1) if found else ""
    header = next((ln for ln in lines if ln.startswith("Bygget ")), "")
    _filters(c, header, unescape=True)
    _check_claims(c)
    return c


def _anon_items(text: str) -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for m in _ANON_ITEM.finditer(text)]


def _filters(c: Claims, line: str, unescape: bool = False) -> None:
    i = line.find(" · utvalg: ")
    if i < 0:
        return
    m = _FILTERS.fullmatch(line[i:])
    if m is None:
        c.problems.append(f"its selection «{_short(line[i + 3:])}» is not one rta writes")
        return
    theme, role = m.group(1), m.group(2)
    c.theme = md_unescape(theme) if unescape and theme else theme
    c.role = md_unescape(role) if unescape and role else role


_MD_UNESCAPE = re.compile(r"\\([\\`*_\[\]|#~!{}])")


def md_unescape(text: str) -> str:
    """Undo :func:`rta.report.md_escape`: what a reader of the rendered Markdown sees."""
    return _MD_UNESCAPE.sub(r"\1", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --------------------------------------------------------------------------------------------
# HTML as a tree (only to compare it: nothing is rendered or fetched)


class _Node:
    __slots__ = ("tag", "attrs", "line", "children", "text", "parent")

    def __init__(self, tag: str, attrs: tuple[tuple[str, str | None], ...] = (), line: int = 0, text: str = "") -> None:
        self.tag, self.attrs, self.line, self.text = tag, attrs, line, text
        self.children: list[_Node] = []
        self.parent: _Node | None = None

    def attr(self, name: str) -> str | None:
        for k, v in self.attrs:
            if k == name:
                return v
        return None

    def classes(self) -> list[str]:
        return (self.attr("class") or "").split()

    def iter(self) -> Iterator[_Node]:
        """This node and all below it, in document order (no recursion: depth is untrusted)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def text_content(self) -> str:
        return "".join(n.text for n in self.iter() if n.tag == "#text")

    def next_element(self) -> _Node | None:
        if self.parent is None:
            return None
        sibs = [s for s in self.parent.children if not s.tag.startswith("#")]
        i = sibs.index(self)
        return sibs[i + 1] if i + 1 < len(sibs) else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#document", (), 1)
        self.stack = [self.root]

    def _add(self, node: _Node) -> None:
        node.parent = self.stack[-1]
        self.stack[-1].children.append(node)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, tuple(sorted(attrs, key=lambda a: a[0])), self.getpos()[0])
        self._add(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add(_Node(tag, tuple(sorted(attrs, key=lambda a: a[0])) + (("/", None),), self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return
        self._add(_Node("#stray", (("tag", tag),), self.getpos()[0]))  # an end tag nothing opened

    def handle_data(self, data: str) -> None:
        kids = self.stack[-1].children
        if kids and kids[-1].tag == "#text":
            kids[-1].text += data
        else:
            self._add(_Node("#text", (), self.getpos()[0], data))

    def handle_comment(self, data: str) -> None:
        self._add(_Node("#comment", (), self.getpos()[0], data))

    def handle_decl(self, decl: str) -> None:
        self._add(_Node("#decl", (), self.getpos()[0], decl))

    def unknown_decl(self, data: str) -> None:
        self._add(_Node("#decl", (), self.getpos()[0], data))

    def handle_pi(self, data: str) -> None:
        self._add(_Node("#pi", (), self.getpos()[0], data))


def _parse_html(text: str) -> _Node:
    builder = _TreeBuilder()
    try:
        builder.feed(text)
        builder.close()
    except (AssertionError, ValueError) as exc:  # markup the standard parser gives up on
        raise _NotAReport(f"its HTML cannot be parsed ({exc})") from None
    return builder.root


# --------------------------------------------------------------------------------------------
# A report as parts to compare: extracts, context turns, and the rest


Token = tuple[Any, ...]


@dataclass
class Part:
    """An extract (key: coding id and theme slug) or a context turn (key: its anchor)."""

    kind: str  # 'extract' or 'turn'
    key: tuple[str, ...]
    line: int
    tokens: list[Token]
    fields: dict[str, str]  # what a reader sees, field by field
    data: dict[str, str]  # the data-* attributes it carries
    heading: str = ""  # the role heading it stands under (extracts)
    theme: str = ""  # the theme section's name as shown (extracts)


@dataclass
class Parsed:
    parts: list[Part] = field(default_factory=list)
    rest: list[Token] = field(default_factory=list)  # everything else, parts as placeholders
    rest_lines: list[int] = field(default_factory=list)
    rest_where: list[str] = field(default_factory=list)


_SECTION_NAMES = {"oversikt": "the theme, role and group matrices", "ikke-sitert": "the list of informants never quoted",
                  "vedlegg-transkripsjoner": "appendix A (the quotes in context)",
                  "vedlegg-revisjon": "appendix B (traceability and audit)",
                  "vedlegg-memoer": "appendix C (memos and journal)"}


def _html_tokens(node: _Node, out: list[Token], lines: list[int]) -> None:
    stack: list[tuple[_Node, bool]] = [(node, False)]
    while stack:
        n, closing = stack.pop()
        if closing:
            out.append(("</", n.tag))
            lines.append(n.line)
            continue
        if n.tag.startswith("#"):
            out.append((n.tag, n.text if n.tag != "#stray" else n.attr("tag")))
            lines.append(n.line)
            continue
        out.append(("<", n.tag, n.attrs))
        lines.append(n.line)
        if n.tag not in _VOID:
            stack.append((n, True))
        stack.extend((c, False) for c in reversed(n.children))


def _parse_html_parts(doc: _Node) -> Parsed:
    parsed = Parsed()
    # walk the tree: (node, closing, where, section slug, theme name)
    heading = {"h3": ""}
    stack: list[tuple[_Node, bool, str, str, str]] = [(c, False, "the report", "", "") for c in reversed(doc.children)]
    while stack:
        n, closing, where, slug, theme = stack.pop()
        if closing:
            parsed.rest.append(("</", n.tag))
            parsed.rest_lines.append(n.line)
            parsed.rest_where.append(where)
            continue
        if n.tag == "blockquote" or (n.tag == "div" and "turn" in n.classes()):
            parsed.parts.append(_html_part(n, slug, theme, heading["h3"]))
            parsed.rest.append(("#" + parsed.parts[-1].kind,))
            parsed.rest_lines.append(n.line)
            parsed.rest_where.append(where)
            continue
        if n.tag.startswith("#"):
            parsed.rest.append((n.tag, n.text if n.tag != "#stray" else n.attr("tag")))
            parsed.rest_lines.append(n.line)
            parsed.rest_where.append(where)
            continue
        ident = n.attr("id") or ""
        if n.tag == "section":
            heading["h3"] = ""
            if ident.startswith("tema-"):
                slug, theme = ident[len("tema-"):], n.attr("data-theme") or ident
                where = f"theme «{theme}»"
            else:
                where = _SECTION_NAMES.get(ident, f"section «{ident}»" if ident else "a section")
        elif n.tag in ("head", "header", "nav"):
            where = {"head": "the <head>", "header": "the report's header", "nav": "the table of contents"}[n.tag]
        elif n.tag == "h3" and slug:
            heading["h3"] = ident or n.text_content()
        parsed.rest.append(("<", n.tag, n.attrs))
        parsed.rest_lines.append(n.line)
        parsed.rest_where.append(where)
        if n.tag not in _VOID:
            stack.append((n, True, where, slug, theme))
        stack.extend((c, False, where, slug, theme) for c in reversed(n.children))
    return parsed


def _html_part(n: _Node, slug: str, theme: str, heading: str) -> Part:
    tokens: list[Token] = []
    lines: list[int] = []
    _html_tokens(n, tokens, lines)
    data = {k[5:]: v or "" for k, v in n.attrs if k.startswith("data-")}
    if n.tag == "blockquote":
        fields: dict[str, str] = {}
        p = next((x for x in n.iter() if x.tag == "p" and "quote-text" in x.classes()), None)
        p = p or next((x for x in n.iter() if x.tag == "p"), None)  # an invented one: its first paragraph
        fields["text"] = p.text_content() if p is not None else n.text_content()
        footer = next((x for x in n.iter() if x.tag == "footer"), None)
        if footer is not None:
            cite = next((x for x in footer.iter() if x.tag == "cite"), None)
            link = next((x for x in footer.iter() if x.tag == "a"), None)
            fields["attribution"] = cite.text_content().rstrip(":") if cite is not None else ""
            before, after, seen = [], [], False
            for x in footer.children:
                if x is link:
                    seen = True
                elif x.tag == "#text":
                    (after if seen else before).append(x.text)
            fields["role"] = "".join(before).strip().rstrip("·").strip()
            fields["lines"] = link.text_content() if link is not None else ""
            fields["link"] = (link.attr("href") or "") if link is not None else ""
            fields["code"] = "".join(after).strip().lstrip("·").strip()
        coding = data.get("coding", "")
        return Part("extract", (coding, slug), n.line, tokens, fields, data, heading, theme)
    lines_span = next((x for x in n.iter() if x.tag == "span" and "lines" in x.classes()), None)
    speaker = next((x for x in n.iter() if x.tag == "b"), None)
    said = next((x for x in n.iter() if x.tag == "span" and "turn-text" in x.classes()), None)
    back = next((x for x in n.iter() if x.tag == "span" and "backlinks" in x.classes()), None)
    fields = {"lines": lines_span.text_content() if lines_span is not None else "",
              "speaker": speaker.text_content() if speaker is not None else "",
              "text": said.text_content() if said is not None else "",
              "interviewer mark": "interviewer" if "interviewer" in n.classes() else "informant",
              "links back to the quotes": " · ".join(f"{a.attr('href')} {a.text_content()}"
                                                     for a in (back.iter() if back is not None else []) if a.tag == "a")}
    return Part("turn", (n.attr("id") or "",), n.line, tokens, fields, data)


_MD_ANCHOR = re.compile(r'<a id="([^"]*)"')
_MD_ATTR = re.compile(r'\s([a-z][a-z0-9-]*)="([^"]*)"')
_MD_QUOTE = re.compile(r"> \*\*(.*?):\*\* (.*)")
_MD_FOOTER = re.compile(r"> — (.*?) · \[(.*)\]\((#[^)]*)\) · kode: (.*)")
_MD_TURN = re.compile(r"`([^`]*)` \*\*(.*?):\*\* (.*)", re.S)


def _parse_md_parts(text: str) -> Parsed:
    parsed = Parsed()
    lines = text.split("\n")
    where, slug, heading, theme = "the report's header", "", "", ""
    i = 0
    while i < len(lines):
        ln = lines[i]
        m = _MD_ANCHOR.match(ln)
        ident = m.group(1) if m else ""
        if ident.startswith(("q-", "t-")):
            j = i + 1
            while j < len(lines) and not lines[j].startswith(("<a id=", "#", "<!-- rta-build")):
                j += 1
            parsed.parts.append(_md_part(lines, i, j, slug, heading, "extract" if ident.startswith("q-") else "turn",
                                         theme))
            parsed.rest.append(("#" + parsed.parts[-1].kind,))
            parsed.rest_lines.append(i + 1)
            parsed.rest_where.append(where)
            i = j
            continue
        if ident.startswith("tema-"):
            slug, heading = ident[len("tema-"):], ""
        elif ident:
            slug, heading = "", ""
        if ln.startswith("## "):
            theme = md_unescape(ln[3:]) if slug else ""
            where = f"theme «{theme}»" if slug else f"section «{md_unescape(ln[3:])}»"
        elif ln.startswith("### ") and slug:
            heading = ln[4:]
        parsed.rest.append(("#line", ln))
        parsed.rest_lines.append(i + 1)
        parsed.rest_where.append(where)
        i += 1
    return parsed


def _md_part(lines: list[str], i: int, j: int, slug: str, heading: str, kind: str, theme: str) -> Part:
    block = lines[i:j]
    tokens: list[Token] = [("#line", ln) for ln in block]
    attrs = {k: htmllib.unescape(v) for k, v in _MD_ATTR.findall(block[0])}
    data = {k[5:]: v for k, v in attrs.items() if k.startswith("data-")}
    ident = attrs.get("id", "")
    body = [ln for ln in block[1:] if ln.strip()]
    if kind == "extract":
        fields: dict[str, str] = {}
        start = next((k for k, ln in enumerate(body) if _MD_QUOTE.match(ln)), None)
        if start is not None:
            m = _MD_QUOTE.match(body[start])
            assert m is not None
            fields["attribution"] = md_unescape(m.group(1))
            said = [m.group(2)]
            for ln in body[start + 1:]:
                if ln == ">" or not ln.startswith("> "):
                    break
                said.append(ln[2:])
            fields["text"] = md_unescape("\n".join(s[:-1] if s.endswith("\\") else s for s in said))
        footer = next((_MD_FOOTER.fullmatch(ln) for ln in body if ln.startswith("> — ")), None)
        if footer is not None:
            fields.update(role=md_unescape(footer.group(1)), lines=md_unescape(footer.group(2)),
                          link=footer.group(3), code=md_unescape(footer.group(4)))
        return Part("extract", (data.get("coding", ""), slug), i + 1, tokens, fields, data, heading, theme)
    m = _MD_TURN.match("\n".join(body))
    fields = {"lines": m.group(1), "speaker": md_unescape(m.group(2)), "text": m.group(3)} if m else \
        {"text": "\n".join(body)}
    return Part("turn", (ident,), i + 1, tokens, fields, data)


# --------------------------------------------------------------------------------------------
# Comparing with what the project renders


def _verify_extracts(project: Any, text: str, doc: _Node | None, claims: Claims, result: AuditReport,
                     name: str) -> int:
    """Render the report again from the store with the file's build claims and compare, part by
    part where they differ. ``doc`` is the parsed HTML (None: Markdown). Returns how many
    extracts the file holds."""
    from rta.report import collect, render

    fmt = "html" if doc is not None else "md"
    report = _parse_html_parts(doc) if doc is not None else _parse_md_parts(text)
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
                       role=claims.role, unverified=not claims.audit_ok)
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
    _check_head(store, claims, result, name)
    rendered = render(data, fmt)
    if rendered == text:
        return len(extracts)  # exactly what the project renders: every extract, turn and tag
    expected = _parse_html_parts(_parse_html(rendered)) if doc is not None else _parse_md_parts(rendered)
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
    coding = part.data.get("coding") or "?"
    theme = f", theme «{part.theme}»" if part.theme else ""
    return f"extract «{_short(part.fields.get('text', ''), 40)}» (coding {coding}{theme})"


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
                result.add(KIND, f"{_label(part)}: its {_FIELD_WORDS[f]} reads «{_short(part.fields.get(f) or '', 70)}» "
                                 f"in the report but «{_short(exp.fields.get(f) or '', 70)}» in the project", **ids)
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
    row = store.conn.execute("SELECT status, code FROM codings WHERE id = ?", (coding,)).fetchone() \
        if coding.isdigit() else None
    if row is None:
        result.add(KIND, f"{_label(part)} names coding {coding}, which the project does not have: an invented quote",
                   **ids)
        _span_checks(part, store, result, name)
        return
    elsewhere = [p for p in expected if p.key[0] == coding]
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
    if sha256_text(text) != sha:
        result.add(KIND, f"{_label(part)} as shown does not hash to its data-sha256 (the quote text was altered)",
                   **ids)
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
    if row["text"][s:e] != text:
        result.add(KIND, f"{_label(part)} differs from {tid} at {s}-{e}, which reads «{_short(row['text'][s:e], 60)}»",
                   **ids)
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
                             f"(«{_short(part.fields.get('text', ''), 50)}»)", **ids)
            named += 1
        elif part.tokens != exp.tokens:
            diffs = [f for f in exp.fields if part.fields.get(f) != exp.fields.get(f)]
            for f in diffs:
                result.add(KIND, f"{label}: its {f} reads «{_short(part.fields.get(f) or '', 60)}» in the report but "
                                 f"«{_short(exp.fields[f], 60)}» in the project's transcript", **ids)
            if not diffs:
                result.add(KIND, f"{label}: its markup differs from what rta renders for it: "
                                 + _first_difference(part.tokens, exp.tokens), **ids)
            named += 1
    present = {p.key for p in report}
    for part in [p for p in expected if p.key not in present][:MAX_NAMED]:
        result.add(KIND, f"appendix A lacks turn {part.key[0]} («{_short(part.fields.get('text', ''), 50)}»)", file=name)


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
            parts.append(f"<!--{_short(t[1], 40)}-->")
        elif t[0] in ("#extract", "#turn"):
            parts.append(f"[{t[0][1:]}]")
        elif t[0] == "#stray":
            parts.append(f"</{t[1]}> (closing nothing)")
        else:
            parts.append(f"«{_short(str(t[1]), 60)}»" if str(t[1]).strip() else "whitespace")
    return _short(" ".join(parts), 160) if parts else "nothing"


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
    return cut + _short(mine[start:i + after], 80), cut + _short(theirs[start:i + after], 80)


def _first_difference(mine: list[Token], theirs: list[Token]) -> str:
    ops = _opcodes(mine, theirs)
    if not ops:
        return "(no difference found)"
    op, i1, i2, j1, j2 = ops[0]
    return "it " + _describe(op, mine[i1:i2], theirs[j1:j2]).replace(", which rta renders there", "").replace(
        ", which rta never renders there", "")


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# Reading quotes (kept for tools and tests that list a report's extracts)


@dataclass
class ReportQuote:
    """One extract of an HTML report: its data attributes and the text a reader sees."""

    transcript: str | None
    revision: str | None
    start: str | None
    end: str | None
    sha256: str | None
    coding: str | None
    text: str
    line: int


def report_quotes(html_text: str) -> list[ReportQuote]:
    """The extracts of an HTML report, text HTML-unescaped exactly as a reader sees it."""
    out = []
    for part in _parse_html_parts(_parse_html(html_text)).parts:
        if part.kind == "extract":
            d = part.data
            out.append(ReportQuote(d.get("transcript"), d.get("revision"), d.get("start"), d.get("end"),
                                   d.get("sha256"), d.get("coding"), part.fields.get("text", ""), part.line))
    return out
