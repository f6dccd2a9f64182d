"""Codebooks as tables, for the tools that exchange them that way (Taguette, LibreQDA, a
spreadsheet): ``rta codebook export --format csv`` and ``rta codebook import FILE.csv|.xlsx``.

Export: one row per code, columns ``tag,description`` (the code's name and its definition),
UTF-8, a formula-like cell neutralised with a leading ``'`` as in every rta spreadsheet export.

Import: a header row with a ``tag``, ``name`` or ``path`` column (``path``: ``parent/child``, the
parents become parent codes) and optionally ``description`` (or ``definition``); comma,
semicolon or tab separated CSV (UTF-8, a BOM is fine) or the first sheet of an .xlsx. Every
problem names the file and the row.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rta.codebook import Code, Codebook, derive_guid
from rta.codebook_yaml import dump_codebook
from rta.errors import RtaError
from rta.fsutil import sha256_text
from rta.norsk import fold
from rta.textsafe import FORMULA_TRIGGERS, spreadsheet_cell

NAME_COLUMNS = ("tag", "name", "path")
DESCRIPTION_COLUMNS = ("description", "definition")
MAX_ROWS = 100_000


def codebook_to_csv(codebook: Codebook) -> bytes:
    """``tag,description`` rows, one per code in codebook order."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["tag", "description"])
    for code in codebook.codes:
        writer.writerow([spreadsheet_cell(code.name), spreadsheet_cell(" ".join(code.definition.split()))])
    return buf.getvalue().encode("utf-8")


def _cell(value: object) -> str:
    text = "" if value is None else str(value).strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_TRIGGERS):
        text = text[1:]  # rta's (and spreadsheets') mark for 'this is text, not a formula'
    return text


def _rows(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise RtaError("file not found" if not path.exists() else "is a folder, not a file", path=path,
                       hint="give a .csv or .xlsx codebook")
    if path.suffix.lower() == ".xlsx":
        try:
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a damaged or password-protected workbook
            raise RtaError(f"cannot read the workbook: {exc}", path=path, hint="save it again as .xlsx or .csv") from None
        try:
            rows = []
            for row in book.worksheets[0].iter_rows(values_only=True):
                rows.append([_cell(v) for v in row])
                if len(rows) > MAX_ROWS:
                    raise RtaError(f"more than {MAX_ROWS:,} rows: this is no codebook", path=path)
            return rows
        finally:
            book.close()
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RtaError(f"not valid UTF-8 (line {line})", path=path, line=line, hint="save the file as UTF-8 CSV") from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    return [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def read_codebook_table(path: str | Path, name: str | None = None) -> tuple[Codebook, list[str]]:
    """A codebook from a CSV/XLSX table (see the module doc) and notes for the user."""
    path = Path(path)
    rows = _rows(path)
    while rows and not any(rows[0]):
        rows.pop(0)
    if not rows:
        raise RtaError("the file is empty", path=path, hint="the first row names the columns: tag,description")
    header = [h.casefold() for h in rows[0]]
    column = next((header.index(c) for c in NAME_COLUMNS if c in header), None)
    if column is None:
        raise RtaError(f"no column called {', '.join(NAME_COLUMNS[:-1])} or {NAME_COLUMNS[-1]} in the first row "
                       f"({', '.join(rows[0]) or 'empty'})", path=path, line=1,
                       hint="name the column of code names 'tag' (Taguette), 'name', or 'path' for parent/child")
    is_path = header[column] == "path"
    desc = next((header.index(c) for c in DESCRIPTION_COLUMNS if c in header), None)
    name = name or path.stem
    codes: dict[str, Code] = {}
    notes: list[str] = []
    for n, row in enumerate(rows[1:], start=2):
        value = row[column] if column < len(row) else ""
        if not value:
            if any(row):
                notes.append(f"row {n} has no code name: skipped")
            continue
        parts = [p.strip() for p in value.split("/")] if is_path else [value]
        if any(not p for p in parts):
            raise RtaError(f"row {n}: the path {value!r} has an empty part", path=path, line=n,
                           hint="write paths as parent/child, without a leading or doubled '/'")
        parent = None
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            existing = codes.get(fold(part))
            if existing is not None and last:
                raise RtaError(f"row {n}: code {part!r} is already on row {existing.line} (names must differ in "
                               "more than case and accents)", path=path, line=n,
                               hint="give the codes different names, or merge the rows")
            if existing is None:
                existing = Code(name=part, label=part, parent=parent, guid=derive_guid(name, "code", part), line=n)
                codes[fold(part)] = existing
                if not last:
                    notes.append(f"parent code {part!r} (row {n}) had no row of its own: created without a definition")
            elif existing.parent != parent and not last:
                raise RtaError(f"row {n}: {part!r} is under {existing.parent or 'the top'} on row {existing.line}, "
                               f"here under {parent or 'the top'}", path=path, line=n,
                               hint="a code has one parent: give one of them another name")
            if last:
                existing.definition = (row[desc] if desc is not None and desc < len(row) else "").strip()
            parent = part
    if not codes:
        raise RtaError("the file has no codes (only its header row)", path=path, hint="one code per row under the header")
    codebook = Codebook(schema_version=1, name=name, language="nb", codes=list(codes.values()), themes=[],
                        description=f"Importert fra {path.name}.",
                        mapping_note="Tabellen har ingen tema; koblingen mellom koder og tema gjøres i rta.")
    codebook.sha256 = sha256_text(dump_codebook(codebook))
    undefined = sum(1 for c in codebook.codes if not c.definition)
    if undefined:
        notes.append(f"{undefined} code(s) have no description, so no definition: write one in the YAML")
    notes.append("a table holds no indicators, themes, colours or GUIDs: add them in the YAML")
    return codebook, notes
