"""``rta verify``: a manuscript's extracts checked against the transcripts.

The project holds five sample transcripts; k1-skoleledere is revised once ("snart elleve år"
becomes "snart tolv år"), so its first revision is superseded. The manuscripts are written here
in Norwegian with planted faults: tests/data/verify/kapittel5.md (every verdict), a corrected
plain-text version that verifies (each attribution style, hyphenation at a line end), an OCR'd
copy that lost its æ/ø/å, and a Word file built with python-docx (Quote and Intense Quote
styles, an indented paragraph, a list, a table).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from rta.project import Project
from rta.verify import (ALTERED, INTERVIEWER, MARKED, NOT_FOUND, NOT_INTERVIEW, SPANS_TURNS, SUPERSEDED, TOO_SHORT,
                        VERBATIM, WRONG_INFORMANT, ExtractResult, Verification, check_logged, verify_manuscript)
from test_store_fixtures import run_cli

SAMPLE = Path(__file__).resolve().parent.parent / "transcripts_sample"
DATA = Path(__file__).parent / "data" / "verify"
FILES = ("k1-skoleeier.txt", "k1-skoleledere.txt", "k2-skoleledere.txt", "k4-skoleleder.txt", "veiledere-a-b.txt")


@pytest.fixture(scope="module")
def studie(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project (built once for this module; tests that write to it copy it)."""
    base = tmp_path_factory.mktemp("verify")
    src = base / "kilder"
    src.mkdir()
    for name in FILES:
        shutil.copyfile(SAMPLE / name, src / name)
    project = Project.init(base / "studie", name="Sitatsjekk", coder="tester")
    project.add_files([src / name for name in FILES], coder="tester")
    revised = src / "k1-skoleledere.txt"
    revised.write_text(revised.read_text(encoding="utf-8").replace("snart elleve år", "snart tolv år"),
                       encoding="utf-8")
    assert project.add_files([revised], coder="tester")[0].status == "revised"
    project.close()
    return base / "studie"


@pytest.fixture
def copy(studie: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(studie, tmp_path / "studie"))


def verify(root: Path, manuscript: Path) -> Verification:
    project = Project.open(root)
    try:
        return verify_manuscript(project.store, project.registry, manuscript)
    finally:
        project.close()


def extract(v: Verification, words: str) -> ExtractResult:
    """The one extract whose text holds ``words``."""
    found = [r for r in v.results if words in " ".join(r.text.split())]
    assert len(found) == 1, f"{len(found)} extracts hold {words!r}: {[r.text for r in v.results]}"
    return found[0]


# --------------------------------------------------------------------------------------------
# Markdown: one extract for each verdict


@pytest.fixture(scope="module")
def kapittel(studie: Path) -> Verification:
    return verify(studie, DATA / "kapittel5.md")


def test_markdown_finds_block_quotes_labels_and_inline_quotes_but_not_short_phrases(kapittel):
    assert len(kapittel.results) == 13
    kinds = [r.kind for r in kapittel.results]
    assert kinds.count("inline") == 3 and kinds.count("block") == 10
    assert not any("hakeparentes" in r.text for r in kapittel.results)


def test_a_labelled_verbatim_extract_verifies_with_its_source_lines_and_speaker(kapittel):
    r = extract(kapittel, "Det som reddet oss")
    assert r.verdict == VERBATIM and r.ok
    assert r.attribution.codes == ["S1"] and r.attribution.how == "label"
    assert (r.source.transcript, r.source.current, r.source.informant) == ("k1-skoleeier", True, "S1")
    assert (r.source.line_start, r.source.line_end) == (24, 24)
    assert not r.changes and not r.damage


def test_marked_omissions_and_a_bracketed_insertion_verify_as_marked_edits(kapittel):
    r = extract(kapittel, "Dem kjente historikken (...)")
    assert r.verdict == MARKED and r.ok
    assert r.attribution.how == "lead-in" and r.attribution.codes == ["S1"]
    assert any("dem visste hvorfor skolene" in o for o in r.omissions)
    assert r.insertions == ["[veilederne]"]
    assert not r.changes


def test_a_changed_word_is_altered_with_the_word_diff(kapittel):
    r = extract(kapittel, "litt rart for meg")
    assert r.verdict == ALTERED and r.ok is False
    assert r.attribution.how == "parenthesis" and r.attribution.codes == ["S1"]
    assert [(c.kind, c.manuscript, c.source) for c in r.changes] == [("changed", "rart", "vanskelig")]
    assert "[-vanskelig-] {+rart+}" in r.diff()


def test_a_dropped_ikke_is_altered(kapittel):
    r = extract(kapittel, "som vi hadde hatt før")
    assert r.verdict == ALTERED
    assert r.attribution.codes == ["R1.1"] and r.attribution.how == "lead-in"
    assert [(c.kind, c.source) for c in r.changes] == [("omitted", "ikke")]
    assert "[-ikke-]" in r.diff()


def test_an_unmarked_omission_is_altered(kapittel):
    r = extract(kapittel, "tid på kartlegging, samtaler")
    assert r.verdict == ALTERED
    assert [(c.kind, c.source) for c in r.changes] == [("omitted", "spørreundersøkelser")]


def test_words_of_another_informant_are_misattributed(kapittel):
    r = extract(kapittel, "Så hver gang var det")
    assert r.verdict == WRONG_INFORMANT and r.ok is False
    assert r.attribution.codes == ["R1.2"] and r.source.informant == "R1.1"
    assert "R1.1 said it" in r.problems[0]


def test_the_interviewers_words_attributed_to_an_informant_are_caught(kapittel):
    r = extract(kapittel, "Hva forventet dere av veilederne")
    assert r.kind == "inline" and r.attribution.codes == ["R1.2"]
    assert r.verdict == INTERVIEWER and r.source.informant is None
    assert r.source.speakers == ["Intervjuer"]


def test_words_found_only_in_a_superseded_revision_are_reported_so(kapittel):
    r = extract(kapittel, "snart elleve år")
    assert r.verdict == SUPERSEDED and r.ok is False
    assert (r.source.transcript, r.source.revision, r.source.current) == ("k1-skoleledere", 1, False)
    assert r.superseded_by == 2 and r.current_differs


def test_an_extract_stitched_from_two_turns_spans_two_turns(kapittel):
    r = extract(kapittel, "Og jeg kom inn mye seinere")
    assert r.verdict == SPANS_TURNS
    assert r.source.speakers == ["R1.1", "R1.2"] and len(r.source.turns) == 2


def test_an_attributed_extract_no_transcript_holds_is_not_found_with_nearest_candidates(kapittel):
    r = extract(kapittel, "Vi har aldri hatt noen problemer")
    assert r.verdict == NOT_FOUND and r.ok is False and r.source is None
    assert r.candidates and all(0 < c.similarity < 1 for c in r.candidates)
    assert r.candidates == sorted(r.candidates, key=lambda c: -c.similarity)


def test_an_unattributed_quote_of_a_document_is_not_an_interview_extract(kapittel):
    r = extract(kapittel, "Oppfølgingsordningen skal bidra")
    assert r.verdict == NOT_INTERVIEW and r.ok is None
    assert not r.attribution.given


def test_attribution_in_parentheses_after_an_inline_quote_and_by_a_role_noun_in_the_lead_in(kapittel):
    va = extract(kapittel, "Jeg tror veilederrollen er noe")
    assert (va.verdict, va.attribution.codes, va.attribution.how) == (VERBATIM, ["Va"], "parenthesis")
    vb = extract(kapittel, "Helt eksplisitt")
    assert (vb.verdict, vb.attribution.codes, vb.attribution.how) == (VERBATIM, ["Vb"], "lead-in")
    assert vb.attribution.written == "En av veilederne (Vb) forteller:"


def test_the_counts_and_the_outcome(kapittel):
    assert kapittel.counts == {VERBATIM: 3, MARKED: 1, ALTERED: 3, WRONG_INFORMANT: 1, INTERVIEWER: 1, SPANS_TURNS: 1,
                               SUPERSEDED: 1, NOT_FOUND: 1, NOT_INTERVIEW: 1}
    assert not kapittel.verified and len(kapittel.failed) == 8


# --------------------------------------------------------------------------------------------
# Plain text: a corrected chapter that verifies; an OCR'd copy


def test_a_corrected_text_manuscript_verifies_in_every_attribution_style(studie):
    v = verify(studie, DATA / "kapittel5-rettet.txt")
    assert v.verified and [r.verdict for r in v.results] == [VERBATIM] * 5, [(r.text, r.verdict) for r in v.results]
    by = {r.attribution.codes[0]: r for r in v.results}
    assert set(by) == {"S1", "R1.1", "R2.1", "R4"}
    assert by["R1.1"].attribution.written == "R1.1:"  # 'R1.1:(...)' with no space
    assert by["R2.1"].attribution.written == "R 2.1:" and by["R2.1"].source.informant == "R2.1"
    assert by["R4"].kind == "inline" and by["R4"].attribution.how == "lead-in"


def test_a_word_hyphenated_at_a_line_end_is_one_word(studie):
    v = verify(studie, DATA / "kapittel5-rettet.txt")
    r = extract(v, "første-")
    assert r.verdict == VERBATIM and not r.changes and not r.damage


def test_an_ocr_damaged_copy_finds_its_sources_and_reports_the_damage_apart(studie):
    v = verify(studie, DATA / "kapittel5-ocr.txt")
    assert v.verified
    s1 = extract(v, "Det la jo dokumenter")
    assert s1.verdict == VERBATIM and s1.source.transcript == "k1-skoleeier" and not s1.changes
    assert ("la", "lå") in s1.damage and ("a", "å") in s1.damage and ("vaert", "vært") in s1.damage
    r4 = extract(v, "kjenner bdde skolen")
    assert r4.verdict == VERBATIM and r4.source.informant == "R4" and not r4.changes
    assert set(r4.damage) == {("Sa", "Så"), ("bdde", "både"), ("pa", "på")}
    assert any("damaged letters" in n for n in r4.notes)


# --------------------------------------------------------------------------------------------
# Word


def _docx(path: Path) -> Path:
    import docx
    from docx.shared import Cm

    d = docx.Document()
    d.add_heading("Kapittel 6: Medvirkning", level=1)
    d.add_paragraph("Skolelederne var lite med i forfasen. Skoleleder R4 sier:")
    d.add_paragraph("Det var ikke så mye medvirkning i starten, ikke fra skolenes side i alle fall.", style="Quote")
    d.add_paragraph("En veileder beskriver det samme fra sin side.")
    d.add_paragraph("Vb: Ja, det har jeg kjent på også. Særlig i starten.", style="Intense Quote")
    d.add_paragraph("Rektoren knytter det til eierskap.")
    indented = d.add_paragraph("Vi hadde liksom vært med på å definere hva problemet var (R4)")
    indented.paragraph_format.left_indent = Cm(1.25)
    d.add_paragraph("Forfasen beskrives ulikt av rektorene.")
    d.add_paragraph("R1.2: Forfasen var (...) den var lang. Vi brukte masse tid på kartlegging", style="Quote")
    bullet = d.add_paragraph("Tre forhold går igjen: tid, rom og samarbeid mellom skolene i kommunen", style="List Bullet")
    bullet.paragraph_format.left_indent = Cm(1.25)
    d.add_paragraph("Skoleeieren peker på tiden: «Tid er den eneste utfordringen» (S1), og rektorene er enige.")
    table = d.add_table(rows=1, cols=1)
    table.cell(0, 0).text = "S1: Masse. Det var jo alt digitalt en lang periode."
    d.save(str(path))
    return path


def test_a_word_manuscript_reads_quote_styles_indented_paragraphs_and_tables(studie, tmp_path):
    v = verify(studie, _docx(tmp_path / "kapittel6.docx"))
    verdicts = {" ".join(r.text.split()[:3]): r.verdict for r in v.results}
    assert verdicts == {
        "Det var ikke": VERBATIM,          # Quote style, lead-in 'Skoleleder R4 sier:'
        "Ja, det har": VERBATIM,           # Intense Quote, label 'Vb:'
        "Vi hadde liksom": ALTERED,        # indented paragraph: 'ikke' dropped
        "Forfasen var (...)": WRONG_INFORMANT,  # R1.1's words under R1.2's label
        "Tid er den": ALTERED,             # inline «...» (S1): 'største' became 'eneste'
        "Masse. Det var": VERBATIM,        # a label paragraph in a table cell
    }
    assert extract(v, "Tid er den eneste").changes[0].source == "største"
    assert extract(v, "Det var ikke så mye").attribution.codes == ["R4"]
    assert v.manuscript.format == "docx" and v.results[0].where.startswith("paragraph ")


# --------------------------------------------------------------------------------------------
# PDF (read through pypdf when it is installed; rta does not depend on it)


def _pdf(path: Path, lines: list[tuple[int, int, str]]) -> Path:
    """A one-page PDF written by hand (Helvetica, WinAnsi encoding: æ, ø, å) with (x, y, text)
    lines; a larger x is an indented line."""
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    data = ("BT /F1 11 Tf\n" + "".join(f"1 0 0 1 {x} {y} Tm ({esc(t)}) Tj\n" for x, y, t in lines) + "ET\n"
            ).encode("cp1252")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(data) + data + b"endstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(out)
    return path


PDF_LINES = [(72, 780, "Kapittel 5"), (72, 750, "Skoleeier S1 sier:"),
             (110, 725, "Det som reddet oss, tror jeg, var at vi hadde de samme veilederne hele"),
             (110, 711, "veien."),
             (72, 685, "Rektoren sier at «Vi brukte masse tid på kartlegging, samtaler med elever» (R1.1).")]


def test_a_pdf_manuscript_keeps_its_indented_block_quotes(studie, tmp_path):
    pytest.importorskip("pypdf")
    v = verify(studie, _pdf(tmp_path / "kapittel5.pdf", PDF_LINES))
    block = extract(v, "Det som reddet oss")
    assert (block.kind, block.verdict, block.attribution.codes) == ("block", VERBATIM, ["S1"])
    inline = extract(v, "Vi brukte masse tid")
    assert (inline.kind, inline.verdict, inline.attribution.codes) == ("inline", ALTERED, ["R1.1"])
    assert block.where.startswith("page 1, line ")


def test_a_pdf_without_pypdf_is_refused_saying_what_to_install(copy, tmp_path, capsys, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pypdf(name, *args, **kwargs):
        if name == "pypdf":
            raise ImportError("No module named 'pypdf'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pypdf)
    code, _, err = run_cli(capsys, copy, "verify", str(_pdf(tmp_path / "kapittel5.pdf", PDF_LINES)))
    assert code == 2 and "kapittel5.pdf" in err and "pip install pypdf" in err


# --------------------------------------------------------------------------------------------
# The command: exit codes, the logged event, output formats


def test_cli_exit_1_when_an_extract_fails_and_the_run_is_logged(copy, capsys):
    code, out, err = run_cli(capsys, copy, "verify", str(DATA / "kapittel5.md"))
    assert code == 1, err
    assert "kapittel5.md" in out and "8 extract(s) FAIL" in out
    assert "[-ikke-]" in out and "not an interview extract?" in out
    conn = sqlite3.connect(copy / "rta.db")
    payload = json.loads(conn.execute("SELECT payload FROM events WHERE kind = 'manuscript.verified'").fetchone()[0])
    conn.close()
    import hashlib

    assert payload["sha256"] == hashlib.sha256((DATA / "kapittel5.md").read_bytes()).hexdigest()
    assert payload["manuscript"] == "kapittel5.md" and payload["extracts"] == 13 and payload["verified"] is False
    assert payload["counts"]["altered"] == 3 and check_logged(payload) is None
    code, out, err = run_cli(capsys, copy, "audit")
    assert code == 0, out + err


def test_cli_exit_0_when_every_extract_verifies(copy, capsys):
    code, out, err = run_cli(capsys, copy, "verify", str(DATA / "kapittel5-rettet.txt"))
    assert code == 0, out + err
    assert "all interview extracts verify" in out


@pytest.mark.parametrize("name, content, message", [
    ("kapittel.rtf", b"{\\rtf1 tekst}", "unsupported manuscript type '.rtf'"),
    ("mangler.md", None, "file not found"),
    ("ødelagt.docx", b"PK\x03\x04 ikke en ekte zip", "cannot read Word file"),
    ("latin1.txt", "«Det som reddet oss, tror jeg» (S1)".encode("latin-1"), "not valid utf-8"),
    ("tom.md", "# Bare en overskrift\n\nIngen sitater her.\n".encode(), "found no quotes or extracts"),
])
def test_cli_exit_2_on_bad_input_naming_the_file_with_nothing_logged(copy, tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    before = sqlite3.connect(copy / "rta.db").execute("SELECT COUNT(*) FROM events").fetchone()[0]
    code, out, err = run_cli(capsys, copy, "verify", str(path))
    assert code == 2
    assert name in err and message in err and "Traceback" not in err
    assert sqlite3.connect(copy / "rta.db").execute("SELECT COUNT(*) FROM events").fetchone()[0] == before


def test_cli_json_holds_every_extract_with_its_verdict_source_and_diff(copy, capsys):
    code, out, _ = run_cli(capsys, copy, "verify", str(DATA / "kapittel5.md"), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["extracts"] == len(data["results"]) == 13 and data["event"] > 0
    altered = [r for r in data["results"] if r["verdict"] == "altered"]
    assert {r["diff"] is not None for r in altered} == {True}
    superseded = next(r for r in data["results"] if r["verdict"] == "superseded")
    assert superseded["source"]["revision"] == 1 and superseded["superseded_by"] == 2


def test_cli_html_is_self_contained_escaped_and_marks_the_differences(copy, tmp_path, capsys):
    ms = tmp_path / "farlig.md"
    ms.write_text("Skoleeier S1 sier:\n\n> Det som reddet oss, tror jeg, var at vi hadde de samme <script>alert(1)"
                  "</script> veilederne hele veien.\n\n" + (DATA / "kapittel5.md").read_text(encoding="utf-8"),
                  encoding="utf-8")
    out_file = tmp_path / "sjekk.html"
    code, out, err = run_cli(capsys, copy, "verify", str(ms), "-f", "html", "-o", str(out_file))
    assert code == 1, err
    html = out_file.read_text(encoding="utf-8")
    assert "<script" not in html and re.search(r"&lt;(<span[^>]*>)?script&gt;alert", html)
    assert "http://" not in html and "https://" not in html and "<link" not in html
    assert '<span class="omitted">ikke</span>' in html  # the dropped 'ikke' marked in the source
    assert '<span class="changed">rart</span>' in html
    assert 'data-verdict="interviewer"' in html and "intervjuerens ord" in html
    assert "Tilskrevet R1.2, men R1.1 sa det." in html
    assert "<h2>1. linje 3 " in html and "line 3" not in html  # the page is in the project's language


def test_cli_terminal_output_escapes_control_characters_from_the_manuscript(copy, tmp_path, capsys):
    ms = tmp_path / "kontroll.md"
    ms.write_text("> S1: Vi har aldri \x1b]0;tittel\x07 hatt noen problemer med veilederne.\n", encoding="utf-8")
    code, out, err = run_cli(capsys, copy, "verify", str(ms))
    assert "\x1b" not in out and "\x07" not in out


# --------------------------------------------------------------------------------------------
# The logged event in the audit


def test_the_replay_accepts_a_logged_verification_and_checks_its_counts():
    good = {"manuscript": "k.md", "sha256": "a" * 64, "format": "md", "words": 10, "extracts": 3,
            "counts": {"verbatim": 2, "not_interview": 1}, "verified": True}
    assert check_logged(good) is None
    assert "counts 2" in check_logged({**good, "counts": {"verbatim": 2}})
    assert "failing" in check_logged({**good, "counts": {"verbatim": 1, "altered": 1, "not_interview": 1}})
    assert "sha256" in check_logged({**good, "sha256": "nei"})


# --------------------------------------------------------------------------------------------
# Tampering with a logged verification (as tests/test_tamper.py does for the other entries)

from test_tamper import UNLOCK_LOG, assert_detected, audit_cli, edit, event, rechain  # noqa: E402


def _verified(copy: Path, capsys) -> int:
    """Verify the chapter (exit 1: it has failing extracts); the seq of its logged entry."""
    code, _, err = run_cli(capsys, copy, "verify", str(DATA / "kapittel5.md"))
    assert code == 1, err
    clean = audit_cli(capsys, copy)
    assert clean[0] == 0, clean[1] + clean[2]
    return sqlite3.connect(copy / "rta.db").execute(
        "SELECT seq FROM events WHERE kind = 'manuscript.verified'").fetchone()[0]


# 'the chapter verified': the failing counts moved to 'verbatim' and the outcome flipped
_WHITEWASH = ("UPDATE events SET payload = json_set(payload, '$.verified', json('true'), '$.counts', "
              "json('{\"verbatim\":11,\"verbatim_marked\":1,\"not_interview\":1}')) WHERE seq = ?")


def test_a_verification_entry_edited_in_the_log_is_caught_naming_the_entry(copy, capsys):
    seq = _verified(copy, capsys)
    edit(copy, *UNLOCK_LOG, _WHITEWASH, params=(seq,))
    assert_detected(audit_cli(capsys, copy), event(seq))


def test_a_verification_entry_whose_outcome_contradicts_its_counts_is_caught_after_rehashing(copy, capsys):
    seq = _verified(copy, capsys)
    edit(copy, *UNLOCK_LOG, "UPDATE events SET payload = json_set(payload, '$.verified', json('true')) WHERE seq = ?",
         params=(seq,))
    rechain(copy, since=seq)
    assert_detected(audit_cli(capsys, copy), event(seq), r"manuscript\.verified", r"failing extract")


def test_a_consistent_forged_verification_is_caught_against_the_expected_head(copy, capsys):
    seq = _verified(copy, capsys)
    head = sqlite3.connect(copy / "rta.db").execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    edit(copy, *UNLOCK_LOG, _WHITEWASH, params=(seq,))
    rechain(copy, since=seq)
    assert audit_cli(capsys, copy)[0] == 0  # consistent in itself: only an anchored head tells
    assert_detected(audit_cli(capsys, copy, "--expect-head", f"{head[0]}:{head[1]}"), rf"\b{head[0]}\b",
                    r"\bhead\b|\bexpect")


def test_a_word_that_only_folds_like_the_sources_is_a_change_in_an_extract_that_lost_no_letters(studie, tmp_path):
    ms = tmp_path / "kapittel.md"
    ms.write_text("> S1: Og personavhengigheten, ikke sant, når det er så få folk, så er det veldig sårbart når noen "
                  "slutter. Det sa vi jo da forgjengeren min gikk.\n", encoding="utf-8")
    r = verify(studie, ms).results[0]
    assert r.verdict == ALTERED and not r.damage
    assert [(c.kind, c.manuscript, c.source) for c in r.changes] == [("changed", "sa", "så")]


def test_an_extract_running_into_the_interviewers_question_spans_two_turns(studie, tmp_path):
    ms = tmp_path / "kapittel.md"
    ms.write_text("> Så de første månedene brukte jeg mye tid på bare å finne ut hva dem egentlig hadde blitt enige "
                  "om. Og hva som var min rolle oppi det. Hva var det som hjalp deg i den perioden? (S1)\n",
                  encoding="utf-8")
    r = verify(studie, ms).results[0]
    assert r.verdict == SPANS_TURNS and r.source.speakers == ["S1", "I"]
    assert "2 turns (S1, I)" in r.problems[0]


def test_the_interviewers_label_and_a_phrase_too_short_to_check(studie, tmp_path):
    ms = tmp_path / "kapittel.md"
    ms.write_text("> I: Hvordan var det å komme inn på den måten?\n\n"
                  "> I: Det som reddet oss, tror jeg, var at vi hadde de samme veilederne hele veien.\n\n"
                  "> S1: Ja, altså.\n", encoding="utf-8")
    asked, answered, short = verify(studie, ms).results
    assert (asked.verdict, asked.attribution.interviewer, asked.source.informant) == (VERBATIM, True, None)
    assert answered.verdict == WRONG_INFORMANT and answered.source.informant == "S1"
    assert (short.verdict, short.ok) == (TOO_SHORT, None)
