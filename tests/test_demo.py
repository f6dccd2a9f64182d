"""rta demo: the whole path on the bundled sample ends in a verified HTML and Markdown report."""

from __future__ import annotations

from pathlib import Path

import pytest

from rta.demo import run_demo_result
from rta.project import Project


def test_demo_with_scripted_codings_reaches_a_verified_report(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_demo_result(tmp_path / "studie", echo=lines.append, use_nlp=False)
    assert result.audit_ok and result.manual == 6
    assert [p.name for p in result.reports] == ["report.html", "report.md"]
    assert all(p.is_file() for p in result.reports)
    assert any(line.startswith("report: ") and line.endswith("report.html") for line in lines)
    # the sample keeps 9 planted anonymisation slips in 9 transcripts: the report says so
    assert any("likely identifiers left in 9 transcript(s)" in line for line in lines)
    project = Project.open(result.root)
    try:
        kinds = [e.kind for e in project.store.events()]
        assert project.store.phase() == 6
        assert kinds.count("theme.added") == 3 and "report.built" in kinds
    finally:
        project.close()


@pytest.mark.slow
def test_demo_with_nlp_suggestions_accepts_a_reviewed_set(tmp_path: Path) -> None:
    result = run_demo_result(tmp_path / "studie", echo=lambda _: None)
    assert result.audit_ok and result.suggestions > 0
    assert 0 < result.accepted < result.suggestions and result.rejected > 0
    html = result.reports[0].read_text(encoding="utf-8")
    assert html.count('class="quote"') >= result.accepted
