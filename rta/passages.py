"""Passages: the unit a researcher decides on when reviewing suggestions.

The matcher (rta.suggest) finds evidence word by word; a researcher does not code words or
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
    transcript text (whitespace trimmed)."""

    transcript_id: str
    revision: int
    turn_n: int
    start: int
    end: int
    first: int = 0
    last: int = 0
    # code -> evidence key (token position, or a learned model's name) -> evidence
    evidence: dict[str, dict[Any, Evidence]] = field(default_factory=dict)
    # the passage's tokens in the batch the matcher read it in (for the learned part)
    tokens: tuple[int, int] = (0, 0)

    def add(self, code: str, key: Any, item: Evidence) -> None:
        slot = self.evidence.setdefault(code, {})
        prev = slot.get(key)
        if prev is None or prev.weight < item.weight:
            slot[key] = item

    def code_scores(self) -> dict[str, float]:
        """Noisy-OR over a code's distinct indicators (best weight of each)."""
        return {code: combine(items.values()) for code, items in self.evidence.items() if items}


def combine(items: Iterable[Evidence]) -> float:
    """``1 - prod(1 - w)`` over distinct indicators, each counted once at its best weight."""
    if not isinstance(items, list):
        items = list(items)
    if len(items) == 1:
        return round(min(1.0, max(0.0, items[0].weight)), 4)
    best: dict[tuple[str, str], float] = {}
    for e in items:
        key = (e.method if e.method in ("learned", "examples") else "", e.indicator.lower())
        if e.weight > best.get(key, -1.0):
            best[key] = e.weight
    miss = 1.0
    for w in best.values():
        miss *= 1.0 - min(1.0, max(0.0, w))
    return round(min(1.0, max(0.0, 1.0 - miss)), 4)


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
    best first; ties broken by the method's rank, then by name, so runs are reproducible."""
    order = order or {}
    scored = []
    for code, items in passage.evidence.items():
        if not items:
            continue
        values = list(items.values())
        score = combine(values)
        if score < min_score:
            continue
        best = max(values, key=lambda e: (e.weight, -order.get(e.method, 99))) if len(values) > 1 else values[0]
        scored.append((-score, order.get(best.method, 99), code, best.method))
    scored.sort()
    if max_codes:
        scored = scored[:max(0, max_codes)]
    out = []
    for neg, _rank, code, method in scored:  # evidence in text order, only for the codes kept
        items = passage.evidence[code]
        evidence = list(items.values()) if len(items) == 1 else [items[k] for k in sorted(items, key=_key_order)]
        out.append(RankedCode(code, -neg, evidence, method))
    return out


def _key_order(key: Any) -> tuple[int, Any]:
    return (0, key) if isinstance(key, int) else (1, str(key))


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
