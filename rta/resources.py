"""Locate files rta ships: codebooks, templates, the bundled pipeline.

In a source checkout or editable install they sit at the repository's top level
(``codebooks/``, ``templates/``); in a built wheel they are installed as ``rta/codebooks`` and
``rta/templates``. Callers need not care which.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    inside = _PKG / name
    if inside.is_dir():
        return inside
    beside = _PKG.parent / name
    if beside.is_dir():
        return beside
    raise FileNotFoundError(f"rta's {name}/ folder is missing from this installation ({_PKG})")


def codebooks_dir() -> Path:
    return _locate("codebooks")


def templates_dir() -> Path:
    return _locate("templates")


def models_dir() -> Path:
    return _PKG / "models"


def default_registry_path() -> Path:
    """Tabell 2: the default informant registry."""
    return codebooks_dir() / "informants_tabell2.yaml"


def default_codebook_path() -> Path:
    """Tabell 3: the default codebook."""
    return codebooks_dir() / "tabell3.yaml"


def sample_transcripts_dir() -> Path:
    """The bundled sample transcripts (source checkout only)."""
    return _PKG.parent / "transcripts_sample"
