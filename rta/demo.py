"""``rta demo``: the whole path on the bundled sample, as a new user's first run."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from rta.errors import RtaError
from rta.resources import sample_transcripts_dir


def sample_files() -> list[Path]:
    folder = sample_transcripts_dir()
    files = sorted(p for p in folder.glob("*") if p.suffix in (".txt", ".md", ".docx") and p.name != "README.md")
    if not files:
        raise RtaError("no sample transcripts found", path=folder, hint="run rta demo from a source checkout")
    return files


def run_demo(out: Path | None, echo: Callable[[str], None] = print) -> Path:
    """Create a project from the sample transcripts and print its overview."""
    from rta.overview import informant_overview, transcript_overview
    from rta.project import Project

    root = Path(out) if out else Path(tempfile.mkdtemp(prefix="rta-demo-")) / "studie"
    project = Project.init(root, name="Oppfølgingsordningen (eksempel)", coder="demo")
    echo(f"1. project created: {project.root}")
    results = project.add_files(sample_files(), coder="demo")
    echo(f"2. added {len(results)} sample transcripts")
    echo("")
    echo(f"{'transcript':26}{'turns':>7}{'words':>8}  informants")
    for r in transcript_overview(project.store):
        echo(f"{r['id']:26}{r['turns']:>7}{r['words']:>8}  {', '.join(r['informants'])}")
    echo("")
    registry = project.registry
    echo(f"{'code':13}{'role':14}{'group':12}{'turns':>7}{'words':>8}")
    for r in informant_overview(project.store, registry):
        echo(f"{r['code']:13}{r['role_name']:14}{(r['group'] or '-'):12}{r['turns']:>7}{r['words']:>8}")
    echo("")
    echo(f"done. Explore it: cd {project.root} && rta transcripts")
    project.close()
    return project.root
