"""Codebook exchange with the table tools (Taguette, LibreQDA, spreadsheets): `rta codebook
export --format csv` and `rta codebook import FILE.csv|.xlsx`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from rta.codebook_yaml import load_codebook, parse_codebook
from rta.codebook_csv import read_codebook_table
from rta.errors import RtaError
from test_store_fixtures import run

DATA = Path(__file__).parent / "data" / "codebooks"


def test_export_csv_writes_tag_and_description_per_code_in_utf8(tmp_path, capsys):
    out = tmp_path / "koder.csv"
    code, _out, err = run(["codebook", "export", str(DATA / "valid_small.yaml"), "--format", "csv", "-o", str(out)],
                          capsys)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8"))))
    book = load_codebook(DATA / "valid_small.yaml")
    assert rows[0] == ["tag", "description"]
    assert rows[1:] == [[c.name, " ".join(c.definition.split())] for c in book.codes]
    assert "not carried over: themes" in err


def test_a_taguette_tag_table_imports_as_a_valid_codebook(tmp_path, capsys):
    out = tmp_path / "kodebok.yaml"
    code, _out, err = run(["codebook", "import", str(DATA / "taguette_tags.csv"), "-o", str(out)], capsys)
    assert code == 0, err
    book = load_codebook(out)
    assert [(c.name, c.definition) for c in book.codes] == [
        ("Uklarhet", "Når roller eller mål ikke er avklart"), ("Tid", "Tid som ressurs; også mangel på tid"),
        ("økonomi", "")]
    assert "1 code(s) have no description" in err


def test_a_path_column_builds_parents_and_semicolons_are_read(tmp_path):
    book, notes = read_codebook_table(DATA / "libreqda_paths.csv")
    assert [(c.name, c.parent, c.definition) for c in book.codes] == [
        ("Samarbeid", None, "Hvordan partene arbeider sammen"), ("Med skolen", "Samarbeid", "Samarbeid med skolens ledelse"),
        ("Ressurser", None, ""), ("Tid", "Ressurser", "Tid til utviklingsarbeid")]
    assert any("parent code 'Ressurser'" in n for n in notes)


def test_an_xlsx_with_a_name_column_and_an_exported_csv_round_trip(tmp_path):
    import openpyxl

    from rta.codebook_csv import codebook_to_csv

    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Description"])
    wb.active.append(["Kontinuitet", "-det samme over tid"])  # a formula-like text
    wb.active.append(["Brudd", "Når arbeidet stopper opp"])
    wb.save(tmp_path / "koder.xlsx")
    book, _ = read_codebook_table(tmp_path / "koder.xlsx")
    assert [(c.name, c.definition) for c in book.codes] == [("Kontinuitet", "-det samme over tid"),
                                                             ("Brudd", "Når arbeidet stopper opp")]
    (tmp_path / "igjen.csv").write_bytes(codebook_to_csv(book))
    assert b"'-det samme" in (tmp_path / "igjen.csv").read_bytes()  # neutralised in the file ...
    again, _ = read_codebook_table(tmp_path / "igjen.csv")
    assert [(c.name, c.definition) for c in again.codes] == [(c.name, c.definition) for c in book.codes]  # ... not lost
    from rta.codebook_yaml import dump_codebook

    assert not [p for p in parse_codebook(dump_codebook(again))[1] if p.severity == "error"]


@pytest.mark.parametrize("text, message, line", [
    ("kode,beskrivelse\nTid,x\n", "no column called tag, name or path", 1),
    ("tag\nTid\ntid\n", "code 'tid' is already on row 2", 3),
    ("path\nA//B\n", "has an empty part", 2),
    ("tag\n", "has no codes", None),
])
def test_a_bad_table_is_refused_naming_the_row(tmp_path, capsys, text, message, line):
    bad = tmp_path / "feil.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RtaError) as info:
        read_codebook_table(bad)
    assert message in info.value.message and info.value.line == line
    code, _out, err = run(["codebook", "import", str(bad)], capsys)
    assert code == 2 and "feil.csv" in err and message in err
