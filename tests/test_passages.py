"""rta.passages: what a passage is, how a code's evidence combines, how codes and themes rank."""

from __future__ import annotations

from hypothesis import given, strategies as st

import numpy as np

from rta.passages import (
    LEARNED_POS, Evidence, EvidenceArrays, Passage, combine, rank_codes, rank_table, segment, themes_ranked,
)


@given(st.integers(min_value=1, max_value=60), st.integers(min_value=1, max_value=12))
def test_segments_cover_every_sentence_once_in_near_equal_runs(n, most):
    runs = segment(list(range(0, 10 * n, 10)), "x" * (10 * n), most)
    covered = [i for a, b in runs for i in range(a, b + 1)]
    assert covered == list(range(n))
    sizes = [b - a + 1 for a, b in runs]
    assert max(sizes) <= most and max(sizes) - min(sizes) <= 1
    assert len(runs) == -(-n // most)  # the fewest runs that fit


def test_the_same_indicator_counts_once_and_distinct_ones_combine():
    same = [Evidence(0.8, "tid", "tid", "lemma"), Evidence(0.8, "tid", "tiden", "lemma")]
    assert combine(same) == 0.8
    assert combine([*same, Evidence(0.85, "tar tid", "tok tid", "phrase")]) == round(1 - 0.2 * 0.15, 4)


def test_a_passage_proposes_its_strongest_codes_above_the_threshold():
    p = Passage("t", 1, 1, 0, 10)
    for k, (code, w) in enumerate([("A", 0.9), ("B", 0.8), ("C", 0.7), ("D", 0.6), ("E", 0.3)]):
        p.add(code, k, Evidence(w, code.lower(), code.lower(), "lemma"))
    assert [r.code for r in rank_codes(p, max_codes=3, min_score=0.4)] == ["A", "B", "C"]
    assert [r.code for r in rank_codes(p, max_codes=10, min_score=0.4)] == ["A", "B", "C", "D"]


def test_a_code_in_two_themes_gives_each_half_its_score():
    themes_of = {"Relasjoner": ["Kommunikasjon", "Kontinuitet"], "Tillit": ["Kommunikasjon"], "Identitet": []}
    ranked = themes_ranked([("Relasjoner", 0.8), ("Tillit", 0.5), ("Identitet", 0.9)], themes_of)
    assert ranked == [("Kommunikasjon", round(1 - 0.6 * 0.5, 4)), ("Kontinuitet", 0.4)]


def test_a_batch_ranks_each_passage_on_its_own_with_evidence_in_text_order():
    # passage 0: code 0 by two distinct indicators (at tokens 7 and 3) and learned evidence,
    # code 1 by one; passage 1: code 1 by the same indicator twice, code 2 too weak
    rows = [(0, 0, 0, 7, 0.8, 2), (0, 0, 1, 3, 0.6, 5), (0, 0, 9, LEARNED_POS, 0.5, 7), (0, 1, 2, 5, 0.7, 3),
            (1, 1, 2, 20, 0.7, 3), (1, 1, 2, 25, 0.7, 3), (1, 2, 3, 22, 0.3, 2)]
    pid, code, key, pos, weight, method = (np.array(c) for c in zip(*rows))
    ev = EvidenceArrays(pid, code, key, pos, weight.astype(float), method, np.arange(len(rows)))
    ranked = rank_table(ev, np.array([0, 1, 2]), max_codes=1, min_score=0.4)
    assert [(r.pid, r.code, r.score) for r in ranked] == [(0, 0, round(1 - 0.2 * 0.4 * 0.5, 4)), (1, 1, 0.7)]
    assert ranked[0].rows == [1, 0, 2]  # tokens 3, 7, then the learned evidence
    assert ranked[0].best == 0 and ranked[1].rows == [4, 5]  # the same indicator twice counts once
    every = rank_table(ev, np.array([0, 1, 2]), max_codes=0, min_score=0.0)
    assert [(r.pid, r.code) for r in every] == [(0, 0), (0, 1), (1, 1), (1, 2)]
