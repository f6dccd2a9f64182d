"""Commands: doctor, suggest, review, evaluate, export suggestions (the NLP assistant).

spaCy and the matcher are imported inside the commands only, so ``rta --help`` stays fast.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from rta.cli.app import app, echo, export_app, format_option, open_project, output_file, whole_number
from rta.errors import RtaError
from rta.textsafe import RAW_CELLS_HELP, for_terminal

EXPORT_FIELDS = ("id", "transcript", "speaker", "role", "group", "start", "end", "line_start", "line_end",
                 "text", "passage", "rank", "code", "themes", "score", "themes_ranked", "method", "evidence",
                 "pipeline", "status", "note")
KEYS_HELP = "[a]ccept [r]eject [s]kip re[c]ode [w]iden [n]arrow [m]emo [f]eature [u]ndo [q]uit"


@app.command()
def doctor() -> None:
    """Show the Norwegian NLP pipeline in use, its version, components and accuracy, and how
    to get a better one."""
    from rta.nlp import BETTER_HINT, PACKAGES, choose_pipeline, is_installed, load_pipeline

    pin, root, project = "auto", None, None
    try:
        project = open_project()
        pin, root = project.config.pipeline, project.root
        echo(f"project: {project.root} ([nlp] pipeline = \"{pin}\")")
    except RtaError:
        echo("no project here: showing the automatic choice")
    source, target = choose_pipeline(pin, root)
    _nlp, info = load_pipeline(pin, root)
    echo(f"pipeline:   {info.name}")
    echo(f"version:    {info.version}")
    echo(f"source:     {info.source}" + (f" ({info.path})" if info.path else ""))
    echo(f"components: {', '.join(info.components)}")
    if info.scores:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in info.scores.items() if isinstance(v, float))
        echo(f"scores:     {shown} ({info.scores.get('set', 'meta.json')})")
    else:
        echo("scores:     none (no accuracy figures in this pipeline)")
    echo("installed:  " + ", ".join(f"{p} {'yes' if is_installed(p) else 'no'}" for p in PACKAGES))
    if source != "package":
        echo(f"hint: {BETTER_HINT}")
    if project is not None:  # transcripts that look OCR-damaged (issue 17)
        from rta.ocr import doctor_lines

        for line in doctor_lines(project.store):
            echo(line)


@app.command()
def suggest(
    transcript: Optional[str] = typer.Option(None, "--transcript", help="Only this transcript id."),
    code: Optional[List[str]] = typer.Option(None, "--code", help="Only this code (repeatable)."),
    min_score: float = typer.Option(0.4, "--min-score", help="Propose a code for a passage only when its combined score is at least this (0-1)."),
    max_codes: int = typer.Option(3, "--max-codes", parser=whole_number, help="At most this many codes per passage, strongest first."),
    passage_sentences: int = typer.Option(10, "--passage-sentences", parser=whole_number, help="A passage is an informant turn, cut into near-equal runs of at most this many sentences."),
    learn: bool = typer.Option(True, "--learn/--no-learn", help="Use what the project's accepted codings, codebook examples and rejected suggestions teach (for codes with enough examples)."),
    coder: Optional[str] = typer.Option(None, help="Who runs it (default: $RTA_CODER or rta.toml)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Propose codes per passage from the codebook's indicators and what the project's own
    decisions teach. Re-running adds only new candidates and keeps earlier decisions; nothing
    counts as a coding until reviewed."""
    import click

    from rta.suggest import SuggestOptions, run_suggest

    project = open_project()
    options = SuggestOptions(min_score=min_score, max_codes=max_codes, passage_sentences=passage_sentences,
                             codes=list(code) if code else None, transcript=transcript, learn=learn)
    state: dict = {}

    def on_start(words: int) -> None:
        if not quiet:
            state["bar"] = click.progressbar(length=max(1, words), label="reading turns", file=sys.stderr)
            state["bar"].__enter__()

    def progress(words: int) -> None:
        if "bar" in state:
            state["bar"].update(words)

    try:
        result = run_suggest(project, options, coder=coder, progress=progress, on_start=on_start)
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)
    methods = ", ".join(f"{m} {n}" for m, n in sorted(result.by_method.items())) or "none"
    echo(f"read {result.turns} informant turns ({result.words} words) with {result.pipeline}")
    echo(f"{result.candidates} candidates in {result.passages} passages for {len(result.codes)} codes: "
         f"{result.new} new, {result.existing} already there")
    per_k = (lambda n: f"{1000 * n / result.words:.1f}") if result.words else (lambda n: "-")
    echo(f"review burden: {per_k(result.passages)} passages to decide per 1,000 informant words "
         f"(sentence by sentence it would be {per_k(result.raw_candidates)} candidates)")
    echo(f"by method: {methods}")
    if result.learned_codes:
        echo(f"learned from the project: {len(result.learned_codes)} codes ({result.model})")
    else:
        echo("learned from the project: no code has enough examples yet (indicators only)")
    echo("next: rta review")


def _feature_last(store, coding_id: int | None, who: str | None) -> None:
    """'f' in rta review: feature the coding the last accepted or recoded suggestion became,
    in its code's theme (asked for when the code is in several)."""
    from rta.featured import feature
    from rta.themes import list_themes

    if coding_id is None:
        echo("nothing to feature yet: 'f' features the coding you last accepted or recoded")
        return
    code = store.conn.execute("SELECT code FROM codings WHERE id = ?", (coding_id,)).fetchone()["code"]
    themes = [t.name for t in list_themes(store) if code in t.codes]
    if not themes:
        echo(f"coding {coding_id} ({code}) is in no theme of the project: see 'rta themes'")
        return
    name = themes[0] if len(themes) == 1 else _read_line(f"theme ({', '.join(themes)}): ")
    if name:
        items = feature(store, coding_id, name, who)
        echo(f"featured coding {coding_id} in {next((t for t in themes if t.lower() == name.lower()), name)} "
             f"(place {[f.coding_id for f in items].index(coding_id) + 1} of {len(items)})")


def _read_key(prompt: str) -> str:
    """One key: a keypress on a terminal, else the first letter of a line (scripts, tests).
    End of input means quit."""
    import click

    if sys.stdin.isatty():
        click.echo(prompt, nl=False)
        key = click.getchar()
        click.echo(for_terminal(key))  # an ESC keypress is shown as \x1b, not sent back
        return key.lower()
    click.echo(prompt, nl=False)
    line = sys.stdin.readline()
    if not line:
        return "q"
    click.echo(for_terminal(line.strip()))
    return (line.strip()[:1] or " ").lower()


def _read_line(prompt: str) -> str:
    import click

    click.echo(prompt, nl=False)
    line = sys.stdin.readline()
    if not sys.stdin.isatty():
        click.echo(for_terminal(line.rstrip("\n")))
    return line.strip()


def _show(store, codebook, sug, done: int, total: int, view=None) -> None:
    from rta.review import context_lines, evidence_text

    role = sug.role or "?"
    echo("")
    if view is not None and len(view.codes) > 1:
        echo(f"passage {view.transcript_id} lines {sug.line_start}-{sug.line_end}: {len(view.codes)} codes proposed, best first")
        for rank, other in enumerate(view.codes, 1):
            mark = ">" if other.id == sug.id else " "
            echo(f" {mark} {rank}. {for_terminal(other.code):<20} {other.score:.2f}  [{other.decision}]  "
                 f"{for_terminal(evidence_text(other.evidence))}")
    if view is not None and view.themes:
        echo("themes:     " + ", ".join(f"{for_terminal(t)} {sc:.2f}" for t, sc in view.themes))
    echo(f"[{done + 1}/{total}] suggestion {sug.id}: {sug.code}  score {sug.score:.2f}  ({sug.method}, {sug.pipeline})")
    echo(f"{sug.transcript_id}  {sug.informant or sug.speaker} ({role}{', ' + sug.group if sug.group else ''})  "
         f"lines {sug.line_start}-{sug.line_end} of turn {sug.turn_n}")
    try:
        definition = codebook.code(sug.code).definition
    except Exception:
        definition = "(not in the current codebook)"
    echo(f"definition: {' '.join(definition.split())}")
    echo("evidence:   " + for_terminal(evidence_text(sug.evidence)))
    for line in context_lines(store, sug):
        echo("  | " + line)


@app.command()
def review(
    accept: Optional[List[str]] = typer.Option(None, "--accept", help="Accept these suggestion ids (repeatable or comma-separated)."),
    reject: Optional[List[str]] = typer.Option(None, "--reject", help="Reject these suggestion ids (repeatable or comma-separated)."),
    accept_above: Optional[float] = typer.Option(None, "--accept-above", help="Accept every pending suggestion scoring at least this."),
    code: Optional[str] = typer.Option(None, "--code", help="Only suggestions of this code."),
    transcript: Optional[str] = typer.Option(None, "--transcript", help="Only suggestions in this transcript."),
    min_score: Optional[float] = typer.Option(None, "--min-score", help="Interactive: only suggestions scoring at least this."),
    coder: Optional[str] = typer.Option(None, help="Who decides (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Review suggestions: interactively (keys a/r/s/c/w/n/m/u/q), or in batch with
    --accept/--reject/--accept-above. Every decision is logged with the coder."""
    from rta import review as rv
    from rta.coding import ensure_codebook_version

    project = open_project()
    store = project.store
    who = project.coder(coder)
    if code:
        from rta.codebook_yaml import load_codebook

        code = load_codebook(project.codebook_path).code(code).name
    batch = bool(accept or reject or accept_above is not None)
    if batch:
        ids_accept = _ids(accept)
        ids_reject = _ids(reject)
        with store.transaction():
            version = ensure_codebook_version(store, project.codebook_path, who)
            done_a = [rv.accept(store, i, who, version) for i in ids_accept]
            for i in ids_reject:
                rv.reject(store, i, who)
            above = rv.accept_above(store, accept_above, who, version, code) if accept_above is not None else []
        echo(f"accepted {len(done_a) + len(above)}, rejected {len(ids_reject)} (coder {who})")
        return
    from rta.codebook_yaml import load_codebook

    codebook = load_codebook(project.codebook_path)
    themes = rv.themes_for(store, codebook)
    queue = rv.list_suggestions(store, "suggested", code=code, transcript=transcript, min_score=min_score)
    if not queue:
        echo("nothing to review: no pending suggestions (run 'rta suggest' first)")
        return
    total = len(queue)
    pos = 0
    history: list[int] = []  # positions of decided suggestions, for undo
    counts = {"accepted": 0, "rejected": 0, "recoded": 0, "skipped": 0}
    last_coding: int | None = None  # the coding the last accepted or recoded suggestion became ('f' features it)
    while True:
        if pos >= len(queue):
            # the end of the queue: still allow undoing the last decision
            key = _read_key("end of the queue: [f]eature [u]ndo [q]uit > ")
            if key not in ("u", "f"):
                break
            sug = None
        else:
            sug = rv.get_suggestion(store, queue[pos].id)
            if sug.status != "suggested":
                pos += 1
                continue
            view = rv.passage_view(store, sug.transcript_id, sug.revision, sug.start, sug.end, themes)
            _show(store, codebook, sug, pos, total, view)
            key = _read_key(KEYS_HELP + " > ")
        try:
            if key == "q":
                break
            with store.transaction():
                if key == "a":
                    version = ensure_codebook_version(store, project.codebook_path, who)
                    coding_id = rv.accept(store, sug.id, who, version)
                    linked = store.conn.execute("SELECT suggestion_id FROM codings WHERE id=?",
                                                (coding_id,)).fetchone()["suggestion_id"] != sug.id
                    echo(f"accepted: already coded as coding {coding_id}, linked (no second coding)" if linked
                         else f"accepted: coding {coding_id}")
                    counts["accepted"] += 1
                    last_coding = coding_id
                    history.append(pos)
                    pos += 1
                elif key == "r":
                    rv.reject(store, sug.id, who)
                    echo("rejected")
                    counts["rejected"] += 1
                    history.append(pos)
                    pos += 1
                elif key == "s":
                    rv.skip(store, sug.id, who)
                    counts["skipped"] += 1
                    pos += 1
                elif key == "c":
                    new_code = _read_line("code: ")
                    if new_code:
                        version = ensure_codebook_version(store, project.codebook_path, who)
                        coding_id = rv.recode(store, sug.id, new_code, who, version)
                        echo(f"recoded to {new_code}: coding {coding_id}")
                        counts["recoded"] += 1
                        last_coding = coding_id
                        history.append(pos)
                        pos += 1
                elif key in ("w", "n"):
                    start, end = rv.change_span(store, sug.id, who, "widen" if key == "w" else "narrow")
                    echo(f"span now {start}-{end}")
                elif key == "m":
                    text = _read_line("memo: ")
                    if text:
                        rv.add_memo(store, sug.id, text, who)
                        echo("memo saved")
                elif key == "f":
                    _feature_last(store, last_coding, who)
                elif key == "u":
                    undone = rv.undo_last(store, who)
                    if undone is None:
                        echo("nothing to undo")
                    else:
                        echo(f"undone: {undone['kind']} of suggestion {undone['suggestion']}")
                        back = next((i for i in range(len(queue)) if queue[i].id == undone["suggestion"]), None)
                        if back is not None:
                            pos = back
                        elif undone["kind"] != "suggestion.memo":
                            queue.insert(pos, rv.get_suggestion(store, int(undone["suggestion"])))
                else:
                    echo(f"unknown key '{key}': {KEYS_HELP}")
        except RtaError as exc:
            echo(str(exc), err=True)
    left = len(rv.list_suggestions(store, "suggested", code=code, transcript=transcript, min_score=min_score))
    echo(f"accepted {counts['accepted']}, rejected {counts['rejected']}, recoded {counts['recoded']}, "
         f"skipped {counts['skipped']}; {left} still pending (progress is saved)")


def _ids(values: Optional[List[str]]) -> list[int]:
    out: list[int] = []
    for value in values or []:
        for part in value.replace(",", " ").split():
            try:
                out.append(whole_number(part))
            except ValueError:
                raise RtaError(f"'{part}' is not a suggestion id", hint="ids are numbers, see 'rta export suggestions'") from None
    return out


@app.command()
def evaluate(
    code: Optional[str] = typer.Option(None, "--code", help="Only this code."),
    fmt: str = format_option("table", "table", "json", help="table or json."),
    coder: Optional[str] = typer.Option(None, "--coder", help="Only this coder's decisions and codings."),
) -> None:
    """How good is the assistant: per code, the share of final codings a suggestion
    anticipated (recall), the acceptance rate, and codes whose suggestions are mostly rejected."""
    from rta.coding import check_coder
    from rta.evaluate import evaluate as run, format_table

    if fmt not in ("table", "json"):
        raise RtaError(f"unknown format '{fmt}'", hint="use --format table or --format json")
    project = open_project()
    ev = run(project.store, code, check_coder(project.store, coder) if coder is not None else None)
    if fmt == "json":
        echo(json.dumps(ev.to_dict(), ensure_ascii=False, indent=2))
    elif not ev.codes:
        echo("no suggestions and no codings yet: run 'rta suggest' and 'rta review' first")
    else:
        echo(format_table(ev))


def suggestion_records(store, status: Optional[str] = None, codebook_path: Optional[Path] = None,
                       allow_originals: bool = False) -> list[dict]:
    """Export records with exactly :data:`EXPORT_FIELDS` (offsets into the normalised text).
    Themes come from the project's themes, else the imported codebook, else the codebook file.
    A suggestion on a superseded revision says so in ``note``; one on a revision from before
    pseudonymisation is refused unless ``allow_originals`` (rta.anchor.refuse_originals)."""
    from rta.anchor import refuse_originals, revision_states
    from rta.coding import theme_map
    from rta.review import list_suggestions, passage_views

    themes = theme_map(store)
    if not themes and codebook_path is not None and Path(codebook_path).is_file():
        from rta.codebook_yaml import load_codebook

        cb = load_codebook(codebook_path)
        themes = {c.name: cb.themes_of(c.name) for c in cb.codes}
    texts: dict = {}
    out = []
    suggestions = list_suggestions(store, status)
    states = revision_states(store)
    views = passage_views(store, suggestions, themes)
    refuse_originals(states, [(f"suggestion {s.id} ({s.status})", s.transcript_id, s.revision) for s in suggestions],
                     "the export", allow_originals,
                     also="or export only the pending ones (--status suggested), which are on the current text")
    for s in suggestions:
        key = (s.transcript_id, s.revision)
        if key not in texts:
            texts[key] = store.transcript_text(*key)
        view = views.get((s.transcript_id, s.revision, s.start, s.end))
        rank = next((i + 1 for i, o in enumerate(view.codes) if o.id == s.id), None) if view else None
        out.append({
            "id": s.id, "transcript": s.transcript_id, "speaker": s.informant or s.speaker, "role": s.role,
            "group": s.group, "start": s.start, "end": s.end, "line_start": s.line_start, "line_end": s.line_end,
            "text": texts[key][s.start:s.end], "passage": view.key if view else None, "rank": rank,
            "code": s.code, "themes": themes.get(s.code, []), "score": s.score,
            "themes_ranked": [[t, sc] for t, sc in view.themes] if view else [],
            "method": s.method, "evidence": s.evidence, "pipeline": s.pipeline, "status": s.status,
            "note": (states[s.transcript_id].note(s.revision) if s.transcript_id in states else None) or "",
        })
    return out


@export_app.command("suggestions")
def export_suggestions(
    fmt: str = format_option("jsonl", "jsonl", "csv", help="jsonl or csv."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", parser=output_file,
                                          help="Write to this file (default: stdout)."),
    status: Optional[str] = typer.Option(None, "--status", help="Only suggested, accepted, rejected or retired."),
    raw_cells: bool = typer.Option(False, "--raw-cells", help=RAW_CELLS_HELP),
    allow_originals: bool = typer.Option(False, "--allow-originals",
                                         help="Quote suggestions on revisions from before 'rta anonymise apply' "
                                              "(their text may hold the real names)."),
) -> None:
    """One record per suggestion: id, transcript, speaker, role, group, start, end,
    line_start, line_end, text, passage (the passage it belongs to: one decision, several ranked
    codes), rank (the code's rank in its passage), code, themes, score, themes_ranked (the
    themes the passage's codes imply, best first, with scores), method, evidence, pipeline,
    status, note (set when the text is from a superseded revision)."""
    from rta.fsutil import atomic_write_text
    from rta.textsafe import for_stream, spreadsheet_cell

    if fmt not in ("jsonl", "csv"):
        raise RtaError(f"unknown format '{fmt}'", hint="use --format jsonl or --format csv")
    if status not in (None, "suggested", "accepted", "rejected", "retired"):
        raise RtaError(f"unknown status '{status}'", hint="use suggested, accepted, rejected or retired")
    project = open_project()
    records = suggestion_records(project.store, status, project.codebook_path, allow_originals)
    if fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(EXPORT_FIELDS), lineterminator="\n")
        writer.writeheader()
        for r in records:
            row = dict(r)
            row["themes"] = "; ".join(r["themes"])
            row["themes_ranked"] = "; ".join(f"{t} {sc:.2f}" for t, sc in r["themes_ranked"])
            row["evidence"] = json.dumps(r["evidence"], ensure_ascii=False)
            writer.writerow(row if raw_cells else {k: spreadsheet_cell(v) for k, v in row.items()})
        text = buf.getvalue()
    if output is None:
        sys.stdout.write(for_stream(text))
    else:
        atomic_write_text(output, text)
        echo(f"wrote {len(records)} suggestions to {output}", err=True)
