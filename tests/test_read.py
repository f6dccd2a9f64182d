"""rta read: the real Textual app driven with its pilot over a real project with suggestions.
Every decision made in the app must land in the store through the library, with the coder,
and leave an audit that passes."""

from __future__ import annotations

import sqlite3

import pytest

from rta.audit import audit
from rta.tui import session as session_module
from rta.tui.model import Document, transcript_summaries
from rta.tui.screens import CodeChoice, CodePicker, rank_codes
from read_support import drive, keys, suggested_project


@pytest.fixture
def proj(tmp_path):
    yield from suggested_project(tmp_path)


def counts(project) -> tuple[int, int, int]:
    conn = project.store.conn
    return (conn.execute("SELECT COUNT(*) FROM events").fetchone()[0],
            conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0],
            conn.execute("SELECT COUNT(*) FROM memos").fetchone()[0])


def test_a_session_of_decisions_lands_in_the_store_with_the_coder_and_the_audit_passes(proj):
    store = proj.store
    seen = {}

    async def steps(app, pilot):
        main = app.main
        first = main.selection  # the first sentence an informant says
        assert store.transcript_text("suggest-k1")[first[0]:first[1]] == "Forventningene var store i starten."
        # code the selection with a code found by a fuzzy search of its label
        await keys(pilot, "c", *"kapasitet", "enter")
        seen["coded"] = main.message
        assert seen["coded"].startswith("coded #1"), seen["coded"]
        # accept the next pending suggestion, reject the one after
        await keys(pilot, "s")
        seen["accepted_sugg"] = main.current("suggestion").id
        await keys(pilot, "a")
        seen["accepted"] = main.message
        assert seen["accepted"].startswith("accepted"), seen["accepted"]
        await keys(pilot, "s")
        seen["rejected_sugg"] = main.current("suggestion").id
        await keys(pilot, "r")
        # back to the first coding (turn 2) and uncode it with a reason
        await keys(pilot, "g", *"t2", "enter")
        assert main.selection == first
        await keys(pilot, "x", *"feil kode", "enter")
        seen["removed"] = main.message
        # code the whole of turn 4 (with a code its accepted suggestion did not give it), then
        # undo that decision
        await keys(pilot, "g", *"t4", "enter", "v", "c", *"Tillit", "enter")
        seen["second"] = main.message
        await keys(pilot, "u")
        seen["undone"] = main.message
        # a memo on the accepted suggestion's coding
        sug = store.conn.execute("SELECT * FROM suggestions WHERE id=?", (seen["accepted_sugg"],)).fetchone()
        await keys(pilot, "g", *f"line {sug['line_start']}", "enter")
        for _ in range(20):
            if main.current("coding") is not None and main.current("coding").id == sug["coding_id"]:
                break
            await keys(pilot, "j")
        main.item = next(i for i, m in enumerate(main.marks_here()) if m.kind == "coding")
        await keys(pilot, "m", *"tydelig eksempel", "enter")
        seen["memo"] = main.message

    drive(proj, steps)
    assert seen["coded"].startswith("coded #1 Kapasitetsbygging")
    assert seen["removed"] == "removed #1 Kapasitetsbygging"
    assert seen["second"].startswith("coded #"), seen["second"]
    assert seen["undone"].startswith("undone: coded #"), seen["undone"]
    assert seen["memo"].startswith("memo #1 on coding")
    codings = {r["id"]: r for r in store.conn.execute("SELECT * FROM codings")}
    accepted = store.conn.execute("SELECT * FROM suggestions WHERE id=?", (seen["accepted_sugg"],)).fetchone()
    rejected = store.conn.execute("SELECT * FROM suggestions WHERE id=?", (seen["rejected_sugg"],)).fetchone()
    assert accepted["status"] == "accepted" and accepted["decided_by"] == "kari"
    assert rejected["status"] == "rejected" and rejected["decided_by"] == "kari"
    assert len(codings) == 3
    assert [c["status"] for c in codings.values()] == ["removed", "active", "removed"]
    manual, from_suggestion, undone = codings.values()
    assert (manual["code"], manual["origin"], manual["coder"]) == ("Kapasitetsbygging", "manual", "kari")
    assert (from_suggestion["id"], from_suggestion["origin"]) == (accepted["coding_id"], "suggested")
    assert undone["code"] == "Tillit" and undone["turn_n"] == 4
    text = store.transcript_text("suggest-k1")
    assert text[undone["start"]:undone["end"]].startswith("Kapasitetsbyggingen tok lang tid.")
    assert text[undone["start"]:undone["end"]].endswith("Alt var uklart en stund.")
    memos = store.conn.execute("SELECT * FROM memos").fetchall()
    assert [(m["target_kind"], m["target"], m["text"], m["coder"]) for m in memos] == [
        ("coding", str(from_suggestion["id"]), "tydelig eksempel", "kari")]
    removals = {e.payload["coding"]: store.event_text(e.seq, "reason") or e.payload.get("reason")
                for e in store.events(kind="coding.removed")}
    assert removals == {manual["id"]: "feil kode", undone["id"]: "undone in rta read"}
    decisions = [e for e in store.events() if e.kind.startswith(("coding.", "suggestion.", "memo."))]
    assert {e.coder for e in decisions} == {"kari"}
    assert audit(store).ok


def test_undo_of_an_accepted_suggestion_makes_it_pending_again(proj):
    store = proj.store

    async def steps(app, pilot):
        await keys(pilot, "s")
        sid = app.main.current("suggestion").id
        await keys(pilot, "a", "u")
        assert app.main.message.startswith(f"undone: accepted suggestion {sid}")
        row = store.conn.execute("SELECT status, coding_id FROM suggestions WHERE id=?", (sid,)).fetchone()
        assert (row["status"], row["coding_id"]) == ("suggested", None)
        assert app.main.current("suggestion").id == sid  # still under the cursor, pending again
        await keys(pilot, "u")
        assert app.main.message.startswith("nothing to undo in this session")

    drive(proj, steps)
    assert store.conn.execute("SELECT COUNT(*) FROM codings WHERE status='active'").fetchone()[0] == 0
    assert audit(store).ok


def test_selection_grows_and_shrinks_by_word_sentence_and_turn_but_never_leaves_its_turn(proj):
    doc = Document.load(proj.store, "suggest-k1")
    text = doc.text
    s = next(x for x in doc.sentences if doc.turns[x.turn].informant is not None)
    turn = doc.turns[s.turn]
    a, b = s.start, s.end
    assert text[a:b] == "Forventningene var store i starten."
    a, b = doc.grow(a, b, "word")
    assert text[a:b] == "Forventningene var store i starten. Veilederrollen"
    a, b = doc.shrink(a, b, "word")
    assert text[a:b] == "Forventningene var store i starten."
    for _ in range(10):  # more sentences than the turn has: stops at its end
        a, b = doc.grow(a, b, "sentence")
    assert (a, b) == (s.start, turn.end)
    a2, b2 = doc.grow(a, b, "word")
    assert (a2, b2) == (a, b)  # the next word is the interviewer's: not taken
    a, b = doc.shrink(a, b, "sentence")
    assert text[a:b].endswith("Vi fikk god stotte fra dem.")
    for _ in range(10):
        a, b = doc.shrink(a, b, "sentence")
    assert text[a:b] == "Forventningene"  # at least one word stays
    assert doc.grow(a, b, "turn") == (turn.start, turn.end)


def test_moving_jumping_searching_and_hiding_the_interviewer(proj):
    async def steps(app, pilot):
        main = app.main
        doc = main.doc
        turn_of = lambda: doc.turns[doc.sentences[main.cursor].turn]  # noqa: E731
        assert turn_of().n == 2
        await keys(pilot, "J")
        assert turn_of().n == 3 and turn_of().speaker == "I"
        await keys(pilot, "i")  # hide the interviewer: the cursor leaves turn 3
        assert turn_of().n == 4
        await keys(pilot, "k", "k", "k")
        assert all(turn_of().informant is not None for _ in [0])
        await keys(pilot, "i", "slash", *"praksis", "enter")
        assert doc.text[main.selection[0]:main.selection[1]] == "Det tar tid å endre praksis."
        await keys(pilot, "g", *"line 9", "enter")
        assert doc.line_of(main.selection[0]) == 9
        await keys(pilot, "g", *"t99", "enter")
        assert "has no turn 99" in main.message
        await keys(pilot, "g", "t", "2", "enter")
        await keys(pilot, "right_square_bracket")  # next uncoded informant turn
        assert turn_of().n == 4
        await keys(pilot, "g", *"suggest-k2", "enter")
        assert main.doc.transcript_id == "suggest-k2"
        await keys(pilot, "g", *"suggest-k9", "enter")
        assert "no transcript 'suggest-k9'" in main.message and "did you mean" in main.message

    drive(proj, steps)


def test_transcript_list_shows_coverage_and_pending_and_switches(proj):
    summaries = {s.transcript_id: s for s in transcript_summaries(proj.store)}
    pending = proj.store.conn.execute(
        "SELECT COUNT(*) FROM suggestions WHERE transcript_id='suggest-k1' AND status='suggested'").fetchone()[0]
    assert summaries["suggest-k1"].pending == pending > 0
    assert summaries["suggest-k1"].coded_words == 0 and summaries["suggest-k1"].words == 46

    async def steps(app, pilot):
        await keys(pilot, "v", "c", *"Tid", "enter")  # all of turn 2: 21 of the 46 informant words
        await keys(pilot, "t")
        shown = app.screen.query_one("OptionList").get_option_at_index(0).prompt
        assert "45.7% coded" in str(shown) and f"{pending:>4} pending" in str(shown)
        await keys(pilot, "down", "enter")
        assert app.main.doc.transcript_id == "suggest-k2"

    drive(proj, steps)


def test_code_picker_searches_name_label_and_definition_and_shows_counts():
    codes = [CodeChoice("Rolleavklaringer", "Roller", "Hvem gjør hva; avklaring av roller.", 3),
             CodeChoice("Tid", "Tid som ressurs", "Tid til arbeidet.", 0),
             CodeChoice("Støtte", "Støtte", "Hjelp og støtte fra andre.", 1)]
    assert rank_codes(codes, "roller")[0].name == "Rolleavklaringer"  # the label
    assert rank_codes(codes, "hjelp")[0].name == "Støtte"  # the definition
    assert rank_codes(codes, "rolle avklar")[0].name == "Rolleavklaringer"
    assert rank_codes(codes, "") == codes
    assert "3 codings" in str(CodePicker._line(codes[0])) and "1 coding" in str(CodePicker._line(codes[2]))


def test_the_open_code_picker_keeps_the_keys_and_escape_closes_it_writing_nothing(proj):
    before = counts(proj)

    async def steps(app, pilot):
        main = app.main
        where = (main.cursor, main.selection)
        await keys(pilot, "c", *"jk")  # typed into the search, not moving the cursor
        assert main.picker.is_open and main.picker.query_one("Input").value == "jk"
        await keys(pilot, "tab", "down")  # within the picker, not the side pane's next item
        assert main.picker.query_one("OptionList").has_focus and main.item == 0
        await keys(pilot, "escape")
        assert not main.picker.is_open and not main.picker.display and main.view.has_focus
        assert (main.cursor, main.selection) == where
        await keys(pilot, "j")  # the screen's keys work again
        assert main.cursor != where[0]

    drive(proj, steps)
    assert counts(proj) == before


def test_a_terminal_too_small_shows_a_message_and_does_nothing(proj):
    before = counts(proj)

    async def steps(app, pilot):
        small = app.main.query_one("#small")
        assert small.display and "too small (50x12)" in str(small.render())
        await keys(pilot, "c", "a", "x", "v")
        assert app.screen is app.main and not app.main.picker.is_open  # no dialog opened
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not small.display and app.main.query_one("#view").display

    drive(proj, steps, size=(50, 12))
    assert counts(proj) == before


def test_a_read_only_project_says_so_when_the_app_would_write_and_writes_nothing(proj, monkeypatch):
    monkeypatch.setattr(session_module, "_writable", lambda project: False)
    before = counts(proj)

    async def steps(app, pilot):
        main = app.main
        assert "READ-ONLY" in str(main.query_one("#title").render())
        for key in ("c", "x", "m", "u"):
            await keys(pilot, key)
            assert app.screen is main and not main.picker.is_open
            assert "read-only" in main.message and "nothing" in main.message
        await keys(pilot, "s", "a")
        assert "read-only" in main.message
        with pytest.raises(session_module.ReadOnlyProject):
            main.session.accept(main.current("suggestion").id)

    drive(proj, steps)
    assert counts(proj) == before


def test_a_write_that_must_wait_for_another_writer_says_so_and_loses_nothing(proj, monkeypatch):
    monkeypatch.setenv("RTA_LOCK_TIMEOUT", "20")
    other = sqlite3.connect(str(proj.store.path), isolation_level=None)
    seen = {}

    async def steps(app, pilot):
        main = app.main
        await keys(pilot, "s")
        seen["sid"] = main.current("suggestion").id
        other.execute("BEGIN IMMEDIATE")  # another rta command is writing
        await keys(pilot, "a")
        seen["waiting"] = main.message
        other.execute("COMMIT")
        for _ in range(40):
            await pilot.pause(0.1)
            if main.message.startswith("accepted"):
                break
        seen["done"] = main.message

    drive(proj, steps)
    other.close()
    assert "another rta command is writing" in seen["waiting"] and "nothing is lost" in seen["waiting"]
    assert seen["done"].startswith(f"accepted suggestion {seen['sid']}")
    row = proj.store.conn.execute("SELECT status FROM suggestions WHERE id=?", (seen["sid"],)).fetchone()
    assert row["status"] == "accepted"
    assert audit(proj.store).ok


def test_no_color_keeps_codings_suggestions_and_selection_apart_by_text_style(proj, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def steps(app, pilot):
        assert app.no_color
        await keys(pilot, "c", *"Tid", "enter", "s")
        rendered = app.main.view.render()
        styles = {str(span.style) for span in rendered.spans}
        assert any("bold" in s for s in styles)  # codings (and labels)
        assert "underline" in styles  # pending suggestions
        assert "reverse" in styles  # the selection

    drive(proj, steps)


def run_rta(capsys, project, *args: str) -> tuple[int, str]:
    from rta.cli import main

    capsys.readouterr()
    try:
        main(["--project", str(project.root), *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_rta_read_refuses_an_unknown_transcript_and_a_non_terminal(proj, capsys):
    before = counts(proj)
    code, err = run_rta(capsys, proj, "read", "suggest-k3")
    assert code == 2 and "no transcript 'suggest-k3'" in err and "did you mean suggest-k" in err
    code, err = run_rta(capsys, proj, "read", "suggest-k1")  # pytest's stdin is no terminal
    assert code == 2 and "needs a terminal" in err and "rta show" in err
    assert counts(proj) == before


def test_f_features_the_coding_here_in_its_theme_as_rta_feature_does(proj):
    from rta.codebook_yaml import load_codebook
    from rta.featured import featured
    from rta.themes import from_codebook

    from_codebook(proj.store, load_codebook(proj.codebook_path), "kari")
    seen = {}

    async def steps(app, pilot):
        main = app.main
        await keys(pilot, "f")
        seen["nothing"] = main.message
        await keys(pilot, "c", *"Forventninger", "enter")
        await keys(pilot, "f")
        seen["featured"] = main.message

    drive(proj, steps)
    assert "no coding here to feature" in seen["nothing"]
    coding = proj.store.conn.execute("SELECT id, code FROM codings WHERE status = 'active'").fetchone()
    theme = proj.store.conn.execute("SELECT id, name FROM themes WHERE id IN (SELECT theme_id FROM theme_codes "
                                    "WHERE code = ?)", (coding["code"],)).fetchone()
    assert seen["featured"] == f"featured #{coding['id']} in {theme['name']} (place 1 of 1)"
    assert [f.coding_id for f in featured(proj.store)[theme["id"]]] == [coding["id"]]
    assert audit(proj.store).ok
