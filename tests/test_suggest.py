"""The NLP assistant's matching routes, its sense policy and its runs over a project."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from rta.codebook_yaml import load_codebook
from rta.errors import RtaError
from rta.nlp import load_pipeline
from rta.matcher import Matcher, SuggestOptions, TurnInput
from rta.suggest import run_suggest
from test_suggest_support import SUGGEST, cli, make_project, pin_pipeline, sample_files


@pytest.fixture(scope="session")
def embedded():
    """The embedded pipeline, loaded once for the whole session."""
    return load_pipeline("embedded")


@pytest.fixture(scope="session")
def matcher(embedded):
    nlp, info = embedded
    return Matcher(nlp, info.label, load_codebook(SUGGEST / "codebook.yaml"), SuggestOptions())


def match(matcher, text: str):
    """{code: [(token, method), ...]} for one informant turn."""
    found: dict[str, list[tuple[str, str]]] = {}
    for c in matcher.match_doc(TurnInput("t", 1, 1, 0, text), matcher.nlp(text)):
        found.setdefault(c.code, []).extend((e["token"], e["method"]) for e in c.evidence)
    return found


def test_lemma_route_reaches_inflected_forms(matcher):
    found = match(matcher, "Forventningene var store.")
    assert found["Forventninger"] == [("Forventningene", "lemma")]


def test_compound_route_finds_indicator_as_head_or_first_part(matcher):
    assert ("Veilederrollen", "compound") in match(matcher, "Veilederrollen var uklar.")["Rolleavklaringer"]
    assert ("rolleforståelsen", "compound") in match(matcher, "Vi fikk bedre rolleforståelsen etter hvert.")["Rolleavklaringer"]
    assert ("Kapasitetsbyggingen", "compound") in match(matcher, "Kapasitetsbyggingen gikk sakte.")["Kapasitetsbygging"]


def test_compound_route_ignores_words_that_merely_contain_the_letters(matcher):
    # kontroll-en ends in 'rolle'+'n' but 'kont' is no word; 'rom' is too short to be a stem
    found = match(matcher, "Kontrollen var streng. Klasserommet var nytt. Det var romantisk.")
    assert "Rolleavklaringer" not in found
    assert "Rom" not in found


def test_folded_route_tolerates_lost_accents(matcher):
    found = match(matcher, "Vi fikk god stotte fra dem.")
    assert found["Støtte"] == [("stotte", "folded")]


def test_fuzzy_route_catches_typos_but_not_other_real_words(matcher):
    assert match(matcher, "Kompetamse var det mye av.")["Kompetanse"] == [("Kompetamse", "fuzzy")]
    found = match(matcher, "Vi var kompetente nok. Forvaltningen var grei.")
    assert "Kompetanse" not in found
    assert "Forventninger" not in found


def test_phrase_route_matches_on_lemmas(matcher):
    assert ("tok tid", "phrase") in match(matcher, "Det tok tid å endre praksis.")["Tid"]
    assert ("stolte på hverandre", "phrase") in match(matcher, "Vi stolte på hverandre.")["Tillit"]


def test_regex_route_matches_and_respects_word_boundaries(matcher):
    assert match(matcher, "Alt var uklart en stund.")["Uklarhet"] == [("uklart", "regex")]
    assert "Uklarhet" not in match(matcher, "Det var klart at vi skulle starte.")


def test_rom_counts_only_as_room_for(matcher):
    assert "Rom" in match(matcher, "Lærerne hadde lite rom for å prøve ut nye ting.")
    for text in ("En kollega reiste til Rom for å feire.", "Etterpå drakk vi rom og cola.",
                 "Møtet var i et lite rom i andre etasje."):
        assert "Rom" not in match(matcher, text), text


def test_tid_in_fixed_expressions_never_counts(matcher):
    for text in ("Vi holdt på hele tiden.", "Det var på tide at noe skjedde.", "Vi kom i tide til møtet.",
                 "Til tider var det tungt.", "For tiden går det bra."):
        assert "Tid" not in match(matcher, text), text
    assert "Tid" in match(matcher, "Vi hadde ikke tid til det.")


def test_scores_grow_with_distinct_evidence_not_with_repetition(matcher):
    def best(text: str, code: str) -> float:
        return max(c.score for c in matcher.match_doc(TurnInput("t", 1, 1, 0, text), matcher.nlp(text)) if c.code == code)

    one = best("Forventningene var store.", "Forventninger")
    again = best("Forventningene og forventningen var store.", "Forventninger")
    assert 0.0 < one == again  # saying the same word twice is one piece of evidence
    single = best("Vi hadde ikke tid til det.", "Tid")
    two = best("Vi hadde ikke tid til det. Det tar tid.", "Tid")  # the word and the phrase
    assert 0.0 < single < two <= 1.0


def test_a_passage_is_a_turn_cut_into_near_equal_runs_of_sentences(embedded):
    nlp, info = embedded
    cb = load_codebook(SUGGEST / "codebook.yaml")
    text = ("Første setning. Forventningene var store. Tredje setning.\n\n"
            "Ny bolk. Vi hadde ikke tid. En til. Og en til.")
    whole = Matcher(nlp, info.label, cb, SuggestOptions()).match_doc(TurnInput("t", 1, 1, 100, text), nlp(text))
    assert {(c.start, c.end) for c in whole} == {(100, 100 + len(text))}  # a blank line does not cut a turn
    # seven sentences, at most three per passage: runs of 3, 2 and 2
    m = Matcher(nlp, info.label, cb, SuggestOptions(passage_sentences=3))
    spans = {c.code: text[c.start - 100:c.end - 100] for c in m.match_doc(TurnInput("t", 1, 1, 100, text), nlp(text))}
    assert spans["Forventninger"] == "Første setning. Forventningene var store. Tredje setning."
    assert spans["Tid"] == "Ny bolk. Vi hadde ikke tid."


# -- over a project ----------------------------------------------------------------------

@pytest.fixture
def proj(tmp_path, embedded):
    project = make_project(tmp_path)
    yield project
    project.close()


def test_interviewer_turns_never_get_suggestions(proj):
    run_suggest(proj, SuggestOptions())
    rows = proj.store.conn.execute(
        "SELECT s.id, t.informant FROM suggestions s JOIN turns t ON t.transcript_id = s.transcript_id "
        "AND t.revision = s.revision AND s.start >= t.start AND s.end <= t.end").fetchall()
    assert rows and all(r["informant"] is not None for r in rows)
    total = proj.store.conn.execute("SELECT COUNT(*) FROM suggestions").fetchone()[0]
    assert total == len(rows)  # every suggestion lies inside one informant turn


def test_rerun_adds_nothing_and_keeps_decisions(proj):
    first = run_suggest(proj, SuggestOptions())
    store = proj.store
    sid = store.conn.execute("SELECT id FROM suggestions ORDER BY id LIMIT 1").fetchone()[0]
    with store.transaction():
        store.conn.execute("UPDATE suggestions SET status='rejected', decided_by='kari' WHERE id=?", (sid,))
    second = run_suggest(proj, SuggestOptions())
    assert first.new > 0 and second.new == 0 and second.existing == first.candidates
    assert store.conn.execute("SELECT COUNT(*) FROM suggestions").fetchone()[0] == first.new
    assert store.conn.execute("SELECT status FROM suggestions WHERE id=?", (sid,)).fetchone()[0] == "rejected"


def test_every_suggestion_records_pipeline_evidence_and_lines(proj):
    run_suggest(proj, SuggestOptions())
    rows = proj.store.conn.execute("SELECT * FROM suggestions").fetchall()
    text = proj.store.transcript_text("suggest-k1")
    for r in rows:
        assert r["pipeline"].startswith("nb_blank_lookup@spacy-")
        assert 0.0 <= r["score"] <= 1.0 and r["evidence"] != "[]"
        if r["transcript_id"] == "suggest-k1":
            assert r["line_start"] == text.count("\n", 0, r["start"]) + 1
    events = proj.store.events(kind="suggestions.generated")
    assert events and events[-1].coder == "kari"


def test_code_and_min_score_filters(proj):
    result = run_suggest(proj, SuggestOptions(codes=["tid"], min_score=0.5))
    codes = {r[0] for r in proj.store.conn.execute("SELECT code FROM suggestions")}
    assert result.candidates > 0 and codes == {"Tid"}
    assert proj.store.conn.execute("SELECT MIN(score) FROM suggestions").fetchone()[0] >= 0.5


def test_unknown_transcript_or_code_is_a_clear_error_and_changes_nothing(proj):
    before = proj.store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    with pytest.raises(RtaError, match="no transcript 'nope'"):
        run_suggest(proj, SuggestOptions(transcript="nope"))
    with pytest.raises(RtaError, match="Tidd|code"):
        run_suggest(proj, SuggestOptions(codes=["Tidd"]))
    with pytest.raises(RtaError, match="min-score"):
        run_suggest(proj, SuggestOptions(min_score=1.5))
    assert proj.store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == before


def test_cli_suggest_prints_counts_and_is_idempotent(proj):
    first = cli(["suggest", "--quiet"], proj)
    assert first.exit_code == 0, first.output
    assert "new" in first.stdout and "nb_blank_lookup" in first.stdout
    import re

    burden = re.search(r"review burden: ([\d.]+) passages to decide per 1,000 informant words "
                       r"\(sentence by sentence it would be ([\d.]+) candidates\)", first.stdout)
    assert burden and float(burden.group(1)) < float(burden.group(2)), first.stdout
    second = cli(["suggest", "--quiet"], proj)
    assert " 0 new" in second.stdout


def test_sample_project_with_tabell3_gets_suggestions_for_most_codes(tmp_path, embedded):
    from rta.project import Project

    project = Project.init(tmp_path / "sample", name="sample", coder="kari")
    project.add_files(sample_files(), coder="kari")
    project = pin_pipeline(project)
    result = run_suggest(project, SuggestOptions())
    assert len(result.codes) >= 35, sorted(result.codes)
    interviewer = project.store.conn.execute(
        "SELECT COUNT(*) FROM suggestions s JOIN turns t ON t.transcript_id = s.transcript_id "
        "AND t.revision = s.revision AND t.n = s.turn_n WHERE t.informant IS NULL").fetchone()[0]
    assert interviewer == 0
    project.close()


def test_vectorised_sentence_rule_equals_spacy_sentencizer(embedded):
    import numpy as np
    from spacy.attrs import IS_PUNCT, ORTH, SENT_START
    from spacy.strings import get_string_id

    from rta.matcher import sentence_starts

    nlp, _info = embedded
    texts = ["", "Hei.", "...Ja! Nei", "«Hva?» sa hun. Ok.", "Forventningene var store. Vi tok tid (...) til det!"]
    docs = list(nlp.pipe(texts))
    arrays = [d.to_array([ORTH, IS_PUNCT, SENT_START]) if len(d) else np.zeros((0, 3), dtype=np.uint64) for d in docs]
    allarr = np.concatenate(arrays)
    offsets = np.cumsum([0] + [len(a) for a in arrays])
    punct = np.array(sorted(get_string_id(c) for c in nlp.get_pipe("sentencizer").punct_chars), dtype=np.uint64)
    assert sentence_starts(allarr[:, 0], allarr[:, 1], punct, offsets).tolist() == (allarr[:, 2] == 1).astype(int).tolist()


def test_switching_off_duplicated_components_changes_no_candidate(matcher):
    from test_suggest_support import SUGGEST
    from rta.transcripts import parse_file
    from rta.informants import default_registry

    turns = [TurnInput("k1", 1, t.n, t.start, t.text)
             for t in parse_file(SUGGEST / "suggest-k1.txt", default_registry()).informant_turns]
    assert set(matcher.skippable()) == {"lemmatizer", "sentencizer"}
    full = [c for t, d in zip(turns, matcher.nlp.pipe([t.text for t in turns])) for c in matcher.match_doc(t, d)]
    fast = [c for t, d in matcher.read(turns) for c in matcher.match_doc(t, d)]
    assert full and [(c.start, c.end, c.code, c.evidence) for c in full] == [(c.start, c.end, c.code, c.evidence) for c in fast]


BATCH_TURNS = [
    "Vi stolte på hverandre. Det tok tid.",
    "Alt var uklart i starten, og slutt",  # with the next turn: 'slutt\nstart' across turns
    "start på nytt var tungt. Forventningene var store.",
    "Ja, det var uklart.",
    "",
    "Rolleforståelsen kom etter hvert, men kapasiteten manglet.",
    "Ja",
]


def _codebook_with_regexes(tmp_path, patterns: list[str]):
    text = (SUGGEST / "codebook.yaml").read_text(encoding="utf-8")
    quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in patterns)
    text = text.replace("regex: ['\\buklar(?:e|t)?\\b']", f"regex: [{quoted}]")
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    return load_codebook(path)


@pytest.mark.parametrize("patterns, batched", [
    ([r"\buklar(?:e|t)?\b", r"slutt\s+start"], True),  # may cross turns when joined: still exact
    ([r"^ja\b", r"uklart\.?$"], False),  # anchors: every turn is searched on its own
    ([r"\Auklart|uklart\Z", r"\buklar"], False),  # string edges: likewise
])
def test_batch_matching_finds_exactly_what_turn_by_turn_matching_finds(tmp_path, embedded, patterns, batched):
    nlp, info = embedded
    m = Matcher(nlp, info.label, _codebook_with_regexes(tmp_path, patterns), SuggestOptions())
    assert m.index.batch_regex is batched
    turns = [TurnInput("t", 1, n, 1000 * n, text) for n, text in enumerate(BATCH_TURNS)]
    docs = list(nlp.pipe(BATCH_TURNS))
    one_by_one = [m.match_doc(t, d) for t, d in zip(turns, docs)]
    batch = m.match_docs(list(zip(turns, docs)), max_codes=0, min_score=0.0)
    key = lambda cs: [(c.start, c.end, c.code, c.score, c.evidence) for c in cs]  # noqa: E731
    assert [key(cs) for cs in batch] == [key(cs) for cs in one_by_one]
    regex_hits = [e for cs in batch for c in cs for e in c.evidence if e["method"] == "regex"]
    assert regex_hits  # the regexes did fire somewhere
    if patterns[0].startswith("^"):
        assert {e["token"].lower() for e in regex_hits} >= {"ja"}


def test_evidence_json_is_byte_for_byte_json_dumps():
    import json

    from rta.matcher import evidence_json

    cases = [[], [{"indicator": 'si "hei"', "token": "æøå\n\\ \u2028", "method": "lemma"}],
             [{"indicator": "x", "token": "y", "method": "z", "extra": 1}],
             [{"token": "y", "indicator": "x", "method": "z"}],
             [{"indicator": "learned model", "token": "", "method": "learned", "model": 'm "1" (2 ex)',
               "probability": 0.1234, "positives": 7}, {"indicator": "a", "token": "b", "method": "lemma"}],
             [{"indicator": "learned model", "token": "", "method": "learned", "model": "m",
               "probability": 1e-05, "positives": 5}],
             [{"indicator": "learned model", "token": "", "method": "learned", "model": "m",
               "probability": 1, "positives": 5}]]
    for evidence in cases:
        assert evidence_json(evidence) == json.dumps(evidence, ensure_ascii=False)


def test_suggestion_row_hashes_in_one_pass_equal_the_audits_two():
    from rta.rowhash import row_digests, suggestion_rows_hashes, suggestion_rows_sha256

    rows = [[3, "t", 1, 2, 5, 9, 1, 1, "Tid", 0.8, "lemma", '[{"token": "tid\\n\\"x\\""}]', "p", "suggested",
             "2026-01-01T00:00:00Z", None, None, None],
            [1, "æøå", 1, 1, 0, 4, 1, 1, "Støtte", 0.1234, "learned", "[]", "p", "suggested", "t", None, None, 7]]
    assert suggestion_rows_hashes(rows) == (suggestion_rows_sha256(rows), row_digests(rows))
    assert suggestion_rows_hashes([]) == (suggestion_rows_sha256([]), row_digests([]))


@given(st.lists(st.lists(st.one_of(st.text(), st.integers(), st.none(), st.booleans(),
                                   st.floats(allow_nan=True, allow_infinity=True)), min_size=1, max_size=6),
                max_size=5))
def test_a_row_is_hashed_as_its_canonical_json_whatever_it_holds(rows):
    from rta.rowhash import _row_json
    from rta.store import canonical_json

    for k, row in enumerate(rows):
        row[0] = k  # rows are sorted by id
        assert _row_json(row) == canonical_json(row)


def test_a_regex_match_right_after_one_at_the_end_of_the_previous_turn_is_found(tmp_path, embedded):
    # joined for the batch scan, 'nei ja\nja takk' has two matches of \bja\b sharing the newline
    # as context: the scan must still send the second turn to be searched
    nlp, info = embedded
    m = Matcher(nlp, info.label, _codebook_with_regexes(tmp_path, [r"\bja\b"]), SuggestOptions())
    texts = ["nei ja", "ja takk", "nei takk", "ja"]
    turns = [TurnInput("t", 1, n, 100 * n, text) for n, text in enumerate(texts)]
    batch = m.match_docs(list(zip(turns, nlp.pipe(texts))), max_codes=0, min_score=0.0)
    hits = [[e["token"] for c in cs for e in c.evidence if e["method"] == "regex"] for cs in batch]
    assert hits == [["ja"], ["ja"], [], ["ja"]]
