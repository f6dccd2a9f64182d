"""Anchored heads and signed checkpoints: what makes a rewritten log detectable.

The log's hash chain shows an edit that does not recompute the hashes after it. It cannot show
a log that was rewritten *with* recomputed hashes, or whose last entries were cut off: whoever
can write ``rta.db`` can do either, and the chain verifies again. What detects it is a head
(``SEQ:HASH``, :class:`rta.store.Head`) kept somewhere the writer cannot reach:

* **expected heads**: every report and export carries the head it was built at, and
  ``rta audit``/``rta log --head`` print it. ``rta audit --expect-head SEQ:HASH`` (or
  ``--since-report FILE``, which reads the head from a report or export) verifies that the log
  still holds that entry with that hash and that the chain from the first entry to it is
  intact (:func:`check_heads`). A head e-mailed to a supervisor, or a report handed in, is such
  an anchor.
* **signed checkpoints**: ``rta checkpoint --key FILE`` signs the current head with an
  Ed25519 key kept outside the project, writes it to ``checkpoints/`` and logs it;
  ``rta audit --verify-checkpoints --pubkey FILE`` checks every checkpoint's signature and that
  the log still holds its entry (:func:`verify_checkpoints`). Rewriting history before a
  checkpoint then needs the private key.

Where the head goes in each output format (least disruptive for each):

* HTML report: ``<meta name="rta-log-head" content="SEQ:HASH">`` and the audit appendix;
* Markdown report: a first line ``<!-- rta-log-head: SEQ:HASH -->`` (invisible when rendered)
  and the audit appendix;
* xlsx quote table: a second sheet ``Revisjon`` (the quote sheet is unchanged);
* csv and jsonl quote tables: a sidecar ``FILE.head`` (``rta-log-head: SEQ:HASH``, the file's
  name and SHA-256), so the table itself stays plain rows for any reader;
* qdpx: the project's ``<Description>`` (REFI-QDA's place for text about the whole project).

``cryptography`` is imported only by the signing and verifying functions.
"""

from __future__ import annotations

import base64
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from rta.audit import AuditReport
from rta.errors import RtaError
from rta.store import GENESIS_HASH, HEAD_FORM, Head, Store, canonical_json, event_hash, log_head, now, parse_head

CHECKPOINT_FOLDER = "checkpoints"
CHECKPOINT_FORMAT = "rta-checkpoint/1"
HEAD_META = "rta-log-head"  # the HTML meta name, the Markdown comment and the sidecar's key
SIDECAR_SUFFIX = ".head"
_HEAD_IN_TEXT = re.compile(HEAD_META + r"\s*[:=]\s*(\S+)")
_HEAD_IN_HTML = re.compile(r"<meta\s+name=[\"']" + HEAD_META + r"[\"']\s+content=[\"']([^\"']*)[\"']", re.I)


# --------------------------------------------------------------------------------------------
# Expected heads


def _walk(store: Store, wanted: set[int], chain_verified: bool = False
          ) -> tuple[dict[int, str], int, tuple[int, str] | None]:
    """Walk the chain from the first entry up to ``max(wanted)``: the stored hash of each wanted
    entry, the last entry number of the log, and the first place the chain breaks (entry, cause)
    before the last wanted entry, if any. ``chain_verified``: the caller has just verified the
    whole chain (``rta audit``), so only the wanted entries are read."""
    upto = max(wanted, default=0)
    found: dict[int, str] = {}
    if chain_verified:
        for seq in wanted:
            row = store.conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
            if row is not None:
                found[seq] = row[0]
        return found, log_head(store).seq, None
    prev_hash, expected_seq, broken = GENESIS_HASH, 1, None
    rows = store.conn.execute("SELECT seq, ts, coder, phase, kind, payload, prev_hash, hash FROM events "
                              "WHERE seq <= ? ORDER BY seq", (upto,))
    for r in rows:
        seq = r["seq"]
        if broken is None:
            if seq != expected_seq:
                broken = (expected_seq, f"entries {expected_seq}-{seq - 1} are missing" if seq > expected_seq + 1
                          else f"entry {expected_seq} is missing")
            elif r["prev_hash"] != prev_hash:
                broken = (seq, "it does not link to the previous entry's hash")
            elif event_hash(r["prev_hash"], seq, r["ts"], r["coder"], r["phase"], r["kind"], r["payload"]) != r["hash"]:
                broken = (seq, f"the '{r['kind']}' entry does not match its own hash (edited)")
        if seq in wanted:
            found[seq] = r["hash"]
        prev_hash, expected_seq = r["hash"], seq + 1
    last = log_head(store).seq
    return found, last, broken


def check_heads(store: Store, heads: Iterable[tuple[Head, str]], chain_verified: bool = False) -> AuditReport:
    """Verify each expected head (with where it came from, for the message): the log still has
    that entry, with that hash, and the chain from the first entry to it is intact. A cut-off
    tail, a deleted or edited entry before it, or a log rewritten with recomputed hashes is a
    ``head`` failure. ``chain_verified``: the whole chain was just verified by the caller (the
    audit's chain check passed), so it is not walked again."""
    heads = list(heads)
    report = AuditReport()
    found, last, broken = _walk(store, {h.seq for h, _ in heads}, chain_verified)
    for head, source in heads:
        ids = {"expected head": head.short(), "from": source}
        stored = found.get(head.seq)
        if head.seq > last:
            report.add("head", f"the log now ends at entry {last}: entries {last + 1}-{head.seq} were cut off "
                               "(or the whole log replaced) since this head was recorded", **ids)
        elif stored is None:
            report.add("head", f"entry {head.seq} is no longer in the log (deleted)", **ids)
        elif broken is not None and broken[0] <= head.seq:
            report.add("head", f"the chain from the first entry to entry {head.seq} is broken at entry {broken[0]}: "
                               f"{broken[1]}", **ids)
        elif stored != head.hash:
            report.add("head", f"entry {head.seq} now has hash {stored[:12]}…, not {head.hash[:12]}…: the log up to "
                               "this entry was rewritten (its hashes recomputed) or replaced", **ids)
    report.checked["expected heads"] = len(heads)
    return report


def head_from_file(path: str | Path) -> Head:
    """The log head a report or export was built at: HTML (``<meta name="rta-log-head">``),
    Markdown (``<!-- rta-log-head: ... -->``), Word (the claims hidden in its title), xlsx
    (sheet ``Revisjon``), qdpx (the project's ``<Description>``), a ``.head`` sidecar, or a
    csv/jsonl with its sidecar beside it."""
    path = Path(path)
    if path.is_dir():
        raise RtaError("is a folder, not a report", path=path, hint="give the report file, e.g. rapport/report.html")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".jsonl") and not path.with_name(path.name + SIDECAR_SUFFIX).exists() and path.exists():
        raise RtaError(f"no {path.name + SIDECAR_SUFFIX} beside this export: a {suffix[1:]} table carries its log "
                       "head in that file", path=path, hint=f"give the {SIDECAR_SUFFIX} file written with it")
    if suffix in (".csv", ".jsonl"):
        path = path.with_name(path.name + SIDECAR_SUFFIX)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RtaError("file not found", path=path, hint="give a report built by 'rta report' or an 'rta export' file") from None
    except OSError as exc:
        raise RtaError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    if suffix == ".docx":
        from rta.report_reading import NotAReport, read_docx

        try:
            head = read_docx(path).claims.log_head
        except NotAReport as exc:
            raise RtaError(f"not a Word report written by rta ({exc})", path=path,
                           hint="give the report.docx 'rta report --format docx' wrote") from None
        found = (head, None) if head else None
    elif suffix in (".xlsx", ".qdpx"):
        found = _head_in_zip(path, data, suffix)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RtaError(f"the file is not UTF-8 text ({exc.reason})", path=path,
                           hint="give an HTML or Markdown report, or an export") from None
        m = _HEAD_IN_HTML.search(text) if suffix in (".html", ".htm") else None
        m = m or _HEAD_IN_TEXT.search(text)
        found = (m.group(1), text.count("\n", 0, m.start()) + 1) if m else None
    if found is None:
        raise RtaError("no rta log head in this file (built by an rta without heads, by another template, "
                       "or not an rta report or export)", path=path,
                       hint="give a report built by 'rta report' or an export, or pass --expect-head SEQ:HASH")
    value, line = found
    try:
        return parse_head(value, source="the log head written in the file", path=path)
    except RtaError as exc:
        exc.line = line
        raise


def _head_in_zip(path: Path, data: bytes, suffix: str) -> tuple[str, int | None] | None:
    """The head text in an xlsx (its 'Revisjon' sheet, or its shared strings once a spreadsheet
    program has saved it again) or a qdpx (project.qde's ``<Description>``)."""
    import io

    from rta.xmlsafe import parse_untrusted_xml

    members = ("xl/worksheets/sheet2.xml", "xl/sharedStrings.xml") if suffix == ".xlsx" else ("project.qde",)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            for member in members:
                if member not in names:
                    continue
                if zf.getinfo(member).file_size > 512 * 1024**2:
                    raise RtaError(f"{member} is too large to read", path=path)
                for el in parse_untrusted_xml(zf.read(member), path, member).iter():
                    text = (el.text or "").strip()
                    m = _HEAD_IN_TEXT.search(text)
                    if m:
                        return m.group(1), None
                    if suffix == ".xlsx" and HEAD_FORM.fullmatch(text):
                        return text, None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise RtaError(f"cannot read the file as a {suffix[1:]} ({exc})", path=path,
                       hint=f"give a {suffix[1:]} written by 'rta export'") from None
    return None


def head_sidecar_text(head: Head, file: Path, data: bytes) -> str:
    """The ``FILE.head`` written beside a csv or jsonl export: its head, name and SHA-256."""
    from rta.fsutil import sha256_bytes

    return (f"{HEAD_META}: {head}\nfile: {file.name}\nsha256: {sha256_bytes(data)}\nwritten: {now()}\n"
            f"# check the project's log against this head: rta audit --since-report {file.name}{SIDECAR_SUFFIX}\n")


# --------------------------------------------------------------------------------------------
# Keys


def _crypto() -> Any:
    """``cryptography``'s serialization and ed25519 modules, imported on first use."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover - a declared dependency
        raise RtaError("signed checkpoints need the 'cryptography' package",
                       hint="pip install 'cryptography>=42,<47'") from None
    return serialization, ed25519


def _unreadable() -> tuple[type[Exception], ...]:
    from cryptography.exceptions import UnsupportedAlgorithm

    return ValueError, UnsupportedAlgorithm


def _inside(path: Path, root: Path) -> bool:
    resolved = path.expanduser().resolve()
    root = root.resolve()
    return resolved == root or resolved.is_relative_to(root)


def key_outside_projects(path: str | Path, project_root: str | Path | None = None) -> Path:
    """``path`` resolved; RtaError when it lies inside ``project_root`` or any rta project
    folder (the private key must not travel with the project it protects)."""
    from rta.project import find_project_root

    path = Path(path)
    roots = [Path(project_root)] if project_root is not None else []
    enclosing = find_project_root(path.expanduser().resolve().parent)
    if enclosing is not None:
        roots.append(enclosing)
    for root in roots:
        if _inside(path, root):
            raise RtaError("the private key must be outside the project folder: whoever has it can sign a "
                           "rewritten log", path=path,
                           hint=f"keep it somewhere only you can read, outside {root.resolve()}, "
                                f"e.g. ~/rta-keys/{root.resolve().name}-checkpoint.pem")
    return path.expanduser().resolve()


def public_key_path(private: str | Path) -> Path:
    """Where :func:`generate_keys` writes the public key: ``FILE.pub`` beside the private one."""
    private = Path(private)
    return private.with_name(private.name + ".pub")


def generate_keys(out: str | Path, project_root: str | Path | None = None) -> tuple[Path, Path, str]:
    """A new Ed25519 key pair: the private key (PEM, PKCS#8, mode 0600) at ``out`` and the
    public key at ``out.pub``; returns both paths and the key id. Refuses ``out`` inside a
    project folder, and never overwrites a key."""
    serialization, ed25519 = _crypto()
    out = Path(out)
    key_outside_projects(out, project_root)
    pub = public_key_path(out)
    if out.is_dir():
        raise RtaError("is a folder", path=out, hint="name the key file, e.g. ~/rta-keys/studie-checkpoint.pem")
    for target in (out, pub):
        if target.exists():
            raise RtaError("a file is already there; rta never overwrites a key", path=target,
                           hint="choose another name, or remove the old key yourself if it is no longer used")
    if not out.parent.is_dir():
        raise RtaError("the folder does not exist", path=out.parent, hint=f"create it first: mkdir -p {out.parent}")
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = private.public_key()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        os.chmod(out, 0o600)  # whatever the umask
        with open(pub, "xb") as fh:
            fh.write(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    except OSError as exc:
        raise RtaError(f"cannot write the key: {exc.strerror or exc}", path=out,
                       hint="give a file in a folder you can write to") from None
    return out, pub, key_id(public)


def key_id(public: Any) -> str:
    """A public key's id: the first 16 hex digits of the SHA-256 of its 32 raw bytes."""
    import hashlib

    serialization, _ = _crypto()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _read_key_file(path: Path, what: str) -> bytes:
    if path.is_dir():
        raise RtaError(f"the {what} path is a folder", path=path, hint=f"give the {what} file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise RtaError(f"{what} file not found", path=path,
                       hint="create a key pair with 'rta checkpoint keygen --out FILE' (outside the project)") from None
    except OSError as exc:
        raise RtaError(f"cannot read the {what}: {exc.strerror or exc}", path=path) from None


def load_private_key(path: str | Path, project_root: str | Path | None = None) -> Any:
    """The Ed25519 private key in ``path`` (PEM, unencrypted), refused inside the project."""
    serialization, ed25519 = _crypto()
    path = Path(path)
    key_outside_projects(path, project_root)
    data = _read_key_file(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise RtaError("the private key is encrypted with a passphrase; rta reads unencrypted keys only", path=path,
                       hint="protect the key by where it is kept (mode 0600, outside the project)") from None
    except _unreadable() as exc:  # malformed PEM, another algorithm
        raise RtaError(f"not a private key rta can read ({type(exc).__name__})", path=path,
                       hint="give the file 'rta checkpoint keygen --out FILE' wrote (not the .pub)") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise RtaError("not an Ed25519 private key", path=path,
                       hint="create one with 'rta checkpoint keygen --out FILE'")
    return key


def load_public_key(path: str | Path) -> Any:
    """The Ed25519 public key in ``path`` (PEM)."""
    serialization, ed25519 = _crypto()
    path = Path(path)
    data = _read_key_file(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except _unreadable() as exc:
        raise RtaError(f"not a public key rta can read ({type(exc).__name__})", path=path,
                       hint="give the .pub file 'rta checkpoint keygen --out FILE' wrote beside the private key") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise RtaError("not an Ed25519 public key", path=path, hint="give the .pub file 'rta checkpoint keygen' wrote")
    return key


# --------------------------------------------------------------------------------------------
# Checkpoints


@dataclass
class Checkpoint:
    """A signed head: what ``rta checkpoint`` wrote, and where it was found again."""

    seq: int
    hash: str
    signed: str
    key: str
    coder: str | None
    signature: str
    source: str  # the file, or 'log entry N' for a checkpoint known only from the log

    @property
    def head(self) -> Head:
        return Head(self.seq, self.hash)

    def body(self) -> dict[str, Any]:
        """What is signed: every field but the signature and where it was found."""
        return {"format": CHECKPOINT_FORMAT, "seq": self.seq, "hash": self.hash, "signed": self.signed,
                "key": self.key, "coder": self.coder}

    def message(self) -> bytes:
        return canonical_json(self.body()).encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        return {**self.body(), "signature": self.signature}


def checkpoint_file(root: Path, seq: int) -> Path:
    return root / CHECKPOINT_FOLDER / f"checkpoint-{seq:06d}.json"


def create_checkpoint(project: Any, key_path: str | Path, coder: str | None) -> tuple[Checkpoint, Path]:
    """Sign the log's current head with the private key at ``key_path`` (outside the project),
    write it to ``checkpoints/checkpoint-SEQ.json`` and log it as ``checkpoint.signed``, in one
    step (the file appears only with its event). Refused when the project fails ``rta audit``:
    a signature would vouch for a log already edited."""
    from rta.audit import audit
    from rta.errors import AuditFailure
    from rta.fsutil import StagedWrites, recover_staged

    store: Store = project.store
    private = load_private_key(key_path, project.root)
    kid = key_id(private.public_key())
    recover_staged(store, [project.root / CHECKPOINT_FOLDER])
    result = audit(store)
    if not result.ok:
        raise AuditFailure(f"the project does not pass the audit ({len(result.failures)} failure(s)); no checkpoint "
                           "was signed", hint="run 'rta audit' to see what fails: a signature would vouch for it")
    with StagedWrites() as staged:
        with store.transaction():
            head = log_head(store)
            cp = Checkpoint(head.seq, head.hash, now(), kid, coder, "", "")
            cp.signature = base64.b64encode(private.sign(cp.message())).decode("ascii")
            path = checkpoint_file(project.root, head.seq)
            cp.source = str(path.relative_to(project.root))
            staged.stage(path, json.dumps(cp.to_dict(), ensure_ascii=False, indent=2) + "\n")
            store.log_event("checkpoint.signed", {**cp.to_dict(), "file": cp.source}, coder)
            staged.journal(store)
    return cp, path


def _from_dict(data: Any, source: str) -> Checkpoint | str:
    """A checkpoint from its JSON, or why it cannot be one."""
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        return f"not an rta checkpoint (format is not {CHECKPOINT_FORMAT})"
    seq, digest, sig = data.get("seq"), data.get("hash"), data.get("signature")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(digest, str) \
            or not HEAD_FORM.fullmatch(f"{seq}:{digest}") or not isinstance(sig, str):
        return "seq, hash or signature missing or malformed"
    signed, key, coder = data.get("signed"), data.get("key"), data.get("coder")
    if not isinstance(signed, str) or not isinstance(key, str) or not (coder is None or isinstance(coder, str)):
        return "signed, key or coder missing or malformed"
    return Checkpoint(seq, digest, signed, key, coder, sig, source)


def find_checkpoints(project: Any) -> tuple[list[Checkpoint], list[tuple[str, str]]]:
    """Every checkpoint of the project: the files in ``checkpoints/`` and those logged as
    ``checkpoint.signed`` (one deleted from either place is still found in the other), without
    repeats; and each unreadable one with why."""
    found: dict[tuple[int, str, str], Checkpoint] = {}
    bad: list[tuple[str, str]] = []
    folder = project.root / CHECKPOINT_FOLDER
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    for path in files:
        source = str(path.relative_to(project.root))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            bad.append((source, f"unreadable ({type(exc).__name__})"))
            continue
        cp = _from_dict(data, source)
        if isinstance(cp, str):
            bad.append((source, cp))
        else:
            found.setdefault((cp.seq, cp.hash, cp.signature), cp)
    for r in project.store.conn.execute("SELECT seq, payload FROM events WHERE kind = 'checkpoint.signed' ORDER BY seq"):
        try:
            data = json.loads(r["payload"])
        except ValueError:
            bad.append((f"log entry {r['seq']}", "payload is not JSON"))
            continue
        if isinstance(data, dict):
            data.pop("file", None)
        cp = _from_dict(data, f"log entry {r['seq']}")
        if isinstance(cp, str):
            bad.append((f"log entry {r['seq']}", cp))
        else:
            found.setdefault((cp.seq, cp.hash, cp.signature), cp)
    return sorted(found.values(), key=lambda c: (c.seq, c.source)), bad


def verify_checkpoints(project: Any, pubkey_path: str | Path, chain_verified: bool = False) -> AuditReport:
    """Check every checkpoint: its signature verifies with the public key at ``pubkey_path``,
    and the log still holds its entry with its hash, the chain intact up to it. No checkpoint
    at all is a failure too (there is nothing to anchor the log)."""
    from cryptography.exceptions import InvalidSignature

    public = load_public_key(pubkey_path)
    kid = key_id(public)
    checkpoints, bad = find_checkpoints(project)
    report = AuditReport()
    for source, why in bad:
        report.add("checkpoint", why, checkpoint=source)
    if not checkpoints:
        report.add("checkpoint", "no signed checkpoint in this project (checkpoints/ and the log hold none; "
                                 "'rta checkpoint --key FILE' signs one)")
    signed_ok: list[Checkpoint] = []
    for cp in checkpoints:
        try:
            signature = base64.b64decode(cp.signature, validate=True)
            public.verify(signature, cp.message())
        except (InvalidSignature, ValueError):
            other = f" (it names key {cp.key}, the given key is {kid})" if cp.key != kid else ""
            report.add("checkpoint", f"signature does not verify with the public key {pubkey_path}{other}: "
                                     "the checkpoint was forged or altered, or another key signed it",
                       checkpoint=cp.source, entry=cp.seq)
            continue
        signed_ok.append(cp)
    heads = check_heads(project.store, [(cp.head, cp.source) for cp in signed_ok], chain_verified)
    for f in heads.failures:
        f.kind = "checkpoint"
    report.failures.extend(heads.failures)
    report.checked["signed checkpoints"] = len(checkpoints)
    return report


# --------------------------------------------------------------------------------------------
# What 'rta audit' is asked to check


@dataclass
class Anchors:
    """The anchors ``rta audit`` was given: expected heads and a public key, all read and
    checked before the audit runs (bad input exits 2 without work)."""

    heads: list[tuple[Head, str]]
    pubkey: Path | None

    def check(self, project: Any, result: AuditReport) -> Head:
        """Add the head and checkpoint checks to ``result`` (the audit just run: when its chain
        check passed, the chain is not walked again); returns the log's head."""
        verified = result.checked.get("events", 0) > 0 and not any(f.kind == "chain" for f in result.failures)
        for extra in ([check_heads(project.store, self.heads, verified)] if self.heads else []) + \
                ([verify_checkpoints(project, self.pubkey, verified)] if self.pubkey is not None else []):
            result.checked.update(extra.checked)
            result.failures.extend(extra.failures)
        return log_head(project.store)


def anchors_of(expect_head: str | None, since_report: str | Path | None, verify: bool,
               pubkey: str | Path | None) -> Anchors:
    """Read ``--expect-head``, ``--since-report`` and ``--pubkey`` (``--verify-checkpoints``
    needs it; ``--pubkey`` alone implies it): an RtaError for anything unreadable."""
    heads: list[tuple[Head, str]] = []
    if expect_head is not None:
        heads.append((parse_head(expect_head), "--expect-head"))
    if since_report is not None:
        heads.append((head_from_file(since_report), str(since_report)))
    if verify and pubkey is None:
        raise RtaError("--verify-checkpoints needs the public key: add --pubkey FILE",
                       hint="the .pub file 'rta checkpoint keygen' wrote beside the private key")
    if pubkey is not None:
        load_public_key(pubkey)  # refuse a missing or unreadable key before the audit runs
    return Anchors(heads, Path(pubkey) if pubkey is not None else None)
