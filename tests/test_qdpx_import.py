"""Importing another tool's REFI-QDA project (`rta import-qdpx`): codes found by GUID, the
project's codebook brought along, any speaker scheme, nothing dropped silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from qdpx_build import make_qdpx, project_qde
from rta.coding import query_codings
from rta.errors import RtaError
from rta.project import Project
from rta.qdpx import import_qdpx
from test_store_fixtures import run_cli

G_SKOLE = "0a000000-0000-4000-8000-000000000001"
G_FRITID = "0a000000-0000-4000-8000-000000000002"
G_PROG_SKOLE = "0a000000-0000-4000-8000-000000000003"
G_PROG_FRITID = "0a000000-0000-4000-8000-000000000004"

CODEBOOK = f"""schema_version: 1
name: Programmering
language: nb
codes:
  - name: Skole
    guid: {G_SKOLE}
    definition: Det som skjer i skolen.
  - name: programmering i skolen
    guid: {G_PROG_SKOLE}
    parent: Skole
    definition: Programmering som fag eller verktøy i undervisningen.
  - name: Fritid
    guid: {G_FRITID}
    definition: Det som skjer utenfor skolen.
  - name: programmering på fritiden
    guid: {G_PROG_FRITID}
    parent: Fritid
    definition: Programmering elevene driver med på egen hånd.
  - name: Tid
    definition: Tid som ressurs.
"""

TEXT = ("I: Hvordan bruker dere programmering?\n"
        "S1: På skolen lager vi spill i matematikktimene.\n"
        "I: Og hjemme?\n"
        "S1: Hjemme koder mange av elevene hver kveld.\n")


def _selection(guid_n: int, text: str, quote: str, code_guid: str) -> str:
    start = text.index(quote)
    return (f'<PlainTextSelection guid="0b000000-0000-4000-8000-{guid_n:012d}" startPosition="{start}" '
            f'endPosition="{start + len(quote)}"><Coding guid="0c000000-0000-4000-8000-{guid_n:012d}">'
            f'<CodeRef targetGUID="{code_guid}"/></Coding></PlainTextSelection>')


def _two_programmings(prog_skole: str = G_PROG_SKOLE, prog_fritid: str = G_PROG_FRITID) -> str:
    return ("<CodeBook><Codes>"
            f'<Code guid="{G_SKOLE}" name="Skole" isCodable="false">'
            f'<Code guid="{prog_skole}" name="programmering" isCodable="true"/></Code>'
            f'<Code guid="{G_FRITID}" name="Fritid" isCodable="false">'
            f'<Code guid="{prog_fritid}" name="programmering" isCodable="true"/></Code>'
            "</Codes></CodeBook>")


@pytest.fixture
def prog_project(tmp_path: Path) -> Project:
    book = tmp_path / "programmering.yaml"
    book.write_text(CODEBOOK, encoding="utf-8")
    project = Project.init(tmp_path / "studie", name="Programmering", coder="mottaker", codebook=book)
    yield project
    project.close()


def test_coderefs_resolve_by_guid_so_a_name_under_two_parents_lands_on_the_right_code(prog_project, tmp_path):
    body = (_two_programmings() + '<Sources><TextSource guid="0d000000-0000-4000-8000-000000000001" name="elev" '
            'plainTextPath="internal://elev.txt">'
            + _selection(1, TEXT, "På skolen lager vi spill i matematikktimene.", G_PROG_SKOLE)
            + _selection(2, TEXT, "Hjemme koder mange av elevene hver kveld.", "{" + G_PROG_FRITID.upper() + "}")
            + "</TextSource></Sources>")
    path = make_qdpx(tmp_path / "prog.qdpx", project_qde(body), {"sources/elev.txt": TEXT})
    import_qdpx(prog_project, path)
    got = {(v.quote, v.code) for v in query_codings(prog_project.store)}
    assert got == {("På skolen lager vi spill i matematikktimene.", "programmering i skolen"),
                   ("Hjemme koder mange av elevene hver kveld.", "programmering på fritiden")}


def test_a_coderef_to_no_code_is_refused_naming_the_element_and_nothing_changes(prog_project, tmp_path, capsys):
    body = (_two_programmings() + '<Sources><TextSource guid="0d000000-0000-4000-8000-000000000001" name="elev" '
            'plainTextPath="internal://elev.txt">'
            + _selection(1, TEXT, "På skolen lager vi spill i matematikktimene.", "0e000000-0000-4000-8000-000000000009")
            + "</TextSource></Sources>")
    path = make_qdpx(tmp_path / "feil.qdpx", project_qde(body), {"sources/elev.txt": TEXT})
    before = "\n".join(prog_project.store.conn.iterdump())
    code, out, err = run_cli(capsys, prog_project.root, "import-qdpx", str(path))
    assert code == 2, (out, err)
    assert "<CodeRef targetGUID=\"0e000000-0000-4000-8000-000000000009\">" in err and "0b000000" in err
    assert "\n".join(prog_project.store.conn.iterdump()) == before
    assert not (prog_project.root / "imported").exists() or not list((prog_project.root / "imported").iterdir())


def test_a_name_is_used_only_when_no_guid_matches_and_it_names_exactly_one_code(prog_project, tmp_path):
    tid = "0f000000-0000-4000-8000-000000000001"
    body = (f'<CodeBook><Codes><Code guid="{tid}" name="tid" isCodable="true"/></Codes></CodeBook>'
            '<Sources><TextSource guid="0d000000-0000-4000-8000-000000000001" name="elev" '
            'plainTextPath="internal://elev.txt">'
            + _selection(1, TEXT, "Hjemme koder mange av elevene hver kveld.", tid)
            + "</TextSource></Sources>")
    path = make_qdpx(tmp_path / "tid.qdpx", project_qde(body), {"sources/elev.txt": TEXT})
    import_qdpx(prog_project, path)
    assert [v.code for v in query_codings(prog_project.store)] == ["Tid"]


NESTED = """<CodeBook><Codes>
  <Code guid="{skole}" name="Skole" isCodable="false">
    <Code guid="{prog_skole}" name="programmering" isCodable="true" color="#AA0000"/>
    <Code guid="1a000000-0000-4000-8000-000000000001" name="Vurdering" isCodable="true" color="#00AA00">
      <Description>Hvordan elevene blir vurdert.</Description>
    </Code>
  </Code>
  <Code guid="1a000000-0000-4000-8000-000000000002" name="Motivasjon" isCodable="true"/>
  <Code guid="1a000000-0000-4000-8000-000000000003" name="Hjemme" isCodable="false">
    <Code guid="1a000000-0000-4000-8000-000000000004" name="programmering" isCodable="true">
      <Description>Programmering hjemme, uten lærer.</Description>
    </Code>
  </Code>
</Codes></CodeBook>
<Sets><Set guid="1b000000-0000-4000-8000-000000000001" name="Læring">
  <Description>Hva elevene lærer, og hvor.</Description>
  <MemberCode targetGUID="{prog_skole}"/><MemberCode targetGUID="1a000000-0000-4000-8000-000000000004"/>
</Set></Sets>"""


def test_the_files_codebook_comes_along_merged_with_the_projects_conflicts_kept_apart(prog_project, tmp_path):
    from rta.audit import audit
    from rta.codebook import load_codebook

    body = NESTED.format(skole=G_SKOLE, prog_skole=G_PROG_SKOLE)
    path = make_qdpx(tmp_path / "nvivo.qdpx", project_qde(body, name="NVivo-studie"))
    result = import_qdpx(prog_project, path)
    book = load_codebook(prog_project.codebook_path)
    # by GUID: the project's own names are kept; new codes come with parent, colour and definition
    assert "programmering" not in book.code_names()
    assert book.code("Vurdering").parent == "Skole" and book.code("Vurdering").color == "#00aa00"
    assert book.code("Vurdering").definition == "Hvordan elevene blir vurdert."
    assert book.code("Hjemme").parent is None and book.code("Hjemme/programmering").parent == "Hjemme"
    assert book.code("Motivasjon").guid == "1a000000-0000-4000-8000-000000000002"
    assert sorted(result.codes_added) == ["Hjemme", "Hjemme/programmering", "Motivasjon", "Vurdering"]
    assert book.theme("Læring").codes == ["programmering i skolen", "Hjemme/programmering"]
    assert result.themes_added == ["Læring"] and result.conflicts == []
    assert audit(prog_project).ok


def test_a_code_with_a_taken_name_and_another_guid_is_kept_apart_under_its_parent_path(prog_project, tmp_path):
    from rta.codebook import load_codebook

    other = "1c000000-0000-4000-8000-000000000001"
    body = (f'<CodeBook><Codes><Code guid="{G_SKOLE}" name="Skole" isCodable="false">'
            f'<Code guid="{other}" name="programmering i skolen" isCodable="true"/></Code>'
            f'<Code guid="1c000000-0000-4000-8000-000000000002" name="Fritid" isCodable="true"/></Codes></CodeBook>'
            '<Sources><TextSource guid="0d000000-0000-4000-8000-000000000001" name="elev" '
            'plainTextPath="internal://elev.txt">'
            + _selection(1, TEXT, "På skolen lager vi spill i matematikktimene.", other)
            + "</TextSource></Sources>")
    path = make_qdpx(tmp_path / "konflikt.qdpx", project_qde(body, name="Atlas"), {"sources/elev.txt": TEXT})
    result = import_qdpx(prog_project, path)
    book = load_codebook(prog_project.codebook_path)
    assert book.code("Skole/programmering i skolen").guid == other
    assert book.code("Atlas/Fritid").parent is None
    assert len(result.conflicts) == 2 and "kept apart as 'Skole/programmering i skolen'" in result.conflicts[0]
    assert [v.code for v in query_codings(prog_project.store)] == ["Skole/programmering i skolen"]


def test_init_from_a_qdpx_starts_a_project_with_the_files_codebook(tmp_path, capsys):
    from rta.audit import audit
    from test_store_fixtures import run

    body = (NESTED.format(skole=G_SKOLE, prog_skole=G_PROG_SKOLE)
            + '<Sources><TextSource guid="0d000000-0000-4000-8000-000000000001" name="elev" '
            'plainTextPath="internal://elev.txt">'
            + _selection(1, TEXT, "Hjemme koder mange av elevene hver kveld.", "1a000000-0000-4000-8000-000000000004")
            + "</TextSource></Sources>")
    path = make_qdpx(tmp_path / "nvivo.qdpx", project_qde(body, name="NVivo-studie"), {"sources/elev.txt": TEXT})
    code, out, err = run(["init", str(tmp_path / "ny"), "--from", str(path), "--coder", "kari"], capsys)
    assert code == 0, err
    assert "imported 1 transcript(s) and 1 coding(s)" in out and "6 code(s) and 1 theme(s) added" in out
    project = Project.open(tmp_path / "ny")
    assert list(project.store.conn.execute("SELECT code FROM codings").fetchone()) == ["Hjemme/programmering"]
    assert audit(project).ok
    project.close()


def test_init_from_a_bad_qdpx_creates_nothing(tmp_path, capsys):
    from test_store_fixtures import run

    body = ('<Sources><TextSource guid="0d000000-0000-4000-8000-000000000001" name="elev" '
            'plainTextPath="internal://elev.txt">' + _selection(1, TEXT, "Hjemme koder", G_SKOLE)
            + "</TextSource></Sources>")
    path = make_qdpx(tmp_path / "feil.qdpx", project_qde(body), {"sources/elev.txt": TEXT})
    code, out, err = run(["init", str(tmp_path / "ny"), "--from", str(path)], capsys)
    assert code == 2 and "names no code" in err
    assert not (tmp_path / "ny").exists()
