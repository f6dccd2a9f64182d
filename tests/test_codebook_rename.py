"""Renaming and merging codes: codings, theme memberships and pending suggestions follow the
code (by GUID), every move is logged so 'rta audit' still passes, and refusals change nothing."""

from __future__ import annotations

import hashlib

import pytest

from rta.codebook_yaml import load_codebook
from rta.codebook_changes import merge_codes, rename_code
from rta.coding import ensure_codebook_version
from rta.errors import RtaError
from rta.suggest import Candidate, store_logged
from rta.themes import from_codebook, get_theme
from test_store_fixtures import code_quote, run_cli

TID = "Tid er alltid en utfordring."
KONT = "Det ga en kontinuitet som vi ikke hadde hatt før."


@pytest.fixture
def coded(project):
    """The mini project with two codings (Tid, Kontinuitet), the codebook's themes in the
    store and one pending suggestion of Tid."""
    code_quote(project, "mini-skoleleder", TID, "Tid")
    code_quote(project, "mini-skoleleder", KONT, "Kontinuitet")
    from_codebook(project.store, load_codebook(project.codebook_path), "tester")
    suggest(project, "Tid", "Lærerne har lite rom")
    return project


def suggest(project, code: str, quote: str, method: str = "lemma") -> int:
    """A pending suggestion of ``code`` over ``quote`` (as 'rta suggest' stores them)."""
    store = project.store
    text = store.transcript_text("mini-skoleleder")
    start = text.index(quote)
    with store.transaction():
        store_logged(store, [Candidate("mini-skoleleder", 1, 4, start, start + len(quote), 11, 11, code, 0.8, method,
                                       [], "test")], "tester", {"pipeline": "test"})
        return int(store.conn.execute("SELECT MAX(id) FROM suggestions").fetchone()[0])


def snapshot(project) -> tuple:
    """Everything a refused command must leave as it was: the file and the store's tables."""
    conn = project.store.conn
    tables = [list(map(tuple, conn.execute(f"SELECT * FROM {t} ORDER BY 1"))) for t in
              ("codebook_versions", "codes", "codings", "themes", "theme_codes", "suggestions", "events")]
    return hashlib.sha256(project.codebook_path.read_bytes()).hexdigest(), tables


def codes_of(project, theme: str) -> list[str]:
    return get_theme(project.store, theme).codes


def audit_ok(project, capsys) -> None:
    code, out, err = run_cli(capsys, project.root, "audit")
    assert code == 0, out + err


def test_rename_moves_codings_themes_and_suggestions_and_the_audit_passes(coded, capsys):
    guid = load_codebook(coded.codebook_path).code("Tid").guid
    code, out, err = run_cli(capsys, coded.root, "codebook", "rename", "Tid", "Tidsbruk", "--reason", "klarere navn")
    assert code == 0, err
    assert "moved 1 coding(s), 2 theme membership(s), 1 pending suggestion(s)" in out
    codebook = load_codebook(coded.codebook_path)
    assert codebook.code("Tidsbruk").guid == guid and not codebook.has_code("Tid")
    assert "Tidsbruk" in codebook.theme("Kontinuitet").codes
    store = coded.store
    row = store.conn.execute("SELECT code, codebook_version FROM codings WHERE id = 1").fetchone()
    assert tuple(row) == ("Tidsbruk", 2)
    assert "Tidsbruk" in codes_of(coded, "Kontinuitet") and "Tid" not in codes_of(coded, "Kontinuitet")
    assert "Tidsbruk" in codes_of(coded, "Kapasitet")
    assert store.conn.execute("SELECT code FROM suggestions").fetchone()[0] == "Tidsbruk"
    event = store.events(kind="codebook.renamed")[-1].details()
    assert (event["old"], event["new"], event["guid"], event["old_version"], event["version"]) == (
        "Tid", "Tidsbruk", guid, 1, 2)
    assert (event["codings"], event["themes"], event["suggestions"], event["reason"]) == (1, 2, 1, "klarere navn")
    recoded = store.events(kind="coding.recoded")[-1].payload
    assert (recoded["coding"], recoded["old_code"], recoded["code"]) == (1, "Tid", "Tidsbruk")
    audit_ok(coded, capsys)


def test_renamed_code_can_be_coded_and_reviewed_under_its_new_name(coded, capsys):
    rename_code(coded.store, coded.codebook_path, "Tid", "Tidsbruk", "tester")
    code, _, err = run_cli(capsys, coded.root, "code", "mini-skoleleder", "--quote", "Lærerne har lite rom",
                           "--code", "Tidsbruk")
    assert code == 0, err
    from rta.coding import query_codings

    views = query_codings(coded.store, code="Tidsbruk")
    assert len(views) == 2 and all("Kontinuitet" in v.themes for v in views)
    audit_ok(coded, capsys)


def test_rename_without_a_written_guid_writes_the_old_guid_so_it_stays(project, tmp_path):
    text = project.codebook_path.read_text(encoding="utf-8")
    text = text.replace("  - name: Tid\n    guid: bd713183-bcad-4179-9916-b2fa5074154e\n", "  - name: Tid\n")
    project.codebook_path.write_text(text, encoding="utf-8")
    derived = load_codebook(project.codebook_path).code("Tid").guid
    code_quote(project, "mini-skoleleder", TID, "Tid")
    rename_code(project.store, project.codebook_path, "Tid", "Tidsbruk", "tester")
    assert load_codebook(project.codebook_path).code("Tidsbruk").guid == derived
    assert project.store.conn.execute("SELECT code FROM codings").fetchone()[0] == "Tidsbruk"


def test_merge_moves_everything_to_the_target_which_keeps_its_guid(coded, capsys):
    guid_b = load_codebook(coded.codebook_path).code("Kontinuitet").guid
    guid_a = load_codebook(coded.codebook_path).code("Tid").guid
    code, out, err = run_cli(capsys, coded.root, "codebook", "merge", "Tid", "--into", "Kontinuitet",
                             "--reason", "for nære")
    assert code == 0, err
    codebook = load_codebook(coded.codebook_path)
    assert not codebook.has_code("Tid") and codebook.code("Kontinuitet").guid == guid_b
    assert codebook.theme("Kontinuitet").codes.count("Kontinuitet") == 1
    assert "Kontinuitet" in codebook.theme("Kapasitet").codes
    rows = coded.store.conn.execute("SELECT code, codebook_version FROM codings ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("Kontinuitet", 2), ("Kontinuitet", 1)]
    assert codes_of(coded, "Kontinuitet").count("Kontinuitet") == 1 and "Tid" not in codes_of(coded, "Kontinuitet")
    assert "Kontinuitet" in codes_of(coded, "Kapasitet") and "Tid" not in codes_of(coded, "Kapasitet")
    assert coded.store.conn.execute("SELECT code FROM suggestions").fetchone()[0] == "Kontinuitet"
    event = coded.store.events(kind="codebook.merged")[-1].payload
    assert (event["old"], event["new"], event["old_guid"], event["guid"]) == ("Tid", "Kontinuitet", guid_a, guid_b)
    assert (event["codings"], event["themes"], event["suggestions"]) == (1, 2, 1)
    audit_ok(coded, capsys)


def test_merge_closes_a_suggestion_the_target_already_has_for_the_same_span(coded):
    twin = suggest(coded, "Kontinuitet", "Lærerne har lite rom")
    change = merge_codes(coded.store, coded.codebook_path, "Tid", "Kontinuitet", "tester")
    rows = coded.store.conn.execute("SELECT id, code, status FROM suggestions ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(1, "Tid", "rejected"), (twin, "Kontinuitet", "suggested")]
    assert change.move.duplicate_suggestions == {1: twin}


def set_parent(text: str, code: str, parent: str) -> str:
    """The codebook text with ``code``'s ``parent: null`` replaced by ``parent``."""
    at = text.index(f"  - name: {code}\n")
    line = text.index("    parent: null\n", at)
    return text[:line] + f"    parent: {parent}\n" + text[line + len("    parent: null\n"):]


def test_merge_gives_the_merged_codes_children_to_the_target_and_never_makes_it_its_own_parent(project):
    text = set_parent(project.codebook_path.read_text(encoding="utf-8"), "Utskiftning", "Tid")
    project.codebook_path.write_text(set_parent(text, "Kontinuitet", "Tid"), encoding="utf-8")
    merge_codes(project.store, project.codebook_path, "Tid", "Kontinuitet", "tester")
    codebook = load_codebook(project.codebook_path)
    assert codebook.code("Utskiftning").parent == "Kontinuitet"
    assert codebook.code("Kontinuitet").parent is None


def test_refusals_exit_2_and_change_nothing(coded, capsys):
    before = snapshot(coded)
    cases = [
        (["rename", "Tidd", "Ny"], "did you mean 'Tid'"),
        (["rename", "Tid", "Kontinuitet"], "rta codebook merge 'Tid' --into 'Kontinuitet'"),
        (["rename", "Tid", "kontinuitet"], "already exists"),
        (["rename", "Tid", "Tid"], "already has that name"),
        (["merge", "Tid", "--into", "tid"], "into itself"),
        (["merge", "Tidd", "--into", "Kontinuitet"], "did you mean 'Tid'"),
        (["merge", "Tid", "--into", "Kontinuitett"], "did you mean 'Kontinuitet'"),
    ]
    for args, message in cases:
        code, out, err = run_cli(capsys, coded.root, "codebook", *args)
        assert code == 2, (args, out, err)
        assert message in err and "Traceback" not in err, (args, err)
    assert snapshot(coded) == before


def test_a_failure_after_the_edit_leaves_file_and_store_as_they_were(coded, monkeypatch):
    before = snapshot(coded)

    def boom(*args, **kwargs):
        raise RtaError("disk full")

    monkeypatch.setattr("rta.codebook_changes.atomic_write_bytes", boom)
    with pytest.raises(RtaError, match="disk full"):
        rename_code(coded.store, coded.codebook_path, "Tid", "Tidsbruk", "tester")
    assert snapshot(coded) == before


def test_editing_a_name_in_the_file_carries_the_rename_by_guid(coded, capsys):
    path = coded.codebook_path
    path.write_text(path.read_text(encoding="utf-8").replace("  - name: Tid\n", "  - name: Tidsbruk\n")
                    .replace(" Tid,", " Tidsbruk,").replace(", Tid]", ", Tidsbruk]"), encoding="utf-8")
    with coded.store.transaction():
        version = ensure_codebook_version(coded.store, path, "kari")
    assert version == 2
    store = coded.store
    assert tuple(store.conn.execute("SELECT code, codebook_version FROM codings WHERE id = 1").fetchone()) == (
        "Tidsbruk", 2)
    assert store.conn.execute("SELECT code FROM codings WHERE id = 2").fetchone()[0] == "Kontinuitet"
    assert "Tidsbruk" in codes_of(coded, "Kontinuitet") and "Tid" not in codes_of(coded, "Kontinuitet")
    assert store.conn.execute("SELECT code FROM suggestions").fetchone()[0] == "Tidsbruk"
    event = store.events(kind="codebook.renamed")[-1]
    assert (event.payload["old"], event.payload["new"], event.payload["via"], event.coder) == (
        "Tid", "Tidsbruk", "import", "kari")
    audit_ok(coded, capsys)


def test_two_codes_swapping_names_in_the_file_keep_their_own_codings(coded, capsys):
    path = coded.codebook_path
    text = path.read_text(encoding="utf-8")
    text = text.replace("  - name: Tid\n", "  - name: \x00\n").replace("  - name: Kontinuitet\n", "  - name: Tid\n")
    path.write_text(text.replace("  - name: \x00\n", "  - name: Kontinuitet\n"), encoding="utf-8")
    with coded.store.transaction():
        ensure_codebook_version(coded.store, path, "tester")
    rows = coded.store.conn.execute("SELECT id, code FROM codings ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(1, "Kontinuitet"), (2, "Tid")]
    assert coded.store.conn.execute("SELECT code FROM suggestions").fetchone()[0] == "Kontinuitet"
    audit_ok(coded, capsys)


def test_a_removed_coding_keeps_its_code_as_history(coded):
    from rta.coding import uncode

    with coded.store.transaction():
        uncode(coded.store, 1, "tester")
    change = rename_code(coded.store, coded.codebook_path, "Tid", "Tidsbruk", "tester")
    assert change.move.codings == []
    assert coded.store.conn.execute("SELECT code FROM codings WHERE id = 1").fetchone()[0] == "Tid"


def test_renaming_back_finds_the_earlier_version_and_moves_the_data_back(coded, capsys):
    rename_code(coded.store, coded.codebook_path, "Tid", "Tidsbruk", "tester")
    change = rename_code(coded.store, coded.codebook_path, "Tidsbruk", "Tid", "tester")
    assert change.version == 1
    assert tuple(coded.store.conn.execute("SELECT code, codebook_version FROM codings WHERE id = 1").fetchone()) == (
        "Tid", 1)
    assert "Tid" in codes_of(coded, "Kontinuitet")
    audit_ok(coded, capsys)


def test_importing_a_qdc_renamed_in_another_tool_over_the_project_codebook_carries_the_rename(coded, tmp_path,
                                                                                                  capsys):
    qdc = tmp_path / "codebook.qdc"
    code, _, err = run_cli(capsys, coded.root, "codebook", "export", "-o", str(qdc))
    assert code == 0, err
    qdc.write_text(qdc.read_text(encoding="utf-8").replace('name="Tid"', 'name="Tidsramme"'), encoding="utf-8")
    code, out, err = run_cli(capsys, coded.root, "codebook", "import", str(qdc), "-o", str(coded.codebook_path),
                             "--force")
    assert code == 0, err
    assert "'Tid' -> 'Tidsramme': moved 1 coding(s)" in err
    assert coded.store.conn.execute("SELECT code FROM codings WHERE id = 1").fetchone()[0] == "Tidsramme"
    audit_ok(coded, capsys)


BLOCK_CODEBOOK = """\
# Kommentar øverst: blir stående.
schema_version: 1
name: Blokk
codes:
  - name: Tid   # tid som ressurs
    definition: Tid.
    indicators: {phrases: [tid til]}
    guid: 44444444-4444-4444-8444-444444444444

  # Rom kommer her
  - name: Rom
    definition: Rom.
    indicators: {phrases: [rom for]}
    guid: 55555555-5555-4555-8555-555555555555
  - name: Penger
    definition: Penger.
    indicators: {phrases: [mer penger]}
themes:
  - name: Ressurser
    definition: Ressurser.
    origin: deductive
    codes:
      - Tid
      - Rom   # begge
  - name: Tema2
    definition: Mer.
    origin: inductive
    codes: [Penger, Tid]
"""


def test_edits_keep_comments_and_layout_in_block_and_flow_lists(tmp_path, mini_transcripts):
    from rta.project import Project

    source = tmp_path / "blokk.yaml"
    source.write_text(BLOCK_CODEBOOK, encoding="utf-8")
    project = Project.init(tmp_path / "studie", coder="tester", codebook=source)
    merge_codes(project.store, project.codebook_path, "Tid", "Rom", "tester")
    text = project.codebook_path.read_text(encoding="utf-8")
    assert text == BLOCK_CODEBOOK.replace(
        "  - name: Tid   # tid som ressurs\n    definition: Tid.\n    indicators: {phrases: [tid til]}\n"
        "    guid: 44444444-4444-4444-8444-444444444444\n\n", "").replace(
        "      - Tid\n", "").replace("codes: [Penger, Tid]", "codes: [Penger, Rom]")
    rename_code(project.store, project.codebook_path, "Penger", "Økonomi", "tester")
    codebook = load_codebook(project.codebook_path)
    assert codebook.theme("Tema2").codes == ["Økonomi", "Rom"]
    assert "  - name: Økonomi\n    guid: " in project.codebook_path.read_text(encoding="utf-8")
    assert "# Rom kommer her" in project.codebook_path.read_text(encoding="utf-8")
    project.close()
