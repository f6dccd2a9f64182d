"""What a coding's span may be: never across a turn (a span over several turns becomes one
coding per informant turn, each credited to its own speaker), never the interviewer's words,
never a silent duplicate; quote candidates on word boundaries, and near-verbatim quotes (case,
spacing, typographic marks) offered for confirmation rather than coded silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from rta.anchor import fuzzy_candidates
from rta.coding import (SpanError, create_coding, ensure_codebook_version, find_quote, get_coding, overlap_share,
                        query_codings, split_span, span_for_lines, span_for_turn)
from rta.project import Project
from test_store_fixtures import run_cli

# Line 7 the interviewer, 8 S1, 9 R1.1, 10 the interviewer, 11-12 R1.1.
TWO_VOICES = """---
id: to-stemmer
date: 2021-05-10
interviewer: I
group: kommune 1
---
I: Hvordan var oppstarten?
S1: Vi var de samme folkene hele veien, og det ga trygghet.
R1.1: Vi på skolen merket at «veilederne» kom tilbake – hver gang.
I: Og tiden?
R1.1: Det tok tid å bygge opp
kapasiteten igjen.
"""
S1_WORDS = "Vi var de samme folkene hele veien, og det ga trygghet."
R11_WORDS = "Vi på skolen merket at «veilederne» kom tilbake – hver gang."


@pytest.fixture
def voices(project: Project, tmp_path: Path) -> Project:
    """The conftest project plus a transcript where S1 and R1.1 speak on adjacent lines."""
    path = tmp_path / "to-stemmer.txt"
    path.write_text(TWO_VOICES, encoding="utf-8")
    project.add_files([path], coder="tester")
    return project


def _count(project: Project) -> int:
    return project.store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]


def _code(project: Project, start: int, end: int, code: str = "Kontinuitet", tid: str = "to-stemmer") -> int:
    store = project.store
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "tester")
        return create_coding(store, tid, start, end, code, "tester", version)


def _mid_word(text: str, pos: int) -> bool:
    return 0 < pos < len(text) and text[pos - 1].isalnum() and text[pos].isalnum()


# -- one coding per informant turn ---------------------------------------------------------


def test_lines_over_two_speakers_give_one_coding_per_informant_turn_each_credited_to_its_speaker(voices, capsys):
    code, out, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--lines", "8-9", "--code", "Kontinuitet")
    assert code == 0, err
    assert "lines 8-9 cross 2 turns: coded as 2 codings: #1 S1 lines 8-8, #2 R1.1 lines 9-9" in out
    rows = query_codings(voices.store, transcript="to-stemmer")
    assert [(r.informant, r.quote, r.line_start, r.line_end) for r in rows] == [
        ("S1", S1_WORDS, 8, 8), ("R1.1", R11_WORDS, 9, 9)]
    assert [r.id for r in query_codings(voices.store, informant="S1")] == [1]
    assert [r.id for r in query_codings(voices.store, informant="R1.1")] == [2]


def test_lines_with_the_interviewer_in_between_leave_the_interviewers_words_out(voices, capsys):
    code, out, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--lines", "9-12", "--code", "Tid")
    assert code == 0, err
    assert "lines 9-12 cross 3 turns: coded as 2 codings" in out and "interviewer's words left out" in out
    rows = query_codings(voices.store, transcript="to-stemmer")
    assert [r.quote for r in rows] == [R11_WORDS, "Det tok tid å bygge opp\nkapasiteten igjen."]
    assert all("Og tiden" not in r.quote and "I:" not in r.quote for r in rows)


def test_lines_of_only_interviewer_text_are_refused_with_a_hint_and_exit_2(voices, capsys):
    code, out, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--lines", "10", "--code", "Tid")
    assert code == 2
    assert "only the interviewer's words" in err and "--lines 11-12" in err
    assert "Traceback" not in err
    assert _count(voices) == 0


def test_a_quote_typed_across_two_turns_is_split_too(voices, capsys):
    code, out, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--quote",
                             "og det ga trygghet.\nR1.1: Vi på skolen", "--code", "Kontinuitet")
    assert code == 0, err
    assert "the quote crosses 2 turns" in out
    assert [(r.informant, r.quote) for r in query_codings(voices.store)] == [
        ("S1", "og det ga trygghet."), ("R1.1", "Vi på skolen")]


def test_split_span_cuts_at_turns_and_leaves_labels_and_blanks_out(voices):
    store = voices.store
    parts = split_span(store, "to-stemmer", *span_for_lines(store, "to-stemmer", 7, 12))
    text = store.transcript_text("to-stemmer")
    assert [(p.informant, p.turn_n, text[p.start:p.end]) for p in parts] == [
        ("S1", 2, S1_WORDS), ("R1.1", 3, R11_WORDS), ("R1.1", 5, "Det tok tid å bygge opp\nkapasiteten igjen.")]


@pytest.mark.parametrize("what, span, message", [
    ("crossing", lambda t: (t.index("trygghet"), t.index("skolen")), "crosses 2 turns"),
    ("interviewer", lambda t: (t.index("Og tiden"), t.index("Og tiden") + 8), "interviewer's turn"),
    ("label", lambda t: (t.index("R1.1:"), t.index(" på skolen")), "beyond turn"),
    ("front matter", lambda t: (0, 10), "no speaker turn"),
])
def test_create_coding_refuses_a_span_outside_one_informant_turn(voices, what, span, message):
    text = voices.store.transcript_text("to-stemmer")
    with pytest.raises(SpanError, match=message):
        _code(voices, *span(text))
    assert _count(voices) == 0


def test_every_coding_is_credited_to_the_turn_holding_all_of_it(voices):
    text = voices.store.transcript_text("to-stemmer")
    cid = _code(voices, text.index("kapasiteten"), text.index("igjen.") + 6, "Kapasitetsbygging")
    coding = get_coding(voices.store, cid)
    assert coding.turn_n == 5 and (coding.line_start, coding.line_end) == (12, 12)


def test_report_and_quote_export_credit_each_extract_to_the_speaker_who_said_it(voices, capsys, tmp_path):
    import json

    from rta.audit import audit
    from rta.exports import export_quotes
    from rta.report import collect

    code, _, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--lines", "8-9", "--code", "Kontinuitet")
    assert code == 0, err
    data = collect(voices.store, voices.registry, audit(voices.store))
    quotes = [q for t in data.themes for r in t.roles for q in r.quotes if q.transcript_id == "to-stemmer"]
    assert sorted((q.label, q.text) for q in quotes) == [("R1.1", R11_WORDS), ("S1", S1_WORDS)]
    out = tmp_path / "sitater.jsonl"
    export_quotes(voices.store, "jsonl", out)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted((r["informant"], r["quote"]) for r in rows) == [("R1.1", R11_WORDS), ("S1", S1_WORDS)]


# -- quotes: word boundaries, near-verbatim candidates ----------------------------------------


def test_fuzzy_candidates_never_start_or_end_inside_a_word(voices):
    store = voices.store
    text = store.transcript_text("to-stemmer")
    regions = [(r["start"], r["end"]) for r in store.conn.execute(
        "SELECT start, end FROM turns WHERE transcript_id='to-stemmer' AND informant IS NOT NULL")]
    found = fuzzy_candidates("i var de samme folkene", text, regions)
    assert found[0].text == "Vi var de samme folkene"  # not «i var de samme folkene»
    for quote in ("i var de samme", "vi var de same folkene hele", "kene hele veien", "ar de samme folkene hele veien",
                  "samme folkene hele veien og det ga trygh"):
        for c in fuzzy_candidates(quote, text, regions):
            assert not _mid_word(text, c.start) and not _mid_word(text, c.end), (quote, c.text)
            assert any(lo <= c.start and c.end <= hi for lo, hi in regions)


def test_a_quote_matching_only_inside_a_word_is_no_verbatim_match(voices):
    found = find_quote(voices.store, "to-stemmer", "i var de samme")
    assert found.exact == []
    assert found.candidates[0].text == "Vi var de samme"


@pytest.mark.parametrize("typed, words", [
    ("vi var de samme folkene hele veien", "Vi var de samme folkene hele veien"),  # case only
    ('merket at "veilederne" kom tilbake - hver gang', "merket at «veilederne» kom tilbake – hver gang"),  # marks
])
def test_a_quote_differing_only_in_case_spacing_or_marks_is_a_candidate_of_similarity_one(voices, typed, words):
    found = find_quote(voices.store, "to-stemmer", typed)
    assert found.exact == []
    assert (found.candidates[0].text, found.candidates[0].similarity) == (words, 1.0)


@pytest.mark.parametrize("typed, words", [
    ("det  ga   trygghet", "det ga trygghet"),  # runs of blanks
    ("Det tok tid å bygge opp kapasiteten igjen.", "Det tok tid å bygge opp\nkapasiteten igjen."),  # a line break
])
def test_blanks_and_line_breaks_typed_as_single_spaces_match_verbatim(voices, typed, words):
    """Line breaks are layout: the same words in the same order are the verbatim quote."""
    found = find_quote(voices.store, "to-stemmer", typed)
    text = voices.store.transcript_text("to-stemmer")
    assert [text[a:b] for a, b in found.exact] == [words]


@pytest.mark.parametrize("typed, line, speaker, words", [
    ("vi var de samme folkene hele veien", 8, "S1", "Vi var de samme folkene hele veien"),
    ('merket at "veilederne" kom tilbake - hver gang', 9, "R1.1", "merket at «veilederne» kom tilbake – hver gang"),
])
def test_a_near_verbatim_quote_is_offered_for_confirmation_never_coded_silently(
    voices, capsys, monkeypatch, typed, line, speaker, words
):
    monkeypatch.setattr("rta.cli.coding._interactive", lambda: False)
    code, out, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--quote", typed, "--code", "Kontinuitet")
    assert code == 2
    assert "not found verbatim" in err and f"[1] lines {line}-{line}, similarity 1.00" in err and "--yes" in err
    assert _count(voices) == 0
    code, out, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--quote", typed, "--code", "Kontinuitet",
                             "--yes")
    assert code == 0, err
    (row,) = query_codings(voices.store)
    assert (row.informant, row.quote) == (speaker, words)


def test_a_verbatim_quote_is_coded_without_asking(voices, capsys, monkeypatch):
    monkeypatch.setattr("rta.cli.coding._interactive", lambda: False)
    code, out, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--quote", "de samme folkene", "--code", "Kontinuitet")
    assert code == 0, err
    assert [r.quote for r in query_codings(voices.store)] == ["de samme folkene"]


# -- duplicates ------------------------------------------------------------------------------


def test_an_exact_duplicate_is_refused_naming_the_existing_coding(voices, capsys):
    code, _, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--turn", "2", "--code", "Kontinuitet")
    assert code == 0, err
    code, _, err = run_cli(capsys, voices.root, "code", "to-stemmer", "--lines", "8", "--code", "kontinuitet")
    assert code == 2 and "already coded Kontinuitet: coding #1" in err and "rta recode 1" in err
    assert _count(voices) == 1
    # another code on the same words, or the same code once the first is removed, is fine
    assert run_cli(capsys, voices.root, "code", "to-stemmer", "--turn", "2", "--code", "Tid")[0] == 0
    assert run_cli(capsys, voices.root, "uncode", "1")[0] == 0
    assert run_cli(capsys, voices.root, "code", "to-stemmer", "--turn", "2", "--code", "Kontinuitet")[0] == 0


def test_overlap_share_is_measured_against_the_shorter_span():
    assert overlap_share(0, 10, 0, 10) == 1.0
    assert overlap_share(0, 100, 40, 50) == 1.0  # one inside the other
    assert overlap_share(0, 10, 5, 20) == 0.5
    assert overlap_share(0, 10, 6, 20) == 0.4
    assert overlap_share(0, 10, 10, 20) == 0.0


def _candidate(project: Project, start: int, end: int, code: str, method: str = "lemma"):
    from rta.suggest import Candidate

    text = project.store.transcript_text("to-stemmer")
    turn = project.store.conn.execute(
        "SELECT n FROM turns WHERE transcript_id='to-stemmer' AND start <= ? AND ? <= end", (start, end)).fetchone()
    line = text.count("\n", 0, start) + 1
    return Candidate("to-stemmer", 1, turn["n"], start, end, line, line, code, 0.8, method,
                     [{"indicator": "x", "token": "x", "method": method}], "test")


def _store(project: Project, candidates) -> tuple[int, int]:
    from rta.suggest import store_candidates

    with project.store.transaction():
        return store_candidates(project.store, candidates)


def _suggested(project: Project) -> list[tuple[int, int, str]]:
    return [(r["start"], r["end"], r["code"]) for r in project.store.conn.execute(
        "SELECT start, end, code FROM suggestions WHERE status = 'suggested' ORDER BY start, code")]


def test_suggest_does_not_propose_a_code_over_a_passage_already_coded_with_it(voices):
    text = voices.store.transcript_text("to-stemmer")
    s, e = span_for_turn(voices.store, "to-stemmer", 2)
    _code(voices, s, e, "Kontinuitet")
    half = text.index("hele veien")  # from here the sentence is more than half inside the coding
    new, existing = _store(voices, [
        _candidate(voices, s, e, "Kontinuitet"),  # the coded span itself
        _candidate(voices, s, half, "Kontinuitet", "phrase"),  # inside the coding
        _candidate(voices, s, e, "Tid"),  # another code: still proposed
        _candidate(voices, *span_for_turn(voices.store, "to-stemmer", 3), "Kontinuitet"),  # another turn
    ])
    assert (new, existing) == (2, 2)
    assert _suggested(voices) == [(s, e, "Tid"), (*span_for_turn(voices.store, "to-stemmer", 3), "Kontinuitet")]


def test_suggest_does_not_propose_again_over_a_rejected_passage_when_overlap_is_half_or_more(voices):
    from rta.review import reject

    s, e = span_for_turn(voices.store, "to-stemmer", 3)
    _store(voices, [_candidate(voices, s, e, "Tid")])
    (sid,) = [r["id"] for r in voices.store.conn.execute("SELECT id FROM suggestions")]
    with voices.store.transaction():
        reject(voices.store, sid, "tester")
    mid = (s + e) // 2
    new, existing = _store(voices, [
        _candidate(voices, s, mid, "Tid", "phrase"),  # half of the rejected span, all of itself: same passage
        _candidate(voices, mid - 2, e, "Tid", "regex"),  # inside it too
        _candidate(voices, s, e, "Rom"),  # another code
    ])
    assert (new, existing) == (1, 2)
    assert _suggested(voices) == [(s, e, "Rom")]


def test_suggest_still_proposes_a_passage_that_overlaps_a_coding_by_less_than_half(voices):
    text = voices.store.transcript_text("to-stemmer")
    s, e = span_for_turn(voices.store, "to-stemmer", 2)
    cut = text.index("og det ga")
    _code(voices, s, cut - 2, "Kontinuitet")  # 'Vi var de samme folkene hele veien'
    new, _ = _store(voices, [_candidate(voices, text.index("veien"), e, "Kontinuitet")])
    assert new == 1


def test_accepting_a_suggestion_for_a_passage_already_coded_links_it_instead_of_a_second_coding(voices):
    from rta.review import accept, undo_last

    s, e = span_for_turn(voices.store, "to-stemmer", 2)
    _store(voices, [_candidate(voices, s, e, "Kontinuitet")])  # proposed before the person coded it
    manual = _code(voices, s, e, "Kontinuitet")
    (sid,) = [r["id"] for r in voices.store.conn.execute("SELECT id FROM suggestions")]
    with voices.store.transaction():
        version = ensure_codebook_version(voices.store, voices.codebook_path, "tester")
        got = accept(voices.store, sid, "tester", version)
    assert got == manual and _count(voices) == 1
    row = voices.store.conn.execute("SELECT status, coding_id FROM suggestions WHERE id=?", (sid,)).fetchone()
    assert (row["status"], row["coding_id"]) == ("accepted", manual)
    assert voices.store.events(kind="suggestion.accepted")[-1].payload["linked"] is True
    with voices.store.transaction():
        undo_last(voices.store, "tester")  # undoing the acceptance keeps the person's own coding
    assert get_coding(voices.store, manual).status == "active"


def test_accepting_a_fresh_suggestion_still_creates_its_coding(voices):
    from rta.review import accept

    s, e = span_for_turn(voices.store, "to-stemmer", 2)
    _store(voices, [_candidate(voices, s, e, "Kontinuitet")])
    (sid,) = [r["id"] for r in voices.store.conn.execute("SELECT id FROM suggestions")]
    with voices.store.transaction():
        version = ensure_codebook_version(voices.store, voices.codebook_path, "tester")
        cid = accept(voices.store, sid, "tester", version)
    coding = get_coding(voices.store, cid)
    assert (coding.origin, coding.suggestion_id, coding.turn_n) == ("suggested", sid, 2)


# -- orphans after a revision ------------------------------------------------------------------


def test_orphan_candidates_lie_in_one_informant_turn_on_word_boundaries_and_obey_the_span_rules(voices, tmp_path):
    from rta.anchor import orphans, resolve_orphan

    text = voices.store.transcript_text("to-stemmer")
    quote = "folkene hele veien, og det ga trygghet."
    cid = _code(voices, text.index(quote), text.index(quote) + len(quote))
    path = tmp_path / "to-stemmer.txt"
    path.write_text(TWO_VOICES.replace(S1_WORDS, "Vi hadde de samme folka hele tida, det ga oss ro."), encoding="utf-8")
    voices.add_files([path], coder="tester")
    assert get_coding(voices.store, cid).status == "orphaned"
    (orphan,) = orphans(voices.store)
    new_text = voices.store.transcript_text("to-stemmer")
    turns = [(r["start"], r["end"]) for r in voices.store.conn.execute(
        "SELECT start, end FROM turns WHERE transcript_id='to-stemmer' AND revision=2 AND informant IS NOT NULL")]
    assert orphan.candidates
    for c in orphan.candidates:
        assert not _mid_word(new_text, c.start) and not _mid_word(new_text, c.end), c.text
        assert any(lo <= c.start and c.end <= hi for lo, hi in turns), c.text
    best = orphan.candidates[0]
    other = _code(voices, best.start, best.end)  # someone coded that passage anew meanwhile
    with pytest.raises(SpanError, match=f"already coded Kontinuitet: coding #{other}"):
        with voices.store.transaction():
            resolve_orphan(voices.store, cid, 1, "tester")
    assert get_coding(voices.store, cid).status == "orphaned"


def test_recoding_onto_a_code_the_same_span_already_has_is_refused(voices, capsys):
    assert run_cli(capsys, voices.root, "code", "to-stemmer", "--turn", "2", "--code", "Kontinuitet")[0] == 0
    assert run_cli(capsys, voices.root, "code", "to-stemmer", "--turn", "2", "--code", "Tid")[0] == 0
    code, _, err = run_cli(capsys, voices.root, "recode", "2", "--code", "Kontinuitet")
    assert code == 2 and "already coded Kontinuitet: coding #1" in err
    assert get_coding(voices.store, 2).code == "Tid"
