"""Candidate codings proposed per passage: the NLP assistant.

A suggestion is never a coding: it waits in the store (status ``suggested``) until a person
accepts it in ``rta review``. This module runs the matcher (rta.matcher: indicators found word
by word, evidence ranked per passage, the learned part of rta.learn) over a project's
informant turns and stores the candidates with the evidence that produced each, logged.

Text damaged by OCR or typed without æ/ø/å is matched through rta.ocr (unknown forms restored
word by word, words split at line ends joined for matching with a map back); the stored text
and its offsets never change.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from rta.errors import RtaError
from rta.matcher import Candidate, Matcher, SuggestOptions, TurnInput, evidence_json
from rta.store import Store, now

@dataclass
class SuggestResult:
    """What a run did (printed by the CLI, logged in the audit event)."""

    turns: int = 0
    words: int = 0
    candidates: int = 0
    passages: int = 0  # passages that proposed at least one code
    raw_candidates: int = 0  # sentence x code pairs with evidence: what a sentence-level assistant proposed
    learned_codes: list[str] = field(default_factory=list)
    model: str = ""
    new: int = 0
    existing: int = 0
    codes: list[str] = field(default_factory=list)
    pipeline: str = ""
    by_method: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Running over a project


def informant_turns(store: Store, transcript: str | None = None) -> list[TurnInput]:
    """The current revision's informant turns (the interviewer's are never read)."""
    if transcript is not None and store.transcript_row(transcript) is None:
        raise RtaError(f"no transcript '{transcript}' in this project", hint="see 'rta transcripts'")
    texts: dict[tuple[str, int], str] = {}
    out: list[TurnInput] = []
    for row in store.current_turns(transcript):
        if row["informant"] is None:
            continue
        key = (row["transcript_id"], row["revision"])
        if key not in texts:
            texts[key] = store.transcript_text(*key)
        out.append(TurnInput(row["transcript_id"], row["revision"], row["n"], row["start"],
                             texts[key][row["start"]:row["end"]]))
    return out


def _lines(store: Store, candidates: list[Candidate]) -> None:
    cache: dict[tuple[str, int], list[int]] = {}
    for c in candidates:
        key = (c.transcript_id, c.revision)
        if key not in cache:
            text = store.transcript_text(*key)
            cache[key] = [m.start() for m in re.finditer("\n", text)]
        newlines = cache[key]
        c.line_start = bisect_right(newlines, c.start - 1) + 1 if c.start else 1
        c.line_end = bisect_right(newlines, max(c.start, c.end - 1) - 1) + 1


_LINE_END_HYPHEN = re.compile(r"[^\W\d_][-\u2010\u00ad\u00ac][ \t]*(?:\r\n|\r|\n|[ \t])[ \t]*[^\W\d_]")


def _dehyphenated(turn: TurnInput, maps: dict[tuple[str, int], list[int]]) -> TurnInput:
    """The turn with words split at line ends joined (``ord-\\nninga`` -> ``ordninga``,
    rta.ocr.dehyphenate) for matching; the map back to the stored text goes in ``maps``. Most
    turns have no such break and are returned as they are (one regex search)."""
    text = turn.text
    if not ("-" in text or "\u00ad" in text or "\u2010" in text or "\u00ac" in text) \
            or ("\u00ad" not in text and not _LINE_END_HYPHEN.search(text)):
        return turn
    from rta.ocr import dehyphenate

    joined, offsets = dehyphenate(turn.text)
    if joined == turn.text:
        return turn
    maps[(turn.transcript_id, turn.n)] = offsets
    return TurnInput(turn.transcript_id, turn.revision, turn.n, turn.start, joined)


def generate(store: Store, turns: list[TurnInput], matcher: Matcher,
             progress: Callable[[int], None] | None = None, learner: Any = None) -> list[Candidate]:
    """The proposed codes of every passage of ``turns``: indicator evidence, plus the
    project's learned model where it has one (``learner``, rta.learn), ranked per passage."""
    opts = matcher.options
    candidates: list[Candidate] = []
    chunk: list[tuple[TurnInput, Any]] = []
    every = learner is not None and learner.active

    joined_maps: dict[tuple[str, int], list[int]] = {}
    turns = [_dehyphenated(t, joined_maps) for t in turns]

    matcher.learner = learner if every else None
    if every:
        learner.top = opts.max_codes

    def flush() -> None:
        for found, (turn, _doc) in zip(matcher.match_docs(chunk), chunk):
            back = joined_maps.get((turn.transcript_id, turn.n))
            if back is not None:  # spans found in the joined text, mapped to the stored text
                for c in found:
                    a, b = c.start - turn.start, c.end - turn.start
                    c.start = turn.start + back[a]
                    c.end = turn.start + (back[b - 1] + 1 if b > a else back[a])
            candidates.extend(found)

    for turn, doc in matcher.read(turns, progress):
        chunk.append((turn, doc))
        if len(chunk) >= opts.batch_size:
            flush()
            chunk = []
    flush()
    # reading order, so suggestion ids follow the transcripts (rta review --accept 12,13)
    candidates.sort(key=lambda c: (c.transcript_id, c.start, c.end, -c.score, c.code))
    _lines(store, candidates)
    return candidates


def store_candidates(store: Store, candidates: list[Candidate]) -> tuple[int, int]:
    """Insert candidates not already in the store; returns ``(new, existing)``.

    Idempotent: a suggestion with the same transcript revision, span, code and method is
    kept as it is (with its decision), and a span already decided for the code by any
    method is not proposed again. Nor is a passage already coded with the code (an active
    coding) or whose suggestion of the code was rejected: same passage meaning an overlap of
    at least half the shorter span (:func:`rta.coding.overlap_share`). Must run inside a
    transaction."""
    from rta.coding import coded_spans

    decided = {
        (r[0], r[1], r[2], r[3], r[4])
        for r in store.conn.execute(
            "SELECT transcript_id, revision, start, end, code FROM suggestions WHERE status != 'suggested'")
    }
    settled = coded_spans(store)  # active codings, plus rejected suggestions below
    for r in store.conn.execute(
            "SELECT id, transcript_id, revision, start, end, code FROM suggestions WHERE status = 'rejected'"):
        settled.add(r["transcript_id"], r["revision"], r["code"], r["start"], r["end"], ("suggestion", r["id"]))
    ts = now()
    rows = []
    existing = 0
    encode = evidence_json
    for c in candidates:
        if (c.transcript_id, c.revision, c.start, c.end, c.code) in decided or \
                settled.find(c.transcript_id, c.revision, c.code, c.start, c.end) is not None:
            existing += 1
            continue
        rows.append((c.transcript_id, c.revision, c.turn_n, c.start, c.end, c.line_start, c.line_end, c.code,
                     c.score, c.method, c.evidence_json or encode(c.evidence), c.pipeline, ts))
    before = store.conn.total_changes
    store.conn.executemany(
        "INSERT OR IGNORE INTO suggestions(transcript_id, revision, turn_n, start, end, line_start, line_end, "
        "code, score, method, evidence, pipeline, status, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'suggested',?)",
        rows)
    new = store.conn.total_changes - before
    existing += len(rows) - new
    return new, existing


def run_suggest(project: Any, options: SuggestOptions | None = None, coder: str | None = None,
                progress: Callable[[int], None] | None = None,
                on_start: Callable[[int], None] | None = None) -> SuggestResult:
    """``rta suggest``: read the project's informant turns, match, store new candidates and
    log the run, all in one transaction."""
    from rta.codebook_yaml import load_codebook
    from rta.nlp import load_pipeline

    options = options or SuggestOptions()
    codebook = load_codebook(project.codebook_path)
    if options.codes:
        options.codes = [codebook.code(c).name for c in options.codes]
    if not (0.0 <= options.min_score <= 1.0):
        raise RtaError(f"--min-score must be between 0 and 1, got {options.min_score}")
    if options.passage_sentences < 1:
        raise RtaError(f"--passage-sentences must be 1 or more, got {options.passage_sentences}")
    if options.max_codes < 1:
        raise RtaError(f"--max-codes must be 1 or more, got {options.max_codes}")
    nlp, info = load_pipeline(project.config.pipeline, project.root)
    matcher = Matcher(nlp, info.label, codebook, options)
    store = project.store
    who = project.coder(coder)
    turns = informant_turns(store, options.transcript)
    result = SuggestResult(turns=len(turns), words=sum(len(t.text.split()) for t in turns), pipeline=info.label)
    if on_start is not None:
        on_start(result.words)
    with store.transaction():
        from rta.anchor import settle_suggestions

        settle_suggestions(store, who, options.transcript)  # none left pending on a superseded revision
        learner = None
        if options.learn:
            from rta.learn import MIN_POSITIVES, build_learner

            learner = build_learner(store, codebook, matcher.index.codes, matcher.lemma_of, matcher.stop_words,
                                    min_positives=options.min_positives or MIN_POSITIVES)
            if learner.active:
                result.learned_codes = list(learner.codes)
                result.model = learner.version
        candidates = generate(store, turns, matcher, progress, learner)
        result.candidates = len(candidates)
        result.raw_candidates = matcher.raw_pairs
        result.passages = len({(c.transcript_id, c.start, c.end) for c in candidates})
        result.codes = sorted({c.code for c in candidates})
        result.by_method = dict(Counter(c.method for c in candidates))
        result.new, result.existing = store_logged(store, candidates, who, {
            "pipeline": info.label, "codebook_sha256": codebook.sha256, "transcript": options.transcript,
            "codes": options.codes, "min_score": options.min_score, "max_codes": options.max_codes,
            "passage_sentences": options.passage_sentences, "learned_codes": result.learned_codes,
            "model": result.model, "turns": result.turns, "words": result.words,
            "candidates": result.candidates, "raw_candidates": result.raw_candidates})
    return result


def store_logged(store: Store, candidates: list[Candidate], coder: str | None, run: dict[str, Any]) -> tuple[int, int]:
    """:func:`store_candidates`, then log 'suggestions.generated' with ``run`` (what produced
    them) and what was inserted: the first and last id, the rows' hash and a short digest per
    row, so the audit can tell the suggestions table from hand edits. Returns ``(new, existing)``.
    Inside a transaction."""
    from rta.rowhash import SUGGESTION_ROW_SQL, suggestion_rows_hashes

    before = store.conn.execute("SELECT COALESCE(MAX(id), 0) FROM suggestions").fetchone()[0]
    new, existing = store_candidates(store, candidates)
    inserted = [list(r) for r in store.conn.execute(SUGGESTION_ROW_SQL + " WHERE id > ? ORDER BY id", (before,))]
    rows_sha, digests = suggestion_rows_hashes(inserted)
    store.log_event("suggestions.generated", {
        **run, "new": new, "existing": existing, "ids": [inserted[0][0], inserted[-1][0]] if inserted else [],
        "rows_sha256": rows_sha, "row_digests": digests}, coder)
    return new, existing
