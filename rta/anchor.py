"""Re-anchoring codings when a transcript gets a new revision.

Researchers correct transcripts after coding has started (typos, further anonymisation). A
coding points at code-point offsets in one revision, so a new revision must carry every coding
over, or say plainly that it could not:

1. **exact**: the old quote occurs verbatim in the new text (once; if several times, the
   occurrence nearest the old relative position is taken);
2. **fuzzy**: otherwise the best alignment found with rapidfuzz, accepted when its similarity
   (``fuzz.ratio`` of the old quote and the new span, 0..1) reaches :data:`FUZZY_THRESHOLD`;
3. **orphaned**: otherwise the coding keeps pointing at its old revision (so its quote still
   verifies), its status becomes ``orphaned`` and the best candidate spans are recorded for a
   person to resolve (``rta orphans``).

Nothing is deleted; every move and every orphaning is an audit event with the old and new spans.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from rta.errors import RtaError
from rta.fsutil import sha256_text

FUZZY_THRESHOLD = 0.85
"""Minimum similarity for a fuzzy re-anchoring to be accepted without a person."""

MIN_FUZZY_LENGTH = 12
"""Quotes shorter than this are only relocated exactly: a fuzzy match of a few characters is
a guess, not an anchor."""

_SNAP = 15  # how far (code points) span ends may move while refining an alignment


@dataclass
class Candidate:
    """A span of a text that resembles a quote, with its similarity (0..1)."""

    start: int
    end: int
    line_start: int
    line_end: int
    similarity: float
    text: str


@dataclass
class AnchorResult:
    """What happened to one coding when its transcript was revised."""

    coding_id: int
    method: str  # 'exact' | 'fuzzy' | 'orphaned'
    old: tuple[int, int, int]  # revision, start, end
    new: tuple[int, int, int] | None
    similarity: float | None
    candidates: list[Candidate]


def lines_of(text: str, start: int, end: int) -> tuple[int, int]:
    """1-based first and last line of ``text[start:end]`` (end exclusive)."""
    line_start = text.count("\n", 0, start) + 1
    return line_start, line_start + text.count("\n", start, max(start, end - 1))


def exact_occurrences(text: str, quote: str) -> list[int]:
    """Start offsets of every (possibly overlapping) verbatim occurrence of ``quote``."""
    found, pos = [], text.find(quote)
    while pos != -1 and quote:
        found.append(pos)
        pos = text.find(quote, pos + 1)
    return found


def _mid_word(text: str, pos: int, lo: int, hi: int) -> bool:
    """True when ``pos`` falls between two letters or digits (inside ``lo..hi``)."""
    return lo < pos < hi and text[pos - 1].isalnum() and text[pos].isalnum()


def on_word_boundaries(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` neither starts nor ends inside a word."""
    return not _mid_word(text, start, 0, len(text)) and not _mid_word(text, end, 0, len(text))


def snap_to_words(text: str, start: int, end: int, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
    """Widen ``start..end`` outward to word boundaries, never past ``lo..hi`` (e.g. a turn),
    and trim blanks at both ends: a candidate never starts or ends inside a word."""
    hi = len(text) if hi is None else hi
    start, end = max(lo, start), min(hi, end)
    while _mid_word(text, start, lo, hi):
        start -= 1
    while _mid_word(text, end, lo, hi):
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _boundaries(text: str, around: int, lo: int, hi: int, is_start: bool) -> list[int]:
    """Word-boundary positions within ``_SNAP`` of ``around`` (inside ``lo..hi``) where a span
    may start (before a non-blank) or end (after a non-blank)."""
    out = set()
    for pos in range(max(lo, around - _SNAP), min(hi, around + _SNAP) + 1):
        if _mid_word(text, pos, lo, hi):
            continue
        if is_start and pos < hi and not text[pos].isspace():
            out.add(pos)
        elif not is_start and pos > lo and not text[pos - 1].isspace():
            out.add(pos)
    return sorted(out)


def _refine(quote: str, text: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int, float]:
    """Move the ends of an alignment to nearby word boundaries where the span resembles the
    quote most (a corrected word changes the quote's length). The result always starts and
    ends on word boundaries inside ``lo..hi``."""
    from rapidfuzz import fuzz

    s0, e0 = snap_to_words(text, start, end, lo, hi)
    if e0 <= s0:
        s0, e0 = start, end
    best = (s0, e0, fuzz.ratio(quote, text[s0:e0]))
    for s in _boundaries(text, start, lo, hi, True):
        for e in _boundaries(text, end, lo, hi, False):
            if e - s < 1:
                continue
            score = fuzz.ratio(quote, text[s:e])
            if score > best[2] or (score == best[2] and abs(s - start) + abs(e - end) < abs(best[0] - start) + abs(best[1] - end)):
                best = (s, e, score)
    return best[0], best[1], best[2] / 100.0


def fuzzy_candidates(
    quote: str, text: str, regions: list[tuple[int, int]] | None = None, limit: int = 3
) -> list[Candidate]:
    """The spans of ``text`` most like ``quote``, best first, each inside one region (e.g. a
    speaker turn; the whole text when no regions are given) and on word boundaries;
    overlapping finds are merged."""
    from rapidfuzz import fuzz

    if not quote.strip() or not text:
        return []
    spans = [(0, len(text))] if regions is None else list(regions)
    raw: list[tuple[float, int, int, int, int]] = []  # score, start, end, region lo, hi
    for lo, hi in spans:
        if hi <= lo:
            continue
        region = text[lo:hi]
        if len(quote) >= len(region):
            raw.append((fuzz.ratio(quote, region), lo, hi, lo, hi))
            continue
        al = fuzz.partial_ratio_alignment(quote, region)
        if al is not None:
            raw.append((al.score, lo + al.dest_start, lo + al.dest_end, lo, hi))
    # refining is the costly step: only for the most promising alignments
    raw.sort(key=lambda r: -r[0])
    found: list[Candidate] = []
    for _score, s, e, lo, hi in raw[: limit + 3]:
        s, e, sim = _refine(quote, text, s, e, lo, hi)
        if any(not (e <= c.start or s >= c.end) for c in found):
            # keep the better of overlapping finds
            overlapping = [c for c in found if not (e <= c.start or s >= c.end)]
            if all(sim > c.similarity for c in overlapping):
                found = [c for c in found if c not in overlapping]
            else:
                continue
        ls, le = lines_of(text, s, e)
        found.append(Candidate(s, e, ls, le, round(sim, 4), text[s:e]))
    found.sort(key=lambda c: (-c.similarity, c.start))
    return found[:limit]


# Typographic variants a person may type differently from the transcript (or the reverse).
_QUOTE_MARKS = "\"«»“”„‟″〝〞＂"
_APOSTROPHES = "'‘’‚‛′`´"
_DASHES = "-‐‑‒–—―−"


def _loose_char(ch: str) -> str:
    if ch in _QUOTE_MARKS:
        return "[" + re.escape(_QUOTE_MARKS) + "]"
    if ch in _APOSTROPHES:
        return "[" + re.escape(_APOSTROPHES) + "]"
    if ch in _DASHES:
        return "[" + re.escape(_DASHES) + "]"
    return re.escape(ch)


def loose_candidates(quote: str, text: str, regions: list[tuple[int, int]]) -> list[Candidate]:
    """Spans of ``text`` that differ from ``quote`` only in case, in spacing and line breaks
    (more, fewer or other blanks) or in typographic quote marks, apostrophes and dashes: each
    inside one region, on word boundaries, similarity 1.0, in text order. Offered for a
    person to confirm, since they are not verbatim."""
    chars = [ch for ch in quote if not ch.isspace()]
    if not chars:
        return []
    pattern = re.compile(r"\s*".join(_loose_char(ch) for ch in chars), re.IGNORECASE)
    found: list[Candidate] = []
    for lo, hi in regions:
        for m in pattern.finditer(text, lo, hi):
            s, e = m.start(), m.end()
            if _mid_word(text, s, lo, hi) or _mid_word(text, e, lo, hi):
                continue  # 'i var' inside 'vi var' is another word, not a spacing difference
            ls, le = lines_of(text, s, e)
            found.append(Candidate(s, e, ls, le, 1.0, text[s:e]))
    return found


def exact_span(
    quote: str, old_start: int, old_len: int, new_text: str, regions: list[tuple[int, int]] | None = None,
) -> tuple[int, int] | None:
    """Where ``quote`` stands verbatim in ``new_text`` (inside one of ``regions`` when given):
    the occurrence nearest the old relative position, or None."""
    hits = exact_occurrences(new_text, quote)
    if regions is not None:
        hits = [h for h in hits if any(lo <= h and h + len(quote) <= hi for lo, hi in regions)]
    if not hits:
        return None
    expected = old_start / max(old_len, 1) * len(new_text)
    start = min(hits, key=lambda h: (abs(h - expected), h))
    return start, start + len(quote)


def relocate(
    quote: str, old_start: int, old_len: int, new_text: str, regions: list[tuple[int, int]] | None = None,
    threshold: float = FUZZY_THRESHOLD,
) -> tuple[str, tuple[int, int] | None, float | None, list[Candidate]]:
    """Where ``quote`` (at ``old_start`` in a text of length ``old_len``) stands in ``new_text``.

    With ``regions`` (the informant turns), only a span inside one region counts: a coding
    never crosses a turn. Returns (method, span or None, similarity, candidates)."""
    span = exact_span(quote, old_start, old_len, new_text, regions)
    if span is not None:
        return "exact", span, 1.0, []
    candidates = fuzzy_candidates(quote, new_text, regions)
    if candidates and len(quote) >= MIN_FUZZY_LENGTH and candidates[0].similarity >= threshold:
        best = candidates[0]
        return "fuzzy", (best.start, best.end), best.similarity, candidates
    return "orphaned", None, candidates[0].similarity if candidates else None, candidates


def reanchor_codings(store, transcript_id: str, old_revision: int, new_revision: int, coder: str | None) -> list[AnchorResult]:
    """Carry the active codings of ``old_revision`` over to ``new_revision`` (inside the
    caller's transaction): exact, else fuzzy, else orphaned with candidates. Logs each."""
    old_text = store.transcript_text(transcript_id, old_revision)
    new_text = store.transcript_text(transcript_id, new_revision)
    turns = store.conn.execute(
        "SELECT n, start, end FROM turns WHERE transcript_id = ? AND revision = ? AND informant IS NOT NULL ORDER BY n",
        (transcript_id, new_revision),
    ).fetchall()
    regions = [(t["start"], t["end"]) for t in turns]  # codings stay inside one informant turn
    rows = store.conn.execute(
        "SELECT * FROM codings WHERE transcript_id = ? AND revision = ? AND status = 'active' ORDER BY id",
        (transcript_id, old_revision),
    ).fetchall()
    results: list[AnchorResult] = []
    for row in rows:
        quote = old_text[row["start"] : row["end"]]
        old = (old_revision, row["start"], row["end"])
        method, span, similarity, candidates = relocate(quote, row["start"], len(old_text), new_text, regions)
        if span is not None:
            start, end = span
            new_quote = new_text[start:end]
            line_start, line_end = lines_of(new_text, start, end)
            turn = next((t["n"] for t in turns if t["start"] <= start and end <= t["end"]), None)
            digest = sha256_text(new_quote)
            store.conn.execute(
                "UPDATE codings SET revision=?, start=?, end=?, line_start=?, line_end=?, turn_n=?, quote_sha256=?, "
                "anchor_similarity=?, anchor_candidates=NULL WHERE id=?",
                (new_revision, start, end, line_start, line_end, turn, digest,
                 None if method == "exact" else similarity, row["id"]),
            )
            store.log_event(
                "coding.reanchored",
                {"coding": row["id"], "transcript": transcript_id, "method": method, "similarity": similarity,
                 "old": list(old), "new": [new_revision, start, end], "old_sha256": row["quote_sha256"],
                 "quote_sha256": digest},
                coder,
            )
            results.append(AnchorResult(row["id"], method, old, (new_revision, start, end), similarity, candidates))
        else:
            payload_candidates = [asdict(c) for c in candidates]
            store.conn.execute(
                "UPDATE codings SET status='orphaned', anchor_candidates=? WHERE id=?",
                (json.dumps({"revision": new_revision, "candidates": payload_candidates}, ensure_ascii=False), row["id"]),
            )
            store.log_event(
                "coding.orphaned",
                {"coding": row["id"], "transcript": transcript_id, "old": list(old), "new_revision": new_revision,
                 "best_similarity": similarity,
                 "candidates": [[new_revision, c["start"], c["end"], c["similarity"]] for c in payload_candidates]},
                coder,
            )
            results.append(AnchorResult(row["id"], "orphaned", old, None, similarity, candidates))
    return results


RETIRED_BY = "rta"
"""``decided_by`` of a suggestion rta retired because its text was revised."""


@dataclass
class SuggestionMove:
    """What happened to one pending suggestion when its transcript got a new revision."""

    suggestion_id: int
    old: tuple[int, int, int]  # revision, start, end
    new: tuple[int, int, int] | None  # None: retired
    reason: str | None = None  # why it was retired


def reanchor_suggestions(store, transcript_id: str, coder: str | None) -> list[SuggestionMove]:
    """Carry the pending suggestions of a transcript's older revisions over to its current one,
    as codings are (inside the caller's transaction). A suggestion whose words stand verbatim in
    the current text, inside one informant turn, moves there ('suggestion.reanchored'); any
    other is retired: status 'retired', decided by 'rta', a 'suggestion.retired' event with the
    reason. Only verbatim matches move, since a person deciding on a suggestion must see the
    words it was made for. So no pending suggestion points at a superseded revision, and
    accepting one never codes text that was replaced (e.g. by 'rta anonymise apply')."""
    from rta.store import now

    row = store.transcript_row(transcript_id)
    if row is None:
        return []
    current = int(row["revision"])
    rows = store.conn.execute(
        "SELECT * FROM suggestions WHERE transcript_id = ? AND status = 'suggested' AND revision != ? ORDER BY id",
        (transcript_id, current)).fetchall()
    if not rows:
        return []
    new_text = store.transcript_text(transcript_id, current)
    turns = store.conn.execute(
        "SELECT n, start, end FROM turns WHERE transcript_id = ? AND revision = ? AND informant IS NOT NULL ORDER BY n",
        (transcript_id, current)).fetchall()
    regions = [(t["start"], t["end"]) for t in turns]
    taken = {(r["start"], r["end"], r["code"], r["method"]): int(r["id"]) for r in store.conn.execute(
        "SELECT id, start, end, code, method FROM suggestions WHERE transcript_id = ? AND revision = ?",
        (transcript_id, current))}
    texts: dict[int, str] = {}
    moves: list[SuggestionMove] = []
    for s in rows:
        if s["revision"] not in texts:
            texts[s["revision"]] = store.transcript_text(transcript_id, s["revision"])
        old_text = texts[s["revision"]]
        quote = old_text[s["start"]:s["end"]]
        old = (int(s["revision"]), int(s["start"]), int(s["end"]))
        span = exact_span(quote, s["start"], len(old_text), new_text, regions) if quote.strip() else None
        reason = None
        if span is None:
            reason = f"its words are not in revision {current} verbatim"
        elif (span[0], span[1], s["code"], s["method"]) in taken:
            other = taken[(span[0], span[1], s["code"], s["method"])]
            reason = f"suggestion {other} proposes the same in revision {current}"
        if reason is None:
            start, end = span
            line_start, line_end = lines_of(new_text, start, end)
            turn = next((t["n"] for t in turns if t["start"] <= start and end <= t["end"]), None)
            store.conn.execute(
                "UPDATE suggestions SET revision=?, start=?, end=?, line_start=?, line_end=?, turn_n=? WHERE id=?",
                (current, start, end, line_start, line_end, turn, s["id"]))
            taken[(start, end, s["code"], s["method"])] = int(s["id"])
            store.log_event("suggestion.reanchored", {
                "suggestion": s["id"], "transcript": transcript_id, "code": s["code"], "old": list(old),
                "new": [current, start, end], "lines": [line_start, line_end], "turn": turn,
                "quote_sha256": sha256_text(quote)}, coder)
            moves.append(SuggestionMove(int(s["id"]), old, (current, start, end)))
        else:
            store.conn.execute("UPDATE suggestions SET status='retired', decided_by=?, decided_at=? WHERE id=?",
                               (RETIRED_BY, now(), s["id"]))
            store.log_event("suggestion.retired", {
                "suggestion": s["id"], "transcript": transcript_id, "code": s["code"], "old": list(old),
                "revision": current, "reason": reason}, coder)
            moves.append(SuggestionMove(int(s["id"]), old, None, reason))
    return moves


def settle_suggestions(store, coder: str | None, transcript_id: str | None = None) -> list[SuggestionMove]:
    """:func:`reanchor_suggestions` for every transcript (or one) that still has pending
    suggestions on a superseded revision (a project from before rta re-anchored them)."""
    sql = ("SELECT DISTINCT s.transcript_id FROM suggestions s JOIN transcripts t ON t.id = s.transcript_id "
           "WHERE s.status = 'suggested' AND s.revision != t.revision")
    args: tuple = ()
    if transcript_id is not None:
        sql += " AND s.transcript_id = ?"
        args = (transcript_id,)
    moves: list[SuggestionMove] = []
    for (tid,) in store.conn.execute(sql + " ORDER BY s.transcript_id", args).fetchall():
        moves.extend(reanchor_suggestions(store, tid, coder))
    return moves


# --------------------------------------------------------------------------------------------
# Quoting a revision: current, superseded, or from before pseudonymisation


class OriginalsRefused(RtaError):
    """A report or export would quote text from before 'rta anonymise apply'."""


@dataclass
class RevisionState:
    """A transcript's current revision, the latest one 'rta anonymise apply' stored, and the
    older ones 'rta anonymise purge' rewrote into their pseudonymised form."""

    transcript_id: str
    current: int
    pseudonymised: int | None
    purged: frozenset[int] = frozenset()

    def superseded(self, revision: int) -> bool:
        return revision < self.current

    def original(self, revision: int) -> bool:
        """True for a revision from before the latest pseudonymisation whose text was not purged
        since (it may hold the names)."""
        return self.pseudonymised is not None and revision < self.pseudonymised and revision not in self.purged

    def note(self, revision: int) -> str | None:
        """What a report or export says next to a quote from ``revision``: None when current."""
        if not self.superseded(revision):
            return None
        return f"from revision {revision}, superseded by revision {self.current}"


def revision_states(store) -> dict[str, RevisionState]:
    """Every transcript's :class:`RevisionState`, from the log: pseudonymised revisions from the
    'anonymise.applied' events, purged ones from the 'text.redacted' events of a revision's text."""
    applied: dict[str, int] = {}
    for tid, rev in store.conn.execute(
            "SELECT json_extract(payload, '$.transcript'), json_extract(payload, '$.revision') FROM events "
            "WHERE kind = 'anonymise.applied'"):
        if isinstance(tid, str) and isinstance(rev, int):
            applied[tid] = max(rev, applied.get(tid, 0))
    purged: dict[str, set[int]] = {}
    for (raw,) in store.conn.execute(
            "SELECT json_extract(payload, '$.id') FROM events WHERE kind = 'text.redacted' "
            "AND json_extract(payload, '$.table') = 'transcript_revisions' "
            "AND json_extract(payload, '$.field') = 'text'"):
        try:
            tid, rev = json.loads(raw)
        except (TypeError, ValueError):
            continue
        if isinstance(tid, str) and isinstance(rev, int):
            purged.setdefault(tid, set()).add(rev)
    return {r["id"]: RevisionState(r["id"], int(r["revision"]), applied.get(r["id"]),
                                   frozenset(purged.get(r["id"], ())))
            for r in store.conn.execute("SELECT id, revision FROM transcripts")}


def refuse_originals(states: dict[str, RevisionState], quoted: list[tuple[str, str, int]], what: str,
                     allow: bool = False, also: str | None = None) -> None:
    """:class:`OriginalsRefused` when any of ``quoted`` (label such as 'coding #12', transcript,
    revision) comes from a revision older than its transcript's pseudonymised one, unless
    ``allow`` (``--allow-originals``). The message names them and what to do (``also``: one
    more remedy, for the caller's command)."""
    if allow:
        return
    bad = [(label, tid, rev) for label, tid, rev in quoted if tid in states and states[tid].original(rev)]
    if not bad:
        return
    listed = ", ".join(f"{label} ({tid} revision {rev}, pseudonymised in revision {states[tid].pseudonymised})"
                       for label, tid, rev in bad[:10])
    more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
    transcripts = sorted({tid for _, tid, _ in bad})
    raise OriginalsRefused(
        f"{what} would quote {len(bad)} passage(s) from text before pseudonymisation: {listed}{more}",
        hint=f"see 'rta orphans' to re-anchor or remove orphaned codings of {', '.join(transcripts)} "
             "(an active coding on an old revision: 'rta uncode ID' and code it anew), "
             + (f"{also}, " if also else "") + "or pass --allow-originals to quote the original text, names included",
    )


@dataclass
class Orphan:
    """An orphaned coding with its old quote and the best candidate spans in the current text."""

    coding_id: int
    transcript_id: str
    old_revision: int
    start: int
    end: int
    line_start: int
    line_end: int
    code: str
    coder: str
    quote: str
    candidate_revision: int | None
    candidates: list[Candidate]


def orphans(store) -> list[Orphan]:
    """Codings that lost their anchor and wait for a person to resolve them."""
    out = []
    for row in store.conn.execute("SELECT * FROM codings WHERE status = 'orphaned' ORDER BY transcript_id, id"):
        text = store.transcript_text(row["transcript_id"], row["revision"])
        data: dict[str, Any] = json.loads(row["anchor_candidates"] or "{}")
        out.append(Orphan(
            row["id"], row["transcript_id"], row["revision"], row["start"], row["end"], row["line_start"],
            row["line_end"], row["code"], row["coder"], text[row["start"]:row["end"]], data.get("revision"),
            [Candidate(**c) for c in data.get("candidates", [])],
        ))
    return out


def resolve_orphan(store, coding_id: int, candidate: int | None, coder: str | None, reason: str | None = None) -> None:
    """A person's decision on an orphan: anchor it to candidate number ``candidate`` (1-based)
    of the current revision, or remove it (``candidate`` None). Inside a transaction."""
    row = store.conn.execute("SELECT * FROM codings WHERE id = ?", (coding_id,)).fetchone()
    if row is None or row["status"] != "orphaned":
        raise RtaError(f"coding {coding_id} is not orphaned", hint="see 'rta orphans'")
    if candidate is None:
        store.conn.execute("UPDATE codings SET status='removed' WHERE id=?", (coding_id,))
        store.log_event("coding.removed", {"coding": coding_id, "reason": reason or "orphan not re-anchored"}, coder)
        return
    data = json.loads(row["anchor_candidates"] or "{}")
    cands = data.get("candidates", [])
    current = store.transcript_row(row["transcript_id"])["revision"]
    if not (1 <= candidate <= len(cands)) or data.get("revision") != current:
        raise RtaError(
            f"coding {coding_id} has no candidate {candidate} in the current revision {current}",
            hint="see 'rta orphans'; or code the span anew with 'rta code' and remove the orphan",
        )
    from rta.coding import check_span, refuse_duplicate

    c = cands[candidate - 1]
    text = store.transcript_text(row["transcript_id"], current)
    start, end = c["start"], c["end"]
    # the same rules as a new coding: inside one informant turn, not a second coding of the span
    turn = check_span(store, row["transcript_id"], current, start, end)
    refuse_duplicate(store, row["transcript_id"], current, start, end, row["code"], exclude=coding_id,
                     coder=row["coder"])
    line_start, line_end = lines_of(text, start, end)
    digest = sha256_text(text[start:end])
    store.conn.execute(
        "UPDATE codings SET status='active', revision=?, start=?, end=?, line_start=?, line_end=?, turn_n=?, "
        "quote_sha256=?, anchor_similarity=?, anchor_candidates=NULL WHERE id=?",
        (current, start, end, line_start, line_end, turn["n"], digest, c["similarity"], coding_id),
    )
    store.log_event(
        "coding.reanchored",
        {"coding": coding_id, "transcript": row["transcript_id"], "method": "manual", "similarity": c["similarity"],
         "old": [row["revision"], row["start"], row["end"]], "new": [current, start, end],
         "old_sha256": row["quote_sha256"], "quote_sha256": digest, "reason": reason},
        coder,
    )
