"""Anchored heads and signed checkpoints (rta.checkpoint): a head kept outside the project, or a
checkpoint signed with a key kept outside it, detects a log whose tail was cut off or that was
rewritten with every hash recomputed, which the chain check alone cannot see."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import sys
import zipfile
from pathlib import Path

import pytest

from rta.checkpoint import check_heads, head_from_file
from rta.project import Project
from rta.store import GENESIS_HASH, Head, event_hash, log_head, parse_head
from test_store_fixtures import code_quote, run_cli

QUOTE = "det ble et brudd i arbeidet"
HEAD = re.compile(r"^\d+:[0-9a-f]{64}$")


@pytest.fixture
def coded(project: Project) -> Project:
    code_quote(project, "mini-skoleeier", QUOTE, "Brudd")
    code_quote(project, "mini-skoleleder", "de samme veilederne var med hele veien", "Kontinuitet")
    return project


def copy_project(project: Project, dest: Path) -> Path:
    """A copy of the whole project folder, to tamper with like someone holding the files."""
    project.close()
    shutil.copytree(project.root, dest)
    return dest


def _unlock(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TRIGGER events_append_only_update")
    conn.execute("DROP TRIGGER events_append_only_delete")


def cut_tail(root: Path, n: int) -> None:
    """Drop the append-only triggers and delete the last ``n`` log entries."""
    conn = sqlite3.connect(root / "rta.db")
    _unlock(conn)
    conn.execute("DELETE FROM events WHERE seq > (SELECT MAX(seq) FROM events) - ?", (n,))
    conn.commit()
    conn.close()


def rewrite_log(root: Path) -> None:
    """Rewrite the first entry (its time) and recompute every hash after it, as rta would have
    written them: the chain verifies again."""
    conn = sqlite3.connect(root / "rta.db")
    _unlock(conn)
    prev = GENESIS_HASH
    rows = conn.execute("SELECT seq, ts, coder, phase, kind, payload FROM events ORDER BY seq").fetchall()
    for seq, ts, coder, phase, kind, payload in rows:
        if seq == 1:
            ts = "2020-01-01T00:00:00Z"
        digest = event_hash(prev, seq, ts, coder, phase, kind, payload)
        conn.execute("UPDATE events SET ts = ?, prev_hash = ?, hash = ? WHERE seq = ?", (ts, prev, digest, seq))
        prev = digest
    conn.commit()
    conn.close()


def failures(out: str, kind: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith(f"[{kind}]")]


def event_count(root: Path) -> int:
    conn = sqlite3.connect(root / "rta.db")
    try:
        return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        conn.close()


# -- the head is printed -------------------------------------------------------------------


def test_log_head_prints_only_seq_and_hash_of_the_last_entry(coded: Project, capsys) -> None:
    head = log_head(coded.store)
    last = coded.store.events()[-1]
    assert head == Head(last.seq, last.hash)
    code, out, _ = run_cli(capsys, coded.root, "log", "--head")
    assert code == 0 and out.strip() == str(head) and HEAD.match(out.strip())


def test_audit_prints_the_head_in_text_and_json(coded: Project, capsys) -> None:
    head = log_head(coded.store)
    code, out, _ = run_cli(capsys, coded.root, "audit")
    assert code == 0 and f"log head: {head}" in out.splitlines()
    code, out, _ = run_cli(capsys, coded.root, "audit", "--format", "json")
    assert code == 0 and json.loads(out)["head"] == {"seq": head.seq, "hash": head.hash}


# -- --expect-head -------------------------------------------------------------------------


def test_expect_head_passes_on_an_intact_log_that_grew_since(coded: Project, capsys) -> None:
    head = str(log_head(coded.store))
    code_quote(coded, "mini-skoleeier", "brudd", "Kontinuitet")  # more decisions after the head
    code, out, _ = run_cli(capsys, coded.root, "audit", "--expect-head", head)
    assert code == 0, out
    assert "1 expected heads" in out and not failures(out, "head")


def test_a_cut_off_tail_is_detected_by_the_expected_head(coded: Project, tmp_path: Path, capsys) -> None:
    head = log_head(coded.store)
    root = copy_project(coded, tmp_path / "copy")
    cut_tail(root, 2)
    code, out, _ = run_cli(capsys, root, "audit", "--expect-head", str(head))
    assert code == 1
    [line] = failures(out, "head")
    assert f"the log now ends at entry {head.seq - 2}" in line and f"{head.seq - 1}-{head.seq} were cut off" in line
    assert not failures(out, "chain")  # a clean cut: the chain alone cannot see it


def test_a_log_rewritten_with_recomputed_hashes_is_detected_by_the_expected_head(coded: Project, tmp_path: Path,
                                                                                 capsys) -> None:
    head = log_head(coded.store)
    root = copy_project(coded, tmp_path / "copy")
    rewrite_log(root)
    code, out, _ = run_cli(capsys, root, "audit")
    assert not failures(out, "chain")  # the chain verifies again: only an anchor can tell
    code, out, _ = run_cli(capsys, root, "audit", "--expect-head", str(head))
    assert code == 1
    [line] = failures(out, "head")
    assert f"entry {head.seq} now has hash" in line and f"not {head.hash[:12]}" in line and "rewritten" in line


@pytest.mark.parametrize("chain_verified", [False, True])
def test_a_rewrite_is_found_whether_or_not_the_chain_was_just_walked(coded: Project, tmp_path: Path,
                                                                     chain_verified: bool) -> None:
    from rta.store import Store

    head = log_head(coded.store)
    root = copy_project(coded, tmp_path / "copy")
    rewrite_log(root)
    store = Store(root / "rta.db")
    [failure] = check_heads(store, [(head, "test")], chain_verified=chain_verified).failures
    assert f"entry {head.seq} now has hash" in failure.cause
    assert check_heads(store, [(log_head(store), "test")], chain_verified=chain_verified).ok
    store.close()


def test_an_edited_entry_before_the_head_breaks_the_chain_to_it(coded: Project, tmp_path: Path) -> None:
    head = log_head(coded.store)
    root = copy_project(coded, tmp_path / "copy")
    conn = sqlite3.connect(root / "rta.db")
    _unlock(conn)
    conn.execute("UPDATE events SET coder = 'someone' WHERE seq = 2")  # no hash recomputed
    conn.commit()
    conn.close()
    from rta.store import Store

    store = Store(root / "rta.db")
    report = check_heads(store, [(head, "test")])
    store.close()
    [failure] = report.failures
    assert failure.kind == "head" and "broken at entry 2" in failure.cause


def test_a_deleted_middle_entry_is_named(coded: Project, tmp_path: Path) -> None:
    head = log_head(coded.store)
    root = copy_project(coded, tmp_path / "copy")
    conn = sqlite3.connect(root / "rta.db")
    _unlock(conn)
    conn.execute("DELETE FROM events WHERE seq = 3")
    conn.commit()
    conn.close()
    from rta.store import Store

    store = Store(root / "rta.db")
    [failure] = check_heads(store, [(head, "test"), ]).failures
    store.close()
    assert "broken at entry 3: entry 3 is missing" in failure.cause


# -- heads in reports and exports ----------------------------------------------------------


def _report(project: Project, out: Path, capsys) -> tuple[Path, Path]:
    code, _, err = run_cli(capsys, project.root, "report", "--format", "html,md", "-o", str(out))
    assert code == 0, err
    return out / "report.html", out / "report.md"


def test_reports_carry_the_head_they_were_built_at(coded: Project, tmp_path: Path, capsys) -> None:
    head = log_head(coded.store)
    html, md = _report(coded, tmp_path / "out", capsys)
    html_text, md_text = html.read_text(encoding="utf-8"), md.read_text(encoding="utf-8")
    assert f'<meta name="rta-log-head" content="{head}">' in html_text
    assert f"<code>{head}</code>" in html_text  # and readable in the audit appendix
    assert md_text.splitlines()[0] == f"<!-- rta-log-head: {head} -->"
    assert f"`{head}`" in md_text
    assert head_from_file(html) == head == head_from_file(md)
    built = coded.store.events(kind="report.built")[-1]
    assert built.payload["log_head"] == str(head) and built.seq == head.seq + 1


@pytest.mark.parametrize("which", ["html", "md", "docx"])
def test_since_report_passes_then_detects_a_rewrite(coded: Project, tmp_path: Path, capsys, which: str) -> None:
    html, md = _report(coded, tmp_path / "out", capsys)
    report = {"html": html, "md": md}.get(which)
    if which == "docx":
        head = log_head(coded.store)
        code, _, err = run_cli(capsys, coded.root, "report", "--format", "docx", "-o", str(tmp_path / "word"))
        assert code == 0, err
        report = tmp_path / "word" / "report.docx"
        assert head_from_file(report) == head
    code, out, _ = run_cli(capsys, coded.root, "audit", "--since-report", str(report))
    assert code == 0, out
    root = copy_project(coded, tmp_path / "copy")
    rewrite_log(root)
    code, out, _ = run_cli(capsys, root, "audit", "--since-report", str(report))
    assert code == 1
    [line] = failures(out, "head")
    assert f"from {report}" in line and "rewritten" in line


def test_exports_carry_the_head_without_changing_their_rows(coded: Project, tmp_path: Path, capsys) -> None:
    head = log_head(coded.store)
    for fmt in ("csv", "jsonl", "xlsx"):
        out = tmp_path / f"quotes.{fmt}"
        code, _, err = run_cli(capsys, coded.root, "export", "quotes", "--format", fmt, "-o", str(out))
        assert code == 0, err
        assert head_from_file(out) == head
    csv_lines = (tmp_path / "quotes.csv").read_text(encoding="utf-8-sig").splitlines()
    assert csv_lines[0].startswith("coding,transcript,") and len(csv_lines) == 3  # header and two rows only
    assert all("quote" in json.loads(line) for line in (tmp_path / "quotes.jsonl").read_text(encoding="utf-8").splitlines())
    sidecar = (tmp_path / "quotes.csv.head").read_text(encoding="utf-8")
    assert sidecar.startswith(f"rta-log-head: {head}\n") and "file: quotes.csv" in sidecar
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "quotes.xlsx")
    assert wb.sheetnames == ["Sitater", "Revisjon"]
    assert [wb["Revisjon"]["A1"].value, wb["Revisjon"]["B1"].value] == ["rta-log-head", str(head)]
    assert wb["Sitater"].max_row == 3


def test_qdpx_export_names_the_head_in_its_description(coded: Project, tmp_path: Path, capsys) -> None:
    head = log_head(coded.store)
    out = tmp_path / "studie.qdpx"
    code, _, err = run_cli(capsys, coded.root, "export", "qdpx", str(out))
    assert code == 0, err
    with zipfile.ZipFile(out) as zf:
        qde = zf.read("project.qde").decode("utf-8")
    assert f"<Description>rta-log-head: {head}" in qde
    code, out_text, _ = run_cli(capsys, coded.root, "audit", "--since-report", str(out))
    assert code == 0, out_text


def test_since_report_on_an_export_detects_a_cut_tail(coded: Project, tmp_path: Path, capsys) -> None:
    out = tmp_path / "quotes.csv"
    assert run_cli(capsys, coded.root, "export", "quotes", "-o", str(out))[0] == 0
    root = copy_project(coded, tmp_path / "copy")
    cut_tail(root, 1)
    code, text, _ = run_cli(capsys, root, "audit", "--since-report", str(out))
    assert code == 1 and "cut off" in failures(text, "head")[0]


# -- signed checkpoints --------------------------------------------------------------------


@pytest.fixture
def keys(tmp_path: Path, capsys) -> tuple[Path, Path]:
    folder = tmp_path / "keys"
    folder.mkdir()
    code, out, err = run_cli(capsys, tmp_path, "checkpoint", "keygen", "--out", str(folder / "studie.pem"))
    assert code == 0, err
    return folder / "studie.pem", folder / "studie.pem.pub"


def test_keygen_writes_a_private_key_only_its_owner_can_read_and_a_public_key(keys) -> None:
    private, public = keys
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    if sys.platform != "win32":
        assert os.stat(private).st_mode & 0o777 == 0o600


def test_a_checkpoint_is_signed_logged_and_verified(coded: Project, keys, capsys) -> None:
    private, public = keys
    head = log_head(coded.store)
    code, out, err = run_cli(capsys, coded.root, "checkpoint", "--key", str(private))
    assert code == 0, err
    assert f"signed log head {head}" in out
    saved = json.loads((coded.root / "checkpoints" / f"checkpoint-{head.seq:06d}.json").read_text(encoding="utf-8"))
    assert (saved["seq"], saved["hash"]) == (head.seq, head.hash)
    logged = coded.store.events(kind="checkpoint.signed")[-1]
    assert logged.seq == head.seq + 1 and logged.payload["signature"] == saved["signature"]
    code, out, _ = run_cli(capsys, coded.root, "audit", "--verify-checkpoints", "--pubkey", str(public))
    assert code == 0, out
    assert "1 signed checkpoints" in out


def test_a_project_that_fails_the_audit_is_not_signed(coded: Project, keys, tmp_path: Path, capsys) -> None:
    root = copy_project(coded, tmp_path / "copy")
    conn = sqlite3.connect(root / "rta.db")
    _unlock(conn)
    conn.execute("UPDATE events SET coder = 'someone' WHERE seq = 2")  # an edit the chain shows
    conn.commit()
    conn.close()
    before = event_count(root)
    code, _, err = run_cli(capsys, root, "checkpoint", "--key", str(keys[0]))
    assert code == 1 and "does not pass the audit" in err and "no checkpoint was signed" in err
    assert event_count(root) == before and not (root / "checkpoints").exists()


def test_a_rewritten_log_fails_checkpoint_verification(coded: Project, keys, tmp_path: Path, capsys) -> None:
    private, public = keys
    assert run_cli(capsys, coded.root, "checkpoint", "--key", str(private))[0] == 0
    root = copy_project(coded, tmp_path / "copy")
    rewrite_log(root)
    code, out, _ = run_cli(capsys, root, "audit", "--verify-checkpoints", "--pubkey", str(public))
    assert code == 1
    lines = failures(out, "checkpoint")
    assert lines and all("now has hash" in line and "rewritten" in line for line in lines)
    assert not failures(out, "chain")


def test_a_checkpoint_deleted_from_the_folder_is_still_found_in_the_log(coded: Project, keys, tmp_path: Path,
                                                                        capsys) -> None:
    private, public = keys
    assert run_cli(capsys, coded.root, "checkpoint", "--key", str(private))[0] == 0
    root = copy_project(coded, tmp_path / "copy")
    shutil.rmtree(root / "checkpoints")
    rewrite_log(root)
    code, out, _ = run_cli(capsys, root, "audit", "--pubkey", str(public))  # --pubkey implies the check
    assert code == 1 and any("log entry" in line for line in failures(out, "checkpoint"))


def test_a_wrong_public_key_fails(coded: Project, keys, tmp_path: Path, capsys) -> None:
    private, _ = keys
    other = tmp_path / "keys" / "other.pem"
    assert run_cli(capsys, tmp_path, "checkpoint", "keygen", "--out", str(other))[0] == 0
    assert run_cli(capsys, coded.root, "checkpoint", "--key", str(private))[0] == 0
    code, out, _ = run_cli(capsys, coded.root, "audit", "--verify-checkpoints", "--pubkey", f"{other}.pub")
    assert code == 1
    lines = failures(out, "checkpoint")
    assert lines and all("signature does not verify" in line and "it names key" in line for line in lines)


def test_a_forged_checkpoint_file_fails(coded: Project, keys, capsys) -> None:
    private, public = keys
    assert run_cli(capsys, coded.root, "checkpoint", "--key", str(private))[0] == 0
    [path] = (coded.root / "checkpoints").glob("*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["hash"] = "f" * 64  # claims another head, keeps the signature
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run_cli(capsys, coded.root, "audit", "--verify-checkpoints", "--pubkey", str(public))
    assert code == 1
    assert any("signature does not verify" in line and "checkpoints/" in line for line in failures(out, "checkpoint"))


def test_verifying_a_project_without_checkpoints_fails(coded: Project, keys, capsys) -> None:
    code, out, _ = run_cli(capsys, coded.root, "audit", "--verify-checkpoints", "--pubkey", str(keys[1]))
    assert code == 1 and "no signed checkpoint" in out


# -- bad input: exit 2, the file or option named, nothing changed --------------------------


@pytest.mark.parametrize("value", ["12", "x:y", "3:abc", f"0:{'a' * 64}", f"-1:{'a' * 64}", f"5:{'g' * 64}"])
def test_a_malformed_expected_head_exits_2(coded: Project, capsys, value: str) -> None:
    code, out, err = run_cli(capsys, coded.root, "audit", "--expect-head", value)
    assert code == 2 and "--expect-head" in err and "SEQ:HASH" in err and "Traceback" not in err
    with pytest.raises(Exception):
        parse_head(value)


def test_since_report_bad_files_exit_2_naming_the_file(coded: Project, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere.html"
    code, _, err = run_cli(capsys, coded.root, "audit", "--since-report", str(missing))
    assert code == 2 and str(missing) in err and "not found" in err
    plain = tmp_path / "notes.md"
    plain.write_text("# Notater\n\nIngen logg her.\n", encoding="utf-8")
    code, _, err = run_cli(capsys, coded.root, "audit", "--since-report", str(plain))
    assert code == 2 and str(plain) in err and "no rta log head" in err
    bad = tmp_path / "bad.md"
    bad.write_text("# R\n\n<!-- rta-log-head: 7:nothex -->\n", encoding="utf-8")
    code, _, err = run_cli(capsys, coded.root, "audit", "--since-report", str(bad))
    assert code == 2 and f"{bad}:3" in err
    lone = tmp_path / "quotes.csv"
    lone.write_text("coding\n1\n", encoding="utf-8")
    code, _, err = run_cli(capsys, coded.root, "audit", "--since-report", str(lone))
    assert code == 2 and "quotes.csv.head" in err
    for name, data in [("fake.docx", b"PK\x03\x04 not really a zip"), ("empty.docx", b"")]:
        word = tmp_path / name
        word.write_bytes(data)
        code, _, err = run_cli(capsys, coded.root, "audit", "--since-report", str(word))
        assert code == 2 and str(word) in err and "Word report" in err and "Traceback" not in err
    import docx

    other = tmp_path / "letter.docx"
    d = docx.Document()
    d.add_paragraph("Et brev som ikke er en rapport.")
    d.save(str(other))
    code, _, err = run_cli(capsys, coded.root, "audit", "--since-report", str(other))
    assert code == 2 and str(other) in err and "Traceback" not in err


def test_checkpoint_key_problems_exit_2_naming_the_file_and_change_nothing(coded: Project, keys, tmp_path: Path,
                                                                          capsys) -> None:
    private, public = keys
    before = event_count(coded.root)
    missing = tmp_path / "keys" / "missing.pem"
    code, _, err = run_cli(capsys, coded.root, "checkpoint", "--key", str(missing))
    assert code == 2 and str(missing) in err and "not found" in err
    inside = coded.root / "studie.pem"
    shutil.copyfile(private, inside)
    code, _, err = run_cli(capsys, coded.root, "checkpoint", "--key", str(inside))
    assert code == 2 and str(inside) in err and "outside the project folder" in err
    code, _, err = run_cli(capsys, coded.root, "checkpoint", "--key", str(public))  # the public half
    assert code == 2 and str(public) in err and "not a private key" in err
    code, _, err = run_cli(capsys, coded.root, "checkpoint")
    assert code == 2 and "--key" in err
    assert event_count(coded.root) == before and not (coded.root / "checkpoints").exists()


def test_keygen_refuses_the_project_folder_and_an_existing_key(coded: Project, keys, capsys) -> None:
    inside = coded.root / "keys" / "k.pem"
    inside.parent.mkdir()
    code, _, err = run_cli(capsys, coded.root, "checkpoint", "keygen", "--out", str(inside))
    assert code == 2 and str(inside) in err and "outside the project folder" in err
    assert not inside.exists() and not Path(f"{inside}.pub").exists()
    private, _ = keys
    before = private.read_bytes()
    code, _, err = run_cli(capsys, coded.root, "checkpoint", "keygen", "--out", str(private))
    assert code == 2 and str(private) in err and "never overwrites" in err
    assert private.read_bytes() == before


def test_pubkey_problems_exit_2_naming_the_file(coded: Project, keys, tmp_path: Path, capsys) -> None:
    private, _ = keys
    missing = tmp_path / "keys" / "missing.pub"
    code, _, err = run_cli(capsys, coded.root, "audit", "--verify-checkpoints", "--pubkey", str(missing))
    assert code == 2 and str(missing) in err and "not found" in err
    code, _, err = run_cli(capsys, coded.root, "audit", "--verify-checkpoints", "--pubkey", str(private))
    assert code == 2 and str(private) in err and "not a public key" in err
    code, _, err = run_cli(capsys, coded.root, "audit", "--verify-checkpoints")
    assert code == 2 and "--pubkey" in err
