"""No stale revision: pending suggestions follow their transcript to a new revision (or are
retired), nothing is coded on a superseded revision, reports and exports say when a quote is
from one and refuse text from before pseudonymisation, and a span is written only onto the
text it was chosen on (a revision stored meanwhile by another process is refused)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rta.anchor import OriginalsRefused, reanchor_suggestions, settle_suggestions
from rta.coding import (SpanChanged, StaleRevision, basis_of, create_coding, ensure_codebook_version, split_span,
                        span_for_lines)
from rta.errors import RtaError
from rta.project import Project
from rta.review import StaleSuggestion, accept
from rta.store import SCHEMA_V1, Store, now
from rta.suggest import Candidate, store_logged
from test_store_fixtures import run_cli

DATA = Path(__file__).parent / "data"
ANON = DATA / "anonymise"
NAME_PASSAGE = "Men det var egentlig Kari Solheim som dro i gang arbeidet på skolene."
NAME_PASSAGE_2 = "Det var nok Kari Solheim, hen kjente alle."
CLEAN_PASSAGE = "Tilliten kom etter hvert."


def suggest_spans(project: Project, wanted: list[tuple[str, str, str]]) -> list[int]:
    """Store suggestions of ``(transcript, passage, code)`` through the store path 'rta suggest'
    uses (:func:`rta.suggest.store_logged`); returns their ids."""
    store = project.store
    candidates = []
    for tid, passage, code in wanted:
        revision = store.transcript_row(tid)["revision"]
        text = store.transcript_text(tid, revision)
        start = text.index(passage)
        end = start + len(passage)
        turn = store.conn.execute("SELECT n FROM turns WHERE transcript_id=? AND revision=? AND start<=? AND ?<=end",
                                  (tid, revision, start, end)).fetchone()["n"]
        line = text.count("\n", 0, start) + 1
        candidates.append(Candidate(tid, revision, turn, start, end, line, line + passage.count("\n"), code, 0.9,
                                    "lexicon", [{"indicator": code}], "test"))
    with store.transaction():
        store_logged(store, candidates, "tester", {"pipeline": "test"})  # logged as 'rta suggest' logs it
    return [int(store.conn.execute("SELECT id FROM suggestions WHERE transcript_id=? AND revision=? AND start=? "
                                   "AND code=?", (c.transcript_id, c.revision, c.start, c.code)).fetchone()["id"])
            for c in candidates]


def suggestion(project: Project, sid: int) -> sqlite3.Row:
    return project.store.conn.execute("SELECT * FROM suggestions WHERE id=?", (sid,)).fetchone()


def dump(store: Store) -> list:
    """Every row of the tables a decision can touch, to show a refused command changed nothing."""
    return [list(map(tuple, store.conn.execute(f"SELECT * FROM {t} ORDER BY 1")))
            for t in ("codings", "suggestions", "events", "transcripts", "transcript_revisions")]


@pytest.fixture
def anon_project(tmp_path: Path) -> Project:
    project = Project.init(tmp_path / "studie", name="Foreldet", coder="tester")
    project.add_files(sorted(ANON.glob("anon-*.txt")), coder="tester")
    yield project
    project.close()


def revise(project: Project, tid: str, old: str, new: str, coder: str = "tester"):
    """Store the current text with ``old`` replaced as a new revision (the stored text keeps
    its front matter)."""
    text = project.store.transcript_text(tid)
    assert old in text
    return project.add_revision_text(tid, text.replace(old, new), coder=coder)


# -- item 4: pending suggestions follow the new revision ----------------------------------------


def test_a_new_revision_moves_a_pending_suggestion_whose_words_stand_verbatim(anon_project):
    [sid] = suggest_spans(anon_project, [("anon-skoleleder", CLEAN_PASSAGE, "Tillit")])
    before = suggestion(anon_project, sid)
    result = revise(anon_project, "anon-skoleleder", "Hvem var viktig", "Hvem var egentlig viktig")
    after = suggestion(anon_project, sid)
    text = anon_project.store.transcript_text("anon-skoleleder")
    assert (after["revision"], after["status"]) == (2, "suggested")
    assert after["start"] == before["start"] + len("egentlig ")
    assert text[after["start"]:after["end"]] == CLEAN_PASSAGE
    assert after["turn_n"] == before["turn_n"]
    [event] = anon_project.store.events(kind="suggestion.reanchored")
    assert event.payload["suggestion"] == sid and event.payload["old"] == [1, before["start"], before["end"]]
    assert event.payload["new"] == [2, after["start"], after["end"]]
    assert event.payload["lines"] == [after["line_start"], after["line_end"]] and event.payload["turn"] == 4
    assert [(m.suggestion_id, m.new is not None) for m in result.suggestions] == [(sid, True)]


def test_a_pending_suggestion_whose_words_changed_is_retired_by_rta_with_a_logged_reason(anon_project):
    [sid] = suggest_spans(anon_project, [("anon-skoleleder", NAME_PASSAGE_2, "Relasjoner")])
    revise(anon_project, "anon-skoleleder", "Kari Solheim, hen", "[PERSON 1], hen")
    row = suggestion(anon_project, sid)
    assert (row["status"], row["decided_by"], row["revision"]) == ("retired", "rta", 1)
    [event] = anon_project.store.events(kind="suggestion.retired")
    assert event.payload["suggestion"] == sid and event.payload["revision"] == 2
    assert "not in revision 2 verbatim" in event.details()["reason"]


def test_rta_add_reports_moved_and_retired_suggestions(anon_project, tmp_path, capsys):
    suggest_spans(anon_project, [("anon-skoleleder", NAME_PASSAGE_2, "Relasjoner"),
                                 ("anon-skoleleder", CLEAN_PASSAGE, "Tillit")])
    src = tmp_path / "anon-skoleleder.txt"
    src.write_text((ANON / "anon-skoleleder.txt").read_text(encoding="utf-8").replace("Kari Solheim", "NN"),
                   encoding="utf-8")
    code, out, err = run_cli(capsys, anon_project.root, "add", "--revise", str(src))
    assert code == 0, err
    assert "pending suggestions: 1 moved to rev 2, 1 retired" in out


def test_settle_moves_suggestions_a_project_left_on_a_superseded_revision(anon_project):
    """A project from before this rule: suggestions still pending on revision 1 after revision 2."""
    sids = suggest_spans(anon_project, [("anon-skoleleder", NAME_PASSAGE_2, "Relasjoner"),
                                        ("anon-skoleleder", CLEAN_PASSAGE, "Tillit")])
    store_revision_the_old_way(anon_project, "anon-skoleleder", "Kari Solheim", "[PERSON 1]")
    assert [suggestion(anon_project, s)["revision"] for s in sids] == [1, 1]
    with anon_project.store.transaction():
        moves = settle_suggestions(anon_project.store, "tester")
    assert [(m.suggestion_id, m.new is None) for m in moves] == [(sids[0], True), (sids[1], False)]
    assert [suggestion(anon_project, s)["status"] for s in sids] == ["retired", "suggested"]
    with anon_project.store.transaction():
        assert reanchor_suggestions(anon_project.store, "anon-skoleleder", "tester") == []  # nothing left


def test_a_moved_suggestion_that_would_repeat_one_on_the_new_revision_is_retired(anon_project):
    [sid] = suggest_spans(anon_project, [("anon-skoleleder", CLEAN_PASSAGE, "Tillit")])
    store_revision_the_old_way(anon_project, "anon-skoleleder", "Hvem var viktig", "Hvem var egentlig viktig")
    [twin] = suggest_spans(anon_project, [("anon-skoleleder", CLEAN_PASSAGE, "Tillit")])  # on revision 2
    with anon_project.store.transaction():
        [move] = reanchor_suggestions(anon_project.store, "anon-skoleleder", "tester")
    assert move.new is None and f"suggestion {twin} proposes the same" in move.reason
    assert suggestion(anon_project, sid)["status"] == "retired"


def store_revision_the_old_way(project: Project, tid: str, old: str, new: str) -> None:
    """Store a new revision as rta did before pending suggestions were re-anchored (only codings)."""
    from unittest import mock

    with mock.patch("rta.anchor.reanchor_suggestions", lambda *a, **k: []):
        revise(project, tid, old, new)


# -- item 4: nothing is coded on a superseded revision -------------------------------------------


def test_accepting_a_suggestion_on_a_superseded_revision_is_refused_by_the_library(anon_project):
    [sid] = suggest_spans(anon_project, [("anon-skoleleder", CLEAN_PASSAGE, "Tillit")])
    store_revision_the_old_way(anon_project, "anon-skoleleder", "Hvem var viktig", "Hvem var egentlig viktig")
    store = anon_project.store
    before = dump(store)
    with pytest.raises(StaleSuggestion, match=r"suggestion \d+ was made on revision 1 of 'anon-skoleleder', "
                                              r"which revision 2 has replaced"):
        with store.transaction():
            version = ensure_codebook_version(store, anon_project.codebook_path, "tester")
            accept(store, sid, "tester", version)
    assert dump(store) == before


def test_rta_review_accept_of_a_stale_suggestion_exits_2_and_says_what_to_do(anon_project, capsys):
    [sid] = suggest_spans(anon_project, [("anon-skoleleder", CLEAN_PASSAGE, "Tillit")])
    store_revision_the_old_way(anon_project, "anon-skoleleder", "Hvem var viktig", "Hvem var egentlig viktig")
    before = dump(anon_project.store)
    code, out, err = run_cli(capsys, anon_project.root, "review", "--accept", str(sid))
    assert code == 2
    assert "which revision 2 has replaced" in err and "rta suggest" in err and "Traceback" not in err
    assert dump(anon_project.store) == before


def test_create_coding_refuses_a_superseded_revision(anon_project):
    revise(anon_project, "anon-skoleleder", "Hvem var viktig", "Hvem var egentlig viktig")
    store = anon_project.store
    old_text = store.transcript_text("anon-skoleleder", 1)
    start = old_text.index(CLEAN_PASSAGE)
    with pytest.raises(StaleRevision, match="revision 1 of 'anon-skoleleder' has been replaced by revision 2"):
        with store.transaction():
            version = ensure_codebook_version(store, anon_project.codebook_path, "tester")
            create_coding(store, "anon-skoleleder", start, start + len(CLEAN_PASSAGE), "Tillit", "tester", version,
                          revision=1)
    assert store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == 0


# -- the scenario: suggest, anonymise apply, accept the old suggestions, report ----------


def test_suggest_then_apply_then_accepting_the_old_suggestions_puts_no_original_name_in_the_report(
        anon_project, tmp_path, capsys):
    sids = suggest_spans(anon_project, [("anon-skoleeier", NAME_PASSAGE, "Støtte"),
                                        ("anon-skoleleder", NAME_PASSAGE_2, "Relasjoner"),
                                        ("anon-skoleleder", CLEAN_PASSAGE, "Tillit")])
    code, out, err = run_cli(capsys, anon_project.root, "anonymise", "apply", "--key", str(tmp_path / "key.json"),
                             "--pipeline", "none")
    assert code == 0, err
    accepted = []
    for sid in sids:  # the old ids, as a reviewer who listed them before 'apply' would type them
        code, out, err = run_cli(capsys, anon_project.root, "review", "--accept", str(sid))
        assert code in (0, 2) and "Traceback" not in err
        if code == 0:
            accepted.append(sid)
        else:
            assert "already retired (by rta)" in err
    assert accepted == [sids[2]]  # the passage without a name moved to the new revision and was coded
    coding = anon_project.store.conn.execute("SELECT revision, status FROM codings").fetchall()
    assert [tuple(r) for r in coding] == [(2, "active")]
    code, out, err = run_cli(capsys, anon_project.root, "report", "--out", str(tmp_path / "rapport"))
    assert code == 0, err
    for name in ("report.html", "report.md"):
        built = (tmp_path / "rapport" / name).read_text(encoding="utf-8")
        assert "Tilliten kom etter hvert." in built
        assert "Kari" not in built and "Solheim" not in built


# -- reports and exports: superseded revisions said, originals refused ---------------------------


def accept_the_old_way(project: Project, sid: int) -> int:
    """Accept a suggestion as rta did before stale suggestions were refused: a coding of its
    span on the suggestion's own revision, logged as rta logged it."""
    store = project.store
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "tester")
        row = store.conn.execute("SELECT * FROM suggestions WHERE id=?", (sid,)).fetchone()
        text = store.transcript_text(row["transcript_id"], row["revision"])
        from rta.fsutil import sha256_text

        cur = store.conn.execute(
            "INSERT INTO codings(transcript_id, revision, start, end, line_start, line_end, turn_n, code, "
            "codebook_version, coder, created, status, origin, suggestion_id, quote_sha256) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,'active','suggested',?,?)",
            (row["transcript_id"], row["revision"], row["start"], row["end"], row["line_start"], row["line_end"],
             row["turn_n"], row["code"], version, "tester", now(), sid, sha256_text(text[row["start"]:row["end"]])))
        coding_id = int(cur.lastrowid)
        store.conn.execute("UPDATE suggestions SET status='accepted', decided_by='tester', decided_at=?, coding_id=? "
                           "WHERE id=?", (now(), coding_id, sid))
        store.log_event("coding.added", {"coding": coding_id, "transcript": row["transcript_id"],
                                         "revision": row["revision"], "start": row["start"], "end": row["end"],
                                         "code": row["code"], "origin": "suggested", "suggestion": sid,
                                         "quote_sha256": sha256_text(text[row["start"]:row["end"]]), "memo": None},
                        "tester")
        store.log_event("suggestion.accepted", {"suggestion": sid, "code": row["code"], "coding": coding_id,
                                                 "score": row["score"], "method": row["method"]}, "tester")
    return coding_id


def test_a_report_quoting_a_superseded_revision_says_so_on_the_quote(anon_project, tmp_path, capsys):
    [sid] = suggest_spans(anon_project, [("anon-skoleleder", CLEAN_PASSAGE, "Tillit")])
    store_revision_the_old_way(anon_project, "anon-skoleleder", "Hvem var viktig", "Hvem var egentlig viktig")
    coding_id = accept_the_old_way(anon_project, sid)
    code, out, err = run_cli(capsys, anon_project.root, "report", "--out", str(tmp_path / "r"))
    assert code == 0, err
    assert "1 quoted coding(s) point at a superseded revision" in err
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    block = html[html.index(f'data-coding="{coding_id}"'):]
    block = block[:block.index("</blockquote>")]
    assert 'class="superseded">fra revisjon 1, erstattet av revisjon 2</strong>' in block
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "**fra revisjon 1, erstattet av revisjon 2**" in md


def test_after_apply_a_report_refuses_an_original_quote_unless_allowed(anon_project, tmp_path, capsys):
    [sid] = suggest_spans(anon_project, [("anon-skoleleder", NAME_PASSAGE_2, "Relasjoner")])
    from unittest import mock

    with mock.patch("rta.anchor.reanchor_suggestions", lambda *a, **k: []):  # the old rta: left pending on rev 1
        code, out, err = run_cli(capsys, anon_project.root, "anonymise", "apply", "--key",
                                 str(tmp_path / "key.json"), "--pipeline", "none")
    assert code == 0, err
    coding_id = accept_the_old_way(anon_project, sid)  # the issue: an original name coded after apply
    before = dump(anon_project.store)
    code, out, err = run_cli(capsys, anon_project.root, "report", "--out", str(tmp_path / "r"))
    assert code == 2 and "Traceback" not in err
    assert f"coding #{coding_id} (anon-skoleleder revision 1, pseudonymised in revision 2)" in err
    assert "rta orphans" in err and "--allow-originals" in err
    assert not (tmp_path / "r").exists() and dump(anon_project.store) == before
    code, out, err = run_cli(capsys, anon_project.root, "report", "--out", str(tmp_path / "r"), "--allow-originals")
    assert code == 0, err
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "Kari Solheim" in html and "fra revisjon 1, erstattet av revisjon 2" in html
    built = anon_project.store.events(kind="report.built")[-1]
    assert built.payload["allow_originals"] is True


def test_export_all_notes_an_orphan_on_a_superseded_revision(anon_project, tmp_path, capsys):
    store = anon_project.store
    text = store.transcript_text("anon-skoleleder")
    start = text.index("Og så hadde vi PPT med på laget.")
    with store.transaction():
        version = ensure_codebook_version(store, anon_project.codebook_path, "tester")
        coding_id = create_coding(store, "anon-skoleleder", start, start + len("Og så hadde vi PPT med på laget."),
                                  "Støtte", "tester", version)
    revise(anon_project, "anon-skoleleder", "Og så hadde vi PPT med på laget.", "PPT var der.")
    assert store.conn.execute("SELECT status FROM codings WHERE id=?", (coding_id,)).fetchone()[0] == "orphaned"
    out_file = tmp_path / "q.jsonl"
    code, out, err = run_cli(capsys, anon_project.root, "export", "quotes", "--format", "jsonl", "--all",
                             "-o", str(out_file))
    assert code == 0, err
    [row] = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert row["coding"] == coding_id and row["note"] == "from revision 1, superseded by revision 2"


def test_after_apply_export_refuses_an_orphan_with_an_original_name_unless_allowed(anon_project, tmp_path, capsys):
    store = anon_project.store
    text = store.transcript_text("anon-skoleleder")
    start = text.index("Kari Solheim")
    with store.transaction():
        version = ensure_codebook_version(store, anon_project.codebook_path, "tester")
        coding_id = create_coding(store, "anon-skoleleder", start, start + len("Kari Solheim"), "Relasjoner",
                                  "tester", version)
    code, out, err = run_cli(capsys, anon_project.root, "anonymise", "apply", "--key", str(tmp_path / "key.json"),
                             "--pipeline", "none")
    assert code == 0, err
    assert store.conn.execute("SELECT status FROM codings WHERE id=?", (coding_id,)).fetchone()[0] == "orphaned"
    out_file = tmp_path / "q.csv"
    code, out, err = run_cli(capsys, anon_project.root, "export", "quotes", "--all", "-o", str(out_file))
    assert code == 2 and not out_file.exists()
    assert f"coding #{coding_id} (orphaned) (anon-skoleleder revision 1, pseudonymised in revision 2)" in err
    assert "rta orphans" in err and "leave out --all" in err
    code, out, err = run_cli(capsys, anon_project.root, "export", "quotes", "--all", "-o", str(out_file),
                             "--allow-originals")
    assert code == 0, err
    assert "Kari Solheim" in out_file.read_text(encoding="utf-8-sig")
    code, out, err = run_cli(capsys, anon_project.root, "export", "quotes", "-o", str(out_file))  # active only
    assert code == 0 and "Kari" not in out_file.read_text(encoding="utf-8-sig")


def test_after_apply_export_suggestions_refuses_decided_ones_on_the_original_text(anon_project, tmp_path, capsys):
    [sid] = suggest_spans(anon_project, [("anon-skoleleder", NAME_PASSAGE_2, "Relasjoner")])
    code, out, err = run_cli(capsys, anon_project.root, "review", "--reject", str(sid))
    assert code == 0, err
    code, out, err = run_cli(capsys, anon_project.root, "anonymise", "apply", "--key", str(tmp_path / "key.json"),
                             "--pipeline", "none")
    assert code == 0, err
    code, out, err = run_cli(capsys, anon_project.root, "export", "suggestions")
    assert code == 2 and f"suggestion {sid} (rejected)" in err and "--status suggested" in err
    assert "Kari" not in out
    code, out, err = run_cli(capsys, anon_project.root, "export", "suggestions", "--allow-originals")
    assert code == 0, err
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["note"] == "from revision 1, superseded by revision 2"


def test_a_revision_purged_into_its_pseudonymised_form_no_longer_counts_as_original(anon_project, tmp_path, capsys):
    from rta.anchor import revision_states

    code, out, err = run_cli(capsys, anon_project.root, "anonymise", "apply", "--key", str(tmp_path / "key.json"),
                             "--pipeline", "none")
    assert code == 0, err
    state = revision_states(anon_project.store)["anon-skoleleder"]
    assert (state.current, state.pseudonymised, state.original(1), state.original(2)) == (2, 2, True, False)
    assert state.note(1) == "from revision 1, superseded by revision 2" and state.note(2) is None
    with anon_project.store.transaction():  # what 'rta anonymise purge' logs when it rewrites revision 1
        anon_project.store.log_event("text.redacted", {"table": "transcript_revisions", "id": ["anon-skoleleder", 1],
                                                       "field": "text", "old_sha256": "a" * 64,
                                                       "new_sha256": "b" * 64}, "tester")
    state = revision_states(anon_project.store)["anon-skoleleder"]
    assert not state.original(1) and state.superseded(1)


def test_evaluate_leaves_retired_suggestions_out(anon_project):
    from rta.evaluate import evaluate

    suggest_spans(anon_project, [("anon-skoleleder", NAME_PASSAGE_2, "Relasjoner")])
    revise(anon_project, "anon-skoleleder", "Kari Solheim, hen", "[PERSON 1], hen")
    ev = evaluate(anon_project.store)
    assert ev.total.suggestions == 0 and ev.total.rejected == 0


def test_a_schema_1_store_is_upgraded_keeping_its_suggestions(tmp_path):
    path = tmp_path / "rta.db"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_V1)
    conn.execute("INSERT INTO transcripts VALUES ('t', 1, NULL, '{}', 'now')")
    conn.execute("INSERT INTO transcript_revisions VALUES ('t', 1, 'x', 'h', NULL, 'now', NULL, NULL)")
    conn.execute("INSERT INTO suggestions(id, transcript_id, revision, start, end, line_start, line_end, code, score, "
                 "method, pipeline, status, created) VALUES (7, 't', 1, 0, 1, 1, 1, 'Tid', 0.5, 'lexicon', 'p', "
                 "'rejected', 'now')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.schema_version() >= 2
    row = store.conn.execute("SELECT id, status, code FROM suggestions").fetchone()
    assert tuple(row) == (7, "rejected", "Tid")
    with store.transaction():
        store.conn.execute("UPDATE suggestions SET status = 'retired' WHERE id = 7")  # allowed from version 2
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute("UPDATE suggestions SET status = 'gone' WHERE id = 7")
    store.close()


# -- item 6: a span is written only onto the text it was chosen on -------------------------------


def store_a_revision_from_another_process(root: Path, tid: str = "anon-skoleleder") -> None:
    """What a second 'rta add --revise' or 'rta anonymise apply' does: its own Project and Store."""
    other = Project.open(root)
    try:
        revise(other, tid, "Hvem var viktig", "Hvem var egentlig viktig", coder="other")
    finally:
        other.close()


@pytest.mark.parametrize("how, patched", [
    (["--lines", "10"], "span_for_lines"),
    (["--turn", "4"], "span_for_turn"),
    (["--quote", "Tilliten kom etter hvert."], "find_quote"),
])
def test_a_revision_stored_while_the_span_is_chosen_is_refused_and_nothing_is_coded(
        anon_project, capsys, monkeypatch, how, patched):
    import rta.coding

    real = getattr(rta.coding, patched)
    seen: dict = {}

    def choose_then_race(*args, **kwargs):
        result = real(*args, **kwargs)  # the span, computed on revision 1 ...
        store_a_revision_from_another_process(anon_project.root)  # ... then revision 2 arrives
        seen["after_race"] = dump(anon_project.store)
        return result

    monkeypatch.setattr(rta.coding, patched, choose_then_race)
    code, out, err = run_cli(capsys, anon_project.root, "code", "anon-skoleleder", *how, "--code", "Tillit")
    assert code == 2 and "Traceback" not in err
    assert ("transcript 'anon-skoleleder' changed while you were choosing the span (revision 1 -> 2); "
            "run the command again") in err
    assert dump(anon_project.store) == seen["after_race"]  # nothing written after the other process's revision
    assert anon_project.store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == 0


def test_without_a_race_the_same_command_codes_the_words_it_chose(anon_project, capsys):
    code, out, err = run_cli(capsys, anon_project.root, "code", "anon-skoleleder", "--lines", "10", "--code", "Tillit")
    assert code == 0, err
    row = anon_project.store.conn.execute("SELECT revision, start, end FROM codings").fetchone()
    assert anon_project.store.transcript_text("anon-skoleleder", row[0])[row[1]:row[2]].startswith("Tilliten kom")


def test_create_coding_and_split_span_check_the_basis_inside_the_transaction(anon_project):
    store = anon_project.store
    basis = basis_of(store, "anon-skoleleder")
    start, end = span_for_lines(store, "anon-skoleleder", 10, 10, revision=basis.revision)
    store_a_revision_from_another_process(anon_project.root)
    before = dump(store)
    with pytest.raises(SpanChanged, match=r"revision 1 -> 2"):
        with store.transaction():
            split_span(store, "anon-skoleleder", start, end, basis=basis)
    with pytest.raises(SpanChanged, match=r"revision 1 -> 2"):
        with store.transaction():
            version = ensure_codebook_version(store, anon_project.codebook_path, "tester")
            create_coding(store, "anon-skoleleder", start, end, "Tillit", "tester", version, basis=basis)
    assert dump(store) == before


def test_a_basis_whose_text_no_longer_matches_its_hash_is_refused(anon_project):
    """The revision number alone is not enough: the text the span was computed on is compared too."""
    store = anon_project.store
    basis = basis_of(store, "anon-skoleleder")
    forged = type(basis)(basis.transcript_id, basis.revision, "0" * 64)
    start, end = span_for_lines(store, "anon-skoleleder", 10, 10)
    with pytest.raises(SpanChanged):
        with store.transaction():
            version = ensure_codebook_version(store, anon_project.codebook_path, "tester")
            create_coding(store, "anon-skoleleder", start, end, "Tillit", "tester", version, basis=forged)
    assert store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == 0


def test_stale_errors_are_rta_errors():
    for cls in (SpanChanged, StaleRevision, StaleSuggestion, OriginalsRefused):
        assert issubclass(cls, RtaError)
