"""What a report (phase 6) says: themes with their quotes by role, and its audit appendix.

Data flows one way: :func:`collect` reads the store into the plain dataclasses here (only
*active* codings, i.e. decisions a person made or accepted);
:func:`rta.report_render.render` passes them to Jinja templates
(``templates/report.html.j2`` and ``report.md.j2``, overridable with ``--template DIR``),
which never query anything; :func:`rta.report_build.build_report` audits the project,
renders, writes the files and logs the build.

Every quote in the HTML is a ``<blockquote class="quote">`` carrying the transcript, revision,
offsets, SHA-256 and coding id of its text, and its ``<p class="quote-text">`` holds exactly
``text[start:end]`` (escaped), so ``rta audit --report FILE`` can re-check a report that was
shared and perhaps edited.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from rta.errors import RtaError
from rta.norsk import fold, sort_no
from rta.fsutil import sha256_text
from rta.store import Store, log_head, now

NO_ROLE = "(uten rolle)"


# --------------------------------------------------------------------------------------------
# The data a template sees


@dataclass
class Quote:
    """One passage shown under one theme: the accepted codings of the theme's codes whose spans
    overlap inside one turn, as one extract listing all their codes (never one block per code)."""

    coding_id: int  # the first of its codings (the anchor's id)
    anchor: str  # the blockquote id: q-CODINGID-THEMESLUG
    transcript_id: str
    revision: int
    start: int  # the passage: from the first coding's start to the last one's end
    end: int
    line_start: int
    line_end: int
    sha256: str  # of text[start:end] as the transcript has it
    text: str  # exactly text[start:end]
    codes: list[str]
    label: str  # the informant code as published ('S1'), or the speaker as written
    informant: str | None
    role: str | None
    role_name: str
    group: str | None
    context: str  # anchor of the passage inside its turn in the transcript appendix (ctx-ANCHOR)
    origin: str  # 'manual', 'suggested' (accepted suggestions) or 'mixed'
    superseded_by: int | None = None  # the transcript's current revision when the quote is from an older one
    coding_ids: list[int] = field(default_factory=list)
    turn_n: int | None = None
    note: str | None = None  # why it was featured (rta feature --note)

    @property
    def code(self) -> str:
        return ", ".join(self.codes)

    @property
    def codings(self) -> str:
        """The coding ids as the report carries them (``data-coding``): '12' or '12 15'."""
        return " ".join(str(i) for i in self.coding_ids or [self.coding_id])

    @property
    def flow(self) -> str:
        return flow(self.text)


@dataclass
class RoleQuotes:
    """The quotes of one role under one theme (roles in the registry's order). Featured
    extracts are one group with no role (``role`` None): they keep the researcher's order."""

    role: str | None
    name: str
    quotes: list[Quote]
    informants: list[str]


AUTO_PICK = 5  # extracts per role a theme section shows when none are featured


def auto_pick(quotes: list[Quote], limit: int = AUTO_PICK) -> list[Quote]:
    """The extracts a theme section shows for one role when the researcher featured none:
    up to ``limit``, spread over the informants (one from each informant in the registry's
    order, then a second from each, ...), never two from the same turn; within an informant
    the passage with the most codes of the theme first, then the earliest. Kept in the role's
    order."""
    by_informant: dict[str, list[Quote]] = {}
    for q in quotes:
        by_informant.setdefault(q.informant or q.label, []).append(q)
    queues = [sorted(qs, key=lambda q: (-len(q.codes), q.transcript_id, q.start)) for qs in by_informant.values()]
    picked: list[Quote] = []
    turns: set[tuple] = set()
    while len(picked) < limit:
        progress = False
        for queue in queues:
            while queue and _turn_of(queue[0]) in turns:
                queue.pop(0)
            if queue and len(picked) < limit:
                q = queue.pop(0)
                picked.append(q)
                turns.add(_turn_of(q))
                progress = True
        if not progress:
            break
    chosen = {id(q) for q in picked}
    return [q for q in quotes if id(q) in chosen]


def _turn_of(q: Quote) -> tuple:
    return (q.transcript_id, q.revision, q.turn_n if q.turn_n is not None else f"@{q.start}")


@dataclass
class ThemeSection:
    """One theme as the report presents it."""

    name: str
    slug: str
    definition: str
    central_concept: str
    origin: str
    origin_label: str
    status: str
    status_label: str
    opposite: str | None
    codes: list[str]
    roles: list[RoleQuotes]  # every extract of the theme, by role
    quotes: int
    informants: list[str]
    spread: str
    shown: list[RoleQuotes] = field(default_factory=list)  # the extracts the section shows
    others: list[RoleQuotes] = field(default_factory=list)  # the rest: the appendix of all extracts
    selection: str = "none"  # 'featured' (rta feature), 'auto' (auto_pick) or 'none' (no extracts)
    narrative: list[Any] = field(default_factory=list)  # the theme's memos (rta.memos.MemoEntry)


@dataclass
class Cell:
    """A matrix cell: codings and distinct informants."""

    codings: int
    informants: int


@dataclass
class MatrixRow:
    theme: str
    slug: str
    cells: list[Cell]
    total: Cell


@dataclass
class Matrix:
    """Theme x role or theme x group counts."""

    title: str
    columns: list[str]
    rows: list[MatrixRow]


@dataclass
class NeverQuoted:
    """An informant no quote in the report comes from."""

    code: str
    role_name: str
    group: str | None
    words: int  # words spoken in the transcripts (0: not interviewed in this material)


@dataclass
class Segment:
    """A stretch of a context turn's text: inside an extract (``marked``) or not, with the
    anchors of the extracts that start where it starts."""

    text: str
    marked: bool
    anchors: list[str] = field(default_factory=list)


@dataclass
class ContextTurn:
    """A turn in the transcript appendix, its extracts highlighted, with links back to them."""

    n: int
    anchor: str
    speaker: str
    is_interviewer: bool
    line_start: int
    line_end: int
    text: str
    quotes: list[tuple[str, str, str]]  # (quote anchor, theme name, informant label)
    gap_before: bool
    segments: list[Segment] = field(default_factory=list)


@dataclass
class ContextTranscript:
    id: str
    anchor: str
    revision: int
    turns: list[ContextTurn]
    superseded_by: int | None = None  # the current revision when this one is superseded


@dataclass
class AuditInfo:
    """The audit appendix: how the report can be traced and checked."""

    codebook_name: str | None
    codebook_version: int | None
    codebook_sha256: str | None
    codebook_versions_used: list[int]
    pipelines: list[tuple[str, int]]
    coders: list[tuple[str, int]]
    suggestions: dict[str, int]
    codings_by_origin: dict[str, int]
    audit_ok: bool
    audit_summary: str
    audit_failures: list[str]
    built: str
    rta_version: str
    phase: int
    themes_source: str
    # transcript id -> likely identifiers still in its current revision (rta anonymise check
    # with patterns and lists); None when the check was not run
    anonymisation: list[tuple[str, int]] | None = None
    # the log's head (SEQ:HASH) when the report was built: kept outside the project, it lets
    # 'rta audit --since-report FILE' detect a log cut off or rewritten since (rta.checkpoint)
    log_head: str = ""


@dataclass
class ReportData:
    """Everything a report template renders."""

    title: str
    project: str
    built: str
    unverified: bool
    filters: dict[str, str]
    themes: list[ThemeSection]
    role_matrix: Matrix
    group_matrix: Matrix
    never_quoted: list[NeverQuoted]
    codes_never_used: list[str]
    codes_in_no_theme: list[str]
    transcripts: list[ContextTranscript]
    audit: AuditInfo
    total_quotes: int
    total_codings: int
    informants_quoted: int
    informants_total: int
    # every memo, wherever stored (rta.memos.all_memos): the memo appendix
    memos: list[Any] = field(default_factory=list)
    # names this build in the file and in its 'report.built' event, so `rta audit --report`
    # finds the record of a report that was moved or renamed (rta.receipts)
    build_id: str = ""
    auto_pick: int = AUTO_PICK
    lang: str = "nb"  # the language of its fixed text (rta.report_text)
    figures: list[Any] = field(default_factory=list)  # rta.figures.Figure: thematic map, heat map, coverage
    code_counts: dict[str, int] = field(default_factory=dict)  # active codings per code (the map's sizes)
    informant_order: list[str] = field(default_factory=list)  # the registry's informants (coverage rows)

    def claims(self) -> dict[str, Any]:
        """What the report says about its own build (read back by rta.report_reading.claims):
        the inputs a re-render from the store needs besides the store itself."""
        return {"build": self.build_id, "built": self.built, "rta": self.audit.rta_version, "phase": self.audit.phase,
                "audit_ok": self.audit.audit_ok, "audit": self.audit.audit_summary,
                "failures": list(self.audit.audit_failures), "anonymisation": self.audit.anonymisation,
                "log_head": self.audit.log_head, "theme": self.filters.get("tema"), "role": self.filters.get("rolle"),
                "lang": self.lang, "title": self.title, "figures": bool(self.figures),
                "coder": self.filters.get("koder")}

    def claims_json_plain(self) -> str:
        import json

        return json.dumps(self.claims(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @property
    def claims_json(self) -> str:
        """:meth:`claims` as one line of JSON that holds no <, > or & (safe in an HTML
        attribute and inside an HTML comment)."""
        import json

        text = json.dumps(self.claims(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")


def flow(text: str) -> str:
    """An extract as flowing text: the line breaks inside a paragraph of a turn joined with one
    space (transcripts break lines mid-sentence), paragraph breaks (a blank line) kept as one
    blank line. ``rta audit --report`` checks a shown extract against ``flow`` of its span."""
    paragraphs = []
    for para in _PARAGRAPH.split(text.strip()):
        joined = " ".join(line.strip() for line in para.split("\n") if line.strip())
        if joined:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs)


def passages(rows: list[Any]) -> list[list[Any]]:
    """The codings of one theme grouped into passages: codings in the same turn (same
    transcript revision) whose spans overlap are one passage. Each passage's codings are in
    span order; passages in transcript order."""
    def turn_key(c: Any) -> tuple:
        return (c["transcript_id"], c["revision"], c["turn_n"] if c["turn_n"] is not None else -1)

    out: list[list[Any]] = []
    end = -1
    last: tuple | None = None
    for c in sorted(rows, key=lambda c: (turn_key(c), c["start"], c["end"], c["id"])):
        key = turn_key(c)
        if out and key == last and c["start"] < end:
            out[-1].append(c)
            end = max(end, c["end"])
        else:
            out.append([c])
            last, end = key, c["end"]
    return out


def segments(text: str, offset: int, spans: list[tuple[int, int, str]]) -> list[Segment]:
    """``text`` (which starts at ``offset`` in its transcript) cut where the extract ``spans``
    ((start, end, anchor), transcript offsets) begin and end: each piece marked when an extract
    covers it, each extract's anchor on the piece it starts with."""
    cuts = {0, len(text)}
    for a, b, _ in spans:
        cuts.add(min(max(a - offset, 0), len(text)))
        cuts.add(min(max(b - offset, 0), len(text)))
    points = sorted(cuts)
    out: list[Segment] = []
    for a, b in zip(points, points[1:]):
        marked = any(s - offset <= a and b <= e - offset for s, e, _ in spans)
        anchors = [anchor for s, _, anchor in spans if min(max(s - offset, 0), len(text)) == a]
        out.append(Segment(text[a:b], marked, anchors))
    if not out:
        out.append(Segment(text, False, [anchor for _, _, anchor in spans]))
    return out


def slugify(name: str) -> str:
    """ASCII slug for anchors: 'Kontinuitet/Brudd' -> 'kontinuitet-brudd'."""
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-") or "x"


# --------------------------------------------------------------------------------------------
# Collecting


@dataclass
class _Theme:
    id: int | None
    name: str
    definition: str
    central_concept: str
    origin: str
    status: str
    opposite: str | None
    codes: list[str] = field(default_factory=list)


def _themes(store: Store) -> tuple[list[_Theme], str]:
    """Project themes (creation order, discarded left out); before any exist, the latest
    codebook's themes, so a first report still has structure."""
    rows = store.conn.execute("SELECT * FROM themes WHERE status != 'discarded' ORDER BY id").fetchall()
    total = store.conn.execute("SELECT COUNT(*) FROM themes").fetchone()[0]
    if total:
        out = []
        for r in rows:
            codes = sort_no(c[0] for c in store.conn.execute("SELECT code FROM theme_codes WHERE theme_id=?", (r["id"],)))
            out.append(_Theme(r["id"], r["name"], r["definition"], r["central_concept"], r["origin"], r["status"],
                              r["opposite"], codes))
        return out, "project"
    row = store.conn.execute("SELECT content FROM codebook_versions ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return [], "none"
    from rta.codebook_yaml import parse_codebook

    codebook, _ = parse_codebook(row["content"])
    if codebook is None:
        return [], "none"
    return [_Theme(None, t.name, t.definition, t.central_concept, t.origin, t.status, t.opposite, sort_no(set(t.codes)))
            for t in codebook.themes], "codebook"


def _resolve_role(registry: Any, role: str) -> str:
    key = fold(role)
    for r in registry.roles:
        if key in (fold(r.key), fold(r.name), fold(r.plural or r.name)):
            return r.key
    raise RtaError(f"unknown role '{role}'",
                   hint="use one of " + ", ".join(f"{r.key} ({r.name})" for r in registry.roles))


class _Turns:
    """The turns of one transcript revision, searchable by offset."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows
        self.starts = [r["start"] for r in rows]
        self.by_n = {r["n"]: r for r in rows}

    def at(self, offset: int) -> Any:
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.rows[max(i, 0)] if self.rows else None

    def first_informant(self, start: int, end: int) -> Any:
        i = max(bisect.bisect_right(self.starts, start) - 1, 0)
        while i < len(self.rows) and self.rows[i]["start"] < end:
            if self.rows[i]["informant"]:
                return self.rows[i]
            i += 1
        return None


def collect(store: Store, registry: Any, audit_result: Any, project_name: str = "", theme: str | None = None,
            role: str | None = None, unverified: bool = False, context: int = 1,
            allow_originals: bool = False, lang: str = "nb", title: str | None = None,
            coder: str | None = None) -> ReportData:
    """Read the store into :class:`ReportData`. Only active codings count; ``theme`` and
    ``role`` narrow the quotes shown (the matrices always cover every theme and role), and
    ``context`` is how many turns around each quoted turn the appendix shows.

    A quote from a superseded revision carries ``superseded_by`` (the report says so); one
    from a revision older than the transcript's pseudonymised one ('rta anonymise apply') is
    refused (:class:`rta.anchor.OriginalsRefused`) unless ``allow_originals``."""
    import rta
    from rta.anchor import refuse_originals, revision_states
    from rta.report_text import labels, spread as spread_words

    L = labels(lang)

    from rta.featured import featured as featured_extracts

    themes, themes_source = _themes(store)
    featured_map = featured_extracts(store)
    memos = _memos(store)
    theme_memos: dict[str, list[Any]] = {}
    for m in memos:
        if m.target_kind == "theme" and m.target:
            theme_memos.setdefault(m.target, []).append(m)
    filters: dict[str, str] = {}
    if theme is not None:
        wanted = [t for t in themes if fold(t.name) == fold(theme)]
        if not wanted:
            raise RtaError(f"no theme '{theme}' to report on",
                           hint="themes: " + (", ".join(t.name for t in themes) or "(none yet: 'rta themes add')"))
        filters["tema"] = wanted[0].name
    role_key = _resolve_role(registry, role) if role is not None else None
    if role_key:
        filters["rolle"] = registry.role_name(role_key)
    if coder is not None:  # a coder's own view: only their codings are quoted and counted
        from rta.coding import check_coder

        coder = check_coder(store, coder)
        filters["koder"] = coder

    # every active coding with its speaker
    texts: dict[tuple[str, int], str] = {}
    turns: dict[tuple[str, int], _Turns] = {}
    for r in store.conn.execute("SELECT transcript_id, revision, text FROM transcript_revisions "
                                "WHERE (transcript_id, revision) IN (SELECT DISTINCT transcript_id, revision FROM codings "
                                "WHERE status = 'active')"):
        texts[(r[0], r[1])] = r[2]
    all_turns: dict[tuple[str, int], list[Any]] = {}
    for r in store.conn.execute("SELECT transcript_id, revision, n, speaker, informant, role, grp, start, end, "
                                "line_start, line_end FROM turns ORDER BY transcript_id, revision, n"):
        key = (r["transcript_id"], r["revision"])
        if key in texts:
            all_turns.setdefault(key, []).append(r)
    for key, rows in all_turns.items():
        turns[key] = _Turns(rows)
    codings = store.conn.execute(
        "SELECT id, transcript_id, revision, start, end, line_start, line_end, turn_n, code, quote_sha256, origin "
        "FROM codings WHERE status = 'active' AND (? IS NULL OR coder = ?) ORDER BY transcript_id, start, id",
        (coder, coder)).fetchall()
    by_code: dict[str, list[Any]] = {}
    for c in codings:
        by_code.setdefault(c["code"], []).append(c)

    role_order = registry.role_order()
    informant_order = {i.code: n for n, i in enumerate(registry.informants)}
    states = revision_states(store)
    quoted: dict[int, tuple[str, str, int]] = {}  # coding id -> (label, transcript, revision)

    def superseded_by(transcript_id: str, revision: int) -> int | None:
        state = states.get(transcript_id)
        return state.current if state is not None and state.superseded(revision) else None
    slugs: dict[str, str] = {}
    for t in themes:
        base = slugify(t.name)
        slug, k = base, 2
        while slug in slugs.values():
            slug, k = f"{base}-{k}", k + 1
        slugs[t.name] = slug

    def speaker_of(c: Any) -> Any:
        tt = turns.get((c["transcript_id"], c["revision"]))
        if tt is None:
            return None
        row = tt.by_n.get(c["turn_n"]) if c["turn_n"] is not None else None
        if row is None or not row["informant"]:
            row = tt.first_informant(c["start"], c["end"]) or row or tt.at(c["start"])
        return row

    speakers = {c["id"]: speaker_of(c) for c in codings}

    def context_anchor(c: Any) -> str:
        tt = turns.get((c["transcript_id"], c["revision"]))
        row = tt.at(c["start"]) if tt else None
        base = "t-" + slugify(c["transcript_id"])
        return f"{base}-{row['n']}" if row is not None else base

    sections: list[ThemeSection] = []
    role_cells: list[MatrixRow] = []
    group_cells: list[MatrixRow] = []
    all_groups = sort_no({i.group for i in registry.informants if i.group} |
                         {s["grp"] for s in speakers.values() if s is not None and s["grp"]})
    group_cols = all_groups + [L["no_group"]]
    quoted_turns: dict[tuple[str, int], dict[int, list[tuple[str, str, str, int, int]]]] = {}
    quoted_informants: set[str] = set()
    total_quotes = 0
    informant_codes = [i.code for i in registry.informants]
    for t in themes:
        slug = slugs[t.name]
        rows = [c for code in t.codes for c in by_code.get(code, [])]
        # matrices: all of the theme's codings
        per_role: dict[str | None, tuple[int, set[str]]] = {}
        per_group: dict[str | None, tuple[int, set[str]]] = {}
        infs_all: set[str] = set()
        for c in rows:
            s = speakers[c["id"]]
            rk, grp, inf = (s["role"], s["grp"], s["informant"]) if s is not None else (None, None, None)
            for table, key in ((per_role, rk), (per_group, grp)):
                n, seen = table.get(key, (0, set()))
                if inf:
                    seen.add(inf)
                table[key] = (n + 1, seen)
            if inf:
                infs_all.add(inf)
        role_cells.append(MatrixRow(t.name, slug,
                                    [Cell(per_role.get(k, (0, set()))[0], len(per_role.get(k, (0, set()))[1]))
                                     for k in role_order],
                                    Cell(len(rows), len(infs_all))))
        group_cells.append(MatrixRow(t.name, slug,
                                     [Cell(per_group.get(g, (0, set()))[0], len(per_group.get(g, (0, set()))[1]))
                                      for g in [*all_groups, None]],
                                     Cell(len(rows), len(infs_all))))
        for c in rows:
            s = speakers[c["id"]]
            if s is not None and s["informant"]:
                quoted_informants.add(s["informant"])
        if filters.get("tema") and t.name != filters["tema"]:
            continue
        # passages grouped by role: overlapping codings of the theme in one turn are one extract
        groups: dict[str, list[Quote]] = {}
        for members in passages(rows):
            c = members[0]
            s = speakers[c["id"]]
            rk = (s["role"] if s is not None and s["informant"] else None) or NO_ROLE
            if role_key and rk != role_key:
                continue
            label = (s["informant"] or s["speaker"]) if s is not None else "?"
            key = (c["transcript_id"], c["revision"])
            ids = sorted(m["id"] for m in members)
            start, end = min(m["start"] for m in members), max(m["end"] for m in members)
            text = texts[key][start:end]
            sha = c["quote_sha256"] if len(members) == 1 else sha256_text(text)
            anchor = f"q-{ids[0]}-{slug}"
            origins = {m["origin"] for m in members}
            q = Quote(ids[0], anchor, c["transcript_id"], c["revision"], start, end,
                      min(m["line_start"] for m in members), max(m["line_end"] for m in members), sha, text,
                      sort_no({m["code"] for m in members}), label,
                      s["informant"] if s is not None else None, rk if rk != NO_ROLE else None,
                      registry.role_name(rk) if rk != NO_ROLE else L["no_role"],
                      s["grp"] if s is not None else None, f"ctx-{anchor}",
                      origins.pop() if len(origins) == 1 else "mixed",
                      superseded_by(c["transcript_id"], c["revision"]), ids, c["turn_n"])
            for i in ids:
                quoted[i] = (f"coding #{i}", c["transcript_id"], c["revision"])
            groups.setdefault(rk, []).append(q)
            tt = turns.get(key)
            if tt is not None:
                row = tt.at(start)
                if row is not None:
                    quoted_turns.setdefault(key, {}).setdefault(row["n"], []).append((anchor, t.name, label, start, end))
        ordered = [k for k in role_order if k in groups] + sort_no(k for k in groups if k not in role_order
                                                                    and k != NO_ROLE)
        if NO_ROLE in groups:
            ordered.append(NO_ROLE)
        role_quotes = []
        for k in ordered:
            qs = sorted(groups[k], key=lambda q: (informant_order.get(q.informant or "", 10_000), q.label,
                                                  q.transcript_id, q.start, q.coding_id))
            infs = list(dict.fromkeys(q.informant for q in qs if q.informant))
            role_quotes.append(RoleQuotes(k, qs[0].role_name, qs, infs))
        shown, others, selection = _select(role_quotes, featured_map.get(t.id, []) if t.id is not None else [])
        n_quotes = sum(len(r.quotes) for r in role_quotes)
        total_quotes += n_quotes
        infs = [c for c in informant_codes if c in infs_all] + sort_no(infs_all - set(informant_codes))
        roles_present = [k for k in role_order if per_role.get(k, (0,))[0]]
        groups_present = [g for g in all_groups if per_group.get(g, (0,))[0]]
        spread = ", ".join([
            spread_words(L, len(infs), len(informant_codes), "informants"),
            spread_words(L, len(groups_present), len(all_groups), "groups", groups_present),
            spread_words(L, len(roles_present), len(role_order), "roles", [registry.role_name(k) for k in roles_present]),
        ])
        sections.append(ThemeSection(t.name, slug, t.definition, t.central_concept, t.origin,
                                     L["origins"].get(t.origin, t.origin), t.status,
                                     L["statuses"].get(t.status, t.status), t.opposite, t.codes, role_quotes,
                                     n_quotes, infs, spread, shown, others, selection,
                                     theme_memos.get(t.name, [])))

    role_matrix = Matrix(L["matrix_roles"], [registry.role_name(k) for k in role_order], role_cells)
    group_matrix = Matrix(L["matrix_groups"], group_cols, group_cells)

    # informants never quoted, codes never used
    words = dict(store.conn.execute(
        "SELECT t.informant, SUM(t.words) FROM turns t JOIN transcripts x ON x.id = t.transcript_id "
        "AND x.revision = t.revision WHERE t.informant IS NOT NULL GROUP BY t.informant").fetchall())
    never = [NeverQuoted(r["code"], registry.role_name(r["role"]), r["grp"], int(words.get(r["code"], 0) or 0))
             for r in store.conn.execute("SELECT code, role, grp FROM informants ORDER BY position, code")
             if r["code"] not in quoted_informants]
    latest = store.conn.execute("SELECT * FROM codebook_versions ORDER BY id DESC LIMIT 1").fetchone()
    latest_codes = [r[0] for r in store.conn.execute("SELECT name FROM codes WHERE codebook_version = ?",
                                                     (latest["id"],))] if latest else []
    used = set(by_code)
    themed = {c for t in themes for c in t.codes}

    # transcript appendix: quoted turns with `context` turns around them
    appendix: list[ContextTranscript] = []
    for key in sorted(quoted_turns):
        tt = turns[key]
        wanted_n = set()
        for n in quoted_turns[key]:
            wanted_n.update(range(n - context, n + context + 1))
        text = texts[key]
        out_turns: list[ContextTurn] = []
        prev = None
        tslug = "t-" + slugify(key[0])
        for r in tt.rows:
            if r["n"] not in wanted_n:
                continue
            here = quoted_turns[key].get(r["n"], [])
            said = text[r["start"]:r["end"]]
            out_turns.append(ContextTurn(r["n"], f"{tslug}-{r['n']}", r["speaker"], not r["informant"],
                                         r["line_start"], r["line_end"], said,
                                         [(anchor, theme_name, label) for anchor, theme_name, label, _, _ in here],
                                         prev is not None and r["n"] != prev + 1 or (prev is None and r["n"] > 1),
                                         segments(said, r["start"], [(a, b, f"ctx-{anchor}")
                                                                     for anchor, _, _, a, b in here])))
            prev = r["n"]
        appendix.append(ContextTranscript(key[0], tslug, key[1], out_turns, superseded_by(*key)))
    refuse_originals(states, list(quoted.values()), "the report", allow_originals)

    # audit appendix
    suggestions = {k: v for k, v in store.conn.execute("SELECT status, COUNT(*) FROM suggestions GROUP BY status")}
    audit = AuditInfo(
        codebook_name=latest["name"] if latest else None,
        codebook_version=latest["id"] if latest else None,
        codebook_sha256=latest["sha256"] if latest else None,
        codebook_versions_used=sorted({c["codebook_version"] for c in store.conn.execute(
            "SELECT DISTINCT codebook_version FROM codings WHERE status='active' AND codebook_version IS NOT NULL")}),
        pipelines=[(r[0], r[1]) for r in store.conn.execute(
            "SELECT pipeline, COUNT(*) FROM suggestions GROUP BY pipeline ORDER BY pipeline")],
        coders=[(r[0], r[1]) for r in store.conn.execute(
            "SELECT coder, COUNT(*) FROM codings WHERE status='active' GROUP BY coder ORDER BY coder")],
        suggestions={s: suggestions.get(s, 0) for s in ("accepted", "rejected", "suggested")},
        codings_by_origin={k: v for k, v in store.conn.execute(
            "SELECT origin, COUNT(*) FROM codings WHERE status='active' GROUP BY origin")},
        audit_ok=bool(audit_result.ok),
        audit_summary=audit_result.summary(),
        audit_failures=[str(f) for f in audit_result.failures[:50]],
        built=now(),
        rta_version=rta.__version__,
        phase=store.phase(),
        themes_source=themes_source,
        log_head=str(log_head(store)),
    )
    informants_total = store.conn.execute("SELECT COUNT(*) FROM informants").fetchone()[0]
    return ReportData(
        title=title or (L["title_project"].format(project=project_name) if project_name else L["title"]),
        project=project_name,
        built=audit.built,
        unverified=unverified,
        filters=filters,
        themes=sections,
        role_matrix=role_matrix,
        group_matrix=group_matrix,
        never_quoted=never,
        codes_never_used=sort_no(set(latest_codes) - used),
        codes_in_no_theme=sort_no(used - themed),
        transcripts=appendix,
        audit=audit,
        total_quotes=total_quotes,
        total_codings=len(codings),
        informants_quoted=len(quoted_informants),
        informants_total=informants_total,
        memos=memos,
        lang=lang,
        code_counts={code: len(rows) for code, rows in by_code.items()},
        informant_order=informant_codes,
    )


def _select(role_quotes: list[RoleQuotes], chosen: list[Any]) -> tuple[list[RoleQuotes], list[RoleQuotes], str]:
    """Which extracts a theme section shows (featured ones in their order, else
    :func:`auto_pick` per role) and which go to the appendix of all extracts."""
    everything = [q for g in role_quotes for q in g.quotes]
    if not everything:
        return [], [], "none"
    shown: list[Quote] = []
    if chosen:
        by_coding = {i: q for q in everything for i in q.coding_ids}
        for f in chosen:
            q = by_coding.get(f.coding_id)
            if q is not None and q not in shown:  # a coding removed, recoded or outside the selection is left out
                q.note = f.note
                shown.append(q)
    if shown:
        groups = [RoleQuotes(None, "", shown, list(dict.fromkeys(q.informant for q in shown if q.informant)))]
        selection = "featured"
    else:
        groups = []
        for g in role_quotes:
            picked = auto_pick(g.quotes)
            groups.append(RoleQuotes(g.role, g.name, picked,
                                     list(dict.fromkeys(q.informant for q in picked if q.informant))))
        shown = [q for g in groups for q in g.quotes]
        selection = "auto"
    taken = {id(q) for q in shown}
    others = []
    for g in role_quotes:
        rest = [q for q in g.quotes if id(q) not in taken]
        if rest:
            others.append(RoleQuotes(g.role, g.name, rest, list(dict.fromkeys(q.informant for q in rest if q.informant))))
    return groups, others, selection


def _memos(store: Store) -> list[Any]:
    """The memo appendix: the same listing as ``rta memos`` (memos, journal entries, memos on
    codings and from review), each with what it is attached to."""
    from rta.memos import all_memos

    return all_memos(store)
