"""Pseudonymisation: consistent placeholders, the key outside the project, reversibility,
new revisions with codings re-anchored, an audit log that does not re-identify, and the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rta.anonymise import check_text, unresolved_flags
from rta.pseudonyms import Key, apply, apply_to_project, load_key, reverse, save_key
from test_store_fixtures import run
from rta.errors import RtaError
from rta.informants import default_registry
from rta.project import Project

DATA = Path(__file__).parent / "data" / "anonymise"
REG = default_registry()


def pseudonymise(texts: dict[str, str], key: Key | None = None, style: str = "default"):
    flags = {tid: check_text(t, REG, transcript=tid) for tid, t in texts.items()}
    results, key = apply(texts, flags, key, style)
    return {r.transcript: r.text for r in results}, key


@pytest.fixture
def anon_project(tmp_path: Path) -> Project:
    project = Project.init(tmp_path / "studie", name="Anonymisering", coder="tester")
    project.add_files(sorted(DATA.glob("anon-*.txt")), coder="tester")
    yield project
    project.close()


def test_same_original_gets_the_same_placeholder_across_transcripts() -> None:
    texts = {
        "a": "S1: Vi snakket med Kari Solheim og Per Dahl om det.",
        "b": "R1.1: Det var Kari Solheim som ringte fra 412 55 390.",
    }
    new, key = pseudonymise(texts)
    assert new["a"] == "S1: Vi snakket med [PERSON 1] og [PERSON 2] om det."
    assert new["b"] == "R1.1: Det var [PERSON 1] som ringte fra [TELEFON 1]."
    assert {(e.original, e.placeholder) for e in key.entries} == {
        ("Kari Solheim", "[PERSON 1]"), ("Per Dahl", "[PERSON 2]"), ("412 55 390", "[TELEFON 1]")}


def test_reverse_restores_the_original_texts_exactly() -> None:
    texts = {
        "a": "S1: Vi snakket med Kari Solheim i Drammen.\nSkriv til kari@skole.no i dag.",
        "b": "R1.1: Kari Solheim\nringte meg. Hen bor i Drammen.",
    }
    new, key = pseudonymise(texts)
    assert "Kari" not in new["a"] + new["b"] and "Drammen" not in new["a"] + new["b"]
    for tid, text in texts.items():
        assert reverse(new[tid], key, tid) == text


def test_a_name_already_keyed_is_replaced_where_the_check_did_not_flag_it() -> None:
    # sentence-initial 'Kvernvika' is not flagged by the heuristic, but the key knows it
    texts = {"a": "S1: Jeg bodde i Kvernvika lenge.", "b": "S1: Kvernvika var fint."}
    new, _ = pseudonymise(texts)
    assert new["b"] == "S1: [NAVN 1] var fint."


def test_placeholders_already_in_a_text_are_not_reused() -> None:
    texts = {"a": "S1: Læreren [PERSON 1] sa at Kari Solheim var der."}
    new, key = pseudonymise(texts)
    assert new["a"] == "S1: Læreren [PERSON 1] sa at [PERSON 2] var der."
    assert reverse(new["a"], key, "a") == texts["a"]


def test_an_existing_key_keeps_placeholders_consistent_across_runs(tmp_path: Path) -> None:
    _, key = pseudonymise({"a": "S1: Vi møtte Kari Solheim."})
    save_key(key, tmp_path / "key.yaml")
    again = load_key(tmp_path / "key.yaml")
    new, key2 = pseudonymise({"b": "S1: Så kom Per Dahl og Kari Solheim."}, again)
    assert new["b"] == "S1: Så kom [PERSON 2] og [PERSON 1]."
    assert len(key2.entries) == 2


def test_study_style_uses_letter_placeholders_and_stays_reversible() -> None:
    texts = {"a": "S1: Jeg bodde i Drammen og i Tønsberg før jeg kom til X [navn på kommune].\n"
                  "Der jobbet jeg på Bjørkely skole med Kari Hansen, tlf 412 55 390."}
    new, key = pseudonymise(texts, style="study")
    assert new["a"] == ("S1: Jeg bodde i X [navn på sted] og i Y [navn på sted] før jeg kom til X [navn på kommune].\n"
                        "Der jobbet jeg på X [navn på skole] med X [navn på person], tlf X [telefonnummer].")
    assert reverse(new["a"], key, "a") == texts["a"]


def test_study_style_skips_a_placeholder_the_text_already_uses() -> None:
    texts = {"a": "S1: Jeg kom fra X [navn på kommune] til Lillevik kommune i fjor."}
    new, key = pseudonymise(texts, style="study")
    assert new["a"] == "S1: Jeg kom fra X [navn på kommune] til Y [navn på kommune] i fjor."
    assert reverse(new["a"], key, "a") == texts["a"]


def test_unknown_style_is_refused() -> None:
    with pytest.raises(RtaError, match="style"):
        pseudonymise({"a": "S1: Hei."}, style="fancy")


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(RtaError, match="not an rta anonymisation key"):
        load_key(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RtaError) as err:
        load_key(path)
    assert err.value.path == path


def test_key_inside_the_project_is_refused_and_nothing_changes(anon_project: Project) -> None:
    before = anon_project.store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    with pytest.raises(RtaError, match="outside the project"):
        apply_to_project(anon_project, anon_project.root / "keys" / "key.json")
    assert not (anon_project.root / "keys").exists()
    assert anon_project.store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == before
    assert anon_project.store.transcript_row("anon-skoleeier")["revision"] == 1


def test_apply_stores_new_revisions_logs_counts_only_and_writes_the_key(anon_project: Project, tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "studie-key.json"
    results, key = apply_to_project(anon_project, key_path, coder="tester")
    store = anon_project.store
    assert {r.transcript: r.replacements for r in results} == {"anon-skoleeier": 2, "anon-skoleleder": 2}
    assert store.transcript_row("anon-skoleeier")["revision"] == 2
    text = store.transcript_text("anon-skoleeier")
    assert "[PERSON 1]" in text and "[TELEFON 1]" in text and "Kari Solheim" not in text
    assert "[PERSON 1]" in store.transcript_text("anon-skoleleder")
    events = store.events(kind="anonymise.applied")
    assert [e.payload["transcript"] for e in events] == ["anon-skoleeier", "anon-skoleleder"]
    assert events[0].payload["by_kind"] == {"PER": 1, "PHONE": 1}
    log = json.dumps([e.payload for e in store.events()], ensure_ascii=False)
    assert "Kari" not in log and "412 55 390" not in log and "eksempelskole" not in log
    if os.name == "posix":
        assert key_path.stat().st_mode & 0o077 == 0  # only the owner may read the key
    saved = json.loads(key_path.read_text(encoding="utf-8"))
    assert {e["original"] for e in saved["entries"]} == {"Kari Solheim", "412 55 390", "rektor@eksempelskole.no"}
    assert unresolved_flags(anon_project, pipeline=None) == {"anon-skoleeier": 0, "anon-skoleleder": 0}


def test_unresolved_flags_counts_identifiers_per_transcript(anon_project: Project) -> None:
    assert unresolved_flags(anon_project, pipeline="none") == {"anon-skoleeier": 2, "anon-skoleleder": 2}


def test_codings_survive_apply_at_shifted_offsets(anon_project: Project, tmp_path: Path) -> None:
    from rta.coding import create_coding, ensure_codebook_version

    store = anon_project.store
    text = store.transcript_text("anon-skoleeier")
    quote = "Kapasiteten var et tema"
    start = text.index(quote)
    with store.transaction():
        version = ensure_codebook_version(store, anon_project.codebook_path, "tester")
        coding_id = create_coding(store, "anon-skoleeier", start, start + len(quote), "Kapasitetsbygging", "tester", version)
    apply_to_project(anon_project, tmp_path / "key.json", coder="tester")
    row = store.conn.execute("SELECT * FROM codings WHERE id = ?", (coding_id,)).fetchone()
    new_text = store.transcript_text("anon-skoleeier")
    assert row["status"] == "active" and row["revision"] == 2
    assert row["start"] != start  # the placeholders before it changed the length
    assert new_text[row["start"]:row["end"]] == quote


def test_apply_is_reversible_from_the_store_with_the_key(anon_project: Project, tmp_path: Path) -> None:
    original = anon_project.store.transcript_text("anon-skoleleder")
    _, key = apply_to_project(anon_project, tmp_path / "key.json")
    assert reverse(anon_project.store.transcript_text("anon-skoleleder"), key, "anon-skoleleder") == original


def test_cli_check_exits_1_when_flagged_and_0_when_clean(anon_project: Project, tmp_path: Path, capsys) -> None:
    base = ["--project", str(anon_project.root), "anonymise"]
    code, out, err = run([*base, "check", "--pipeline", "none"], capsys)
    assert code == 1
    assert "anon-skoleeier:9" in out and "Kari Solheim" in out and "heuristic" in out
    assert "no NER" in err
    code, out, _ = run([*base, "check", "--pipeline", "none", "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["ner"] is False
    assert {(f["transcript"], f["line"], f["kind"]) for f in data["flags"]} >= {("anon-skoleeier", 11, "PHONE")}
    key = tmp_path / "key.json"
    code, out, _ = run([*base, "apply", "--key", str(key), "--pipeline", "none"], capsys)
    assert code == 0 and "2 transcript(s) revised" in out
    code, out, _ = run([*base, "check", "--pipeline", "none"], capsys)
    assert code == 0 and "0 likely identifier(s)" in out


def test_cli_check_files_on_disk(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RTA_PROJECT", raising=False)
    code, out, _ = run(["anonymise", "check", "--pipeline", "none", str(DATA / "anon-skoleleder.txt")], capsys)
    assert code == 1 and f"{DATA / 'anon-skoleleder.txt'}:8" in out and "EMAIL" in out
    code, out, _ = run(["anonymise", "check", "--pipeline", "none", "--allow", "Kari Solheim", "--allow", "Solheim",
                        str(DATA / "anon-skoleleder.txt")], capsys)
    assert code == 1 and "Kari Solheim" not in out


@pytest.mark.parametrize(
    "args, expected",
    [
        (["check", "--pipeline", "none", "MISSING"], "not found"),
        (["check", "--pipeline", "none", str(DATA / "bad-label.txt")], "bad-label.txt:2"),
        (["check", "--pipeline", "none", "--format", "xml"], "unknown format"),
        (["check", "--pipeline", "no_such_pipeline_xyz", str(DATA / "anon-skoleleder.txt")], "no_such_pipeline_xyz"),
    ],
)
def test_cli_check_bad_input_exits_2(args: list[str], expected: str, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RTA_PROJECT", raising=False)
    if "MISSING" in args:
        args = [str(tmp_path / "nope.txt") if a == "MISSING" else a for a in args]
    code, _, err = run(["anonymise", *args], capsys)
    assert code == 2 and expected in err


@pytest.mark.parametrize("name, expected", [("key.txt", "must end in .json"), ("keys", "is a folder")])
def test_apply_refuses_a_key_path_that_is_no_key_file(anon_project: Project, tmp_path: Path, name: str,
                                                      expected: str) -> None:
    (tmp_path / "keys").mkdir()
    with pytest.raises(RtaError, match=expected):
        apply_to_project(anon_project, tmp_path / name)
    assert anon_project.store.transcript_row("anon-skoleeier")["revision"] == 1


def test_cli_apply_rejects_an_unknown_style(anon_project: Project, tmp_path: Path, capsys) -> None:
    code, _, err = run(["--project", str(anon_project.root), "anonymise", "apply", "--key", str(tmp_path / "k.json"),
                        "--style", "fancy"], capsys)
    assert code == 2 and "unknown style" in err and not (tmp_path / "k.json").exists()


def test_cli_apply_refuses_a_key_inside_the_project(anon_project: Project, capsys) -> None:
    code, _, err = run(["--project", str(anon_project.root), "anonymise", "apply", "--key",
                        str(anon_project.root / "key.json"), "--pipeline", "none"], capsys)
    assert code == 2 and "outside the project" in err
    assert not (anon_project.root / "key.json").exists()


def test_cli_reverse_restores_an_exported_text(anon_project: Project, tmp_path: Path, capsys) -> None:
    original = anon_project.store.transcript_text("anon-skoleeier")
    key = tmp_path / "key.yaml"
    code, _, _ = run(["--project", str(anon_project.root), "anonymise", "apply", "--key", str(key),
                      "--pipeline", "none", "anon-skoleeier"], capsys)
    assert code == 0 and anon_project.store.transcript_row("anon-skoleleder")["revision"] == 1
    exported = tmp_path / "export.txt"
    exported.write_text(anon_project.store.transcript_text("anon-skoleeier"), encoding="utf-8")
    restored = tmp_path / "restored.txt"
    code, _, _ = run(["anonymise", "reverse", "--key", str(key), str(exported), "-o", str(restored)], capsys)
    assert code == 0 and restored.read_text(encoding="utf-8") == original
