"""``rta audit``: every failure kind is detected, each made by tampering with a copy of the
store by hand, and a built report's quotes are checked against the store."""

from __future__ import annotations

import html
import shutil
import sqlite3
from pathlib import Path

import pytest

from rta.audit import audit, report_quotes, verify_report_html
from rta.fsutil import sha256_text
from rta.store import Store
from test_store_fixtures import code_quote, run_cli

QUOTE = "det ble et brudd i arbeidet"


@pytest.fixture
def coded(project):
    """The mini project with two codings and a memo; returns the project."""
    code_quote(project, "mini-skoleeier", QUOTE, "Brudd")
    code_quote(project, "mini-skoleleder", "de samme veilederne var med hele veien", "Kontinuitet", memo="samme folk")
    return project


def tampered(project, tmp_path: Path, *sql: str) -> Store:
    """A copy of the project's store with ``sql`` applied directly (as someone editing the file)."""
    project.close()
    copy = tmp_path / "tampered.db"
    shutil.copyfile(project.root / "rta.db", copy)
    conn = sqlite3.connect(copy)
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return Store(copy)


def kinds(report) -> set[str]:
    return {f.kind for f in report.failures}


def test_an_untouched_store_passes(coded):
    report = audit(coded.store)
    assert report.ok, report.to_text()
    assert report.checked["codings"] == 2 and report.checked["events"] >= 5


def test_edited_quote_text_in_a_transcript_is_detected(coded, tmp_path):
    store = tampered(coded, tmp_path,
                     "UPDATE transcript_revisions SET text = replace(text, 'et brudd i arbeidet', 'et brudd i samarbeidet') "
                     "WHERE transcript_id = 'mini-skoleeier'")
    report = audit(store)
    assert kinds(report) == {"quote", "transcript"}
    quote = next(f for f in report.failures if f.kind == "quote")
    assert quote.ids["coding"] == 1 and "no longer hashes" in quote.cause and "brudd i samarbei»" in quote.cause
    assert next(f for f in report.failures if f.kind == "transcript").ids == {"transcript": "mini-skoleeier", "revision": 1}


def test_edited_coding_offsets_are_detected(coded, tmp_path):
    store = tampered(coded, tmp_path, "UPDATE codings SET start = start + 3 WHERE id = 1")
    report = audit(store)
    assert {"quote", "record"} <= kinds(report)
    assert all(f.ids.get("coding") == 1 for f in report.failures)


def test_offsets_edited_with_a_matching_hash_still_disagree_with_the_log(coded, tmp_path):
    store0 = coded.store
    text = store0.transcript_text("mini-skoleeier")
    start = text.index(QUOTE) + 3
    digest = sha256_text(text[start:start + len(QUOTE) - 3])
    store = tampered(coded, tmp_path, f"UPDATE codings SET start = {start}, quote_sha256 = '{digest}' WHERE id = 1")
    report = audit(store)
    assert kinds(report) == {"record"}
    failure = report.failures[0]
    assert failure.ids == {"table": "codings", "coding": 1, "field": "start"}
    assert f"the row says {start}, the log says {start - 3}" in failure.cause


def test_an_edited_event_is_detected_after_dropping_the_append_only_triggers(coded, tmp_path):
    store = tampered(coded, tmp_path, "DROP TRIGGER events_append_only_update",
                     "UPDATE events SET coder = 'mallory' WHERE kind = 'coding.added' AND seq = "
                     "(SELECT MIN(seq) FROM events WHERE kind = 'coding.added')")
    report = audit(store)
    assert "chain" in kinds(report)
    assert any("was edited" in f.cause for f in report.failures if f.kind == "chain")


def test_a_deleted_event_is_detected_after_dropping_the_append_only_triggers(coded, tmp_path):
    store = tampered(coded, tmp_path, "DROP TRIGGER events_append_only_delete",
                     "DELETE FROM events WHERE kind = 'coding.added' AND seq = "
                     "(SELECT MIN(seq) FROM events WHERE kind = 'coding.added')")
    report = audit(store)
    assert {"chain", "record"} <= kinds(report)
    assert any("missing" in f.cause for f in report.failures if f.kind == "chain")


def test_the_append_only_triggers_refuse_edits(coded, tmp_path):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        tampered(coded, tmp_path, "DELETE FROM events WHERE seq = 1")


def test_a_coding_whose_code_is_not_in_its_codebook_version_is_detected(coded, tmp_path):
    store = tampered(coded, tmp_path, "UPDATE codings SET code = 'Oppdiktet' WHERE id = 2")
    report = audit(store)
    assert {"code", "record"} == kinds(report)
    failure = next(f for f in report.failures if f.kind == "code")
    assert failure.ids == {"coding": 2, "codebook_version": 1} and "Oppdiktet" in failure.cause


def test_a_transcript_hash_mismatch_is_detected(coded, tmp_path):
    store = tampered(coded, tmp_path, "UPDATE transcript_revisions SET sha256 = '" + "0" * 64 + "' WHERE transcript_id = 'mini-skoleleder'")
    report = audit(store)
    assert kinds(report) == {"transcript"}
    assert report.failures[0].ids["transcript"] == "mini-skoleleder"


def test_an_edited_codebook_version_is_detected(coded, tmp_path):
    store = tampered(coded, tmp_path, "UPDATE codebook_versions SET content = content || '# endret'")
    assert kinds(audit(store)) == {"codebook"}


def test_an_edited_memo_is_detected(coded, tmp_path):
    from rta.memos import add_memo

    with coded.store.transaction():
        add_memo(coded.store, "journal", None, "Jeg var usikker", "tester")
    store = tampered(coded, tmp_path, "UPDATE memos SET text = 'Jeg var sikker'")
    report = audit(store)
    assert kinds(report) == {"record"} and report.failures[0].ids == {"table": "memos", "memo": 1, "field": "text"}


def test_audit_cli_prints_each_cause_and_exits_1(coded, tmp_path, capsys):
    store = tampered(coded, tmp_path, "UPDATE codings SET code = 'Oppdiktet' WHERE id = 2")
    store.close()
    shutil.copyfile(tmp_path / "tampered.db", coded.root / "rta.db")
    code, out, err = run_cli(capsys, coded.root, "audit")
    assert code == 1
    assert "audit FAILED" in out and "[code] coding 2" in out and "Oppdiktet" in out


def test_audit_cli_passes_on_a_clean_store(coded, capsys):
    code, out, err = run_cli(capsys, coded.root, "audit")
    assert code == 0, err
    assert out.startswith("audit passed")


# -- built HTML reports ----------------------------------------------------------------------


def _blockquote(store, coding_id: int, shown: str | None = None) -> str:
    row = store.conn.execute("SELECT * FROM codings WHERE id = ?", (coding_id,)).fetchone()
    text = store.transcript_text(row["transcript_id"], row["revision"])[row["start"]:row["end"]]
    return (f'<blockquote class="quote" data-transcript="{row["transcript_id"]}" data-revision="{row["revision"]}" '
            f'data-start="{row["start"]}" data-end="{row["end"]}" data-sha256="{row["quote_sha256"]}" '
            f'data-coding="{coding_id}"><p class="quote-text">{html.escape(shown if shown is not None else text)}</p>'
            f'<footer>S1, linje {row["line_start"]}</footer></blockquote>')


def _report(tmp_path: Path, *blocks: str) -> Path:
    path = tmp_path / "rapport.html"
    path.write_text("<!doctype html><html><body><h1>Rapport</h1>\n" + "\n".join(blocks) + "\n</body></html>",
                    encoding="utf-8")
    return path


def test_report_quotes_are_read_unescaped_exactly_as_rendered(tmp_path):
    path = _report(tmp_path, '<blockquote class="quote" data-sha256="x"><p class="quote-text">X [navn p&aring; UH] &amp; '
                             '<em>de</em> (...)</p><footer>R2.1</footer></blockquote>')
    assert [q.text for q in report_quotes(path.read_text())] == ["X [navn på UH] & de (...)"]


def test_a_report_whose_quotes_match_the_store_verifies(coded, tmp_path):
    path = _report(tmp_path, _blockquote(coded.store, 1), _blockquote(coded.store, 2))
    result = verify_report_html(coded, path)
    assert result.ok, result.to_text()
    assert result.checked["report quotes"] == 2


def test_an_altered_quote_in_a_report_is_named(coded, tmp_path, capsys):
    path = _report(tmp_path, _blockquote(coded.store, 1),
                   _blockquote(coded.store, 2, shown="de samme veilederne var med oss hele veien"))
    result = verify_report_html(coded, path)
    assert [f.ids["quote"] for f in result.failures] == [2, 2]
    causes = " ".join(f.cause for f in result.failures)
    assert "does not hash to its data-sha256" in causes and "differs from the transcript" in causes
    code, out, _ = run_cli(capsys, coded.root, "audit", "--report", str(path))
    assert code == 1 and "[report]" in out


def test_a_report_quote_of_a_removed_coding_is_named(coded, tmp_path, capsys):
    path = _report(tmp_path, _blockquote(coded.store, 1))
    run_cli(capsys, coded.root, "uncode", "1", "--reason", "dobbeltkodet")
    result = verify_report_html(coded, path)
    assert len(result.failures) == 1 and "now removed" in result.failures[0].cause


def test_a_report_quote_without_trace_attributes_is_named(coded, tmp_path):
    path = _report(tmp_path, '<blockquote class="quote"><p class="quote-text">Tid er alltid en utfordring.</p></blockquote>')
    result = verify_report_html(coded, path)
    assert len(result.failures) == 1 and "cannot be traced" in result.failures[0].cause


def test_a_missing_report_file_is_a_usage_error(coded, tmp_path, capsys):
    code, _, err = run_cli(capsys, coded.root, "audit", "--report", str(tmp_path / "finnes-ikke.html"))
    assert code == 2 and "report not found" in err
