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
