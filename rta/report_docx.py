"""The report as a Word document (``rta report --format docx``).

The same content as the HTML report: title, per theme its facts, narrative and extracts, the
pictures, the matrices as tables, who is never quoted, the appendix of other extracts, the
extracts in context, the audit appendix and the memos. Only Word's built-in styles are used
(Title, Heading 1-3, Quote, Caption, Table Grid, List Bullet), so a thesis template restyles
it: put a ``report.docx`` in ``--template DIR`` and the report is built on it.

Each extract carries a hidden tag (a run formatted as hidden text) ``[rta:q {...}]`` with its
anchor, coding ids, transcript, revision, span and quote hash, and a bookmark around it; theme
headings carry ``[rta:theme {...}]``; the title carries the build's claims, ``[rta:report {...}]``. ``rta audit --report FILE.docx`` (rta.receipts) and ``rta import-comments``
(rta.comments) read them back with :func:`rta.report_reading.read_docx`.

The body is written as WordprocessingML text and parsed once: python-docx's object API is
kept for what needs the package (pictures, styles, properties), so 20,000 codings stay fast.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from rta.errors import RtaError

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TAG_PREFIX = "[rta:"
_BAD_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: Any) -> str:
    return escape(_BAD_XML.sub("", str(text)))


def attribution(q: Any, L: Any) -> str:
    """The line under an extract: who said it, where, which codes."""
    lines = f"{q.line_start}" + (f"–{q.line_end}" if q.line_end != q.line_start else "")
    text = f"— {q.label}, {q.role_name}" + (f", {q.group}" if q.group else "")
    text += f" · {q.transcript_id}, {L['line']} {lines} · {L['code'] if len(q.codes) == 1 else L['codes']}: "
    text += ", ".join(q.codes)
    if q.origin == "suggested":
        text += f" ({L['from_suggestion']})"
    elif q.origin == "mixed":
        text += f" ({L['partly_suggestion']})"
    if q.superseded_by:
        text += " · " + L["superseded"].format(rev=q.revision, new=q.superseded_by)
    return text


def quote_tag(q: Any) -> str:
    """The hidden tag an extract carries: what ``rta audit --report`` checks it against."""
    return TAG_PREFIX + "q " + json.dumps({"a": q.anchor, "c": q.coding_ids or [q.coding_id], "t": q.transcript_id,
                                           "r": q.revision, "s": q.start, "e": q.end, "h": q.sha256},
                                          ensure_ascii=False, separators=(",", ":")) + "]"


class _Body:
    """WordprocessingML paragraphs and tables as text, with the document's style ids."""

    def __init__(self, styles: dict[str, str]) -> None:
        self.parts: list[str] = []
        self.styles = styles
        self.bookmark = 0

    def p(self, text: str = "", style: str | None = None, runs: list[tuple[str, str]] | None = None,
          hidden: str | None = None, bookmark: str | None = None) -> None:
        """A paragraph: ``runs`` are (text, 'b'|'i'|'') pairs; ``hidden`` a hidden tag first."""
        ppr = f'<w:pPr><w:pStyle w:val="{self.styles[style]}"/></w:pPr>' if style else ""
        body = []
        if hidden:
            body.append(f'<w:r><w:rPr><w:vanish/></w:rPr><w:t xml:space="preserve">{_x(hidden)}</w:t></w:r>')
        if bookmark:
            self.bookmark += 1
            body.append(f'<w:bookmarkStart w:id="{self.bookmark}" w:name="{bookmark}"/>')
        for t, fmt in runs if runs is not None else [(text, "")]:
            rpr = "<w:rPr><w:b/></w:rPr>" if fmt == "b" else "<w:rPr><w:i/></w:rPr>" if fmt == "i" else ""
            body.append(f'<w:r>{rpr}<w:t xml:space="preserve">{_x(t)}</w:t></w:r>')
        if bookmark:
            body.append(f'<w:bookmarkEnd w:id="{self.bookmark}"/>')
        self.parts.append(f"<w:p>{ppr}{''.join(body)}</w:p>")

    def table(self, header: list[str], rows: list[list[str]], caption: str | None = None) -> None:
        if caption:
            self.p(caption, "Caption")
        def cell(text: str, bold: bool = False) -> str:
            rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
            return (f'<w:tc><w:p><w:r>{rpr}<w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p></w:tc>')
        head = "<w:tr><w:trPr><w:tblHeader/></w:trPr>" + "".join(cell(h, True) for h in header) + "</w:tr>"
        body = "".join("<w:tr>" + "".join(cell(c) for c in row) + "</w:tr>" for row in rows)
        self.parts.append(f'<w:tbl><w:tblPr><w:tblStyle w:val="{self.styles["Table Grid"]}"/>'
                          f'<w:tblW w:w="0" w:type="auto"/></w:tblPr>{head}{body}</w:tbl>')


def _quote(b: _Body, q: Any, L: Any) -> None:
    paragraphs = q.flow.split("\n\n")
    for i, para in enumerate(paragraphs):
        runs = [(f"{q.label}: ", "b"), (para, "")] if i == 0 else [(para, "")]
        b.p(style="Quote", runs=runs, hidden=quote_tag(q) if i == 0 else None,
            bookmark=("rta_" + q.anchor.replace("-", "_"))[:40] if i == 0 else None)
    b.p(attribution(q, L), "Quote")
    if q.note:
        b.p(f"{L['chosen_because']}: {q.note}", runs=[(f"{L['chosen_because']}: {q.note}", "i")])


def _narrative(b: _Body, text: str) -> None:
    from rta.narrative import parse

    for block in parse(text):
        runs = [(r.text, "b" if r.bold else "i" if r.italic else "") for r in block.runs]
        b.p(style="List Bullet" if block.kind == "li" else None, runs=runs)


def _matrix(b: _Body, m: Any, L: Any) -> None:
    rows = [[r.theme] + [f"{c.codings} ({c.informants})" if c.codings else "–" for c in r.cells]
            + [f"{r.total.codings} ({r.total.informants})"] for r in m.rows]
    b.table([L["theme"], *m.columns, L["total"]], rows, f"{m.title}: {L['matrix_caption']}")


def _base(template_dir: str | Path | None) -> Any:
    import docx

    if template_dir is not None and (Path(template_dir) / "report.docx").is_file():
        path = Path(template_dir) / "report.docx"
        try:
            doc = docx.Document(str(path))
        except Exception as exc:  # python-docx raises several kinds for a file that is no Word document
            raise RtaError(f"cannot read the Word template ({exc})", path=path,
                           hint="save a .docx from Word as report.docx in the template folder") from None
        body = doc.element.body
        for child in list(body):
            if not child.tag.endswith("}sectPr"):
                body.remove(child)
        return doc
    return docx.Document()


def _style_ids(doc: Any) -> dict[str, str]:
    out = {}
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Quote", "Caption", "Table Grid", "List Bullet"):
        try:
            out[name] = doc.styles[name].style_id
        except KeyError:
            raise RtaError(f"the Word template has no built-in style '{name}'",
                           hint="use a template made from Word's normal template (its built-in styles)") from None
    out[None] = ""  # type: ignore[index]
    return out


def render_docx(data: Any, template_dir: str | Path | None = None) -> bytes:
    """The report as .docx bytes."""
    from docx.oxml import parse_xml
    from docx.shared import Inches

    from rta.report_text import about, audit_line, labels

    L = labels(data.lang)
    doc = _base(template_dir)
    b = _Body(_style_ids(doc))
    H1, H2, H3 = "Heading 1", "Heading 2", "Heading 3"
    b.p(data.title + (f" ({L['unverified']})" if data.unverified else ""), "Title",
        hidden=TAG_PREFIX + "report " + data.claims_json_plain() + "]")
    if data.unverified:
        b.p(runs=[(f"{L['unverified']}: {L['unverified_text']}", "b")])
    b.p(f"{L['built_with'].format(built=data.built, version=data.audit.rta_version)} · {len(data.themes)} "
        f"{L['n_themes']} · {data.total_quotes} {L['extracts']} "
        f"{L['from_of'].format(n=data.informants_quoted, total=data.informants_total)}"
        + (" · " + L["selection"] + ": " + ", ".join(f"{L['filter_names'][k]} = {v}" for k, v in data.filters.items())
           if data.filters else ""))
    for t in data.themes:
        b.p(t.name, H1, hidden=TAG_PREFIX + "theme " + json.dumps({"name": t.name, "slug": t.slug},
                                                                  ensure_ascii=False) + "]")
        facts = [(L["definition"], t.definition or L["not_defined"]), (L["concept"], t.central_concept or L["not_formulated"]),
                 (L["origin"], f"{t.origin_label} · {t.status_label}" + (f" · {L['opposite']}: {t.opposite}" if t.opposite else "")),
                 (L["codes_label"], ", ".join(t.codes) or L["none"]), (L["spread"], t.spread)]
        for k, v in facts:
            b.p(runs=[(f"{k}: ", "b"), (v, "")])
        for m in t.narrative:
            _narrative(b, m.text)
        if t.selection == "none":
            b.p(runs=[(L["no_codings"] + (L["in_selection"] if data.filters else "") + ".", "i")])
        else:
            note = (f"{L['auto_1']} (rta feature). {L['auto_2'].format(n=data.auto_pick)}" if t.selection == "auto"
                    else L["featured_note"])
            if t.others:
                note += f" {L['others_in']} {L['appendix_a']}, «{t.name}»."
            b.p(runs=[(note, "i")])
        for g in t.shown:
            if g.role is not None:
                b.p(f"{g.name} ({len(g.quotes)} {L['extracts']}, {', '.join(g.informants)})", H2)
            for q in g.quotes:
                _quote(b, q, L)
    section = TAG_PREFIX + "section {}]"
    b.p(L["overview"], H1, hidden=section.format("oversikt"))
    b.p(L["matrix_note"])
    pictures = []
    for f in data.figures:
        pictures.append(len(b.parts))
        b.parts.append("")  # the picture paragraph, made with python-docx below
        b.p(f"{f.title}. {f.caption}", "Caption")
    _matrix(b, data.role_matrix, L)
    _matrix(b, data.group_matrix, L)
    b.p(L["never_section"], H1, hidden=section.format("ikke-sitert"))
    if data.never_quoted:
        b.table([L["col_informant"], L["col_role"], L["col_group"], L["col_words"]],
                [[n.code, n.role_name, n.group or "–", str(n.words) if n.words else L["not_interviewed"]]
                 for n in data.never_quoted], L["never_caption"])
    else:
        b.p(L["all_quoted"])
    b.p(runs=[(f"{L['unused_codes']}: ", "b"), (", ".join(data.codes_never_used) or L["all_used"], "")])
    if data.codes_in_no_theme:
        b.p(runs=[(f"{L['codes_no_theme']}: ", "b"), (", ".join(data.codes_in_no_theme), "")])
    if any(t.others for t in data.themes):
        b.p(L["app_a"], H1, hidden=section.format("vedlegg-utdrag"))
        b.p(L["app_a_intro"])
        for t in data.themes:
            if not t.others:
                continue
            b.p(t.name, H2, hidden=TAG_PREFIX + "theme " + json.dumps({"name": t.name, "slug": t.slug},
                                                                      ensure_ascii=False) + "]")
            for g in t.others:
                b.p(f"{g.name} ({len(g.quotes)} {L['extracts']}, {', '.join(g.informants)})", H3)
                for q in g.quotes:
                    _quote(b, q, L)
    b.p(L["app_b"], H1, hidden=section.format("vedlegg-transkripsjoner"))
    b.p(L["app_b_intro"].split(" ↩")[0])
    for tr in data.transcripts:
        b.p(f"{tr.id} ({L['revision']} {tr.revision}"
            + (f", {L['superseded_by']} {tr.superseded_by}" if tr.superseded_by else "") + ")", H2)
        for turn in tr.turns:
            if turn.gap_before:
                b.p("…")
            lines = f"{turn.line_start}" + (f"–{turn.line_end}" if turn.line_end != turn.line_start else "")
            runs = [(f"{lines}  ", ""), (f"{turn.speaker}: ", "b")]
            runs += [(seg.text, "b" if seg.marked else "") for seg in turn.segments]
            b.p(runs=runs)
    b.p(L["app_c"], H1, hidden=section.format("vedlegg-revisjon"))
    a = data.audit
    audit_rows = [
        (L["built"], f"{data.built} (rta {a.rta_version}, {L['phase']} {a.phase})"),
        (L["codebook"], f"{a.codebook_name}, {L['version']} {a.codebook_version}, sha256 {a.codebook_sha256}"
         if a.codebook_name else L["none_imported"]),
        (L["nlp_models"], "; ".join(f"{n} ({c} {L['suggestions_n']})" for n, c in a.pipelines) or L["no_suggestions"]),
        (L["suggestions"], f"{a.suggestions.get('accepted', 0)} {L['accepted']}, {a.suggestions.get('rejected', 0)} "
                           f"{L['rejected']}, {a.suggestions.get('suggested', 0)} {L['not_reviewed']}"),
        (L["codings"], f"{data.total_codings} {L['accepted_pl']} ({a.codings_by_origin.get('manual', 0)} {L['manual']}, "
                       f"{a.codings_by_origin.get('suggested', 0)} {L['from_accepted']})"),
        (L["coders"], ", ".join(f"{n} ({c})" for n, c in a.coders) or "–"),
        (L["audit"], audit_line(a.audit_summary, data.lang)),
    ]
    if a.log_head:
        audit_rows.insert(6, (L["log_head"], a.log_head))
    for k, v in audit_rows:
        b.p(runs=[(f"{k}: ", "b"), (v, "")])
    if a.audit_failures:
        b.p(L["failures_note"])
        for f in a.audit_failures:
            b.p(f, "List Bullet")
    b.p(f"{L['verify_note']} rta audit --report report.docx.")
    if data.memos:
        b.p(L["app_d"], H1, hidden=section.format("vedlegg-memoer"))
        for m in data.memos:
            b.p(runs=[(about(m, data.lang), "b"), (f" · {m.created} · {L['phase']} "
                                                  f"{m.phase if m.phase is not None else '–'} · {m.coder or L['unknown']}", "")])
            b.p(m.text.strip())
    # pictures: python-docx makes their paragraphs (it owns the image parts), moved into place
    body = doc.element.body
    for i, f in zip(pictures, data.figures):
        para = doc.add_paragraph()
        para.add_run().add_picture(io.BytesIO(f.png()), width=Inches(6))
        from lxml import etree

        b.parts[i] = etree.tostring(para._p, encoding="unicode")
        body.remove(para._p)
    xml = f'<w:body xmlns:w="{W_NS}" ' \
          'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" ' \
          'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" ' \
          'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture" ' \
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' + "".join(b.parts) + "</w:body>"
    parsed = parse_xml(xml)
    sect = body.find(f"{{{W_NS}}}sectPr")
    for child in list(parsed):
        if sect is not None:
            sect.addprevious(child)
        else:
            body.append(child)
    props = doc.core_properties
    props.title = data.title[:250]
    props.identifier = data.build_id
    props.language = "nb-NO" if data.lang == "nb" else "en-GB"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
