"""Projects: init, add (idempotent, revisions, all-or-nothing), listings, and the CLI layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_store_fixtures import run
from rta.errors import RtaError
from rta.project import Project

REPO = Path(__file__).resolve().parent.parent


def snapshot(project: Project) -> tuple:
    """Everything a failed command must leave untouched."""
    conn = project.store.conn
    return (
        conn.execute("SELECT COUNT(*) FROM events").fetchone()[0],
        tuple(tuple(r) for r in conn.execute("SELECT id, revision FROM transcripts ORDER BY id")),
        conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0],
    )


def test_init_creates_config_registry_codebook_and_store(tmp_path: Path) -> None:
    project = Project.init(tmp_path / "studie", name="Min studie", coder="kari")
    root = tmp_path / "studie"
    assert (root / "rta.toml").is_file() and (root / "rta.db").is_file()
    assert (root / "informants.yaml").is_file()
    reopened = Project.open(root)
    assert reopened.config.name == "Min studie" and reopened.config.coder == "kari"
    assert [e.kind for e in project.store.events()] == ["project.created", "informants.synced"]


def test_init_refuses_to_overwrite_an_existing_project(tmp_path: Path) -> None:
    Project.init(tmp_path / "p")
    with pytest.raises(RtaError, match="already exists"):
        Project.init(tmp_path / "p")


def test_readding_an_unchanged_file_is_a_no_op(project: Project, mini_transcripts: list[Path]) -> None:
    before = snapshot(project)
    results = project.add_files(mini_transcripts)
    assert [r.status for r in results] == ["unchanged", "unchanged"]
    assert snapshot(project) == before


def test_changed_file_becomes_a_new_revision_with_an_audit_event(tmp_path: Path) -> None:
    project = Project.init(tmp_path / "p")
    path = tmp_path / "k1.txt"
    path.write_text("I: Hei.\nS1: Første versjon.\n", encoding="utf-8")
    project.add_files([path])
    path.write_text("I: Hei.\nS1: Andre versjon, rettet.\n", encoding="utf-8")
    (result,) = project.add_files([path])
    assert (result.status, result.revision) == ("revised", 2)
    assert project.store.transcript_text("k1").endswith("Andre versjon, rettet.\n")
    assert project.store.transcript_text("k1", 1).endswith("Første versjon.\n")
    assert [e.kind for e in project.store.events()][-1] == "transcript.revised"


def test_a_bad_file_in_a_batch_leaves_the_project_unchanged(project: Project, tmp_path: Path) -> None:
    good = tmp_path / "ny.txt"
    good.write_text("I: Hei.\nS2: Ja.\n", encoding="utf-8")
    bad = tmp_path / "feil.txt"
    bad.write_text("I: Hei.\nQ7: Ukjent.\n", encoding="utf-8")
    before = snapshot(project)
    with pytest.raises(RtaError):
        project.add_files([good, bad])
    assert snapshot(project) == before


def test_duplicate_transcript_id_in_one_batch_is_refused(project: Project, tmp_path: Path) -> None:
    a = tmp_path / "a" / "samme.txt"
    b = tmp_path / "b" / "samme.txt"
    for p in (a, b):
        p.parent.mkdir()
        p.write_text("I: Hei.\nS1: Ja.\n", encoding="utf-8")
    before = snapshot(project)
    with pytest.raises(RtaError, match="duplicate transcript id"):
        project.add_files([a, b])
    assert snapshot(project) == before


def test_same_id_from_another_path_needs_revise(project: Project, tmp_path: Path) -> None:
    other = tmp_path / "annen.txt"
    other.write_text("---\nid: mini-skoleeier\n---\nI: Hei.\nS1: Ny tekst.\n", encoding="utf-8")
    with pytest.raises(RtaError, match="duplicate transcript id"):
        project.add_files([other])
    (result,) = project.add_files([other], revise=True)
    assert result.status == "revised"


# -- CLI ----------------------------------------------------------------------------------


def test_cli_init_add_transcripts_and_informants(tmp_path: Path, mini_transcripts, capsys) -> None:
    root = tmp_path / "studie"
    assert run(["init", str(root), "--coder", "kari"], capsys)[0] == 0
    code, out, _ = run(["--project", str(root), "add", *map(str, mini_transcripts)], capsys)
    assert code == 0 and "2 added" in out
    code, out, _ = run(["--project", str(root), "add", *map(str, mini_transcripts)], capsys)
    assert "2 unchanged" in out
    code, out, _ = run(["--project", str(root), "transcripts", "--format", "json"], capsys)
    rows = json.loads(out)
    assert [(r["id"], r["informants"]) for r in rows] == [("mini-skoleeier", ["S1"]), ("mini-skoleleder", ["R2.1"])]
    code, out, _ = run(["--project", str(root), "informants", "--format", "json"], capsys)
    by_code = {r["code"]: r for r in json.loads(out)}
    assert by_code["S1"]["turns"] == 2 and by_code["R2.1"]["turns"] == 2 and by_code["Va"]["turns"] == 0
    assert by_code["S1"]["words"] == sum(
        len(t.text.split()) for t in Project.open(root).parse(mini_transcripts[0]).turns if t.code == "S1"
    )


@pytest.mark.parametrize(
    "content, expected",
    [
        ("I: Hei.\nZZ9: Ukjent.\n", "unknown speaker label"),
        ("Tittel\nI: Hei.\n", "before the first speaker label"),
        ("", "empty"),
        ("---\nid: [x\n---\nI: Hei.\n", "YAML"),
    ],
    ids=["unknown-label", "text-before-label", "empty", "bad-front-matter"],
)
def test_cli_bad_input_exits_2_names_file_and_line_and_changes_nothing(
    project: Project, tmp_path: Path, capsys, content: str, expected: str
) -> None:
    path = tmp_path / "feil.txt"
    path.write_text(content, encoding="utf-8")
    before = snapshot(project)
    code, _, err = run(["--project", str(project.root), "add", str(path)], capsys)
    assert code == 2
    assert expected in err and str(path) in err
    assert snapshot(project) == before


def test_cli_not_utf8_exits_2_and_encoding_option_reads_it(project: Project, tmp_path: Path, capsys) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes("I: Hei.\nS1: Økonomi.\n".encode("cp1252"))
    code, _, err = run(["--project", str(project.root), "add", str(path)], capsys)
    assert code == 2 and f"{path}:2" in err and "--encoding cp1252" in err
    code, out, _ = run(["--project", str(project.root), "add", "--encoding", "cp1252", str(path)], capsys)
    assert code == 0 and "1 added" in out


def test_cli_missing_file_and_directory_exit_2(project: Project, tmp_path: Path, capsys) -> None:
    code, _, err = run(["--project", str(project.root), "add", str(tmp_path / "nope.txt")], capsys)
    assert code == 2 and "not found" in err
    code, _, err = run(["--project", str(project.root), "add", str(tmp_path)], capsys)
    assert code == 2 and "directory" in err


def test_cli_outside_a_project_says_how_to_make_one(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RTA_PROJECT", raising=False)
    code, _, err = run(["transcripts"], capsys)
    assert code == 2 and "rta init" in err


def test_help_does_not_import_spacy_or_pandas() -> None:
    """`rta --help` must stay fast: no NLP or dataframe import at start-up, and no pydantic
    (typer 0.29 coerces option values through it: ~0.15 s of CPU on every command)."""
    probe = (
        "import sys; from rta.cli import app; from typer.main import get_command;"
        "get_command(app); print(sorted(m for m in ('spacy','pandas','thinc','xmlschema','openpyxl','pydantic',"
        "'yaml','rich','textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip() == "[]"


def test_cli_add_of_a_revised_file_reports_how_codings_were_re_anchored(tmp_path: Path, capsys) -> None:
    from rta.coding import create_coding, ensure_codebook_version

    root = tmp_path / "p"
    project = Project.init(root, coder="kari")
    path = tmp_path / "k1.txt"
    path.write_text("I: Hei.\nS1: Vi fikk god støtte fra veilederne hele veien.\nI: Takk.\n", encoding="utf-8")
    project.add_files([path])
    text = project.store.transcript_text("k1")
    start = text.index("god støtte")
    with project.store.transaction():
        version = ensure_codebook_version(project.store, project.codebook_path, "kari")
        create_coding(project.store, "k1", start, start + len("god støtte"), "Støtte", "kari", version)
    project.close()
    path.write_text("I: Hei og velkommen.\nS1: Vi fikk god støtte fra veilederne hele veien.\nI: Takk.\n", encoding="utf-8")
    code, out, _ = run(["--project", str(root), "add", str(path)], capsys)
    assert code == 0
    assert "revised" in out and "1 exact, 0 fuzzy, 0 orphaned" in out
