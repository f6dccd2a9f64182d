"""Memos and the reflexive journal.

Reflexive TA treats the researcher's reading as a resource, so the thinking behind codes and
themes is kept next to them: memos on a coding, a code, a theme or a transcript, and journal
entries about the analysis as a whole. Each is stamped with the analysis phase (Braun &
Clarke's six) current when it was written, and logged as an audit event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rta.errors import RtaError
from rta.store import Store, now

TARGET_KINDS = ("coding", "code", "theme", "transcript")


def _phase_heading(number: int | None) -> str:
    """'Fase 3: konstruere tema', from the one list of phases in :mod:`rta.phases`."""
    from rta.phases import PHASES

    if number is not None and 1 <= number <= len(PHASES):
        name = PHASES[number - 1].name
        return f"Fase {number}: {name[0].lower()}{name[1:]}"
    return f"Fase {number}"


@dataclass
class Memo:
    """One memo or journal entry (``target_kind`` 'journal' has no target)."""

    id: int
    target_kind: str
    target: str | None
    text: str
    phase: int | None
    coder: str | None
    created: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_target(spec: str) -> tuple[str, str]:
    """``coding:12`` -> ('coding', '12'); a clear error for anything else."""
    kind, sep, target = spec.partition(":")
    kind, target = kind.strip().lower(), target.strip()
    if not sep or kind not in TARGET_KINDS or not target:
        raise RtaError(
            f"cannot read memo target '{spec}'",
            hint="use --on coding:ID, code:NAME, theme:NAME or transcript:ID",
        )
    return kind, target


def _check_target(store: Store, kind: str, target: str) -> str:
    """The target as stored (canonical code/theme spelling); error if it does not exist."""
    if kind == "coding":
        if not target.isdigit() or store.conn.execute("SELECT 1 FROM codings WHERE id=?", (int(target),)).fetchone() is None:
            raise RtaError(f"no coding with id {target}", hint="see 'rta codings'")
        return str(int(target))
    if kind == "transcript":
        if store.transcript_row(target) is None:
            raise RtaError(f"no transcript '{target}' in this project", hint="see 'rta transcripts'")
        return target
    if kind == "code":
        row = store.conn.execute(
            "SELECT name FROM codes WHERE name = ? COLLATE NOCASE ORDER BY codebook_version DESC LIMIT 1", (target,)
        ).fetchone()
        if row is None:
            raise RtaError(f"no code '{target}' in any imported codebook version", hint="see 'rta codebook show'")
        return str(row["name"])
    # theme: a project theme or one of the latest codebook's themes
    row = store.conn.execute("SELECT name FROM themes WHERE name = ? COLLATE NOCASE", (target,)).fetchone()
    if row is not None:
        return str(row["name"])
    from rta.coding import theme_map

    names = {t for ts in theme_map(store).values() for t in ts}
    for name in names:
        if name.casefold() == target.casefold():
            return name
    raise RtaError(f"no theme '{target}' in this project or its codebook", hint="see 'rta themes'")


def add_memo(store: Store, kind: str, target: str | None, text: str, coder: str | None) -> Memo:
    """Write a memo on a coding/code/theme/transcript, or a journal entry (``kind`` 'journal'),
    stamped with the current phase. Inside a transaction."""
    if not text.strip():
        raise RtaError("the memo is empty", hint="write the memo text after the options")
    if kind == "journal":
        target = None
    elif kind in TARGET_KINDS and target is not None:
        target = _check_target(store, kind, target)
    else:
        raise RtaError(f"unknown memo target kind '{kind}'", hint="use coding, code, theme, transcript or journal")
    phase = store.phase()
    created = now()
    cur = store.conn.execute(
        "INSERT INTO memos(target_kind, target, text, phase, coder, created) VALUES (?,?,?,?,?,?)",
        (kind, target, text, phase, coder, created),
    )
    memo = Memo(int(cur.lastrowid), kind, target, text, phase, coder, created)
    store.log_event("journal.added" if kind == "journal" else "memo.added",
                    {"memo": memo.id, "on": kind, "target": target, "text": text}, coder)
    return memo


def list_memos(store: Store, kind: str | None = None, target: str | None = None) -> list[Memo]:
    """Memos and journal entries, oldest first; filter by target kind and target."""
    sql, args = "SELECT * FROM memos WHERE 1=1", []
    if kind:
        sql += " AND target_kind = ?"
        args.append(kind)
    if target:
        sql += " AND target = ?"
        args.append(target)
    return [Memo(r["id"], r["target_kind"], r["target"], r["text"], r["phase"], r["coder"], r["created"])
            for r in store.conn.execute(sql + " ORDER BY created, id", args)]


def memos_markdown(store: Store, title: str = "Memoer og refleksiv logg") -> str:
    """All memos as Markdown: the journal first (by phase), then memos grouped by what they
    are about; a coding memo shows the quote it is about."""
    from rta.norsk import sort_no

    memos = list_memos(store)
    lines = [f"# {title}", ""]
    journal = [m for m in memos if m.target_kind == "journal"]
    if journal:
        lines += ["## Refleksiv logg", ""]
        for phase in sorted({m.phase or 0 for m in journal}):
            lines += [f"### {_phase_heading(phase)}", ""]
            for m in (m for m in journal if (m.phase or 0) == phase):
                lines += [f"**{m.created}** ({m.coder or 'ukjent'})", "", m.text.strip(), ""]
    headings = {"code": "Memoer om koder", "theme": "Memoer om tema", "transcript": "Memoer om transkripsjoner",
                "coding": "Memoer om kodinger"}
    for kind in ("code", "theme", "transcript", "coding"):
        group = [m for m in memos if m.target_kind == kind]
        if not group:
            continue
        lines += [f"## {headings[kind]}", ""]
        targets = sort_no({m.target or "" for m in group}) if kind != "coding" else sorted(
            {m.target or "0" for m in group}, key=int)
        for target in targets:
            lines += [f"### {_heading(store, kind, target)}", ""]
            if kind == "coding":
                quote = _coding_quote(store, int(target))
                if quote:
                    lines += ["> " + quote.replace("\n", "\n> "), ""]
            for m in (m for m in group if m.target == target):
                lines += [f"**{m.created}**, fase {m.phase} ({m.coder or 'ukjent'}): {m.text.strip()}", ""]
    if len(lines) == 2:
        lines += ["Ingen memoer ennå.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _heading(store: Store, kind: str, target: str) -> str:
    if kind == "coding":
        row = store.conn.execute("SELECT code, transcript_id, line_start, line_end FROM codings WHERE id=?",
                                 (int(target),)).fetchone()
        if row:
            return f"Koding {target}: {row['code']}, {row['transcript_id']} linje {row['line_start']}-{row['line_end']}"
        return f"Koding {target}"
    return target


def _coding_quote(store: Store, coding_id: int) -> str | None:
    row = store.conn.execute("SELECT transcript_id, revision, start, end FROM codings WHERE id=?", (coding_id,)).fetchone()
    if row is None:
        return None
    return store.transcript_text(row["transcript_id"], row["revision"])[row["start"]:row["end"]]
