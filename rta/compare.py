"""Where two coders read the data differently: material for reflexive dialogue.

In reflexive TA two readings of one passage are not an error to be reconciled but a resource:
the team talks about why each read it as they did. :func:`compare_coders` lines the two
coders' active codings up, transcript by transcript, and groups codings that overlap (of
either coder) into *passages*. A passage is

* ``only``: coded by one of them only (the other left it uncoded);
* ``codes``: coded by both, with different codes (one's code the other did not use there);
* ``extent``: coded by both with the same code, over different stretches of text;
* read alike otherwise (same codes, same spans): counted, not listed.

(``codes`` and ``extent`` may both hold for one passage.) Each listed passage carries the quote
in its context (the turn or turns it lies in, with speaker), for the terminal, JSON, or a
self-contained HTML page for a team meeting (:func:`compare_html`).

Only codings on their transcript's current revision are compared (an orphaned coding or one on a
superseded revision is counted apart).
"""

from __future__ import annotations

import bisect
import html
from dataclasses import asdict, dataclass, field
from typing import Any

from rta.errors import RtaError
from rta.store import Store

FRAMING = ("Where {a} and {b} read the data differently: material for reflexive dialogue, not a test of who "
           "is right. In reflexive thematic analysis a second reading is a resource: talk about what each of "
           "you saw in the passage and why.")
KIND_WORDS = {"only": "coded by {who} only", "codes": "same passage, different codes",
              "extent": "same code, different extents"}
CONTEXT_CHARS = 400  # context shown on each side of a passage, at most (within its turns)


@dataclass
class CodingRef:
    """One coder's coding in a passage."""

    id: int
    code: str
    start: int
    end: int
    line_start: int
    line_end: int
    quote: str


@dataclass
class Passage:
    """Overlapping codings of the two coders in one transcript, and how their readings differ."""

    transcript: str
    revision: int
    start: int
    end: int
    line_start: int
    line_end: int
    speakers: list[str]
    kinds: list[str]
    a: list[CodingRef]
    b: list[CodingRef]
    quote: str
    before: str  # context: the turn's text before the passage (cut to CONTEXT_CHARS)
    after: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    coders: tuple[str, str]
    items: list[Passage] = field(default_factory=list)
    alike: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # kind (only_a, only_b, codes, extent) -> passages
    codings: dict[str, int] = field(default_factory=dict)  # coder -> active codings compared
    elsewhere: dict[str, int] = field(default_factory=dict)  # coder -> codings not on a current revision
    transcripts: int = 0
    filters: dict[str, str | None] = field(default_factory=dict)

    @property
    def framing(self) -> str:
        return FRAMING.format(a=self.coders[0], b=self.coders[1])

    def to_dict(self) -> dict[str, Any]:
        return {"coders": list(self.coders), "framing": self.framing, "filters": self.filters,
                "transcripts": self.transcripts, "codings": self.codings, "not_compared": self.elsewhere,
                "alike": self.alike, "counts": self.counts, "passages": [p.to_dict() for p in self.items]}


def known_coders(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT DISTINCT coder FROM codings ORDER BY coder")]


def check_coders(store: Store, coders: list[str]) -> tuple[str, str]:
    """Two different coders who have codings here; RtaError naming the coders there are."""
    names = [c.strip() for c in coders if c.strip()]
    have = known_coders(store)
    listed = ", ".join(have) or "none yet"
    if len(names) != 2 or names[0] == names[1]:
        raise RtaError("compare needs two different coders", hint=f"e.g. --coders kari,ola (coders here: {listed})")
    for name in names:
        if name not in have:
            raise RtaError(f"no codings by '{name}' in this project",
                           hint=f"coders with codings: {listed} (merge a co-coder's copy first: rta merge DIR)")
    return names[0], names[1]


def _scope(store: Store, transcript: str | None, code: str | None) -> tuple[str | None, str | None]:
    if transcript is not None and store.transcript_row(transcript) is None:
        raise RtaError(f"no transcript '{transcript}' in this project", hint="see 'rta transcripts'")
    if code is not None:
        row = store.conn.execute("SELECT code FROM codings WHERE code = ? COLLATE NOCASE LIMIT 1", (code,)).fetchone()
        if row is None:
            raise RtaError(f"no coding has the code '{code}'", hint="see 'rta codings' or 'rta codebook show'")
        code = row[0]
    return transcript, code


def current_codings(store: Store, coders: tuple[str, str], transcript: str | None = None
                    ) -> tuple[dict[str, list[Any]], dict[str, int]]:
    """The two coders' active codings on current revisions, by transcript (sorted by start),
    and how many each has elsewhere (orphaned, or on a superseded revision)."""
    sql = ("SELECT c.id, c.transcript_id, c.revision, c.start, c.end, c.line_start, c.line_end, c.code, c.coder, "
           "c.status, c.revision = t.revision AS current FROM codings c JOIN transcripts t ON t.id = c.transcript_id "
           "WHERE c.coder IN (?, ?) AND c.status != 'removed'")
    args: list[Any] = list(coders)
    if transcript is not None:
        sql += " AND c.transcript_id = ?"
        args.append(transcript)
    by_transcript: dict[str, list[Any]] = {}
    elsewhere = {c: 0 for c in coders}
    for r in store.conn.execute(sql + " ORDER BY c.transcript_id, c.start, c.end, c.id", args):
        if r["status"] != "active" or not r["current"]:
            elsewhere[r["coder"]] += 1
            continue
        by_transcript.setdefault(r["transcript_id"], []).append(r)
    return by_transcript, elsewhere


def compare_coders(store: Store, a: str, b: str, transcript: str | None = None, code: str | None = None) -> Comparison:
    """Where coders ``a`` and ``b`` read the data differently (module doc)."""
    transcript, code = _scope(store, transcript, code)
    result = Comparison((a, b), filters={"transcript": transcript, "code": code})
    by_transcript, result.elsewhere = current_codings(store, (a, b), transcript)
    result.codings = {a: 0, b: 0}
    counts = {"only_" + a: 0, "only_" + b: 0, "codes": 0, "extent": 0}
    for tid, rows in by_transcript.items():
        result.transcripts += 1
        for r in rows:
            result.codings[r["coder"]] += 1
        text = turns = None
        for group in _passages(rows):
            codes = {r["code"] for r in group}
            if code is not None and code not in codes:
                continue
            mine = [r for r in group if r["coder"] == a]
            theirs = [r for r in group if r["coder"] == b]
            kinds = _kinds(mine, theirs)
            if not kinds:
                result.alike += 1
                continue
            if "only" in kinds:
                counts["only_" + (a if mine else b)] += 1
            for k in ("codes", "extent"):
                if k in kinds:
                    counts[k] += 1
            if text is None:
                revision = group[0]["revision"]
                text = store.transcript_text(tid, revision)
                turns = _turns(store, tid, revision)
            result.items.append(_passage(tid, group, mine, theirs, kinds, text, turns))
    result.counts = counts
    return result


def _passages(rows: list[Any]) -> list[list[Any]]:
    """Codings (sorted by start) grouped where they overlap, of either coder."""
    groups: list[list[Any]] = []
    end = -1
    for r in rows:
        if groups and r["start"] < end:
            groups[-1].append(r)
            end = max(end, r["end"])
        else:
            groups.append([r])
            end = r["end"]
    return groups


def _kinds(mine: list[Any], theirs: list[Any]) -> list[str]:
    if not mine or not theirs:
        return ["only"]
    kinds = []
    codes_a, codes_b = {r["code"] for r in mine}, {r["code"] for r in theirs}
    if codes_a != codes_b:
        kinds.append("codes")
    for c in codes_a & codes_b:
        spans_a = {(r["start"], r["end"]) for r in mine if r["code"] == c}
        spans_b = {(r["start"], r["end"]) for r in theirs if r["code"] == c}
        if spans_a != spans_b:
            kinds.append("extent")
            break
    return kinds


def _turns(store: Store, tid: str, revision: int) -> list[tuple[int, int, str]]:
    return [(r[0], r[1], r[2]) for r in store.conn.execute(
        "SELECT start, end, speaker FROM turns WHERE transcript_id = ? AND revision = ? ORDER BY start",
        (tid, revision))]


def _passage(tid: str, group: list[Any], mine: list[Any], theirs: list[Any], kinds: list[str], text: str,
             turns: list[tuple[int, int, str]]) -> Passage:
    start, end = min(r["start"] for r in group), max(r["end"] for r in group)
    starts = [t[0] for t in turns]
    i = max(0, bisect.bisect_right(starts, start) - 1)
    inside = [t for t in turns[i:] if t[0] < end and t[1] > start] or [(start, end, "?")]
    lo, hi = max(inside[0][0], start - CONTEXT_CHARS), min(inside[-1][1], end + CONTEXT_CHARS)
    before, after = text[lo:start], text[end:hi]
    if lo > inside[0][0]:
        before = "…" + before
    if hi < inside[-1][1]:
        after = after + "…"

    def ref(r: Any) -> CodingRef:
        return CodingRef(r["id"], r["code"], r["start"], r["end"], r["line_start"], r["line_end"],
                         text[r["start"]:r["end"]])

    return Passage(tid, group[0]["revision"], start, end, min(r["line_start"] for r in group),
                   max(r["line_end"] for r in group), list(dict.fromkeys(t[2] for t in inside)), kinds,
                   [ref(r) for r in mine], [ref(r) for r in theirs], text[start:end], before, after)


# --------------------------------------------------------------------------------------------
# Output


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _lines(start: int, end: int) -> str:
    return f"line {start}" if start == end else f"lines {start}-{end}"


def kind_words(p: Passage, coders: tuple[str, str]) -> str:
    who = coders[0] if p.a else coders[1]
    return "; ".join(KIND_WORDS[k].format(who=who) for k in p.kinds)


def compare_text(result: Comparison, width: int = 100) -> list[str]:
    """The comparison for the terminal (every line goes through rta's escaping echo)."""
    a, b = result.coders
    pad = max(len(a), len(b))
    lines = [result.framing, ""]
    for p in result.items:
        lines.append(f"{p.transcript} {_lines(p.line_start, p.line_end)} ({', '.join(p.speakers)}): "
                     f"{kind_words(p, result.coders)}")
        for who, refs in ((a, p.a), (b, p.b)):
            if not refs:
                lines.append(f"  {who:<{pad}}  (not coded)")
            for r in refs:
                lines.append(f"  {who:<{pad}}  {r.code} ({_lines(r.line_start, r.line_end)}, #{r.id}) "
                             f"«{_short(r.quote, width - pad - 30)}»")
        before, after = _short(p.before, 10_000), _short(p.after, 10_000)
        before = before if len(before) <= 50 else "…" + before[-49:]
        after = after if len(after) <= 50 else after[:49] + "…"
        lines.append(f"  {'':<{pad}}  in context: «{before}[{_short(p.quote, 90)}]{after}»")
        lines.append("")
    lines.append(summary(result))
    return lines


def summary(result: Comparison) -> str:
    a, b = result.coders
    c = result.counts
    total = result.alike + len(result.items)
    text = (f"{total} passage(s) in {result.transcripts} transcript(s) ({result.codings.get(a, 0)} codings by {a}, "
            f"{result.codings.get(b, 0)} by {b}): {result.alike} read alike, {c.get('only_' + a, 0)} coded by {a} "
            f"only, {c.get('only_' + b, 0)} by {b} only, {c.get('codes', 0)} with different codes, "
            f"{c.get('extent', 0)} with the same code over different extents")
    skipped = {k: v for k, v in result.elsewhere.items() if v}
    if skipped:
        text += "; not compared (orphaned, or on a superseded revision): " + ", ".join(
            f"{v} of {k}'s" for k, v in skipped.items())
    return text


_HTML_WORDS = {
    "nb": {"title": "Koderes lesninger: {a} og {b}", "lang": "nb",
           "framing": "Her leste {a} og {b} dataene ulikt. Dette er materiale for en refleksiv samtale, ikke en test "
                      "av hvem som har rett: i refleksiv tematisk analyse er en annen lesning en ressurs. Snakk om "
                      "hva hver av dere så i utdraget, og hvorfor.",
           "only": "kodet bare av {who}", "codes": "samme utdrag, ulike koder",
           "extent": "samme kode, ulik utstrekning", "not": "(ikke kodet)", "lines": "linje",
           "summary": "{total} utdrag i {n} transkripsjoner: {alike} lest likt, {oa} bare av {a}, {ob} bare av {b}, "
                      "{codes} med ulike koder, {extent} med samme kode over ulik utstrekning.",
           "none": "Ingen forskjeller å vise."},
    "en": {"title": "Two coders' readings: {a} and {b}", "lang": "en",
           "framing": FRAMING,
           "only": "coded by {who} only", "codes": "same passage, different codes",
           "extent": "same code, different extents", "not": "(not coded)", "lines": "lines",
           "summary": "{total} passages in {n} transcripts: {alike} read alike, {oa} by {a} only, {ob} by {b} only, "
                      "{codes} with different codes, {extent} with the same code over different extents.",
           "none": "No differences to show."},
}

_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
.framing{background:#f4f1ea;border-left:4px solid #b59a5a;padding:.6rem 1rem}
section{border-top:1px solid #ddd;padding:.6rem 0}
h2{font-size:1rem;margin:.2rem 0}
.kind{color:#6b4f1d;font-weight:normal}
table{border-collapse:collapse;width:100%}td{vertical-align:top;padding:.15rem .4rem}
td.who{white-space:nowrap;font-weight:bold;width:8rem}
.context{color:#555;margin:.4rem 0 0}.context mark{background:#fff3b0;color:#111}
@media print{section{break-inside:avoid}}"""


def _span(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}–{end}"


def compare_html(result: Comparison, language: str = "nb") -> str:
    """A self-contained HTML page (inline CSS, no script, nothing fetched) for a team meeting;
    every text from transcripts, codes and coder names is escaped."""
    w = _HTML_WORDS.get(language, _HTML_WORDS["nb"])
    a, b = result.coders
    e = html.escape
    c = result.counts
    out = ["<!DOCTYPE html>", f'<html lang="{w["lang"]}"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(w['title'].format(a=a, b=b))}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(w['title'].format(a=a, b=b))}</h1>",
           f'<p class="framing">{e(w["framing"].format(a=a, b=b))}</p>',
           "<p>" + e(w["summary"].format(total=result.alike + len(result.items), n=result.transcripts,
                                          alike=result.alike, oa=c.get("only_" + a, 0), ob=c.get("only_" + b, 0),
                                          a=a, b=b, codes=c.get("codes", 0), extent=c.get("extent", 0))) + "</p>"]
    if not result.items:
        out.append(f"<p>{e(w['none'])}</p>")
    for p in result.items:
        who = a if p.a else b
        kinds = "; ".join(w[k].format(who=who) for k in p.kinds)
        out.append(f"<section><h2>{e(p.transcript)}, {w['lines']} {_span(p.line_start, p.line_end)} "
                   f"({e(', '.join(p.speakers))}) <span class=\"kind\">· {e(kinds)}</span></h2><table>")
        for name, refs in ((a, p.a), (b, p.b)):
            cells = "<br>".join(f"<b>{e(r.code)}</b> ({w['lines']} {_span(r.line_start, r.line_end)}): «{e(r.quote)}»"
                                for r in refs) or e(w["not"])
            out.append(f'<tr><td class="who">{e(name)}</td><td>{cells}</td></tr>')
        out.append(f'</table><p class="context">{e(p.before)}<mark>{e(p.quote)}</mark>{e(p.after)}</p></section>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"
