"""Themes: versioned changes as audit events, lineage through merge/split, seeding from the
codebook, co-occurrence proposals and the review's spread and flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from rta import themes
from rta.cli import main
from rta.coding import create_coding, ensure_codebook_version, span_for_turn
from rta.codebook_yaml import load_codebook
from rta.errors import RtaError
from rta.project import Project


@pytest.fixture
def proj(project: Project) -> Project:
    with project.store.transaction():
        ensure_codebook_version(project.store, project.codebook_path, "tester")
    return project


def _code(project: Project, tid: str, n: int, *codes: str) -> None:
    store = project.store
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "tester")
        for code in codes:
            create_coding(store, tid, *span_for_turn(store, tid, n), code, "tester", version)


def test_add_assign_unassign_bump_the_version_and_log_events(proj: Project) -> None:
    store = proj.store
    t = themes.add_theme(store, "Tillit", "kari", ["tillit", "Relasjoner"])
    assert t.codes == ["Relasjoner", "Tillit"] and t.status == "candidate" and t.version == 1
    t = themes.assign(store, "tillit", ["Anerkjennelse"], "kari", reason="hører sammen")
    assert t.codes == ["Anerkjennelse", "Relasjoner", "Tillit"] and t.version == 2
    t = themes.unassign(store, "Tillit", ["Relasjoner"], "kari")
    assert t.codes == ["Anerkjennelse", "Tillit"] and t.version == 3
    kinds = [e.kind for e in store.events() if e.kind.startswith("theme.")]
    assert kinds == ["theme.added", "theme.assigned", "theme.unassigned"]
    assert store.events(kind="theme.assigned")[0].details()["reason"] == "hører sammen"


def test_unknown_code_is_refused_with_a_did_you_mean_and_changes_nothing(proj: Project) -> None:
    themes.add_theme(proj.store, "Tillit", "kari", ["Tillit"])
    before = len(proj.store.events())
    with pytest.raises(RtaError, match="unknown code 'Tilit'") as exc:
        themes.assign(proj.store, "Tillit", ["Relasjoner", "Tilit"], "kari")
    assert "Tillit" in exc.value.hint
    assert len(proj.store.events()) == before
    assert themes.get_theme(proj.store, "Tillit").codes == ["Tillit"]


def test_duplicate_and_unknown_theme_names_are_errors(proj: Project) -> None:
    themes.add_theme(proj.store, "Tillit", "kari")
    with pytest.raises(RtaError, match="already exists"):
        themes.add_theme(proj.store, "tillit", "kari")
    with pytest.raises(RtaError, match="no theme 'Tilit'") as exc:
        themes.get_theme(proj.store, "Tilit")
    assert "Tillit" in exc.value.hint
    with pytest.raises(RtaError, match="unknown origin"):
        themes.add_theme(proj.store, "Noe", "kari", origin="abductive")


def test_define_sets_fields_and_marks_the_theme_defined(proj: Project) -> None:
    themes.add_theme(proj.store, "Tillit", "kari", ["Tillit"])
    t = themes.define(proj.store, "Tillit", "kari", definition="Om tillit mellom partene.")
    assert t.status == "candidate"  # no central concept yet
    t = themes.define(proj.store, "Tillit", "kari", central_concept="Tillit som forutsetning", origin="deductive")
    assert t.status == "defined" and t.origin == "deductive"
    event = proj.store.events(kind="theme.defined")[-1]
    assert event.payload["old"]["origin"] == "inductive" and event.payload["new"]["status"] == "defined"
    with pytest.raises(RtaError, match="nothing to change"):
        themes.define(proj.store, "Tillit", "kari")
    with pytest.raises(RtaError, match="cannot set status 'discarded'"):
        themes.define(proj.store, "Tillit", "kari", status="discarded")


def test_merge_and_split_keep_the_lineage_in_history(proj: Project) -> None:
    store = proj.store
    themes.add_theme(store, "Tid", "kari", ["Tid", "Rom"])
    themes.add_theme(store, "Folk", "kari", ["Kompetanse"])
    merged = themes.merge(store, ["Tid", "Folk"], "Kapasitet i skolen", "kari", reason="samme idé")
    assert merged.codes == ["Kompetanse", "Rom", "Tid"] and merged.source == "merge"
    assert themes.get_theme(store, "Tid", allow_discarded=True).status == "discarded"
    parts = themes.split(store, "Kapasitet i skolen", {"Tid og rom": ["Tid", "Rom"], "Kompetanse": ["Kompetanse"]}, "kari")
    assert [p.codes for p in parts] == [["Rom", "Tid"], ["Kompetanse"]]
    lineage = [e.kind for e in themes.history(store, "Tid og rom")]
    assert lineage == ["theme.added", "theme.added", "theme.merged", "theme.split"]
    text = [themes.describe_event(e) for e in themes.history(store, "Tid og rom")]
    assert "merged Tid, Folk into 'Kapasitet i skolen' (why: samme idé)" in text
    with pytest.raises(RtaError, match="is not in theme"):
        themes.split(store, "Kompetanse", {"A": ["Tid"], "B": ["Kompetanse"]}, "kari")


def test_merge_into_an_existing_theme_keeps_it(proj: Project) -> None:
    themes.add_theme(proj.store, "Kontinuitet", "kari", ["Kontinuitet"])
    themes.add_theme(proj.store, "Brudd", "kari", ["Brudd", "Utskiftning"])
    t = themes.merge(proj.store, ["Brudd"], "kontinuitet", "kari")
    assert t.name == "Kontinuitet" and t.codes == ["Brudd", "Kontinuitet", "Utskiftning"] and t.version == 2
    with pytest.raises(RtaError, match="at least two"):
        themes.merge(proj.store, ["Kontinuitet"], "Kontinuitet", "kari")


def test_rename_and_discard_keep_the_record_and_reserve_the_name(proj: Project) -> None:
    themes.add_theme(proj.store, "Brudd", "kari", ["Brudd"])
    themes.add_theme(proj.store, "Kontinuitet", "kari", ["Kontinuitet"])
    themes.define(proj.store, "Kontinuitet", "kari", opposite="Brudd")
    themes.rename(proj.store, "Brudd", "Avbrudd", "kari")
    assert themes.get_theme(proj.store, "Kontinuitet").opposite == "Avbrudd"
    themes.discard(proj.store, "Avbrudd", "kari", reason="del av Kontinuitet")
    assert [t.name for t in themes.list_themes(proj.store)] == ["Kontinuitet"]
    assert len(themes.list_themes(proj.store, include_discarded=True)) == 2
    with pytest.raises(RtaError, match="discarded"):
        themes.add_theme(proj.store, "Avbrudd", "kari")
    kinds = [e.kind for e in themes.history(proj.store, "Avbrudd")]
    assert kinds == ["theme.added", "theme.renamed", "theme.discarded"]


def test_seeding_from_the_codebook_creates_its_themes_once(proj: Project) -> None:
    codebook = load_codebook(proj.codebook_path)
    first = themes.from_codebook(proj.store, codebook, "kari")
    assert first.added == ["Kommunikasjon", "Kontinuitet", "Kapasitet"]
    kapasitet = themes.get_theme(proj.store, "Kapasitet")
    assert kapasitet.origin == "deductive" and kapasitet.source == "codebook" and "Økonomi" in kapasitet.codes
    assert themes.get_theme(proj.store, "Kontinuitet").opposite == "Brudd"
    second = themes.from_codebook(proj.store, codebook, "kari")
    assert second.added == [] and len(second.skipped) == 3


def test_propose_groups_codes_coded_in_the_same_turns(proj: Project) -> None:
    _code(proj, "mini-skoleeier", 2, "Uklarhet", "Veilederrollen")
    _code(proj, "mini-skoleleder", 2, "Uklarhet", "Veilederrollen")
    _code(proj, "mini-skoleeier", 4, "Brudd")
    _code(proj, "mini-skoleleder", 4, "Tid")
    proposals = themes.propose(proj.store)
    assert [p.codes for p in proposals] == [["Uklarhet", "Veilederrollen"]]
    assert proposals[0].turns == 2 and proposals[0].cohesion == 1.0
    kept = themes.keep_proposal(proj.store, proposals[0], "Uklare roller", "kari")
    assert kept.source == "proposed" and kept.status == "candidate"
    assert themes.propose(proj.store)[0].existing == ["Uklare roller"]


def test_review_reports_spread_overlap_and_flags(proj: Project) -> None:
    _code(proj, "mini-skoleeier", 2, "Uklarhet")
    _code(proj, "mini-skoleleder", 4, "Tid")
    _code(proj, "mini-skoleeier", 4, "Tid", "Identitet")
    themes.add_theme(proj.store, "Uklarhet", "kari", ["Uklarhet"])
    themes.add_theme(proj.store, "Tid", "kari", ["Tid", "Rom"], definition="Om tid.", central_concept="Tid som knapphet")
    themes.add_theme(proj.store, "Tid og rolle", "kari", ["Tid", "Uklarhet"])
    result = themes.review(proj.store, proj.registry)
    by_name = {rv.theme.name: rv for rv in result.themes}
    assert by_name["Uklarhet"].flags == ["rests on one informant (S1)", "no definition", "no central organising concept"]
    tid = by_name["Tid"]
    assert tid.spread == "2 of 15 informants, 2 of 4 groups (kommune 1, kommune 2), 2 of 3 roles (Skoleeier, Skoleleder)"
    assert tid.flags == [] and tid.codes_without_codings == ["Rom"]
    assert by_name["Tid og rolle"].overlap == {"Tid": 2, "Uklarhet": 1}
    assert result.used_codes_in_no_theme == ["Identitet"]
    assert "Økonomi" in result.codes_in_no_theme


def test_spread_says_all_when_every_one_is_covered() -> None:
    assert themes.spread_text(3, 3, "roles") == "all 3 roles"
    assert themes.spread_text(9, 15, "informants") == "9 of 15 informants"


def test_cli_themes_commands_record_each_decision(proj: Project, capsys) -> None:
    root = str(proj.root)
    main(["--project", root, "themes", "add", "--from-codebook"])
    main(["--project", root, "themes", "add", "Tillit", "--code", "Tillit,Relasjoner"])
    main(["--project", root, "themes", "assign", "Tillit", "Likeverd"])
    main(["--project", root, "themes", "split", "Tillit", "--part", "Likeverd=Likeverd", "--keep"])
    main(["--project", root, "themes", "rename", "Likeverd", "Likeverdighet"])
    main(["--project", root, "themes", "define", "Tillit", "--definition", "Om tillit.", "--concept", "Tillit bærer"])
    main(["--project", root, "themes", "history", "Likeverdighet"])
    out = capsys.readouterr().out
    assert "split 'Tillit' into Likeverd = Likeverd (original kept)" in out
    assert "renamed 'Likeverd' -> 'Likeverdighet'" in out
    main(["--project", root, "themes", "review"])
    out = capsys.readouterr().out
    assert "Tillit [defined, inductive]: 0 coding(s)" in out and "FLAG: no codings" in out
    with pytest.raises(SystemExit) as exc:
        main(["--project", root, "themes", "split", "Tillit", "--part", "bad"])
    assert exc.value.code == 2
    assert "cannot read --part 'bad'" in capsys.readouterr().err
