"""The matcher: finds a codebook's indicators in informant turns and proposes codes per passage.

It reads turns with a spaCy pipeline in batches, finds the indicators word by word (the routes
and the sense policy are in rta.indicators), puts the evidence into passages and ranks codes
per passage over the batch's arrays (rta.passages), with what the project's own decisions teach
when a learned model is set (rta.learn). What it returns are candidates, not codings:
rta.suggest stores them as suggestions, logged, and a person decides on each.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from json.encoder import encode_basestring
from typing import Any, Callable, Iterable

from rta.indicators import (
    _FIXED_WORDS, _NO_SLOTS, _RANK, FIXED_EXPRESSIONS, FUZZY_THRESHOLD, ROM_NEXT, SLOTS, WEIGHTS, Hit,
    IndicatorIndex,
)
from rta.passages import (
    LEARNED_POS, MAX_CODES, MAX_SENTENCES, MIN_SCORE, EvidenceArrays, indicator_key, rank_table, segment, span_of,
)


@dataclass
class Candidate:
    """A proposed coding of ``text[start:end]`` with ``code``, before it is stored."""

    transcript_id: str
    revision: int
    turn_n: int
    start: int
    end: int
    line_start: int
    line_end: int
    code: str
    score: float
    method: str
    evidence: list[dict[str, str]]
    pipeline: str
    evidence_json: str = ""  # ``evidence`` as stored, when the matcher has encoded it already


@dataclass
class SuggestOptions:
    """Knobs of a run; the defaults are what ``rta suggest`` uses."""

    passage_sentences: int = MAX_SENTENCES  # a passage is at most this many sentences of a paragraph
    max_codes: int = MAX_CODES  # codes proposed per passage, strongest first
    min_score: float = MIN_SCORE
    codes: list[str] | None = None
    transcript: str | None = None
    learn: bool = True  # use the project's learned model for codes with enough examples (rta.learn)
    min_positives: int | None = None  # examples a code needs for a model (default rta.learn.MIN_POSITIVES)
    fuzzy_threshold: float = FUZZY_THRESHOLD
    batch_size: int = 256


@dataclass
class TurnInput:
    """An informant turn to read: where it is and its text."""

    transcript_id: str
    revision: int
    n: int
    start: int
    text: str


_EVIDENCE_KEYS = ("indicator", "token", "method")
_LEARNED_KEYS = (*_EVIDENCE_KEYS, "model", "probability", "positives")
_json_encode = json.JSONEncoder(ensure_ascii=False).encode


def evidence_fragment(item: dict[str, Any]) -> str:
    """``json.dumps(item, ensure_ascii=False)``, byte for byte, written directly for the usual
    evidence items (three string fields, or a learned model's six): tens of thousands per run."""
    q = encode_basestring
    keys = tuple(item)
    if keys == _EVIDENCE_KEYS and all(type(v) is str for v in item.values()):
        return f'{{"indicator": {q(item["indicator"])}, "token": {q(item["token"])}, "method": {q(item["method"])}}}'
    if keys == _LEARNED_KEYS and type(item["model"]) is str and type(item["probability"]) is float \
            and type(item["positives"]) is int and all(type(item[k]) is str for k in _EVIDENCE_KEYS):
        return (f'{{"indicator": {q(item["indicator"])}, "token": {q(item["token"])}, '
                f'"method": {q(item["method"])}, "model": {q(item["model"])}, '
                f'"probability": {float.__repr__(item["probability"])}, "positives": {item["positives"]}}}')
    return _json_encode(item)


def evidence_json(evidence: list[dict[str, Any]]) -> str:
    """``json.dumps(evidence, ensure_ascii=False)``, byte for byte."""
    return "[" + ", ".join(evidence_fragment(e) for e in evidence) + "]"


# ---------------------------------------------------------------------------------------
# Matching turns


def sentence_starts(orth: Any, is_punct: Any, punct_hashes: Any, offsets: Any) -> Any:
    """spaCy's Sentencizer rule, vectorised over a batch of docs (concatenated token
    arrays, ``offsets`` = doc boundaries): a token starts a sentence when it is the first of
    its doc, or when it is no punctuation and the last token before it that is either a
    sentence-final character or a word is a sentence-final character. Returns 1/0 per token."""
    import numpy as np

    n = len(orth)
    final = np.isin(orth, punct_hashes)
    word = (is_punct == 0) & ~final
    kind = np.where(final, 1, np.where(word, 2, 0))
    positions = np.where(kind > 0, np.arange(n), -1)
    last = np.maximum.accumulate(positions) if n else positions
    prev = np.empty(n, dtype=np.int64)
    if n:
        prev[0] = -1
        prev[1:] = last[:-1]
    doc_start = np.zeros(n, dtype=np.int64)
    starts = np.asarray(offsets[:-1], dtype=np.int64)
    if n:
        doc_start[:] = np.repeat(starts, np.diff(np.asarray(offsets, dtype=np.int64)))
    same_doc = prev >= doc_start
    prev_kind = np.where(same_doc, kind[np.clip(prev, 0, None)], 0)
    out = (word & (prev_kind == 1)).astype(np.uint64)
    nonempty = starts[starts < n]
    out[nonempty] = 1
    return out


class Matcher:
    """Reads turns with a spaCy pipeline and turns indicator hits into candidates."""

    def __init__(self, nlp: Any, pipeline_label: str, codebook: Any, options: SuggestOptions | None = None) -> None:
        from rta.nlp import lemma_pos, lemma_table

        self.nlp = nlp
        self.pipeline_label = pipeline_label
        self.options = options or SuggestOptions()
        table = lemma_table()
        self.table = table
        stop = getattr(nlp.Defaults, "stop_words", set())
        self.stop_words = {w.lower() for w in stop}

        def lemma_of(word: str) -> str:
            return table.get(word, word)

        self.lemma_of = lemma_of
        self.index = IndicatorIndex(codebook, lemma_of, table, self.options.codes, self.options.fuzzy_threshold, stop,
                                    pos_of=lemma_pos())
        self.codebook = codebook
        self.raw_pairs = 0
        self.learner: Any = None  # rta.learn.Learner: scores every passage of a batch when set
        # numbers for the batch arrays: codes, distinct indicators, evidence as recorded
        self._code_ids: dict[str, int] = {}
        self._code_names: list[str] = []
        self._order: Any = None
        self._key_ids: dict[str, int] = {}
        self._item_ids: dict[tuple[str, str, str], int] = {}
        self._items: list[dict[str, str]] = []
        self._item_json: list[str] = []  # each item's JSON (evidence_fragment)
        self._learned_parts: dict[tuple[str, str], tuple[str, str]] = {}
        self._templates: dict[tuple[str, str, str, str], tuple[int, int, int, int]] = {}
        self._strings = nlp.vocab.strings
        self._info: dict[int, tuple[tuple[Hit, ...], tuple[int, ...]]] = {}
        self._trigger_set: set[int] = set()  # hashes with hits or phrase anchors
        self._linfo: dict[int, tuple[tuple[Hit, ...], tuple[int, ...]]] = {}  # the same for pipeline lemmas
        self._ltrigger_set: set[int] = set()
        self._trig_arr = None
        self._ltrig_arr = None
        self._punct_hashes = self._sentencizer_punct()
        self._guarded: set[int] = set()  # lower-case hashes the sense policy looks at
        from spacy.strings import get_string_id

        self._rom = get_string_id("rom")
        # word hash -> (its place, the expression's word hashes) of the fixed expressions with it
        self._fixed: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
        for expr in FIXED_EXPRESSIONS:
            hashes = tuple(get_string_id(w) for w in expr)
            for k, w in enumerate(expr):
                if w in _FIXED_WORDS:
                    self._fixed.setdefault(hashes[k], []).append((k, hashes))
        self._slots: dict[int, frozenset[int]] = {}  # lower-case hash -> phrase slots it fills
        # lower-case hash -> phrases whose word right after (before) the anchor it can be. A
        # pipeline lemma fills no phrase slot: phrases compare surface forms and the lexicon's
        # unambiguous lemmas (IndicatorIndex.word_keys)
        self._right: dict[int, frozenset[int]] = {}
        self._left: dict[int, frozenset[int]] = {}
        phrases = self.index.phrases
        self._need = [(ph.anchor > 0, ph.anchor < len(ph.words) - 1) for ph in phrases]
        self._after_anchor = {p * SLOTS + ph.anchor + 1: p for p, ph in enumerate(phrases)}
        self._before_anchor = {p * SLOTS + ph.anchor - 1: p for p, ph in enumerate(phrases) if ph.anchor}

    # -- per-hash analysis ----------------------------------------------------------------
    def _string(self, h: int) -> str:
        return self._strings[h] if h else ""

    def _classify_hashes(self, hashes: Iterable[int]) -> None:
        new = [h for h in hashes if h not in self._info]
        if not new:
            return
        strings = [self._string(h).lower() for h in new]
        for s in strings:
            self.index.classify(s)
        self.index.fuzzy_batch(strings)
        for h, s in zip(new, strings):
            info = self._info[h] = self.index.classify(s)
            sl = self._slots[h] = self.index.slots(*self.index.word_keys(s))
            self._left[h], self._right[h] = self._neighbours(sl)
            if info[0] or info[1]:
                self._trigger_set.add(h)
            if s == "rom" or s in _FIXED_WORDS:
                self._guarded.add(h)

    def _classify_lemmas(self, hashes: Iterable[int]) -> None:
        for h in hashes:
            s = self._string(h).lower()
            info = self._linfo[h] = self.index.classify(s, lemmatise=False)
            if info[0] or info[1]:
                self._ltrigger_set.add(h)

    def _neighbours(self, slots: frozenset[int]) -> tuple[frozenset[int], frozenset[int]]:
        """Phrases for which a token filling ``slots`` can stand just before / just after the
        anchor word: a phrase can only match where its anchor's neighbours qualify."""
        if not slots:
            return _NO_SLOTS, _NO_SLOTS
        left = frozenset(self._before_anchor[s] for s in slots if s in self._before_anchor)
        right = frozenset(self._after_anchor[s] for s in slots if s in self._after_anchor)
        return left or _NO_SLOTS, right or _NO_SLOTS

    def skippable(self) -> list[str]:
        """Components whose output the matcher does not read: entity recognisers, and a
        lookup lemmatizer whose table is the very table the matcher consults itself (once per
        distinct word instead of once per token), i.e. the embedded default's."""
        from rta.nlp import UNUSED_COMPONENTS, lemma_table

        skip = [name for name in self.nlp.pipe_names if name in UNUSED_COMPONENTS]
        if "lemmatizer" in self.nlp.pipe_names:
            pipe = self.nlp.get_pipe("lemmatizer")
            if getattr(pipe, "mode", None) == "lookup":
                try:
                    table = pipe.lookups.get_table("lemma_lookup")
                except (KeyError, ValueError):
                    table = None
                if getattr(table, "_data", None) is lemma_table():
                    skip.append("lemmatizer")
        if self._punct_hashes is not None:
            skip.append("sentencizer")
        return skip

    def _sentencizer_punct(self) -> Any:
        """Hashes of the sentencizer's punctuation characters when spaCy's rule-based
        Sentencizer is the only source of sentences; the matcher then applies the same rule
        itself, vectorised over a batch (see :func:`sentence_starts`). None otherwise."""
        import numpy as np
        from spacy.pipeline import Sentencizer
        from spacy.strings import get_string_id

        names = self.nlp.pipe_names
        if "sentencizer" not in names or any(n in names for n in ("parser", "senter")):
            return None
        pipe = self.nlp.get_pipe("sentencizer")
        if type(pipe) is not Sentencizer:
            return None
        return np.array(sorted(get_string_id(ch) for ch in pipe.punct_chars), dtype=np.uint64)

    def read(self, turns: list[TurnInput], progress: Callable[[int], None] | None = None) -> Iterable[tuple[TurnInput, Any]]:
        """Yield ``(turn, doc)`` for informant turns, read with ``nlp.pipe`` in batches and
        without the components the matcher does not use."""
        texts = (t.text for t in turns)
        with self.nlp.select_pipes(disable=self.skippable()):
            for turn, doc in zip(turns, self.nlp.pipe(texts, batch_size=self.options.batch_size)):
                yield turn, doc
                if progress is not None:
                    progress(len(turn.text.split()))

    def match_doc(self, turn: TurnInput, doc: Any) -> list[Candidate]:
        """Every code with evidence in each passage of one turn's doc, unranked (offsets
        shifted into the transcript): what the matcher saw, before a passage keeps its
        strongest codes."""
        return self.match_docs([(turn, doc)], max_codes=0, min_score=0.0)[0]

    def match_docs(self, pairs: list[tuple[TurnInput, Any]], max_codes: int | None = None,
                   min_score: float | None = None) -> list[list[Candidate]]:
        """The candidates of a batch of ``(turn, doc)``, per turn: evidence found word by word,
        put into passages, joined by the learned part when :attr:`learner` is set, and ranked
        per passage (rta.passages.rank_table), all over the batch's arrays at once. The token
        arrays of the batch are concatenated, so finding new words, trigger tokens, sentence
        starts and turns a regex may match is a few calls per batch, not a loop per token."""
        import numpy as np
        from spacy.attrs import IDX, IS_PUNCT, LEMMA, LOWER, ORTH, SENT_START

        max_codes = self.options.max_codes if max_codes is None else max_codes
        min_score = self.options.min_score if min_score is None else min_score
        out: list[list[Candidate]] = [[] for _ in pairs]
        if not pairs:
            return out
        attrs = [LOWER, LEMMA, SENT_START, IDX, ORTH, IS_PUNCT]
        arrays = [doc.to_array(attrs) if len(doc) else np.zeros((0, len(attrs)), dtype=np.uint64)
                  for _turn, doc in pairs]
        allarr = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
        offsets = np.cumsum([0] + [len(a) for a in arrays])
        if self._punct_hashes is not None:
            allarr[:, 2] = sentence_starts(allarr[:, 4], allarr[:, 5], self._punct_hashes, offsets)
        info, linfo = self._info, self._linfo
        missing = [h for h in np.unique(allarr[:, 0]).tolist() if h not in info]
        if missing:
            self._classify_hashes(missing)
        missing = [h for h in np.unique(allarr[:, 1]).tolist() if h and h not in linfo]
        if missing:
            self._classify_lemmas(missing)
        if self._trig_arr is None or len(self._trig_arr) != len(self._trigger_set):
            self._trig_arr = np.fromiter(self._trigger_set, dtype=np.uint64, count=len(self._trigger_set))
        if self._ltrig_arr is None or len(self._ltrig_arr) != len(self._ltrigger_set):
            self._ltrig_arr = np.fromiter(self._ltrigger_set, dtype=np.uint64, count=len(self._ltrigger_set))
        mask = np.isin(allarr[:, 0], self._trig_arr)
        if len(self._ltrig_arr):
            mask |= np.isin(allarr[:, 1], self._ltrig_arr)
        hits_at = np.flatnonzero(mask)
        ntok = len(allarr)
        bounds = offsets.tolist()
        is_start = allarr[:, 2] == 1
        is_start[[b for b in bounds[:-1] if b < ntok]] = True  # a turn's first token starts a sentence
        starts_at = np.flatnonzero(is_start)
        cuts = np.searchsorted(hits_at, offsets).tolist()
        scuts = np.searchsorted(starts_at, offsets).tolist()
        hits_list, starts_list = hits_at.tolist(), starts_at.tolist()
        # one conversion per batch; each turn then slices plain lists
        lowers, lemmas, idxs, orths = (allarr[:, c].tolist() for c in (0, 1, 3, 4))
        regex_turns = self._regex_turns([turn for turn, _doc in pairs])
        learner = self.learner
        every = learner is not None
        # passages: (turn, first sentence, last sentence), the batch token where each starts
        p_turn: list[int] = []
        p_sents: list[tuple[int, int]] = []
        p_tok: list[int] = []
        # evidence rows (rta.passages.EvidenceArrays) before passages are known: (token
        # position, code, indicator key, method rank, item) and the weight
        e_rows: list[tuple[int, int, int, int, int]] = []
        e_w: list[float] = []
        templates = self._templates
        sents_of: dict[int, list[int]] = {}
        for k, (turn, _doc) in enumerate(pairs):
            lo, hi = bounds[k], bounds[k + 1]
            if hi == lo:
                continue
            triggered = [i - lo for i in hits_list[cuts[k]:cuts[k + 1]]]
            regexes = regex_turns.get(k, ())
            if not triggered and not regexes and not every:
                continue
            sents = sents_of[k] = [i - lo for i in starts_list[scuts[k]:scuts[k + 1]]]
            for a, b in segment(sents, turn.text, self.options.passage_sentences):
                p_turn.append(k)
                p_sents.append((a, b))
                p_tok.append(lo + sents[a])
            if not triggered and not regexes:
                continue
            found = self._match_one(turn, lowers[lo:hi], lemmas[lo:hi], idxs[lo:hi], orths[lo:hi],
                                    sents, triggered, regexes)
            for (code, i), (weight, indicator, token, method) in found.items():
                t = templates.get((code, indicator, token, method))
                if t is None:
                    t = templates[(code, indicator, token, method)] = (
                        self._code_id(code), self._key_id(method, indicator), _RANK.get(method, 99),
                        self._item_id(indicator, token, method))
                e_rows.append((lo + i, *t))
                e_w.append(weight)
        if not p_tok:
            return out
        rows_arr = np.array(e_rows, dtype=np.int64).reshape(-1, 5)
        pos, code, key, method, item = (rows_arr[:, c].copy() for c in range(5))
        if len(pos):  # sentence x code pairs: what a sentence-level assistant would have proposed
            sentence = np.cumsum(is_start)[pos]
            self.raw_pairs += len(np.unique(code * (len(starts_at) + 1) + sentence))
        starts = np.array(p_tok, dtype=np.int64)
        pid = np.searchsorted(starts, pos, side="right") - 1
        weight = np.array(e_w, dtype=np.float64)
        learned_items: list[tuple[str, float]] = []
        if every:
            P = len(starts)
            # every non-empty turn is cut into passages here, so a token is in the last
            # passage starting at or before it
            token_passage = np.searchsorted(starts, np.arange(ntok), side="right") - 1
            probs = learner.probabilities(allarr[:, 0], self._strings, token_passage, P)
            col_of = self._learned_columns(learner)
            col = col_of[code] if len(code) else np.zeros(0, dtype=np.int64)
            factor = learner.damping(probs, pid, col)
            damped = np.flatnonzero(factor != 1.0)
            if len(damped):
                weight[damped] = [round(w * f, 4) for w, f in zip(weight[damped].tolist(), factor[damped].tolist())]
            with_evidence = np.zeros(probs.shape, dtype=bool)
            has = col >= 0
            with_evidence[pid[has], col[has]] = True
            l_pid, l_col = learner.chosen(probs, with_evidence, min_score)
            l_prob = [round(x, 4) for x in probs[l_pid, l_col].tolist()]
            l_code = self._learned_codes(learner)[l_col]
            names = learner.codes
            learned_items = [(names[c], p) for c, p in zip(l_col.tolist(), l_prob)]
            n = len(l_pid)
            pid = np.r_[pid, l_pid]
            code = np.r_[code, l_code]
            key = np.r_[key, np.full(n, self._key_id("learned", "learned model"), dtype=np.int64)]
            pos = np.r_[pos, np.full(n, LEARNED_POS, dtype=np.int64)]
            weight = np.r_[weight, np.array(l_prob, dtype=np.float64)]
            method = np.r_[method, np.full(n, _RANK["learned"], dtype=np.int64)]
            item = np.r_[item, -1 - np.arange(n, dtype=np.int64)]  # learned: -1 - its place
        ranked = rank_table(EvidenceArrays(pid, code, key, pos, weight, method, item), self._code_order(),
                            max_codes, min_score)
        spans: dict[int, tuple[int, int]] = {}
        items, item_json = self._items, self._item_json
        item_list = item.tolist()
        for r in ranked:
            span = spans.get(r.pid)
            if span is None:
                k = p_turn[r.pid]
                turn = pairs[k][0]
                lo = bounds[k]
                sents = sents_of[k]
                char = [idxs[lo + i] for i in sents]
                a, b = p_sents[r.pid]
                span = spans[r.pid] = span_of(turn.text, char, a, b)
            if span[1] <= span[0]:
                continue
            ids = list(map(item_list.__getitem__, r.rows))
            learned = ids.pop() if ids[-1] < 0 else None  # learned evidence sorts last, one at most
            evidence = list(map(items.__getitem__, ids))
            encoded = list(map(item_json.__getitem__, ids))
            if learned is not None:
                name, prob = learned_items[-1 - learned]
                evidence.append(learner.evidence_item(name, prob))
                encoded.append(self._learned_json(learner, name, prob))
            best = item_list[r.best]
            turn = pairs[p_turn[r.pid]][0]
            out[p_turn[r.pid]].append(Candidate(
                transcript_id=turn.transcript_id, revision=turn.revision, turn_n=turn.n,
                start=turn.start + span[0], end=turn.start + span[1], line_start=0, line_end=0,
                code=self._code_names[r.code], score=r.score,
                method=items[best]["method"] if best >= 0 else "learned", evidence=evidence,
                pipeline=self.pipeline_label, evidence_json="[" + ", ".join(encoded) + "]"))
        return out

    # -- numbering for the batch arrays ---------------------------------------------------
    def _code_id(self, code: str) -> int:
        c = self._code_ids.get(code)
        if c is None:
            c = self._code_ids[code] = len(self._code_names)
            self._code_names.append(code)
            self._order = None
        return c

    def _code_order(self) -> Any:
        """Each code number's place in name order (the last tie-breaker when ranking)."""
        import numpy as np

        if self._order is None or len(self._order) != len(self._code_names):
            ranks = {name: r for r, name in enumerate(sorted(self._code_names))}
            self._order = np.array([ranks[n] for n in self._code_names], dtype=np.int64)
        return self._order

    def _key_id(self, method: str, indicator: str) -> int:
        """Distinct indicators (rta.passages.combine): the name, and for learned evidence the method."""
        k = indicator_key(method, indicator)
        i = self._key_ids.get(k)
        if i is None:
            i = self._key_ids[k] = len(self._key_ids)
        return i

    def _item_id(self, indicator: str, token: str, method: str) -> int:
        """What a suggestion records of one piece of indicator evidence, one shared dict per
        distinct (indicator, token, method)."""
        k = (indicator, token, method)
        i = self._item_ids.get(k)
        if i is None:
            i = self._item_ids[k] = len(self._items)
            self._items.append({"indicator": indicator, "token": token, "method": method})
            self._item_json.append(evidence_fragment(self._items[-1]))
        return i

    def _learned_json(self, learner: Any, code: str, probability: float) -> str:
        """:func:`evidence_fragment` of a learned evidence item, from the code's encoded form
        with the probability put in (thousands per run, each with its own probability)."""
        key = (learner.version, code)
        parts = self._learned_parts.get(key)
        if parts is None:
            marker = 0.123456789  # encoded as float.__repr__, split there
            frag = evidence_fragment(learner.evidence_item(code, marker))
            parts = self._learned_parts[key] = tuple(frag.split(repr(marker), 1))
        return f"{parts[0]}{float.__repr__(probability)}{parts[1]}"

    def _learned_columns(self, learner: Any) -> Any:
        """Per code number: its column in the learner's probabilities, -1 without a model."""
        import numpy as np

        cols = {c: j for j, c in enumerate(learner.codes)}
        for c in learner.codes:
            self._code_id(c)
        return np.array([cols.get(n, -1) for n in self._code_names], dtype=np.int64)

    def _learned_codes(self, learner: Any) -> Any:
        """Per learner column: its code number."""
        import numpy as np

        return np.array([self._code_id(c) for c in learner.codes], dtype=np.int64)

    def _regex_turns(self, turns: list[TurnInput]) -> dict[int, list[int]]:
        """Turn position (in ``turns``) -> the regex indicators (their places in the index)
        that may match it; only those are run on the turn."""
        index = self.index
        found: dict[int, list[int]] = {}
        if not index.regexes:
            return found
        if not index.batch_regex:
            for k, t in enumerate(turns):
                hit = [r for r, (_c, _p, rx) in enumerate(index.regexes) if rx.search(t.text) is not None]
                if hit:
                    found[k] = hit
            return found
        # one RE2 scan per pattern over the batch's UTF-8 bytes; the regions it finds contain
        # every match (rta.userregex.UserPattern.regions), and the turns they touch are searched
        # one by one in _match_one
        encoded = [t.text.encode("utf-8") for t in turns]
        joined = b"\n".join(encoded)
        ends = list(accumulate(len(b) + 1 for b in encoded))  # turn k ends before ends[k]
        for r, (_code, _pattern, rx) in enumerate(index.regexes):
            for start, end in rx.regions(joined):
                # every turn the region overlaps (one across a newline marks both sides)
                first = bisect_right(ends, start)
                last = bisect_right(ends, max(start, end - 1))
                for k in range(first, min(last, len(turns) - 1) + 1):
                    regs = found.setdefault(k, [])
                    if not regs or regs[-1] != r:
                        regs.append(r)
        return found

    def _match_one(self, turn: TurnInput, lowers_list: list[int], lemmas_list: list[int],
                   idx: list[int], orths: list[int], sent_starts_list: list[int],
                   triggered: list[int], regexes: Iterable[int]) -> dict[tuple[str, int], tuple[float, str, str, str]]:
        """The indicator evidence of one turn: (code, token position) -> (weight, indicator,
        token text, method). ``regexes``: the regex indicators to run on it."""
        info, linfo = self._info, self._linfo
        found: dict[tuple[str, int], tuple[float, str, str, str]] = {}

        def add(code: str, i: int, indicator: str, token: str, method: str, weight: float) -> None:
            # one evidence item per token position and code: a word listed both as keyword
            # and lemma, or found by a phrase and a regex, counts once (its best route)
            prev = found.get((code, i))
            if prev is None or prev[0] < weight:
                found[(code, i)] = (weight, indicator, token, method)

        phrases = self.index.phrases
        slots_ = self._slots
        right_, left_, need_ = self._right, self._left, self._need
        ntok = len(lowers_list)
        guarded = self._guarded
        strings = self._strings

        def guard(first: int, last: int) -> bool:
            # the sense policy: only for the few guarded words
            for j in range(first, last):
                if lowers_list[j] in guarded:
                    return self._guard(lowers_list, orths, first, last, sent_starts_list)
            return True

        for i in triggered:
            lo, le = lowers_list[i], lemmas_list[i]
            hits, anchors = info[lo]
            if le:
                lhits, lanchors = linfo[le]
                if lhits:
                    hits = hits + lhits
                if lanchors:
                    anchors = set(anchors).union(lanchors)
            if hits and guard(i, i + 1):
                text_i = strings[orths[i]]
                for hit in hits:
                    add(hit.code, i, hit.indicator, text_i, hit.method, hit.weight)
            if not anchors:
                continue
            # phrases whose anchor's neighbours are right (cheap set lookups) ...
            right = left = _NO_SLOTS
            if i + 1 < ntok:
                right = right_[lowers_list[i + 1]]
            if i > 0:
                left = left_[lowers_list[i - 1]]
            for p in anchors:
                need_left, need_right = need_[p]
                if (need_right and p not in right) or (need_left and p not in left):
                    continue
                # ... then the whole phrase, word by word
                phrase = phrases[p]
                first = i - phrase.anchor
                n = len(phrase.words)
                if first < 0 or first + n > ntok:
                    continue
                base = p * SLOTS
                for k in range(n):  # inlined: this loop is hot
                    j = first + k
                    if j == i or base + k in slots_[lowers_list[j]]:
                        continue
                    break
                else:
                    if guard(first, first + n):
                        last = first + n - 1
                        add(phrase.code, first, phrase.indicator,
                            turn.text[idx[first]:idx[last] + len(strings[orths[last]])], "phrase", WEIGHTS["phrase"])
        for r in regexes:
            code, pattern, rx = self.index.regexes[r]
            for m in rx.finditer(turn.text):
                if m.end() <= m.start():
                    continue
                first = max(0, bisect_right(idx, m.start()) - 1)
                last = max(first + 1, bisect_right(idx, m.end() - 1))
                if guard(first, last):
                    add(code, first, pattern, m.group(0), "regex", WEIGHTS["regex"])
        return found

    def _guard(self, lowers: list[int], orths: list[int], first: int, last: int, sent_starts: list[int]) -> bool:
        """The sense policy: False when a token in ``first:last`` (of one turn's lower-case and
        verbatim token hashes) is 'rom' not meaning room-for, or 'tid' inside a fixed expression."""
        strings = self._strings
        for i in range(first, last):
            low = lowers[i]
            if low == self._rom:
                before = strings[orths[i - 1]] if i > 0 else ""
                sentence_start = i in sent_starts or (before != "" and before in ".!?:")
                if strings[orths[i]][:1].isupper() and not sentence_start:
                    return False  # Rom the city
                nxt = strings[lowers[i + 1]] if i + 1 < len(lowers) else ""
                if nxt not in ROM_NEXT:
                    return False  # rom as a physical room or the drink
            else:
                for k, expr in self._fixed.get(low, ()):
                    start = i - k
                    end = start + len(expr)
                    if 0 <= start and end <= len(lowers) and tuple(lowers[start:end]) == expr:
                        return False
        return True

