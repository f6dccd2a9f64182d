"""The workbench's dialogs: a one-line prompt, the code picker, the transcript list, the help.
Each is keyboard-first (Enter chooses, Escape cancels) and fits an 80x24 terminal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from rta.tui.model import TranscriptSummary

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 76; max-width: 100%; height: auto; max-height: 22; border: round $accent;
    padding: 0 1; background: $surface; }}
{name} OptionList {{ height: auto; max-height: 14; }}
{name} .title {{ text-style: bold; }}
{name} .detail {{ height: auto; max-height: 4; color: $text-muted; }}
"""


class PromptScreen(ModalScreen[str | None]):
    """One line of text (a memo, a reason, a search, a place to jump to)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PromptScreen")
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.title_text, self.placeholder, self.value = title, placeholder, value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title", markup=False)
            yield Input(value=self.value, placeholder=self.placeholder)
            yield Static("Enter: OK · Escape: cancel", classes="detail")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class CodeChoice:
    name: str
    label: str
    definition: str
    count: int


def rank_codes(codes: list[CodeChoice], query: str, limit: int = 50) -> list[CodeChoice]:
    """Codes matching ``query`` fuzzily in name, label or definition, best first; all codes
    (by name) when the query is empty."""
    query = query.strip().casefold()
    if not query:
        return codes[:limit]
    from rapidfuzz import fuzz

    scored = []
    for c in codes:
        name, label = c.name.casefold(), c.label.casefold()
        score = max(fuzz.WRatio(query, name), fuzz.WRatio(query, label) if label else 0,
                    0.85 * fuzz.partial_ratio(query, c.definition.casefold()) if c.definition else 0)
        if name.startswith(query) or label.startswith(query):
            score += 50
        elif query in name or query in label:
            score += 25
        if score >= 55:
            scored.append((-score, c.name, c))
    return [c for *_, c in sorted(scored)[:limit]]


PICKER_ROWS = 14


class CodePicker(Vertical):
    """Choose a code: type to search name, label and definition; each code's count of active
    codings and its definition are shown.

    A panel kept mounted on the main screen, shown by :meth:`open` and hidden when a code is
    chosen or Escape is pressed, rather than a screen pushed and popped for every coding: the
    push composed the dialog again and the pop redrew the whole screen, which took longer than
    the coding's transaction (issue 16: a key that codes is handled in under 50 ms)."""

    DEFAULT_CSS = """
    CodePicker { position: absolute; layer: dialog; width: 76; max-width: 100%; height: auto; max-height: 22;
        border: round $accent; padding: 0 1; background: $surface; display: none; }
    CodePicker OptionList { height: 14; }
    CodePicker .title { text-style: bold; }
    CodePicker .detail { height: auto; max-height: 4; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel"), Binding("down", "move(1)", show=False),
                Binding("up", "move(-1)", show=False), Binding("pagedown", "move(8)", show=False),
                Binding("pageup", "move(-8)", show=False), Binding("tab,shift+tab", "swap_focus", show=False)]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title_text = ""
        self.codes: list[CodeChoice] = []
        self.shown: list[CodeChoice] = []
        self._query: str | None = None
        self._described: str | None = None
        self._done: Callable[[str | None], None] | None = None
        self._return_focus: Widget | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="title", markup=False)
        yield Input(placeholder="type to search codes (name, label, definition)")
        yield OptionList()
        yield Static("", classes="detail", id="definition", markup=False)

    @property
    def is_open(self) -> bool:
        return self._done is not None

    def open(self, title: str, codes: list[CodeChoice], done: Callable[[str | None], None]) -> None:
        """Show the picker over the screen with an empty search; ``done`` gets the chosen code's
        name (None: cancelled), called while the key that chose it is handled."""
        self.title_text, self.codes, self._done = title, codes, done
        self._return_focus = self.app.focused
        self.query_one(".title", Static).update(title)
        field = self.query_one(Input)
        field.value = ""
        self._fill("")
        width = self.screen.size.width
        self.styles.offset = (max(0, (width - 76) // 2), 1)
        self.display = True
        field.focus()

    def close(self, chosen: str | None) -> None:
        """Hide the picker, give the focus back, then hand over the choice."""
        done, self._done = self._done, None
        self.display = False
        if self._return_focus is not None and self._return_focus.is_attached:
            self._return_focus.focus()
        if done is not None:
            done(chosen)

    def focus_input(self) -> None:
        self.query_one(Input).focus()

    def _fill(self, query: str) -> None:
        self._query = query
        self.shown = rank_codes(self.codes, query)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self._line(c)) for c in self.shown])
        # a fixed height (one row an option, at most 14): an automatic one measured every option
        # on each layout, the largest cost of showing the picker
        options.styles.height = max(1, min(PICKER_ROWS, len(self.shown)))
        if self.shown:
            options.highlighted = 0
        self._describe()

    @staticmethod
    def _line(c: CodeChoice) -> Text:
        line = Text(f"{c.name}", style="bold")
        if c.label and c.label != c.name:
            line.append(f" ({c.label})")
        line.append(f"  {c.count} coding{'s' if c.count != 1 else ''}", style="dim")
        return line

    def _describe(self) -> None:
        options = self.query_one(OptionList)
        i = options.highlighted
        text = (self.shown[i].definition if self.shown and i is not None else "no code matches") or "(no definition)"
        if text != self._described:  # an unchanged definition: no new layout
            self._described = text
            self.query_one("#definition", Static).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.is_open and event.value != self._query:  # opening already filled the empty search
            self._fill(event.value)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._describe()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            now = options.highlighted or 0
            options.highlighted = max(0, min(len(self.shown) - 1, now + step))

    def action_swap_focus(self) -> None:
        options = self.query_one(OptionList)
        (self.query_one(Input) if options.has_focus else options).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        i = self.query_one(OptionList).highlighted
        if self.is_open and self.shown and i is not None:
            self.close(self.shown[i].name)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.is_open:
            self.close(self.shown[event.option_index].name)

    def action_cancel(self) -> None:
        if self.is_open:
            self.close(None)


class TranscriptList(ModalScreen[str | None]):
    """Switch transcript: each with its coverage (informant words coded) and pending suggestions."""

    DEFAULT_CSS = DIALOG_CSS.format(name="TranscriptList")
    BINDINGS = [Binding("escape", "cancel", "cancel"), Binding("q", "cancel", show=False)]

    def __init__(self, summaries: list[TranscriptSummary], current: str | None) -> None:
        super().__init__()
        self.summaries = summaries
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Transcripts: informant words coded · codings · pending suggestions", classes="title")
            yield OptionList(*[Option(self._line(s)) for s in self.summaries])
            yield Static("Enter: open · Escape: back", classes="detail")

    def _line(self, s: TranscriptSummary) -> Text:
        mark = "▸ " if s.transcript_id == self.current else "  "
        line = Text(f"{mark}{s.transcript_id:<24.24}", style="bold" if mark.strip() else "")
        line.append(f" {100 * s.share:5.1f}% coded {s.codings:>4} codings {s.pending:>4} pending")
        return line

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        here = next((i for i, s in enumerate(self.summaries) if s.transcript_id == self.current), 0)
        if self.summaries:
            options.highlighted = here
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.summaries[event.option_index].transcript_id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """The key map; any key closes it."""

    DEFAULT_CSS = DIALOG_CSS.format(name="HelpScreen") + "HelpScreen > Vertical { max-height: 24; }"

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.text, markup=False)

    def on_key(self, event) -> None:
        event.stop()
        self.dismiss(None)
