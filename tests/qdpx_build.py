"""Helpers for the import tests: .qdpx files built from a project.qde text and source texts,
or from a folder of tests/data/qdpx (hand-written in the styles of other QDA tools)."""

from __future__ import annotations

import zipfile
from pathlib import Path

QDPX_DATA = Path(__file__).parent / "data" / "qdpx"
NS = "urn:QDA-XML:project:1.0"


def make_qdpx(path: Path, qde: str | bytes, sources: dict[str, str | bytes] | None = None,
              qde_name: str = "project.qde") -> Path:
    """A .qdpx at ``path`` holding ``qde`` (as ``qde_name``) and ``sources`` (member name -> text)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(qde_name, qde.encode("utf-8") if isinstance(qde, str) else qde)
        for name, data in (sources or {}).items():
            zf.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return path


def qdpx_from_folder(style: str, out_dir: Path, extra: dict[str, bytes] | None = None) -> Path:
    """Zip ``tests/data/qdpx/STYLE/`` (every file, bytes as they are, plus ``extra`` members) into
    ``out_dir/STYLE.qdpx``."""
    folder = QDPX_DATA / style
    out = out_dir / f"{style}.qdpx"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.writestr(file.relative_to(folder).as_posix(), file.read_bytes())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out


def docx_bytes(paragraphs: list[str]) -> bytes:
    """A small Word file with these paragraphs (a source exported with richTextPath only)."""
    import io

    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def project_qde(body: str, name: str = "Importtest") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="{name}">\n{body}\n</Project>\n')
