"""Manuscripts: a thesis chapter or an article read for its interview extracts.

:func:`read_manuscript` reads a ``.docx``, ``.md``, ``.txt`` or ``.pdf`` file into paragraphs,
each marked as a block quote or not: Word's Quote / Intense Quote styles (and their Norwegian
names) or a paragraph indented on the left; Markdown ``>`` blocks; indented lines in plain text
(and in a PDF's text laid out as on the page). :func:`find_extracts` finds the extracts in them:

* block quotes;
* paragraphs that start with a speaker label (``S1:``, ``R1.1:(...)``, ``R 2.1:``), recognised by
  the one rule for labels (:mod:`rta.labels`) and resolved against the informant registry;
* inline quotes in «...», “...”, „...“ or "..." of at least :data:`MIN_INLINE_WORDS` words.

Each extract carries its attribution where the manuscript gives one (:class:`Attribution`): a
label before it, a code in parentheses (or after a dash) after it ("(R4)", "(R4, kommune 4)",
"– R4"), or an informant code in the lead-in sentence ("skoleleder R4 sier", "en av veilederne
(Ve):"); the nearest code to the extract wins. Nothing here compares with transcripts: that is
:mod:`rta.verify`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from rta.errors import RtaError
from rta.fsutil import sha256_bytes
from rta.informants import LabelError, Registry, squash
from rta.labels import looks_like_label, resolve, split_head
from rta.transcripts import normalise_text

SUFFIXES = (".docx", ".md", ".txt", ".pdf")
MAX_MANUSCRIPT_BYTES = 100 * 1024 * 1024
MIN_INLINE_WORDS = 4
"""An inline quote shorter than this is a phrase, not an extract (``«ikke sant»``)."""

# Word paragraph styles of block quotes: the built-in names and their Norwegian display names.
QUOTE_STYLES = {"quote", "intense quote", "sitat", "sterkt sitat", "block text", "blokktekst", "blockquote",
                "block quote"}
INDENT_EMU = 228600  # 0.25 inch, about 0.6 cm: a paragraph indented this far on the left is a block quote

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?](?:[»”\"')\]]*)\s+(?=[«“\"(\[]?[A-ZÆØÅ0-9])")


@dataclass
class Paragraph:
    """One paragraph of a manuscript: its text (line breaks kept), whether it is set as a block
    quote, and where it is (``paragraph 12``, ``line 40``, ``page 3, line 7``)."""

    text: str
    quote: bool
    where: str
    joined: bool = False  # a block-quote paragraph that continues the one before (Word's paragraphs of one quote)


@dataclass
class Manuscript:
    """A manuscript file read into paragraphs, with the sha256 of its bytes."""

    path: Path
    name: str
    sha256: str
    format: str
    paragraphs: list[Paragraph]
    words: int = 0


@dataclass
class Attribution:
    """Whom the manuscript says spoke an extract. ``codes`` are canonical informant codes (one,
    or none); ``interviewer`` when a label gives the interviewer (``I:``); ``how`` is 'label',
    'parenthesis', 'dash', 'lead-in' or '' (none); ``written`` the words that say it."""

    codes: list[str] = field(default_factory=list)
    interviewer: bool = False
    how: str = ""
    written: str = ""

    @property
    def given(self) -> bool:
        return bool(self.codes) or self.interviewer

    def __str__(self) -> str:
        if self.interviewer:
            return "I"
        return "/".join(self.codes)


@dataclass
class Extract:
    """One extract of a manuscript: its words as written (label, attribution and outer quote
    marks left out), where it stands, its kind ('block', 'label' or 'inline') and attribution.
    ``context`` is the text around it that the manuscript shows (the lead-in, or the paragraph
    of an inline quote)."""

    n: int
    kind: str
    text: str
    where: str
    attribution: Attribution
    context: str = ""


def words_in(text: str) -> int:
    return len(_WORD.findall(text))


# --------------------------------------------------------------------------------------------
# Reading


def read_manuscript(path: str | Path, encoding: str = "utf-8") -> Manuscript:
    """Read a manuscript into paragraphs. A missing, unreadable or unsupported file is an
    :class:`RtaError` naming it (exit 2)."""
    path = Path(path)
    if not path.exists():
        raise RtaError("file not found", path=path, hint="check the path and the file name")
    if path.is_dir():
        raise RtaError("is a directory, expected a manuscript file", path=path,
                       hint="give one .docx, .md, .txt or .pdf file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RtaError(f"unsupported manuscript type '{suffix or '(none)'}'", path=path,
                       hint="rta verify reads .docx, .md, .txt and .pdf (save the manuscript as one of them)")
    size = path.stat().st_size
    if size > MAX_MANUSCRIPT_BYTES:
        raise RtaError(f"the file is {size / 1024 / 1024:.0f} MB; manuscripts over "
                       f"{MAX_MANUSCRIPT_BYTES // 1024 // 1024} MB are refused", path=path,
                       hint="verify one chapter at a time")
    data = path.read_bytes()
    if suffix == ".docx":
        paragraphs = _read_docx(path)
    elif suffix == ".pdf":
        paragraphs = _read_pdf(path)
    else:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise RtaError(f"not valid {encoding} (byte 0x{data[exc.start]:02x} at line {line})", path=path, line=line,
                           hint="save it as UTF-8, or re-run with --encoding cp1252 (or latin-1)") from None
        except LookupError:
            raise RtaError(f"unknown encoding '{encoding}'", path=path, hint="try utf-8, cp1252 or latin-1") from None
        text = normalise_text(text)
        paragraphs = _read_markdown(text) if suffix == ".md" else _read_plain(text)
    paragraphs = [p for p in paragraphs if p.text.strip()]
    words = sum(words_in(p.text) for p in paragraphs)
    return Manuscript(path, path.name, sha256_bytes(data), suffix.lstrip("."), paragraphs, words)


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _read_plain(text: str, where: str = "line {line}", indent: int = 2) -> list[Paragraph]:
    """Paragraphs separated by blank lines; a run of lines indented ``indent`` or more spaces
    (a tab counts as four) is a block quote, and so is a paragraph whose every line is."""
    out: list[Paragraph] = []
    lines = text.split("\n")
    buf: list[str] = []
    quoted = False
    first = 0

    def flush() -> None:
        if buf:
            out.append(Paragraph("\n".join(s.strip() for s in buf), quoted, where.format(line=first + 1)))
        buf.clear()

    for i, line in enumerate(lines):
        if not line.strip():
            flush()
            continue
        is_quote = _indent(line) >= indent
        if buf and is_quote != quoted:
            flush()
        if not buf:
            first, quoted = i, is_quote
        buf.append(line)
    flush()
    return out


_MD_QUOTE = re.compile(r"^ {0,3}>+ ?")
_MD_EMPHASIS = re.compile(r"(?<![\w*])[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}(?![\w*])")


def _read_markdown(text: str) -> list[Paragraph]:
    """Markdown: each run of ``>`` lines is one block quote (its ``>`` lines with nothing else
    separate its paragraphs); other paragraphs are separated by blank lines. Emphasis marks
    (``*``, ``_``) and heading marks are dropped; fenced code is left out."""
    out: list[Paragraph] = []
    buf: list[str] = []
    quoted = False
    first = 0
    fenced = False

    def flush() -> None:
        if buf:
            body = "\n".join(buf).strip("\n")
            out.append(Paragraph(_MD_EMPHASIS.sub("", body), quoted, f"line {first + 1}"))
        buf.clear()

    for i, line in enumerate(text.split("\n")):
        if line.lstrip().startswith(("```", "~~~")):
            flush()
            fenced = not fenced
            continue
        if fenced:
            continue
        m = _MD_QUOTE.match(line)
        if m:
            if buf and not quoted:
                flush()
            if not buf:
                first, quoted = i, True
            buf.append(line[m.end():].strip())
            continue
        if not line.strip():
            flush()
            continue
        if buf and quoted:
            flush()
        if not buf:
            first, quoted = i, False
        buf.append(re.sub(r"^\s{0,3}#{1,6}\s+", "", line).strip())
    flush()
    return out


def _style_facts(style: Any) -> tuple[bool, int | None, bool]:
    """(a block-quote style, its left indent or None, a list style) of a paragraph style,
    through the styles it is based on."""
    names: list[str] = []
    indent = None
    while style is not None and len(names) < 20:
        names += [(style.name or "").casefold(), (getattr(style, "style_id", "") or "").casefold()]
        if indent is None:
            indent = style.paragraph_format.left_indent
        style = style.base_style
    return any(n in QUOTE_STYLES for n in names), indent, any("list" in n for n in names)


def _read_docx(path: Path) -> list[Paragraph]:
    """Word: each paragraph (tables' too, cell by cell), a block quote when its style (or a
    style it is based on) is Quote / Intense Quote (Sitat / Sterkt sitat) or when it is
    indented on the left by :data:`INDENT_EMU` or more (lists aside)."""
    from rta.transcripts import open_docx

    document = open_docx(path)
    from docx.text.paragraph import Paragraph as DocxParagraph

    out: list[Paragraph] = []
    count = 0
    styles: dict[str | None, tuple[bool, int | None, bool]] = {}  # python-docx looks a style up slowly

    def add(p: Any, in_table: bool) -> None:
        nonlocal count
        count += 1
        text = normalise_text(p.text.replace("\v", "\n"))
        style_id = p._p.style
        if style_id not in styles:
            styles[style_id] = _style_facts(p.style)
        quote_style, style_indent, list_style = styles[style_id]
        ppr = p._p.pPr
        numbered = list_style or (ppr is not None and ppr.numPr is not None)
        indent = p.paragraph_format.left_indent
        indent = style_indent if indent is None else indent
        quote = quote_style or (not in_table and not numbered and int(indent or 0) >= INDENT_EMU)
        joined = quote and bool(out) and out[-1].quote and out[-1].where.startswith(f"paragraph {count - 1}")
        out.append(Paragraph(text, quote, f"paragraph {count}" + (" (in a table)" if in_table else ""), joined))

    for block in document.iter_inner_content():
        if isinstance(block, DocxParagraph):
            add(block, False)
            continue
        for row in block.rows:
            seen: list[Any] = []
            for cell in row.cells:
                if any(cell._tc is s for s in seen):
                    continue
                seen.append(cell._tc)
                for p in cell.paragraphs:
                    add(p, True)
    return out


def _read_pdf(path: Path) -> list[Paragraph]:
    """PDF: the text of each page laid out as on the page (pypdf's layout mode), so block
    quotes keep their indent; read then as plain text, page by page."""
    try:
        import pypdf
    except ImportError:
        raise RtaError("reading .pdf needs pypdf, which is not installed", path=path,
                       hint="pip install pypdf, or save the manuscript as .docx or .txt") from None
    try:
        reader = pypdf.PdfReader(str(path))
        pages = []
        for page in reader.pages:
            try:
                pages.append(page.extract_text(extraction_mode="layout"))
            except TypeError:  # an older pypdf without layout mode
                pages.append(page.extract_text())
    except Exception as exc:
        raise RtaError(f"cannot read PDF file: {exc}", path=path,
                       hint="export the manuscript again as PDF, or save it as .docx or .txt") from None
    out: list[Paragraph] = []
    for n, text in enumerate(pages, 1):
        text = normalise_text(text or "")
        lines = [ln.rstrip() for ln in text.split("\n")]
        margin = min((_indent(ln) for ln in lines if ln.strip()), default=0)
        body = "\n".join(ln.expandtabs(4)[margin:] for ln in lines)
        out.extend(_read_plain(body, where=f"page {n}, line {{line}}", indent=4))
    return out


# --------------------------------------------------------------------------------------------
# Informant codes in running text


class CodeFinder:
    """Finds informant codes in running text ("skoleleder R4 sier", "(Ve)", "R 2.1") and gives
    their canonical form. Codes are matched as written (case and all), whitespace inside a code
    optional, never inside a longer word or number."""

    def __init__(self, codes: Iterable[str], registry: Registry) -> None:
        self.registry = registry
        self.canonical: dict[str, str] = {}
        for code in codes:
            self.canonical.setdefault(squash(code), code)
        parts = []
        for code in sorted(self.canonical, key=len, reverse=True):
            # 'R2.1' may be written 'R 2.1'
            m = re.match(r"([A-Za-zÆØÅæøå]+)(.*)", code)
            if m and m.group(2):
                parts.append(re.escape(m.group(1)) + r"[ \u00a0]?" + re.escape(m.group(2)))
            else:
                parts.append(re.escape(code))
        self.pattern = re.compile(r"(?<![\w.])(?:" + "|".join(parts) + r")(?![\w]|\.\d)") if parts else None

    def find(self, text: str) -> list[tuple[int, int, str]]:
        if self.pattern is None:
            return []
        return [(m.start(), m.end(), self.canonical[squash(m.group())]) for m in self.pattern.finditer(text)]

    def label(self, label: str) -> Attribution | None:
        """The attribution a speaker label gives (``S1``, ``r1.1``, ``R 2.1``, ``I``, ``Skoleleder
        R4``), or None when the words before the colon are no speaker label."""
        label = label.strip()
        if not label or len(label) > 40:
            return None
        if self.registry.is_interviewer(label):
            return Attribution([], True, "label", label + ":")
        if looks_like_label(label, self.registry):
            try:
                informant = resolve(label, self.registry)
            except LabelError:
                informant = None
            if informant is not None:
                return Attribution([self.canonical.get(squash(informant.code), informant.code)], False, "label",
                                   label + ":")
        found = {code for _, _, code in self.find(label)}
        core = re.sub(r"\s*\([^()]*\)\s*$", "", label)  # 'R4 (skoleleder)'
        if len(found) == 1 and len(core.split()) <= 2:
            return Attribution(sorted(found), False, "label", label + ":")
        return None


# --------------------------------------------------------------------------------------------
# Finding extracts


def _outer_quotes(text: str) -> str:
    """A block quote wrapped in quote marks as a whole: the marks dropped."""
    stripped = text.strip()
    for open_, close in (("«", "»"), ("“", "”"), ("„", "“"), ('"', '"'), ("”", "”")):
        if len(stripped) > 2 and stripped.startswith(open_) and stripped.rstrip(".,").endswith(close):
            inner = stripped[len(open_):]
            inner = inner[: inner.rstrip(".,").rfind(close)] + inner[len(inner.rstrip(".,")):]
            if open_ not in inner and close not in inner:
                return inner.strip()
    return stripped


_TRAILING_PAREN = re.compile(r"(?:\(([^()\n]{1,80})\)|\[([^\[\]\n]{1,80})\])[ \t]*[.,;:]?[ \t]*$")
_TRAILING_DASH = re.compile(r"(?:^|\s)[-–—][ \t]*([^\n\-–—]{1,50})$")


def _trailing_attribution(text: str, codes: CodeFinder) -> tuple[str, Attribution | None]:
    """A code in parentheses (or after a dash) closing an extract: the extract without it, and
    the attribution."""
    m = _TRAILING_PAREN.search(text)
    if m:
        inside = m.group(1) or m.group(2)
        found = codes.find(inside)
        if found:
            return text[: m.start()].rstrip(), Attribution([found[0][2]], False, "parenthesis", m.group().strip())
    m = _TRAILING_DASH.search(text)
    if m:
        found = codes.find(m.group(1))
        if found and words_in(m.group(1)) <= 5:
            return text[: m.start()].rstrip(), Attribution([found[0][2]], False, "dash", m.group().strip())
    return text, None


def _last_sentence(text: str) -> str:
    text = text.rstrip()
    last = 0
    for m in _SENTENCE_END.finditer(text):
        if m.end() < len(text):
            last = m.end()
    return text[last:]


def _lead_in(text: str, codes: CodeFinder, nearest_last: bool = True) -> Attribution | None:
    found = codes.find(text)
    if not found:
        return None
    start, end, code = found[-1] if nearest_last else found[0]
    return Attribution([code], False, "lead-in", " ".join(text.split()))


def _split_labelled(block: str, codes: CodeFinder) -> list[tuple[Attribution | None, str]]:
    """A block split where a line starts with a speaker label (a quoted exchange 'I: ... S1:
    ...'): each part with the label's attribution (None before the first label)."""
    parts: list[tuple[Attribution | None, str]] = []
    current: Attribution | None = None
    buf: list[str] = []
    for line in block.split("\n"):
        head = split_head(line)
        attribution = codes.label(head.label) if head else None
        if attribution is not None:
            if "".join(buf).strip():
                parts.append((current, "\n".join(buf).strip()))
            current, buf = attribution, [line[head.after:].strip()]
        else:
            buf.append(line)
    if "".join(buf).strip():
        parts.append((current, "\n".join(buf).strip()))
    return parts


_INLINE_PAIRS = (
    re.compile(r"“([^“”\n]*(?:\n[^“”\n]*)*)”"),
    re.compile(r"„([^„“”]*)[“”]"),
    re.compile(r"(?<![\w])\"(?=\S)([^\"]*?\S)\"(?![\w])"),
    re.compile(r"(?<![\w])”(?=\S)([^”]*?\S)”(?![\w])"),
)


_GUILLEMETS = re.compile("[«»]")


def inline_quotes(text: str) -> list[tuple[int, int, int, int]]:
    """Quotations in running text: (start, end) of the whole quote with its marks and of its
    words, outermost only, in text order. «...» may nest."""
    found: list[tuple[int, int, int, int]] = []
    depth, start = 0, -1
    for m in _GUILLEMETS.finditer(text):
        i, ch = m.start(), m.group()
        if ch == "«":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "»" and depth:
            depth -= 1
            if depth == 0:
                found.append((start, i + 1, start + 1, i))
    for pattern in _INLINE_PAIRS:
        for m in pattern.finditer(text):
            found.append((m.start(), m.end(), m.start(1), m.end(1)))
    found.sort(key=lambda q: (q[0], -q[1]))
    outer: list[tuple[int, int, int, int]] = []
    for q in found:
        if outer and q[0] < outer[-1][1]:
            continue
        outer.append(q)
    return outer


def find_extracts(manuscript: Manuscript, codes: CodeFinder, min_inline_words: int = MIN_INLINE_WORDS) -> list[Extract]:
    """The interview extracts of a manuscript in reading order (see the module doc)."""
    extracts: list[Extract] = []
    paragraphs = manuscript.paragraphs
    lead: str = ""  # the last sentence of the body paragraph before a block quote

    def add(kind: str, text: str, where: str, attribution: Attribution | None, context: str) -> None:
        text = text.strip()
        if not words_in(text):
            return
        extracts.append(Extract(len(extracts) + 1, kind, text, where, attribution or Attribution(), context))

    i = 0
    while i < len(paragraphs):
        p = paragraphs[i]
        if p.quote:
            # Word's consecutive block-quote paragraphs are one block, unless one starts with a
            # label or the one before ends with an attribution
            block = [p]
            while i + 1 < len(paragraphs) and paragraphs[i + 1].quote and paragraphs[i + 1].joined:
                nxt = paragraphs[i + 1]
                head = split_head(nxt.text.split("\n", 1)[0])
                if (head and codes.label(head.label)) or _trailing_attribution(block[-1].text, codes)[1]:
                    break
                block.append(nxt)
                i += 1
            text = "\n".join(b.text for b in block)
            lead_attr = _lead_in(lead, codes) if lead else None
            for label_attr, part in _split_labelled(text, codes):
                part, trailing = _trailing_attribution(part, codes)
                add("block", _outer_quotes(part), p.where, label_attr or trailing or lead_attr, lead)
            lead = ""  # a lead-in introduces the block after it, not the ones after that
            i += 1
            continue
        head = split_head(p.text.split("\n", 1)[0])
        label_attr = codes.label(head.label) if head else None
        if label_attr is not None and not p.text[head.after:].strip():
            lead = p.text  # 'Skoleleder R4:' alone: the lead-in of the block quote after it
            i += 1
            continue
        if label_attr is not None:
            parts = _split_labelled(p.text, codes)
            for attr, part in parts:
                part, trailing = _trailing_attribution(part, codes)
                add("label", _outer_quotes(part), p.where, attr or trailing, "")
            lead = ""
            i += 1
            continue
        _inline(p, codes, min_inline_words, add)
        lead = _last_sentence(p.text)
        i += 1
    return extracts


def _inline(p: Paragraph, codes: CodeFinder, min_words: int, add: Any) -> None:
    text = p.text
    quotes = inline_quotes(text)
    for k, (qs, qe, ws, we) in enumerate(quotes):
        words = text[ws:we]
        if words_in(words) < min_words:
            continue
        attribution = None
        after = text[qe:]
        m = re.match(r"[ \t]*(?:\(([^()\n]{1,80})\)|\[([^\[\]\n]{1,80})\])", after)
        if m:
            found = codes.find(m.group(1) or m.group(2))
            if found:
                attribution = Attribution([found[0][2]], False, "parenthesis", m.group().strip())
        sentence_start = qs - len(_last_sentence(text[:qs] + "x")) + 1
        if attribution is None:
            attribution = _lead_in(text[max(sentence_start, quotes[k - 1][1] if k else 0):qs], codes)
        if attribution is None:
            rest = text[qe:]
            end = _SENTENCE_END.search(rest)
            nxt = quotes[k + 1][0] - qe if k + 1 < len(quotes) else len(rest)
            rest = rest[: min(end.start() + 1 if end else len(rest), nxt)]
            attribution = _lead_in(rest, codes, nearest_last=False)
        add("inline", words, p.where, attribution, text)
