"""Building a report: audit the project, collect, render each format, write the files and log it.

``rta report`` runs :func:`build_report`. A report is only built from a project that passes
``rta audit``, unless the user explicitly allows an unverified one, which is then stamped as
such; quotes from before pseudonymisation are refused unless allowed; identifiers the
anonymisation check still finds are counted in the audit appendix. The files appear together
and only with their ``report.built`` event (staged writes, renamed after the store commits).
The data is :mod:`rta.report`'s, the rendering :mod:`rta.report_render`'s.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rta.errors import AuditFailure, RtaError
from rta.fsutil import sha256_bytes, sha256_text
from rta.report import ReportData, collect
from rta.report_render import FORMATS, environment, render
from rta.store import Store


@dataclass
class BuildResult:
    """What ``rta report`` wrote, and the audit it was built under."""

    paths: list[Path]
    data: ReportData
    audit_ok: bool
    unresolved_flags: dict[str, int] = field(default_factory=dict)
    recovered: list[str] = field(default_factory=list)  # leftovers of an interrupted build, cleaned or completed


def parse_formats(spec: str) -> list[str]:
    """'html,md' -> ['html', 'md'] with a clear error for anything else."""
    formats = [f.strip().lower() for f in spec.split(",") if f.strip()]
    formats = ["md" if f in ("markdown",) else "docx" if f == "word" else f for f in formats]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise RtaError(f"unknown report format '{', '.join(bad) or spec}'", hint="use --format html, md, docx or a "
                                                                               "comma list such as html,md,docx")
    return list(dict.fromkeys(formats))


def build_report(project: Any, formats: list[str], out: str | Path | None = None,
                 template_dir: str | Path | None = None, theme: str | None = None, role: str | None = None,
                 allow_unverified: bool = False, coder: str | None = None,
                 progress: Callable[[str], None] | None = None, allow_originals: bool = False,
                 lang: str | None = None, title: str | None = None, figures: bool = True,
                 view: str | None = None) -> BuildResult:
    """Audit the project, collect the data, render each format into ``out`` (default:
    ``PROJECT/rapport``) and log 'report.built'. Refuses when the audit fails unless
    ``allow_unverified``, which stamps the report, and refuses to quote text from before
    pseudonymisation unless ``allow_originals`` (see :func:`collect`). ``view``: a coder's own
    view (only that coder's codings); ``coder``: who builds it (logged)."""
    from rta.audit import audit as run_audit
    from rta.fsutil import StagedWrites, recover_staged

    store: Store = project.store
    folder = Path(out) if out is not None else project.root / "rapport"
    recovered = recover_staged(store, [folder])  # a report build that was killed: finish or clean it
    result = run_audit(store)
    if not result.ok and not allow_unverified:
        raise AuditFailure(
            f"the project does not pass the audit ({len(result.failures)} failure(s)); no report was built",
            problems=[],
            hint="run 'rta audit' to see what fails and fix it, or pass --allow-unverified to build a report "
                 "stamped UNVERIFIED on every page",
        )
    lang = lang or project.config.report_lang
    data = collect(store, project.registry, result, project_name=project.config.name, theme=theme, role=role,
                   unverified=not result.ok, allow_originals=allow_originals, lang=lang,
                   title=title or project.config.report_title or None, coder=view)
    # Quotes go to other people: warn about identifiers the anonymisation missed. Patterns,
    # deny- and allow-lists only (no NER model to load), as 'rta anonymise check --pipeline none'.
    from rta.anonymise import unresolved_flags

    unresolved = {tid: n for tid, n in sorted(unresolved_flags(project, pipeline=None).items()) if n}
    data.audit.anonymisation = list(unresolved.items())
    data.build_id = uuid.uuid4().hex
    if figures:
        from rta.figures import add_figures

        add_figures(data)
    env = environment(template_dir)
    rendered: dict[str, str | bytes] = {fmt: render(data, fmt, template_dir, env) for fmt in formats if fmt != "docx"}
    if "docx" in formats:
        from rta.report_docx import render_docx

        rendered["docx"] = render_docx(data, template_dir)
    # All files appear together and only with their 'report.built' event: staged beside their
    # targets, renamed into place after the store commits (rta.fsutil.StagedWrites). A build
    # killed before the commit leaves the previous report and no event; one killed after it is
    # completed by the next command.
    paths = [folder / f"report.{fmt}" for fmt in rendered]
    files: dict[Path, str | bytes] = dict(zip(paths, rendered.values()))
    if "md" in rendered:  # Markdown shows the pictures as files beside it
        files.update({folder / f.file: f.svg for f in data.figures})
    with StagedWrites() as staged:
        for path, content in files.items():
            staged.stage(path, content)
        with store.transaction():
            store.log_event("report.built", {
                "files": {str(p): sha256_text(c) if isinstance(c, str) else sha256_bytes(c) for p, c in files.items()},
                "build": data.build_id,
                "quotes": data.total_quotes, "themes": [t.name for t in data.themes], "filters": data.filters,
                "audit_ok": result.ok, "unverified": data.unverified,
                "template": str(template_dir) if template_dir else None,
                **({"allow_originals": True} if allow_originals else {}),
                "unresolved_flags": unresolved, "log_head": data.audit.log_head, "lang": data.lang,
            }, project.coder(coder))
            staged.journal(store)
    return BuildResult(paths, data, result.ok, unresolved, recovered)
