"""Personal data that can be removed: redaction as a logged decision, memos in the anonymisation
check and apply, purging the original text of old revisions, and owner-only file modes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from rta.anonymise import check_memos, check_project
from rta.pseudonyms import apply_to_project, load_key
from rta.audit import audit
from rta.errors import RtaError
from rta.memos import add_memo, all_memos
from rta.project import Project
from rta.purge import OffsetMap, pseudonymised_form, purge_project
from rta.redact import parse_memo_ref, redact_text
from test_store_fixtures import code_quote, run_cli

DATA = Path(__file__).parent / "data" / "anonymise"
NAME = "Solheim"  # in both anon-* transcripts: 'Kari Solheim'

pytestmark = pytest.mark.skipif(os.name == "nt", reason="Unix file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Run a test under a chosen umask, restoring the process's afterwards."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.fixture
def anon(tmp_path: Path) -> Project:
    project = Project.init(tmp_path / "studie", name="Personvern", coder="tester")
    project.add_files(sorted(DATA.glob("anon-*.txt")), coder="tester")
    yield project
    project.close()


def events(project: Project, kind: str) -> list[dict]:
    return [e.details() for e in project.store.events(kind=kind)]  # free text beside its hash


def raw_payloads(project: Project, kind: str) -> list[dict]:
    """Payloads as stored in the log (without the free text the store puts back)."""
    return [json.loads(r[0]) for r in project.store.conn.execute("SELECT payload FROM events WHERE kind = ?", (kind,))]


# -- file modes ------------------------------------------------------------------------------
def test_a_new_project_folder_is_0700_and_its_files_0600(tmp_path: Path, umask) -> None:
    umask(0o022)  # a usual umask: 0755 / 0644 would be the defaults
    project = Project.init(tmp_path / "p", name="P", coder="tester")
    root = project.root
    assert mode(root) == 0o700
    for name in ("rta.db", "rta.toml", "informants.yaml", "codebook.yaml"):
        assert mode(root / name) == 0o600, name
    project.add_files(sorted(DATA.glob("anon-*.txt")), coder="tester")  # the connection stays open: -wal exists
    for suffix in ("-wal", "-shm"):
        side = root / f"rta.db{suffix}"
        assert side.exists() and mode(side) == 0o600, suffix
    project.close()


def test_files_rta_writes_later_are_0600_too(anon: Project, tmp_path: Path, umask, capsys) -> None:
    umask(0o022)
    code, _, err = run_cli(capsys, anon.root, "anonymise", "apply", "--key", str(tmp_path / "key.json"),
                           "--pipeline", "none")
    assert code == 0, err
    assert mode(tmp_path / "key.json") == 0o600
    code, _, err = run_cli(capsys, anon.root, "memos", "--format", "md", "-o", str(tmp_path / "memos.md"))
    assert code == 0, err
    assert mode(tmp_path / "memos.md") == 0o600


def test_the_umask_narrows_the_modes_further(tmp_path: Path, umask) -> None:
    umask(0o077)
    project = Project.init(tmp_path / "p", name="P", coder="tester", shared_group=True)
    assert mode(project.root) & 0o777 == 0o700  # the shared opt-in never widens what the umask allows
    assert mode(project.root / "rta.db") == 0o600
    project.close()


def test_shared_group_is_an_opt_in_that_keeps_group_read_and_write(tmp_path: Path, umask, capsys) -> None:
    umask(0o002)
    code, _, err = run_cli(capsys, tmp_path, "init", str(tmp_path / "team"), "--shared-group")
    assert code == 0, err
    root = tmp_path / "team"
    assert mode(root) == 0o2770
    assert mode(root / "rta.db") == 0o660 and mode(root / "rta.toml") == 0o660
    # files written later in the shared folder are group-readable as well
    from rta.fsutil import atomic_write_text

    atomic_write_text(root / "rapport.md", "x")
    assert mode(root / "rapport.md") == 0o660
    atomic_write_text(tmp_path / "private.md", "x")
    assert mode(tmp_path / "private.md") == 0o600


def test_init_in_an_existing_open_folder_warns_and_keeps_its_mode(tmp_path: Path, umask, capsys) -> None:
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(0o755)
    code, _, err = run_cli(capsys, tmp_path, "init", str(folder))
    assert code == 0
    assert mode(folder) == 0o755
    assert "other users can read" in err and "chmod 700" in err


# -- redaction -------------------------------------------------------------------------------
def test_redacting_a_journal_entry_replaces_its_text_and_logs_only_hashes(anon: Project) -> None:
    store = anon.store
    with store.transaction():
        memo = add_memo(store, "journal", None, "Møtte Kari Solheim på kontoret", "tester")
    done = redact_text(store, "memos", "text", memo.id, "Møtte [PERSON 1] på kontoret", "tester")
    assert store.conn.execute("SELECT text FROM memos WHERE id = ?", (memo.id,)).fetchone()[0] == \
        "Møtte [PERSON 1] på kontoret"
    (payload,) = raw_payloads(anon, "text.redacted")
    from rta.fsutil import sha256_text

    assert payload["table"] == "memos" and payload["id"] == memo.id and payload["field"] == "text"
    assert payload["old_sha256"] == sha256_text("Møtte Kari Solheim på kontoret")
    assert payload["new_sha256"] == sha256_text("Møtte [PERSON 1] på kontoret")
    assert done.reason == "personal-data"
    log = " ".join(r[0] for r in store.conn.execute("SELECT payload FROM events"))
    assert NAME not in log
    texts = " ".join(r[0] for r in store.conn.execute("SELECT text FROM event_texts"))
    assert NAME not in texts
    report = audit(store)
    assert report.ok, report.to_text()


def test_redacting_a_coding_memo_leaves_no_copy_of_the_old_text(anon: Project) -> None:
    cid = code_quote(anon, "anon-skoleleder", "Det var nok Kari Solheim", "Tid", memo="Kari Solheim igjen")
    store = anon.store
    redact_text(store, "codings", "memo", cid, "[PERSON 1] igjen", "tester", "consent-withdrawn")
    assert store.conn.execute("SELECT memo FROM codings WHERE id = ?", (cid,)).fetchone()[0] == "[PERSON 1] igjen"
    assert not [r for r in store.conn.execute("SELECT text FROM event_texts") if "igjen" in r[0]]
    assert not [r for r in store.conn.execute("SELECT payload FROM events") if "igjen" in r[0]]
    (payload,) = raw_payloads(anon, "text.redacted")
    assert (payload["table"], payload["id"], payload["field"]) == ("codings", cid, "memo")
    assert [m.text for m in all_memos(store) if m.source == "coding"] == ["[PERSON 1] igjen"]
    report = audit(store)
    assert report.ok, report.to_text()


def test_a_reason_must_be_a_short_code_not_free_text(anon: Project) -> None:
    store = anon.store
    with store.transaction():
        memo = add_memo(store, "journal", None, "Kari Solheim", "tester")
    before = store.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    with pytest.raises(RtaError, match="short code"):
        redact_text(store, "memos", "text", memo.id, "[PERSON 1]", "tester", reason="Kari asked us to")
    assert store.conn.execute("SELECT count(*) FROM events").fetchone()[0] == before


def test_memo_refs_name_the_table_and_field() -> None:
    assert parse_memo_ref("12") == ("memos", "text", 12)
    assert parse_memo_ref("journal:3") == ("memos", "text", 3)
    assert parse_memo_ref("coding:7") == ("codings", "memo", 7)
    assert parse_memo_ref("review:40") == ("event_texts", "text", 40)
    with pytest.raises(RtaError, match="cannot read"):
        parse_memo_ref("theme:Tid")


def test_memo_redact_cli_replaces_the_memo_and_says_which_event(anon: Project, capsys) -> None:
    with anon.store.transaction():
        memo = add_memo(anon.store, "journal", None, "Ringte Kari Solheim", "tester")
    code, out, err = run_cli(capsys, anon.root, "memo", "redact", f"memo:{memo.id}", "--text", "Ringte [PERSON 1]")
    assert code == 0, err
    assert "logged as event" in out
    code, out, _ = run_cli(capsys, anon.root, "memos")
    assert "Ringte [PERSON 1]" in out and NAME not in out
    code, _, err = run_cli(capsys, anon.root, "memo", "redact", "memo:999", "--text", "x")
    assert code == 2 and "no memo or journal entry with id 999" in err


# -- the check and apply read memos ------------------------------------------------------------
def test_check_flags_a_name_in_a_memo_with_its_memo_id(anon: Project, capsys) -> None:
    with anon.store.transaction():
        memo = add_memo(anon.store, "journal", None, "Snakket med Ola Nordmann om Hamar i dag.", "tester")
    cid = code_quote(anon, "anon-skoleleder", "Det var nok Kari Solheim", "Tid", memo="Kari Solheim igjen")
    checks = {c.ref: c for c in check_memos(anon, None, check_project(anon, None))}
    assert {f.text for f in checks[f"memo:{memo.id}"].flags} >= {"Ola Nordmann", "Hamar"}
    assert "Kari Solheim" in {f.text for f in checks[f"coding:{cid}"].flags}  # the transcripts' name, repeated
    code, out, _ = run_cli(capsys, anon.root, "anonymise", "check", "--pipeline", "none", "--format", "json")
    assert code == 1
    data = json.loads(out)
    flagged = {(f["memo"], f["text"]) for f in data["memo_flags"]}
    assert (f"memo:{memo.id}", "Ola Nordmann") in flagged and (f"coding:{cid}", "Kari Solheim") in flagged
    about = {f["memo"]: f["about"] for f in data["memo_flags"]}
    assert about[f"memo:{memo.id}"] == "journal" and about[f"coding:{cid}"].startswith(f"coding:{cid} Tid")
    code, out, _ = run_cli(capsys, anon.root, "anonymise", "check", "--pipeline", "none", "--no-memos", "--format",
                           "json")
    assert "memo_flags" not in json.loads(out)


def test_apply_pseudonymises_memos_with_the_same_placeholders(anon: Project, tmp_path: Path, capsys) -> None:
    with anon.store.transaction():
        memo = add_memo(anon.store, "journal", None, "Kari Solheim sa mye om Hamar.", "tester")
    cid = code_quote(anon, "anon-skoleleder", "Det var nok Kari Solheim", "Tid", memo="Kari Solheim igjen")
    code, out, err = run_cli(capsys, anon.root, "anonymise", "apply", "--key", str(tmp_path / "key.json"),
                             "--pipeline", "none")
    assert code == 0, err
    assert "memos: 2 pseudonymised" in out
    key = load_key(tmp_path / "key.json")
    person = key.placeholder_for("Kari Solheim")
    texts = {m.source + str(m.id): m.text for m in all_memos(anon.store)}
    assert texts[f"memo{memo.id}"] == f"{person} sa mye om {key.placeholder_for('Hamar')}."
    assert texts[f"coding{cid}"] == f"{person} igjen"
    reasons = [e["reason"] for e in events(anon, "text.redacted")]
    assert reasons and set(reasons) == {"anonymise-apply"}


def test_apply_with_no_memos_leaves_them_alone(anon: Project, tmp_path: Path, capsys) -> None:
    with anon.store.transaction():
        add_memo(anon.store, "journal", None, "Kari Solheim sa mye.", "tester")
    code, out, err = run_cli(capsys, anon.root, "anonymise", "apply", "--key", str(tmp_path / "key.json"),
                             "--pipeline", "none", "--no-memos")
    assert code == 0, err
    assert "--no-memos" in out
    assert [m.text for m in all_memos(anon.store)] == ["Kari Solheim sa mye."]
    assert not events(anon, "text.redacted")


# -- purge -----------------------------------------------------------------------------------
def test_offsets_inside_a_replaced_name_keep_the_whole_placeholder() -> None:
    text = "Vi ringte Kari Solheim i går."
    from rta.pseudonyms import Key, KeyEntry

    key = Key(entries=[KeyEntry("Kari Solheim", "[PERSON 1]", "PER")])
    new, edits = pseudonymised_form(text, [(0, len(text))], key)
    assert new == "Vi ringte [PERSON 1] i går."
    move = OffsetMap(edits)
    assert move(0) == 0 and move(10) == 10  # before and at the name
    assert move(len(text)) == len(new)
    assert move(15) == 10 and move(15, is_end=True) == 20  # inside 'Kari Solheim'
    assert new[move(text.index("i går")):] == "i går."


def test_purge_is_refused_before_any_apply(anon: Project, tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text('{"format": "rta-anonymise-key", "version": 1, "style": "default", "entries": []}')
    with pytest.raises(RtaError, match="never pseudonymised"):
        purge_project(anon, key)


def test_purge_is_refused_with_a_key_that_does_not_match(anon: Project, tmp_path: Path, capsys) -> None:
    apply_to_project(anon, tmp_path / "key.json", coder="tester")
    wrong = tmp_path / "wrong.json"
    data = json.loads((tmp_path / "key.json").read_text())
    data["entries"] = [e for e in data["entries"] if e["kind"] != "PER"]  # an older copy
    wrong.write_text(json.dumps(data))
    before = anon.store.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    code, _, err = run_cli(capsys, anon.root, "anonymise", "purge", "--key", str(wrong))
    assert code == 2 and "does not match this project" in err
    assert anon.store.conn.execute("SELECT count(*) FROM events").fetchone()[0] == before
    assert NAME in anon.store.transcript_text("anon-skoleleder", 1)


def test_purge_removes_the_original_names_from_every_revision_and_the_file(anon: Project, tmp_path: Path,
                                                                           capsys) -> None:
    store = anon.store
    kept = code_quote(anon, "anon-skoleleder", "Tilliten kom etter hvert", "Tid")  # moved by apply
    orphan = code_quote(anon, "anon-skoleleder", "Det var nok Kari Solheim, hen kjente alle", "Tid")
    gone = code_quote(anon, "anon-skoleeier", "Men det var egentlig Kari Solheim", "Tid")
    with store.transaction():
        from rta.coding import uncode

        uncode(store, gone, "tester", "feil kode")  # history on revision 1 that apply does not move
    apply_to_project(anon, tmp_path / "key.json", coder="tester")
    assert NAME in store.transcript_text("anon-skoleeier", 1)
    code, out, err = run_cli(capsys, anon.root, "anonymise", "purge", "--key", str(tmp_path / "key.json"))
    assert code == 0, err
    assert "2 old revision(s) purged" in out
    anon.close()
    for name in ("rta.db", "rta.db-wal"):
        path = anon.root / name
        if path.exists():
            assert NAME.encode() not in path.read_bytes(), name
    conn = sqlite3.connect(anon.root / "rta.db")
    rev1 = conn.execute("SELECT text FROM transcript_revisions WHERE transcript_id='anon-skoleeier' AND revision=1"
                        ).fetchone()[0]
    assert "[PERSON 1]" in rev1
    start, end = conn.execute("SELECT start, end FROM codings WHERE id = ?", (gone,)).fetchone()
    assert rev1[start:end] == "Men det var egentlig [PERSON 1]"
    assert conn.execute("SELECT revision FROM codings WHERE id = ?", (kept,)).fetchone()[0] == 2
    status, rev, start, end = conn.execute("SELECT status, revision, start, end FROM codings WHERE id = ?",
                                           (orphan,)).fetchone()
    orphan_text = conn.execute("SELECT text FROM transcript_revisions WHERE transcript_id='anon-skoleleder' "
                               "AND revision=?", (rev,)).fetchone()[0]
    assert (status, rev) == ("orphaned", 1)  # still for a person to resolve, now without the name
    assert orphan_text[start:end] == "Det var nok [PERSON 1], hen kjente alle"
    conn.close()
    payloads = [p for p in raw_payloads(anon, "text.redacted") if p["table"] == "transcript_revisions"]
    assert sorted(tuple(p["id"]) for p in payloads) == [("anon-skoleeier", 1), ("anon-skoleleder", 1)]
    moved = {c["coding"] for p in payloads for c in p["codings"]}
    assert moved == {gone, orphan}
    assert all(len(p["turns_sha256"]) == 64 for p in payloads)
    report = audit(anon.store)
    assert report.ok, report.to_text()


def test_after_purge_the_original_file_is_still_refused(anon: Project, tmp_path: Path) -> None:
    apply_to_project(anon, tmp_path / "key.json", coder="tester")
    purge_project(anon, tmp_path / "key.json", "tester")
    with pytest.raises(RtaError, match="before pseudonymisation"):
        anon.add_files([DATA / "anon-skoleeier.txt"], coder="tester")


def test_purge_twice_changes_nothing_the_second_time(anon: Project, tmp_path: Path) -> None:
    apply_to_project(anon, tmp_path / "key.json", coder="tester")
    first = purge_project(anon, tmp_path / "key.json", "tester")
    second = purge_project(anon, tmp_path / "key.json", "tester")
    assert len(first.revisions) == 2 and not second.revisions and second.unchanged == 2


def test_purge_moves_suggestions_and_review_memos_and_the_audit_still_passes(anon: Project, tmp_path: Path) -> None:
    from rta import review
    from rta.nlp import load_pipeline
    from rta.suggest import SuggestOptions, run_suggest

    load_pipeline("embedded")
    run_suggest(anon, SuggestOptions())
    store = anon.store
    rows = {r["code"] + r["transcript_id"]: r["id"] for r in store.conn.execute("SELECT id, code, transcript_id "
                                                                                "FROM suggestions")}
    widened = rows["Støtteanon-skoleeier"]
    with store.transaction():
        review.change_span(store, widened, "tester", "widen")  # now holds 'Kari Solheim'
        review.reject(store, rows["Kapasitetsbygginganon-skoleeier"], "tester", "for bredt")
        review.add_memo(store, rows["Tillitanon-skoleleder"], "det sa Kari Solheim", "tester")
    text = store.transcript_text("anon-skoleeier")
    sug = store.conn.execute("SELECT start, end FROM suggestions WHERE id = ?", (widened,)).fetchone()
    assert NAME in text[sug["start"]:sug["end"]]
    apply_to_project(anon, tmp_path / "key.json", coder="tester")
    assert audit(store).ok
    result = purge_project(anon, tmp_path / "key.json", "tester")
    assert sum(r.suggestions for r in result.revisions) >= 2  # the retired one and the rejected one
    row = store.conn.execute("SELECT revision, start, end, status FROM suggestions WHERE id = ?", (widened,)).fetchone()
    assert row["status"] == "retired" and row["revision"] == 1
    assert "[PERSON 1]" in store.transcript_text("anon-skoleeier", 1)[row["start"]:row["end"]]
    assert [m.text for m in all_memos(store) if m.source == "review"] == ["det sa [PERSON 1]"]
    report = audit(store)
    assert report.ok, report.to_text()
    anon.close()
    assert NAME.encode() not in (anon.root / "rta.db").read_bytes()
