"""--coder NAME on codings, export quotes, report and evaluate: a coder's own view."""

from __future__ import annotations

import json
import shutil

import pytest

from rta.evaluate import evaluate
from rta.project import Project
from rta.receipts import verify_report
from rta.report_build import build_report
from test_report import build_coded_project
from test_store_fixtures import code_quote, run_cli


@pytest.fixture
def two(project):
    """The report fixture (coder 'tester') plus two codings by 'ola'."""
    build_coded_project(project)
    code_quote(project, "mini-skoleeier", "det ble et brudd i arbeidet", "Tid", coder="ola")
    code_quote(project, "mini-skoleleder", "Tid er alltid en utfordring", "Kontinuitet", coder="ola")
    return project


def _active(project, coder: str) -> int:
    return project.store.conn.execute("SELECT COUNT(*) FROM codings WHERE status = 'active' AND coder = ?",
                                      (coder,)).fetchone()[0]


def test_codings_and_export_quotes_show_one_coders_codings(two, capsys, tmp_path):
    code, out, err = run_cli(capsys, two.root, "codings", "--coder", "ola")
    assert code == 0, err
    assert out.strip().endswith("2 coding(s)") and "Tid" in out and "Uklarhet" not in out
    code, out, err = run_cli(capsys, two.root, "codings", "--coder", "ola", "--format", "json")
    assert {r["coder"] for r in json.loads(out)} == {"ola"}
    target = tmp_path / "ola.jsonl"
    code, out, err = run_cli(capsys, two.root, "export", "quotes", "--coder", "ola", "--format", "jsonl",
                             "-o", str(target))
    assert code == 0, err
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["coder"] for r in rows] == ["ola", "ola"] and {r["code"] for r in rows} == {"Tid", "Kontinuitet"}
    code, out, err = run_cli(capsys, two.root, "codings", "--coder", "per")
    assert code == 2 and "no coder 'per'" in err and "ola" in err and "tester" in err


def test_report_for_one_coder_quotes_only_theirs_and_lists_every_coder(two, tmp_path):
    result = build_report(two, ["html", "md"], tmp_path / "ola", view="ola")
    assert result.data.filters == {"koder": "ola"}
    assert result.data.total_codings == 2  # (a coding is quoted under each theme its code is in)
    tester = _active(two, "tester")
    assert tester > 2 and result.data.audit.coders == [("ola", 2), ("tester", tester)]  # every coder, with counts
    html = (tmp_path / "ola" / "report.html").read_text(encoding="utf-8")
    assert "utvalg: koder = ola" in html and f"tester ({tester})" in html and "ola (2)" in html
    assert verify_report(two, tmp_path / "ola" / "report.html").ok  # by its record
    # a copy's report of ola's view is checked extract by extract: the view is read back from it
    two.close()
    shutil.copytree(two.root, tmp_path / "kopi")
    copy = Project.open(tmp_path / "kopi")
    build_report(copy, ["html", "md"], tmp_path / "kopi-ola", view="ola")
    copy.close()
    for name in ("report.html", "report.md"):
        check = verify_report(two, tmp_path / "kopi-ola" / name)
        assert check.ok and check.extracts == result.data.total_quotes, check.audit.to_text()


def test_evaluate_for_one_coder_counts_their_codings(two, capsys):
    assert evaluate(two.store, coder="ola").total.codings == 2
    assert evaluate(two.store, coder="tester").total.codings == _active(two, "tester")
    assert evaluate(two.store).total.codings == _active(two, "tester") + 2
    code, out, err = run_cli(capsys, two.root, "evaluate", "--coder", "ola", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["total"]["codings"] == 2
    code, out, err = run_cli(capsys, two.root, "report", "--coder", "nobody")
    assert code == 2 and "no coder 'nobody'" in err
