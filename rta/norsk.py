"""Norwegian text helpers: collation (æ, ø, å after z) and accent folding.

Folding serves matching only (OCR'd and hastily typed text loses ø/å/æ); it never rewrites
stored text.
"""

from __future__ import annotations

import unicodedata

# Norwegian alphabet order: a-z, then æ ø å. Letters with diacritics that are not their own
# letters in Norwegian (é, ü, ...) sort as their base letter.
_ALPHABET = "abcdefghijklmnopqrstuvwxyzæøå"
_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}


def _base_letter(ch: str) -> str:
    if ch in _RANK:
        return ch
    if ch in ("ä",):
        return "æ"
    if ch in ("ö",):
        return "ø"
    decomposed = unicodedata.normalize("NFD", ch)
    return decomposed[0] if decomposed else ch


def sort_key(text: str) -> tuple:
    """Key for sorting strings in Norwegian alphabetical order, case-insensitively.

    >>> sorted(["Økonomi", "Anerkjennelse", "Åpenhet", "Ærlighet", "Zebra"], key=sort_key)
    ['Anerkjennelse', 'Zebra', 'Ærlighet', 'Økonomi', 'Åpenhet']
    """
    lowered = unicodedata.normalize("NFC", text).casefold()
    primary = []
    for ch in lowered:
        base = _base_letter(ch)
        if base in _RANK:
            primary.append((1, _RANK[base]))
        elif base.isdigit():
            primary.append((0, ord(base)))
        else:
            primary.append((2, ord(base)))
    # tie-break on the original so the order is total and stable
    return (tuple(primary), text)


def sort_no(items, key=None):
    """Sort ``items`` in Norwegian order; ``key`` extracts the string to compare."""
    if key is None:
        return sorted(items, key=sort_key)
    return sorted(items, key=lambda item: sort_key(key(item)))


_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "AE", "Ø": "O", "Å": "A"})


def fold(text: str) -> str:
    """Lower-case, accent-folded form for matching: ``Støtte`` -> ``stotte``, ``Økonomi`` ->
    ``okonomi``, ``forståelse`` -> ``forstaelse``, ``é`` -> ``e``.

    Folding is lossy on purpose; use it only to compare, never to store.
    """
    text = unicodedata.normalize("NFC", text).translate(_FOLD).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
