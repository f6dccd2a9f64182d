"""The quote table: one row per coding, the MAXQDA-style export supervisors ask for.

Each row carries what is needed to find the quote again and check it: transcript and revision,
informant code, role and group, line and code-point spans, code and themes, coder, date,
status, memo, the quote itself and its SHA-256, and a note when the quote comes from a
superseded revision ("from revision N, superseded by revision M"). A quote from a revision
older than the pseudonymised one ('rta anonymise apply') is refused unless ``allow_originals``.

Formulas: a CSV cell starting with = + - @ TAB or CR gets a leading apostrophe
(:func:`rta.textsafe.spreadsheet_cell`), so a spreadsheet shows it as text instead of running it;
``raw_cells`` (``--raw-cells``) writes the cells as stored. In xlsx every text cell is a typed
string cell (``t="s"``), which Excel and LibreOffice never evaluate, so its text is kept exactly;
formula-like cells also get the ``quotePrefix`` style (Excel's own "this is text" mark), so
editing the cell in Excel does not turn it into a formula either.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any, Callable

from rta.coding import query_codings
from rta.errors import RtaError
from rta.fsutil import atomic_write_bytes
from rta.store import Store
from rta.textsafe import FORMULA_TRIGGERS, spreadsheet_cell

FORMATS = ("csv", "xlsx", "jsonl")
COLUMNS = [
    "coding", "transcript", "revision", "informant", "role", "group", "speaker", "line_start", "line_end",
    "start", "end", "code", "themes", "coder", "created", "status", "origin", "memo", "quote", "quote_sha256",
    "note",
]


# Column headings for people (xlsx, and csv for Excel): in the report's language.
HEADINGS = {
    "nb": ["koding", "transkripsjon", "revisjon", "informant", "rolle", "gruppe", "taler", "linje fra", "linje til",
           "fra tegn", "til tegn", "kode", "tema", "kodet av", "kodet", "status", "opphav", "memo", "sitat",
           "sitat sha256", "merknad"],
    "en": ["coding", "transcript", "revision", "informant", "role", "group", "speaker", "line from", "line to",
           "char from", "char to", "code", "themes", "coded by", "coded at", "status", "origin", "memo", "quote",
           "quote sha256", "note"],
}
VALUES = {"nb": {"status": {"active": "aktiv", "removed": "fjernet", "orphaned": "foreldreløs"},
                 "origin": {"manual": "manuell", "suggested": "akseptert forslag"}},
          "en": {"status": {}, "origin": {"manual": "manual", "suggested": "accepted suggestion"}}}
# Column widths (characters) in the xlsx; the quote and memo columns wrap.
WIDTHS = {"quote": 70, "memo": 40, "themes": 24, "transcript": 18, "code": 16, "note": 30, "quote_sha256": 20,
          "created": 20, "role": 14, "group": 12, "speaker": 10, "coder": 12}
WRAPPED = ("quote", "memo", "note")


def for_people(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Rows with status and origin in words of ``lang`` (for a spreadsheet a person reads)."""
    values = VALUES[lang]
    return [{**r, "status": values["status"].get(r["status"], r["status"]),
             "origin": values["origin"].get(r["origin"], r["origin"])} for r in rows]


def quote_rows(store: Store, role_name: Callable[[str | None], str] | None = None, status: str | None = "active",
               allow_originals: bool = False, coder: str | None = None) -> list[dict[str, Any]]:
    """One dict per coding (``status`` None: every status), in transcript and text order.
    ``role_name`` turns a role key into its display name (the registry's). A coding on a
    superseded revision says so in ``note``; one on a revision from before pseudonymisation is
    refused (:class:`rta.anchor.OriginalsRefused`) unless ``allow_originals``."""
    from rta.anchor import refuse_originals, revision_states

    views = query_codings(store, status=status, coder=coder)
    states = revision_states(store)
    refuse_originals(states, [(f"coding #{v.id} ({v.status})", v.transcript_id, v.revision) for v in views],
                     "the export", allow_originals,
                     also="or leave out --all (removed codings keep the revision they were removed on)" if status is None
                     else None)
    rows = []
    for v in views:
        state = states.get(v.transcript_id)
        rows.append({
            "coding": v.id, "transcript": v.transcript_id, "revision": v.revision, "informant": v.informant or "",
            "role": role_name(v.role) if role_name else (v.role or ""), "group": v.group or "",
            "speaker": v.speaker or "", "line_start": v.line_start, "line_end": v.line_end, "start": v.start,
            "end": v.end, "code": v.code, "themes": v.themes, "coder": v.coder, "created": v.created,
            "status": v.status, "origin": v.origin, "memo": v.memo or "", "quote": v.quote,
            "quote_sha256": v.quote_sha256, "note": (state.note(v.revision) if state else None) or "",
        })
    return rows


def _flat(value: Any) -> Any:
    return "; ".join(value) if isinstance(value, list) else value


def rows_to_csv(rows: list[dict[str, Any]], raw_cells: bool = False, excel: str | None = None) -> bytes:
    """UTF-8 with BOM (so Excel reads æ/ø/å), one header row; formula-like cells neutralised
    unless ``raw_cells``. ``excel`` (a language, nb or en): what Excel set up for Norway opens
    as columns, a semicolon between cells (its list separator, the comma being the decimal
    mark) and headings and values in words of that language."""
    cell = (lambda v: v) if raw_cells else spreadsheet_cell
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n", delimiter=";" if excel else ",")
    if excel:
        rows = for_people(rows, excel)
    writer.writerow(HEADINGS[excel] if excel else COLUMNS)
    for row in rows:
        writer.writerow([cell(_flat(row[c])) for c in COLUMNS])
    return buf.getvalue().encode("utf-8-sig")


def rows_to_jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def rows_to_xlsx(rows: list[dict[str, Any]], raw_cells: bool = False, head: str | None = None,
                 lang: str | None = None) -> bytes:
    """A one-sheet workbook ('Sitater', bold frozen header row) written directly as OOXML:
    openpyxl needs ~20 µs a cell, too slow for 20,000-row tables.

    Text cells are shared strings (``t="s"``): a string cell is never evaluated, so text that
    starts with '=' stays text and no apostrophe is added to it (that would change the quote).
    Unless ``raw_cells``, such cells get the quotePrefix style (style 2), which keeps Excel from
    making a formula of them when someone edits the cell. Shared rather than inline strings:
    readers (openpyxl among them) undo the ``_x005F_`` escape of :func:`_xml` only there.

    ``head`` (the log's ``SEQ:HASH``) goes on a second sheet, 'Revisjon' (rta.checkpoint)."""
    import zipfile

    def col(i: int) -> str:
        name = ""
        i += 1
        while i:
            i, r = divmod(i - 1, 26)
            name = chr(65 + r) + name
        return name

    letters = [col(i) for i in range(len(COLUMNS))]
    wrapped = {letters[COLUMNS.index(c)] for c in WRAPPED}
    strings: dict[str, int] = {}
    parts = []
    if lang:
        rows = for_people(rows, lang)
    header = HEADINGS[lang] if lang else COLUMNS
    for r, values in enumerate([header, *([_flat(row[c]) for c in COLUMNS] for row in rows)], start=1):
        cells = []
        for letter, value in zip(letters, values):
            if value is None or value == "":
                continue
            formula = not raw_cells and isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)
            if r == 1:
                style = ' s="1"'
            elif letter in wrapped:  # wrapped, top-aligned (4: and marked as text)
                style = ' s="4"' if formula else ' s="3"'
            elif formula:
                style = ' s="2"'
            else:
                style = ""
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(f'<c r="{letter}{r}"{style}><v>{value}</v></c>')
            else:
                text = str(value)
                index = strings.get(text)
                if index is None:
                    index = strings[text] = len(strings)
                cells.append(f'<c r="{letter}{r}" t="s"{style}><v>{index}</v></c>')
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    widths = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{WIDTHS.get(c, max(8, len(header[i]) + 2))}" '
                     'customWidth="1"/>' for i, c in enumerate(COLUMNS))
    last = f"{letters[-1]}{len(rows) + 1}"
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        f'</sheetView></sheetViews><cols>{widths}</cols><sheetData>' + "".join(parts) + "</sheetData>"
        f'<autoFilter ref="A1:{last}"/></worksheet>'
    )
    shared = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">'
        + "".join(f'<si><t xml:space="preserve">{_xml(text)}</t></si>' for text in strings)
        + "</sst>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, body in (_xlsx_parts_with_audit_sheet() if head else _XLSX_PARTS).items():
            if name == "xl/workbook.xml":  # the header row's filter (Excel's hidden name for it)
                body = body.replace("</sheets>", '</sheets><definedNames><definedName name="_xlnm._FilterDatabase" '
                                    f'localSheetId="0" hidden="1">Sitater!$A$1:${letters[-1]}${len(rows) + 1}'
                                    "</definedName></definedNames>")
            zf.writestr(name, body)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        zf.writestr("xl/sharedStrings.xml", shared)
        if head:
            zf.writestr("xl/worksheets/sheet2.xml", _audit_sheet(head))
    return buf.getvalue()


def _audit_sheet(head: str) -> str:
    """The 'Revisjon' sheet: the log head the table was written at, and how to check it
    (inline strings, all ASCII but the explanation, so its sheet file alone holds the head)."""
    from rta.store import now

    rows = [("rta-log-head", head), ("skrevet", now()),
            ("kontroll", "rta audit --since-report FIL.xlsx viser om prosjektets revisjonslogg er avkortet eller "
                         "skrevet om siden tabellen ble laget")]
    cells = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{_xml(a)}</t></is></c>'
        f'<c r="B{r}" t="inlineStr"><is><t xml:space="preserve">{_xml(b)}</t></is></c></row>'
        for r, (a, b) in enumerate(rows, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{cells}</sheetData></worksheet>")


def _xlsx_parts_with_audit_sheet() -> dict[str, str]:
    """:data:`_XLSX_PARTS` with a second worksheet (xl/worksheets/sheet2.xml) named 'Revisjon'."""
    parts = dict(_XLSX_PARTS)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        "</Types>", '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        "</sheets>", '<sheet name="Revisjon" sheetId="2" r:id="rId4"/></sheets>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        "</Relationships>", '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                            'relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>')
    return parts


_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Characters XML 1.0 cannot hold (most C0 controls, lone surrogates, U+FFFE/U+FFFF), plus CR,
# which XML parsers turn into LF: written as OOXML's _xHHHH_ so Excel restores them.
_NOT_XML = "\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff"
# One pass: an underscore that starts a literal _xHHHH_ (or would start one once the character
# after the four digits is itself escaped), or a character XML cannot hold.
_OOXML_ESCAPE = re.compile(f"_(?=x[0-9A-Fa-f]{{4}}(?:_|[{_NOT_XML}]))|[{_NOT_XML}]")
_SPECIAL = re.compile(f"[&<>_{_NOT_XML}]")


def _ooxml_sub(match: re.Match[str]) -> str:
    ch = match.group()
    return "_x005F_" if ch == "_" else f"_x{ord(ch):04X}_"


def _xml(text: str) -> str:
    """Cell text for an OOXML ``<t>`` element: &, <, > as entities; a literal ``_xHHHH_`` in the
    text escaped as ``_x005F_xHHHH_`` (else Excel would show ``_x0041_`` as 'A'); characters
    XML 1.0 forbids, and CR, as ``_xHHHH_`` (ECMA-376 Part 1, 22.9.2.19 ST_Xstring)."""
    if not _SPECIAL.search(text):
        return text
    text = _OOXML_ESCAPE.sub(_ooxml_sub, text)
    return text.translate(_XML_ESCAPES)


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sitater" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
        '<alignment wrapText="1" vertical="top"/></xf>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" applyAlignment="1">'
        '<alignment wrapText="1" vertical="top"/></xf></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def export_quotes(store: Store, fmt: str, out: str | Path, role_name: Callable[[str | None], str] | None = None,
                  status: str | None = "active", raw_cells: bool = False, allow_originals: bool = False,
                  excel: str | None = None, lang: str | None = None, coder: str | None = None) -> int:
    """Write the quote table to ``out`` atomically; returns the number of rows. ``raw_cells``:
    no formula neutralising in csv/xlsx (see the module docstring).

    The log's head goes with the table (rta.checkpoint): on the xlsx's second sheet, and for
    csv and jsonl, whose every line is a row, in ``OUT.head`` beside it (written together)."""
    from rta.checkpoint import SIDECAR_SUFFIX, head_sidecar_text
    from rta.fsutil import StagedWrites
    from rta.store import log_head

    if fmt not in FORMATS:
        raise RtaError(f"unknown format '{fmt}'", hint=f"use one of {', '.join(FORMATS)}")
    head = log_head(store)
    rows = quote_rows(store, role_name=role_name, status=status, allow_originals=allow_originals, coder=coder)
    if fmt == "jsonl":
        data = rows_to_jsonl(rows)
    elif fmt == "csv":
        data = rows_to_csv(rows, raw_cells=raw_cells, excel=excel)
    else:
        data = rows_to_xlsx(rows, raw_cells=raw_cells, head=str(head), lang=lang)
    if fmt == "xlsx":
        atomic_write_bytes(out, data)
    else:
        out = Path(out)
        with StagedWrites() as staged:
            staged.stage(out, data)
            staged.stage(out.with_name(out.name + SIDECAR_SUFFIX), head_sidecar_text(head, out, data))
    return len(rows)
