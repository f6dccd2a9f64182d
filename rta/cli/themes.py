"""Commands: themes (add/assign/unassign/rename/merge/split/discard/define/history/propose/
review/list), familiarise, phase (show, set).

Heavy libraries (numpy, spaCy) are imported inside the library calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from rta.cli.app import app, echo, format_option, open_project, output_file, phase_app, themes_app, whole_number
from rta.errors import RtaError


def _codes(values: List[str] | None) -> list[str]:
    """Codes given as separate words and/or comma lists: 'Tid Rom' or 'Tid,Rom'."""
    out: list[str] = []
    for v in values or []:
        out += [c.strip() for c in v.split(",") if c.strip()]
    return out


def _show(theme) -> None:
    echo(f"{theme.name} [{theme.status}, {theme.origin}, v{theme.version}]: {', '.join(theme.codes) or '(no codes)'}")


def _prepare(project) -> None:
    """Make sure the codebook as it is now is imported (codes are checked against it)."""
    from rta.coding import ensure_codebook_version

    ensure_codebook_version(project.store, project.codebook_path, project.coder())


@themes_app.callback()
def _themes_default(ctx: typer.Context) -> None:
    """Without a subcommand: list the themes."""
    if ctx.invoked_subcommand is None:
        themes_list(all_=False, fmt="table")


@themes_app.command("list")
def themes_list(
    all_: bool = typer.Option(False, "--all", help="Include discarded themes."),
    fmt: str = format_option("table", "table", "json", help="table or json."),
) -> None:
    """List the project's themes with status, origin, version and member codes."""
    from rta.themes import list_themes

    project = open_project()
    items = list_themes(project.store, include_discarded=all_)
    if fmt == "json":
        from dataclasses import asdict

        echo(json.dumps([asdict(t) for t in items], ensure_ascii=False, indent=2))
        return
    if not items:
        echo("no themes yet: 'rta themes add NAME --code ...' or 'rta themes add --from-codebook'")
        return
    for t in items:
        _show(t)


@themes_app.command("add")
def themes_add(
    name: Optional[str] = typer.Argument(None, help="Theme name (leave out with --from-codebook)."),
    code: Optional[List[str]] = typer.Option(None, "--code", "-c", help="Member code (repeat, or comma-separated)."),
    definition: str = typer.Option("", "--definition", help="What the theme is about."),
    concept: str = typer.Option("", "--concept", help="Its central organising concept."),
    origin: str = typer.Option("inductive", "--origin", help="inductive or deductive."),
    from_codebook: bool = typer.Option(False, "--from-codebook", help="Create the codebook's themes in the project."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Add a candidate theme, or seed the project's themes from the codebook."""
    from rta import themes

    project = open_project()
    who = project.coder(coder)
    store = project.store
    if from_codebook:
        if name:
            raise RtaError("give either a theme NAME or --from-codebook, not both")
        from rta.codebook_yaml import load_codebook

        codebook = load_codebook(project.codebook_path)
        with store.transaction():
            _prepare(project)
            result = themes.from_codebook(store, codebook, who)
        echo(f"added {len(result.added)} theme(s) from {codebook.name}: {', '.join(result.added) or '-'}")
        if result.skipped:
            echo(f"already present, left as they are: {', '.join(result.skipped)}")
        return
    if not name:
        raise RtaError("give the theme's NAME", hint="rta themes add Kontinuitet --code Tid,Brudd (or --from-codebook)")
    with store.transaction():
        _prepare(project)
        theme = themes.add_theme(store, name, who, _codes(code), definition, concept, origin, reason=reason)
    _show(theme)


@themes_app.command("assign")
def themes_assign(
    name: str = typer.Argument(..., help="Theme name."),
    codes: List[str] = typer.Argument(..., help="Codes to add (space- or comma-separated)."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Add codes to a theme (a code may belong to several themes)."""
    from rta.themes import assign

    project = open_project()
    with project.store.transaction():
        _prepare(project)
        theme = assign(project.store, name, _codes(codes), project.coder(coder), reason)
    _show(theme)


@themes_app.command("unassign")
def themes_unassign(
    name: str = typer.Argument(..., help="Theme name."),
    codes: List[str] = typer.Argument(..., help="Codes to take out."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Take codes out of a theme."""
    from rta.themes import unassign

    project = open_project()
    with project.store.transaction():
        _prepare(project)
        theme = unassign(project.store, name, _codes(codes), project.coder(coder), reason)
    _show(theme)


@themes_app.command("rename")
def themes_rename(
    name: str = typer.Argument(..., help="Current name."),
    new_name: str = typer.Argument(..., help="New name."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Rename a theme (its codes and history stay)."""
    from rta.themes import rename

    project = open_project()
    with project.store.transaction():
        theme = rename(project.store, name, new_name, project.coder(coder), reason)
    _show(theme)


@themes_app.command("merge")
def themes_merge(
    names: List[str] = typer.Argument(..., help="Themes to merge (two or more)."),
    into: str = typer.Option(..., "--into", help="The merged theme: one of them, or a new name."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Merge themes: the result holds all their codes; the others are discarded."""
    from rta.themes import merge

    project = open_project()
    with project.store.transaction():
        theme = merge(project.store, names, into, project.coder(coder), reason)
    _show(theme)


@themes_app.command("split")
def themes_split(
    name: str = typer.Argument(..., help="Theme to split."),
    part: List[str] = typer.Option(..., "--part", help="'New name=Code1,Code2' (repeat for each part)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the original with the codes no part took."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Split a theme into new candidate themes, each taking some of its codes."""
    from rta.themes import split

    parts: dict[str, list[str]] = {}
    for spec in part:
        new, sep, codes = spec.partition("=")
        if not sep or not new.strip() or not codes.strip():
            raise RtaError(f"cannot read --part '{spec}'", hint="write --part 'New name=Code1,Code2'")
        if new.strip() in parts:
            raise RtaError(f"part '{new.strip()}' is given twice")
        parts[new.strip()] = _codes([codes])
    project = open_project()
    with project.store.transaction():
        _prepare(project)
        made = split(project.store, name, parts, project.coder(coder), keep, reason)
    for t in made:
        _show(t)


@themes_app.command("discard")
def themes_discard(
    name: str = typer.Argument(..., help="Theme to discard."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Discard a theme (it leaves reports; its record and history stay)."""
    from rta.themes import discard

    project = open_project()
    with project.store.transaction():
        theme = discard(project.store, name, project.coder(coder), reason)
    echo(f"discarded {theme.name}")


@themes_app.command("define")
def themes_define(
    name: str = typer.Argument(..., help="Theme name."),
    definition: Optional[str] = typer.Option(None, "--definition", help="What the theme is about."),
    concept: Optional[str] = typer.Option(None, "--concept", help="Its central organising concept."),
    origin: Optional[str] = typer.Option(None, "--origin", help="inductive or deductive."),
    status: Optional[str] = typer.Option(None, "--status", help="candidate, reviewed or defined."),
    opposite: Optional[str] = typer.Option(None, "--opposite", help="Its opposite pole (e.g. Brudd)."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Define a theme: definition, central organising concept, origin, status, opposite."""
    from rta.themes import define

    project = open_project()
    with project.store.transaction():
        theme = define(project.store, name, project.coder(coder), definition, concept, origin, status, opposite, reason)
    _show(theme)


@themes_app.command("history")
def themes_history(
    name: str = typer.Argument(..., help="Theme name (discarded themes too)."),
) -> None:
    """Show a theme's lineage: every change to it and to the themes it came from."""
    from rta.themes import describe_event, history

    project = open_project()
    for e in history(project.store, name):
        echo(f"{e.seq:5} {e.ts} {e.coder or '-':10} p{e.phase or '-'} {describe_event(e)}")


@themes_app.command("propose")
def themes_propose(
    threshold: float = typer.Option(0.25, help="Lowest average association (0-1) to join two groups."),
    min_turns: int = typer.Option(2, "--min-turns", parser=whole_number, help="Fewest turns the codes must share."),
    keep: Optional[int] = typer.Option(None, "--keep", parser=whole_number, help="Keep proposal N as a candidate theme (needs --name)."),
    name: Optional[str] = typer.Option(None, "--name", help="Name for the kept proposal."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Suggest candidate groupings of codes that are coded in the same turns (clustering of
    the code co-occurrence matrix). Suggestions only: nothing becomes a theme unless kept."""
    from rta.themes import keep_proposal, propose

    project = open_project()
    proposals = propose(project.store, threshold=threshold, min_turns=min_turns)
    if keep is not None:
        if not name:
            raise RtaError("--keep needs --name for the new candidate theme")
        if not 1 <= keep <= len(proposals):
            raise RtaError(f"there is no proposal {keep} (there are {len(proposals)})", hint="run 'rta themes propose'")
        with project.store.transaction():
            theme = keep_proposal(project.store, proposals[keep - 1], name, project.coder(coder))
        _show(theme)
        return
    if not proposals:
        echo("no groupings found: code more turns, or lower --threshold / --min-turns")
        return
    echo("SUGGESTIONS from code co-occurrence (not themes; keep one with --keep N --name NAME):")
    for i, p in enumerate(proposals, start=1):
        extra = f"; mostly in {', '.join(p.existing)}" if p.existing else ""
        echo(f"[{i}] {', '.join(p.codes)} ({p.turns} shared turns, cohesion {p.cohesion:.2f}{extra})")


@themes_app.command("map")
def themes_map(
    out: Path = typer.Option(..., "--output", "-o", parser=output_file, help="The picture: .svg or .png."),
    phase: Optional[int] = typer.Option(None, "--phase", parser=whole_number,
                                        help="The themes as they stood at the end of this phase, 1-6 (default: now)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="nb or en (default: rta.toml)."),
) -> None:
    """Draw the thematic map: themes, their codes, codes shared between themes, sized by
    codings. With --phase N, the themes as the log says they stood then (for a figure of how
    the themes developed through the phases)."""
    from rta.figures import draw_map
    from rta.fsutil import atomic_write_bytes, atomic_write_text

    if phase is not None and not 1 <= phase <= 6:
        raise RtaError(f"--phase must be a phase from 1 to 6, not {phase}", hint="rta phase lists the six phases")
    if out.suffix.lower() not in (".svg", ".png"):
        raise RtaError(f"cannot draw a map as {out.suffix or 'a file without extension'}", path=out,
                       hint="give -o map.svg or -o map.png")
    project = open_project()
    lang = lang or project.config.report_lang
    if lang not in ("nb", "en"):
        raise RtaError(f"--lang must be nb or en, not '{lang}'")
    figure = draw_map(project.store, phase, lang)
    if out.suffix.lower() == ".svg":
        atomic_write_text(out, figure.svg)
    else:
        atomic_write_bytes(out, figure.png())
    echo(f"wrote {out}")


@themes_app.command("review")
def themes_review(
    fmt: str = format_option("table", "table", "json", help="table or json."),
) -> None:
    """Per theme: codings, informant/group/role spread, overlap with other themes and flags."""
    from rta.themes import review

    project = open_project()
    result = review(project.store, project.registry)
    if fmt == "json":
        from dataclasses import asdict

        echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    if not result.themes:
        echo("no themes to review: 'rta themes add' first")
    for rv in result.themes:
        t = rv.theme
        echo(f"{t.name} [{t.status}, {t.origin}]: {rv.codings} coding(s)")
        echo(f"  spread: {rv.spread}")
        if rv.informants:
            echo(f"  informants: {', '.join(rv.informants)}")
        if rv.overlap:
            echo("  overlap: " + ", ".join(f"{k} ({v} shared codings)" for k, v in rv.overlap.items()))
        if rv.codes_without_codings:
            echo(f"  codes without codings: {', '.join(rv.codes_without_codings)}")
        for flag in rv.flags:
            echo(f"  FLAG: {flag}")
    if result.used_codes_in_no_theme:
        echo(f"FLAG: coded but in no theme: {', '.join(result.used_codes_in_no_theme)}")
    if result.codes_in_no_theme:
        echo(f"codes of the codebook in no theme: {', '.join(result.codes_in_no_theme)}")


# --------------------------------------------------------------------------------------------
# Phase 1 and the phases


@app.command()
def familiarise(
    out: Optional[Path] = typer.Option(None, "--out", "-o", parser=output_file,
                                       help="Also write the overview as Markdown here."),
    top: int = typer.Option(8, parser=whole_number, help="Distinctive lemmas per transcript/informant/role."),
    simple: bool = typer.Option(False, "--simple", help="Count word forms; do not load the NLP pipeline."),
    note: Optional[str] = typer.Option(None, "--note", help="Write a familiarisation note (a memo) ..."),
    on: Optional[str] = typer.Option(None, "--on", help="... on this transcript id."),
    coder: Optional[str] = typer.Option(None, help="Who writes the note."),
) -> None:
    """Phase 1: turns, words, interviewer vs informant share and distinctive lemmas (TF-IDF)
    per transcript, informant and role; --note TEXT --on TRANSCRIPT records a reading note."""
    from rta.familiarise import (familiarisation_notes, familiarise as run, project_lemmatizer, simple_lemmatizer,
                                 stopwords, to_markdown)

    project = open_project()
    store = project.store
    if note is not None or on is not None:
        if not (note and on):
            raise RtaError("a note needs both --note TEXT and --on TRANSCRIPT")
        from rta.memos import add_memo

        with store.transaction():
            memo = add_memo(store, "transcript", on, note, project.coder(coder))
        echo(f"note #{memo.id} on {memo.target} (phase {memo.phase})")
        return
    lemmatize, label = (simple_lemmatizer, "tokens") if simple else project_lemmatizer(project)
    result = run(store, project.registry, lemmatize, stopwords(), top=top, lemmatizer_label=label)
    result.notes = familiarisation_notes(store)
    echo(f"lemmatised with: {label}")
    for heading, units in (("transcript", result.transcripts), ("informant", result.informants),
                           ("role", result.roles)):
        echo("")
        echo(f"{heading:24}{'turns':>6}{'words':>7}{'inf.':>6}{'int.':>6}  distinctive")
        for u in units:
            words = ", ".join(w for w, _ in u.distinctive) or "-"
            echo(f"{u.label[:23]:24}{u.turns:>6}{u.words:>7}{u.informant_share:>6.0%}{u.interviewer_share:>6.0%}  {words}")
    if result.notes:
        echo("")
        echo(f"{len(result.notes)} familiarisation note(s); see 'rta memos'")
    if out is not None:
        from rta.fsutil import atomic_write_text

        atomic_write_text(out, to_markdown(result))
        echo(f"wrote {out}")


@phase_app.callback()
def _phase_default(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="Show the good-practice checklist of every phase."),
) -> None:
    """Without a subcommand: show the six phases, what the project has produced in each and
    the current phase's checklist of good practice (--all: every phase's)."""
    if ctx.invoked_subcommand is not None:
        return
    from rta.phases import overview

    project = open_project()
    for st in overview(project.store):
        p = st.phase
        mark = ">>" if st.current else "  "
        echo(f"{mark} {p.number}. {p.name}{'  (current phase)' if st.current else ''}")
        echo(f"     {p.purpose}")
        for line in st.produced:
            echo(f"     - {line}")
        if st.current or all_:
            echo("     good practice:")
            for item in p.checklist:
                echo(f"     [ ] {item}")
    echo("")
    echo("move on (or back) with 'rta phase set N'; RTA is recursive, both directions are recorded")


@phase_app.command("set")
def phase_set(
    number: int = typer.Argument(..., parser=whole_number, help="Phase 1-6."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides."),
) -> None:
    """Move the project to phase N (moving back is allowed and recorded)."""
    from rta.phases import get_phase, set_phase

    project = open_project()
    change = set_phase(project.store, number, project.coder(coder), reason)
    word = "moved back" if change.direction == "back" else "moved on"
    echo(f"{word} from phase {change.old} to phase {change.new}: {get_phase(change.new).name}")
    if change.direction == "forward":
        echo("good practice in this phase:")
        for item in get_phase(change.new).checklist:
            echo(f"  [ ] {item}")
