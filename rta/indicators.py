"""The codebook's indicators, precomputed for matching word by word (used by rta.matcher).

Each distinct word is classified once per run (:class:`IndicatorIndex` caches it); the
matcher in rta.matcher looks the classification up per token.

Matching routes (``method`` in each evidence item), all on informant turns only:

``lemma``     the token's form or lemma equals an indicator or the indicator's lemma
              (``forventningene`` -> ``forventning``);
``folded``    equal after accent folding (``stotte``, ``okonomi``, ``forstaelse``: OCR and typing),
              only for a token the lexicon does not know (``for`` never becomes ``før``);
``compound``  the indicator starts or ends a compound (``rolleforståelse``,
              ``kapasitetsbyggingen`` with linking s/e, ``veilederrollen``); only indicators of
              at least :data:`MIN_STEM` letters, the other part must itself be a Norwegian
              content word of :data:`MIN_PART`+ letters (so ``kontrollen`` never reaches
              ``rolle``), and a known form is split as its lemma (``læreren`` is ``lærer``);
``fuzzy``     an out-of-vocabulary token (a typo or OCR damage, never a real word such as
              ``forvaltning``) close to an indicator of 7+ letters (rapidfuzz ratio >=
              :data:`FUZZY_THRESHOLD`, computed in batches with ``process.cdist``);
``phrase``    a multi-word indicator, word by word on surface forms, or on lemmas where the
              lexicon knows both forms under one part of speech and lemma (``tar tid`` ~
              ``tok tid``, but ``ikke klart`` never ~ ``ikke klarte``: both are adjective and
              verb forms);
``regex``     a codebook regular expression (case-insensitive) on the turn text;
``ocr``       an unknown token whose æ/ø/å were lost in OCR or typing, matched as the known word
              it stands for (rta.ocr.match_form: ``oppfalgingen`` -> ``oppfølgingen``);
              a known word is never restored into another.

(The ``learned`` evidence of rta.learn is not a route of this index: it judges whole passages.)

Policy for ambiguous words (see also the codebook's own indicator policy):

* Short words never match inside compounds or fuzzily (``rom`` is not found in
  ``klasserom`` or ``romantisk``; ``tid`` not in ``tidligere``).
* ``rom`` (the code Rom: room for manoeuvre) counts only as *room for*: it must be followed
  by ``for``/``til``, and a capitalised ``Rom`` inside a sentence is the city and never counts.
  ``rom og cola`` (the drink) therefore never matches.
* ``tid`` inside fixed expressions where it is not the resource (``hele tiden``, ``på tide``,
  ``i tide``, ``til tider``, ``for tiden``, ``med tiden``, ``på den tiden``, ``fra tid til
  annen``, ...) and ``veien`` in ``hele veien`` (all along), ``i veien`` never count,
  whatever route found them (:data:`FIXED_EXPRESSION_LIST`).

Weights (:data:`WEIGHTS`): regex .85, phrase .85, lemma .8, folded and ocr .7, compound .6,
fuzzy .6 x similarity. How evidence combines per passage is rta.passages' business.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from rta.errors import RtaError
from rta.norsk import fold
from rta.userregex import UserPattern, UserRegexError, compile_user_regex

MIN_STEM = 5
SLOTS = 64  # at most this many words in a phrase indicator
_NO_SLOTS: frozenset[int] = frozenset()
_CONTEXT_SENSITIVE = re.compile(r"\^|\$|\\[AZ]|\(\?<?[=!]")
FUZZY_THRESHOLD = 85.0
FUZZY_MIN_LEN = 7
WEIGHTS = {"regex": 0.85, "phrase": 0.85, "lemma": 0.8, "folded": 0.7, "ocr": 0.7, "compound": 0.6, "fuzzy": 0.6,
           "learned": 1.0}
METHOD_ORDER = ("regex", "phrase", "lemma", "folded", "ocr", "compound", "fuzzy", "learned")
_RANK = {m: i for i, m in enumerate(METHOD_ORDER)}
# Inflection endings allowed after an indicator that ends a compound (veilederroll-en).
_ENDINGS = ("", "e", "n", "en", "et", "er", "ene", "a", "ne", "s", "ens", "ets", "ers", "enes", "ernes", "erne")
# Remainders that are inflection, not a second word (so veileder+ne is no compound).
_INFLECTIONS = set(_ENDINGS) | {"ende", "ende", "ing", "ingen", "else", "elsen"}

# Fixed expressions whose noun (in brackets) does not carry the sense a code looks for: 'tid'
# that is not time as a resource, 'veien' that means "all along" rather than a path or a
# person's continuity. A bracketed word inside its expression never counts, whatever route
# found it; the same word elsewhere counts as usual.
FIXED_EXPRESSION_LIST = (
    "hele [tiden]", "på [tide]", "i [tide]", "til [tider]", "for [tiden]", "med [tiden]", "i [tiden]",
    "på den [tiden]", "på den [tid]", "fra [tid] til annen", "[tid] om annen", "[tid] etter annen",
    "i rett [tid]", "i god [tid]",
    "hele [veien]", "hele [veia]", "i [veien]", "på [veien]", "langs [veien]",
)
FIXED_EXPRESSIONS: tuple[tuple[str, ...], ...] = tuple(
    tuple(w.strip("[]") for w in p.split()) for p in FIXED_EXPRESSION_LIST)
_FIXED_WORDS = {w.strip("[]") for p in FIXED_EXPRESSION_LIST for w in p.split() if w.startswith("[")}
# The other part of a compound must be a content word of at least this many letters
# (so 'læreren' is never 'lære' + 'ren').
MIN_PART = 4
# 'rom' counts only as 'room for': next word must be one of these.
ROM_NEXT = {"for", "til"}


@dataclass
class Hit:
    """One indicator matched by one token (before sense guards and aggregation)."""

    code: str
    indicator: str
    method: str
    weight: float


@dataclass
class _Phrase:
    code: str
    indicator: str
    words: list[frozenset[str]]
    anchor: int


# ---------------------------------------------------------------------------------------
# The indicator index


class IndicatorIndex:
    """Indicators of the codebook precomputed for lookup by token string: exact, folded,
    compound prefix/suffix tables keyed by length, phrase anchors and compiled regexes.
    ``classify`` is cached per string, so each distinct word is analysed once per run."""

    def __init__(self, codebook: Any, lemma_of: Callable[[str], str], lexicon: Any = None,
                 codes: Iterable[str] | None = None, fuzzy_threshold: float = FUZZY_THRESHOLD,
                 stop_words: Iterable[str] = (), pos_of: dict[str, int] | None = None) -> None:
        self.lemma_of = lemma_of
        self.lexicon = lexicon if lexicon is not None else {}
        self.pos_of = pos_of if pos_of is not None else {}
        self.ocr = True  # restore lost æ/ø/å of unknown forms for matching (rta.ocr)
        self.fuzzy_threshold = fuzzy_threshold
        wanted = {fold(c) for c in codes} if codes else None
        self.exact: dict[str, list[tuple[str, str]]] = defaultdict(list)  # lowercase -> (code, indicator)
        self.folded: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.prefix: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.suffix: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.fuzzy_terms: list[str] = []
        self.fuzzy_refs: list[tuple[str, str]] = []
        self.phrases: list[_Phrase] = []
        self.anchors: dict[str, list[int]] = defaultdict(list)
        # folded word -> slot ids (phrase * SLOTS + word position) it can fill
        self.slot_index: dict[str, list[int]] = defaultdict(list)
        self.regexes: list[tuple[str, str, UserPattern]] = []
        self.codes: list[str] = []
        stop = {fold(w) for w in stop_words}
        self.stop = {w.lower() for w in stop_words}
        for code in codebook.codes:
            if wanted is not None and fold(code.name) not in wanted:
                continue
            self.codes.append(code.name)
            ind = code.indicators
            for term in [*ind.keywords, *ind.lemmas]:
                term = term.strip()
                if not term:
                    continue
                if len(term.split()) > 1:
                    self._add_phrase(code.name, term, stop)
                    continue
                self._add_word(code.name, term)
            for phrase in ind.phrases:
                if phrase.strip():
                    if len(phrase.split()) == 1:
                        self._add_word(code.name, phrase.strip())
                    else:
                        self._add_phrase(code.name, phrase.strip(), stop)
            for pattern in ind.regex:
                try:  # linear-time engine: no indicator can hang a run (rta.userregex)
                    self.regexes.append((code.name, pattern, compile_user_regex(pattern, flags=re.IGNORECASE)))
                except UserRegexError as exc:
                    raise RtaError(
                        f"code {code.name}: {exc.message}",
                        path=getattr(codebook, "path", None), line=getattr(code, "line", None),
                        hint=exc.hint,
                    ) from None
        self.prefix_lengths = sorted({len(k) for k in self.prefix}, reverse=True)
        self.suffix_lengths = sorted({len(k) for k in self.suffix}, reverse=True)
        self._cache: dict[str, tuple[tuple[Hit, ...], tuple[int, ...]]] = {}
        self._lemma_cache: dict[str, tuple[tuple[Hit, ...], tuple[int, ...]]] = {}
        # The patterns may scan a whole batch of turns at once (joined by newlines) to find
        # the turns worth searching one by one, but only when no pattern looks at where a
        # string starts or ends (^ $ \A \Z): there a turn's match could differ inside the
        # batch. \b and \B see the same at a newline as at a string's edge. Otherwise every
        # turn is searched on its own.
        self.batch_regex = bool(self.regexes) and not any(
            _CONTEXT_SENSITIVE.search(p) for _c, p, _r in self.regexes)

    # -- building -------------------------------------------------------------------------
    def _add_word(self, code: str, term: str) -> None:
        low = term.lower()
        ref = (code, term)
        forms = {low, self.lemma_of(low).lower()}
        for form in forms:
            if ref not in self.exact[form]:
                self.exact[form].append(ref)
            f = fold(form)
            if ref not in self.folded[f]:
                self.folded[f].append(ref)
            if len(f) >= MIN_STEM:
                if ref not in self.prefix[f]:
                    self.prefix[f].append(ref)
                if ref not in self.suffix[f]:
                    self.suffix[f].append(ref)
            if len(f) >= FUZZY_MIN_LEN and (f, ref) not in zip(self.fuzzy_terms, self.fuzzy_refs):
                self.fuzzy_terms.append(f)
                self.fuzzy_refs.append(ref)

    def _add_phrase(self, code: str, phrase: str, stop: set[str]) -> None:
        words = [w for w in re.findall(r"\w+", phrase.lower())]
        if not words:
            return
        variants = [frozenset(self.phrase_keys(w)) for w in words]
        # anchor on the longest word that is not a stop word (rarest, fewest checks)
        order = sorted(range(len(words)), key=lambda i: (fold(words[i]) in stop, -len(words[i])))
        anchor = order[0]
        if len(words) > SLOTS:
            raise RtaError(f"code {code}: phrase indicator {phrase!r} has more than {SLOTS} words",
                           hint="split it into shorter phrases or use a regex indicator")
        idx = len(self.phrases)
        self.phrases.append(_Phrase(code, phrase, variants, anchor))
        for v in variants[anchor]:
            self.anchors[v].append(idx)
        for k, forms in enumerate(variants):
            for v in forms:
                self.slot_index[v].append(idx * SLOTS + k)

    def known(self, s: str) -> bool:
        """Is the lower-case form ``s`` a Norwegian word the lexicon knows?"""
        return s in self.lexicon or s in self.pos_of

    def lemma_key(self, s: str) -> str | None:
        """``L:lemma|pos`` for a form the lexicon knows under one part of speech and one lemma;
        None for unknown or ambiguous forms (``klart``/``klarte``, ``får``)."""
        from rta.nlp import AMBIGUOUS, LEXICON_POS

        k = self.pos_of.get(s)
        if k is None or k == AMBIGUOUS:
            return None
        return f"L:{self.lemma_of(s).lower()}|{LEXICON_POS[k]}"

    def phrase_keys(self, w: str) -> list[str]:
        """What a phrase indicator's word can be matched by: its surface form, its lemma with
        its part of speech when unambiguous (``tar`` ~ ``tok``, never ``klart`` ~ ``klarte``),
        and its accent-folded form (reached only by unknown tokens, see :meth:`word_keys`)."""
        keys = [w, "F:" + fold(w)]
        lk = self.lemma_key(w)
        if lk:
            keys.append(lk)
        return keys

    def restored(self, s: str) -> str | None:
        """The known word an unknown form stands for when OCR or typing lost its æ/ø/å
        (rta.ocr.match_form: ``falge`` -> ``følge``), or None. Stored text is never changed:
        this is only what the form is matched as."""
        if not self.ocr or self.known(s) or not s.isalpha():
            return None
        from rta.ocr import match_form

        r = match_form(s)
        return r if r != s and self.known(r) else None

    def word_keys(self, s: str) -> list[str]:
        """The keys a token's lower-case form ``s`` offers to phrase words: the surface form,
        its unambiguous lemma key, and its folded form only when ``s`` is no known word (an
        accent lost in typing or OCR, never one real word read as another: ``for`` is not
        ``før``)."""
        keys = [s]
        lk = self.lemma_key(s)
        if lk:
            keys.append(lk)
        if not self.known(s):
            keys.append("F:" + fold(s))
            r = self.restored(s)
            if r is not None:
                keys.append(r)
                lk = self.lemma_key(r)
                if lk:
                    keys.append(lk)
        return keys

    def slots(self, *folded: str) -> frozenset[int]:
        """The phrase word slots that a token with these keys fills."""
        out: set[int] = set()
        for f in folded:
            out.update(self.slot_index.get(f, ()))
        return frozenset(out) if out else _NO_SLOTS

    # -- lookup ---------------------------------------------------------------------------
    def _word(self, part: str) -> bool:
        """Is ``part`` a content word that can be one part of a compound: a form in the lemma
        lexicon (allowing a linking s/e) of at least :data:`MIN_PART` letters, and no function
        word?"""
        if len(part) < MIN_PART or part in self.stop:
            return False
        if not self.lexicon:
            return True
        if part in self.lexicon:
            return True
        return len(part) > MIN_PART and part[-1] in "se" and part[:-1] in self.lexicon

    def classify(self, s: str, lemmatise: bool = True) -> tuple[tuple[Hit, ...], tuple[int, ...]]:
        """Indicator hits and phrase anchors for one lower-case token string (cached).
        ``lemmatise=False`` for a lemma the pipeline gave: it is not looked up again (so the
        noun ``lærer`` never becomes the verb ``lære``)."""
        cache = self._cache if lemmatise else self._lemma_cache
        cached = cache.get(s)
        if cached is not None:
            return cached
        hits: dict[tuple[str, str], Hit] = {}
        forms = [s]
        lemma = self.lemma_of(s) if lemmatise else s
        if lemma and lemma != s:
            forms.append(lemma.lower())
        for form in forms:
            for code, ind in self.exact.get(form, ()):
                hits.setdefault((code, ind), Hit(code, ind, "lemma", WEIGHTS["lemma"]))
        # accent folding only for a form the lexicon does not know: 'stotte' finds 'støtte',
        # but the real words 'for' and 'far' never become 'før' and 'får'
        if not self.known(s):
            for code, ind in self.folded.get(fold(s), ()):
                hits.setdefault((code, ind), Hit(code, ind, "folded", WEIGHTS["folded"]))
            restored = self.restored(s) if lemmatise else None
            if restored is not None:  # letters lost in OCR or typing: 'sdpass', 'bdde', 'falge'
                for hit in self.classify(restored)[0]:
                    hits.setdefault((hit.code, hit.indicator),
                                    Hit(hit.code, hit.indicator, "ocr", min(hit.weight, WEIGHTS["ocr"])))
        if not hits:
            self._compounds(s, hits)
        anchors: list[int] = []
        if lemmatise:  # a pipeline lemma carries no part of speech: phrases use the lexicon's
            for key in self.word_keys(s):
                anchors.extend(self.anchors.get(key, ()))
        result = (tuple(hits.values()), tuple(sorted(set(anchors))))
        cache[s] = result
        return result

    def _compounds(self, s: str, hits: dict[tuple[str, str], Hit]) -> None:
        # A form the lexicon knows is split as its lemma: an inflected form of a known word
        # is no compound (læreren is lærer + -en, not lære + ren), and a known word whose
        # lemma does not start/end with the indicator is no compound of it (kontroll-en is
        # not kont + rolle-n).
        known = None
        if self.lexicon and s in self.lexicon:
            s = self.lexicon[s].lower()
            known = fold(s)
        f = fold(s)
        n = len(f)
        if n < MIN_STEM + MIN_PART:
            return
        low_parts = s if len(s) == n else None  # lexicon is keyed by unfolded forms
        for length in self.prefix_lengths:
            if length > n - MIN_PART:
                continue
            refs = self.prefix.get(f[:length])
            if not refs or (known is not None and not known.startswith(f[:length])):
                continue
            rest = (low_parts or f)[length:]
            if rest and rest[0] in "se" and len(rest) > MIN_PART and not self._word(rest) and self._word(rest[1:]):
                rest = rest[1:]
            if rest in _INFLECTIONS or not self._word(rest):
                continue
            for code, ind in refs:
                hits.setdefault((code, ind), Hit(code, ind, "compound", WEIGHTS["compound"]))
        for ending in ("",) if known is not None else _ENDINGS:  # a lemma has no ending
            if ending and not f.endswith(ending):
                continue
            stem = f[: n - len(ending)] if ending else f
            for length in self.suffix_lengths:
                if length > len(stem) - MIN_PART:
                    continue
                refs = self.suffix.get(stem[-length:])
                if not refs or (known is not None and not known.endswith(stem[-length:])):
                    continue
                head = (low_parts or f)[: len(stem) - length]
                if not self._word(head):
                    continue
                for code, ind in refs:
                    hits.setdefault((code, ind), Hit(code, ind, "compound", WEIGHTS["compound"]))

    def fuzzy_batch(self, strings: list[str]) -> None:
        """Fuzzy-match, in one rapidfuzz ``cdist`` call, the new strings that found nothing
        else and are not Norwegian words (so only typos and OCR damage are fuzzed)."""
        if not self.fuzzy_terms:
            return
        queries, owners = [], []
        for s in strings:
            hits, anchors = self.classify(s)
            if hits or len(s) < FUZZY_MIN_LEN or not s.isalpha():
                continue
            if self.lexicon and (s in self.lexicon or self.lemma_of(s) != s):
                continue
            queries.append(fold(s))
            owners.append(s)
        if not queries:
            return
        from rapidfuzz import fuzz, process

        matrix = process.cdist(queries, self.fuzzy_terms, scorer=fuzz.ratio,
                               score_cutoff=self.fuzzy_threshold, workers=1)
        import numpy as np

        rows, cols = np.nonzero(matrix)
        found: dict[str, dict[tuple[str, str], Hit]] = defaultdict(dict)
        for r, c in zip(rows.tolist(), cols.tolist()):
            code, ind = self.fuzzy_refs[c]
            sim = float(matrix[r, c]) / 100.0
            found[owners[r]].setdefault((code, ind), Hit(code, ind, "fuzzy", round(WEIGHTS["fuzzy"] * sim, 4)))
        for s, hits in found.items():
            _old, anchors = self._cache[s]
            self._cache[s] = (tuple(hits.values()), anchors)
