"""Merging another tool's codebook (a ``.qde``'s ``<CodeBook>`` and ``<Sets>``) into the
project's, for ``rta import-qdpx``.

Rules (why: codings are attached to codes by name in the store, so a code must never silently
become another one):

* a code whose GUID the project's codebook has **is** that code (the project's name is kept);
* a code with no GUID match takes the project code of the same name only when that code has no
  GUID of its own written down (its GUID is derived from its name) or the other file gives the
  code no GUID, and no other code of the file has that name;
* any other code is new; when its name is taken (same name, another GUID) it is **kept apart**
  under its parent path (``Skole/programmering``; a top-level code under the other project's
  name), and the conflict is listed;
* nesting becomes ``parent``, ``isCodable="false"`` codes come along as the parent codes
  (categories) they are, ``Description`` is the definition, colours stay;
* ``Sets`` become themes (their ``MemberCode`` the theme's codes); a set whose GUID the project
  has keeps the project's theme; a set with a project theme's name but another GUID is kept
  apart (``Navn (Prosjekt)``).

The new codes and themes are appended to the codebook file's lists (:mod:`rta.yamledit`:
comments and layout stay), and the result is parsed again before anything uses it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.codebook import Code, Codebook, Theme, derive_guid
from rta.codebook_yaml import _code_dict, _theme_dict, parse_codebook
from rta.errors import RtaError
from rta.norsk import fold


def _norm(guid: str | None) -> str:
    return (guid or "").strip().strip("{}").lower()


@dataclass
class CodebookMerge:
    """The merged codebook's file text (None: nothing new), what was added and why."""

    text: str | None
    by_guid: dict[str, str]  # normalised GUID as the .qde writes it -> the project's code name
    theme_by_guid: dict[str, str] = field(default_factory=dict)  # a Set's GUID -> the project's theme name
    codes_added: list[Code] = field(default_factory=list)
    themes_added: list[Theme] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def code_for(self, guid: str | None) -> str | None:
        """The project code a ``CodeRef/@targetGUID`` names (None: no code has it)."""
        return self.by_guid.get(_norm(guid))


def _raw_codes(root: ET.Element) -> list[tuple[str, str]]:
    """(normalised GUID, name) of every ``<Code>`` of the CodeBook, in document order (the order
    :func:`rta.qdc.read_qdc` reads them in)."""
    out: list[tuple[str, str]] = []

    def walk(el: ET.Element) -> None:
        for child in el:
            tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
            if tag == "Code":
                out.append((_norm(child.get("guid")), (child.get("name") or "").strip()))
                walk(child)
            elif tag in ("CodeBook", "Codes"):
                walk(child)

    walk(root)
    return out


def merge_codebooks(current: Codebook, current_text: str, incoming: Any, root: ET.Element, label: str,
                    path: str | Path) -> CodebookMerge:
    """Merge ``incoming`` (a :class:`rta.qdc.QdcImport` of the .qde, or None when it has no
    CodeBook) into ``current`` (the project's codebook, whose file text is ``current_text``)."""
    from rta.yamledit import append_items, dump_item

    by_guid = {_norm(c.guid): c.name for c in current.codes}
    merge = CodebookMerge(None, dict(by_guid), {_norm(t.guid): t.name for t in current.themes})
    if incoming is None:
        return merge
    merge.notes.extend(n for n in incoming.notes if "not carried over" not in n and "no description" not in n
                       and "no indicators" not in n)
    raw = _raw_codes(root)
    codes = incoming.codebook.codes
    if len(raw) != len(codes):  # pragma: no cover - read_qdc reads every <Code> in this order
        raise RtaError("reading the file's codebook went wrong (please report this as a bug)", path=path)
    by_fold = {fold(c.name): c for c in current.codes}
    derived = {fold(c.name) for c in current.codes if _norm(c.guid) == _norm(derive_guid(current.name, "code", c.name))}
    base_count: dict[str, int] = {}
    for _, name in raw:
        base_count[fold(name)] = base_count.get(fold(name), 0) + 1
    used = set(by_fold)
    guids_used = {_norm(c.guid) for c in current.codes} | {_norm(t.guid) for t in current.themes}
    final: dict[str, str] = {}  # incoming (read_qdc) name -> name in the merged codebook
    for (raw_guid, raw_name), code in zip(raw, codes):
        name = None
        if _norm(code.guid) in by_guid and raw_guid == _norm(code.guid):
            name = by_guid[_norm(code.guid)]
            if fold(name) != fold(raw_name):
                merge.notes.append(f"code '{raw_name}' is the project's code '{name}' (same GUID): the project's "
                                   "name is kept")
        elif fold(raw_name) in by_fold and base_count.get(fold(raw_name)) == 1 and (
                fold(raw_name) in derived or raw_guid != _norm(code.guid)):
            name = by_fold[fold(raw_name)].name
        if name is not None:
            final[code.name] = name
            if raw_guid:
                merge.by_guid[raw_guid] = name
            continue
        parent = final.get(code.parent) if code.parent else None
        name = code.name
        if fold(name) in used:
            taken = by_fold.get(fold(name))
            base = raw_name or name
            name = f"{parent}/{base}" if parent else f"{label}/{base}"
            n = 2
            while fold(name) in used:
                name = f"{parent or label}/{base} ({n})"
                n += 1
            if taken is not None:
                merge.conflicts.append(
                    f"code '{base}' (GUID {code.guid}) has the name of the project's code '{taken.name}' (GUID "
                    f"{_norm(taken.guid)}): kept apart as '{name}' (if they are one code: rta codebook merge "
                    f"'{name}' --into '{taken.name}')")
        used.add(fold(name))
        guid = _norm(code.guid)
        if guid in guids_used:
            guid = derive_guid(label, "code", name)
        guids_used.add(guid)
        new = Code(name=name, label=code.label if code.label and code.label != code.name else name,
                   definition=code.definition, inclusion=code.inclusion, exclusion=code.exclusion,
                   indicators=code.indicators, examples=list(code.examples), color=code.color, parent=parent,
                   guid=guid)
        merge.codes_added.append(new)
        final[code.name] = name
        if raw_guid:
            merge.by_guid[raw_guid] = name
        merge.by_guid[guid] = name

    theme_guids = {_norm(t.guid): t for t in current.themes}
    theme_names = {fold(t.name): t for t in current.themes}
    for theme in incoming.codebook.themes:
        members = [final[c] for c in theme.codes if c in final]
        if _norm(theme.guid) in theme_guids:
            kept = theme_guids[_norm(theme.guid)]
            extra = [m for m in members if fold(m) not in {fold(c) for c in kept.codes}]
            if extra:
                merge.notes.append(f"theme '{kept.name}' is the project's (same GUID) and is kept as it is: "
                                   f"{len(extra)} code(s) the file puts in it are not added ({', '.join(extra)})")
            merge.theme_by_guid[_norm(theme.guid)] = kept.name
            continue
        name = theme.name
        if fold(name) in theme_names:
            base, n = name, 2
            name = f"{base} ({label})"
            while fold(name) in theme_names:
                name = f"{base} ({label} {n})"
                n += 1
            merge.conflicts.append(f"set '{base}' has the name of the project's theme '{theme_names[fold(base)].name}' "
                                   f"but another GUID: kept apart as theme '{name}'")
        new_theme = Theme(name=name, definition=theme.definition, central_concept=theme.central_concept,
                          origin=theme.origin, codes=members, status=theme.status, guid=_norm(theme.guid),
                          parent=theme.parent if theme.parent and fold(theme.parent) in theme_names else None,
                          opposite=theme.opposite if theme.opposite and (
                              fold(theme.opposite) in theme_names or fold(theme.opposite) in used) else None)
        if _norm(new_theme.guid) in guids_used:
            new_theme.guid = derive_guid(label, "theme", name)
        guids_used.add(_norm(new_theme.guid))
        theme_names[fold(name)] = new_theme
        merge.theme_by_guid[_norm(theme.guid)] = name
        merge.themes_added.append(new_theme)

    if not merge.codes_added and not merge.themes_added:
        return merge
    text = append_items(current_text, "codes", [dump_item(_code_dict(c)) for c in merge.codes_added], path)
    text = append_items(text, "themes", [dump_item(_theme_dict(t)) for t in merge.themes_added], path)
    merged, problems = parse_codebook(text, path)
    errors = [p for p in problems if p.severity == "error"]
    if merged is None or errors:
        raise RtaError("the project's codebook with the file's codes added would not be valid; nothing was changed",
                       path=path, problems=errors, hint="fix the codebook (rta codebook validate) and import again")
    merge.text = text
    return merge
