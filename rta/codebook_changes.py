"""Changes to a project's codebook that the data must follow: renaming and merging codes.

A code is identified by its GUID; its name is what people (and the codings, themes and
suggestions in the store) use. When a code is renamed, everything that carries the old name
follows it, so a renamed code does not silently lose its codings or drop out of its themes:

* :func:`rename_code` (``rta codebook rename OLD NEW``) renames a code in the project's
  codebook file (GUID kept), imports the new codebook version and moves the data;
* :func:`merge_codes` (``rta codebook merge A --into B``) removes A from the codebook and moves
  its data to B (B keeps its GUID);
* :func:`import_codebook` imports a new codebook version into the store (what
  :func:`rta.coding.ensure_codebook_version` does when the file's content is new) and carries
  every GUID rename since the previous version through.

Every move happens inside the caller's store transaction and is logged: one
``codebook.renamed``/``codebook.merged`` event with the names, GUIDs, versions and counts, then
a ``coding.recoded`` event per coding (which ``rta audit`` replays), ``theme.unassigned`` /
``theme.assigned`` per theme and one ``suggestions.recoded`` per code for pending suggestions.
The file is edited in place (comments and layout kept) and written atomically last inside the
transaction, so a failure leaves both the file and the store as they were.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rta.codebook import norm_guid
from rta.errors import RtaError
from rta.fsutil import atomic_write_bytes, sha256_bytes
from rta.norsk import fold
from rta.store import Store, now
from rta.yamlutil import compose_yaml_text


@dataclass
class CodeMove:
    """What followed one code from ``old`` to ``new``: the ids moved, and the themes."""

    old: str
    new: str
    guid: str
    old_version: int | None
    version: int
    codings: list[int] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    suggestions: list[int] = field(default_factory=list)
    duplicate_suggestions: dict[int, int] = field(default_factory=dict)  # moved id -> the one it duplicates
    memos: int = 0  # memos on the old code name (they stay attached to that name)

    def counts(self) -> dict[str, int]:
        return {"codings": len(self.codings), "themes": len(self.themes), "suggestions": len(self.suggestions)}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CodebookChange:
    """The outcome of ``rta codebook rename`` or ``merge``."""

    kind: str  # 'renamed' | 'merged'
    path: Path
    old_version: int
    version: int
    move: CodeMove
    into_guid: str | None = None  # merge: B's GUID (kept)


# --------------------------------------------------------------------------------------------
# Importing a codebook version


def import_codebook(store: Store, path: str | Path, data: bytes, coder: str | None, previous: int | None = None,
                    via: str = "import", reason: str | None = None) -> int:
    """Import codebook file content ``data`` as a new version (its codes and a
    ``codebook.imported`` event) and carry every code renamed since ``previous`` (default: the
    latest version) through to codings, themes and suggestions. Returns the new version's id.
    Inside a transaction; the content must not be in the store yet."""
    return _import(store, path, data, coder, previous, via, reason)[0]


def _import(store: Store, path: str | Path, data: bytes, coder: str | None, previous: int | None, via: str,
            reason: str | None) -> tuple[int, list[CodeMove]]:
    from rta.codebook_yaml import parse_codebook

    text = data.decode("utf-8-sig")
    codebook, problems = parse_codebook(text, path)
    errors = [p for p in problems if p.severity == "error"]
    if codebook is None or errors:
        raise RtaError(f"the codebook has {len(errors)} error(s)", path=path, problems=problems,
                       hint="fix them (see `rta codebook validate FILE`)")
    digest = sha256_bytes(data)
    if previous is None:
        row = store.conn.execute("SELECT MAX(id) AS id FROM codebook_versions").fetchone()
        previous = row["id"] if row and row["id"] is not None else None
    cur = store.conn.execute(
        "INSERT INTO codebook_versions(name, sha256, content, source_path, imported, coder) VALUES (?,?,?,?,?,?)",
        (codebook.name, digest, text, str(path), now(), coder),
    )
    version = int(cur.lastrowid)
    store.conn.executemany(
        "INSERT INTO codes(codebook_version, name, guid, parent, definition, color) VALUES (?,?,?,?,?,?)",
        [(version, c.name, c.guid, c.parent, c.definition, c.color) for c in codebook.codes],
    )
    from rta.rowhash import code_rows_sha256

    store.log_event(
        "codebook.imported",
        {"version": version, "name": codebook.name, "sha256": digest, "codes": len(codebook.codes),
         "themes": len(codebook.themes), "previous": previous, "source": str(path),
         "codes_sha256": code_rows_sha256([[c.name, c.guid, c.parent, c.definition, c.color] for c in codebook.codes])},
        coder,
    )
    moves = carry_renames(store, previous, version, coder, via=via, reason=reason) if previous is not None else []
    return version, moves


def guid_renames(store: Store, old_version: int, new_version: int) -> list[tuple[str, str, str]]:
    """(old name, new name, GUID) of every code that has the same GUID in both stored
    versions under another name: what ``rta codebook diff`` calls a rename."""
    old = {norm_guid(r["guid"]): r["name"] for r in store.conn.execute(
        "SELECT name, guid FROM codes WHERE codebook_version = ? AND guid IS NOT NULL", (old_version,))}
    out = []
    for r in store.conn.execute("SELECT name, guid FROM codes WHERE codebook_version = ? AND guid IS NOT NULL "
                                "ORDER BY name", (new_version,)):
        before = old.get(norm_guid(r["guid"]))
        if before is not None and before != r["name"]:
            out.append((before, r["name"], norm_guid(r["guid"])))
    return out


def carry_renames(store: Store, old_version: int, new_version: int, coder: str | None, via: str = "import",
                  reason: str | None = None) -> list[CodeMove]:
    """Move the codings, theme memberships and pending suggestions of every code renamed
    between two stored versions (same GUID, other name) to the new name, and log each move.
    Renames are applied together, so two codes that swap names do not get mixed up."""
    renames = guid_renames(store, old_version, new_version)
    if not renames:
        return []
    return _move(store, [(old, new, guid, guid) for old, new, guid in renames], old_version, new_version, coder,
                 "codebook.renamed", via, reason)


# --------------------------------------------------------------------------------------------
# Moving the data of codes


def _codings_with_guid(store: Store, guid: str) -> list[Any]:
    """Active and orphaned codings whose code, in the codebook version they were coded with,
    has this GUID (removed codings are history and keep their code)."""
    rows = store.conn.execute(
        "SELECT c.id, c.transcript_id, c.code, c.codebook_version, k.guid FROM codings c "
        "LEFT JOIN codes k ON k.codebook_version = c.codebook_version AND k.name = c.code "
        "WHERE c.status IN ('active', 'orphaned') ORDER BY c.id").fetchall()
    return [r for r in rows if norm_guid(r["guid"]) == guid]


def _move(store: Store, moves: list[tuple[str, str, str, str]], old_version: int | None, version: int,
          coder: str | None, event: str, via: str, reason: str | None) -> list[CodeMove]:
    """Apply ``moves`` (old name, new name, GUID of the old code, GUID logged) together:
    codings found by GUID, theme memberships and pending suggestions by name. Logs ``event``
    per move, then each coding, theme and the suggestions."""
    results: list[CodeMove] = []
    rename_of = {old: new for old, new, _, _ in moves}
    coding_plan: dict[int, tuple[Any, str]] = {}
    for old, new, guid, logged_guid in moves:
        move = CodeMove(old, new, logged_guid, old_version, version)
        for r in _codings_with_guid(store, guid):
            if r["code"] != new or r["codebook_version"] != version:
                coding_plan[r["id"]] = (r, new)
                move.codings.append(r["id"])
        results.append(move)
    by_old = {m.old: m for m in results}

    # themes: the new set of codes of every theme that holds an old name
    theme_plan: list[tuple[Any, list[str], list[str], set[str]]] = []
    for t in store.conn.execute("SELECT id, name, opposite FROM themes ORDER BY id").fetchall():
        codes = [r[0] for r in store.conn.execute("SELECT code FROM theme_codes WHERE theme_id = ?", (t["id"],))]
        touched = {c for c in codes if c in rename_of}
        opposite = t["opposite"] in rename_of and not store.conn.execute(
            "SELECT 1 FROM themes WHERE name = ?", (t["opposite"],)).fetchone()
        if not touched and not opposite:
            continue
        after = list(dict.fromkeys(rename_of.get(c, c) for c in codes))
        removed = [c for c in codes if c not in after]
        added = [c for c in after if c not in codes]
        theme_plan.append((t, removed, added, touched | ({t["opposite"]} if opposite else set())))
        for old in touched | ({t["opposite"]} if opposite else set()):
            by_old[old].themes.append(t["name"])

    # pending suggestions: the same span, code and method may be suggested only once
    moving = {r["id"]: r for r in store.conn.execute(
        "SELECT * FROM suggestions WHERE status = 'suggested' AND code IN (%s) ORDER BY id"
        % ",".join("?" for _ in rename_of), list(rename_of)).fetchall()}
    final: dict[tuple, int] = {}
    duplicates: dict[int, int] = {}
    for sid, s in moving.items():
        key = (s["transcript_id"], s["revision"], s["start"], s["end"], rename_of[s["code"]], s["method"])
        other = store.conn.execute(
            "SELECT id FROM suggestions WHERE transcript_id=? AND revision=? AND start=? AND end=? AND code=? "
            "AND method=?", key).fetchone()
        if other is not None and other["id"] not in moving:
            duplicates[sid] = other["id"]
        elif key in final:
            duplicates[sid] = final[key]
        else:
            final[key] = sid
        by_old[s["code"]].suggestions.append(sid)
        if sid in duplicates:
            by_old[s["code"]].duplicate_suggestions[sid] = duplicates[sid]

    for move in results:
        move.memos = store.conn.execute(
            "SELECT COUNT(*) FROM memos WHERE target_kind = 'code' AND target = ?", (move.old,)).fetchone()[0]
        payload = {"old": move.old, "new": move.new, "guid": move.guid, "old_version": old_version,
                   "version": version, **move.counts(), "via": via, "reason": reason}
        if event == "codebook.merged":  # 'guid' is B's, which it keeps; A's goes with A
            payload["old_guid"] = next(g for o, _, g, _ in moves if o == move.old)
        store.log_event(event, payload, coder)

    verb = "merged into" if event == "codebook.merged" else "renamed to"
    why = ", ".join(f"code '{m.old}' {verb} '{m.new}'" for m in results) + f" (codebook version {version})"
    why += f": {reason}" if reason else ""
    for cid, (r, new) in sorted(coding_plan.items()):
        store.conn.execute("UPDATE codings SET code = ?, codebook_version = ? WHERE id = ?", (new, version, cid))
        store.log_event("coding.recoded", {
            "coding": cid, "transcript": r["transcript_id"], "old_code": r["code"], "code": new,
            "old_codebook_version": r["codebook_version"], "codebook_version": version, "reason": why, "via": event,
        }, coder)

    from rta.themes import theme_rows

    for t, removed, added, olds in theme_plan:
        if not (removed or added or t["opposite"] in olds):
            continue  # its codes swapped names: the same set, nothing changes
        store.conn.execute("UPDATE themes SET version = version + 1, updated = ? WHERE id = ?", (now(), t["id"]))
        if removed:
            store.conn.executemany("DELETE FROM theme_codes WHERE theme_id = ? AND code = ?",
                                   [(t["id"], c) for c in removed])
            store.log_event("theme.unassigned", {"ids": [t["id"]], "from_ids": [], "theme": t["name"],
                                                 "codes": removed, "reason": why, "via": event,
                                                 "after": theme_rows(store, [t["id"]])}, coder)
        if added:
            store.conn.executemany("INSERT OR IGNORE INTO theme_codes(theme_id, code) VALUES (?, ?)",
                                   [(t["id"], c) for c in added])
            store.log_event("theme.assigned", {"ids": [t["id"]], "from_ids": [], "theme": t["name"],
                                               "codes": added, "reason": why, "via": event,
                                               "after": theme_rows(store, [t["id"]])}, coder)
        if t["opposite"] in olds:
            new_opposite = rename_of[t["opposite"]]
            store.conn.execute("UPDATE themes SET opposite = ? WHERE id = ?", (new_opposite, t["id"]))
            store.log_event("theme.defined", {"ids": [t["id"]], "from_ids": [], "theme": t["name"],
                                              "old": {"opposite": t["opposite"]}, "new": {"opposite": new_opposite},
                                              "reason": why, "via": event, "after": theme_rows(store, [t["id"]])},
                            coder)

    if moving:
        # two steps, so codes that swap names never collide on the unique key on the way
        store.conn.executemany("UPDATE suggestions SET code = ? WHERE id = ?",
                               [(f"\x00moving {sid}", sid) for sid in moving])
        ts = now()
        for sid, s in moving.items():
            if sid in duplicates:  # the new code already has this suggestion: this one is decided
                store.conn.execute(
                    "UPDATE suggestions SET code = ?, status = 'rejected', decided_by = ?, decided_at = ? WHERE id = ?",
                    (f"{s['code']}", coder, ts, sid))
            else:
                store.conn.execute("UPDATE suggestions SET code = ? WHERE id = ?", (rename_of[s["code"]], sid))
        for move in results:
            if move.suggestions:
                store.log_event("suggestions.recoded", {
                    "suggestions": move.suggestions, "old_code": move.old, "code": move.new,
                    "duplicates": {str(k): v for k, v in move.duplicate_suggestions.items()},
                    "reason": why, "via": event,
                }, coder)
    return results


# --------------------------------------------------------------------------------------------
# Editing the codebook file in place


def _scalar(value: str) -> str:
    """``value`` as a YAML scalar that reads back the same in block and flow context."""
    return yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=10**6).strip()[1:-1]


class _Edits:
    """Text replacements by character index, applied from the end so indexes stay valid."""

    def __init__(self, text: str, path: Path) -> None:
        self.text = text
        self.path = path
        self.lines = text.splitlines(keepends=True)
        self.offsets = [0]
        for line in self.lines:
            self.offsets.append(self.offsets[-1] + len(line))
        self.nl = "\r\n" if "\r\n" in text else "\n"
        self.edits: list[tuple[int, int, str]] = []

    def replace(self, node: yaml.Node, value: str) -> None:
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            raise RtaError("cannot rewrite a name written as a block scalar (| or >)", path=self.path,
                           line=node.start_mark.line + 1, hint="write the name on one line and run the command again")
        self.edits.append((node.start_mark.index, node.end_mark.index, value))

    def delete_lines(self, first: int, last: int) -> None:
        """Delete lines ``first..last`` (0-based, inclusive), and the blank line after them if
        the deletion would leave it after another blank line or first under its key."""
        end = self.offsets[last + 1]
        above = self.lines[first - 1].split("#")[0].rstrip() if first else ""
        before_blank = not above or above.endswith(":")
        after_blank = last + 1 < len(self.lines) and not self.lines[last + 1].strip()
        if before_blank and after_blank:
            end = self.offsets[last + 2]
        self.edits.append((self.offsets[first], end, ""))

    def insert_line_after(self, line: int, content: str) -> None:
        pos = self.offsets[line + 1]
        prefix = "" if self.lines[line].endswith("\n") else self.nl
        self.edits.append((pos, pos, prefix + content + self.nl))

    def item_lines(self, node: yaml.Node) -> tuple[int, int]:
        """First and last line (0-based) of a block-sequence item: from its '-' to its last
        line with content (trailing blank and comment lines belong to what follows)."""
        i = node.start_mark.index - 1
        while i >= 0 and self.text[i] in " \t\r\n":
            i -= 1
        if i < 0 or self.text[i] != "-":
            raise RtaError("cannot edit this list item (not a block list item)", path=self.path,
                           line=node.start_mark.line + 1, hint="write the list in block style, one '- ' item per line")
        first = self.text.count("\n", 0, i)
        last = node.end_mark.line
        if node.end_mark.column == 0 or not self.text[self.offsets[last]:node.end_mark.index].strip():
            last -= 1
        while last > first and (not self.lines[last].strip() or self.lines[last].lstrip().startswith("#")):
            last -= 1
        return first, max(first, last)

    def result(self) -> str:
        out = self.text
        previous_start = None
        for start, end, value in sorted(self.edits, key=lambda e: (e[0], e[1]), reverse=True):
            if previous_start is not None and end > previous_start:
                raise RtaError("overlapping edits to the codebook (please report this as a bug)", path=self.path)
            out = out[:start] + value + out[end:]
            previous_start = start
        return out


def _entries(root: yaml.Node, key: str) -> list[yaml.MappingNode]:
    for k, v in root.value:
        if k.value == key and isinstance(v, yaml.SequenceNode):
            return [item for item in v.value if isinstance(item, yaml.MappingNode)]
    return []


def _get(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | tuple[None, None]:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None, None


def _is(node: yaml.Node | None, name: str) -> bool:
    """Whether ``node`` names ``name`` the way the codebook parser matches names (folded)."""
    return isinstance(node, yaml.ScalarNode) and fold(str(node.value).strip()) == fold(name)


def _compose(text: str, path: Path) -> yaml.MappingNode:
    try:
        root = compose_yaml_text(text)  # the one YAML reader with rta's limits
    except yaml.YAMLError as exc:  # load_codebook read it a moment ago, so this is unexpected
        raise RtaError(f"cannot read the codebook: {exc}", path=path) from None
    if not isinstance(root, yaml.MappingNode):
        raise RtaError("the codebook is not a mapping", path=path)
    return root


def _remove_from_sequence(edits: _Edits, seq: yaml.SequenceNode, index: int) -> None:
    item = seq.value[index]
    if not seq.flow_style:
        first, last = edits.item_lines(item)
        edits.delete_lines(first, last)
    elif index + 1 < len(seq.value):
        edits.edits.append((item.start_mark.index, seq.value[index + 1].start_mark.index, ""))
    elif index > 0:
        edits.edits.append((seq.value[index - 1].end_mark.index, item.end_mark.index, ""))
    else:
        edits.edits.append((item.start_mark.index, item.end_mark.index, ""))


def _theme_code_edits(edits: _Edits, root: yaml.MappingNode, old: str, new: str) -> None:
    """Theme member lists: ``old`` becomes ``new``, or goes when the theme already holds ``new``;
    an ``opposite:`` naming the code (and no theme) follows it."""
    theme_names = {fold(n.value) for t in _entries(root, "themes") for k, n in [_get(t, "name")]
                   if isinstance(n, yaml.ScalarNode)}
    for theme in _entries(root, "themes"):
        _, codes = _get(theme, "codes")
        if isinstance(codes, yaml.SequenceNode):
            items = codes.value
            has_new = any(_is(i, new) for i in items) and fold(new) != fold(old)
            for index, item in enumerate(items):
                if _is(item, old):
                    if has_new:
                        _remove_from_sequence(edits, codes, index)
                    else:
                        edits.replace(item, _scalar(new))
                        has_new = True
        _, opposite = _get(theme, "opposite")
        if _is(opposite, old) and fold(old) not in theme_names:
            edits.replace(opposite, _scalar(new))


def _renamed_text(text: str, path: Path, old: Any, new: str) -> str:
    root = _compose(text, path)
    edits = _Edits(text, path)
    for entry in _entries(root, "codes"):
        _, name = _get(entry, "name")
        _, parent = _get(entry, "parent")
        if _is(name, old.name):
            if entry.flow_style:
                raise RtaError("cannot rename a code written as a flow-style {...} entry", path=path,
                               line=entry.start_mark.line + 1, hint="write the entry in block style, one key per line")
            edits.replace(name, _scalar(new))
            gkey, guid = _get(entry, "guid")
            if guid is None:  # derived GUIDs follow the name: write the old one down so the GUID stays
                edits.insert_line_after(name.end_mark.line, " " * _get(entry, "name")[0].start_mark.column
                                        + f"guid: {old.guid}")
            elif not str(guid.value or "").strip():
                line = gkey.start_mark.line
                indent = re.match(r"[\s-]*", edits.lines[line]).group(0)
                edits.edits.append((edits.offsets[line], edits.offsets[line] + len(edits.lines[line].rstrip("\r\n")),
                                    f"{indent}guid: {old.guid}"))
        elif _is(parent, old.name):
            edits.replace(parent, _scalar(new))
    _theme_code_edits(edits, root, old.name, new)
    return edits.result()


def _merged_text(text: str, path: Path, source: Any, target: Any) -> str:
    root = _compose(text, path)
    edits = _Edits(text, path)
    codes_seq = next((v for k, v in root.value if k.value == "codes"), None)
    for index, entry in enumerate(codes_seq.value if isinstance(codes_seq, yaml.SequenceNode) else []):
        if not isinstance(entry, yaml.MappingNode):
            continue
        _, name = _get(entry, "name")
        _, parent = _get(entry, "parent")
        if _is(name, source.name):
            if codes_seq.flow_style:
                raise RtaError("cannot remove a code from a flow-style [...] code list", path=path,
                               line=codes_seq.start_mark.line + 1, hint="write `codes:` in block style")
            _remove_from_sequence(edits, codes_seq, index)
        elif _is(parent, source.name):
            # a child of A becomes a child of B; B itself takes A's parent (never its own)
            is_target = _is(name, target.name)
            edits.replace(parent, _scalar(source.parent) if is_target and source.parent else
                          ("null" if is_target else _scalar(target.name)))
    _theme_code_edits(edits, root, source.name, target.name)
    return edits.result()


# --------------------------------------------------------------------------------------------
# The two commands


def _load(path: Path) -> tuple[bytes, str, Any]:
    from rta.codebook_yaml import load_codebook

    codebook = load_codebook(path)  # refuses an invalid file, listing every problem
    data = path.read_bytes()
    return data, data.decode("utf-8-sig"), codebook


def _encode(text: str, like: bytes) -> bytes:
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if like.startswith(b"\xef\xbb\xbf") else data


def _check_new_text(text: str, path: Path) -> Any:
    from rta.codebook_yaml import parse_codebook

    codebook, problems = parse_codebook(text, path)
    errors = [p for p in problems if p.severity == "error"]
    if codebook is None or errors:
        raise RtaError("the changed codebook would not be valid; nothing was changed", path=path, problems=errors,
                       hint="fix the codebook by hand (rta codebook validate) and run the command again")
    return codebook


def _store_version(store: Store, path: Path, data: bytes, coder: str | None, previous: int, via: str,
                   reason: str | None) -> tuple[int, list[CodeMove]]:
    """The new content as a codebook version (imported, or found when the store already has
    it, e.g. after renaming back), with renames since ``previous`` carried through."""
    row = store.conn.execute("SELECT id FROM codebook_versions WHERE sha256 = ?", (sha256_bytes(data),)).fetchone()
    if row is None:
        return _import(store, path, data, coder, previous, via, reason)
    return int(row["id"]), carry_renames(store, previous, int(row["id"]), coder, via=via, reason=reason)


def _write_with(store: Store, path: Path, change: Any) -> Any:
    """Run ``change()`` in one store transaction; it returns (result, new bytes, old bytes).
    The file is written last inside the transaction and put back if the commit fails."""
    written: bytes | None = None
    try:
        with store.transaction():
            result, data, before = change()
            atomic_write_bytes(path, data)
            written = before
        return result
    except BaseException:
        if written is not None:
            atomic_write_bytes(path, written)
        raise


def rename_code(store: Store, codebook_path: str | Path, old: str, new: str, coder: str | None,
                reason: str | None = None) -> CodebookChange:
    """Rename code ``old`` to ``new`` in the project's codebook (its GUID stays), import the new
    version and move the code's codings, theme memberships and pending suggestions to the new
    name, all in one transaction."""
    from rta.coding import ensure_codebook_version

    path = Path(codebook_path)
    new = " ".join((new or "").split())
    if not new:
        raise RtaError("the new code name is empty", hint="rta codebook rename OLD NEW")

    def change() -> tuple[CodebookChange, bytes, bytes]:
        previous = ensure_codebook_version(store, path, coder)
        before, text, codebook = _load(path)
        code = codebook.code(old)  # did-you-mean when unknown
        if new == code.name:
            raise RtaError(f"code '{code.name}' already has that name", hint="give another NEW name")
        clash = next((c for c in codebook.codes if fold(c.name) == fold(new) and c is not code), None)
        if clash is not None:
            raise RtaError(f"a code called '{clash.name}' already exists", path=path,
                           hint=f"to fold '{code.name}' into it, run: rta codebook merge '{code.name}' --into "
                                f"'{clash.name}'")
        new_text = _renamed_text(text, path, code, new)
        changed = _check_new_text(new_text, path)
        renamed = changed.code_by_guid(code.guid)
        if renamed is None or renamed.name != new:  # pragma: no cover - a bug in the editing above
            raise RtaError("renaming the code in the file went wrong; nothing was changed", path=path,
                           hint="please report this as a bug with the codebook attached")
        data = _encode(new_text, before)
        version, moves = _store_version(store, path, data, coder, previous, "rename", reason)
        move = next((m for m in moves if m.old == code.name),
                    CodeMove(code.name, new, norm_guid(code.guid), previous, version))
        return CodebookChange("renamed", path, previous, version, move), data, before

    return _write_with(store, path, change)


def merge_codes(store: Store, codebook_path: str | Path, source: str, into: str, coder: str | None,
                reason: str | None = None) -> CodebookChange:
    """Merge code ``source`` into code ``into``: ``source`` leaves the codebook (and its themes'
    lists), ``into`` keeps its GUID and receives ``source``'s codings, theme memberships and
    pending suggestions. One transaction; logged as ``codebook.merged``."""
    from rta.coding import ensure_codebook_version

    path = Path(codebook_path)

    def change() -> tuple[CodebookChange, bytes, bytes]:
        previous = ensure_codebook_version(store, path, coder)
        before, text, codebook = _load(path)
        a = codebook.code(source)
        b = codebook.code(into)
        if a is b:
            raise RtaError(f"cannot merge code '{a.name}' into itself", hint="rta codebook merge A --into B, with A and B different")
        new_text = _merged_text(text, path, a, b)
        changed = _check_new_text(new_text, path)
        kept = changed.code_by_guid(b.guid)
        if changed.has_code(a.name) or kept is None or kept.name != b.name:  # pragma: no cover - a bug
            raise RtaError("merging the codes in the file went wrong; nothing was changed", path=path,
                           hint="please report this as a bug with the codebook attached")
        data = _encode(new_text, before)
        version, _ = _store_version(store, path, data, coder, previous, "merge", reason)
        move = _move(store, [(a.name, b.name, norm_guid(a.guid), norm_guid(b.guid))], previous, version, coder,
                     "codebook.merged", "merge", reason)[0]
        return CodebookChange("merged", path, previous, version, move, into_guid=norm_guid(b.guid)), data, before

    return _write_with(store, path, change)
