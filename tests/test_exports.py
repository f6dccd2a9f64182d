"""The quote table (csv, xlsx, jsonl) and the Markdown memo export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from rta.errors import RtaError
from rta.exports import COLUMNS, export_quotes
from rta.fsutil import sha256_text
from rta.memos import add_memo, memos_markdown
from test_store_fixtures import code_quote, run_cli

QUOTE = "Tid er alltid en utfordring."


@pytest.fixture
def coded(project):
    code_quote(project, "mini-skoleleder", QUOTE, "Tid", memo="knapphet")
    code_quote(project, "mini-skoleeier", "det ble et brudd i arbeidet", "Brudd")
    removed = code_quote(project, "mini-skoleeier", "Mye av kompetansen forsvant.", "Kompetanse")
    run_cli_args = ("uncode", str(removed))
    return project, run_cli_args


def test_csv_has_one_row_per_active_coding_with_source_and_hash(coded, tmp_path, capsys):
    project, uncode = coded
    run_cli(capsys, project.root, *uncode)
    out = tmp_path / "sitater.csv"
    code, stdout, err = run_cli(capsys, project.root, "export", "quotes", "--format", "csv", "-o", str(out))
    assert code == 0, err
    assert "wrote 2 quote(s)" in stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert list(rows[0]) == COLUMNS
    tid = next(r for r in rows if r["code"] == "Tid")
    assert (tid["informant"], tid["role"], tid["group"], tid["themes"]) == ("R2.1", "Skoleleder", "kommune 2", "Kapasitet; Kontinuitet")
    assert tid["quote"] == QUOTE and tid["quote_sha256"] == sha256_text(QUOTE) and tid["memo"] == "knapphet"
    assert (tid["line_start"], tid["line_end"], tid["status"], tid["coder"]) == ("11", "11", "active", "tester")
    text = project.store.transcript_text("mini-skoleleder")
    assert text[int(tid["start"]):int(tid["end"])] == QUOTE


def test_all_includes_removed_codings_with_their_status(coded, tmp_path, capsys):
    project, uncode = coded
    run_cli(capsys, project.root, *uncode)
    out = tmp_path / "alle.jsonl"
    run_cli(capsys, project.root, "export", "quotes", "--format", "jsonl", "-o", str(out), "--all")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["status"] for r in rows) == ["active", "active", "removed"]
    assert all(isinstance(r["themes"], list) for r in rows)


def test_xlsx_keeps_quotes_verbatim_and_never_as_formulas(project, tmp_path):
    from openpyxl import load_workbook

    code_quote(project, "mini-skoleleder", QUOTE, "Tid")
    store = project.store
    with store.transaction():  # a memo that a spreadsheet would take for a formula
        store.conn.execute("UPDATE codings SET memo = '=SUM(A1:A2)' WHERE id = 1")
    out = tmp_path / "sitater.xlsx"
    assert export_quotes(store, "xlsx", out, role_name=project.registry.role_name) == 1
    ws = load_workbook(out)["Sitater"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]]))
    assert header == COLUMNS
    assert row["quote"] == QUOTE and row["memo"] == "=SUM(A1:A2)" and ws.cell(2, header.index("memo") + 1).data_type == "s"


def test_unknown_export_format_is_refused(project, tmp_path):
    with pytest.raises(RtaError, match="unknown format 'pdf'"):
        export_quotes(project.store, "pdf", tmp_path / "x.pdf")


def test_memos_export_as_markdown_with_journal_by_phase_and_quotes(project, tmp_path, capsys):
    cid = code_quote(project, "mini-skoleleder", QUOTE, "Tid")
    run_cli(capsys, project.root, "memo", "add", "--on", f"coding:{cid}", "Typisk for skoleledere")
    run_cli(capsys, project.root, "memo", "add", "--on", "code:tid", "Tid som knapp ressurs")
    run_cli(capsys, project.root, "memo", "add", "--on", "theme:kontinuitet", "Henger sammen med utskiftning")
    run_cli(capsys, project.root, "memo", "add", "--on", "transcript:mini-skoleeier", "Kort intervju")
    code, out, err = run_cli(capsys, project.root, "journal", "add", "Jeg leser med skoleeierblikk")
    assert code == 0, err
    out_file = tmp_path / "memoer.md"
    code, _, err = run_cli(capsys, project.root, "memos", "--format", "md", "-o", str(out_file))
    assert code == 0, err
    md = out_file.read_text(encoding="utf-8")
    assert md.index("## Refleksiv logg") < md.index("## Memoer om koder")
    assert "### Fase 1: bli kjent med dataene" in md and "Jeg leser med skoleeierblikk" in md
    assert "### Tid" in md and "### Kontinuitet" in md and "### mini-skoleeier" in md
    assert f"> {QUOTE}" in md
    memos = project.store.conn.execute("SELECT target_kind, target, phase FROM memos ORDER BY id").fetchall()
    assert [tuple(m) for m in memos] == [("coding", str(cid), 1), ("code", "Tid", 1), ("theme", "Kontinuitet", 1),
                                         ("transcript", "mini-skoleeier", 1), ("journal", None, 1)]
    assert [e.kind for e in project.store.events()][-5:] == ["memo.added"] * 4 + ["journal.added"]


def test_memos_are_stamped_with_the_current_phase(project):
    store = project.store
    with store.transaction():
        store.set_meta("phase", "4")
        memo = add_memo(store, "journal", None, "Temaene glir over i hverandre", "tester")
    assert memo.phase == 4
    assert "### Fase 4: gjennomgå tema" in memos_markdown(store)


@pytest.mark.parametrize("target, message", [
    ("coding:77", "no coding with id 77"),
    ("code:Fotball", "no code 'Fotball'"),
    ("theme:Økonomi", "no theme 'Økonomi'"),
    ("transcript:finnes-ikke", "no transcript 'finnes-ikke'"),
    ("kapittel:3", "cannot read memo target"),
])
def test_memo_on_something_that_does_not_exist_is_refused(project, capsys, target, message):
    code_quote(project, "mini-skoleleder", QUOTE, "Tid")  # imports the codebook
    code, _, err = run_cli(capsys, project.root, "memo", "add", "--on", target, "tekst")
    assert code == 2 and message in err
    assert project.store.conn.execute("SELECT COUNT(*) FROM memos").fetchone()[0] == 0


def test_csv_for_excel_uses_semicolons_a_bom_and_norwegian_headings(coded, tmp_path, capsys):
    project, _ = coded
    out = tmp_path / "excel.csv"
    code, _, err = run_cli(capsys, project.root, "export", "quotes", "--format", "csv", "--excel", "-o", str(out))
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert list(rows[0])[:3] == ["koding", "transkripsjon", "revisjon"] and "sitat" in rows[0]
    tid = next(r for r in rows if r["kode"] == "Tid")
    assert tid["sitat"] == QUOTE and tid["status"] == "aktiv" and tid["opphav"] == "manuell"
    code, _, err = run_cli(capsys, project.root, "export", "quotes", "--format", "xlsx", "--excel", "-o",
                           str(tmp_path / "x.xlsx"))
    assert code == 2 and "--excel shapes a csv table" in err


def test_the_xlsx_header_filters_and_stays_in_view_with_widths_and_wrapped_quotes(coded, tmp_path, capsys):
    import openpyxl

    project, _ = coded
    out = tmp_path / "sitater.xlsx"
    code, _, err = run_cli(capsys, project.root, "export", "quotes", "--format", "xlsx", "-o", str(out))
    assert code == 0, err
    ws = openpyxl.load_workbook(out)["Sitater"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["koding", "transkripsjon"] and "sitat" in header and "status" in header
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:U{ws.max_row}"
    quote_col = header.index("sitat") + 1
    letter = openpyxl.utils.get_column_letter(quote_col)
    assert ws.column_dimensions[letter].width == 70
    assert ws.cell(2, quote_col).alignment.wrap_text is True
    assert ws.cell(2, header.index("status") + 1).value == "aktiv"
    code, _, _ = run_cli(capsys, project.root, "export", "quotes", "--format", "xlsx", "--headings", "keys", "-o",
                         str(tmp_path / "keys.xlsx"))
    assert code == 0 and [c.value for c in openpyxl.load_workbook(tmp_path / "keys.xlsx")["Sitater"][1]] == COLUMNS
