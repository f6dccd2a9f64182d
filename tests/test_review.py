"""Reviewing suggestions: every key of the interactive loop, the batch forms, the export."""

from __future__ import annotations

import csv
import json

import pytest

from rta.errors import RtaError
from rta.nlp import load_pipeline
from rta.suggest import SuggestOptions, run_suggest
from test_suggest_support import cli, make_project

EXPORT_FIELDS = ["id", "transcript", "speaker", "role", "group", "start", "end", "line_start", "line_end",
                 "text", "passage", "rank", "code", "themes", "score", "themes_ranked", "method", "evidence",
                 "pipeline", "status", "note"]


@pytest.fixture(scope="session")
def embedded():
    return load_pipeline("embedded")


@pytest.fixture
def proj(tmp_path, embedded):
    project = make_project(tmp_path)
    run_suggest(project, SuggestOptions())
    yield project
    project.close()


def first(project, code: str = "Forventninger"):
    return project.store.conn.execute(
        "SELECT * FROM suggestions WHERE code=? AND transcript_id='suggest-k1' ORDER BY start, score DESC, id LIMIT 1",
        (code,)).fetchone()


def review(project, keys: str, *extra: str):
    return cli(["review", "--code", "Forventninger", "--transcript", "suggest-k1", *extra], project, input=keys)


def status(project, sid: int) -> str:
    return project.store.conn.execute("SELECT status FROM suggestions WHERE id=?", (sid,)).fetchone()[0]


def test_review_shows_turn_context_definition_evidence_and_score(proj):
    result = review(proj, "q\n")
    out = result.stdout
    assert "S1 (skoleeier, kommune 1)" in out and "lines 8-9" in out
    assert "definition: Hva partene ventet seg av ordningen." in out
    assert "Forventningene ~ forventning (lemma)" in out and "score 0.80" in out
    assert "[[Forventningene var store i starten. Veilederrollen var ikke helt avklart." in out
    assert "Kompetamse var det mye av.]]" in out


def test_accept_key_creates_a_suggested_coding_and_logs_the_coder(proj):
    sug = first(proj)
    result = review(proj, "a\nq\n")
    assert result.exit_code == 0
    row = proj.store.conn.execute("SELECT * FROM codings WHERE suggestion_id=?", (sug["id"],)).fetchone()
    assert row["origin"] == "suggested" and row["code"] == "Forventninger" and row["coder"] == "kari"
    assert (row["start"], row["end"]) == (sug["start"], sug["end"])
    assert status(proj, sug["id"]) == "accepted"
    assert proj.store.events(kind="suggestion.accepted")[-1].coder == "kari"


def test_reject_key_marks_rejected_without_coding(proj):
    sug = first(proj)
    review(proj, "r\nq\n")
    assert status(proj, sug["id"]) == "rejected"
    assert proj.store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == 0
    assert proj.store.events(kind="suggestion.rejected")[-1].payload["suggestion"] == sug["id"]


def test_skip_key_leaves_it_pending_and_logs_it(proj):
    sug = first(proj)
    review(proj, "s\nq\n")
    assert status(proj, sug["id"]) == "suggested"
    assert proj.store.events(kind="suggestion.skipped")[-1].payload["suggestion"] == sug["id"]


def test_recode_key_codes_the_span_with_another_code(proj):
    sug = first(proj)
    review(proj, "c\nKompetanse\nq\n")
    coding = proj.store.conn.execute("SELECT * FROM codings WHERE suggestion_id=?", (sug["id"],)).fetchone()
    assert coding["code"] == "Kompetanse" and coding["origin"] == "suggested"
    assert status(proj, sug["id"]) == "rejected"  # the suggested code was wrong
    ev = proj.store.events(kind="suggestion.recoded")[-1]
    assert ev.payload["from"] == "Forventninger" and ev.payload["to"] == "Kompetanse"


def test_recode_to_unknown_code_says_so_and_keeps_the_suggestion(proj):
    sug = first(proj)
    result = review(proj, "c\nKompetense\nq\n")
    assert "did you mean Kompetanse" in result.output
    assert status(proj, sug["id"]) == "suggested"


def test_widen_and_narrow_keys_move_the_span_by_a_sentence(proj):
    sug = first(proj)
    text = proj.store.transcript_text("suggest-k1")
    # the passage is the whole four-sentence turn: narrowing drops a sentence at each end
    review(proj, "n\nq\n")
    narrow = proj.store.conn.execute("SELECT start, end FROM suggestions WHERE id=?", (sug["id"],)).fetchone()
    assert text[narrow[0]:narrow[1]] == "Veilederrollen var ikke helt avklart.\nVi fikk god stotte fra dem."
    review(proj, "w\nq\n")
    wide = proj.store.conn.execute("SELECT start, end FROM suggestions WHERE id=?", (sug["id"],)).fetchone()
    assert (wide[0], wide[1]) == (sug["start"], sug["end"])
    assert [e.payload["direction"] for e in proj.store.events(kind="suggestion.span_changed")] == ["narrow", "widen"]


def test_memo_key_is_logged_and_carried_into_the_accepted_coding(proj):
    sug = first(proj)
    review(proj, "m\nTydelig uttrykk for forventninger.\na\nq\n")
    coding = proj.store.conn.execute("SELECT memo FROM codings WHERE suggestion_id=?", (sug["id"],)).fetchone()
    assert coding["memo"] == "Tydelig uttrykk for forventninger."


def test_undo_key_reverts_the_last_decision(proj):
    sug = first(proj)
    result = review(proj, "a\nu\nq\n")
    assert "undone: suggestion.accepted" in result.stdout
    assert status(proj, sug["id"]) == "suggested"
    coding = proj.store.conn.execute("SELECT status FROM codings WHERE suggestion_id=?", (sug["id"],)).fetchone()
    assert coding["status"] == "removed"  # never deleted
    assert proj.store.events(kind="suggestion.undone")[-1].coder == "kari"


def test_undo_with_nothing_to_undo_says_so(proj):
    assert "nothing to undo" in review(proj, "u\nq\n").stdout


def test_quit_keeps_progress_and_end_of_input_quits(proj):
    pending = proj.store.conn.execute("SELECT COUNT(*) FROM suggestions WHERE status='suggested'").fetchone()[0]
    result = cli(["review"], proj, input="r\n")  # end of input after one decision
    assert result.exit_code == 0 and "progress is saved" in result.stdout
    assert proj.store.conn.execute(
        "SELECT COUNT(*) FROM suggestions WHERE status='suggested'").fetchone()[0] == pending - 1


def test_unknown_key_shows_the_keys(proj):
    assert "unknown key 'x'" in review(proj, "x\nq\n").stdout


def test_batch_accept_and_reject_by_id(proj):
    ids = [r[0] for r in proj.store.conn.execute("SELECT id FROM suggestions ORDER BY id LIMIT 3")]
    result = cli(["review", "--accept", f"{ids[0]},{ids[1]}", "--reject", str(ids[2])], proj)
    assert "accepted 2, rejected 1" in result.stdout
    assert [status(proj, i) for i in ids] == ["accepted", "accepted", "rejected"]


def test_batch_accept_above_one_code(proj):
    result = cli(["review", "--accept-above", "0.8", "--code", "tid"], proj)
    assert result.exit_code == 0
    accepted = {r[0] for r in proj.store.conn.execute("SELECT code FROM suggestions WHERE status='accepted'")}
    assert accepted == {"Tid"}
    assert proj.store.conn.execute(
        "SELECT COUNT(*) FROM suggestions WHERE status='suggested' AND code='Tid' AND score >= 0.8").fetchone()[0] == 0


def test_batch_with_a_bad_id_changes_nothing(proj):
    good = proj.store.conn.execute("SELECT id FROM suggestions ORDER BY id LIMIT 1").fetchone()[0]
    with pytest.raises(RtaError, match="no suggestion with id 99999"):
        cli(["review", "--accept", str(good), "--accept", "99999"], proj)
    assert status(proj, good) == "suggested"
    with pytest.raises(RtaError, match="'x' is not a suggestion id"):
        cli(["review", "--reject", "x"], proj)


def test_deciding_twice_is_refused(proj):
    good = proj.store.conn.execute("SELECT id FROM suggestions ORDER BY id LIMIT 1").fetchone()[0]
    cli(["review", "--reject", str(good)], proj)
    with pytest.raises(RtaError, match="already rejected"):
        cli(["review", "--accept", str(good)], proj)


def test_export_jsonl_has_exactly_the_schema_fields(proj):
    result = cli(["export", "suggestions"], proj)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    total = proj.store.conn.execute("SELECT COUNT(*) FROM suggestions").fetchone()[0]
    assert len(records) == total
    for r in records:
        assert list(r) == EXPORT_FIELDS
        text = proj.store.transcript_text(r["transcript"])
        assert text[r["start"]:r["end"]] == r["text"]
        assert isinstance(r["themes"], list) and isinstance(r["evidence"], list)
        assert r["role"] != "intervjuer" and r["status"] == "suggested"
    tid = next(r for r in records if r["code"] == "Tid")
    assert tid["themes"] == ["Kapasitet"] and tid["speaker"] in ("S1", "R2.1")


def test_export_csv_to_file(proj, tmp_path):
    out = tmp_path / "forslag.csv"
    cli(["export", "suggestions", "--format", "csv", "-o", str(out)], proj)
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0]) == EXPORT_FIELDS
    assert json.loads(rows[0]["evidence"])[0]["method"]


def test_export_unknown_format_is_an_error(proj):
    result = cli(["export", "suggestions", "--format", "xml"], proj)  # refused while parsing: a usage error
    assert result.exit_code == 2 and "unknown format 'xml'" in result.output


def test_review_shows_the_passage_with_its_ranked_codes_and_themes(proj):
    out = review(proj, "q\n").stdout
    # the first turn holds Forventninger, Rolleavklaringer, Støtte, Kompetanse evidence: at most
    # three codes are proposed, best first, with the themes they imply
    assert "3 codes proposed, best first" in out
    ranked = [line.split()[2] for line in out.splitlines() if line[:3].strip() in (">", "") and ". " in line[:6]]
    assert ranked[0] == "Forventninger"
    assert "themes:     Kommunikasjon" in out


def test_export_gives_each_suggestion_its_passage_rank_and_ranked_themes(proj):
    result = cli(["export", "suggestions"], proj)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    by_passage: dict = {}
    for r in records:
        by_passage.setdefault(r["passage"], []).append(r)
    for group in by_passage.values():
        assert len(group) <= 3
        assert sorted(r["rank"] for r in group) == list(range(1, len(group) + 1))
        scores = [r["score"] for r in sorted(group, key=lambda r: r["rank"])]
        assert scores == sorted(scores, reverse=True)
        themes = group[0]["themes_ranked"]
        assert all(r["themes_ranked"] == themes for r in group)  # a passage's themes, on each of its codes
        assert [t[1] for t in themes] == sorted((t[1] for t in themes), reverse=True)
        implied = {t for r in group for t in r["themes"]}
        assert {t[0] for t in themes} == implied


def test_feature_key_features_the_coding_just_accepted_in_its_theme(proj):
    from rta.codebook_yaml import load_codebook
    from rta.featured import featured
    from rta.themes import from_codebook

    from_codebook(proj.store, load_codebook(proj.codebook_path), "kari")
    sug = first(proj)
    result = review(proj, "f\na\nf\nq\n")
    assert result.exit_code == 0
    assert "nothing to feature yet" in result.stdout
    coding = proj.store.conn.execute("SELECT id FROM codings WHERE suggestion_id=?", (sug["id"],)).fetchone()[0]
    assert f"featured coding {coding} in Kommunikasjon (place 1 of 1)" in result.stdout
    theme = proj.store.conn.execute("SELECT id FROM themes WHERE name = 'Kommunikasjon'").fetchone()[0]
    assert [f.coding_id for f in featured(proj.store)[theme]] == [coding]


def test_evidence_text_says_what_matched_in_full_and_each_word_once_in_short():
    from rta.review import evidence_text

    evidence = [{"indicator": "tid", "token": "tid", "method": "lemma"},
                {"indicator": "tar tid", "token": "tar tid", "method": "phrase"},
                {"indicator": "tid", "token": "tid", "method": "lemma"},
                {"method": "learned", "model": "tfidf-lr v2", "probability": 0.71}]
    assert evidence_text(evidence) == ("tid ~ tid (lemma); tar tid ~ tar tid (phrase); tid ~ tid (lemma); "
                                       "learned from the project's decisions p=0.71 (tfidf-lr v2)")
    assert evidence_text(evidence, short=True) == "tid, tar tid, learned p=0.71"


def test_passage_view_is_the_passage_as_review_shows_it_with_decided_codes_shown_as_decided(proj):
    from rta.coding import ensure_codebook_version
    from rta.review import passage_view, passage_views, recode, reject

    store = proj.store
    views = sorted((v for v in passage_views(store).values() if v.transcript_id == "suggest-k1"),
                   key=lambda v: v.start)
    first = views[0]
    assert passage_view(store, "suggest-k1", 1, first.start, first.end) == first
    assert [s.decision for s in first.codes] == ["pending"] * 3
    with store.transaction():
        reject(store, first.codes[0].id, "kari")
        recode(store, first.codes[1].id, "Kompetanse", "kari", ensure_codebook_version(store, proj.codebook_path, "kari"))
    again = passage_view(store, "suggest-k1", 1, first.start, first.end)
    assert [s.id for s in again.codes] == [s.id for s in first.codes]  # the ranks stay
    assert [s.decision for s in again.codes] == ["rejected", "recoded", "pending"]
    assert [s.id for s in again.pending] == [first.codes[2].id]
    assert passage_view(store, "suggest-k1", 1, first.start, first.end - 1) is None  # no passage has that span


def test_ranked_groups_rank_a_passage_codes_by_score_then_by_id():
    from types import SimpleNamespace as S

    from rta.review import ranked_groups

    items = [S(id=3, score=0.5, span=1), S(id=1, score=0.5, span=1), S(id=2, score=0.9, span=1), S(id=4, score=1.0, span=2)]
    groups = ranked_groups(items, key=lambda s: s.span)
    assert {k: [s.id for s in g] for k, g in groups.items()} == {1: [2, 1, 3], 2: [4]}
