"""Tampering: every kind of hand edit of ``rta.db`` is caught by ``rta audit``, named.

One real project is built once per session through the CLI (transcripts from the bundled
sample, codings by --quote/--turn/--lines with memos, an uncode and a recode, suggestions
accepted, rejected and skipped with a memo, themes seeded from the codebook and then
assigned, unassigned, renamed and defined, a codebook rename (a second codebook version),
memos, a journal entry, phase changes, a second revision of one transcript and
``anonymise apply`` on another). Each test copies it, edits the copy with ``sqlite3`` as
someone holding the file could (dropping the log's append-only triggers where the log is
edited), and runs ``rta audit`` in-process: it must exit 1, and one failure line must name
what changed: the table's row (``coding 3``, ``turn 4`` of a transcript, ``memo 2``,
``suggestion 25``, ``theme 4``, ``event 7`` ...) and, where a field was edited, the field.
An untouched copy must audit clean, so a check that fires for the wrong reason shows.

Cutting off the log's tail (and the rows it explains), or rewriting the whole log with
recomputed hashes, leaves a log that is consistent in itself: those are detected only
against a head recorded elsewhere (``rta audit --expect-head SEQ:HASH``) or a signed
checkpoint (``rta checkpoint --key`` / ``rta audit --verify-checkpoints --pubkey``).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from rta.fsutil import sha256_text
from rta.store import GENESIS_HASH, event_hash

SAMPLE = Path(__file__).resolve().parent.parent / "transcripts_sample"
FILES = ("k1-skoleeier.txt", "k1-skoleledere.txt", "k2-skoleeier.md", "veiledere-a-b.txt")
QUOTE = "men det er ikke det samme som å ha vært"  # coding 1, k1-skoleeier, S1's turn 4
CODER = "tester"


# --------------------------------------------------------------------------------------------
# The project, built once


def _rta(*args: str) -> None:
    """Run the CLI in-process; a build step that fails stops the session with its message."""
    from rta.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        assert code == 0, f"building the project failed at: rta {' '.join(args)} (exit {code})"


@dataclass(frozen=True)
class Built:
    """The built project and the ids a test needs (suggestion ids depend on the NLP pipeline)."""

    root: Path
    key: Path
    accepted: int        # suggestion accepted with `rta review --accept` (coding 4)
    accepted_memo: int   # suggestion accepted with a memo (coding 5)
    rejected: int
    skipped: int         # skipped, with a suggestion memo
    pending: int
    head: tuple[int, str]
    ids: dict[str, int] = field(default_factory=dict)  # seq of the first event of a kind, by kind


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The project every test copies (built once: about 5 s, most of it the NLP suggestions)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RTA_CODER", CODER)  # the ids and coders below do not depend on who runs the tests
        mp.delenv("RTA_PROJECT", raising=False)
        return _build(tmp_path_factory.mktemp("tamper"))


def _build(base: Path) -> Built:
    root = base / "studie"
    src = base / "kilder"
    src.mkdir()
    for name in FILES:
        shutil.copyfile(SAMPLE / name, src / name)
    _rta("init", str(root), "--name", "Tampering", "--coder", CODER)
    p = ("--project", str(root))
    _rta(*p, "add", *(str(src / name) for name in FILES))
    _rta(*p, "code", "k1-skoleeier", "-c", "Brudd", "-q", QUOTE, "-m", "mangler samtalene")   # coding 1
    _rta(*p, "code", "k1-skoleeier", "-c", "Kontinuitet", "--turn", "6", "-m", "samme veiledere")  # coding 2
    _rta(*p, "code", "k1-skoleledere", "-c", "Tid", "--lines", "10-12")  # coding 3 (R1.1's lines 11-12)
    _rta(*p, "phase", "set", "2", "--reason", "alle intervjuene er lest")
    _rta(*p, "suggest", "-q", "--transcript", "k1-skoleeier")

    conn = sqlite3.connect(root / "rta.db")
    pending = [r[0] for r in conn.execute(
        "SELECT id FROM suggestions WHERE status = 'suggested' ORDER BY score DESC, id")]
    conn.close()
    assert len(pending) >= 6, "the sample should give suggestions for k1-skoleeier"
    accepted, accepted_memo, rejected, skipped, still_pending = pending[:5]
    _rta(*p, "review", "--accept", str(accepted))  # coding 4
    _rta(*p, "review", "--reject", str(rejected))
    from rta import review
    from rta.coding import ensure_codebook_version
    from rta.project import Project

    project = Project.open(root)
    try:
        with project.store.transaction():
            review.add_memo(project.store, skipped, "usikker på denne, tar den senere", CODER)
            review.skip(project.store, skipped, CODER)
            version = ensure_codebook_version(project.store, project.codebook_path, CODER)
            review.accept(project.store, accepted_memo, CODER, version, memo="godtatt: tydelig utskiftning")  # coding 5
    finally:
        project.close()
    _rta(*p, "uncode", "3", "--reason", "feil tur")
    _rta(*p, "recode", "2", "-c", "Veilederrollen", "--reason", "passer bedre")
    _rta(*p, "phase", "set", "3", "--reason", "kodene er på plass")
    _rta(*p, "themes", "add", "--from-codebook")  # themes 1-3
    _rta(*p, "themes", "add", "Egen tema", "-c", "Tid", "--definition", "om tid")  # theme 4
    _rta(*p, "themes", "assign", "Egen tema", "Brudd")
    _rta(*p, "themes", "unassign", "Egen tema", "Tid")
    _rta(*p, "themes", "rename", "Egen tema", "Eget tema")
    _rta(*p, "themes", "define", "Eget tema", "--status", "reviewed", "--concept", "tid og brudd")
    _rta(*p, "codebook", "rename", "Usikkerhet", "Utrygghet", "--reason", "klarere navn")  # codebook version 2
    _rta(*p, "code", "k1-skoleledere", "-c", "Tid", "--turn", "5", "-m", "ny rektor", "--coder", "anna")  # coding 6
    _rta(*p, "memo", "add", "--on", "coding:1", "Dette er kjernen i bruddet")  # memo 1
    _rta(*p, "memo", "add", "--on", "code:Tid", "Tid går igjen hos alle")  # memo 2
    _rta(*p, "journal", "add", "Jeg merker at jeg leter etter brudd")  # memo 3
    revised = src / "k1-skoleledere.txt"
    revised.write_text(revised.read_text(encoding="utf-8").replace("snart elleve år", "snart tolv år"),
                       encoding="utf-8")
    _rta(*p, "add", str(revised))  # k1-skoleledere revision 2, coding 6 re-anchored
    key = base / "nokkel.json"  # outside the project
    _rta(*p, "anonymise", "apply", "veiledere-a-b", "--key", str(key), "--pipeline", "none")  # revision 2

    conn = sqlite3.connect(root / "rta.db")
    seq, digest = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    facts = {
        "codings": conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0],
        "codebook_versions": conn.execute("SELECT MAX(id) FROM codebook_versions").fetchone()[0],
        "coding6_version": conn.execute("SELECT codebook_version FROM codings WHERE id = 6").fetchone()[0],
        "coding6_revision": conn.execute("SELECT revision FROM codings WHERE id = 6").fetchone()[0],
        "veiledere_revision": conn.execute("SELECT revision FROM transcripts WHERE id = 'veiledere-a-b'").fetchone()[0],
    }
    seqs = {kind: conn.execute("SELECT MIN(seq) FROM events WHERE kind = ?", (kind,)).fetchone()[0]
            for kind in ("project.created", "coding.removed", "coding.recoded", "suggestion.memo")}
    conn.close()
    # what the tests below assume about the project they edit
    assert facts == {"codings": 6, "codebook_versions": 2, "coding6_version": 2, "coding6_revision": 2,
                     "veiledere_revision": 2}, facts
    return Built(root, key, accepted, accepted_memo, rejected, skipped, still_pending, (seq, digest), seqs)


@pytest.fixture
def copy(built: Built, tmp_path: Path) -> Path:
    """A fresh copy of the built project for one test to tamper with."""
    return Path(shutil.copytree(built.root, tmp_path / "studie"))


# --------------------------------------------------------------------------------------------
# Running the audit and reading its failures


def audit_cli(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> tuple[int, str, str]:
    """``rta --project ROOT audit EXTRA`` in-process: (exit code, stdout, stderr)."""
    from rta.cli import main

    capsys.readouterr()
    try:
        main(["--project", str(root), "audit", *extra])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_detected(result: tuple[int, str, str], *patterns: str) -> None:
    """The audit failed (exit 1) and one line of its output matches every pattern (regular
    expressions, case-insensitive): the failure names the row and field that changed."""
    code, out, err = result
    assert code == 1, f"audit did not fail (exit {code}):\n{out}{err}"
    lines = [line for line in (out + err).splitlines() if line.strip()]
    hits = [line for line in lines if all(re.search(p, line, re.IGNORECASE) for p in patterns)]
    assert hits, f"no failure line matches all of {patterns}:\n{out}{err}"


def edit(root: Path, *statements: str, params: tuple = ()) -> None:
    """Apply SQL to the copy's store directly, as someone editing the file would."""
    conn = sqlite3.connect(root / "rta.db")
    try:
        for sql in statements:
            conn.execute(sql, params if "?" in sql else ())
        conn.commit()
    finally:
        conn.close()


UNLOCK_LOG = ("DROP TRIGGER IF EXISTS events_append_only_update", "DROP TRIGGER IF EXISTS events_append_only_delete")


def rechain(root: Path, since: int = 1) -> tuple[int, str]:
    """Recompute every event hash from ``since`` on (an attacker covering an edit of the log);
    returns the new head."""
    conn = sqlite3.connect(root / "rta.db")
    try:
        prev = GENESIS_HASH if since == 1 else conn.execute(
            "SELECT hash FROM events WHERE seq = ?", (since - 1,)).fetchone()[0]
        rows = conn.execute("SELECT seq, ts, coder, phase, kind, payload FROM events WHERE seq >= ? ORDER BY seq",
                            (since,)).fetchall()
        for seq, ts, coder, phase, kind, payload in rows:
            digest = event_hash(prev, seq, ts, coder, phase, kind, payload)
            conn.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq))
            prev = digest
        conn.commit()
        return rows[-1][0], prev
    finally:
        conn.close()


def coding_row(root: Path, coding_id: int) -> sqlite3.Row:
    conn = sqlite3.connect(root / "rta.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM codings WHERE id = ?", (coding_id,)).fetchone()
    finally:
        conn.close()


def revision_text(root: Path, transcript: str, revision: int) -> str:
    conn = sqlite3.connect(root / "rta.db")
    try:
        return conn.execute("SELECT text FROM transcript_revisions WHERE transcript_id = ? AND revision = ?",
                            (transcript, revision)).fetchone()[0]
    finally:
        conn.close()


# Patterns naming a row of each table as a failure line does ("coding 3", "turn 4", ...).
def coding(n: int) -> str:
    return rf"\bcoding\W+{n}\b"


def turn(n: int) -> str:
    return rf"\bturns?\W+(n\W+)?{n}\b"


def suggestion(n: int) -> str:
    return rf"\bsuggestions?\W+{n}\b"


def theme(n: int, name: str) -> str:
    return rf"\bthemes?\W+({n}\b|'?{re.escape(name)})"


def memo(n: int) -> str:
    return rf"\b(memos?|journal( entry)?)\W+{n}\b"


def event(n: int) -> str:
    return rf"\bevents?\W+(seq\W+)?{n}\b"


REVISION = r"\brev(ision)?\W+{}\b"


# --------------------------------------------------------------------------------------------
# The kinds of edit: (id, edit of the copy, patterns one failure line must match)


@dataclass(frozen=True)
class Kind:
    """One kind of hand edit: how to make it on a copy, the table whose row it changes
    (a regular expression: the failure line must name it) and what else the line must name."""

    id: str
    apply: Callable[[Path, Built], None]
    table: str
    patterns: Callable[[Built], tuple[str, ...]]


def sql(*statements: str) -> Callable[[Path, Built], None]:
    return lambda root, b: edit(root, *statements)


def fixed(*patterns: str) -> Callable[[Built], tuple[str, ...]]:
    return lambda b: patterns


def _text_and_hash_in_quote(root: Path, b: Built) -> None:
    """'ikke' -> 'også' in coding 1's quote; the revision's sha256 and the coding's quote hash
    recomputed, so every hash column agrees with the new words."""
    text = revision_text(root, "k1-skoleeier", 1)
    changed = text.replace(QUOTE, QUOTE.replace("ikke", "også"), 1)
    assert changed != text
    c = coding_row(root, 1)
    edit(root, "UPDATE transcript_revisions SET text = ?, sha256 = ? WHERE transcript_id = 'k1-skoleeier' AND revision = 1",
         params=(changed, sha256_text(changed)))
    edit(root, "UPDATE codings SET quote_sha256 = ? WHERE id = 1", params=(sha256_text(changed[c["start"]:c["end"]]),))


def _text_and_hash_uncoded(root: Path, b: Built) -> None:
    """'ikke' -> 'også' in a transcript nobody coded; its sha256 recomputed."""
    text = revision_text(root, "k2-skoleeier", 1)
    i = text.index(" ikke ")
    changed = text[:i] + " også " + text[i + 6:]
    edit(root, "UPDATE transcript_revisions SET text = ?, sha256 = ? WHERE transcript_id = 'k2-skoleeier' AND revision = 1",
         params=(changed, sha256_text(changed)))


def _transcript_invented(root: Path, b: Built) -> None:
    """A whole transcript no event stored: rows copied from k2-skoleeier under a new id."""
    edit(root,
         "INSERT INTO transcripts(id, revision, source_path, metadata, added) SELECT 'k9-oppdiktet', revision, "
         "source_path, metadata, added FROM transcripts WHERE id = 'k2-skoleeier'",
         "INSERT INTO transcript_revisions SELECT 'k9-oppdiktet', revision, text, sha256, source_path, created, coder, note "
         "FROM transcript_revisions WHERE transcript_id = 'k2-skoleeier'",
         "INSERT INTO turns SELECT 'k9-oppdiktet', revision, n, speaker, informant, role, grp, start, end, line_start, "
         "line_end, timestamp, words FROM turns WHERE transcript_id = 'k2-skoleeier'")


def _codebook_content_and_hash(root: Path, b: Built) -> None:
    conn = sqlite3.connect(root / "rta.db")
    content = conn.execute("SELECT content FROM codebook_versions WHERE id = 2").fetchone()[0]
    conn.close()
    changed = content.replace("Tid", "Tiden", 1)
    assert changed != content
    edit(root, "UPDATE codebook_versions SET content = ?, sha256 = ? WHERE id = 2",
         params=(changed, hashlib.sha256(changed.encode("utf-8")).hexdigest()))


def _coding_span_with_hash(root: Path, b: Built) -> None:
    """Coding 5 moved to other words of the same turn, its quote hash recomputed."""
    c = coding_row(root, 5)
    text = revision_text(root, c["transcript_id"], c["revision"])
    start, end = c["start"] + 10, c["end"]
    edit(root, "UPDATE codings SET start = ?, end = ?, quote_sha256 = ? WHERE id = 5",
         params=(start, end, sha256_text(text[start:end])))


def _coding_back_to_old_revision(root: Path, b: Built) -> None:
    """Coding 6 pointed back at revision 1 (where its words were), span and hash consistent."""
    text = revision_text(root, "k1-skoleledere", 1)
    c = coding_row(root, 6)
    quote = revision_text(root, "k1-skoleledere", 2)[c["start"]:c["end"]]
    start = text.index(quote)
    edit(root, "UPDATE codings SET revision = 1, start = ?, end = ? WHERE id = 6", params=(start, start + len(quote)))


def _coding_invented(root: Path, b: Built) -> None:
    edit(root, "INSERT INTO codings(id, transcript_id, revision, start, end, line_start, line_end, turn_n, code, "
               "codebook_version, coder, created, status, origin, suggestion_id, memo, quote_sha256) "
               "SELECT 7, transcript_id, revision, start, end, line_start, line_end, turn_n, 'Tid', codebook_version, "
               "coder, created, 'active', 'manual', NULL, 'oppdiktet', quote_sha256 FROM codings WHERE id = 1")


def _suggestion_invented(root: Path, b: Built) -> None:
    edit(root, "INSERT INTO suggestions(id, transcript_id, revision, turn_n, start, end, line_start, line_end, code, "
               "score, method, evidence, pipeline, status, created, decided_by, decided_at, coding_id) "
               "SELECT 1000, transcript_id, revision, turn_n, start, end, line_start, line_end, 'Tid', 0.99, method, "
               "evidence, pipeline, 'rejected', created, 'tester', decided_at, NULL FROM suggestions WHERE id = ?",
         params=(b.rejected,))


def _tail_cut_tables_left(root: Path, b: Built) -> None:
    """The last two events (anonymise apply on veiledere-a-b) cut off; its revision 2 stays."""
    seq = b.head[0]
    edit(root, *UNLOCK_LOG, f"DELETE FROM events WHERE seq > {seq - 2}")


def _event_payload_edited(root: Path, b: Built) -> None:
    edit(root, *UNLOCK_LOG,
         "UPDATE events SET payload = replace(payload, '\"code\":\"Brudd\"', '\"code\":\"Tid\"') "
         "WHERE kind = 'coding.added' AND json_extract(payload, '$.coding') = 1")


def _event_deleted(root: Path, b: Built) -> None:
    edit(root, *UNLOCK_LOG, "DELETE FROM events WHERE kind = 'coding.recoded' AND json_extract(payload, '$.coding') = 2")


def _event_seq(root: Path, kind: str, coding_id: int) -> int:
    conn = sqlite3.connect(root / "rta.db")
    try:
        return conn.execute("SELECT seq FROM events WHERE kind = ? AND json_extract(payload, '$.coding') = ?",
                            (kind, coding_id)).fetchone()[0]
    finally:
        conn.close()


K1 = "k1-skoleeier"
TRANSCRIPT_TABLES = r"\btranscripts\b|\btranscript_revisions\b"


def _on_suggestion(sql_text: str, which: str) -> Callable[[Path, Built], None]:
    """An edit of one suggestion, chosen by its role in the build ('rejected', 'pending', ...)."""
    return lambda root, b: edit(root, sql_text, params=(getattr(b, which),))


def _on_event_text(sql_text: str, event_key: str) -> Callable[[Path, Built], None]:
    """An edit of event_texts for the event recorded in ``Built.ids[event_key]``."""
    return lambda root, b: edit(root, sql_text, params=(b.ids[event_key],))


KINDS: list[Kind] = [
    # transcripts and their revisions
    Kind("transcript-text-and-hash-in-a-quote", _text_and_hash_in_quote, r"\btranscript_revisions\b",
         fixed(K1, REVISION.format(1), r"\blog|\bevents?\b|recorded")),
    Kind("transcript-text-and-hash-uncoded", _text_and_hash_uncoded, r"\btranscript_revisions\b",
         fixed("k2-skoleeier", REVISION.format(1), r"\blog|\bevents?\b|recorded")),
    Kind("transcript-text-without-hash", sql(
        "UPDATE transcript_revisions SET text = replace(text, 'snart tolv år', 'snart ni år') "
        "WHERE transcript_id = 'k1-skoleledere' AND revision = 2"), r"\btranscript_revisions\b",
         fixed("k1-skoleledere", REVISION.format(2))),
    Kind("transcript-revision-deleted", sql(
        "DELETE FROM turns WHERE transcript_id = 'veiledere-a-b' AND revision = 1",
        "DELETE FROM transcript_revisions WHERE transcript_id = 'veiledere-a-b' AND revision = 1"),
         r"\btranscript_revisions\b", fixed("veiledere-a-b", REVISION.format(1))),
    Kind("transcript-current-revision-pointed-back", sql(
        "UPDATE transcripts SET revision = 1 WHERE id = 'veiledere-a-b'"), r"\btranscripts\b",
         fixed("veiledere-a-b", r"\brevision\b")),
    Kind("transcript-metadata-changed", sql(
        "UPDATE transcripts SET metadata = json_set(metadata, '$.group', 'kommune 2') WHERE id = 'k1-skoleeier'"),
         r"\btranscripts\b", fixed(K1, r"\bmetadata\b|\bgroup\b")),
    Kind("transcript-revision-coder-changed", sql(
        "UPDATE transcript_revisions SET coder = 'anna' WHERE transcript_id = 'k2-skoleeier' AND revision = 1"),
         r"\btranscript_revisions\b", fixed("k2-skoleeier", r"\bcoder\b")),
    Kind("transcript-deleted", sql(
        "DELETE FROM turns WHERE transcript_id = 'k2-skoleeier'",
        "DELETE FROM transcript_revisions WHERE transcript_id = 'k2-skoleeier'",
        "DELETE FROM transcripts WHERE id = 'k2-skoleeier'"), TRANSCRIPT_TABLES, fixed("k2-skoleeier")),
    Kind("transcript-invented", _transcript_invented, TRANSCRIPT_TABLES, fixed("k9-oppdiktet")),
    # turns (derived from the revision's text and the registry)
    Kind("turn-reattributed-to-another-informant", sql(
        "UPDATE turns SET speaker = 'R1.1', informant = 'R1.1', role = 'skoleleder' "
        "WHERE transcript_id = 'k1-skoleeier' AND revision = 1 AND n = 4"), r"\bturns\b",
         fixed(K1, turn(4), r"\binformant\b|\bspeaker\b")),
    Kind("turn-of-the-interviewer-attributed-to-an-informant", sql(
        "UPDATE turns SET speaker = 'S1', informant = 'S1', role = 'skoleeier', grp = 'kommune 1' "
        "WHERE transcript_id = 'k1-skoleeier' AND revision = 1 AND n = 3"), r"\bturns\b",
         fixed(K1, turn(3), r"\binformant\b|\bspeaker\b")),
    Kind("turn-role-changed", sql(
        "UPDATE turns SET role = 'skoleleder' WHERE transcript_id = 'k1-skoleeier' AND revision = 1 AND n = 6"),
         r"\bturns\b", fixed(K1, turn(6), r"\brole\b")),
    Kind("turn-group-changed", sql(
        "UPDATE turns SET grp = 'kommune 2' WHERE transcript_id = 'k1-skoleeier' AND revision = 1 AND n = 6"),
         r"\bturns\b", fixed(K1, turn(6), r"\bgrp\b|\bgroup\b")),
    Kind("turn-offsets-changed", sql(
        "UPDATE turns SET start = start + 5 WHERE transcript_id = 'k1-skoleeier' AND revision = 1 AND n = 8"),
         r"\bturns\b", fixed(K1, turn(8), r"\bstart\b|offset")),
    Kind("turn-lines-changed", sql(
        "UPDATE turns SET line_start = line_start + 1, line_end = line_end + 1 "
        "WHERE transcript_id = 'k1-skoleeier' AND revision = 1 AND n = 8"), r"\bturns\b",
         fixed(K1, turn(8), r"\bline")),
    Kind("turn-timestamp-changed", sql(
        "UPDATE turns SET timestamp = '00:59:59' WHERE transcript_id = 'k1-skoleeier' AND revision = 1 AND n = 8"),
         r"\bturns\b", fixed(K1, turn(8), r"\btimestamp\b")),
    Kind("turn-deleted", sql(
        "DELETE FROM turns WHERE transcript_id = 'k1-skoleeier' AND revision = 1 AND n = 10"), r"\bturns\b",
         fixed(K1, turn(10))),
    Kind("turn-inserted", sql(
        "INSERT INTO turns SELECT transcript_id, revision, 99, speaker, informant, role, grp, start, end, line_start, "
        "line_end, timestamp, words FROM turns WHERE transcript_id = 'k1-skoleeier' AND revision = 1 AND n = 4"),
         r"\bturns\b", fixed(K1, turn(99))),
    # informants
    Kind("informant-role-changed", sql("UPDATE informants SET role = 'skoleleder' WHERE code = 'S1'"),
         r"\binformants\b", fixed(r"\binformants?\W+S1\b", r"\brole\b")),
    Kind("informant-group-changed", sql("UPDATE informants SET grp = 'kommune 2' WHERE code = 'R1.1'"),
         r"\binformants\b", fixed(r"\binformants?\W+R1\.1\b", r"\bgrp\b|\bgroup\b")),
    Kind("informant-attributes-changed", sql("UPDATE informants SET attributes = '{}' WHERE code = 'S1'"),
         r"\binformants\b", fixed(r"\binformants?\W+S1\b", r"\battributes\b")),
    Kind("informant-deleted", sql("DELETE FROM informants WHERE code = 'S2'"),
         r"\binformants\b", fixed(r"\binformants?\W+S2\b")),
    Kind("informant-inserted", sql(
        "INSERT INTO informants(code, role, grp, attributes, position) VALUES ('S9', 'skoleeier', 'kommune 9', '{}', 99)"),
         r"\binformants\b", fixed(r"\binformants?\W+S9\b")),
    # codebook versions and codes
    Kind("codebook-content-and-hash-changed", _codebook_content_and_hash, r"\bcodebook_versions\b",
         fixed(r"\bcodebook[ _]?(version)?\W+2\b", r"\bcontent\b|\bsha256\b")),
    Kind("code-renamed", sql("UPDATE codes SET name = 'Uklare roller' WHERE codebook_version = 1 AND name = 'Uklarhet'"),
         r"\bcodes\b", fixed(r"\bUklarhet\b|\bUklare roller\b", r"\bcodebook[ _]?(version)?\W+1\b")),
    Kind("code-deleted", sql("DELETE FROM codes WHERE codebook_version = 2 AND name = 'Forventninger'"),
         r"\bcodes\b", fixed(r"\bForventninger\b", r"\bcodebook[ _]?(version)?\W+2\b")),
    Kind("code-inserted", sql(
        "INSERT INTO codes(codebook_version, name, definition) VALUES (2, 'Oppdiktet', 'ingen har skrevet denne')"),
         r"\bcodes\b", fixed(r"\bOppdiktet\b", r"\bcodebook[ _]?(version)?\W+2\b")),
    Kind("code-definition-changed", sql(
        "UPDATE codes SET definition = 'noe helt annet' WHERE codebook_version = 2 AND name = 'Tid'"),
         r"\bcodes\b", fixed(r"\bTid\b", r"\bdefinition\b")),
    # codings
    Kind("coding-start-moved", sql("UPDATE codings SET start = start + 4 WHERE id = 1"),
         r"\bcodings\b", fixed(coding(1), r"\bstart\b|\bspan\b")),
    Kind("coding-span-moved-with-its-quote-hash", _coding_span_with_hash,
         r"\bcodings\b", fixed(coding(5), r"\bstart\b|\bspan\b")),
    Kind("coding-lines-changed", sql("UPDATE codings SET line_start = line_start + 1, line_end = line_end + 1 WHERE id = 1"),
         r"\bcodings\b", fixed(coding(1), r"\bline")),
    Kind("coding-turn-changed", sql("UPDATE codings SET turn_n = 8 WHERE id = 2"),
         r"\bcodings\b", fixed(coding(2), r"\bturn")),
    Kind("coding-revision-pointed-back", _coding_back_to_old_revision,
         r"\bcodings\b", fixed(coding(6), r"\brevision\b")),
    Kind("coding-code-changed", sql("UPDATE codings SET code = 'Tid' WHERE id = 1"),
         r"\bcodings\b", fixed(coding(1), r"\bcode\b")),
    Kind("coding-codebook-version-changed", sql("UPDATE codings SET codebook_version = 1 WHERE id = 6"),
         r"\bcodings\b", fixed(coding(6), r"codebook")),
    Kind("coding-status-changed", sql("UPDATE codings SET status = 'active' WHERE id = 3"),
         r"\bcodings\b", fixed(coding(3), r"\bstatus\b")),
    Kind("coding-origin-changed", sql("UPDATE codings SET origin = 'suggested' WHERE id = 1"),
         r"\bcodings\b", fixed(coding(1), r"\borigin\b")),
    Kind("coding-coder-changed", sql("UPDATE codings SET coder = 'tester' WHERE id = 6"),
         r"\bcodings\b", fixed(coding(6), r"\bcoder\b")),
    Kind("coding-created-changed", sql("UPDATE codings SET created = '2021-01-04T09:00:00Z' WHERE id = 2"),
         r"\bcodings\b", fixed(coding(2), r"\bcreated\b")),
    Kind("coding-memo-changed", sql("UPDATE codings SET memo = 'fant samtalene' WHERE id = 1"),
         r"\bcodings\b", fixed(coding(1), r"\bmemo\b")),
    Kind("coding-memo-removed", sql("UPDATE codings SET memo = NULL WHERE id = 5"),
         r"\bcodings\b", fixed(coding(5), r"\bmemo\b")),
    Kind("coding-quote-hash-changed", sql("UPDATE codings SET quote_sha256 = '" + "0" * 64 + "' WHERE id = 2"),
         r"\bcodings\b", fixed(coding(2), r"\bquote|\bhash")),
    Kind("coding-suggestion-id-changed", _on_suggestion("UPDATE codings SET suggestion_id = ? WHERE id = 4", "rejected"),
         r"\bcodings\b", fixed(coding(4), r"\bsuggestion")),
    Kind("coding-deleted", sql("DELETE FROM codings WHERE id = 5"), r"\bcodings\b", fixed(coding(5))),
    Kind("coding-inserted", _coding_invented, r"\bcodings\b", fixed(coding(7))),
    # suggestions and their decisions
    Kind("suggestion-rejection-undone", _on_suggestion(
        "UPDATE suggestions SET status = 'suggested', decided_by = NULL, decided_at = NULL WHERE id = ?", "rejected"),
         r"\bsuggestions\b", lambda b: (suggestion(b.rejected), r"\bstatus\b")),
    Kind("suggestion-accepted-without-a-decision", _on_suggestion(
        "UPDATE suggestions SET status = 'accepted', decided_by = 'tester', decided_at = created WHERE id = ?", "pending"),
         r"\bsuggestions\b", lambda b: (suggestion(b.pending), r"\bstatus\b")),
    Kind("suggestion-retired-by-hand", _on_suggestion(
        "UPDATE suggestions SET status = 'retired' WHERE id = ?", "pending"),
         r"\bsuggestions\b", lambda b: (suggestion(b.pending), r"\bstatus\b")),
    Kind("suggestion-decided-by-changed", _on_suggestion(
        "UPDATE suggestions SET decided_by = 'anna' WHERE id = ?", "accepted"),
         r"\bsuggestions\b", lambda b: (suggestion(b.accepted), r"decided|\bcoder\b")),
    Kind("suggestion-coding-id-changed", _on_suggestion("UPDATE suggestions SET coding_id = 5 WHERE id = ?", "accepted"),
         r"\bsuggestions\b", lambda b: (suggestion(b.accepted), r"\bcoding")),
    Kind("suggestion-code-changed", _on_suggestion("UPDATE suggestions SET code = 'Tid' WHERE id = ?", "rejected"),
         r"\bsuggestions\b", lambda b: (suggestion(b.rejected), r"\bcode\b")),
    Kind("pending-suggestion-code-changed", _on_suggestion("UPDATE suggestions SET code = 'Tid' WHERE id = ?", "pending"),
         r"\bsuggestions\b", lambda b: (suggestion(b.pending), r"\bcode\b")),
    Kind("suggestion-span-changed", _on_suggestion(
        "UPDATE suggestions SET start = start + 3, end = end + 3 WHERE id = ?", "accepted"),
         r"\bsuggestions\b", lambda b: (suggestion(b.accepted), r"\bstart\b|\bend\b|\bspan\b")),
    Kind("suggestion-score-changed", _on_suggestion("UPDATE suggestions SET score = 0.1 WHERE id = ?", "rejected"),
         r"\bsuggestions\b", lambda b: (suggestion(b.rejected), r"\bscore\b")),
    Kind("suggestion-evidence-changed", _on_suggestion(
        "UPDATE suggestions SET evidence = '[]' WHERE id = ?", "skipped"),
         r"\bsuggestions\b", lambda b: (suggestion(b.skipped), r"\bevidence\b")),
    Kind("suggestion-deleted", _on_suggestion("DELETE FROM suggestions WHERE id = ?", "accepted_memo"),
         r"\bsuggestions\b", lambda b: (suggestion(b.accepted_memo),)),
    Kind("suggestion-inserted", _suggestion_invented, r"\bsuggestions\b", fixed(suggestion(1000))),
    # themes and their membership
    Kind("theme-renamed", sql("UPDATE themes SET name = 'Kontinuitet og brudd' WHERE id = 2"),
         r"\bthemes\b", fixed(theme(2, "Kontinuitet"), r"\bname\b|renamed")),
    Kind("theme-definition-changed", sql("UPDATE themes SET definition = 'noe annet' WHERE id = 3"),
         r"\bthemes\b", fixed(theme(3, "Kapasitet"), r"\bdefinition\b")),
    Kind("theme-central-concept-changed", sql("UPDATE themes SET central_concept = 'noe annet' WHERE id = 2"),
         r"\bthemes\b", fixed(theme(2, "Kontinuitet"), r"\bcentral_concept\b|\bconcept\b")),
    Kind("theme-origin-changed", sql("UPDATE themes SET origin = 'deductive' WHERE id = 1"),
         r"\bthemes\b", fixed(theme(1, "Kommunikasjon"), r"\borigin\b")),
    Kind("theme-status-changed", sql("UPDATE themes SET status = 'defined' WHERE id = 4"),
         r"\bthemes\b", fixed(theme(4, "Eget tema"), r"\bstatus\b")),
    Kind("theme-deleted", sql("DELETE FROM theme_codes WHERE theme_id = 1", "DELETE FROM themes WHERE id = 1"),
         r"\bthemes\b", fixed(theme(1, "Kommunikasjon"))),
    Kind("theme-inserted", sql(
        "INSERT INTO themes(id, name, definition, status, source, created, updated) "
        "VALUES (5, 'Oppdiktet tema', 'ingen bestemte dette', 'defined', 'manual', '2026-01-01T00:00:00Z', "
        "'2026-01-01T00:00:00Z')", "INSERT INTO theme_codes VALUES (5, 'Tid')"),
         r"\bthemes\b", fixed(theme(5, "Oppdiktet tema"))),
    Kind("theme-membership-changed", sql("UPDATE theme_codes SET code = 'Tid' WHERE theme_id = 4 AND code = 'Brudd'"),
         r"\btheme_codes\b", fixed(theme(4, "Eget tema"), r"\bTid\b|\bBrudd\b")),
    Kind("theme-membership-deleted", sql("DELETE FROM theme_codes WHERE theme_id = 2 AND code = 'Brudd'"),
         r"\btheme_codes\b", fixed(theme(2, "Kontinuitet"), r"\bBrudd\b")),
    Kind("theme-membership-inserted", sql("INSERT INTO theme_codes VALUES (1, 'Tid')"),
         r"\btheme_codes\b", fixed(theme(1, "Kommunikasjon"), r"\bTid\b")),
    Kind("theme-membership-moved", sql("UPDATE theme_codes SET theme_id = 3 WHERE theme_id = 2 AND code = 'Utskiftning'"),
         r"\btheme_codes\b", fixed(theme(2, "Kontinuitet") + "|" + theme(3, "Kapasitet"), r"\bUtskiftning\b")),
    # memos and the journal
    Kind("memo-text-changed", sql("UPDATE memos SET text = 'Dette er ikke kjernen' WHERE id = 1"),
         r"\bmemos\b", fixed(memo(1), r"\btext\b")),
    Kind("memo-redacted-without-a-logged-redaction", sql("UPDATE memos SET text = '[fjernet]' WHERE id = 2"),
         r"\bmemos\b", fixed(memo(2), r"\btext\b")),
    Kind("memo-target-changed", sql("UPDATE memos SET target = '2' WHERE id = 1"),
         r"\bmemos\b", fixed(memo(1), r"\btarget\b")),
    Kind("memo-deleted", sql("DELETE FROM memos WHERE id = 2"), r"\bmemos\b", fixed(memo(2))),
    Kind("memo-inserted", sql(
        "INSERT INTO memos(id, target_kind, target, text, phase, coder, created) "
        "VALUES (4, 'code', 'Brudd', 'skrevet i ettertid', 2, 'tester', '2026-01-01T00:00:00Z')"),
         r"\bmemos\b", fixed(memo(4))),
    Kind("journal-entry-edited", sql("UPDATE memos SET text = 'Jeg var helt nøytral' WHERE id = 3"),
         r"\bmemos\b", fixed(memo(3), r"\btext\b")),
    Kind("memo-phase-changed", sql("UPDATE memos SET phase = 1 WHERE id = 3"),
         r"\bmemos\b", fixed(memo(3), r"\bphase\b")),
    # the free text of logged decisions (reasons, review memos), kept beside the log
    Kind("decision-reason-edited", _on_event_text(
        "UPDATE event_texts SET text = 'dobbeltkodet' WHERE seq = ? AND field = 'reason'", "coding.removed"),
         r"\bevent_texts\b", lambda b: (event(b.ids["coding.removed"]), r"\breason\b")),
    Kind("decision-reason-deleted", _on_event_text(
        "DELETE FROM event_texts WHERE seq = ? AND field = 'reason'", "coding.recoded"),
         r"\bevent_texts\b", lambda b: (event(b.ids["coding.recoded"]), r"\breason\b")),
    Kind("decision-reason-inserted", _on_event_text(
        "INSERT INTO event_texts(seq, field, text) VALUES (?, 'reason', 'skrevet i ettertid')", "project.created"),
         r"\bevent_texts\b", lambda b: (event(b.ids["project.created"]), r"\breason\b")),
    Kind("review-memo-edited", _on_event_text(
        "UPDATE event_texts SET text = 'helt sikker' WHERE seq = ? AND field = 'text'", "suggestion.memo"),
         r"\bevent_texts\b", lambda b: (event(b.ids["suggestion.memo"]), r"\btext\b")),
    # project state
    Kind("phase-changed-in-meta", sql("UPDATE meta SET value = '6' WHERE key = 'phase'"),
         r"\bmeta\b", fixed(r"\bphase\b", r"\b6\b|\b3\b")),
    Kind("project-name-changed-in-meta", sql("UPDATE meta SET value = 'Et annet prosjekt' WHERE key = 'name'"),
         r"\bmeta\b", fixed(r"\bname\b")),
    Kind("coder-added", sql("INSERT INTO coders(name, first_seen) VALUES ('mallory', '2026-01-01T00:00:00Z')"),
         r"\bcoders\b", fixed(r"\bmallory\b")),
    Kind("coder-removed", sql("DELETE FROM coders WHERE name = 'anna'"),
         r"\bcoders\b", fixed(r"\banna\b")),
    # the log itself (an edited or deleted event: the tests after this list name its seq)
    Kind("log-tail-cut-with-its-rows-left", _tail_cut_tables_left, TRANSCRIPT_TABLES + r"|\bturns\b",
         fixed("veiledere-a-b", REVISION.format(2))),
]


def test_every_kind_of_edit_is_listed_once():
    ids = [k.id for k in KINDS]
    assert len(ids) == len(set(ids)) and len(ids) >= 40


def test_an_untouched_copy_audits_clean(copy, capsys):
    code, out, err = audit_cli(capsys, copy)
    assert code == 0, out + err
    assert out.startswith("audit passed")


@pytest.mark.parametrize("kind", KINDS, ids=[k.id for k in KINDS])
def test_a_hand_edit_is_detected_and_named(kind: Kind, built: Built, copy: Path, capsys):
    kind.apply(copy, built)
    assert_detected(audit_cli(capsys, copy), kind.table, *kind.patterns(built))


def test_event_deleted_in_the_middle_names_its_seq(built, copy, capsys):
    seq = _event_seq(copy, "coding.recoded", 2)
    _event_deleted(copy, built)
    assert_detected(audit_cli(capsys, copy), rf"\b{seq}\b", r"\bmissing\b|\bdeleted\b|\bjumps\b")


def test_event_payload_edited_names_its_seq(built, copy, capsys):
    seq = _event_seq(copy, "coding.added", 1)
    _event_payload_edited(copy, built)
    assert_detected(audit_cli(capsys, copy), event(seq))


# --------------------------------------------------------------------------------------------
# Edits that leave a self-consistent log: detected against an anchored head


def _head(root: Path) -> tuple[int, str]:
    conn = sqlite3.connect(root / "rta.db")
    try:
        return conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()


def _cut_tail_and_its_rows(root: Path) -> tuple[int, str]:
    """Two journal entries written, the head noted, then both entries and their events
    removed: every table agrees with the shorter log. Returns the head noted."""
    before = _head(root)
    for text in ("Første notat som skal forsvinne", "Andre notat som skal forsvinne"):
        _rta("--project", str(root), "journal", "add", text)
    head = _head(root)
    assert head[0] > before[0]
    edit(root, *UNLOCK_LOG, "DELETE FROM memos WHERE id > 3", f"DELETE FROM events WHERE seq > {before[0]}")
    return head


def test_log_tail_cut_with_its_rows_is_detected_against_the_expected_head(copy, capsys):
    seq, digest = _cut_tail_and_its_rows(copy)
    assert_detected(audit_cli(capsys, copy, "--expect-head", f"{seq}:{digest}"),
                    rf"\b{seq}\b", r"\bhead\b|\bexpect")


def test_the_expected_head_of_an_untouched_log_verifies(copy, capsys):
    seq, digest = _head(copy)
    code, out, err = audit_cli(capsys, copy, "--expect-head", f"{seq}:{digest}")
    assert code == 0, out + err


def _rewrite_history(root: Path) -> None:
    """Coding 1's code changed in its table row and in its 'coding.added' event, and every
    hash from there on recomputed: the log is consistent in itself and with the tables."""
    seq = _event_seq(root, "coding.added", 1)
    edit(root, *UNLOCK_LOG,
         "UPDATE codings SET code = 'Tid' WHERE id = 1",
         f"UPDATE events SET payload = replace(payload, '\"code\":\"Brudd\"', '\"code\":\"Tid\"') WHERE seq = {seq}")
    rechain(root, since=seq)


def test_log_rewritten_with_recomputed_hashes_is_detected_against_the_expected_head(built, copy, capsys):
    seq, digest = built.head
    _rewrite_history(copy)
    assert _head(copy)[0] == seq and _head(copy)[1] != digest
    assert_detected(audit_cli(capsys, copy, "--expect-head", f"{seq}:{digest}"),
                    rf"\b{seq}\b", r"\bhead\b|\bexpect")


def _signed(copy: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, Path]:
    """A key pair made with 'rta checkpoint keygen' outside the project and a checkpoint signed
    with it (the copy audits clean against it); returns the signed entry and the public key."""
    priv = folder / "studie-checkpoint.pem"
    folder.mkdir()
    _rta("--project", str(copy), "checkpoint", "keygen", "--out", str(priv))
    pub = priv.with_name(priv.name + ".pub")
    assert pub.is_file()
    signed_seq, _ = _head(copy)
    _rta("--project", str(copy), "checkpoint", "--key", str(priv))
    clean = audit_cli(capsys, copy, "--verify-checkpoints", "--pubkey", str(pub))
    assert clean[0] == 0, clean[1] + clean[2]
    return signed_seq, pub


def test_log_rewritten_with_recomputed_hashes_is_detected_by_a_signed_checkpoint(copy, tmp_path, capsys):
    signed_seq, pub = _signed(copy, tmp_path / "nøkler", capsys)
    _rewrite_history(copy)
    assert_detected(audit_cli(capsys, copy, "--verify-checkpoints", "--pubkey", str(pub)),
                    r"checkpoint", rf"\b{signed_seq}\b", r"\bhash|rewritten")


def test_log_rewritten_and_its_checkpoints_removed_is_detected_when_checkpoints_are_verified(copy, tmp_path, capsys):
    _, pub = _signed(copy, tmp_path / "nøkler", capsys)
    shutil.rmtree(copy / "checkpoints")
    edit(copy, *UNLOCK_LOG, "DELETE FROM events WHERE kind = 'checkpoint.signed'")
    _rewrite_history(copy)
    assert_detected(audit_cli(capsys, copy, "--verify-checkpoints", "--pubkey", str(pub)),
                    r"checkpoint", r"\bno\b|missing|removed|deleted")
