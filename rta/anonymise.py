"""Anonymisation check: the likely identifiers left in transcripts and memos.

Transcripts are supposed to be anonymised before they reach ``rta``, but people slip: a
colleague's full name, the real town, a phone number. :func:`check_text` lists every likely
identifier left in a transcript's turns, each with the reason it was flagged:

* ``ner``: PER / LOC / GPE_LOC / GPE_ORG / ORG names from the loaded spaCy pipeline's NER
  (only when the pipeline has an ``ner`` component);
* ``pattern``: e-mail addresses, Norwegian phone numbers, national identity numbers
  (fødselsnummer / D-number with both mod-11 check digits and a valid date) and dates of birth
  near words such as *født* or *fødselsdato*;
* ``deny-list``: names the project lists in ``rta.toml`` ``[anonymise] deny``;
* ``places``: Norwegian county, municipality (2024 and former) and town names from the
  shipped list ``rta/data/places_no.txt``, also when the NER misses them, at the start of a
  sentence, or when the name is also a common word used capitalised mid-sentence ('i Lier');
* ``heuristic``: capitalised words in mid-sentence that are not common words, informant codes,
  interviewer labels or allowed terms. It works without any NER model.

Never flagged: informant codes, interviewer labels, anything inside square brackets and the
placeholders before them (``X [navn på kommune]``), the built-in allow-list of institutional
terms (:data:`DEFAULT_ALLOW`) and the project's allow-list.

The same check runs over a project (:func:`check_project`, :func:`check_memos`) or transcript
files (:func:`check_files`). Replacing what it finds with placeholders under a key is
:mod:`rta.pseudonyms`, which takes these flags.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from rta.errors import RtaError
from rta.entities import harmonise_docs, places_no

if TYPE_CHECKING:  # pragma: no cover
    from rta.informants import Registry
    from rta.project import Project

NER_KINDS = ("PER", "LOC", "GPE_LOC", "GPE_ORG", "ORG")
"""NorNE entity types that identify people, places and organisations (PROD, EVT, DRV, MISC
rarely identify anyone in these interviews and are not flagged)."""

_NER_MEANING = {"PER": "person", "LOC": "place", "GPE_LOC": "geo-political place", "ORG": "organisation",
                "GPE_ORG": "geo-political body, e.g. a municipality as an actor"}

DEFAULT_ALLOW: tuple[str, ...] = (
    # institutions and programmes that identify no one
    "Statsforvalteren", "Statsforvaltaren", "Fylkesmannen", "Udir", "Utdanningsdirektoratet",
    "UH", "UH-sektoren", "PPT", "PP-tjenesten", "Kunnskapsdepartementet", "KD", "KS", "NAV", "Nav",
    "Stortinget", "Regjeringen", "Kommunedirektøren", "oppfølgingsordningen", "Oppfølgingsordningen",
    "ordningen", "Kunnskapsløftet", "LK20", "LK06", "Fagfornyelsen", "Dekomp", "Rekomp",
    "Kompetanseløftet", "Skoleporten", "Ungdata", "Elevundersøkelsen", "Forfasen", "forfasen",
    "Gjennomføringsfasen", "gjennomføringsfasen", "Korona", "Covid", "Covid-19", "Teams", "Zoom",
    "Skype", "Excel", "Word", "OneNote", "Padlet", "Kahoot", "Norge", "Norden", "Skandinavia",
    "Europa", "OECD", "PISA", "TIMSS", "PIRLS", "IKT", "SFO", "KOSTRA", "GSI",
    # school acronyms and titles that name a role or body, not a person or place
    "FAU", "SU", "SMU", "IOP", "PALS", "MOT", "LP", "BTI", "TPO", "SLT", "HMS", "NOU",
    "Rådmannen", "Kommunalsjefen", "Ordføreren", "Rektor", "Skoleeier", "Veileder", "Veilederne",
)
"""Terms that are never flagged: institutions, programmes and tools named in every interview of
this kind. Extend per project with ``rta.toml`` ``[anonymise] allow``."""

# Words that are capitalised mid-sentence in transcripts for reasons other than being a name
# (quoted speech without punctuation, fillers, pronouns). Lower case; matched case-insensitively.
COMMON_WORDS: frozenset[str] = frozenset(
    """
    eh ehm øh mm mhm hm hmm ja jo nei nja joa ok okei altså liksom sånn så og men eller for at
    jeg du hen han hun vi dere dem de det den denne dette disse man en ei et noen ingen alle
    hva hvem hvor hvordan hvorfor når hvis om da nå her der ikke også bare litt mye godt vel
    i på til fra med av ved under over etter før mellom hos mot uten gjennom
    meg deg seg oss dykk eg ho me dei kva korleis kvifor ikkje berre
    mandag tirsdag onsdag torsdag fredag lørdag søndag
    januar februar mars april mai juni juli august september oktober november desember
    herregud gud takk hei ha
    """.split()
)

_WORD = re.compile(r"[^\W\d_][\w'’]*(?:-[\w'’]+)*")
_INSTITUTION_TAIL = re.compile(
    r"[ ](?:skole|skolen|skule|skulen|barneskole|barneskolen|ungdomsskole|ungdomsskolen|oppvekstsenter|"
    r"barnehage|barnehagen|kommune|kommunes|videregående|vidaregåande|universitet|høgskole|høgskule)(?![\w])"
)
_CODE_TAIL = re.compile(r"[ ]?\d+(?:\.\d+)?")
_BRACKETS = re.compile(r"\[[^\[\]\n]*\]")
# 'X [navn på kommune]', 'Y [navn på skole]': a placeholder letter (or letter+digit) before a bracket.
_PLACEHOLDER_LETTER = re.compile(r"(?<![\w])[A-ZÆØÅ]\d?(?=[ \t]*\[)")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w])")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)47[ \u00a0\-]?)?"
    r"(?:[2-9]\d{2}[ \u00a0.\-]\d{2}[ \u00a0.\-]\d{3}"  # 412 55 390
    r"|[2-9]\d[ \u00a0.\-]\d{2}[ \u00a0.\-]\d{2}[ \u00a0.\-]\d{2}"  # 41 25 53 90
    r"|[2-9]\d{3}[ \u00a0.\-]\d{4}"  # 4125 5390
    r"|[2-9]\d{7})"  # 41255390
    r"(?![\w]|[ \u00a0.\-]\d)"
)
_YEAR_PAIR = re.compile(r"(?:19|20)\d\d[ \u00a0.\-](?:19|20)\d\d")
_FNR = re.compile(r"(?<![\w])(\d{6})[ \u00a0]?(\d{5})(?![\w])")
_MONTHS = (
    "januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|nov|des"
)
_DATE = (
    r"(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})"
    rf"|\d{{1,2}}\.?[ \u00a0](?:{_MONTHS})\.?(?:[ \u00a0]\d{{4}})?"
    r"|\d{4}-\d{2}-\d{2})"
)
_DOB = re.compile(
    rf"(?i)\b(?:født|fødd|fødselsdato|fødselsdag|f\.)\b[^\n.!?]{{0,25}}?(?P<date>{_DATE}|(?<=i )\d{{4}})(?![\w])"
)


@dataclass
class Flag:
    """A likely identifier in a transcript: where it is, what it is and why it was flagged."""

    transcript: str | None
    path: str | None
    line: int
    start: int
    end: int
    text: str
    kind: str  # PER, LOC, GPE_LOC, GPE_ORG, ORG, NAME, EMAIL, PHONE, FNR, DOB
    method: str  # 'ner:<pipeline>', 'pattern', 'deny-list', 'places', 'heuristic', 'propagated'
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_PRIORITY = {"pattern": 0, "ner": 1, "places": 1, "deny-list": 2, "heuristic": 3, "propagated": 4}
"""Which of two overlapping flags is kept: the lower number; at the same number the longer span,
then a place-list flag over a NER one ('Nore og Uvdal' over the NER's 'Nore'; 'Lier' as a
place rather than the NER's organisation), except a NER person ('Flora' the colleague), so the
NER keeps a longer name ('Bergen kommune')."""


@functools.cache
def _places_re() -> re.Pattern[str]:
    names = sorted(places_no(), key=len, reverse=True)
    # case-sensitive: 'Lier' is the municipality, 'lier' (hillsides) is not; genitive -s allowed
    return re.compile(rf"(?<![\w-])(?:{'|'.join(re.escape(n) for n in names)})(?=s?(?![\w-]))")


# -- national identity numbers ---------------------------------------------------------------
_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def fnr_check_digits(first9: str) -> str | None:
    """The two mod-11 check digits of a Norwegian identity number's first nine digits, or None
    when no valid number starts with them (a check digit would be 10)."""
    digits = [int(c) for c in first9]
    k1 = 11 - sum(w * d for w, d in zip(_W1, digits)) % 11
    k1 = 0 if k1 == 11 else k1
    if k1 == 10:
        return None
    k2 = 11 - sum(w * d for w, d in zip(_W2, [*digits, k1])) % 11
    k2 = 0 if k2 == 11 else k2
    if k2 == 10:
        return None
    return f"{k1}{k2}"


def _birth_year(yy: int, individual: int) -> int | None:
    if individual <= 499:
        return 1900 + yy
    if individual <= 749 and yy >= 54:
        return 1800 + yy
    if individual >= 500 and yy <= 39:
        return 2000 + yy
    if individual >= 900 and yy >= 40:
        return 1900 + yy
    return None


def fnr_kind(number: str) -> str | None:
    """'fødselsnummer', 'D-nummer' or 'H-nummer' when ``number`` (11 digits) is a valid
    Norwegian identity number (both check digits and a real date), else None."""
    if not re.fullmatch(r"\d{11}", number):
        return None
    if fnr_check_digits(number[:9]) != number[9:]:
        return None
    day, month, yy, individual = int(number[0:2]), int(number[2:4]), int(number[4:6]), int(number[6:9])
    kind = "fødselsnummer"
    if day > 40:
        day, kind = day - 40, "D-nummer"
    elif month > 40:
        month, kind = month - 40, "H-nummer"
    year = _birth_year(yy, individual)
    if year is None:
        return None
    try:
        date(year, month, day)
    except ValueError:
        return None
    return kind


# -- the check -------------------------------------------------------------------------------
def _casefold_set(terms: Iterable[str]) -> set[str]:
    return {t.strip().casefold() for t in terms if t and t.strip()}


def _term_regex(terms: Iterable[str]) -> re.Pattern[str] | None:
    cleaned = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    body = "|".join(r"\s+".join(re.escape(w) for w in t.split()) for t in cleaned)
    return re.compile(rf"(?<![\w])(?:{body})(?![\w])", re.IGNORECASE)


def excluded_spans(text: str) -> list[tuple[int, int]]:
    """Brackets and the placeholder letters before them: never identifiers."""
    spans = [(m.start(), m.end()) for m in _BRACKETS.finditer(text)]
    spans += [(m.start(), m.end()) for m in _PLACEHOLDER_LETTER.finditer(text)]
    return spans


def overlaps(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether ``[start, end)`` shares a character with any of ``spans``."""
    return any(s < end and start < e for s, e in spans)


@dataclass
class _Context:
    registry: Any
    allow_words: set[str]
    allow_re: re.Pattern[str] | None
    vocabulary: set[str]
    interviewer_extra: list[str] = field(default_factory=list)

    def is_code(self, word: str) -> bool:
        if self.registry is None:
            return False
        if self.registry.is_interviewer(word, self.interviewer_extra):
            return True
        return self.registry.informant(word) is not None or bool(self.registry.matching_roles(word))

    def is_harmless(self, word: str, strict: bool = False) -> bool:
        """True for a word that is no identifier even when capitalised. ``strict`` ignores the
        corpus vocabulary (a name such as 'Per' may also be used as a common word)."""
        folded = word.casefold().strip("'’")
        if folded in self.allow_words or folded in COMMON_WORDS or self.is_code(word):
            return True
        if "-" in word:
            parts = [p for p in word.split("-") if p]
            return all(p.islower() or self.is_harmless(p, strict) for p in parts)
        if word.islower():
            return True
        # a word the transcripts also use in lower case is a common word capitalised
        return not strict and folded in self.vocabulary and not word.isupper()


def text_vocabulary(texts: Iterable[str]) -> set[str]:
    """Lower-case words used in ``texts``: a capitalised word that also occurs in lower case
    is a common word (sentence start, emphasis), not a name."""
    vocab: set[str] = set()
    for text in texts:
        text = _URL.sub(" ", _EMAIL.sub(" ", text))
        vocab.update(w for w in _WORD.findall(text) if w.islower())
    return vocab


def _sentence_initial(text: str, pos: int, region_start: int) -> bool:
    i = pos - 1
    while i >= region_start and text[i] in " \t\u00a0\n":
        if text[i] == "\n" and _line_is_paragraph_start(text, i):
            return True
        i -= 1
    if i < region_start:
        return True
    return text[i] in ".!?:;«»\"“”'‘([{…–—-)]"


def _line_is_paragraph_start(text: str, newline: int) -> bool:
    """A word after a blank line starts a paragraph; after a plain line break it continues."""
    j = newline - 1
    while j >= 0 and text[j] in " \t":
        j -= 1
    return j < 0 or text[j] == "\n"


def _heuristic_flags(text: str, start: int, end: int, ctx: _Context) -> list[tuple[int, int, str, str]]:
    """Runs of capitalised words in mid-sentence that are not harmless."""
    found = []
    words = []
    for m in _WORD.finditer(text, start, end):
        code = _CODE_TAIL.match(text, m.end(), end)
        if len(m.group()) == 1 or (code and ctx.is_code(m.group() + code.group())):
            continue  # a single letter, or an informant code written 'R 2.1'
        words.append((m.start(), m.end(), m.group()))
    i = 0
    while i < len(words):
        s, e, w = words[i]
        if not w[0].isupper():
            i += 1
            continue
        run = [(s, e, w)]
        j = i + 1
        while j < len(words) and words[j][2][0].isupper() and text[run[-1][1]:words[j][0]] in (" ", "-"):
            run.append(words[j])
            j += 1
        i = j
        # drop harmless words at the edges ('Og Hamar', 'Hamar Og')
        initial = _sentence_initial(text, run[0][0], start)
        while run and ctx.is_harmless(run[0][2], strict=True):
            run.pop(0)
            initial = False
        while run and ctx.is_harmless(run[-1][2], strict=True):
            run.pop()
        if not run:
            continue
        suspicious = [k for k, (_, _, word) in enumerate(run) if not ctx.is_harmless(word) and (k > 0 or not initial)]
        if not suspicious:
            continue
        rs, re_ = run[0][0], run[-1][1]
        tail = _INSTITUTION_TAIL.match(text, re_, end)
        if tail:
            found.append((rs, tail.end(), "ORG", "capitalised name of an institution in mid-sentence"))
        elif len(run) >= 2:
            found.append((rs, re_, "PER", "capitalised words in mid-sentence: likely a person's name"))
        else:
            found.append((rs, re_, "NAME", "capitalised word in mid-sentence that is not a common word"))
    return found


def _in_capitalised_run(text: str, s: int, e: int, start: int, end: int, ctx: _Context) -> bool:
    """True when a capitalised word that is not harmless stands right before or after
    ``text[s:e]`` (one space or a hyphen between)."""
    before = re.search(r"([^\W\d_][\w'’]*)[ -]$", text[max(start, s - 40):s])
    after = re.match(r"[ -]([^\W\d_][\w'’]*)", text[e:min(end, e + 40)])
    return any(m and m.group(1)[0].isupper() and not ctx.is_harmless(m.group(1), strict=True)
               for m in (before, after))


def _place_flags(text: str, start: int, end: int, ctx: _Context) -> list[tuple[int, int, str, str]]:
    """Norwegian place names from the shipped list. A name that is also a common word ('Sola',
    'Time', 'Lier') is skipped at the start of a sentence, where any word is capitalised, and so
    is a place word inside a longer capitalised name ('Geir Arne Lund')."""
    found = []
    for m in _places_re().finditer(text, start, end):
        name = m.group()
        common = places_no().get(name) or (" " not in name and "-" not in name and ctx.is_harmless(name))
        if common and _sentence_initial(text, m.start(), start):
            continue
        if name.casefold() in ctx.allow_words or _in_capitalised_run(text, m.start(), m.end(), start, end, ctx):
            continue  # 'Lund' in 'Geir Arne Lund': the whole name is the NER's or the heuristic's
        found.append((m.start(), m.end(), "GPE_LOC", "Norwegian place name (rta's list of counties, municipalities and towns)"))
    return found


def _pattern_flags(text: str, start: int, end: int) -> list[tuple[int, int, str, str]]:
    found = []
    chunk = text[start:end]
    for m in _EMAIL.finditer(chunk):
        found.append((start + m.start(), start + m.end(), "EMAIL", "e-mail address"))
    for m in _FNR.finditer(chunk):
        kind = fnr_kind(m.group(1) + m.group(2))
        if kind:
            found.append((start + m.start(), start + m.end(), "FNR", f"{kind} with valid check digits and date"))
    for m in _PHONE.finditer(chunk):
        if _YEAR_PAIR.fullmatch(m.group()):
            continue  # 'skoleåret 2020-2021', not a phone number
        found.append((start + m.start(), start + m.end(), "PHONE", "Norwegian phone number (8 digits)"))
    for m in _DOB.finditer(chunk):
        found.append((start + m.start("date"), start + m.end("date"), "DOB", "date of birth (after 'født'/'fødselsdato')"))
    return found


def _ner_flags(pipeline: Any, text: str, regions: list[tuple[int, int]], ctx: _Context) -> list[tuple[int, int, str, str]]:
    if pipeline is None or "ner" not in getattr(pipeline, "pipe_names", ()):
        return []
    found = []
    # line breaks inside a turn are layout, not sentence ends: same length keeps the offsets
    chunks = [text[s:e].replace("\n", " ") for s, e in regions]
    enable = [name for name in pipeline.pipe_names if name in ("tok2vec", "ner", "transformer")]
    with pipeline.select_pipes(enable=enable):
        docs = list(pipeline.pipe(chunks, batch_size=32))
    # Each turn is tagged on its own; the consistency rules then run over the whole transcript,
    # so 'Djuvik' alone in a later turn is a person once 'Ola Djuvik' was one (rta.entities).
    harmonise_docs(docs)
    for (rs, _re), doc in zip(regions, docs):
        for ent in doc.ents:
            if ent.label_ not in NER_KINDS:
                continue
            s, e = rs + ent.start_char, rs + ent.end_char
            # trim punctuation and spaces the entity may have swallowed
            while s < e and not text[s].isalnum():
                s += 1
            while e > s and not text[e - 1].isalnum():
                e -= 1
            words = _WORD.findall(text[s:e])
            capitalised = [w for w in words if w[0].isupper()]
            if not capitalised or all(ctx.is_harmless(w) for w in capitalised):
                continue
            if ctx.allow_re and ctx.allow_re.fullmatch(text[s:e]):
                continue
            found.append((s, e, ent.label_, f"named entity {ent.label_} ({_NER_MEANING[ent.label_]})"))
    return found


def pipeline_name(pipeline: Any) -> str:
    """A short name for a loaded pipeline (for flags and reports)."""
    if pipeline is None:
        return "none"
    meta = getattr(pipeline, "meta", {}) or {}
    name = meta.get("name") or "pipeline"
    lang = meta.get("lang") or ""
    full = name if name.startswith(f"{lang}_") or not lang else f"{lang}_{name}"
    return f"{full}-{meta['version']}" if meta.get("version") else full


def has_ner(pipeline: Any) -> bool:
    """Whether a pipeline can find names itself (else only patterns, lists and the heuristic run)."""
    return pipeline is not None and "ner" in getattr(pipeline, "pipe_names", ())


def check_text(
    text: str,
    registry: "Registry | None",
    pipeline: Any = None,
    allow: Iterable[str] = (),
    deny: Iterable[str] = (),
    *,
    transcript: str | None = None,
    path: str | None = None,
    regions: Sequence[tuple[int, int]] | None = None,
    vocabulary: set[str] | None = None,
    interviewer: Sequence[str] = (),
    default_allow: bool = True,
) -> list[Flag]:
    """Every likely identifier in ``text``, sorted by position.

    ``regions`` limits the check to spans of ``text`` (a transcript's turns, so speaker labels
    and front matter are skipped); by default, when ``text`` parses as a transcript against
    ``registry``, its turns are used, else the whole text. ``vocabulary`` is the set of
    lower-case words of the corpus (defaults to the words of ``text``).
    """
    if regions is None:
        regions, interviewer = _turn_regions(text, registry, interviewer)
    allow_terms = [*(DEFAULT_ALLOW if default_allow else ()), *allow]
    ctx = _Context(
        registry=registry,
        allow_words=_casefold_set(t for t in allow_terms if len(t.split()) == 1),
        allow_re=_term_regex(allow_terms),
        vocabulary=vocabulary if vocabulary is not None else text_vocabulary([text]),
        interviewer_extra=list(interviewer),
    )
    excluded = excluded_spans(text)
    allowed = [(m.start(), m.end()) for m in ctx.allow_re.finditer(text)] if ctx.allow_re else []
    candidates: list[tuple[int, int, str, str, str]] = []  # start, end, kind, method, reason
    for rs, re_ in regions:
        candidates += [(s, e, k, "pattern", r) for s, e, k, r in _pattern_flags(text, rs, re_)]
    method_ner = f"ner:{pipeline_name(pipeline)}"
    candidates += [(s, e, k, method_ner, r) for s, e, k, r in _ner_flags(pipeline, text, list(regions), ctx)]
    deny_re = _term_regex(deny)
    if deny_re:
        for rs, re_ in regions:
            for m in deny_re.finditer(text, rs, re_):
                candidates.append((m.start(), m.end(), "NAME", "deny-list", "on the project's deny-list"))
    for rs, re_ in regions:
        candidates += [(s, e, k, "places", r) for s, e, k, r in _place_flags(text, rs, re_, ctx)]
    for rs, re_ in regions:
        candidates += [(s, e, k, "heuristic", r) for s, e, k, r in _heuristic_flags(text, rs, re_, ctx)]

    def rank(c: tuple[int, int, str, str, str]) -> tuple[int, int, int, int]:
        tie = 0 if c[3] == "places" else -1 if c[2] == "PER" else 1  # see _PRIORITY
        return (_PRIORITY[c[3].split(":")[0]], -(c[1] - c[0]), tie, c[0])

    accepted: list[tuple[int, int, str, str, str]] = []
    for cand in sorted(candidates, key=rank):
        s, e, _kind, method, _reason = cand
        if method != "deny-list" and overlaps(s, e, excluded):
            continue
        if method not in ("deny-list", "pattern") and overlaps(s, e, allowed):
            continue  # an allowed term inside an e-mail address does not hide the address
        if overlaps(s, e, [(a[0], a[1]) for a in accepted]):
            continue
        accepted.append(cand)
    accepted.sort()
    return [
        Flag(transcript, path, text.count("\n", 0, s) + 1, s, e, text[s:e], kind, method, reason)
        for s, e, kind, method, reason in accepted
    ]


NAME_KINDS = frozenset({*NER_KINDS, "NAME"})


def propagate_flags(
    text: str,
    flags: list[Flag],
    names: Iterable[str],
    regions: Sequence[tuple[int, int]] | None = None,
) -> list[Flag]:
    """``flags`` plus every other occurrence (whole word, same spelling) of a name flagged
    anywhere in the corpus: 'Hamar' flagged in mid-sentence is also flagged where it starts a
    sentence, and in the other transcripts. Returns the flags sorted by position."""
    wanted = sorted({n for n in names if n and n.strip()}, key=len, reverse=True)
    if not wanted:
        return flags
    pattern = re.compile(rf"(?<![\w@.])(?:{'|'.join(re.escape(n) for n in wanted)})(?![\w])")
    taken = [(f.start, f.end) for f in flags]
    excluded = excluded_spans(text)
    extra = []
    first = {f.text: f.line for f in flags}
    transcript = flags[0].transcript if flags else None
    path = flags[0].path if flags else None
    for rs, re_ in regions or [(0, len(text))]:
        for m in pattern.finditer(text, rs, re_):
            s, e = m.start(), m.end()
            if overlaps(s, e, taken) or overlaps(s, e, excluded):
                continue
            where = f"line {first[m.group()]}" if m.group() in first else "another transcript"
            extra.append(Flag(transcript, path, text.count("\n", 0, s) + 1, s, e, m.group(), "NAME", "propagated",
                              f"the same name is flagged on {where}"))
            taken.append((s, e))
    return sorted([*flags, *extra], key=lambda f: f.start)


def _turn_regions(text: str, registry: Any, interviewer: Sequence[str]) -> tuple[list[tuple[int, int]], list[str]]:
    if registry is not None:
        from rta.transcripts import parse_text

        try:
            parsed = parse_text(text, registry)
        except RtaError:
            pass
        else:
            extra = [*interviewer]
            if parsed.metadata.get("interviewer"):
                extra.append(str(parsed.metadata["interviewer"]))
            return [(t.start, t.end) for t in parsed.turns], extra
    return [(0, len(text))], list(interviewer)


# -- pipelines -------------------------------------------------------------------------------
def load_check_pipeline(name: str | None = "auto", root: Path | None = None) -> Any:
    """The spaCy pipeline the check uses, NER included: ``'none'`` for patterns, lists and the
    heuristic only; else the pipeline :func:`rta.nlp.choose_pipeline` picks (``nb_core_news_*``,
    then the bundled ``nb_rta``, then the embedded blank ``nb``, which has no NER) or a pinned
    package name / folder. Loaded once per process."""
    if name is not None and name.strip().lower() in ("none", "off", ""):
        return None
    from rta.nlp import choose_pipeline

    source, target = choose_pipeline(name or "auto", root)
    return _load_with_ner(source, target)


@functools.cache
def _load_with_ner(source: str, target: str) -> Any:
    from rta.entities import add_to
    from rta.nlp import EMBEDDED, embedded_pipeline

    if source == EMBEDDED:
        return embedded_pipeline()
    import spacy

    try:
        return add_to(spacy.load(target))
    except Exception as exc:  # broken or incompatible pipeline: say which and what to do
        raise RtaError(f"could not load the spaCy pipeline '{target}': {exc}",
                       hint="use --pipeline none (patterns and lists only) or pin another pipeline") from None


# -- projects --------------------------------------------------------------------------------
@dataclass
class TranscriptCheck:
    """The flags of one transcript, checked from a file or from the project store."""

    transcript: str
    path: str | None
    flags: list[Flag]


def project_sources(project: "Project", ids: Sequence[str] | None = None) -> list[tuple[str, str, str | None, list[tuple[int, int]], str | None]]:
    """(id, text, source path, turn spans, interviewer) of the current revision of the
    project's transcripts (all, or ``ids``: an unknown one is an RtaError)."""
    store = project.store
    rows = list(store.conn.execute("SELECT id, source_path, metadata FROM transcripts ORDER BY id"))
    known = {r["id"]: r for r in rows}
    wanted = list(ids) if ids else list(known)
    for tid in wanted:
        if tid not in known:
            raise RtaError(f"no transcript '{tid}' in this project", hint="see 'rta transcripts'")
    out = []
    for tid in wanted:
        text = store.transcript_text(tid)
        turns = store.current_turns(tid)
        meta = json.loads(known[tid]["metadata"] or "{}")
        out.append((tid, text, known[tid]["source_path"], [(t["start"], t["end"]) for t in turns], meta.get("interviewer")))
    return out


def codebook_terms(path: str | Path | None = None) -> list[str]:
    """Code and theme names of a codebook (default: Tabell 3): analysis concepts such as 'Tid'
    or 'Rom' that researchers capitalise in notes, never identifiers. An unreadable codebook
    gives no terms rather than blocking the check."""
    from rta.codebook_yaml import load_codebook

    if path is None:
        from rta.resources import default_codebook_path

        path = default_codebook_path()
    try:
        codebook = load_codebook(path)
    except (RtaError, OSError):
        return []
    return [c.name for c in codebook.codes] + [t.name for t in getattr(codebook, "themes", [])]


def check_project(project: "Project", pipeline: Any = None, ids: Sequence[str] | None = None) -> list[TranscriptCheck]:
    """Check the current revision of the project's transcripts (all, or ``ids``)."""
    sources = project_sources(project, ids)
    vocab = text_vocabulary(text for _, text, _, _, _ in sources)
    allow = [*codebook_terms(project.codebook_path), *project.config.allow]
    results = []
    for tid, text, source, regions, interviewer in sources:
        flags = check_text(text, project.registry, pipeline, allow, project.config.deny,
                           transcript=tid, path=source, regions=regions, vocabulary=vocab,
                           interviewer=[interviewer] if interviewer else [])
        results.append(TranscriptCheck(tid, source, flags))
    return _propagate_all(results, {tid: (text, regions) for tid, text, _, regions, _ in sources})


@dataclass
class MemoCheck:
    """The flags of one memo, journal entry, coding memo or review memo, with what it is
    attached to. ``ref`` names it as ``rta memo redact`` takes it ('memo:12', 'coding:7',
    'review:SEQ'); each flag's ``line`` counts lines of the memo text."""

    ref: str
    source: str
    id: int
    about: str
    written_with: str
    text: str
    flags: list[Flag]

    def flag_dicts(self) -> list[dict[str, Any]]:
        """The flags as dicts with the memo's ref and what it is about (for JSON)."""
        return [{**f.to_dict(), "memo": self.ref, "about": self.about} for f in self.flags]


def memo_ref(source: str, memo_id: int) -> str:
    """'memo:12' for the memos table (journal entries too), 'coding:7', 'review:SEQ'."""
    return f"{source}:{memo_id}"


def check_memos(project: "Project", pipeline: Any = None,
                transcripts: Sequence[TranscriptCheck] = ()) -> list[MemoCheck]:
    """Check every free text the project holds besides its transcripts: memos, journal
    entries, coding memos and review memos (:func:`rta.memos.all_memos`), with the same lists,
    pipeline and heuristic as the transcripts. A name flagged in ``transcripts`` (or in another
    memo) is flagged wherever a memo repeats it."""
    from rta.memos import all_memos

    entries = [m for m in all_memos(project.store) if (m.text or "").strip()]
    if not entries:
        return []
    sources = project_sources(project)
    vocab = text_vocabulary([*(text for _, text, _, _, _ in sources), *(m.text for m in entries)])
    allow = [*codebook_terms(project.codebook_path), *project.config.allow]
    checks = []
    for m in entries:
        ref = memo_ref(m.source, m.id)
        flags = check_text(m.text, project.registry, pipeline, allow, project.config.deny,
                           transcript=None, path=None, regions=[(0, len(m.text))], vocabulary=vocab)
        checks.append(MemoCheck(ref, m.source, m.id, m.about, m.written_with, m.text, flags))
    names = {f.text for c in [*transcripts, *checks] for f in c.flags if f.kind in NAME_KINDS and "\n" not in f.text}
    for c in checks:
        c.flags = [f for f in propagate_flags(c.text, c.flags, names, [(0, len(c.text))])]
        for f in c.flags:
            f.transcript, f.path = None, None
    return checks


def _propagate_all(results: list[TranscriptCheck], texts: dict[str, tuple[str, list[tuple[int, int]]]]) -> list[TranscriptCheck]:
    names = {f.text for r in results for f in r.flags if f.kind in NAME_KINDS and "\n" not in f.text}
    out = []
    for r in results:
        text, regions = texts[r.transcript]
        flags = propagate_flags(text, r.flags, names, regions)
        for f in flags:
            f.transcript, f.path = r.transcript, r.path
        out.append(TranscriptCheck(r.transcript, r.path, flags))
    return out


def check_files(paths: Sequence[str | Path], registry: "Registry", pipeline: Any = None,
                allow: Iterable[str] = (), deny: Iterable[str] = (),
                codebook: str | Path | None = None) -> list[TranscriptCheck]:
    """Check transcript files on disk (parsed first: a bad file raises RtaError naming it).
    The code names of ``codebook`` (default Tabell 3) are allowed terms."""
    from rta.transcripts import parse_file

    parsed = [parse_file(p, registry) for p in paths]
    vocab = text_vocabulary(t.text for t in parsed)
    allow, deny = [*codebook_terms(codebook), *allow], list(deny)
    results = []
    for t in parsed:
        interviewer = [str(t.metadata["interviewer"])] if t.metadata.get("interviewer") else []
        flags = check_text(t.text, registry.with_declared(t.declared), pipeline, allow, deny,
                           transcript=t.id, path=str(t.path), regions=[(x.start, x.end) for x in t.turns],
                           vocabulary=vocab, interviewer=interviewer)
        results.append(TranscriptCheck(t.id, str(t.path), flags))
    return _propagate_all(results, {t.id: (t.text, [(x.start, x.end) for x in t.turns]) for t in parsed})


def unresolved_flags(project: "Project", pipeline: Any = "auto") -> dict[str, int]:
    """Transcript id -> number of likely identifiers still in its current revision, so reports
    can warn before quoting it. ``pipeline`` is a loaded pipeline, a name for
    :func:`load_check_pipeline` ('auto', 'none', ...) or None for patterns and lists only."""
    if isinstance(pipeline, str):
        pipeline = load_check_pipeline(pipeline)
    return {c.transcript: len(c.flags) for c in check_project(project, pipeline)}
