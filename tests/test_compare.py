"""rta compare: where two coders read the data differently, for reflexive dialogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rta.compare import compare_coders, compare_html
from rta.clone import clone
from rta.merge import merge
from rta.project import Project
from test_store_fixtures import code_quote, run_cli

DATA = Path(__file__).parent / "data" / "transcripts"


@pytest.fixture
def two_coders(tmp_path):
    """kari's project with ola's copy merged in: one passage read alike, one with different
    codes, one with the same code over different extents, one coded by each only."""
    a = Project.init(tmp_path / "kari", name="Sammenlikning", coder="kari")
    a.add_files(sorted(DATA.glob("mini-*.txt")), coder="kari")
    a.close()
    b = clone(a.root, tmp_path / "ola", "ola")
    for coder, project in (("kari", a), ("ola", b)):
        code_quote(project, "mini-skoleeier", "Mye av kompetansen forsvant", "Kompetanse", coder=coder)  # alike
    code_quote(a, "mini-skoleeier", "veldig uklart hva veilederrollen egentlig skulle være", "Uklarhet", coder="kari")
    code_quote(b, "mini-skoleeier", "veldig uklart hva veilederrollen egentlig skulle være", "Rolleavklaringer",
               coder="ola")
    code_quote(a, "mini-skoleeier", "det ble et brudd i arbeidet", "Brudd", coder="kari")
    code_quote(b, "mini-skoleeier", "Da ble skoleeier byttet ut, og det ble et brudd i arbeidet", "Brudd", coder="ola")
    code_quote(a, "mini-skoleleder", "de samme veilederne var med hele veien", "Kontinuitet", coder="kari")
    code_quote(b, "mini-skoleeier", "Det tok tid å bygge opp kapasiteten igjen", "Tid", coder="ola")
    merge(a, b.root)
    b.close()
    yield a
    a.close()


def test_passages_are_grouped_and_classified(two_coders):
    result = compare_coders(two_coders.store, "kari", "ola")
    kinds = {(p.transcript, p.quote): p.kinds for p in result.items}
    assert kinds == {
        ("mini-skoleeier", "veldig uklart hva veilederrollen egentlig skulle være"): ["codes"],
        ("mini-skoleeier", "Da ble skoleeier byttet ut, og det ble et brudd i arbeidet"): ["extent"],
        ("mini-skoleleder", "de samme veilederne var med hele veien"): ["only"],
        ("mini-skoleeier", "Det tok tid å bygge opp kapasiteten igjen"): ["only"],
    }
    assert result.alike == 1
    assert result.counts == {"only_kari": 1, "only_ola": 1, "codes": 1, "extent": 1}
    assert result.codings == {"kari": 4, "ola": 4}
    codes = next(p for p in result.items if p.kinds == ["codes"])
    assert [r.code for r in codes.a] == ["Uklarhet"] and [r.code for r in codes.b] == ["Rolleavklaringer"]
    assert codes.speakers == ["S1"] and codes.before.endswith("i starten var det ") and codes.after.startswith(".")


def test_filters_by_transcript_and_code(two_coders):
    only = compare_coders(two_coders.store, "kari", "ola", transcript="mini-skoleleder")
    assert [p.transcript for p in only.items] == ["mini-skoleleder"] and only.transcripts == 1
    brudd = compare_coders(two_coders.store, "kari", "ola", code="brudd")
    assert [p.kinds for p in brudd.items] == [["extent"]] and brudd.filters["code"] == "Brudd"


def test_table_json_and_html_output(two_coders, capsys, tmp_path):
    code, out, err = run_cli(capsys, two_coders.root, "compare", "--coders", "kari,ola")
    assert code == 0, err
    assert out.startswith("Where kari and ola read the data differently: material for reflexive dialogue")
    assert "same passage, different codes" in out and "coded by ola only" in out
    assert "1 read alike, 1 coded by kari only, 1 by ola only" in out
    code, out, err = run_cli(capsys, two_coders.root, "compare", "--coders", "kari,ola", "--format", "json")
    data = json.loads(out)
    assert data["counts"]["codes"] == 1 and len(data["passages"]) == 4 and "reflexive" in data["framing"]
    page = tmp_path / "moete.html"
    code, out, err = run_cli(capsys, two_coders.root, "compare", "--coders", "kari,ola", "--format", "html",
                             "-o", str(page))
    assert code == 0, err
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'lang="nb"' in text and "refleksiv samtale" in text
    assert "<script" not in text and "http" not in text and "<link" not in text  # self-contained, offline


def test_transcript_text_is_escaped_in_html_and_terminal(tmp_path, capsys):
    src = tmp_path / "farlig.txt"
    src.write_text("---\nid: farlig\n---\nI: Hva tenker du?\nS1: Vi skrev <script>alert(1)</script> & «mer» "
                   "i planen.\n", encoding="utf-8")
    a = Project.init(tmp_path / "kari", name="Farlig", coder="kari")
    a.add_files([src], coder="kari")
    code_quote(a, "farlig", "Vi skrev <script>alert(1)</script> & «mer»", "Tid", coder="kari")
    code_quote(a, "farlig", "<script>alert(1)</script>", "Tid", coder="ola\x1b[2J")
    result = compare_coders(a.store, "kari", "ola\x1b[2J")
    page = compare_html(result, "en")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; «mer»" in page
    code, out, err = run_cli(capsys, a.root, "compare", "--coders", "kari,ola\x1b[2J")
    assert code == 0, err
    assert "\x1b" not in out and "ola\\x1b[2J" in out
    a.close()


def test_bad_coders_and_scope_exit_2(two_coders, capsys):
    for args, message in ((["--coders", "kari"], "two different coders"),
                          (["--coders", "kari,kari"], "two different coders"),
                          (["--coders", "kari,per"], "no codings by 'per'"),
                          (["--coders", "kari,ola", "--transcript", "nope"], "no transcript 'nope'"),
                          (["--coders", "kari,ola", "--code", "Ukjent"], "no coding has the code"),
                          (["--coders", "kari,ola", "--format", "pdf"], "unknown format")):
        code, out, err = run_cli(capsys, two_coders.root, "compare", *args)
        assert code == 2 and message in err and "Traceback" not in err, (args, err)
