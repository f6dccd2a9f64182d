"""Command: verify (a manuscript's quotes checked against the transcripts).

Exit codes: 0 when every interview extract verifies (verbatim, or verbatim with marked
omissions and insertions), 1 when any is altered, misattributed, spans two turns, is found only
in a superseded revision or is not found; 2 on bad input (the file named). The run is logged as
a ``manuscript.verified`` event.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from rta.cli.app import app, echo, format_option, open_project, output_file


@app.command()
def verify(
    manuscript: Path = typer.Argument(..., metavar="MANUSCRIPT", help="The manuscript: .docx, .md, .txt, or .pdf (read with pypdf when installed)."),
    fmt: str = format_option("text", "text", "json", "html",
                             help="text (summary and table), json, or html (a page for a supervision meeting: "
                                  "each extract beside its source in context).", short=True),
    output: Optional[Path] = typer.Option(None, "--output", "-o", parser=output_file, metavar="FILE",
                                          help="Write json or html to this file (html default: "
                                               "MANUSCRIPT-verify.html in the working folder)."),
    all_extracts: bool = typer.Option(False, "--all", "-a",
                                      help="Details for every extract, not only those that fail."),
    encoding: str = typer.Option("utf-8", "--encoding", metavar="NAME", help="Encoding of a .txt or .md manuscript."),
    coder: Optional[str] = typer.Option(None, "--coder", metavar="NAME", help="Who verifies (logged)."),
) -> None:
    """Check every interview extract of a thesis chapter or article against the transcripts:
    block quotes, paragraphs starting with a speaker label (S1: ...) and quotes in «...» or
    "..." of four words or more, with their attribution (a label, "(R4)", or a code in the
    lead-in: "skoleleder R4 sier"). Omission marks (...) (..) [...] ... and bracketed insertions
    are allowed; line breaks, hyphenation, typographic quotes and case are no differences.
    Verdicts: verbatim; verbatim with marked edits; altered (with the word diff); wrong
    informant; interviewer's words; spans two turns; only in a superseded revision; not found
    (with the nearest candidates); not an interview extract? (no attribution and no match)."""
    from datetime import datetime, timezone

    from rta.fsutil import atomic_write_text
    from rta.verify import detail_rows, log_verification, render_html, summary_line, table_rows, to_json, \
        verify_manuscript

    from rta.fsutil import check_output_file

    target = output or (Path(f"{Path(manuscript).stem}-verify.html") if fmt == "html" else None)
    if target is not None:
        check_output_file(target)  # before any work: nothing is logged for a file that cannot be written
    project = open_project()
    result = verify_manuscript(project.store, project.registry, manuscript, encoding=encoding)
    event = log_verification(project.store, result, project.coder(coder))
    if fmt == "json":
        body = json.dumps({**to_json(result), "event": event.seq}, ensure_ascii=False, indent=2) + "\n"
        if output:
            atomic_write_text(output, body)
            echo(summary_line(result), err=True)
            echo(f"wrote {output}", err=True)
        else:
            echo(body, nl=False)
    elif fmt == "html":
        built = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        assert target is not None
        atomic_write_text(target, render_html(result, built))
        echo(summary_line(result))
        echo(f"wrote {target}")
    else:
        echo(summary_line(result))
        echo()
        for row in table_rows(result):
            echo(row)
        details = detail_rows(result, all_extracts)
        if details:
            echo()
            for row in details:
                echo(row)
        echo()
        echo(f"logged as event {event.seq} (manuscript.verified)")
    if not result.verified:
        sys.exit(1)
