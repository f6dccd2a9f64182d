"""``rta audit``: every failure kind is detected, each made by tampering with a copy of the
store by hand, and a built report's quotes are checked against the store."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from rta.audit import audit
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


# -- built reports (the rest: tests/test_receipts.py) ------------------------------------------


def test_a_missing_report_file_is_a_usage_error(coded, tmp_path, capsys):
    code, _, err = run_cli(capsys, coded.root, "audit", "--report", str(tmp_path / "finnes-ikke.html"))
    assert code == 2 and "report not found" in err
