"""Counts over the store: transcripts and informants at a glance."""

from __future__ import annotations

from typing import Any

from rta.informants import Registry
from rta.store import Store


def transcript_overview(store: Store) -> list[dict[str, Any]]:
    """One row per transcript: id, current revision, turns, words, informants in order."""
    rows = []
    for t in store.conn.execute("SELECT id, revision, source_path FROM transcripts ORDER BY id"):
        turns = store.conn.execute(
            "SELECT informant, words FROM turns WHERE transcript_id=? AND revision=? ORDER BY n",
            (t["id"], t["revision"]),
        ).fetchall()
        informants: dict[str, None] = {}
        for row in turns:
            if row["informant"]:
                informants.setdefault(row["informant"], None)
        rows.append(
            {
                "id": t["id"],
                "revision": t["revision"],
                "turns": len(turns),
                "words": sum(r["words"] for r in turns),
                "informant_words": sum(r["words"] for r in turns if r["informant"]),
                "informants": list(informants),
                "source": t["source_path"],
            }
        )
    return rows


def informant_overview(store: Store, registry: Registry) -> list[dict[str, Any]]:
    """One row per registry informant (registry order) with turns, words, transcripts;
    informants declared only in a transcript's front matter follow, then the interviewer."""
    stats: dict[str | None, dict[str, Any]] = {}
    for row in store.conn.execute(
        "SELECT turns.informant AS code, COUNT(*) AS turns, SUM(turns.words) AS words, "
        "COUNT(DISTINCT turns.transcript_id) AS transcripts FROM turns JOIN transcripts "
        "ON transcripts.id = turns.transcript_id AND transcripts.revision = turns.revision "
        "GROUP BY turns.informant"
    ):
        stats[row["code"]] = dict(row)
    rows = []
    codes = [i.code for i in registry.informants]
    extra = [
        r["code"]
        for r in store.conn.execute("SELECT code FROM informants ORDER BY position, code")
        if r["code"] not in codes
    ]
    for code in codes + extra:
        inf = registry.informant(code)
        if inf is None:
            db = store.conn.execute("SELECT role, grp FROM informants WHERE code=?", (code,)).fetchone()
            role, group = db["role"], db["grp"]
        else:
            role, group = inf.role, inf.group
        s = stats.get(code, {})
        rows.append(
            {
                "code": code,
                "role": role,
                "role_name": registry.role_name(role),
                "group": group,
                "transcripts": s.get("transcripts", 0) or 0,
                "turns": s.get("turns", 0) or 0,
                "words": s.get("words", 0) or 0,
            }
        )
    s = stats.get(None)
    if s:
        rows.append({"code": "(intervjuer)", "role": "intervjuer", "role_name": "Intervjuer", "group": None,
                     "transcripts": s["transcripts"], "turns": s["turns"], "words": s["words"] or 0})
    return rows
