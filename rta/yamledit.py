"""Adding entries to a YAML file a person maintains (the codebook, the informant registry)
without rewriting it: comments, layout and key order stay as they were.

:func:`append_items` adds entries at the end of a top-level list (``codes:``, ``themes:``,
``roles:``, ``informants:``): after the list's last item when it is written in block style,
as a new block list where it was empty (``codes: []``) or missing. :func:`replace_item` and
:func:`remove_item` change one block-list entry found by a key's value. The caller parses the
result again before writing it (a change that would not parse is never written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml

from rta.errors import RtaError
from rta.yamlutil import compose_yaml_text


def dump_item(value: Any, flow: bool = False) -> str:
    """One list entry as YAML text at column 0 (``- name: ...`` and its indented lines; with
    ``flow``, ``- {code: S1, role: ukjent}`` on one line)."""
    from rta.codebook_yaml import _Dumper

    if flow:
        body = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, allow_unicode=True, width=10**6,
                         sort_keys=False).strip()
        return f"- {body}"
    return yaml.dump([value], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False).rstrip("\n")


def _root(text: str, path: Path) -> yaml.MappingNode:
    try:
        root = compose_yaml_text(text)
    except yaml.YAMLError as exc:
        raise RtaError(f"cannot read the file to add entries: {exc}", path=path) from None
    if not isinstance(root, yaml.MappingNode):
        raise RtaError("the file is not a mapping of keys", path=path)
    return root


def _entry(root: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | tuple[None, None]:
    for k, v in root.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None, None


def _dash_column(text: str, item: yaml.Node) -> int:
    """The column of the '-' that starts a block-list item."""
    i = item.start_mark.index - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or text[i] != "-":
        return max(item.start_mark.column - 2, 0)
    return i - (text.rfind("\n", 0, i) + 1)


def _item_end(text: str, item: yaml.Node) -> int:
    """Where the line after a block-list item's last content line begins."""
    end = item.end_mark.index
    # the mark may stand at the start of the next line (block mappings) or after trailing blank lines
    while end > 0 and text[end - 1] in " \t\r\n":
        end -= 1
    nl = text.find("\n", end)
    return len(text) if nl == -1 else nl + 1


def append_items(text: str, key: str, items: list[str], path: str | Path) -> str:
    """``text`` with ``items`` (each from :func:`dump_item`) added at the end of the top-level
    list ``key``."""
    if not items:
        return text
    path = Path(path)
    nl = "\r\n" if "\r\n" in text else "\n"
    root = _root(text, path)
    knode, node = _entry(root, key)

    def block(column: int) -> str:
        return "".join(" " * column + line + nl for item in items for line in item.split("\n"))

    if knode is None:
        sep = "" if not text or text.endswith("\n") else nl
        return text + sep + f"{key}:{nl}" + block(2)
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        last = node.value[-1]
        at = _item_end(text, last)
        prefix = "" if at == 0 or text[at - 1] == "\n" else nl
        return text[:at] + prefix + block(_dash_column(text, node.value[0])) + text[at:]
    if (isinstance(node, yaml.SequenceNode) and not node.value) or (
            isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
        # `codes: []` or `codes:` with nothing: the value becomes a block list under the key
        start, end = node.start_mark.index, node.end_mark.index
        if isinstance(node, yaml.ScalarNode) and node.value == "":
            start = end = knode.end_mark.index + 1  # after the ':'
        column = knode.start_mark.column + 2
        return text[:start].rstrip(" \t") + nl + block(column).rstrip("\r\n") + text[end:]
    raise RtaError(f"cannot add entries to `{key}`: it is not a list in block style", path=path,
                   line=node.start_mark.line + 1,
                   hint=f"write `{key}:` as a block list (one '- ' entry per line) and run the command again")


def _find(root: yaml.MappingNode, key: str, match: Callable[[yaml.MappingNode], bool]) -> yaml.Node | None:
    _, node = _entry(root, key)
    if not isinstance(node, yaml.SequenceNode) or node.flow_style:
        return None
    return next((i for i in node.value if isinstance(i, yaml.MappingNode) and match(i)), None)


def scalar_value(item: yaml.MappingNode, key: str) -> str | None:
    """The text of ``key`` in a mapping node (None when absent or not a scalar)."""
    _, v = _entry(item, key)
    return str(v.value) if isinstance(v, yaml.ScalarNode) else None


def replace_item(text: str, key: str, match: Callable[[yaml.MappingNode], bool], new_item: str | None,
                 path: str | Path) -> str:
    """``text`` with the first entry of the block list ``key`` that ``match`` accepts replaced by
    ``new_item`` (from :func:`dump_item`), or removed when ``new_item`` is None."""
    path = Path(path)
    nl = "\r\n" if "\r\n" in text else "\n"
    root = _root(text, path)
    item = _find(root, key, match)
    if item is None:
        raise RtaError(f"cannot find the entry to change in `{key}` (is it a block list?)", path=path)
    _, seq = _entry(root, key)
    column = _dash_column(text, seq.value[0])
    i = item.start_mark.index - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    begin = text.rfind("\n", 0, i) + 1  # the start of the item's '-' line
    end = _item_end(text, item)
    replacement = "" if new_item is None else "".join(" " * column + line + nl for line in new_item.split("\n"))
    return text[:begin] + replacement + text[end:]


def set_flow_list(text: str, key: str, values: list[str], path: str | Path) -> str:
    """``text`` with the top-level ``key`` set to the flow list ``values`` (``[I, Int, Moderator]``),
    replacing the value it had (or added at the end)."""
    path = Path(path)
    nl = "\r\n" if "\r\n" in text else "\n"
    flow = yaml.safe_dump(list(values), default_flow_style=True, allow_unicode=True, width=10**6).strip()
    root = _root(text, path)
    knode, node = _entry(root, key)
    if knode is None:
        sep = "" if not text or text.endswith("\n") else nl
        return text + sep + f"{key}: {flow}{nl}"
    if isinstance(node, yaml.ScalarNode) and node.value == "":
        at = knode.end_mark.index + 1
        return text[:at] + " " + flow + text[at:]
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        end = _item_end(text, node.value[-1])
        return text[:knode.end_mark.index + 1] + " " + flow + nl + text[end:]
    return text[:node.start_mark.index] + flow + text[node.end_mark.index:]
