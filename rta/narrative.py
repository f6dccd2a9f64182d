"""A theme's analytic narrative (its memos), written in a small, safe part of Markdown.

Researchers write memos with a little Markdown: paragraphs (a blank line), ``- `` or ``* ``
list items, ``**strong**`` and ``*emphasis*`` / ``_emphasis_``. That much is rendered; nothing
else is: no raw HTML, no links, no images, no headings. Every character of the text is
escaped for the output format first, so a memo can never become markup (:func:`to_html`,
:func:`to_markdown`; the Word report takes :func:`parse` as runs).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_INLINE = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|\*(?=\S)(.+?)(?<=\S)\*|(?<![\w])_(?=\S)(.+?)(?<=\S)_(?![\w])")
_ITEM = re.compile(r"^\s*[-*]\s+(.*)$")


@dataclass
class Run:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass
class Block:
    kind: str  # 'p' or 'li' (one list item)
    runs: list[Run]


def _runs(text: str) -> list[Run]:
    out: list[Run] = []
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append(Run(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append(Run(m.group(1), bold=True))
        else:
            out.append(Run(m.group(2) if m.group(2) is not None else m.group(3), italic=True))
        pos = m.end()
    if pos < len(text):
        out.append(Run(text[pos:]))
    return out


def parse(text: str) -> list[Block]:
    """The blocks of a memo: paragraphs (lines joined) and list items."""
    blocks: list[Block] = []
    for para in re.split(r"\n[ \t]*\n", text.strip()):
        lines = [ln for ln in para.split("\n") if ln.strip()]
        current: list[str] = []
        kind = "p"

        def close() -> None:
            if current:
                blocks.append(Block(kind, _runs(" ".join(s.strip() for s in current))))

        for ln in lines:
            m = _ITEM.match(ln)
            if m:
                close()
                current, kind = [m.group(1)], "li"
            else:
                current.append(ln)
        close()
    return blocks


def to_html(text: str) -> str:
    """The memo as HTML: <p>, <ul><li>, <strong>, <em>; all text escaped."""
    out: list[str] = []
    in_list = False
    for b in parse(text):
        inner = "".join(f"<strong>{html.escape(r.text)}</strong>" if r.bold else
                        f"<em>{html.escape(r.text)}</em>" if r.italic else html.escape(r.text) for r in b.runs)
        if b.kind == "li":
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{inner}</li>")
        else:
            if in_list:
                out.append("</ul>")
                in_list = False
            out.append(f"<p>{inner}</p>")
    if in_list:
        out.append("</ul>")
    return "".join(out)


def to_markdown(text: str) -> str:
    """The memo as Markdown with only the markup this module reads (everything else escaped)."""
    from rta.report_render import md_escape

    lines: list[str] = []
    prev = None
    for b in parse(text):
        inner = "".join(f"**{md_escape(r.text)}**" if r.bold else f"*{md_escape(r.text)}*" if r.italic else
                        md_escape(r.text) for r in b.runs)
        if prev is not None and not (prev == "li" and b.kind == "li"):
            lines.append("")
        lines.append(f"- {inner}" if b.kind == "li" else inner)
        prev = b.kind
    return "\n".join(lines)
