"""What the side pane of ``rta read`` says about the thing under the cursor: a coding (code,
coder, origin, memos, its history in the log) or a passage with codes to decide (its ranked
codes with their evidence in short, which one the keys act on, the decided ones as decided,
and the themes the codes imply, best first), as ``rta review`` shows a passage.

Everything is built as rich ``Text`` by appending plain strings, never parsed as markup, and
every code, theme and evidence word goes through :func:`rta.textsafe.for_terminal` first:
codebook and transcript text is untrusted and must not style or control the terminal."""

from __future__ import annotations

from rich.text import Text

from rta.review import PassageView, evidence_text
from rta.textsafe import for_terminal
from rta.tui.model import Mark

EVIDENCE_CHARS = 40  # about two lines of the pane
THEMES_SHOWN = 4
DECIDED = {"accepted": "✓ accepted", "rejected": "✗ rejected", "recoded": "→ recoded"}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def passage_text(passage: PassageView, focused: int, colours: dict[str, str], line_span: tuple[int, int],
                 others: str = "") -> Text:
    """The passage's codes best first (rank, code, score, evidence in short), ``▸`` on the
    one with id ``focused`` (the one a, r and R decide), decided codes dimmed with their
    decision, then the ranked themes. ``others``: a line about the other things here."""
    out = Text()
    first, last = line_span
    out.append(f"passage, line{'s' if last != first else ''} {first}{f'-{last}' if last != first else ''}\n",
               style="underline")
    pending = len(passage.pending)
    out.append(f"{pending} of {len(passage.codes)} code{'s' if len(passage.codes) != 1 else ''} to decide\n",
               style="dim")
    for rank, sug in enumerate(passage.codes, 1):
        code = for_terminal(sug.code)
        decision = sug.decision
        if decision != "pending":
            out.append(f" {rank} {code}\n", style="dim strike")
            coding = f" #{sug.coding_id}" if sug.coding_id is not None else ""
            out.append(f"   {sug.score:.2f} {DECIDED.get(decision, decision)}{coding}\n", style="dim")
            continue
        here = sug.id == focused
        out.append("▸" if here else " ", style="bold")
        out.append(f"{rank} ", style="bold" if here else "")
        colour = colours.get(sug.code, "")
        out.append(code + "\n", style=(f"bold {colour}" if here else colour).strip() or None)
        evidence = for_terminal(evidence_text(sug.evidence, short=True))
        out.append(f"   {sug.score:.2f} ")
        out.append(_short(evidence, EVIDENCE_CHARS) + "\n", style="italic")
    if passage.themes:
        out.append("themes\n", style="dim")
        for theme, score in passage.themes[:THEMES_SHOWN]:
            out.append(f" {for_terminal(theme)} {score:.2f}\n")
        if len(passage.themes) > THEMES_SHOWN:
            out.append(f" +{len(passage.themes) - THEMES_SHOWN} more\n", style="dim")
    if others:
        out.append(others + "\n", style="dim")
    out.append("a accept  r reject\nR recode  m memo\nTab/⇧Tab: other code", style="dim")
    return out


def coding_text(m: Mark, colour: str, memos: list[str], history: list[tuple[str, str, str]], position: str = "") -> Text:
    """A coding: its id and code, coder, origin, date, the last memos and its history."""
    out = Text()
    if position:
        out.append(position + "\n", style="dim")
    out.append(f"#{m.id} ", style="bold")
    out.append(for_terminal(m.code) + "\n", style=f"bold {colour}".strip())
    out.append(f"coder {for_terminal(m.coder)}\norigin {m.origin}\n{(m.created or '')[:16]}\n")
    for text in memos[-2:]:
        out.append(f"memo: {for_terminal(text)}\n", style="italic")
    out.append("history:\n", style="dim")
    for ts, coder, kind in history:
        out.append(f" {ts[5:16]} {for_terminal(coder)}\n  {kind}\n", style="dim")
    out.append("x: uncode  m: memo", style="dim")
    return out
