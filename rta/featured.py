"""Featured extracts: the extracts a researcher chose to illustrate a theme, in their order.

A theme section of the report shows its featured extracts (``rta feature``), not every coding;
the rest go to the report's appendix of all extracts. Choosing is an interpretive decision, so
it is kept only in the log: ``extract.featured`` (a coding featured, moved or given a note) and
``extract.unfeatured`` events, each carrying the theme's whole order after the change. The
current choice is the log folded by :func:`apply`, which :mod:`rta.replay` runs too, so the
audit checks every decision (its theme and coding exist, and the order it logged is the one the
decisions before it give). No table holds it, so no table can disagree with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rta.errors import RtaError
from rta.store import Store

KINDS = ("extract.featured", "extract.unfeatured")


@dataclass
class FeaturedExtract:
    """One featured coding of a theme: its place (1-based), why, who chose it and when."""

    theme_id: int
    coding_id: int
    position: int
    note: str | None
    coder: str | None
    ts: str


def apply(state: dict[int, list[int]], kind: str, p: dict[str, Any]) -> str | None:
    """Fold one event into ``state`` (theme id -> ordered coding ids). Returns a problem in
    words when the event cannot be applied as logged, else None."""
    theme, coding = p.get("theme_id"), p.get("coding")
    if not isinstance(theme, int) or not isinstance(coding, int):
        return "names no theme id or coding"
    order = state.setdefault(theme, [])
    if kind == "extract.unfeatured":
        if coding not in order:
            return f"unfeatures coding {coding}, which was not featured in theme {theme}"
        order.remove(coding)
    else:
        if coding in order:
            order.remove(coding)
        position = p.get("position")
        if not isinstance(position, int) or not 1 <= position <= len(order) + 1:
            return f"puts coding {coding} at position {position!r} of {len(order) + 1}"
        order.insert(position - 1, coding)
    if p.get("order") != order:
        return f"logs the order {p.get('order')!r}, but the decisions before it give {order!r}"
    return None


def featured(store: Store) -> dict[int, list[FeaturedExtract]]:
    """The featured extracts of every theme (theme id -> in order), from the log."""
    state: dict[int, list[int]] = {}
    info: dict[tuple[int, int], FeaturedExtract] = {}
    for r in store.conn.execute("SELECT seq, ts, coder, kind, payload FROM events WHERE kind IN (?, ?) ORDER BY seq",
                                KINDS):
        p = json.loads(r["payload"])
        if apply(state, r["kind"], p) is not None:
            continue  # the audit names it
        key = (p["theme_id"], p["coding"])
        if r["kind"] == "extract.featured":
            old = info.get(key)
            note = store.event_text(r["seq"], "note") if "note_sha256" in p else (old.note if old else None)
            info[key] = FeaturedExtract(key[0], key[1], 0, note, r["coder"], r["ts"])
        else:
            info.pop(key, None)
    out: dict[int, list[FeaturedExtract]] = {}
    for theme, order in state.items():
        items = []
        for i, coding in enumerate(order, 1):
            item = info[(theme, coding)]
            item.position = i
            items.append(item)
        if items:
            out[theme] = items
    return out


def _theme_and_coding(store: Store, theme_name: str, coding_id: int) -> tuple[Any, Any]:
    from rta.themes import get_theme

    theme = get_theme(store, theme_name)
    row = store.conn.execute("SELECT id, code, status FROM codings WHERE id = ?", (coding_id,)).fetchone()
    if row is None:
        raise RtaError(f"no coding with id {coding_id}", hint="see 'rta codings --theme " + theme.name + "'")
    return theme, row


def feature(store: Store, coding_id: int, theme_name: str, coder: str | None, note: str | None = None,
            before: int | None = None, after: int | None = None) -> list[FeaturedExtract]:
    """Feature a coding in a theme (at the end, or ``before``/``after`` a featured one); a
    coding already featured is moved there, or given the new ``note``. One logged event."""
    if before is not None and after is not None:
        raise RtaError("give --before or --after, not both")
    with store.transaction():
        theme, row = _theme_and_coding(store, theme_name, coding_id)
        if row["status"] != "active":
            raise RtaError(f"coding {coding_id} is {row['status']}: only active codings are extracts",
                           hint="see 'rta codings'")
        if row["code"] not in theme.codes:
            raise RtaError(f"coding {coding_id} (code {row['code']}) is not in theme '{theme.name}'",
                           hint="its codes: " + (", ".join(theme.codes) or "(none)")
                                + f"; or 'rta themes assign {theme.name} {row['code']}'")
        order = [f.coding_id for f in featured(store).get(theme.id, [])]
        was = coding_id in order
        if was and before is None and after is None and note is None:
            raise RtaError(f"coding {coding_id} is already featured in '{theme.name}' (place {order.index(coding_id) + 1})",
                           hint="move it with --before ID or --after ID, or give it a --note")
        rest = [c for c in order if c != coding_id]
        anchor = before if before is not None else after
        if anchor is not None:
            if anchor == coding_id or anchor not in rest:
                raise RtaError(f"coding {anchor} is not featured in '{theme.name}'",
                               hint="featured there: " + (", ".join(map(str, rest)) or "(none)"))
            position = rest.index(anchor) + (1 if before is not None else 2)
        elif was:
            position = order.index(coding_id) + 1
        else:
            position = len(rest) + 1
        new = rest[:position - 1] + [coding_id] + rest[position - 1:]
        payload: dict[str, Any] = {"theme": theme.name, "theme_id": theme.id, "coding": coding_id,
                                   "position": position, "order": new, "moved": was}
        if note is not None:
            payload["note"] = note
        store.log_event("extract.featured", payload, coder)
    return featured(store).get(theme.id, [])


def unfeature(store: Store, coding_id: int, theme_name: str, coder: str | None,
              reason: str | None = None) -> list[FeaturedExtract]:
    """Take a coding out of a theme's featured extracts (it stays in the appendix)."""
    with store.transaction():
        theme, _ = _theme_and_coding(store, theme_name, coding_id)
        order = [f.coding_id for f in featured(store).get(theme.id, [])]
        if coding_id not in order:
            raise RtaError(f"coding {coding_id} is not featured in '{theme.name}'",
                           hint="featured there: " + (", ".join(map(str, order)) or "(none)"))
        new = [c for c in order if c != coding_id]
        payload: dict[str, Any] = {"theme": theme.name, "theme_id": theme.id, "coding": coding_id, "order": new}
        if reason:
            payload["reason"] = reason
        store.log_event("extract.unfeatured", payload, coder)
    return featured(store).get(theme.id, [])
