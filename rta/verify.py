"""Verifying the quotes of a manuscript against the project's transcripts (``rta verify``).

A thesis chapter or an article quotes the interviews; researchers shorten the extracts with
``(...)``, clarify them with ``[veilederne]``, attribute them with ``S1:`` or "(R4)", and edit
them again months later. :func:`verify_manuscript` finds every extract in a manuscript
(:mod:`rta.manuscript`) and checks it against every transcript revision in the store:

1. **Where it could be.** Every revision's turns are read into word forms once
   (:class:`Corpus`); a sorted index of consecutive word pairs (and of single words, when an
   extract shares too few pairs, e.g. an OCR-damaged one) gives the few places where the
   extract's words stand close together.
2. **How it aligns.** At each place the extract is aligned word by word with the turns around
   it (an edit distance with free ends, vectorised row by row): an omission mark (``(...)``,
   ``(..)``, ``[...]``, ``...``) matches any stretch of source words at no cost; a bracketed
   insertion (``[veilederne]``, ``(ref. statsforvalteren)``) may stand where the source has
   nothing or stand for a word it clarifies; a word broken at a line end (``ord- ninga``) is
   one word; case, line breaks, typographic quotes and dashes are no differences. The
   cheapest alignment wins (a current revision over a superseded one, the attributed speaker's
   turn over another's when they cost the same).
3. **What it is.** :class:`ExtractResult` with a verdict (:data:`VERDICTS`), the source
   (transcript, revision, lines, turn, speaker), the word-level changes, the character-level
   damage apart from them (``pa`` for ``på``, ``bdde`` for ``både``: a word that differs from
   the source's by a letter or two and is no word of any transcript), and for an extract that
   is not found, the nearest candidates with their similarity (:func:`rta.anchor.fuzzy_candidates`).

Words are compared in one form, :func:`word_form`: lower case and accent-folded
(:func:`rta.norsk.fold`, so a manuscript that lost its æ/ø/å still finds its source). It is the
one place to point at a shared OCR normalisation.

Output: :func:`summary_line`, :func:`table_rows` and :func:`detail_rows` for the terminal,
:func:`to_json`, and :func:`render_html` (a page for a supervision meeting: each extract beside
its source in context, the differences marked; autoescaped, self-contained, offline).
:func:`log_verification` records the run as a ``manuscript.verified`` event.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import RtaError
from rta.manuscript import Attribution, CodeFinder, Extract, Manuscript, find_extracts, read_manuscript
from rta.norsk import fold

# --------------------------------------------------------------------------------------------
# Verdicts

VERBATIM = "verbatim"
MARKED = "verbatim_marked"
ALTERED = "altered"
WRONG_INFORMANT = "wrong_informant"
INTERVIEWER = "interviewer"
SPANS_TURNS = "spans_turns"
SUPERSEDED = "superseded"
NOT_FOUND = "not_found"
NOT_INTERVIEW = "not_interview"
TOO_SHORT = "too_short"

VERDICTS = {
    VERBATIM: "verbatim",
    MARKED: "verbatim with marked edits",
    ALTERED: "altered",
    WRONG_INFORMANT: "wrong informant",
    INTERVIEWER: "interviewer's words",
    SPANS_TURNS: "spans two turns",
    SUPERSEDED: "only in a superseded revision",
    NOT_FOUND: "not found",
    NOT_INTERVIEW: "not an interview extract?",
    TOO_SHORT: "too short to check",
}
"""Each verdict and how it reads, in the order summaries list them."""

VERDICTS_NB = {
    VERBATIM: "ordrett",
    MARKED: "ordrett med markerte utelatelser eller tilføyelser",
    ALTERED: "endret",
    WRONG_INFORMANT: "feil informant",
    INTERVIEWER: "intervjuerens ord",
    SPANS_TURNS: "spenner over to replikker",
    SUPERSEDED: "bare i en erstattet revisjon",
    NOT_FOUND: "ikke funnet",
    NOT_INTERVIEW: "ikke et intervjuutdrag?",
    TOO_SHORT: "for kort til å sjekke",
}

OK = (VERBATIM, MARKED)
"""Verdicts of an extract that verifies."""
NEUTRAL = (NOT_INTERVIEW, TOO_SHORT)
"""Verdicts that are no failure: a quote of literature or a document, a phrase too short."""
FAILED = tuple(v for v in VERDICTS if v not in OK + NEUTRAL)

MIN_WORDS = 3
"""An extract of fewer words than this is not checked."""
FOUND_FRACTION = 0.6
"""An extract is found where at least this share of its words align with source words."""

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


# --------------------------------------------------------------------------------------------
# Tokens

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_OMISSION = re.compile(r"\(\s*(?:\.\s*){2,}\)|\(\s*…\s*\)|\[\s*(?:\.\s*){2,}\]|\[\s*…\s*\]|\.{3,}|…")
_BRACKETED = re.compile(r"\[[^\[\]]*\]|\([^()]*\)")


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


def tokens_of(text: str) -> list[Token]:
    """The words and omission marks of an extract, in order."""
    marks = [(m.start(), m.end()) for m in _OMISSION.finditer(text)]
    inserted: list[tuple[int, int]] = []
    for m in _BRACKETED.finditer(text):
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
    starts: Any = None   # numpy int32 arrays of token offsets
    ends: Any = None
    turn_of: Any = None  # the index into turns of each token
    offset: int = 0      # position of the first token in the corpus
    note: str | None = None
    _lines: list[int] | None = None

    @property
    def current(self) -> bool:
        return self.revision == self.current_revision

    def line_of(self, offset: int) -> int:
        if self._lines is None:
            self._lines = [0] + [m.end() for m in re.finditer("\n", self.text)]
        return bisect.bisect_right(self._lines, offset)


class Corpus:
    """The transcripts a manuscript is checked against, with the indexes to find places."""

    def __init__(self, docs: list[Doc], forms: dict[str, int], known_words: set[str]) -> None:
        import numpy as np

        self.docs = docs
        self.forms = forms
        self.corpus_forms = len(forms)
        self.known_words = known_words
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
        known: set[str] = set()
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
            starts: list[int] = []
            ends: list[int] = []
            turn_of: list[int] = []
            for k, t in enumerate(doc.turns):
                t.first = len(ids)
                for m in _WORD.finditer(text, t.start, t.end):
                    w = m.group()
                    fid = form_of.get(w)
                    if fid is None:
                        f = word_form(w)
                        fid = forms.setdefault(f, len(forms))
                        form_of[w] = fid
                        known.add(w.casefold())
                    ids.append(fid)
                    starts.append(m.start())
                    ends.append(m.end())
                    turn_of.append(k)
                t.last = len(ids)
            doc.ids = np.array(ids, dtype=np.int32)
            doc.starts = np.array(starts, dtype=np.int32)
            doc.ends = np.array(ends, dtype=np.int32)
            doc.turn_of = np.array(turn_of, dtype=np.int32)
            docs.append(doc)
        return cls(docs, forms, known)

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

    def places(self, tokens: list[Token], ids: list[int], limit: int = 8) -> list[tuple[Doc, int]]:
        """Up to ``limit`` (document, turn index) where the extract's words stand close
        together, most shared words first."""
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
        out: list[tuple[Doc, int]] = []
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
            out.append((doc, turn))
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


def _window(doc: Doc, turn: int, spread: int = 2, cap: int = 6000) -> tuple[int, int]:
    a = doc.turns[max(0, turn - spread)].first
    b = doc.turns[min(len(doc.turns) - 1, turn + spread)].last
    if b - a > cap:
        centre = (doc.turns[turn].first + doc.turns[turn].last) // 2
        a, b = max(a, centre - cap // 2), min(b, centre + cap // 2)
    return a, b


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class Source:
    """Where an extract stands: transcript, revision, lines, turn(s) and speaker."""

    transcript: str
    revision: int
    current: bool
    line_start: int
    line_end: int
    start: int
    end: int
    turns: list[int]
    speakers: list[str]
    informant: str | None
    role: str | None
    similarity: float

    @property
    def speaker(self) -> str:
        return "+".join(self.speakers)

    def where(self) -> str:
        lines = f"{self.line_start}" if self.line_start == self.line_end else f"{self.line_start}-{self.line_end}"
        rev = "" if self.current else f" (rev {self.revision})"
        return f"{self.transcript}{rev} {lines} {self.speaker}"


@dataclass
class Change:
    """One word-level difference: what the manuscript has and what the source has (either may
    be empty: an added or an omitted stretch). ``kind``: 'changed', 'added', 'omitted'."""

    kind: str
    manuscript: str
    source: str


@dataclass
class Candidate:
    transcript: str
    revision: int
    line_start: int
    line_end: int
    speaker: str
    similarity: float
    text: str


@dataclass
class ExtractResult:
    """The verdict on one extract, with everything a reader needs to check it."""

    n: int
    kind: str
    where: str
    text: str
    attribution: Attribution
    verdict: str
    source: Source | None = None
    changes: list[Change] = field(default_factory=list)
    omissions: list[str] = field(default_factory=list)   # source words that marked omissions stand for
    insertions: list[str] = field(default_factory=list)  # bracketed insertions the source does not have
    damage: list[tuple[str, str]] = field(default_factory=list)  # (manuscript word, source word)
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context: str = ""
    # what the HTML page marks: (text, class) pieces of the extract and of its source in context
    manuscript_pieces: list[tuple[str, str]] = field(default_factory=list, repr=False)
    source_pieces: list[tuple[str, str, str]] = field(default_factory=list, repr=False)  # (who, text, cls)

    @property
    def label(self) -> str:
        return VERDICTS[self.verdict]

    @property
    def ok(self) -> bool | None:
        """True when it verifies, False when it fails, None for a neutral verdict."""
        return True if self.verdict in OK else None if self.verdict in NEUTRAL else False

    def diff(self, context: int = 3) -> str:
        """The word diff of the unmarked changes, ``[-source-]{+manuscript+}``, with a few words
        around each change."""
        return _wdiff(self._diff_ops, context) if self._diff_ops else ""

    _diff_ops: list[tuple[str, str]] = field(default_factory=list, repr=False)  # ('=', w) ('-', w) ('+', w)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "kind": self.kind, "where": self.where, "text": self.text,
            "attribution": {"codes": self.attribution.codes, "interviewer": self.attribution.interviewer,
                            "how": self.attribution.how, "written": self.attribution.written},
            "verdict": self.verdict, "verdict_text": self.label, "ok": self.ok,
            "source": asdict(self.source) if self.source else None,
            "changes": [asdict(c) for c in self.changes], "diff": self.diff() or None,
            "omissions": self.omissions, "insertions": self.insertions,
            "damage": [{"manuscript": a, "source": b} for a, b in self.damage],
            "candidates": [asdict(c) for c in self.candidates],
            "problems": self.problems, "notes": self.notes,
        }


def _wdiff(ops: list[tuple[str, str]], context: int) -> str:
    keep = [False] * len(ops)
    for k, (op, _) in enumerate(ops):
        if op != "=":
            for q in range(max(0, k - context), min(len(ops), k + context + 1)):
                keep[q] = True
    out: list[str] = []
    skipped = False
    k = 0
    while k < len(ops):
        if not keep[k]:
            skipped = True
            k += 1
            continue
        if skipped and out:
            out.append("…")
        skipped = False
        op, word = ops[k]
        if op == "=":
            out.append(word)
            k += 1
            continue
        minus, plus = [], []
        while k < len(ops) and ops[k][0] != "=":
            (minus if ops[k][0] == "-" else plus).append(ops[k][1])
            k += 1
        if len(minus) > 12:
            minus = minus[:5] + [f"…({len(minus) - 10} words)…"] + minus[-5:]
        if minus:
            out.append("[-" + " ".join(minus) + "-]")
        if plus:
            out.append("{+" + " ".join(plus) + "+}")
    if skipped and out:
        out.append("…")
    return " ".join(out)


@dataclass
class Verification:
    """A manuscript checked: its name, hash, the extracts' results and the counts."""

    manuscript: Manuscript
    results: list[ExtractResult]
    transcripts: int
    revisions: int

    @property
    def counts(self) -> dict[str, int]:
        counts = {k: 0 for k in VERDICTS}
        for r in self.results:
            counts[r.verdict] += 1
        return {k: v for k, v in counts.items() if v}

    @property
    def failed(self) -> list[ExtractResult]:
        return [r for r in self.results if r.ok is False]

    @property
    def verified(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        ms = self.manuscript
        return {"manuscript": ms.name, "path": str(ms.path), "sha256": ms.sha256, "format": ms.format,
                "words": ms.words, "extracts": len(self.results), "counts": self.counts, "verified": self.verified,
                "transcripts": self.transcripts, "revisions": self.revisions,
                "results": [r.to_dict() for r in self.results]}


# --------------------------------------------------------------------------------------------
# Verifying


def project_codes(store: Any, registry: Any) -> list[str]:
    """The informant codes a manuscript may name: the registry's and those the transcripts
    declared (the store's informants table)."""
    codes = [i.code for i in registry.informants]
    codes += [r[0] for r in store.conn.execute("SELECT code FROM informants")]
    codes += [r[0] for r in store.conn.execute("SELECT DISTINCT informant FROM turns WHERE informant IS NOT NULL")]
    return list(dict.fromkeys(codes))


def verify_manuscript(store: Any, registry: Any, path: str | Path, encoding: str = "utf-8",
                      corpus: Corpus | None = None) -> Verification:
    """Read a manuscript, find its extracts and check each against the transcripts."""
    manuscript = read_manuscript(path, encoding=encoding)
    codes = CodeFinder(project_codes(store, registry), registry)
    extracts = find_extracts(manuscript, codes)
    if not extracts:
        raise RtaError("found no quotes or extracts in the manuscript", path=manuscript.path,
                       hint="rta verify looks for block quotes (Word's Quote style, indented paragraphs, Markdown '>'), "
                            "paragraphs starting with a speaker label ('S1: ...') and quotes in «...» or \"...\" "
                            f"of {4} words or more")
    if corpus is None:
        corpus = Corpus.from_store(store)
    if not corpus.docs:
        raise RtaError("the project has no transcripts to check the manuscript against",
                       hint="add the transcripts first: rta add FILES")
    results = [check_extract(e, corpus) for e in extracts]
    revisions = len(corpus.docs)
    return Verification(manuscript, results, corpus.transcripts, revisions)


def check_extract(extract: Extract, corpus: Corpus) -> ExtractResult:
    """The verdict on one extract (see the module doc)."""
    tokens = tokens_of(extract.text)
    result = ExtractResult(extract.n, extract.kind, extract.where, extract.text, extract.attribution, TOO_SHORT,
                           context=extract.context)
    words = [t for t in tokens if not t.gap and not t.inserted]
    if len(words) < MIN_WORDS:
        result.manuscript_pieces = [(extract.text, "")]
        return result
    ids = [corpus.form_id(t.form) if not t.gap else -1 for t in tokens]
    alignments: list[tuple[Alignment, int]] = []
    for doc, turn in corpus.places(tokens, ids):
        lo, hi = _window(doc, turn)
        if hi > lo:
            alignments.append((align(tokens, ids, doc, lo, hi, corpus), turn))
    found = [a for a, _ in alignments if a.fraction >= FOUND_FRACTION and a.matched >= min(MIN_WORDS, a.words)]
    attribution = extract.attribution

    def rank(a: Alignment) -> tuple:
        speakers = _speakers(a)
        fits = attribution.given and len(speakers) == 1 and _fits(attribution, speakers[0])
        return (a.cost, not fits, not a.doc.current, a.doc.transcript, -a.doc.revision)

    current = sorted((a for a in found if a.doc.current), key=rank)
    older = sorted((a for a in found if not a.doc.current), key=rank)
    if not current and not older:
        result.verdict = NOT_FOUND if attribution.given else NOT_INTERVIEW
        result.candidates = _nearest(extract.text, tokens, alignments, corpus)
        result.manuscript_pieces = [(extract.text, "")]
        if attribution.given:
            result.problems.append("no transcript holds these words")
        return result
    best = current[0] if current else None
    superseded = None
    if older and (best is None or older[0].cost < best.cost) and _clean(older[0], tokens):
        superseded = older[0]
    chosen = superseded or best
    assert chosen is not None
    _describe(result, chosen, tokens, corpus)
    speakers = _speakers(chosen)
    if len(speakers) > 1 or len(_turns(chosen)) > 1:
        result.verdict = SPANS_TURNS
        result.problems.append(f"the words come from {len(_turns(chosen))} turns ({', '.join(speakers)})")
    elif attribution.given and not _fits(attribution, speakers[0]):
        turn = chosen.doc.turns[_turns(chosen)[0]]
        if turn.informant is None and attribution.codes:
            result.verdict = INTERVIEWER
            result.problems.append(f"attributed to {attribution}, but the interviewer ({turn.speaker}) said it")
        else:
            result.verdict = WRONG_INFORMANT
            result.problems.append(f"attributed to {attribution}, but {turn.who} said it")
    if superseded is not None:
        result.notes.append(f"found in revision {superseded.doc.revision} of {superseded.doc.transcript}, superseded by "
                            f"revision {superseded.doc.current_revision}"
                            + (" (the current revision differs here)" if best is not None else ""))
        if superseded.doc.note:
            result.notes.append(superseded.doc.note)
        if result.verdict == TOO_SHORT:
            result.verdict = SUPERSEDED
            result.problems.append("only an older revision of the transcript has these words")
    if result.changes:
        result.problems.append("words changed, added or left out without a mark")
        if result.verdict == TOO_SHORT:
            result.verdict = ALTERED
    if result.verdict == TOO_SHORT:
        result.verdict = MARKED if (result.omissions or result.insertions) else VERBATIM
    if not attribution.given and result.verdict in OK + (ALTERED,):
        result.notes.append("the manuscript does not say who said it")
    if result.damage:
        shown = ", ".join(f"{a}→{b}" for a, b in result.damage[:5]) + (" …" if len(result.damage) > 5 else "")
        result.notes.append(f"{len(result.damage)} word(s) with damaged letters (typing or OCR): {shown}")
    return result


def _fits(attribution: Attribution, speaker: str | None) -> bool:
    if attribution.interviewer:
        return speaker is None
    return speaker is not None and speaker in attribution.codes


def _turns(a: Alignment) -> list[int]:
    idx = [j for k, _, j in a.ops if j is not None and k in ("eq", "sub", "near", "join", "clarify", "gap")]
    if not idx:
        return []
    first, last = min(idx), max(idx)
    return sorted({int(a.doc.turn_of[first]), int(a.doc.turn_of[last])} |
                  {int(t) for t in set(a.doc.turn_of[first:last + 1].tolist())})


def _speakers(a: Alignment) -> list[str | None]:
    out: list[str | None] = []
    for t in _turns(a):
        who = a.doc.turns[t].informant
        if not out or out[-1] != who:
            out.append(who)
    return out


def _clean(a: Alignment, tokens: list[Token]) -> bool:
    return all(k not in ("sub", "add", "omit") for k, _, _ in a.ops)


def _nearest(text: str, tokens: list[Token], alignments: list[tuple[Alignment, int]], corpus: Corpus,
             limit: int = 3) -> list[Candidate]:
    """The spans of the transcripts most like an extract that was not found (the turns its
    words point at, compared character by character: :func:`rta.anchor.fuzzy_candidates`)."""
    from rta.anchor import fuzzy_candidates

    plain = " ".join(t.text for t in tokens if not t.gap)
    by_doc: dict[int, tuple[Doc, list[tuple[int, int]]]] = {}
    for a, turn in alignments:
        t = a.doc.turns[turn]
        by_doc.setdefault(id(a.doc), (a.doc, []))[1].append((t.start, t.end))
    out: list[Candidate] = []
    for doc, regions in by_doc.values():
        for c in fuzzy_candidates(plain, doc.text, sorted(set(regions)), limit=limit):
            k = int(doc.turn_of[max(0, int(doc.starts.searchsorted(c.start, "right")) - 1)]) if len(doc.ids) else 0
            out.append(Candidate(doc.transcript, doc.revision, c.line_start, c.line_end, doc.turns[k].who,
                                 round(c.similarity, 3), c.text))
    out.sort(key=lambda c: (-c.similarity, c.transcript, c.line_start))
    return out[:limit]


def _describe(result: ExtractResult, a: Alignment, tokens: list[Token], corpus: Corpus) -> None:
    """Fill in the source, the changes, the marked edits, the damage and the pieces to show."""
    doc = a.doc
    text = doc.text
    src_idx = [j for k, _, j in a.ops if j is not None and k != "gap"]
    first = min(j for _, _, j in a.ops if j is not None)
    last = max(j for _, _, j in a.ops if j is not None)
    if src_idx:
        first, last = min(src_idx), max(src_idx)
    start, end = int(doc.starts[first]), int(doc.ends[last])
    turns = _turns(a) or [int(doc.turn_of[first])]
    speakers = [doc.turns[t].who for t in turns]
    speakers = [s for k, s in enumerate(speakers) if k == 0 or speakers[k - 1] != s]
    lead = doc.turns[turns[0]]
    omitted_src = sum(1 for k, _, _ in a.ops if k == "omit")
    similarity = a.matched / max(1, a.words + omitted_src)
    result.source = Source(doc.transcript, doc.revision, doc.current, doc.line_of(start), doc.line_of(max(start, end - 1)),
                           start, end, [doc.turns[t].n for t in turns], speakers,
                           lead.informant if len(turns) == 1 else None, lead.role if len(turns) == 1 else None,
                           round(similarity, 3))

    def sw(j: int) -> str:
        return text[int(doc.starts[j]):int(doc.ends[j])]

    # word-level changes, marked edits and damage
    x_cls: dict[int, str] = {}
    s_cls: dict[int, str] = {}
    diff: list[tuple[str, str]] = []
    change: Change | None = None
    gap_words: list[str] = []

    def close() -> None:
        nonlocal change
        if change is not None:
            change.kind = "changed" if change.manuscript and change.source else "added" if change.manuscript else "omitted"
            result.changes.append(change)
            change = None

    def close_gap() -> None:
        if gap_words:
            result.omissions.append(" ".join(gap_words))
            gap_words.clear()

    for kind, xi, j in a.ops:
        if kind != "gap":
            close_gap()
        if kind in ("eq", "near", "join", "clarify", "ins", "gap"):
            close()
        if kind == "eq":
            mt, st = tokens[xi].text, sw(j)
            if mt.casefold() != st.casefold():
                if mt.casefold() in corpus.known_words:  # another word ('for', 'får'): a change
                    change = Change("", mt, st)
                    close()
                    diff += [("-", st), ("+", mt)]
                    x_cls[xi], s_cls[j] = "changed", "changed"
                    continue
                result.damage.append((mt, st))
                x_cls[xi], s_cls[j] = "damage", "damage"
            else:
                x_cls[xi], s_cls[j] = "", "match"
            diff.append(("=", mt))
        elif kind == "near":
            result.damage.append((tokens[xi].text, sw(j)))
            x_cls[xi], s_cls[j] = "damage", "damage"
            diff.append(("=", tokens[xi].text))
        elif kind == "join":
            x_cls[xi], s_cls[j] = "", "match"
            if tokens[xi].broken:
                diff.append(("=", sw(j)))
        elif kind == "clarify":
            result.insertions.append(f"{tokens[xi].text} (for '{sw(j)}')")
            x_cls[xi], s_cls[j] = "inserted", "clarified"
        elif kind == "ins":
            result.insertions.append(tokens[xi].text)
            x_cls[xi] = "inserted"
        elif kind == "gap":
            x_cls[xi], s_cls[j] = "omission", "skipped"
            gap_words.append(sw(j))
        elif kind == "sub":
            change = change or Change("", "", "")
            change.manuscript = (change.manuscript + " " + tokens[xi].text).strip()
            change.source = (change.source + " " + sw(j)).strip()
            diff += [("-", sw(j)), ("+", tokens[xi].text)]
            x_cls[xi], s_cls[j] = "changed", "changed"
        elif kind == "add":
            change = change or Change("", "", "")
            change.manuscript = (change.manuscript + " " + tokens[xi].text).strip()
            diff.append(("+", tokens[xi].text))
            x_cls[xi] = "added"
        elif kind == "omit":
            change = change or Change("", "", "")
            change.source = (change.source + " " + sw(j)).strip()
            diff.append(("-", sw(j)))
            s_cls[j] = "omitted"
    close()
    close_gap()
    # bracketed insertions: one entry per bracket, not per word
    result.insertions = _bracket_groups(result.text, tokens, x_cls) or result.insertions
    if any(op != "=" for op, _ in diff):
        result._diff_ops = diff
    for gi, t in enumerate(tokens):
        if t.gap and gi not in x_cls:
            x_cls[gi] = "omission"
    result.manuscript_pieces = _pieces(result.text, [(t.start, t.end, x_cls.get(k, "")) for k, t in enumerate(tokens)])
    # the source in context: the turns around the match, the matched words marked
    ctx_first = max(0, turns[0] - 1)
    ctx_last = min(len(doc.turns) - 1, turns[-1] + 1)
    for k in range(ctx_first, ctx_last + 1):
        t = doc.turns[k]
        spans = []
        for j in range(t.first, t.last):
            cls = s_cls.get(j)
            if cls is None:
                cls = "match" if first <= j <= last else ""
            spans.append((int(doc.starts[j]) - t.start, int(doc.ends[j]) - t.start, cls))
        lines = f"{t.line_start}" if t.line_start == t.line_end else f"{t.line_start}-{t.line_end}"
        who = f"{t.speaker} (linje {lines})"
        result.source_pieces.append((who, "", "turn"))
        for piece, cls in _pieces(text[t.start:t.end], spans, inside="match"):
            result.source_pieces.append(("", piece, cls))


def _bracket_groups(text: str, tokens: list[Token], x_cls: dict[int, str]) -> list[str]:
    """The bracketed insertions of an extract that the source does not have, as written."""
    out = []
    for m in _BRACKETED.finditer(text):
        inside = [k for k, t in enumerate(tokens) if m.start() < t.start < m.end() and not t.gap]
        if inside and any(x_cls.get(k) == "inserted" for k in inside):
            out.append(m.group())
    return out


def _pieces(text: str, spans: list[tuple[int, int, str]], inside: str = "") -> list[tuple[str, str]]:
    """``text`` cut into (piece, class) at the given spans. The text between two spans takes
    their class when they share it, else ``inside`` when both are marked (the source's matched
    stretch reads as one), else none."""
    out: list[tuple[str, str]] = []
    pos = 0
    prev = ""
    for s, e, cls in spans:
        if s > pos:
            between = cls if cls and cls == prev else (inside if cls and prev else "")
            out.append((text[pos:s], between))
        out.append((text[s:e], cls))
        pos = e
        prev = cls
    if pos < len(text):
        out.append((text[pos:], ""))
    merged: list[tuple[str, str]] = []
    for piece, cls in out:
        if merged and merged[-1][1] == cls:
            merged[-1] = (merged[-1][0] + piece, cls)
        elif piece:
            merged.append((piece, cls))
    return merged


# --------------------------------------------------------------------------------------------
# The log


def log_verification(store: Any, verification: Verification, coder: str | None) -> Any:
    """Record the run as a ``manuscript.verified`` event (inside a transaction of its own):
    which manuscript (name, sha256, format, words), how many extracts and the counts of each
    verdict, whether it verified, and against how many transcripts and revisions."""
    ms = verification.manuscript
    payload = {"manuscript": ms.name, "sha256": ms.sha256, "format": ms.format, "words": ms.words,
               "extracts": len(verification.results), "counts": verification.counts,
               "verified": verification.verified, "transcripts": verification.transcripts,
               "revisions": verification.revisions}
    with store.transaction():
        return store.log_event("manuscript.verified", payload, coder)


def check_logged(payload: dict[str, Any]) -> str | None:
    """What is wrong with a ``manuscript.verified`` payload (None when nothing): used by the
    replay, so an entry rewritten to claim another outcome does not pass unnoticed."""
    sha = payload.get("sha256")
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
        return "records no sha256 of the manuscript"
    counts = payload.get("counts")
    extracts = payload.get("extracts")
    if not isinstance(counts, dict) or not isinstance(extracts, int):
        return "records no counts of extracts"
    if any(k not in VERDICTS or not isinstance(v, int) or v < 0 for k, v in counts.items()):
        return "records counts of verdicts rta does not give"
    if sum(counts.values()) != extracts:
        return f"records {extracts} extract(s) but counts {sum(counts.values())}"
    failed = sum(v for k, v in counts.items() if k in FAILED)
    if payload.get("verified") is not (failed == 0):
        return (f"says the manuscript {'verified' if payload.get('verified') else 'failed'}, but its counts hold "
                f"{failed} failing extract(s)")
    return None


# --------------------------------------------------------------------------------------------
# Output


def summary_line(v: Verification) -> str:
    ms = v.manuscript
    parts = ", ".join(f"{n} {VERDICTS[k]}" for k, n in v.counts.items())
    outcome = "all interview extracts verify" if v.verified else f"{len(v.failed)} extract(s) FAIL"
    return (f"{ms.name} (sha256 {ms.sha256[:12]}…, {ms.words:,} words): {len(v.results)} extract(s) checked against "
            f"{v.transcripts} transcript(s): {parts}. {outcome}.")


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table_rows(v: Verification, width: int = 34) -> list[str]:
    """One row per extract: number, where, verdict, attribution, source, the start of its words."""
    header = ("#", "where", "verdict", "says", "source", "extract")
    rows = [header]
    for r in v.results:
        src = r.source.where() if r.source else (f"nearest: {r.candidates[0].transcript} {r.candidates[0].line_start} "
                                                 f"({r.candidates[0].similarity:.2f})" if r.candidates else "-")
        rows.append((str(r.n), r.where, r.label, str(r.attribution) or "-", src, _clip(r.text, width)))
    widths = [max(len(row[k]) for row in rows) for k in range(len(header) - 1)]
    out = []
    for row in rows:
        out.append("  ".join(cell.ljust(widths[k]) for k, cell in enumerate(row[:-1])) + "  " + row[-1])
    return out


def detail_rows(v: Verification, all_extracts: bool = False) -> list[str]:
    """For each extract that fails (or has notes), what is wrong: the problems, the word diff,
    the damage, the nearest candidates."""
    out: list[str] = []
    for r in v.results:
        if r.ok is not False and not all_extracts and not r.damage:
            continue
        out.append(f"#{r.n} {r.where}: {r.label}" + (f" ({r.source.where()})" if r.source else ""))
        for p in r.problems:
            out.append(f"    {p}")
        if r.diff():
            out.append(f"    diff: {r.diff()}")
        for note in r.notes:
            out.append(f"    note: {note}")
        for c in r.candidates:
            out.append(f"    nearest: {c.transcript} rev {c.revision} lines {c.line_start}-{c.line_end} {c.speaker} "
                       f"(similarity {c.similarity:.2f}): {_clip(c.text, 70)}")
        if r.verdict == NOT_FOUND and not r.candidates:
            out.append("    nearest: no transcript shares two consecutive words with it")
    return out


def to_json(v: Verification) -> dict[str, Any]:
    return v.to_dict()


def render_html(v: Verification, built: str) -> str:
    """The supervision page (``templates/verify.html.j2``, autoescaped)."""
    from rta.report import environment

    import rta

    template = environment().get_template("verify.html.j2")
    return template.render(v=v, verdicts=VERDICTS_NB, built=built, version=rta.__version__)

