"""Phase 1: turns, words, speaking shares and distinctive lemmas per transcript, informant, role."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rta.cli import main
from rta.familiarise import distinctive_terms, familiarise, simple_lemmatizer, to_markdown
from rta.project import Project


def fake_lemmatizer(text: str) -> list[str]:
    """Stands in for spaCy: 'veilederne' -> 'veileder', everything else as lower-case tokens."""
    return ["veileder" if w.startswith("veileder") else w for w in simple_lemmatizer(text)]


def test_counts_match_the_stored_turns(project: Project) -> None:
    result = familiarise(project.store, project.registry, fake_lemmatizer)
    by_id = {u.key: u for u in result.transcripts}
    eier = by_id["mini-skoleeier"]
    turns = project.store.current_turns("mini-skoleeier")
    assert eier.turns == len(turns) == 4
    assert eier.words == sum(t["words"] for t in turns)
    assert eier.informant_words == sum(t["words"] for t in turns if t["informant"])
    assert abs(eier.informant_share + eier.interviewer_share - 1) < 1e-9
    assert [u.key for u in result.informants] == ["S1", "R2.1"]  # registry order
    assert [u.label for u in result.roles] == ["Skoleeier", "Skoleleder"]
    assert result.informants[1].transcripts == ["mini-skoleleder"]


def test_distinctive_lemmas_skip_stop_words_and_use_the_lemmatizer(project: Project) -> None:
    result = familiarise(project.store, project.registry, fake_lemmatizer, stop={"ble"}, top=20)
    words = {u.key: [w for w, _ in u.distinctive] for u in result.informants}
    assert "ble" not in words["S1"]
    s1 = familiarise(project.store, project.registry, fake_lemmatizer, stop=set(), top=20).informants[0]
    assert "ble" in [w for w, _ in s1.distinctive]
    assert "det" not in [w for w, _ in s1.distinctive]  # both informants say it: not distinctive


def test_tf_idf_favours_words_only_one_unit_uses() -> None:
    docs = {"a": Counter({"brudd": 3, "tid": 3}), "b": Counter({"tid": 3, "tillit": 2})}
    scores = distinctive_terms(docs, top=2)
    assert scores["a"][0][0] == "brudd" and scores["b"][0][0] == "tillit"
    assert distinctive_terms({"a": Counter({"en": 1})})["a"] == []  # one-off words are noise


def test_markdown_overview_has_a_table_per_level(project: Project) -> None:
    md = to_markdown(familiarise(project.store, project.registry, fake_lemmatizer, lemmatizer_label="fake"))
    assert md.count("| | Turer | Ord |") == 3 and "| S1 | 2 |" in md and "fake" in md


def test_cli_familiarise_writes_markdown_and_records_a_note(project: Project, tmp_path: Path, capsys) -> None:
    root = str(project.root)
    main(["--project", root, "familiarise", "--note", "S1 snakker mye om tid.", "--on", "mini-skoleeier"])
    out_file = tmp_path / "fase1.md"
    main(["--project", root, "familiarise", "--simple", "--out", str(out_file)])
    out = capsys.readouterr().out
    assert "note #1 on mini-skoleeier (phase 1)" in out and "R2.1" in out
    text = out_file.read_text(encoding="utf-8")
    assert "## Notater fra lesingen" in text and "S1 snakker mye om tid." in text
