"""REFI-QDA codebook exchange (``.qdc``): write strictly, read leniently.

Representation (why): REFI-QDA codes nest in a single tree, but in reflexive TA a code may
belong to several themes. So

* **codes** become ``<Code isCodable="true">`` elements, nested by ``parent``;
* **themes** become ``<Set>`` elements whose ``<MemberCode guid=...>`` list the member codes,
  so many-to-many membership survives (a theme as a non-codable parent code could hold each
  code only once);
* each code's definition opens its ``<Description>``; inclusion/exclusion criteria, label,
  indicators and examples follow as labelled sections (``Inklusjon:``, ``Nøkkelord:`` ...) that
  people can read in NVivo/ATLAS.ti/MAXQDA and that :func:`read_qdc` parses back;
* a theme's ``<Set><Description>`` holds its definition, then ``Sentralt begrep:``,
  ``Opphav:``, ``Status:``, ``Motpol:`` and ``Overtema:``;
* GUIDs are the codebook's (written in the YAML, or derived deterministically), so repeated
  exports agree.

For the ``.qdpx`` project export: :func:`codebook_to_element` with ``namespace=PROJECT_NS``
gives a ``<CodeBook>`` without ``<Sets>`` (Project.xsd puts Sets at project level: use
:func:`sets_element`). Serialize with :func:`to_xml_bytes` (``xmlns`` default namespace, no
prefixes).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from rta.codebook import ORIGINS, STATUSES, Code, Codebook, Indicators, Theme, derive_guid
from rta.codebook_yaml import INDICATOR_KEYS, dump_codebook
from rta.errors import Problem, RtaError
from rta.fsutil import atomic_write_bytes, sha256_text
from rta.norsk import fold

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"

# Section headers inside <Description>, in the order they are written.
_CODE_TEXT_SECTIONS = {"Etikett": "label", "Inklusjon": "inclusion", "Eksklusjon": "exclusion"}
_CODE_LIST_SECTIONS = {
    "Nøkkelord": "keywords", "Lemmaer": "lemmas", "Fraser": "phrases", "Regex": "regex",
    "Eksempler": "examples",
}
_THEME_SECTIONS = {
    "Sentralt begrep": "central_concept", "Opphav": "origin", "Status": "status",
    "Motpol": "opposite", "Overtema": "parent",
}
# English headers are accepted on import too (people edit descriptions in other tools).
_ALIASES = {
    "label": "Etikett", "inclusion": "Inklusjon", "exclusion": "Eksklusjon", "keywords": "Nøkkelord",
    "lemmas": "Lemmaer", "phrases": "Fraser", "examples": "Eksempler", "central concept": "Sentralt begrep",
    "origin": "Opphav", "opposite": "Motpol", "parent theme": "Overtema",
}


# --------------------------------------------------------------------------------------------
# Descriptions


def code_description(code: Code) -> str:
    """The text of a code's ``<Description>``: definition first, then labelled sections."""
    parts = [code.definition.strip()]
    if code.label and code.label != code.name:
        parts.append(f"Etikett: {_one_line(code.label)}")
    for header, attr in (("Inklusjon", "inclusion"), ("Eksklusjon", "exclusion")):
        value = getattr(code, attr).strip()
        if value:
            parts.append(f"{header}:\n{value}")
    lists = []
    for header, attr in _CODE_LIST_SECTIONS.items():
        items = code.examples if attr == "examples" else getattr(code.indicators, attr)
        if items:
            lists.append(f"{header}:\n" + "\n".join(f"- {_one_line(i)}" for i in items))
    if lists:
        parts.append("\n".join(lists))
    return "\n\n".join(p for p in parts if p)


def theme_description(theme: Theme) -> str:
    """The text of a theme's ``<Set><Description>``."""
    parts = [theme.definition.strip()]
    meta = []
    for header, attr in _THEME_SECTIONS.items():
        value = getattr(theme, attr)
        if value:
            meta.append(f"{header}: {_one_line(value)}")
    if meta:
        parts.append("\n".join(meta))
    return "\n\n".join(p for p in parts if p)


def _one_line(text: str) -> str:
    """Line breaks become spaces (list items and header values are one line each)."""
    return re.sub(r"\s*\n\s*", " ", str(text)).strip()


def _parse_sections(text: str, headers: list[str]) -> tuple[str, dict[str, list[str]]]:
    """Split a description into (lead text, {header: lines}) on lines that start a header."""
    names = {h.casefold(): h for h in headers}
    names.update({k: v for k, v in _ALIASES.items() if v in headers})
    pattern = re.compile(r"^\s*(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\s*:\s?(.*)$", re.IGNORECASE)
    lead: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] = lead
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        m = pattern.match(line)
        if m:
            header = names[m.group(1).casefold()]
            current = sections.setdefault(header, [])
            if m.group(2).strip():
                current.append(m.group(2))
        else:
            current.append(line)
    return "\n".join(lead).strip(), sections


def _text(lines: list[str]) -> str:
    return "\n".join(lines).strip()


def _items(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        s = line.strip()
        if not s:
            continue
        out.append(s[2:].strip() if s.startswith("- ") else s.lstrip("-•* ").strip())
    return [i for i in out if i]


def parse_code_description(text: str) -> dict:
    """Fields of a code recovered from its ``<Description>`` (only those present)."""
    lead, sections = _parse_sections(text or "", [*_CODE_TEXT_SECTIONS, *_CODE_LIST_SECTIONS])
    out: dict = {"definition": lead}
    for header, attr in _CODE_TEXT_SECTIONS.items():
        if header in sections:
            out[attr] = _text(sections[header])
    for header, attr in _CODE_LIST_SECTIONS.items():
        if header in sections:
            out[attr] = _items(sections[header])
    return out


def parse_theme_description(text: str) -> dict:
    """Fields of a theme recovered from its ``<Set><Description>``."""
    lead, sections = _parse_sections(text or "", list(_THEME_SECTIONS))
    out: dict = {"definition": lead}
    for header, attr in _THEME_SECTIONS.items():
        if header in sections:
            out[attr] = _one_line(_text(sections[header]))
    return out


# --------------------------------------------------------------------------------------------
# Writing


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}" if ns else tag


def codes_element(codebook: Codebook, namespace: str = CODEBOOK_NS) -> ET.Element:
    """``<Codes>`` with codes nested by parent, in codebook order."""
    codes = ET.Element(_q(namespace, "Codes"))
    children: dict[str | None, list[Code]] = {}
    known = {fold(c.name) for c in codebook.codes}
    for code in codebook.codes:
        parent = code.parent if code.parent and fold(code.parent) in known else None
        children.setdefault(fold(parent) if parent else None, []).append(code)

    def add(parent_el: ET.Element, code: Code, seen: set[str]) -> None:
        el = ET.SubElement(parent_el, _q(namespace, "Code"), {"guid": code.guid, "name": code.name, "isCodable": "true"})
        if code.color:
            el.set("color", code.color)
        desc = code_description(code)
        if desc:
            ET.SubElement(el, _q(namespace, "Description")).text = desc
        for child in children.get(fold(code.name), []):
            if fold(child.name) not in seen:  # a parent cycle must not recurse forever
                add(el, child, seen | {fold(child.name)})

    for code in children.get(None, []):
        add(codes, code, {fold(code.name)})
    return codes


def sets_element(codebook: Codebook, namespace: str = CODEBOOK_NS) -> ET.Element | None:
    """``<Sets>`` with one ``<Set>`` per theme, or None when there are no themes (an empty
    ``<Sets/>`` is invalid)."""
    if not codebook.themes:
        return None
    guid_of = {fold(c.name): c.guid for c in codebook.codes}
    # Codebook.xsd's MemberCode has `guid`; Project.xsd's (a CodeRefType) has `targetGUID`.
    ref_attr = "targetGUID" if namespace == PROJECT_NS else "guid"
    sets = ET.Element(_q(namespace, "Sets"))
    for theme in codebook.themes:
        el = ET.SubElement(sets, _q(namespace, "Set"), {"guid": theme.guid, "name": theme.name})
        desc = theme_description(theme)
        if desc:
            ET.SubElement(el, _q(namespace, "Description")).text = desc
        for name in theme.codes:
            guid = guid_of.get(fold(name))
            if guid:
                ET.SubElement(el, _q(namespace, "MemberCode"), {ref_attr: guid})
    return sets


def codebook_to_element(
    codebook: Codebook, namespace: str = CODEBOOK_NS, include_sets: bool | None = None,
    origin: str | None = None,
) -> ET.Element:
    """A ``<CodeBook>`` element. With ``namespace=PROJECT_NS`` (for .qdpx) Sets are left out by
    default because Project.xsd has them at project level (see :func:`sets_element`)."""
    if include_sets is None:
        include_sets = namespace != PROJECT_NS
    root = ET.Element(_q(namespace, "CodeBook"))
    if namespace != PROJECT_NS:
        from rta import __version__

        root.set("origin", origin or f"rta {__version__}")
    root.append(codes_element(codebook, namespace))
    if include_sets:
        sets = sets_element(codebook, namespace)
        if sets is not None:
            root.append(sets)
    return root


def to_xml_bytes(root: ET.Element, namespace: str = CODEBOOK_NS) -> bytes:
    """Serialize with an XML declaration, indentation and ``namespace`` as the default
    namespace (``xmlns="..."``, no ``ns0:`` prefixes, which some QDA tools reject)."""
    import copy

    plain = copy.deepcopy(root)
    prefix = f"{{{namespace}}}"
    for el in plain.iter():
        if isinstance(el.tag, str) and el.tag.startswith(prefix):
            el.tag = el.tag[len(prefix):]
    plain.set("xmlns", namespace)
    ET.indent(plain, space="  ")
    body = ET.tostring(plain, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def codebook_to_qdc(codebook: Codebook) -> bytes:
    """The ``.qdc`` file for ``codebook`` (valid against Codebook.xsd)."""
    return to_xml_bytes(codebook_to_element(codebook), CODEBOOK_NS)


def export_qdc(codebook: Codebook, out: str | Path) -> list[str]:
    """Write ``codebook`` as ``.qdc`` atomically; returns what the format could not carry."""
    atomic_write_bytes(out, codebook_to_qdc(codebook))
    return export_losses(codebook)


def export_losses(codebook: Codebook) -> list[str]:
    """What a .qdc cannot hold (so the CLI can say so)."""
    lost = ["codebook name, description and mapping note (a .qdc has no place for them)"]
    return lost


# --------------------------------------------------------------------------------------------
# Validation


SCHEMA_ENV = "RTA_REFI_QDA_DIR"
CHECKOUT_SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "data" / "refi-qda"


def find_xsd(name: str = "Codebook.xsd") -> Path | None:
    """The REFI-QDA schema ``name`` (Codebook.xsd or Project.xsd), or None.

    rta does not ship the schemas (they are the REFI consortium's files, not ours). It looks
    in ``$RTA_REFI_QDA_DIR`` and then in ``../shared/data/refi-qda`` beside a source checkout
    (where the tests find them)."""
    import os

    folders = []
    if os.environ.get(SCHEMA_ENV):
        folders.append(Path(os.environ[SCHEMA_ENV]).expanduser())
    folders.append(CHECKOUT_SCHEMAS)
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    return None


def default_xsd(name: str = "Codebook.xsd") -> Path:
    """:func:`find_xsd`, or an RtaError that says how to point rta at the schema."""
    path = find_xsd(name)
    if path is None:
        raise RtaError(
            f"the REFI-QDA schema {name} was not found",
            hint=f"set {SCHEMA_ENV} to a folder holding {name} (from the REFI-QDA standard, qdasoftware.org)",
        )
    return path


def validate_xml(source: str | Path | bytes, xsd_path: str | Path | None = None) -> list[Problem]:
    """Schema problems of an XML document (file path or bytes) against ``xsd_path`` (default:
    :func:`default_xsd`'s Codebook.xsd); empty when valid. Each problem carries the line when known."""
    import xmlschema

    schema = xmlschema.XMLSchema(str(xsd_path or default_xsd("Codebook.xsd")))
    label = str(source) if not isinstance(source, bytes) else "<xml>"
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    from rta.xmlsafe import parse_untrusted_xml

    try:
        root = parse_untrusted_xml(data, label)
    except RtaError as exc:
        return [Problem(exc.message, label, exc.line, exc.hint)]
    problems = []
    lines = _element_lines(data)
    for err in schema.iter_errors(data.decode("utf-8", errors="replace")):
        path = getattr(err, "path", None)
        line = getattr(err, "sourceline", None) or _line_of(path, lines)
        reason = err.reason or str(err)
        problems.append(Problem(f"{reason}" + (f" (at {path})" if path else ""), label, line, "see the REFI-QDA schema"))
    del root
    return problems


def _element_lines(data: bytes) -> dict[str, int]:
    """Map of element paths as xmlschema writes them (``/CodeBook/Codes/Code[2]``, the index
    only where siblings share a name) to 1-based lines: ElementTree keeps no line numbers."""
    import xml.parsers.expat
    from collections import Counter

    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    root: dict = {"children": []}
    stack = [root]

    def start(name: str, attrs: dict) -> None:
        node = {"tag": name.rsplit("}", 1)[-1], "line": parser.CurrentLineNumber, "children": []}
        stack[-1]["children"].append(node)
        stack.append(node)

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: stack.pop()
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError:
        return {}
    out: dict[str, int] = {}

    def walk(node: dict, prefix: str) -> None:
        counts = Counter(c["tag"] for c in node["children"])
        seen: Counter = Counter()
        for child in node["children"]:
            seen[child["tag"]] += 1
            seg = child["tag"] + (f"[{seen[child['tag']]}]" if counts[child["tag"]] > 1 else "")
            out[f"{prefix}/{seg}"] = child["line"]
            walk(child, f"{prefix}/{seg}")

    walk(root, "")
    return out


def _line_of(path: str | None, lines: dict[str, int]) -> int | None:
    if not path:
        return None
    local = "/".join(seg.rsplit(":", 1)[-1] for seg in path.split("/"))
    return lines.get(local) or lines.get(re.sub(r"\[1\]", "", local))


# --------------------------------------------------------------------------------------------
# Reading


@dataclass
class QdcImport:
    """A codebook read from a .qdc plus notes on what could not be carried over."""

    codebook: Codebook
    notes: list[str] = field(default_factory=list)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].casefold() if isinstance(tag, str) else ""


def _attr(el: ET.Element, name: str) -> str | None:
    wanted = name.casefold()
    for key, value in el.attrib.items():
        if _local(key) == wanted:
            return value
    return None


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name.casefold()]


def _color(raw: str | None) -> str | None:
    if not raw:
        return None
    raw = raw.strip()
    if not raw.startswith("#"):
        raw = "#" + raw
    if re.fullmatch(r"#[0-9a-fA-F]{3}", raw):
        raw = "#" + "".join(ch * 2 for ch in raw[1:])
    return raw.lower() if re.fullmatch(r"#[0-9a-fA-F]{6}", raw) else ""


_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")


def read_qdc(
    source: str | Path | bytes, name: str | None = None, non_codable_as_themes: bool = False,
) -> QdcImport:
    """Read a .qdc (or a .qde project's CodeBook) written by NVivo, ATLAS.ti, MAXQDA, QualCoder
    or rta. Lenient: BOM, any or no namespace, missing colours, nested codes, Sets. With
    ``non_codable_as_themes`` top-level ``isCodable="false"`` codes become themes whose members
    are their descendants (how some tools model themes)."""
    label = "<qdc>" if isinstance(source, bytes) else str(source)
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.exists():
            raise RtaError("file not found", path=path, hint="check the path of the .qdc file")
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            raise RtaError("is a folder, not a .qdc file", path=path, hint="give the path of a .qdc file") from None
        except OSError as exc:
            raise RtaError(f"cannot read the file: {exc.strerror}", path=path) from None
    from rta.xmlsafe import parse_untrusted_xml

    root = parse_untrusted_xml(data, label)

    notes: list[str] = []
    tag = _local(root.tag)
    project_sets: list[ET.Element] = []
    if tag == "project":
        books = _children(root, "CodeBook")
        if not books:
            raise RtaError("the project has no <CodeBook>", path=label)
        for sets in _children(root, "Sets"):
            project_sets.extend(_children(sets, "Set"))
        book = books[0]
    elif tag == "codebook":
        book = root
    elif tag == "codes":
        book = ET.Element("CodeBook")
        book.append(root)
    else:
        raise RtaError(
            f"unexpected root element <{_local(root.tag)}>", path=label,
            hint="a .qdc has <CodeBook> at its root (a .qde has <Project>)",
        )
    if name is None:
        name = Path(label).stem if not isinstance(source, bytes) else "Importert kodebok"
    for child in book:
        if _local(child.tag) not in ("codes", "sets", "description"):
            notes.append(f"<{_local(child.tag)}> in <CodeBook> is not carried over")

    codes: list[Code] = []
    guids: dict[str, Code] = {}
    non_codable: list[tuple[Code, int]] = []
    used_names: dict[str, str] = {}

    def unique_name(raw: str, parent: Code | None) -> str:
        base = raw.strip() or "Uten navn"
        candidate = base
        if fold(candidate) in used_names and parent is not None:
            candidate = f"{parent.name}/{base}"
        n = 2
        while fold(candidate) in used_names:
            candidate = f"{base} ({n})"
            n += 1
        if candidate != base:
            notes.append(f"code name {base!r} occurs more than once (names must differ after case and accent folding): imported as {candidate!r}")
        used_names[fold(candidate)] = candidate
        return candidate

    def read_code(el: ET.Element, parent: Code | None, depth: int) -> None:
        raw_name = _attr(el, "name") or ""
        if not raw_name.strip():
            notes.append("a code without a name was imported as 'Uten navn'")
        code_name = unique_name(raw_name, parent)
        raw_guid = (_attr(el, "guid") or "").strip()
        m = _GUID.match(raw_guid)
        guid = m.group(1).lower() if m else ""
        if not guid:
            guid = derive_guid(name or "", "code", code_name)
            notes.append(f"code {code_name!r} had {'an invalid' if raw_guid else 'no'} GUID: derived {guid}")
        elif guid in guids:
            new = derive_guid(name or "", "code", code_name)
            notes.append(f"code {code_name!r} reuses the GUID of {guids[guid].name!r}: given {new}")
            guid = new
        color = _color(_attr(el, "color"))
        if color == "":
            notes.append(f"colour {_attr(el, 'color')!r} of code {code_name!r} is not #rrggbb: dropped")
            color = None
        descs = _children(el, "Description")
        fields = parse_code_description((descs[0].text or "") if descs else "")
        code = Code(
            name=code_name,
            label=fields.get("label") or code_name,
            definition=fields.get("definition", ""),
            inclusion=fields.get("inclusion", ""),
            exclusion=fields.get("exclusion", ""),
            indicators=Indicators(**{k: fields.get(k, []) for k in INDICATOR_KEYS}),
            examples=fields.get("examples", []),
            color=color,
            parent=parent.name if parent else None,
            guid=guid,
        )
        codes.append(code)
        guids[guid] = code
        codable = (_attr(el, "isCodable") or "true").strip().casefold()
        if codable in ("false", "0"):
            non_codable.append((code, depth))
        extra = sorted({_local(c.tag) for c in el} - {"description", "code"})
        for tagname in extra:
            notes.append(f"<{tagname}> of code {code_name!r} is not carried over" + (" (notes/memos stay in the other tool)" if tagname == "noteref" else ""))
        for child in _children(el, "Code"):
            read_code(child, code, depth + 1)

    codes_els = _children(book, "Codes")
    if not codes_els:
        raise RtaError("the codebook has no <Codes>", path=label, hint="is this a REFI-QDA codebook?")
    for codes_el in codes_els:
        for el in _children(codes_el, "Code"):
            read_code(el, None, 0)

    themes: list[Theme] = []
    theme_names: set[str] = set()
    set_els = [s for sets in _children(book, "Sets") for s in _children(sets, "Set")] + project_sets
    for el in set_els:
        tname = (_attr(el, "name") or "").strip() or f"Tema {len(themes) + 1}"
        while fold(tname) in theme_names:
            notes.append(f"set name {tname!r} occurs twice: the second is imported as {tname + ' (2)'!r}")
            tname += " (2)"
        theme_names.add(fold(tname))
        m = _GUID.match((_attr(el, "guid") or "").strip())
        tguid = m.group(1).lower() if m else derive_guid(name or "", "theme", tname)
        descs = _children(el, "Description")
        fields = parse_theme_description((descs[0].text or "") if descs else "")
        members = []
        for mc in _children(el, "MemberCode"):
            ref = (_attr(mc, "guid") or _attr(mc, "targetGUID") or "").strip()
            mg = _GUID.match(ref)
            code = guids.get(mg.group(1).lower()) if mg else None
            if code is None:
                notes.append(f"set {tname!r} names a code GUID that is not in the codebook ({ref}): dropped")
            elif code.name not in members:
                members.append(code.name)
        dropped = [c for c in el if _local(c.tag) in ("membersource", "membernote")]
        if dropped:
            notes.append(f"set {tname!r}: {len(dropped)} member source(s)/note(s) are not carried over (a theme holds codes only)")
        origin = fields.get("origin", "")
        if origin not in ORIGINS:
            notes.append(f"set {tname!r} became a theme with origin 'inductive' (the .qdc did not say; check it)")
            origin = "inductive"
        status = fields.get("status", "")
        if status not in STATUSES:
            status = "candidate"
        themes.append(Theme(
            name=tname, definition=fields.get("definition", ""), central_concept=fields.get("central_concept", ""),
            origin=origin, codes=members, parent=fields.get("parent") or None, status=status, guid=tguid,
            opposite=fields.get("opposite") or None,
        ))

    if non_codable:
        if non_codable_as_themes:
            for code, depth in non_codable:
                if depth != 0:
                    continue
                members = [c.name for c in codes if _descends(c, code, codes)]
                if fold(code.name) in theme_names:
                    notes.append(f"non-codable {code.name!r} is already a theme: kept as a code")
                    continue
                themes.append(Theme(
                    name=code.name, definition=code.definition, origin="inductive", codes=members,
                    status="candidate", guid=code.guid,
                ))
                theme_names.add(fold(code.name))
                codes.remove(code)
                for c in codes:
                    if c.parent == code.name:
                        c.parent = None
                notes.append(f"non-codable code {code.name!r} became a theme with {len(members)} code(s) (origin set to 'inductive': check it)")
        else:
            names = ", ".join(c.name for c, _ in non_codable)
            notes.append(
                f"isCodable=\"false\" is not carried over: {names} imported as ordinary code(s) "
                "(use --non-codable-as-themes to turn top-level ones into themes)"
            )
    undefined = [c.name for c in codes if not c.definition]
    if undefined:
        notes.append(f"{len(undefined)} code(s) have no description, so no definition: write one in the YAML")
    empty = [c.name for c in codes if c.indicators.is_empty()]
    if empty:
        notes.append(f"{len(empty)} code(s) have no indicators for the NLP assistant: add them in the YAML")

    codebook = Codebook(
        schema_version=1, name=name, language="nb", codes=codes, themes=themes,
        description=f"Importert fra {Path(label).name}." if not isinstance(source, bytes) else "Importert fra REFI-QDA.",
        mapping_note=(
            "Koblingen mellom koder og tema er forskernes tolkning; den er importert fra "
            "REFI-QDA-settene og kan endres her."
        ),
    )
    codebook.sha256 = sha256_text(dump_codebook(codebook))
    return QdcImport(codebook, notes)


def _descends(code: Code, ancestor: Code, codes: list[Code]) -> bool:
    by_name = {c.name: c for c in codes}
    seen = set()
    current = code
    while current.parent and current.parent not in seen:
        if current.parent == ancestor.name:
            return True
        seen.add(current.parent)
        current = by_name.get(current.parent)
        if current is None:
            return False
    return False
