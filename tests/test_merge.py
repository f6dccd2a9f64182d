"""rta clone and rta merge: two coders' copies of one study brought together through the log."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from rta import themes
from rta.audit import audit
from rta.coding import uncode
from rta.memos import add_memo
from rta.clone import clone
from rta.copies import copy_id
from rta.merge import merge
from rta.project import Project
from test_store_fixtures import code_quote, run_cli

QUOTE_A = "det ble et brudd i arbeidet"
QUOTE_B = "Det tok tid å bygge opp kapasiteten igjen"
QUOTE_C = "de samme veilederne var med hele veien"


def codings_of(project: Project) -> set[tuple]:
    """The codings as content (not ids): transcript text, span, code, coder, status, memo."""
    return {(r["transcript_id"], r["sha"], r["start"], r["end"], r["code"], r["coder"], r["status"], r["memo"],
             r["created"])
            for r in project.store.conn.execute(
                "SELECT c.*, tr.sha256 AS sha FROM codings c JOIN transcript_revisions tr ON "
                "tr.transcript_id = c.transcript_id AND tr.revision = c.revision")}


def memos_of(project: Project) -> set[tuple]:
    def target(r):
        if r["target_kind"] == "coding":
            c = project.store.conn.execute("SELECT start, end, code, coder FROM codings WHERE id = ?",
                                           (int(r["target"]),)).fetchone()
            return tuple(c)
        return r["target"]

    return {(r["target_kind"], target(r), r["text"], r["phase"], r["coder"], r["created"])
            for r in project.store.conn.execute("SELECT * FROM memos")}


def themes_of(project: Project) -> set[tuple]:
    return {(t.name, t.definition, t.status, tuple(sorted(t.codes)))
            for t in themes.list_themes(project.store, include_discarded=True)}


def events(project: Project) -> int:
    return project.store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def assert_audits(*projects: Project) -> None:
    for p in projects:
        report = audit(p)
        assert report.ok, report.to_text()


@pytest.fixture
def pair(project, tmp_path):
    """The mini project (coder 'tester', one shared coding) and a clone for 'ola'."""
    code_quote(project, "mini-skoleeier", QUOTE_A, "Brudd")
    themes.add_theme(project.store, "Kontinuitet", "tester", codes=["Brudd"])
    project.close()
    other = clone(project.root, tmp_path / "ola", "ola")
    yield project, other
    other.close()


def test_clone_is_a_copy_with_its_own_id_and_coder(pair):
    a, b = pair
    assert b.config.coder == "ola" and b.config.name == a.config.name
    assert copy_id(a.store) != copy_id(b.store)
    last = b.store.events()[-1]
    assert last.kind == "project.cloned" and last.payload["from"] == copy_id(a.store) and last.coder == "ola"
    assert sorted(p.name for p in b.root.iterdir() if "-" not in p.name) == ["codebook.yaml", "informants.yaml",
                                                                           "rta.db", "rta.toml"]
    assert codings_of(a) == codings_of(b)
    assert_audits(a, b)


def test_clone_refuses_a_folder_in_use_and_a_non_project(pair, tmp_path, capsys):
    a, b = pair
    code, out, err = run_cli(capsys, a.root, "clone", str(a.root), str(b.root), "--coder", "x")
    assert code == 2 and "not an empty folder" in err
    code, out, err = run_cli(capsys, a.root, "clone", str(tmp_path), str(tmp_path / "new"), "--coder", "x")
    assert code == 2 and "not an rta project" in err and not (tmp_path / "new").exists()


def test_two_coders_merged_both_ways_agree_and_pass_the_audit(pair):
    a, b = pair
    # kari (tester) in A: a coding with a memo, a removal, a journal entry, a theme change
    kari = code_quote(a, "mini-skoleeier", QUOTE_B, "Tid", memo="tid er kapasitet")
    with a.store.transaction():
        add_memo(a.store, "journal", None, "kari: brudd er sentralt", "tester")
        add_memo(a.store, "coding", str(kari), "kari: se også Kapasitet", "tester")
    themes.assign(a.store, "Kontinuitet", ["Tid"], "tester")
    # ola in B: codes the same passage with another code, another transcript, removes the shared coding
    ola = code_quote(b, "mini-skoleeier", QUOTE_B, "Kapasitetsbygging", coder="ola")
    code_quote(b, "mini-skoleleder", QUOTE_C, "Kontinuitet", coder="ola")
    with b.store.transaction():
        uncode(b.store, 1, "ola", reason="for bredt")
        add_memo(b.store, "coding", str(ola), "ola: handler om kapasitet", "ola")
    themes.add_theme(b.store, "Kapasitet", "ola", codes=["Kapasitetsbygging"], definition="Ressurser og kompetanse")

    ab = merge(a, b.root, verify=True)
    assert ab.conflicts == [] and ab.total > 0
    ba = merge(b, a.root)
    assert ba.conflicts == []
    assert codings_of(a) == codings_of(b)
    assert memos_of(a) == memos_of(b)
    assert themes_of(a) == themes_of(b)
    assert {c[5] for c in codings_of(a)} == {"tester", "ola"}
    removed = [c for c in codings_of(a) if c[6] == "removed"]
    assert [c[4] for c in removed] == ["Brudd"]
    assert_audits(a, b)

    # merging again adds nothing, either way
    before = (events(a), events(b))
    again = merge(a, b.root)
    assert again.total == 0 and again.seq is None and again.conflicts == []
    assert merge(b, a.root).total == 0
    assert (events(a), events(b)) == before
    assert_audits(a, b)


def test_merged_decisions_keep_coder_and_time_and_say_where_they_came_from(pair):
    a, b = pair
    ola = code_quote(b, "mini-skoleeier", QUOTE_B, "Tid", coder="ola")
    original = next(e for e in b.store.events(kind="coding.added") if e.payload["coding"] == ola)
    result = merge(a, b.root)
    merged = [e for e in a.store.events(kind="coding.added") if "merged" in e.payload]
    assert len(merged) == 1
    e = merged[0]
    assert (e.coder, e.ts) == ("ola", original.ts)
    assert e.payload["merged"] == {"from": copy_id(b.store), "hash": original.hash}
    log = a.store.events(kind="project.merged")
    assert len(log) == 1 and log[0].seq == result.seq and log[0].payload["from"] == copy_id(b.store)
    assert log[0].payload["applied"]["coding.added"] == 1
    coder = a.store.conn.execute("SELECT first_seen FROM coders WHERE name = 'ola'").fetchone()[0]
    assert coder <= original.ts or coder == b.store.conn.execute(
        "SELECT first_seen FROM coders WHERE name='ola'").fetchone()[0]


def test_a_theme_renamed_differently_on_both_sides_is_listed_not_decided(pair, capsys):
    a, b = pair
    themes.rename(a.store, "Kontinuitet", "Sammenheng over tid", "tester")
    themes.rename(b.store, "Kontinuitet", "Brudd og kontinuitet", "ola")
    themes.add_theme(b.store, "Ny fra ola", "ola", codes=["Tid"])
    before = themes_of(a)
    result = merge(a, b.root)
    assert [c.kind for c in result.conflicts] == ["rename"]
    c = result.conflicts[0]
    assert "Sammenheng over tid" in c.ours and "Brudd og kontinuitet" in c.theirs
    names = {t[0] for t in themes_of(a)}
    assert "Sammenheng over tid" in names and "Brudd og kontinuitet" not in names  # not decided
    assert "Ny fra ola" in names and themes_of(a) != before  # the rest came along
    assert_audits(a)
    # listed again on the next merge, nothing new added
    n = events(a)
    code, out, err = run_cli(capsys, a.root, "merge", str(b.root))
    assert code == 1 and "conflict 1 (rename, left for you)" in out and "--resolve 1=ours" in out
    assert events(a) == n
    # the person decides: theirs
    code, out, err = run_cli(capsys, a.root, "merge", str(b.root), "--resolve", "1=theirs")
    assert code == 0, err
    assert "Brudd og kontinuitet" in {t[0] for t in themes_of(a)}
    assert merge(a, b.root).conflicts == []  # decided: not listed again
    assert_audits(a)


def test_resolving_ours_keeps_this_projects_theme(pair):
    a, b = pair
    themes.rename(a.store, "Kontinuitet", "Sammenheng", "tester")
    themes.rename(b.store, "Kontinuitet", "Brudd", "ola")
    merge(a, b.root, resolve={1: "ours"})
    assert "Sammenheng" in {t[0] for t in themes_of(a)}
    again = merge(a, b.root)
    assert again.conflicts == [] and again.total == 0
    assert_audits(a)


def test_themes_merged_differently_and_a_name_clash_are_conflicts(pair):
    a, b = pair
    themes.add_theme(a.store, "Tid", "tester", codes=["Tid"])
    a.close()
    b.close()
    # both copies get 'Tid' and 'Kontinuitet' through a merge, then merge them differently
    merge(b, a.root)
    themes.merge(a.store, ["Kontinuitet", "Tid"], "Tid og brudd", "tester")
    themes.merge(b.store, ["Kontinuitet", "Tid"], "Kontinuitet", "ola")
    themes.add_theme(a.store, "Tillit", "tester", codes=["Tillit"])
    themes.add_theme(b.store, "Tillit", "ola", codes=["Relasjoner"])
    result = merge(a, b.root)
    assert sorted(c.kind for c in result.conflicts) == ["merge", "name"]
    assert_audits(a)
    tillit = themes.get_theme(a.store, "Tillit")
    assert tillit.codes == ["Tillit"]  # not decided
    n = next(c.n for c in result.conflicts if c.kind == "name")
    merge(a, b.root, resolve={n: "ours"})
    assert sorted(themes.get_theme(a.store, "Tillit").codes) == ["Relasjoner", "Tillit"]  # one theme
    assert_audits(a)


def test_a_revision_made_on_one_side_comes_along_and_codings_are_reanchored(pair, tmp_path):
    a, b = pair
    kari = code_quote(a, "mini-skoleeier", QUOTE_B, "Tid")
    source = Path(__file__).parent / "data" / "transcripts" / "mini-skoleeier.txt"
    edited = tmp_path / "mini-skoleeier.txt"
    edited.write_text(source.read_text(encoding="utf-8").replace("Altså, i starten", "I starten"), encoding="utf-8")
    b.add_files([edited], coder="ola", revise=True)
    code_quote(b, "mini-skoleeier", "I starten var det veldig uklart", "Uklarhet", coder="ola")
    merge(a, b.root)
    row = a.store.conn.execute("SELECT * FROM codings WHERE id = ?", (kari,)).fetchone()
    assert row["revision"] == 2 and row["status"] == "active"
    assert a.store.transcript_text("mini-skoleeier")[row["start"]:row["end"]] == QUOTE_B
    assert_audits(a)
    merge(b, a.root)
    assert codings_of(a) == codings_of(b)
    assert_audits(a, b)


def test_suggestion_decisions_come_along(tmp_path):
    from rta.coding import ensure_codebook_version
    from rta.review import accept, reject
    from rta.suggest import SuggestOptions, run_suggest
    from test_suggest_support import make_project

    a = make_project(tmp_path)
    run_suggest(a, SuggestOptions())
    a.close()
    b = clone(a.root, tmp_path / "ola", "ola")
    ids = [r[0] for r in a.store.conn.execute("SELECT id FROM suggestions ORDER BY id LIMIT 3")]
    with a.store.transaction():
        version = ensure_codebook_version(a.store, a.codebook_path, "kari")
        accept(a.store, ids[0], "kari", version)
    with b.store.transaction():
        version = ensure_codebook_version(b.store, b.codebook_path, "ola")
        reject(b.store, ids[1], "ola", reason="ikke relevant")
        accept(b.store, ids[2], "ola", version)
    merge(a, b.root)
    merge(b, a.root)
    status = lambda p: [tuple(r) for r in p.store.conn.execute(  # noqa: E731
        "SELECT id, status, decided_by FROM suggestions WHERE id IN (?,?,?) ORDER BY id", ids)]
    assert status(a) == status(b) == [(ids[0], "accepted", "kari"), (ids[1], "rejected", "ola"),
                                      (ids[2], "accepted", "ola")]
    assert codings_of(a) == codings_of(b)
    assert_audits(a, b)
    b.close()


# -- bad input: exit 2, nothing changed ---------------------------------------------------------


def _state(project: Project) -> tuple:
    return (events(project), project.store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0])


def test_bad_inputs_are_refused_with_nothing_changed(pair, tmp_path, capsys):
    a, b = pair
    code_quote(b, "mini-skoleeier", QUOTE_B, "Tid", coder="ola")
    before = _state(a)
    cases = []
    # not a project
    (tmp_path / "empty").mkdir()
    cases.append((tmp_path / "empty", "not an rta project"))
    cases.append((tmp_path / "missing", "no such folder"))
    # the project itself
    cases.append((a.root, "this project itself"))
    # another study: a project with other transcripts
    other = Project.init(tmp_path / "annen", name="Annen", coder="x")
    other.add_files([Path(__file__).parent / "data" / "store" / "k3-rektor.txt"], coder="x")
    other.close()
    cases.append((other.root, "shares no transcript"))
    # a newer schema
    newer = tmp_path / "newer"
    shutil.copytree(b.root, newer)
    conn = sqlite3.connect(newer / "rta.db")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    cases.append((newer, "newer rta"))
    # a broken chain
    broken = tmp_path / "broken"
    b.close()
    shutil.copytree(b.root, broken)
    conn = sqlite3.connect(broken / "rta.db")
    conn.execute("DROP TRIGGER events_append_only_update")
    conn.execute("UPDATE events SET coder = 'mallory' WHERE seq = (SELECT MAX(seq) FROM events)")
    conn.commit()
    conn.close()
    cases.append((broken, "does not pass its audit"))
    for path, message in cases:
        code, out, err = run_cli(capsys, a.root, "merge", str(path))
        assert code == 2, (path, out, err)
        assert message in err and "Traceback" not in err, err
        assert _state(a) == before
    newer_bytes = (newer / "rta.db").read_bytes()
    run_cli(capsys, a.root, "merge", str(newer))
    assert (newer / "rta.db").read_bytes() == newer_bytes  # the other copy is only read
    code, out, err = run_cli(capsys, a.root, "merge", str(b.root), "--resolve", "7=ours")
    assert code == 2 and "no conflict 7" in err and _state(a) == before
    code, out, err = run_cli(capsys, a.root, "merge", str(b.root), "--resolve", "1=maybe")
    assert code == 2 and "N=ours or N=theirs" in err and _state(a) == before


def test_dry_run_changes_nothing_and_json_says_what_would_come(pair, capsys):
    a, b = pair
    code_quote(b, "mini-skoleeier", QUOTE_B, "Tid", coder="ola")
    before = _state(a)
    code, out, err = run_cli(capsys, a.root, "merge", str(b.root), "--dry-run", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["dry_run"] and data["applied"]["coding.added"] == 1
    assert _state(a) == before


def test_an_edited_merged_entry_or_row_fails_the_audit(pair, tmp_path):
    a, b = pair
    code_quote(b, "mini-skoleeier", QUOTE_B, "Tid", coder="ola")
    merge(a, b.root)
    a.close()
    cases = {
        "entry": ["DROP TRIGGER events_append_only_update",
                  "UPDATE events SET payload = replace(payload, '\"from\":', '\"frm\":') WHERE kind = 'coding.added' "
                  "AND payload LIKE '%\"merged\"%'"],
        "row": ["UPDATE codings SET coder = 'kari' WHERE coder = 'ola'"],
    }
    for name, sql in cases.items():
        copy = tmp_path / f"{name}.db"
        shutil.copyfile(a.root / "rta.db", copy)
        conn = sqlite3.connect(copy)
        for statement in sql:
            conn.execute(statement)
        conn.commit()
        conn.close()
        from rta.store import Store

        store = Store(copy)
        report = audit(store)
        store.close()
        assert not report.ok
        kinds = {f.kind for f in report.failures}
        assert ("chain" in kinds) if name == "entry" else (kinds == {"record"} and any(
            f.ids.get("field") == "coder" for f in report.failures))


def test_resolving_a_merge_conflict_as_theirs_takes_their_merge(pair):
    a, b = pair
    themes.add_theme(a.store, "Tid", "tester", codes=["Tid"])
    a.close()
    b.close()
    merge(b, a.root)
    themes.merge(a.store, ["Kontinuitet", "Tid"], "Tid og brudd", "tester")
    themes.merge(b.store, ["Kontinuitet", "Tid"], "Kontinuitet", "ola")
    result = merge(a, b.root)
    n = next(c.n for c in result.conflicts if c.kind == "merge")
    merge(a, b.root, resolve={n: "theirs"})
    kontinuitet = themes.get_theme(a.store, "Kontinuitet")  # live again, with both codes
    assert sorted(kontinuitet.codes) == ["Brudd", "Tid"]
    assert themes.get_theme(a.store, "Tid", allow_discarded=True).status == "discarded"
    assert_audits(a)
