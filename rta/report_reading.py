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
    """What a report says about its build (its ``rta-report`` JSON). They are inputs of the
    re-render, so a false claim shows as a difference; their form is checked so no free text
    rides in on them."""

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
    lang: str = "nb"
    title: str = ""
    figures: bool = False
    coder: str | None = None
    problems: list[str] = field(default_factory=list)


_BUILT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_VERSION = re.compile(r"[0-9A-Za-z.+!_-]{1,40}")
_COUNTS = r"\d+ [0-9A-Za-z ()'./-]+(?:, \d+ [0-9A-Za-z ()'./-]+)*"  # "23 events, 4 turn tables (logged hash)"
_SUMMARY = re.compile(rf"audit passed: {_COUNTS}|audit FAILED: \d+ failure\(s\) \({_COUNTS}\); checked {_COUNTS}")
_FAILURE = re.compile(r"\[[a-z]+\] .*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CLAIMS_MD = re.compile(r"<!-- rta-report: (\{.*\}) -->")


def _check_claims(c: Claims) -> None:
    """Note every claim whose form rta never writes (the re-render then differs there too)."""
    if c.build_id and not re.fullmatch(r"[0-9a-f]{32}", c.build_id):
        c.problems.append(f"its build id «{short(c.build_id)}» is not one rta writes")
    if c.log_head and not HEAD_FORM.fullmatch(c.log_head):
        c.problems.append(f"its log head «{short(c.log_head)}» is not one rta writes")
    if not _BUILT.fullmatch(c.built) or not _VERSION.fullmatch(c.rta_version) or not 1 <= c.phase <= 6:
        c.problems.append(f"its build claim «{short(c.built)}, rta {short(c.rta_version)}, phase {c.phase}» is not one "
                          "rta writes")
    if not _SUMMARY.fullmatch(c.audit_summary):
        c.problems.append(f"its audit line «{short(c.audit_summary)}» is not one rta writes")
    elif c.audit_ok != c.audit_summary.startswith("audit passed"):
        c.problems.append("its audit line and its verified/unverified marking disagree")
    if c.audit_ok and c.audit_failures:
        c.problems.append("it lists audit failures under an audit that passed")
    bad = [f for f in c.audit_failures if not _FAILURE.fullmatch(f)]
    if bad:
        c.problems.append(f"its audit failure «{short(bad[0])}» is not one rta writes")
    if c.lang not in ("nb", "en"):
        c.problems.append(f"its language «{short(c.lang)}» is not one rta writes")
    if len(c.title) > 300 or _CONTROL.search(c.title):
        c.problems.append(f"its title «{short(c.title)}» is not one rta writes")


def claims_from_json(text: str | None, where: str) -> Claims:
    """Claims from the ``rta-report`` JSON a report carries (:meth:`rta.report.ReportData.claims`)."""
    import json

    if not text:
        raise NotAReport(f"it has no rta-report claims ({where}: rta writes them into every report)")
    try:
        d = json.loads(text)
    except ValueError:
        raise NotAReport(f"its rta-report claims ({where}) are not JSON") from None
    if not isinstance(d, dict):
        raise NotAReport(f"its rta-report claims ({where}) are not a JSON object")
    c = Claims()

    def get(key: str, kind: type | tuple, default: Any) -> Any:
        value = d.get(key, default)
        if value is not None and not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            c.problems.append(f"its claim {key!r} ({short(repr(value))}) is not one rta writes")
            return default
        return value

    c.build_id = get("build", str, "") or ""
    c.built = get("built", str, "") or ""
    c.rta_version = get("rta", str, "") or ""
    c.phase = get("phase", int, 0) or 0
    c.audit_ok = bool(get("audit_ok", bool, False))
    c.audit_summary = get("audit", str, "") or ""
    failures = get("failures", list, []) or []
    c.audit_failures = [str(f) for f in failures]
    anon = get("anonymisation", list, None)
    if anon is not None:
        ok = all(isinstance(x, list) and len(x) == 2 and isinstance(x[0], str) and isinstance(x[1], int) for x in anon)
        c.anonymisation = [(x[0], x[1]) for x in anon] if ok else []
        if not ok:
            c.problems.append("its anonymisation claim is not one rta writes")
    c.log_head = get("log_head", str, "") or ""
    c.theme = get("theme", str, None)
    c.role = get("role", str, None)
    c.lang = get("lang", str, "nb") or "nb"
    c.title = get("title", str, "") or ""
    c.figures = bool(get("figures", bool, False))
    c.coder = get("coder", str, None)
    _check_claims(c)
    return c


def html_claims(doc: Node) -> Claims:
    generator = next((n for n in doc.iter() if n.tag == "meta" and n.attr("name") == "generator"), None)
    gen = generator.attr("content") if generator is not None else None
    if not gen or not gen.startswith("rta "):
        raise NotAReport('it has no <meta name="generator" content="rta ..."> (rta writes one into every report)')
    meta = next((n for n in doc.iter() if n.tag == "meta" and n.attr("name") == "rta-report"), None)
    return claims_from_json(meta.attr("content") if meta is not None else None, '<meta name="rta-report">')


def md_claims(text: str) -> Claims:
    head = text[:20000]
    found = CLAIMS_MD.search(head)
    return claims_from_json(found.group(1) if found else None, "<!-- rta-report: ... -->")


_MD_UNESCAPE = re.compile(r"\\([\\`*_\[\]|#~!{}])")


def md_unescape(text: str) -> str:
    """Undo :func:`rta.report_render.md_escape`: what a reader of the rendered Markdown sees."""
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
                  "vedlegg-utdrag": "appendix A (the other extracts)",
                  "vedlegg-transkripsjoner": "appendix B (the extracts in context)",
                  "vedlegg-revisjon": "appendix C (traceability and audit)",
                  "vedlegg-memoer": "appendix D (memos and journal)"}


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
        elif n.tag == "div" and ident.startswith("utdrag-"):  # a theme's other extracts in appendix A
            heading["h3"] = ""
            slug, theme = ident[len("utdrag-"):], n.attr("data-theme") or ident
            where = f"appendix A, theme «{theme}»"
        elif n.tag in ("head", "header", "nav"):
            where = {"head": "the <head>", "header": "the report's header", "nav": "the table of contents"}[n.tag]
        elif n.tag in ("h3", "h4") and slug:
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
    in_appendix = False
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
        if ident.startswith(("tema-", "utdrag-")):
            slug, heading = ident.split("-", 1)[1], ""
            in_appendix = ident.startswith("utdrag-")
        elif ident:
            slug, heading, in_appendix = "", "", False
        if ln.startswith("## "):
            theme = md_unescape(ln[3:]) if slug else ""
            where = f"theme «{theme}»" if slug else f"section «{md_unescape(ln[3:])}»"
        elif ln.startswith("### ") and slug and in_appendix:
            theme = md_unescape(ln[4:])
            where = f"appendix A, theme «{theme}»"
        elif ln.startswith(("### ", "#### ")) and slug:
            heading = ln.split(" ", 1)[1]
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
                if ln.startswith("> — ") or not ln.startswith(">"):
                    break
                said.append(ln[2:] if ln.startswith("> ") else "")
            while said and not said[-1]:
                said.pop()
            fields["text"] = md_unescape("\n".join(said))
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


# --------------------------------------------------------------------------------------------
# Word reports (rta.report_docx): hidden tags, extracts, comments


@dataclass
class DocxExtract:
    """An extract read from a Word report: its hidden tag, the text a reader sees (its
    paragraphs joined by a blank line), its attribution line and where it stands."""

    tag: dict[str, Any]
    text: str
    attribution: str
    paragraph: int  # the body paragraph it starts at (1-based), for messages
    theme: str  # the theme heading it stands under
    slug: str
    tracked: bool = False  # Word's tracked changes inside it
    comments: list[str] = field(default_factory=list)  # ids of comments anchored in it


@dataclass
class DocxReport:
    claims: Claims
    extracts: list[DocxExtract]
    untagged_quotes: list[tuple[int, str]]  # Quote-style paragraphs no extract tag opened
    comments: dict[str, tuple[str, Any]]  # comment id -> ('extract', DocxExtract) | ('theme', name) | ('other', section)


def _w(tag: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


def _para_text(p: Any) -> tuple[str, str, bool]:
    """(visible text, hidden text, has tracked changes) of a paragraph: deleted text left out,
    inserted text kept, hidden (vanish) runs apart."""
    visible, hidden, tracked = [], [], False
    for el in p.iter():
        if el.tag in (_w("ins"), _w("del")):
            tracked = True
        if el.tag not in (_w("t"), _w("tab"), _w("br")):
            continue
        run = el.getparent()
        if any(a.tag == _w("del") for a in el.iterancestors()):
            continue
        rpr = run.find(_w("rPr")) if run is not None else None
        vanish = rpr is not None and rpr.find(_w("vanish")) is not None
        piece = el.text or "" if el.tag == _w("t") else "\t" if el.tag == _w("tab") else "\n"
        (hidden if vanish else visible).append(piece)
    return "".join(visible), "".join(hidden), tracked


def _tags(hidden: str) -> list[tuple[str, str]]:
    out = []
    for m in re.finditer(r"\[rta:(\w+) (.*?)\](?=\[rta:|$)", hidden, re.S):
        out.append((m.group(1), m.group(2)))
    return out


def read_docx(path: Any) -> DocxReport:
    """Read a Word report rta wrote (and perhaps a reviewer edited and commented): its claims,
    extracts with their hidden tags, and which comment stands where. Raises NotAReport for a
    file that is no Word document or carries no rta claims."""
    import json
    import zipfile

    import docx

    from rta.xmlsafe import parse_untrusted_xml

    try:
        with zipfile.ZipFile(path) as z:
            for member in ("word/document.xml", "word/comments.xml"):
                if member in z.namelist():
                    info = z.getinfo(member)
                    if info.file_size > 200 * 1024 * 1024:
                        raise NotAReport(f"its {member} declares {info.file_size} bytes (more than 200 MB)")
                    parse_untrusted_xml(z.read(member), str(path), member)
        document = docx.Document(str(path))
    except NotAReport:
        raise
    except Exception as exc:  # not a zip, no document part, malformed XML, entities (RtaError)
        raise NotAReport(f"it cannot be read as a Word document ({getattr(exc, 'message', exc)})") from None
    claims_text: str | None = None
    extracts: list[DocxExtract] = []
    untagged: list[tuple[int, str]] = []
    comments: dict[str, tuple[str, Any]] = {}
    quote_style = {s.style_id for s in document.styles if s.name == "Quote"}
    theme, slug, section = "", "", "header"
    current: DocxExtract | None = None
    open_comments: list[str] = []
    n = 0
    for p in document.element.body.iter(_w("p")):
        n += 1
        visible, hidden, tracked = _para_text(p)
        style = p.find(f"{_w('pPr')}/{_w('pStyle')}")
        style_id = style.get(_w("val")) if style is not None else ""
        starts = [c.get(_w("id")) for c in p.iter(_w("commentRangeStart"))]
        refs = [c.get(_w("id")) for c in p.iter(_w("commentReference"))]
        for kind, value in _tags(hidden):
            if kind == "report" and claims_text is None:
                claims_text = value
            elif kind in ("theme", "section"):
                current = None
                if kind == "theme":
                    try:
                        info = json.loads(value)
                        theme, slug = str(info.get("name", "")), str(info.get("slug", ""))
                    except ValueError:
                        theme, slug = value, ""
                else:
                    theme, slug, section = "", "", value
            elif kind == "q":
                try:
                    tag = json.loads(value)
                except ValueError:
                    tag = {"bad": value}
                current = DocxExtract(tag if isinstance(tag, dict) else {"bad": value}, "", "", n, theme, slug)
                extracts.append(current)
        here = [c for c in starts + refs if c is not None]
        if current is not None and style_id in quote_style:
            if visible.startswith("— "):
                current.attribution = visible
                current.comments += here + open_comments
                current.tracked |= tracked
                current = None
                open_comments = []
                for c in here:
                    comments.setdefault(c, ("extract", extracts[-1]))
                continue
            said = visible
            if not current.text:  # the first paragraph starts with the speaker in bold: 'S1: '
                label = str(current.tag.get("a", ""))
                said = visible.split(": ", 1)[1] if ": " in visible else visible
                current.tag.setdefault("_label", visible.split(": ", 1)[0] if ": " in visible else label)
            current.text = f"{current.text}\n\n{said}" if current.text else said
            current.tracked |= tracked
            current.comments += here
            for c in here:
                comments.setdefault(c, ("extract", current))
            continue
        if current is not None:  # a paragraph inside an extract that is not a Quote: the extract ended
            current = None
        if style_id in quote_style and visible.strip():
            untagged.append((n, visible))
        for c in here:
            comments.setdefault(c, ("theme", theme) if theme else ("other", section))
    claims = claims_from_json(claims_text, "the hidden [rta:report ...] tag of its title")
    return DocxReport(claims, extracts, untagged, comments)
