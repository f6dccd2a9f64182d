"""Codings: a person's decision that a span of a transcript belongs to a code.

Every coding points at code-point offsets in one stored transcript revision and carries the
SHA-256 of the quoted text, the coder, the time, the codebook version and its origin
(``manual`` or an accepted ``suggested`` one). Codings are never deleted: removing one is a
status change and an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rta.errors import RtaError
from rta.fsutil import sha256_bytes, sha256_text
from rta.store import Store, now


@dataclass
class Coding:
    id: int
    transcript_id: str
    revision: int
    start: int
    end: int
    line_start: int
    line_end: int
    turn_n: int | None
    code: str
    codebook_version: int | None
    coder: str
    created: str
    status: str
    origin: str
    suggestion_id: int | None
    memo: str | None
    quote_sha256: str
    anchor_similarity: float | None = None
    anchor_candidates: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> "Coding":
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})


def ensure_codebook_version(store: Store, codebook_path: str | Path, coder: str | None) -> int:
    """The store's id for the codebook file as it is now; imports it (with its codes and an
    audit event) when its content is new, carrying codes renamed since the previous version
    (same GUID, other name) through to codings, themes and suggestions. Must run inside a
    transaction."""
    from rta.codebook_changes import import_codebook

    path = Path(codebook_path)
    if not path.is_file():
        raise RtaError("codebook not found", path=path, hint="set [paths] codebook in rta.toml")
    data = path.read_bytes()
    digest = sha256_bytes(data)
    row = store.conn.execute("SELECT id FROM codebook_versions WHERE sha256 = ?", (digest,)).fetchone()
    if row:
        return int(row["id"])
    return import_codebook(store, path, data, coder)


def code_names(store: Store, codebook_version: int) -> list[str]:
    return [r["name"] for r in store.conn.execute(
        "SELECT name FROM codes WHERE codebook_version = ? ORDER BY name", (codebook_version,))]


def check_code(store: Store, codebook_version: int, code: str) -> str:
    """The code's name as the codebook spells it; a clear error with a did-you-mean if absent."""
    names = code_names(store, codebook_version)
    if code in names:
        return code
    folded = {n.casefold(): n for n in names}
    if code.casefold() in folded:
        return folded[code.casefold()]
    from rapidfuzz import fuzz, process

    close = [h[0] for h in process.extract(code, names, scorer=fuzz.WRatio, limit=3, score_cutoff=60)]
    hint = f"did you mean {' or '.join(close)}?" if close else "see 'rta codebook show'"
    raise RtaError(f"unknown code '{code}' in the project's codebook", hint=hint)


def turn_at(store: Store, transcript_id: str, revision: int, offset: int) -> Any:
    return store.conn.execute(
        "SELECT * FROM turns WHERE transcript_id=? AND revision=? AND start<=? AND ? < MAX(end, start+1) ORDER BY n LIMIT 1",
        (transcript_id, revision, offset, offset),
    ).fetchone()


# --------------------------------------------------------------------------------------------
# What a coding's span may be: inside one informant turn, never a duplicate
#
# A coding is credited to the speaker of its turn (reports, exports, query_codings join turns by
# ``turn_n``), so a span that crossed into another turn would put words in the wrong mouth. The
# rule lives here, in one place: :func:`split_span` cuts a requested span into one span per
# informant turn, :func:`check_span` refuses anything else, and :func:`create_coding` calls it.


class SpanError(RtaError):
    """A span that cannot be a coding as it stands (crosses a turn, is the interviewer's, or is
    already coded with the code). Callers that import many spans catch it to skip one."""


SAME_PASSAGE = 0.5
"""Two spans are the same passage when they overlap by at least this share of the shorter."""


def overlap_share(a_start: int, a_end: int, b_start: int, b_end: int) -> float:
    """How much two spans overlap, as a share (0..1) of the shorter one: 1.0 when one lies
    inside the other. The one measure of "already coded" for suggest and review."""
    shorter = min(a_end - a_start, b_end - b_start)
    if shorter <= 0:
        return 0.0
    return max(0, min(a_end, b_end) - max(a_start, b_start)) / shorter


class SpanIndex:
    """Decided spans by (transcript, revision, code), to ask quickly whether a new span is the
    same passage (:data:`SAME_PASSAGE`) as one of them. ``ref`` names each (a coding id, ...)."""

    def __init__(self) -> None:
        self._spans: dict[tuple[str, int, str], list[tuple[int, int, Any]]] = {}
        self._ready: dict[tuple[str, int, str], tuple[list[int], int]] = {}

    def add(self, transcript_id: str, revision: int, code: str, start: int, end: int, ref: Any) -> None:
        key = (transcript_id, revision, code)
        self._spans.setdefault(key, []).append((start, end, ref))
        self._ready.pop(key, None)

    def find(self, transcript_id: str, revision: int, code: str, start: int, end: int) -> Any | None:
        """The ref of a span that is the same passage as ``start..end`` (the most overlapping,
        then the first), or None."""
        from bisect import bisect_left

        key = (transcript_id, revision, code)
        spans = self._spans.get(key)
        if not spans:
            return None
        if key not in self._ready:
            spans.sort(key=lambda s: (s[0], s[1]))
            self._ready[key] = ([s[0] for s in spans], max(s[1] - s[0] for s in spans))
        starts, longest = self._ready[key]
        best: tuple[float, Any] | None = None
        for i in range(bisect_left(starts, start - longest), bisect_left(starts, end)):
            s, e, ref = spans[i]
            share = overlap_share(start, end, s, e)
            if share >= SAME_PASSAGE and (best is None or share > best[0]):
                best = (share, ref)
        return best[1] if best else None


def coded_spans(store: Store, transcript_id: str | None = None, revision: int | None = None,
                code: str | None = None) -> SpanIndex:
    """The active codings (optionally of one transcript, revision, code) as a :class:`SpanIndex`
    whose refs are coding ids."""
    sql = "SELECT id, transcript_id, revision, code, start, end FROM codings WHERE status = 'active'"
    args: list[Any] = []
    for column, value in (("transcript_id", transcript_id), ("revision", revision), ("code", code)):
        if value is not None:
            sql += f" AND {column} = ?"
            args.append(value)
    index = SpanIndex()
    for r in store.conn.execute(sql, args):
        index.add(r["transcript_id"], r["revision"], r["code"], r["start"], r["end"], int(r["id"]))
    return index


def covering_coding(store: Store, transcript_id: str, revision: int, code: str, start: int, end: int) -> int | None:
    """The id of an active coding with ``code`` that is the same passage as ``start..end``."""
    return coded_spans(store, transcript_id, revision, code).find(transcript_id, revision, code, start, end)


@dataclass
class TurnSpan:
    """The part of a requested span that one informant said: a span a coding may have."""

    start: int
    end: int
    turn_n: int
    speaker: str
    informant: str
    line_start: int
    line_end: int
    adjusted: dict[str, Any] | None = None  # the span asked for began in this turn's label: logged with the coding


@dataclass(frozen=True)
class Basis:
    """The revision a span was chosen on: its number and the SHA-256 of its text as read. A
    span is offsets into that text, so the coding is written only if the transcript still has
    exactly that current text (:func:`check_basis`, inside the writing transaction)."""

    transcript_id: str
    revision: int
    sha256: str


class SpanChanged(RtaError):
    """The transcript got a new revision between choosing a span and writing its coding."""


class StaleRevision(RtaError):
    """A coding asked for on a revision that a newer one has replaced."""


def basis_of(store: Store, transcript_id: str, revision: int | None = None) -> Basis:
    """The :class:`Basis` of the transcript's current revision (or ``revision``): take it
    before choosing a span, and pass it to :func:`split_span` and :func:`create_coding`."""
    revision = revision or _current_revision(store, transcript_id)
    return Basis(transcript_id, revision, sha256_text(store.transcript_text(transcript_id, revision)))


def check_basis(store: Store, basis: Basis) -> None:
    """:class:`SpanChanged` unless ``basis`` is still the transcript's current revision with the
    same text. Call it inside the writing transaction (``BEGIN IMMEDIATE``: no other process can
    store a revision between this check and the commit), so a span is never written onto words
    other than the ones it was chosen on."""
    current = _current_revision(store, basis.transcript_id)
    same = current == basis.revision and sha256_text(store.transcript_text(basis.transcript_id, current)) == basis.sha256
    if not same:
        raise SpanChanged(
            f"transcript '{basis.transcript_id}' changed while you were choosing the span "
            f"(revision {basis.revision} -> {current}); run the command again",
            hint="nothing was coded: the span was chosen on text the transcript no longer has")


def _lines_of(text: str, start: int, end: int) -> tuple[int, int]:
    line_start = text.count("\n", 0, start) + 1
    return line_start, line_start + text.count("\n", start, max(start, end - 1))


def _where(text: str, transcript_id: str, start: int, end: int) -> str:
    a, b = _lines_of(text, start, end)
    return f"the span at line {a} of '{transcript_id}'" if a == b else f"the span at lines {a}-{b} of '{transcript_id}'"


def _next_informant_turn(store: Store, transcript_id: str, revision: int, offset: int) -> Any:
    return store.conn.execute(
        "SELECT n, speaker, line_start, line_end FROM turns WHERE transcript_id=? AND revision=? AND informant IS NOT NULL "
        "ORDER BY (start < ?), ABS(start - ?) LIMIT 1", (transcript_id, revision, offset, offset)).fetchone()


def _informant_hint(store: Store, transcript_id: str, revision: int, offset: int) -> str:
    near = _next_informant_turn(store, transcript_id, revision, offset)
    if near is None:
        return f"'{transcript_id}' has no informant turn to code"
    return (f"code what an informant says, e.g. {near['speaker']}'s turn {near['n']}: "
            f"rta code {transcript_id} --lines {near['line_start']}-{near['line_end']} --code ...")


def split_span(store: Store, transcript_id: str, start: int, end: int, revision: int | None = None,
               basis: Basis | None = None) -> list[TurnSpan]:
    """Cut a requested span (lines, a turn, a quote, a selection from another tool) into the
    spans codings may have: one per informant turn it touches, cut to the turn (so labels stay
    out), trimmed of surrounding blanks; the interviewer's turns are left out. Refuses
    (:class:`SpanError`) a span that holds no informant's words. With ``basis`` (the revision
    the span was chosen on) it first checks that revision is still current (:func:`check_basis`)."""
    if basis is not None:
        check_basis(store, basis)
        revision = basis.revision
    revision = revision or _current_revision(store, transcript_id)
    text = store.transcript_text(transcript_id, revision)
    rows = store.conn.execute(
        "SELECT n, speaker, informant, start, end FROM turns WHERE transcript_id=? AND revision=? "
        "AND end > ? AND start < ? ORDER BY n", (transcript_id, revision, start, end)).fetchall()
    where = _where(text, transcript_id, start, end)
    if not rows:
        raise SpanError(f"{where} holds no speaker turn (front matter, a label or blank lines)",
                        hint=_informant_hint(store, transcript_id, revision, start))
    out: list[TurnSpan] = []
    for i, r in enumerate(rows):
        if r["informant"] is None:
            continue
        s, e = _trim(text, max(start, r["start"]), min(end, r["end"]))
        if s < e:
            adjusted = None
            if i == 0 and start < r["start"] and text[start:r["start"]].strip():
                # the span began in the turn's speaker label or timestamp (line-level coders select
                # whole lines): it is that turn's, from where its text begins, and the log says so
                adjusted = {"requested": [start, end], "moved_to": s,
                            "reason": f"began inside the speaker label or timestamp of turn {r['n']} ({r['speaker']})"}
            out.append(TurnSpan(s, e, r["n"], r["speaker"], r["informant"], *_lines_of(text, s, e), adjusted))
    if not out:
        raise SpanError(f"{where} holds only the interviewer's words: codings are of what informants say",
                        hint=_informant_hint(store, transcript_id, revision, start))
    return out


def check_span(store: Store, transcript_id: str, revision: int, start: int, end: int) -> Any:
    """The informant turn that holds all of ``text[start:end]``; :class:`SpanError` for a span
    that crosses a turn boundary, reaches into a label or lies in the interviewer's turn."""
    text = store.transcript_text(transcript_id, revision)
    rows = store.conn.execute(
        "SELECT * FROM turns WHERE transcript_id=? AND revision=? AND end > ? AND start < ? ORDER BY n",
        (transcript_id, revision, start, end)).fetchall()
    where = _where(text, transcript_id, start, end)
    inside = [r for r in rows if r["start"] <= start and end <= r["end"]]
    if inside:
        turn = inside[0]
        if turn["informant"] is None:
            raise SpanError(f"{where} lies in the interviewer's turn ({turn['speaker']}, turn {turn['n']}): "
                            "codings are of what informants say",
                            hint=_informant_hint(store, transcript_id, revision, start))
        return turn
    if len(rows) > 1:
        speakers = ", ".join(r["speaker"] for r in rows)
        raise SpanError(f"{where} crosses {len(rows)} turns ({speakers}): a coding never crosses a turn",
                        hint="code each informant's words apart ('rta code --lines' splits such a span into "
                             "one coding per informant turn)")
    if rows:
        raise SpanError(f"{where} reaches beyond turn {rows[0]['n']} ({rows[0]['speaker']}) into a speaker label "
                        "or the lines around it", hint="a coding holds only the words of one turn")
    raise SpanError(f"{where} holds no speaker turn (front matter, a label or blank lines)",
                    hint=_informant_hint(store, transcript_id, revision, start))


def duplicate_of(store: Store, transcript_id: str, revision: int, start: int, end: int, code: str,
                 exclude: int | None = None, coder: str | None = None) -> int | None:
    """The id of an active coding with exactly this span and code (other than ``exclude``; by
    ``coder`` when given: two coders coding the same words alike is agreement, not a duplicate)."""
    row = store.conn.execute(
        "SELECT id FROM codings WHERE transcript_id=? AND revision=? AND start=? AND end=? AND code=? "
        "AND status='active' AND id != ? AND (? IS NULL OR coder = ?) ORDER BY id LIMIT 1",
        (transcript_id, revision, start, end, code, -1 if exclude is None else exclude, coder, coder)).fetchone()
    return int(row["id"]) if row else None


def refuse_duplicate(store: Store, transcript_id: str, revision: int, start: int, end: int, code: str,
                     exclude: int | None = None, coder: str | None = None) -> None:
    """:class:`SpanError` naming the existing coding when this span is already coded ``code``
    (by ``coder``, when given)."""
    existing = duplicate_of(store, transcript_id, revision, start, end, code, exclude, coder)
    if existing is not None:
        text = store.transcript_text(transcript_id, revision)
        raise SpanError(f"{_where(text, transcript_id, start, end)} is already coded {code}: coding #{existing}",
                        hint=f"see 'rta codings --transcript {transcript_id}'; change it with "
                             f"'rta recode {existing}' or 'rta uncode {existing}'")


def create_coding(
    store: Store,
    transcript_id: str,
    start: int,
    end: int,
    code: str,
    coder: str,
    codebook_version: int,
    origin: str = "manual",
    suggestion_id: int | None = None,
    memo: str | None = None,
    revision: int | None = None,
    basis: Basis | None = None,
    imported: dict[str, Any] | None = None,
    adjusted: dict[str, Any] | None = None,
) -> int:
    """Record a coding of ``text[start:end]`` in the transcript's current revision and log it.

    ``imported`` (``rta import-qdpx``): ``{"coder": ..., "created": ...}`` of a coding made in
    another tool: the row keeps that coder and date, the event is ``coder``'s (who imported),
    so the log says who coded and who imported. ``adjusted``: how :func:`split_span` moved the
    span asked for (:attr:`TurnSpan.adjusted`), logged with the coding.

    The span must lie inside one informant turn and not repeat an active coding of the same
    code (:class:`SpanError` otherwise: see :func:`split_span` for cutting a longer span).
    A coding is only ever made on the current revision (:class:`StaleRevision` for an older
    ``revision``); with ``basis``, the revision the span was chosen on, :class:`SpanChanged`
    when the transcript got a new revision since. Must run inside :meth:`Store.transaction`.
    Returns the coding id.
    """
    row = store.transcript_row(transcript_id)
    if row is None:
        raise RtaError(f"no transcript '{transcript_id}' in this project", hint="see 'rta transcripts'")
    if basis is not None:
        if basis.transcript_id != transcript_id:
            raise ValueError(f"basis of '{basis.transcript_id}' given for '{transcript_id}'")
        if not store.in_transaction:
            raise RuntimeError("create_coding with a basis must run inside Store.transaction()")
        check_basis(store, basis)
        revision = basis.revision
    revision = revision or row["revision"]
    if revision != row["revision"]:
        raise StaleRevision(
            f"revision {revision} of '{transcript_id}' has been replaced by revision {row['revision']}: "
            "codings are made on the current text",
            hint=f"choose the span again in the current text (see 'rta codings --transcript {transcript_id}')")
    text = store.transcript_text(transcript_id, revision)
    if not (0 <= start < end <= len(text)):
        raise RtaError(f"span {start}-{end} is outside transcript '{transcript_id}' (length {len(text)})")
    code = check_code(store, codebook_version, code)
    turn = check_span(store, transcript_id, revision, start, end)
    refuse_duplicate(store, transcript_id, revision, start, end, code, coder=coder)
    quote = text[start:end]
    line_start, line_end = _lines_of(text, start, end)
    digest = sha256_text(quote)
    cur = store.conn.execute(
        "INSERT INTO codings(transcript_id, revision, start, end, line_start, line_end, turn_n, code, "
        "codebook_version, coder, created, status, origin, suggestion_id, memo, quote_sha256) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,'active',?,?,?,?)",
        (transcript_id, revision, start, end, line_start, line_end, turn["n"], code,
         codebook_version, (imported or {}).get("coder") or coder, (imported or {}).get("created") or now(), origin,
         suggestion_id, memo, digest),
    )
    coding_id = int(cur.lastrowid)
    payload = {"coding": coding_id, "transcript": transcript_id, "revision": revision, "start": start, "end": end,
               "code": code, "origin": origin, "suggestion": suggestion_id, "quote_sha256": digest,
               "codebook_version": codebook_version, "memo_sha256": None if memo is None else sha256_text(memo)}
    if imported:
        payload["imported"] = {k: v for k, v in imported.items() if v is not None}
    if adjusted:
        payload["adjusted"] = adjusted
    store.log_event("coding.added", payload, coder)
    return coding_id


def check_coder(store: Store, name: str) -> str:
    """``name`` if the project knows that coder (someone who made a decision here, or came with
    a merge); else an RtaError naming the coders there are."""
    known = [r[0] for r in store.conn.execute("SELECT name FROM coders ORDER BY name")]
    if name in known:
        return name
    folded = [k for k in known if k.casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise RtaError(f"no coder '{name}' in this project", hint="coders: " + (", ".join(known) or "none yet"))


def get_coding(store: Store, coding_id: int) -> Coding:
    row = store.conn.execute("SELECT * FROM codings WHERE id = ?", (coding_id,)).fetchone()
    if row is None:
        raise RtaError(f"no coding with id {coding_id}", hint="see 'rta codings'")
    return Coding.from_row(row)


# --------------------------------------------------------------------------------------------
# Choosing a span: lines, a turn, or a quote


def latest_codebook_version(store: Store) -> int | None:
    """The id of the most recently imported codebook version, or None before any import."""
    row = store.conn.execute("SELECT MAX(id) AS id FROM codebook_versions").fetchone()
    return int(row["id"]) if row and row["id"] is not None else None


def _current_revision(store: Store, transcript_id: str) -> int:
    row = store.transcript_row(transcript_id)
    if row is None:
        known = [r["id"] for r in store.conn.execute("SELECT id FROM transcripts ORDER BY id")]
        from rta.codebook import did_you_mean

        guess = did_you_mean(transcript_id, known)
        raise RtaError(
            f"no transcript '{transcript_id}' in this project",
            hint=f"did you mean {guess}?" if guess else "see 'rta transcripts'",
        )
    return int(row["revision"])


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def span_for_lines(store: Store, transcript_id: str, first: int, last: int,
                   revision: int | None = None) -> tuple[int, int]:
    """Code-point span of lines ``first..last`` (1-based, inclusive) of the current revision
    (or ``revision``: a :class:`Basis`'s), without speaker labels and surrounding blanks: what
    ``rta code --lines A-B`` codes."""
    revision = revision or _current_revision(store, transcript_id)
    text = store.transcript_text(transcript_id, revision)
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    if not (1 <= first <= last <= len(starts)):
        raise RtaError(
            f"lines {first}-{last} are outside transcript '{transcript_id}' ({len(starts)} lines)",
            hint="give --lines A-B with 1 <= A <= B <= the last line (see 'rta codings' or the file)",
        )
    start = starts[first - 1]
    end = starts[last] - 1 if last < len(starts) else len(text)
    # A turn whose text begins on the first line: skip its label ('S1: ').
    for t in store.conn.execute(
        "SELECT start, end, line_start, line_end FROM turns WHERE transcript_id=? AND revision=? "
        "AND line_start <= ? AND line_end >= ? ORDER BY n",
        (transcript_id, revision, last, first),
    ):
        if t["line_start"] == first and t["start"] > start:
            start = t["start"]
            break
    turns = store.conn.execute(
        "SELECT start, end FROM turns WHERE transcript_id=? AND revision=? AND end > ? AND start < ? ORDER BY n",
        (transcript_id, revision, start, end),
    ).fetchall()
    if not turns:
        raise RtaError(
            f"lines {first}-{last} of '{transcript_id}' hold no speaker turn (front matter or blank lines)",
            hint="give the lines of what an informant says",
        )
    start, end = max(start, turns[0]["start"]), min(end, turns[-1]["end"])
    start, end = _trim(text, start, end)
    if start >= end:
        raise RtaError(f"lines {first}-{last} of '{transcript_id}' hold no text to code")
    return start, end


def span_for_turn(store: Store, transcript_id: str, n: int, revision: int | None = None) -> tuple[int, int]:
    """Code-point span of turn ``n`` (1-based) of the current revision (or ``revision``)."""
    revision = revision or _current_revision(store, transcript_id)
    row = store.conn.execute(
        "SELECT start, end FROM turns WHERE transcript_id=? AND revision=? AND n=?", (transcript_id, revision, n)
    ).fetchone()
    if row is None:
        count = store.conn.execute(
            "SELECT COUNT(*) FROM turns WHERE transcript_id=? AND revision=?", (transcript_id, revision)
        ).fetchone()[0]
        raise RtaError(f"transcript '{transcript_id}' has no turn {n} (it has {count})", hint="turns are numbered from 1")
    return int(row["start"]), int(row["end"])


@dataclass
class QuoteSearch:
    """Where a typed quote stands in a transcript: verbatim spans, or the closest candidates."""

    exact: list[tuple[int, int]]
    candidates: list[Any]  # rta.anchor.Candidate, best first, when nothing matched verbatim


def find_quote(
    store: Store, transcript_id: str, quote: str, within: tuple[int, int] | None = None, limit: int = 3,
    min_similarity: float = 0.6, revision: int | None = None,
) -> QuoteSearch:
    """Find ``quote`` in the current revision: verbatim (character for character, a line break
    or run of blanks typed as one space, starting and ending on word boundaries), else candidates for a person to confirm, best first:
    spans differing only in case, spacing, line breaks or typographic quotes and dashes
    (similarity 1.0), then the closest spans (rapidfuzz). Candidates lie inside one informant
    turn each and start and end on word boundaries; a guess is never taken silently.
    ``revision``: search that revision instead (a :class:`Basis`'s)."""
    import re
    import unicodedata

    from rta.anchor import fuzzy_candidates, loose_candidates, on_word_boundaries

    revision = revision or _current_revision(store, transcript_id)
    text = store.transcript_text(transcript_id, revision)
    typed = unicodedata.normalize("NFC", quote).strip()
    if not typed:
        raise RtaError("the quote is empty", hint='give --quote "the words as they stand in the transcript"')
    lo, hi = within or (0, len(text))
    # Verbatim: the same characters, word for word; a line break (or a run of blanks) in the
    # transcript may be typed as one space, since line breaks are layout, not words.
    pattern = re.compile(r"\s+".join(re.escape(w) for w in typed.split()))
    exact = [
        (m.start(), m.end())
        for m in pattern.finditer(text, lo, hi)
        if on_word_boundaries(text, m.start(), m.end())  # 'i var' inside 'Vi var' is no verbatim match
    ]
    if exact:
        return QuoteSearch(exact, [])
    regions = [
        (max(lo, r["start"]), min(hi, r["end"]))
        for r in store.conn.execute(
            "SELECT start, end FROM turns WHERE transcript_id=? AND revision=? AND informant IS NOT NULL "
            "AND end > ? AND start < ? ORDER BY n", (transcript_id, revision, lo, hi))
    ]
    if not regions:
        return QuoteSearch([], [])
    found = loose_candidates(typed, text, regions)
    for c in fuzzy_candidates(" ".join(typed.split()), text, regions, limit=limit + 2):
        if c.similarity >= min_similarity and all(c.end <= f.start or c.start >= f.end for f in found):
            found.append(c)
    return QuoteSearch([], found[:limit])


# --------------------------------------------------------------------------------------------
# Decisions on existing codings


def uncode(store: Store, coding_id: int, coder: str, reason: str | None = None) -> Coding:
    """Remove a coding as a logged decision: its status becomes ``removed``, the row and its
    history stay. Inside a transaction."""
    coding = get_coding(store, coding_id)
    if coding.status == "removed":
        raise RtaError(f"coding {coding_id} is already removed", hint="see 'rta log' for when and why")
    store.conn.execute("UPDATE codings SET status='removed' WHERE id=?", (coding_id,))
    store.log_event(
        "coding.removed",
        {"coding": coding_id, "transcript": coding.transcript_id, "code": coding.code,
         "previous_status": coding.status, "reason": reason},
        coder,
    )
    return get_coding(store, coding_id)


def recode(store: Store, coding_id: int, code: str, coder: str, codebook_version: int, reason: str | None = None) -> Coding:
    """Move a coding to another code (of ``codebook_version``), keeping its span and history."""
    coding = get_coding(store, coding_id)
    if coding.status != "active":
        raise RtaError(f"coding {coding_id} is {coding.status}; only active codings can be recoded",
                       hint="see 'rta orphans' for orphaned codings")
    new_code = check_code(store, codebook_version, code)
    if new_code == coding.code and codebook_version == coding.codebook_version:
        raise RtaError(f"coding {coding_id} already has code '{new_code}'")
    if new_code != coding.code:
        refuse_duplicate(store, coding.transcript_id, coding.revision, coding.start, coding.end, new_code, coding_id,
                         coder=coding.coder)
    store.conn.execute("UPDATE codings SET code=?, codebook_version=? WHERE id=?", (new_code, codebook_version, coding_id))
    store.log_event(
        "coding.recoded",
        {"coding": coding_id, "transcript": coding.transcript_id, "old_code": coding.code, "code": new_code,
         "old_codebook_version": coding.codebook_version, "codebook_version": codebook_version, "reason": reason},
        coder,
    )
    return get_coding(store, coding_id)


# --------------------------------------------------------------------------------------------
# Listing codings with their quote and source


@dataclass
class CodingView:
    """A coding as people read it: the decision plus its quote, speaker and themes."""

    id: int
    transcript_id: str
    revision: int
    start: int
    end: int
    line_start: int
    line_end: int
    turn_n: int | None
    code: str
    themes: list[str]
    codebook_version: int | None
    coder: str
    created: str
    status: str
    origin: str
    memo: str | None
    quote: str
    quote_sha256: str
    speaker: str | None
    informant: str | None
    role: str | None
    group: str | None
    anchor_similarity: float | None

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def theme_map(store: Store) -> dict[str, list[str]]:
    """Code name -> theme names. Themes built in the project (``themes``/``theme_codes``,
    discarded ones left out) win; before any are built, the latest codebook's themes count."""
    from rta.norsk import sort_no

    mapping: dict[str, list[str]] = {}
    rows = store.conn.execute(
        "SELECT t.name, tc.code FROM themes t JOIN theme_codes tc ON tc.theme_id = t.id WHERE t.status != 'discarded'"
    ).fetchall()
    if store.conn.execute("SELECT COUNT(*) FROM themes").fetchone()[0]:
        for r in rows:
            mapping.setdefault(r["code"], []).append(r["name"])
    else:
        row = store.conn.execute("SELECT sha256, content FROM codebook_versions ORDER BY id DESC LIMIT 1").fetchone()
        if row is not None:
            mapping = {k: list(v) for k, v in _codebook_themes(row["sha256"], row["content"]).items()}
    return {k: sort_no(set(v)) for k, v in mapping.items()}


_THEMES_CACHE: dict[str, dict[str, list[str]]] = {}


def _codebook_themes(sha256: str, content: str) -> dict[str, list[str]]:
    """Code -> themes of a stored codebook version (parsed once per process: versions are
    immutable and identified by their hash)."""
    if sha256 not in _THEMES_CACHE:
        from rta.codebook_yaml import parse_codebook

        mapping: dict[str, list[str]] = {}
        codebook, _problems = parse_codebook(content)
        if codebook is not None:
            for theme in codebook.themes:
                for code in theme.codes:
                    mapping.setdefault(code, []).append(theme.name)
        _THEMES_CACHE[sha256] = mapping
    return _THEMES_CACHE[sha256]


def query_codings(
    store: Store,
    code: str | None = None,
    informant: str | None = None,
    role: str | None = None,
    theme: str | None = None,
    transcript: str | None = None,
    status: str | None = "active",
    themes: dict[str, list[str]] | None = None,
    coder: str | None = None,
) -> list[CodingView]:
    """Codings with their quote and source, filtered; ``status`` None means every status.
    ``role`` is a role key (e.g. ``skoleeier``); names are compared case-insensitively."""
    from rta.informants import squash

    themes = theme_map(store) if themes is None else themes
    sql = (
        "SELECT c.*, t.speaker, t.informant, t.role, t.grp FROM codings c "
        "LEFT JOIN turns t ON t.transcript_id = c.transcript_id AND t.revision = c.revision AND t.n = c.turn_n WHERE 1=1"
    )
    args: list[Any] = []
    if status:
        sql += " AND c.status = ?"
        args.append(status)
    if code:
        sql += " AND c.code = ? COLLATE NOCASE"
        args.append(code)
    if transcript:
        sql += " AND c.transcript_id = ?"
        args.append(transcript)
    if coder:
        sql += " AND c.coder = ?"
        args.append(coder)
    if role:
        sql += " AND t.role = ? COLLATE NOCASE"
        args.append(role)
    sql += " ORDER BY c.transcript_id, c.start, c.id"
    theme_key = theme.casefold() if theme else None
    texts: dict[tuple[str, int], str] = {}
    out: list[CodingView] = []
    for r in store.conn.execute(sql, args):
        if informant and squash(r["informant"] or "").casefold() != squash(informant).casefold():
            continue
        code_themes = themes.get(r["code"], [])
        if theme_key and theme_key not in {t.casefold() for t in code_themes}:
            continue
        key = (r["transcript_id"], r["revision"])
        if key not in texts:
            texts[key] = store.transcript_text(*key)
        out.append(CodingView(
            r["id"], r["transcript_id"], r["revision"], r["start"], r["end"], r["line_start"], r["line_end"],
            r["turn_n"], r["code"], code_themes, r["codebook_version"], r["coder"], r["created"], r["status"],
            r["origin"], r["memo"], texts[key][r["start"]:r["end"]], r["quote_sha256"], r["speaker"],
            r["informant"], r["role"], r["grp"], r["anchor_similarity"],
        ))
    return out
