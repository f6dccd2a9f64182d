"""YAML reading that keeps line numbers, so errors can say ``file:line``.

Every YAML file rta reads (codebooks, informant registries, transcript front matter, YAML keys)
goes through :class:`CheckedLoader`, which refuses anchors and aliases that would expand into a
huge document (a "billion laughs" alias bomb hangs any reader that walks the result) and
recursive aliases, before anything is constructed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rta.errors import RtaError

LINE_KEY = "__line__"

#: How many nodes alias re-use may add to a document beyond the nodes written out. Alias-free
#: documents never reach it; a few anchors for shared lists stay far below it.
ALIAS_EXPANSION_LIMIT = 100_000
ALIAS_HINT = "remove anchors (&name) and aliases (*name): write the values out in full"


class AliasExpansionError(yaml.composer.ComposerError):
    """Aliases that expand beyond :data:`ALIAS_EXPANSION_LIMIT` nodes, or refer to themselves."""


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def check_alias_expansion(root: yaml.Node | None, limit: int = ALIAS_EXPANSION_LIMIT) -> None:
    """Raise :class:`AliasExpansionError` when the composed node graph, expanded as a tree, has
    more than ``limit`` nodes beyond its distinct ones, or has a cycle. Linear in the number of
    distinct nodes (sizes are memoised per node), so a bomb is refused without expanding it."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    culprit: yaml.Node | None = None
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            open_nodes.discard(nid)
            kids = _children(node)
            sizes[nid] = 1 + sum(sizes[id(k)] for k in kids)
            if culprit is None and sizes[nid] > limit and _reuses(kids):
                culprit = node
            continue
        if nid in sizes:
            continue
        if nid in open_nodes:
            raise AliasExpansionError(
                None, None, "a YAML alias refers to the value that contains it (recursive alias)",
                node.start_mark,
            )
        open_nodes.add(nid)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in sizes)
    if sizes[id(root)] - len(sizes) > limit:
        where = culprit if culprit is not None else root
        raise AliasExpansionError(
            None, None, f"YAML aliases expand beyond {limit} nodes; remove anchors/aliases", where.start_mark,
        )


def _reuses(kids: list[yaml.Node]) -> bool:
    """True when some child is shared (an alias of an anchored value)."""
    return len({id(k) for k in kids}) < len(kids) or any(getattr(k, "_rta_shared", False) for k in kids)


class CheckedLoader(yaml.SafeLoader):
    """SafeLoader that checks alias expansion and records which nodes an alias re-uses."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if node is not None:
                try:
                    node._rta_shared = True  # type: ignore[attr-defined]
                except AttributeError:
                    pass
            return node
        return super().compose_node(parent, index)

    def compose_document(self) -> yaml.Node | None:  # type: ignore[override]
        node = super().compose_document()
        check_alias_expansion(node)
        return node


class _LineLoader(CheckedLoader):
    """Checked loader that records each mapping's 1-based start line under ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a {type(key).__name__} cannot be a key; keys are single values", key_node.start_mark,
            ) from None
        mapping[key] = loader.construct_object(value_node, deep=True)
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Keep dates as strings: front matter `date: 2021-03-12` should round-trip as written.
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def compose_yaml_text(text: str) -> yaml.Node | None:
    """The node tree of one YAML document (marks intact), alias bombs refused. Raises
    ``yaml.YAMLError`` (an :class:`AliasExpansionError` for a bomb) or ``RecursionError``."""
    return yaml.compose(text, Loader=CheckedLoader)


def load_yaml_text(text: str, path: str | Path | None = None, line_offset: int = 0) -> Any:
    """Parse YAML; mappings carry ``__line__``. Syntax errors become :class:`RtaError` with
    the file and the line (``line_offset`` shifts lines when the YAML is embedded, e.g. front
    matter)."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except AliasExpansionError as exc:
        raise RtaError(exc.problem or str(exc), path=path, line=_mark_line(exc, line_offset), hint=ALIAS_HINT) from None
    except RecursionError:
        raise RtaError("YAML nested too deeply", path=path, hint="flatten the nesting of lists and mappings") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise RtaError(
            f"YAML syntax error: {problem}",
            path=path,
            line=_mark_line(exc, line_offset),
            hint="check indentation, quoting and the ':' after each key",
        ) from None


def _mark_line(exc: yaml.YAMLError, line_offset: int = 0) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 + line_offset if mark is not None else None


def read_text_file(path: str | Path, what: str = "file") -> str:
    """A text file as UTF-8 (a BOM is dropped); RtaError naming the file (and the line of the
    first bad byte) when it is missing, a folder or not UTF-8."""
    path = Path(path)
    if not path.exists():
        raise RtaError(f"{what} not found", path=path, hint="check the path")
    if path.is_dir():
        raise RtaError(f"is a directory, expected a {what}", path=path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RtaError(f"not valid UTF-8 ({exc.reason})", path=path, line=line, hint="save the file as UTF-8") from None


def load_yaml_file(path: str | Path) -> Any:
    return load_yaml_text(read_text_file(path, "YAML file"), path)


def strip_lines(value: Any) -> Any:
    """A copy of ``value`` without the ``__line__`` bookkeeping keys."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value
