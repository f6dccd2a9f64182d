"""rta compare --agreement: figures checked against values computed by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rta.agreement import agreement, binary_figures
from rta.project import Project
from test_store_fixtures import code_quote, run_cli

DATA = Path(__file__).parent / "data" / "transcripts"


def test_binary_figures_match_hand_computed_values():
    # 10 units; the coders differ on units 2 and 7
    a = [1, 1, 0, 0, 1, 0, 0, 0, 1, 0]
    b = [1, 0, 0, 0, 1, 0, 1, 0, 1, 0]
    f = binary_figures(a, b)
    assert (f.units, f.coded_a, f.coded_b, f.agree) == (10, 4, 4, 8)
    assert f.percent == pytest.approx(80.0)
    # p_o = 0.8, p_e = 0.4 * 0.4 + 0.6 * 0.6 = 0.52: kappa = 0.28 / 0.48
    assert f.kappa == pytest.approx(0.28 / 0.48)
    # n = 20 values (8 ones, 12 zeros), 2 disagreeing units = 4 off-diagonal coincidences:
    # alpha = 1 - (n - 1) * 4 / (2 * 8 * 12)
    assert f.alpha == pytest.approx(1 - 19 * 4 / 192)


def test_undefined_figures_are_none():
    f = binary_figures([0, 0, 0], [0, 0, 0])
    assert f.percent == 100.0 and f.kappa is None and f.alpha is None


@pytest.fixture
def coded(tmp_path):
    """Four informant turns (two per mini transcript) coded by kari and ola."""
    p = Project.init(tmp_path / "studie", name="Enighet", coder="kari")
    p.add_files(sorted(DATA.glob("mini-*.txt")), coder="kari")
    code_quote(p, "mini-skoleeier", "det ble et brudd i arbeidet", "Brudd", coder="kari")
    code_quote(p, "mini-skoleeier", "Det tok tid å bygge opp kapasiteten igjen", "Tid", coder="kari")
    code_quote(p, "mini-skoleleder", "Tid er alltid en utfordring", "Tid", coder="kari")
    code_quote(p, "mini-skoleeier", "Da ble skoleeier byttet ut", "Brudd", coder="ola")
    code_quote(p, "mini-skoleeier", "veldig uklart hva veilederrollen egentlig skulle være", "Brudd", coder="ola")
    code_quote(p, "mini-skoleleder", "Lærerne har lite rom", "Tid", coder="ola")
    yield p
    p.close()


def test_per_code_and_overall_over_turns_match_hand_computed_values(coded):
    # units: skoleeier turns 2 and 4, skoleleder turns 2 and 4
    # Brudd: kari 0 1 0 0, ola 1 1 0 0 -> 3/4; p_e = .25*.5 + .75*.5 = .5, kappa .5;
    #        alpha = 1 - 7 * 2 / (2 * 3 * 5)
    # Tid:   kari 0 1 0 1, ola 0 0 0 1 -> the same figures
    # pooled (8 decisions, 2 differ, 3 yes each): p_e = (3/8)^2 + (5/8)^2; alpha = 1 - 15 * 4 / (2 * 6 * 10)
    report = agreement(coded.store, "kari", "ola", unit="turn")
    assert report.units == 4 and report.transcripts == 2 and list(report.per_code) == ["Brudd", "Tid"]
    for name in ("Brudd", "Tid"):
        f = report.per_code[name]
        assert (f.agree, f.units) == (3, 4)
        assert f.percent == pytest.approx(75.0) and f.kappa == pytest.approx(0.5)
        assert f.alpha == pytest.approx(1 - 14 / 30)
    o = report.overall
    assert (o.units, o.agree, o.coded_a, o.coded_b) == (8, 6, 3, 3)
    pe = (3 / 8) ** 2 + (5 / 8) ** 2
    assert o.kappa == pytest.approx((0.75 - pe) / (1 - pe)) and o.alpha == pytest.approx(0.5)


def test_sentences_are_finer_units(coded):
    report = agreement(coded.store, "kari", "ola", unit="sentence")
    brudd = report.per_code["Brudd"]
    # 'Da ble skoleeier byttet ut' and 'det ble et brudd i arbeidet' lie in one sentence; the
    # 'uklart' sentence only ola coded
    assert (brudd.coded_a, brudd.coded_b, brudd.units - brudd.agree) == (1, 2, 1)
    tid = report.per_code["Tid"]
    # kari's 'Tid er alltid ...' and ola's 'Lærerne har lite rom' are different sentences
    assert (tid.coded_a, tid.coded_b, tid.units - tid.agree) == (2, 1, 3)
    assert report.units > 4


def test_cli_says_reflexive_ta_does_not_use_the_figures(coded, capsys):
    code, out, err = run_cli(capsys, coded.root, "compare", "--coders", "kari,ola", "--agreement")
    assert code == 0, err
    assert "Reflexive thematic analysis does not use these figures" in out
    assert "codebook and coding-reliability approaches" in out
    row = next(line for line in out.splitlines() if line.startswith("Brudd"))
    assert row.split() == ["Brudd", "4", "1", "2", "75.0", "0.500", "0.533"]
    code, out, err = run_cli(capsys, coded.root, "compare", "--coders", "kari,ola", "--agreement", "--unit",
                             "sentence", "--format", "json")
    data = json.loads(out)
    assert data["unit"] == "sentence" and "does not use" in data["note"] and data["overall"]["units"] > 8
    code, out, err = run_cli(capsys, coded.root, "compare", "--coders", "kari,ola", "--agreement", "--unit", "char")
    assert code == 2 and "unknown unit 'char'" in err
