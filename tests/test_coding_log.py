"""``rta log``: the audit log as a table or JSON lines, filtered by time, coder and kind."""

from __future__ import annotations

import json

from rta.store import event_hash, canonical_json
from test_store_fixtures import code_quote, run_cli


def test_log_jsonl_carries_the_hash_chain_and_filters_by_coder_and_kind(project, capsys):
    code_quote(project, "mini-skoleeier", "det ble et brudd i arbeidet", "Brudd", coder="kari")
    run_cli(capsys, project.root, "uncode", "1", "--reason", "feil", "--coder", "ola")
    code, out, err = run_cli(capsys, project.root, "log", "--format", "jsonl")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    for prev, e in zip(events, events[1:]):
        assert e["prev_hash"] == prev["hash"]
        assert e["hash"] == event_hash(e["prev_hash"], e["seq"], e["ts"], e["coder"], e["phase"], e["kind"],
                                       canonical_json(e["payload"]))
    code, out, _ = run_cli(capsys, project.root, "log", "--format", "jsonl", "--coder", "ola")
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["coding.removed"]
    code, out, _ = run_cli(capsys, project.root, "log", "--kind", "coding.added")
    assert len(out.splitlines()) == 1 and "kari" in out and "code=Brudd" in out


def test_log_since_the_future_shows_nothing_and_a_bad_format_is_refused(project, capsys):
    code, out, _ = run_cli(capsys, project.root, "log", "--since", "2999-01-01")
    assert code == 0 and out == ""
    code, _, err = run_cli(capsys, project.root, "log", "--format", "xml")
    assert code == 2 and "unknown format 'xml'" in err


def test_memos_and_journal_list_in_table_and_json(project, capsys):
    run_cli(capsys, project.root, "journal", "add", "Første inntrykk: mye om tid", "--coder", "kari")
    run_cli(capsys, project.root, "memo", "add", "--on", "transcript:mini-skoleleder", "Kort og konkret")
    code, out, _ = run_cli(capsys, project.root, "journal", "list")
    assert code == 0 and "Første inntrykk" in out and "(kari)" in out and "Kort og konkret" not in out
    code, out, _ = run_cli(capsys, project.root, "memos", "--format", "json")
    assert [(m["target_kind"], m["target"]) for m in json.loads(out)] == [("journal", None), ("transcript", "mini-skoleleder")]
    code, out, _ = run_cli(capsys, project.root, "memos")
    assert "transcript:mini-skoleleder" in out


def test_an_empty_memo_is_refused(project, capsys):
    code, _, err = run_cli(capsys, project.root, "journal", "add", "   ")
    assert code == 2 and "memo is empty" in err
