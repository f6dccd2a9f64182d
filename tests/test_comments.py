"""Review comments come back: comments made in Word on the report become memos where they
belong, by their commenter, logged; a second import adds nothing; edited extracts are reported."""

from __future__ import annotations

from pathlib import Path

import docx

from rta.audit import audit
from rta.comments import import_comments
from rta.memos import list_memos
from rta.project import Project
from rta.report_build import build_report
from test_report import build_coded_project
from test_store_fixtures import run_cli


def _review(src: Path, dst: Path, edit_extract: bool = False) -> Path:
    """Comment as a team would: Kari on an extract, Ola on a theme heading, Kari on the audit
    appendix; optionally an extract's words edited."""
    doc = docx.Document(str(src))
    paras = doc.paragraphs
    extract = next(p for p in paras if p.style.name == "Quote" and "rta:q" in p._p.xml and "q-5-kontinuitet" in p._p.xml)
    heading = next(p for p in paras if p.style.name == "Heading 1" and p.runs[-1].text == "Kontinuitet")
    appendix = next(p for p in paras if p.runs and p.runs[0].text.startswith("Kodere"))
    if edit_extract:
        run = next(r for r in extract.runs if "de samme" in r.text)
        run.text = run.text.replace("de samme", "noen andre")
    doc.add_comment(extract.runs[-1], text="Godt eksempel på kontinuitet.", author="Kari Nordmann", initials="KN")
    doc.add_comment(heading.runs[-1], text="Bør temaet deles i to?", author="Ola Hansen", initials="OH")
    doc.add_comment(appendix.runs[-1], text="Husk å nevne koderne i metodekapitlet.", author="Kari Nordmann")
    doc.save(str(dst))
    return dst


def test_comments_become_memos_by_their_commenters_and_a_second_import_adds_nothing(project: Project,
                                                                                    tmp_path: Path, capsys):
    build_coded_project(project)
    built = build_report(project, ["docx"], tmp_path / "out").paths[0]
    reviewed = _review(built, tmp_path / "kommentert.docx")
    result = import_comments(project, reviewed, "kari")
    assert not result.edited
    assert {(c.kind, c.target, c.author) for c in result.added} == {
        ("coding", "5", "Kari Nordmann"), ("theme", "Kontinuitet", "Ola Hansen"), ("journal", None, "Kari Nordmann")}
    memos = {(m.target_kind, m.target): m for m in list_memos(project.store)}
    assert memos[("coding", "5")].text == "Godt eksempel på kontinuitet." and memos[("coding", "5")].coder == "Kari Nordmann"
    assert memos[("theme", "Kontinuitet")].coder == "Ola Hansen"
    assert memos[("journal", None)].phase == project.store.phase()
    events = [e for e in project.store.events() if e.payload.get("source") == "docx-comment"]
    assert len(events) == 3 and {e.coder for e in events} == {"Kari Nordmann", "Ola Hansen"}
    assert all(e.payload["reviewed"] and e.payload["imported_by"] == "kari" for e in events)
    assert audit(project.store).ok
    before = project.store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    again = import_comments(project, reviewed, "kari")
    assert not again.added and len(again.skipped) == 3
    assert project.store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == before
    code, out, _ = run_cli(capsys, project.root, "import-comments", str(reviewed))
    assert code == 0 and "3 comment(s) already imported: skipped" in out and "0 comment(s) imported" in out
    # the theme memo is now the theme's narrative in the next report
    data = build_report(project, ["html"], tmp_path / "neste").data
    assert [m.text for m in next(t for t in data.themes if t.name == "Kontinuitet").narrative] == \
        ["Bør temaet deles i to?"]


def test_an_extract_edited_in_the_reviewed_file_is_reported_not_imported(project: Project, tmp_path: Path, capsys):
    build_coded_project(project)
    built = build_report(project, ["docx"], tmp_path / "out").paths[0]
    reviewed = _review(built, tmp_path / "endret.docx", edit_extract=True)
    code, out, err = run_cli(capsys, project.root, "import-comments", str(reviewed))
    assert code == 0 and "3 comment(s) imported" in out
    assert "WARNING:" in err and "noen andre" in err and "(coding 5, theme «Kontinuitet»)" in err
    text = project.store.transcript_text("mini-skoleleder")
    assert "noen andre" not in text


def test_a_file_that_is_no_rta_word_report_is_refused(project: Project, tmp_path: Path, capsys):
    plain = tmp_path / "vanlig.docx"
    docx.Document().save(str(plain))
    code, _, err = run_cli(capsys, project.root, "import-comments", str(plain))
    assert code == 2 and "not an rta Word report" in err
    code, _, err = run_cli(capsys, project.root, "import-comments", str(tmp_path / "finnes-ikke.docx"))
    assert code == 2 and "reviewed report not found" in err
