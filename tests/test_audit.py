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


# -- the replay: every table against the log (rta.replay) --------------------------------------


@pytest.fixture
def full(coded):
    """The coded project with a row in every replayed table: themes and membership, a memo and a
    journal entry, a phase change with a reason, an uncoding, and three suggestions (one
    accepted, one rejected, one pending) stored as 'rta suggest' stores them."""
    from rta import review, themes
    from rta.coding import ensure_codebook_version, uncode
    from rta.memos import add_memo
    from rta.phases import set_phase
    from rta.suggest import Candidate, store_logged

    store = coded.store
    text = store.transcript_text("mini-skoleleder")
    spans = []
    for quote in ("Tid er alltid en utfordring", "Lærerne har lite rom", "vi fikk god støtte"):
        if quote in text:
            start = text.index(quote)
            turn = store.conn.execute("SELECT n FROM turns WHERE transcript_id='mini-skoleleder' AND start<=? AND ?<=end",
                                      (start, start + len(quote))).fetchone()
            if turn is not None:
                spans.append((start, start + len(quote), turn[0], text.count("\n", 0, start) + 1))
    assert len(spans) == 3
    with store.transaction():
        version = ensure_codebook_version(store, coded.codebook_path, "tester")
        store_logged(store, [Candidate("mini-skoleleder", 1, n, s, e, line, line, code, 0.7 + i / 10, "lemma", [],
                                       "test") for i, ((s, e, n, line), code) in
                             enumerate(zip(spans, ("Tid", "Tillit", "Relasjoner")))], "tester", {"pipeline": "test"})
        ids = [r[0] for r in store.conn.execute("SELECT id FROM suggestions ORDER BY id")]
        review.accept(store, ids[0], "tester", version)
        review.reject(store, ids[1], "tester", reason="feil kode")
        add_memo(store, "code", "Brudd", "Brudd nevnes av skoleeierne", "tester")
        add_memo(store, "journal", None, "Jeg leser med egne erfaringer", "tester")
        uncode(store, 1, "tester", reason="dobbeltkodet")
    themes.add_theme(store, "Endring", "tester", ["Brudd", "Kontinuitet"])
    themes.assign(store, "Endring", ["Tid"], "tester", reason="hører med")
    set_phase(store, 3, "tester", reason="kodene er på plass")
    return coded


def tampered_project(project, tmp_path: Path, *sql: str):
    """A copy of the whole project folder with ``sql`` applied to its store (so the audit can
    find the project's registry), opened as a project."""
    from rta.project import Project

    project.close()
    root = Path(shutil.copytree(project.root, tmp_path / "kopi"))
    conn = sqlite3.connect(root / "rta.db")
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return Project.open(root)


def named(report, **ids) -> list:
    """The failures whose ids include all of ``ids``."""
    return [f for f in report.failures if all(f.ids.get(k) == v for k, v in ids.items())]


def test_a_project_with_a_row_in_every_table_replays_clean(full):
    report = audit(full)
    assert report.ok, report.to_text()
    for table in ("informants", "suggestions", "themes", "theme codes", "memos", "coders", "event texts",
                  "turn tables (logged hash)", "transcripts", "codebook versions"):
        assert report.checked[table] > 0, table
    assert report.notes == []


def test_a_turn_given_to_another_informant_is_named_with_its_field(full, tmp_path):
    project = tampered_project(full, tmp_path, "UPDATE turns SET informant = 'S9', role = 'skoleleder' "
                                               "WHERE transcript_id = 'mini-skoleeier' AND n = 2")
    report = audit(project)
    assert {f.ids.get("field") for f in named(report, table="turns", transcript="mini-skoleeier", turn=2)} == {
        "informant", "role"}
    assert kinds(report) == {"transcript"}


def test_without_the_registry_a_turn_edit_is_caught_by_the_logged_turn_hash(full, tmp_path):
    store = tampered(full, tmp_path, "UPDATE turns SET speaker = 'R1.1' WHERE transcript_id = 'mini-skoleeier' AND n = 2")
    [failure] = audit(store).failures
    assert failure.ids == {"table": "turns", "transcript": "mini-skoleeier", "revision": 1}
    assert "the turn rows hash to" in failure.cause and "transcript.added" in failure.cause


def test_a_transcript_text_rewritten_with_its_hash_column_still_differs_from_the_logged_hash(full, tmp_path):
    text = full.store.transcript_text("mini-skoleeier").replace("brudd", "samarbeid")
    store = tampered(full, tmp_path, "UPDATE transcript_revisions SET text = '%s', sha256 = '%s' "
                     "WHERE transcript_id = 'mini-skoleeier'" % (text.replace("'", "''"), sha256_text(text)))
    report = audit(store)
    fields = {f.ids.get("field") for f in named(report, table="transcript_revisions", transcript="mini-skoleeier")}
    assert fields == {"text", "sha256"}


@pytest.mark.parametrize("sql, table, ids, field", [
    ("UPDATE informants SET role = 'skoleleder' WHERE code = 'S1'", "informants", {"informant": "S1"}, "role"),
    ("UPDATE codes SET definition = 'noe annet' WHERE name = 'Tid'", "codes", {"code": "Tid"}, "definition"),
    ("UPDATE codings SET line_start = line_start + 1 WHERE id = 2", "codings", {"coding": 2}, "line_start"),
    ("UPDATE codings SET turn_n = 1 WHERE id = 2", "codings", {"coding": 2}, "turn_n"),
    ("UPDATE codings SET memo = 'andre folk' WHERE id = 2", "codings", {"coding": 2}, "memo"),
    ("UPDATE codings SET status = 'active' WHERE id = 1", "codings", {"coding": 1}, "status"),
    ("UPDATE codings SET origin = 'suggested' WHERE id = 2", "codings", {"coding": 2}, "origin"),
    ("UPDATE suggestions SET status = 'suggested', decided_by = NULL WHERE id = 2", "suggestions", {"suggestion": 2},
     "status"),
    ("UPDATE suggestions SET score = 0.99 WHERE id = 2", "suggestions", {"suggestion": 2}, "score"),
    ("UPDATE suggestions SET evidence = '[1]' WHERE id = 3", "suggestions", {"suggestion": 3}, "evidence"),
    ("UPDATE themes SET status = 'defined' WHERE name = 'Endring'", "themes", {"theme": 1}, "status"),
    ("UPDATE memos SET target = 'Tid' WHERE target_kind = 'code'", "memos", {"memo": 1}, "target"),
    ("UPDATE memos SET phase = 5 WHERE target_kind = 'journal'", "memos", {"memo": 2}, "phase"),
    ("UPDATE meta SET value = '6' WHERE key = 'phase'", "meta", {"key": "phase"}, "value"),
    ("UPDATE event_texts SET text = 'ingen grunn' WHERE field = 'reason' AND seq = "
     "(SELECT seq FROM events WHERE kind = 'coding.removed')", "event_texts", {"payload_field": "reason"}, "text"),
])
def test_a_field_edited_by_hand_is_named_with_its_table_row_and_field(full, tmp_path, sql, table, ids, field):
    report = audit(tampered(full, tmp_path, sql))
    hits = named(report, table=table, **ids)
    assert hits, report.to_text()
    assert field in {f.ids.get("field") for f in hits} or any(field in f.cause for f in hits), report.to_text()
    assert all("the log" in f.cause or "logged" in f.cause for f in hits)


@pytest.mark.parametrize("sql, table, ids, says", [
    ("INSERT INTO coders VALUES ('mallory', '2026-01-01T00:00:00Z')", "coders", {"coder": "mallory"}, "no event"),
    ("DELETE FROM memos WHERE target_kind = 'journal'", "memos", {"memo": 2}, "does not have it"),
    ("UPDATE theme_codes SET code = 'Tillit' WHERE code = 'Tid'", "theme_codes", {"code": "Tillit"}, "no event"),
    ("DELETE FROM suggestions WHERE id = 3", "suggestions", {"suggestion": 3}, "does not have it"),
    ("INSERT INTO informants VALUES ('X1', 'skoleeier', NULL, '{}', 99)", "informants", {"informant": "X1"}, "no event"),
])
def test_a_row_added_or_deleted_by_hand_is_named(full, tmp_path, sql, table, ids, says):
    report = audit(tampered(full, tmp_path, sql))
    assert any(says in f.cause for f in named(report, table=table, **ids)), report.to_text()


def test_the_log_holds_hashes_of_free_text_and_the_text_lives_in_its_table(full):
    import json

    payloads = {r[0]: json.loads(r[1]) for r in full.store.conn.execute("SELECT kind, payload FROM events")}
    assert "reason" not in payloads["coding.removed"] and "reason_sha256" in payloads["coding.removed"]
    assert "text" not in payloads["journal.added"] and "text_sha256" in payloads["journal.added"]
    removed = full.store.events(kind="coding.removed")[0]
    assert removed.texts == {"reason": "dobbeltkodet"}
    assert payloads["journal.added"]["text_sha256"] == sha256_text("Jeg leser med egne erfaringer")


def test_a_logged_redaction_is_accepted_and_an_unlogged_one_is_not(full, tmp_path):
    store = full.store
    new = "[redigert]"
    old = store.conn.execute("SELECT text FROM memos WHERE id = 2").fetchone()[0]
    with store.transaction():
        store.conn.execute("UPDATE memos SET text = ? WHERE id = 2", (new,))
        store.log_event("text.redacted", {"table": "memos", "id": 2, "field": "text", "old_sha256": sha256_text(old),
                                          "new_sha256": sha256_text(new)}, "tester")
    assert audit(store).ok, audit(store).to_text()
    report = audit(tampered(full, tmp_path, "UPDATE memos SET text = 'noe annet' WHERE id = 2"))
    assert named(report, table="memos", memo=2, field="text")


def test_a_redaction_from_a_text_the_log_does_not_have_is_a_failure(full):
    store = full.store
    with store.transaction():
        store.log_event("text.redacted", {"table": "memos", "id": 2, "field": "text", "old_sha256": "0" * 64,
                                          "new_sha256": sha256_text("x")}, "tester")
    report = audit(store)
    assert any("redacts memos 2 text from a text the log does not have" in f.cause for f in report.failures)


# -- a project whose log an older rta wrote -----------------------------------------------------


def _as_older_rta(root: Path) -> None:
    """Rewrite the project's log as an rta before the replay logged it: no informants.synced,
    no turn/metadata/note/codes hashes, no theme rows, no suggestion ids, free text in the
    payloads (event_texts emptied); renumbered and re-chained, as that rta would have written it."""
    import json

    from rta.store import GENESIS_HASH, canonical_json, event_hash

    conn = sqlite3.connect(root / "rta.db")
    conn.execute("DROP TRIGGER events_append_only_update")
    conn.execute("DROP TRIGGER events_append_only_delete")
    texts = {(s, f): t for s, f, t in conn.execute("SELECT seq, field, text FROM event_texts")}
    memos = dict(conn.execute("SELECT id, text FROM memos"))
    coding_memos = dict(conn.execute("SELECT id, memo FROM codings"))
    rows = conn.execute("SELECT seq, ts, coder, phase, kind, payload FROM events ORDER BY seq").fetchall()
    conn.execute("DELETE FROM events")
    conn.execute("DELETE FROM event_texts")
    prev, seq = GENESIS_HASH, 0
    for old_seq, ts, coder, phase, kind, payload in rows:
        if kind == "informants.synced":
            continue
        p = json.loads(payload)
        newer = {"transcript.added": ("turns_sha256", "metadata_sha256", "note_sha256"),
                 "codebook.imported": ("codes_sha256", "source"), "coding.added": ("codebook_version", "memo_sha256"),
                 "suggestions.generated": ("ids", "rows_sha256", "row_digests"),
                 "memo.added": ("text_sha256",), "journal.added": ("text_sha256",)}.get(kind, ("after",))
        for key in newer:
            p.pop(key, None)
        if kind in ("memo.added", "journal.added"):
            p["text"] = memos[p["memo"]]
        if kind == "coding.added":
            p["memo"] = coding_memos[p["coding"]]
        for name in ("reason", "text", "note", "memo"):
            if (old_seq, name) in texts:
                p.pop(f"{name}_sha256")
                p[name] = texts[(old_seq, name)]
        seq += 1
        body = canonical_json(p)
        digest = event_hash(prev, seq, ts, coder, phase, kind, body)
        conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?)", (seq, ts, coder, phase, kind, body, prev, digest))
        prev = digest
    conn.commit()
    conn.close()


def test_a_project_logged_by_an_older_rta_still_audits_and_says_what_it_could_not_check(full, tmp_path):
    from rta.project import Project

    full.close()
    root = Path(shutil.copytree(full.root, tmp_path / "eldre"))
    _as_older_rta(root)
    project = Project.open(root)
    report = audit(project)
    assert report.ok, report.to_text()
    assert report.checked["turn tables (re-parsed, older log)"] == 2
    notes = " ".join(report.notes)
    assert "informants" in notes and "suggestions" in notes and "themes" in notes and "codebook version" in notes
    project.close()


def test_in_an_older_project_a_turn_edit_is_found_by_parsing_the_text_again(full, tmp_path):
    from rta.project import Project

    full.close()
    root = Path(shutil.copytree(full.root, tmp_path / "eldre"))
    _as_older_rta(root)
    conn = sqlite3.connect(root / "rta.db")
    conn.execute("UPDATE turns SET grp = 'kommune 9' WHERE transcript_id = 'mini-skoleleder' AND n = 2")
    conn.commit()
    conn.close()
    report = audit(Project.open(root))
    [failure] = report.failures
    assert failure.ids == {"table": "turns", "transcript": "mini-skoleleder", "revision": 1, "turn": 2, "field": "grp"}
    assert "the row says 'kommune 9', the log says 'kommune 2' (parsed again with the registry" in failure.cause
