"""Commands: init, add, transcripts, informants, demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from rta.cli.app import app, echo, format_option, open_project, output_folder


@app.command()
def init(
    directory: Path = typer.Argument(..., help="Folder for the new project (created if missing)."),
    name: Optional[str] = typer.Option(None, help="Study name (default: the folder name)."),
    coder: Optional[str] = typer.Option(None, help="Default coder name (default: your user name)."),
    registry: Optional[Path] = typer.Option(None, help="Informant registry YAML (default: Tabell 2)."),
    codebook: Optional[Path] = typer.Option(None, help="Codebook YAML (default: Tabell 3)."),
    shared_group: bool = typer.Option(
        False, "--shared-group",
        help="Let your Unix group read and write the project (folder 2770, files 0660; the umask still "
             "applies). Default: readable by you only (folder 0700, files 0600)."),
    from_qdpx: Optional[Path] = typer.Option(
        None, "--from", help="Start from a REFI-QDA project (.qdpx) of another tool: its codebook, sources, "
                             "codings, notes and cases (see 'rta import-qdpx')."),
    speakers: Optional[Path] = typer.Option(None, "--speakers", help="With --from: YAML mapping speaker labels to "
                                            "roles (see 'rta import-qdpx --help')."),
) -> None:
    """Create a project folder with rta.toml, a registry, a codebook and the store. The folder
    and its files are readable by you only unless --shared-group."""
    from rta.fsutil import current_umask
    from rta.project import Project, folder_exposure

    if from_qdpx is not None:
        if codebook is not None:
            from rta.errors import RtaError

            raise RtaError("--codebook and --from both give the codebook", hint="use one of them")
        from rta.cli.coding import print_import
        from rta.qdpx_import import init_from_qdpx

        project, result = init_from_qdpx(directory, from_qdpx, name=name, coder=coder, registry=registry,
                                         shared_group=shared_group, speakers=speakers)
        print_import(result, from_qdpx)
    else:
        project = Project.init(directory, name=name, coder=coder, registry=registry, codebook=codebook,
                               shared_group=shared_group)
    echo(f"created project '{project.config.name}' in {project.root}")
    exposure = folder_exposure(project.root)
    if exposure:
        echo(f"warning: {exposure}; the transcripts are personal data: chmod 700 {project.root} "
             "(or use --shared-group for a team folder)", err=True)
    if shared_group and current_umask() & 0o060:
        echo(f"warning: your umask {current_umask():03o} takes write access away from the group; "
             "run 'umask 007' in the shell where the team uses rta", err=True)
    echo(f"  registry: {project.config.registry}   codebook: {project.config.codebook}   coder: {project.config.coder}")
    echo(f"next: cd {directory} && " + ("rta audit" if from_qdpx is not None else "rta add TRANSCRIPTS..."))


@app.command()
def add(
    files: List[Path] = typer.Argument(..., help="Transcript files (.txt, .md, .docx)."),
    encoding: str = typer.Option("utf-8", help="Text encoding of .txt/.md files, e.g. cp1252 or latin-1."),
    revise: bool = typer.Option(False, help="Accept a file from a new path as a new revision of a transcript with the same id."),
    coder: Optional[str] = typer.Option(None, help="Who adds them (default: $RTA_CODER or rta.toml)."),
    force: bool = typer.Option(False, "--force", help="Store a file even if it is the text from before "
                               "'rta anonymise apply' (it brings the real names back)."),
    check_ocr: bool = typer.Option(False, "--check-ocr", help="Warn about transcripts that look OCR-damaged "
                                   "or typed without æ/ø/å (the text is stored as it is)."),
) -> None:
    """Import transcripts into the project. Unchanged files are skipped; changed ones become
    new revisions with their codings re-anchored. Nothing is stored if any file is bad."""
    project = open_project()
    results = project.add_files(files, encoding=encoding, coder=coder, revise=revise, force=force)
    for r in results:
        echo(f"{r.status:9} {r.transcript_id:24} rev {r.revision}  {r.turns:4} turns {r.words:6} words  ({r.path})")
        if r.anchored:
            moved = {m: sum(1 for a in r.anchored if a.method == m) for m in ("exact", "fuzzy", "orphaned")}
            echo(f"          codings re-anchored: {moved['exact']} exact, {moved['fuzzy']} fuzzy, {moved['orphaned']} orphaned")
            if moved["orphaned"]:
                echo("          orphaned codings need a decision: rta orphans")
        if r.suggestions:
            retired = sum(1 for m in r.suggestions if m.new is None)
            echo(f"          pending suggestions: {len(r.suggestions) - retired} moved to rev {r.revision}, "
                 f"{retired} retired (their words changed)")
    counts = {s: sum(1 for r in results if r.status == s) for s in ("added", "revised", "unchanged")}
    echo(f"{counts['added']} added, {counts['revised']} revised, {counts['unchanged']} unchanged")
    if check_ocr:
        from rta.ocr import damage_warning, ocr_damage_score

        for r in results:
            report = ocr_damage_score(project.store.transcript_text(r.transcript_id))
            if report.looks_damaged:
                echo(damage_warning(str(r.path), report), err=True)
            else:
                echo(f"ocr check: {r.path}: looks clean ({report.summary()})")


@app.command()
def transcripts(
    fmt: str = format_option("table", "table", "json", help="table or json."),
) -> None:
    """List the project's transcripts with their turns, words and informants."""
    from rta.overview import transcript_overview

    project = open_project()
    rows = transcript_overview(project.store)
    if fmt == "json":
        echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        echo("no transcripts yet: rta add FILES...")
        return
    echo(f"{'transcript':26}{'rev':>4}{'turns':>7}{'words':>8}  informants")
    for r in rows:
        echo(f"{r['id']:26}{r['revision']:>4}{r['turns']:>7}{r['words']:>8}  {', '.join(r['informants'])}")
    echo(f"{len(rows)} transcripts, {sum(r['turns'] for r in rows)} turns, {sum(r['words'] for r in rows)} words")


informants_app = typer.Typer(help="The informant registry: list it (default), rename an informant.",
                             invoke_without_command=True)
app.add_typer(informants_app, name="informants")


@informants_app.callback()
def informants(
    ctx: typer.Context,
    fmt: str = format_option("table", "table", "json", help="table or json."),
) -> None:
    """List the informant registry with each informant's turns and words in the project."""
    if ctx.invoked_subcommand is not None:
        return
    from rta.overview import informant_overview

    project = open_project()
    rows = informant_overview(project.store, project.registry)
    if fmt == "json":
        echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    echo(f"{'code':13}{'role':14}{'group':12}{'transcripts':>12}{'turns':>7}{'words':>8}")
    for r in rows:
        echo(f"{r['code']:13}{r['role_name']:14}{(r['group'] or '-'):12}{r['transcripts']:>12}{r['turns']:>7}{r['words']:>8}")
    silent = [r["code"] for r in rows if r["turns"] == 0 and r["code"] != "(intervjuer)"]
    if silent:
        echo(f"not in any transcript: {', '.join(silent)}")


@informants_app.command("rename")
def informants_rename(
    old: str = typer.Argument(..., help="The informant's code now (e.g. 'Speaker 1')."),
    new: str = typer.Argument(..., help="Its study code (e.g. S1); an existing informant takes OLD as an alias."),
    coder: Optional[str] = typer.Option(None, help="Who renames (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Give an informant another code (or fold it into an existing one) in the registry and in
    every turn it speaks; the transcripts' labels stay as aliases and codings keep their spans.
    Logged."""
    from rta.informant_rename import rename_informant

    project = open_project()
    r = rename_informant(project, old, new, coder=coder)
    how = "folded into" if r.merged else "renamed to"
    echo(f"informant '{r.old}' {how} '{r.new}' ({r.role}{', ' + r.group if r.group else ''}): {r.turns} turn(s) in "
         f"{r.revisions} revision(s), {r.codings} coding(s) now credited to {r.new}")


@app.command()
def demo(
    out: Optional[Path] = typer.Option(None, "--out", parser=output_folder, help="Folder for the demo project (default: a new temporary folder)."),
) -> None:
    """Run the whole path on the bundled sample transcripts and print what it made."""
    from rta.demo import run_demo

    run_demo(out, echo=echo)
