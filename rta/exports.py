"""The quote table: one row per coding, the MAXQDA-style export supervisors ask for.

Each row carries what is needed to find the quote again and check it: transcript and revision,
informant code, role and group, line and code-point spans, code and themes, coder, date,
status, memo, the quote itself and its SHA-256. Quotes are written exactly as stored (no
trimming, no formula escaping that would change the text); in xlsx, text that starts with '='
is stored as text, not as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Callable

from rta.coding import query_codings
from rta.errors import RtaError
from rta.fsutil import atomic_write_bytes
from rta.store import Store

FORMATS = ("csv", "xlsx", "jsonl")
COLUMNS = [
    "coding", "transcript", "revision", "informant", "role", "group", "speaker", "line_start", "line_end",
    "start", "end", "code", "themes", "coder", "created", "status", "origin", "memo", "quote", "quote_sha256",
]


def quote_rows(store: Store, role_name: Callable[[str | None], str] | None = None, status: str | None = "active") -> list[dict[str, Any]]:
    """One dict per coding (``status`` None: every status), in transcript and text order.
    ``role_name`` turns a role key into its display name (the registry's)."""
    rows = []
    for v in query_codings(store, status=status):
        rows.append({
            "coding": v.id, "transcript": v.transcript_id, "revision": v.revision, "informant": v.informant or "",
            "role": role_name(v.role) if role_name else (v.role or ""), "group": v.group or "",
            "speaker": v.speaker or "", "line_start": v.line_start, "line_end": v.line_end, "start": v.start,
            "end": v.end, "code": v.code, "themes": v.themes, "coder": v.coder, "created": v.created,
            "status": v.status, "origin": v.origin, "memo": v.memo or "", "quote": v.quote,
            "quote_sha256": v.quote_sha256,
        })
    return rows


def _flat(value: Any) -> Any:
    return "; ".join(value) if isinstance(value, list) else value


def rows_to_csv(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with BOM (so Excel reads æ/ø/å), one header row, quotes kept verbatim."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_flat(row[c]) for c in COLUMNS])
    return buf.getvalue().encode("utf-8-sig")


def rows_to_jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def rows_to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """A one-sheet workbook ('Sitater') with a frozen header row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sitater")
    ws.freeze_panes = "A2"
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for row in rows:
        values = []
        for c in COLUMNS:
            value = _flat(row[c])
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"  # text, never a formula
                value = cell
            values.append(value)
        ws.append(values)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_quotes(store: Store, fmt: str, out: str | Path, role_name: Callable[[str | None], str] | None = None,
                  status: str | None = "active") -> int:
    """Write the quote table to ``out`` atomically; returns the number of rows."""
    if fmt not in FORMATS:
        raise RtaError(f"unknown format '{fmt}'", hint=f"use one of {', '.join(FORMATS)}")
    rows = quote_rows(store, role_name=role_name, status=status)
    data = {"csv": rows_to_csv, "xlsx": rows_to_xlsx, "jsonl": rows_to_jsonl}[fmt](rows)
    atomic_write_bytes(out, data)
    return len(rows)
