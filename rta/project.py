"""A project: a study folder with ``rta.toml``, its registry and codebook, and the store.

    study/
      rta.toml          configuration
      informants.yaml   informant registry (a copy of Tabell 2 unless another is given)
      codebook.yaml     the codebook (a copy of Tabell 3 unless another is given)
      rta.db            the project store (SQLite, WAL)
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from rta.config import CONFIG_NAME, Config, load_config, save_config
from rta.errors import RtaError
from rta.fsutil import atomic_write_bytes, create_private_file
from rta.store import Store

if TYPE_CHECKING:  # imported where used: opening a project for a read (rta show) needs no YAML or parser
    from rta.informants import Registry
    from rta.transcripts import Transcript

STORE_NAME = "rta.db"


@dataclass
class AddResult:
    """What ``rta add`` did with one file."""

    path: Path
    transcript_id: str
    status: str  # 'added' | 'unchanged' | 'revised'
    revision: int
    turns: int
    words: int
    anchored: list = field(default_factory=list)  # rta.anchor.AnchorResult per moved coding
    suggestions: list = field(default_factory=list)  # rta.anchor.SuggestionMove per pending suggestion


def find_project_root(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


def default_coder() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database
        return "researcher"


class Project:
    """An open project. Use :meth:`init` to create one and :meth:`open` to open one."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.config = config

    # -- creation and opening -------------------------------------------------------------
    @classmethod
    def init(
        cls,
        root: str | Path,
        name: str | None = None,
        coder: str | None = None,
        registry: str | Path | None = None,
        codebook: str | Path | None = None,
        shared_group: bool = False,
    ) -> "Project":
        """Create a project folder. Refuses to overwrite an existing project.

        The folder (when rta creates it) is 0700 and every file in it 0600, narrowed by the
        umask: transcripts and memos are personal data. ``shared_group`` is the opt-in for a
        team that shares a Unix group: the folder becomes 2770 (setgid) and its files 0660, so
        the group can read and write them (:mod:`rta.fsutil`)."""
        from rta.informants import load_registry
        from rta.resources import default_codebook_path, default_registry_path

        root = Path(root)
        if root.exists() and not root.is_dir():
            raise RtaError("exists and is not a folder", path=root, hint="choose another folder name")
        if (root / CONFIG_NAME).exists() or (root / STORE_NAME).exists():
            raise RtaError("a project already exists here", path=root / CONFIG_NAME, hint="open it, or choose another folder")
        registry_src = Path(registry) if registry else default_registry_path()
        load_registry(registry_src)  # fail before creating anything
        codebook_src = Path(codebook) if codebook else default_codebook_path()
        if codebook and not codebook_src.is_file():
            raise RtaError("codebook not found", path=codebook_src)
        _make_project_folder(root, shared_group)
        config = Config(name=name or root.resolve().name, coder=coder or default_coder())
        created: list[Path] = []
        try:
            for src, dest in ((registry_src, root / config.registry), (codebook_src, root / config.codebook)):
                if src.is_file():
                    created.append(dest)
                    atomic_write_bytes(dest, src.read_bytes())  # 0600 (0660 in a shared folder)
            create_private_file(root / STORE_NAME)  # SQLite's -wal and -shm copy this mode
            created.append(root / STORE_NAME)
            store = Store(root / STORE_NAME, create=True)
            project = cls(root.resolve(), config)
            project.__dict__["store"] = store
            with store.transaction():
                store.set_meta("name", config.name)
                store.set_meta("phase", "1")
                store.log_event("project.created", {"name": config.name}, config.coder)
                store.sync_informants(project.registry, config.coder)
            save_config(root / CONFIG_NAME, config)
        except BaseException:
            for path in created:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
            raise
        return project

    @classmethod
    def open(cls, root: str | Path | None = None) -> "Project":
        """Open the project at ``root``, or the nearest one upwards from the working folder."""
        if root is None:
            found = find_project_root()
            if found is None:
                raise RtaError(
                    "not inside an rta project",
                    hint="run 'rta init DIR' to create one, cd into it, or pass --project DIR",
                )
            root = found
        root = Path(root)
        if not (root / CONFIG_NAME).is_file():
            raise RtaError("no rta project here (rta.toml missing)", path=root, hint="run 'rta init DIR' first")
        return cls(root.resolve(), load_config(root / CONFIG_NAME))

    # -- parts ----------------------------------------------------------------------------
    @cached_property
    def store(self) -> Store:
        return Store(self.root / STORE_NAME)

    @cached_property
    def registry(self) -> Registry:
        from rta.informants import load_registry

        return load_registry(self.root / self.config.registry)

    @property
    def codebook_path(self) -> Path:
        return self.root / self.config.codebook

    def coder(self, override: str | None = None) -> str:
        """Who is making a decision: ``--coder``, then ``$RTA_CODER``, then rta.toml."""
        return override or os.environ.get("RTA_CODER") or self.config.coder or default_coder()

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]

    # -- transcripts ----------------------------------------------------------------------
    def parse(self, path: str | Path, encoding: str = "utf-8") -> Transcript:
        from rta.transcripts import parse_file

        return parse_file(path, self.registry, encoding=encoding)

    def add_files(
        self,
        paths: list[str | Path],
        encoding: str = "utf-8",
        coder: str | None = None,
        revise: bool = False,
        force: bool = False,
    ) -> list[AddResult]:
        """Import transcripts: all files are parsed and checked first, then stored in one
        transaction, so a bad file leaves the project unchanged.

        Re-adding an unchanged file does nothing; a changed file from the same path becomes a
        new revision and its codings are re-anchored. A file from another path with an id the
        project already has is refused unless ``revise`` says it is a corrected version. A file
        whose text is a revision that ``rta anonymise apply`` replaced is refused unless
        ``force``: storing it again would bring the real names back."""
        parsed: list[tuple[Path, Transcript]] = []
        seen: dict[str, Path] = {}
        for raw in paths:
            path = Path(raw)
            transcript = self.parse(path, encoding=encoding)
            if transcript.id in seen:
                raise RtaError(
                    f"duplicate transcript id '{transcript.id}' (also in {seen[transcript.id]})",
                    path=path,
                    line=1,
                    hint="give one of them another file name or an `id:` in its front matter",
                )
            seen[transcript.id] = path
            parsed.append((path, transcript))
        who = self.coder(coder)
        results: list[AddResult] = []
        store = self.store
        with store.transaction():
            store.sync_informants(self.registry, who)
            for path, transcript in parsed:
                results.append(self._store_transcript(path, transcript, who, revise, force=force))
        return results

    def add_revision_text(
        self, transcript_id: str, text: str, coder: str | None = None, note: str | None = None
    ) -> AddResult:
        """Store an edited text (e.g. pseudonymised by ``rta anonymise apply``) as a new revision
        of a transcript already in the project, through the same path as :meth:`add_files`, so
        its codings are re-anchored. Joins the caller's transaction if there is one."""
        from rta.transcripts import parse_text

        row = self.store.transcript_row(transcript_id)
        if row is None:
            raise RtaError(f"no transcript '{transcript_id}' in this project", hint="see 'rta transcripts'")
        path = Path(row["source_path"]) if row["source_path"] else Path(transcript_id)
        transcript = parse_text(text, self.registry, path=path, default_id=transcript_id)
        if transcript.id != transcript_id:
            raise RtaError(f"the new text's id '{transcript.id}' is not '{transcript_id}'", path=path, line=1,
                           hint="keep the front matter `id:` unchanged")
        with self.store.transaction():
            self.store.sync_informants(self.registry, self.coder(coder))
            return self._store_transcript(path, transcript, self.coder(coder), True, note=note)

    def _store_transcript(
        self, path: Path, transcript: Transcript, coder: str, revise: bool, note: str | None = None,
        force: bool = False,
    ) -> AddResult:
        store = self.store
        row = store.transcript_row(transcript.id)
        source = str(path.resolve())
        restored_from: int | None = None
        if row is not None:
            current = store.conn.execute(
                "SELECT sha256, source_path FROM transcript_revisions WHERE transcript_id=? AND revision=?",
                (transcript.id, row["revision"]),
            ).fetchone()
            if current["sha256"] == transcript.sha256:
                return AddResult(path, transcript.id, "unchanged", row["revision"], len(transcript.turns), transcript.words)
            if not revise and current["source_path"] and Path(current["source_path"]) != path.resolve():
                raise RtaError(
                    f"duplicate transcript id '{transcript.id}': the project already has it from {current['source_path']}",
                    path=path,
                    line=1,
                    hint="if this is a corrected version, use 'rta add --revise'; otherwise set another `id:` in its front matter",
                )
            restored = _superseded_by_pseudonymisation(store, transcript.id, transcript.sha256)
            if restored is not None:
                old, pseudonymised = restored
                if not force:
                    raise RtaError(
                        f"this is the text before pseudonymisation (revision {old}); adding it would bring back "
                        "the names",
                        path=path,
                        hint=f"'rta anonymise apply' replaced it with revision {pseudonymised}; keep working on that "
                             "one (pseudonymise a corrected file before adding it), or pass --force if you really "
                             "mean to store the real names again",
                    )
                restored_from = old
                note = note or f"added with --force: the text of revision {old}, from before pseudonymisation"
        for informant in transcript.declared:
            store.conn.execute(
                "INSERT OR IGNORE INTO informants(code, role, grp, attributes, position) VALUES (?,?,?,?,?)",
                (informant.code, informant.role, informant.group, "{}", 10_000),
            )
        store.log_informants(coder)
        revision = store.insert_revision(transcript, source, coder, note)
        status = "added" if revision == 1 else "revised"
        from rta.rowhash import transcript_digests

        payload = {"transcript": transcript.id, "revision": revision, "sha256": transcript.sha256, "source": source,
                   **transcript_digests(transcript, note)}
        if restored_from is not None:
            payload["before_pseudonymisation"] = restored_from
        store.log_event("transcript.added" if revision == 1 else "transcript.revised", payload, coder)
        if revision > 1:
            from rta.anchor import reanchor_codings, reanchor_suggestions

            anchored = reanchor_codings(store, transcript.id, revision - 1, revision, coder)
            moved = reanchor_suggestions(store, transcript.id, coder)  # none left on the superseded text
            return AddResult(path, transcript.id, status, revision, len(transcript.turns), transcript.words, anchored,
                             moved)
        return AddResult(path, transcript.id, status, revision, len(transcript.turns), transcript.words)


def _make_project_folder(root: Path, shared_group: bool) -> None:
    """Create the project folder 0700 (2770 with ``shared_group``), less the umask. A folder
    that already exists keeps its mode, except that ``shared_group`` adds the setgid bit and
    group access the umask allows (the user asked for it)."""
    from rta.fsutil import PRIVATE_FOLDER, SHARED_FOLDER, current_umask

    wanted = (SHARED_FOLDER if shared_group else PRIVATE_FOLDER) & ~current_umask()
    if not root.exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        try:
            root.mkdir(mode=PRIVATE_FOLDER)  # never open to others, not even for a moment
        except FileExistsError:
            pass
        else:
            if os.name != "nt":
                os.chmod(root, wanted)  # mkdir's mode drops the setgid bit on some systems
            return
    if shared_group and os.name != "nt":
        os.chmod(root, (root.stat().st_mode & 0o7777) | wanted)


def folder_exposure(root: str | Path) -> str | None:
    """A sentence when the project folder lets other users in (group or others may read or
    enter it, outside a shared group folder), else None: for a warning after ``rta init``."""
    from rta.fsutil import is_shared_folder

    if os.name == "nt":
        return None
    mode = Path(root).stat().st_mode & 0o777
    if is_shared_folder(root):
        return None if mode & 0o007 == 0 else f"others than your group can read {root} (mode {mode:o})"
    if mode & 0o077:
        return f"other users can read or enter {root} (mode {mode:o})"
    return None


def _superseded_by_pseudonymisation(store: Store, transcript_id: str, sha256: str) -> tuple[int, int] | None:
    """(revision, pseudonymised revision) when ``sha256`` is the text of a revision that
    ``rta anonymise apply`` later replaced (its 'anonymise.applied' events say which), else None.
    A revision ``rta anonymise purge`` rewrote counts with the hash of the text it had."""
    applied = [r[0] for r in store.conn.execute(
        "SELECT json_extract(payload, '$.revision') FROM events WHERE kind = 'anonymise.applied' "
        "AND json_extract(payload, '$.transcript') = ?", (transcript_id,)) if isinstance(r[0], int)]
    if not applied:
        return None
    revisions = [r["revision"] for r in store.conn.execute(
        "SELECT revision FROM transcript_revisions WHERE transcript_id = ? AND sha256 = ?", (transcript_id, sha256))]
    revisions += [r[0] for r in store.conn.execute(
        "SELECT json_extract(payload, '$.id[1]') FROM events WHERE kind = 'text.redacted' "
        "AND json_extract(payload, '$.table') = 'transcript_revisions' "
        "AND json_extract(payload, '$.id[0]') = ? AND json_extract(payload, '$.old_sha256') = ?",
        (transcript_id, sha256)) if isinstance(r[0], int)]
    for revision in sorted(set(revisions), reverse=True):
        later = [n for n in applied if n > revision]
        if later:
            return int(revision), min(later)
    return None
