"""Commands: feature, unfeature, featured (the extracts chosen to illustrate a theme) and
import-comments (a team's Word comments on a report back as memos)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rta.cli.app import app, echo, open_project, whole_number


def _list(project, items, theme_name: str) -> None:
    if not items:
        echo(f"no featured extracts in '{theme_name}': the report picks up to 5 per role")
        return
    for f in items:
        row = project.store.conn.execute("SELECT code, transcript_id, line_start, line_end FROM codings WHERE id = ?",
                                         (f.coding_id,)).fetchone()
        where = f"{row['code']}, {row['transcript_id']}:{row['line_start']}-{row['line_end']}" if row else "?"
        note = f" ({f.note})" if f.note else ""
        echo(f"{f.position}. coding {f.coding_id} {where}{note}")


@app.command()
def feature(
    coding: int = typer.Argument(..., parser=whole_number, help="The coding to feature (its passage is the extract)."),
    theme: str = typer.Option(..., "--theme", help="The theme it illustrates."),
    note: Optional[str] = typer.Option(None, "--note", help="Why this extract (kept with the decision)."),
    before: Optional[int] = typer.Option(None, "--before", parser=whole_number,
                                         help="Place it before this featured coding."),
    after: Optional[int] = typer.Option(None, "--after", parser=whole_number, help="Place it after this featured coding."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Feature an extract in a theme's section of the report (at the end, or --before/--after
    another featured one; featuring it again moves it). A logged decision."""
    from rta.featured import feature as do_feature
    from rta.themes import get_theme

    project = open_project()
    items = do_feature(project.store, coding, theme, project.coder(coder), note, before, after)
    _list(project, items, get_theme(project.store, theme).name)


@app.command()
def unfeature(
    coding: int = typer.Argument(..., parser=whole_number, help="The featured coding."),
    theme: str = typer.Option(..., "--theme", help="The theme it is featured in."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Take an extract out of a theme's featured extracts (it moves to the appendix)."""
    from rta.featured import unfeature as do_unfeature
    from rta.themes import get_theme

    project = open_project()
    items = do_unfeature(project.store, coding, theme, project.coder(coder), reason)
    _list(project, items, get_theme(project.store, theme).name)


@app.command()
def featured(theme: Optional[str] = typer.Option(None, "--theme", help="Only this theme.")) -> None:
    """List the featured extracts of each theme, in their order."""
    from rta.featured import featured as load
    from rta.themes import get_theme, list_themes

    project = open_project()
    state = load(project.store)
    themes = [get_theme(project.store, theme)] if theme else list_themes(project.store)
    for t in themes:
        echo(f"{t.name}:")
        _list(project, state.get(t.id, []), t.name)


@app.command("import-comments")
def import_comments_cmd(
    path: Path = typer.Argument(..., help="The Word report the team commented on."),
    coder: Optional[str] = typer.Option(None, help="Who imports (recorded with each memo)."),
) -> None:
    """Bring a team's Word comments on a report back as memos: on an extract -> a memo on its
    coding, on a theme's heading or text -> a memo on the theme, elsewhere -> a journal entry;
    written by the commenter, logged. Importing the same file again adds nothing; extracts
    edited in the file are reported, not imported."""
    from rta.comments import describe, import_comments

    project = open_project()
    result = import_comments(project, path, project.coder(coder))
    for c in result.added:
        echo(f"added {describe(c)}")
    if result.skipped:
        echo(f"{len(result.skipped)} comment(s) already imported: skipped")
    for cause in result.edited:
        echo(f"WARNING: {cause} (the reviewed file's words are not imported)", err=True)
    echo(f"{len(result.added)} comment(s) imported from {path.name}")
