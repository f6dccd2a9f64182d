"""YAML reading that keeps line numbers, so errors can say ``file:line``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rta.errors import RtaError

LINE_KEY = "__line__"


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records each mapping's 1-based start line under ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Keep dates as strings: front matter `date: 2021-03-12` should round-trip as written.
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def load_yaml_text(text: str, path: str | Path | None = None, line_offset: int = 0) -> Any:
    """Parse YAML; mappings carry ``__line__``. Syntax errors become :class:`RtaError` with
    the file and the line (``line_offset`` shifts lines when the YAML is embedded, e.g. front
    matter)."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 + line_offset if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise RtaError(
            f"YAML syntax error: {problem}",
            path=path,
            line=line,
            hint="check indentation, quoting and the ':' after each key",
        ) from None


def load_yaml_file(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise RtaError("file not found", path=path, hint="check the path")
    if path.is_dir():
        raise RtaError("is a directory, expected a YAML file", path=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RtaError(f"not valid UTF-8 ({exc.reason})", path=path, hint="save the file as UTF-8") from None
    return load_yaml_text(text, path)


def strip_lines(value: Any) -> Any:
    """A copy of ``value`` without the ``__line__`` bookkeeping keys."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value
