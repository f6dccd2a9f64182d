"""``rta read``: the workbench App. A thin layer: it moves a cursor and a selection over a
:class:`rta.tui.model.Document` and hands every decision to :class:`rta.tui.session.Session`
(the library calls of ``rta code``, ``uncode``, ``review`` and ``memo``, one transaction each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget

from rta.errors import RtaError
from rta.project import Project
from rta.store import StoreBusy, lock_timeout
from rta.textsafe import for_terminal
from rta.tui.model import Document, Mark, transcript_summaries
from rta.tui.screens import CodeChoice, CodePicker, HelpScreen, PromptScreen, TranscriptList
from rta.tui.session import ReadOnlyProject, Session, describe
from rta.tui.side_pane import coding_text, passage_text
from rta.tui.transcript_view import TranscriptView

MIN_WIDTH, MIN_HEIGHT = 60, 16

KEYMAP: list[tuple[str, str]] = [
    ("↓ j / ↑ k", "next / previous sentence (the cursor)"),
    ("PgDn J / PgUp K", "next / previous turn"),
    ("→ l / ← h", "selection one word longer / shorter"),
    ("L / H", "selection one sentence longer / shorter"),
    ("v / Esc", "select the whole turn / back to the sentence"),
    ("c or Enter", "code the selection (code picker, fuzzy search)"),
    ("a / r / R", "accept / reject / recode the passage's code marked ▸"),
    ("x", "uncode the coding here (asks a reason)"),
    ("m", "memo on the coding or code ▸ shown (else transcript)"),
    ("f", "feature the coding here in its theme's report section"),
    ("u", "undo this session's last decision"),
    ("Tab / ⇧Tab", "next / previous code of the passage, or coding here"),
    ("/ then n", "search the text; next match"),
    ("g", "go to: turn (t12), line (120) or a transcript id"),
    ("t", "transcript list (coverage, pending suggestions)"),
    ("] / [", "next / previous uncoded informant turn"),
    ("s / S", "next / previous passage with codes to decide"),
    ("i", "show / hide the interviewer's turns"),
    ("? / q", "this help / quit"),
]

PALETTE = ["cyan", "green", "magenta", "yellow", "bright_blue", "bright_red", "bright_green", "bright_magenta",
           "bright_cyan", "blue", "red", "bright_yellow"]


def help_text() -> str:
    lines = ["rta read: keys (any key closes)", ""]
    lines += [f"{keys:<17} {what}" for keys, what in KEYMAP]
    lines += ["", "Every decision is logged with the coder; undo is a new logged decision."]
    return "\n".join(lines)


class Pane(Widget):
    """A text pane redrawn without a new layout: the title, side and status lines change on
    every key, and a layout pass each time would cost more than the key itself."""

    def __init__(self, wrap: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.wrap = wrap
        self.content = Text()

    def update(self, content: Text | str) -> None:
        """Show ``content``: a ``Text`` as built (its maker escaped what it took from the project),
        a string as plain text with terminal controls escaped (it may hold a code, a speaker or a
        transcript id); neither is ever read as markup."""
        self.content = content if isinstance(content, Text) else Text(for_terminal(content))
        if not self.wrap:
            self.content.no_wrap, self.content.overflow = True, "ellipsis"
        self.refresh()

    def render(self) -> Text:
        return self.content


class MainScreen(Screen):
    """The transcript pane, the side pane, the status line."""

    DEFAULT_CSS = """
    MainScreen { layout: vertical; }
    #title { height: 1; background: $primary-background; text-style: bold; }
    #body { height: 1fr; }
    #side { width: 26; height: 1fr; border-left: solid $primary; padding: 0 1; }
    #status { height: 1; background: $primary-background; }
    #small { height: 1fr; content-align: center middle; text-style: bold; display: none; }
    MainScreen { layers: default dialog; }
    """

    BINDINGS = [
        Binding("down,j", "move(1)", show=False), Binding("up,k", "move(-1)", show=False),
        Binding("pagedown,J", "turn(1)", show=False), Binding("pageup,K", "turn(-1)", show=False),
        Binding("right,l", "grow('word')", show=False), Binding("left,h", "shrink('word')", show=False),
        Binding("shift+right,L", "grow('sentence')", show=False),
        Binding("shift+left,H", "shrink('sentence')", show=False),
        Binding("v", "grow('turn')", show=False), Binding("escape", "reset", show=False),
        Binding("c,enter", "code", show=False), Binding("a", "accept", show=False),
        Binding("r", "reject", show=False), Binding("R", "recode", show=False),
        Binding("x", "uncode", show=False), Binding("m", "memo", show=False), Binding("u", "undo", show=False),
        Binding("f", "feature", show=False),
        Binding("tab", "next_item(1)", show=False), Binding("shift+tab", "next_item(-1)", show=False),
        Binding("slash", "search", show=False),
        Binding("n", "search_next", show=False), Binding("g", "jump", show=False),
        Binding("t", "transcripts", show=False), Binding("right_square_bracket", "uncoded(1)", show=False),
        Binding("left_square_bracket", "uncoded(-1)", show=False), Binding("s", "suggestion(1)", show=False),
        Binding("S", "suggestion(-1)", show=False), Binding("i", "interviewer", show=False),
        Binding("question_mark", "help", show=False), Binding("q", "app.quit", show=False),
    ]

    def __init__(self, project: Project, session: Session, transcript_id: str | None) -> None:
        super().__init__()
        self.project = project
        self.session = session
        self.store = project.store
        self.transcript_id = transcript_id
        self.doc: Document | None = None
        self.cursor = 0  # sentence index
        self.selection: tuple[int, int] = (0, 0)
        self.item = 0  # which of marks_here() the side pane shows and the keys act on
        self.focus_to: tuple[str, int] | None = None  # the mark to show after the next reload
        self.search_for = ""
        self.message = ""
        self.codebook: Any = None
        self.colours: dict[str, str] = {}
        self._load_codebook()
        self.view = TranscriptView(self.colours, id="view")
        self.picker = CodePicker(id="picker")

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Pane(wrap=False, id="title")
        with Horizontal(id="body"):
            yield self.view
            yield Pane(id="side")
        yield Pane(wrap=False, id="status")
        yield Pane(id="small")
        yield self.picker

    def on_mount(self) -> None:
        tid = self.transcript_id
        if tid is None:
            row = self.store.conn.execute("SELECT id FROM transcripts ORDER BY id LIMIT 1").fetchone()
            tid = row["id"] if row else None
        if tid is not None:
            self.open_transcript(tid)
        else:
            self.say("no transcripts in this project yet: add some with 'rta add FILES'")
        self.view.focus()
        self.check_size()
        # after the first screen: parsing the YAML holds the interpreter for a moment
        self.set_timer(1.0, self._parse_codebook)

    def on_resize(self) -> None:
        self.check_size()

    @property
    def too_small(self) -> bool:
        size = self.app.size
        return size.width < MIN_WIDTH or size.height < MIN_HEIGHT

    def check_size(self) -> None:
        small = self.too_small
        size = self.app.size
        self.query_one("#small", Pane).update(
            f"The terminal is too small ({size.width}x{size.height}): rta read needs at least "
            f"{MIN_WIDTH}x{MIN_HEIGHT}.\nEnlarge the window, or press q to quit.")
        self.query_one("#small").display = small
        for wid in ("#title", "#body", "#status"):
            self.query_one(wid).display = not small

    # -- the codebook --------------------------------------------------------------------------
    def _load_codebook(self) -> None:
        """Colours (and, until the file is parsed, the picker's codes) from the codebook version
        the store last imported: reading it is instant, parsing the YAML file is not."""
        from rta.coding import latest_codebook_version
        from rta.norsk import sort_no

        version = latest_codebook_version(self.store)
        rows = [] if version is None else self.store.conn.execute(
            "SELECT name, definition, color FROM codes WHERE codebook_version=?", (version,)).fetchall()
        rows = sort_no(rows, key=lambda r: r["name"])
        self._stored_codes = [(r["name"], "", r["definition"] or "") for r in rows]
        for i, r in enumerate(rows):
            colour = r["color"] if r["color"] and str(r["color"]).startswith("#") else PALETTE[i % len(PALETTE)]
            self.colours[r["name"]] = colour

    def _parse_codebook(self) -> None:
        """Parse the project's codebook file (labels, definitions, new codes) in a daemon thread;
        a timer picks the result up (the thread never waits on the app, so quitting never hangs)."""
        import threading

        from rta.codebook_yaml import load_codebook

        path = self.project.codebook_path
        box: list[Any] = []

        def work() -> None:
            try:
                box.append(load_codebook(path))
            except RtaError as exc:
                box.append(exc)

        threading.Thread(target=work, name="rta-read-codebook", daemon=True).start()

        def collect() -> None:
            if box:
                timer.stop()
                self._codebook_ready(box[0])

        timer = self.set_interval(0.2, collect)

    def _codebook_ready(self, found: Any) -> None:
        if isinstance(found, RtaError):
            self.say(f"codebook: {describe(found)}")
            return
        self.codebook = found
        for i, code in enumerate(found.codes_sorted()):
            if code.name not in self.colours:
                self.colours[code.name] = code.color if code.color and code.color.startswith("#") \
                    else PALETTE[(len(self.colours) + i) % len(PALETTE)]
        themes = self.themes()
        if self.doc is not None and themes != self.doc.themes_of:  # the passages' themes, now known
            self.doc = self.doc.refreshed(self.store, themes)
            self.refresh_view()

    def themes(self) -> dict[str, list[str]]:
        """Code -> themes for ranking a passage's themes: the project's, else the codebook's
        (once parsed), as ``rta review`` ranks them (rta.review.themes_for)."""
        from rta.review import themes_for

        return themes_for(self.store, self.codebook)

    def code_choices(self) -> list[CodeChoice]:
        counts = self.session.code_counts()
        if self.codebook is None and not self._stored_codes:  # no version imported yet: parse it now
            from rta.codebook_yaml import load_codebook

            try:
                self._codebook_ready(load_codebook(self.project.codebook_path))
            except RtaError as exc:
                self.say(f"codebook: {describe(exc)}")
        if self.codebook is None:
            return [CodeChoice(name, label, " ".join(definition.split()), counts.get(name, 0))
                    for name, label, definition in self._stored_codes]
        return [CodeChoice(c.name, c.label, " ".join(c.definition.split()), counts.get(c.name, 0))
                for c in self.codebook.codes_sorted()]

    # -- the document ------------------------------------------------------------------------
    def open_transcript(self, transcript_id: str, offset: int | None = None) -> None:
        try:
            doc = Document.load(self.store, transcript_id, self.themes())
        except RtaError as exc:
            self.say(describe(exc))
            return
        self.doc = doc
        self.transcript_id = transcript_id
        if offset is None:
            first = next((i for i, s in enumerate(doc.sentences) if doc.turns[s.turn].informant is not None), 0)
            self.set_cursor(first)
        else:
            self.set_cursor(doc.sentence_index_at(offset))
        self.update_title()

    def reload(self) -> None:
        """After a decision: read the document again, keeping the cursor and the selection."""
        if self.doc is None:
            return
        keep = self.selection
        before = self.focused_mark()
        doc = self.doc.refreshed(self.store, self.themes())  # the same text object: the pane keeps its wrapped rows
        self.doc = doc
        if doc.sentences:
            self.cursor = min(self.cursor, len(doc.sentences) - 1)
            self.selection = keep if keep[1] <= len(doc.text) else self._sentence_span()
        self.item = self._refocus(before)
        self.update_title()
        self.refresh_view()

    def _refocus(self, before: Mark | None) -> int:
        """Which mark the side pane shows after a re-read: the one asked for (``focus_to``: the
        suggestion an undo made pending again), else the same one, else, when it was a code
        just decided, the passage's next code still to decide (by rank, round to the first)."""
        marks = self.marks_here()
        wanted, self.focus_to = self.focus_to, None
        keys = [(m.kind, m.id) for m in marks]
        for key in (wanted, (before.kind, before.id) if before else None):
            if key in keys:
                return keys.index(key)
        if before is not None and before.kind == "suggestion":
            passage = self.doc.passage_of(before)
            view = self.doc.view_of(self.store, passage) if passage is not None else None
            if view is not None:
                ranks = [s.id for s in view.codes]
                rank = ranks.index(before.id) if before.id in ranks else -1
                left = [m for m in passage.marks if m.id in ranks]
                after = [m for m in left if ranks.index(m.id) > rank] or left
                if after:
                    return marks.index(after[0])
        return 0

    def update_title(self) -> None:
        doc = self.doc
        if doc is None:
            return
        coded, words = doc.coverage()
        share = 100 * coded / words if words else 0.0
        ro = " · READ-ONLY" if not self.session.writable else ""
        self.query_one("#title", Pane).update(
            f" {doc.transcript_id} rev {doc.revision} · {share:.0f}% coded · {len(doc.codings)} codings · "
            f"{len(doc.suggestions)} pending in {len(doc.passages)} passages · {self.session.coder}{ro}")

    def _sentence_span(self) -> tuple[int, int]:
        s = self.doc.sentences[self.cursor]
        return s.start, s.end

    def _visible(self, i: int) -> bool:
        doc = self.doc
        return not (self.view.hide_interviewer and doc.turns[doc.sentences[i].turn].informant is None)

    def set_cursor(self, i: int, selection: tuple[int, int] | None = None) -> None:
        doc = self.doc
        if doc is None or not doc.sentences:
            self.refresh_view()
            return
        self.cursor = max(0, min(len(doc.sentences) - 1, i))
        self.selection = selection or self._sentence_span()
        self.item = 0
        self.focus_to = None
        self.message = ""  # a message stays up until the cursor or the selection moves
        self.refresh_view()

    def refresh_view(self) -> None:
        if self.doc is not None:
            self.view.show(self.doc, self.selection)
        self.update_side()
        self.update_status()

    # -- what is under the cursor ------------------------------------------------------------
    def marks_here(self) -> list[Mark]:
        """What the selection touches, in the order Tab visits it: the codes still to decide of
        each passage here (best first), then the codings."""
        doc = self.doc
        if doc is None:
            return []
        a, b = self.selection
        return [m for p in doc.passages_in(a, b) for m in p.marks] + doc.codings_in(a, b)

    def focused_mark(self) -> Mark | None:
        """The mark the side pane shows (Tab moves it)."""
        marks = self.marks_here()
        return marks[self.item % len(marks)] if marks else None

    def current(self, kind: str) -> Mark | None:
        """The focused mark when it is of ``kind``, else the first of that kind here."""
        focused = self.focused_mark()
        if focused is not None and focused.kind == kind:
            return focused
        return next((m for m in self.marks_here() if m.kind == kind), None)

    def update_side(self) -> None:
        side = self.query_one("#side", Pane)
        marks = self.marks_here()
        if not marks:
            side.update(Text("Nothing coded here.\n\nc: code the selection\n?: keys", style="dim"))
            return
        i = self.item % len(marks)
        m = marks[i]
        doc = self.doc
        if m.kind == "coding":
            memos = ([m.memo] if m.memo else []) + self.session.memos_on("coding", str(m.id))
            side.update(coding_text(m, self.colours.get(m.code, ""), memos, self.session.history(m.id, limit=4),
                                    f"{i + 1}/{len(marks)} here (Tab)" if len(marks) > 1 else ""))
            return
        passage = doc.passage_of(m)
        codings = sum(1 for x in marks if x.kind == "coding")
        others = len(marks) - codings - len(passage.marks)
        also = [f"{codings} coding{'s' if codings != 1 else ''}"] if codings else []
        also += [f"{others} code{'s' if others != 1 else ''} of another passage"] if others else []
        lines = (doc.line_of(passage.start), doc.line_of(max(passage.start, passage.end - 1)))
        side.update(passage_text(doc.view_of(self.store, passage), m.id, self.colours, lines,
                                 f"also here (Tab): {', '.join(also)}" if also else ""))

    def update_status(self) -> None:
        doc = self.doc
        status = self.query_one("#status", Pane)
        if self.message:
            status.update(Text(" " + for_terminal(self.message), style="bold"))
            return
        if doc is None or not doc.sentences:
            status.update(" ? keys · q quit")
            return
        turn = doc.turns[doc.sentences[self.cursor].turn]
        a, b = self.selection
        la, lb = doc.line_of(a), doc.line_of(max(a, b - 1))
        lines = f"line {la}" if la == lb else f"lines {la}-{lb}"
        words = len(doc.text[a:b].split())
        status.update(f" turn {turn.n} {turn.speaker} · {lines} · {words} word{'s' if words != 1 else ''} "
                      "selected · ? keys")

    def say(self, message: str) -> None:
        """Show a message on the status line until the next key."""
        self.message = message
        self.update_status()

    # -- moving ------------------------------------------------------------------------------
    def _ready(self) -> bool:
        return self.doc is not None and bool(self.doc.sentences) and not self.too_small and not self.picker.is_open

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the code picker is open its keys are its own: none of this screen's."""
        return not self.picker.is_open

    def on_descendant_focus(self, event: Any) -> None:
        """A click outside the open picker must not leave it open without the keyboard."""
        if self.picker.is_open and self.picker not in event.widget.ancestors_with_self:
            self.picker.focus_input()

    def action_move(self, step: int) -> None:
        if not self._ready():
            return
        i = self.cursor + step
        while 0 <= i < len(self.doc.sentences) and not self._visible(i):
            i += step
        if 0 <= i < len(self.doc.sentences):
            self.set_cursor(i)

    def action_turn(self, step: int) -> None:
        if not self._ready():
            return
        doc = self.doc
        here = doc.sentences[self.cursor].turn
        i = self.cursor
        while 0 <= i < len(doc.sentences) and (doc.sentences[i].turn == here or not self._visible(i)):
            i += step
        if not 0 <= i < len(doc.sentences):
            return
        if step < 0:  # to the first sentence of that turn
            t = doc.sentences[i].turn
            while i > 0 and doc.sentences[i - 1].turn == t:
                i -= 1
        self.set_cursor(i)

    def action_grow(self, unit: str) -> None:
        if not self._ready():
            return
        a, b = self.selection
        if unit == "turn" and (a, b) == self.doc.grow(a, b, "turn"):
            self.selection = self._sentence_span()
        else:
            self.selection = self.doc.grow(a, b, unit)
        self.message = ""
        self.refresh_view()

    def action_shrink(self, unit: str) -> None:
        if not self._ready():
            return
        self.selection = self.doc.shrink(*self.selection, unit)
        self.message = ""
        self.refresh_view()

    def action_reset(self) -> None:
        if self._ready():
            self.set_cursor(self.cursor)

    def action_next_item(self, step: int) -> None:
        """The next (previous) thing here in the side pane: a passage's next code to decide,
        then the codings."""
        marks = self.marks_here()
        self.item = (self.item + step) % len(marks) if marks else 0
        self.update_side()

    def action_interviewer(self) -> None:
        if not self._ready():
            return
        self.view.hide_interviewer = not self.view.hide_interviewer
        if not self._visible(self.cursor):
            self.action_move(1)
        self.say("interviewer turns hidden" if self.view.hide_interviewer else "interviewer turns shown")
        self.refresh_view()

    def _goto_offset(self, offset: int) -> None:
        self.set_cursor(self.doc.sentence_index_at(offset))

    def action_uncoded(self, step: int) -> None:
        """Next (previous) informant turn with no active coding in it."""
        if not self._ready():
            return
        doc = self.doc
        here = doc.sentences[self.cursor].turn
        order = range(here + 1, len(doc.turns)) if step > 0 else range(here - 1, -1, -1)
        for i in order:
            t = doc.turns[i]
            if t.informant is not None and t.end > t.start and not doc.codings_in(t.start, t.end):
                self._goto_offset(t.start)
                return
        self.say("no uncoded informant turn " + ("after" if step > 0 else "before") + " this one")

    def action_suggestion(self, step: int) -> None:
        """The next (previous) passage with codes to decide: selected whole, its best code
        still to decide in the side pane."""
        if not self._ready():
            return
        doc = self.doc
        a = self.selection[0]
        found = ([p for p in doc.passages if p.start > a][:1] if step > 0
                 else [p for p in doc.passages if p.start < a][-1:])
        if not found:
            self.say("no passage with codes to decide " + ("after" if step > 0 else "before") + " the cursor")
            return
        p = found[0]
        self.set_cursor(doc.sentence_index_at(p.start), (p.start, p.end))
        self.item = self.marks_here().index(p.marks[0])
        self.update_side()

    def action_search(self) -> None:
        if self._ready():
            self.app.push_screen(PromptScreen("Search the transcript for:", "words", self.search_for), self._searched)

    def _searched(self, value: str | None) -> None:
        if value:
            self.search_for = value
            self.action_search_next()

    def action_search_next(self) -> None:
        if not self._ready() or not self.search_for:
            return
        text, needle = self.doc.text.casefold(), self.search_for.casefold()
        at = text.find(needle, self.selection[0] + 1)
        wrapped = at < 0
        if wrapped:
            at = text.find(needle)
        if at < 0:
            self.say(f"'{self.search_for}' is not in this transcript")
            return
        self._goto_offset(at)
        if wrapped:
            self.say(f"'{self.search_for}': back at the top")

    def action_jump(self) -> None:
        if self.doc is not None and not self.too_small:
            self.app.push_screen(PromptScreen("Go to: turn (t12), line (120) or a transcript id", "t12"), self._jump)

    def _jump(self, value: str | None) -> None:
        value = (value or "").strip()
        if not value:
            return
        doc = self.doc
        low = value.lower()
        number = low.removeprefix("turn").removeprefix("t").strip()
        if low[:1] == "t" and number.isdigit() and not low.isdigit() and doc.transcript_id != value:
            turn = next((t for t in doc.turns if t.n == int(number)), None)
            if turn is None:
                self.say(f"'{doc.transcript_id}' has no turn {number} (it has {len(doc.turns)})")
                return
            if turn.informant is None and self.view.hide_interviewer:
                self.action_interviewer()
            self._goto_offset(turn.start)
        elif low.removeprefix("line").strip().isdigit():
            line = int(low.removeprefix("line").strip())
            if not 1 <= line <= len(doc.line_starts):
                self.say(f"line {line} is outside '{doc.transcript_id}' ({len(doc.line_starts)} lines)")
                return
            self._goto_offset(doc.line_starts[line - 1])
        else:
            self.open_transcript(value)

    def action_transcripts(self) -> None:
        if self.too_small:
            return
        self.app.push_screen(TranscriptList(transcript_summaries(self.store), self.transcript_id),
                             lambda tid: tid and self.open_transcript(tid))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(help_text()))

    def on_transcript_view_picked(self, message: TranscriptView.Picked) -> None:
        if self._ready():
            self._goto_offset(message.offset)

    # -- deciding ----------------------------------------------------------------------------
    def decide(self, what: Callable[[], str], waited: float = 0.0) -> None:
        """Run a decision; say what happened. Another writer's lock: say so and try again
        shortly, up to the store's lock timeout; nothing is lost or half-written meanwhile."""
        try:
            said = what()
        except StoreBusy:
            limit = lock_timeout()
            if waited >= limit:
                self.say(f"another rta command is still writing to this project after {waited:.0f} s: "
                         "nothing was written; press the key again")
                return
            self.say("another rta command is writing to this project: waiting, nothing is lost…")
            self.set_timer(0.5, lambda: self.decide(what, waited + 0.5 + self.session.busy_wait))
            return
        except ReadOnlyProject as exc:
            self.say(describe(exc))
            self.update_title()
            return
        except RtaError as exc:
            self.say(describe(exc))
            return
        self.reload()
        self.say(said)

    def _refuse_read_only(self) -> bool:
        """Say so before asking for a code or a text that could not be written."""
        if not self.session.writable:
            self.say(f"this project is read-only for you here (no write permission on "
                     f"{self.store.path.name}): nothing can be written")
            return True
        return False

    def action_code(self) -> None:
        if not self._ready() or self._refuse_read_only():
            return
        doc = self.doc
        a, b = self.selection
        quote = " ".join(doc.text[a:b].split())
        title = f"Code lines {doc.line_of(a)}-{doc.line_of(max(a, b - 1))}: «{quote[:50]}{'…' if len(quote) > 50 else ''}»"
        self.picker.open(title, self.code_choices(), lambda code: code and self.code_selection(code))

    def code_selection(self, code: str) -> None:
        """Code the current selection with ``code`` (what the picker's Enter does)."""
        doc = self.doc
        a, b = self.selection
        digest = doc.sha256

        def run() -> str:
            ids = self.session.code(doc.transcript_id, doc.revision, digest, a, b, code)
            return self.session.decisions[-1].label + f" ({len(ids)} coding{'s' if len(ids) > 1 else ''})"

        self.decide(run)

    def action_accept(self) -> None:
        m = self._suggestion_here()
        if m is not None:
            left = self._left_after(m)
            self.decide(lambda: f"accepted suggestion {m.id} {m.code} as #{self.session.accept(m.id)}{left}")

    def action_reject(self) -> None:
        m = self._suggestion_here()
        if m is not None:
            left = self._left_after(m)
            self.decide(lambda: (self.session.reject(m.id), f"rejected suggestion {m.id} {m.code}{left}")[1])

    def action_recode(self) -> None:
        m = self._suggestion_here()
        if m is None:
            return
        left = self._left_after(m)
        self.picker.open(f"Recode suggestion {m.id} ({m.code}) as:", self.code_choices(),
                         lambda code: code and self.decide(
                             lambda: f"recoded suggestion {m.id} as #{self.session.recode(m.id, code)} {code}{left}"))

    def _suggestion_here(self) -> Mark | None:
        if not self._ready() or self._refuse_read_only():
            return None
        m = self.current("suggestion")
        if m is None:
            self.say("no code to decide here (s: next passage with codes to decide)")
        return m

    def _left_after(self, m: Mark) -> str:
        """What deciding ``m`` leaves of its passage, for the message."""
        passage = self.doc.passage_of(m)
        left = len(passage.marks) - 1 if passage is not None else 0
        return f" · {left} code{'s' if left != 1 else ''} of this passage left" if left > 0 else " · passage decided"

    def action_uncode(self) -> None:
        if not self._ready() or self._refuse_read_only():
            return
        m = self.current("coding")
        if m is None:
            self.say("no coding here to uncode")
            return
        self.app.push_screen(PromptScreen(f"Uncode #{m.id} {m.code}: why? (kept in the audit log)", "reason"),
                             lambda reason: reason is not None and self.decide(
                                 lambda: (self.session.uncode(m.id, reason.strip() or None),
                                          f"removed #{m.id} {m.code}")[1]))

    def action_memo(self) -> None:
        if not self._ready() or self._refuse_read_only():
            return
        focused = self.focused_mark()
        if focused is not None:
            kind, target, about = focused.kind, str(focused.id), f"{focused.kind} #{focused.id} {focused.code}"
        else:
            kind, target, about = "transcript", self.doc.transcript_id, f"transcript {self.doc.transcript_id}"
        self.app.push_screen(PromptScreen(f"Memo on {about}:", "why, what you notice"),
                             lambda text: text and text.strip() and self.decide(
                                 lambda: self.session.memo(kind, target, text.strip())))

    def action_feature(self) -> None:
        if not self._ready() or self._refuse_read_only():
            return
        m = self.current("coding")
        if m is None:
            self.say("no coding here to feature (Tab: next coding or suggestion here)")
            return
        themes = self.session.themes_of(m.code)
        if not themes:
            self.say(f"#{m.id} {m.code} is in no theme of the project (rta themes)")
        elif len(themes) == 1:
            self.decide(lambda: self.session.feature(m.id, themes[0]))
        else:
            self.app.push_screen(PromptScreen(f"Feature #{m.id} {m.code} in which theme? ({', '.join(themes)})",
                                              themes[0]),
                                 lambda name: name and name.strip() and self.decide(
                                     lambda: self.session.feature(m.id, name.strip())))

    def action_undo(self) -> None:
        if self._ready() and not self._refuse_read_only():
            last = self.session.decisions[-1] if self.session.decisions else None
            if last is not None and last.suggestion is not None:  # show the code pending again
                self.focus_to = ("suggestion", last.suggestion)
            self.decide(self.session.undo)


class ReadApp(App):
    """``rta read``: read and code transcripts in the terminal."""

    TITLE = "rta read"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, project: Project, transcript_id: str | None = None, coder: str | None = None) -> None:
        super().__init__()
        self.project = project
        self.session = Session(project, coder)
        self.transcript_id = transcript_id

    def on_mount(self) -> None:
        self.main = MainScreen(self.project, self.session, self.transcript_id)
        self.push_screen(self.main)
