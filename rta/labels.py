"""Speaker labels: the one rule that decides whether a line starts a new turn, and whose.

A transcript line that *looks like* a speaker label (a short text before a colon at the
start of the line, after whitespace and an optional timestamp) is either a label the
registry knows, or an error. It is never silently read as part of the previous turn: that
would put an informant's words in the interviewer's mouth (or another informant's).

What looks like a label:

- codes and code-like words, in any case: ``S1``, ``s1``, ``R 2.1``, ``UH3``, ``Va``, ``I``, and
  user handles of web tools (``admin-1``);
  several of them joined by ``og``/``and``/``&``/``,`` (``S1 og R1.1``: refused, one turn
  must have one speaker);
- two to four capitalised words or numbers: ``Speaker 1``, ``Max Bigman``, ``Skoleeier A``;
- one word that names a speaker: a known interviewer label, a role name of the registry, or a
  common speaker word (``Informant``, ``Deltaker``, ``Respondent``, ...), in any case;
- any of these followed by a parenthesis: ``Intervjuer (Kari)``.

Words in lower case before a colon (``så sa hun: nei``, ``følgende: ...`` on a wrapped line)
are read as speech unless they are a code (``s1``) or a known label (``va``, ``intervjuer``);
so a speaker named in lower case (``ukjent person:``) is not recognised as one.

Ordinary text with a colon (``Det jeg mener er dette: ...``, ``Kl. 10:30``, ``https://``) is
not a label. Timestamps (``[00:01:02]``, ``(01:02)``, ``00:01:02``) may stand before the label,
between the label and its colon, or right after the colon; they are metadata, not text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rta.informants import Informant, LabelError, Registry

_STAMP = r"\[\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?\]|\(\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?\)"
_BARE_STAMP = r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,3})?"
# Whitespace, an optional timestamp, the label (up to 60 characters, no colon), an optional
# timestamp, the colon (not the one of a URL).
_HEAD = re.compile(
    rf"[ \t]*(?:(?P<ts1>{_STAMP}|{_BARE_STAMP})[ \t]*(?:[-–][ \t]*)?)?"
    rf"(?P<label>[^:\n]{{1,60}}?)[ \t]*(?P<ts2>{_STAMP})?[ \t]*:(?!//)"
)
# A timestamp right after the colon.
TIMESTAMP_AFTER = re.compile(
    r"(?:\[(?P<a>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)\]|\((?P<b>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)\))[ \t]*"
)

_CONNECTORS = {"og", "and", "&", "+", "/", ",", "eller", "or", "und"}
_CODE_WORD = re.compile(
    r"[A-Za-zÆØÅæøå]{1,3}\d+(?:\.\d+)*[a-zæøå]?|\d+(?:\.\d+)*|[A-ZÆØÅ][a-zæøå]?|[A-ZÆØÅ]{2,3}|[a-zæøå]{2,12}-\d{1,3}")
_TITLE_WORD = re.compile(r"[A-ZÆØÅ][\w'’-]*|\d+(?:\.\d+)*")
# Words that name a speaker in transcripts from other tools and other studies.
SPEAKER_WORDS = {
    "informant", "intervjuer", "intervjuar", "interviewer", "intervjuobjekt", "deltaker", "deltakar",
    "respondent", "moderator", "speaker", "participant", "interviewee", "spørsmål", "svar",
    "rektor", "skoleeier", "skoleleder", "veileder", "lærer", "leder", "kommunalsjef", "forsker",
}
_PUNCT = re.compile(r"[.!?;\"«»“”„\[\]{}<>=]")


@dataclass(frozen=True)
class LabelHead:
    """The start of a line that looks like ``LABEL:``: the label as written, where the turn's
    text begins in the line, and a timestamp written before the colon, if any."""

    label: str
    after: int
    timestamp: str | None


# The same, anchored at every line start of a whole text (one scan finds the candidates).
HEAD_LINES = re.compile("^" + _HEAD.pattern, re.MULTILINE)


def head_of(m: re.Match[str] | None) -> LabelHead | None:
    """The label-shaped start matched by ``_HEAD``/``HEAD_LINES`` (no judgement on the label
    yet); ``after`` is an offset into the string that was searched."""
    if not m:
        return None
    label = m.group("label").strip()
    if not label:
        return None
    stamp = m.group("ts1") or m.group("ts2")
    return LabelHead(label, m.end(), stamp.strip("[]()") if stamp else None)


def split_head(line: str) -> LabelHead | None:
    """The label-shaped start of ``line``, if it has one."""
    return head_of(_HEAD.match(line))


def _words(label: str) -> list[str]:
    return re.findall(r"[,&+/]|[^\s,&+/]+", label)


def _code_like(word: str, registry: Registry, interviewer_extra: list[str] | tuple[str, ...]) -> bool:
    """A code as written (``S1``, ``s1``, ``UH3``, ``Va``) or a known label in any case (``va``)."""
    return bool(_CODE_WORD.fullmatch(word)) or lookup(word, registry) is not None or registry.is_interviewer(
        word, interviewer_extra
    )


def is_multi_speaker(
    label: str, registry: Registry, interviewer_extra: list[str] | tuple[str, ...] = ()
) -> bool:
    """``S1 og R1.1``: two or more codes joined by a connector."""
    words = _words(label)
    codes = [w for w in words if w.casefold() not in _CONNECTORS]
    return (
        len(codes) >= 2
        and len(codes) < len(words)
        and all(_code_like(w, registry, interviewer_extra) for w in codes)
    )


def looks_like_label(label: str, registry: Registry, interviewer_extra: list[str] | tuple[str, ...] = ()) -> bool:
    """Whether the text before a line's colon is meant as a speaker label (see module doc)."""
    if registry.is_interviewer(label, interviewer_extra) or lookup(label, registry) is not None:
        return True
    core = re.sub(r"\s*\([^()]*\)\s*$", "", label).strip()  # 'Intervjuer (Kari)'
    if not core or len(core) > 40:
        return False
    if _PUNCT.search(re.sub(r"(?<=\d)\.(?=\d)", "", core)):
        return False
    if core != label and looks_like_label(core, registry, interviewer_extra):
        return True
    words = _words(core)
    if not words or len(words) > 5:
        return False
    content = [w for w in words if w.casefold() not in _CONNECTORS]
    if not content:
        return False
    if all(_code_like(w, registry, interviewer_extra) for w in content) and any(not w[0].isdigit() for w in content):
        return True
    role_names = {r.name.casefold() for r in registry.roles} | {r.key.casefold() for r in registry.roles}
    if len(content) == 1:
        word = content[0].casefold()
        return word in SPEAKER_WORDS or word in role_names
    if len(content) <= 4 and all(_TITLE_WORD.fullmatch(w) for w in content):
        return True
    first = content[0].casefold()
    return (first in SPEAKER_WORDS or first in role_names) and len(content) <= 3 and all(
        _TITLE_WORD.fullmatch(w) or _CODE_WORD.fullmatch(w) for w in content[1:]
    )


def lookup(label: str, registry: Registry) -> Informant | None:
    """The informant ``label`` names, codes compared without whitespace and, when that is
    unambiguous, without case (``s1`` is ``S1``)."""
    found = registry.informant(label)
    if found is not None:
        return found
    folded = [i for i in registry.informants if any(_fold(c) == _fold(label) for c in (i.code, *i.aliases))]
    return folded[0] if len(folded) == 1 else None


def _fold(label: str) -> str:
    return re.sub(r"\s+", "", label).casefold()


def resolve(label: str, registry: Registry, interviewer_extra: list[str] | tuple[str, ...] = ()) -> Informant | None:
    """The informant a speaker label stands for; None for the interviewer.

    Raises :class:`LabelError` for a label that names two speakers, matches no known code or
    matches two roles, with the nearest known labels as a hint.
    """
    if registry.is_interviewer(label, interviewer_extra):
        return None
    if is_multi_speaker(label, registry, interviewer_extra):
        raise LabelError(
            f"speaker label '{label}' names more than one speaker",
            hint="a turn has one speaker: write each speaker's words as a turn of their own "
            "('S1: ...' and 'R1.1: ...' on separate lines)",
        )
    known = lookup(label, registry)
    if known is not None:
        return registry.resolve(known.code)
    # Codes in another case than the registry's patterns ('s1', 'va' with no informant list).
    for variant in dict.fromkeys([label, label.upper(), label.capitalize(), label.title()]):
        if registry.matching_roles(variant):
            return registry.resolve(variant)
    try:
        return registry.resolve(label)
    except LabelError as exc:
        hint = (exc.hint or "").strip()
        if hint and not hint.endswith((".", "?")):
            hint += "."
        if interviewer_extra:
            hint += f" Interviewer labels of this transcript: {', '.join(interviewer_extra)}."
        hint += (
            " If the line is not a new turn but continues the previous one, reword it so that "
            "it does not start with a label and a colon."
        )
        raise LabelError(exc.message, hint=hint.strip()) from None
