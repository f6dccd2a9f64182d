"""Reading a transcript where the data lives: its lines, turns, codings and suggestions.

:func:`transcript_view` loads one revision of a transcript as a :class:`View` (plain data: the
text and its line starts, the turns, the active codings and pending suggestions as
:class:`Mark` spans with line numbers). ``rta show`` and ``rta codings --context`` render a
view with :func:`render_text` (one output row per transcript line, line numbers that are the
file's, turn and speaker where a turn starts, ``[#17 Tid]`` markers on the lines a coding
covers) or :func:`view_json`; ``rta read`` builds its screen on the same view.

Nothing here writes to the store. Every piece of transcript, code or memo text that reaches a
rendered row passes :func:`rta.textsafe.for_terminal` first, so a transcript cannot drive the
terminal; colour (SGR sequences) is added afterwards, only when asked for.

Keep this module's imports light: ``rta show`` must start fast (no spaCy, pandas, YAML).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Iterable

from rta.errors import RtaError
from rta.store import Store
from rta.textsafe import for_terminal


@dataclass(frozen=True)
class TurnInfo:
    """One speaker turn of the viewed revision. ``start``/``end`` select its words (the label
    left out); ``line_start`` is the line where the turn's label stands."""

    n: int
    speaker: str
    informant: str | None
    role: str | None
    group: str | None
    start: int
    end: int
    line_start: int
    line_end: int
    words: int
    timestamp: str | None = None

    @property
    def is_interviewer(self) -> bool:
        return self.informant is None

    @property
    def who(self) -> str:
        """The short name shown for the speaker: the informant code (``S1``); for the
        interviewer the label as written when it is short (``I``, ``I2``), else ``I``."""
        if self.informant:
            return self.informant
        return self.speaker if len(self.speaker) <= 4 else "I"


@dataclass(frozen=True)
class Mark:
    """A coding (``kind='coding'``) or a pending suggestion (``kind='suggestion'``) as a span of
    the viewed revision. ``line_start``/``line_end`` are the lines of the view's text the span
    covers (computed from the offsets, so they always match the text shown)."""

    kind: str
    id: int
    code: str
    start: int
    end: int
    line_start: int
    line_end: int
    turn_n: int | None
    status: str
    origin: str | None = None
    coder: str | None = None
    memo: str | None = None
    score: float | None = None
    method: str | None = None
    created: str | None = None

    @property
    def label(self) -> str:
        """``#17`` for a coding, ``?12`` for a suggestion."""
        return f"{'#' if self.kind == 'coding' else '?'}{self.id}"

    @property
    def marker(self) -> str:
        """The bracketed marker shown on each line the span covers: ``[#17 Tid]``,
        ``[?12 Tid 0.85]``; a coding that is not active says so (``[#17 Tid removed]``)."""
        extra = f" {self.score:.2f}" if self.kind == "suggestion" and self.score is not None else ""
        if self.kind == "coding" and self.status != "active":
            extra = f" {self.status}"
        return f"[{self.label} {self.code}{extra}]"

    def to_dict(self, text: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "code": self.code, "start": self.start, "end": self.end,
                               "line_start": self.line_start, "line_end": self.line_end, "turn": self.turn_n,
                               "status": self.status}
        if self.kind == "coding":
            out.update(origin=self.origin, coder=self.coder, created=self.created, memo=self.memo)
        else:
            out.update(score=self.score, method=self.method, created=self.created)
        if text is not None:
            out["quote"] = text[self.start:self.end]
        return out


@dataclass
class View:
    """One revision of a transcript with its turns, codings and pending suggestions."""

    transcript_id: str
    revision: int
    current_revision: int
    text: str
    line_starts: list[int]
    turns: list[TurnInfo]
    codings: list[Mark]
    suggestions: list[Mark]
    colors: dict[str, str] = field(default_factory=dict)
    """Code name -> colour (``#rrggbb``) from the codebook, where it gives one."""

    @property
    def n_lines(self) -> int:
        return len(self.line_starts)

    def line_span(self, n: int) -> tuple[int, int]:
        """Offsets of line ``n`` (1-based), without its line break."""
        start = self.line_starts[n - 1]
        if n < len(self.line_starts):
            return start, self.line_starts[n] - 1
        return start, len(self.text) - (1 if self.text.endswith("\n") else 0)

    def line(self, n: int) -> str:
        start, end = self.line_span(n)
        return self.text[start:end]

    def line_of(self, offset: int) -> int:
        """The 1-based line holding ``offset``."""
        return max(1, bisect_right(self.line_starts, offset))

    def turn(self, n: int) -> TurnInfo:
        for t in self.turns:
            if t.n == n:
                return t
        raise RtaError(f"transcript '{self.transcript_id}' has no turn {n} (it has {len(self.turns)})",
                       hint="turns are numbered from 1; see 'rta show " + self.transcript_id + "'")

    def turn_at(self, offset: int) -> TurnInfo | None:
        """The turn whose words hold ``offset``, or None (front matter, a label, a blank line)."""
        for t in self.turns:
            if t.start <= offset < max(t.end, t.start + 1):
                return t
        return None

    def turns_in(self, first: int, last: int) -> list[TurnInfo]:
        """The turns with at least one line in ``first..last``."""
        return [t for t in self.turns if t.line_end >= first and t.line_start <= last]

    def coding(self, coding_id: int) -> Mark | None:
        return next((m for m in self.codings if m.id == coding_id), None)

    def quote(self, mark: Mark) -> str:
        return self.text[mark.start:mark.end]


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    i = find("\n")
    while i != -1:
        starts.append(i + 1)
        i = find("\n", i + 1)
    if len(starts) > 1 and starts[-1] == len(text):  # a final line break ends the last line
        starts.pop()
    return starts


def check_transcript(store: Store, transcript_id: str) -> int:
    """The transcript's current revision; an RtaError with a did-you-mean when there is none."""
    row = store.transcript_row(transcript_id)
    if row is None:
        from rta.coding import _current_revision  # the did-you-mean lives with the codings

        _current_revision(store, transcript_id)
        raise RtaError(f"no transcript '{transcript_id}' in this project", hint="see 'rta transcripts'")
    return int(row["revision"])


def transcript_view(store: Store, transcript_id: str, revision: int | None = None,
                    suggestions: bool = True, with_coding: int | None = None) -> View:
    """Load ``revision`` (default: the current one) of a transcript as a :class:`View`: its
    turns, its active codings and (with ``suggestions``) its pending suggestions. A coding
    asked for by id (``with_coding``) is included whatever its status, so a removed coding can
    still be shown where it was. Reads only."""
    current = check_transcript(store, transcript_id)
    revision = current if revision is None else revision
    row = store.conn.execute("SELECT text FROM transcript_revisions WHERE transcript_id = ? AND revision = ?",
                             (transcript_id, revision)).fetchone()
    if row is None:
        known = [r[0] for r in store.conn.execute(
            "SELECT revision FROM transcript_revisions WHERE transcript_id = ? ORDER BY revision", (transcript_id,))]
        raise RtaError(f"transcript '{transcript_id}' has no revision {revision}",
                       hint=f"its revisions are {', '.join(map(str, known))} (current: {current})")
    text = row["text"]
    starts = _line_starts(text)

    def lines_of(start: int, end: int) -> tuple[int, int]:
        first = max(1, bisect_right(starts, start))
        return first, max(first, bisect_right(starts, max(start, end - 1)))

    turns = [TurnInfo(r["n"], r["speaker"], r["informant"], r["role"], r["grp"], r["start"], r["end"],
                      r["line_start"], r["line_end"], r["words"], r["timestamp"])
             for r in store.conn.execute("SELECT * FROM turns WHERE transcript_id = ? AND revision = ? ORDER BY n",
                                         (transcript_id, revision))]
    codings: list[Mark] = []
    for r in store.conn.execute(
            "SELECT id, code, start, end, turn_n, status, origin, coder, memo, created FROM codings "
            "WHERE transcript_id = ? AND revision = ? AND (status = 'active' OR id = ?) ORDER BY start, end, id",
            (transcript_id, revision, -1 if with_coding is None else with_coding)):
        codings.append(Mark("coding", r["id"], r["code"], r["start"], r["end"], *lines_of(r["start"], r["end"]),
                            r["turn_n"], r["status"], r["origin"], r["coder"], r["memo"], created=r["created"]))
    pending: list[Mark] = []
    if suggestions:
        for r in store.conn.execute(
                "SELECT id, code, start, end, turn_n, status, score, method, created FROM suggestions "
                "WHERE transcript_id = ? AND revision = ? AND status = 'suggested' ORDER BY start, end, id",
                (transcript_id, revision)):
            pending.append(Mark("suggestion", r["id"], r["code"], r["start"], r["end"], *lines_of(r["start"], r["end"]),
                                r["turn_n"], r["status"], score=r["score"], method=r["method"], created=r["created"]))
    return View(transcript_id, revision, current, text, starts, turns, codings, pending, code_colors(store))


def code_colors(store: Store) -> dict[str, str]:
    """Code name -> ``#rrggbb`` from the codebook versions (the latest version wins)."""
    colors: dict[str, str] = {}
    for r in store.conn.execute("SELECT name, color FROM codes WHERE color IS NOT NULL ORDER BY codebook_version"):
        if isinstance(r["color"], str) and re.fullmatch(r"#[0-9a-fA-F]{6}", r["color"]):
            colors[r["name"]] = r["color"]
    return colors


# --------------------------------------------------------------------------------------------
# Choosing what to show


_LINES = re.compile(r"\s*(\d+)\s*(?:(?:-|\.\.|:)\s*(\d+)\s*)?")


def parse_line_range(spec: str) -> tuple[int, int]:
    """``A-B`` (or ``A`` for one line) as (A, B); an RtaError for anything else."""
    m = _LINES.fullmatch(str(spec))
    if not m:
        raise RtaError(f"cannot read --lines '{spec}'", hint="write --lines 40-44 (or --lines 40 for one line)")
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else first
    if first > last:
        raise RtaError(f"--lines {spec}: the first line is after the last", hint="write --lines A-B with A <= B")
    return first, last


def select_lines(view: View, lines: tuple[int, int] | None = None, turn: int | None = None,
                 coding: int | None = None, context: int | None = None) -> tuple[int, int]:
    """The line range to show: ``lines``, the lines of turn ``turn`` or of coding ``coding``
    (at most one of them; the whole transcript when none), widened by ``context`` lines on
    each side (default 2 around a coding, 0 otherwise) and kept inside the transcript."""
    if sum(x is not None for x in (lines, turn, coding)) > 1:
        raise RtaError("give at most one of --lines, --turn and --coding",
                       hint="--context N widens any of them")
    if context is not None and context < 0:
        raise RtaError(f"--context {context} is negative", hint="give the number of lines to show around, e.g. --context 3")
    last_line = view.n_lines
    if lines is not None:
        first, last = lines
        if not (1 <= first <= last <= last_line):
            raise RtaError(f"lines {first}-{last} are outside transcript '{view.transcript_id}' ({last_line} lines)",
                           hint=f"give --lines A-B with 1 <= A <= B <= {last_line}")
    elif turn is not None:
        t = view.turn(turn)
        first, last = t.line_start, t.line_end
    elif coding is not None:
        mark = view.coding(coding)
        if mark is None:
            raise RtaError(f"coding #{coding} is not in revision {view.revision} of '{view.transcript_id}'")
        first, last = mark.line_start, mark.line_end
        context = 2 if context is None else context
    else:
        return 1, last_line
    context = context or 0
    return max(1, first - context), min(last_line, last + context)


def check_coding(store: Store, transcript_id: str, coding_id: int) -> int:
    """The revision coding ``coding_id`` points into; an RtaError when there is no such coding
    or it belongs to another transcript."""
    row = store.conn.execute("SELECT transcript_id, revision FROM codings WHERE id = ?", (coding_id,)).fetchone()
    if row is None:
        raise RtaError(f"no coding with id {coding_id}", hint=f"see 'rta codings --transcript {transcript_id}'")
    if row["transcript_id"] != transcript_id:
        raise RtaError(f"coding #{coding_id} is a coding of '{row['transcript_id']}', not of '{transcript_id}'",
                       hint=f"rta show {row['transcript_id']} --coding {coding_id}")
    return int(row["revision"])


def resolve_codes(store: Store, codes: Iterable[str]) -> set[str]:
    """Code names as the project spells them (case-insensitive); an RtaError with a
    did-you-mean for a name no codebook version or coding knows."""
    known = {r[0] for r in store.conn.execute("SELECT name FROM codes UNION SELECT code FROM codings "
                                              "UNION SELECT code FROM suggestions")}
    folded = {k.casefold(): k for k in known}
    out: set[str] = set()
    for name in codes:
        name = name.strip()
        if not name:
            continue
        if name in known:
            out.add(name)
        elif name.casefold() in folded:
            out.add(folded[name.casefold()])
        else:
            from rta.codebook import did_you_mean

            guess = did_you_mean(name, sorted(known))
            raise RtaError(f"unknown code '{name}' in --codes",
                           hint=f"did you mean {guess}?" if guess else "see 'rta codebook show'")
    if not out:
        raise RtaError("--codes names no code", hint="e.g. --codes Tid,Tillit")
    return out


# --------------------------------------------------------------------------------------------
# Plain text


RESET = "\x1b[0m"
DIM = "\x1b[2m"
BOLD = "\x1b[1m"
REVERSE = "\x1b[7m"
UNDERLINE = "\x1b[4m"
DEFAULT_MARK_COLOR = "\x1b[36m"  # cyan, for a code without a colour in the codebook


def ansi_color(hex_color: str | None) -> str:
    """The xterm-256 foreground SGR nearest a ``#rrggbb`` colour (256 colours work over SSH
    in every common terminal; 24-bit colour does not)."""
    if not hex_color:
        return DEFAULT_MARK_COLOR
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))

    def level(v: int) -> int:
        return 0 if v < 48 else 1 if v < 115 else (v - 35) // 40

    index = 16 + 36 * level(r) + 6 * level(g) + level(b)
    return f"\x1b[38;5;{index}m"


@dataclass
class _Layout:
    number_width: int
    turn_width: int

    def margin(self, line: int | None, turn_label: str, flag: str = " ") -> str:
        number = "" if line is None else str(line)
        return f"{flag}{number:>{self.number_width}} | {turn_label:<{self.turn_width}} | "

    @property
    def width(self) -> int:
        return 1 + self.number_width + 3 + self.turn_width + 3


def _turn_label(t: TurnInfo) -> str:
    label = f"T{t.n} {for_terminal(t.who)}"
    return label if len(label) <= 12 else label[:11] + "~"


def _wrap(text: str, width: int) -> list[tuple[int, int]]:
    """Row boundaries (start, end) of ``text`` wrapped at spaces to ``width`` columns; a word
    longer than a row is cut. ``width`` <= 0 keeps the text on one row."""
    if width <= 0 or len(text) <= width:
        return [(0, len(text))]
    rows: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    while n - start > width:
        cut = text.rfind(" ", start + 1, start + width + 1)
        if cut <= start:
            rows.append((start, start + width))
            start += width
            continue
        rows.append((start, cut))
        start = cut + 1
    rows.append((start, n))
    return rows


def render_text(view: View, first: int = 1, last: int | None = None, *, codes: set[str] | None = None,
                suggestions: bool = False, highlight: int | None = None, only: set[int] | None = None,
                color: bool = False, width: int | None = None) -> list[str]:
    """Lines ``first..last`` of the view as rows of plain text: ``{line} | T{n} {who} | {text}
    [#17 Tid] [?12 Tid 0.85]``. One row per transcript line unless ``width`` (columns) asks for
    wrapping; continuation rows have an empty margin. ``codes``: mark only codings (and
    suggestions) of these codes; ``only``: only these coding ids; ``suggestions``: mark
    pending suggestions too; ``highlight``: this coding's lines are flagged ``>`` in the
    margin (and its words shown in reverse video with ``color``). Text is escaped for the
    terminal; SGR colour only with ``color``."""
    last = view.n_lines if last is None else last
    marks = [m for m in view.codings
             if (codes is None or m.code in codes) and (only is None or m.id in only or m.id == highlight)]
    if suggestions:
        marks += [m for m in view.suggestions if codes is None or m.code in codes]
    by_line: dict[int, list[Mark]] = {}
    for m in marks:
        for n in range(max(first, m.line_start), min(last, m.line_end) + 1):
            by_line.setdefault(n, []).append(m)
    turn_starts = {t.line_start: t for t in view.turns if first <= t.line_start <= last}
    labels = {n: _turn_label(t) for n, t in turn_starts.items()}
    layout = _Layout(max(len(str(last)), 3), max([len(s) for s in labels.values()] + [5]))
    hl = view.coding(highlight) if highlight is not None else None
    text_width = 0 if not width else max(20, width - layout.width)
    rows: list[str] = []
    for n in range(first, last + 1):
        start, end = view.line_span(n)
        raw = view.text[start:end]
        flagged = hl is not None and hl.line_start <= n <= hl.line_end
        label = labels.get(n, "")
        if color and label:
            label_shown = BOLD + label + RESET + " " * (layout.turn_width - len(label))
        else:
            label_shown = label
        margin = layout.margin(n, "", ">" if flagged else " ")
        if color:
            head = DIM + margin[:layout.number_width + 1] + RESET + " | " + (label_shown or " " * layout.turn_width) + " | "
        else:
            head = layout.margin(n, label, ">" if flagged else " ")
        blank = layout.margin(None, "")
        # The line as escaped pieces, each with whether it is the highlighted coding's words.
        if flagged and color:
            a, b = max(start, hl.start) - start, min(end, hl.end) - start
            pieces = [(for_terminal(raw[:a]), False), (for_terminal(raw[a:b]), True), (for_terminal(raw[b:]), False)]
        else:
            pieces = [(for_terminal(raw), False)]
        shown = "".join(p for p, _ in pieces)
        bounds = _wrap(shown, text_width)
        hl_ranges: list[tuple[int, int]] = []
        pos = 0
        for p, on in pieces:
            if on and p:
                hl_ranges.append((pos, pos + len(p)))
            pos += len(p)
        out_rows: list[str] = []
        for i, (s, e) in enumerate(bounds):
            body = shown[s:e]
            if hl_ranges:
                a, b = hl_ranges[0]
                a, b = max(a, s) - s, min(b, e) - s
                if a < b:
                    body = body[:a] + REVERSE + body[a:b] + RESET + body[b:]
            out_rows.append((head if i == 0 else (DIM + blank + RESET if color else blank)) + body)
        on_line = by_line.get(n)
        if on_line:
            plain = [for_terminal(m.marker) for m in on_line]
            styled = [_style_marker(m, p, view, hl) if color else p for m, p in zip(on_line, plain)]
            last_len = bounds[-1][1] - bounds[-1][0]
            room = text_width - last_len - 2 if text_width else None
            if room is None or len(" ".join(plain)) <= room:
                out_rows[-1] += ("  " if bounds[-1][1] > bounds[-1][0] else "") + " ".join(styled)
            else:  # the markers on rows of their own, wrapped at marker boundaries
                row: list[str] = []
                used = 0
                for p, st in zip(plain, styled):
                    if row and used + 1 + len(p) > text_width:
                        out_rows.append((DIM + blank + RESET if color else blank) + " ".join(row))
                        row, used = [], 0
                    used += (1 if row else 0) + len(p)
                    row.append(st)
                if row:
                    out_rows.append((DIM + blank + RESET if color else blank) + " ".join(row))
        rows.extend(out_rows)
    return rows


def _style_marker(mark: Mark, plain: str, view: View, highlight: Mark | None) -> str:
    style = ansi_color(view.colors.get(mark.code))
    if mark.kind == "suggestion":
        style += UNDERLINE
    if highlight is not None and mark.id == highlight.id and mark.kind == "coding":
        style += BOLD + REVERSE
    return style + plain + RESET


def header(view: View, first: int, last: int) -> str:
    """One line naming what is shown: transcript, revision, lines, turns, codings."""
    old = "" if view.revision == view.current_revision else f" (superseded: current is {view.current_revision})"
    return for_terminal(f"{view.transcript_id}, revision {view.revision}{old}: lines {first}-{last} of "
                        f"{view.n_lines}, {len(view.turns)} turns, {len(view.codings)} codings, "
                        f"{len(view.suggestions)} pending suggestions")


# --------------------------------------------------------------------------------------------
# JSON


def view_json(view: View, first: int = 1, last: int | None = None, *, codes: set[str] | None = None,
              suggestions: bool = False, only: set[int] | None = None) -> dict[str, Any]:
    """The turns with a line in ``first..last``, each with its text and the codings (and, with
    ``suggestions``, pending suggestions) inside it: the form ``rta show --format json`` prints
    for scripts. Offsets are code points into the revision's text; lines are 1-based."""
    last = view.n_lines if last is None else last
    out_turns = []
    codings = [m for m in view.codings if (codes is None or m.code in codes) and (only is None or m.id in only)]
    pending = [m for m in view.suggestions if codes is None or m.code in codes] if suggestions else []
    for t in view.turns_in(first, last):
        item: dict[str, Any] = {
            "n": t.n, "speaker": t.speaker, "informant": t.informant, "role": t.role, "group": t.group,
            "line_start": t.line_start, "line_end": t.line_end, "start": t.start, "end": t.end,
            "timestamp": t.timestamp, "words": t.words, "text": view.text[t.start:t.end],
            "codings": [m.to_dict(view.text) for m in codings if m.start < max(t.end, t.start + 1) and m.end > t.start],
        }
        if suggestions:
            item["suggestions"] = [m.to_dict(view.text) for m in pending
                                   if m.start < max(t.end, t.start + 1) and m.end > t.start]
        out_turns.append(item)
    return {"transcript": view.transcript_id, "revision": view.revision, "current_revision": view.current_revision,
            "lines": [first, last], "line_count": view.n_lines, "turns": out_turns}


def coding_context(view: View, coding_id: int, context: int, color: bool = False,
                   width: int | None = None) -> list[str]:
    """Rows showing one coding with ``context`` lines around it, its lines flagged ``>`` and
    only its own marker shown: what ``rta codings --context N`` prints under each quote."""
    first, last = select_lines(view, coding=coding_id, context=context)
    return render_text(view, first, last, highlight=coding_id, only={coding_id}, color=color, width=width)
