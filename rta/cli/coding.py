"""Commands: code, uncode, recode, codings, memo add, memos, journal, log, audit, orphans,
export quotes, export qdpx.

Heavy libraries (rapidfuzz, openpyxl, xmlschema) are imported inside the library calls."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from rta.cli.app import (app, choice, echo, export_app, format_option, journal_app, memo_app, open_project, output_file,
                         since_time, whole_number)
from rta.errors import AuditFailure, RtaError
from rta.textsafe import RAW_CELLS_HELP


def _short(text: str, limit: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _parse_lines(spec: str) -> tuple[int, int]:
    a, sep, b = spec.partition("-")
    try:
        first = int(a)
        last = int(b) if sep else first
    except ValueError:
        raise RtaError(f"cannot read --lines '{spec}'", hint="write --lines 40-44 (or --lines 40 for one line)") from None
    if first > last:
        raise RtaError(f"--lines {spec}: the first line is after the last", hint="write --lines A-B with A <= B")
    return first, last


def _interactive() -> bool:
    return sys.stdin.isatty()


@app.command()
def code(
    transcript: str = typer.Argument(..., help="Transcript id (see 'rta transcripts')."),
    code_name: str = typer.Option(..., "--code", "-c", help="Code from the project's codebook."),
    lines: Optional[str] = typer.Option(None, "--lines", "-l", help="Lines A-B of the transcript (1-based, inclusive)."),
    turn: Optional[int] = typer.Option(None, "--turn", "-t", parser=whole_number, help="Speaker turn number (1-based)."),
    quote: Optional[str] = typer.Option(None, "--quote", "-q", help="The exact words to code (with --lines: search only there)."),
    memo: Optional[str] = typer.Option(None, "--memo", "-m", help="Why: a memo stored with the coding."),
    coder: Optional[str] = typer.Option(None, help="Who codes (default: $RTA_CODER or rta.toml)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Accept the closest match when --quote is not found verbatim."),
) -> None:
    """Code a span of a transcript: by lines, by turn, or by quoting it. A span over several
    turns becomes one coding per informant turn (the interviewer's words are left out). A quote
    not found verbatim is never coded silently: the closest matches are shown for confirmation."""
    from rta.coding import (basis_of, create_coding, ensure_codebook_version, find_quote, split_span, span_for_lines,
                            span_for_turn)

    chosen = sum(x is not None for x in (turn, quote)) + (lines is not None and quote is None)
    if chosen != 1:
        raise RtaError("say what to code with exactly one of --lines, --turn or --quote (--lines may narrow --quote)",
                       hint='e.g. rta code k1-skoleeier --lines 40-44 --code Tid')
    project = open_project()
    store = project.store
    who = project.coder(coder)
    # The span is chosen on this revision (number and text hash) and written only if it is
    # still the current one when the coding is stored (checked inside the transaction).
    basis = basis_of(store, transcript)
    rev = basis.revision
    if quote is not None:
        within = span_for_lines(store, transcript, *_parse_lines(lines), revision=rev) if lines else None
        found = find_quote(store, transcript, quote, within=within, revision=rev)
        if len(found.exact) > 1:
            text = store.transcript_text(transcript, rev)
            where = ", ".join(f"line {text.count(chr(10), 0, s) + 1}" for s, _ in found.exact)
            raise RtaError(f"the quote occurs {len(found.exact)} times in '{transcript}' ({where})",
                           hint="add --lines A-B to say which one, or quote more words")
        if found.exact:
            start, end = found.exact[0]
        else:
            if not found.candidates:
                raise RtaError(f"the quote is not in '{transcript}' and nothing close was found",
                               hint="copy the words from the transcript, or use --lines/--turn")
            echo(f"not found verbatim in '{transcript}'. Closest matches:", err=True)
            for i, c in enumerate(found.candidates, start=1):
                how = " (differs only in case, spacing or quote marks/dashes)" if c.similarity >= 1.0 else ""
                echo(f"  [{i}] lines {c.line_start}-{c.line_end}, similarity {c.similarity:.2f}{how}: "
                     f"«{_short(c.text, 90)}»", err=True)
            if yes:
                pick = 1
                echo("--yes: coding [1]", err=True)
            elif _interactive():
                answer = typer.prompt(f"Code which one? [1-{len(found.candidates)}, n = none]", default="n")
                if not answer.strip().isdigit() or not 1 <= int(answer) <= len(found.candidates):
                    echo("nothing coded")
                    sys.exit(1)
                pick = int(answer)
            else:
                raise RtaError("the quote was not found verbatim; refusing to code a guess without confirmation",
                               hint="re-run with the exact words, or with --yes to code match [1]")
            start, end = found.candidates[pick - 1].start, found.candidates[pick - 1].end
        asked = "the quote"
    elif turn is not None:
        start, end = span_for_turn(store, transcript, turn, revision=rev)
        asked = f"turn {turn}"
    else:
        first, last = _parse_lines(lines or "")
        start, end = span_for_lines(store, transcript, first, last, revision=rev)
        asked = f"lines {first}-{last}" if last != first else f"line {first}"
    # one coding per informant turn: a coding never puts one speaker's words in another's mouth
    with store.transaction():
        parts = split_span(store, transcript, start, end, basis=basis)
        version = ensure_codebook_version(store, project.codebook_path, who)
        ids = [create_coding(store, transcript, p.start, p.end, code_name, who, version, memo=memo, basis=basis,
                             adjusted=p.adjusted)
               for p in parts]
    text = store.transcript_text(transcript, rev)
    crossed = store.conn.execute(
        "SELECT COUNT(*) FROM turns WHERE transcript_id = ? AND revision = ? AND end > ? AND start < ?",
        (transcript, rev, start, end)).fetchone()[0]
    if crossed > 1:
        listed = ", ".join(f"#{i} {p.informant} lines {p.line_start}-{p.line_end}" for i, p in zip(ids, parts))
        left_out = " (the interviewer's words left out)" if crossed > len(parts) else ""
        verb = "cross" if asked.startswith("lines") else "crosses"
        echo(f"{asked} {verb} {crossed} turns: coded as {len(ids)} coding{'s' if len(ids) > 1 else ''}: "
             f"{listed}{left_out}")
    code_shown = store.conn.execute("SELECT code FROM codings WHERE id = ?", (ids[0],)).fetchone()["code"]
    for i, p in zip(ids, parts):
        echo(f"coded #{i} {code_shown}: {transcript} lines {p.line_start}-{p.line_end} ({p.informant}) "
             f"«{_short(text[p.start:p.end])}» ({who})")


@app.command()
def uncode(
    coding_id: int = typer.Argument(..., parser=whole_number, help="Coding id (see 'rta codings')."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Remove a coding as a logged decision (the history stays; nothing is deleted)."""
    from rta.coding import uncode as do_uncode

    project = open_project()
    with project.store.transaction():
        coding = do_uncode(project.store, coding_id, project.coder(coder), reason)
    echo(f"removed #{coding.id} {coding.code} ({coding.transcript_id} lines {coding.line_start}-{coding.line_end})")


@app.command()
def recode(
    coding_id: int = typer.Argument(..., parser=whole_number, help="Coding id (see 'rta codings')."),
    code_name: str = typer.Option(..., "--code", "-c", help="The new code."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Move a coding to another code, keeping its span and its history."""
    from rta.coding import ensure_codebook_version, get_coding, recode as do_recode

    project = open_project()
    who = project.coder(coder)
    with project.store.transaction():
        old = get_coding(project.store, coding_id).code
        version = ensure_codebook_version(project.store, project.codebook_path, who)
        coding = do_recode(project.store, coding_id, code_name, who, version, reason)
    echo(f"recoded #{coding.id}: {old} -> {coding.code}")


def _role_key(project, role: str | None) -> str | None:
    if role is None:
        return None
    for r in project.registry.roles:
        if role.casefold() in (r.key.casefold(), r.name.casefold()):
            return r.key
    names = ", ".join(r.name for r in project.registry.roles)
    raise RtaError(f"unknown role '{role}'", hint=f"use one of {names}")


@app.command()
def codings(
    code_name: Optional[str] = typer.Option(None, "--code", "-c", help="Only this code."),
    informant: Optional[str] = typer.Option(None, "--informant", "-i", help="Only this informant code (e.g. S1, 'R 2.1')."),
    role: Optional[str] = typer.Option(None, "--role", "-r", help="Only this role (e.g. Skoleeier)."),
    theme: Optional[str] = typer.Option(None, "--theme", help="Only codes belonging to this theme."),
    transcript: Optional[str] = typer.Option(None, "--transcript", help="Only this transcript."),
    status: str = typer.Option("active", help="active, removed, orphaned or all."),
    fmt: str = format_option("table", "table", "json", help="table or json."),
    context: Optional[int] = typer.Option(None, "--context", "-C", parser=whole_number,
                                          help="Show each quote in its transcript with N lines around it."),
    coder: Optional[str] = typer.Option(None, "--coder", help="Only this coder's codings (a coder's own view)."),
) -> None:
    """List codings with their quote and source (transcript, lines, informant)."""
    from rta.coding import check_coder, query_codings

    if status not in ("active", "removed", "orphaned", "all"):
        raise RtaError(f"unknown status '{status}'", hint="use active, removed, orphaned or all")
    if fmt not in ("table", "json"):
        raise RtaError(f"unknown format '{fmt}'", hint="use table or json")
    if context is not None and context < 0:
        raise RtaError(f"--context {context} is negative", hint="give the number of lines to show around each quote")
    project = open_project()
    coder = check_coder(project.store, coder) if coder is not None else None
    rows = query_codings(project.store, code=code_name, informant=informant, role=_role_key(project, role),
                         theme=theme, transcript=transcript, status=None if status == "all" else status, coder=coder)
    views: dict = {}  # (transcript, revision) -> rta.show.View, for --context
    if fmt == "json":
        items = [r.to_dict() for r in rows]
        if context is not None:  # the lines around each quote, as the transcript has them
            from rta.show import select_lines

            for item, r in zip(items, rows):
                view = _context_view(project.store, r.transcript_id, r.revision, r.id, views)
                first, last = select_lines(view, coding=r.id, context=context)
                item["context"] = {"line_start": first, "line_end": last,
                                   "lines": [view.line(n) for n in range(first, last + 1)]}
        echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not rows:
        echo("no codings match")
        return
    for r in rows:
        echo(f"#{r.id:<5} {r.transcript_id}:{r.line_start}-{r.line_end}  {r.informant or '-':6} {r.code:18} "
             f"«{_short(r.quote, 60)}»" + ("" if r.status == "active" else f"  [{r.status}]"))
        if context is not None:
            _print_context(project.store, r.transcript_id, r.revision, r.id, context, views)
    echo(f"{len(rows)} coding(s)")


def _context_view(store, transcript_id: str, revision: int, coding_id: int, views: dict):
    """The :class:`rta.show.View` holding the coding, one per transcript revision at a time
    (rows come ordered by transcript); a removed or orphaned coding gets a view of its own."""
    from rta.show import transcript_view

    key = (transcript_id, revision)
    if key not in views:
        views.clear()
        views[key] = transcript_view(store, transcript_id, revision, suggestions=False)
    view = views[key]
    if view.coding(coding_id) is None:
        view = transcript_view(store, transcript_id, revision, suggestions=False, with_coding=coding_id)
    return view


def _print_context(store, transcript_id: str, revision: int, coding_id: int, context: int, views: dict) -> None:
    """The coding's lines (flagged '>') with ``context`` lines around, as 'rta show' renders them."""
    from rta.cli.show import _width
    from rta.show import coding_context

    view = _context_view(store, transcript_id, revision, coding_id, views)
    for row in coding_context(view, coding_id, context, width=_width(None)):
        echo(row)
    echo("")


# -- memos and journal ---------------------------------------------------------------------


@memo_app.command("add")
def memo_add(
    text: str = typer.Argument(..., help="The memo."),
    on: str = typer.Option(..., "--on", help="coding:ID, code:NAME, theme:NAME or transcript:ID."),
    coder: Optional[str] = typer.Option(None, help="Who writes (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Write a memo on a coding, code, theme or transcript (stamped with the phase)."""
    from rta.memos import add_memo, parse_target

    kind, target = parse_target(on)
    project = open_project()
    with project.store.transaction():
        memo = add_memo(project.store, kind, target, text, project.coder(coder))
    echo(f"memo #{memo.id} on {memo.target_kind} {memo.target} (phase {memo.phase})")


@journal_app.command("add")
def journal_add(
    text: str = typer.Argument(..., help="The journal entry."),
    coder: Optional[str] = typer.Option(None, help="Who writes (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Add a reflexive journal entry (stamped with the phase)."""
    from rta.memos import add_memo

    project = open_project()
    with project.store.transaction():
        memo = add_memo(project.store, "journal", None, text, project.coder(coder))
    echo(f"journal entry #{memo.id} (phase {memo.phase})")


@journal_app.command("list")
def journal_list() -> None:
    """Show the journal, oldest first."""
    from rta.memos import list_memos

    for m in list_memos(open_project().store, kind="journal"):
        echo(f"#{m.id} {m.created} phase {m.phase} ({m.coder}): {m.text}")


@app.command()
def memos(
    fmt: str = format_option("table", "table", "md", "json", help="table, md (Markdown) or json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", parser=output_file,
                                          help="Write to this file instead of the screen."),
) -> None:
    """List every memo with what it is attached to: memos and journal entries, memos written
    with 'rta code --memo' and in 'rta review'; or export them as Markdown."""
    from rta.fsutil import atomic_write_text
    from rta.memos import all_memos, memos_markdown, memos_table

    if fmt not in ("table", "md", "json"):
        raise RtaError(f"unknown format '{fmt}'", hint="use table, md or json")
    store = open_project().store
    if fmt == "md":
        body = memos_markdown(store)
    elif fmt == "json":
        body = json.dumps([m.to_dict() for m in all_memos(store)], ensure_ascii=False, indent=2) + "\n"
    else:
        body = "".join(line + "\n" for line in memos_table(all_memos(store))) or "no memos yet\n"
    if output:
        atomic_write_text(output, body)
        echo(f"wrote {output}")
    elif fmt == "md":  # a document: exact when redirected, escaped on a terminal
        from rta.textsafe import for_stream

        sys.stdout.write(for_stream(body))
    else:
        echo(body, nl=False)


# -- audit trail ---------------------------------------------------------------------------


@app.command()
def log(
    since: Optional[str] = typer.Option(None, parser=since_time,
                                         help="Only events at or after this date or time: 2026-11-01, 01.11.2026, "
                                              "2026-11-01T14:30 (local time unless it ends in Z or +01:00)."),
    coder: Optional[str] = typer.Option(None, help="Only this coder's decisions."),
    kind: Optional[str] = typer.Option(None, help="Only this kind of event, e.g. coding.removed."),
    fmt: str = format_option("table", "table", "jsonl", help="table or jsonl."),
    head: bool = typer.Option(False, "--head", help="Print only the log's head, SEQ:HASH: keep it outside the "
                                                    "project to check later with 'rta audit --expect-head'."),
) -> None:
    """Show the audit log: every decision, who made it, when, in which phase."""
    if fmt not in ("table", "jsonl"):
        raise RtaError(f"unknown format '{fmt}'", hint="use table or jsonl")
    if head:
        from rta.store import log_head

        echo(str(log_head(open_project().store)))
        return
    events = open_project().store.events(since=since, coder=coder, kind=kind)
    for e in events:
        if fmt == "jsonl":
            echo(json.dumps({"seq": e.seq, "ts": e.ts, "coder": e.coder, "phase": e.phase, "kind": e.kind,
                             "payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash,
                             **({"texts": e.texts} if e.texts else {})}, ensure_ascii=False))
        else:
            detail = ", ".join(f"{k}={v}" for k, v in e.details().items() if v not in (None, "", []))
            echo(f"{e.seq:5} {e.ts} {e.coder or '-':10} p{e.phase or '-'} {e.kind:20} {_short(detail, 90)}")


@app.command()
def audit(
    report: Optional[Path] = typer.Option(None, "--report", metavar="FILE",
                                          help="Also check a built report (.html or .md): against the log's record "
                                               "of it, or (a file the record does not know) extract by extract."),
    fmt: str = format_option("text", "text", "json", help="text or json."),
    expect_head: Optional[str] = typer.Option(None, "--expect-head", metavar="SEQ:HASH",
                                              help="Check that the log still holds this entry with this hash, the "
                                                   "chain intact up to it (a head printed earlier, kept elsewhere)."),
    since_report: Optional[Path] = typer.Option(None, "--since-report", metavar="FILE",
                                                help="As --expect-head, with the head written in a built report "
                                                     "(html, md, docx) or export (xlsx, qdpx, the .head beside a csv/jsonl)."),
    verify_checkpoints: bool = typer.Option(False, "--verify-checkpoints",
                                            help="Check every signed checkpoint (needs --pubkey)."),
    pubkey: Optional[Path] = typer.Option(None, "--pubkey", metavar="FILE",
                                          help="The public key that signed the checkpoints ('rta checkpoint keygen')."),
) -> None:
    """Verify the audit chain, transcript hashes, every coding's quote hash and code, and
    (with --report) a built report's quotes; print the log's head. With --expect-head or
    --since-report, detect a log cut off or rewritten since that head; with
    --verify-checkpoints, check the signed checkpoints. Exits 1 on any failure."""
    from rta.audit import audit as run_audit
    from rta.receipts import verify_report

    from rta.checkpoint import anchors_of

    anchors = anchors_of(expect_head, since_report, verify_checkpoints, pubkey)  # bad input: exit 2 before work
    project = open_project()
    # not an rta report, or a format it cannot check: exit 2 before the audit
    receipt = verify_report(project, report) if report is not None else None
    result = run_audit(project.store)
    if receipt is not None:
        result.checked.update(receipt.audit.checked)
        result.failures.extend(receipt.audit.failures)
    head = anchors.check(project, result)
    if fmt == "json":
        echo(json.dumps({**result.to_dict(), "head": {"seq": head.seq, "hash": head.hash},
                         **({"report": receipt.to_dict()} if receipt is not None else {})}, ensure_ascii=False,
                        indent=2))
    else:
        echo(result.to_text() + (f"report {receipt.summary()}\n" if receipt is not None else "")
             + f"log head: {head}\n", nl=False)
    if not result.ok:
        raise AuditFailure(f"audit found {len(result.failures)} failure(s)",
                           hint="see each failure's cause above; 'rta log' shows the recorded decisions")


@app.command()
def orphans(
    resolve: Optional[int] = typer.Option(None, "--resolve", parser=whole_number, help="Coding id of an orphan to resolve."),
    candidate: Optional[int] = typer.Option(None, "--candidate", parser=whole_number, help="With --resolve: anchor to this candidate number."),
    remove: bool = typer.Option(False, "--remove", help="With --resolve: remove the coding instead."),
    reason: Optional[str] = typer.Option(None, help="Why: kept in the audit log."),
    coder: Optional[str] = typer.Option(None, help="Who decides (default: $RTA_CODER or rta.toml)."),
    fmt: str = format_option("table", "table", "json", help="table or json."),
) -> None:
    """List codings that lost their anchor after a transcript revision, with the old quote and
    the best candidate spans; --resolve ID --candidate N (or --remove) decides one."""
    from rta.anchor import orphans as list_orphans, resolve_orphan

    project = open_project()
    store = project.store
    if resolve is not None:
        if (candidate is None) == (not remove):
            raise RtaError("with --resolve give either --candidate N or --remove")
        with store.transaction():
            resolve_orphan(store, resolve, None if remove else candidate, project.coder(coder), reason)
        echo(f"coding #{resolve} " + ("removed" if remove else f"anchored to candidate {candidate}"))
        return
    items = list_orphans(store)
    if fmt == "json":
        from dataclasses import asdict

        echo(json.dumps([asdict(o) for o in items], ensure_ascii=False, indent=2))
        return
    if not items:
        echo("no orphaned codings")
        return
    for o in items:
        echo(f"#{o.coding_id} {o.code} in {o.transcript_id} (was rev {o.old_revision} lines {o.line_start}-{o.line_end}, "
             f"coded by {o.coder})")
        echo(f"    old quote: «{_short(o.quote, 100)}»")
        for i, c in enumerate(o.candidates, start=1):
            echo(f"    [{i}] rev {o.candidate_revision} lines {c.line_start}-{c.line_end}, similarity {c.similarity:.2f}: "
                 f"«{_short(c.text, 90)}»")
        if not o.candidates:
            echo("    no candidate span found")
    echo(f"{len(items)} orphaned coding(s); resolve with: rta orphans --resolve ID --candidate N (or --remove)")


# -- exports -------------------------------------------------------------------------------


@export_app.command("quotes")
def export_quotes_cmd(
    fmt: str = format_option("csv", "csv", "xlsx", "jsonl", help="csv, xlsx or jsonl."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", parser=output_file,
                                          help="Output file (default: quotes.FORMAT)."),
    all_statuses: bool = typer.Option(False, "--all", help="Include removed and orphaned codings (with their status)."),
    raw_cells: bool = typer.Option(False, "--raw-cells", help=RAW_CELLS_HELP),
    allow_originals: bool = typer.Option(False, "--allow-originals",
                                         help="Quote codings on revisions from before 'rta anonymise apply' "
                                              "(their text may hold the real names)."),
    excel: bool = typer.Option(False, "--excel", help="csv for Excel set up for Norway: ';' between cells, a BOM, "
                                                      "headings and values in the project's report language."),
    headings: str = typer.Option("", "--headings", help="xlsx headings: nb or en (default: the project's report "
                                                        "language); 'keys' for the machine column names."),
    coder: Optional[str] = typer.Option(None, "--coder", help="Only this coder's codings (a coder's own view)."),
) -> None:
    """The quote table: one row per coding with source, informant, code, themes and hash; a
    quote from a superseded revision says so in the 'note' column. The xlsx has a header row
    that filters and stays in view, column widths and wrapped quote cells."""
    from rta.coding import check_coder
    from rta.exports import export_quotes

    project = open_project()
    coder = check_coder(project.store, coder) if coder is not None else None
    out = output or Path(f"quotes.{fmt}")
    lang = headings or project.config.report_lang
    if lang not in ("nb", "en", "keys"):
        raise RtaError(f"--headings must be nb, en or keys, not '{lang}'")
    if excel and fmt != "csv":
        raise RtaError("--excel shapes a csv table", hint="use --format csv --excel (an xlsx is for Excel already)")
    n = export_quotes(project.store, fmt, out, role_name=project.registry.role_name,
                      status=None if all_statuses else "active", raw_cells=raw_cells,
                      allow_originals=allow_originals, excel=(lang if lang != "keys" else "nb") if excel else None,
                      lang=None if lang == "keys" else lang, coder=coder)
    echo(f"wrote {n} quote(s) to {out}")


@export_app.command("qdpx")
def export_qdpx_cmd(
    output: Path = typer.Argument(..., parser=output_file, help="The .qdpx file to write."),
    selection_names: str = typer.Option("code", "--selection-names", parser=choice("code", "line", what="naming"),
                                        metavar="code|line", help="Name each coded selection by its code and words "
                                        "(code) or by its line, line:N (for tools that code by line)."),
) -> None:
    """A REFI-QDA project (.qdpx) for NVivo, ATLAS.ti, MAXQDA, QualCoder: validated against
    Project.xsd before it is written when the schema is at hand ($RTA_REFI_QDA_DIR)."""
    from rta.qdpx import export_qdpx

    project = open_project()
    s = export_qdpx(project.store, output, role_name=project.registry.role_name, selection_names=selection_names)
    echo(f"wrote {output}: {s.sources} source(s), {s.selections} coded selection(s), {s.codes} code(s), "
         f"{s.cases} case(s), {s.users} user(s), {s.notes} note(s)")
    if s.skipped:
        echo(f"  {s.skipped} orphaned or outdated coding(s) left out (see 'rta orphans')")
    if not s.validated:
        from rta.qdc import SCHEMA_ENV

        echo(f"note: not checked against Project.xsd here (schema not found; set {SCHEMA_ENV} to a folder "
             "holding it to check every export)", err=True)


@app.command("import-qdpx")
def import_qdpx_cmd(
    source: Path = typer.Argument(..., help="A .qdpx exported by rta or another QDA tool."),
    coder: Optional[str] = typer.Option(None, help="Who imports (logged); codings whose user the file does not name "
                                                   "are credited to them too (default: $RTA_CODER or rta.toml)."),
    speakers: Optional[Path] = typer.Option(None, "--speakers", help="YAML mapping speaker labels the registry does not "
                                            "know to roles ('Speaker 1: skoleleder', 'Moderator: intervjuer'); "
                                            "unmapped ones are registered with role ukjent."),
) -> None:
    """Import a REFI-QDA project in one transaction: its codebook (merged into the project's as a
    new version), its text sources (as transcripts, into imported/) and their coded selections
    (as manual codings). Lenient: Sources/ or sources/, any .qde name, a BOM, CRLF line ends."""
    from rta.qdpx import import_qdpx

    project = open_project()
    print_import(import_qdpx(project, source, coder=coder, speakers=speakers), source)


def print_import(result, source: Path) -> None:
    """What an import brought in, and what it could not (rta import-qdpx, rta init --from)."""
    for note in result.recovered:
        echo(f"note: {note}", err=True)
    echo(f"imported {len(result.transcripts)} transcript(s) and {result.codings} coding(s) from {source}")
    if result.codes_added or result.themes_added:
        echo(f"  codebook version {result.codebook_version}: {len(result.codes_added)} code(s) and "
             f"{len(result.themes_added)} theme(s) added")
    if result.informants_added:
        echo(f"  {len(result.informants_added)} speaker(s) registered in the informant registry: "
             f"{', '.join(result.informants_added)} (map them to study codes: rta informants rename LABEL CODE)")
    if result.unlabelled:
        echo(f"  {len(result.unlabelled)} source(s) without speaker labels, read as one turn per paragraph: "
             f"{', '.join(result.unlabelled)}")
    for conflict in result.conflicts:
        echo(f"  conflict: {conflict}", err=True)
    for note in result.notes:
        echo(f"  note: {note}", err=True)
    for warning in result.warnings:
        echo(f"  warning: {warning}", err=True)
    for reason in result.skipped:
        echo(f"  skipped: {reason}", err=True)
    if result.adjusted:
        echo(f"  {result.adjusted} selection(s) began inside a speaker label or timestamp: each starts where its "
             "turn's text begins (logged with the coding)")
    echo("came in: " + (", ".join(f"{n} {what}" for what, n in result.came_in().items()) or "nothing"))
    if result.skipped:
        result.not_carried["selections skipped (see 'skipped' above)"] = len(result.skipped)
    if result.not_carried:
        echo("not carried over: " + ", ".join(f"{n} {what}" for what, n in sorted(result.not_carried.items())))
    else:
        echo("not carried over: nothing")
