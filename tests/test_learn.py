"""The learned part of the assistant (rta.learn): the project's own decisions as evidence."""

from __future__ import annotations

import json

import pytest

from rta.codebook_yaml import load_codebook
from rta.learn import MIN_POSITIVES, Example, Learner
from rta.nlp import load_pipeline
from rta.suggest import SuggestOptions, run_suggest
from test_suggest_support import make_project

TID = [
    "Vi hadde rett og slett ikke timer nok i uka til å drive med dette.",
    "Timeplanen var full, og lærerne hadde ingen ledige timer til utviklingsarbeid.",
    "Det var vanskelig å finne møtetid når alle timene allerede var fylt opp.",
    "Lærerne sa at uka var full og at de ikke hadde timer å gå på.",
    "Vi fikk aldri satt av faste timer til samarbeid i planen.",
    "Kalenderen var sprengt, så møtene ble flyttet igjen og igjen.",
]
TILLIT = [
    "Vi stolte på veilederne fordi de holdt det de lovet.",
    "Det var trygt å si fra når noe ikke fungerte, ingen ble hengt ut.",
    "Rektorene kunne være ærlige om det som var vanskelig uten å bli dømt.",
    "Vi ble trodd når vi sa at vi trengte mer hjelp.",
    "Det tok litt tid, men etter hvert turte lærerne å vise fram egen undervisning.",
    "Folk var åpne med hverandre, og det var en trygg stemning i gruppa.",
]


def lemma_of(word: str) -> str:
    return word


def test_a_code_needs_enough_positive_examples_before_it_gets_a_model():
    few = [Example(t, {"Tid"}) for t in TID[: MIN_POSITIVES - 1]] + [Example(t, {"Tillit"}) for t in TILLIT]
    learner = Learner(few, ["Tid", "Tillit"], lemma_of)
    assert learner.codes == ["Tillit"]  # Tid has one example too few


def test_the_model_tells_two_codes_apart_on_unseen_text():
    examples = [Example(t, {"Tid"}) for t in TID] + [Example(t, {"Tillit"}) for t in TILLIT]
    learner = Learner(examples, ["Tid", "Tillit"], lemma_of)
    assert learner.active and learner.codes == ["Tid", "Tillit"]
    probs = learner.predict(["Lærerne hadde ingen ledige timer i uka.",
                             "Vi stolte på hverandre og var åpne om det som var vanskelig."])
    tid, tillit = probs[0].tolist(), probs[1].tolist()
    assert tid[0] > 0.5 > tid[1]
    assert tillit[1] > 0.5 > tillit[0]


def test_rejected_suggestions_teach_the_model_what_a_code_is_not():
    examples = [Example(t, {"Tid"}) for t in TID] + [Example(t, {"Tillit"}) for t in TILLIT]
    probe = "Møtene ble flyttet fordi kalenderen var full av timer."
    before = Learner(examples, ["Tid", "Tillit"], lemma_of).predict([probe])[0, 0]
    rejected = [Example("Møtene ble flyttet fordi kalenderen var full av timer og prøver.", rejected={"Tid"}),
                Example("Kalenderen var full av timer med prøver, møtene ble flyttet.", rejected={"Tid"})]
    after = Learner(examples + rejected, ["Tid", "Tillit"], lemma_of).predict([probe])[0, 0]
    assert after < before


def test_the_model_is_rebuilt_identically_from_the_same_decisions():
    examples = [Example(t, {"Tid"}) for t in TID] + [Example(t, {"Tillit"}) for t in TILLIT]
    a = Learner(examples, ["Tid", "Tillit"], lemma_of)
    b = Learner(list(examples), ["Tid", "Tillit"], lemma_of)
    assert a.version == b.version and a.version.startswith("lemma-tfidf-logreg/1")
    assert (a.predict(TID) == b.predict(TID)).all()


@pytest.fixture(scope="module")
def embedded():
    return load_pipeline("embedded")


def test_suggest_learns_from_accepted_codings_and_records_the_model(tmp_path, embedded):
    from rta.coding import create_coding, ensure_codebook_version

    project = make_project(tmp_path)
    try:
        store = project.store
        text = store.transcript_text("suggest-k2")
        turns = [r for r in store.current_turns("suggest-k2") if r["informant"] is not None]
        with store.transaction():
            version = ensure_codebook_version(store, project.codebook_path, "kari")
            # accepted codings of Tillit (with the codebook's example, enough for a model)
            for r in turns[:MIN_POSITIVES]:
                create_coding(store, "suggest-k2", r["start"], r["end"], "Tillit", "kari", version)
        coded = store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
        positives = coded + sum(1 for c in load_codebook(project.codebook_path).code("Tillit").examples)
        assert positives >= MIN_POSITIVES
        result = run_suggest(project, SuggestOptions(), coder="kari")
        assert "Tillit" in result.learned_codes and result.model.startswith("lemma-tfidf-logreg/1")
        event = store.events(kind="suggestions.generated")[-1]
        assert event.payload["model"] == result.model and "Tillit" in event.payload["learned_codes"]
        learned = [json.loads(r["evidence"]) for r in store.conn.execute("SELECT evidence FROM suggestions")]
        items = [e for ev in learned for e in ev if e["method"] == "learned"]
        assert items, "no suggestion names the learned model"
        assert all(e["model"] == result.model and 0.0 <= e["probability"] <= 1.0 for e in items)
        # nothing was coded by the run: the codings are exactly the ones a person made
        assert store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == coded
        assert text  # the transcript is unchanged
    finally:
        project.close()


def test_no_learn_switches_the_learned_part_off(tmp_path, embedded):
    project = make_project(tmp_path)
    try:
        result = run_suggest(project, SuggestOptions(learn=False))
        assert result.learned_codes == [] and result.model == ""
    finally:
        project.close()


def test_a_decision_names_the_evidence_it_was_made_on(tmp_path, embedded):
    from rta import review as rv
    from rta.audit import audit
    from rta.coding import ensure_codebook_version

    project = make_project(tmp_path)
    try:
        store = project.store
        run_suggest(project, SuggestOptions(learn=False))
        first, second = store.conn.execute("SELECT id, evidence FROM suggestions ORDER BY id LIMIT 2").fetchall()
        with store.transaction():
            version = ensure_codebook_version(store, project.codebook_path, "kari")
            rv.accept(store, first["id"], "kari", version)
            rv.reject(store, second["id"], "kari", "ikke relevant")
        accepted = store.events(kind="suggestion.accepted")[-1].payload
        rejected = store.events(kind="suggestion.rejected")[-1].payload
        assert accepted["evidence"] == [f"{e['method']}: {e['indicator']}" for e in json.loads(first["evidence"])]
        assert rejected["evidence"] and all(": " in e for e in rejected["evidence"])
        assert audit(store).ok
    finally:
        project.close()


def test_a_large_project_trains_on_a_fair_budget_of_its_latest_examples():
    from rta.learn import budget

    rows = [Example(f"tid {i}", {"Tid"}) for i in range(50)] + [Example(f"tillit {i}", {"Tillit"}) for i in range(3)]
    kept = budget(rows, 13)
    assert len(kept) == 13
    assert sum(1 for e in kept if "Tillit" in e.codes) == 3  # the rare code keeps all it has
    assert [e.text for e in kept if "Tid" in e.codes] == [f"tid {i}" for i in range(40, 50)]  # the latest
    assert budget(rows[:5], 13) == rows[:5]
