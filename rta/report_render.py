"""Rendering a report with Jinja: the environment (the user's template folder first, rta's
templates after it), autoescape for HTML, and the filters the templates use to keep words from
transcripts, memos and codebooks from ever becoming markup (Markdown escaping, flowing
extracts, highlighted context turns, safe memo Markdown, the pictures' SVG).

Templates see ``r`` (the :class:`rta.report.ReportData` that :func:`rta.report.collect` made)
and ``L`` (rta.report_text labels of the report's language).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rta.errors import RtaError

FORMATS = ("html", "md", "docx")


# --------------------------------------------------------------------------------------------
# Rendering

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~!{}])")


def md_escape(text: Any) -> str:
    """Escape text for GitHub Markdown so transcript words never become markup: &, < and >
    as entities (no raw HTML such as <script> survives), other markup characters (links,
    emphasis, table pipes) with a backslash."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_quote(text: Any, prefix: str = "> ") -> str:
    """Escaped text as a Markdown blockquote body, its line breaks kept as hard breaks."""
    lines = md_escape(text).split("\n")
    return ("\\\n" + prefix).join(lines)


def md_flow(text: Any, prefix: str = "> ") -> str:
    """An extract (already :func:`flow` text) escaped as a Markdown blockquote body: its
    paragraphs separated by an empty quote line."""
    return f"\n{prefix.rstrip()}\n{prefix}".join(md_escape(p) for p in str(text).split("\n\n"))


def md_segments(segs: list[Any]) -> str:
    """A context turn as Markdown: escaped, line breaks kept as hard breaks, the extracts in
    bold, an ``<a id>`` where each extract starts (the target of its link)."""
    out: list[str] = []
    for seg in segs:
        lead = "".join(f'<a id="{a}"></a>' for a in seg.anchors)
        pieces = []
        for piece in seg.text.split("\n"):
            body = md_escape(piece)
            if seg.marked and piece.strip():
                core = body.strip()
                left = body[:len(body) - len(body.lstrip())]
                right = body[len(body.rstrip()):]
                body = f"{left}**{core}**{right}"
            pieces.append(body)
        out.append(lead + "\\\n".join(pieces))
    return "".join(out)


def _narrative_html(text: Any) -> Any:
    """A memo as safe HTML (rta.narrative escapes every character it does not render)."""
    from markupsafe import Markup

    from rta.narrative import to_html

    return Markup(to_html(str(text)))


def _svg(svg: Any) -> Any:
    """A figure's SVG (drawn by rta.figures, whose text matplotlib escapes) as markup."""
    from markupsafe import Markup

    return Markup(str(svg))


def _audit_line(summary: Any, lang: str) -> str:
    from rta.report_text import audit_line

    return audit_line(str(summary), lang)


def _memo_about(m: Any, lang: str) -> str:
    from rta.report_text import about

    return about(m, lang)


def _narrative_md(text: Any) -> str:
    from rta.narrative import to_markdown

    return to_markdown(str(text))


def environment(template_dir: str | Path | None = None) -> Any:
    """A Jinja environment: the user's folder first (templates left out fall back to rta's),
    autoescape on for HTML templates, undefined names are errors."""
    import jinja2

    from rta.resources import templates_dir

    dirs: list[str] = []
    if template_dir is not None:
        folder = Path(template_dir)
        if not folder.is_dir():
            raise RtaError("template folder not found", path=folder, hint="copy rta's templates/ folder and pass the copy")
        dirs.append(str(folder))
    dirs.append(str(templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        autoescape=lambda name: bool(name) and name.endswith((".html.j2", ".html")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_quote"] = md_quote
    env.filters["md_flow"] = md_flow
    env.filters["md_segments"] = md_segments
    env.filters["narrative"] = _narrative_html
    env.filters["svg"] = _svg
    env.filters["audit_line"] = _audit_line
    env.filters["memo_about"] = _memo_about
    env.filters["narrative_md"] = _narrative_md
    from rta.report import slugify

    env.filters["slug"] = slugify
    return env


def render(data: Any, fmt: str, template_dir: str | Path | None = None, env: Any = None) -> str:
    """Render the report in ``fmt`` ('html' or 'md') with ``report.<fmt>.j2``."""
    import jinja2

    if fmt not in FORMATS:
        raise RtaError(f"unknown report format '{fmt}'", hint="use html, md or html,md")
    env = env or environment(template_dir)
    name = f"report.{fmt}.j2"
    try:
        template = env.get_template(name)
        from rta.report_text import labels

        return template.render(r=data, L=labels(data.lang))
    except jinja2.TemplateSyntaxError as exc:
        raise RtaError(f"template syntax error: {exc.message}", path=exc.filename or name, line=exc.lineno,
                       hint="fix the template, or remove it from --template DIR to use rta's") from None
    except jinja2.TemplateNotFound:
        raise RtaError(f"template {name} not found", path=template_dir, hint="copy rta's templates/") from None
    except jinja2.UndefinedError as exc:
        raise RtaError(f"template {name} uses an unknown value: {exc.message}", path=template_dir,
                       hint="see the fields of rta.report.ReportData") from None
