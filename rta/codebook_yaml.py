"""The codebook's YAML file: read with line numbers, validated, written back.

A codebook lives in a YAML file a person can read and edit (``codebooks/tabell3.yaml`` is the
default). This module reads it keeping every value's line (so every problem names
``file:line``), validates it into the model of :mod:`rta.codebook`, and writes it: a whole
codebook (:func:`dump_codebook`) or GUIDs added in place, comments and layout kept
(:func:`fix_guids`).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rta.codebook import ORIGINS, STATUSES, Code, Codebook, Indicators, Theme, derive_guid, did_you_mean, norm_guid
from rta.errors import Problem, RtaError
from rta.fsutil import sha256_bytes, sha256_text
from rta.norsk import fold
from rta.userregex import UserRegexError, compile_user_regex
from rta.yamlutil import ALIAS_HINT, AliasExpansionError, compose_yaml_text

SCHEMA_VERSION = 1
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

_GUID_RE = re.compile(
    r"^(\{)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?(1)\})$"
)
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
#: Single-word indicators this short hit too much once matched inside compounds and fuzzily
#: ("rom" in "romantisk", "tid" in "tidligere").
SHORT_INDICATOR = 3


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
        return norm_guid(raw), True

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
                key = norm_guid(item.guid)
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
