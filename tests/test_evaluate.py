"""rta evaluate: the assistant measured against the codings a person kept."""

from __future__ import annotations

import json

import pytest

from rta.coding import create_coding, ensure_codebook_version, span_for_lines
from rta.evaluate import evaluate
from rta.nlp import load_pipeline
from rta.suggest import SuggestOptions, run_suggest
from test_suggest_support import cli, make_project


@pytest.fixture(scope="session")
def embedded():
    return load_pipeline("embedded")


@pytest.fixture
def reviewed(tmp_path, embedded):
    """A scripted review: Tid suggestions all accepted, Rolleavklaringer all rejected, and a
    manual Tillit coding no suggestion anticipated."""
    project = make_project(tmp_path)
    run_suggest(project, SuggestOptions())
    store = project.store
    tid = [r[0] for r in store.conn.execute("SELECT id FROM suggestions WHERE code='Tid'")]
    roles = [r[0] for r in store.conn.execute("SELECT id FROM suggestions WHERE code='Rolleavklaringer'")]
    assert tid and len(roles) >= 1
    cli(["review", "--accept", ",".join(map(str, tid)), "--reject", ",".join(map(str, roles))], project)
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "kari")
        start, end = span_for_lines(store, "suggest-k2", 12, 12)  # "Vi stolte på folk ..."
        create_coding(store, "suggest-k2", start, end, "Tillit", "kari", version)
    yield project, len(tid), len(roles)
    project.close()


def test_figures_after_a_scripted_review(reviewed):
    project, n_tid, n_roles = reviewed
    ev = evaluate(project.store)
    by = {f.code: f for f in ev.codes}
    assert by["Tid"].accepted == n_tid and by["Tid"].acceptance == 1.0 and by["Tid"].recall == 1.0
    assert by["Rolleavklaringer"].acceptance == 0.0 and by["Rolleavklaringer"].codings == 0
    assert by["Tillit"].codings == 1 and by["Tillit"].recall == 0.0
    assert ev.total.codings == n_tid + 1 and ev.total.accepted == n_tid
    if n_roles >= 2:
        assert "Rolleavklaringer" in ev.mostly_rejected
    assert "Tid" not in ev.mostly_rejected


def test_cli_table_and_json(reviewed):
    project, n_tid, _ = reviewed
    table = cli(["evaluate"], project).stdout
    assert "recall" in table and "Tid" in table and "100%" in table and "(all)" in table
    data = json.loads(cli(["evaluate", "--format", "json"], project).stdout)
    tid = next(c for c in data["codes"] if c["code"] == "Tid")
    assert tid["accepted"] == n_tid and tid["recall"] == 1.0


def test_a_manual_coding_that_a_pending_suggestion_pointed_at_counts_as_anticipated(tmp_path, embedded):
    project = make_project(tmp_path)
    run_suggest(project, SuggestOptions(codes=["Støtte"]))
    store = project.store
    sug = store.conn.execute("SELECT * FROM suggestions WHERE code='Støtte'").fetchone()
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "kari")
        create_coding(store, sug["transcript_id"], sug["start"], sug["end"], "Støtte", "kari", version)
    f = {c.code: c for c in evaluate(store).codes}["Støtte"]
    assert (f.codings, f.anticipated, f.pending, f.acceptance) == (1, 1, 1, None)
    project.close()


def test_evaluate_on_an_empty_project_says_what_to_do(tmp_path, embedded):
    project = make_project(tmp_path, files=[])
    assert "run 'rta suggest'" in cli(["evaluate"], project).stdout
    project.close()


def test_evaluate_shows_what_the_learned_part_changes(tmp_path, embedded):
    """A suggestion made by the learned model alone counts for recall but not for recall
    without the learned part; its acceptance is reported apart."""
    project = make_project(tmp_path)
    try:
        store = project.store
        run_suggest(project, SuggestOptions())
        row = store.conn.execute("SELECT id, evidence FROM suggestions WHERE code='Tid' ORDER BY id LIMIT 1").fetchone()
        # as if the learned model alone had proposed this one
        store.conn.execute("UPDATE suggestions SET evidence=? WHERE id=?", (json.dumps(
            [{"indicator": "learned model", "token": "", "method": "learned", "model": "m", "probability": 0.9}]), row["id"]))
        others = [r[0] for r in store.conn.execute("SELECT id FROM suggestions WHERE code='Tid' AND id != ?", (row["id"],))]
        cli(["review", "--accept", ",".join(map(str, [row["id"], *others]))], project)
        tid = next(f for f in evaluate(store).codes if f.code == "Tid")
        assert tid.learned == 1 and tid.learned_acceptance == 1.0
        assert tid.recall == 1.0 and tid.recall_without_learned == (tid.codings - 1) / tid.codings
        assert "-learned" in cli(["evaluate"], project).stdout
    finally:
        project.close()
