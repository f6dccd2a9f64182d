"""REFI-QDA codebook exchange: export valid against Codebook.xsd, lenient import, round trip."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from rta.codebook_yaml import dump_codebook, load_codebook, parse_codebook
from rta.errors import RtaError
from rta.qdc import (
    CODEBOOK_NS,
    PROJECT_NS,
    code_description,
    codebook_to_element,
    codebook_to_qdc,
    default_xsd,
    parse_code_description,
    read_qdc,
    sets_element,
    to_xml_bytes,
    validate_xml,
)
from rta.resources import default_codebook_path

from test_store_fixtures import run

CB = Path(__file__).parent / "data" / "codebooks"
NVIVO = CB / "nvivo_atlas_style.qdc"
QUALCODER = CB / "qualcoder_maxqda_style.qdc"


@pytest.fixture
def codebook_xsd(refi_qda_dir: Path) -> Path:
    return refi_qda_dir / "Codebook.xsd"


def _strip(items):
    return [replace(i, line=None) for i in items]


# -- export ----------------------------------------------------------------------------------


def test_tabell3_export_validates_against_the_shared_codebook_xsd(codebook_xsd: Path, tmp_path: Path) -> None:
    import xmlschema

    data = codebook_to_qdc(load_codebook(default_codebook_path()))
    out = tmp_path / "tabell3.qdc"
    out.write_bytes(data)
    xmlschema.XMLSchema(str(codebook_xsd)).validate(str(out))
    assert validate_xml(out, codebook_xsd) == []


def test_schemas_are_found_in_the_env_folder_first_then_beside_a_checkout(
        refi_qda_dir: Path, tmp_path: Path, monkeypatch) -> None:
    import shutil

    import rta.qdc

    monkeypatch.setattr(rta.qdc, "CHECKOUT_SCHEMAS", refi_qda_dir)
    monkeypatch.delenv("RTA_REFI_QDA_DIR", raising=False)
    assert default_xsd("Project.xsd") == refi_qda_dir / "Project.xsd"
    mine = tmp_path / "xsd"
    mine.mkdir()
    shutil.copy(refi_qda_dir / "Codebook.xsd", mine / "Codebook.xsd")
    monkeypatch.setenv("RTA_REFI_QDA_DIR", str(mine))
    assert default_xsd("Codebook.xsd") == mine / "Codebook.xsd"
    assert default_xsd("Project.xsd") == refi_qda_dir / "Project.xsd"  # not in mine: falls back


def test_without_schemas_export_still_writes_and_says_it_was_not_checked(
        tmp_path: Path, monkeypatch, capsys) -> None:
    import rta.qdc
    from rta.cli import main

    monkeypatch.setattr(rta.qdc, "CHECKOUT_SCHEMAS", tmp_path / "nowhere")
    monkeypatch.delenv("RTA_REFI_QDA_DIR", raising=False)
    with pytest.raises(RtaError, match="RTA_REFI_QDA_DIR"):
        default_xsd("Codebook.xsd")
    out = tmp_path / "tabell3.qdc"
    main(["codebook", "export", str(default_codebook_path()), "-o", str(out)])
    assert "not checked against Codebook.xsd" in capsys.readouterr().err
    assert len(read_qdc(out).codebook.codes) == 42  # written all the same, and readable


def test_export_structure_codes_nested_themes_as_sets_with_stable_guids() -> None:
    cb = load_codebook(CB / "valid_small.yaml")
    first = codebook_to_qdc(cb)
    assert first == codebook_to_qdc(load_codebook(CB / "valid_small.yaml"))  # repeatable
    root = ET.fromstring(first)
    ns = {"q": CODEBOOK_NS}
    top = root.findall("q:Codes/q:Code", ns)
    assert [c.get("name") for c in top] == ["Kontinuitet", "Økonomi", "Tid"]
    child = top[0].find("q:Code", ns)
    assert child.get("name") == "Utskiftning" and child.get("isCodable") == "true"
    assert top[0].get("guid") == "11111111-1111-4111-8111-111111111111"
    assert top[0].get("color") == "#2ca02c" and top[1].get("color") is None
    assert top[0].find("q:Description", ns).text.startswith("Arbeidet henger sammen over tid.")
    sets = root.findall("q:Sets/q:Set", ns)
    assert [s.get("name") for s in sets] == ["Kontinuitet", "Kapasitet"]
    tid_guid = "44444444-4444-4444-8444-444444444444"
    assert all(tid_guid in [m.get("guid") for m in s.findall("q:MemberCode", ns)] for s in sets)


def test_export_without_themes_omits_the_empty_sets_element(codebook_xsd: Path) -> None:
    cb = load_codebook(CB / "valid_small.yaml")
    cb.themes = []
    data = codebook_to_qdc(cb)
    assert b"Sets" not in data
    assert validate_xml(data, codebook_xsd) == []


def test_project_namespace_codebook_has_no_sets_and_sets_element_is_separate(refi_qda_dir: Path) -> None:
    cb = load_codebook(CB / "valid_small.yaml")
    project = ET.Element(f"{{{PROJECT_NS}}}Project", {"name": "Test"})
    book = codebook_to_element(cb, namespace=PROJECT_NS)
    assert book.find(f"{{{PROJECT_NS}}}Sets") is None
    project.append(book)
    project.append(sets_element(cb, PROJECT_NS))
    data = to_xml_bytes(project, PROJECT_NS)
    assert validate_xml(data, refi_qda_dir / "Project.xsd") == []
    assert read_qdc(data).codebook.themes_of("Tid") == ["Kapasitet", "Kontinuitet"]


def test_validate_xml_reports_schema_problems(codebook_xsd: Path) -> None:
    bad = (
        b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0">\n<Codes>\n<Code name="x" isCodable="true"/>\n'
        b'<Code guid="e0000000-0000-4000-8000-000000000001" name="y" isCodable="true" color="red"/>\n'
        b"</Codes>\n<Sets/>\n</CodeBook>"
    )
    problems = validate_xml(bad, codebook_xsd)
    assert all(p.severity == "error" for p in problems)
    assert [p.line for p in problems] == [3, 4, 6]  # ElementTree has no lines: rta maps them back
    assert "guid" in problems[0].message
    assert "not well-formed XML" in validate_xml(b"<CodeBook", codebook_xsd)[0].message


def test_description_sections_round_trip() -> None:
    code = load_codebook(default_codebook_path()).code("Tid")
    fields = parse_code_description(code_description(code))
    assert fields["definition"] == code.definition
    assert fields["inclusion"] == code.inclusion and fields["exclusion"] == code.exclusion
    assert fields["phrases"] == code.indicators.phrases and fields["regex"] == code.indicators.regex
    assert fields["examples"] == code.examples and fields["label"] == code.label


# -- round trip ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CB / "valid_small.yaml", default_codebook_path()], ids=["small", "tabell3"])
def test_round_trip_yaml_qdc_yaml_keeps_everything_that_matters(path: Path, tmp_path: Path) -> None:
    original = load_codebook(path)
    qdc = tmp_path / "cb.qdc"
    qdc.write_bytes(codebook_to_qdc(original))
    imported = read_qdc(qdc, name=original.name)
    assert imported.notes == []
    back, problems = parse_codebook(dump_codebook(imported.codebook), tmp_path / "back.yaml")
    assert [p for p in problems if p.severity == "error"] == []
    assert _strip(back.codes) == _strip(original.codes)  # names, hierarchy, descriptions, colours, GUIDs
    assert _strip(back.themes) == _strip(original.themes)  # membership, origin, status, opposite
    for code in original.codes:
        assert back.themes_of(code.name) == original.themes_of(code.name)


# -- import of files other tools write --------------------------------------------------------


def test_import_nvivo_atlas_style_bom_crlf_nested_missing_colours() -> None:
    raw = NVIVO.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    result = read_qdc(NVIVO)
    cb = result.codebook
    names = cb.code_names()
    assert names[:4] == ["Kommunikasjon", "Rolleavklaringer", "Uklarhet", "Vage bestillinger"]
    assert cb.code("Vage bestillinger").parent == "Uklarhet"
    assert cb.code("Uklarhet").parent == "Kommunikasjon"
    assert cb.code("Rolleavklaringer").color == "#3366cc"
    assert cb.code("Vage bestillinger").color == "#ff8800"  # #rgb expanded
    assert cb.code("Økonomi").color is None
    assert cb.code("Kommunikasjon").guid == "a1b2c3d4-0001-4000-8000-000000000001"  # braces dropped
    assert "Kontinuitet/Uklarhet" in names  # same name under another parent
    notes = "\n".join(result.notes)
    assert "noteref" in notes and "isCodable" in notes and "Uklarhet" in notes
    text = dump_codebook(cb)
    _, problems = parse_codebook(text)
    assert [p for p in problems if p.severity == "error"] == []


def test_import_non_codable_parents_as_themes() -> None:
    result = read_qdc(NVIVO, non_codable_as_themes=True)
    cb = result.codebook
    assert cb.theme_names() == ["Kommunikasjon", "Kontinuitet"]
    assert cb.theme("Kommunikasjon").codes == ["Rolleavklaringer", "Uklarhet", "Vage bestillinger"]
    assert cb.code("Rolleavklaringer").parent is None
    assert not cb.has_code("Kommunikasjon")


def test_import_qualcoder_maxqda_style_prefixed_namespace_and_sets() -> None:
    result = read_qdc(QUALCODER)
    cb = result.codebook
    assert cb.code_names() == ["Tid", "Tillit", "Strukturer", "Uten guid"]
    assert cb.themes_of("Tid") == ["Kapasitet", "Kontinuitet"]
    assert cb.theme("Kontinuitet").codes == ["Tid", "Strukturer", "Tillit"]
    tid = cb.code("Tid")
    assert tid.definition == "Tid som ressurs: tidsbruk og tidspress."
    assert tid.inclusion == "Mangel på tid til samarbeid."  # English headers read too
    assert tid.indicators.keywords == ["tidspress", "tidkrevende"]
    assert tid.color == "#9467bd"
    notes = "\n".join(result.notes)
    assert "Uten guid" in notes and "no GUID" in notes
    assert "0000000000ee" in notes and "member source" in notes
    assert "origin 'inductive'" in notes


def test_import_a_project_file_reads_codebook_and_project_sets() -> None:
    xml = (
        '<Project xmlns="urn:QDA-XML:project:1.0" name="p"><CodeBook><Codes>'
        '<Code guid="e0000000-0000-4000-8000-000000000001" name="Tid" isCodable="true"/>'
        '</Codes></CodeBook><Sets><Set guid="e0000000-0000-4000-8000-000000000002" name="Kapasitet">'
        '<MemberCode guid="e0000000-0000-4000-8000-000000000001"/></Set></Sets></Project>'
    ).encode()
    cb = read_qdc(xml).codebook
    assert cb.themes_of("Tid") == ["Kapasitet"]


def test_import_rejects_what_is_not_a_codebook(tmp_path: Path) -> None:
    path = tmp_path / "x.qdc"
    path.write_text("<html><body/></html>", encoding="utf-8")
    with pytest.raises(RtaError, match="unexpected root"):
        read_qdc(path)
    path.write_text("<CodeBook><Codes>", encoding="utf-8")
    with pytest.raises(RtaError, match="well-formed") as exc:
        read_qdc(path)
    assert exc.value.line == 1


# -- CLI -------------------------------------------------------------------------------------


def test_cli_export_writes_valid_qdc_and_says_what_is_lost(tmp_path: Path, codebook_xsd: Path, capsys) -> None:
    out = tmp_path / "tabell3.qdc"
    code, _, err = run(["codebook", "export", str(default_codebook_path()), "--format", "qdc", "-o", str(out)], capsys)
    assert code == 0, err
    assert validate_xml(out, codebook_xsd) == []
    assert "not carried over" in err


def test_cli_import_writes_yaml_and_lists_what_was_not_carried(tmp_path: Path, capsys) -> None:
    out = tmp_path / "imported.yaml"
    code, _, err = run(["codebook", "import", str(QUALCODER), "-o", str(out)], capsys)
    assert code == 0, err
    assert "imported 4 codes and 2 themes" in err and "not carried over" in err
    cb = load_codebook(out)
    assert cb.themes_of("Strukturer") == ["Kapasitet", "Kontinuitet"]
    code, _, err = run(["codebook", "import", str(QUALCODER), "-o", str(out)], capsys)
    assert code == 2 and "--force" in err


def test_cli_round_trip_through_files(tmp_path: Path, capsys) -> None:
    qdc, back = tmp_path / "a.qdc", tmp_path / "b.yaml"
    src = CB / "valid_small.yaml"
    assert run(["codebook", "export", str(src), "-o", str(qdc)], capsys)[0] == 0
    assert run(["codebook", "import", str(qdc), "-o", str(back), "--name", "Liten kodebok"], capsys)[0] == 0
    code, out, _ = run(["codebook", "diff", str(src), str(back)], capsys)
    assert code == 0 and "Codes " not in out and "Theme" not in out
