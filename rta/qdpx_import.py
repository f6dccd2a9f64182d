"""Bringing a study in from another QDA tool: ``rta import-qdpx FILE`` (and ``rta init DIR --from
FILE``) reads a REFI-QDA project (``.qdpx``) written by NVivo, ATLAS.ti, MAXQDA, QualCoder, qc,
Taguette, AQDA or rta, and brings in, in one store transaction:

* the project's **codebook** (:mod:`rta.codebook_merge`): merged with the project's as a new,
  logged codebook version (codes by GUID; a code with a project code's name but another GUID is
  kept apart under a parent-path name and listed);
* each **TextSource** as a transcript in ``imported/`` (the text as the tool stored it,
  normalised; offsets mapped onto it);
* its **speakers**, whatever their labels (:mod:`rta.speakers`: unknown labels registered as
  informants, a source without labels read as paragraphs of one speaker);
* each coded **PlainTextSelection** as codings, one per informant turn it covers
  (:func:`rta.coding.split_span`), their code found by ``CodeRef/@targetGUID``, their coder and
  date as the file records them (the log says who imported);
* ``Notes`` as memos and journal entries, ``Cases``' variables as informant attributes; what has
  no place in rta (links, graphs, media sources ...) is counted in :attr:`QdpxImport.not_carried`.

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

from rta.codebook import norm_guid
from rta.errors import RtaError
from rta.qdpx import _local, _open_qdpx, _read_member, qde_member


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
    memos: int = 0
    journal: int = 0
    attributes: int = 0  # case variables carried over as informant attributes
    adjusted: int = 0  # selections that began in a speaker label, moved to the turn's text (logged)
    warnings: list[str] = field(default_factory=list)
    not_carried: dict[str, int] = field(default_factory=dict)  # what could not come in, with counts

    def came_in(self) -> dict[str, int]:
        """What came in, with counts (for the summary)."""
        counts = {"transcripts": len(self.transcripts), "codings": self.codings, "codes": len(self.codes_added),
                  "themes": len(self.themes_added), "memos": self.memos, "journal entries": self.journal,
                  "informants": len(self.informants_added), "informant attributes": self.attributes}
        return {k: v for k, v in counts.items() if v}


@dataclass
class _Source:
    element: ET.Element
    name: str
    raw: str


#: What REFI-QDA can hold that rta has no place for, by element: how the summary names it.
NOT_CARRIED = {
    "Link": "links", "Graph": "graphs", "PDFSource": "PDF sources", "PictureSource": "picture sources",
    "AudioSource": "audio sources", "VideoSource": "video sources", "PictureSelection": "image selections",
    "PDFSelection": "PDF selections", "AudioSelection": "audio selections", "VideoSelection": "video selections",
    "MemberSource": "set members that are sources",
}


def _count(counts: dict[str, int], what: str, n: int = 1) -> None:
    if n:
        counts[what] = counts.get(what, 0) + n


def _name_from_file(src: ET.Element) -> str:
    for attr in ("plainTextPath", "richTextPath"):
        ref = (src.get(attr) or "").split("://", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1]
        if ref:
            return ref.rsplit(".", 1)[0] or ref
    return src.get("guid") or "kilde"


def _member(names: dict[str, str], ref: str) -> str | None:
    """The zip member a source path names: ``internal://x.txt`` is ``sources/x.txt`` (any case)."""
    kind, _, rest = ref.partition("://")
    if not rest:
        kind, rest = "internal", ref
    if kind.lower() != "internal":
        return None  # relative:// and absolute:// name files outside the .qdpx: never read
    return next((k for k in (f"sources/{rest}".lower(), rest.lower()) if rest and k in names), None)


def _docx_text(data: bytes, path: Path, member: str, max_bytes: int | None) -> str:
    """The text of a Word source (richTextPath), paragraph by paragraph as ``rta add`` reads
    a .docx; its own zip is checked for bombs and unsafe paths first."""
    import io
    import zipfile

    from rta.qdpx import _check_archive, max_uncompressed_bytes
    from rta.transcripts import _docx_lines

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            _check_archive(inner, path, max_uncompressed_bytes(max_bytes))
        import docx

        document = docx.Document(io.BytesIO(data))
    except RtaError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml errors: a damaged Word file
        raise RtaError(f"the Word source {member} cannot be read: {exc}", path=path,
                       hint="export the project again (with plain-text sources if the tool offers it)") from None
    return "\n".join(_docx_lines(document))


def _sources(zf: Any, names: dict[str, str], root: ET.Element, path: Path, result: "QdpxImport",
             max_bytes: int | None) -> list[_Source]:
    """The text of every TextSource: ``plainTextPath`` (in the file), else ``PlainTextContent``,
    else ``richTextPath`` (a .docx in the file). A source with no text, or only blanks, is
    skipped with a warning (its selections counted as not carried over)."""
    out = []
    for src in (el for el in root.iter() if _local(el) == "TextSource"):
        name = " ".join((src.get("name") or "").split()) or _name_from_file(src)
        inline = next((el.text or "" for el in src if _local(el) == "PlainTextContent"), None)
        plain = _member(names, src.get("plainTextPath") or "")
        rich = _member(names, src.get("richTextPath") or "")
        selections = sum(1 for el in src if _local(el) == "PlainTextSelection")
        if plain is not None:
            try:
                raw = _read_member(zf, names[plain], path).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RtaError(f"source '{name}' ({names[plain]}) is not UTF-8: {exc.reason}", path=path,
                               hint="export the project again with UTF-8 text sources") from None
        elif inline is not None:
            raw = inline
        elif rich is not None and rich.endswith(".docx"):
            raw = _docx_text(_read_member(zf, names[rich], path), path, names[rich], max_bytes)
            result.warnings.append(f"source '{name}' has no plain text: read from its Word file {names[rich]} "
                                   "(check its codings' spans)")
        else:
            where = src.get("plainTextPath") or src.get("richTextPath") or "-"
            if where.lower().startswith("internal://") or "://" not in where:
                raise RtaError(f"<TextSource name=\"{name}\"> has no text: {where} is not in the file", path=path,
                               hint="the file is damaged or incomplete: export the project again with its sources")
            result.warnings.append(f"source '{name}' skipped: its text ({where}) is outside the file "
                                   "(rta reads only what the .qdpx holds)")
            _count(result.not_carried, "sources without their text")
            _count(result.not_carried, "selections in sources not imported", selections)
            continue
        if not raw.strip():
            result.warnings.append(f"source '{name}' skipped: it is empty")
            _count(result.not_carried, "empty sources")
            _count(result.not_carried, "selections in sources not imported", selections)
            continue
        out.append(_Source(src, name, raw))
    return out


def _notes(root: ET.Element) -> dict[str, ET.Element]:
    return {norm_guid(el.get("guid")): el for el in root.iter() if _local(el) == "Note"}


def _note_text(zf: Any, names: dict[str, str], note: ET.Element, path: Path) -> str:
    inline = next((el.text or "" for el in note if _local(el) == "PlainTextContent"), None)
    if inline is not None:
        return inline
    member = _member(names, note.get("plainTextPath") or "")
    if member is None:
        return ""
    return _read_member(zf, names[member], path).decode("utf-8", errors="replace").replace("\r\n", "\n")


def _when(value: str | None) -> str | None:
    """An xsd:dateTime as rta stamps times (UTC, seconds); None when absent or unreadable."""
    from datetime import datetime, timezone

    if not value:
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cases(root: ET.Element) -> dict[str, dict[str, Any]]:
    """Each case's variables (name -> value), by case name: what becomes informant attributes."""
    from rta.informants import squash

    variables = {norm_guid(v.get("guid")): v.get("name") or "" for v in root.iter() if _local(v) == "Variable"}
    out: dict[str, dict[str, Any]] = {}
    for case in (el for el in root.iter() if _local(el) == "Case"):
        name = " ".join((case.get("name") or "").split())
        values: dict[str, Any] = {}
        for vv in (el for el in case if _local(el) == "VariableValue"):
            ref = next((el for el in vv if _local(el) == "VariableRef"), None)
            value = next((el.text for el in vv if _local(el).endswith("Value") and el.text is not None), None)
            var = variables.get(norm_guid(ref.get("targetGUID"))) if ref is not None else None
            if var and value is not None:
                values[var] = value.strip()
        if name:
            out[squash(name)] = {"name": name, "values": values}
    return out


def _normalise_with_map(raw: str) -> tuple[str, list[int]]:
    """The text as rta stores it (:func:`rta.transcripts.normalise_text`: no BOM or other format
    characters, LF line ends, NFC) and, for every offset of ``raw`` (without a leading BOM) up to
    its length, the
    matching offset in that text (an offset inside a character NFC composes, or on a dropped
    character, maps to where that character now stands)."""
    from rta.transcripts import _FORMAT_CHARS, normalise_text

    if raw.startswith("\ufeff"):
        raw = raw[1:]  # a file's BOM is no character of the text: positions count from after it
    out: list[str] = []
    mapping: list[int] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\r" and i + 1 < n and raw[i + 1] == "\n":
            mapping += [len(out), len(out)]  # '\r\n': both map to the one '\n'
            out.append("\n")
            i += 2
            continue
        if ch in "\r\u2028\u2029":
            mapping.append(len(out))
            out.append("\n")
        elif _FORMAT_CHARS.match(ch):
            mapping.append(len(out))  # dropped (a BOM, a soft hyphen, a bidi mark)
        elif unicodedata.combining(ch) and out:
            mapping.append(len(out) - 1)  # composes with the character before it (NFD from macOS)
            composed = unicodedata.normalize("NFC", out[-1] + ch)
            if len(composed) == 1:
                out[-1] = composed
            else:
                out.append(ch)
        else:
            mapping.append(len(out))
            out.append(ch)
        i += 1
    mapping.append(len(out))
    text = "".join(out)
    if normalise_text(text) != text:  # a composition this simple rule does not make: refuse, never guess
        raise RtaError("a source's text cannot be normalised (Unicode NFC) with its offsets kept",
                       hint="export the project again with the texts in Unicode NFC")
    return text, mapping


def _restore_front_matter(src: ET.Element, text: str, mapping: list[int]) -> tuple[str, list[int]]:
    """rta's export moves a transcript's front matter to the source's Description (other tools
    would show it as text): put it back in front of the text, the offsets following."""
    from rta.qdpx import FRONT_MATTER_NOTE

    desc = next((el.text or "" for el in src if _local(el) == "Description"), "")
    if not desc.startswith(FRONT_MATTER_NOTE) or text.startswith("---\n"):
        return text, mapping
    body = desc[len(FRONT_MATTER_NOTE):].replace("\r\n", "\n")
    front = "---\n" + body + ("" if body.endswith("\n") else "\n") + "---\n"
    return front + text, [m + len(front) for m in mapping]


def _project_label(root: ET.Element, path: Path) -> str:
    """A short name for the other project (for code names kept apart): its ``@name`` or the file's."""
    name = " ".join((root.get("name") or "").split())
    return (name or path.stem)[:40].replace("/", "-")


def _source_cases(root: ET.Element, sources: list[_Source]) -> dict[int, str]:
    """The one case each source belongs to (its ``<Case><SourceRef>``), by source index."""
    index = {norm_guid(s.element.get("guid")): i for i, s in enumerate(sources)}
    found: dict[int, list[str]] = {}
    for case in (el for el in root.iter() if _local(el) == "Case"):
        name = " ".join((case.get("name") or "").split())
        for ref in (el for el in case if _local(el) == "SourceRef"):
            i = index.get(norm_guid(ref.get("targetGUID")))
            if i is not None and name:
                found.setdefault(i, []).append(name)
    return {i: names[0] for i, names in found.items() if len(set(names)) == 1}


def _not_carried(root: ET.Element, result: QdpxImport) -> None:
    """Count what the file holds that rta has no place for (the summary lists it)."""
    for el in root.iter():
        tag = _local(el)
        if tag in NOT_CARRIED:
            _count(result.not_carried, NOT_CARRIED[tag])
        elif tag == "TextSource":
            _count(result.not_carried, "codings of whole sources", sum(1 for c in el if _local(c) == "Coding"))
            from rta.qdpx import FRONT_MATTER_NOTE

            desc = next((c.text or "" for c in el if _local(c) == "Description"), "")
            if not desc.startswith(FRONT_MATTER_NOTE):  # rta's own: the front matter comes back whole
                _count(result.not_carried, "source variables", sum(1 for c in el if _local(c) == "VariableValue"))
        elif tag == "Case":
            _count(result.not_carried, "codes on cases", sum(1 for c in el if _local(c) == "CodeRef"))
        elif tag == "PlainTextSelection":
            _count(result.not_carried, "selection descriptions", sum(1 for c in el if _local(c) == "Description"))


def import_qdpx(project: Any, path: str | Path, coder: str | None = None,
                max_bytes: int | None = None, speakers: str | Path | None = None) -> QdpxImport:
    """Import a ``.qdpx`` from another tool (see the module doc) in one transaction: its
    codebook merged into the project's as a new version, each TextSource a transcript (labels
    the registry does not know registered: :mod:`rta.speakers`), each coded PlainTextSelection
    manual codings with the coder and date the file records, Notes as memos and journal
    entries, Cases' variables as informant attributes. What cannot come in is counted.

    Refused (RtaError, nothing changed): a damaged or hostile file, a ``CodeRef`` to no code, a
    selection outside its text, a source already in the project."""
    from rta.codebook_yaml import load_codebook
    from rta.codebook_changes import import_codebook
    from rta.codebook_merge import merge_codebooks
    from rta.coding import SpanError, create_coding, ensure_codebook_version, split_span
    from rta.fsutil import StagedWrites, recover_staged
    from rta.memos import add_memo
    from rta.qdc import read_qdc
    from rta.speakers import load_speaker_map, plan_speakers
    from rta.transcripts import parse_text

    path = Path(path)
    result = QdpxImport([], 0, [])
    zf, names, root = _open_qdpx(path, max_bytes)
    local, norm = _local, norm_guid
    with zf:
        qde_bytes = _read_member(zf, names[qde_member(names, path)], path)
        sources = _sources(zf, names, root, path, result, max_bytes)
        notes = {guid: (el, _note_text(zf, names, el, path)) for guid, el in _notes(root).items()}
    users = {norm(el.get("guid")): el.get("name") or el.get("id") or "" for el in root.iter() if local(el) == "User"}
    _not_carried(root, result)

    label = _project_label(root, path)
    has_codebook = any(local(el) == "CodeBook" for el in root)
    incoming = read_qdc(qde_bytes, name=label) if has_codebook else None
    current = load_codebook(project.codebook_path)  # an invalid codebook is refused, listing its problems
    merge = merge_codebooks(current, project.codebook_path.read_text(encoding="utf-8-sig"), incoming, root, label,
                            project.codebook_path)
    # every CodeRef must name a code, every selection lie inside its text: checked before anything is written
    texts = [_restore_front_matter(source.element, *_normalise_with_map(source.raw)) for source in sources]
    for src, (_text, mapping) in zip(sources, texts):
        for sel in (el for el in src.element if local(el) == "PlainTextSelection"):
            _check_selection(sel, src.name, len(mapping) - 1, path)
            for cr in (c for cd in sel if local(cd) == "Coding" for c in cd if local(c) == "CodeRef"):
                if merge.code_for(cr.get("targetGUID")) is None:
                    raise RtaError(f"<CodeRef targetGUID=\"{cr.get('targetGUID')}\"> in <PlainTextSelection "
                                   f"guid=\"{sel.get('guid')}\"> of source '{src.name}' names no code: no <Code> of "
                                   "the file's CodeBook, and no code of the project's codebook, has that GUID",
                                   path=path, hint="the file is damaged or incomplete; export the project again "
                                                   "with its codebook")

    registry_path = project.root / project.config.registry
    speaker_map = load_speaker_map(speakers, project.registry) if speakers is not None else {}
    cases = _cases(root)
    plan = plan_speakers(project.registry, registry_path.read_text(encoding="utf-8-sig"), registry_path,
                         [(s.name, t) for s, (t, _) in zip(sources, texts)], speaker_map, _source_cases(root, sources),
                         {key: case["values"] for key, case in cases.items()})
    for i, speaker in plan.unlabelled.items():  # no labels (or text before the first): paragraphs of one speaker
        front = f"---\nunlabelled_speaker: {_yaml_scalar(speaker)}\n---\n"
        texts[i] = (front + texts[i][0], [m + len(front) for m in texts[i][1]])
    result.attributes = sum(len(i.attributes) for i in plan.added)
    _count(result.not_carried, "cases that name no speaker of the sources",
           sum(1 for key in cases if plan.registry.informant(key) is None))
    _count(result.not_carried, "case variables that differ from the registry's informant",
           sum(_differing(project.registry, key, case["values"]) for key, case in cases.items()))

    store = project.store
    who = project.coder(coder)
    folder = project.root / "imported"
    result.recovered = recover_staged(store, [folder, project.codebook_path.parent])  # a killed import: clean up
    result.codes_added = [c.name for c in merge.codes_added]
    result.themes_added = [t.name for t in merge.themes_added]
    result.conflicts, result.notes = merge.conflicts, merge.notes
    result.unlabelled = [sources[i].name for i in sorted(plan.unlabelled)]
    result.informants_added = ([f"{i.code} ({i.role})" for i in plan.added]
                               + [f"{label} (intervjuer)" for label in plan.interviewers])
    targets: dict[Path, str] = {}
    first_coding: dict[str, int] = {}  # selection GUID -> the first coding made from it (its notes' target)
    transcript_of: dict[str, str] = {}  # source GUID -> transcript id
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
                transcript_of[norm(src.get("guid"))] = stored.transcript_id
                for sel in (el for el in src if local(el) == "PlainTextSelection"):
                    start, end = mapping[int(sel.get("startPosition"))], mapping[int(sel.get("endPosition"))]
                    try:  # one coding per informant turn the selection covers (rta.coding.split_span)
                        parts = split_span(store, stored.transcript_id, start, end)
                    except SpanError as exc:
                        result.skipped.append(f"{name}: selection {sel.get('guid')}: {exc.message}")
                        continue
                    if parts[0].adjusted:
                        result.adjusted += 1
                    for cd in (el for el in sel if local(el) == "Coding"):
                        imported = {"coder": users.get(norm(cd.get("creatingUser") or sel.get("creatingUser"))) or None,
                                    "created": _when(cd.get("creationDateTime") or sel.get("creationDateTime"))}
                        for cr in (el for el in cd if local(el) == "CodeRef"):
                            code = merge.code_for(cr.get("targetGUID"))
                            for part in parts:
                                try:
                                    cid = create_coding(store, stored.transcript_id, part.start, part.end, code, who,
                                                        version, imported=imported, adjusted=part.adjusted)
                                except SpanError as exc:  # e.g. the same words coded twice with the code
                                    result.skipped.append(f"{name}: selection {sel.get('guid')}: {exc.message}")
                                    continue
                                first_coding.setdefault(norm(sel.get("guid")), cid)
                                result.codings += 1
            _import_notes(store, root, notes, users, merge, first_coding, transcript_of, who, result, add_memo)
            store.log_event("qdpx.imported", {
                "file": str(path), "transcripts": result.transcripts, "codings": result.codings,
                "skipped": result.skipped, "codebook_version": version, "codes_added": result.codes_added,
                "themes_added": result.themes_added, "conflicts": result.conflicts,
                "informants_added": result.informants_added, "unlabelled": result.unlabelled,
                "memos": result.memos, "journal": result.journal, "adjusted": result.adjusted,
                "not_carried": result.not_carried}, who)
            staged.journal(store)
    project.__dict__["registry"] = plan.registry
    return result


def _differing(registry: Any, label: str, values: dict[str, Any]) -> int:
    """How many of a case's variables say something else than the registry's informant (an
    informant already in the registry keeps its entry: they are not carried over)."""
    inf = registry.informant(label)
    if inf is None:
        return 0
    role_names = {registry.role_name(inf.role).casefold(), (inf.role or "").casefold()}
    n = 0
    for var, value in values.items():
        key = var.casefold()
        same = ((key in ("rolle", "role") and str(value).casefold() in role_names)
                or (key in ("gruppe", "group") and str(value) == (inf.group or ""))
                or str(inf.attributes.get(var, "\x00")) == str(value))
        n += not same
    return n


def _check_selection(sel: ET.Element, source: str, length: int, path: Path) -> None:
    """A selection's positions are whole numbers inside its source's text, or the file is refused."""
    what = f"<PlainTextSelection guid=\"{sel.get('guid')}\"> of source '{source}'"
    try:
        s, e = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
    except ValueError:
        raise RtaError(f"{what} has no numeric startPosition/endPosition", path=path,
                       hint="the file is damaged; export the project again") from None
    if not (0 <= s < e <= length):
        raise RtaError(f"{what} selects {s}-{e}, outside its text ({length} characters)", path=path,
                       hint="the selection does not belong to this text: export the project again")


def _import_notes(store: Any, root: ET.Element, notes: dict[str, tuple[ET.Element, str]], users: dict[str, str],
                  merge: Any, first_coding: dict[str, int], transcript_of: dict[str, str], who: str,
                  result: QdpxImport, add_memo: Any) -> None:
    """Notes become memos on what refers to them (a selection's or coding's NoteRef: its first
    coding; a code's: the code; a source's: the transcript; a Set's MemberNote: the theme) and
    journal entries (the project's NoteRefs, and notes nothing refers to)."""
    used: set[str] = set()

    def memo(kind: str, target: str | None, guid: str) -> None:
        if guid not in notes:
            _count(result.not_carried, "note references to no note")
            return
        el, text = notes[guid]
        used.add(guid)
        if not text.strip():
            _count(result.not_carried, "empty notes")
            return
        add_memo(store, kind, target, text, who, imported={
            "coder": users.get(norm_guid(el.get("creatingUser"))) or None,
            "created": _when(el.get("creationDateTime"))})
        if kind == "journal":
            result.journal += 1
        else:
            result.memos += 1

    def refs(el: ET.Element, tag: str = "NoteRef") -> list[str]:
        return [norm_guid(r.get("targetGUID")) for r in el if _local(r) == tag]

    for el in root.iter():
        tag = _local(el)
        if tag == "PlainTextSelection":
            wanted = refs(el) + [g for cd in el if _local(cd) == "Coding" for g in refs(cd)]
            cid = first_coding.get(norm_guid(el.get("guid")))
            for guid in wanted:
                memo("coding", str(cid), guid) if cid is not None else memo("journal", None, guid)
        elif tag == "Code":
            name = merge.code_for(el.get("guid"))
            for guid in refs(el):
                memo("code", name, guid) if name else memo("journal", None, guid)
        elif tag == "TextSource":
            tid = transcript_of.get(norm_guid(el.get("guid")))
            for guid in refs(el):
                memo("transcript", tid, guid) if tid else memo("journal", None, guid)
        elif tag == "Set":
            theme = merge.theme_by_guid.get(norm_guid(el.get("guid")))
            for guid in refs(el, "MemberNote"):
                memo("theme", theme, guid) if theme else memo("journal", None, guid)
    for guid in refs(root):
        memo("journal", None, guid)
    for guid in notes:
        if guid not in used:
            memo("journal", None, guid)


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
