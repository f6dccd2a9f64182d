"""The transcript pane: the file's lines with their numbers, speaker labels in bold, codings in
their code's colour (and bold, so they show without colour too), each passage with codes to
decide underlined once, with the number of its codes still to decide beside its first row, the
selection reversed. Only the rows on screen are drawn, so a long transcript costs no more per
keystroke than a short one."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from rich.text import Text
from textual.events import Click
from textual.message import Message
from textual.widget import Widget

from rta.tui.model import Document

MARGIN = 8  # '  123▌3 ': line number, coded bar, codes to decide in a passage starting here


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line number in the file
    start: int  # offsets into the text
    end: int
    first: bool  # the line's first row (its number is shown)
    turn: int | None  # index into Document.turns


def wrap_rows(doc: Document, width: int, hide_interviewer: bool) -> list[Row]:
    """The screen rows of the document at ``width`` characters of text per row."""
    width = max(8, width)
    text = doc.text
    line_turn: dict[int, int] = {}
    for i, t in enumerate(doc.turns):
        for line in range(t.line_start, t.line_end + 1):
            line_turn.setdefault(line, i)
    rows: list[Row] = []
    starts = doc.line_starts
    n = len(starts)
    for i in range(n):
        a = starts[i]
        b = starts[i + 1] - 1 if i + 1 < n else len(text)
        line = i + 1
        turn = line_turn.get(line)
        if hide_interviewer and turn is not None and doc.turns[turn].informant is None:
            continue
        first = True
        while b - a > width:
            cut = text.rfind(" ", a + 1, a + width + 1)
            if cut <= a:
                cut = a + width
                rows.append(Row(line, a, cut, first, turn))
                a = cut
            else:
                rows.append(Row(line, a, cut, first, turn))
                a = cut + 1
            first = False
        rows.append(Row(line, a, b, first, turn))
    return rows


class TranscriptView(Widget, can_focus=True):
    """Draws a :class:`Document` with a selection; the screen moves the selection."""

    DEFAULT_CSS = """
    TranscriptView { width: 1fr; height: 1fr; }
    """

    def __init__(self, colours: dict[str, str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.colours = colours
        self.doc: Document | None = None
        self.selection: tuple[int, int] = (0, 0)
        self.hide_interviewer = False
        self.top = 0
        self._rows: list[Row] = []
        self._row_starts: list[int] = []
        self._rows_key: tuple | None = None

    # -- rows ------------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        if self.doc is None:
            return []
        key = (id(self.doc.text), self.doc.revision, self.size.width, self.hide_interviewer)
        if key != self._rows_key:
            self._rows = wrap_rows(self.doc, self.size.width - MARGIN, self.hide_interviewer)
            self._row_starts = [r.start for r in self._rows]
            self._rows_key = key
        return self._rows

    def row_index_of(self, offset: int) -> int:
        rows = self.rows()
        return max(0, bisect_right(self._row_starts, offset) - 1) if rows else 0

    def show(self, doc: Document, selection: tuple[int, int]) -> None:
        """Draw ``doc`` with ``selection``, scrolled so the selection's start is on screen."""
        self.doc = doc
        self.selection = selection
        self.scroll_to_selection()
        self.refresh()

    def scroll_to_selection(self) -> None:
        height = self.size.height
        if height <= 0:  # not laid out yet: on_resize scrolls
            return
        row = self.row_index_of(self.selection[0])
        end_row = self.row_index_of(max(self.selection[0], self.selection[1] - 1))
        if row < self.top or end_row >= self.top + height:
            if end_row - row < height and row >= self.top:
                self.top = end_row - height + 1
            else:
                self.top = max(0, row - height // 3)

    def on_resize(self) -> None:
        self.scroll_to_selection()
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------
    def render(self) -> Text:
        doc = self.doc
        if doc is None:
            return Text("no transcript")
        rows = self.rows()
        height = self.size.height
        out = Text(no_wrap=True, overflow="crop")
        sel_a, sel_b = self.selection
        for k, row in enumerate(rows[self.top:self.top + height]):
            if k:
                out.append("\n")
            a, b = row.start, row.end
            turn = doc.turns[row.turn] if row.turn is not None else None
            codings = doc.codings_in(a, max(b, a + 1))
            passages = doc.passages_in(a, max(b, a + 1))
            gutter_style = self.colours.get(codings[0].code, "bold") if codings else "dim"
            out.append(f"{row.line:>5}" if row.first else "     ", style="dim")
            out.append("▌" if codings else "│", style=gutter_style)
            starting = [p for p in passages if a <= p.start < max(b, a + 1) or (p.start < a and k == 0)]
            count = sum(len(p.marks) for p in starting)
            out.append((str(count) if count < 10 else "+") + " " if count else "  ")
            if count:
                out.stylize("bold reverse", len(out) - 2, len(out) - 1)
            piece = Text(doc.text[a:b])
            if turn is not None:
                if turn.informant is None:
                    piece.stylize("italic", 0, b - a)
                if a < turn.start:
                    piece.stylize("bold", 0, min(b, turn.start) - a)
            for p in passages:
                piece.stylize("underline", max(p.start, a) - a, min(p.end, b) - a)
            for m in codings:
                piece.stylize(f"bold {self.colours.get(m.code, '')}".strip(), max(m.start, a) - a, min(m.end, b) - a)
            if sel_b > a and sel_a < b:
                piece.stylize("reverse", max(sel_a, a) - a, min(sel_b, b) - a)
            out.append_text(piece)
        return out

    # -- mouse (optional) ------------------------------------------------------------------
    def on_click(self, event: Click) -> None:
        rows = self.rows()
        k = self.top + event.y
        if self.doc is None or not (0 <= k < len(rows)):
            return
        row = rows[k]
        offset = min(row.end, row.start + max(0, event.x - MARGIN))
        self.post_message(self.Picked(offset))

    class Picked(Message):
        """The mouse put the cursor at a character offset."""

        def __init__(self, offset: int) -> None:
            super().__init__()
            self.offset = offset
