"""Merging theme changes from another copy (:mod:`rta.merge`): applied when they agree with
this project's themes, listed as conflicts when they do not (the module doc of rta.merge)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from rta.errors import RtaError


if TYPE_CHECKING:
    from rta.merge import _Event


class ThemeMerging:
    """The ``theme.*`` handlers of :class:`rta.merge._Merger` (a mixin: it uses the merger's
    store, maps, log and conflict list)."""

    def _other_theme(self, oid: int, name: str) -> Any:
        row = self.other.conn.execute(f"SELECT {name} FROM themes WHERE id = ?", (oid,)).fetchone()
        return row[0] if row else None

    def _theme_row(self, tid: int) -> sqlite3.Row | None:
        return self.store.conn.execute("SELECT * FROM themes WHERE id = ?", (tid,)).fetchone()

    def _theme_codes(self, tid: int) -> set[str]:
        return {r[0] for r in self.store.conn.execute("SELECT code FROM theme_codes WHERE theme_id = ?", (tid,))}

    def _name_taken(self, name: str, but: int | None = None) -> sqlite3.Row | None:
        return self.store.conn.execute("SELECT * FROM themes WHERE name = ? COLLATE NOCASE AND id IS NOT ?",
                                       (name, but)).fetchone()

    def _touch(self, tid: int, ts: str) -> None:
        self.store.conn.execute("UPDATE themes SET version = version + 1, updated = ? WHERE id = ?", (ts, tid))

    def _log_theme(self, e: _Event, ids: list[int], extra: dict[str, Any] | None = None,
                   origin: dict[str, Any] | None = None) -> None:
        from rta.themes import theme_rows

        p = e.p
        from_ids = [self.theme_map.get(i, i) for i in p.get("from_ids") or []]
        payload = {**p, "ids": ids, "from_ids": from_ids, **(extra or {})}
        pointing = [r[0] for r in self.store.conn.execute(
            "SELECT id FROM themes WHERE opposite IN (SELECT name FROM themes WHERE id IN (%s)) OR parent IN "
            "(SELECT name FROM themes WHERE id IN (%s))" % (",".join("?" * len(ids)), ",".join("?" * len(ids))),
            (*ids, *ids))] if e.kind == "theme.renamed" else []
        payload["after"] = theme_rows(self.store, [*ids, *pointing])
        self._log(e, payload, origin=origin)

    def _new_theme(self, e: _Event, state: dict[str, Any], codes: list[str]) -> int:
        cur = self.store.conn.execute(
            "INSERT INTO themes(name, definition, central_concept, origin, status, parent, opposite, guid, source, "
            "version, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            tuple(state.get(k) for k in ("name", "definition", "central_concept", "origin", "status", "parent",
                                         "opposite", "guid", "source", "version", "created", "updated")))
        tid = int(cur.lastrowid)
        self.store.conn.executemany("INSERT OR IGNORE INTO theme_codes(theme_id, code) VALUES (?, ?)",
                                    [(tid, c) for c in codes])
        return tid

    def _after(self, e: _Event, oid: int) -> dict[str, Any] | None:
        after = e.p.get("after")
        state = after.get(str(oid)) if isinstance(after, dict) else None
        if state is None:
            self._note("theme changes logged by an older rta (without the rows after the change) were not merged")
        return state

    def _created(self, e: _Event, pos: int, oid: int) -> bool:
        """True when theme ``oid`` at position ``pos`` of ``e``'s ids was made by ``e``."""
        return self.other_idx.themes.get((e.ident, pos)) == oid

    def _place_new(self, e: _Event, pos: int, oid: int, state: dict[str, Any]) -> int | None:
        """Create the other copy's new theme here, or (a name this project already uses for
        another theme) list the clash; resolved, the two are one theme from then on."""
        taken = self._name_taken(state["name"])
        if taken is None:
            tid = self._new_theme(e, state, list(state.get("codes") or []))
            self.theme_map[oid] = tid
            return tid
        choice = self._conflict(e, "name", f"theme '{taken['name']}'",
                                f"theme {taken['id']} '{taken['name']}' here ({', '.join(sorted(self._theme_codes(taken['id']))) or 'no codes'})",
                                f"another theme '{state['name']}' made by {e.coder} there "
                                f"({', '.join(state.get('codes') or []) or 'no codes'})")
        if choice is None:
            return None
        tid = int(taken["id"])
        self.theme_map[oid] = tid
        self.theme_links.append([e.ident, pos, tid])
        self.store.conn.executemany("INSERT OR IGNORE INTO theme_codes(theme_id, code) VALUES (?, ?)",
                                    [(tid, c) for c in state.get("codes") or []])
        if choice == "theirs":
            fields = {k: state[k] for k in ("definition", "central_concept", "origin", "status") if k in state}
            self.store.conn.execute("UPDATE themes SET %s WHERE id = ?" % ", ".join(f"{k} = ?" for k in fields),
                                    (*fields.values(), tid))
        self._touch(tid, e.ts)
        return tid

    def _theme_added(self, e: _Event) -> None:
        ids = e.p.get("ids") or []
        oid = ids[0] if ids else None
        state = self._after(e, oid) if isinstance(oid, int) else None
        if state is None:
            return
        tid = self._place_new(e, 0, oid, state)
        if tid is not None:
            self._log_theme(e, [tid])

    _theme_proposed = _theme_added

    def _mapped(self, e: _Event) -> list[int] | None:
        ids = [self.theme_map.get(i) for i in e.p.get("ids") or []]
        if not ids or any(i is None for i in ids):
            self._note("changes to themes that did not come along were not merged")
            return None
        return ids  # type: ignore[return-value]

    def _theme_assigned(self, e: _Event) -> None:
        ids = self._mapped(e)
        if ids is None:
            return
        tid = ids[0]
        have = self._theme_codes(tid)
        codes = set(e.p.get("codes") or [])
        want = have | codes if e.kind == "theme.assigned" else have - codes
        if want == have:
            self._absorb(e)
            return
        if e.kind == "theme.assigned":
            self.store.conn.executemany("INSERT OR IGNORE INTO theme_codes(theme_id, code) VALUES (?, ?)",
                                        [(tid, c) for c in sorted(want - have)])
        else:
            self.store.conn.executemany("DELETE FROM theme_codes WHERE theme_id = ? AND code = ?",
                                        [(tid, c) for c in sorted(have - want)])
        self._touch(tid, e.ts)
        self._log_theme(e, ids)

    _theme_unassigned = _theme_assigned

    def _theme_renamed(self, e: _Event) -> None:
        ids = self._mapped(e)
        if ids is None:
            return
        p, tid = e.p, ids[0]
        row = self._theme_row(tid)
        old, new = p.get("old"), p.get("new")
        if row["name"] == new:
            self._absorb(e)
            return
        if row["name"] != old or "theme.renamed" in self.this_changes.get(tid, set()):
            if self._other_theme(e.p["ids"][0], "name") == row["name"]:
                self._absorb(e)  # the other copy took this project's name since (an earlier merge)
                return
            choice = self._conflict(e, "rename", f"theme '{row['name']}'", f"'{row['name']}' (renamed here)",
                                    f"'{new}' (renamed by {e.coder})")
            if choice != "theirs":
                return
        clash = self._name_taken(new, but=tid)
        if clash is not None:
            choice = self._conflict(e, "name", f"theme '{row['name']}'", f"'{new}' is theme {clash['id']} here",
                                    f"rename '{old}' to '{new}' (by {e.coder})")
            if choice != "theirs":
                return
            raise RtaError(f"theme '{row['name']}' cannot take the name '{new}': theme {clash['id']} has it here",
                           hint="rename that theme first ('rta themes rename'), or resolve this conflict as ours")
        conn = self.store.conn
        conn.execute("UPDATE themes SET name = ? WHERE id = ?", (new, tid))
        conn.execute("UPDATE themes SET opposite = ? WHERE opposite = ?", (new, row["name"]))
        conn.execute("UPDATE themes SET parent = ? WHERE parent = ?", (new, row["name"]))
        self._touch(tid, e.ts)
        self._log_theme(e, ids, {"old": row["name"], "theme": new})

    def _theme_defined(self, e: _Event) -> None:
        ids = self._mapped(e)
        if ids is None:
            return
        p, tid = e.p, ids[0]
        row = self._theme_row(tid)
        old, new = p.get("old") or {}, p.get("new") or {}
        apply, clash = {}, {}
        for name, value in new.items():
            if name not in ("definition", "central_concept", "origin", "status", "opposite", "parent"):
                continue
            if row[name] == value:
                continue
            if name in old and row[name] != old[name]:
                clash[name] = value
            else:
                apply[name] = value
        if clash and all(self._other_theme(p["ids"][0], k) == row[k] for k in clash):
            clash = {}  # the other copy took this project's values since (an earlier merge)
        if clash:
            choice = self._conflict(e, "define", f"theme '{row['name']}'",
                                    "; ".join(f"{k}: {row[k]!r}" for k in clash),
                                    "; ".join(f"{k}: {v!r} (by {e.coder})" for k, v in clash.items()))
            if choice == "theirs":
                apply.update(clash)
            elif not apply:
                return
        if not apply:
            self._absorb(e)
            return
        self.store.conn.execute("UPDATE themes SET %s WHERE id = ?" % ", ".join(f"{k} = ?" for k in apply),
                                (*apply.values(), tid))
        self._touch(tid, e.ts)
        self._log_theme(e, ids, {"theme": row["name"], "old": {k: row[k] for k in apply}, "new": apply})

    def _theme_discarded(self, e: _Event) -> None:
        ids = self._mapped(e)
        if ids is None:
            return
        row = self._theme_row(ids[0])
        if row["status"] == "discarded":
            self._absorb(e)
            return
        self.store.conn.execute("UPDATE themes SET status = 'discarded' WHERE id = ?", (ids[0],))
        self._touch(ids[0], e.ts)
        self._log_theme(e, ids, {"theme": row["name"], "previous_status": row["status"]})

    def _structural_clash(self, e: _Event, existing: list[int], verb: str) -> str | None:
        """A merge or split over there of themes this project merged, split or discarded since
        the copies parted: a conflict. Returns None (no clash), or the resolution or 'held'."""
        touched = [tid for tid in existing if self.this_changes.get(tid, set()) & {"theme.merged", "theme.split",
                                                                                  "theme.discarded"}
                   or self._theme_row(tid)["status"] == "discarded"]
        if not touched:
            return None
        names = ", ".join(f"'{self._theme_row(t)['name']}'" for t in touched)
        here = "; ".join(f"'{self._theme_row(t)['name']}' is {self._theme_row(t)['status']}" for t in touched)
        choice = self._conflict(e, verb, f"theme {names}", f"changed here since the copies parted ({here})",
                                f"{e.kind.split('.')[1]} by {e.coder}: {_describe(e)}")
        return choice or "held"

    def _theme_merged(self, e: _Event) -> None:
        p = e.p
        oids = [i for i in p.get("ids") or [] if isinstance(i, int)]
        if not oids:
            return
        target_new = self._created(e, 0, oids[0])
        existing = [self.theme_map.get(i) for i in (oids[1:] if target_new else oids)]
        if any(i is None for i in existing):
            self._note("changes to themes that did not come along were not merged")
            return
        clash = self._structural_clash(e, existing, "merge")  # type: ignore[arg-type]
        if clash in ("held", "ours"):
            return
        if target_new:
            state = self._after(e, oids[0])
            if state is None:
                return
            target = self._place_new(e, 0, oids[0], state)
            if target is None:
                return
            sources = existing
        else:
            target, sources = existing[0], existing[1:]
        codes = set(p.get("codes") or [])
        self.store.conn.executemany("INSERT OR IGNORE INTO theme_codes(theme_id, code) VALUES (?, ?)",
                                    [(target, c) for c in sorted(codes)])
        if not target_new:
            state = (p.get("after") or {}).get(str(oids[0])) or {}
            if clash == "theirs" and self._theme_row(target)["status"] == "discarded" \
                    and state.get("status") not in (None, "discarded"):
                # their merge kept this theme: it lives again here (this project had merged it away)
                self.store.conn.execute("UPDATE themes SET status = ? WHERE id = ?", (state["status"], target))
            self._touch(target, e.ts)
        for tid in sources:
            self.store.conn.execute("UPDATE themes SET status = 'discarded' WHERE id = ?", (tid,))
            self._touch(tid, e.ts)
        self._log_theme(e, [target, *sources], {"theme": self._theme_row(target)["name"]})  # type: ignore[list-item]

    def _theme_split(self, e: _Event) -> None:
        p = e.p
        oids = [i for i in p.get("ids") or [] if isinstance(i, int)]
        if not oids or oids[0] not in self.theme_map:
            self._note("changes to themes that did not come along were not merged")
            return
        tid = self.theme_map[oids[0]]
        clash = self._structural_clash(e, [tid], "split")
        if clash in ("held", "ours"):
            return
        made: list[int] = []
        given: set[str] = set()
        for pos, oid in enumerate(oids[1:], start=1):
            state = self._after(e, oid)
            if state is None:
                return
            part = self._place_new(e, pos, oid, state)
            if part is None:
                return
            made.append(part)
            given |= set(state.get("codes") or [])
        if p.get("kept"):
            self.store.conn.executemany("DELETE FROM theme_codes WHERE theme_id = ? AND code = ?",
                                        [(tid, c) for c in sorted(given)])
        else:
            self.store.conn.execute("UPDATE themes SET status = 'discarded' WHERE id = ?", (tid,))
        self._touch(tid, e.ts)
        self._log_theme(e, [tid, *made])


def _describe(e: Any) -> str:
    p = e.p
    if e.kind == "theme.merged":
        return f"{', '.join(p.get('sources') or [])} into '{p.get('theme')}'"
    if e.kind == "theme.split":
        return f"'{p.get('theme')}' into {', '.join(p.get('parts') or {})}"
    return str(p.get("theme") or "")
