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
    from rta.codebook_yaml import load_codebook

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
    from rta.codebook_yaml import load_codebook

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


# -- item 3: any speaker scheme, or none -----------------------------------------------------

INTERVJU = ("Moderator: Hva betyr tid for dere?\n"
            "Speaker 1: Vi har aldri nok tid til å planlegge sammen.\n"
            "Max Bigman: For oss handler det mest om hvem som sitter i ledelsen.\n"
            "Speaker 1: Og om ledelsen blir.\n")
DAGBOK = ("Jeg skrev ned det viktigste etter møtet med rektor.\n\n"
          "Det var mye usikkerhet om hvem som skulle lede arbeidet videre,\nog ingen visste svaret.\n")


def _speaker_qdpx(tmp_path: Path) -> Path:
    tid = "2a000000-0000-4000-8000-000000000001"
    body = (f'<CodeBook><Codes><Code guid="{tid}" name="Tidsbruk" isCodable="true"/></Codes></CodeBook>'
            '<Cases><Case guid="2b000000-0000-4000-8000-000000000001" name="Hege">'
            '<SourceRef targetGUID="2c000000-0000-4000-8000-000000000002"/></Case></Cases>'
            '<Sources><TextSource guid="2c000000-0000-4000-8000-000000000001" name="gruppeintervju" '
            'plainTextPath="internal://g.txt">'
            + _selection(1, INTERVJU, "Vi har aldri nok tid til å planlegge sammen.", tid)
            + _selection(2, INTERVJU, "hvem som sitter i ledelsen", tid)
            + '</TextSource><TextSource guid="2c000000-0000-4000-8000-000000000002" name="dagbok" '
            'plainTextPath="internal://d.txt">'
            + _selection(3, DAGBOK, "Det var mye usikkerhet om hvem som skulle lede arbeidet videre,\nog ingen", tid)
            + "</TextSource></Sources>")
    return make_qdpx(tmp_path / "talere.qdpx", project_qde(body, name="Talere"),
                     {"sources/g.txt": INTERVJU, "sources/d.txt": DAGBOK})


def test_labels_the_registry_does_not_know_are_registered_as_informants_with_role_ukjent(tmp_path, capsys):
    from rta.audit import audit

    project = Project.init(tmp_path / "studie", name="Talere", coder="mottaker")
    speakers = tmp_path / "talere.yaml"
    speakers.write_text("Moderator: intervjuer\nMax Bigman: {role: skoleeier, group: kommune 9}\n", encoding="utf-8")
    code, out, err = run_cli(capsys, project.root, "import-qdpx", str(_speaker_qdpx(tmp_path)),
                             "--speakers", str(speakers))
    assert code == 0, err
    assert "Speaker 1 (ukjent)" in out and "Max Bigman (skoleeier)" in out and "Hege (ukjent)" in out
    assert "read as one turn per paragraph: dagbok" in out
    project = Project.open(project.root)
    registry = project.registry
    assert (registry.informant("Speaker 1").role, registry.informant("Max Bigman").group) == ("ukjent", "kommune 9")
    assert registry.is_interviewer("Moderator")
    got = sorted((v.quote, v.informant, v.role) for v in query_codings(project.store))
    assert got == [("Det var mye usikkerhet om hvem som skulle lede arbeidet videre,\nog ingen", "Hege", "ukjent"),
                   ("Vi har aldri nok tid til å planlegge sammen.", "Speaker 1", "ukjent"),
                   ("hvem som sitter i ledelsen", "Max Bigman", "skoleeier")]
    dagbok = project.store.transcript_text("dagbok")
    assert dagbok.startswith("---\nunlabelled_speaker: Hege\n---\n")
    turns = [(t["speaker"], t["line_start"]) for t in project.store.current_turns("dagbok")]
    assert turns == [("Hege", 4), ("Hege", 6)]  # one turn per paragraph
    assert audit(project).ok
    project.close()


def test_renaming_a_registered_speaker_to_a_study_code_keeps_the_codings_spans_and_the_audit_passes(tmp_path, capsys):
    from rta.audit import audit

    project = Project.init(tmp_path / "studie", name="Talere", coder="mottaker")
    import_qdpx(project, _speaker_qdpx(tmp_path))
    spans = sorted((v.id, v.start, v.end, v.quote) for v in query_codings(project.store))
    code, out, err = run_cli(capsys, project.root, "informants", "rename", "Speaker 1", "S1")
    assert code == 0, err
    assert "folded into 'S1'" in out and "1 coding(s) now credited to S1" in out
    code, out, err = run_cli(capsys, project.root, "informants", "rename", "Max Bigman", "R7")
    assert code == 0 and "renamed to 'R7' (skoleleder, kommune 7)" in out
    project = Project.open(project.root)
    assert sorted((v.id, v.start, v.end, v.quote) for v in query_codings(project.store)) == spans
    by_quote = {v.quote: (v.informant, v.role, v.group) for v in query_codings(project.store)}
    assert by_quote["Vi har aldri nok tid til å planlegge sammen."] == ("S1", "skoleeier", "kommune 1")
    assert by_quote["hvem som sitter i ledelsen"] == ("R7", "skoleleder", "kommune 7")
    assert "Speaker 1" in project.registry.informant("S1").aliases  # the label in the text still names S1
    assert project.store.conn.execute("SELECT COUNT(*) FROM informants WHERE code = 'Speaker 1'").fetchone()[0] == 0
    assert audit(project).ok
    # the registry still parses the imported text the same way (rta add --revise, the audit's re-parse)
    from rta.transcripts import parse_text

    again = parse_text(project.store.transcript_text("gruppeintervju"), project.registry)
    assert [t.code for t in again.turns] == ["Moderator", "S1", "R7", "S1"]  # no --speakers: an informant
    assert run_cli(capsys, project.root, "informants", "rename", "Nobody", "S2")[0] == 2
    project.close()


def test_a_turn_edited_after_a_rename_is_caught_by_the_audit(tmp_path):
    import sqlite3

    from rta.audit import audit
    from rta.informant_rename import rename_informant

    project = Project.init(tmp_path / "studie", name="Talere", coder="mottaker")
    import_qdpx(project, _speaker_qdpx(tmp_path))
    rename_informant(project, "Speaker 1", "S1")
    project.close()
    conn = sqlite3.connect(tmp_path / "studie" / "rta.db")
    conn.execute("UPDATE turns SET informant = 'Speaker 1' WHERE transcript_id = 'gruppeintervju' AND n = 2")
    conn.commit()
    conn.close()
    report = audit(Project.open(tmp_path / "studie"))
    assert not report.ok
    assert any(f.ids.get("transcript") == "gruppeintervju" and "informant.renamed" in f.cause for f in report.failures)


def test_aliases_in_the_registry_make_label_variants_one_informant(tmp_path):
    from rta.informants import load_registry_text
    from rta.transcripts import parse_text

    text = (Path(__file__).resolve().parent.parent / "codebooks" / "informants_tabell2.yaml").read_text(encoding="utf-8")
    text = text.replace("  - {code: Va, role: veileder}",
                        '  - {code: Va, role: veileder, aliases: ["UH-ansatte Hege", "Den UH-ansatte Hege"]}')
    registry = load_registry_text(text, "informants.yaml")
    t = parse_text("I: Hvem var med?\nUH-ansatte Hege: Jeg var med fra start.\n"
                   "Den UH-ansatte Hege: Og jeg ble med videre.\n", registry)
    assert [(x.speaker, x.code) for x in t.turns] == [("I", None), ("UH-ansatte Hege", "Va"),
                                                       ("Den UH-ansatte Hege", "Va")]
    with pytest.raises(RtaError, match="already a code or alias"):
        load_registry_text(text.replace("{code: Vb, role: veileder}", "{code: Vb, role: veileder, aliases: [Va]}"),
                           "informants.yaml")


def test_decomposed_letters_and_invisible_characters_keep_the_selections_on_their_words(tmp_path):
    import unicodedata

    raw = ("I: Hva\u00ad skjedde?\r\n"
           + unicodedata.normalize("NFD", "S1: Vi måtte bytte rektor, og \u200bdet tok tid å få ro.\r\n"))
    quote = unicodedata.normalize("NFD", "det tok tid å få ro.")
    start = raw.index(quote) - 1  # the zero-width space before it
    body = ('<Sources><TextSource guid="3a000000-0000-4000-8000-000000000001" name="mac" '
            'plainTextPath="internal://mac.txt"><PlainTextSelection guid="3b000000-0000-4000-8000-000000000001" '
            f'startPosition="{start}" endPosition="{start + 1 + len(quote)}"><Coding '
            'guid="3c000000-0000-4000-8000-000000000001"><CodeRef targetGUID="6c5f96a4-e92e-45fd-93d1-a551a48a8438"/>'
            "</Coding></PlainTextSelection></TextSource></Sources>")
    project = Project.init(tmp_path / "studie", name="Mac", coder="mottaker")
    import_qdpx(project, make_qdpx(tmp_path / "mac.qdpx", project_qde(body), {"sources/mac.txt": raw}))
    (view,) = query_codings(project.store)
    assert (view.quote, view.code) == ("det tok tid å få ro.", "Anerkjennelse")
    assert project.store.transcript_text("mac") == "I: Hva skjedde?\nS1: Vi måtte bytte rektor, og det tok tid å få ro.\n"
    project.close()


def test_the_interviewer_a_sources_front_matter_names_is_not_registered_as_an_informant(tmp_path):
    text = "---\nid: samtale-9\ninterviewer: Forsker\n---\nForsker: Hva tenker du om tiden?\nS1: Den strekker ikke til.\n"
    body = ('<Sources><TextSource guid="4a000000-0000-4000-8000-000000000001" name="samtale" '
            'plainTextPath="internal://s.txt"/></Sources>')
    project = Project.init(tmp_path / "studie", name="Forsker", coder="mottaker")
    result = import_qdpx(project, make_qdpx(tmp_path / "f.qdpx", project_qde(body), {"sources/s.txt": text}))
    assert result.informants_added == [] and project.registry.informant("Forsker") is None
    assert [t["informant"] for t in project.store.current_turns("samtale-9")] == [None, "S1"]
    project.close()
