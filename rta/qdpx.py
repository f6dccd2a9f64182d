"""REFI-QDA project export (``.qdpx``): the whole coded project for NVivo, ATLAS.ti, MAXQDA,
QualCoder and others.

A ``.qdpx`` is a zip of ``project.qde`` (XML valid against Project.xsd) and the sources as
``sources/<GUID>.txt``. The mapping (why):

* coders -> ``<Users>``; the codebook (latest imported version, via :mod:`rta.qdc`) ->
  ``<CodeBook>``; themes -> project-level ``<Sets>`` (a code may sit in several themes);
* informants -> ``<Cases>`` with their role and group as ``<Variables>`` (Text), each case
  pointing at the sources it speaks in and at the selections coded in its turns;
* transcripts (current revision, the exact stored text, UTF-8) -> ``<TextSource>`` with one
  ``<PlainTextSelection>`` per active coding (Unicode code-point offsets, end exclusive, as
  REFI-QDA counts them) holding its ``<Coding>``;
* memos, coding memos and the journal -> ``<Notes>``, referenced from what they are about.

GUIDs are derived from the project name and rta's ids, so exporting twice gives the same file
content apart from nothing: re-imports in other tools recognise the same objects.
"""

from __future__ import annotations

import io
import os
import struct
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from rta.codebook import norm_guid
from rta.errors import RtaError
from rta.fsutil import atomic_write_bytes
from rta.store import Store, log_head, now
from rta.xmlsafe import parse_untrusted_xml

_NS = uuid.UUID("8a3c1f0e-5b7d-4e2a-9c61-2f4d7b9e0a13")


@dataclass
class QdpxSummary:
    """What went into an exported project."""

    path: Path
    users: int
    codes: int
    cases: int
    sources: int
    selections: int
    notes: int
    skipped: int  # codings not exported (orphaned or on an old revision)
    validated: bool = False  # checked against Project.xsd before writing (when the schema is found)


def _guid(project: str, kind: str, key: Any) -> str:
    return str(uuid.uuid5(_NS, f"{project}\x1f{kind}\x1f{key}"))


def _ts(value: str | None) -> str:
    """An xsd:dateTime from a stored timestamp (rta stores ISO 8601 UTC)."""
    return value or now()


#: How ``rta export qdpx --selection-names`` names each coded selection: by its code and words
#: (default), or by its line (``line:12``, ``line:12-14``) for tools that code by line.
SELECTION_NAMES = ("code", "line")


def split_front_matter(text: str) -> tuple[str, int]:
    """(the YAML between a transcript's ``---`` lines, the offset where its body begins);
    ('', 0) for a text without front matter."""
    import re

    if not text.startswith("---\n"):
        return "", 0
    m = re.search(r"^(?:---|\.\.\.)[ \t]*$\n?", text[4:], re.MULTILINE)
    return (text[4:4 + m.start()], 4 + m.end()) if m else ("", 0)


def build_project(store: Store, role_name: Callable[[str | None], str] | None = None,
                  selection_names: str = "code") -> tuple[bytes, dict[str, str], QdpxSummary]:
    """``project.qde`` bytes, the source texts by file name, and a summary (path unset).

    A source's text is the transcript's without its YAML front matter (other tools would show it
    as text): the front matter goes to the source's ``Description`` and, value by value, to
    source variables, and every offset is counted from where the body begins."""
    from rta.codebook import Code, Theme, derive_guid
    from rta.codebook_yaml import parse_codebook
    from rta.qdc import PROJECT_NS, codebook_to_element, sets_element, to_xml_bytes

    def q(tag: str) -> str:
        return f"{{{PROJECT_NS}}}{tag}"

    name = store.get_meta("name", "rta-prosjekt") or "rta-prosjekt"
    role_name = role_name or (lambda key: key or "")

    # codebook: the latest imported version, plus any code still used by a coding
    row = store.conn.execute("SELECT content FROM codebook_versions ORDER BY id DESC LIMIT 1").fetchone()
    codebook = parse_codebook(row["content"])[0] if row else None
    if codebook is None:
        from rta.codebook import Codebook

        codebook = Codebook(1, name, "nb", [], [])
    used = [r[0] for r in store.conn.execute("SELECT DISTINCT code FROM codings WHERE status='active' ORDER BY code")]
    have = {c.name for c in codebook.codes}
    extra = [Code(name=n, guid=derive_guid(codebook.name, "code", n)) for n in used if n not in have]
    themes = codebook.themes
    if store.conn.execute("SELECT COUNT(*) FROM themes").fetchone()[0]:
        themes = []
        for t in store.conn.execute("SELECT * FROM themes WHERE status != 'discarded' ORDER BY id"):
            members = [r[0] for r in store.conn.execute("SELECT code FROM theme_codes WHERE theme_id=? ORDER BY code", (t["id"],))]
            themes.append(Theme(name=t["name"], definition=t["definition"], central_concept=t["central_concept"],
                                origin=t["origin"], codes=members, parent=t["parent"], status=t["status"],
                                guid=t["guid"] or derive_guid(codebook.name, "theme", t["name"]), opposite=t["opposite"]))
    codebook = replace(codebook, codes=[*codebook.codes, *extra], themes=themes)
    code_guid = {c.name: c.guid for c in codebook.codes}

    root = ET.Element(q("Project"), {"name": name, "origin": _origin(), "creationDateTime": now()})

    # users
    coders = [r[0] for r in store.conn.execute(
        "SELECT name FROM coders UNION SELECT coder FROM codings UNION SELECT coder FROM memos WHERE coder IS NOT NULL "
        "UNION SELECT coder FROM transcript_revisions WHERE coder IS NOT NULL ORDER BY 1")]
    user_guid = {c: _guid(name, "user", c) for c in coders}
    if coders:
        users = ET.SubElement(root, q("Users"))
        for c in coders:
            ET.SubElement(users, q("User"), {"guid": user_guid[c], "name": c, "id": c})
        root.set("creatingUserGUID", user_guid[coders[0]])

    codebook_el = codebook_to_element(codebook, namespace=PROJECT_NS, include_sets=False)
    if len(codebook_el.find(q("Codes"))):
        root.append(codebook_el)

    # notes (collected first so that everything can reference them)
    notes: list[ET.Element] = []
    notes_on: dict[tuple[str, str], list[str]] = {}

    def add_note(kind: str, target: str | None, key: Any, title: str, text: str, coder: str | None, created: str) -> None:
        guid = _guid(name, "note", key)
        attrs = {"guid": guid, "name": title, "creationDateTime": _ts(created)}
        if coder in user_guid:
            attrs["creatingUser"] = user_guid[coder]
        el = ET.Element(q("Note"), attrs)
        ET.SubElement(el, q("PlainTextContent")).text = text
        notes.append(el)
        notes_on.setdefault((kind, target or ""), []).append(guid)

    for m in store.conn.execute("SELECT * FROM memos ORDER BY id"):
        kind, target = m["target_kind"], m["target"]
        title = f"Logg fase {m['phase']}" if kind == "journal" else f"Memo om {kind} {target}"
        add_note(kind, target, f"memo:{m['id']}", title, m["text"], m["coder"], m["created"])
    for c in store.conn.execute("SELECT id, memo, coder, created FROM codings WHERE memo IS NOT NULL AND memo != '' AND status='active'"):
        add_note("coding", str(c["id"]), f"coding-memo:{c['id']}", f"Memo om koding {c['id']}", c["memo"], c["coder"], c["created"])

    # code memos: NoteRef right after a code's Description
    for code_el in codebook_el.iter(q("Code")):
        cname = code_el.get("name") or ""
        refs = notes_on.get(("code", cname), [])
        if refs:
            index = 1 if code_el.find(q("Description")) is not None else 0
            for k, guid in enumerate(refs):
                code_el.insert(index + k, ET.Element(q("NoteRef"), {"targetGUID": guid}))

    # sources and selections
    transcripts = store.conn.execute(
        "SELECT t.id, t.revision, r.text, r.created, r.coder FROM transcripts t JOIN transcript_revisions r "
        "ON r.transcript_id = t.id AND r.revision = t.revision ORDER BY t.id").fetchall()
    source_guid = {t["id"]: _guid(name, "source", t["id"]) for t in transcripts}
    files: dict[str, str] = {}
    sources_el = ET.Element(q("Sources"))
    case_sources: dict[str, set[str]] = {}
    case_selections: dict[str, list[str]] = {}
    selections = 0
    source_values: dict[str, list[tuple[str, str]]] = {}
    for t in transcripts:
        sguid = source_guid[t["id"]]
        attrs = {"guid": sguid, "name": t["id"], "plainTextPath": f"internal://{sguid}.txt",
                 "creationDateTime": _ts(t["created"])}
        if t["coder"] in user_guid:
            attrs["creatingUser"] = user_guid[t["coder"]]
        src = ET.SubElement(sources_el, q("TextSource"), attrs)
        front, body = split_front_matter(t["text"])
        files[f"{sguid}.txt"] = t["text"][body:]
        if front.strip():
            ET.SubElement(src, q("Description")).text = FRONT_MATTER_NOTE + front
            source_values[sguid] = _scalar_values(front)
        line_base = t["text"].count("\n", 0, body)
        for inf in store.conn.execute(
            "SELECT DISTINCT informant FROM turns WHERE transcript_id=? AND revision=? AND informant IS NOT NULL",
            (t["id"], t["revision"])):
            case_sources.setdefault(inf[0], set()).add(sguid)
        codings = store.conn.execute(
            "SELECT c.*, tu.informant FROM codings c LEFT JOIN turns tu ON tu.transcript_id=c.transcript_id "
            "AND tu.revision=c.revision AND tu.n=c.turn_n WHERE c.transcript_id=? AND c.revision=? AND c.status='active' "
            "ORDER BY c.start, c.id", (t["id"], t["revision"])).fetchall()
        for c in codings:
            selguid = _guid(name, "selection", c["id"])
            quote = t["text"][c["start"]:c["end"]]
            short = " ".join(quote.split())
            label = f"{c['code']}: {short[:60]}"
            if selection_names == "line":
                a, b = c["line_start"] - line_base, c["line_end"] - line_base
                label = f"line:{a}" if a == b else f"line:{a}-{b}"
            attrs = {"guid": selguid, "name": label, "startPosition": str(c["start"] - body),
                     "endPosition": str(c["end"] - body), "creationDateTime": _ts(c["created"])}
            if c["coder"] in user_guid:
                attrs["creatingUser"] = user_guid[c["coder"]]
            sel = ET.SubElement(src, q("PlainTextSelection"), attrs)
            cattrs = {"guid": _guid(name, "coding", c["id"]), "creationDateTime": _ts(c["created"])}
            if c["coder"] in user_guid:
                cattrs["creatingUser"] = user_guid[c["coder"]]
            coding_el = ET.SubElement(sel, q("Coding"), cattrs)
            ET.SubElement(coding_el, q("CodeRef"), {"targetGUID": code_guid[c["code"]]})
            for guid in notes_on.get(("coding", str(c["id"])), []):
                ET.SubElement(sel, q("NoteRef"), {"targetGUID": guid})
            if c["informant"]:
                case_selections.setdefault(c["informant"], []).append(selguid)
            selections += 1
        for guid in notes_on.get(("transcript", t["id"]), []):
            ET.SubElement(src, q("NoteRef"), {"targetGUID": guid})

    # variables (the front matter's values as source variables) and cases
    keys = list(dict.fromkeys(k for values in source_values.values() for k, _ in values))
    source_var = {k: _guid(name, "variable", f"kilde:{k}") for k in keys}
    for src in sources_el:
        for key, value in source_values.get(src.get("guid") or "", []):
            vv = ET.SubElement(src, q("VariableValue"))
            ET.SubElement(vv, q("VariableRef"), {"targetGUID": source_var[key]})
            ET.SubElement(vv, q("TextValue")).text = value
    informants = store.conn.execute("SELECT code, role, grp FROM informants ORDER BY position, code").fetchall()
    speaking = [i for i in informants if i["code"] in case_sources]
    if keys:
        variables = ET.SubElement(root, q("Variables"))
        for key in keys:
            ET.SubElement(variables, q("Variable"), {"guid": source_var[key], "name": key, "typeOfVariable": "Text"})
    if speaking:
        variables = root.find(q("Variables"))
        if variables is None:
            variables = ET.SubElement(root, q("Variables"))
        role_var, group_var = _guid(name, "variable", "rolle"), _guid(name, "variable", "gruppe")
        for guid, vname, desc in ((role_var, "Rolle", "Informantens rolle (Skoleeier, Skoleleder, Veileder ...)"),
                                  (group_var, "Gruppe", "Kommune eller annen gruppe; tom for veiledere")):
            var = ET.SubElement(variables, q("Variable"), {"guid": guid, "name": vname, "typeOfVariable": "Text"})
            ET.SubElement(var, q("Description")).text = desc
        cases = ET.SubElement(root, q("Cases"))
        for inf in speaking:
            case = ET.SubElement(cases, q("Case"), {"guid": _guid(name, "case", inf["code"]), "name": inf["code"]})
            for guid, value in ((role_var, role_name(inf["role"])), (group_var, inf["grp"])):
                if value:
                    vv = ET.SubElement(case, q("VariableValue"))
                    ET.SubElement(vv, q("VariableRef"), {"targetGUID": guid})
                    ET.SubElement(vv, q("TextValue")).text = value
            for sguid in sorted(case_sources[inf["code"]]):
                ET.SubElement(case, q("SourceRef"), {"targetGUID": sguid})
            for selguid in case_selections.get(inf["code"], []):
                ET.SubElement(case, q("SelectionRef"), {"targetGUID": selguid})

    if len(sources_el):
        root.append(sources_el)
    if notes:
        notes_el = ET.SubElement(root, q("Notes"))
        notes_el.extend(notes)
    sets = sets_element(codebook, PROJECT_NS)
    if sets is not None:
        for set_el in sets:
            for guid in notes_on.get(("theme", set_el.get("name") or ""), []):
                ET.SubElement(set_el, q("MemberNote"), {"targetGUID": guid})
        root.append(sets)
    # the log's head at export (rta.checkpoint): 'rta audit --since-report FILE.qdpx' reads it
    ET.SubElement(root, q("Description")).text = (
        f"rta-log-head: {log_head(store)}\nSiste hendelse i rta-prosjektets revisjonslogg da filen ble eksportert; "
        "'rta audit --since-report' med denne filen viser om loggen senere er avkortet eller skrevet om.")
    for guid in notes_on.get(("journal", ""), []):
        ET.SubElement(root, q("NoteRef"), {"targetGUID": guid})

    skipped = store.conn.execute(
        "SELECT COUNT(*) FROM codings c JOIN transcripts t ON t.id=c.transcript_id "
        "WHERE c.status='orphaned' OR (c.status='active' AND c.revision != t.revision)").fetchone()[0]
    summary = QdpxSummary(Path(), len(coders), len(codebook.codes), len(speaking), len(transcripts), selections,
                          len(notes), skipped)
    return to_xml_bytes(root, PROJECT_NS), files, summary


#: The first line of a source's Description that holds its transcript's front matter: rta's
#: import puts the front matter back in front of the text (offsets follow).
FRONT_MATTER_NOTE = "rta-front-matter:\n"


def _scalar_values(front: str) -> list[tuple[str, str]]:
    """The front matter's single values (id, date, group, interviewer, ...) as text."""
    from rta.yamlutil import load_yaml_text

    try:
        data = load_yaml_text(front)
    except RtaError:
        return []
    if not isinstance(data, dict):
        return []
    return [(str(k), str(v)) for k, v in data.items()
            if isinstance(v, (str, int, float)) and not isinstance(v, bool) and not str(k).startswith("_")]


def _origin() -> str:
    from rta import __version__

    return f"rta {__version__}"


def export_qdpx(store: Store, out: str | Path, role_name: Callable[[str | None], str] | None = None,
                xsd: str | Path | None = None, selection_names: str = "code") -> QdpxSummary:
    """Write the project as a ``.qdpx`` after validating ``project.qde`` against Project.xsd
    when the schema is found (:func:`rta.qdc.find_xsd`; an invalid file is never written)."""
    from rta.qdc import find_xsd, validate_xml

    qde, files, summary = build_project(store, role_name, selection_names)
    xsd = xsd or find_xsd("Project.xsd")
    problems = validate_xml(qde, xsd) if xsd is not None else []
    summary.validated = xsd is not None
    if problems:
        raise RtaError("the exported project does not validate against Project.xsd (a bug in rta: please report it)",
                       problems=problems[:10])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde)
        for fname, text in sorted(files.items()):
            zf.writestr(f"sources/{fname}", text.encode("utf-8"))
    atomic_write_bytes(out, buf.getvalue())
    summary.path = Path(out)
    return summary


# --------------------------------------------------------------------------------------------
# Reading a .qdpx from elsewhere: it may be damaged or hostile. Everything below refuses with an
# RtaError (exit 2) naming the file and what to do, before the store or imported/ is touched.

#: Refuse a .qdpx whose members declare more than this many bytes in all, uncompressed (a zip
#: bomb); ``$RTA_QDPX_MAX_BYTES`` or the ``max_bytes`` argument changes it. 2 GiB is far above
#: any real project (a year of transcripts is a few MB of text).
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
MAX_BYTES_ENV = "RTA_QDPX_MAX_BYTES"
#: A member that unpacks to more than RATIO_MIN_BYTES at more than MAX_RATIO times its packed
#: size is refused too: text and XML pack 3-20 times, a bomb's zeros a thousand times.
MAX_RATIO = 200
RATIO_MIN_BYTES = 10 * 1024**2
#: More members than this is no project export (and a central directory that big is an attack).
MAX_MEMBERS = 100_000
_CHUNK = 1024 * 1024


def max_uncompressed_bytes(max_bytes: int | None = None) -> int:
    """The zip-bomb limit in force: ``max_bytes``, else ``$RTA_QDPX_MAX_BYTES``, else 2 GiB."""
    if max_bytes is not None:
        return int(max_bytes)
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise RtaError(f"${MAX_BYTES_ENV} is not a whole number of bytes: '{raw}'",
                           hint=f"unset it, or set e.g. {MAX_BYTES_ENV}={MAX_UNCOMPRESSED_BYTES}") from None
        if value > 0:
            return value
    return MAX_UNCOMPRESSED_BYTES


def _unsafe_member_name(name: str) -> bool:
    """A member path that would leave the folder it is unpacked into ('zip slip'): absolute,
    with a drive letter, or with a '..' part (either slash)."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) >= 2 and norm[1] == ":"):
        return True
    return any(part == ".." for part in norm.split("/"))


def _check_archive(zf: zipfile.ZipFile, path: Path, max_bytes: int) -> None:
    """Refuse a zip slip or a zip bomb from the central directory alone, before unpacking."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise RtaError(f"the file has {len(infos)} members (more than {MAX_MEMBERS}); this is no project export",
                       path=path, hint="export the project again from the QDA tool")
    bad = [i.filename for i in infos if _unsafe_member_name(i.filename)]
    if bad:
        raise RtaError(f"unsafe member path(s) inside: {', '.join(repr(b) for b in bad[:5])} "
                       "(absolute, or climbing out with '..')", path=path,
                       hint="this file was not written by a QDA tool's export; do not unpack it. "
                            "Export the project again and import that file")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / info.compress_size if info.compress_size else float("inf")
        if info.file_size > max_bytes or total > max_bytes:
            raise RtaError(f"the file unpacks to more than {max_bytes:,} bytes (member '{info.filename}' declares "
                           f"{info.file_size:,}); refusing it as a possible zip bomb", path=path,
                           hint=f"if it really is a project this big, raise the limit with ${MAX_BYTES_ENV} (bytes)")
        if info.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO:
            raise RtaError(f"member '{info.filename}' unpacks {info.file_size:,} bytes from {info.compress_size:,} "
                           f"(more than {MAX_RATIO} times); refusing it as a possible zip bomb", path=path,
                           hint="export the project again from the QDA tool; real text does not pack that tightly")


def _read_member(zf: zipfile.ZipFile, name: str, path: Path) -> bytes:
    """One member's bytes, inflated in chunks and never past its declared size (an archive
    whose member inflates further is refused, not cut short); a damaged, truncated or encrypted
    member is an RtaError naming it. Stored and deflated members (what QDA tools write) are
    read straight from the file so that every check is explicit; others through zipfile."""
    info = zf.getinfo(name)
    hint = "the file is damaged: copy or download it again, or export the project again"

    def damaged(why: str) -> RtaError:
        return RtaError(f"member '{name}' is {why}", path=path, hint=hint)

    if info.flag_bits & 0x1:
        raise RtaError(f"member '{name}' is encrypted", path=path, hint="export the project again without a password")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return _read_member_via_zipfile(zf, info, path, hint)
    declared = info.file_size
    out = bytearray()
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    try:
        with open(path, "rb") as fh:
            fh.seek(info.header_offset)
            header = fh.read(30)
            if len(header) < 30 or header[:4] != b"PK\x03\x04":
                raise damaged("corrupt: its local header is missing")
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            left = info.compress_size
            while left > 0:
                raw = fh.read(min(_CHUNK, left))
                if not raw:
                    raise damaged(f"truncated: the file ends {left:,} packed bytes early")
                left -= len(raw)
                piece = inflate.decompress(raw, declared - len(out) + 1) if inflate is not None else raw
                if len(out) + len(piece) > declared:  # inflating past what it declared: stop here
                    raise RtaError(f"member '{name}' unpacks to more than the {declared:,} bytes it declares",
                                   path=path, hint="this file was tampered with or damaged; export the project again")
                out += piece
                if inflate is not None and inflate.eof:
                    break
    except RtaError:
        raise
    except zlib.error as exc:
        raise damaged(f"corrupt: {exc}") from None
    except OSError as exc:
        raise RtaError(f"cannot read member '{name}': {exc.strerror or exc}", path=path, hint=hint) from None
    if inflate is not None and not inflate.eof:
        raise damaged("truncated: its packed data ends before the end of the stream")
    if len(out) != declared:
        raise damaged(f"truncated: {len(out):,} of the {declared:,} bytes it declares")
    if zlib.crc32(out) != info.CRC:
        raise damaged("corrupt: its checksum (CRC-32) does not match")
    return bytes(out)


def _read_member_via_zipfile(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, hint: str) -> bytes:
    """A member in another compression (bzip2, LZMA), read in chunks up to its declared size."""
    name = info.filename
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                out += chunk
                if len(out) > info.file_size:
                    raise RtaError(f"member '{name}' unpacks to more than the {info.file_size:,} bytes it declares",
                                   path=path, hint=hint)
    except RtaError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise RtaError(f"member '{name}' is corrupt: {exc}", path=path, hint=hint) from None
    except (NotImplementedError, RuntimeError) as exc:
        raise RtaError(f"member '{name}' cannot be unpacked: {exc}", path=path,
                       hint="export the project again (zip with the usual deflate compression)") from None
    except OSError as exc:
        raise RtaError(f"cannot read member '{name}': {exc.strerror or exc}", path=path, hint=hint) from None
    if len(out) != info.file_size:
        raise RtaError(f"member '{name}' is truncated ({len(out):,} of {info.file_size:,} bytes)", path=path, hint=hint)
    return bytes(out)


def _open_qdpx(path: Path, max_bytes: int | None = None) -> tuple[zipfile.ZipFile, dict[str, str], ET.Element]:
    """The archive, its member names by lower-case name, and the parsed ``project.qde``
    (read leniently: any case of the member names, a BOM; strictly against damage and attacks,
    see :func:`_check_archive`, :func:`_read_member`, :func:`parse_untrusted_xml`). The caller
    closes the archive."""
    limit = max_uncompressed_bytes(max_bytes)
    if path.is_dir():
        raise RtaError("is a folder, not a .qdpx file", path=path, hint="give the .qdpx file itself")
    if not path.exists():
        raise RtaError("file not found", path=path, hint="check the path of the .qdpx file")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise RtaError(f"cannot open as a .qdpx (zip) file: {exc}", path=path,
                       hint="a .qdpx is a zip archive exported by a QDA tool (NVivo, ATLAS.ti, MAXQDA, "
                            "QualCoder, rta); export the project again") from None
    except PermissionError:
        raise RtaError("cannot read the file: permission denied", path=path,
                       hint="check the file's permissions, or copy it somewhere you can read") from None
    except (OSError, ValueError, EOFError) as exc:  # a truncated or damaged central directory
        raise RtaError(f"cannot open as a .qdpx (zip) file: {getattr(exc, 'strerror', None) or exc}", path=path,
                       hint="the file is damaged: copy or download it again, or export the project again") from None
    try:
        _check_archive(zf, path, limit)
        names = {n.lower(): n for n in zf.namelist()}
        qde = qde_member(names, path)
        root = parse_untrusted_xml(_read_member(zf, names[qde], path), path, names[qde])
    except BaseException:
        zf.close()
        raise
    return zf, names, root


def qde_member(names: dict[str, str], path: Path) -> str:
    """The lower-case name of the project file inside: ``project.qde``, else the one ``.qde`` at
    the top (ATLAS.ti names it after the project)."""
    if "project.qde" in names:
        return "project.qde"
    found = sorted(n for n in names if n.endswith(".qde") and "/" not in n.strip("/"))
    if len(found) == 1:
        return found[0]
    if found:
        raise RtaError(f"several project files inside ({', '.join(names[n] for n in found[:5])}) and no project.qde",
                       path=path, hint="export the project again: a .qdpx holds one project")
    raise RtaError("no project.qde inside", path=path,
                   hint="is this a REFI-QDA project export (.qdpx)? A codebook alone (.qdc) is "
                        "imported with 'rta codebook import'")


def _local(el: ET.Element) -> str:
    """An element's tag without its namespace ('' for comments and processing instructions)."""
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def read_qdpx_selections(path: str | Path, max_bytes: int | None = None) -> list[dict[str, Any]]:
    """Every PlainTextSelection of a ``.qdpx`` with its source text slice and code names, read
    leniently (``Sources/`` or ``sources/``, a BOM, CRLF line ends in the text files), so an
    export — ours or another tool's — can be checked or compared."""
    path = Path(path)
    zf, names, root = _open_qdpx(path, max_bytes)
    local = _local
    with zf:
        codes = {norm_guid(el.get("guid")): el.get("name") for el in root.iter() if local(el) == "Code"}
        out = []
        for src in (el for el in root.iter() if local(el) == "TextSource"):
            ref = src.get("plainTextPath") or ""
            fname = ref.split("://", 1)[-1]
            key = next((k for k in (f"sources/{fname}".lower(), fname.lower()) if k in names), None)
            text = ""
            if key:
                text = _read_member(zf, names[key], path).decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
            for sel in (el for el in src if local(el) == "PlainTextSelection"):
                try:
                    s, e = int(sel.get("startPosition", "0")), int(sel.get("endPosition", "0"))
                except ValueError:
                    s = e = 0
                codes_here = [codes.get(norm_guid(cr.get("targetGUID")))
                              for cd in sel if local(cd) == "Coding" for cr in cd if local(cr) == "CodeRef"]
                out.append({"source": src.get("name"), "selection": sel.get("guid"), "start": s, "end": e,
                            "text": text[s:e], "codes": codes_here})
        return out


# --------------------------------------------------------------------------------------------
# Import: rta.qdpx_import


def import_qdpx(project: Any, path: str | Path, coder: str | None = None, max_bytes: int | None = None,
                **options: Any) -> Any:
    """Import another tool's ``.qdpx`` into ``project``: see :func:`rta.qdpx_import.import_qdpx`."""
    from rta.qdpx_import import import_qdpx as run

    return run(project, path, coder=coder, max_bytes=max_bytes, **options)
