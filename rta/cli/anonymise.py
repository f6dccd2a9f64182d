"""Commands: anonymise check / apply / purge / reverse, and memo redact.

``check`` guards a pipeline: exit 1 when anything is flagged, 0 when clean, 2 on bad input.
spaCy is imported inside the commands only (``rta --help`` stays fast).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

from rta.cli.app import (anonymise_app, echo, format_option, memo_app, open_project, output_file,
                         project_dir_option)
from rta.errors import RtaError

_PIPELINE_HELP = (
    "spaCy pipeline for the NER: 'auto' (rta.toml [nlp] pipeline: nb_core_news_*, then the bundled "
    "nb_rta, then blank nb), a package name or folder, or 'none' for patterns, lists and the heuristic only."
)


def _check_format(fmt: str) -> str:
    if fmt not in ("table", "json"):
        raise RtaError(f"unknown format '{fmt}'", hint="use --format table or --format json")
    return fmt


def _maybe_project():
    """The current project when there is one (for its registry and lists), else None."""
    from rta.project import Project, find_project_root

    explicit = project_dir_option()
    if explicit is None and find_project_root() is None:
        return None
    return Project.open(explicit)


def _pipeline_for(name: Optional[str], project: Any) -> tuple[Any, str, bool]:
    from rta.anonymise import has_ner, load_check_pipeline, pipeline_name

    pin = name or (project.config.pipeline if project is not None else "auto")
    nlp = load_check_pipeline(pin, project.root if project is not None else None)
    return nlp, pipeline_name(nlp), has_ner(nlp)


def _warn_no_ner(label: str) -> None:
    echo(
        f"warning: pipeline '{label}' has no NER: names are found only by patterns, the deny-list and the "
        "capitalisation heuristic. Install nb_core_news_sm or use the bundled nb_rta for NER.",
        err=True,
    )


@anonymise_app.command("check")
def check(
    transcripts: Optional[List[Path]] = typer.Argument(
        None, help="Transcript files to check (default: every transcript in the current project)."
    ),
    fmt: str = format_option("table", "table", "json", help="table or json."),
    pipeline: Optional[str] = typer.Option(None, "--pipeline", help=_PIPELINE_HELP),
    allow: Optional[List[str]] = typer.Option(None, "--allow", help="Extra term never to flag (repeatable)."),
    deny: Optional[List[str]] = typer.Option(None, "--deny", help="Extra name always to flag (repeatable)."),
    memos: bool = typer.Option(True, "--memos/--no-memos",
                               help="Also check the project's memos, journal entries and coding and review memos "
                                    "(default: yes; not when files are given)."),
) -> None:
    """List likely identifiers left in transcripts (names, places, organisations, e-mails, phone
    and national identity numbers, dates of birth, deny-listed names) with file, line, text and
    why; in a project, also in its memos, journal entries and coding memos (each named by
    memo:ID / coding:ID / review:SEQ with what it is attached to). Exit 1 when anything is
    flagged, 0 when clean, 2 on bad input."""
    from rta.anonymise import check_files, check_memos, check_project
    from rta.informants import default_registry

    _check_format(fmt)
    project = _maybe_project() if transcripts else open_project()
    nlp, label, ner = _pipeline_for(pipeline, project)
    if not ner:
        _warn_no_ner(label)
    if transcripts:
        registry = project.registry if project is not None else default_registry()
        allow_terms = [*(project.config.allow if project else []), *(allow or [])]
        deny_terms = [*(project.config.deny if project else []), *(deny or [])]
        results = check_files(transcripts, registry, nlp, allow_terms, deny_terms,
                              project.codebook_path if project is not None else None)
    else:
        if allow or deny:
            project.config.allow = [*project.config.allow, *(allow or [])]
            project.config.deny = [*project.config.deny, *(deny or [])]
        results = check_project(project, nlp)
    memo_checks = check_memos(project, nlp, results) if memos and not transcripts else []
    flags = [f for r in results for f in r.flags]
    memo_flags = [(c, f) for c in memo_checks for f in c.flags]
    if fmt == "json":
        body = {
            "pipeline": label, "ner": ner,
            "transcripts": [{"transcript": r.transcript, "path": r.path, "flags": len(r.flags)} for r in results],
            "flags": [f.to_dict() for f in flags],
        }
        if memos and not transcripts:
            body["memos"] = [{"memo": c.ref, "about": c.about, "flags": len(c.flags)} for c in memo_checks if c.flags]
            body["memo_flags"] = [d for c in memo_checks for d in c.flag_dicts()]
        echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        echo(f"pipeline: {label} ({'with NER' if ner else 'no NER: patterns, lists and heuristic only'})")
        if flags:
            width = max(len(f"{(f.path if transcripts else f.transcript) or f.transcript}:{f.line}") for f in flags)
            echo(f"{'where':{width}}  {'kind':8} {'method':22} {'text':30} why")
            for f in flags:
                where = f"{(f.path if transcripts else f.transcript) or f.transcript}:{f.line}"
                shown = f.text.replace("\n", " ")
                echo(f"{where:{width}}  {f.kind:8} {f.method:22} {shown:30} {f.reason}")
        per = ", ".join(f"{r.transcript} {len(r.flags)}" for r in results if r.flags)
        echo(f"{len(flags)} likely identifier(s) in {sum(1 for r in results if r.flags)} of {len(results)} transcript(s)"
             + (f": {per}" if per else ""))
        if memo_flags:
            width = max(len(f"{c.ref}:{f.line}") for c, f in memo_flags)
            echo(f"{'memo':{width}}  {'kind':8} {'method':22} {'text':30} attached to")
            for c, f in memo_flags:
                shown = f.text.replace("\n", " ")
                echo(f"{c.ref + ':' + str(f.line):{width}}  {f.kind:8} {f.method:22} {shown:30} {c.about}")
        if memos and not transcripts:
            flagged = [c for c in memo_checks if c.flags]
            echo(f"{len(memo_flags)} likely identifier(s) in {len(flagged)} of {len(memo_checks)} memo(s)"
                 + (": " + ", ".join(f"{c.ref} {len(c.flags)}" for c in flagged) if flagged else ""))
        if memo_flags:
            echo("pseudonymise memos with 'rta anonymise apply' (it includes them), or replace one with "
                 "'rta memo redact memo:ID --text ...'")
        if flags:
            echo("fix them in the source files, add false alarms to rta.toml [anonymise] allow, "
                 "or pseudonymise with 'rta anonymise apply --key FILE_OUTSIDE_THE_PROJECT'")
    if flags or memo_flags:
        sys.exit(1)


@anonymise_app.command("apply")
def apply_cmd(
    transcript_ids: Optional[List[str]] = typer.Argument(None, help="Transcript ids (default: all in the project)."),
    key: Path = typer.Option(..., "--key", parser=output_file,
                             help="Key file (.json, .yaml) OUTSIDE the project; extended if it exists."),
    style: Optional[str] = typer.Option(
        None, "--style", show_default=False,
        help="default ([PERSON 1], [STED 2]) or study (X [navn på sted]); default: the key's style, else default."),
    pipeline: Optional[str] = typer.Option(None, "--pipeline", help=_PIPELINE_HELP),
    coder: Optional[str] = typer.Option(None, help="Who applies it (default: $RTA_CODER or rta.toml)."),
    memos: bool = typer.Option(True, "--memos/--no-memos",
                               help="Also pseudonymise memos, journal entries and coding memos with the same key, "
                                    "each change logged as a redaction (default: yes)."),
) -> None:
    """Replace flagged and deny-listed identifiers with consistent placeholders, store the
    results as new transcript revisions (codings are re-anchored) and write the key (original ->
    placeholder) to a file outside the project. Memos, journal entries and coding memos are
    pseudonymised too unless --no-memos. Review 'rta anonymise check' first: every flag is
    replaced."""
    from rta.pseudonyms import STYLES, apply_to_project, key_outside_project, key_style, load_key

    if style is not None and style not in STYLES:
        raise RtaError(f"unknown style '{style}'", hint="use --style default or --style study")
    project = open_project()
    resolved = key_outside_project(key, project.root)  # refuse before loading any model
    style = key_style(load_key(resolved) if resolved.exists() else None, style, key)
    nlp, label, ner = _pipeline_for(pipeline, project)
    if not ner:
        _warn_no_ner(label)
    results, full_key = apply_to_project(project, key, transcript_ids or None, style, nlp, coder, memos=memos)
    texts = [r for r in results if r.source == "transcript"]
    notes = [r for r in results if r.source != "transcript" and r.replacements]
    changed = [r for r in texts if r.replacements]
    for r in texts:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(r.by_kind.items()))
        echo(f"{r.transcript:26} {r.replacements:4} replacement(s){'  (' + kinds + ')' if kinds else ''}")
    for r in notes:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(r.by_kind.items()))
        kept = "  NOT changed: an old review memo inside the log itself" if r.source == "review-log" else ""
        echo(f"{r.transcript:26} {r.replacements:4} replacement(s)  ({kinds}){kept}")
    echo(f"{len(changed)} transcript(s) revised; key with {len(full_key.entries)} entries written to {key}")
    if memos:
        done = [r for r in notes if r.source != "review-log"]
        echo(f"memos: {len(done)} pseudonymised (each logged as text.redacted)"
             + (f"; {len(notes) - len(done)} old review memo(s) inside the log unchanged" if len(done) < len(notes) else "")
             + " (--no-memos leaves memos alone)")
    else:
        echo("memos left unchanged (--no-memos); 'rta anonymise check' lists names in them")
    echo("keep the key outside the project and out of shared folders: it re-identifies the informants")


@anonymise_app.command("purge")
def purge_cmd(
    key: Path = typer.Option(..., "--key", help="The key file 'rta anonymise apply' wrote for this project "
                                                "(outside it; its newest copy)."),
    coder: Optional[str] = typer.Option(None, help="Who purges (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Replace the text of every revision older than a transcript's pseudonymised one with its
    pseudonymised form (codings and suggestions on them are re-anchored or moved first), log
    each as 'text.redacted', then VACUUM the store, so the project can be shared without the
    original names inside. Refused when the project was never pseudonymised or the key does not
    match it. Reports and exports written before are not touched: rebuild them."""
    from rta.purge import purge_project

    project = open_project()
    result = purge_project(project, key, coder)
    for r in result.revisions:
        echo(f"{r.transcript:26} rev {r.revision:<3} {r.replacements:4} replacement(s)  "
             f"{r.codings} coding(s), {r.suggestions} suggestion(s) moved  (event {r.event})")
    if result.reanchored:
        echo(f"{result.reanchored} active coding(s) re-anchored from old revisions to the current ones first")
    echo(f"{len(result.revisions)} old revision(s) purged, {result.unchanged} already without original names"
         + ("; store compacted (VACUUM)" if result.revisions else ""))
    if result.skipped:
        echo(f"not pseudonymised, left as they are: {', '.join(result.skipped)} (check them with 'rta anonymise check')")
    echo("reports and exports built before still hold what they quoted: rebuild them before sharing")


@anonymise_app.command("reverse")
def reverse_cmd(
    textfile: Path = typer.Argument(..., help="A pseudonymised text (e.g. a transcript exported after apply)."),
    key: Path = typer.Option(..., "--key", help="The key file 'rta anonymise apply' wrote."),
    transcript: Optional[str] = typer.Option(None, help="Transcript id (default: front matter id, else file name)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", parser=output_file,
                                          help="Write here (atomically) instead of stdout."),
) -> None:
    """Restore the original text of a pseudonymised file with its key."""
    import re

    from rta.pseudonyms import load_key, reverse
    from rta.fsutil import atomic_write_text
    from rta.transcripts import read_text

    text = read_text(textfile)
    tid = transcript
    if tid is None:
        m = re.match(r"---\n(?:(?!---\n).*\n)*?id:[ \t]*(\S+)[ \t]*\n", text)
        tid = m.group(1) if m else textfile.stem
    restored = reverse(text, load_key(key), tid)
    if output is None:
        from rta.textsafe import for_stream

        sys.stdout.write(for_stream(restored))
    else:
        atomic_write_text(output, restored)
        echo(f"restored text written to {output}")


@memo_app.command("redact")
def memo_redact(
    ref: str = typer.Argument(..., help="memo:ID or ID (a memo or journal entry), coding:ID (a coding's memo) or "
                                        "review:SEQ (a memo written in 'rta review'), as 'rta anonymise check' names "
                                        "them."),
    text: str = typer.Option(..., "--text", help="The text that replaces it, e.g. the memo with the name removed, "
                                                 "or '[fjernet]'."),
    reason: Optional[str] = typer.Option(None, "--reason", help="A short code logged with it (no free text): "
                                                                "personal-data (default), consent-withdrawn, error, ..."),
    coder: Optional[str] = typer.Option(None, help="Who redacts (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Replace a memo's text (a memo, journal entry, coding or review memo) and log it as a
    'text.redacted' event holding only the hashes of the old and new text and a reason code,
    so the audit still passes and no copy of the old text stays in the project's tables."""
    from rta.redact import check_reason, parse_memo_ref, redact_text

    table, field, row_id = parse_memo_ref(ref)
    reason = check_reason(reason)
    project = open_project()
    done = redact_text(project.store, table, field, row_id, text, project.coder(coder), reason)
    echo(f"redacted {ref} ({table}.{field}); logged as event {done.event} ({reason}), old text sha256 "
         f"{done.old_sha256[:12]}…")
