"""OCR-damaged and old text: a normalisation layer for matching (issue 17, item 4).

Transcripts typed from print, OCR'd, or typed on a keyboard without æ, ø and å lose those
letters (``pa`` for *på*, ``sdpass`` for *såpass*, ``bdde`` for *både*, ``falge`` for
*følge*, ``okonomi``, ``stotte``), old spelling writes ``aa`` for *å* (``paa``, ``naar``), and
print splits words at line ends (``ord-\\nninga``, or ``ord- ninga`` once the line breaks are
gone). This module sees through that **for matching only**: the stored text and its offsets
are never changed. Every function returns a new string together with a map back to the
offsets of the text it was given, so a span found in the normalised text maps back to the
stored text exactly (:func:`source_span`).

Public API (library only; no CLI imports):

* :func:`match_form` -- the lower-case form of one word used for matching. A known Norwegian
  Bokmål form (the lemma lexicon of :func:`rta.nlp.lemma_table`, ~590,000 inflected forms,
  or frequent in ``wordfreq``'s Bokmål list) is returned unchanged, so ``for`` never becomes
  ``før`` and ``far`` never ``får``. Otherwise, if restoring likely lost letters gives a
  clearly known word, the most frequent such word is returned.
* :func:`dehyphenate` -- joins words split at line ends (and ``X- Y`` inside a line when the
  parts are not words on their own but the join is); keeps real hyphenated words
  (``skole- og barnehage``, ``Nord-Norge``, ``e-post``).
* :func:`normalise_for_matching` -- both of the above with the offset maps composed
  (:class:`Normalised`), and :func:`source_span` to map a span back.
* :func:`ocr_damage_score` -- says when a transcript looks OCR-damaged or typed without
  æ, ø and å (:class:`OcrReport`).

Restorations tried (at most :data:`MAX_CHANGES` per word, in any combination):
``a`` -> ``å``/``æ``/``ø``, ``o`` -> ``ø``/``å``, ``e`` -> ``æ``, ``d`` -> ``å`` (OCR reads
*å* as *d*), and the two-letter spellings ``aa`` -> ``å``, ``ae`` -> ``æ``, ``oe`` -> ``ø``
(old orthography and ASCII typing; these shorten the word, and the offset map accounts for it).

``wordfreq`` is imported lazily (never at ``rta`` import time): its Bokmål list is read
straight from the data file the wheel ships (no network), and cached as a pickle beside the
lemma cache. Loading the two lexicons costs about a second once per process; results per
distinct word are cached.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

__all__ = [
    "match_form",
    "dehyphenate",
    "normalise_for_matching",
    "source_span",
    "ocr_damage_score",
    "Normalised",
    "OcrReport",
    "damage_warning",
    "doctor_lines",
    "simulate_damage",
]

# --- tuning (documented in the module docstring and the README) ---------------------------

#: most letters restored in one word
MAX_CHANGES = 3
#: a word at least this frequent in wordfreq (Zipf scale: 3.0 = once per million words)
#: counts as a known word
KNOWN_ZIPF = 3.0
#: a restored word must be at least this frequent (or a form in the lemma lexicon)
CANDIDATE_ZIPF = 2.0
#: how much more frequent (Zipf points) the restored word must be than the word as written:
#: for a word wordfreq knows well (``pa``, ``ma``, ``na`` are frequent in web text typed
#: without å) and for a rare or unknown one
MARGIN_KNOWN = 2.0
MARGIN_RARE = 1.0
#: a form of the lemma lexicon rarer than KNOWN_ZIPF (the lexicon holds stray forms such as
#: ``pd``) is restored only when the restored word is this much more frequent
MARGIN_RARE_LEMMA = 2.5
#: in a text known to be damaged, a known form is restored when the restored word is this
#: much more frequent (``mate`` 3.7 -> ``måte`` 5.5); ``far`` 5.1 / ``får`` 6.3 stays
MARGIN_DAMAGED = 1.3
#: shortest part of a compound restored part by part
MIN_PART = 4
#: longest word tried (longer ones are compounds the lexicons rarely hold)
MAX_WORD = 32

#: single-letter substitutions: written letter -> the letters it may stand for
SUBSTITUTIONS = {"a": "åæø", "o": "øå", "e": "æ", "d": "å"}
#: a single letter restored in damaged text (the infinitive marker ``å``, OCR's ``d``)
SINGLE = {"a": "å", "d": "å"}
#: two written letters that may stand for one (old spelling ``paa``, ASCII typing ``vaere``)
PAIRS = {"aa": "å", "ae": "æ", "oe": "ø"}

_RESTORABLE = frozenset(SUBSTITUTIONS) | {p[0] for p in PAIRS}

#: a word after ``X-`` that makes it a suspended compound (``skole- og barnehage``)
SUSPENDED = frozenset({
    "og", "eller", "samt", "enn", "som", "til", "men", "eventuelt", "evt", "hhv", "respektive",
    "med", "mot", "fra", "and", "or",
})

_WORD = re.compile(r"[^\W\d_]+")
_HYPHENS = "-\u2010\u00ad\u00ac"  # hyphen, Unicode hyphen, soft hyphen, OCR's ¬
# X, the hyphen, the gap (a line break with optional blanks around it, or blanks in a line,
# or nothing), Y; X and Y are whole runs of letters, and Y is no speaker label (``va:``).
_BREAK = re.compile(
    r"(?<![\w\u00ad])([^\W\d_]+)([-\u2010\u00ad\u00ac])([ \t]*(?:\r\n|\r|\n)[ \t]*|[ \t]+|)([^\W\d_]+)(?![\w\u00ad:])"
)


# --- lexicons (lazy) --------------------------------------------------------------------

@functools.cache
def _lemmas() -> dict[str, str]:
    from rta.nlp import lemma_table

    return lemma_table()


@functools.cache
def _freqs() -> dict[str, float]:
    """wordfreq's Norwegian Bokmål list as word -> Zipf frequency (words of letters only)."""
    import os
    import pickle
    from importlib import metadata
    from pathlib import Path

    try:
        version = metadata.version("wordfreq")
    except metadata.PackageNotFoundError:  # pragma: no cover - dependency of rta
        return {}
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rta"
    cache = cache_root / f"nb_wordfreq-1-{version}.pickle"  # 1: format of this table
    try:
        with open(cache, "rb") as fh:
            cached = pickle.load(fh)
        if isinstance(cached, dict) and cached:
            return cached
    except (OSError, ValueError, EOFError, TypeError, pickle.UnpicklingError):
        pass
    buckets = _read_wordfreq_buckets()
    table: dict[str, float] = {}
    for index, bucket in enumerate(buckets):
        # bucket i holds the words of frequency 10 ** (-i / 100); Zipf = log10(freq) + 9
        zipf = round(9.0 - index / 100.0, 2)
        for word in bucket:
            if word.isalpha() and word not in table:
                table[word] = zipf
    try:  # a derived cache only (rebuilt when missing); never needed for correctness
        from rta.fsutil import atomic_write_bytes

        cache_root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(cache, pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        pass
    return table


def _read_wordfreq_buckets() -> list[list[str]]:
    """The Bokmål frequency buckets. Read from the wheel's data file with msgpack when it is
    where wordfreq 3 keeps it (importing wordfreq itself costs about a second); otherwise
    through wordfreq's public API."""
    import gzip
    import importlib.util
    import os

    spec = importlib.util.find_spec("wordfreq")
    if spec is not None and spec.origin:
        path = os.path.join(os.path.dirname(spec.origin), "data", "large_nb.msgpack.gz")
        try:
            import msgpack

            with gzip.open(path, "rb") as fh:
                pack = msgpack.load(fh, raw=False)
            header = pack[0]
            if isinstance(header, dict) and header.get("format") == "cB" and header.get("version") == 1:
                return pack[1:]
        except Exception:
            pass
    from wordfreq import get_frequency_list

    return get_frequency_list("nb", "large")


def zipf(word: str) -> float:
    """Zipf frequency of a lower-case word in wordfreq's Bokmål list (0.0 when absent)."""
    return _freqs().get(word, 0.0)


def is_known(word: str) -> bool:
    """A lower-case word is a known Bokmål form: in the lemma lexicon or frequent in wordfreq."""
    return word in _lemmas() or _freqs().get(word, 0.0) >= KNOWN_ZIPF


# --- one word ---------------------------------------------------------------------------

# A restoration: the restored lower-case word and its segments (source length, output text)
# covering the written word left to right, so each output letter maps to written letters.
_Segments = tuple[tuple[int, str], ...]


def _edits(lw: str) -> list[tuple[int, int, str]]:
    """The restorations that may apply to ``lw``: (position, letters consumed, replacement),
    in order of position."""
    out = []
    for i, ch in enumerate(lw):
        for r in SUBSTITUTIONS.get(ch, ""):
            out.append((i, 1, r))
        pair = lw[i:i + 2]
        if pair in PAIRS:
            out.append((i, 2, PAIRS[pair]))
    return out


def _candidates(lw: str):
    """Yield (restored word, edits) for every combination of up to :data:`MAX_CHANGES`
    restorations at distinct, non-overlapping positions."""
    edits = _edits(lw)
    for k in range(1, min(MAX_CHANGES, len(edits)) + 1):
        for chosen in combinations(edits, k):
            parts = []
            at = 0
            for i, width, repl in chosen:
                if i < at:  # the same position twice, or inside the previous pair
                    break
                parts.append(lw[at:i])
                parts.append(repl)
                at = i + width
            else:
                parts.append(lw[at:])
                yield "".join(parts), chosen


def _segments(lw: str, chosen) -> _Segments:
    """The segments of ``lw`` restored by the edits ``chosen``."""
    segs: list[tuple[int, str]] = []
    at = 0
    for i, width, repl in chosen:
        segs.extend((1, c) for c in lw[at:i])
        segs.append((width, repl))
        at = i + width
    segs.extend((1, c) for c in lw[at:])
    return tuple(segs)


@functools.lru_cache(maxsize=100_000)
def _best_candidate(lw: str) -> tuple[float, int, str, _Segments] | None:
    """The most frequent clearly known restoration of ``lw`` (score, changes, word, segments)."""
    lemmas = _lemmas()
    freqs = _freqs()
    z = freqs.get(lw, 0.0)
    best = None
    for cand, chosen in _candidates(lw):
        cz = freqs.get(cand, 0.0)
        if cz >= CANDIDATE_ZIPF:
            score = cz
        elif z == 0.0 and len(cand) >= 5 and cand in lemmas:
            # a rare inflected form the lexicon knows: only for a word nobody writes
            score = CANDIDATE_ZIPF - 0.5
        else:
            continue
        # fewer changes win among equally frequent words
        if best is None or (score, -len(chosen)) > (best[0], -len(best[1])):
            best = (score, chosen, cand)
    if best is None:
        return None
    return best[0], len(best[1]), best[2], _segments(lw, best[1])


def _part_known(part: str) -> bool:
    return part in _lemmas() or _freqs().get(part, 0.0) >= CANDIDATE_ZIPF


#: endings of inflected nouns, verbs and adjectives: a word that is a known word plus one of
#: these is whole, not damaged (``veilederens`` is not ``veiled`` + ``ærens``)
_ENDINGS = ("enes", "ene", "ens", "ets", "ers", "en", "et", "er", "es", "ne", "e", "s", "a", "t")


def _inflects_known(lw: str) -> bool:
    return any(lw.endswith(e) and len(lw) - len(e) >= MIN_PART and is_known(lw[: -len(e)])
               for e in _ENDINGS)


def _restore_compound(lw: str) -> tuple[str, _Segments] | None:
    """A compound none of the lexicons holds (``oppfalgingsordningen``): split it into two
    parts of at least :data:`MIN_PART` letters (with a linking ``s`` or ``e`` between them),
    restore each part on its own, and accept the split where both parts are words and at least
    one was restored; the most frequent rarer part wins."""
    best: tuple[float, str, _Segments] | None = None
    n = len(lw)
    for cut in range(MIN_PART, n - MIN_PART + 1):
        for link in ("", "s", "e"):
            if link and (lw[cut:cut + 1] != link or n - cut - 1 < MIN_PART):
                continue
            left, right = lw[:cut], lw[cut + len(link):]
            parts = []
            changed = False
            for part in (left, right):
                if _part_known(part):
                    parts.append((part, tuple((1, c) for c in part), _freqs().get(part, 1.0)))
                    continue
                hit = _best_candidate(part)
                if hit is None or hit[0] < _freqs().get(part, 0.0) + MARGIN_RARE:
                    break
                parts.append((hit[2], hit[3], hit[0]))
                changed = True
            else:
                if not changed:
                    continue
                score = min(parts[0][2], parts[1][2])
                if best is None or score > best[0]:
                    segs = parts[0][1] + tuple((1, c) for c in link) + parts[1][1]
                    best = (score, parts[0][0] + link + parts[1][0], segs)
    return (best[1], best[2]) if best else None


@functools.lru_cache(maxsize=300_000)
def _restore(lw: str, damaged: bool = False) -> tuple[str, _Segments] | None:
    """Best restoration of a lower-case run of letters, or None when it stays as written."""
    if len(lw) == 1:
        return (SINGLE[lw], ((1, SINGLE[lw]),)) if damaged and lw in SINGLE else None
    if len(lw) > MAX_WORD:
        return None
    z = _freqs().get(lw, 0.0)
    in_lexicon = lw in _lemmas()
    if not any(c in _RESTORABLE for c in lw):
        return None
    if damaged and (in_lexicon or z >= KNOWN_ZIPF):
        margin = MARGIN_DAMAGED
    elif in_lexicon:
        if z >= KNOWN_ZIPF:
            return None  # a known form: for, far, bade, mote
        margin = MARGIN_RARE_LEMMA  # the lexicon's rare or stray forms (pd, gar)
    elif z >= KNOWN_ZIPF:
        margin = MARGIN_KNOWN  # pa, ma, na: frequent in web text typed without å
    else:
        margin = MARGIN_RARE
    best = _best_candidate(lw)
    if best is not None and best[0] >= z + margin:
        return best[2], best[3]
    if not in_lexicon and z < KNOWN_ZIPF and len(lw) >= 2 * MIN_PART and not _inflects_known(lw):
        return _restore_compound(lw)
    return None


@functools.lru_cache(maxsize=300_000)
def match_form(word: str, damaged: bool = False) -> str:
    """The lower-case form of ``word`` used for matching.

    A known Bokmål form comes back lower-cased and otherwise unchanged (``for`` stays ``for``,
    ``far`` stays ``far``); a word with lost letters comes back restored when that gives a
    clearly known word (``pa`` -> ``på``, ``sdpass`` -> ``såpass``, ``falge`` -> ``følge``,
    ``Okonomi`` -> ``økonomi``, ``paa`` -> ``på``, ``oppfalgingsordningen`` ->
    ``oppfølgingsordningen``). A token with non-letters (``e-post``) is restored run by run
    of letters.

    ``damaged=True`` is for a text known to be damaged (:func:`ocr_damage_score`): known
    forms are then restored too when the restored word is far more common
    (:data:`MARGIN_DAMAGED` Zipf points: ``mate`` -> ``måte``, ``vert`` -> ``vært``, ``a`` ->
    ``å``), and still ``for``, ``far``, ``var`` stay (the restored word is not that much more
    common)."""
    lw = word.lower()
    if lw.isalpha():
        hit = _restore(lw, damaged)
        return hit[0] if hit else lw
    return _WORD.sub(lambda m: (_restore(m.group(), damaged) or (m.group(),))[0], lw)


# --- hyphenated line breaks --------------------------------------------------------------

def _known_or_restorable(lw: str) -> bool:
    return is_known(lw) or _restore(lw) is not None


def _break_action(x: str, hyphen: str, gap: str, y: str) -> str:
    """What to do with ``x`` + hyphen + gap + ``y``: ``"join"`` (drop hyphen and gap),
    ``"close"`` (keep the hyphen, drop the line break: ``e-\\npost`` -> ``e-post``) or
    ``"keep"``."""
    if hyphen == "\u00ad":  # a soft hyphen only ever marks where a word may break
        return "join"
    if not gap:
        return "keep"  # Nord-Norge, e-post: a real hyphenated word
    line_end = "\n" in gap or "\r" in gap
    if hyphen == "\u00ac" and not line_end:
        return "keep"
    ly = y.lower()
    if not y[0].islower() or ly in SUSPENDED:
        return "keep"  # skole- og barnehage; Nord-\nNorge keeps its line
    if len(x) == 1 or (x.isupper() and len(x) > 1):
        return "close" if line_end else "keep"  # e-\npost, IKT-\nsatsing
    lx = x.lower()
    joined = lx + ly
    joined_known = _known_or_restorable(joined)
    x_known, y_known = _known_or_restorable(lx), _known_or_restorable(ly)
    if line_end:
        # print breaks words at line ends; keep the hyphen only when both parts are words and
        # their join is not (a suspended compound or a dash)
        return "join" if joined_known or not (x_known and y_known) else "keep"
    # inside a line the hyphen is more often a transcriber's mark for a broken-off word
    # ("vi skulle- nei"): join only when the join is a known word and the parts are not
    # words on their own, or the join is at least as common as the rarer part
    if not joined_known:
        return "keep"
    if not (x_known and y_known):
        return "join"
    jz = zipf(match_form(joined))
    return "join" if jz >= min(zipf(match_form(lx)), zipf(match_form(ly))) else "keep"


def _dehyphenate(text: str) -> tuple[str, list[int], int]:
    """(joined text, source offset per joined character, number of breaks joined)."""
    if not any(h in text for h in _HYPHENS):
        return text, list(range(len(text))), 0
    parts: list[str] = []
    offsets: list[int] = []
    at = 0
    joins = 0
    for m in _BREAK.finditer(text):
        x, hyphen, gap, y = m.group(1), m.group(2), m.group(3), m.group(4)
        action = _break_action(x, hyphen, gap, y)
        if action == "keep":
            continue
        # copy up to the end of x, then drop the hyphen (join) and the gap
        end_x = m.end(1)
        parts.append(text[at:end_x])
        offsets.extend(range(at, end_x))
        if action == "close":
            parts.append(hyphen)
            offsets.append(m.start(2))
        joins += 1
        at = m.start(4)
    parts.append(text[at:])
    offsets.extend(range(at, len(text)))
    # soft hyphens that no break pattern covered (e.g. next to digits) are kept as written
    return "".join(parts), offsets, joins


def dehyphenate(text: str) -> tuple[str, list[int]]:
    """Join words split by a hyphen at a line end (``ord-\\nninga`` -> ``ordninga``), or by a
    hyphen and a space inside a line when the join is a known word and the parts are not words
    on their own (``ord- ninga``), and drop soft hyphens. Real hyphenated words stay
    (``skole- og barnehage``, ``Nord-Norge``, ``e-post``; ``e-\\npost`` becomes ``e-post``).

    Returns the joined text and, for each of its characters, its offset in ``text``
    (``len(offsets) == len(joined)``). ``text`` itself is never changed."""
    joined, offsets, _joins = _dehyphenate(text)
    return joined, offsets


# --- both, composed ---------------------------------------------------------------------

@dataclass
class Normalised:
    """Text for matching and the way back to the text it was made from.

    ``to_source[i]`` is the source offset of character ``i`` of ``text`` and
    ``to_source[len(text)] == len(source)``. A restored letter that stands for two written
    ones (``å`` for ``aa``) maps to the first of them; :func:`source_span` maps a span to
    the whole of the written letters. ``changed`` counts the edits (words restored and line
    breaks joined)."""

    text: str
    to_source: list[int]
    changed: int = 0
    #: exclusive source end of each character of ``text``; empty when every character stands
    #: for one written character (then it is ``to_source[i] + 1``)
    source_end: list[int] = field(default_factory=list, repr=False)
    restored: int = 0
    joined: int = 0


def _case_like(written: str, out: str) -> str:
    """``out`` in the case of the written letters it replaces (``PAA`` -> ``PÅ``, ``Aarsak``
    -> ``Årsak``)."""
    if written[0].isupper():
        return out.upper()
    return out


def normalise_for_matching(text: str, damaged: bool = False) -> Normalised:
    """Dehyphenate, then restore each word's lost letters (:func:`match_form`), keeping its
    case pattern (``Pa`` -> ``På``, ``OKONOMI`` -> ``ØKONOMI``), with one offset map back to
    ``text``. Use :func:`source_span` to map a span of ``.text`` to ``text``.

    ``damaged=True`` (for a text :func:`ocr_damage_score` flags) also restores known forms
    that are far rarer than their restoration, as :func:`match_form` says; a single
    upper-case letter (``Skoleeier A``) is never changed."""
    joined, offsets, joins = _dehyphenate(text)
    hits = {}
    for word in set(_WORD.findall(joined)):
        lw = word.lower()
        # a letter whose lower case has another length (İ), or a capital standing alone
        # (Skoleeier A), stays as written
        if len(lw) != len(word) or (len(word) == 1 and not word.islower()):
            continue
        hit = _restore(lw, damaged)
        if hit is not None:
            hits[word] = hit[1]
    if not hits and not joins:
        return Normalised(text, list(range(len(text) + 1)), 0, [], 0, 0)
    out: list[str] = []
    starts: list[int] = []
    wide: list[tuple[int, int]] = []  # (index in the output, source end) of letters standing for two
    at = 0
    restored = 0
    n = len(joined)
    for m in _WORD.finditer(joined) if hits else ():
        segs = hits.get(m.group())
        if segs is None:
            continue
        s, e = m.span()
        if e < n and unicodedata.combining(joined[e]):
            continue  # a combining mark follows: the letter is already decorated
        out.append(joined[at:s])
        starts.extend(offsets[at:s])
        i = s
        for width, repl in segs:
            written = joined[i:i + width]
            if width > 1:
                wide.append((len(starts), offsets[i + width - 1] + 1))
                out.append(_case_like(written, repl))
            else:
                out.append(_case_like(written, repl) if repl != written.lower() else written)
            starts.append(offsets[i])
            i += width
        at = e
        restored += 1
    out.append(joined[at:])
    starts.extend(offsets[at:])
    ends: list[int] = []
    if wide:
        ends = [o + 1 for o in starts]
        for index, end in wide:
            ends[index] = end
    starts.append(len(text))
    return Normalised("".join(out), starts, restored + joins, ends, restored, joins)


def source_span(norm: Normalised, start: int, end: int) -> tuple[int, int]:
    """The span of the source text that ``norm.text[start:end]`` was made from.

    An empty span maps to an empty span at the same place; a span ending in a letter that
    stands for two (``å`` for ``aa``) covers both. Hyphens and line breaks removed inside the
    span are inside the source span too."""
    n = len(norm.text)
    if not 0 <= start <= end <= n:
        raise ValueError(f"span {start}:{end} outside the normalised text (length {n})")
    begin = norm.to_source[start]
    if end == start:
        return begin, begin
    ends = norm.source_end or [o + 1 for o in norm.to_source[:-1]]
    return begin, ends[end - 1]


# --- the damage check -------------------------------------------------------------------

#: a transcript looks damaged when at least this share of its words can be restored ...
DAMAGED_RESTORABLE_SHARE = 0.02
#: ... (and at least this many), or when it has this many hyphenated line breaks per
#: 1,000 words (and at least MIN_BREAKS)
DAMAGED_MIN_RESTORABLE = 5
DAMAGED_BREAKS_PER_1000 = 3.0
MIN_BREAKS = 3


@dataclass
class OcrReport:
    """How damaged a text looks. Shares are of ``words`` (runs of 2+ letters)."""

    words: int
    unknown: int
    unknown_share: float
    restorable: int
    restorable_share: float
    hyphen_breaks: int
    looks_damaged: bool
    #: the commonest (as written, restored) pairs, most frequent first
    examples: list[tuple[str, str]] = field(default_factory=list)
    #: share of letters that are æ, ø or å (about 2 % in Bokmål prose)
    special_letter_share: float = 0.0

    def summary(self) -> str:
        """One English line: what was found."""
        parts = [f"{self.restorable} of {self.words} words look like they lost æ/ø/å "
                 f"({self.restorable_share:.1%})"]
        if self.hyphen_breaks:
            parts.append(f"{self.hyphen_breaks} words split at line ends")
        return "; ".join(parts)


def damage_warning(name: str, report: OcrReport) -> str:
    """An English warning for a person: which file looks damaged, a few examples, what to do."""
    shown = ", ".join(f"{a} -> {b}" for a, b in report.examples[:4])
    what = []
    if report.restorable:
        what.append(f"{report.restorable} of {report.words} words ({report.restorable_share:.1%}) look like "
                    f"they lost æ, ø or å" + (f" (e.g. {shown})" if shown else ""))
    if report.hyphen_breaks:
        what.append(f"{report.hyphen_breaks} words are split by a hyphen at a line end")
    return (f"warning: {name} looks OCR-damaged or typed without æ/ø/å: {'; '.join(what)}. "
            "It was stored as it is, and suggestions see through this damage, but quotes and "
            "reports show the damaged text: if you can, correct the file (or take it again from "
            "the original) and add it again with 'rta add' (--revise if it has a new path).")


def doctor_lines(store) -> list[str]:
    """English lines for ``rta doctor``: how many of the project's transcripts (current
    revisions in ``store``, an :class:`rta.store.Store`) look OCR-damaged, and which."""
    ids = [row[0] for row in store.conn.execute("SELECT id FROM transcripts ORDER BY id")]
    hurt = [(t, r) for t in ids if (r := ocr_damage_score(store.transcript_text(t))).looks_damaged]
    verb = "looks" if len(hurt) == 1 else "look"
    lines = [f"ocr check:  {len(ids)} transcripts, {len(hurt)} {verb} OCR-damaged or typed without æ/ø/å"]
    for t, r in hurt:
        shown = ", ".join(f"{a} -> {b}" for a, b in r.examples[:3])
        lines.append(f"  {t}: {r.summary()}" + (f"; e.g. {shown}" if shown else ""))
    if hurt:
        lines.append("  suggestions see through this damage, the stored text is unchanged; correct the "
                     "files if you can and add them again with 'rta add'")
    return lines


def ocr_damage_score(text: str, max_examples: int = 5) -> OcrReport:
    """Whether ``text`` looks OCR-damaged or typed without æ, ø and å.

    Counts the words a restoration changes (``pa``, ``sdpass``, ``okonomi``) and the words
    joined across hyphenated line breaks; a transcript looks damaged when the restorable
    share reaches :data:`DAMAGED_RESTORABLE_SHARE` or the line breaks reach
    :data:`DAMAGED_BREAKS_PER_1000`. Calibrated on the ten bundled sample transcripts (0 of
    about 12,300 words restorable, no breaks) and on copies damaged by :func:`simulate_damage`
    (5 to 8 % of the words restorable, 4 to 10 breaks per transcript); a copy with only 70 %
    of æ/ø/å lost and no breaks is at 5 %, one with 30 % lost at 2.6 %."""
    joined, _offsets, joins = _dehyphenate(text)
    lemmas = _lemmas()
    freqs = _freqs()
    counts = Counter(_WORD.findall(joined))
    letters = sum(len(w) * k for w, k in counts.items())
    special = sum(joined.count(c) for c in "æøåÆØÅ")
    words = unknown = restorable = 0
    pairs: Counter[tuple[str, str]] = Counter()
    for w, k in counts.items():
        if len(w) < 2:
            continue
        words += k
        lw = w.lower()
        hit = _restore(lw) if len(lw) == len(w) else None
        if hit is not None:
            restorable += k
            pairs[(lw, hit[0])] += k
        elif lw not in lemmas and freqs.get(lw, 0.0) < CANDIDATE_ZIPF:
            unknown += k
    share = restorable / words if words else 0.0
    per_1000 = 1000.0 * joins / words if words else 0.0
    damaged = (restorable >= DAMAGED_MIN_RESTORABLE and share >= DAMAGED_RESTORABLE_SHARE) or (
        joins >= MIN_BREAKS and per_1000 >= DAMAGED_BREAKS_PER_1000)
    return OcrReport(
        words=words,
        unknown=unknown,
        unknown_share=unknown / words if words else 0.0,
        restorable=restorable,
        restorable_share=share,
        hyphen_breaks=joins,
        looks_damaged=damaged,
        examples=[p for p, _n in pairs.most_common(max_examples)],
        special_letter_share=special / letters if letters else 0.0,
    )



# --- damaged copies, for tests and benchmarks --------------------------------------------

def simulate_damage(text: str, rate: float = 0.9, break_every: int = 40, seed: int = 0) -> str:
    """A copy of ``text`` with the damage this module undoes, for tests and benchmarks:
    each æ, ø, å (either case) is lost with probability ``rate`` (``å`` -> ``a`` or, as OCR
    reads it, ``d``; ``ø`` -> ``o`` or ``a``; ``æ`` -> ``e``), and about one word in
    ``break_every`` of 6+ letters is split by a hyphen at a line end (``ord-\\nninga``) or,
    one time in four, by a hyphen and a space (``ord- ninga``). Deterministic for a seed."""
    import random

    rng = random.Random(seed)
    lost = {"å": ("a", "a", "a", "d"), "ø": ("o", "o", "o", "a"), "æ": ("e",)}

    def letter(ch: str) -> str:
        low = ch.lower()
        if low not in lost or rng.random() >= rate:
            return ch
        new = rng.choice(lost[low])
        return new.upper() if ch != low else new

    def word(m: re.Match) -> str:
        w = "".join(letter(c) for c in m.group())
        if break_every and len(w) >= 6 and rng.random() < 1.0 / break_every:
            cut = rng.randint(3, len(w) - 3)
            gap = "- " if rng.random() < 0.25 else "-\n"
            return w[:cut] + gap + w[cut:]
        return w

    return _WORD.sub(word, text)
