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
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from rta.errors import RtaError
from rta.fsutil import atomic_write_bytes
from rta.store import Store, now

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


def build_project(store: Store, role_name: Callable[[str | None], str] | None = None) -> tuple[bytes, dict[str, str], QdpxSummary]:
    """``project.qde`` bytes, the source texts by file name, and a summary (path unset)."""
    from rta.codebook import Code, Theme, derive_guid, parse_codebook
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
    for t in transcripts:
        sguid = source_guid[t["id"]]
        attrs = {"guid": sguid, "name": t["id"], "plainTextPath": f"internal://{sguid}.txt",
                 "creationDateTime": _ts(t["created"])}
        if t["coder"] in user_guid:
            attrs["creatingUser"] = user_guid[t["coder"]]
        src = ET.SubElement(sources_el, q("TextSource"), attrs)
        files[f"{sguid}.txt"] = t["text"]
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
            attrs = {"guid": selguid, "name": f"{c['code']}: {short[:60]}", "startPosition": str(c["start"]),
                     "endPosition": str(c["end"]), "creationDateTime": _ts(c["created"])}
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

    # variables and cases
    informants = store.conn.execute("SELECT code, role, grp FROM informants ORDER BY position, code").fetchall()
    speaking = [i for i in informants if i["code"] in case_sources]
    if speaking:
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
    for guid in notes_on.get(("journal", ""), []):
        ET.SubElement(root, q("NoteRef"), {"targetGUID": guid})

    skipped = store.conn.execute(
        "SELECT COUNT(*) FROM codings c JOIN transcripts t ON t.id=c.transcript_id "
        "WHERE c.status='orphaned' OR (c.status='active' AND c.revision != t.revision)").fetchone()[0]
    summary = QdpxSummary(Path(), len(coders), len(codebook.codes), len(speaking), len(transcripts), selections,
                          len(notes), skipped)
    return to_xml_bytes(root, PROJECT_NS), files, summary


def _origin() -> str:
    from rta import __version__

    return f"rta {__version__}"


def export_qdpx(store: Store, out: str | Path, role_name: Callable[[str | None], str] | None = None,
                xsd: str | Path | None = None) -> QdpxSummary:
    """Write the project as a ``.qdpx`` after validating ``project.qde`` against Project.xsd
    when the schema is found (:func:`rta.qdc.find_xsd`; an invalid file is never written)."""
    from rta.qdc import find_xsd, validate_xml

    qde, files, summary = build_project(store, role_name)
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


def _open_qdpx(path: Path) -> tuple[zipfile.ZipFile, dict[str, str], ET.Element]:
    """The archive, its member names by lower-case name, and the parsed ``project.qde``
    (read leniently: any case of the member names, a BOM). The caller closes the archive."""
    try:
        zf = zipfile.ZipFile(path)
    except (FileNotFoundError, zipfile.BadZipFile) as exc:
        raise RtaError(f"cannot open as a .qdpx (zip) file: {exc}", path=path) from None
    names = {n.lower(): n for n in zf.namelist()}
    if "project.qde" not in names:
        zf.close()
        raise RtaError("no project.qde inside", path=path, hint="is this a REFI-QDA project export?")
    try:
        root = ET.fromstring(zf.read(names["project.qde"]).lstrip(b"\xef\xbb\xbf"))
    except ET.ParseError as exc:
        zf.close()
        raise RtaError(f"project.qde is not well-formed XML: {exc}", path=path) from None
    return zf, names, root


def _local(el: ET.Element) -> str:
    """An element's tag without its namespace ('' for comments and processing instructions)."""
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _norm_guid(guid: str | None) -> str:
    """A GUID as tools write it ('{ABC-...}', 'abc-...') in one comparable form."""
    return (guid or "").strip().strip("{}").lower()


def read_qdpx_selections(path: str | Path) -> list[dict[str, Any]]:
    """Every PlainTextSelection of a ``.qdpx`` with its source text slice and code names, read
    leniently (``Sources/`` or ``sources/``, a BOM, CRLF line ends in the text files), so an
    export — ours or another tool's — can be checked or compared."""
    path = Path(path)
    zf, names, root = _open_qdpx(path)
    local = _local
    with zf:
        codes = {_norm_guid(el.get("guid")): el.get("name") for el in root.iter() if local(el) == "Code"}
        out = []
        for src in (el for el in root.iter() if local(el) == "TextSource"):
            ref = src.get("plainTextPath") or ""
            fname = ref.split("://", 1)[-1]
            key = next((k for k in (f"sources/{fname}".lower(), fname.lower()) if k in names), None)
            text = ""
            if key:
                text = zf.read(names[key]).decode("utf-8-sig").replace("\r\n", "\n")
            for sel in (el for el in src if local(el) == "PlainTextSelection"):
                s, e = int(sel.get("startPosition", "0")), int(sel.get("endPosition", "0"))
                codes_here = [codes.get(_norm_guid(cr.get("targetGUID")))
                              for cd in sel if local(cd) == "Coding" for cr in cd if local(cr) == "CodeRef"]
                out.append({"source": src.get("name"), "selection": sel.get("guid"), "start": s, "end": e,
                            "text": text[s:e], "codes": codes_here})
        return out


# --------------------------------------------------------------------------------------------
# Import (lenient): sources and their coded selections from another tool's .qdpx


@dataclass
class QdpxImport:
    """What :func:`import_qdpx` brought into the project."""

    transcripts: list[str]
    codings: int
    skipped: list[str]  # selections that could not be imported, with the reason


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


def import_qdpx(project: Any, path: str | Path, coder: str | None = None) -> QdpxImport:
    """Import a ``.qdpx`` from another tool: each TextSource becomes a transcript (it must use
    speaker labels the registry knows) and each coded PlainTextSelection a manual coding, in one
    transaction. Read leniently: ``Sources/`` or ``sources/``, a BOM, CRLF line ends (offsets
    are mapped onto the normalised text). Codes must exist in the project's codebook."""
    import unicodedata

    from rta.coding import SpanError, code_names, create_coding, ensure_codebook_version, split_span
    from rta.fsutil import atomic_write_text
    from rta.transcripts import parse_text

    path = Path(path)
    zf, names, root = _open_qdpx(path)
    local, norm = _local, _norm_guid
    with zf:
        codes = {norm(el.get("guid")): el.get("name") or "" for el in root.iter() if local(el) == "Code"}
        users = {norm(el.get("guid")): el.get("name") or el.get("id") or "" for el in root.iter() if local(el) == "User"}
        sources = []
        for src in (el for el in root.iter() if local(el) == "TextSource"):
            name = src.get("name") or src.get("guid") or "kilde"
            inline = next((el.text or "" for el in src if local(el) == "PlainTextContent"), None)
            ref = (src.get("plainTextPath") or "").split("://", 1)[-1]
            key = next((k for k in (f"sources/{ref}".lower(), ref.lower()) if ref and k in names), None)
            if key is not None:
                try:
                    raw = zf.read(names[key]).decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise RtaError(f"source '{name}' ({names[key]}) is not UTF-8: {exc.reason}", path=path) from None
            elif inline is not None:
                raw = inline
            else:
                raise RtaError(f"source '{name}' has no text (plainTextPath {ref or '-'} not in the file)", path=path)
            sources.append((src, name, raw))

    store = project.store
    who = project.coder(coder)
    imported: list[str] = []
    skipped: list[str] = []
    written: list[Path] = []
    folder = project.root / "imported"
    n_codings = 0
    try:
        with store.transaction():
            version = ensure_codebook_version(store, project.codebook_path, who)
            known = {c.casefold(): c for c in code_names(store, version)}
            missing = sorted({codes.get(norm(cr.get("targetGUID")), "?") for src, _, _ in sources for sel in src
                              if local(sel) == "PlainTextSelection" for cd in sel if local(cd) == "Coding"
                              for cr in cd if local(cr) == "CodeRef"
                              if codes.get(norm(cr.get("targetGUID")), "?").casefold() not in known})
            if missing:
                raise RtaError(f"codes not in the project's codebook: {', '.join(missing)}", path=path,
                               hint="add them to the codebook (or import its .qdc) first")
            for src, name, raw in sources:
                text, mapping = _normalise_with_map(raw)
                if not unicodedata.is_normalized("NFC", text):
                    raise RtaError(f"source '{name}' is not in Unicode NFC, so its offsets cannot be mapped safely",
                                   path=path)
                stem = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-.") or "kilde"
                file = folder / f"{stem}.txt"
                if file.exists():
                    raise RtaError(f"{file} already exists", path=file, hint="move it away or rename the source")
                parse_text(text, project.registry, path=f"{path.name}:{name}", default_id=stem)  # fail early, named
                atomic_write_text(file, text)
                written.append(file)
                (result,) = project.add_files([file], coder=who)
                imported.append(result.transcript_id)
                for sel in (el for el in src if local(el) == "PlainTextSelection"):
                    try:
                        s, e = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
                    except ValueError:
                        skipped.append(f"{name}: selection {sel.get('guid')} has no numeric positions")
                        continue
                    if not (0 <= s < e < len(mapping)):
                        skipped.append(f"{name}: selection {sel.get('guid')} {s}-{e} lies outside the text")
                        continue
                    start, end = mapping[s], mapping[e]
                    try:  # one coding per informant turn the selection covers (rta.coding.split_span)
                        parts = split_span(store, result.transcript_id, start, end)
                    except SpanError as exc:
                        skipped.append(f"{name}: selection {sel.get('guid')}: {exc.message}")
                        continue
                    for cd in (el for el in sel if local(el) == "Coding"):
                        for cr in (el for el in cd if local(el) == "CodeRef"):
                            code = known[codes[norm(cr.get("targetGUID"))].casefold()]
                            by = users.get(norm(cd.get("creatingUser") or sel.get("creatingUser"))) or who
                            for part in parts:
                                try:
                                    create_coding(store, result.transcript_id, part.start, part.end, code, by, version)
                                except SpanError as exc:  # e.g. the same words coded twice with the code
                                    skipped.append(f"{name}: selection {sel.get('guid')}: {exc.message}")
                                    continue
                                n_codings += 1
            store.log_event("qdpx.imported", {"file": str(path), "transcripts": imported, "codings": n_codings,
                                              "skipped": skipped}, who)
    except BaseException:
        for file in written:
            file.unlink(missing_ok=True)
        raise
    return QdpxImport(imported, n_codings, skipped)
