"""Output that can hurt, and memos that went missing: spreadsheet formulas in csv/xlsx, OOXML
_xHHHH_ escapes, terminal escape sequences and bidi overrides, raw HTML and javascript: links
in Markdown, and memos written with 'rta code --memo' or in 'rta review'."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from xml.etree import ElementTree

import pytest

from rta.fsutil import sha256_text
from rta.textsafe import for_terminal, md_code, spreadsheet_cell
from test_store_fixtures import code_quote, run_cli

QUOTE = "Tid er alltid en utfordring."
# OSC 0 (window title) ended by BEL, CSI 2J (clear screen), OSC 8 (a hidden link), a C1 CSI,
# backspace, and a right-to-left override closed by POP DIRECTIONAL FORMATTING
NASTY = "\x1b]0;pwned\x07 \x1b[2J \x1b]8;;http://x\x1b\\lenke\x1b]8;;\x1b\\ \x9b31m \x08 \u202eevil\u202c"


def _plant(project, transcript: str, quote: str, nasty: str) -> None:
    """Put ``nasty`` into the stored text in place of ``quote``'s first characters, as a store
    written before the import refused control characters (or text from another tool) holds it.
    Same length, so every offset stays right."""
    store = project.store
    text = store.transcript_text(transcript)
    at = text.index(quote)
    assert len(nasty) <= len(quote)
    changed = text[:at] + nasty + text[at + len(nasty):]
    with store.transaction():
        store.conn.execute("UPDATE transcript_revisions SET text=? WHERE transcript_id=?", (changed, transcript))


# -- the shared functions -------------------------------------------------------------------


def test_for_terminal_escapes_controls_and_bidi_but_keeps_newlines_tabs_and_letters():
    shown = for_terminal("a\tb\nc" + NASTY + " æøå «»")
    assert "\x1b" not in shown and "\x07" not in shown and "\x08" not in shown and "\x9b" not in shown
    assert "\u202e" not in shown and "\u202c" not in shown
    assert shown.startswith("a\tb\nc\\x1b]0;pwned\\x07 \\x1b[2J")
    assert "\\u009b31m" in shown and "\\x08" in shown and "\\u202eevil\\u202c" in shown and shown.endswith(" æøå «»")
    assert for_terminal("\r") == "\\x0d" and for_terminal("vanlig tekst") == "vanlig tekst"


def test_for_terminal_keeps_json_valid_and_equal():
    record = {"quote": "x\x9by\u202ez\x7f", "memo": "\x1b[2J"}
    printed = for_terminal(json.dumps(record, ensure_ascii=False))
    assert not any(ch in printed for ch in "\x9b\u202e\x7f\x1b")
    assert json.loads(printed) == record


@pytest.mark.parametrize("cell", ["=SUM(A1:A2)", "+47 99", "-rollen", "@cmd", "\tx", "\r=1"])
def test_formula_like_cells_get_an_apostrophe(cell):
    assert spreadsheet_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Tid", "", " =1", "«=»", 12, -3, 0.5, None])
def test_other_cells_are_left_alone(cell):
    assert spreadsheet_cell(cell) == cell


def test_md_code_cannot_be_closed_from_inside():
    assert md_code(r"\bbytte av\b") == r"`\bbytte av\b`"
    assert md_code("a`b") == "``a`b``" and md_code("`x") == "`` `x ``"


# -- csv and xlsx ---------------------------------------------------------------------------


@pytest.fixture
def formula_coding(project):
    cid = code_quote(project, "mini-skoleleder", QUOTE, "Tid", memo='=HYPERLINK("http://x";"klikk")')
    code_quote(project, "mini-skoleeier", "det ble et brudd i arbeidet", "Brudd", memo="-bare en strek")
    return project, cid


def _csv_rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_quotes_csv_neutralises_formula_cells_and_raw_cells_keeps_them(formula_coding, tmp_path, capsys):
    project, _ = formula_coding
    safe, raw = tmp_path / "sitater.csv", tmp_path / "raw.csv"
    code, _, err = run_cli(capsys, project.root, "export", "quotes", "--format", "csv", "-o", str(safe))
    assert code == 0, err
    code, _, err = run_cli(capsys, project.root, "export", "quotes", "--format", "csv", "-o", str(raw), "--raw-cells")
    assert code == 0, err
    memos = {r["code"]: r["memo"] for r in _csv_rows(safe)}
    assert memos == {"Tid": '\'=HYPERLINK("http://x";"klikk")', "Brudd": "'-bare en strek"}
    tid = next(r for r in _csv_rows(safe) if r["code"] == "Tid")
    assert tid["quote"] == QUOTE and tid["line_start"] == "11"  # ordinary cells and numbers untouched
    assert {r["code"]: r["memo"] for r in _csv_rows(raw)} == {"Tid": '=HYPERLINK("http://x";"klikk")',
                                                              "Brudd": "-bare en strek"}


def test_suggestions_csv_neutralises_formula_cells_and_raw_cells_keeps_them(project, tmp_path, capsys):
    store = project.store
    text = store.transcript_text("mini-skoleleder")
    start = text.index(QUOTE)
    with store.transaction():
        store.conn.execute(
            "INSERT INTO suggestions(transcript_id, revision, start, end, line_start, line_end, code, score, method, "
            "evidence, pipeline, created) VALUES ('mini-skoleleder', 1, ?, ?, 11, 11, 'Tid', 0.8, 'lemma', "
            "'[]', '=cmd|'' /C calc''!A0', '2026-01-01T00:00:00Z')", (start, start + len(QUOTE)))
    out, raw = tmp_path / "forslag.csv", tmp_path / "raw.csv"
    code, _, err = run_cli(capsys, project.root, "export", "suggestions", "--format", "csv", "-o", str(out))
    assert code == 0, err
    run_cli(capsys, project.root, "export", "suggestions", "--format", "csv", "-o", str(raw), "--raw-cells")
    row = _csv_rows(out)[0]
    assert row["pipeline"] == "'=cmd|' /C calc'!A0" and row["text"] == QUOTE and row["score"] == "0.8"
    assert _csv_rows(raw)[0]["pipeline"] == "=cmd|' /C calc'!A0"


def test_xlsx_keeps_a_literal_x0041_and_marks_formula_cells_as_text(formula_coding, tmp_path, capsys):
    from openpyxl import load_workbook

    project, cid = formula_coding
    with project.store.transaction():  # text that OOXML would read as an escape, and a CR
        project.store.conn.execute("UPDATE codings SET memo = ? WHERE id = ?", ("kode _x0041_ og_x005F_ og\rslutt", cid))
    out, raw = tmp_path / "sitater.xlsx", tmp_path / "raw.xlsx"
    code, _, err = run_cli(capsys, project.root, "export", "quotes", "--format", "xlsx", "-o", str(out), "--headings", "keys")
    assert code == 0, err
    run_cli(capsys, project.root, "export", "quotes", "--format", "xlsx", "-o", str(raw), "--raw-cells", "--headings", "keys")
    ws = load_workbook(out)["Sitater"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, [c.value for c in r])) for r in ws.iter_rows(min_row=2)]
    tid = next(r for r in rows if r["code"] == "Tid")
    brudd_row = next(i for i, r in enumerate(rows, start=2) if r["code"] == "Brudd")
    memo_col = header.index("memo") + 1
    assert tid["memo"].startswith("kode _x0041_ og") and tid["quote"] == QUOTE
    # what Excel reads: ST_Xstring decoded left to right (openpyxl only strips 'x005F_' and leaves
    # _x000D_ as it is, so it cannot check the CR or a literal _x005F_)
    with zipfile.ZipFile(out) as zf:
        sst = ElementTree.fromstring(zf.read("xl/sharedStrings.xml"))
    texts = [t.text or "" for t in sst.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}t")]
    excel = [re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), t) for t in texts]
    assert "kode _x0041_ og_x005F_ og\rslutt" in excel
    brudd = ws.cell(brudd_row, memo_col)
    assert brudd.value == "-bare en strek" and brudd.data_type == "s" and brudd.quotePrefix
    assert not load_workbook(raw)["Sitater"].cell(brudd_row, memo_col).quotePrefix


def test_xlsx_characters_xml_cannot_hold_are_escaped_not_fatal(project, tmp_path):
    from openpyxl import load_workbook

    from rta.exports import export_quotes

    cid = code_quote(project, "mini-skoleleder", QUOTE, "Tid")
    with project.store.transaction():
        project.store.conn.execute("UPDATE codings SET memo = ? WHERE id = ?", ("a\x00b\x1bc\ufffed", cid))
    out = tmp_path / "x.xlsx"
    export_quotes(project.store, "xlsx", out)
    ws = load_workbook(out)["Sitater"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("memo") + 1).value == "a_x0000_b_x001B_c_xFFFE_d"


# -- the terminal ---------------------------------------------------------------------------


def test_codings_shows_escape_sequences_and_bidi_escaped(project, capsys):
    code_quote(project, "mini-skoleleder", QUOTE, "Tid")
    _plant(project, "mini-skoleleder", QUOTE, "\x1b]0;pwned\x07\x1b[2J\u202eevil")
    code, out, err = run_cli(capsys, project.root, "codings")
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil" in out
    code, out, _ = run_cli(capsys, project.root, "codings", "--format", "json")
    assert "\x1b" not in out and "\u202e" not in out
    assert json.loads(out)[0]["quote"].startswith("\x1b]0;pwned\x07\x1b[2J\u202eevil")  # still the stored text


def test_memos_and_log_show_a_nasty_memo_escaped(project, capsys):
    code_quote(project, "mini-skoleleder", QUOTE, "Tid")
    code, _, err = run_cli(capsys, project.root, "memo", "add", "--on", "code:Tid", "før" + NASTY + "etter")
    assert code == 0, err
    for args in (("memos",), ("log",), ("memos", "--format", "json"), ("log", "--format", "jsonl")):
        code, out, err = run_cli(capsys, project.root, *args)
        assert code == 0, err
        assert not any(ch in out for ch in "\x1b\x07\x08\x9b\u202e\u202c"), args
    logged = json.loads(out.splitlines()[-1])["payload"]  # the log holds the memo's hash; its text is in memos
    assert logged["text_sha256"] == sha256_text("før" + NASTY + "etter") and "text" not in logged


def test_review_prompt_shows_the_turn_escaped(tmp_path):
    from rta.nlp import load_pipeline  # noqa: F401  (the embedded pipeline, as test_review)
    from rta.suggest import SuggestOptions, run_suggest
    from test_suggest_support import cli, make_project

    project = make_project(tmp_path)
    run_suggest(project, SuggestOptions())
    sug = project.store.conn.execute("SELECT * FROM suggestions ORDER BY transcript_id, start LIMIT 1").fetchone()
    text = project.store.transcript_text(sug["transcript_id"])
    _plant(project, sug["transcript_id"], text[sug["start"]:sug["end"]], "\x1b[2J\u202e")
    result = cli(["review", "--transcript", sug["transcript_id"]], project, input="q\n")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout and "[[\\x1b[2J\\u202e" in result.stdout
    project.close()


# -- Markdown -------------------------------------------------------------------------------

EVIL_MD = "<script>alert(1)</script> se [x](javascript:alert(1)) og <img src=x onerror=alert(1)>"


def _assert_inert(md: str) -> None:
    assert "<script" not in md and "<img" not in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md) and not re.search(r"(?<!\\)\[x", md)  # no live link
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "\\[x\\](javascript:alert(1))" in md


def test_markdown_memo_export_escapes_html_and_links(project, tmp_path, capsys):
    cid = code_quote(project, "mini-skoleleder", QUOTE, "Tid", memo=EVIL_MD)
    run_cli(capsys, project.root, "memo", "add", "--on", f"coding:{cid}", EVIL_MD)
    run_cli(capsys, project.root, "journal", "add", EVIL_MD)
    out = tmp_path / "memoer.md"
    code, _, err = run_cli(capsys, project.root, "memos", "--format", "md", "-o", str(out))
    assert code == 0, err
    md = out.read_text(encoding="utf-8")
    _assert_inert(md)
    assert md.count("&lt;script&gt;") == 3
    code, stdout, _ = run_cli(capsys, project.root, "memos", "--format", "md")
    assert stdout == md  # standard output (not a terminal) gets the same document


def test_codebook_doc_in_markdown_escapes_html_and_links(tmp_path, capsys, data_dir):
    source = (data_dir / "codebooks" / "valid_small.yaml").read_text(encoding="utf-8")
    evil = source.replace("definition: Arbeidet henger sammen over tid.",
                          "definition: '" + EVIL_MD.replace("'", "''") + "'")
    evil = evil.replace(r"regex: ['\bbytte av\b']", r"regex: ['a`b\b']")
    assert evil != source
    path = tmp_path / "kodebok.yaml"
    path.write_text(evil, encoding="utf-8")
    code, out, err = run_cli(capsys, tmp_path, "codebook", "doc", str(path), "--format", "md")
    assert code == 0, err
    _assert_inert(out)
    assert "``a`b\\b``" in out  # a backtick in a regex cannot close its code span
    code, out, err = run_cli(capsys, tmp_path, "codebook", "show", str(path), "--format", "md")
    assert code == 0, err
    _assert_inert(out)


# -- every memo, wherever it is stored ---------------------------------------------------------


@pytest.fixture
def reviewed(tmp_path):
    """Suggestions reviewed with memos: one rejected, one accepted (memo carried into the
    coding), one whose memo was withdrawn with undo before it was accepted."""
    from rta.suggest import SuggestOptions, run_suggest
    from test_suggest_support import cli, make_project

    project = make_project(tmp_path)
    run_suggest(project, SuggestOptions())
    queue = project.store.conn.execute(
        "SELECT id FROM suggestions WHERE transcript_id='suggest-k1' ORDER BY start, score DESC, id").fetchall()
    keys = "m\nForkastet, men verdt å huske.\nr\nm\nGodtatt med begrunnelse.\na\nm\nTrukket tilbake.\nu\na\nq\n"
    result = cli(["review", "--transcript", "suggest-k1"], project, input=keys)
    assert result.exit_code == 0, result.stdout
    yield project, [r["id"] for r in queue[:3]]
    project.close()


def test_memos_lists_code_memo_review_memos_and_memo_add_with_what_they_are_about(reviewed, capsys):
    project, (rejected, accepted, withdrawn) = reviewed
    store = project.store
    text = store.transcript_text("suggest-k2")
    code, _, err = run_cli(capsys, project.root, "code", "suggest-k2", "--turn", "2", "--code", "Tid",
                           "--memo", "Skrevet ved koding.")
    assert code == 0, err
    run_cli(capsys, project.root, "memo", "add", "--on", "code:Tid", "Et memo om koden.")
    manual = store.conn.execute("SELECT * FROM codings WHERE origin='manual'").fetchone()
    carried = store.conn.execute("SELECT * FROM codings WHERE suggestion_id=?", (accepted,)).fetchone()
    assert carried["memo"] == "Godtatt med begrunnelse."
    assert store.conn.execute("SELECT memo FROM codings WHERE suggestion_id=?", (withdrawn,)).fetchone()["memo"] is None

    code, out, err = run_cli(capsys, project.root, "memos", "--format", "json")
    assert code == 0, err
    items = json.loads(out)
    by_text = {m["text"]: m for m in items}
    assert set(by_text) == {"Forkastet, men verdt å huske.", "Godtatt med begrunnelse.", "Skrevet ved koding.",
                            "Et memo om koden."}  # the withdrawn memo is gone, the carried one listed once
    rej = by_text["Forkastet, men verdt å huske."]
    assert (rej["source"], rej["target_kind"], rej["target"], rej["status"]) == ("review", "suggestion", str(rejected), "rejected")
    acc = by_text["Godtatt med begrunnelse."]
    assert (acc["source"], acc["target_kind"], acc["target"], acc["written_with"]) == ("coding", "coding", str(carried["id"]), "review")
    man = by_text["Skrevet ved koding."]
    lines = f"{manual['line_start']}" + (f"-{manual['line_end']}" if manual["line_end"] != manual["line_start"] else "")
    assert man["about"] == f"coding:{manual['id']} Tid, suggest-k2:{lines}" and man["written_with"] == "code --memo"
    assert man["phase"] == 1
    assert by_text["Et memo om koden."]["about"] == "code:Tid"

    code, out, _ = run_cli(capsys, project.root, "memos")
    assert f"coding:{manual['id']} Tid, suggest-k2:{lines}" in out and "Skrevet ved koding." in out
    assert f"suggestion:{rejected} " in out and "[rejected]" in out and "Forkastet, men verdt å huske." in out
    assert "Trukket tilbake." not in out

    code, md, _ = run_cli(capsys, project.root, "memos", "--format", "md")
    assert "## Memoer om kodinger" in md and "## Memoer om forslag (fra gjennomgangen)" in md
    assert f"### Koding {manual['id']}: Tid, suggest-k2 linje" in md
    assert "Skrevet ved koding." in md and "(ved koding)" in md
    assert f"### Forslag {rejected}: " in md and "(avvist)" in md and "Forkastet, men verdt å huske." in md
    assert md.count("Godtatt med begrunnelse.") == 1 and "Trukket tilbake." not in md
    quote = text[manual["start"]:manual["end"]]
    assert "> " + quote.split("\n")[0] in md


def test_report_memo_appendix_lists_every_memo_escaped(reviewed, tmp_path, capsys):
    from rta.report_build import build_report

    project, (rejected, _, _) = reviewed
    code, _, err = run_cli(capsys, project.root, "code", "suggest-k2", "--turn", "2", "--code", "Tid",
                           "--memo", "Ved koding: " + EVIL_MD)
    assert code == 0, err
    run_cli(capsys, project.root, "journal", "add", "Min forforståelse.")
    result = build_report(project, ["html", "md"], tmp_path / "rapport")
    html, md = (p.read_text(encoding="utf-8") for p in result.paths)
    assert [m.text for m in result.data.memos] == ["Forkastet, men verdt å huske.", "Godtatt med begrunnelse.",
                                                    "Ved koding: " + EVIL_MD, "Min forforståelse."]
    assert "## Vedlegg D: memoer og refleksiv logg" in md and 'id="vedlegg-memoer"' in html
    for text in ("Forkastet, men verdt å huske.", "Godtatt med begrunnelse.", "Min forforståelse."):
        assert text in md and text in html
    assert f"forslag {rejected} " in md and "refleksiv logg" in html  # what the memo is on, in Norwegian
    _assert_inert(md)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
