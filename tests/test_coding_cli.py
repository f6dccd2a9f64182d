"""Manual coding from the command line: lines, turns, quotes (never a silent guess), uncode,
recode and listing codings with their quote and source."""

from __future__ import annotations

import json

import pytest

from rta.coding import find_quote, get_coding, query_codings, span_for_lines
from rta.errors import RtaError
from test_store_fixtures import run_cli


def test_code_by_lines_skips_the_speaker_label_and_logs_the_decision(project, capsys):
    code, out, err = run_cli(capsys, project.root, "code", "mini-skoleeier", "--lines", "8-9", "--code", "uklarhet",
                             "--memo", "rollen var uklar", "--coder", "kari")
    assert code == 0, err
    coding = get_coding(project.store, 1)
    text = project.store.transcript_text("mini-skoleeier")
    assert text[coding.start:coding.end].startswith("Altså, i starten")
    assert text[coding.start:coding.end].endswith("men sånn ble det ikke.")
    assert (coding.code, coding.coder, coding.memo, coding.line_start, coding.line_end) == ("Uklarhet", "kari", "rollen var uklar", 8, 9)
    kinds = [e.kind for e in project.store.events()]
    assert kinds[-2:] == ["codebook.imported", "coding.added"]


def test_code_by_turn_codes_the_whole_turn(project, capsys):
    code, _, err = run_cli(capsys, project.root, "code", "mini-skoleleder", "--turn", "4", "--code", "Tid")
    assert code == 0, err
    coding = get_coding(project.store, 1)
    assert project.store.transcript_text("mini-skoleleder")[coding.start:coding.end] == (
        "Tid er alltid en utfordring. Lærerne har lite rom for å sette seg ned sammen.")


def test_code_by_quote_across_a_line_break_typed_as_a_space_is_coded_verbatim(project, capsys, monkeypatch):
    monkeypatch.setattr("rta.cli.coding._interactive", lambda: False)
    args = ("code", "mini-skoleeier", "--quote", "skulle være. Vi forventet nok", "--code", "Forventninger")
    code, out, err = run_cli(capsys, project.root, *args)
    assert code == 0, err
    coding = get_coding(project.store, 1)
    assert project.store.transcript_text("mini-skoleeier")[coding.start:coding.end] == "skulle være.\nVi forventet nok"


def test_quote_not_found_refuses_without_a_terminal_and_shows_the_closest_match(project, capsys, monkeypatch):
    monkeypatch.setattr("rta.cli.coding._interactive", lambda: False)
    code, out, err = run_cli(capsys, project.root, "code", "mini-skoleeier", "--quote",
                             "det ble et bruud i arbeidt", "--code", "Brudd")
    assert code == 2
    assert "not found verbatim" in err and "det ble et brudd i arbeidet" in err and "similarity" in err
    assert project.store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == 0


def test_quote_not_found_with_yes_codes_the_best_match_it_showed(project, capsys, monkeypatch):
    monkeypatch.setattr("rta.cli.coding._interactive", lambda: False)
    code, out, err = run_cli(capsys, project.root, "code", "mini-skoleeier", "--quote",
                             "det ble et bruud i arbeidt", "--code", "Brudd", "--yes")
    assert code == 0, err
    coding = get_coding(project.store, 1)
    assert project.store.transcript_text("mini-skoleeier")[coding.start:coding.end] == "det ble et brudd i arbeidet"


def test_quote_not_found_asks_and_codes_nothing_when_the_person_declines(project, capsys, monkeypatch):
    monkeypatch.setattr("rta.cli.coding._interactive", lambda: True)
    monkeypatch.setattr("typer.prompt", lambda *a, **k: "n")
    code, out, err = run_cli(capsys, project.root, "code", "mini-skoleeier", "--quote",
                             "det ble et bruud i arbeidt", "--code", "Brudd")
    assert code == 1 and "nothing coded" in out
    assert project.store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == 0


def test_quote_nowhere_near_the_text_offers_nothing(project):
    found = find_quote(project.store, "mini-skoleeier", "fotballkamp på lørdag xyzzy")
    assert found.exact == [] and found.candidates == []


def test_ambiguous_quote_is_refused_with_the_lines_of_each_occurrence(tmp_path, capsys):
    from test_store_fixtures import rektor_project

    project, _ = rektor_project(tmp_path)
    code, _, err = run_cli(capsys, project.root, "code", "k3-rektor", "--quote", "Ja, det var nyttig", "--code", "Lærerikt")
    assert code == 2 and "occurs 2 times" in err and "--lines" in err


@pytest.mark.parametrize("args, message", [
    (["code", "mini-skoleeier", "--lines", "80-90", "--code", "Tid"], "outside transcript"),
    (["code", "mini-skoleeier", "--lines", "9-x", "--code", "Tid"], "cannot read --lines"),
    (["code", "mini-skoleeier", "--lines", "2-3", "--code", "Tid"], "no speaker turn"),
    (["code", "mini-skoleeier", "--turn", "9", "--code", "Tid"], "has no turn 9"),
    (["code", "mini-skoleier", "--turn", "1", "--code", "Tid"], "did you mean mini-skoleeier"),
    (["code", "mini-skoleeier", "--turn", "2", "--code", "Tidd"], "unknown code 'Tidd'"),
    (["code", "mini-skoleeier", "--turn", "2", "--lines", "8", "--code", "Tid"], "exactly one of"),
    (["uncode", "99"], "no coding with id 99"),
])
def test_bad_coding_input_names_the_problem_and_exits_2(project, capsys, args, message):
    code, _, err = run_cli(capsys, project.root, *args)
    assert code == 2
    assert message in err


def test_uncode_keeps_the_row_and_logs_the_reason(project, capsys):
    run_cli(capsys, project.root, "code", "mini-skoleleder", "--turn", "4", "--code", "Tid")
    code, out, err = run_cli(capsys, project.root, "uncode", "1", "--reason", "feil tema")
    assert code == 0, err
    assert get_coding(project.store, 1).status == "removed"
    event = project.store.events(kind="coding.removed")[-1]
    assert event.texts["reason"] == "feil tema" and "reason" not in event.payload  # the log holds its hash
    code, _, err = run_cli(capsys, project.root, "uncode", "1")
    assert code == 2 and "already removed" in err


def test_recode_moves_the_coding_to_another_code_and_logs_both(project, capsys):
    run_cli(capsys, project.root, "code", "mini-skoleleder", "--turn", "4", "--code", "Tid")
    code, out, err = run_cli(capsys, project.root, "recode", "1", "--code", "Rom")
    assert code == 0, err
    assert get_coding(project.store, 1).code == "Rom"
    event = project.store.events(kind="coding.recoded")[-1]
    assert (event.payload["old_code"], event.payload["code"]) == ("Tid", "Rom")


def test_codings_filter_by_code_informant_role_and_theme(project, capsys):
    run_cli(capsys, project.root, "code", "mini-skoleeier", "--lines", "11", "--code", "Brudd")
    run_cli(capsys, project.root, "code", "mini-skoleleder", "--turn", "2", "--code", "Kontinuitet")
    run_cli(capsys, project.root, "code", "mini-skoleleder", "--turn", "4", "--code", "Tid")

    def ids(*args):
        code, out, err = run_cli(capsys, project.root, "codings", "--format", "json", *args)
        assert code == 0, err
        return [row["id"] for row in json.loads(out)]

    assert ids() == [1, 2, 3]
    assert ids("--code", "tid") == [3]
    assert ids("--informant", "R 2.1") == [2, 3]
    assert ids("--role", "Skoleeier") == [1]
    assert ids("--theme", "Kontinuitet") == [1, 2, 3]  # Brudd, Kontinuitet and Tid all sit in Kontinuitet
    assert ids("--theme", "Kommunikasjon") == []
    code, out, _ = run_cli(capsys, project.root, "codings", "--informant", "S1")
    assert "mini-skoleeier:11-11" in out and "det ble et brudd i arbeidet" in out


def test_codings_theme_filter_prefers_the_projects_own_themes(project, capsys):
    run_cli(capsys, project.root, "code", "mini-skoleleder", "--turn", "4", "--code", "Tid")
    store = project.store
    with store.transaction():
        cur = store.conn.execute("INSERT INTO themes(name, created, updated) VALUES ('Tidspress', 'x', 'x')")
        store.conn.execute("INSERT INTO theme_codes(theme_id, code) VALUES (?, 'Tid')", (cur.lastrowid,))
    assert [v.themes for v in query_codings(store)] == [["Tidspress"]]
    assert len(query_codings(store, theme="tidspress")) == 1
    assert query_codings(store, theme="Kontinuitet") == []


def test_lines_span_leaves_out_speaker_labels(project):
    start, end = span_for_lines(project.store, "mini-skoleeier", 10, 12)
    text = project.store.transcript_text("mini-skoleeier")
    assert text[start:end].startswith("Hva skjedde i gjennomføringsfasen?\nS1: Da ble")
    assert text[start:end].endswith("kapasiteten igjen.")


def test_unknown_role_lists_the_roles(project, capsys):
    code, _, err = run_cli(capsys, project.root, "codings", "--role", "rektor")
    assert code == 2 and "unknown role" in err


def test_find_quote_rejects_an_empty_quote(project):
    with pytest.raises(RtaError, match="empty"):
        find_quote(project.store, "mini-skoleeier", "   ")


def test_coding_the_interviewers_turn_is_refused_with_a_hint(project, capsys):
    code, out, err = run_cli(capsys, project.root, "code", "mini-skoleeier", "--turn", "1", "--code", "Veiledning")
    assert code == 2
    assert "interviewer's words" in err and "--lines 8-9" in err
    assert query_codings(project.store) == []
