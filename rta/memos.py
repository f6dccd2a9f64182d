"""Memos and the reflexive journal.

Reflexive TA treats the researcher's reading as a resource, so the thinking behind codes and
themes is kept next to them: memos on a coding, a code, a theme or a transcript, and journal
entries about the analysis as a whole. Each is stamped with the analysis phase (Braun &
Clarke's six) current when it was written, and logged as an audit event.

Memos live in three places: the ``memos`` table (``rta memo add``, ``rta journal add``,
familiarisation notes), ``codings.memo`` (``rta code --memo``, and a review memo carried into the
coding it became) and ``suggestion.memo`` events (a memo typed in ``rta review``).
:func:`all_memos` reads all three; every listing uses it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rta.errors import RtaError
from rta.fsutil import sha256_text
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


def add_memo(store: Store, kind: str, target: str | None, text: str, coder: str | None,
             imported: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Memo:
    """Write a memo on a coding/code/theme/transcript, or a journal entry (``kind`` 'journal'),
    stamped with the current phase. Inside a transaction. ``imported`` (``rta import-qdpx``):
    ``{"coder": ..., "created": ...}`` of a note written in another tool, kept on the row; the
    event is ``coder``'s, who imported it. ``extra`` goes into the logged event (where the memo
    came from, e.g. a comment in a reviewed Word report)."""
    if not text.strip():
        raise RtaError("the memo is empty", hint="write the memo text after the options")
    if kind == "journal":
        target = None
    elif kind in TARGET_KINDS and target is not None:
        target = _check_target(store, kind, target)
    else:
        raise RtaError(f"unknown memo target kind '{kind}'", hint="use coding, code, theme, transcript or journal")
    phase = store.phase()
    imported = {k: v for k, v in (imported or {}).items() if v is not None}
    created = imported.get("created") or now()
    author = imported.get("coder") or coder
    cur = store.conn.execute(
        "INSERT INTO memos(target_kind, target, text, phase, coder, created) VALUES (?,?,?,?,?,?)",
        (kind, target, text, phase, author, created),
    )
    memo = Memo(int(cur.lastrowid), kind, target, text, phase, author, created)
    payload = {"memo": memo.id, "on": kind, "target": target, "text_sha256": sha256_text(text), **(extra or {})}
    if imported:
        payload["imported"] = imported
    store.log_event("journal.added" if kind == "journal" else "memo.added", payload, coder)
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


@dataclass
class MemoEntry:
    """One memo wherever it is stored, with what it is attached to.

    ``source`` says where it lives: 'memo' (the memos table: ``rta memo add``, ``rta journal
    add``, familiarisation notes), 'coding' (``codings.memo``: ``rta code --memo``, or a review
    memo carried into the coding when the suggestion was accepted or recoded) or 'review' (a
    memo written with 'm' in ``rta review`` on a suggestion that has no coding carrying it: an
    event in the log). ``id`` is the memo id, the coding id or the event's seq respectively.
    ``target_kind`` is journal, coding, code, theme, transcript or suggestion; ``about`` says in
    words what it is attached to ('coding:12 Tid, k1-skoleeier:40-44')."""

    source: str
    id: int
    target_kind: str
    target: str | None
    about: str
    text: str
    phase: int | None
    coder: str | None
    created: str
    status: str | None = None  # the coding's or suggestion's status
    written_with: str = ""      # 'memo' (memo add, familiarise --note), 'journal', 'code --memo', 'review'

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coding_about(row: Any) -> str:
    extra = "" if row["status"] == "active" else f" [{row['status']}]"
    lines = f"{row['line_start']}" + (f"-{row['line_end']}" if row["line_end"] != row["line_start"] else "")
    return f"coding:{row['id']} {row['code']}, {row['transcript_id']}:{lines}{extra}"


def _suggestion_about(row: Any) -> str:
    extra = "" if row["status"] == "suggested" else f" [{row['status']}]"
    lines = f"{row['line_start']}" + (f"-{row['line_end']}" if row["line_end"] != row["line_start"] else "")
    return f"suggestion:{row['id']} {row['code']}, {row['transcript_id']}:{lines}{extra}"


def all_memos(store: Store) -> list[MemoEntry]:
    """Every memo in the project, oldest first: the memos table (journal entries too), memos
    stored on codings, and review memos on suggestions, each with what it is attached to. The
    one listing behind ``rta memos`` (table, json), its Markdown export and the report's memo
    appendix. A review memo withdrawn with undo is left out; one carried into a coding is listed
    once, on the coding."""
    codings = {r["id"]: r for r in store.conn.execute(
        "SELECT id, transcript_id, line_start, line_end, code, status, origin, suggestion_id, memo, coder, created "
        "FROM codings")}
    suggestions = {r["id"]: r for r in store.conn.execute(
        "SELECT id, transcript_id, line_start, line_end, code, status, coding_id FROM suggestions")}
    # event seq (the true order of decisions) and phase of what was logged
    memo_seq: dict[int, int] = {}
    coding_event: dict[int, tuple[int, int | None]] = {}
    for e in store.conn.execute(
            "SELECT seq, phase, kind, json_extract(payload, '$.memo') AS memo, json_extract(payload, '$.coding') AS coding "
            "FROM events WHERE kind IN ('memo.added', 'journal.added') "
            "OR (kind = 'coding.added' AND COALESCE(json_extract(payload, '$.memo'), "
            "json_extract(payload, '$.memo_sha256')) IS NOT NULL)"):
        if e["kind"] == "coding.added":
            if isinstance(e["coding"], int):
                coding_event[e["coding"]] = (e["seq"], e["phase"])
        elif isinstance(e["memo"], int):
            memo_seq[e["memo"]] = e["seq"]

    entries: list[tuple[tuple[str, int], MemoEntry]] = []
    last = 1 << 62
    for r in store.conn.execute("SELECT * FROM memos"):
        kind, target = r["target_kind"], r["target"]
        status = None
        if kind == "coding" and target and target.isdigit() and int(target) in codings:
            about = _coding_about(codings[int(target)])
            status = codings[int(target)]["status"]
        elif kind == "journal":
            about = "journal"
        else:
            about = f"{kind}:{target}" if target else kind
        entries.append(((r["created"], memo_seq.get(r["id"], last)), MemoEntry(
            "memo", r["id"], kind, target, about, r["text"], r["phase"], r["coder"], r["created"], status,
            "journal" if kind == "journal" else "memo")))
    for c in codings.values():
        if not (c["memo"] or "").strip():
            continue
        seq, phase = coding_event.get(c["id"], (last, None))
        entries.append(((c["created"], seq), MemoEntry(
            "coding", c["id"], "coding", str(c["id"]), _coding_about(c), c["memo"], phase, c["coder"], c["created"],
            c["status"], "review" if c["suggestion_id"] is not None else "code --memo")))
    withdrawn = {r[0] for r in store.conn.execute(
        "SELECT json_extract(payload, '$.undoes') FROM events WHERE kind = 'suggestion.undone'")}
    redacted_codings = {r[0] for r in store.conn.execute(
        "SELECT json_extract(payload, '$.id') FROM events WHERE kind = 'text.redacted' "
        "AND json_extract(payload, '$.table') = 'codings'")}
    for e in store.conn.execute(
            "SELECT seq, ts, coder, phase, json_extract(payload, '$.suggestion') AS sid, "
            "COALESCE((SELECT text FROM event_texts t WHERE t.seq = events.seq AND t.field = 'text'), "
            "json_extract(payload, '$.text')) AS text FROM events WHERE kind = 'suggestion.memo' ORDER BY seq"):
        if e["seq"] in withdrawn or not (e["text"] or "").strip():
            continue
        sug = suggestions.get(e["sid"])
        if sug is not None and sug["coding_id"] in codings and (
                codings[sug["coding_id"]]["memo"] == e["text"] or sug["coding_id"] in redacted_codings):
            continue  # carried into the coding: listed there (also when the coding's memo was redacted)
        about = _suggestion_about(sug) if sug is not None else f"suggestion:{e['sid']}"
        entries.append(((e["ts"], e["seq"]), MemoEntry(
            "review", e["seq"], "suggestion", str(e["sid"]), about, e["text"], e["phase"], e["coder"], e["ts"],
            sug["status"] if sug is not None else None, "review")))
    entries.sort(key=lambda item: item[0])
    return [entry for _, entry in entries]


def memos_table(entries: list[MemoEntry], width: int = 80) -> list[str]:
    """One line per memo for the terminal: when, phase, what it is attached to, who, the text
    (shortened to ``width`` characters, whitespace flattened)."""
    lines = []
    for m in entries:
        text = " ".join(m.text.split())
        if len(text) > width:
            text = text[: width - 1] + "…"
        ref = f"#{m.id}" if m.source == "memo" else f"({m.written_with})"
        lines.append(f"{ref} {m.created} phase {m.phase if m.phase is not None else '-'} {m.about} "
                     f"({m.coder or '-'}): {text}")
    return lines


def memos_markdown(store: Store, title: str = "Memoer og refleksiv logg") -> str:
    """All memos (:func:`all_memos`) as Markdown: the journal first (by phase), then memos
    grouped by what they are about; a coding or suggestion memo shows the quote it is about.
    Every text from memos, codes and transcripts is escaped with :func:`rta.report_render.md_escape`,
    so no memo becomes raw HTML or a link."""
    from rta.norsk import sort_no
    from rta.report_render import md_escape, md_quote

    memos = all_memos(store)
    lines = [f"# {md_escape(title)}", ""]
    journal = [m for m in memos if m.target_kind == "journal"]
    if journal:
        lines += ["## Refleksiv logg", ""]
        for phase in sorted({m.phase or 0 for m in journal}):
            lines += [f"### {_phase_heading(phase)}", ""]
            for m in (m for m in journal if (m.phase or 0) == phase):
                lines += [f"**{md_escape(m.created)}** ({md_escape(m.coder or 'ukjent')})", "", md_escape(m.text.strip()), ""]
    headings = {"code": "Memoer om koder", "theme": "Memoer om tema", "transcript": "Memoer om transkripsjoner",
                "coding": "Memoer om kodinger", "suggestion": "Memoer om forslag (fra gjennomgangen)"}
    for kind in ("code", "theme", "transcript", "coding", "suggestion"):
        group = [m for m in memos if m.target_kind == kind]
        if not group:
            continue
        lines += [f"## {headings[kind]}", ""]
        if kind in ("coding", "suggestion"):
            targets = sorted({m.target or "0" for m in group}, key=lambda t: int(t) if t.isdigit() else 0)
        else:
            targets = sort_no({m.target or "" for m in group})
        for target in targets:
            lines += [f"### {md_escape(_heading(store, kind, target))}", ""]
            if kind in ("coding", "suggestion") and target.isdigit():
                quote = _span_quote(store, "codings" if kind == "coding" else "suggestions", int(target))
                if quote:
                    lines += ["> " + md_quote(quote), ""]
            for m in (m for m in group if m.target == target):
                how = " (ved koding)" if m.written_with == "code --memo" else (
                    " (i gjennomgangen)" if m.written_with == "review" else "")
                phase = f"fase {m.phase}" if m.phase is not None else "fase ukjent"
                lines += [f"**{md_escape(m.created)}**, {phase} ({md_escape(m.coder or 'ukjent')}){how}: "
                          f"{md_escape(m.text.strip())}", ""]
    if len(lines) == 2:
        lines += ["Ingen memoer ennå.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _heading(store: Store, kind: str, target: str) -> str:
    if kind in ("coding", "suggestion") and target.isdigit():
        table, label = ("codings", "Koding") if kind == "coding" else ("suggestions", "Forslag")
        row = store.conn.execute(f"SELECT code, transcript_id, line_start, line_end, status FROM {table} WHERE id=?",
                                 (int(target),)).fetchone()
        if row:
            status = {"removed": " (fjernet)", "orphaned": " (foreldreløs)", "accepted": " (akseptert)",
                      "rejected": " (avvist)"}.get(row["status"], "")
            return (f"{label} {target}: {row['code']}, {row['transcript_id']} linje "
                    f"{row['line_start']}-{row['line_end']}{status}")
        return f"{label} {target}"
    return target


def _span_quote(store: Store, table: str, row_id: int) -> str | None:
    """The text a coding or suggestion points at (its own revision)."""
    row = store.conn.execute(f"SELECT transcript_id, revision, start, end FROM {table} WHERE id=?", (row_id,)).fetchone()
    if row is None:
        return None
    return store.transcript_text(row["transcript_id"], row["revision"])[row["start"]:row["end"]]
