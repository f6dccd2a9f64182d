"""Projects from other QDA tools, hand-written in tests/data/qdpx/ in each tool's style, imported
code by code and coding by coding, with `rta audit` passing afterwards and the summary of what
came in and what could not be carried over."""

from __future__ import annotations

from pathlib import Path

import pytest

from qdpx_build import docx_bytes, qdpx_from_folder
from rta.audit import audit
from rta.codebook_yaml import load_codebook
from rta.coding import query_codings
from rta.memos import all_memos
from rta.project import Project
from test_store_fixtures import run_cli


@pytest.fixture
def fresh(tmp_path: Path) -> Project:
    project = Project.init(tmp_path / "studie", name="Mottak", coder="mottaker")
    yield project
    project.close()


def _import(capsys, project: Project, path: Path, *args: str) -> tuple[Project, str, str]:
    code, out, err = run_cli(capsys, project.root, "import-qdpx", str(path), *args)
    assert code == 0, (out, err)
    project.close()
    again = Project.open(project.root)
    report = audit(again)
    assert report.ok, report.to_text()
    return again, out, err


def _codings(project: Project) -> set[tuple]:
    return {(v.transcript_id, v.quote, v.code, v.informant, v.coder, v.created)
            for v in query_codings(project.store)}


def test_nvivo_nested_codes_an_empty_source_and_a_word_only_source(fresh, tmp_path, capsys):
    docx = docx_bytes(["Intervjuer: Hva var viktigst for kommunen?", "S2: At vi fikk tid til å snakke sammen om målene."])
    path = qdpx_from_folder("nvivo", tmp_path, {"sources/skoleeier-mars.docx": docx})
    project, out, err = _import(capsys, fresh, path)
    book = load_codebook(project.codebook_path)
    assert book.code("Med UH").parent == "Samarbeid" and book.code("Samarbeid").color == "#1f77b4"
    assert book.code("Med UH").definition == "Samarbeid med veilederne fra høgskolen."
    assert book.code("Ressurser").parent is None and book.code("Ressurser/Tid").parent == "Ressurser"  # Tabell 3 has Tid
    assert _codings(project) == {
        ("Intervju-rektor", "Vi visste ikke hva veilederne skulle gjøre,\nog det tok tid før rollene ble avklart.",
         "Rolleavklaring", "Rektor Hansen", "Kari Nordmann",
         "2024-02-12T08:15:00Z"),
        ("Intervju-rektor", "Vi visste ikke hva veilederne skulle gjøre,\nog det tok tid før rollene ble avklart.",
         "Med UH", "Rektor Hansen", "Ola Hansen", "2024-03-01T14:30:00Z"),
        ("Intervju-rektor", "Da fikk lærerne tid til å forberede seg.", "Ressurser/Tid", "Rektor Hansen", "Ola Hansen",
         "2024-03-01T14:35:00Z"),
        ("skoleeier-mars", "At vi fikk tid til å snakke sammen om målene.", "Med skolen", "S2", "Kari Nordmann",
         "2024-02-20T11:00:00Z"),
    }
    # the log says who imported; the rows say who coded
    kinds = {(e["coder"], e["kind"]) for e in project.store.conn.execute("SELECT coder, kind FROM events")}
    assert ("mottaker", "coding.added") in kinds and ("Kari Nordmann", "coding.added") not in kinds
    memos = {(m.target_kind, m.text, m.coder, m.created) for m in all_memos(project.store)}
    assert ("coding", "Rektor beskriver en uklar start; se også intervjuet med skoleeier.", "Kari Nordmann",
            "2024-02-12T09:20:00Z") in memos
    assert ("code", "Med UH brukes når veilederne nevnes direkte.", "Ola Hansen", "2024-03-02T10:00:00Z") in memos
    assert ("journal", "Vi startet kodingen med to intervjuer for å prøve kodeboka.", "Kari Nordmann",
            "2024-01-08T10:05:00Z") in memos
    hansen = project.registry.informant("Rektor Hansen")
    assert (hansen.role, hansen.attributes) == ("ukjent", {"Kjønn": "kvinne", "Ansiennitet": "12"})
    assert "source 'Tomt notat' skipped: it is empty" in err
    assert "no plain text: read from its Word file" in err
    assert "came in: 2 transcripts, 4 codings" in out and "3 memos" not in out
    assert "not carried over: 1 empty sources" in out
    assert "conflict: code 'Tid'" in err


def test_atlas_ti_named_qde_capitalised_sources_and_what_cannot_come_in(fresh, tmp_path, capsys):
    project, out, err = _import(capsys, fresh, qdpx_from_folder("atlas", tmp_path))
    assert _codings(project) == {
        ("Skoleeier-kommune-3", "Vi fikk ny skoleeier midt i perioden, og da stoppet mye opp.", "Brudd i arbeidet",
         "S3", "Ingrid", "2024-05-06T12:00:00Z"),
        ("Skoleeier-kommune-3", "de samme veilederne hele veien", "Videreføring", "S3", "Ingrid",
         "2024-05-06T12:05:00Z"),
    }
    book = load_codebook(project.codebook_path)
    assert book.theme("Kontinuitet (Kommuneprosjekt)").codes == ["Brudd i arbeidet", "Videreføring"]
    assert "set 'Kontinuitet' has the name of the project's theme" in err
    assert "not carried over: 1 PDF sources, 1 graphs, 1 links" in out


def test_maxqda_crlf_and_bom_timestamps_and_speaker_numbers(fresh, tmp_path, capsys):
    project, out, _err = _import(capsys, fresh, qdpx_from_folder("maxqda", tmp_path))
    assert _codings(project) == {
        ("Fokusgruppe-skole-B", "Vi har lært å se på egen praksis, og lærerne snakker mer sammen.\n"
         "Det er kanskje det viktigste.", "Læringsutbytte", "Speaker 2", "Siri", "2024-06-01T09:00:00Z"),
        ("Fokusgruppe-skole-B", "Vi hadde ikke råd til vikarer.", "Penger", "Speaker 2", "Siri", "2024-06-01T09:05:00Z"),
    }
    turns = project.store.current_turns("Fokusgruppe-skole-B")
    assert [(t["speaker"], t["timestamp"]) for t in turns][:2] == [("Speaker 1", "00:00:04"), ("Speaker 2", "00:00:11")]
    assert load_codebook(project.codebook_path).code("Penger").color == "#d62728"
    assert [(m.target_kind, m.target) for m in all_memos(project.store)] == [("code", "Læringsutbytte")]


def test_qualcoder_categories_journals_as_notes_and_an_unlabelled_source(fresh, tmp_path, capsys):
    project, out, _err = _import(capsys, fresh, qdpx_from_folder("qualcoder", tmp_path))
    book = load_codebook(project.codebook_path)
    assert book.code("Tidlig fase").parent == "Erfaringer over tid"
    assert book.code("Erfaringer over tid").definition.startswith("Kategori:")
    assert _codings(project) == {
        ("lærer_berit.txt", "I starten var det mye møter og lite endring.", "Tidlig fase", "Berit", "default",
         "2024-04-02T10:00:00Z"),
        ("lærer_berit.txt", "vi fikk tid til å prøve ut nye ting i klasserommet", "Endret praksis", "Berit",
         "default", "2024-04-02T10:02:00Z"),
    }
    journal = sorted((m.text, m.created) for m in all_memos(project.store) if m.target_kind == "journal")
    assert journal == [("Jeg merker at jeg leser intervjuet med mine egne erfaringer som lærer.", "2024-04-01T20:00:00Z"),
                       ("Tid går igjen i flere koder; vurder et eget tema.", "2024-04-03T20:00:00Z")]
    assert project.registry.informant("Berit").attributes == {"Skoletype": "ungdomsskole"}
    assert len(project.store.current_turns("lærer_berit.txt")) == 3  # one turn per paragraph
    assert "read as one turn per paragraph: lærer_berit.txt" in out


def test_taguette_invalid_empty_sets_and_user_handles_as_labels(fresh, tmp_path, capsys):
    project, out, err = _import(capsys, fresh, qdpx_from_folder("taguette", tmp_path))
    got = {(v.quote, v.code, v.informant, v.coder) for v in query_codings(project.store)}
    assert got == {("Den var brå. Plutselig var det nye folk og nye planer.", "overgang", "admin-2", "admin"),
                   ("Noen som kjente historien vår.", "taguette/historikk", "admin-2", "admin")}  # Tabell 3 has Historikk
    assert "conflict: code 'historikk'" in err
    assert "2 informants" in out and "not carried over: nothing" in out


@pytest.mark.parametrize("sql, table, field", [
    ("UPDATE codings SET created = '2020-01-01T00:00:00Z' WHERE id = 1", "codings", "created"),
    ("UPDATE codings SET coder = 'mottaker' WHERE id = 2", "codings", "coder"),
    ("UPDATE memos SET created = '2020-01-01T00:00:00Z' WHERE id = 1", "memos", "created"),
])
def test_an_imported_coder_or_date_edited_afterwards_is_caught_by_the_audit(fresh, tmp_path, capsys, sql, table, field):
    import sqlite3

    _import(capsys, fresh, qdpx_from_folder("maxqda", tmp_path))[0].close()
    conn = sqlite3.connect(fresh.root / "rta.db")
    conn.execute(sql)
    conn.commit()
    conn.close()
    report = audit(Project.open(fresh.root))
    assert [(f.ids.get("table"), f.ids.get("field")) for f in report.failures] == [(table, field)]
    assert "the log says" in report.failures[0].cause


def test_qc_line_level_selections_start_where_the_turns_text_begins_and_the_log_says_so(fresh, tmp_path, capsys):
    import json

    project, out, _err = _import(capsys, fresh, qdpx_from_folder("qc", tmp_path))
    got = {(v.quote, v.code, v.informant, v.line_start, v.line_end) for v in query_codings(project.store)}
    assert got == {("Den var nyttig for ledergruppa.", "Nytte", "R4", 2, 2),
                   ("Den var nyttig for ledergruppa.\nVi fikk hjelp til å lage en plan.", "Planarbeid", "R4", 2, 3)}
    text = project.store.transcript_text("rektor-4")
    logged = [json.loads(r[0]) for r in project.store.conn.execute(
        "SELECT payload FROM events WHERE kind = 'coding.added' ORDER BY seq")]
    for payload in logged:
        asked = payload["adjusted"]["requested"]
        assert text[asked[0]:].startswith("R4: [00:02:10] Den var")  # the line as qc selected it
        assert payload["start"] == payload["adjusted"]["moved_to"] == text.index("Den var")
        assert "speaker label or timestamp of turn 2 (R4)" in payload["adjusted"]["reason"]
    assert "2 selection(s) began inside a speaker label or timestamp" in out
