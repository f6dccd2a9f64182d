"""Review comments come back: ``rta import-comments REVIEWED.docx``.

A team reviews a Word report (``rta report --format docx``) by commenting in Word. Each comment
becomes a memo where it belongs, written by the commenter: a comment on an extract is a memo on
its coding (the passage's first coding), one on a theme's heading, facts or narrative is a memo
on the theme, any other is a journal entry. Each is logged (``memo.added``/``journal.added``,
stamped with the current phase, the event's coder the commenter) with the comment's date, the
file and who imported it. A comment already imported (same author, date, text and place) is
skipped, so importing the same file twice adds nothing. Extracts edited in the reviewed file
are reported, never taken as the transcript's words.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import RtaError


@dataclass
class ImportedComment:
    kind: str  # 'coding', 'theme' or 'journal'
    target: str | None
    author: str
    date: str | None
    text: str
    memo: int | None = None  # the memo id (None: already imported)


@dataclass
class CommentImport:
    added: list[ImportedComment] = field(default_factory=list)
    skipped: list[ImportedComment] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)  # extracts changed in the reviewed file (not imported)


def _key(c: ImportedComment) -> str:
    return hashlib.sha256("\0".join([c.author, c.date or "", c.text, c.kind, c.target or ""]).encode("utf-8")).hexdigest()


def import_comments(project: Any, path: str | Path, coder: str | None) -> CommentImport:
    """Import the comments of a reviewed Word report as memos (see the module doc)."""
    import docx

    from rta.audit import AuditReport
    from rta.memos import add_memo
    from rta.receipts import _verify_docx
    from rta.report_reading import NotAReport, read_docx

    path = Path(path)
    if not path.is_file():
        raise RtaError("reviewed report not found" if not path.exists() else "is a folder, not a Word file", path=path,
                       hint="give the .docx the team commented on")
    try:
        report = read_docx(path)
        document = docx.Document(str(path))
    except NotAReport as exc:
        raise RtaError(f"not an rta Word report: {exc}", path=path,
                       hint="import comments from a report.docx that 'rta report --format docx' wrote") from None
    store = project.store
    result = CommentImport()
    check = AuditReport()
    _verify_docx(project, report, check, path.name)
    result.edited = [f.cause for f in check.failures]
    found: list[ImportedComment] = []
    for comment in document.comments:
        text = comment.text.strip()
        if not text:
            continue
        where = report.comments.get(str(comment.comment_id))
        kind, target = "journal", None
        if where is not None and where[0] == "extract":
            ids = where[1].tag.get("c") if isinstance(where[1].tag, dict) else None
            first = ids[0] if isinstance(ids, list) and ids else None
            if isinstance(first, int) and store.conn.execute("SELECT 1 FROM codings WHERE id = ?",
                                                             (first,)).fetchone():
                kind, target = "coding", str(first)
        elif where is not None and where[0] == "theme":
            if store.conn.execute("SELECT 1 FROM themes WHERE name = ?", (where[1],)).fetchone():
                kind, target = "theme", str(where[1])
        stamp = comment.timestamp.isoformat() if comment.timestamp is not None else None
        found.append(ImportedComment(kind, target, (comment.author or "").strip() or "unknown", stamp, text))
    done = {r[0] for r in store.conn.execute(
        "SELECT json_extract(payload, '$.comment_key') FROM events WHERE kind IN ('memo.added', 'journal.added') "
        "AND json_extract(payload, '$.comment_key') IS NOT NULL")}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with store.transaction():
        for c in found:
            key = _key(c)
            if key in done:
                result.skipped.append(c)
                continue
            memo = add_memo(store, c.kind, c.target, c.text, c.author,
                            extra={"source": "docx-comment", "comment_key": key, "reviewed": c.date,
                                   "file": path.name, "file_sha256": digest, "imported_by": coder})
            c.memo = memo.id
            done.add(key)
            result.added.append(c)
    return result


def describe(c: ImportedComment) -> str:
    where = {"coding": f"memo on coding {c.target}", "theme": f"memo on theme {c.target}",
             "journal": "journal entry"}[c.kind]
    flat = " ".join(c.text.split())
    return f"{where} by {c.author}{f' ({c.date[:10]})' if c.date else ''}: {flat[:70]}{'…' if len(flat) > 70 else ''}"

