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
   damage apart from them (``pa`` for ``på``, ``vaert`` for ``vært``: a word that lost its
   æ/ø/å; ``bdde`` for ``både``: a word no transcript has, a letter or two from the source's
   word), and for an extract that
   is not found, the nearest candidates with their similarity (:func:`rta.anchor.fuzzy_candidates`).

The finding and aligning is :mod:`rta.quotematch`; every comparison of two words goes through
its :func:`~rta.quotematch.word_form`, and a manuscript word no transcript has through the shared
OCR normalisation first (:func:`rta.ocr.match_form`, via :func:`~rta.quotematch.restore`).

Output: :func:`summary_line`, :func:`table_rows` and :func:`detail_rows` for the terminal,
:func:`to_json`, and :func:`render_html` (a page for a supervision meeting: each extract beside
its source in context, the differences marked; autoescaped, self-contained, offline).
:func:`log_verification` records the run as a ``manuscript.verified`` event.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import RtaError
from rta.manuscript import (MIN_INLINE_WORDS, Attribution, CodeFinder, Extract, Manuscript, find_extracts,
                            read_manuscript)
from rta.norsk import fold
from rta.quotematch import (BRACKETED, Alignment, Corpus, Doc, Token, align, place_window, restore_tokens,
                            tokens_of)

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
    superseded_by: int | None = None  # the current revision, when the source is an older one
    before_pseudonymisation: bool = False  # the source revision is from before 'rta anonymise apply'
    current_differs: bool = False  # the current revision has the words, with differences
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
            "problems": self.problems, "notes": self.notes, "superseded_by": self.superseded_by,
            "before_pseudonymisation": self.before_pseudonymisation,
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
                            f"of {MIN_INLINE_WORDS} words or more")
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
    attribution = extract.attribution
    ids = [corpus.form_id(t.form) if not t.gap else -1 for t in tokens]
    alignments = _search(tokens, ids, attribution, corpus)
    # Words no transcript has that did not align as damaged letters: ask the shared OCR
    # normalisation what they stand for (in damaged mode when the extract shows lost letters),
    # and search again if it restored any.
    best = min((a for a, _ in alignments), key=lambda a: a.cost, default=None)
    aligned_near = {xi for k, xi, _ in (best.ops if best else []) if k in ("near", "eq")}
    unknown = [k for k, t in enumerate(tokens) if not t.gap and not corpus.known(ids[k]) and k not in aligned_near]
    if unknown:
        damaged = best is not None and _lost_letters(best, tokens) or len(unknown) >= 2
        if restore_tokens([tokens[k] for k in unknown], corpus, damaged):
            ids = [corpus.form_id(t.form) if not t.gap else -1 for t in tokens]
            alignments = _search(tokens, ids, attribution, corpus)
    found = [a for a, _ in alignments if _found(a)]

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
    if best is None or (older and older[0].cost < best.cost and _clean(older[0], tokens)):
        superseded = older[0]  # found only in an older revision, or there better than in the current one
    chosen = superseded or best
    assert chosen is not None  # one of the two lists is not empty
    _describe(result, chosen, tokens, corpus)
    speakers = _speakers(chosen)
    verdict: str | None = None
    if len(speakers) > 1 or len(_turns(chosen)) > 1:
        verdict = SPANS_TURNS
        who = ", ".join(result.source.speakers) if result.source else ""
        result.problems.append(f"the words come from {len(_turns(chosen))} turns ({who})")
    elif attribution.given and not _fits(attribution, speakers[0]):
        turn = chosen.doc.turns[_turns(chosen)[0]]
        if turn.informant is None and attribution.codes:
            verdict = INTERVIEWER
            result.problems.append(f"attributed to {attribution}, but the interviewer ({turn.speaker}) said it")
        else:
            verdict = WRONG_INFORMANT
            result.problems.append(f"attributed to {attribution}, but {turn.who} said it")
    if superseded is not None:
        result.superseded_by = superseded.doc.current_revision
        result.before_pseudonymisation = superseded.doc.note is not None
        result.current_differs = best is not None
        result.notes.append(f"found in revision {superseded.doc.revision} of {superseded.doc.transcript}, superseded by "
                            f"revision {superseded.doc.current_revision}"
                            + (" (the current revision differs here)" if best is not None else ""))
        if superseded.doc.note:
            result.notes.append(superseded.doc.note)
        if verdict is None:
            verdict = SUPERSEDED
            result.problems.append("only an older revision of the transcript has these words")
    if result.changes:
        result.problems.append("words changed, added or left out without a mark")
        verdict = verdict or ALTERED
    result.verdict = verdict or (MARKED if (result.omissions or result.insertions) else VERBATIM)
    if not attribution.given and result.verdict in OK + (ALTERED,):
        result.notes.append("the manuscript does not say who said it")
    if result.damage:
        shown = ", ".join(f"{a}→{b}" for a, b in result.damage[:5]) + (" …" if len(result.damage) > 5 else "")
        result.notes.append(f"{len(result.damage)} word(s) with damaged letters (typing or OCR): {shown}")
    return result


def _search(tokens: list[Token], ids: list[int], attribution: Attribution, corpus: Corpus
            ) -> list[tuple[Alignment, int]]:
    """The extract aligned at the places where its words stand (:meth:`Corpus.places`), best
    places first; stops at a verbatim match in a current revision from the attributed speaker."""
    alignments: list[tuple[Alignment, int]] = []
    places = corpus.places(tokens, ids)
    top = places[0][2] if places else 0
    for doc, turn, shared in places:
        if shared * 4 < top and any(_found(a) for a, _ in alignments):
            break  # the places left share far fewer words than one where the extract was found
        # the turn alone first; the turns around it when the extract runs over its edge
        lo, hi = place_window(doc, turn, spread=0)
        if hi <= lo:
            continue
        a = align(tokens, ids, doc, lo, hi, corpus)
        if _runs_over(a, tokens, lo, hi):
            lo, hi = place_window(doc, turn)
            a = align(tokens, ids, doc, lo, hi, corpus)
        alignments.append((a, turn))
        speakers = _speakers(a)
        if a.cost == 0 and doc.current and len(speakers) == 1 and (
                not attribution.given or _fits(attribution, speakers[0])):
            break  # verbatim in a current revision, from whom the manuscript says: nothing can beat it
    return alignments


def _lost_letters(a: Alignment, tokens: list[Token]) -> bool:
    """Whether an aligned extract shows lost æ/ø/å: a word restored by the OCR layer, a garbled
    word, or two or more words that differ from the source's only by æ/ø/å written plain."""
    if any(t.restored for t in tokens) or any(k == "near" for k, _, _ in a.ops):
        return True
    text = a.doc.text
    plain = 0
    for k, xi, j in a.ops:
        if k == "eq":
            mt, st = tokens[xi].text, text[int(a.doc.starts[j]):int(a.doc.ends[j])]
            plain += mt.casefold() != st.casefold() and fold(mt) == mt.casefold()
    return plain >= 2


def _runs_over(a: Alignment, tokens: list[Token], lo: int, hi: int) -> bool:
    """Whether an alignment inside one turn may be cut off by the turn's edges: words of the
    extract left over before or after it (or an omission mark at an edge), or too few found."""
    if not _found(a):
        return True
    if not a.ops:
        return True
    first, last = a.ops[0], a.ops[-1]
    return first[0] in ("add", "ins") or last[0] in ("add", "ins") or (
        tokens[0].gap or tokens[-1].gap) or any(k == "gap" and j in (lo, hi - 1) for k, _, j in a.ops)


def _found(a: Alignment) -> bool:
    return a.fraction >= FOUND_FRACTION and a.matched >= min(MIN_WORDS, a.words)


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

    # Words that differ only in lost æ/ø/å are damage when the extract shows it lost letters
    # elsewhere too (a word restored by the OCR layer, a garbled word, more such words), else
    # changes ('sa' for 'så' with every other å in place).
    damaged = _lost_letters(a, tokens)
    # word-level changes, marked edits and damage
    x_cls: dict[int, str] = {}
    s_cls: dict[int, str] = {}
    diff: list[tuple[str, str]] = []
    change: Change | None = None
    gap_words: list[int] = []  # source tokens an omission mark stands for

    def close() -> None:
        nonlocal change
        if change is not None:
            change.kind = "changed" if change.manuscript and change.source else "added" if change.manuscript else "omitted"
            result.changes.append(change)
            change = None

    def close_gap() -> None:
        if gap_words:  # the source's words as written, punctuation and line breaks kept
            result.omissions.append(" ".join(text[int(doc.starts[gap_words[0]]):int(doc.ends[gap_words[-1]])].split()))
            gap_words.clear()

    for kind, xi, j in a.ops:
        if kind != "gap":
            close_gap()
        if kind in ("eq", "near", "join", "clarify", "ins", "gap"):
            close()
        if kind == "eq":
            mt, st = tokens[xi].text, sw(j)
            if mt.casefold() != st.casefold():
                if not (tokens[xi].restored or (fold(mt) == mt.casefold() and damaged)):
                    # another word that folds alike ('for' for 'får') in an extract with no other
                    # sign of lost letters: a change
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
            result.insertions.append(f"{tokens[xi].text} → {sw(j)}")
            x_cls[xi], s_cls[j] = "inserted", "clarified"
        elif kind == "ins":
            result.insertions.append(tokens[xi].text)
            x_cls[xi] = "inserted"
        elif kind == "gap":
            x_cls[xi], s_cls[j] = "omission", "skipped"
            gap_words.append(j)
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
    for m in BRACKETED.finditer(text):
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
    from rta.report_render import environment

    import rta

    env = environment()
    env.filters["where_nb"] = where_nb
    template = env.get_template("verify.html.j2")
    return template.render(v=v, verdicts=VERDICTS_NB, built=built, version=rta.__version__)


_WHERE_NB = (("paragraph", "avsnitt"), ("(in a table)", "(i en tabell)"), ("page", "side"), ("line", "linje"))


def where_nb(where: str) -> str:
    """Where an extract stands, in Norwegian for the page (``paragraph 12`` -> ``avsnitt 12``)."""
    for en, nb in _WHERE_NB:
        where = where.replace(en, nb)
    return where

