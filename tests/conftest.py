"""Shared fixtures: small projects built from the transcripts in tests/data/transcripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from rta.project import Project

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def mini_transcripts() -> list[Path]:
    """Two tiny transcripts (S1 in kommune 1, R2.1 in kommune 2)."""
    return sorted((DATA / "transcripts").glob("mini-*.txt"))


@pytest.fixture
def project(tmp_path: Path, mini_transcripts: list[Path]) -> Project:
    """A fresh project (Tabell 2 registry, Tabell 3 codebook) with the two mini transcripts."""
    proj = Project.init(tmp_path / "studie", name="Testprosjekt", coder="tester")
    proj.add_files(mini_transcripts, coder="tester")
    yield proj
    proj.close()


@pytest.fixture
def refi_qda_dir() -> Path:
    """The REFI-QDA schemas in ../shared/data/refi-qda (CI has shared/ beside the repo)."""
    folder = SHARED / "data" / "refi-qda"
    if not folder.is_dir():
        pytest.skip(f"REFI-QDA schemas not found at {folder}")
    return folder
