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
    assert [p.name for p in result.reports] == ["report.html", "report.md", "report.docx"]
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
    # every accepted coding is quoted: one block per passage lists all the codings it holds
    import re
    from rta.project import Project

    quoted = {int(i) for ids in re.findall(r'class="quote"[^>]*? data-coding="([\d ]+)"', html) for i in ids.split()}
    project = Project.open(result.root)
    try:
        accepted = {r[0] for r in project.store.conn.execute(
            "SELECT coding_id FROM suggestions WHERE status = 'accepted' AND coding_id IS NOT NULL")}
    finally:
        project.close()
    assert len(accepted) == result.accepted and accepted <= quoted


@pytest.mark.slow
def test_the_demo_reports_verify_in_every_format_and_a_tampered_extract_is_caught_in_each(tmp_path: Path) -> None:
    """The issue's 'done when' on the demo project: every report verifies, a tampered extract is
    caught in HTML, Markdown and Word, no extract repeats within a theme, the map and the heat
    map are there, and the featured extracts stand first, in their order."""
    import re

    import docx

    from rta.featured import featured
    from rta.receipts import verify_report

    result = run_demo_result(tmp_path / "studie", echo=lambda _: None)
    assert result.audit_ok
    project = Project.open(result.root)
    try:
        html_path, md_path, docx_path = result.reports
        for path in result.reports:
            assert verify_report(project, path).ok
        html = html_path.read_text(encoding="utf-8")
        # no repeated extract within a theme: each anchor once, and no passage twice in a theme
        anchors = re.findall(r'<blockquote class="quote" id="(q-\d+-[a-z-]+)"', html)
        assert anchors and len(anchors) == len(set(anchors))
        spans = re.findall(r'<blockquote class="quote" id="q-\d+-([a-z-]+)" data-transcript="([^"]+)" '
                           r'data-revision="(\d+)" data-start="(\d+)" data-end="(\d+)"', html)
        assert len(spans) == len(set(spans))
        assert '<figure class="figure" id="figur-kart">' in html and '<figure class="figure" id="figur-roller">' in html
        theme_id = project.store.conn.execute("SELECT id FROM themes WHERE name = 'Kontinuitet'").fetchone()[0]
        chosen = [f.coding_id for f in featured(project.store)[theme_id]]
        section = re.search(r'<section class="theme" id="tema-kontinuitet".*?</section>', html, re.S).group(0)
        shown = [int(i) for i in re.findall(r'data-coding="(\d+)', section)]
        assert len(chosen) == 2 and shown == chosen
        # a tampered extract in each format
        quote = re.search(r'<p class="quote-text">([^<]{20,}?)</p>', html).group(1)
        word = quote.split()[2]
        bad_html = tmp_path / "t.html"
        bad_html.write_text(html.replace(quote, quote.replace(word, word + "x", 1), 1), encoding="utf-8")
        md = md_path.read_text(encoding="utf-8")
        line = next(ln for ln in md.split("\n") if ln.startswith("> **") and len(ln) > 40)
        bad_md = tmp_path / "t.md"
        bad_md.write_text(md.replace(line, line[:-3] + "xyz", 1), encoding="utf-8")
        document = docx.Document(str(docx_path))
        para = next(p for p in document.paragraphs if p.style.name == "Quote" and "rta:q" in p._p.xml)
        para.runs[-1].text = para.runs[-1].text + " (tillegg)"
        bad_docx = tmp_path / "t.docx"
        document.save(str(bad_docx))
        for bad in (bad_html, bad_md, bad_docx):
            check = verify_report(project, bad)
            assert not check.ok and "quote text reads" in check.audit.to_text(), bad.name
    finally:
        project.close()
