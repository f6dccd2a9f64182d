"""What ``rta read`` shows of one transcript, read from the store once per change: the text of
the current revision, its turns, sentences and words, the active codings, the pending
suggestions and the passages they propose codes for; plus the cursor and selection rules (a
selection never leaves its turn). A passage is shown as ``rta review`` shows it
(rta.review.passage_view: all its codes, decided ones too, with evidence and ranked themes),
read when the cursor first comes to it: reading every passage's evidence after each decision
cost more than the decision.

No Textual here: the workbench's widgets draw this model, and tests check it directly."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

from rta.review import PassageView, passage_view, ranked_groups
from rta.store import Store

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Turn:
    n: int
    speaker: str
    informant: str | None  # None: the interviewer
    start: int
    end: int
    line_start: int
    line_end: int


@dataclass(frozen=True)
class Mark:
    """A coding or a pending suggestion on the text."""

    kind: str  # 'coding' or 'suggestion'
    id: int
    start: int
    end: int
    code: str
    coder: str | None = None
    origin: str | None = None
    memo: str | None = None
    created: str | None = None
    score: float | None = None
    method: str | None = None


@dataclass(frozen=True)
class PendingPassage:
    """A passage with codes to decide: its span and those codes' marks, best first."""

    start: int
    end: int
    marks: tuple[Mark, ...]


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    turn: int  # index into Document.turns


@dataclass
class Document:
    """One transcript's current revision as the workbench needs it."""

    transcript_id: str
    revision: int
    text: str
    turns: list[Turn]
    codings: list[Mark]
    suggestions: list[Mark]
    sentences: list[Sentence] = field(default_factory=list)
    line_starts: list[int] = field(default_factory=list)
    sha256: str = ""  # of the text: the revision a selection was chosen on (rta.coding.Basis)
    themes_of: dict[str, list[str]] | None = None  # code -> themes for a passage's themes (None: the project's)
    passages: list[PendingPassage] = field(default_factory=list, init=False)  # in text order (_index)

    @classmethod
    def load(cls, store: Store, transcript_id: str, themes_of: dict[str, list[str]] | None = None) -> "Document":
        """Read the transcript's current revision with its codings and pending suggestions
        (a passage's themes ranked with ``themes_of``, default the project's)."""
        from rta.coding import basis_of  # an unknown id: the did-you-mean error
        from rta.review import sentence_bounds

        basis = basis_of(store, transcript_id)
        revision = basis.revision
        text = store.transcript_text(transcript_id, revision)
        turns = [Turn(r["n"], r["speaker"], r["informant"], r["start"], r["end"], r["line_start"], r["line_end"])
                 for r in store.conn.execute(
                     "SELECT n, speaker, informant, start, end, line_start, line_end FROM turns "
                     "WHERE transcript_id=? AND revision=? ORDER BY n", (transcript_id, revision))]
        codings, suggestions = _marks(store, transcript_id, revision)
        sentences = [Sentence(a, b, i) for i, t in enumerate(turns) for a, b in sentence_bounds(text, t.start, t.end)]
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        doc = cls(transcript_id, revision, text, turns, codings, suggestions, sentences, line_starts, basis.sha256,
                  themes_of)
        doc._index()
        return doc

    def refreshed(self, store: Store, themes_of: dict[str, list[str]] | None = None) -> "Document":
        """The document after a decision: the codings and suggestions read again; the text,
        turns, sentences and words reused when the revision is unchanged (else a full load).
        ``themes_of``: a new code -> themes map (default: the one it was read with)."""
        themes_of = self.themes_of if themes_of is None else themes_of
        row = store.transcript_row(self.transcript_id)
        if row is None or int(row["revision"]) != self.revision:
            return Document.load(store, self.transcript_id, themes_of)
        known = {_mark_key(m): m for m in (*self.codings, *self.suggestions)}
        fresh = Document(self.transcript_id, self.revision, self.text, self.turns,
                         *_marks(store, self.transcript_id, self.revision, known),
                         self.sentences, self.line_starts, self.sha256, themes_of)
        fresh._words = self._informant_words()
        fresh._index()
        return fresh

    def _informant_words(self) -> tuple[list[int], list[int]]:
        if getattr(self, "_words", None) is None:
            starts, ends = [], []
            for t in self.turns:
                if t.informant is not None:
                    for m in _WORD.finditer(self.text, t.start, t.end):
                        starts.append(m.start())
                        ends.append(m.end())
            self._words = (starts, ends)
        return self._words

    def _index(self) -> None:
        self._sentence_starts = [s.start for s in self.sentences]
        self._turn_starts = [t.start for t in self.turns]
        self._coding_starts = [m.start for m in self.codings]
        self._coding_longest = max((m.end - m.start for m in self.codings), default=0)
        self._sugg_starts = [m.start for m in self.suggestions]
        self._sugg_longest = max((m.end - m.start for m in self.suggestions), default=0)
        groups = ranked_groups(self.suggestions, key=lambda m: (m.start, m.end))
        self.passages = [PendingPassage(a, b, tuple(marks)) for (a, b), marks in sorted(groups.items())]
        self._passage_at = {(p.start, p.end): p for p in self.passages}
        self._passage_starts = [p.start for p in self.passages]
        self._passage_longest = max((p.end - p.start for p in self.passages), default=0)
        self._views: dict[tuple[int, int], PassageView | None] = {}

    # -- where things are ------------------------------------------------------------------
    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset."""
        return bisect_right(self.line_starts, offset)

    def turn_index_at(self, offset: int) -> int | None:
        i = bisect_right(self._turn_starts, offset) - 1
        if i >= 0 and offset < max(self.turns[i].end, self.turns[i].start + 1):
            return i
        return None

    def sentence_index_at(self, offset: int) -> int:
        """The sentence holding ``offset``, else the next one (else the last)."""
        i = bisect_right(self._sentence_starts, offset) - 1
        if i >= 0 and offset < self.sentences[i].end:
            return i
        return min(i + 1, len(self.sentences) - 1) if self.sentences else 0

    def _overlapping(self, marks: list[Any], starts: list[int], longest: int, start: int, end: int) -> list[Any]:
        lo = bisect_left(starts, start - longest)
        hi = bisect_left(starts, end)
        return [m for m in marks[lo:hi] if m.end > start and m.start < end]

    def codings_in(self, start: int, end: int) -> list[Mark]:
        return self._overlapping(self.codings, self._coding_starts, self._coding_longest, start, end)

    def suggestions_in(self, start: int, end: int) -> list[Mark]:
        return self._overlapping(self.suggestions, self._sugg_starts, self._sugg_longest, start, end)

    def passages_in(self, start: int, end: int) -> list[PendingPassage]:
        """Passages with codes to decide overlapping ``start..end``, in text order."""
        return self._overlapping(self.passages, self._passage_starts, self._passage_longest, start, end)

    def passage_of(self, mark: Mark) -> PendingPassage | None:
        """The passage a pending suggestion proposes its code for (the suggestions on one span)."""
        return self._passage_at.get((mark.start, mark.end))

    def view_of(self, store: Store, passage: PendingPassage) -> PassageView | None:
        """The passage as ``rta review`` shows it: all its codes ranked (decided ones too) with
        their evidence, and its themes ranked; read from the store once per document."""
        key = (passage.start, passage.end)
        if key not in self._views:
            self._views[key] = passage_view(store, self.transcript_id, self.revision, *key, self.themes_of)
        return self._views[key]

    # -- selection rules -------------------------------------------------------------------
    def words_of(self, turn: Turn) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in _WORD.finditer(self.text, turn.start, turn.end)]

    def grow(self, start: int, end: int, unit: str) -> tuple[int, int]:
        """The selection ``start..end`` one ``unit`` ('word', 'sentence') longer at its end, or
        the whole turn ('turn'); never past the end of its turn."""
        ti = self.turn_index_at(start)
        if ti is None:
            return start, end
        turn = self.turns[ti]
        if unit == "turn":
            first = next((s for s in self.sentences if s.turn == ti), None)
            last = next((s for s in reversed(self.sentences) if s.turn == ti), None)
            return (first.start, last.end) if first and last else (start, end)
        if unit == "word":
            nxt = next(((a, b) for a, b in self.words_of_after(turn, end)), None)
            return (start, nxt[1]) if nxt else (start, end)
        nxt = next((s for s in self.sentences[self.sentence_index_at(end):] if s.turn == ti and s.end > end), None)
        return (start, nxt.end) if nxt else (start, end)

    def shrink(self, start: int, end: int, unit: str) -> tuple[int, int]:
        """The selection one ``unit`` shorter at its end; at least one word stays selected."""
        ti = self.turn_index_at(start)
        if ti is None:
            return start, end
        turn = self.turns[ti]
        if unit == "word":
            ends = [b for a, b in self.words_of(turn) if start < b < end]
            return (start, ends[-1]) if ends else (start, end)
        ends = [s.end for s in self.sentences if s.turn == ti and start < s.end < end]
        if ends:
            return start, ends[-1]
        first_word = next(((a, b) for a, b in self.words_of(turn) if a >= start), None)
        return (start, first_word[1]) if first_word else (start, end)

    def words_of_after(self, turn: Turn, offset: int) -> Any:
        for m in _WORD.finditer(self.text, offset, turn.end):
            yield m.start(), m.end()

    # -- coverage ----------------------------------------------------------------------------
    def coverage(self) -> tuple[int, int]:
        """(informant words coded, informant words): what the transcript list shows."""
        starts, ends = self._informant_words()
        coded = 0
        for a, b in _merged((m.start, m.end) for m in self.codings):
            coded += max(0, bisect_left(starts, b) - bisect_right(ends, a))
        return coded, len(starts)


def _marks(store: Store, transcript_id: str, revision: int,
           known: dict[tuple, Mark] | None = None) -> tuple[list[Mark], list[Mark]]:
    """The active codings and pending suggestions of one revision, by position. ``known``
    (the marks read last time, by their row) lets a re-read after a decision reuse the marks
    that did not change: building 500 of them again cost more than the decision's transaction."""
    known = {} if known is None else known
    cursor = store.conn.cursor()
    cursor.row_factory = None  # plain tuples: the row is the key of its mark
    codings = []
    for row in cursor.execute(
            "SELECT id, start, end, code, coder, origin, memo, created FROM codings WHERE transcript_id=? "
            "AND revision=? AND status='active' ORDER BY start, id", (transcript_id, revision)):
        key = ("coding", *row)
        mark = known.get(key)
        codings.append(mark if mark is not None else Mark(*key))
    suggestions = []
    for row in cursor.execute(
            "SELECT id, start, end, code, score, method FROM suggestions WHERE transcript_id=? "
            "AND revision=? AND status='suggested' ORDER BY start, score DESC, id", (transcript_id, revision)):
        key = ("suggestion", *row)
        mark = known.get(key)
        if mark is None:
            mark = Mark("suggestion", row[0], row[1], row[2], row[3], score=row[4], method=row[5])
        suggestions.append(mark)
    return codings, suggestions


def _mark_key(m: Mark) -> tuple:
    """The row a mark was read from (see :func:`_marks`)."""
    if m.kind == "coding":
        return ("coding", m.id, m.start, m.end, m.code, m.coder, m.origin, m.memo, m.created)
    return ("suggestion", m.id, m.start, m.end, m.code, m.score, m.method)


def _merged(spans) -> list[list[int]]:
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def coverage(text: str, turns: list[tuple[int, int]], spans: list[tuple[int, int]]) -> tuple[int, int]:
    """How many of the words in ``turns`` overlap one of ``spans``, and how many words there are."""
    merged = _merged(spans)
    starts = [m[0] for m in merged]
    coded = total = 0
    for t0, t1 in turns:
        for m in _WORD.finditer(text, t0, t1):
            total += 1
            i = bisect_right(starts, m.start()) - 1
            if (i >= 0 and merged[i][1] > m.start()) or (i + 1 < len(merged) and merged[i + 1][0] < m.end()):
                coded += 1
    return coded, total


@dataclass(frozen=True)
class TranscriptSummary:
    transcript_id: str
    coded_words: int
    words: int
    pending: int
    codings: int

    @property
    def share(self) -> float:
        return self.coded_words / self.words if self.words else 0.0


def transcript_summaries(store: Store) -> list[TranscriptSummary]:
    """Every transcript with its coverage (share of informant words coded) and pending suggestions."""
    out = []
    pending = {r[0]: r[1] for r in store.conn.execute(
        "SELECT s.transcript_id, COUNT(*) FROM suggestions s JOIN transcripts t ON t.id = s.transcript_id "
        "AND t.revision = s.revision WHERE s.status='suggested' GROUP BY s.transcript_id")}
    for row in store.conn.execute("SELECT id, revision FROM transcripts ORDER BY id").fetchall():
        tid, rev = row["id"], row["revision"]
        text = store.transcript_text(tid, rev)
        turns = [(r[0], r[1]) for r in store.conn.execute(
            "SELECT start, end FROM turns WHERE transcript_id=? AND revision=? AND informant IS NOT NULL", (tid, rev))]
        spans = [(r[0], r[1]) for r in store.conn.execute(
            "SELECT start, end FROM codings WHERE transcript_id=? AND revision=? AND status='active'", (tid, rev))]
        coded, total = coverage(text, turns, spans)
        out.append(TranscriptSummary(tid, coded, total, pending.get(tid, 0), len(spans)))
    return out
