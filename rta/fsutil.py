"""File helpers that never leave a half-written file behind, readable by the owner only.

Modes: every file rta writes (the store, reports, exports, keys, staged files) is created
0600 and every folder it creates for a project 0700, both narrowed further by the umask
(never wider than the umask allows). A *shared* folder, one with the setgid bit and group
read/write/search (``rta init --shared-group`` makes the project folder so, mode 2770), gets
files 0660 instead, so a team that shares a Unix group can work in it; the umask still applies.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Iterable

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
SHARED_FILE = 0o660
SHARED_FOLDER = 0o2770  # setgid: new files keep the folder's group


def current_umask() -> int:
    """The process umask (read by setting and restoring it: there is no other way)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def is_shared_folder(folder: str | Path) -> bool:
    """A folder meant for a team: setgid and group read/write/search (``rta init --shared-group``)."""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_ISGID) and mode & 0o070 == 0o070


def file_mode(folder: str | Path) -> int:
    """The mode for a new file in ``folder``: 0600, or 0660 in a shared folder, less the umask."""
    wanted = SHARED_FILE if is_shared_folder(folder) else PRIVATE_FILE
    return wanted & ~current_umask()


def _set_mode(fd: int, folder: Path) -> None:
    """Give a freshly created (0600) file the mode :func:`file_mode` says (only a shared folder
    changes it). Best effort: some file systems ignore modes."""
    if os.name == "nt":
        return
    mode = file_mode(folder)
    if mode != PRIVATE_FILE:
        try:
            os.fchmod(fd, mode)
        except OSError:
            pass


def create_private_file(path: str | Path) -> None:
    """Create an empty ``path`` (which must not exist) with :func:`file_mode` of its folder, so
    a program that opens it afterwards (SQLite for ``rta.db``: its -wal and -shm files copy the
    database's mode) never makes it readable by others."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode(path.parent))
    os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    A crash mid-write leaves either the old file or the new one, never a mixture.
    """
    path = Path(path)
    if path.is_dir():
        raise _cannot_write(path, IsADirectoryError(21, "it is a folder, not a file"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # a read-only folder, a file in the way of a folder
        raise _cannot_write(path, exc) from None
    try:
        _set_mode(fd, path.parent)  # mkstemp made it 0600; a shared folder's files are 0660
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):  # a full disk, a quota: the old file (if any) is intact
            raise _cannot_write(path, exc) from None
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Atomic UTF-8 text write with LF line ends."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _cannot_write(path: Path, exc: OSError) -> Exception:
    from rta.errors import RtaError

    return RtaError(f"cannot write the file: {exc.strerror or exc}", path=path,
                    hint="give a file name in a folder you can write to; nothing was written")


def check_output_file(path: str | Path) -> None:
    """Refuse, before any work is done, an output file that cannot be written: a folder, or a
    file whose folder is missing or not writable (RtaError naming the path and what to do)."""
    from rta.errors import RtaError

    path = Path(path)
    if path.is_dir():
        raise RtaError(f"{path} is a folder, not a file", hint=f"give a file name, e.g. {path / 'NAME'}")
    folder = path.parent
    if not folder.is_dir():
        if folder.exists():
            raise RtaError(f"{folder} is not a folder", hint="choose another place for the output file")
        raise RtaError(f"the folder {folder} does not exist",
                       hint=f"create it first (mkdir -p {folder}) or choose another place")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RtaError(f"cannot write in {folder}: permission denied", hint="choose a folder you can write to")


def check_output_folder(path: str | Path) -> None:
    """Refuse an output folder that cannot be used: a file, a missing parent folder, or a
    folder (or parent, when it does not exist yet) that is not writable."""
    from rta.errors import RtaError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RtaError(f"{path} is a file, not a folder", hint="give a folder for the output (created if missing)")
    target = path if path.exists() else path.parent
    if not target.is_dir():
        raise RtaError(f"the folder {target} does not exist",
                       hint=f"create it first (mkdir -p {target}) or choose another place")
    if not os.access(target, os.W_OK | os.X_OK):
        raise RtaError(f"cannot write in {target}: permission denied", hint="choose a folder you can write to")


def sha256_text(text: str) -> str:
    """Hex SHA-256 of the UTF-8 encoding of ``text``: how rta fingerprints texts and quotes."""
    if len(text) <= 1 << 20:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    digest = hashlib.sha256()  # large transcripts: no full UTF-8 copy in memory
    for i in range(0, len(text), 1 << 20):
        digest.update(text[i : i + (1 << 20)].encode("utf-8"))
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# Several files that appear together, after the store has committed
#
# A command that writes more than one file (``rta report``: report.html and report.md;
# ``rta import-qdpx``: one transcript per source into imported/) stages every file first as a
# temporary file beside its target, named ``.rta-staged.<pid>.<token>.<random>.<name>.tmp`` and
# readable by the owner only (0600). Only after the store transaction that records the command
# has committed are the temporary files renamed onto their targets. So:
#
# * killed (or failing) before the commit: the targets are untouched, the store has no event,
#   and the temporary files are removed (by the command itself on an exception, or by the next
#   command's :func:`recover_staged` when the process was killed: its pid is gone);
# * killed after the commit, before or between the renames: the store has the event and a
#   journal row (meta ``staged:<token>``, written in the same transaction) listing every
#   temporary file and its target; the next command's :func:`recover_staged` finishes the renames
#   ("rolls forward"), so the files always end up matching what the store recorded.

STAGED_PREFIX = ".rta-staged."
STAGED_SUFFIX = ".tmp"
JOURNAL_PREFIX = "staged:"
PAUSE_ENV = "RTA_TEST_STAGED_PAUSE"  # tests only: "before-commit", "after-commit" or "mid-rename"
STALE_SECONDS = 24 * 3600  # a leftover whose pid is alive again (pid reuse) is removed after this

# tokens of StagedWrites still in progress in this process (their files are not leftovers)
_ACTIVE: set[str] = set()


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill would end the process there: assume alive (cleaned when stale)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def _fsync_dir(folder: Path) -> None:
    """Make the renames in ``folder`` durable (best effort: not every system can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _test_pause(point: str) -> None:
    """A hook for the kill tests: when $RTA_TEST_STAGED_PAUSE names ``point``, say so on
    stderr and wait to be killed. Does nothing otherwise."""
    if os.environ.get(PAUSE_ENV) == point:
        import sys
        import time

        print(f"rta-test-paused:{point}", file=sys.stderr, flush=True)
        time.sleep(120)


def _parse_staged_name(name: str) -> tuple[int, str] | None:
    """(pid, token) of a staged temporary file's name, None for any other name."""
    if not (name.startswith(STAGED_PREFIX) and name.endswith(STAGED_SUFFIX)):
        return None
    parts = name[len(STAGED_PREFIX):].split(".", 2)
    if len(parts) < 3 or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1]


def _is_leftover(pid: int, token: str, mtime: float | None = None) -> bool:
    """Whether a staged file or journal row belongs to no running command: its process is
    gone, or it is this process's and no StagedWrites holds it, or it is very old."""
    if pid == os.getpid():
        return token not in _ACTIVE
    if not _pid_alive(pid):
        return True
    import time

    return mtime is not None and time.time() - mtime > STALE_SECONDS


class StagedWrites:
    """Write several files so that they appear together, and only after the store commits.

    ::

        with StagedWrites() as staged:
            staged.stage(folder / "report.html", html)
            staged.stage(folder / "report.md", md)
            with store.transaction():
                store.log_event(...)
                staged.journal(store)   # inside the transaction: a kill after it is rolled forward
        # leaving the block without an exception renames every file into place (commit());
        # an exception removes every staged file and leaves the targets as they were

    Each target is checked when staged (not a folder, its folder writable), so the renames after
    the commit do not fail on anything foreseeable."""

    def __init__(self) -> None:
        import secrets

        self.token = secrets.token_hex(6)
        self.files: list[tuple[Path, Path]] = []  # (temporary file, target)
        self._store: Any = None
        self._done = False

    # -- staging --------------------------------------------------------------------------
    def stage(self, path: str | Path, data: bytes | str) -> Path:
        """Write ``data`` (str: UTF-8) to a temporary file beside ``path``; returns its path."""
        from rta.errors import RtaError

        if self._done:
            raise RuntimeError("StagedWrites already committed or discarded")
        target = Path(path).absolute()
        if any(target == t for _, t in self.files):
            raise RuntimeError(f"{target} staged twice")
        if target.is_dir():
            raise RtaError("is a folder, not a file", path=target, hint="give a file name, or move the folder away")
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise RtaError("cannot create the folder: a file is in the way", path=target.parent,
                           hint="move the file away or choose another output folder") from None
        except PermissionError:
            raise RtaError("cannot create the folder: permission denied", path=target.parent,
                           hint="choose a folder you can write to") from None
        _ACTIVE.add(self.token)
        name = target.name[:80]
        try:
            fd, tmp = tempfile.mkstemp(prefix=f"{STAGED_PREFIX}{os.getpid()}.{self.token}.",
                                       suffix=f".{name}{STAGED_SUFFIX}", dir=target.parent)
        except PermissionError:
            raise RtaError("cannot write in this folder: permission denied", path=target.parent,
                           hint="choose a folder you can write to") from None
        self.files.append((Path(tmp), target))
        try:
            _set_mode(fd, target.parent)
            with os.fdopen(fd, "wb") as fh:  # mkstemp: created 0600, readable by the owner only
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:  # a full disk, a quota: nothing is in place yet
            raise RtaError(f"cannot write the file: {exc.strerror or exc}", path=target,
                           hint="free some space or choose another folder; nothing was changed") from None
        return Path(tmp)

    def journal(self, store: Any) -> None:
        """Record the staged files in ``store`` inside its open transaction, so a process
        killed after the commit but before the renames is completed by :func:`recover_staged`."""
        import json

        if not store.in_transaction:
            raise RuntimeError("StagedWrites.journal must be called inside Store.transaction()")
        store.set_meta(JOURNAL_PREFIX + self.token, json.dumps(
            {"pid": os.getpid(), "files": [[str(tmp), str(target)] for tmp, target in self.files]},
            ensure_ascii=False))
        self._store = store
        _test_pause("before-commit")

    # -- finishing ------------------------------------------------------------------------
    def commit(self) -> list[Path]:
        """Rename every staged file onto its target (after the store transaction committed);
        returns the targets."""
        if self._done:
            return [t for _, t in self.files]
        if self._store is not None and self._store.in_transaction:
            raise RuntimeError("StagedWrites.commit must run after the store transaction has committed")
        _test_pause("after-commit")
        try:
            for i, (tmp, target) in enumerate(self.files):
                os.replace(tmp, target)
                if i == 0:
                    _test_pause("mid-rename")
            for folder in dict.fromkeys(t.parent for _, t in self.files):
                _fsync_dir(folder)
            self._done = True
        finally:
            # on failure the journal row stays: the next command rolls the renames forward
            _ACTIVE.discard(self.token)
        if self._store is not None:
            _drop_journal(self._store, [JOURNAL_PREFIX + self.token])
        return [t for _, t in self.files]

    def discard(self) -> None:
        """Remove every staged file; the targets stay as they were."""
        for tmp, _ in self.files:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                pass  # removed by the next command's recover_staged
        self._done = True
        _ACTIVE.discard(self.token)

    def __enter__(self) -> "StagedWrites":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._done:
            return
        if exc_type is None:
            self.commit()
        elif self._store is not None and self._journal_committed():
            # the store committed the journal, then something failed: keep the files for the
            # roll-forward rather than leave the store and the files disagreeing
            _ACTIVE.discard(self.token)
        else:
            self.discard()

    def _journal_committed(self) -> bool:
        store = self._store
        if store.in_transaction:
            return False
        try:
            return store.get_meta(JOURNAL_PREFIX + self.token) is not None
        except Exception:
            return False


def _drop_journal(store: Any, keys: list[str]) -> None:
    if not keys:
        return
    with store.transaction():
        store.conn.executemany("DELETE FROM meta WHERE key = ?", [(k,) for k in keys])


def recover_staged(store: Any = None, folders: Iterable[str | Path] = ()) -> list[str]:
    """Clean up after a command that was killed while writing files: finish the renames of
    every journal in ``store`` whose command is gone (its store transaction had committed), then
    remove staged temporary files of gone commands from ``folders``. Returns what was done, one
    line per file, for a note to the user. Cheap when there is nothing to do."""
    import json

    done: list[str] = []
    sweep = {Path(f).absolute() for f in folders}
    if store is not None and not store.in_transaction:
        rows = store.conn.execute("SELECT key, value FROM meta WHERE key LIKE ?",
                                  (JOURNAL_PREFIX + "%",)).fetchall()
        finished: list[str] = []
        for key, value in rows:
            try:
                entry = json.loads(value)
                pid, files = int(entry["pid"]), [(Path(a), Path(b)) for a, b in entry["files"]]
            except (ValueError, KeyError, TypeError):
                finished.append(key)  # unreadable: nothing to roll forward
                continue
            if not _is_leftover(pid, key[len(JOURNAL_PREFIX):]):
                continue
            for tmp, target in files:
                sweep.add(target.parent)
                if tmp.exists():
                    try:
                        os.replace(tmp, target)
                        done.append(f"completed {target} (its command was interrupted after recording it)")
                    except OSError as exc:
                        done.append(f"could not complete {target}: {exc.strerror or exc}")
            finished.append(key)
        _drop_journal(store, finished)
    for folder in sweep:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            parsed = _parse_staged_name(entry.name)
            if parsed is None:
                continue
            try:
                mtime = entry.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
            if _is_leftover(*parsed, mtime=mtime):
                try:
                    os.unlink(entry.path)
                    done.append(f"removed {entry.path} (left by an interrupted command)")
                except OSError:
                    pass
    return done
