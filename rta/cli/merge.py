"""Commands: clone, merge, compare (several coders, one study)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from rta.cli.app import app, choice, echo, format_option, open_project, output_file
from rta.errors import RtaError

RESOLUTIONS = ("ours", "theirs")


@app.command()
def clone(
    directory: Path = typer.Argument(..., help="The project to copy."),
    new_directory: Path = typer.Argument(..., help="Folder for the copy (new, or empty)."),
    coder: str = typer.Option(..., "--coder", help="Who codes in the copy (its rta.toml coder)."),
) -> None:
    """Make a working copy of a project for a co-coder: configuration, registry, codebook and
    the store with its whole log; not reports, exports or checkpoints, and never a pseudonym
    key. Bring the copies together again with 'rta merge'."""
    from rta.clone import clone as do_clone
    from rta.copies import copy_id

    project = do_clone(directory, new_directory, coder)
    echo(f"cloned {directory} to {project.root} for coder '{project.config.coder}' (copy "
         f"{copy_id(project.store)[:12]}…)")
    echo("  the pseudonym key (kept outside projects) was not copied; reports and checkpoints stay with the original")
    echo(f"  when you have coded: cd {directory} && rta merge {project.root}   (and the other way round)")
    project.close()


@app.command()
def merge(
    other: Path = typer.Argument(..., help="The folder of another copy of this project."),
    resolve: Optional[List[str]] = typer.Option(
        None, "--resolve", metavar="N=ours|theirs",
        help="Decide conflict N as a merge without it listed: ours keeps this project's version, theirs takes "
             "the other's (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what the merge would do, change nothing."),
    verify: bool = typer.Option(False, "--verify", help="Audit the merged project before committing; undo the merge "
                                "if it would not pass (one full audit more)."),
    coder: Optional[str] = typer.Option(None, help="Who merges (default: $RTA_CODER or rta.toml)."),
    fmt: str = format_option("text", "text", "json", help="text or json."),
) -> None:
    """Bring another copy's decisions into this project: codings, removals and recodes,
    suggestion decisions, memos and journal entries, themes, codebook versions and transcript
    revisions, each logged here with its coder, time and where it came from. Merging again adds
    nothing; conflicting theme changes are listed for you to decide (--resolve)."""
    from rta.merge import merge as do_merge

    choices = parse_resolutions(resolve or [])
    project = open_project()
    result = do_merge(project, other, coder=coder, resolve=choices, dry_run=dry_run, verify=verify)
    if fmt == "json":
        echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        for line in summary_lines(result):
            echo(line)
    open_conflicts = [c for c in result.conflicts if not any(r["n"] == c.n for r in result.resolved)]
    if open_conflicts:
        raise typer.Exit(1)


@app.command()
def compare(
    coders: str = typer.Option(..., "--coders", help="The two coders to compare, e.g. kari,ola."),
    transcript: Optional[str] = typer.Option(None, "--transcript", help="Only this transcript."),
    code_name: Optional[str] = typer.Option(None, "--code", "-c", help="Only passages where either used this code."),
    fmt: str = format_option("table", "table", "json", "html", help="table, json or html (a page for a team meeting)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", parser=output_file,
                                          help="Write to this file (default: standard output)."),
    agreement: bool = typer.Option(False, "--agreement", help="Agreement figures per code and overall (percentage, "
                                   "Cohen's kappa, Krippendorff's alpha), for codebook and coding-reliability "
                                   "approaches: reflexive TA does not use them."),
    unit: str = typer.Option("turn", "--unit", parser=choice("turn", "sentence", what="unit"), metavar="turn|sentence",
                             help="With --agreement: the units, informant turns or their sentences."),
) -> None:
    """Where two coders read the data differently: passages coded by one only, the same passage
    with different codes, the same code over different extents, each with the quote in context.
    Material for reflexive dialogue in the team, not a test of who is right."""
    from rta.compare import check_coders, compare_coders, compare_html, compare_text

    project = open_project()
    store = project.store
    a, b = check_coders(store, coders.split(","))
    if agreement:
        from rta.agreement import agreement as figures, agreement_text

        if fmt == "html":
            raise RtaError("--agreement gives a table or json", hint="use --format table or --format json")
        report = figures(store, a, b, unit=unit, transcript=transcript, code=code_name)
        text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if fmt == "json" else \
            "\n".join(agreement_text(report))
        _write(text + "\n", output)
        return
    result = compare_coders(store, a, b, transcript=transcript, code=code_name)
    if fmt == "json":
        _write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", output)
    elif fmt == "html":
        _write(compare_html(result, project.config.language), output)
    else:
        _write("\n".join(compare_text(result)) + "\n", output)


def _write(text: str, output: Optional[Path]) -> None:
    """To standard output (through rta's escaping echo), or atomically to ``output`` (an HTML
    page or JSON file keeps its text as it is: the page escapes it itself)."""
    if output is None or str(output) == "-":
        echo(text, nl=False)
        return
    from rta.fsutil import atomic_write_text

    atomic_write_text(output, text)
    echo(f"wrote {output}")


def parse_resolutions(values: list[str]) -> dict[int, str]:
    """``--resolve N=ours|theirs`` (repeatable, or comma-separated) as {N: choice}."""
    out: dict[int, str] = {}
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            n, sep, choice = part.partition("=")
            choice = choice.strip().lower()
            if not sep or not n.strip().isdigit() or choice not in RESOLUTIONS:
                raise RtaError(f"cannot read --resolve '{part}'",
                               hint="write --resolve N=ours or N=theirs, N a conflict number 'rta merge OTHER' listed")
            out[int(n)] = choice
    return out


def summary_lines(result) -> list[str]:  # rta.merge.MergeResult
    """What a merge did, for the terminal."""
    lines = []
    verb = "would merge" if result.dry_run else "merged"
    total = result.total
    what = ", ".join(f"{n} {k}" for k, n in sorted(result.applied.items())) or "nothing new"
    lines.append(f"{verb} {total} decision(s) from {result.other} (copy {result.other_copy[:12]}…, head "
                 f"{result.other_head.split(':')[0]}; the logs part after entry {result.fork}): {what}")
    if result.absorbed:
        lines.append(f"  {len(result.absorbed)} already in effect here (recorded as seen)")
    if result.reanchored:
        lines.append(f"  {result.reanchored} coding(s) re-anchored to a transcript revision that came with the merge")
    if result.skipped:
        lines.append("  not merged: " + ", ".join(f"{n} {k}" for k, n in sorted(result.skipped.items())))
    for note in result.notes:
        lines.append(f"  note: {note}")
    open_ = [c for c in result.conflicts if not any(r["n"] == c.n for r in result.resolved)]
    for c in result.conflicts:
        done = next((r["choice"] for r in result.resolved if r["n"] == c.n), None)
        state = f"resolved: {done}" if done else "left for you"
        lines.append(f"  conflict {c.n} ({c.kind}, {state}): {c.what}: here {c.ours}; there {c.theirs}")
    if open_:
        nums = ",".join(f"{c.n}=ours" for c in open_[:2])
        lines.append(f"  {len(open_)} conflict(s) not decided: rta merge {result.other} --resolve {nums} (ours keeps "
                     "this project's version, theirs takes the other's)")
    if result.seq is not None:
        lines.append(f"  logged as entry {result.seq} (project.merged); 'rta audit' checks the merged log")
    return lines
