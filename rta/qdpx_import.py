"""Bringing a study in from another QDA tool: ``rta import-qdpx FILE`` (and ``rta init DIR --from
FILE``) reads a REFI-QDA project (``.qdpx``) written by NVivo, ATLAS.ti, MAXQDA, QualCoder, qc,
Taguette, AQDA or rta, and brings in, in one store transaction:

* the project's **codebook** (:mod:`rta.codebook_merge`): merged with the project's as a new,
  logged codebook version (codes by GUID; a code with a project code's name but another GUID is
  kept apart under a parent-path name and listed);
* each **TextSource** as a transcript in ``imported/`` (the text as the tool stored it,
  normalised; offsets mapped onto it);
* each coded **PlainTextSelection** as codings, one per informant turn it covers
  (:func:`rta.coding.split_span`), their code found by ``CodeRef/@targetGUID``.

The file is read leniently (``Sources/`` or ``sources/``, any ``.qde`` name, a BOM, CRLF) but a
damaged or hostile one is refused before anything is touched (:func:`rta.qdpx._open_qdpx`). The
files it writes (texts, the codebook) are staged and appear only after the store commits
(:class:`rta.fsutil.StagedWrites`): a failed import leaves the project as it was.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import RtaError
from rta.qdpx import _local, _norm_guid, _open_qdpx, _read_member, qde_member


@dataclass
class QdpxImport:
    """What :func:`import_qdpx` brought into the project, and what it could not."""

    transcripts: list[str]
    codings: int
    skipped: list[str]  # selections that could not be imported, with the reason
    recovered: list[str] = field(default_factory=list)  # leftovers of an interrupted import, cleaned
    codebook_version: int | None = None
    codes_added: list[str] = field(default_factory=list)
    themes_added: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # codes kept apart from a same-named project code
    notes: list[str] = field(default_factory=list)  # remarks on the codebook and the sources
    informants_added: list[str] = field(default_factory=list)  # "Speaker 1 (ukjent)"
    unlabelled: list[str] = field(default_factory=list)  # sources read as paragraphs of one speaker


@dataclass
class _Source:
    element: ET.Element
    name: str
    raw: str


def _sources(zf: Any, names: dict[str, str], root: ET.Element, path: Path) -> list[_Source]:
    out = []
    for src in (el for el in root.iter() if _local(el) == "TextSource"):
        name = src.get("name") or src.get("guid") or "kilde"
        inline = next((el.text or "" for el in src if _local(el) == "PlainTextContent"), None)
        ref = (src.get("plainTextPath") or "").split("://", 1)[-1]
        key = next((k for k in (f"sources/{ref}".lower(), ref.lower()) if ref and k in names), None)
        if key is not None:
            try:
                raw = _read_member(zf, names[key], path).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RtaError(f"source '{name}' ({names[key]}) is not UTF-8: {exc.reason}", path=path,
                               hint="export the project again with UTF-8 text sources") from None
        elif inline is not None:
            raw = inline
        else:
            raise RtaError(f"source '{name}' has no text (plainTextPath {ref or '-'} not in the file)", path=path,
                           hint="export the project again with its sources included")
        out.append(_Source(src, name, raw))
    return out


def _normalise_with_map(raw: str) -> tuple[str, list[int]]:
    """The text as rta stores it (no BOM, LF line ends) and, for every offset of ``raw``
    (without its BOM) up to its length, the matching offset in that text."""
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    out: list[str] = []
    mapping: list[int] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        mapping.append(len(out))
        if ch == "\r":
            if i + 1 < n and raw[i + 1] == "\n":
                i += 1  # '\r\n': both map to the one '\n'
                mapping.append(len(out))
            out.append("\n")
        else:
            out.append(ch)
        i += 1
    mapping.append(len(out))
    return "".join(out), mapping


def _project_label(root: ET.Element, path: Path) -> str:
    """A short name for the other project (for code names kept apart): its ``@name`` or the file's."""
    name = " ".join((root.get("name") or "").split())
    return (name or path.stem)[:40].replace("/", "-")


def _source_cases(root: ET.Element, sources: list[_Source]) -> dict[int, str]:
    """The one case each source belongs to (its ``<Case><SourceRef>``), by source index."""
    index = {_norm_guid(s.element.get("guid")): i for i, s in enumerate(sources)}
    found: dict[int, list[str]] = {}
    for case in (el for el in root.iter() if _local(el) == "Case"):
        name = " ".join((case.get("name") or "").split())
        for ref in (el for el in case if _local(el) == "SourceRef"):
            i = index.get(_norm_guid(ref.get("targetGUID")))
            if i is not None and name:
                found.setdefault(i, []).append(name)
    return {i: names[0] for i, names in found.items() if len(set(names)) == 1}


def import_qdpx(project: Any, path: str | Path, coder: str | None = None,
                max_bytes: int | None = None, speakers: str | Path | None = None) -> QdpxImport:
    """Import a ``.qdpx`` from another tool (see the module doc) in one transaction: its
    codebook merged into the project's as a new version, each TextSource a transcript (it must
    use speaker labels the registry knows), each coded PlainTextSelection manual codings.

    Refused (RtaError, nothing changed): a damaged or hostile file, a ``CodeRef`` to no code, a
    source already in the project."""
    from rta.codebook import load_codebook
    from rta.codebook_changes import import_codebook
    from rta.codebook_merge import merge_codebooks
    from rta.coding import SpanError, create_coding, ensure_codebook_version, split_span
    from rta.fsutil import StagedWrites, recover_staged
    from rta.qdc import read_qdc
    from rta.transcripts import parse_text

    path = Path(path)
    zf, names, root = _open_qdpx(path, max_bytes)
    local, norm = _local, _norm_guid
    with zf:
        qde_bytes = _read_member(zf, names[qde_member(names, path)], path)
        sources = _sources(zf, names, root, path)
        users = {norm(el.get("guid")): el.get("name") or el.get("id") or "" for el in root.iter() if local(el) == "User"}

    label = _project_label(root, path)
    has_codebook = any(local(el) == "CodeBook" for el in root)
    incoming = read_qdc(qde_bytes, name=label) if has_codebook else None
    current = load_codebook(project.codebook_path)  # an invalid codebook is refused, listing its problems
    merge = merge_codebooks(current, project.codebook_path.read_text(encoding="utf-8-sig"), incoming, root, label,
                            project.codebook_path)
    # every CodeRef must name a code: of the file's CodeBook, or (by GUID) of the project's
    for src in sources:
        for sel in (el for el in src.element if local(el) == "PlainTextSelection"):
            for cr in (c for cd in sel if local(cd) == "Coding" for c in cd if local(c) == "CodeRef"):
                if merge.code_for(cr.get("targetGUID")) is None:
                    raise RtaError(f"<CodeRef targetGUID=\"{cr.get('targetGUID')}\"> in <PlainTextSelection "
                                   f"guid=\"{sel.get('guid')}\"> of source '{src.name}' names no code: no <Code> of "
                                   "the file's CodeBook, and no code of the project's codebook, has that GUID",
                                   path=path, hint="the file is damaged or incomplete; export the project again "
                                                   "with its codebook")

    from rta.speakers import load_speaker_map, plan_speakers

    texts = [_normalise_with_map(source.raw) for source in sources]
    registry_path = project.root / project.config.registry
    speaker_map = load_speaker_map(speakers, project.registry) if speakers is not None else {}
    plan = plan_speakers(project.registry, registry_path.read_text(encoding="utf-8-sig"), registry_path,
                         [(s.name, t) for s, (t, _) in zip(sources, texts)], speaker_map, _source_cases(root, sources))
    for i, speaker in plan.unlabelled.items():  # no labels (or text before the first): paragraphs of one speaker
        front = f"---\nunlabelled_speaker: {_yaml_scalar(speaker)}\n---\n"
        texts[i] = (front + texts[i][0], [m + len(front) for m in texts[i][1]])

    store = project.store
    who = project.coder(coder)
    folder = project.root / "imported"
    recovered = recover_staged(store, [folder, project.codebook_path.parent])  # a killed import: clean up
    result = QdpxImport([], 0, [], recovered, codes_added=[c.name for c in merge.codes_added],
                        themes_added=[t.name for t in merge.themes_added], conflicts=merge.conflicts,
                        notes=merge.notes, unlabelled=[sources[i].name for i in sorted(plan.unlabelled)],
                        informants_added=[f"{i.code} ({i.role})" for i in plan.added]
                        + [f"{label} (intervjuer)" for label in plan.interviewers])
    targets: dict[Path, str] = {}
    with StagedWrites() as staged:
        with store.transaction():
            version = ensure_codebook_version(store, project.codebook_path, who)
            if merge.text is not None:
                data = merge.text.encode("utf-8")
                version = import_codebook(store, project.codebook_path, data, who, version, via="import-qdpx")
                staged.stage(project.codebook_path, data)
            result.codebook_version = version
            if plan.text is not None:
                staged.stage(registry_path, plan.text.encode("utf-8"))
            store.sync_informants(plan.registry, who)
            for source, (text, mapping) in zip(sources, texts):
                src, name = source.element, source.name
                if not unicodedata.is_normalized("NFC", text):
                    raise RtaError(f"source '{name}' is not in Unicode NFC, so its offsets cannot be mapped safely",
                                   path=path)
                stem = ("".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-.") or "kilde")[:100]
                file = folder / f"{stem}.txt"
                if file in targets:
                    raise RtaError(f"sources '{targets[file]}' and '{name}' would both be imported as {file.name}",
                                   path=path, hint="rename one of the sources in the QDA tool and export again")
                targets[file] = name
                transcript = parse_text(text, plan.registry, path=f"{path.name}:{name}", default_id=stem)
                if store.transcript_row(transcript.id) is not None:
                    raise RtaError(f"source '{name}' is already in the project as transcript '{transcript.id}'",
                                   path=path, hint="it was imported before (see 'rta transcripts'); to bring in a "
                                                   "corrected text use 'rta add --revise FILE'")
                data = text.encode("utf-8")
                if file.is_dir() or (file.exists() and file.read_bytes() != data):
                    # the same bytes are fine: an earlier import of this file, killed by an older rta
                    raise RtaError(f"{file} already exists with other content", path=file,
                                   hint="move it away or rename the source")
                staged.stage(file, data)
                stored = project._store_transcript(file, transcript, who, False)
                result.transcripts.append(stored.transcript_id)
                for sel in (el for el in src if local(el) == "PlainTextSelection"):
                    try:
                        s, e = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
                    except ValueError:
                        raise RtaError(f"<PlainTextSelection guid=\"{sel.get('guid')}\"> of source '{name}' has no "
                                       "numeric startPosition/endPosition", path=path,
                                       hint="the file is damaged; export the project again") from None
                    if not (0 <= s < e < len(mapping)):
                        raise RtaError(f"<PlainTextSelection guid=\"{sel.get('guid')}\"> of source '{name}' selects "
                                       f"{s}-{e}, outside its text ({len(mapping) - 1} characters)", path=path,
                                       hint="the selection does not belong to this text: export the project again")
                    start, end = mapping[s], mapping[e]
                    try:  # one coding per informant turn the selection covers (rta.coding.split_span)
                        parts = split_span(store, stored.transcript_id, start, end)
                    except SpanError as exc:
                        result.skipped.append(f"{name}: selection {sel.get('guid')}: {exc.message}")
                        continue
                    for cd in (el for el in sel if local(el) == "Coding"):
                        for cr in (el for el in cd if local(el) == "CodeRef"):
                            code = merge.code_for(cr.get("targetGUID"))
                            by = users.get(norm(cd.get("creatingUser") or sel.get("creatingUser"))) or who
                            for part in parts:
                                try:
                                    create_coding(store, stored.transcript_id, part.start, part.end, code, by,
                                                  version)
                                except SpanError as exc:  # e.g. the same words coded twice with the code
                                    result.skipped.append(f"{name}: selection {sel.get('guid')}: {exc.message}")
                                    continue
                                result.codings += 1
            store.log_event("qdpx.imported", {
                "file": str(path), "transcripts": result.transcripts, "codings": result.codings,
                "skipped": result.skipped, "codebook_version": version, "codes_added": result.codes_added,
                "themes_added": result.themes_added, "conflicts": result.conflicts,
                "informants_added": result.informants_added, "unlabelled": result.unlabelled}, who)
            staged.journal(store)
    project.__dict__["registry"] = plan.registry
    return result


def init_from_qdpx(root: str | Path, source: str | Path, name: str | None = None, coder: str | None = None,
                   registry: str | Path | None = None, shared_group: bool = False,
                   **options: Any) -> tuple[Any, QdpxImport]:
    """``rta init DIR --from FILE.qdpx``: a new project whose codebook is the file's (no Tabell 3)
    with the file's sources and codings imported. The file is checked before anything is
    created; when the import fails, what ``init`` created is removed again."""
    import shutil
    import tempfile

    from rta.config import CONFIG_NAME
    from rta.project import STORE_NAME, Project

    source = Path(source)
    zf, _names, qde_root = _open_qdpx(source, options.get("max_bytes"))  # refuse a bad file first
    zf.close()
    label = _project_label(qde_root, source)
    root = Path(root)
    existed = root.exists()
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "codebook.yaml"
        empty.write_text(f"# Kodebok importert fra {source.name} (rta init --from).\nschema_version: 1\n"
                         f"name: {_yaml_scalar(label)}\nlanguage: nb\ncodes: []\nthemes: []\n", encoding="utf-8")
        project = Project.init(root, name=name or label, coder=coder, registry=registry, codebook=empty,
                               shared_group=shared_group)
    try:
        result = import_qdpx(project, source, coder=coder, **options)
    except BaseException:
        project.close()
        for leftover in (CONFIG_NAME, project.config.registry, project.config.codebook, STORE_NAME,
                         STORE_NAME + "-wal", STORE_NAME + "-shm"):
            (root / leftover).unlink(missing_ok=True)
        imported = root / "imported"
        if imported.is_dir() and not any(imported.iterdir()):
            imported.rmdir()
        if not existed and root.is_dir() and not any(root.iterdir()):
            shutil.rmtree(root)
        raise
    return project, result


def _yaml_scalar(value: str) -> str:
    from rta.codebook_changes import _scalar

    return _scalar(value)
