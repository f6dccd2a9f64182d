"""After 'rta anonymise apply' the original file must not slip back in: re-adding the text from
before pseudonymisation is refused (with --force to override), and a key keeps one placeholder
style."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rta.pseudonyms import Key, apply_to_project, key_style, save_key
from rta.errors import RtaError
from rta.project import Project
from test_store_fixtures import run

DATA = Path(__file__).parent / "data" / "anonymise"


@pytest.fixture
def originals(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    return [Path(shutil.copy(p, folder)) for p in sorted(DATA.glob("anon-*.txt"))]


@pytest.fixture
def pseudonymised(tmp_path: Path, originals: list[Path]) -> Project:
    """A project whose two transcripts were pseudonymised (revision 2 of each)."""
    project = Project.init(tmp_path / "studie", name="Anonymisering", coder="tester")
    project.add_files(originals, coder="tester")
    apply_to_project(project, tmp_path / "key.json", coder="tester")
    assert project.store.transcript_row("anon-skoleeier")["revision"] == 2
    yield project
    project.close()


def state(project: Project) -> tuple:
    conn = project.store.conn
    return (conn.execute("SELECT COUNT(*) FROM events").fetchone()[0],
            [tuple(r) for r in conn.execute("SELECT id, revision FROM transcripts ORDER BY id")])


def test_re_adding_the_original_file_is_refused_with_the_revision_named(pseudonymised, originals, capsys):
    before = state(pseudonymised)
    code, out, err = run(["--project", str(pseudonymised.root), "add", str(originals[0])], capsys)
    assert code == 2, out
    assert "this is the text before pseudonymisation (revision 1); adding it would bring back the names" in err
    assert str(originals[0]) in err and "--force" in err and "Traceback" not in err
    assert state(pseudonymised) == before
    assert "Kari Solheim" not in pseudonymised.store.transcript_text("anon-skoleeier")


def test_one_original_among_several_files_stores_none_of_them(pseudonymised, originals, tmp_path):
    new = tmp_path / "intervjuer" / "anon-ny.txt"
    new.write_text(originals[0].read_text(encoding="utf-8").replace("anon-skoleeier", "anon-ny"), encoding="utf-8")
    before = state(pseudonymised)
    with pytest.raises(RtaError, match="before pseudonymisation"):
        pseudonymised.add_files([new, originals[1]], coder="tester")
    assert state(pseudonymised) == before


def test_force_stores_the_original_again_and_logs_that_it_did(pseudonymised, originals, capsys):
    code, out, err = run(["--project", str(pseudonymised.root), "add", "--force", str(originals[0])], capsys)
    assert code == 0, err
    store = pseudonymised.store
    assert store.transcript_row("anon-skoleeier")["revision"] == 3
    assert "Kari Solheim" in store.transcript_text("anon-skoleeier")
    event = store.events(kind="transcript.revised")[-1].payload
    assert (event["revision"], event["before_pseudonymisation"]) == (3, 1)
    note = store.conn.execute("SELECT note FROM transcript_revisions WHERE transcript_id='anon-skoleeier' "
                              "AND revision=3").fetchone()[0]
    assert "before pseudonymisation" in note


def test_a_corrected_file_that_was_never_pseudonymised_is_still_a_revision(pseudonymised, originals):
    changed = originals[1]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nS1: Et tillegg uten navn.\n", encoding="utf-8")
    result = pseudonymised.add_files([changed], coder="tester")[0]
    assert (result.status, result.revision) == ("revised", 3)


def test_a_project_without_pseudonymisation_takes_an_earlier_text_back(tmp_path, originals):
    project = Project.init(tmp_path / "studie", name="Uten", coder="tester")
    project.add_files([originals[0]], coder="tester")
    text = originals[0].read_text(encoding="utf-8")
    originals[0].write_text(text + "\nS1: Mer.\n", encoding="utf-8")
    project.add_files([originals[0]], coder="tester")
    originals[0].write_text(text, encoding="utf-8")
    assert project.add_files([originals[0]], coder="tester")[0].revision == 3
    project.close()


def test_study_style_with_a_default_style_key_is_refused_naming_the_keys_style(pseudonymised, tmp_path, capsys):
    before = state(pseudonymised)
    key_before = (tmp_path / "key.json").read_bytes()
    code, out, err = run(["--project", str(pseudonymised.root), "anonymise", "apply", "--key",
                          str(tmp_path / "key.json"), "--style", "study", "--pipeline", "none"], capsys)
    assert code == 2, out
    assert "the key file uses the 'default' placeholder style, not 'study'" in err and "Traceback" not in err
    assert state(pseudonymised) == before and (tmp_path / "key.json").read_bytes() == key_before


def test_without_style_the_keys_own_style_is_used(tmp_path, originals):
    key_path = tmp_path / "study-key.json"
    save_key(Key(style="study"), key_path)
    project = Project.init(tmp_path / "studie", name="Studie", coder="tester")
    project.add_files(originals, coder="tester")
    apply_to_project(project, key_path, coder="tester")
    assert json.loads(key_path.read_text(encoding="utf-8"))["style"] == "study"
    assert "[navn" in project.store.transcript_text("anon-skoleeier")
    assert project.store.events(kind="anonymise.applied")[0].payload["style"] == "study"
    with pytest.raises(RtaError, match="uses the 'study' placeholder style, not 'default'"):
        apply_to_project(project, key_path, style="default", coder="tester")
    project.close()


def test_key_style_rules():
    assert key_style(None, None) == "default"
    assert key_style(None, "study") == "study"
    assert key_style(Key(style="study"), None) == "study"
    assert key_style(Key(style="study"), "study") == "study"
    with pytest.raises(RtaError, match="unknown placeholder style"):
        key_style(None, "fancy")
