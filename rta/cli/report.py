"""Command: report (HTML and Markdown reports of themes and their quotes).

Jinja2 is imported inside the library call."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rta.cli.app import app, echo, open_project, output_folder, report_formats


@app.command()
def report(
    fmt: str = typer.Option("html,md", "--format", "-f", parser=report_formats, metavar="html,md,docx",
                           help="html, md, docx (Word) or a comma list."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", parser=output_folder,
                                       help="Output folder (default: PROJECT/rapport)."),
    template: Optional[Path] = typer.Option(None, "--template", help="Folder with your own report.*.j2 templates."),
    theme: Optional[str] = typer.Option(None, "--theme", help="Only this theme's quotes."),
    role: Optional[str] = typer.Option(None, "--role", help="Only quotes from this role (key or name)."),
    allow_unverified: bool = typer.Option(False, "--allow-unverified",
                                          help="Build even if 'rta audit' fails; every page is stamped UNVERIFIED."),
    allow_originals: bool = typer.Option(False, "--allow-originals",
                                         help="Quote codings on revisions from before 'rta anonymise apply' "
                                              "(their text may hold the real names)."),
    coder: Optional[str] = typer.Option(None, "--coder", help="A coder's own view: only NAME's codings are quoted "
                                        "and counted (the audit appendix still lists every coder)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="nb or en: the language of the report's own text "
                                                            "(default: [report] lang in rta.toml, else nb)."),
    title: Optional[str] = typer.Option(None, "--title", help="The report's title (default: [report] title in "
                                                              "rta.toml, else 'Tema i NAME')."),
    no_figures: bool = typer.Option(False, "--no-figures", help="Leave out the thematic map and the charts."),
) -> None:
    """Write the report: per theme its definition, central concept, origin, codes and quotes
    grouped by role; theme x role and theme x group matrices; who is never quoted; a transcript
    appendix and an audit appendix. Refuses to build when 'rta audit' fails."""
    from rta.report_build import build_report, parse_formats

    project = open_project()
    if lang is not None and lang not in ("nb", "en"):
        from rta.errors import RtaError

        raise RtaError(f"--lang must be nb or en, not '{lang}'", hint="rta report --lang en")
    result = build_report(project, parse_formats(fmt), out, template, theme, role, allow_unverified, None,
                          allow_originals=allow_originals, lang=lang, title=title, figures=not no_figures,
                          view=coder)
    data = result.data
    for note in result.recovered:
        echo(f"note: {note}", err=True)
    if not result.audit_ok:
        echo("WARNING: the project does not pass 'rta audit'; the report is stamped UNVERIFIED", err=True)
    if result.unresolved_flags:
        listed = ", ".join(f"{tid} ({n})" for tid, n in result.unresolved_flags.items())
        echo(f"WARNING: likely identifiers left in {len(result.unresolved_flags)} transcript(s): {listed}; "
             "see 'rta anonymise check' before sharing the report", err=True)
    superseded = {q.coding_id for t in data.themes for g in t.roles for q in g.quotes if q.superseded_by}
    if superseded:
        echo(f"note: {len(superseded)} quoted coding(s) point at a superseded revision; the report marks them "
             "('from revision N, superseded')", err=True)
    echo(f"{len(data.themes)} theme(s), {data.total_quotes} quote(s) from {data.informants_quoted} informant(s)")
    for path in result.paths:
        echo(f"wrote {path}")
