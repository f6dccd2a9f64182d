"""Codebooks as data: codes, themes, validation with line numbers, diff and sorted views.

A codebook is the researcher's instrument and evolves during reflexive thematic analysis, so it
lives in a YAML file a person can read and edit (``codebooks/tabell3.yaml`` is the default).
This module reads it with line numbers (every problem names ``file:line``), validates it, and
compares versions. The code -> theme mapping it holds is the researchers' interpretation, never
a fact the tool derives.

YAML layout (``schema_version: 1``)::

    schema_version: 1
    name: ...
    language: nb
    description: ...
    mapping_note: ...
    codes:
      - name: Kontinuitet
        label: ...
        definition: ...
        inclusion: ...
        exclusion: ...
        indicators: {keywords: [...], lemmas: [...], phrases: [...], regex: [...]}
        examples: [...]
        color: "#1f77b4"
        parent: null
        guid: 0b0c...
    themes:
      - name: Kontinuitet
        definition: ...
        central_concept: ...
        origin: inductive          # inductive | deductive
        codes: [Kontinuitet, Brudd, ...]
        parent: null
        status: defined            # candidate | reviewed | defined
        opposite: Brudd
        guid: ...
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from rta.errors import Problem, RtaError
from rta.fsutil import sha256_bytes, sha256_text
from rta.norsk import fold, sort_no
from rta.userregex import UserRegexError, compile_user_regex
from rta.yamlutil import ALIAS_HINT, AliasExpansionError, compose_yaml_text

SCHEMA_VERSION = 1
ORIGINS = ("inductive", "deductive")
STATUSES = ("candidate", "reviewed", "defined")
TOP_KEYS = ("schema_version", "name", "language", "description", "mapping_note", "codes", "themes")
CODE_KEYS = (
    "name", "label", "definition", "inclusion", "exclusion", "indicators", "examples", "color",
    "parent", "guid",
)
THEME_KEYS = (
    "name", "definition", "central_concept", "origin", "codes", "parent", "status", "opposite",
    "guid",
)
INDICATOR_KEYS = ("keywords", "lemmas", "phrases", "regex")

#: Namespace for deterministic GUIDs of codes and themes that have none in the YAML, so that
#: repeated exports of the same codebook agree.
GUID_NAMESPACE = uuid.UUID("6f1d2c8e-3b7a-5e49-9c1f-2a8d4e6b7c90")
_GUID_RE = re.compile(
    r"^(\{)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?(1)\})$"
)
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
#: Single-word indicators this short hit too much once matched inside compounds and fuzzily
#: ("rom" in "romantisk", "tid" in "tidligere").
SHORT_INDICATOR = 3


# --------------------------------------------------------------------------------------------
# Model


@dataclass
class Indicators:
    """Surface cues the NLP assistant looks for. Matching is by lemma, inside compounds,
    accent-folded and fuzzy, so each term should be specific enough to survive that."""

    keywords: list[str] = field(default_factory=list)
    lemmas: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    regex: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when the NLP assistant has nothing to look for."""
        return not (self.keywords or self.lemmas or self.phrases or self.regex)

    def terms(self) -> list[str]:
        """Keywords, lemmas and phrases (not regexes) in that order, without duplicates."""
        seen: dict[str, None] = {}
        for term in [*self.keywords, *self.lemmas, *self.phrases]:
            seen.setdefault(term, None)
        return list(seen)


@dataclass
class Code:
    """One code of the codebook (Tabell 3 has 42)."""

    name: str
    label: str = ""
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    indicators: Indicators = field(default_factory=Indicators)
    examples: list[str] = field(default_factory=list)
    color: str | None = None
    parent: str | None = None
    guid: str = ""
    line: int | None = None


@dataclass
class Theme:
    """A theme built from codes; membership is many-to-many and interpretive."""

    name: str
    definition: str = ""
    central_concept: str = ""
    origin: str = "inductive"
    codes: list[str] = field(default_factory=list)
    parent: str | None = None
    status: str = "candidate"
    guid: str = ""
    opposite: str | None = None
    line: int | None = None


class CodebookLookupError(RtaError, KeyError):
    """A code or theme name that the codebook does not have (carries a did-you-mean hint)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return RtaError.__str__(self)


@dataclass
class Codebook:
    """A parsed codebook. ``sha256`` fingerprints the file bytes (or the dumped text when the
    codebook did not come from a file) so the project store can record which version coded
    what."""

    schema_version: int
    name: str
    language: str
    codes: list[Code]
    themes: list[Theme]
    path: Path | None = None
    sha256: str = ""
    mapping_note: str = ""
    description: str = ""
    warnings: list[Problem] = field(default_factory=list)

    # -- lookups -----------------------------------------------------------------------------
    def code(self, name: str) -> Code:
        """The code called ``name`` (exact, else case- and accent-insensitive)."""
        return _lookup(self.codes, name, "code", self.path)

    def theme(self, name: str) -> Theme:
        """The theme called ``name`` (exact, else case- and accent-insensitive)."""
        return _lookup(self.themes, name, "theme", self.path)

    def has_code(self, name: str) -> bool:
        key = fold(name)
        return any(fold(c.name) == key for c in self.codes)

    def code_names(self) -> list[str]:
        """Code names in file order (use :meth:`codes_sorted` for Norwegian order)."""
        return [c.name for c in self.codes]

    def theme_names(self) -> list[str]:
        return [t.name for t in self.themes]

    def themes_of(self, code_name: str) -> list[str]:
        """Names of the themes the code belongs to, in Norwegian order (may be empty)."""
        key = fold(code_name)
        return sort_no(t.name for t in self.themes if any(fold(c) == key for c in t.codes))

    def children_of(self, code_name: str) -> list[str]:
        return sort_no(c.name for c in self.codes if c.parent == code_name)

    def codes_sorted(self) -> list[Code]:
        """Codes in Norwegian alphabetical order (æ, ø, å after z)."""
        return sort_no(self.codes, key=lambda c: c.name)

    def themes_sorted(self) -> list[Theme]:
        return sort_no(self.themes, key=lambda t: t.name)

    def unthemed_codes(self) -> list[str]:
        """Codes that belong to no theme (allowed; reports say so)."""
        return [c.name for c in self.codes_sorted() if not self.themes_of(c.name)]

    def code_by_guid(self, guid: str) -> Code | None:
        key = _norm_guid(guid)
        return next((c for c in self.codes if _norm_guid(c.guid) == key), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view, codes and themes in Norwegian order; each code lists its themes."""
        codes = []
        for c in self.codes_sorted():
            d = asdict(c)
            d["themes"] = self.themes_of(c.name)
            codes.append(d)
        themes = [asdict(t) for t in self.themes_sorted()]
        for t in themes:
            t["codes"] = sort_no(t["codes"])
        return {
            "schema_version": self.schema_version,
            "name": self.name,
            "language": self.language,
            "description": self.description,
            "mapping_note": self.mapping_note,
            "path": str(self.path) if self.path else None,
            "sha256": self.sha256,
            "codes": codes,
            "themes": themes,
            "unthemed_codes": self.unthemed_codes(),
        }


def _lookup(items: list, name: str, kind: str, path: Path | None):
    for item in items:
        if item.name == name:
            return item
    key = fold(name)
    for item in items:
        if fold(item.name) == key:
            return item
    guess = did_you_mean(name, [i.name for i in items])
    raise CodebookLookupError(
        f"no {kind} called {name!r} in the codebook",
        path=path,
        hint=f"did you mean {guess!r}?" if guess else f"see `rta codebook show` for the {kind}s",
    )


def derive_guid(codebook_name: str, kind: str, name: str) -> str:
    """Deterministic GUID for a code or theme that has none, so repeated exports agree."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{codebook_name}\x1f{kind}\x1f{name}"))


def _norm_guid(guid: str) -> str:
    return guid.strip().strip("{}").lower()


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word``, or None when nothing is close."""
    choices = [c for c in choices if isinstance(c, str)]
    if not choices or not isinstance(word, str):
        return None
    folded = {fold(c): c for c in choices}
    if fold(word) in folded:
        return folded[fold(word)]
    try:
        from rapidfuzz import fuzz, process

        best = process.extractOne(fold(word), list(folded), scorer=fuzz.ratio, score_cutoff=60)
        return folded[best[0]] if best else None
    except ImportError:  # pragma: no cover - rapidfuzz is a dependency
        import difflib

        hits = difflib.get_close_matches(fold(word), list(folded), n=1, cutoff=0.6)
        return folded[hits[0]] if hits else None


# --------------------------------------------------------------------------------------------
# YAML with line numbers


@dataclass
class _Y:
    """A YAML value with its 1-based line; mappings keep each key's line."""

    value: Any
    line: int
    kind: str  # "map" | "seq" | "scalar"
    key_lines: dict[str, int] = field(default_factory=dict)
    flow: bool = False
    raw: str | None = None  # a scalar's text as written (numbers must round-trip to it)


class _Composer:
    """Turns PyYAML's node tree (which carries marks) into :class:`_Y` values and reports
    duplicate keys, which PyYAML would silently overwrite."""

    def __init__(self, report) -> None:
        self._constructor = yaml.constructor.SafeConstructor()
        self._report = report

    def build(self, node: yaml.Node) -> _Y:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            items: dict[Any, _Y] = {}
            key_lines: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
                kline = key_node.start_mark.line + 1
                if key == "<<":
                    self._report(
                        "YAML merge keys (<<) are not supported in codebooks", kline,
                        "write the keys out in full",
                    )
                    continue
                if key in items:
                    self._report(
                        f"duplicate key {key!r} (first on line {key_lines[key]})", kline,
                        "YAML keeps only the last value; remove one of them",
                    )
                items[key] = self.build(value_node)
                key_lines[key] = kline
            return _Y(items, line, "map", key_lines, bool(node.flow_style))
        if isinstance(node, yaml.SequenceNode):
            return _Y([self.build(n) for n in node.value], line, "seq", flow=bool(node.flow_style))
        return _Y(self._scalar(node), line, "scalar", raw=node.value)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            return node.value


# --------------------------------------------------------------------------------------------
# Parsing and validation


class _Parser:
    """Validates the line-annotated tree and builds the model, collecting every problem."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = path
        self.problems: list[Problem] = []

    # reporting
    def error(self, message: str, line: int | None, hint: str | None = None) -> None:
        self.problems.append(Problem(message, self.path, line, hint, "error"))

    def warn(self, message: str, line: int | None, hint: str | None = None) -> None:
        self.problems.append(Problem(message, self.path, line, hint, "warning"))

    # typed getters -------------------------------------------------------------------------
    def keys(self, node: _Y, allowed: tuple[str, ...], where: str) -> None:
        for key, kline in node.key_lines.items():
            if key not in allowed:
                guess = did_you_mean(str(key), allowed)
                hint = f"did you mean {guess!r}?" if guess else f"allowed keys: {', '.join(allowed)}"
                self.error(f"unknown key {key!r} in {where}", kline, hint)

    def text(self, node: _Y, key: str, where: str, required: bool = False, empty: str = "error") -> str:
        child = node.value.get(key)
        if child is None or child.value is None:
            if required:
                self.error(
                    f"{where} is missing required key {key!r}", node.line,
                    f"add `{key}: ...` to {where}",
                )
            return ""
        if child.kind != "scalar":
            self.error(f"{key!r} of {where} must be text, not a {_kind_name(child)}", child.line)
            return ""
        if isinstance(child.value, bool):
            self.error(
                f"{key!r} of {where} was read as {str(child.value).lower()}", child.line,
                "YAML reads yes/no/on/off as true/false: put the text in quotes",
            )
            return ""
        if not isinstance(child.value, str):
            if key in ("name", "parent", "opposite"):
                self.error(
                    f"{key!r} of {where} must be text, not the number {child.raw}", child.line,
                    f"put it in quotes: {key}: \"{child.raw}\"",
                )
                return ""
            if not _round_trips(child):
                self.error(
                    f"{key!r} of {where} was read as the number {child.value!r}, not as written ({child.raw})",
                    child.line, "put the text in quotes",
                )
                return ""
        value = str(child.value)
        if required and not value.strip():
            report = self.warn if empty == "warning" else self.error
            report(f"{key!r} of {where} is empty", child.line, f"write the {key} (imports from other tools often lack one)")
        return value.strip() if key == "name" else value.rstrip("\n")

    def optional_name(self, node: _Y, key: str, where: str) -> str | None:
        value = self.text(node, key, where)
        return value.strip() or None

    def strings(self, node: _Y, key: str, where: str) -> list[tuple[str, int]]:
        child = node.value.get(key)
        if child is None or child.value is None:
            return []
        if child.kind == "scalar":
            self.error(
                f"{key!r} of {where} must be a list", child.line,
                f"write `{key}: [a, b]` or one `- item` per line",
            )
            return []
        if child.kind != "seq":
            self.error(f"{key!r} of {where} must be a list, not a mapping", child.line)
            return []
        out = []
        for item in child.value:
            if (item.kind != "scalar" or item.value is None or isinstance(item.value, bool)
                    or not _round_trips(item)):
                self.error(
                    f"item of {key!r} in {where} must be text", item.line,
                    "put items that look like yes/no/numbers in quotes",
                )
                continue
            text = str(item.value).strip()
            if not text:
                self.error(f"empty item in {key!r} of {where}", item.line)
                continue
            out.append((text, item.line))
        return out

    def guid(self, node: _Y, where: str, kind: str, cb_name: str, name: str) -> tuple[str, bool]:
        child = node.value.get("guid")
        if child is None or child.value is None or str(child.value).strip() == "":
            return derive_guid(cb_name, kind, name), False
        raw = str(child.value).strip()
        if child.kind != "scalar" or not _GUID_RE.match(raw):
            self.error(
                f"guid of {where} is not a GUID: {raw!r}", child.line,
                "use the form 8-4-4-4-12 hex digits, or delete it and run "
                "`rta codebook validate --fix-guids`",
            )
            return derive_guid(cb_name, kind, name), True
        return _norm_guid(raw), True

    # document ------------------------------------------------------------------------------
    def parse(self, root: _Y | None) -> Codebook | None:
        if root is None or root.value is None:
            self.error("the codebook is empty", 1, "start from codebooks/tabell3.yaml")
            return None
        if root.kind != "map":
            self.error(
                f"the codebook must be a mapping of keys, not a {_kind_name(root)}", root.line,
                "the file starts with `schema_version: 1`, `name: ...`, `codes:`",
            )
            return None
        self.keys(root, TOP_KEYS, "the codebook")
        version_node = root.value.get("schema_version")
        version = SCHEMA_VERSION
        if version_node is None:
            self.error("missing required key 'schema_version'", root.line, "add `schema_version: 1`")
        elif version_node.value != SCHEMA_VERSION or isinstance(version_node.value, bool):
            self.error(
                f"unsupported schema_version {version_node.value!r}", version_node.line,
                f"this rta reads schema_version {SCHEMA_VERSION}",
            )
        name = self.text(root, "name", "the codebook", required=True) or "codebook"
        language = self.text(root, "language", "the codebook") or "nb"
        description = self.text(root, "description", "the codebook")
        mapping_note = self.text(root, "mapping_note", "the codebook")

        codes = self._codes(root, name)
        themes = self._themes(root, name)
        self._check_codes(codes)
        self._check_themes(themes, codes)
        self._check_guids(codes, themes)
        return Codebook(
            schema_version=version, name=name, language=language, codes=[c for c, _ in codes],
            themes=[t for t, _ in themes], mapping_note=mapping_note, description=description,
        )

    def _items(self, root: _Y, key: str, required: bool) -> list[_Y]:
        node = root.value.get(key)
        if node is None or node.value is None:
            if required:
                self.error(f"the codebook has no {key!r} list", root.line, f"add `{key}:` with at least one entry")
            return []
        if node.kind != "seq":
            self.error(f"{key!r} must be a list (one `- name: ...` per entry)", node.line)
            return []
        out = []
        for item in node.value:
            if item.kind != "map":
                self.error(
                    f"each entry of {key!r} must be a mapping with `name:` and more, "
                    f"not a {_kind_name(item)}", item.line,
                )
                continue
            out.append(item)
        return out

    def _codes(self, root: _Y, cb_name: str) -> list[tuple[Code, _Y]]:
        out = []
        for node in self._items(root, "codes", required=True):
            name = self.text(node, "name", f"the code on line {node.line}", required=True)
            where = f"code {name!r}" if name else f"the code on line {node.line}"
            self.keys(node, CODE_KEYS, where)
            definition = self.text(node, "definition", where, required=True, empty="warning")
            guid, _ = self.guid(node, where, "code", cb_name, name)
            color_node = node.value.get("color")
            color = None
            if color_node is not None and color_node.value not in (None, ""):
                color = str(color_node.value).strip()
                if color_node.kind != "scalar" or not _COLOR_RE.match(color):
                    self.error(
                        f"colour of {where} is not #rrggbb: {color!r}", color_node.line,
                        'write six hex digits in quotes, e.g. color: "#1f77b4"',
                    )
                    color = None
                else:
                    color = color.lower()
            code = Code(
                name=name,
                label=self.text(node, "label", where) or name,
                definition=definition,
                inclusion=self.text(node, "inclusion", where),
                exclusion=self.text(node, "exclusion", where),
                indicators=self._indicators(node, where),
                examples=[t for t, _ in self.strings(node, "examples", where)],
                color=color,
                parent=self.optional_name(node, "parent", where),
                guid=guid,
                line=node.line,
            )
            out.append((code, node))
        return out

    def _indicators(self, node: _Y, where: str) -> Indicators:
        ind = Indicators()
        child = node.value.get("indicators")
        if child is None or child.value is None:
            self.warn(
                f"{where} has no indicators", node.value["name"].line if "name" in node.value else node.line,
                "the NLP assistant cannot suggest this code; add keywords, lemmas or phrases",
            )
            return ind
        if child.kind != "map":
            self.error(
                f"indicators of {where} must be a mapping", child.line,
                "write `indicators: {keywords: [...], lemmas: [...], phrases: [...], regex: [...]}`",
            )
            return ind
        self.keys(child, INDICATOR_KEYS, f"the indicators of {where}")
        for key in ("keywords", "lemmas", "phrases"):
            items = self.strings(child, key, f"the indicators of {where}")
            for term, line in items:
                if key != "phrases" and " " in term:
                    self.warn(
                        f"{key[:-1]} {term!r} of {where} has several words", line,
                        "keywords and lemmas are single words (matched by lemma and inside compounds); "
                        "list multi-word cues under `phrases`",
                    )
                if " " not in term and len(fold(term)) <= SHORT_INDICATOR:
                    self.warn(
                        f"indicator {term!r} of {where} is very short", line,
                        "indicators are matched inside compounds and fuzzily; use a phrase "
                        "(e.g. 'rom for' rather than 'rom')",
                    )
            setattr(ind, key, [t for t, _ in items])
        for pattern, line in self.strings(child, "regex", f"the indicators of {where}"):
            try:  # as the NLP assistant runs it: linear-time engine, case-insensitive
                compiled = compile_user_regex(pattern, self.path, line, flags=re.IGNORECASE, what="regex")
            except UserRegexError as exc:
                self.error(exc.message.replace(f"'{pattern}'", f"'{pattern}' in {where}", 1), line, exc.hint)
                continue
            if compiled.match(""):
                self.warn(f"regex {pattern!r} of {where} matches the empty string", line)
            ind.regex.append(pattern)
        if ind.is_empty():
            self.warn(
                f"{where} has an empty indicator list", child.line,
                "the NLP assistant cannot suggest this code; add keywords, lemmas or phrases",
            )
        return ind

    def _themes(self, root: _Y, cb_name: str) -> list[tuple[Theme, _Y]]:
        out = []
        for node in self._items(root, "themes", required=False):
            name = self.text(node, "name", f"the theme on line {node.line}", required=True)
            where = f"theme {name!r}" if name else f"the theme on line {node.line}"
            self.keys(node, THEME_KEYS, where)
            origin = self.text(node, "origin", where, required=True).strip()
            if origin and origin not in ORIGINS:
                guess = did_you_mean(origin, ORIGINS)
                self.error(
                    f"origin of {where} must be inductive or deductive, not {origin!r}",
                    node.value["origin"].line,
                    f"did you mean {guess!r}?" if guess else "inductive: from the data; deductive: from theory or the programme's aims",
                )
            status = self.text(node, "status", where).strip() or "candidate"
            if status not in STATUSES:
                guess = did_you_mean(status, STATUSES)
                self.error(
                    f"status of {where} must be one of {', '.join(STATUSES)}, not {status!r}",
                    node.value["status"].line, f"did you mean {guess!r}?" if guess else None,
                )
            guid, _ = self.guid(node, where, "theme", cb_name, name)
            theme = Theme(
                name=name,
                definition=self.text(node, "definition", where, required=True, empty="warning"),
                central_concept=self.text(node, "central_concept", where),
                origin=origin or "inductive",
                codes=[],
                parent=self.optional_name(node, "parent", where),
                status=status,
                guid=guid,
                opposite=self.optional_name(node, "opposite", where),
                line=node.line,
            )
            theme._code_lines = self.strings(node, "codes", where)  # type: ignore[attr-defined]
            theme.codes = [c for c, _ in theme._code_lines]  # type: ignore[attr-defined]
            out.append((theme, node))
        return out

    # cross-checks ----------------------------------------------------------------------------
    def _dupes(self, items: list[tuple[Any, _Y]], kind: str) -> None:
        seen: dict[str, tuple[str, int]] = {}
        for item, node in items:
            if not item.name:
                continue
            key = fold(item.name)
            if key in seen:
                first, line = seen[key]
                same = "the same name" if first == item.name else f"the same as {first!r} after case and accent folding"
                self.error(
                    f"duplicate {kind} name {item.name!r}: {same} (line {line})", node.line,
                    f"{kind} names must differ in more than case and accents (Støtte/Stotte); rename or merge",
                )
            else:
                seen[key] = (item.name, node.line)

    def _parents(self, items: list[tuple[Any, _Y]], kind: str) -> None:
        by_key = {fold(i.name): i for i, _ in items if i.name}
        node_of = {id(i): n for i, n in items}
        names = [i.name for i, _ in items]
        for item, node in items:
            if item.parent and fold(item.parent) not in by_key:
                guess = did_you_mean(item.parent, names)
                self.error(
                    f"parent {item.parent!r} of {kind} {item.name!r} is not a {kind} in this codebook",
                    node.value["parent"].line,
                    f"did you mean {guess!r}?" if guess else f"add the parent {kind} or remove `parent:`",
                )
        reported: set[str] = set()
        for item, node in items:
            chain = [item]
            current = item
            while current.parent and fold(current.parent) in by_key:
                current = by_key[fold(current.parent)]
                if current in chain:
                    cycle = chain[chain.index(current):]
                    key = min(fold(c.name) for c in cycle)
                    if key not in reported:
                        reported.add(key)
                        first = min(cycle, key=lambda c: node_of[id(c)].line)
                        path = " -> ".join([c.name for c in cycle] + [current.name])
                        self.error(
                            f"cycle in {kind} parents: {path}",
                            node_of[id(first)].value["parent"].line,
                            "a parent may not be its own ancestor; remove one `parent:`",
                        )
                    break
                chain.append(current)

    def _check_codes(self, codes: list[tuple[Code, _Y]]) -> None:
        self._dupes(codes, "code")
        self._parents(codes, "code")

    def _check_themes(self, themes: list[tuple[Theme, _Y]], codes: list[tuple[Code, _Y]]) -> None:
        self._dupes(themes, "theme")
        self._parents(themes, "theme")
        code_keys = {fold(c.name): c.name for c, _ in codes if c.name}
        for theme, node in themes:
            seen: set[str] = set()
            canonical = []
            for name, line in theme._code_lines:  # type: ignore[attr-defined]
                key = fold(name)
                if key not in code_keys:
                    guess = did_you_mean(name, code_keys.values())
                    self.error(
                        f"theme {theme.name!r} names unknown code {name!r}", line,
                        f"did you mean {guess!r}?" if guess else "add the code to `codes:` or remove it here",
                    )
                    canonical.append(name)
                    continue
                if key in seen:
                    self.warn(f"code {name!r} is listed twice in theme {theme.name!r}", line)
                    continue
                seen.add(key)
                canonical.append(code_keys[key])
            theme.codes = canonical
            del theme._code_lines  # type: ignore[attr-defined]
            if not theme.codes:
                self.warn(f"theme {theme.name!r} has no codes", node.line, "list its member codes under `codes:`")

    def _check_guids(self, codes: list[tuple[Code, _Y]], themes: list[tuple[Theme, _Y]]) -> None:
        seen: dict[str, tuple[str, int]] = {}
        missing = []
        for kind, items in (("code", codes), ("theme", themes)):
            for item, node in items:
                if "guid" not in node.value or node.value["guid"].value in (None, ""):
                    missing.append((kind, item, node))
                    continue
                key = _norm_guid(item.guid)
                if key in seen:
                    other, line = seen[key]
                    self.error(
                        f"guid of {kind} {item.name!r} is already used by {other} (line {line})",
                        node.value["guid"].line, "GUIDs must be unique; delete one and run `--fix-guids`",
                    )
                else:
                    seen[key] = (f"{kind} {item.name!r}", node.line)
        if missing:
            kind, item, node = missing[0]
            names = ", ".join(i.name for _, i, _ in missing[:5]) + (", ..." if len(missing) > 5 else "")
            self.warn(
                f"{len(missing)} code(s)/theme(s) have no guid ({names}); derived GUIDs are used",
                node.line,
                "run `rta codebook validate --fix-guids FILE` to write stable GUIDs into the file, "
                "so renames can be tracked and exports to NVivo/ATLAS.ti agree",
            )


def _round_trips(node: _Y) -> bool:
    """True when a scalar reads back as the text written (``2020`` does; ``1.10``, ``0x1F``
    and ``010`` do not: YAML turned them into other numbers)."""
    return isinstance(node.value, str) or node.raw is None or str(node.value) == node.raw


def _kind_name(node: _Y) -> str:
    return {"map": "mapping", "seq": "list"}.get(node.kind, "single value")


def _compose(text: str, parser: _Parser) -> _Y | None:
    try:
        node = compose_yaml_text(text)
    except AliasExpansionError as exc:
        mark = exc.problem_mark
        parser.error(exc.problem or str(exc), mark.line + 1 if mark else None, ALIAS_HINT)
        return None
    except RecursionError:
        parser.error("YAML nested too deeply", None, "flatten the nesting of lists and mappings")
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{problem} ({exc.context}"
            if exc.context_mark is not None and exc.problem_mark is not None:
                problem += f" on line {exc.context_mark.line + 1}"
            problem += ")"
        parser.error(
            f"YAML syntax error: {problem}", mark.line + 1 if mark else None,
            "check indentation, the ':' after each key, and quotes around text containing ': ' or '#'",
        )
        return None
    except yaml.YAMLError as exc:
        parser.error(f"YAML error: {exc}", None)
        return None
    if node is None:
        return None
    return _Composer(lambda msg, line, hint=None: parser.error(msg, line, hint)).build(node)


def parse_codebook(text: str, path: str | Path | None = None) -> tuple[Codebook | None, list[Problem]]:
    """Parse and validate codebook YAML text; returns the codebook (None when unreadable) and
    every problem found (errors and warnings), sorted by line."""
    parser = _Parser(path)
    root = _compose(text, parser)
    codebook = None
    if root is not None or not parser.problems:
        codebook = parser.parse(root)
    problems = sorted(parser.problems, key=lambda p: (p.line or 0, p.severity != "error"))
    if codebook is not None:
        codebook.path = Path(path) if path is not None else None
        codebook.sha256 = sha256_text(text)
        codebook.warnings = [p for p in problems if p.severity != "error"]
    return codebook, problems


def _read(path: str | Path) -> tuple[bytes | None, str | None, list[Problem]]:
    path = Path(path)
    if not path.exists():
        return None, None, [Problem("codebook file not found", path, None, "check the path; the default codebook is codebooks/tabell3.yaml")]
    if path.is_dir():
        return None, None, [Problem("is a folder, expected a codebook YAML file", path)]
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return data, None, [Problem(f"not valid UTF-8 ({exc.reason})", path, line, "save the file as UTF-8")]
    return data, text, []


def validate_codebook(path: str | Path) -> list[Problem]:
    """Every error and warning in the codebook file, each with path and line."""
    data, text, problems = _read(path)
    if text is None:
        return problems
    _, problems = parse_codebook(text, path)
    return problems


def load_codebook(path: str | Path) -> Codebook:
    """Load a codebook; raises :class:`RtaError` listing every problem if any is an error.
    Warnings stay on ``codebook.warnings``. ``sha256`` is of the file's bytes."""
    data, text, problems = _read(path)
    if text is None:
        p = problems[0]
        raise RtaError(p.message, path=p.path, line=p.line, hint=p.hint)
    codebook, problems = parse_codebook(text, path)
    errors = [p for p in problems if p.severity == "error"]
    if errors or codebook is None:
        raise RtaError(
            f"the codebook has {len(errors)} error(s)", path=path,
            hint="fix them (see `rta codebook validate FILE`)", problems=problems,
        )
    codebook.sha256 = sha256_bytes(data)  # type: ignore[arg-type]
    return codebook


# --------------------------------------------------------------------------------------------
# Writing


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def _code_dict(code: Code) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": code.name,
        "label": code.label or code.name,
        "definition": code.definition,
        "inclusion": code.inclusion,
        "exclusion": code.exclusion,
        "indicators": {k: list(getattr(code.indicators, k)) for k in INDICATOR_KEYS},
        "examples": list(code.examples),
        "color": code.color,
        "parent": code.parent,
        "guid": code.guid,
    }
    return d


def _theme_dict(theme: Theme) -> dict[str, Any]:
    return {
        "name": theme.name,
        "definition": theme.definition,
        "central_concept": theme.central_concept,
        "origin": theme.origin,
        "codes": list(theme.codes),
        "parent": theme.parent,
        "status": theme.status,
        "opposite": theme.opposite,
        "guid": theme.guid,
    }


def dump_codebook(codebook: Codebook) -> str:
    """YAML text for ``codebook`` in the schema's key order (used by QDC import and round
    trips). Loading the text gives back an equal codebook."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "name": codebook.name,
        "language": codebook.language or "nb",
        "description": codebook.description,
        "mapping_note": codebook.mapping_note,
        "codes": [_code_dict(c) for c in codebook.codes],
        "themes": [_theme_dict(t) for t in codebook.themes],
    }
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return f"# rta codebook (schema_version {SCHEMA_VERSION}); edit by hand, then `rta codebook validate`.\n{body}"


def fix_guids(path: str | Path) -> tuple[str, int]:
    """Text of the codebook file with a ``guid:`` line written under every code and theme that
    lacks one (comments and layout kept). Returns (new text, number added). The caller writes
    it atomically. Why: derived GUIDs change when a code is renamed; written ones do not."""
    data, text, problems = _read(path)
    if text is None:
        p = problems[0]
        raise RtaError(p.message, path=p.path, line=p.line, hint=p.hint)
    parser = _Parser(path)
    root = _compose(text, parser)
    if root is None or root.kind != "map":
        raise RtaError("cannot add GUIDs: the file does not parse", path=path, problems=parser.problems)
    lines = text.splitlines(keepends=True)
    nl = "\r\n" if "\r\n" in text else "\n"  # keep the file's line ends
    inserts: list[tuple[int, str]] = []  # (0-based line index to insert after, text)
    filled = 0  # new GUIDs are random uuid4: they stay stable because they are written down
    for key in ("codes", "themes"):
        seq = root.value.get(key)
        if seq is None or seq.kind != "seq":
            continue
        for item in seq.value:
            if item.kind != "map" or "name" not in item.value:
                continue
            if "guid" in item.value and item.value["guid"].value not in (None, ""):
                continue
            if item.flow:
                raise RtaError(
                    "cannot add a guid to a flow-style {...} entry", path=path, line=item.line,
                    hint="write the entry in block style, one key per line",
                )
            if "guid" in item.value:  # `guid:` present but empty: fill in place
                gline = item.key_lines["guid"] - 1
                indent = re.match(r"[\s-]*", lines[gline]).group(0)
                newline = nl if lines[gline].endswith("\n") else ""
                lines[gline] = f"{indent}guid: {uuid.uuid4()}{newline}"
                filled += 1
                continue
            name_line = item.key_lines["name"] - 1
            name_value = item.value["name"]
            if name_value.line - 1 != name_line:
                raise RtaError("cannot add a guid after a multi-line name", path=path, line=name_line + 1)
            column = len(lines[name_line]) - len(lines[name_line].lstrip(" -"))
            inserts.append((name_line, " " * column + f"guid: {uuid.uuid4()}{nl}"))
    for index, new in sorted(inserts, reverse=True):
        if not lines[index].endswith("\n"):
            lines[index] += nl
        lines.insert(index + 1, new)
    return "".join(lines), len(inserts) + filled


# --------------------------------------------------------------------------------------------
# Diff


@dataclass
class CodeRename:
    guid: str
    old: str
    new: str


@dataclass
class Reassignment:
    code: str
    old_themes: list[str]
    new_themes: list[str]


@dataclass
class FieldChange:
    code: str
    field: str
    old: Any
    new: Any


@dataclass
class CodebookDiff:
    """How a codebook changed between two versions. Codes are matched by GUID first (so a
    rename is a rename, not a removal plus an addition), then by folded name."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[CodeRename] = field(default_factory=list)
    reassigned: list[Reassignment] = field(default_factory=list)
    definition_changed: list[FieldChange] = field(default_factory=list)
    other_changes: list[FieldChange] = field(default_factory=list)
    themes_added: list[str] = field(default_factory=list)
    themes_removed: list[str] = field(default_factory=list)
    themes_renamed: list[CodeRename] = field(default_factory=list)
    theme_changes: list[FieldChange] = field(default_factory=list)
    old_sha256: str = ""
    new_sha256: str = ""

    def is_empty(self) -> bool:
        return not any(
            getattr(self, f) for f in (
                "added", "removed", "renamed", "reassigned", "definition_changed", "other_changes",
                "themes_added", "themes_removed", "themes_renamed", "theme_changes",
            )
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        """Human-readable summary, one change per line."""
        out: list[str] = []
        sections = [
            ("Codes added", [f"+ {n}" for n in self.added]),
            ("Codes removed", [f"- {n}" for n in self.removed]),
            ("Codes renamed (same GUID)", [f"~ {r.old} -> {r.new}" for r in self.renamed]),
            ("Codes re-assigned between themes", [
                f"~ {r.code}: {', '.join(r.old_themes) or '(no theme)'} -> {', '.join(r.new_themes) or '(no theme)'}"
                for r in self.reassigned
            ]),
            ("Definitions changed", [f"~ {c.code}" + _short_change(c) for c in self.definition_changed]),
            ("Other code changes", [f"~ {c.code}: {c.field}" + _short_change(c) for c in self.other_changes]),
            ("Themes added", [f"+ {n}" for n in self.themes_added]),
            ("Themes removed", [f"- {n}" for n in self.themes_removed]),
            ("Themes renamed (same GUID)", [f"~ {r.old} -> {r.new}" for r in self.themes_renamed]),
            ("Theme changes", [f"~ {c.code}: {c.field}" + _short_change(c) for c in self.theme_changes]),
        ]
        for title, rows in sections:
            if rows:
                out.append(f"{title} ({len(rows)}):")
                out.extend(f"  {r}" for r in rows)
        return "\n".join(out) if out else "No differences."


def _short_change(change: FieldChange) -> str:
    def short(v: Any) -> str:
        s = v if isinstance(v, str) else repr(v)
        s = " ".join(s.split())
        return s if len(s) <= 60 else s[:57] + "..."

    if isinstance(change.old, str) and isinstance(change.new, str) and (len(change.old) > 60 or "\n" in change.old):
        return ""
    return f": {short(change.old)} -> {short(change.new)}"


def _match(old_items: list, new_items: list) -> list[tuple[Any, Any]]:
    pairs = []
    new_by_guid = {_norm_guid(i.guid): i for i in new_items if i.guid}
    used: set[int] = set()
    rest = []
    for o in old_items:
        n = new_by_guid.get(_norm_guid(o.guid)) if o.guid else None
        if n is not None and id(n) not in used:
            pairs.append((o, n))
            used.add(id(n))
        else:
            rest.append(o)
    new_by_name = {fold(i.name): i for i in new_items if id(i) not in used}
    for o in rest:
        n = new_by_name.get(fold(o.name))
        if n is not None and id(n) not in used:
            pairs.append((o, n))
            used.add(id(n))
        else:
            pairs.append((o, None))
    pairs.extend((None, n) for n in new_items if id(n) not in used)
    return pairs


def diff_codebooks(old: Codebook, new: Codebook) -> CodebookDiff:
    """Codes added, removed, renamed (by GUID), re-assigned between themes and changed
    definitions; themes likewise. For the project store's codebook history and supervisors."""
    d = CodebookDiff(old_sha256=old.sha256, new_sha256=new.sha256)
    theme_pairs = _match(old.themes, new.themes)
    old_theme_to_new: dict[str, str] = {}
    for o, n in theme_pairs:
        if o is None:
            d.themes_added.append(n.name)
        elif n is None:
            d.themes_removed.append(o.name)
        else:
            old_theme_to_new[o.name] = n.name
            if o.name != n.name:
                d.themes_renamed.append(CodeRename(n.guid, o.name, n.name))
            for f in ("definition", "central_concept", "origin", "status", "parent", "opposite"):
                if getattr(o, f) != getattr(n, f):
                    d.theme_changes.append(FieldChange(n.name, f, getattr(o, f), getattr(n, f)))
    for o, n in _match(old.codes, new.codes):
        if o is None:
            d.added.append(n.name)
            continue
        if n is None:
            d.removed.append(o.name)
            continue
        if o.name != n.name:
            d.renamed.append(CodeRename(n.guid, o.name, n.name))
        if o.definition.strip() != n.definition.strip():
            d.definition_changed.append(FieldChange(n.name, "definition", o.definition, n.definition))
        for f in ("label", "inclusion", "exclusion", "color", "parent", "examples"):
            if getattr(o, f) != getattr(n, f):
                d.other_changes.append(FieldChange(n.name, f, getattr(o, f), getattr(n, f)))
        if asdict(o.indicators) != asdict(n.indicators):
            d.other_changes.append(FieldChange(n.name, "indicators", asdict(o.indicators), asdict(n.indicators)))
        old_themes = old.themes_of(o.name)
        new_themes = new.themes_of(n.name)
        if sorted(old_theme_to_new.get(t, f"\x00{t}") for t in old_themes) != sorted(new_themes):
            d.reassigned.append(Reassignment(n.name, old_themes, new_themes))
    for lst in (d.added, d.removed, d.themes_added, d.themes_removed):
        lst[:] = sort_no(lst)
    return d
