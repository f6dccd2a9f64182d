"""``rta informants rename OLD NEW``: give an informant another code, or fold it into one.

Speakers brought in from another tool are registered under their labels (``Speaker 1``, role
``ukjent``: :mod:`rta.speakers`). Renaming maps them to the study's codes: the registry entry
becomes ``NEW`` (its role from NEW's role pattern, e.g. ``S1`` -> skoleeier in kommune 1), with
``OLD`` kept as an alias so the transcripts' label still names it; when ``NEW`` is already an
informant, ``OLD`` (and its aliases) become aliases of ``NEW`` and its entry goes.

The transcripts' text does not change, so codings keep their spans and turns: the turns of every
revision spoken by ``OLD`` are attributed to ``NEW`` (informant, role, group), and one logged
``informant.renamed`` event carries each changed revision's new turn hash, which
:mod:`rta.replay` makes the one the audit expects. The registry file is written only after the
store commits (:class:`rta.fsutil.StagedWrites`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rta.errors import RtaError
from rta.informants import Informant, load_registry_text, squash


@dataclass
class InformantRename:
    """What ``rta informants rename`` changed."""

    old: str
    new: str
    merged: bool  # NEW existed: OLD became its alias
    role: str
    group: str | None
    revisions: int
    turns: int
    codings: int


def _is(code: str):
    from rta.yamledit import scalar_value

    return lambda item: squash(scalar_value(item, "code") or "") == squash(code)


def rename_informant(project: Any, old: str, new: str, coder: str | None = None) -> InformantRename:
    """Rename informant ``old`` to ``new`` (or fold it into informant ``new``) in the registry
    and in every turn it speaks, in one transaction (see the module doc)."""
    from rta.codebook import did_you_mean
    from rta.fsutil import StagedWrites
    from rta.rowhash import TURN_COLUMNS, turns_sha256
    from rta.yamledit import dump_item, replace_item

    registry = project.registry
    who = project.coder(coder)
    inf = registry.informant(old)
    if inf is None:
        guess = did_you_mean(old, [i.code for i in registry.informants])
        raise RtaError(f"no informant '{old}' in the registry", path=registry.path,
                       hint=f"did you mean {guess}?" if guess else "see 'rta informants'")
    new = " ".join((new or "").split())
    if not new:
        raise RtaError("the new informant code is empty", hint='rta informants rename "Speaker 1" S1')
    if registry.is_interviewer(new):
        raise RtaError(f"'{new}' is an interviewer label, not an informant",
                       hint="give the informant code the speaker has in the study")
    target = registry.informant(new)
    if target is inf:
        raise RtaError(f"'{old}' is already informant '{inf.code}'", hint="give another NEW code")
    path = registry.path
    text = path.read_text(encoding="utf-8-sig")
    aliases = tuple(dict.fromkeys(a for a in (inf.code, *inf.aliases) if squash(a) != squash(new)))
    if target is not None:
        renamed = replace(target, aliases=tuple(dict.fromkeys((*target.aliases, *aliases))))
        text = replace_item(text, "informants", _is(target.code), dump_item(renamed.entry(), flow=True), path)
        text = replace_item(text, "informants", _is(inf.code), None, path)
    else:
        roles = registry.matching_roles(new)
        role, group = (roles[0][0].key, roles[0][0].group_of(roles[0][1])) if len(roles) == 1 else (inf.role, inf.group)
        renamed = Informant(new, role, group, dict(inf.attributes), aliases)
        text = replace_item(text, "informants", _is(inf.code), dump_item(renamed.entry(), flow=True), path)
    changed = load_registry_text(text, path)  # refused here if the new file would not load
    store = project.store
    cols = ", ".join(f'"{c}"' for c in TURN_COLUMNS)
    with StagedWrites() as staged:
        with store.transaction():
            keys = [tuple(r) for r in store.conn.execute(
                "SELECT DISTINCT transcript_id, revision FROM turns WHERE informant = ? ORDER BY 1, 2", (inf.code,))]
            n_turns = store.conn.execute("SELECT COUNT(*) FROM turns WHERE informant = ?", (inf.code,)).fetchone()[0]
            n_codings = store.conn.execute(
                "SELECT COUNT(*) FROM codings c JOIN turns t ON t.transcript_id = c.transcript_id AND "
                "t.revision = c.revision AND t.n = c.turn_n WHERE t.informant = ? AND c.status != 'removed'",
                (inf.code,)).fetchone()[0]
            store.conn.execute("UPDATE turns SET informant = ?, role = ?, grp = ? WHERE informant = ?",
                               (renamed.code, renamed.role, renamed.group, inf.code))
            revisions = []
            for tid, rev in keys:
                rows = [list(r) for r in store.conn.execute(
                    f"SELECT {cols} FROM turns WHERE transcript_id = ? AND revision = ? ORDER BY n", (tid, rev))]
                revisions.append([tid, rev, turns_sha256(rows)])
            store.conn.execute("DELETE FROM informants WHERE code = ?", (inf.code,))
            store.sync_informants(changed, who)
            store.log_event("informant.renamed", {
                "old": inf.code, "new": renamed.code, "merged": target is not None, "role": renamed.role,
                "group": renamed.group, "turns": n_turns, "codings": n_codings, "revisions": revisions}, who)
            staged.stage(path, text.encode("utf-8"))
            staged.journal(store)
    project.__dict__["registry"] = changed
    return InformantRename(inf.code, renamed.code, target is not None, renamed.role, renamed.group, len(keys),
                           n_turns, n_codings)
