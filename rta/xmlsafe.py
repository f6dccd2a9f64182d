"""XML from other tools and other people, parsed without the XML features that attack.

REFI-QDA files (``.qdc``, ``project.qde`` inside a ``.qdpx``) never declare entities, so any
entity declaration is refused before the document is built: no "billion laughs" expansion,
no external entity reaching outside the file. Syntax errors name the line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rta.errors import RtaError


class _EntityDeclared(Exception):
    pass


def parse_untrusted_xml(data: bytes, label: str | Path, member: str | None = None) -> ET.Element:
    """Parse XML from another tool or person. Entity declarations are refused (no 'billion
    laughs', no external entities: REFI-QDA files never declare entities), and a syntax error
    names the line. ``label`` is the file shown; ``member`` the zip member it came from."""
    from xml.parsers import expat

    shown = f"{label}:{member}" if member else str(label)
    what = member or "the file"
    data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data

    def refuse(*_args: Any) -> None:
        raise _EntityDeclared()

    scan = expat.ParserCreate()
    scan.EntityDeclHandler = refuse
    scan.UnparsedEntityDeclHandler = refuse
    scan.ExternalEntityRefHandler = refuse
    try:
        scan.Parse(data, True)
    except _EntityDeclared:
        raise RtaError(f"{what} declares XML entities (<!ENTITY ...>), which rta refuses: they can expand "
                       "without limit or reach outside the file", path=shown, line=scan.CurrentLineNumber or None,
                       hint="this is not a plain REFI-QDA export; export the project again from the QDA tool") from None
    except expat.ExpatError as exc:
        raise RtaError(f"{what} is not well-formed XML: {expat.ErrorString(exc.code)} (column {exc.offset + 1})",
                       path=shown, line=exc.lineno or None,
                       hint="the file is damaged or not a REFI-QDA export; export the project again") from None
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:  # the scan above accepted it: should not happen
        line = exc.position[0] if exc.position else None
        raise RtaError(f"{what} is not well-formed XML: {exc}", path=shown, line=line) from None
