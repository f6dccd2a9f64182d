"""Commands: ``rta codebook validate|show|doc|export|import|diff|rename|merge``.

Thin layer over :mod:`rta.codebook` and :mod:`rta.qdc`. xmlschema, jinja2 and rapidfuzz are
imported inside the commands so ``rta --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from rta.cli.app import codebook_app, echo, output_file
from rta.errors import RtaError

FILE_HELP = "Codebook YAML (default: the project's codebook)."


class ShowFormat(str, Enum):
    table = "table"
    md = "md"
    json = "json"


class DocFormat(str, Enum):
    md = "md"
    html = "html"


class ExportFormat(str, Enum):
    qdc = "qdc"
    csv = "csv"


class DiffFormat(str, Enum):
    text = "text"
    json = "json"


def codebook_file(file: Optional[Path]) -> Path:
    """``file`` if given, else the project's codebook; a clear error when there is neither."""
    if file is not None:
        return file
    from rta.cli.app import open_project

    try:
        project = open_project()
    except (RtaError, ImportError) as exc:
        from rta.resources import default_codebook_path

        raise RtaError(
            "no codebook FILE given and no rta project found",
            hint=(
                f"name a codebook, e.g. `rta codebook show {default_codebook_path()}`, run the "
                "command inside a project folder, or pass --project DIR"
                + (f" ({exc.message})" if isinstance(exc, RtaError) else "")
            ),
        ) from None
    try:
        return project.codebook_path
    finally:
        close = getattr(project, "close", None)
        if close:
            close()


def _load(file: Optional[Path]):
    from rta.codebook_yaml import load_codebook

    return load_codebook(codebook_file(file))


def _write_or_print(text: str | bytes, out: Optional[Path], force: bool = True) -> None:
    from rta.fsutil import atomic_write_bytes

    data = text.encode("utf-8") if isinstance(text, str) else text
    if out is None or str(out) == "-":
        from rta.textsafe import for_stream

        sys.stdout.write(for_stream(data.decode("utf-8")))
        sys.stdout.flush()
        return
    if out.exists() and not force:
        raise RtaError("output file exists", path=out, hint="choose another -o or pass --force to replace it")
    atomic_write_bytes(out, data)
    echo(f"wrote {out}", err=True)


# --------------------------------------------------------------------------------------------


@codebook_app.command("validate")
def validate(
    file: Optional[Path] = typer.Argument(None, help=FILE_HELP, show_default=False),
    fix_guids: bool = typer.Option(
        False, "--fix-guids", help="Write a new GUID under every code and theme that has none (atomic; layout kept)."
    ),
) -> None:
    """Check a codebook and report every problem as file:line (exit 2 on errors, 0 otherwise;
    warnings are printed either way)."""
    from rta.codebook_yaml import fix_guids as add_guids
    from rta.codebook_yaml import parse_codebook, validate_codebook
    from rta.fsutil import atomic_write_text

    path = codebook_file(file)
    if fix_guids and any(p.severity == "error" for p in validate_codebook(path)):
        echo(f"{path}: not adding GUIDs until the errors below are fixed", err=True)
    elif fix_guids:
        text, added = add_guids(path)
        if added:
            _, problems = parse_codebook(text, path)
            if any(p.severity == "error" for p in problems):
                raise RtaError(
                    "adding GUIDs would leave the codebook invalid; nothing written", path=path,
                    problems=[p for p in problems if p.severity == "error"],
                )
            atomic_write_text(path, text)
        echo(f"{path}: added {added} GUID(s)")
    problems = validate_codebook(path)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    for problem in problems:
        echo(str(problem))
    if errors:
        raise RtaError(
            f"the codebook is not valid: {len(errors)} error(s), {len(warnings)} warning(s)", path=path,
            hint="fix the errors listed above and run `rta codebook validate` again",
        )
    from rta.codebook_yaml import load_codebook

    codebook = load_codebook(path)
    echo(
        f"{path}: valid: {len(codebook.codes)} codes, {len(codebook.themes)} themes, "
        f"{len(warnings)} warning(s)"
    )


def _cell(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(codebook) -> str:
    codes = codebook.codes_sorted()
    themes = codebook.themes_sorted()
    has_parent = any(c.parent for c in codes)
    w_name = max([4] + [len(c.name) for c in codes])
    w_theme = max([6] + [len(", ".join(codebook.themes_of(c.name))) for c in codes])
    lines = [
        f"{codebook.name}: {len(codes)} codes, {len(themes)} themes (sha256 {codebook.sha256[:12]})",
        "",
    ]
    w_parent = max([6] + [len(c.parent or "") for c in codes])
    header = f"{'CODE':<{w_name}}  {'THEMES':<{w_theme}}  " + (f"{'PARENT':<{w_parent}}  " if has_parent else "") + "LABEL"
    lines.append(header)
    for c in codes:
        row = f"{c.name:<{w_name}}  {', '.join(codebook.themes_of(c.name)):<{w_theme}}  "
        if has_parent:
            row += f"{c.parent or '':<{w_parent}}  "
        lines.append((row + _cell(c.label, 60)).rstrip())
    if themes:
        from rta.norsk import sort_no

        w_t = max([5] + [len(t.name) for t in themes])
        lines += ["", f"{'THEME':<{w_t}}  {'ORIGIN':<9}  {'STATUS':<9}  CODES"]
        for t in themes:
            extra = f" (opposite: {t.opposite})" if t.opposite else ""
            lines.append(f"{t.name:<{w_t}}  {t.origin:<9}  {t.status:<9}  {len(t.codes)}: {', '.join(sort_no(t.codes))}{extra}")
    unthemed = codebook.unthemed_codes()
    if unthemed:
        lines += ["", f"Codes in no theme: {', '.join(unthemed)}"]
    if codebook.mapping_note:
        lines += ["", "Mapping: " + " ".join(codebook.mapping_note.split())]
    return "\n".join(lines)


def _md_cell(text: str | None) -> str:
    """One Markdown table cell: whitespace flattened, escaped as the report escapes text (no
    raw HTML, no links, pipes escaped)."""
    from rta.report_render import md_escape

    return md_escape(" ".join((text or "").split()))


def _markdown(codebook) -> str:
    from rta.norsk import sort_no

    lines = [f"# {_md_cell(codebook.name)}", "", f"{len(codebook.codes)} codes, {len(codebook.themes)} themes.", ""]
    lines += ["| Code | Label | Themes | Definition |", "|---|---|---|---|"]
    for c in codebook.codes_sorted():
        name = c.name + (f" ({c.parent})" if c.parent else "")
        lines.append(
            f"| {_md_cell(name)} | {_md_cell(c.label)} | {_md_cell(', '.join(codebook.themes_of(c.name)))} | {_md_cell(c.definition)} |"
        )
    if codebook.themes:
        lines += ["", "| Theme | Origin | Status | Codes |", "|---|---|---|---|"]
        for t in codebook.themes_sorted():
            lines.append(f"| {_md_cell(t.name)} | {t.origin} | {t.status} | {_md_cell(', '.join(sort_no(t.codes)))} |")
    unthemed = codebook.unthemed_codes()
    if unthemed:
        lines += ["", f"Codes in no theme: {_md_cell(', '.join(unthemed))}"]
    return "\n".join(lines)


@codebook_app.command("show")
def show(
    file: Optional[Path] = typer.Argument(None, help=FILE_HELP, show_default=False),
    fmt: ShowFormat = typer.Option(ShowFormat.table, "--format", "-f", help="table, md or json."),
) -> None:
    """List codes and themes in Norwegian alphabetical order (æ, ø, å after z)."""
    codebook = _load(file)
    if fmt is ShowFormat.json:
        echo(json.dumps(codebook.to_dict(), ensure_ascii=False, indent=2))
    elif fmt is ShowFormat.md:
        echo(_markdown(codebook))
    else:
        echo(_table(codebook))
    for warning in codebook.warnings:
        echo(str(warning), err=True)


def render_doc(codebook, fmt: str = "html", template_dir: Optional[Path] = None) -> str:
    """The codebook appendix document rendered from ``codebook.<fmt>.j2``. Why a function: the
    report writer can embed the same document."""
    import jinja2

    from rta.norsk import sort_no
    from rta.resources import templates_dir

    dirs = [str(template_dir)] if template_dir else []
    dirs.append(str(templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        autoescape=lambda name: bool(name) and name.endswith((".html.j2", ".html")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    from rta.report_render import md_escape, md_quote
    from rta.textsafe import md_code

    env.filters["md_cell"] = _md_cell
    env.filters["md"] = md_escape  # the report's Markdown escaping: codebook text never becomes markup
    env.filters["md_quote"] = md_quote
    env.filters["md_code"] = md_code
    env.filters["sort_no"] = lambda items: sort_no(items)
    name = f"codebook.{fmt}.j2"
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound:
        raise RtaError(f"template {name} not found", path=template_dir or templates_dir(), hint="copy templates/ and edit the copy") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RtaError(f"template syntax error: {exc.message}", path=exc.filename, line=exc.lineno) from None
    codes = codebook.codes_sorted()
    themes = codebook.themes_sorted()
    try:
        return template.render(
            codebook=codebook,
            codes=codes,
            themes=themes,
            themes_of={c.name: codebook.themes_of(c.name) for c in codes},
            children_of={c.name: codebook.children_of(c.name) for c in codes},
            unthemed=codebook.unthemed_codes(),
            sha_short=codebook.sha256[:12],
        )
    except jinja2.UndefinedError as exc:
        raise RtaError(f"template error: {exc.message}", path=template.filename) from None


@codebook_app.command("doc")
def doc(
    file: Optional[Path] = typer.Argument(None, help=FILE_HELP, show_default=False),
    fmt: DocFormat = typer.Option(DocFormat.html, "--format", "-f", help="md or html (self-contained)."),
    out: Optional[Path] = typer.Option(None, "-o", "--output", parser=output_file,
                                       help="Output file (default: standard output)."),
    template: Optional[Path] = typer.Option(
        None, "--template", help="Folder with your own codebook.md.j2 / codebook.html.j2 (others fall back to the defaults)."
    ),
) -> None:
    """Write the codebook as a document for a thesis appendix (Markdown or HTML)."""
    codebook = _load(file)
    if template is not None and not template.is_dir():
        raise RtaError("template folder not found", path=template, hint="--template takes a folder with codebook.*.j2")
    _write_or_print(render_doc(codebook, fmt.value, template), out)


@codebook_app.command("export")
def export(
    file: Optional[Path] = typer.Argument(None, help=FILE_HELP, show_default=False),
    fmt: ExportFormat = typer.Option(ExportFormat.qdc, "--format", "-f",
                                     help="qdc (REFI-QDA codebook) or csv (tag,description: Taguette, LibreQDA)."),
    out: Optional[Path] = typer.Option(None, "-o", "--output", parser=output_file,
                                       help="Output .qdc/.csv file (default: standard output)."),
) -> None:
    """Export to REFI-QDA .qdc for NVivo, ATLAS.ti, MAXQDA and QualCoder: themes become Sets (so
    a code can be in several), definitions and criteria go in Description, GUIDs are stable.
    --format csv: one row per code (tag,description, UTF-8) for Taguette and LibreQDA."""
    from rta.qdc import SCHEMA_ENV, codebook_to_qdc, export_losses, find_xsd, validate_xml

    codebook = _load(file)
    if fmt == ExportFormat.csv:
        from rta.codebook_csv import codebook_to_csv

        _write_or_print(codebook_to_csv(codebook), out)
        echo("not carried over: themes, criteria, indicators, colours and GUIDs (a tag table holds names and "
             "descriptions)", err=True)
        return
    data = codebook_to_qdc(codebook)
    xsd = find_xsd("Codebook.xsd")
    problems = validate_xml(data, xsd) if xsd is not None else []
    if problems:  # a bug in rta, not the user's fault: refuse to write an invalid file
        raise RtaError("the exported .qdc does not validate against Codebook.xsd", problems=problems,
                       hint="please report this as a bug with the codebook attached")
    _write_or_print(data, out)
    if xsd is None:
        echo(f"note: not checked against Codebook.xsd here (schema not found; set {SCHEMA_ENV} to a folder "
             "holding it to check every export)", err=True)
    for lost in export_losses(codebook):
        echo(f"not carried over: {lost}", err=True)


@codebook_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="A REFI-QDA .qdc (or .qde) file, or a .csv/.xlsx table with a tag, name "
                                          "or path (parent/child) column and optionally description."),
    out: Optional[Path] = typer.Option(None, "-o", "--output", parser=output_file,
                                       help="Output codebook YAML (default: standard output)."),
    name: Optional[str] = typer.Option(None, "--name", help="Codebook name (a .qdc has none; default: the file name)."),
    non_codable_as_themes: bool = typer.Option(
        False, "--non-codable-as-themes", help="Turn top-level isCodable=\"false\" codes into themes of their sub-codes."
    ),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it exists."),
) -> None:
    """Read a .qdc written by another tool (or a Taguette/LibreQDA .csv/.xlsx tag table) into rta's
    YAML and say what could not be carried over."""
    from rta.codebook_yaml import dump_codebook, parse_codebook
    from rta.qdc import read_qdc

    if file.suffix.lower() in (".csv", ".tsv", ".xlsx"):
        from rta.codebook_csv import read_codebook_table
        from rta.qdc import QdcImport

        result = QdcImport(*read_codebook_table(file, name=name))
    else:
        result = read_qdc(file, name=name, non_codable_as_themes=non_codable_as_themes)
    text = dump_codebook(result.codebook)
    _, problems = parse_codebook(text, out or "<imported>")
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise RtaError("the imported codebook would not be valid", path=file, problems=errors)
    _write_or_print(text, out, force=force)
    cb = result.codebook
    echo(f"imported {len(cb.codes)} codes and {len(cb.themes)} themes from {file}", err=True)
    for note in result.notes:
        echo(f"not carried over / check: {note}", err=True)
    _import_into_project(out)


def _import_into_project(out: Optional[Path]) -> None:
    """When OUT is the current project's codebook, import it into the store now, so codes
    renamed in the other tool (same GUID) carry their codings, themes and suggestions along."""
    if out is None or str(out) == "-":
        return
    from rta.cli.app import open_project

    try:
        project = open_project()
    except RtaError:
        return
    if out.resolve() != project.codebook_path.resolve():
        return
    from rta.coding import ensure_codebook_version

    store = project.store
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, project.coder())
    echo(f"codebook version {version} is the project's codebook now", err=True)
    for event in store.events(kind="codebook.renamed"):
        p = event.payload
        if p.get("version") == version:
            echo(f"renamed (same GUID): '{p['old']}' -> '{p['new']}': moved {p['codings']} coding(s), "
                 f"{p['themes']} theme membership(s), {p['suggestions']} pending suggestion(s)", err=True)


@codebook_app.command("diff")
def diff(
    old: Path = typer.Argument(..., help="Older codebook YAML."),
    new: Path = typer.Argument(..., help="Newer codebook YAML."),
    fmt: DiffFormat = typer.Option(DiffFormat.text, "--format", "-f", help="text or json."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when the codebooks differ (as git diff --exit-code)."),
) -> None:
    """How the codebook changed: codes added, removed, renamed (matched by GUID), re-assigned
    between themes, and changed definitions."""
    from rta.codebook import diff_codebooks
    from rta.codebook_yaml import load_codebook

    result = diff_codebooks(load_codebook(old), load_codebook(new))
    if fmt is DiffFormat.json:
        echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        echo(result.to_text())
    if exit_code and not result.is_empty():
        raise typer.Exit(1)


def _change_report(change) -> None:
    """What a rename or merge did, in words."""
    m = change.move
    n = m.counts()
    verb = "renamed code" if change.kind == "renamed" else "merged code"
    link = "to" if change.kind == "renamed" else "into"
    echo(f"{verb} '{m.old}' {link} '{m.new}' in {change.path} (codebook version {change.old_version} -> "
         f"{change.version})")
    moved = f"moved {n['codings']} coding(s), {n['themes']} theme membership(s), {n['suggestions']} pending suggestion(s)"
    if m.duplicate_suggestions:
        moved += f" ({len(m.duplicate_suggestions)} already suggested with '{m.new}': closed as duplicates)"
    echo(moved)
    if m.memos:
        echo(f"note: {m.memos} memo(s) on code '{m.old}' stay attached to that name (see rta memos)")


@codebook_app.command("rename")
def rename(
    old: str = typer.Argument(..., help="The code's current name."),
    new: str = typer.Argument(..., help="Its new name."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
    coder: Optional[str] = typer.Option(None, help="Who decides (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Rename a code in the project's codebook (its GUID stays): writes a new codebook version
    and moves the code's codings, theme memberships and pending suggestions to the new name,
    all logged."""
    from rta.cli.app import open_project
    from rta.codebook_changes import rename_code

    project = open_project()
    _change_report(rename_code(project.store, project.codebook_path, old, new, project.coder(coder), reason))


@codebook_app.command("merge")
def merge(
    code: str = typer.Argument(..., help="The code to merge away (A)."),
    into: str = typer.Option(..., "--into", help="The code that receives A's data and keeps its GUID (B)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
    coder: Optional[str] = typer.Option(None, help="Who decides (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Merge code A into code B: A leaves the codebook (a new version is written) and its
    codings, theme memberships and pending suggestions move to B, all logged."""
    from rta.cli.app import open_project
    from rta.codebook_changes import merge_codes

    project = open_project()
    _change_report(merge_codes(project.store, project.codebook_path, code, into, project.coder(coder), reason))
