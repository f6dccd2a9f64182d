"""Recall of the planted slips in transcripts_sample/ and false flags per transcript."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "transcripts_sample"
MAX_FALSE_PER_TRANSCRIPT = 3


def _bench():
    spec = importlib.util.spec_from_file_location("anonymise_recall", REPO / "benchmarks" / "anonymise_recall.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


def test_slips_yaml_agrees_with_the_readme_tables() -> None:
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`:]+):(\d+)` \| `([^`]+)` \|", readme, re.MULTILINE)
    listed = {(f, int(n), t) for f, n, t in rows}
    assert len(listed) == 9
    assert {(s["file"], s["line"], s["text"]) for s in bench.load_slips(SAMPLE)} == listed


def test_every_slip_is_on_the_line_it_is_listed_at() -> None:
    for slip in bench.load_slips(SAMPLE):
        text = (SAMPLE / slip["file"]).read_text(encoding="utf-8")
        start, end = bench.slip_span(text, slip)
        assert text[start:end] == slip["text"]


def test_without_ner_patterns_and_heuristic_catch_every_planted_slip() -> None:
    result = bench.score(SAMPLE, pipeline="none")
    assert result["ner"] is False
    assert result["recall"] >= 0.9, result
    missed = [m for t in result["transcripts"].values() for m in t["missed"]]
    names = [s["text"] for s in bench.load_slips(SAMPLE) if s["kind"] in ("PER", "LOC", "ORG")]
    assert not set(missed) & set(names)
    assert result["max_false_per_transcript"] <= MAX_FALSE_PER_TRANSCRIPT, result


def test_with_the_best_pipeline_recall_is_at_least_0_9_with_few_false_flags() -> None:
    from rta.anonymise import has_ner, load_check_pipeline

    if not has_ner(load_check_pipeline("auto")):
        pytest.skip("no pipeline with NER installed or bundled")
    result = bench.score(SAMPLE, pipeline="auto")
    assert result["ner"] is True
    assert result["recall"] >= 0.9, result
    assert result["max_false_per_transcript"] <= MAX_FALSE_PER_TRANSCRIPT, result


def test_the_sentence_initial_municipality_slip_is_caught_by_the_place_list_without_ner() -> None:
    from rta.anonymise import check_files
    from rta.informants import default_registry

    [result] = check_files([SAMPLE / "k4-skoleleder.txt"], default_registry(), None)
    assert [(f.line, f.text, f.method) for f in result.flags] == [(24, "Levanger", "places")]
