"""Finding an extract in the transcripts: word forms, the corpus index and the alignment.

The matching half of ``rta verify`` (:mod:`rta.verify` gives the verdicts). :class:`Corpus`
holds every revision of every transcript as word-form ids with their offsets, and a sorted
index of consecutive word pairs (and of single words) that gives the few places where an
extract's words stand together (:meth:`Corpus.places`). :func:`align` aligns an extract with
the turns around such a place: an edit distance with free ends, computed row by row with numpy,
where an omission mark matches any stretch of source words for free, a bracketed insertion may
stand where the source has nothing or stand for the word it clarifies, a word broken at a line
end is one word, and an unmarked omission costs little more per word after its first (so a
quote stitched from two places shows as the stretch left out between them).

Every comparison of two words goes through :func:`word_form`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from rta.norsk import fold

# Alignment costs, in sixteenths of a word: integers, so ties are exact. A stretch of source
# words left out without a mark costs OPEN and EXTEND a word: one word left out costs about as
# much as one changed, and a long stretch far less than changing the words around it (so a
# quote stitched from two places in a turn shows as the stretch left out between them).
C_SUB = 16     # a word changed
C_NEAR = 8     # a word damaged (a letter or two)
C_ADD = 16     # a word the source does not have, unmarked
C_OPEN = 20    # a stretch of source words left out without an omission mark...
C_EXTEND = 1   # ... and each word of it
C_CLARIFY = 4  # a bracketed insertion standing for a source word
_INF = 1 << 40
_POSTINGS_MAX = 400  # word pairs more frequent than this in the corpus say nothing about place
_BUCKET = 48


def word_form(word: str) -> str:
    """The form in which a manuscript word and a transcript word are compared: lower case,
    accent-folded (:func:`rta.norsk.fold`: ``på`` and ``pa``, ``Støtte`` and ``stotte`` are one
    form), hyphens and apostrophes dropped (``PPT-samarbeid``, ``PPT- samarbeid``)."""
    return fold(word).replace("-", "").replace("'", "").replace("’", "")


def restore(word: str, damaged: bool = False) -> str | None:
    """The word a manuscript word that no transcript has stands for when it lost or garbled
    æ/ø/å (``bdde`` -> ``både``, ``sdpass`` -> ``såpass``, ``paa`` -> ``på``): the shared OCR
    normalisation, :func:`rta.ocr.match_form`. None when it restores nothing. The transcripts
    are the reference and are never restored; a manuscript whose words all stand in them never
    loads the lexicons."""
    from rta.ocr import match_form

    restored = match_form(word, damaged)
    return None if restored == word.lower() else restored


def restore_tokens(tokens: list[Token], corpus: "Corpus", damaged: bool = False) -> bool:
    """Give each word of an extract that no transcript has the form of its restoration, when
    that form is a transcript's (:func:`restore`); ``damaged``: the extract is known to have
    lost letters. Whether any was restored."""
    changed = False
    for t in tokens:
        if t.gap or t.form in corpus.forms and corpus.known(corpus.forms[t.form]):
            continue
        restored = restore(t.text, damaged)
        if restored is not None:
            form = word_form(restored)
            fid = corpus.forms.get(form)
            if fid is not None and corpus.known(fid):
                t.form, t.restored, changed = form, restored, True
    return changed


# --------------------------------------------------------------------------------------------
# Tokens

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_OMISSION = re.compile(r"\(\s*(?:\.\s*){2,}\)|\(\s*…\s*\)|\[\s*(?:\.\s*){2,}\]|\[\s*…\s*\]|\.{3,}|…")
BRACKETED = re.compile(r"\[[^\[\]]*\]|\([^()]*\)")


@dataclass
class Token:
    """A word of an extract (or an omission mark, ``gap``), with its span in the extract's text.
    ``inserted``: inside brackets (an editor's insertion or clarification, which the source may
    or may not have); ``broken``: followed by a hyphen at a line end (``ord-`` + ``ninga``)."""

    text: str
    start: int
    end: int
    form: str = ""
    gap: bool = False
    inserted: bool = False
    broken: bool = False
    restored: str | None = None  # the word rta.ocr restored it to (``pa`` -> ``på``), when it did


def tokens_of(text: str) -> list[Token]:
    """The words and omission marks of an extract, in order."""
    marks = [(m.start(), m.end()) for m in _OMISSION.finditer(text)]
    inserted: list[tuple[int, int]] = []
    for m in BRACKETED.finditer(text):
        if not any(s <= m.start() < e for s, e in marks):
            inserted.append((m.start(), m.end()))
    out: list[Token] = [Token(text[s:e], s, e, gap=True) for s, e in marks]
    for m in _WORD.finditer(text):
        if any(s <= m.start() < e for s, e in marks):
            continue
        after = text[m.end():m.end() + 3]
        broken = bool(re.match(r"-[ \t]*\n|-[ \t]+(?=[a-zæøå])", after))
        out.append(Token(m.group(), m.start(), m.end(), word_form(m.group()), False,
                         any(s < m.start() < e for s, e in inserted), broken))
    out.sort(key=lambda t: t.start)
    # consecutive omission marks are one
    merged: list[Token] = []
    for t in out:
        if t.gap and merged and merged[-1].gap:
            merged[-1].end = t.end
            continue
        merged.append(t)
    return merged


# --------------------------------------------------------------------------------------------
# The corpus: every revision of every transcript, as word forms


@dataclass
class TurnRef:
    n: int
    speaker: str
    informant: str | None
    role: str | None
    start: int
    end: int
    line_start: int
    line_end: int
    first: int = 0  # first token (index into the document's tokens)
    last: int = 0   # one past the last token

    @property
    def who(self) -> str:
        return self.informant or (self.speaker if len(self.speaker) <= 12 else "I")


@dataclass
class Doc:
    """One revision of a transcript: its text, turns and tokens (form ids and offsets)."""

    transcript: str
    revision: int
    current_revision: int
    text: str
    turns: list[TurnRef]
    ids: Any = None      # numpy int32 array of form ids
    turn_of: Any = None  # the index into turns of each token
    offset: int = 0      # position of the first token in the corpus
    note: str | None = None
    _lines: list[int] | None = None
    _spans: Any = None

    @property
    def current(self) -> bool:
        return self.revision == self.current_revision

    def _token_spans(self) -> Any:
        """The tokens' offsets, found when first needed (a verification reads few documents)."""
        if self._spans is None:
            import numpy as np

            spans = [m.span() for t in self.turns for m in _WORD.finditer(self.text, t.start, t.end)]
            self._spans = np.array(spans, dtype=np.int64).reshape(-1, 2)
        return self._spans

    @property
    def starts(self) -> Any:
        return self._token_spans()[:, 0]

    @property
    def ends(self) -> Any:
        return self._token_spans()[:, 1]

    def line_of(self, offset: int) -> int:
        if self._lines is None:
            self._lines = [0] + [m.end() for m in re.finditer("\n", self.text)]
        return bisect.bisect_right(self._lines, offset)


class Corpus:
    """The transcripts a manuscript is checked against, with the indexes to find places."""

    def __init__(self, docs: list[Doc], forms: dict[str, int]) -> None:
        import numpy as np

        self.docs = docs
        self.forms = forms
        self.corpus_forms = len(forms)
        self.transcripts = len({d.transcript for d in docs})
        offsets, pos = [], 0
        for d in docs:
            d.offset = pos
            offsets.append(pos)
            pos += len(d.ids)
        self.doc_offsets = np.array(offsets, dtype=np.int64)
        all_ids = np.concatenate([d.ids for d in docs]).astype(np.int64) if docs else np.zeros(0, np.int64)
        self.size = len(all_ids)
        v = max(1, self.corpus_forms)
        pairs = all_ids[:-1] * v + all_ids[1:] if len(all_ids) > 1 else np.zeros(0, np.int64)
        self.pair_order = np.argsort(pairs, kind="stable")
        self.pair_keys = pairs[self.pair_order]
        self.word_order = np.argsort(all_ids, kind="stable")
        self.word_keys = all_ids[self.word_order]
        self._near: dict[tuple[int, int], bool] = {}

    @classmethod
    def from_store(cls, store: Any) -> "Corpus":
        """Every revision of every transcript in the store (superseded ones too: an extract
        found only there is reported so)."""
        import numpy as np

        from rta.anchor import revision_states

        states = revision_states(store)
        turns: dict[tuple[str, int], list[TurnRef]] = {}
        for r in store.conn.execute(
                "SELECT transcript_id, revision, n, speaker, informant, role, start, end, line_start, line_end "
                "FROM turns ORDER BY transcript_id, revision, n"):
            turns.setdefault((r[0], r[1]), []).append(TurnRef(r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]))
        forms: dict[str, int] = {}
        form_of: dict[str, int] = {}  # word as written -> form id (most words repeat)
        docs: list[Doc] = []
        for tid, rev, text, current in store.conn.execute(
                "SELECT r.transcript_id, r.revision, r.text, t.revision FROM transcript_revisions r "
                "JOIN transcripts t ON t.id = r.transcript_id ORDER BY r.transcript_id, r.revision DESC"):
            doc = Doc(tid, rev, current, text, turns.get((tid, rev), []))
            state = states.get(tid)
            if state is not None and state.original(rev):
                doc.note = (f"revision {rev} is from before pseudonymisation (rta anonymise apply, revision "
                            f"{state.pseudonymised}): the manuscript may quote names")
            ids: list[int] = []
            counts: list[int] = []
            for t in doc.turns:
                t.first = len(ids)
                words = _WORD.findall(text, t.start, t.end)
                for w in words:
                    if w not in form_of:
                        form_of[w] = forms.setdefault(word_form(w), len(forms))
                ids.extend([form_of[w] for w in words])
                t.last = len(ids)
                counts.append(t.last - t.first)
            doc.ids = np.array(ids, dtype=np.int32)
            doc.turn_of = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
            docs.append(doc)
        return cls(docs, forms)

    # -- forms ---------------------------------------------------------------------------
    def form_id(self, form: str) -> int:
        """The id of a form; a form no transcript has gets a new id (matching nothing)."""
        fid = self.forms.get(form)
        if fid is None:
            fid = self.forms[form] = len(self.forms)
        return fid

    def known(self, fid: int) -> bool:
        return fid < self.corpus_forms

    def near(self, a: int, b: int) -> bool:
        """Whether form ``b`` (a transcript's word) is form ``a`` (a manuscript's word no
        transcript has) with a letter or two damaged."""
        key = (a, b)
        hit = self._near.get(key)
        if hit is None:
            from rapidfuzz.distance import Levenshtein

            fa, fb = self._form_text(a), self._form_text(b)
            longest = max(len(fa), len(fb))
            allowed = 1 if longest <= 5 else 2 if longest <= 10 else 3
            hit = longest >= 2 and Levenshtein.distance(fa, fb, score_cutoff=allowed) <= allowed
            self._near[key] = hit
        return hit

    def _form_text(self, fid: int) -> str:
        if not hasattr(self, "_texts") or len(self._texts) != len(self.forms):
            self._texts = [""] * len(self.forms)
            for f, i in self.forms.items():
                self._texts[i] = f
        return self._texts[fid]

    # -- places ----------------------------------------------------------------------------
    def doc_at(self, pos: int) -> Doc:
        i = int(self.doc_offsets.searchsorted(pos, "right")) - 1
        return self.docs[max(0, i)]

    def places(self, tokens: list[Token], ids: list[int], limit: int = 8) -> list[tuple[Doc, int, int]]:
        """Up to ``limit`` (document, turn index, shared words) where the extract's words stand
        close together, most shared words first."""
        import numpy as np

        if not self.size:
            return []
        v = max(1, self.corpus_forms)
        keys, offsets = [], []
        for i in range(len(tokens) - 1):
            a, b = tokens[i], tokens[i + 1]
            if a.gap or b.gap or a.inserted or b.inserted:
                continue
            if self.known(ids[i]) and self.known(ids[i + 1]):
                keys.append(ids[i] * v + ids[i + 1])
                offsets.append(i)
        hits = self._hits(self.pair_keys, self.pair_order, keys, offsets)
        if sum(len(h) for h in hits) < 3:
            singles = [(i, ids[i]) for i, t in enumerate(tokens) if not t.gap and self.known(ids[i])]
            hits += self._hits(self.word_keys, self.word_order, [f for _, f in singles], [i for i, _ in singles],
                               most=60)
        if not hits:
            return []
        diag = np.concatenate(hits)
        buckets, counts = np.unique(diag // _BUCKET, return_counts=True)
        # a place shared by neighbouring buckets counts for both
        order = np.argsort(-counts, kind="stable")
        seen: set[tuple[int, int]] = set()
        out: list[tuple[Doc, int, int]] = []
        for k in order[: limit * 3]:
            pos = int(min(max(buckets[k] * _BUCKET + _BUCKET // 2, 0), self.size - 1))
            doc = self.doc_at(pos)
            local = min(max(pos - doc.offset, 0), len(doc.ids) - 1)
            if local < 0:
                continue
            turn = int(doc.turn_of[local])
            if (id(doc), turn) in seen:
                continue
            seen.add((id(doc), turn))
            out.append((doc, turn, int(counts[k])))
            if len(out) >= limit:
                break
        return out

    @staticmethod
    def _hits(sorted_keys: Any, order: Any, keys: list[int], offsets: list[int], most: int = _POSTINGS_MAX) -> list:
        import numpy as np

        if not keys:
            return []
        k = np.array(keys, dtype=np.int64)
        lo = sorted_keys.searchsorted(k, "left")
        hi = sorted_keys.searchsorted(k, "right")
        out = []
        for a, b, off in zip(lo.tolist(), hi.tolist(), offsets):
            if 0 < b - a <= most:
                out.append(order[a:b] - off)
        return out


# --------------------------------------------------------------------------------------------
# Alignment


@dataclass
class Alignment:
    """An extract aligned with a stretch of one document: ``ops`` are (kind, extract token
    index or None, document token index or None), in order; kinds: 'eq', 'sub', 'near', 'join'
    (two extract tokens, one source word), 'add', 'ins' (a bracketed insertion the source does
    not have), 'clarify' (a bracketed insertion standing for a source word), 'omit' (a source
    word left out without a mark), 'gap' (a source word an omission mark stands for)."""

    doc: Doc
    cost: int
    ops: list[tuple[str, int | None, int | None]]
    matched: int  # extract words aligned with source words
    words: int    # extract words (omission marks and insertions aside)

    @property
    def fraction(self) -> float:
        return self.matched / self.words if self.words else 0.0


def align(tokens: list[Token], ids: list[int], doc: Doc, lo: int, hi: int, corpus: Corpus) -> Alignment:
    """The cheapest alignment of the extract with any stretch of ``doc``'s tokens ``lo:hi``
    (an edit distance with free ends; see the module doc for the costs)."""
    import numpy as np

    w = doc.ids[lo:hi].astype(np.int64)
    n, m = len(w), len(tokens)
    ar = np.arange(n + 1, dtype=np.int64) * C_EXTEND
    D = np.empty((m + 1, n + 1), dtype=np.int64)  # the cost of the extract's first i tokens ending at j
    E = np.empty((m + 1, n + 1), dtype=np.int64)  # the same, the last step not a source word left out
    D[0] = 0
    E[0] = 0
    subs: list[Any] = [None] * m
    joins: list[int | None] = [None] * m
    uniq = None
    for i in range(1, m + 1):
        t = tokens[i - 1]
        prev = D[i - 1]
        if t.gap:
            D[i] = np.minimum.accumulate(prev)
            E[i] = D[i]
            continue
        x = ids[i - 1]
        eq = w == x
        if t.inserted:
            sub = np.where(eq, 0, C_CLARIFY)
        else:
            sub = np.where(eq, 0, C_SUB)
            if not corpus.known(x) and len(t.form) >= 2:
                if uniq is None:
                    uniq = np.unique(w)
                near = [int(u) for u in uniq if corpus.near(x, int(u))]
                if near:
                    sub = np.where(np.isin(w, near), C_NEAR, sub)
                    sub[eq] = 0
        subs[i - 1] = sub
        e = prev + (0 if t.inserted else C_ADD)
        np.minimum(e[1:], prev[:-1] + sub, out=e[1:])
        if i >= 2 and tokens[i - 2].broken and not tokens[i - 2].gap:
            joined = corpus.forms.get(tokens[i - 2].form + t.form)
            if joined is not None:
                joins[i - 1] = joined
                np.minimum(e[1:], np.where(w == joined, D[i - 2][:-1], _INF), out=e[1:])
        E[i] = e
        # a stretch k..j-1 of source words left out: min over k < j of e[k] + OPEN + EXTEND (j - k)
        left = np.empty_like(e)
        left[0] = _INF
        left[1:] = np.minimum.accumulate(e - ar)[:-1] + ar[1:] + C_OPEN
        D[i] = np.minimum(e, left)
    j = int(np.argmin(D[m]))
    cost = int(D[m, j])
    ops: list[tuple[str, int | None, int | None]] = []
    i = m
    while i > 0:
        t = tokens[i - 1]
        if t.gap:
            if D[i, j] == D[i - 1, j] or j == 0:
                i -= 1
            else:
                ops.append(("gap", i - 1, lo + j - 1))
                j -= 1
            continue
        if D[i, j] != E[i, j]:  # arrived by leaving source words out: find where the stretch began
            target = int(D[i, j]) - C_OPEN
            k = j - 1
            while k > 0 and int(E[i, k]) + C_EXTEND * (j - k) != target:
                k -= 1
            for q in range(j - 1, k - 1, -1):
                ops.append(("omit", None, lo + q))
            j = k
            continue
        sub = subs[i - 1]
        if j > 0 and E[i, j] == D[i - 1, j - 1] + sub[j - 1]:
            s = int(sub[j - 1])
            kind = "eq" if s == 0 else "clarify" if t.inserted else "near" if s == C_NEAR else "sub"
            ops.append((kind, i - 1, lo + j - 1))
            i, j = i - 1, j - 1
        elif j > 0 and joins[i - 1] is not None and w[j - 1] == joins[i - 1] and E[i, j] == D[i - 2, j - 1]:
            ops.append(("join", i - 1, lo + j - 1))
            ops.append(("join", i - 2, lo + j - 1))
            i, j = i - 2, j - 1
        else:
            ops.append(("ins" if t.inserted else "add", i - 1, None))
            i -= 1
    ops.reverse()
    words = sum(1 for t in tokens if not t.gap and not t.inserted)
    matched = sum(1 for k, xi, _ in ops if k in ("eq", "near", "join") and not tokens[xi].inserted)
    return Alignment(doc, cost, ops, matched, words)


def place_window(doc: Doc, turn: int, spread: int = 2, cap: int = 6000) -> tuple[int, int]:
    a = doc.turns[max(0, turn - spread)].first
    b = doc.turns[min(len(doc.turns) - 1, turn + spread)].last
    if b - a > cap:
        centre = (doc.turns[turn].first + doc.turns[turn].last) // 2
        a, b = max(a, centre - cap // 2), min(b, centre + cap // 2)
    return a, b
