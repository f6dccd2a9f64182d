"""Learning from the project: the researcher's own decisions as evidence for suggestions.

Accepted (active) codings and the codebook's example lines are positive examples of their
code; a rejected suggestion is a negative example of its code; a passage coded with other
codes is a negative example of a code it was not coded with (one code against the rest).
Once a code has :data:`MIN_POSITIVES` positive examples, ``rta suggest`` scores every passage
with that code's model and the probability joins the passage's evidence as ``learned``
(rta.passages): it can propose a passage no indicator reached, and it damps an indicator
that the researcher's decisions speak against.

Method: lemma TF-IDF features (word forms mapped through the Norwegian lemma lexicon, stop
words and numbers dropped, ``1 + log tf`` times smoothed idf, rows L2-normalised) and one
L2-regularised logistic regression per code, classes weighted to balance, fitted in the
kernel form (``w = X^T a``, gradient steps on ``a`` over the N x N Gram matrix): with a few
hundred examples and thousands of lemmas about a tenth of a second of numpy. Why not
scikit-learn: importing it alone takes about a second, more than the whole time budget of the
learned part in ``benchmarks/bench_suggest.py`` (suggest within 0.8 of bare ``nlp.pipe``);
the model here is the same logistic loss, small enough to read and test
(tests/test_learn.py checks it separates two codes and follows rejections).

The model is rebuilt from the store on every run (deterministic: same decisions, same
model), so there is no model file to keep in step with the log; its version string
(:data:`VERSION`, the number of examples and a hash of them) is recorded in each learned
evidence item and in the run's log event.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

VERSION = "lemma-tfidf-logreg/1"
MIN_POSITIVES = 5  # a code needs this many positive examples before it has a model
L2 = 1e-2
STEPS = 300
# The kernel form costs n^2 per step: a project with thousands of codings trains on at most
# this many examples, chosen by :func:`budget` (every code keeps its latest ones).
MAX_EXAMPLES = 600
# How much an indicator's evidence counts when the code's model gives the passage
# probability p: ``DAMP + (1 - DAMP) * min(1, 2p)``. With no learned support (p ~ 0) a lemma
# hit (.8) drops to .8 * DAMP, under the default threshold; from p = .5 on it counts fully.
DAMP = 0.3

_WORD = re.compile(r"[^\W\d_]{3,}")
# A passage's strongest learned codes join its evidence from this probability on (alone, a
# lower one could not reach the default threshold of 0.4); a code with indicator evidence in
# the passage gets its learned evidence, and its damping, whatever the probability.
LEARNED_MIN = 0.2


@dataclass
class Example:
    """A text with the codes a person gave it and the codes a person rejected for it."""

    text: str
    codes: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    source: str = ""  # 'coding', 'codebook', 'rejected' (for reports)


def project_examples(store: Any, codebook: Any, exclude_transcript: str | None = None) -> list[Example]:
    """The project's examples: active codings grouped by span (one text, all its codes),
    codebook example lines, rejected suggestions. ``exclude_transcript`` leaves one
    transcript's decisions out (leave-one-out evaluation)."""
    by_span: dict[tuple[str, int, int, int], Example] = {}
    texts: dict[tuple[str, int], str] = {}

    def text_of(tid: str, rev: int, start: int, end: int) -> str:
        key = (tid, rev)
        if key not in texts:
            texts[key] = store.transcript_text(tid, rev)
        return texts[key][start:end]

    for r in store.conn.execute(
            "SELECT transcript_id, revision, start, end, code FROM codings WHERE status = 'active' "
            "ORDER BY transcript_id, start, end, code"):
        if r["transcript_id"] == exclude_transcript:
            continue
        key = (r["transcript_id"], r["revision"], r["start"], r["end"])
        ex = by_span.get(key)
        if ex is None:
            ex = by_span[key] = Example(text_of(*key), source="coding")
        ex.codes.add(r["code"])
    out = list(by_span.values())
    for code in codebook.codes:
        for line in code.examples:
            if line.strip():
                out.append(Example(line, {code.name}, source="codebook"))
    for r in store.conn.execute(
            "SELECT transcript_id, revision, start, end, code FROM suggestions WHERE status = 'rejected' "
            "ORDER BY id"):
        if r["transcript_id"] == exclude_transcript:
            continue
        key = (r["transcript_id"], r["revision"], r["start"], r["end"])
        ex = by_span.get(key)
        if ex is not None:  # coded with other codes there: the same text says both
            ex.rejected.add(r["code"])
            continue
        ex = Example(text_of(*key), rejected={r["code"]}, source="rejected")
        by_span[key] = ex
        out.append(ex)
    return out


class Learner:
    """Per-code logistic models over lemma TF-IDF, fitted on the project's examples."""

    def __init__(self, examples: list[Example], codes: Iterable[str], lemma_of: Callable[[str], str],
                 stop_words: Iterable[str] = (), min_positives: int = MIN_POSITIVES) -> None:
        import numpy as np

        self.lemma_of = lemma_of
        self.stop = {w.lower() for w in stop_words}
        self._term_cache: dict[str, str | None] = {}
        self._hash_terms: dict[int, int] = {}  # token hash -> feature column (probabilities)
        self.top = 3  # learned codes per passage worth adding (the passage's max codes)
        wanted = list(dict.fromkeys(codes))
        positives = {c: sum(1 for e in examples if c in e.codes) for c in wanted}
        self.codes = [c for c in wanted if positives[c] >= min_positives]
        self.positives = {c: positives[c] for c in self.codes}
        self.n_examples = len(examples)
        digest = hashlib.sha256()
        for e in examples:
            digest.update(e.text.encode("utf-8") + b"\x00" + ",".join(sorted(e.codes)).encode() + b"\x00"
                          + ",".join(sorted(e.rejected)).encode() + b"\x01")
        self.version = f"{VERSION} ({len(examples)} examples, {digest.hexdigest()[:12]})"
        self.vocab: dict[str, int] = {}
        self.W = None
        self.b = None
        if not self.codes:
            return
        # labelled rows per code: positives, rejected, and other codes' positives as negatives
        rows = budget([e for e in examples if e.codes or e.rejected], MAX_EXAMPLES)
        docs = [self.terms(e.text) for e in rows]
        df: dict[str, int] = {}
        for d in docs:
            for t in set(d):
                df[t] = df.get(t, 0) + 1
        self.vocab = {t: i for i, t in enumerate(sorted(df))}
        n = len(docs)
        self.idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in sorted(df)], dtype=np.float64)
        X = np.zeros((n, len(self.vocab)), dtype=np.float64)
        for i, d in enumerate(docs):
            self._fill(X[i], d)
        K = len(self.codes)
        Y = np.zeros((n, K))
        M = np.zeros((n, K))  # 1 where the row is labelled for the code (every row is, here)
        for i, e in enumerate(rows):
            for k, c in enumerate(self.codes):
                if c in e.codes:
                    Y[i, k] = 1.0
                    M[i, k] = 1.0
                elif c in e.rejected or e.codes:
                    M[i, k] = 1.0
        # balanced class weights per code
        pos = (Y * M).sum(0)
        neg = ((1 - Y) * M).sum(0)
        sw = np.where(Y > 0, (pos + neg) / (2 * np.maximum(pos, 1)), (pos + neg) / (2 * np.maximum(neg, 1))) * M
        sw /= max(1.0, float(n))
        # kernel logistic regression: f = G a + b with G = X X^T; gradient steps on (a, b)
        G = X @ X.T
        A = np.zeros((n, K))
        b = np.zeros(K)
        step = 1.0 / (0.25 * float(sw.max()) * max(1.0, float(np.linalg.norm(G, 2))) + L2)
        for _ in range(STEPS):
            Z = G @ A + b
            P = 1.0 / (1.0 + np.exp(-Z))
            R = (P - Y) * sw
            A -= step * (R + L2 * A)
            b -= step * R.sum(0)
        self.W = X.T @ A  # (V, K)
        self.b = b

    @property
    def active(self) -> bool:
        return self.W is not None

    def terms(self, text: str) -> list[str]:
        """Lemmas of the content words of ``text`` (what the features count)."""
        out = []
        cache = self._term_cache
        for w in _WORD.findall(text.lower()):
            t = cache.get(w, "")
            if t == "":
                t = None if w in self.stop else self.lemma_of(w)
                cache[w] = t
            if t is not None:
                out.append(t)
        return out

    def _fill(self, row: Any, terms: list[str]) -> None:
        counts: dict[int, int] = {}
        for t in terms:
            j = self.vocab.get(t)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return
        idx = list(counts)
        vals = [(1.0 + math.log(counts[j])) * self.idf[j] for j in idx]
        norm = math.sqrt(sum(v * v for v in vals)) or 1.0
        for j, v in zip(idx, vals):
            row[j] = v / norm

    def predict(self, texts: list[str]) -> Any:
        """Probabilities, one row per text, one column per code of :attr:`codes`."""
        import numpy as np

        if not self.active or not texts:
            return np.zeros((len(texts), len(self.codes)))
        X = np.zeros((len(texts), len(self.vocab)))
        for i, text in enumerate(texts):
            self._fill(X[i], self.terms(text))
        Z = X @ self.W + self.b
        return 1.0 / (1.0 + np.exp(-Z))

    def probabilities(self, lowers: Any, strings: Any, token_passage: Any, n_passages: int) -> Any:
        """Probabilities (one row per passage, one column per code of :attr:`codes`) for every
        passage of a batch the matcher read, in one vectorised pass: ``lowers`` are the batch's
        lower-case token hashes, ``strings`` the vocab's string store, ``token_passage`` each
        token's passage row (-1: none). Features are the same as for :meth:`predict`:
        content-word lemmas, ``1 + log tf`` times idf, L2-normalised."""
        import numpy as np

        P = n_passages
        if not self.active or not P:
            return np.zeros((P, len(self.codes)))
        lowers = np.asarray(lowers, dtype=np.uint64)
        hashes, inverse = np.unique(lowers, return_inverse=True)
        cache = self._hash_terms
        tids = np.empty(len(hashes), dtype=np.int64)
        for k, h in enumerate(hashes.tolist()):
            t = cache.get(h)
            if t is None:
                t = cache[h] = self._term_id(strings[h] if h else "")
            tids[k] = t
        tid = tids[inverse]
        pid = np.asarray(token_passage, dtype=np.int64)
        keep = (pid >= 0) & (tid >= 0)
        V = len(self.vocab)
        keys, tf = np.unique(pid[keep] * V + tid[keep], return_counts=True)
        scores = np.tile(self.b, (P, 1))
        if len(keys):
            p_u, t_u = keys // V, keys % V
            w = (1.0 + np.log(tf)) * self.idf[t_u]
            norm = np.sqrt(np.bincount(p_u, weights=w * w, minlength=P))
            w = w / norm[p_u]
            starts = np.flatnonzero(np.r_[True, p_u[1:] != p_u[:-1]])
            scores[p_u[starts]] += np.add.reduceat(w[:, None] * self.W[t_u], starts, axis=0)
        return 1.0 / (1.0 + np.exp(-scores))

    def damping(self, probs: Any, pid: Any, col: Any) -> Any:
        """The factor each indicator evidence row counts with (passage ``pid``, the code's
        column ``col`` in ``probs``, -1 for a code without a model: factor 1): indicator
        evidence the model does not support counts less (see :data:`DAMP`)."""
        import numpy as np

        has = col >= 0
        p = np.where(has, probs[pid, np.where(has, col, 0)], 1.0) if len(pid) else np.zeros(0)
        return np.where(has, DAMP + (1.0 - DAMP) * np.minimum(1.0, 2.0 * p), 1.0)

    def chosen(self, probs: Any, with_evidence: Any, min_score: float = 0.0) -> tuple[Any, Any]:
        """Where learned evidence joins a passage: its strongest learned codes (as many as a
        passage may propose, :attr:`top`) from :data:`LEARNED_MIN` on, and every code with
        indicator evidence there (``with_evidence``: a bool matrix like ``probs``). A code
        without indicator evidence whose probability is under ``min_score`` is left out: alone,
        it could not be proposed. Returns the (passage, column) pairs."""
        import numpy as np

        P, L = probs.shape
        top = max(1, min(self.top, L))
        floor = max(LEARNED_MIN, min_score - 5e-5)  # scores are compared rounded to 4 decimals
        mask = np.array(with_evidence, dtype=bool, copy=True)
        if L > top:
            best = np.argpartition(-probs, top - 1, axis=1)[:, :top]
            rows = np.repeat(np.arange(P), top)
            sel = probs[rows, best.ravel()] >= floor
            mask[rows[sel], best.ravel()[sel]] = True
        else:
            mask |= probs >= floor
        return np.nonzero(mask)

    def evidence_item(self, code: str, probability: float) -> dict[str, Any]:
        """How learned evidence is recorded with a suggestion: the model's version, the
        passage's probability, the code's positives."""
        return {"indicator": "learned model", "token": "", "method": "learned", "model": self.version,
                "probability": probability, "positives": self.positives[code]}

    def _term_id(self, s: str) -> int:
        """The feature column of a token's lower-case form, -1 when it is no feature."""
        if not _WORD.fullmatch(s):
            return -1
        t = self._term_cache.get(s, "")
        if t == "":
            t = None if s in self.stop else self.lemma_of(s)
            self._term_cache[s] = t
        return -1 if t is None else self.vocab.get(t, -1)


def budget(rows: list[Example], most: int) -> list[Example]:
    """At most ``most`` of ``rows`` (in their order), shared fairly between codes: each code
    (or rejected code) takes its latest examples in turn until the budget is spent, so a rare
    code keeps all of its few examples and a common one its most recent."""
    if len(rows) <= most:
        return rows
    by_code: dict[str, list[int]] = {}
    for i, e in enumerate(rows):
        key = min(e.codes) if e.codes else "-" + min(e.rejected)
        by_code.setdefault(key, []).append(i)
    queues = [list(reversed(ix)) for _k, ix in sorted(by_code.items())]
    chosen: set[int] = set()
    while len(chosen) < most:
        for q in queues:
            if q and len(chosen) < most:
                chosen.add(q.pop(0))
    return [rows[i] for i in sorted(chosen)]


def build_learner(store: Any, codebook: Any, codes: Iterable[str], lemma_of: Callable[[str], str],
                  stop_words: Iterable[str] = (), exclude_transcript: str | None = None,
                  min_positives: int = MIN_POSITIVES) -> Learner:
    """A :class:`Learner` over the project's examples (see :func:`project_examples`)."""
    return Learner(project_examples(store, codebook, exclude_transcript), codes, lemma_of, stop_words, min_positives)
