"""Regular expressions written by users (codebook regex indicators, registry role patterns),
run in a linear-time engine so that no pattern can hang rta.

Python's ``re`` backtracks: ``(\\w+\\s?)+$`` or ``S(?P<group>(\\d+)+)`` on a long line takes
longer than the age of the universe. RE2 (``google-re2``) runs in time linear in the text, but
its ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII-only (``\\båpen`` would never match) and it
lacks some Python constructs. So a pattern is parsed with Python's own parser (the syntax users
know and the error messages they get stay Python's) and translated into RE2 with Python's
Unicode meaning: ``\\w`` becomes ``[\\p{L}\\p{N}_]``, and ``\\b``/``\\B`` become what they
decide given the characters the pattern puts beside them; where that is a character outside
the match, one character of context is matched and cut off again. Constructs RE2 cannot run
in linear time are refused with :class:`UserRegexError`, naming the construct:
back-references, lookahead/lookbehind, conditional groups, atomic groups and possessive
quantifiers, and ``\\b`` where neither side is fixed by the pattern.

:func:`compile_user_regex` is the one place user patterns are compiled; ``re2`` is imported
only there, so ``rta --help`` stays fast.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from rta.errors import RtaError

try:  # Python 3.11+: the parser behind re.compile
    from re import _constants as _C  # type: ignore[attr-defined]
    from re import _parser as _P  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older layout
    import sre_constants as _C  # type: ignore[no-redef]
    import sre_parse as _P  # type: ignore[no-redef]

SUPPORTED = (
    "literals, character classes, . ^ $ \\A \\Z, groups (named too), alternation, the "
    "quantifiers * + ? {m,n} (lazy too), \\w \\d \\s and \\b next to a character the pattern fixes"
)
UNSUPPORTED_HINT = (
    "rta runs codebook and registry regexes in the linear-time RE2 engine so that no pattern "
    "can hang; it supports " + SUPPORTED
)

W, N, O, A = "W", "N", "O", "A"  # word char, other char, outside the match, another assertion
_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + \
    "\u2028\u2029\u202f\u205f\u3000"
_MAXREPEAT = _C.MAXREPEAT


class UserRegexError(RtaError):
    """A user regex that is invalid or cannot run in the linear-time engine."""


class _Refuse(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _esc(ch: str) -> str:
    return ch if ch.isascii() and ch.isalnum() else "\\x{%x}" % ord(ch)


def _is_word(ch: str, ascii_only: bool) -> bool:
    if ascii_only and not ch.isascii():
        return False
    return ch.isalnum() or ch == "_"


@functools.cache
def _decimals() -> str:
    """Every Unicode decimal digit (Python's ``\\d``); computed only for ``[^\\D...]``."""
    return "".join(chr(i) for i in range(0x110000) if chr(i).isdecimal())


class _Translator:
    """One translation of a parsed pattern into RE2 syntax.

    ``lead``/``trail``: 'ctx' when the match may start/end anywhere in the text (context
    characters are matched and cut off), 'edge' when it starts at the start / ends at the end
    of the string (``match``/``fullmatch``), where outside counts as a non-word character.
    """

    def __init__(self, flags: int, lead: str, trail: str) -> None:
        self.flags = flags
        self.lead_mode = lead
        self.trail_mode = trail
        self.ngroups = 0
        self.group_map: dict[int, int] = {}
        self.lead_groups: list[int] = []
        self.trail_groups: list[int] = []

    # -- character classes ----------------------------------------------------------------
    def _ascii(self, flags: int) -> bool:
        return bool(flags & re.ASCII)

    def _word_inner(self, flags: int) -> str:
        return "0-9A-Za-z_" if self._ascii(flags) else "\\p{L}\\p{N}_"

    def _digit_inner(self, flags: int) -> str:
        return "0-9" if self._ascii(flags) else "\\p{Nd}"

    def _space_inner(self, flags: int) -> str:
        chars = _SPACES if not self._ascii(flags) else "\t\n\x0b\x0c\r "
        return "".join(_esc(c) for c in chars)

    def nonword(self, flags: int) -> str:
        return f"[^{self._word_inner(flags)}]"

    def word(self, flags: int) -> str:
        return f"[{self._word_inner(flags)}]"

    def _member(self, ch: str, items: list[tuple[Any, Any]], flags: int) -> bool:
        """Python's meaning of one positive class item list for ``ch``."""
        ascii_only = self._ascii(flags)
        fold = bool(flags & re.IGNORECASE)
        for op, av in items:
            if op is _C.LITERAL:
                lit = chr(av)
                if lit == ch or (fold and lit.casefold() == ch.casefold()):
                    return True
            elif op is _C.RANGE:
                lo, hi = av
                if lo <= ord(ch) <= hi or (fold and any(lo <= ord(v) <= hi for v in (ch.lower(), ch.upper()) if len(v) == 1)):
                    return True
            elif op is _C.CATEGORY:
                name = str(av)
                is_word, is_digit, is_space = _is_word(ch, ascii_only), ch.isdecimal() and (ch.isascii() or not ascii_only), ch in _SPACES if not ascii_only else ch in "\t\n\x0b\x0c\r "
                value = {"CATEGORY_WORD": is_word, "CATEGORY_NOT_WORD": not is_word,
                         "CATEGORY_DIGIT": is_digit, "CATEGORY_NOT_DIGIT": not is_digit,
                         "CATEGORY_SPACE": is_space, "CATEGORY_NOT_SPACE": not is_space}[name]
                if value:
                    return True
        return False

    def klass(self, items: list[tuple[Any, Any]], flags: int) -> str:
        negate = bool(items) and items[0][0] is _C.NEGATE
        if negate:
            items = items[1:]
        inner: list[str] = []
        negs: list[str] = []
        for op, av in items:
            if op is _C.LITERAL:
                inner.append(_esc(chr(av)))
            elif op is _C.RANGE:
                inner.append(f"{_esc(chr(av[0]))}-{_esc(chr(av[1]))}")
            elif op is _C.CATEGORY:
                name = str(av)
                if name == "CATEGORY_WORD":
                    inner.append(self._word_inner(flags))
                elif name == "CATEGORY_DIGIT":
                    inner.append(self._digit_inner(flags))
                elif name == "CATEGORY_SPACE":
                    inner.append(self._space_inner(flags))
                elif name == "CATEGORY_NOT_WORD":
                    negs.append(self.nonword(flags))
                elif name == "CATEGORY_NOT_DIGIT":
                    negs.append(f"[^{self._digit_inner(flags)}]")
                elif name == "CATEGORY_NOT_SPACE":
                    negs.append(f"[^{self._space_inner(flags)}]")
                else:  # pragma: no cover - locale categories do not occur in str patterns
                    raise _Refuse(f"the class category {name}")
            else:  # pragma: no cover
                raise _Refuse(f"the class item {op}")
        if not negate:
            atoms = ([f"[{''.join(inner)}]"] if inner else []) + negs
            return atoms[0] if len(atoms) == 1 else "(?:" + "|".join(atoms) + ")"
        if not negs:
            return f"[^{''.join(inner)}]"
        return self._negated_with_categories(items, flags)

    def _negated_with_categories(self, items: list[tuple[Any, Any]], flags: int) -> str:
        """``[^\\W\\d_]`` and friends: RE2 has no class intersection, so compute the set."""
        names = {str(av) for op, av in items if op is _C.CATEGORY}
        ascii_only = self._ascii(flags)
        if "CATEGORY_NOT_WORD" in names:
            # word characters minus the rest: only the idioms [^\W], [^\W_], [^\W\d], [^\W\d_]
            rest = [(op, av) for op, av in items if not (op is _C.CATEGORY and str(av) == "CATEGORY_NOT_WORD")]
            drop_digits = drop_underscore = False
            for op, av in rest:
                if op is _C.CATEGORY and str(av) in ("CATEGORY_DIGIT", "CATEGORY_SPACE", "CATEGORY_NOT_WORD"):
                    drop_digits |= str(av) == "CATEGORY_DIGIT"
                elif op is _C.LITERAL and chr(av) == "_":
                    drop_underscore = True
                elif op is _C.LITERAL and not _is_word(chr(av), ascii_only):
                    pass
                else:
                    raise _Refuse("a negated class with \\W and other word characters (e.g. [^\\Wæ])")
            if ascii_only:
                parts = ["A-Za-z"] + ([] if drop_digits else ["0-9"])
            else:
                parts = ["\\p{L}", "\\p{Nl}\\p{No}" if drop_digits else "\\p{N}"]
            if not drop_underscore:
                parts.append("_")
            return f"[{''.join(parts)}]"
        universe: str | None = None
        for name, chars in (("CATEGORY_NOT_SPACE", _SPACES if not ascii_only else "\t\n\x0b\x0c\r "),
                            ("CATEGORY_NOT_DIGIT", "0123456789" if ascii_only else None)):
            if name in names:
                chars = chars if chars is not None else _decimals()
                universe = chars if universe is None else "".join(c for c in universe if c in chars)
        assert universe is not None
        keep = [c for c in universe if not self._member(c, items, flags)]
        if not keep:
            return "[^\\x{0}-\\x{10ffff}]"
        return "[" + "".join(_esc(c) for c in keep) + "]"

    # -- what stands next to a position ---------------------------------------------------
    def _class_types(self, items: list[tuple[Any, Any]], flags: int) -> set[str]:
        ascii_only = self._ascii(flags)
        if items and items[0][0] is _C.NEGATE:
            names = {str(av) for op, av in items if op is _C.CATEGORY}
            if "CATEGORY_NOT_WORD" in names:
                return {W}
            if "CATEGORY_WORD" in names:
                return {N}
            return {W, N}
        types: set[str] = set()
        for op, av in items:
            if op is _C.LITERAL:
                types.add(W if _is_word(chr(av), ascii_only) else N)
            elif op is _C.RANGE:
                lo, hi = av
                if hi - lo > 5000:
                    return {W, N}
                types |= {W if _is_word(chr(i), ascii_only) else N for i in range(lo, hi + 1)}
            elif op is _C.CATEGORY:
                name = str(av)
                types |= {"CATEGORY_WORD": {W}, "CATEGORY_DIGIT": {W}, "CATEGORY_NOT_WORD": {N},
                          "CATEGORY_SPACE": {N}}.get(name, {W, N})
        return types

    def first(self, items: list[tuple[Any, Any]], flags: int) -> tuple[set[str], bool]:
        """Types of the first character a sequence consumes; whether it can consume none."""
        out: set[str] = set()
        for op, av in items:
            types, nullable, flags = self._edge(op, av, flags, first=True)
            out |= types
            if not nullable:
                return out, False
        return out, True

    def last(self, items: list[tuple[Any, Any]], flags: int) -> tuple[set[str], bool]:
        out: set[str] = set()
        for op, av in reversed(items):
            types, nullable, _ = self._edge(op, av, flags, first=False)
            out |= types
            if not nullable:
                return out, False
        return out, True

    def _edge(self, op: Any, av: Any, flags: int, first: bool) -> tuple[set[str], bool, int]:
        ascii_only = self._ascii(flags)
        if op is _C.LITERAL:
            return {W if _is_word(chr(av), ascii_only) else N}, False, flags
        if op in (_C.NOT_LITERAL, _C.ANY):
            return {W, N}, False, flags
        if op is _C.IN:
            return self._class_types(av, flags), False, flags
        if op is _C.AT:
            name = str(av)
            if name in ("AT_BOUNDARY", "AT_NON_BOUNDARY"):
                return {A}, True, flags
            # beside a string or line edge stands a non-word character (or nothing)
            if first and name in ("AT_END", "AT_END_STRING"):
                return {N}, False, flags
            if not first and name in ("AT_BEGINNING", "AT_BEGINNING_STRING"):
                return {N}, False, flags
            return set(), True, flags
        if op is _C.BRANCH:
            out: set[str] = set()
            nullable = False
            for alt in av[1]:
                t, n = (self.first if first else self.last)(list(alt), flags)
                out |= t
                nullable |= n
            return out, nullable, flags
        if op is _C.SUBPATTERN:
            _group, add, dele, sub = av
            t, n = (self.first if first else self.last)(list(sub), (flags | add) & ~dele)
            return t, n, flags
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            lo, _hi, sub = av
            t, n = (self.first if first else self.last)(list(sub), flags)
            return t, n or lo == 0, flags
        return {W, N}, True, flags  # refused constructs: no claim

    # -- translation ----------------------------------------------------------------------
    def seq(self, items: list[tuple[Any, Any]], before: set[str], after: set[str], flags: int) -> str:
        n = len(items)
        befores: list[set[str]] = []
        cur = set(before)
        for op, av in items:
            befores.append(cur)
            types, nullable, _ = self._edge(op, av, flags, first=False)
            cur = types | cur if nullable else set(types)
        afters: list[set[str]] = [set()] * n
        cur = set(after)
        for i in range(n - 1, -1, -1):
            afters[i] = cur
            op, av = items[i]
            types, nullable, _ = self._edge(op, av, flags, first=True)
            cur = types | cur if nullable else set(types)
        return "".join(self.item(op, av, befores[i], afters[i], flags) for i, (op, av) in enumerate(items))

    def item(self, op: Any, av: Any, before: set[str], after: set[str], flags: int) -> str:
        fold = bool(flags & re.IGNORECASE)
        wrap = (lambda s: f"(?i:{s})") if fold else (lambda s: s)
        if op is _C.LITERAL:
            return wrap(_esc(chr(av)))
        if op is _C.NOT_LITERAL:
            return wrap(f"[^{_esc(chr(av))}]")
        if op is _C.ANY:
            return "(?s:.)" if flags & re.DOTALL else "[^\\n]"
        if op is _C.IN:
            return wrap(self.klass(list(av), flags))
        if op is _C.BRANCH:
            return "(?:" + "|".join(self.seq(list(alt), before, after, flags) for alt in av[1]) + ")"
        if op is _C.SUBPATTERN:
            group, add, dele, sub = av
            inner_flags = (flags | add) & ~dele
            if group is None:
                return "(?:" + self.seq(list(sub), before, after, inner_flags) + ")"
            self.ngroups += 1
            self.group_map[group] = self.ngroups
            return "(" + self.seq(list(sub), before, after, inner_flags) + ")"
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            lo, hi, sub = av
            if lo > 1000 or (hi != _MAXREPEAT and hi > 1000):
                raise _Refuse("a repetition count above 1000")
            sub_list = list(sub)
            if hi == _MAXREPEAT or hi > 1:  # another round may stand on either side
                last, _ = self.last(sub_list, flags)
                first, _ = self.first(sub_list, flags)
                before, after = before | last, after | first
            body = "(?:" + self.seq(sub_list, before, after, flags) + ")"
            if (lo, hi) == (0, _MAXREPEAT):
                q = "*"
            elif (lo, hi) == (1, _MAXREPEAT):
                q = "+"
            elif (lo, hi) == (0, 1):
                q = "?"
            elif hi == _MAXREPEAT:
                q = f"{{{lo},}}"
            elif lo == hi:
                q = f"{{{lo}}}"
            else:
                q = f"{{{lo},{hi}}}"
            return body + q + ("?" if op is _C.MIN_REPEAT else "")
        if op is _C.AT:
            return self.at(str(av), before, after, flags)
        if op is _C.POSSESSIVE_REPEAT or op is getattr(_C, "ATOMIC_GROUP", None):
            raise _Refuse("possessive quantifiers or atomic groups ((?>...), *+, ++, ?+)")
        if op is _C.GROUPREF:
            raise _Refuse("back-references (\\1, (?P=name))")
        if op is _C.GROUPREF_EXISTS:
            raise _Refuse("conditional groups ((?(1)...|...))")
        if op in (_C.ASSERT, _C.ASSERT_NOT):
            raise _Refuse("lookahead or lookbehind ((?=...), (?!...), (?<=...), (?<!...))")
        raise _Refuse(f"the construct {op}")  # pragma: no cover

    def at(self, name: str, before: set[str], after: set[str], flags: int) -> str:
        multiline = bool(flags & re.MULTILINE)
        if name == "AT_BEGINNING":
            return "(?m:^)" if multiline else "\\A"
        if name == "AT_BEGINNING_STRING":
            return "\\A"
        if name == "AT_END_STRING":
            return "\\z"
        if name == "AT_END":
            if multiline:
                return "(?m:$)"
            if after == {O} and self.trail_mode == "ctx":  # Python's $ also matches before a final \n
                self.ngroups += 1
                self.trail_groups.append(self.ngroups)
                return "(?:(\\n)?\\z)"
            return "\\z"
        if name not in ("AT_BOUNDARY", "AT_NON_BOUNDARY"):  # pragma: no cover
            raise _Refuse(f"the assertion {name}")
        boundary = name == "AT_BOUNDARY"
        word = "\\b" if boundary else "\\B"
        if self.lead_mode == "edge":
            before = {N if t == O else t for t in before}
        if self.trail_mode == "edge":
            after = {N if t == O else t for t in after}
        core_b, core_a = before - {A}, after - {A}
        if (O in core_b and len(core_b) > 1) or (O in core_a and len(core_a) > 1) or core_b == core_a == {O} \
                or (O not in core_b and O not in core_a and (len(core_b) > 1 or len(core_a) > 1)) \
                or not core_b or not core_a:
            raise _Refuse(
                f"{word} where the pattern does not fix whether a letter/digit stands on one side "
                "(write it right next to a letter, a digit, a space or punctuation)"
            )
        if A in before or A in after:
            raise _Refuse(f"{word} right next to another assertion (\\b, \\B)")
        if O not in before and O not in after:
            (b,), (a,) = before, after
            return "" if (b != a) == boundary else "[^\\x{0}-\\x{10ffff}]"
        if before == {O}:
            (inside,) = after
            outside = ({W: N, N: W}[inside]) if boundary else inside
            self.ngroups += 1
            self.lead_groups.append(self.ngroups)
            return f"(?:\\A|({self.nonword(flags)}))" if outside == N else f"({self.word(flags)})"
        (inside,) = before
        outside = ({W: N, N: W}[inside]) if boundary else inside
        self.ngroups += 1
        self.trail_groups.append(self.ngroups)
        return f"(?:({self.nonword(flags)})|\\z)" if outside == N else f"({self.word(flags)})"


@dataclass
class _Variant:
    regex: Any  # re2._Regexp
    group_map: dict[int, int]
    lead: list[int]
    trail: list[int]


class UserMatch:
    """A match of a :class:`UserPattern`, with the span and groups Python's ``re`` would give."""

    __slots__ = ("re", "string", "_m", "_v", "_start", "_end")

    def __init__(self, pattern: "UserPattern", string: str, m: Any, variant: _Variant) -> None:
        self.re = pattern
        self.string = string
        self._m = m
        self._v = variant
        start, end = m.start(), m.end()
        for g in variant.lead:
            if m.start(g) != -1:
                start = m.end(g)
        for g in variant.trail:
            if m.start(g) != -1:
                end = m.start(g)
        self._start, self._end = start, end

    def _index(self, group: int | str) -> int:
        if group == 0:
            return 0
        if isinstance(group, str):
            if group not in self.re.groupindex:
                raise IndexError(f"no such group: {group!r}")
            group = self.re.groupindex[group]
        if group not in self._v.group_map:
            raise IndexError(f"no such group: {group!r}")
        return self._v.group_map[group]

    def span(self, group: int | str = 0) -> tuple[int, int]:
        if group == 0:
            return self._start, self._end
        return self._m.span(self._index(group))

    def start(self, group: int | str = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int | str = 0) -> int:
        return self.span(group)[1]

    def group(self, *groups: int | str) -> Any:
        if not groups:
            groups = (0,)
        out = []
        for g in groups:
            s, e = self.span(g)
            out.append(None if s == -1 else self.string[s:e])
        return out[0] if len(out) == 1 else tuple(out)

    def __getitem__(self, group: int | str) -> str | None:
        return self.group(group)

    def groups(self, default: Any = None) -> tuple[Any, ...]:
        return tuple(self.group(g) if self.span(g)[0] != -1 else default for g in range(1, self.re.groups + 1))

    def groupdict(self, default: Any = None) -> dict[str, Any]:
        return {name: (self.group(name) if self.span(name)[0] != -1 else default) for name in self.re.groupindex}

    def __repr__(self) -> str:
        return f"<rta.userregex.UserMatch span={self.span()!r} match={self.group()!r}>"


class UserPattern:
    """A compiled user regex: ``search``, ``match``, ``fullmatch``, ``finditer`` with Python's
    meaning, run by RE2 in time linear in the text."""

    def __init__(self, pattern: str, flags: int, parsed: Any) -> None:
        self.pattern = pattern
        self.flags = flags
        self._parsed = parsed
        self.groupindex: dict[str, int] = dict(parsed.state.groupdict)
        self.groups: int = parsed.state.groups - 1
        self._variants: dict[tuple[str, str], _Variant] = {}
        self.engine = "re2"
        self.variant("ctx", "ctx")  # the search form, compiled now so errors surface at load

    def variant(self, lead: str, trail: str) -> _Variant:
        key = (lead, trail)
        if key not in self._variants:
            self._variants[key] = _build(self._parsed, self.pattern, lead, trail)
        return self._variants[key]

    def __repr__(self) -> str:
        return f"rta.userregex.compile({self.pattern!r})"

    def search(self, string: str, pos: int = 0, endpos: int | None = None) -> UserMatch | None:
        return next(self.finditer(string, pos, endpos), None)

    def match(self, string: str) -> UserMatch | None:
        v = self.variant("edge", "ctx")
        m = v.regex.match(string)
        return UserMatch(self, string, m, v) if m is not None else None

    def fullmatch(self, string: str) -> UserMatch | None:
        v = self.variant("edge", "edge")
        m = v.regex.fullmatch(string)
        return UserMatch(self, string, m, v) if m is not None else None

    def regions(self, data: bytes) -> Iterator[tuple[int, int]]:
        """Byte spans of UTF-8 ``data`` that together contain every match :meth:`finditer`
        would find in the decoded text, each widened by one byte either side for the context
        characters a match may share with its neighbour: a cheap superset (one RE2 scan, no
        character offsets) for finding which parts of a long text are worth searching."""
        for m in self.variant("ctx", "ctx").regex.finditer(data):
            yield max(0, m.start() - 1), min(len(data), m.end() + 1)

    def finditer(self, string: str, pos: int = 0, endpos: int | None = None) -> Iterator[UserMatch]:
        """Non-overlapping matches left to right, as ``re.finditer``."""
        v = self.variant("ctx", "ctx")
        endpos = len(string) if endpos is None else min(endpos, len(string))
        if not v.lead and not v.trail:
            for m in v.regex.finditer(string, pos, endpos):
                yield UserMatch(self, string, m, v)
            return
        # context characters are matched and cut off: search again from the true end, one
        # character earlier so that a leading context can see the character before it. The
        # text is encoded once and searched as bytes (re2 would re-encode it per call).
        offsets = _Offsets(string)
        data, end_b = offsets.data, offsets.to_byte(endpos)
        while pos <= endpos:
            start = pos - 1 if pos > 0 and v.lead else pos
            m = v.regex.search(data, offsets.to_byte(start), end_b)
            if m is None:
                return
            um = UserMatch(self, string, _CharMatch(m, offsets), v)
            if um.start() < pos:  # a match that would overlap the previous one
                m = v.regex.search(data, offsets.to_byte(pos), end_b)
                if m is None:
                    return
                um = UserMatch(self, string, _CharMatch(m, offsets), v)
            yield um
            pos = um.end() if um.end() > um.start() else um.end() + 1


class _Offsets:
    """Character <-> UTF-8 byte offsets of one text, by a cursor that moves with the matches
    (so converting every match of a left-to-right scan costs time linear in the text)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self.ascii = len(self.data) == len(text)
        self.b = self.c = 0

    def to_byte(self, c: int) -> int:
        if self.ascii:
            return c
        if c >= self.c:
            b = self.b + len(self.text[self.c:c].encode("utf-8"))
        else:
            b = self.b - len(self.text[c:self.c].encode("utf-8"))
        self.b, self.c = b, c
        return b

    def to_char(self, b: int) -> int:
        if self.ascii or b < 0:
            return b
        if b >= self.b:
            c = self.c + len(self.data[self.b:b].decode("utf-8"))
        else:
            c = self.c - len(self.data[b:self.b].decode("utf-8"))
        self.b, self.c = b, c
        return c


class _CharMatch:
    """An RE2 match on the UTF-8 bytes of a text, with offsets in characters."""

    __slots__ = ("_m", "_o")

    def __init__(self, m: Any, offsets: _Offsets) -> None:
        self._m, self._o = m, offsets

    def span(self, group: int = 0) -> tuple[int, int]:
        s, e = self._m.span(group)
        return (-1, -1) if s == -1 else (self._o.to_char(s), self._o.to_char(e))

    def start(self, group: int = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int = 0) -> int:
        return self.span(group)[1]


def _build(parsed: Any, pattern: str, lead: str, trail: str) -> _Variant:
    import re2

    tr = _Translator(parsed.state.flags, lead, trail)
    body = tr.seq(list(parsed), {O}, {O}, parsed.state.flags)
    options = re2.Options()
    options.log_errors = False
    try:
        regex = re2.compile(body, options)
    except re2.error as exc:
        raise _Refuse(f"something RE2 cannot run ({_text(exc)})") from None
    return _Variant(regex, tr.group_map, tr.lead_groups, tr.trail_groups)


def _text(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else exc
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


@functools.lru_cache(maxsize=512)
def _compile(pattern: str, flags: int) -> UserPattern:
    parsed = _P.parse(pattern, flags)
    return UserPattern(pattern, flags, parsed)


def compile_user_regex(
    pattern: str,
    path: str | Path | None = None,
    line: int | None = None,
    *,
    flags: int = 0,
    what: str = "regex",
) -> UserPattern:
    """Compile a user's regex for the linear-time engine. Raises :class:`UserRegexError` naming
    ``path`` and ``line``: for a syntax error, Python's message and position; for a construct
    the engine cannot run, which one and what is supported."""
    if not isinstance(pattern, str):
        raise UserRegexError(f"{what} must be text, not {type(pattern).__name__}", path=path, line=line,
                             hint="put the pattern in single quotes")
    try:
        return _compile(pattern, flags)
    except re.error as exc:
        raise UserRegexError(
            f"invalid {what} '{pattern}': {exc.msg} at position {exc.pos}", path=path, line=line,
            hint="Python `re` syntax; in YAML, single-quote regexes so backslashes stay",
        ) from None
    except _Refuse as exc:
        raise UserRegexError(
            f"{what} '{pattern}' uses {exc.what}, which rta does not run", path=path, line=line,
            hint=UNSUPPORTED_HINT,
        ) from None
    except RecursionError:
        raise UserRegexError(f"{what} '{pattern}' is nested too deeply", path=path, line=line) from None
