"""Passages: the unit a researcher decides on when reviewing suggestions.

The matcher (rta.matcher) finds evidence word by word; a researcher does not code words or
sentence x code pairs but passages: a few sentences of one informant's turn. This module
decides what a passage is, combines a code's evidence within a passage, and ranks codes and
themes per passage, so a review is one decision per passage with at most a few codes.

Rules (documented in the README and pinned by tests/test_passages.py):

* A passage is one informant turn; a turn of more than ``max_sentences`` sentences is cut into
  the fewest near-equal runs of at most ``max_sentences`` sentences. Passages never cross
  turns, so never speakers. Blank lines inside a turn do not cut it: in transcripts they are
  mostly typing, and measured against our gold standard (benchmarks/bench_quality.py)
  cutting at them gave more passages to decide and no better recall.
* A code's score in a passage is the noisy-OR of its *distinct* indicators' best weights:
  ``1 - prod(1 - w)``. Saying ``tid`` five times is one piece of evidence, ``tid`` and
  ``tidspress`` are two. Learned evidence (rta.learn) joins as one more item.
* A passage proposes its ``max_codes`` strongest codes scoring at least ``min_score``.
* Themes: each proposed code gives its score to the themes it belongs to, split equally when
  it belongs to several (``Relasjoner`` is in Kommunikasjon and Kontinuitet: half to each);
  a theme's score is the noisy-OR of the credits it gets. Themes are ranked by score.

The matcher applies these rules to a whole batch of passages at once, over arrays
(:func:`rank_table`); :func:`rank_codes` and :func:`combine` run the same table for one passage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

MAX_SENTENCES = 10
MAX_CODES = 3
MIN_SCORE = 0.4



@dataclass(slots=True)
class Evidence:
    """One reason to propose a code: an indicator a word matched, or a learned model's
    judgement of the whole passage."""

    weight: float
    indicator: str
    token: str
    method: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"indicator": self.indicator, "token": self.token, "method": self.method}
        out.update(self.extra)
        return out


@dataclass
class Passage:
    """Sentences ``[first, last]`` of one informant turn; ``start``/``end`` are offsets into the
    transcript text (whitespace trimmed). One passage's evidence as objects, for
    :func:`rank_codes`; the matcher keeps a whole batch's as :class:`EvidenceArrays`."""

    transcript_id: str
    revision: int
    turn_n: int
    start: int
    end: int
    first: int = 0
    last: int = 0
    # code -> evidence key (token position, or a learned model's name) -> evidence
    evidence: dict[str, dict[Any, Evidence]] = field(default_factory=dict)

    def add(self, code: str, key: Any, item: Evidence) -> None:
        slot = self.evidence.setdefault(code, {})
        prev = slot.get(key)
        if prev is None or prev.weight < item.weight:
            slot[key] = item


def combine(items: Iterable[Evidence]) -> float:
    """``1 - prod(1 - w)`` over distinct indicators, each counted once at its best weight (the
    rule :func:`rank_table` applies to a whole batch; this is it for one code's evidence)."""
    items = list(items)
    if not items:
        return 0.0
    passage = Passage("", 0, 0, 0, 0)
    for k, e in enumerate(items):
        passage.add("x", k, e)
    ranked = rank_codes(passage, max_codes=0, min_score=-1.0)
    return ranked[0].score if ranked else 0.0


def indicator_key(method: str, indicator: str) -> str:
    """What makes two evidence items the same indicator (counted once): the indicator's name,
    and for learned evidence its method (a model is one piece of evidence, whatever its name)."""
    return (method if method in ("learned", "examples") else "") + "\x00" + indicator.lower()


LEARNED_POS = 1 << 62  # the position key learned evidence sorts at: after every token


@dataclass
class EvidenceArrays:
    """A batch's evidence as parallel arrays, one row per evidence item (at most one per
    passage, code and token position; learned evidence at :data:`LEARNED_POS`): what
    :func:`rank_table` ranks. ``key`` numbers distinct indicators (see :func:`combine`),
    ``method`` is the method's rank (rta.indicators.METHOD_ORDER), ``item`` points into the
    caller's list of what to show for each row."""

    pid: Any
    code: Any
    key: Any
    pos: Any
    weight: Any
    method: Any
    item: Any


@dataclass(slots=True)
class Ranked:
    """A code a passage proposes: its passage (row of the batch), code number, score, its
    strongest evidence row, and its evidence rows in text order."""

    pid: int
    code: int
    score: float
    best: int
    rows: list[int]


def rank_table(ev: EvidenceArrays, code_order: Any, max_codes: int = MAX_CODES,
               min_score: float = MIN_SCORE) -> list[Ranked]:
    """Score and rank every (passage, code) of a batch at once: a code's score in a passage is
    ``1 - prod(1 - w)`` over its distinct indicators at their best weights (one item alone: its
    weight), rounded to 4 decimals; a passage keeps its ``max_codes`` strongest codes (0: all)
    scoring ``min_score``+, ordered by score, then the rank of the strongest evidence's method,
    then ``code_order`` (each code's place in name order), so runs are reproducible. Returned
    by passage and rank."""
    import numpy as np

    n = len(ev.pid)
    if not n:
        return []
    ncodes = int(ev.code.max()) + 1
    pair = ev.pid.astype(np.int64) * ncodes + ev.code
    weight = np.clip(ev.weight.astype(np.float64), 0.0, 1.0)
    # best weight per (pair, indicator); stable, so the first of equal weights counts
    order = np.lexsort((-weight, ev.key, pair))
    p_s, k_s = pair[order], ev.key[order]
    first = np.r_[True, (p_s[1:] != p_s[:-1]) | (k_s[1:] != k_s[:-1])]
    g_pair, g_w = p_s[first], weight[order][first]
    starts = np.flatnonzero(np.r_[True, g_pair[1:] != g_pair[:-1]])
    pairs = g_pair[starts]
    miss = np.multiply.reduceat(1.0 - g_w, starts)
    items_per_pair = np.bincount(np.searchsorted(pairs, pair), minlength=len(pairs))
    single = items_per_pair == 1
    raw = np.where(single, g_w[starts], np.clip(1.0 - miss, 0.0, 1.0))
    score = np.array([round(x, 4) for x in raw.tolist()])
    keep = score >= min_score
    # the strongest item of each pair: highest weight, then the better method
    best_order = np.lexsort((ev.method, -weight, pair))
    b_pair = pair[best_order]
    b_first = best_order[np.r_[True, b_pair[1:] != b_pair[:-1]]]
    best_method = ev.method[b_first]
    k_pairs, k_score, k_method, k_best = pairs[keep], score[keep], best_method[keep], b_first[keep]
    k_pid, k_code = k_pairs // ncodes, k_pairs % ncodes
    rank = np.lexsort((np.asarray(code_order)[k_code], k_method, -k_score, k_pid))
    k_pid, k_code, k_score, k_method, k_pairs, k_best = (
        a[rank] for a in (k_pid, k_code, k_score, k_method, k_pairs, k_best))
    if max_codes:
        pstart = np.r_[True, k_pid[1:] != k_pid[:-1]]
        place = np.arange(len(k_pid)) - np.maximum.accumulate(np.where(pstart, np.arange(len(k_pid)), 0))
        sel = place < max_codes
        k_pid, k_code, k_score, k_pairs, k_best = (a[sel] for a in (k_pid, k_code, k_score, k_pairs, k_best))
    # evidence rows of the kept pairs, in text order
    by_pos = np.lexsort((ev.pos, pair))
    pos_pairs = pair[by_pos]
    lo = np.searchsorted(pos_pairs, k_pairs, side="left").tolist()
    hi = np.searchsorted(pos_pairs, k_pairs, side="right").tolist()
    rows = by_pos.tolist()
    return [Ranked(p, c, s, m, rows[a:b]) for p, c, s, m, a, b in
            zip(k_pid.tolist(), k_code.tolist(), k_score.tolist(), k_best.tolist(), lo, hi)]


def segment(sentence_offsets: list[int], text: str, max_sentences: int = MAX_SENTENCES) -> list[tuple[int, int]]:
    """Cut a turn's sentences (their character offsets in ``text``, ascending, the first 0)
    into passages: the fewest near-equal runs of at most ``max_sentences`` sentences. Returns
    ``(first, last)`` sentence indexes, inclusive."""
    n = len(sentence_offsets)
    if not n:
        return []
    parts = -(-n // max(1, max_sentences))
    size, extra = divmod(n, parts)
    out: list[tuple[int, int]] = []
    k = 0
    for p in range(parts):
        take = size + (1 if p < extra else 0)
        out.append((k, k + take - 1))
        k += take
    return out


def span_of(text: str, sentence_offsets: list[int], first: int, last: int) -> tuple[int, int]:
    """Character span of sentences ``first..last`` in ``text``, whitespace trimmed."""
    start = sentence_offsets[first]
    end = sentence_offsets[last + 1] if last + 1 < len(sentence_offsets) else len(text)
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return start, end


@dataclass
class RankedCode:
    code: str
    score: float
    evidence: list[Evidence]
    method: str


def rank_codes(passage: Passage, max_codes: int = MAX_CODES, min_score: float = MIN_SCORE,
               order: dict[str, int] | None = None) -> list[RankedCode]:
    """The passage's strongest codes (at most ``max_codes``, each scoring ``min_score``+),
    best first, by :func:`rank_table` (``order``: each method's rank)."""
    import numpy as np

    order = order or {}
    codes = sorted(c for c, items in passage.evidence.items() if items)
    cols: dict[str, list] = {k: [] for k in ("code", "key", "pos", "weight", "method")}
    items: list[Evidence] = []
    keys: dict[str, int] = {}
    for c, code in enumerate(codes):
        for pos, e in passage.evidence[code].items():
            cols["code"].append(c)
            cols["key"].append(keys.setdefault(indicator_key(e.method, e.indicator), len(keys)))
            cols["pos"].append(pos if isinstance(pos, int) else LEARNED_POS)
            cols["weight"].append(e.weight)
            cols["method"].append(order.get(e.method, 99))
            items.append(e)
    n = len(items)
    ev = EvidenceArrays(np.zeros(n, dtype=np.int64), np.array(cols["code"], dtype=np.int64),
                        np.array(cols["key"], dtype=np.int64), np.array(cols["pos"], dtype=np.int64),
                        np.array(cols["weight"], dtype=np.float64), np.array(cols["method"], dtype=np.int64),
                        np.arange(n))
    return [RankedCode(codes[r.code], r.score, [items[i] for i in r.rows], items[r.best].method)
            for r in rank_table(ev, np.arange(len(codes)), max_codes, min_score)]


def themes_ranked(code_scores: Iterable[tuple[str, float]], themes_of: dict[str, list[str]]) -> list[tuple[str, float]]:
    """Themes implied by a passage's codes, best first: each code's score split equally over
    the themes it belongs to, combined per theme by noisy-OR. Codes outside every theme imply
    none."""
    miss: dict[str, float] = {}
    for code, score in code_scores:
        themes = themes_of.get(code) or []
        if not themes:
            continue
        credit = score / len(themes)
        for theme in themes:
            miss[theme] = miss.get(theme, 1.0) * (1.0 - credit)
    ranked = [(theme, round(1.0 - m, 4)) for theme, m in miss.items()]
    ranked.sort(key=lambda t: (-t[1], t[0]))
    return ranked


def theme_membership(codebook: Any) -> dict[str, list[str]]:
    """Code name -> names of the themes listing it, in the codebook's theme order."""
    out: dict[str, list[str]] = {}
    for theme in getattr(codebook, "themes", []) or []:
        for code in getattr(theme, "codes", []) or []:
            out.setdefault(code, []).append(theme.name)
    return out
