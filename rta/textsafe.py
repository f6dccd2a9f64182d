"""Text from transcripts, memos and codebooks, made safe for where it is shown.

Transcripts and memos are untrusted input: a pasted transcript can hold terminal escape
sequences (ESC ] 0; sets the window title, ESC [2J clears the screen, OSC 8 makes links),
bidi overrides that reorder what a reader sees (U+202E), or a cell that a spreadsheet runs as
a formula (``=HYPERLINK(...)``). One function per destination, used by every writer:

* :func:`for_terminal`: what ``rta`` prints (``rta.cli.app.echo`` routes everything through it).
* :func:`spreadsheet_cell`: CSV cells (quotes table, suggestions export).
* Markdown: :func:`rta.report_render.md_escape` (the report, the memo export, the codebook document),
  plus :func:`md_code` for a code span.
"""

from __future__ import annotations

import re
import sys
from typing import IO, Any

# C0 controls except TAB and LF (CR is shown: it moves the cursor back over a printed line), DEL
# and C1 controls (U+0080-U+009F: 8-bit CSI/OSC on some terminals), the bidi embeddings,
# overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C) and lone
# surrogates (which cannot be encoded at all).
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    cp = ord(match.group())
    # C0 as \xHH (familiar: \x1b); the rest as \uHHHH, which is also a valid JSON escape of the
    # same character, so JSON printed through for_terminal stays valid and equal (json.dumps
    # already writes C0 as \u00HH, so C0 never reaches here from JSON).
    return f"\\x{cp:02x}" if cp < 0x20 else f"\\u{cp:04x}"


def for_terminal(text: Any) -> str:
    """``text`` with every control character, escape sequence introducer and bidi control shown
    escaped (``\\x1b``, ``\\x07``, ``\\u009b``, ``\\u202e``) instead of acted on by the terminal.
    Newlines and tabs are kept for the layout. A backslash is left as it is, so a transcript
    that literally contains ``\\x1b`` looks the same as an escaped ESC: the point is that
    nothing is *run*, not that the text can be read back."""
    text = str(text)
    if not _TERMINAL_UNSAFE.search(text):
        return text
    return _TERMINAL_UNSAFE.sub(_escape_char, text)


def for_stream(text: str, stream: IO[str] | None = None) -> str:
    """Text for a document written to standard output (``-o`` left out): escaped with
    :func:`for_terminal` when the stream is a terminal, exact when it is a file or pipe (so
    ``rta ... > file`` gives the same bytes as ``-o file``)."""
    stream = stream if stream is not None else sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return for_terminal(text) if tty else text


# OWASP CSV injection: a cell starting with one of these is taken for a formula by Excel,
# LibreOffice or Google Sheets (TAB and CR too: some spreadsheets skip them and read on).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The help of --raw-cells, the same on every export command that writes spreadsheet cells.
RAW_CELLS_HELP = ("Write spreadsheet cells exactly as stored. By default a csv cell starting with = + - @ (or TAB/CR) "
                  "gets a leading ' (in xlsx: the quote-prefix style) so no spreadsheet runs it as a formula.")


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula: text starting with = + - @ TAB or CR
    gets a leading apostrophe (the spreadsheet convention for 'this is text'). Numbers and
    other values are returned as they are (a negative number is data, not a formula).
    ``--raw-cells`` on the export commands skips this."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def md_code(text: Any) -> str:
    """``text`` as a Markdown code span: nothing inside is markup or HTML, and a backtick in the
    text cannot close the span (the fence is one backtick longer than the longest run inside)."""
    text = " ".join(str(text).split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ") and text.strip()) else ""
    return f"{fence}{pad}{text}{pad}{fence}"
