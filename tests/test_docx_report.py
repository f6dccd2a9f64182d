"""The Word report: the same content as the HTML in Word's built-in styles, each extract tagged
so `rta audit --report FILE.docx` verifies it; edits and invented quotes are named."""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest

from rta.errors import RtaError
from rta.project import Project
from rta.receipts import verify_report
from rta.report_build import build_report
from test_report import build_coded_project
from test_store_fixtures import run_cli


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("docx")
    project = Project.init(base / "studie", name="Testprosjekt", coder="tester")
    project.add_files(sorted((Path(__file__).parent / "data" / "transcripts").glob("mini-*.txt")), coder="tester")
    build_coded_project(project)
    project.close()
    shutil.copytree(base / "studie", base / "kopi")
    copy = Project.open(base / "kopi")
    copy_result = build_report(copy, ["docx"], base / "kopi-rapport")
    copy.close()
    project = Project.open(base / "studie")
    result = build_report(project, ["html", "docx"], base / "rapport")
    yield {"project": project, "docx": result.paths[1], "copy": copy_result.paths[0], "data": result.data}
    project.close()


def shown(p) -> str:
    """A paragraph's text as Word shows it (the hidden rta tags left out)."""
    from rta.report_reading import _para_text

    return _para_text(p._p)[0]


def _styles(path: Path) -> set[str]:
    return {p.style.name for p in docx.Document(str(path)).paragraphs}


def test_the_word_report_uses_built_in_styles_tables_and_pictures(built):
    doc = docx.Document(str(built["docx"]))
    styles = _styles(built["docx"])
    assert {"Title", "Heading 1", "Heading 2", "Quote", "Caption"} <= styles
    assert all(t.style.name == "Table Grid" for t in doc.tables) and len(doc.tables) >= 2
    assert len(doc.inline_shapes) == 3  # thematic map, heat map, coverage
    headings = [shown(p) for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["Kommunikasjon", "Kontinuitet", "Kapasitet"]
    assert "Vedlegg C: sporbarhet og revisjon" in headings
    quotes = [shown(p) for p in doc.paragraphs if p.style.name == "Quote" and not shown(p).startswith("— ")]
    assert len(quotes) == built["data"].total_quotes == 10
    assert any(p.text.startswith("— S1, Skoleeier, kommune 1 · mini-skoleeier, linje") for p in doc.paragraphs)


def test_an_untouched_and_a_copys_word_report_verify(built):
    check = verify_report(built["project"], built["docx"])
    assert check.ok and check.recorded is not None
    check = verify_report(built["project"], built["copy"])
    assert check.ok, check.audit.to_text()
    assert check.recorded is None and check.extracts == 10


def _edit(src: Path, dst: Path, fn) -> Path:
    doc = docx.Document(str(src))
    fn(doc)
    doc.save(str(dst))
    return dst


def test_an_edited_extract_in_word_is_named(built, tmp_path):
    def edit(doc):
        for p in doc.paragraphs:
            for run in p.runs:
                if "alltid en utfordring" in run.text:
                    run.text = run.text.replace("alltid", "aldri")

    path = _edit(built["copy"], tmp_path / "endret.docx", edit)
    check = verify_report(built["project"], path)
    text = check.audit.to_text()
    assert not check.ok and "its quote text reads «Tid er aldri en utfordring." in text
    assert "differs from mini-skoleleder at" in text


def test_an_invented_quote_and_a_moved_attribution_are_named(built, tmp_path):
    def edit(doc):
        doc.add_paragraph("Dette sa ingen.", style="Quote")
        for p in doc.paragraphs:
            if p.text.startswith("— S1, Skoleeier"):
                p.runs[0].text = p.runs[0].text.replace("— S1, Skoleeier", "— R2.1, Skoleleder")
                break

    path = _edit(built["copy"], tmp_path / "diktet.docx", edit)
    text = verify_report(built["project"], path).audit.to_text()
    assert "«Dette sa ingen.» is styled as a quote but carries no rta tag" in text
    assert "its role and group reads «— R2.1, Skoleleder" in text


def test_a_dropped_extract_is_named_missing(built, tmp_path):
    def edit(doc):
        body = doc.element.body
        for p in doc.paragraphs:
            if p.style.name == "Quote" and "rta:q" in p._p.xml and "q-10-" in p._p.xml:
                nxt = p._p.getnext()
                body.remove(p._p)
                body.remove(nxt)
                break

    path = _edit(built["copy"], tmp_path / "borte.docx", edit)
    text = verify_report(built["project"], path).audit.to_text()
    assert "(coding 10, theme «Kontinuitet») is missing from the report" in text


def test_the_cli_builds_and_audits_a_word_report(built, tmp_path, capsys):
    root = built["project"].root
    code, out, _ = run_cli(capsys, root, "report", "--format", "docx", "--out", str(tmp_path / "w"), "--lang", "en")
    assert code == 0 and "report.docx" in out
    doc = docx.Document(str(tmp_path / "w" / "report.docx"))
    assert "Appendix C: traceability and audit" in [shown(p) for p in doc.paragraphs]
    code, out, _ = run_cli(capsys, root, "audit", "--report", str(tmp_path / "w" / "report.docx"))
    assert code == 0 and "unchanged since it was built" in out


def test_a_word_template_restyles_the_report(built, tmp_path):
    template = tmp_path / "mal"
    template.mkdir()
    base = docx.Document()
    base.styles["Quote"].font.size = docx.shared.Pt(9)
    base.add_paragraph("slettes")
    base.save(str(template / "report.docx"))
    result = build_report(built["project"], ["docx"], tmp_path / "styled", template_dir=template)
    doc = docx.Document(str(result.paths[0]))
    assert doc.styles["Quote"].font.size == docx.shared.Pt(9)
    assert "slettes" not in [p.text for p in doc.paragraphs]
    (template / "report.docx").write_bytes(b"no zip")
    with pytest.raises(RtaError, match="cannot read the Word template"):
        build_report(built["project"], ["docx"], tmp_path / "bad", template_dir=template)
