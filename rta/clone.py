"""``rta clone``: a working copy of a project for a co-coder (merged back with :mod:`rta.merge`)."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from rta.errors import RtaError
from rta.store import Store, log_head


def clone(source: str | Path, dest: str | Path, coder: str) -> Any:
    """A working copy of the project at ``source`` for a co-coder: the configuration, the
    registry and codebook files and the store (copied consistently with SQLite's backup, even
    while someone works in the source), with ``coder`` as the copy's coder and a
    'project.cloned' entry giving it its own copy id. Nothing else comes along: not the
    reports, exports or checkpoints of the source, and never a pseudonym key (it is kept
    outside projects; a key file found in the folder is left out too)."""
    from rta.config import CONFIG_NAME, load_config, save_config
    from rta.fsutil import atomic_write_bytes, create_private_file, is_shared_folder
    from rta.copies import copy_id
    from rta.project import STORE_NAME, Project, _make_project_folder

    src = Path(source)
    if not (src / CONFIG_NAME).is_file() or not (src / STORE_NAME).is_file():
        raise RtaError("not an rta project (no rta.toml and rta.db here)", path=src,
                       hint="give the folder of the project to copy")
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise RtaError("exists and is not an empty folder", path=dest, hint="choose a new folder for the copy")
    if not coder.strip():
        raise RtaError("the copy needs a coder", hint="rta clone DIR NEWDIR --coder NAME")
    config = load_config(src / CONFIG_NAME)
    source_store = Store(src / STORE_NAME)  # (upgrades an older store, as any command would)
    created = not dest.exists()
    _make_project_folder(dest, is_shared_folder(src))
    try:
        for rel in (config.registry, config.codebook):
            path = src / rel
            if path.is_file() and not _looks_like_key(path):
                atomic_write_bytes(dest / rel, path.read_bytes())
        create_private_file(dest / STORE_NAME)
        target = sqlite3.connect(str(dest / STORE_NAME))
        try:
            source_store.conn.backup(target)
        finally:
            target.close()
        config.coder = coder.strip()
        store = Store(dest / STORE_NAME)
        try:
            with store.transaction():
                store.log_event("project.cloned", {"copy": uuid.uuid4().hex, "from": copy_id(source_store),
                                                   "head": str(log_head(source_store)),
                                                   "source": str(src.resolve())}, config.coder)
        finally:
            store.close()
        save_config(dest / CONFIG_NAME, config)
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            for name in (CONFIG_NAME, STORE_NAME, STORE_NAME + "-wal", STORE_NAME + "-shm", config.registry,
                         config.codebook):
                (dest / name).unlink(missing_ok=True)
        raise
    finally:
        source_store.close()
    return Project.open(dest)


def _looks_like_key(path: Path) -> bool:
    """A pseudonym key (rta anonymise apply's JSON/YAML) where a project file should be."""
    try:
        head = path.read_bytes()[:4096].decode("utf-8", "replace")
    except OSError:
        return False
    from rta.pseudonyms import KEY_FORMAT

    return f'"format": "{KEY_FORMAT}"' in head or f"format: {KEY_FORMAT}" in head
