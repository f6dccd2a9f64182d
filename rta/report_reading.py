"""Reading a built report: what an rta report file claims about its build, its extracts,
context turns and the rest, parsed from HTML or Markdown into comparable parts.

:mod:`rta.receipts` uses this to verify a report against the store; tools and tests use
:func:`report_quotes` to list a report's extracts.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Iterator

from rta.store import HEAD_FORM

# The build id a report carries (``report.built`` records it with the file's sha256).
BUILD_ID = {"html": re.compile(r'<meta name="rta-build" content="([0-9a-f]{8,64})">'),
            "md": re.compile(r"<!-- rta-build: ([0-9a-f]{8,64}) -->")}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}


# --------------------------------------------------------------------------------------------
# Build claims: what the file says about its own build (checked for form, then re-rendered)


class NotAReport(Exception):
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
    coder: str | None = None
    problems: list[str] = field(default_factory=list)


_BUILT = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(rta ([0-9A-Za-z.+!_-]{1,40}), fase (\d)\)")
_COUNTS = r"\d+ [0-9A-Za-z ()'./-]+(?:, \d+ [0-9A-Za-z ()'./-]+)*"  # "23 events, 4 turn tables (logged hash)"
_SUMMARY = re.compile(rf"audit passed: {_COUNTS}|audit FAILED: \d+ failure\(s\) \({_COUNTS}\); checked {_COUNTS}")
_FAILURE = re.compile(r"\[[a-z]+\] .*")
_FILTERS = re.compile(r" · utvalg: (?:tema = (.*?))?(?:, )?(?:rolle = (.*?))?(?:, )?(?:koder = (.*))?")
_ANON_ITEM = re.compile(r"(.+?) \((\d+)\)(?:, |$)")


def _check_claims(c: Claims) -> None:
    """Note every claim whose form rta never writes (the re-render then differs there too)."""
    if c.build_id and not re.fullmatch(r"[0-9a-f]{32}", c.build_id):
        c.problems.append(f"its build id «{short(c.build_id)}» is not one rta writes")
    if c.log_head and not HEAD_FORM.fullmatch(c.log_head):
        c.problems.append(f"its log head «{short(c.log_head)}» is not one rta writes")
    if not _SUMMARY.fullmatch(c.audit_summary):
        c.problems.append(f"its audit line «{short(c.audit_summary)}» is not one rta writes")
    elif c.audit_ok != c.audit_summary.startswith("audit passed"):
        c.problems.append("its audit line and its verified/unverified marking disagree")
    if c.audit_ok and c.audit_failures:
        c.problems.append("it lists audit failures under an audit that passed")
    bad = [f for f in c.audit_failures if not _FAILURE.fullmatch(f)]
    if bad:
        c.problems.append(f"its audit failure «{short(bad[0])}» is not one rta writes")


def html_claims(doc: Node) -> Claims:
    c = Claims()
    generator = next((n for n in doc.iter() if n.tag == "meta" and n.attr("name") == "generator"), None)
    gen = generator.attr("content") if generator is not None else None
    if not gen or not gen.startswith("rta "):
        raise NotAReport('it has no <meta name="generator" content="rta ..."> (rta writes one into every report)')
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
        raise NotAReport("it has no audit appendix (Vedlegg B with «Bygget» and the audit result)")
    m = _BUILT.fullmatch(built_dd.text_content())
    if m:
        c.built, c.rta_version, c.phase = m.group(1), m.group(2), int(m.group(3))
    else:
        c.problems.append(f"its build line «{short(built_dd.text_content())}» is not one rta writes")
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


def md_claims(text: str) -> Claims:
    c = Claims()
    lines = text.split("\n")
    if "## Vedlegg B: sporbarhet og revisjon" not in lines:
        raise NotAReport("it has no audit appendix («## Vedlegg B: sporbarhet og revisjon»)")
    built = next((ln for ln in lines if ln.startswith("- **Bygget:** ")), None)
    result_i = next((i for i, ln in enumerate(lines) if ln.startswith("- **Revisjon:** ")), None)
    if built is None or result_i is None:
        raise NotAReport("its audit appendix lacks «Bygget» or «Revisjon»")
    m = _BUILT.fullmatch(built[len("- **Bygget:** "):])
    if m:
        c.built, c.rta_version, c.phase = m.group(1), m.group(2), int(m.group(3))
    else:
        c.problems.append(f"its build line «{short(built)}» is not one rta writes")
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
    found = BUILD_ID["md"].search(text)
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
        c.problems.append(f"its selection «{short(line[i + 3:])}» is not one rta writes")
        return
    theme, role, coder = m.group(1), m.group(2), m.group(3)
    c.theme = md_unescape(theme) if unescape and theme else theme
    c.role = md_unescape(role) if unescape and role else role
    c.coder = md_unescape(coder) if unescape and coder else coder


_MD_UNESCAPE = re.compile(r"\\([\\`*_\[\]|#~!{}])")


def md_unescape(text: str) -> str:
    """Undo :func:`rta.report.md_escape`: what a reader of the rendered Markdown sees."""
    return _MD_UNESCAPE.sub(r"\1", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --------------------------------------------------------------------------------------------
# HTML as a tree (only to compare it: nothing is rendered or fetched)


class Node:
    __slots__ = ("tag", "attrs", "line", "children", "text", "parent")

    def __init__(self, tag: str, attrs: tuple[tuple[str, str | None], ...] = (), line: int = 0, text: str = "") -> None:
        self.tag, self.attrs, self.line, self.text = tag, attrs, line, text
        self.children: list[Node] = []
        self.parent: Node | None = None

    def attr(self, name: str) -> str | None:
        for k, v in self.attrs:
            if k == name:
                return v
        return None

    def classes(self) -> list[str]:
        return (self.attr("class") or "").split()

    def iter(self) -> Iterator[Node]:
        """This node and all below it, in document order (no recursion: depth is untrusted)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def text_content(self) -> str:
        return "".join(n.text for n in self.iter() if n.tag == "#text")

    def next_element(self) -> Node | None:
        if self.parent is None:
            return None
        sibs = [s for s in self.parent.children if not s.tag.startswith("#")]
        i = sibs.index(self)
        return sibs[i + 1] if i + 1 < len(sibs) else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", (), 1)
        self.stack = [self.root]

    def _add(self, node: Node) -> None:
        node.parent = self.stack[-1]
        self.stack[-1].children.append(node)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, tuple(sorted(attrs, key=lambda a: a[0])), self.getpos()[0])
        self._add(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add(Node(tag, tuple(sorted(attrs, key=lambda a: a[0])) + (("/", None),), self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return
        self._add(Node("#stray", (("tag", tag),), self.getpos()[0]))  # an end tag nothing opened

    def handle_data(self, data: str) -> None:
        kids = self.stack[-1].children
        if kids and kids[-1].tag == "#text":
            kids[-1].text += data
        else:
            self._add(Node("#text", (), self.getpos()[0], data))

    def handle_comment(self, data: str) -> None:
        self._add(Node("#comment", (), self.getpos()[0], data))

    def handle_decl(self, decl: str) -> None:
        self._add(Node("#decl", (), self.getpos()[0], decl))

    def unknown_decl(self, data: str) -> None:
        self._add(Node("#decl", (), self.getpos()[0], data))

    def handle_pi(self, data: str) -> None:
        self._add(Node("#pi", (), self.getpos()[0], data))


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    try:
        builder.feed(text)
        builder.close()
    except (AssertionError, ValueError) as exc:  # markup the standard parser gives up on
        raise NotAReport(f"its HTML cannot be parsed ({exc})") from None
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


def _html_tokens(node: Node, out: list[Token], lines: list[int]) -> None:
    stack: list[tuple[Node, bool]] = [(node, False)]
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


def parse_html_parts(doc: Node) -> Parsed:
    parsed = Parsed()
    # walk the tree: (node, closing, where, section slug, theme name)
    heading = {"h3": ""}
    stack: list[tuple[Node, bool, str, str, str]] = [(c, False, "the report", "", "") for c in reversed(doc.children)]
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


def _html_part(n: Node, slug: str, theme: str, heading: str) -> Part:
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


def parse_md_parts(text: str) -> Parsed:
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
    for part in parse_html_parts(parse_html(html_text)).parts:
        if part.kind == "extract":
            d = part.data
            out.append(ReportQuote(d.get("transcript"), d.get("revision"), d.get("start"), d.get("end"),
                                   d.get("sha256"), d.get("coding"), part.fields.get("text", ""), part.line))
    return out


def short(text: str, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters for a message."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
