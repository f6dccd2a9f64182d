"""Helpers shared by the NLP assistant's tests (no tests here): projects pinned to the
embedded pipeline, so results do not depend on which pipelines happen to be installed."""

from __future__ import annotations

from pathlib import Path

from rta.project import Project

DATA = Path(__file__).parent / "data"
SUGGEST = DATA / "suggest"
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "transcripts_sample"


def pin_pipeline(project: Project, pipeline: str = "embedded") -> Project:
    """Rewrite rta.toml's [nlp] pipeline and reopen the project."""
    toml = project.root / "rta.toml"
    text = toml.read_text(encoding="utf-8").replace('pipeline = "auto"', f'pipeline = "{pipeline}"')
    toml.write_text(text, encoding="utf-8")
    root = project.root
    project.close()
    return Project.open(root)


def make_project(tmp_path: Path, codebook: Path | None = SUGGEST / "codebook.yaml",
                 files: list[Path] | None = None, name: str = "forslag") -> Project:
    """A project with the test codebook and the two suggest transcripts, embedded pipeline."""
    project = Project.init(tmp_path / name, name=name, coder="kari", codebook=codebook)
    project.add_files(files if files is not None else sorted(SUGGEST.glob("suggest-*.txt")), coder="kari")
    return pin_pipeline(project)


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if p.suffix in (".txt", ".md") and p.name != "README.md")


def cli(args: list[str], project: Project, input: str | None = None):
    """Run ``rta --project DIR ARGS`` with click's CliRunner (stdin from ``input``)."""
    from typer.testing import CliRunner

    from rta.cli import app

    runner = CliRunner()
    return runner.invoke(app, ["--project", str(project.root), *args], input=input, catch_exceptions=False)
