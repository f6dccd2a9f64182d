"""``rta audit --report``: reports are receipts.

A report built by this project is checked against its ``report.built`` record (any byte edited
shows); a report the record does not know (built in a copy of the project) is checked extract by
extract. Each kind of edit below is made twice, on the recorded report and on the copy's, and
must be detected with a message naming what changed."""

from __future__ import annotations

import hashlib
import os
import html
import re
import shutil
from pathlib import Path

import pytest

from rta.errors import RtaError
from rta.project import Project
from rta.receipts import verify_report
from rta.report_build import build_report
from test_report import build_coded_project
from test_store_fixtures import run_cli

TRANSCRIPTS = Path(__file__).parent / "data" / "transcripts"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict:
    """One coded project with its report (html, md) in the record, and a report built in a copy
    of the project at the same state (in no record of the original)."""
    base = tmp_path_factory.mktemp("receipts")
    project = Project.init(base / "studie", name="Testprosjekt", coder="tester")
    project.add_files(sorted(TRANSCRIPTS.glob("mini-*.txt")), coder="tester")
    build_coded_project(project)
    project.close()
    shutil.copytree(base / "studie", base / "kopi")
    copy = Project.open(base / "kopi")
    build_report(copy, ["html", "md"], base / "kopi-rapport")
    copy.close()
    project = Project.open(base / "studie")
    build_report(project, ["html", "md"], base / "rapport")
    yield {"project": project, "recorded": base / "rapport", "copy": base / "kopi-rapport"}
    project.close()


MODES = ["recorded", "copy"]


def _edited(reports: dict, tmp_path: Path, mode: str, fmt: str, edit) -> Path:
    """The report (this project's own, or the copy's) with ``edit`` applied, saved in tmp_path."""
    text = (reports[mode] / f"report.{fmt}").read_text(encoding="utf-8")
    changed = edit(text)
    assert changed != text, "the edit changed nothing"
    out = tmp_path / f"rapport.{fmt}"
    out.write_text(changed, encoding="utf-8")
    return out


def _causes(reports: dict, path: Path, mode: str) -> str:
    check = verify_report(reports["project"], path)
    assert not check.ok, f"the edit of {path.name} passed"
    causes = "\n".join(f.cause for f in check.audit.failures)
    if os.environ.get("SHOW_CAUSES"):
        print(f"\n--- {mode}\n" + check.audit.to_text())
    if mode == "recorded":
        assert f"{path.name} was changed after it was built (event " in causes and "recorded sha256" in causes
        assert check.known is not None
    else:
        assert check.known is None and "was changed after it was built" not in causes
    return causes


def _blockquote(text: str, coding: int, slug: str) -> str:
    m = re.search(rf'<blockquote class="quote" id="q-{coding}-{slug}".*?</blockquote>', text, re.S)
    assert m, f"no extract of coding {coding} under {slug}"
    return m.group(0)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- untouched reports pass -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_an_untouched_report_passes_by_its_record(reports, fmt):
    path = reports["recorded"] / f"report.{fmt}"
    check = verify_report(reports["project"], path)
    assert check.ok, check.audit.to_text()
    assert check.recorded is not None and "unchanged since it was built (event" in check.summary()


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_a_report_from_a_copy_of_the_project_is_verified_extract_by_extract(reports, fmt):
    path = reports["copy"] / f"report.{fmt}"
    check = verify_report(reports["project"], path)
    assert check.ok, check.audit.to_text()
    assert check.recorded is None and check.known is None
    assert check.extracts == 10 and check.audit.checked["report context turns"] > 0
    assert "10 extract(s) checked against the project one by one: verified" in check.summary()


def test_the_cli_names_how_the_report_was_verified(reports, capsys):
    root = reports["project"].root
    code, out, _ = run_cli(capsys, root, "audit", "--report", str(reports["recorded"] / "report.html"))
    assert code == 0 and "report.html: unchanged since it was built (event" in out
    code, out, _ = run_cli(capsys, root, "audit", "--report", str(reports["copy"] / "report.md"))
    assert code == 0 and "report.md: not in this project's record of built reports; 10 extract(s)" in out


# -- the record: any byte ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_any_byte_changed_in_a_recorded_report_is_named_with_its_record(reports, tmp_path, capsys, fmt):
    path = _edited(reports, tmp_path, "recorded", fmt, lambda t: t + " ")
    check = verify_report(reports["project"], path)
    recorded = next(f for f in check.audit.failures if "was changed after it was built" in f.cause)
    assert f"rapport.{fmt} was changed after it was built (event {check.known} recorded sha256" in recorded.cause
    assert check.sha256 in recorded.cause
    code, out, _ = run_cli(capsys, reports["project"].root, "audit", "--report", str(path))
    assert code == 1 and "was changed after it was built" in out


# -- ten kinds of report edit ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_changed_attribution_line_is_named(reports, tmp_path, mode):
    def edit(t):
        bq = _blockquote(t, 3, "kontinuitet")
        return t.replace(bq, bq.replace("<cite>S1:</cite> Skoleeier", "<cite>R2.1:</cite> Skoleleder"))

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "its attribution (informant) reads «R2.1» in the report but «S1» in the project" in causes
    assert "its role and group reads «Skoleleder, kommune 1» in the report but «Skoleeier, kommune 1»" in causes
    assert "is attributed to R2.1, but the transcript gives these words to S1" in causes


@pytest.mark.parametrize("mode", MODES)
def test_words_hidden_with_an_inline_style_are_named(reports, tmp_path, mode):
    def edit(t):
        bq = _blockquote(t, 5, "kontinuitet")
        said = re.search(r'<p class="quote-text">(.*?)</p>', bq, re.S).group(1)
        words = said.split(" ")
        hidden = " ".join(words[:2] + [f'<span style="display:none">{words[2]}</span>'] + words[3:])
        return t.replace(bq, bq.replace(said, hidden))

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "coding 5, theme «Kontinuitet»): the extract's markup differs from what rta renders for it" in causes
    assert '<span style="display:none">' in causes and "markup that can hide, add or reorder words" in causes


@pytest.mark.parametrize("mode", MODES)
def test_words_hidden_with_a_style_rule_are_named(reports, tmp_path, mode):
    rule = "<style>#q-6-kapasitet .quote-text { color: #f5f7fa; }</style>\n</head>"
    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", lambda t: t.replace("</head>", rule)), mode)
    assert "the <head>: adds " in causes and "<style> «#q-6-kapasitet .quote-text { color: #f5f7fa; }»" in causes
    assert "markup that can hide, add or reorder words" in causes


@pytest.mark.parametrize("mode", MODES)
def test_an_invented_quote_without_the_class_is_named(reports, tmp_path, mode):
    invented = ('<blockquote><p>Vi fikk aldri støtte.</p><footer><cite>S1:</cite> Skoleeier'
                '</footer></blockquote>\n')

    def edit(t):
        return t.replace('<h3 id="tema-kapasitet-skoleleder">', invented + '<h3 id="tema-kapasitet-skoleleder">')

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "extract «Vi fikk aldri støtte.» (coding ?, theme «Kapasitet») is a blockquote " \
           "without rta's class=\"quote\"" in causes and "an invented quote" in causes


@pytest.mark.parametrize("mode", MODES)
def test_an_invented_quote_with_the_class_and_a_made_up_hash_is_named(reports, tmp_path, mode):
    words = "Vi fikk aldri noen støtte fra kommunen."

    def edit(t):
        bq = _blockquote(t, 6, "kapasitet")
        said = re.search(r'<p class="quote-text">(.*?)</p>', bq, re.S).group(1)
        sha = re.search(r'data-sha256="([0-9a-f]+)"', bq).group(1)
        fake = bq.replace(said, words).replace(sha, _sha(words)).replace('data-coding="6"', 'data-coding="99"') \
            .replace('id="q-6-kapasitet"', 'id="q-99-kapasitet"')
        return t.replace(bq, bq + "\n" + fake)

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "names coding 99, which the project does not have: an invented quote" in causes
    assert "differs from mini-skoleleder at 375-452, which reads" in causes


@pytest.mark.parametrize("mode", MODES)
def test_a_quote_moved_to_another_theme_is_named(reports, tmp_path, mode):
    def edit(t):
        bq = _blockquote(t, 9, "kommunikasjon")
        moved = bq.replace('id="q-9-kommunikasjon"', 'id="q-9-kapasitet"')
        t = t.replace(bq + "\n", "")
        return t.replace('<h3 id="tema-kapasitet-skoleleder">', moved + '\n<h3 id="tema-kapasitet-skoleleder">')

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "(coding 9, theme «Kapasitet») was moved: the project renders coding 9 under theme «Kommunikasjon», " \
           "not under «Kapasitet»" in causes
    assert "the project's extract" in causes and "(coding 9, theme «Kommunikasjon») is missing from the report" in causes


@pytest.mark.parametrize("mode", MODES)
def test_a_quote_moved_to_another_role_heading_is_named(reports, tmp_path, mode):
    def edit(t):
        bq = _blockquote(t, 10, "kontinuitet")
        t = t.replace(bq + "\n", "")
        return t.replace('<h3 id="tema-kontinuitet-skoleleder">', bq + '\n<h3 id="tema-kontinuitet-skoleleder">')

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "stands under the role heading «tema-kontinuitet-skoleeier», the project puts it under " \
           "«tema-kontinuitet-veileder»" in causes


@pytest.mark.parametrize("mode", MODES)
def test_an_edited_quote_with_its_hash_edited_to_match_is_named(reports, tmp_path, mode):
    def edit(t):
        bq = _blockquote(t, 5, "kontinuitet")
        said = re.search(r'<p class="quote-text">(.*?)</p>', bq, re.S).group(1)
        sha = re.search(r'data-sha256="([0-9a-f]+)"', bq).group(1)
        new = said.replace("de samme", "ikke de samme")
        assert new != said
        return t.replace(bq, bq.replace(said, new).replace(sha, _sha(html.unescape(new))))

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "its quote text reads «" in causes and "og ikke de samme" in causes
    assert "its data-sha256 differ from its coding's" in causes
    assert "differs from mini-skoleleder at 188-323, which reads" in causes


@pytest.mark.parametrize("mode", MODES)
def test_the_interviewers_words_presented_as_an_informants_are_named(reports, tmp_path, mode):
    store = reports["project"].store
    turn = store.conn.execute("SELECT start, end FROM turns WHERE transcript_id = 'mini-skoleeier' AND revision = 1 "
                              "AND informant IS NULL AND end <= 340 ORDER BY start DESC LIMIT 1").fetchone()
    asked = store.transcript_text("mini-skoleeier", 1)[turn["start"]:turn["end"]]

    def edit(t):
        bq = _blockquote(t, 3, "kontinuitet")
        said = re.search(r'<p class="quote-text">(.*?)</p>', bq, re.S).group(1)
        new = (bq.replace(said, html.escape(asked, quote=False))
               .replace('data-start="340" data-end="471"', f'data-start="{turn["start"]}" data-end="{turn["end"]}"')
               .replace(re.search(r'data-sha256="([0-9a-f]+)"', bq).group(1), _sha(asked)))
        return t.replace(bq, new)

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "presents the interviewer's words («I» at mini-skoleeier" in causes and "as S1's" in causes


@pytest.mark.parametrize("mode", MODES)
def test_a_changed_transcript_line_number_is_named(reports, tmp_path, mode):
    def edit(t):
        bq = _blockquote(t, 8, "kapasitet")
        shown = re.search(r"script-skoleeier, linje (\d+)", bq)
        return t.replace(bq, bq.replace(shown.group(0), f"script-skoleeier, linje {int(shown.group(1)) + 2}"))

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "coding 8, theme «Kapasitet»): its transcript lines reads «script-skoleeier, linje 13» in the report but " \
           "«script-skoleeier, linje 11» in the project" in causes


@pytest.mark.parametrize("mode", MODES)
def test_an_edit_in_the_context_appendix_is_named(reports, tmp_path, mode):
    def edit(t):
        m = re.search(r'(<div class="turn" id="t-mini-skoleleder-4">.*?<mark>)(.*?)(</mark>)', t)
        return t.replace(m.group(0), m.group(1) + m.group(2).replace(" ", " ikke ", 1) + m.group(3))

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "appendix A turn t-mini-skoleleder-4: its text reads «Tid ikke er alltid" in causes
    assert "«Tid er alltid en utfordring." in causes and "in the project's transcript" in causes


@pytest.mark.parametrize("mode", MODES)
def test_an_edited_markdown_report_is_named(reports, tmp_path, mode):
    def edit(t):
        m = re.search(r'<a id="q-5-kontinuitet".*?\n\n> \*\*R2\.1:\*\* (.*)', t)
        return t.replace(m.group(0), m.group(0).replace("**R2.1:**", "**S1:**").replace(" de ", " ikke de ", 1))

    causes = _causes(reports, _edited(reports, tmp_path, mode, "md", edit), mode)
    assert "(coding 5, theme «Kontinuitet»): its attribution (informant) reads «S1» in the report but «R2.1» in " \
           "the project" in causes
    assert "its quote text reads" in causes and "is attributed to S1, but the transcript gives these words to R2.1" \
        in causes


@pytest.mark.parametrize("mode", MODES)
def test_a_markdown_appendix_line_number_edit_is_named(reports, tmp_path, mode):
    def edit(t):
        m = re.search(r'(<a id="t-mini-skoleeier-4"></a>\n`)(\d+)', t)
        return t.replace(m.group(0), m.group(1) + str(int(m.group(2)) + 1))

    causes = _causes(reports, _edited(reports, tmp_path, mode, "md", edit), mode)
    assert "appendix A turn t-mini-skoleeier-4: its lines reads «12–12» in the report but «11–12»" in causes


@pytest.mark.parametrize("mode", MODES)
def test_reordered_extracts_are_named(reports, tmp_path, mode):
    def edit(t):
        first, second = _blockquote(t, 3, "kontinuitet"), _blockquote(t, 7, "kontinuitet")
        return t.replace(first, "\0").replace(second, first).replace("\0", second)

    causes = _causes(reports, _edited(reports, tmp_path, mode, "html", edit), mode)
    assert "the extracts are not in the order rta renders them" in causes


# -- what cannot be verified is refused ----------------------------------------------------------


def test_a_random_html_file_is_not_an_rta_report(reports, tmp_path, capsys):
    page = tmp_path / "side.html"
    page.write_text("<!doctype html><html><body><h1>Rapport</h1><blockquote>Sitat</blockquote></body></html>",
                    encoding="utf-8")
    with pytest.raises(RtaError, match="not an rta report"):
        verify_report(reports["project"], page)
    code, out, err = run_cli(capsys, reports["project"].root, "audit", "--report", str(page))
    assert code == 2 and "side.html" in err and "not an rta report" in err and "audit passed" not in out


def test_a_docx_that_is_no_word_document_is_not_an_rta_report(reports, tmp_path, capsys):
    doc = tmp_path / "rapport.docx"
    doc.write_bytes(b"PK\x03\x04 not really a docx")
    code, _, err = run_cli(capsys, reports["project"].root, "audit", "--report", str(doc))
    assert code == 2 and "not an rta report" in err and "cannot be read as a Word document" in err


def test_a_recorded_report_edited_into_something_else_still_names_its_record(reports, tmp_path):
    path = tmp_path / "report.html"
    shutil.copyfile(reports["recorded"] / "report.html", path)
    text = path.read_text(encoding="utf-8")
    build = re.search(r'<meta name="rta-build" content="[0-9a-f]+">', text).group(0)
    path.write_text(f"<html><head>{build}</head><body>tomt</body></html>", encoding="utf-8")
    causes = "\n".join(f.cause for f in verify_report(reports["project"], path).audit.failures)
    assert "report.html was changed after it was built (event" in causes
    assert "no longer reads as an rta report" in causes


# -- reading extracts, and a project that moved on -----------------------------------------------


def test_report_quotes_are_read_unescaped_exactly_as_the_transcript_has_them(reports):
    from rta.report import flow
    from rta.report_reading import report_quotes

    store = reports["project"].store
    quotes = report_quotes((reports["recorded"] / "report.html").read_text(encoding="utf-8"))
    assert len(quotes) == 10
    for q in quotes:
        assert q.text == flow(store.transcript_text(q.transcript, int(q.revision))[int(q.start):int(q.end)])
    assert any("<script>" in q.text for q in quotes)  # escaped in the file, read back as written


def test_a_quote_of_a_coding_removed_since_is_named(project, tmp_path, capsys):
    build_coded_project(project)
    project.close()
    shutil.copytree(project.root, tmp_path / "kopi")
    copy = Project.open(tmp_path / "kopi")
    built = build_report(copy, ["html"], tmp_path / "kopi-rapport")
    copy.close()
    code, _, _ = run_cli(capsys, project.root, "uncode", "1", "--reason", "dobbeltkodet")
    assert code == 0
    original = Project.open(project.root)
    try:
        check = verify_report(original, built.paths[0])
    finally:
        original.close()
    causes = "\n".join(f.cause for f in check.audit.failures)
    assert "(codings 1, 2, theme «Kommunikasjon») quotes coding 1, which is removed in the project" in causes


def test_the_json_audit_carries_the_report_check(reports, capsys):
    import json

    code, out, _ = run_cli(capsys, reports["project"].root, "audit", "--report", str(reports["copy"] / "report.html"),
                           "--format", "json")
    report = json.loads(out)["report"]
    assert code == 0 and report["ok"] and report["extracts"] == 10 and report["recorded_by_event"] is None
