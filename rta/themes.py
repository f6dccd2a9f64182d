"""Themes (phases 3-5): built from codes, reviewed against the data, defined and named.

A theme is the researchers' interpretation, so every change to one is a decision: it is made
inside a store transaction, bumps the theme's ``version`` and appends a ``theme.*`` event whose
payload names the theme ids involved (``ids``) and the ids it came from (``from_ids``). Following
``from_ids`` back through merges and splits gives a theme's lineage (:func:`history`).

Themes are never deleted: discarding one changes its status, and a discarded theme keeps its
name (names are unique in the store), so its history stays readable.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterable

from rta.errors import RtaError
from rta.norsk import fold, sort_no
from rta.store import Event, Store, now

ORIGINS = ("inductive", "deductive")
STATUSES = ("candidate", "reviewed", "defined", "discarded")


@dataclass
class ThemeRecord:
    """A theme as stored: its fields plus its member codes (Norwegian order)."""

    id: int
    name: str
    definition: str
    central_concept: str
    origin: str
    status: str
    parent: str | None
    opposite: str | None
    guid: str | None
    source: str | None
    version: int
    created: str
    updated: str
    codes: list[str] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        """The fields an event records, so history can show what a theme looked like."""
        return {"name": self.name, "definition": self.definition, "central_concept": self.central_concept,
                "origin": self.origin, "status": self.status, "codes": list(self.codes), "version": self.version}


# --------------------------------------------------------------------------------------------
# Reading


def _record(store: Store, row: sqlite3.Row) -> ThemeRecord:
    codes = [r[0] for r in store.conn.execute("SELECT code FROM theme_codes WHERE theme_id = ?", (row["id"],))]
    return ThemeRecord(row["id"], row["name"], row["definition"], row["central_concept"], row["origin"], row["status"],
                       row["parent"], row["opposite"], row["guid"], row["source"], row["version"], row["created"],
                       row["updated"], sort_no(codes))


def list_themes(store: Store, include_discarded: bool = False) -> list[ThemeRecord]:
    """The project's themes in Norwegian order (discarded ones only when asked)."""
    sql = "SELECT * FROM themes" + ("" if include_discarded else " WHERE status != 'discarded'")
    return sort_no([_record(store, r) for r in store.conn.execute(sql)], key=lambda t: t.name)


def get_theme(store: Store, name: str, allow_discarded: bool = False) -> ThemeRecord:
    """The theme called ``name`` (exact, else case- and accent-insensitive), with a
    did-you-mean hint when there is none."""
    row = store.conn.execute("SELECT * FROM themes WHERE name = ?", (name,)).fetchone()
    if row is None:
        rows = [r for r in store.conn.execute("SELECT * FROM themes") if fold(r["name"]) == fold(name)]
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        from rta.codebook import did_you_mean

        names = [r[0] for r in store.conn.execute("SELECT name FROM themes")]
        guess = did_you_mean(name, names)
        raise RtaError(f"no theme '{name}' in this project",
                       hint=f"did you mean {guess}?" if guess else "see 'rta themes list' (or 'rta themes add NAME')")
    if row["status"] == "discarded" and not allow_discarded:
        raise RtaError(f"theme '{row['name']}' is discarded", hint="see 'rta themes history " + row["name"] + "'")
    return _record(store, row)


def known_codes(store: Store) -> list[str]:
    """Codes a theme may hold: those of the latest imported codebook version plus any code
    that has codings (an older version's code still carries evidence)."""
    names = {r[0] for r in store.conn.execute(
        "SELECT name FROM codes WHERE codebook_version = (SELECT MAX(id) FROM codebook_versions)")}
    names |= {r[0] for r in store.conn.execute("SELECT DISTINCT code FROM codings")}
    return sort_no(names)


def check_codes(store: Store, codes: Iterable[str]) -> list[str]:
    """The codes as the codebook spells them; an error naming each unknown one."""
    known = known_codes(store)
    if not known:
        raise RtaError("the project has no codebook imported yet, so no codes to assign",
                       hint="code something ('rta code') or run 'rta themes add --from-codebook' first")
    by_fold = {fold(k): k for k in known}
    out: list[str] = []
    for code in codes:
        code = code.strip()
        if not code:
            continue
        if code in known:
            out.append(code)
        elif fold(code) in by_fold:
            out.append(by_fold[fold(code)])
        else:
            from rta.codebook import did_you_mean

            guess = did_you_mean(code, known)
            raise RtaError(f"unknown code '{code}'", hint=f"did you mean {guess}?" if guess else "see 'rta codebook show'")
    if not out:
        raise RtaError("no codes given", hint="name one or more codes, e.g. Tid Kontinuitet")
    return list(dict.fromkeys(out))


def theme_rows(store: Store, ids: Iterable[int]) -> dict[str, dict[str, Any]]:
    """The stored rows of themes ``ids`` with their codes, as a theme event records them
    (``after``): what ``rta audit`` replays the themes and theme_codes tables from."""
    out: dict[str, dict[str, Any]] = {}
    for i in dict.fromkeys(ids):
        row = store.conn.execute("SELECT * FROM themes WHERE id = ?", (i,)).fetchone()
        if row is None:
            continue
        codes = sorted(r[0] for r in store.conn.execute("SELECT code FROM theme_codes WHERE theme_id = ?", (i,)))
        out[str(i)] = {k: row[k] for k in THEME_FIELDS} | {"codes": codes}
    return out


THEME_FIELDS = ("name", "definition", "central_concept", "origin", "status", "parent", "opposite", "guid", "source",
                "version", "created", "updated")


# --------------------------------------------------------------------------------------------
# Writing (every function joins or opens one transaction and logs one event)


def _check_new_name(store: Store, name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise RtaError("a theme needs a name")
    row = store.conn.execute("SELECT name, status FROM themes WHERE name = ? COLLATE NOCASE", (name,)).fetchone()
    if row is not None:
        extra = " (discarded; names stay reserved so history is readable)" if row["status"] == "discarded" else ""
        raise RtaError(f"a theme called '{row['name']}' already exists{extra}", hint="choose another name")
    return name


def _touch(store: Store, theme_id: int) -> None:
    store.conn.execute("UPDATE themes SET version = version + 1, updated = ? WHERE id = ?", (now(), theme_id))


def _set_codes(store: Store, theme_id: int, codes: Iterable[str]) -> None:
    store.conn.executemany("INSERT OR IGNORE INTO theme_codes(theme_id, code) VALUES (?, ?)",
                           [(theme_id, c) for c in codes])


def _insert(store: Store, name: str, definition: str, central_concept: str, origin: str, status: str,
            source: str, codes: list[str], parent: str | None = None, opposite: str | None = None,
            guid: str | None = None) -> int:
    if origin not in ORIGINS:
        raise RtaError(f"unknown origin '{origin}'", hint="use inductive or deductive")
    if status not in STATUSES:
        raise RtaError(f"unknown status '{status}'", hint="use " + ", ".join(STATUSES))
    ts = now()
    cur = store.conn.execute(
        "INSERT INTO themes(name, definition, central_concept, origin, status, parent, opposite, guid, source, "
        "version, created, updated) VALUES (?,?,?,?,?,?,?,?,?,1,?,?)",
        (name, definition, central_concept, origin, status, parent, opposite, guid, source, ts, ts),
    )
    theme_id = int(cur.lastrowid)
    _set_codes(store, theme_id, codes)
    return theme_id


def add_theme(store: Store, name: str, coder: str | None, codes: Iterable[str] = (), definition: str = "",
              central_concept: str = "", origin: str = "inductive", source: str = "manual",
              status: str = "candidate", reason: str | None = None) -> ThemeRecord:
    """Create a theme (a candidate unless told otherwise), optionally with member codes."""
    with store.transaction():
        name = _check_new_name(store, name)
        codes = list(codes)
        codes = check_codes(store, codes) if codes else []
        theme_id = _insert(store, name, definition, central_concept, origin, status, source, codes)
        theme = get_theme(store, name, allow_discarded=True)
        store.log_event("theme.added", {"ids": [theme_id], "from_ids": [], "theme": name, "source": source,
                                        "snapshot": theme.snapshot(), "reason": reason,
                                        "after": theme_rows(store, [theme_id])}, coder)
    return theme


def assign(store: Store, name: str, codes: Iterable[str], coder: str | None, reason: str | None = None) -> ThemeRecord:
    """Add codes to a theme (many-to-many: a code may sit in several themes)."""
    with store.transaction():
        theme = get_theme(store, name)
        wanted = check_codes(store, codes)
        new = [c for c in wanted if c not in theme.codes]
        if not new:
            raise RtaError(f"theme '{theme.name}' already holds {', '.join(wanted)}")
        _set_codes(store, theme.id, new)
        _touch(store, theme.id)
        store.log_event("theme.assigned", {"ids": [theme.id], "from_ids": [], "theme": theme.name, "codes": new,
                                           "reason": reason, "after": theme_rows(store, [theme.id])}, coder)
        return get_theme(store, theme.name)


def unassign(store: Store, name: str, codes: Iterable[str], coder: str | None, reason: str | None = None) -> ThemeRecord:
    """Take codes out of a theme."""
    with store.transaction():
        theme = get_theme(store, name)
        wanted = check_codes(store, codes)
        missing = [c for c in wanted if c not in theme.codes]
        if missing:
            raise RtaError(f"theme '{theme.name}' does not hold {', '.join(missing)}",
                           hint="its codes: " + (", ".join(theme.codes) or "(none)"))
        store.conn.executemany("DELETE FROM theme_codes WHERE theme_id = ? AND code = ?", [(theme.id, c) for c in wanted])
        _touch(store, theme.id)
        store.log_event("theme.unassigned", {"ids": [theme.id], "from_ids": [], "theme": theme.name, "codes": wanted,
                                             "reason": reason, "after": theme_rows(store, [theme.id])}, coder)
        return get_theme(store, theme.name)


def rename(store: Store, name: str, new_name: str, coder: str | None, reason: str | None = None) -> ThemeRecord:
    """Give a theme a new name; its id, codes and history stay."""
    with store.transaction():
        theme = get_theme(store, name)
        if new_name.strip().casefold() != theme.name.casefold():
            new_name = _check_new_name(store, new_name)
        else:
            new_name = " ".join(new_name.split())
            if new_name == theme.name:
                raise RtaError(f"theme '{theme.name}' already has that name")
        pointing = [r[0] for r in store.conn.execute("SELECT id FROM themes WHERE opposite = ? OR parent = ?",
                                                     (theme.name, theme.name))]
        store.conn.execute("UPDATE themes SET name = ? WHERE id = ?", (new_name, theme.id))
        store.conn.execute("UPDATE themes SET opposite = ? WHERE opposite = ?", (new_name, theme.name))
        store.conn.execute("UPDATE themes SET parent = ? WHERE parent = ?", (new_name, theme.name))
        _touch(store, theme.id)
        store.log_event("theme.renamed", {"ids": [theme.id], "from_ids": [], "old": theme.name, "new": new_name,
                                          "theme": new_name, "reason": reason,
                                          "after": theme_rows(store, [theme.id, *pointing])}, coder)
        return get_theme(store, new_name)


def define(store: Store, name: str, coder: str | None, definition: str | None = None,
           central_concept: str | None = None, origin: str | None = None, status: str | None = None,
           opposite: str | None = None, reason: str | None = None) -> ThemeRecord:
    """Set a theme's definition, central organising concept, origin, status or opposite pole.
    When the theme then has both a definition and a central concept and no status was given,
    it becomes 'defined' (phase 5's output)."""
    with store.transaction():
        theme = get_theme(store, name)
        changes: dict[str, Any] = {}
        if definition is not None:
            changes["definition"] = definition.strip()
        if central_concept is not None:
            changes["central_concept"] = central_concept.strip()
        if origin is not None:
            if origin not in ORIGINS:
                raise RtaError(f"unknown origin '{origin}'", hint="use inductive or deductive")
            changes["origin"] = origin
        if opposite is not None:
            changes["opposite"] = opposite.strip() or None
        if status is not None:
            if status not in STATUSES or status == "discarded":
                raise RtaError(f"cannot set status '{status}' here",
                               hint="use candidate, reviewed or defined ('rta themes discard' discards)")
            changes["status"] = status
        else:
            final_def = changes.get("definition", theme.definition)
            final_cc = changes.get("central_concept", theme.central_concept)
            if final_def and final_cc and theme.status != "defined":
                changes["status"] = "defined"
        if not changes:
            raise RtaError("nothing to change", hint="give --definition, --concept, --origin, --status or --opposite")
        old = {k: getattr(theme, k) for k in changes}
        changes = {k: v for k, v in changes.items() if v != old[k]}
        if not changes:
            raise RtaError(f"theme '{theme.name}' already has these values")
        sets = ", ".join(f"{k} = ?" for k in changes)
        store.conn.execute(f"UPDATE themes SET {sets} WHERE id = ?", (*changes.values(), theme.id))
        _touch(store, theme.id)
        store.log_event("theme.defined", {"ids": [theme.id], "from_ids": [], "theme": theme.name,
                                          "old": {k: old[k] for k in changes}, "new": changes, "reason": reason,
                                          "after": theme_rows(store, [theme.id])}, coder)
        return get_theme(store, theme.name)


def discard(store: Store, name: str, coder: str | None, reason: str | None = None) -> ThemeRecord:
    """Discard a theme: it leaves reports and reviews, its record and history stay."""
    with store.transaction():
        theme = get_theme(store, name)
        store.conn.execute("UPDATE themes SET status = 'discarded' WHERE id = ?", (theme.id,))
        _touch(store, theme.id)
        store.log_event("theme.discarded", {"ids": [theme.id], "from_ids": [], "theme": theme.name,
                                            "previous_status": theme.status, "codes": theme.codes,
                                            "reason": reason, "after": theme_rows(store, [theme.id])}, coder)
        return get_theme(store, theme.name, allow_discarded=True)


def merge(store: Store, names: list[str], into: str, coder: str | None, reason: str | None = None) -> ThemeRecord:
    """Merge themes: ``into`` (one of them, or a new name) receives the union of their codes;
    the others are discarded with a pointer to where they went."""
    with store.transaction():
        sources = [get_theme(store, n) for n in names]
        existing = store.conn.execute("SELECT name FROM themes WHERE name = ? COLLATE NOCASE AND status != 'discarded'",
                                      (into.strip(),)).fetchone()
        if existing is not None and all(fold(t.name) != fold(existing["name"]) for t in sources):
            sources.append(get_theme(store, existing["name"]))  # merging into an existing theme
        sources = list({t.id: t for t in sources}.values())
        if len(sources) < 2:
            raise RtaError("merging needs at least two themes", hint="rta themes merge A B --into NAME")
        codes = sort_no({c for t in sources for c in t.codes})
        target = next((t for t in sources if fold(t.name) == fold(into)), None)
        if target is None:
            into = _check_new_name(store, into)
            origins = {t.origin for t in sources}
            target_id = _insert(store, into, "", "", origins.pop() if len(origins) == 1 else "inductive",
                                "candidate", "merge", codes)
        else:
            target_id = target.id
            _set_codes(store, target_id, codes)
            _touch(store, target_id)
        merged = [t for t in sources if t.id != target_id]
        for t in merged:
            store.conn.execute("UPDATE themes SET status = 'discarded' WHERE id = ?", (t.id,))
            _touch(store, t.id)
        result = store.conn.execute("SELECT name FROM themes WHERE id = ?", (target_id,)).fetchone()["name"]
        store.log_event("theme.merged", {"ids": [target_id, *[t.id for t in merged]],
                                         "from_ids": [t.id for t in sources if t.id != target_id],
                                         "theme": result, "sources": [t.name for t in sources],
                                         "codes": codes, "reason": reason,
                                         "after": theme_rows(store, [target_id, *[t.id for t in merged]])}, coder)
        return get_theme(store, result)


def split(store: Store, name: str, parts: dict[str, list[str]], coder: str | None, keep: bool = False,
          reason: str | None = None) -> list[ThemeRecord]:
    """Split a theme into new themes, each taking some of its codes. The original is discarded
    unless ``keep`` (then it keeps the codes not given to a part)."""
    with store.transaction():
        theme = get_theme(store, name)
        if len(parts) < (1 if keep else 2):
            raise RtaError("a split needs at least two parts (or one with --keep)",
                           hint="rta themes split NAME --part 'Ny A=Tid,Rom' --part 'Ny B=Tillit'")
        made: list[int] = []
        given: set[str] = set()
        resolved: dict[str, list[str]] = {}
        for part, codes in parts.items():
            codes = check_codes(store, codes)
            outside = [c for c in codes if c not in theme.codes]
            if outside:
                raise RtaError(f"part '{part}': {', '.join(outside)} is not in theme '{theme.name}'",
                               hint="its codes: " + ", ".join(theme.codes))
            part_name = _check_new_name(store, part)
            made.append(_insert(store, part_name, "", "", theme.origin, "candidate", "split", codes))
            resolved[part_name] = codes
            given |= set(codes)
        if keep:
            store.conn.executemany("DELETE FROM theme_codes WHERE theme_id = ? AND code = ?",
                                   [(theme.id, c) for c in given])
        else:
            store.conn.execute("UPDATE themes SET status = 'discarded' WHERE id = ?", (theme.id,))
        _touch(store, theme.id)
        names = [store.conn.execute("SELECT name FROM themes WHERE id = ?", (i,)).fetchone()[0] for i in made]
        store.log_event("theme.split", {"ids": [theme.id, *made], "from_ids": [theme.id], "theme": theme.name,
                                        "parts": resolved,
                                        "kept": keep, "reason": reason, "after": theme_rows(store, [theme.id, *made])},
                        coder)
        return [get_theme(store, n) for n in names]


@dataclass
class SeedResult:
    """What seeding from the codebook did."""

    added: list[str]
    skipped: list[str]


def from_codebook(store: Store, codebook: Any, coder: str | None) -> SeedResult:
    """Create the codebook's themes (name, definition, concept, origin, status, codes) in the
    store, so phases 3-5 can start from them; themes already present (same name) are skipped."""
    added, skipped = [], []
    with store.transaction():
        for t in codebook.themes:
            exists = store.conn.execute("SELECT 1 FROM themes WHERE name = ? COLLATE NOCASE", (t.name,)).fetchone()
            if exists:
                skipped.append(t.name)
                continue
            status = t.status if t.status in STATUSES else "candidate"
            origin = t.origin if t.origin in ORIGINS else "inductive"
            theme_id = _insert(store, t.name, t.definition or "", t.central_concept or "", origin, status, "codebook",
                               list(dict.fromkeys(t.codes)), parent=t.parent, opposite=t.opposite, guid=t.guid or None)
            theme = get_theme(store, t.name, allow_discarded=True)
            store.log_event("theme.added", {"ids": [theme_id], "from_ids": [], "theme": t.name, "source": "codebook",
                                            "codebook": codebook.name, "codebook_sha256": codebook.sha256,
                                            "snapshot": theme.snapshot(), "after": theme_rows(store, [theme_id])},
                            coder)
            added.append(t.name)
    return SeedResult(added, skipped)


# --------------------------------------------------------------------------------------------
# History


def history(store: Store, name: str) -> list[Event]:
    """Every event in the lineage of a theme: its own, and those of the themes it was merged
    or split from (followed back through ``from_ids``), oldest first."""
    theme = get_theme(store, name, allow_discarded=True)
    events = [e for e in store.events() if e.kind.startswith("theme.")]
    wanted = {theme.id}
    changed = True
    while changed:
        changed = False
        for e in events:
            ids = set(e.payload.get("ids") or [])
            if ids & wanted:
                new = set(e.payload.get("from_ids") or []) - wanted
                if new:
                    wanted |= new
                    changed = True
    return [e for e in events if set(e.payload.get("ids") or []) & wanted]


def describe_event(e: Event) -> str:
    """One line in words for a theme event (for ``rta themes history``)."""
    p = e.details()
    why = f" (why: {p['reason']})" if p.get("reason") else ""
    if e.kind == "theme.added":
        snap = p.get("snapshot") or {}
        return f"added '{p.get('theme')}' from {p.get('source')} with {', '.join(snap.get('codes') or []) or 'no codes'}{why}"
    if e.kind == "theme.assigned":
        return f"'{p.get('theme')}': + {', '.join(p.get('codes') or [])}{why}"
    if e.kind == "theme.unassigned":
        return f"'{p.get('theme')}': - {', '.join(p.get('codes') or [])}{why}"
    if e.kind == "theme.renamed":
        return f"renamed '{p.get('old')}' -> '{p.get('new')}'{why}"
    if e.kind == "theme.defined":
        fields = ", ".join(f"{k}: {v!r}" for k, v in (p.get("new") or {}).items())
        return f"'{p.get('theme')}' defined: {fields}{why}"
    if e.kind == "theme.discarded":
        return f"discarded '{p.get('theme')}' (was {p.get('previous_status')}){why}"
    if e.kind == "theme.merged":
        return f"merged {', '.join(p.get('sources') or [])} into '{p.get('theme')}'{why}"
    if e.kind == "theme.split":
        parts = "; ".join(f"{k} = {', '.join(v)}" for k, v in (p.get("parts") or {}).items())
        return f"split '{p.get('theme')}' into {parts}{' (original kept)' if p.get('kept') else ''}{why}"
    if e.kind == "theme.proposed":
        return f"kept proposal '{p.get('theme')}': {', '.join(p.get('codes') or [])}"
    return f"{e.kind} {p}"


# --------------------------------------------------------------------------------------------
# Proposals from code co-occurrence


@dataclass
class Proposal:
    """A candidate grouping of codes found in the data: a suggestion, never a theme until a
    person keeps it."""

    codes: list[str]
    turns: int  # turns in which at least two of the codes occur together
    cohesion: float  # mean pairwise association (cosine of co-occurrence) inside the group
    existing: list[str]  # project themes that already hold most of these codes

    @property
    def label(self) -> str:
        return " + ".join(self.codes[:3]) + (" …" if len(self.codes) > 3 else "")


def cooccurrence(store: Store) -> tuple[list[str], Any, list[set[str]]]:
    """Codes, their co-occurrence matrix (turns coded with both; diagonal: turns with the code)
    and the per-turn code sets, from active codings only."""
    import numpy as np

    units: dict[tuple, set[str]] = {}
    for r in store.conn.execute("SELECT transcript_id, revision, turn_n, code FROM codings WHERE status = 'active' "
                                "AND turn_n IS NOT NULL"):
        units.setdefault((r[0], r[1], r[2]), set()).add(r[3])
    codes = sort_no({c for s in units.values() for c in s})
    index = {c: i for i, c in enumerate(codes)}
    m = np.zeros((len(codes), len(codes)), dtype=float)
    for s in units.values():
        idx = [index[c] for c in s]
        for i in idx:
            for j in idx:
                m[i, j] += 1
    return codes, m, list(units.values())


def propose(store: Store, threshold: float = 0.25, min_turns: int = 2) -> list[Proposal]:
    """Group codes that tend to be coded in the same turns: average-linkage agglomerative
    clustering on the cosine association of the co-occurrence matrix, stopping when the best
    remaining link falls below ``threshold``. Groups of one code, or resting on fewer than
    ``min_turns`` shared turns, are dropped."""
    import numpy as np

    codes, m, units = cooccurrence(store)
    if len(codes) < 2:
        return []
    diag = np.sqrt(np.diag(m))
    sim = m / np.outer(diag, diag)
    np.fill_diagonal(sim, 0.0)
    clusters: list[list[int]] = [[i] for i in range(len(codes))]
    while len(clusters) > 1:
        best, pair = -1.0, None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                link = float(sim[np.ix_(clusters[a], clusters[b])].mean())
                if link > best:
                    best, pair = link, (a, b)
        if pair is None or best < threshold:
            break
        a, b = pair
        clusters[a] = clusters[a] + clusters[b]
        del clusters[b]
    themes = list_themes(store)
    out: list[Proposal] = []
    for cl in clusters:
        if len(cl) < 2:
            continue
        names = sort_no(codes[i] for i in cl)
        members = set(names)
        shared = sum(1 for s in units if len(s & members) >= 2)
        if shared < min_turns:
            continue
        sub = sim[np.ix_(cl, cl)]
        cohesion = float(sub.sum() / (len(cl) * (len(cl) - 1)))
        existing = [t.name for t in themes if len(members & set(t.codes)) * 2 > len(members)]
        out.append(Proposal(names, shared, round(cohesion, 3), existing))
    out.sort(key=lambda p: (-p.turns, -p.cohesion, p.codes))
    return out


def keep_proposal(store: Store, proposal: Proposal, name: str, coder: str | None) -> ThemeRecord:
    """Keep a proposal as a candidate theme (source 'proposed'): the researcher's decision."""
    with store.transaction():
        name = _check_new_name(store, name)
        theme_id = _insert(store, name, "", "", "inductive", "candidate", "proposed", proposal.codes)
        store.log_event("theme.proposed", {"ids": [theme_id], "from_ids": [], "theme": name, "codes": proposal.codes,
                                           "turns": proposal.turns, "cohesion": proposal.cohesion,
                                           "after": theme_rows(store, [theme_id])}, coder)
        return get_theme(store, name)


# --------------------------------------------------------------------------------------------
# Review


@dataclass
class ThemeReview:
    """How well the data support a theme, and what to look at."""

    theme: ThemeRecord
    codings: int
    informants: list[str]
    roles: list[str]
    groups: list[str]
    spread: str
    codes_without_codings: list[str]
    overlap: dict[str, int]  # other theme -> codings shared
    flags: list[str]


@dataclass
class Review:
    """The review of all active themes plus project-wide flags."""

    themes: list[ThemeReview]
    codes_in_no_theme: list[str]
    used_codes_in_no_theme: list[str]
    total_informants: int
    total_groups: int
    total_roles: int


def _coding_speakers(store: Store) -> list[sqlite3.Row]:
    return store.conn.execute(
        "SELECT c.id, c.code, t.informant, t.role, t.grp FROM codings c LEFT JOIN turns t ON "
        "t.transcript_id = c.transcript_id AND t.revision = c.revision AND t.n = c.turn_n WHERE c.status = 'active'"
    ).fetchall()


def spread_text(n: int, total: int, noun: str, names: list[str] | None = None) -> str:
    """'9 of 15 informants', 'all 4 groups', '2 of 4 groups (kommune 1, kommune 2)'."""
    if total and n == total:
        return f"all {total} {noun}"
    text = f"{n} of {total} {noun}"
    if names and n and len(names) <= 4:
        text += f" ({', '.join(names)})"
    return text


def review(store: Store, registry: Any) -> Review:
    """Per theme: its codings, the informants, roles and groups behind them, its overlap with
    other themes and flags (one informant, one role, no definition, codes without codings)."""
    themes = list_themes(store)
    rows = _coding_speakers(store)
    by_code: dict[str, list[sqlite3.Row]] = {}
    for r in rows:
        by_code.setdefault(r["code"], []).append(r)
    informant_codes = [i.code for i in registry.informants]
    all_groups = sort_no({i.group for i in registry.informants if i.group})
    role_order = registry.role_order()
    coding_sets: dict[int, set[int]] = {}
    reviews: list[ThemeReview] = []
    for t in themes:
        rs = [r for c in t.codes for r in by_code.get(c, [])]
        coding_sets[t.id] = {r["id"] for r in rs}
        infs = {r["informant"] for r in rs if r["informant"]}
        informants = [c for c in informant_codes if c in infs] + sort_no(infs - set(informant_codes))
        roles = [k for k in role_order if k in {r["role"] for r in rs}]
        groups = sort_no({r["grp"] for r in rs if r["grp"]})
        spread = ", ".join([
            spread_text(len(informants), len(informant_codes), "informants"),
            spread_text(len(groups), len(all_groups), "groups", groups),
            spread_text(len(roles), len(role_order), "roles", [registry.role_name(k) for k in roles]),
        ])
        flags: list[str] = []
        if not t.codes:
            flags.append("no codes")
        if not rs:
            flags.append("no codings")
        elif len(informants) == 1:
            flags.append(f"rests on one informant ({informants[0]})")
        elif len(roles) == 1:
            flags.append(f"rests on one role ({registry.role_name(roles[0])})")
        if not t.definition.strip():
            flags.append("no definition")
        if not t.central_concept.strip():
            flags.append("no central organising concept")
        empty = [c for c in t.codes if c not in by_code]
        reviews.append(ThemeReview(t, len(rs), informants, roles, groups, spread, empty, {}, flags))
    for rv in reviews:
        mine = coding_sets[rv.theme.id]
        for other in reviews:
            if other is rv:
                continue
            shared = len(mine & coding_sets[other.theme.id])
            if shared:
                rv.overlap[other.theme.name] = shared
    themed = {c for t in themes for c in t.codes}
    latest = [r[0] for r in store.conn.execute(
        "SELECT name FROM codes WHERE codebook_version = (SELECT MAX(id) FROM codebook_versions)")]
    return Review(reviews, sort_no(set(latest) - themed), sort_no(set(by_code) - themed),
                  len(informant_codes), len(all_groups), len(role_order))
