"""The gold standard in benchmarks/gold/ and the OCR-damaged copy bench_quality.py measures on."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


gold_standard = _load("gold_standard")
ocr_damage = _load("ocr_damage")


@pytest.fixture(scope="module")
def gold():
    return gold_standard.load_gold()


@pytest.fixture(scope="module")
def parsed():
    return gold_standard.parse_sample()


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    out = tmp_path_factory.mktemp("ocr")
    return out, ocr_damage.damage_sample(out)


# -- the gold standard ------------------------------------------------------------------


def test_every_sample_transcript_has_a_gold_file_and_passages(gold, parsed) -> None:
    assert {p.transcript_id for p in gold} == set(parsed)
    files = gold_standard.read_gold_files()
    assert len(files) == len(parsed)
    for gf in files:
        assert (gold_standard.SAMPLE_DIR / gf.file).is_file(), gf.file
        assert len(gf.passages) >= 10, gf.transcript_id


def test_every_gold_quote_is_the_text_of_its_informants_turn_at_its_offsets(gold, parsed) -> None:
    for p in gold:
        t = parsed[p.transcript_id]
        turn = next(x for x in t.turns if x.n == p.turn_n)
        assert turn.code == p.informant and not turn.is_interviewer
        assert turn.start <= p.start < p.end <= turn.end
        # verbatim, up to how the file wraps its lines
        assert t.text[p.start:p.end].split() == p.quote.split()
        assert t.text[p.start:p.end] == t.text[p.start:p.end].strip()


def test_gold_passages_do_not_overlap(gold) -> None:
    by_transcript: dict[str, list] = {}
    for p in gold:
        by_transcript.setdefault(p.transcript_id, []).append((p.start, p.end))
    for spans in by_transcript.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_every_gold_code_and_theme_is_in_the_codebook(gold) -> None:
    from rta.codebook_yaml import load_codebook

    cb = load_codebook(gold_standard.CODEBOOK)
    for p in gold:
        assert 1 <= len(p.codes) <= 3, p.key
        assert all(cb.has_code(c) for c in p.codes), p.key
        assert set(p.themes) <= set(cb.theme_names()), p.key
        # a passage's themes are themes its codes belong to in the codebook
        assert set(p.themes) <= {t for c in p.codes for t in cb.themes_of(c)}, p.key


def test_the_gold_covers_most_informant_turns(gold, parsed) -> None:
    turns = sum(len(t.informant_turns) for t in parsed.values())
    coded = {(p.transcript_id, p.turn_n) for p in gold}
    assert len(coded) / turns >= 0.8


def test_a_quote_found_twice_or_not_at_all_is_refused(parsed) -> None:
    t = parsed["k1-skoleeier"]
    twice = gold_standard.GoldPassage("k1-skoleeier", "S1", "det", ["Tid"], ["Kapasitet"], index=1)
    with pytest.raises(gold_standard.GoldError, match="found .* times"):
        gold_standard.resolve(twice, t)
    missing = gold_standard.GoldPassage("k1-skoleeier", "S1", "Dette sa ingen.", ["Tid"], ["Kapasitet"], index=2)
    with pytest.raises(gold_standard.GoldError, match="not found"):
        gold_standard.resolve(missing, t)
    # a question of the interviewer is not an informant's turn
    asked = gold_standard.GoldPassage("k1-skoleeier", "S1", "Hva var det som hjalp deg i den perioden?",
                                      ["Støtte"], ["Kapasitet"], index=3)
    with pytest.raises(gold_standard.GoldError, match="not found"):
        gold_standard.resolve(asked, t)


def test_a_theme_that_is_not_a_theme_of_the_codes_is_refused() -> None:
    p = gold_standard.GoldPassage("k1-skoleeier", "S1", "x", ["Tid"], ["Kommunikasjon"], index=1)
    with pytest.raises(gold_standard.GoldError, match="not a theme of its codes"):
        gold_standard.check_codebook([p])
    p = gold_standard.GoldPassage("k1-skoleeier", "S1", "x", ["Tidd"], ["Kapasitet"], index=1)
    with pytest.raises(gold_standard.GoldError, match="unknown code"):
        gold_standard.check_codebook([p])


# -- the OCR-damaged copy ---------------------------------------------------------------


def test_damage_is_deterministic_for_a_seed(damaged) -> None:
    _, first = damaged
    again = ocr_damage.damage_sample()
    assert {k: v.text for k, v in first.items()} == {k: v.text for k, v in again.items()}
    other = ocr_damage.damage_sample(seed=ocr_damage.SEED + 1)
    assert any(other[k].text != v.text for k, v in first.items())


def test_most_norwegian_letters_are_hit_and_words_are_hyphenated(damaged) -> None:
    _, result = damaged
    letters = sum(d.letters for d in result.values())
    hit = sum(d.letters_hit for d in result.values())
    assert letters > 1000 and 0.8 <= hit / letters < 1.0
    assert all(d.hyphens > 0 for d in result.values())
    breaks = {b for d in result.values() for _, b in d.inserted}
    assert breaks == {"-\n", "- "}


def test_damaged_files_parse_to_the_same_turns_and_speakers(damaged, parsed) -> None:
    from rta.informants import default_registry
    from rta.transcripts import parse_file

    out, result = damaged
    registry = default_registry()
    for tid, d in result.items():
        again = parse_file(out / d.file, registry)
        clean = parsed[tid]
        assert again.id == tid and again.text == d.text  # stored as written: offsets hold
        assert again.metadata == clean.metadata
        assert [(t.speaker, t.code, t.timestamp) for t in again.turns] == \
            [(t.speaker, t.code, t.timestamp) for t in clean.turns]
        # every turn of the damaged text is the damage of the clean turn
        for a, b in zip(clean.turns, again.turns):
            assert d.map_span(a.start, a.end) == (b.start, b.end)


def _undamage(damaged_quote: str) -> str:
    for brk in ocr_damage.HYPHEN_BREAKS:
        damaged_quote = damaged_quote.replace(brk, "")
    return damaged_quote


def test_the_alignment_maps_each_gold_quote_to_its_damaged_counterpart(damaged, gold, parsed) -> None:
    _, result = damaged
    allowed = {k: {r for r, _ in v} for k, v in ocr_damage.SUBSTITUTIONS.items()}
    changed = 0
    for p in gold:
        d = result[p.transcript_id]
        s, e = d.map_span(p.start, p.end)
        clean = parsed[p.transcript_id].text[p.start:p.end]
        got = d.text[s:e]
        if got != clean:
            changed += 1
        # the damaged span starts and ends on the same characters, less breaks it is as long,
        # and every character is the clean one or one of its OCR stand-ins
        plain = _undamage(got)
        assert len(plain) == len(clean), p.key
        for c, o in zip(clean, plain):
            assert o == c or o in allowed.get(c, ()), (p.key, c, o)
        assert got[0] == clean[0] or got[0] in allowed.get(clean[0], ())
    assert changed / len(gold) > 0.9


def test_damage_leaves_text_outside_the_spans_alone() -> None:
    text = "---\nid: x\n---\nS1: på øya\nI: hva nå?\n"
    start = text.index("på")
    d = ocr_damage.damage_text(text, [(start, start + len("på øya"))], random.Random(1), letter_rate=1.0,
                               hyphen_rate=1.0)
    assert d.text.startswith("---\nid: x\n---\nS1: ")
    assert d.text.endswith("\nI: hva nå?\n")
    assert "å" not in d.text[d.offsets[start]:d.offsets[start + 6]]


# -- bench_quality's scoring ------------------------------------------------------------

bench_quality = _load("bench_quality")


def _span(tid, start, end, codes, themes, key="p"):
    return bench_quality.Span(tid, start, end, codes, themes, key)


def _sugg(tid, start, end, code, score=0.9, ranked=None):
    return {"transcript_id": tid, "start": start, "end": end, "code": code, "score": score,
            "themes_ranked": ranked}


THEMES_OF = {"Tid": ["Kontinuitet", "Kapasitet"], "Brudd": ["Kontinuitet"], "Uklarhet": ["Kommunikasjon"],
             "Identitet": []}


def test_recall_needs_an_overlapping_suggestion_of_a_gold_code() -> None:
    gold = [_span("t", 0, 50, ["Brudd"], ["Kontinuitet"], "a"), _span("t", 60, 90, ["Uklarhet"], ["Kommunikasjon"], "b"),
            _span("u", 0, 40, ["Tid"], ["Kapasitet"], "c")]
    suggestions = [_sugg("t", 40, 70, "Brudd"),      # overlaps a (right code) and b (wrong code)
                   _sugg("t", 90, 99, "Uklarhet"),   # touches b's end only: no overlap
                   _sugg("u", 50, 60, "Tid")]        # outside c
    sc = bench_quality.score(gold, suggestions, THEMES_OF, "Kapasitet")
    assert (sc.recalled, sc.passages) == (1, 3)
    assert (sc.precise, sc.suggestions) == (1, 3)
    assert sc.per_code == {"Brudd": [1, 1], "Uklarhet": [1, 0], "Tid": [1, 0]}


def test_top1_theme_sums_scores_and_prefers_themes_ranked() -> None:
    gold = [_span("t", 0, 100, ["Brudd"], ["Kontinuitet"], "a"), _span("t", 200, 300, ["Tid"], ["Kapasitet"], "b"),
            _span("t", 400, 500, ["Uklarhet"], ["Kommunikasjon"], "c")]
    suggestions = [
        # a: Tid splits 0.9 over two themes, Brudd gives Kontinuitet 0.5: Kontinuitet 0.95 wins
        _sugg("t", 10, 20, "Tid", 0.9), _sugg("t", 30, 40, "Brudd", 0.5),
        # b: the suggestion's own ranking says Kommunikasjon, whatever its code's themes are
        _sugg("t", 210, 220, "Tid", 0.9, ranked=[("Kommunikasjon", 0.7), ("Kapasitet", 0.2)]),
    ]                                                 # c: nothing, a miss
    sc = bench_quality.score(gold, suggestions, THEMES_OF, "Kapasitet")
    assert (sc.top1_hits, sc.themed, sc.covered) == (1, 3, 2)
    assert sc.baseline_hits == 1
    figs = sc.figures()
    assert figs["top1_theme"] == round(1 / 3, 4) and figs["top1_minus_baseline"] == 0.0


def test_the_majority_theme_is_the_theme_most_passages_have() -> None:
    gold = [_span("t", 0, 1, ["Tid"], ["Kontinuitet", "Kapasitet"]), _span("t", 2, 3, ["Tid"], ["Kapasitet"]),
            _span("t", 4, 5, ["Brudd"], ["Kontinuitet"]), _span("t", 6, 7, ["Uklarhet"], ["Kommunikasjon"])]
    assert bench_quality.majority_theme(gold) == "Kapasitet"  # 2-2 tie: the first name wins


def test_read_suggestions_finds_themes_ranked_in_the_evidence(project) -> None:
    import json

    store = project.store
    with store.transaction():
        for start, evidence in ((0, [{"indicator": "x", "token": "x", "method": "keyword"}]),
                                (5, {"items": [], "themes_ranked": [["Kapasitet", 0.8], ["Kontinuitet", 0.1]]})):
            store.conn.execute(
                "INSERT INTO suggestions(transcript_id, revision, turn_n, start, end, line_start, line_end, code, "
                "score, method, evidence, pipeline, status, created) "
                "VALUES ('mini-skoleeier', 1, 2, ?, ?, 1, 1, 'Tid', 0.5, 'keyword', ?, 'test', 'suggested', '2021-01-01')",
                (start, start + 3, json.dumps(evidence)))
    rows = bench_quality.read_suggestions(project)
    assert [(r["start"], r["code"], r["themes_ranked"]) for r in rows] == [
        (0, "Tid", None), (5, "Tid", [("Kapasitet", 0.8), ("Kontinuitet", 0.1)])]


def test_options_are_typed_by_the_suggest_options_fields() -> None:
    opts = bench_quality.parse_options(["learn=false", "min-score=0.4", "max_codes=2", "min_positives=3"])
    assert opts == {"learn": False, "min_score": 0.4, "max_codes": 2, "min_positives": 3}
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        bench_quality.parse_options(["no_such_knob=1"])


@pytest.mark.slow
def test_leave_one_out_records_gold_codings_and_scores_only_the_held_out_transcript(tmp_path, gold) -> None:
    from rta.audit import audit

    files = [gold_standard.SAMPLE_DIR / "k1-skoleeier.txt", gold_standard.SAMPLE_DIR / "k2-skoleeier.md"]
    base = bench_quality.make_base(tmp_path / "base", files)
    spans = [_span(g.transcript_id, g.start, g.end, g.codes, g.themes, g.key) for g in gold
             if g.transcript_id in ("k1-skoleeier", "k2-skoleeier")]
    # the other transcript's gold becomes accepted codings of coder 'gold', and the log holds
    project = bench_quality.copy_project(base, tmp_path / "copy")
    train = [s for s in spans if s.transcript_id == "k2-skoleeier"]
    assert bench_quality.record_gold(project, train) == sum(len(s.codes) for s in train)
    coders = {r[0] for r in project.store.conn.execute("SELECT coder FROM codings WHERE status = 'active'")}
    assert coders == {bench_quality.GOLD_CODER}
    assert audit(project.store).ok
    project.close()
    sc = bench_quality.measure_loo(base, tmp_path, "loo", spans, THEMES_OF, {})
    figs = sc.figures()
    assert sc.passages == len(spans) and figs["informant_words"] > 2000
    assert 0.0 <= figs["passage_recall"] <= 1.0 and 0.0 <= figs["code_precision"] <= 1.0
    assert sc.suggestions > 0 and figs["candidates_per_1000_words"] > 0
