"""Codebooks: YAML with line numbers, validation, Norwegian-sorted views, diff, CLI."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from test_store_fixtures import run
from rta.codebook import Codebook, CodebookLookupError, diff_codebooks
from rta.codebook_yaml import dump_codebook, fix_guids, load_codebook, parse_codebook, validate_codebook
from rta.errors import RtaError
from rta.norsk import sort_no
from rta.resources import default_codebook_path

CB = Path(__file__).parent / "data" / "codebooks"
TABELL3 = default_codebook_path()

TABELL3_CODES = (
    "Anerkjennelse, Brudd, Døråpnere, Eierskap, Erfaringer, Forståelse, Forventninger, Handlingsrom, "
    "Historikk, Identitet, Kapasitetsbygging, Kompleksitet, Kompetanse, Kommunikasjon, Kontinuitet, "
    "Likeverd, Lokalt, Lærerikt, Medvirkning, Motivasjon, Muligheter, Personavhengighet, Refleksjon, "
    "Relasjoner, Rolleavklaringer, Rom, Sammenheng, Selvbestemmelse, Selvstendighet, Strukturer, Støtte, "
    "Suksessfaktorer, Tid, Tillit, Uklarhet, Usikkerhet, Utbytte, Utskiftning, Variasjon, "
    "Veilederrollen, Veiledning, Økonomi"
).split(", ")


def errors(path: Path) -> list:
    return [p for p in validate_codebook(path) if p.severity == "error"]


def warnings(path: Path) -> list:
    return [p for p in validate_codebook(path) if p.severity == "warning"]


# -- the Tabell 3 codebook -------------------------------------------------------------------


def test_tabell3_validates_with_42_codes_3_themes_and_no_warnings() -> None:
    assert validate_codebook(TABELL3) == []
    cb = load_codebook(TABELL3)
    assert len(cb.codes) == 42 and len(cb.themes) == 3
    assert sorted(cb.code_names()) == sorted(TABELL3_CODES)
    assert cb.schema_version == 1 and cb.language == "nb"
    assert "tolkning" in cb.mapping_note


def test_tabell3_themes_origins_opposite_and_membership() -> None:
    cb = load_codebook(TABELL3)
    assert cb.theme("Kommunikasjon").origin == "inductive"
    assert cb.theme("Kontinuitet").origin == "inductive"
    assert cb.theme("Kontinuitet").opposite == "Brudd"
    assert cb.theme("Kapasitet").origin == "deductive"
    assert cb.themes_of("Tid") == ["Kapasitet", "Kontinuitet"]  # many-to-many
    assert cb.themes_of("Brudd") == ["Kontinuitet"]
    assert cb.unthemed_codes() == ["Identitet", "Variasjon"]


def test_tabell3_every_code_is_complete_and_has_guid_colour_and_indicators() -> None:
    cb = load_codebook(TABELL3)
    guids = set()
    for code in cb.codes:
        assert code.definition and code.inclusion and code.exclusion, code.name
        assert not code.indicators.is_empty(), code.name
        assert 1 <= len(code.examples) <= 2, code.name
        assert re.fullmatch(r"#[0-9a-f]{6}", code.color or ""), code.name
        for pattern in code.indicators.regex:
            re.compile(pattern)
        guids.add(code.guid)
    assert len(guids) == 42
    raw = TABELL3.read_text(encoding="utf-8")
    assert raw.count("guid:") == 45  # GUIDs are written in, not derived


def test_tabell3_avoids_bare_short_ambiguous_indicators() -> None:
    cb = load_codebook(TABELL3)
    for code in cb.codes:
        for term in code.indicators.keywords + code.indicators.lemmas:
            assert len(term) > 3 and " " not in term, (code.name, term)  # multi-word cues are phrases
    rom = cb.code("Rom").indicators
    assert "rom" not in rom.keywords + rom.lemmas and "rom for" in rom.phrases
    tid = cb.code("Tid").indicators
    assert "tid" not in tid.keywords + tid.lemmas and "tid til" in tid.phrases
    assert "på tide" in cb.code("Tid").exclusion and "hele tiden" in cb.code("Tid").exclusion
    kont = cb.code("Kontinuitet").indicators
    assert {"kontinuitet", "kontinuerlig", "stabil"} <= set(kont.keywords)
    assert "de samme veilederne" in kont.phrases
    assert {"bytte av", "skiftet ut"} <= set(cb.code("Utskiftning").indicators.phrases)


# -- model -----------------------------------------------------------------------------------


def test_lookup_is_case_and_accent_insensitive_and_suggests_on_miss() -> None:
    cb = load_codebook(TABELL3)
    assert cb.code("okonomi").name == "Økonomi"
    assert cb.code("STØTTE").name == "Støtte"
    with pytest.raises(CodebookLookupError) as exc:
        cb.code("Kontinutet")
    assert "Kontinuitet" in str(exc.value)
    assert isinstance(exc.value, KeyError) and isinstance(exc.value, RtaError)


def test_sha256_fingerprints_file_bytes() -> None:
    import hashlib

    cb = load_codebook(TABELL3)
    assert cb.sha256 == hashlib.sha256(TABELL3.read_bytes()).hexdigest()


def test_dump_then_parse_gives_an_equal_codebook() -> None:
    cb = load_codebook(CB / "valid_small.yaml")
    again, problems = parse_codebook(dump_codebook(cb))
    assert [p for p in problems if p.severity == "error"] == []
    strip = lambda items: [replace(i, line=None) for i in items]  # noqa: E731
    assert strip(again.codes) == strip(cb.codes)
    assert strip(again.themes) == strip(cb.themes)
    assert again.mapping_note == cb.mapping_note


def test_missing_guids_are_derived_deterministically_and_warned() -> None:
    a = load_codebook(CB / "no_guids.yaml")
    b = load_codebook(CB / "no_guids.yaml")
    assert [c.guid for c in a.codes] == [c.guid for c in b.codes]
    assert a.codes[0].guid != a.codes[1].guid
    ws = warnings(CB / "no_guids.yaml")
    assert any("no guid" in w.message and "--fix-guids" in w.hint for w in ws)


def test_fix_guids_writes_guids_keeping_comments(tmp_path: Path) -> None:
    path = tmp_path / "cb.yaml"
    shutil.copy(CB / "no_guids.yaml", path)
    text, added = fix_guids(path)
    assert added == 3
    assert text.startswith("# GUIDs missing")
    path.write_text(text, encoding="utf-8")
    assert validate_codebook(path) == []
    assert fix_guids(path)[1] == 0


def test_fix_guids_keeps_crlf_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "cb.yaml"
    path.write_bytes((CB / "no_guids.yaml").read_bytes().replace(b"\n", b"\r\n"))
    text, added = fix_guids(path)
    assert added == 3 and text.count("\r\n") == text.count("\n")


# -- validation: each kind of problem, with its line -----------------------------------------


def test_valid_small_codebook_has_no_problems() -> None:
    assert validate_codebook(CB / "valid_small.yaml") == []


def test_yaml_syntax_error_reports_the_parser_line() -> None:
    [err] = errors(CB / "err_syntax.yaml")
    assert "YAML syntax error" in err.message
    assert err.line == 5 and "mapping values are not allowed" in err.message
    assert str(err.path).endswith("err_syntax.yaml")


def test_unknown_keys_are_errors_with_did_you_mean() -> None:
    errs = errors(CB / "err_unknown_key.yaml")
    by_line = {e.line: e for e in errs}
    assert "unknown key 'definiton'" in by_line[5].message
    assert "'definition'" in by_line[5].hint
    assert "unknown key 'keyword'" in by_line[8].message
    assert "'keywords'" in by_line[8].hint


def test_missing_required_keys_are_errors_at_the_entry() -> None:
    errs = errors(CB / "err_missing_key.yaml")
    assert any(e.line == 4 and "'name'" in e.message for e in errs)
    assert any(e.line == 7 and "'definition'" in e.message for e in errs)


def test_duplicate_code_names_after_case_and_accent_folding() -> None:
    [err] = errors(CB / "err_duplicate.yaml")
    assert err.line == 7
    assert "Stotte" in err.message and "Støtte" in err.message and "line 4" in err.message


def test_theme_naming_unknown_code_with_did_you_mean() -> None:
    [err] = errors(CB / "err_theme_unknown_code.yaml")
    assert err.line == 13
    assert "Kontinuitett" in err.message and "'Kontinuitet'" in err.hint


def test_parent_naming_unknown_code() -> None:
    [err] = errors(CB / "err_parent_unknown.yaml")
    assert err.line == 10 and "Kontinutet" in err.message and "'Kontinuitet'" in err.hint


def test_cycles_in_code_and_theme_parents() -> None:
    errs = errors(CB / "err_parent_cycle.yaml")
    assert len(errs) == 2
    code_cycle, theme_cycle = errs
    assert code_cycle.line == 7 and "cycle in code parents" in code_cycle.message
    assert "Aa -> Bb -> Cc -> Aa" in code_cycle.message
    assert theme_cycle.line == 21 and "cycle in theme parents" in theme_cycle.message


def test_invalid_regex_reports_the_re_error_on_its_item_line() -> None:
    [err] = errors(CB / "err_bad_regex.yaml")
    assert err.line == 10
    assert "(lite tid" in err.message and "missing )" in err.message


def test_invalid_origin_and_status() -> None:
    errs = errors(CB / "err_origin_status.yaml")
    by_line = {e.line: e for e in errs}
    assert "origin" in by_line[10].message and "'deductive'" in by_line[10].hint
    assert "status" in by_line[12].message


def test_bad_colours_are_errors() -> None:
    errs = errors(CB / "err_bad_color.yaml")
    assert [e.line for e in errs] == [7, 11]
    assert all("#rrggbb" in e.message for e in errs)


def test_empty_indicators_and_short_terms_are_warnings_not_errors() -> None:
    path = CB / "warn_empty_indicators.yaml"
    assert errors(path) == []
    ws = warnings(path)
    assert any(w.line == 6 and "empty indicator list" in w.message for w in ws)
    assert any(w.line == 10 and "'rom'" in w.message and "very short" in w.message for w in ws)
    assert any(w.line == 11 and "'rom for'" in w.message and "phrases" in w.hint for w in ws)
    load_codebook(path)  # loads despite warnings


def test_duplicate_yaml_keys_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(
        "schema_version: 1\nname: X\ncodes:\n  - name: Tid\n    definition: a\n    definition: b\n"
        "    indicators: {phrases: [tid til]}\n",
        encoding="utf-8",
    )
    [err] = errors(path)
    assert err.line == 6 and "duplicate key 'definition'" in err.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "schema_version: 1\nname: X\ncolour: red\ncodes:\n  - name: Tid\n    definition: a\n"
        "    color: blue\n    indicators: {regex: ['(']}\n",
        encoding="utf-8",
    )
    assert [e.line for e in errors(path)] == [3, 7, 8]


def test_load_codebook_raises_with_all_problems_named_by_file_and_line() -> None:
    with pytest.raises(RtaError) as exc:
        load_codebook(CB / "err_bad_color.yaml")
    text = str(exc.value)
    assert "err_bad_color.yaml:7" in text and "err_bad_color.yaml:11" in text


def test_missing_file_is_a_clear_problem(tmp_path: Path) -> None:
    [p] = validate_codebook(tmp_path / "nope.yaml")
    assert "not found" in p.message
    with pytest.raises(RtaError):
        load_codebook(tmp_path / "nope.yaml")


# -- Norwegian collation ---------------------------------------------------------------------


def test_codes_sorted_in_norwegian_order_with_okonomi_last() -> None:
    names = [c.name for c in load_codebook(TABELL3).codes_sorted()]
    assert names[-1] == "Økonomi"
    assert names.index("Døråpnere") < names.index("Eierskap")
    assert names.index("Lokalt") < names.index("Lærerikt") < names.index("Medvirkning")
    assert names.index("Strukturer") < names.index("Støtte") < names.index("Suksessfaktorer")
    assert names == sort_no(TABELL3_CODES)


def test_dorapnere_sorts_after_dyr_words() -> None:
    assert sort_no(["Døråpnere", "Dyrt", "Dør", "Dagsorden"]) == ["Dagsorden", "Dyrt", "Dør", "Døråpnere"]


# -- diff ------------------------------------------------------------------------------------


def _small() -> Codebook:
    return load_codebook(CB / "valid_small.yaml")


def test_diff_of_identical_codebooks_is_empty() -> None:
    d = diff_codebooks(_small(), _small())
    assert d.is_empty() and d.to_text() == "No differences."


def test_diff_detects_rename_by_guid_reassignment_add_remove_and_definition() -> None:
    old = _small()
    new = _small()
    new.codes[0].name = "Stabilitet"  # Kontinuitet renamed, same GUID
    new.themes[0].codes = ["Stabilitet", "Utskiftning"]  # Tid leaves Kontinuitet
    new.code("Utskiftning").parent = "Stabilitet"
    new.code("Økonomi").definition = "Midler, budsjett og frikjøp."
    new.codes = [c for c in new.codes if c.name != "Økonomi"] + [replace(new.code("Økonomi"))]
    new.codes.append(replace(new.code("Tid"), name="Rom", guid="77777777-7777-4777-8777-777777777777"))
    new.codes = [c for c in new.codes if c.name != "Tid"]
    new.themes[1].codes = ["Økonomi"]
    d = diff_codebooks(old, new)
    assert [(r.old, r.new) for r in d.renamed] == [("Kontinuitet", "Stabilitet")]
    assert d.added == ["Rom"] and d.removed == ["Tid"]
    assert [c.code for c in d.definition_changed] == ["Økonomi"]
    # Kontinuitet's theme only changed name of the member, so no reassignment for it
    assert [r.code for r in d.reassigned] == []
    assert any(c.code == "Utskiftning" and c.field == "parent" for c in d.other_changes)


def test_diff_reports_code_moved_between_themes() -> None:
    old = _small()
    new = _small()
    new.themes[0].codes = ["Kontinuitet", "Utskiftning"]
    new.themes[1].codes = ["Tid", "Økonomi", "Utskiftning"]
    d = diff_codebooks(old, new)
    moves = {r.code: (r.old_themes, r.new_themes) for r in d.reassigned}
    assert moves == {
        "Tid": (["Kapasitet", "Kontinuitet"], ["Kapasitet"]),
        "Utskiftning": (["Kontinuitet"], ["Kapasitet", "Kontinuitet"]),
    }


def test_renamed_theme_is_not_a_reassignment_of_its_codes() -> None:
    old = _small()
    new = _small()
    new.themes[0].name = "Sammenheng over tid"
    d = diff_codebooks(old, new)
    assert [(r.old, r.new) for r in d.themes_renamed] == [("Kontinuitet", "Sammenheng over tid")]
    assert d.reassigned == []


# -- CLI -------------------------------------------------------------------------------------


def test_cli_validate_tabell3_exits_0(capsys) -> None:
    code, out, err = run(["codebook", "validate", str(TABELL3)], capsys)
    assert code == 0, err
    assert "valid: 42 codes, 3 themes" in out


def test_cli_validate_invalid_exits_2_and_names_file_and_line(capsys) -> None:
    code, out, err = run(["codebook", "validate", str(CB / "err_bad_regex.yaml")], capsys)
    assert code == 2
    assert "err_bad_regex.yaml:10: error: invalid regex" in out
    assert "not valid" in err


def test_cli_validate_with_warnings_exits_0(capsys) -> None:
    code, out, _ = run(["codebook", "validate", str(CB / "warn_empty_indicators.yaml")], capsys)
    assert code == 0 and "warning: " in out and "4 warning(s)" in out


def test_cli_validate_fix_guids(tmp_path: Path, capsys) -> None:
    path = tmp_path / "cb.yaml"
    shutil.copy(CB / "no_guids.yaml", path)
    code, out, _ = run(["codebook", "validate", "--fix-guids", str(path)], capsys)
    assert code == 0 and "added 3 GUID(s)" in out and "0 warning(s)" in out


def test_cli_fix_guids_leaves_an_invalid_file_alone(tmp_path: Path, capsys) -> None:
    path = tmp_path / "cb.yaml"
    shutil.copy(CB / "err_bad_color.yaml", path)
    before = path.read_bytes()
    code, out, err = run(["codebook", "validate", "--fix-guids", str(path)], capsys)
    assert code == 2 and "not adding GUIDs" in err and path.read_bytes() == before


def test_cli_show_prints_all_42_codes_and_3_themes_sorted(capsys) -> None:
    code, out, _ = run(["codebook", "show", str(TABELL3)], capsys)
    assert code == 0
    for name in TABELL3_CODES:
        assert re.search(rf"^{re.escape(name)}\s", out, re.M), name
    for theme in ("Kommunikasjon", "Kontinuitet", "Kapasitet"):
        assert re.search(rf"^{theme}\s+(inductive|deductive)", out, re.M)
    assert out.index("\nStøtte") < out.index("\nØkonomi")
    assert "Codes in no theme: Identitet, Variasjon" in out


def test_cli_show_json_has_codes_and_themes_lists(capsys) -> None:
    code, out, _ = run(["codebook", "show", str(TABELL3), "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert isinstance(data["codes"], list) and isinstance(data["themes"], list)
    assert len(data["codes"]) == 42 and len(data["themes"]) == 3
    assert data["codes"][-1]["name"] == "Økonomi"
    first = data["codes"][0]
    assert {"name", "label", "definition", "inclusion", "exclusion", "indicators", "examples", "color",
            "parent", "guid", "themes"} <= set(first)
    assert [t["name"] for t in data["themes"]] == ["Kapasitet", "Kommunikasjon", "Kontinuitet"]


def test_cli_show_markdown(capsys) -> None:
    code, out, _ = run(["codebook", "show", str(TABELL3), "-f", "md"], capsys)
    assert code == 0 and "| Code | Label | Themes | Definition |" in out
    assert out.count("\n| ") >= 42 + 3


def test_cli_show_without_file_outside_project_gives_a_hint(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RTA_PROJECT", raising=False)
    code, _, err = run(["codebook", "show"], capsys)
    assert code == 2
    assert "no codebook FILE given" in err and "hint:" in err


def test_cli_show_defaults_to_the_project_codebook(project, capsys, monkeypatch) -> None:
    monkeypatch.chdir(project.root)
    code, out, _ = run(["codebook", "show", "--format", "json"], capsys)
    assert code == 0 and len(json.loads(out)["codes"]) == 42


def test_cli_doc_html_is_self_contained_and_escaped(tmp_path: Path, capsys) -> None:
    src = tmp_path / "cb.yaml"
    text = (CB / "valid_small.yaml").read_text(encoding="utf-8").replace(
        "definition: Penger og budsjett.", "definition: Penger <script>alert(1)</script> & budsjett."
    )
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "kodebok.html"
    code, _, err = run(["codebook", "doc", str(src), "--format", "html", "-o", str(out)], capsys)
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; budsjett" in html
    assert "<style>" in html and "<link" not in html and "src=" not in html
    assert html.index(">Kontinuitet<") < html.index(">Økonomi<")


def test_cli_doc_markdown_lists_every_code_and_theme(capsys) -> None:
    code, out, _ = run(["codebook", "doc", str(TABELL3), "-f", "md"], capsys)
    assert code == 0
    for name in TABELL3_CODES:
        assert f"\n### {name}" in out, name
    assert "### Kontinuitet (motpol: Brudd)" in out and "deduktivt" in out


def test_cli_doc_custom_template_dir(tmp_path: Path, capsys) -> None:
    (tmp_path / "codebook.md.j2").write_text("{{ codes|length }} koder i {{ codebook.name }}\n", encoding="utf-8")
    code, out, _ = run(["codebook", "doc", str(TABELL3), "-f", "md", "--template", str(tmp_path)], capsys)
    assert code == 0 and out.startswith("42 koder i Tabell 3")


def test_cli_diff_text_and_json(tmp_path: Path, capsys) -> None:
    new = _small()
    new.codes[0].name = "Stabilitet"
    new.code("Utskiftning").parent = "Stabilitet"
    new.themes[0].codes = ["Stabilitet", "Utskiftning", "Tid", "Økonomi"]
    path = tmp_path / "new.yaml"
    path.write_text(dump_codebook(new), encoding="utf-8")
    code, out, _ = run(["codebook", "diff", str(CB / "valid_small.yaml"), str(path)], capsys)
    assert code == 0
    assert "Kontinuitet -> Stabilitet" in out and "Økonomi: Kapasitet -> Kapasitet, Kontinuitet" in out
    code, out, _ = run(["codebook", "diff", str(CB / "valid_small.yaml"), str(path), "--format", "json"], capsys)
    data = json.loads(out)
    assert data["renamed"][0]["old"] == "Kontinuitet" and data["renamed"][0]["new"] == "Stabilitet"
    assert data["reassigned"][0]["code"] == "Økonomi"
    assert run(["codebook", "diff", str(CB / "valid_small.yaml"), str(path), "--exit-code"], capsys)[0] == 1
    same = ["codebook", "diff", str(CB / "valid_small.yaml"), str(CB / "valid_small.yaml"), "--exit-code"]
    assert run(same, capsys)[0] == 0


def test_cli_help_does_not_import_heavy_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from rta.cli import main\n"
        "try:\n    main(['codebook', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('xmlschema', 'jinja2', 'rapidfuzz') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
