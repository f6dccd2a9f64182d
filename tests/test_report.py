"""Reports: every accepted coding once per theme under its role, matrices, escaping, audit
integration (refusal, --allow-unverified, `rta audit --report`), filters and templates."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rta.cli import main
from rta.coding import create_coding, ensure_codebook_version, span_for_turn, uncode
from rta.codebook_yaml import load_codebook
from rta.errors import AuditFailure, RtaError
from rta.project import Project
from rta.report import collect
from rta.report_build import build_report, parse_formats
from rta.report_render import md_escape, render
from rta.themes import from_codebook

DATA = Path(__file__).parent / "data" / "report"

# (transcript, turn, code): the fixture's accepted codings
CODINGS = [
    ("mini-skoleeier", 2, "Uklarhet"),
    ("mini-skoleeier", 2, "Veilederrollen"),
    ("mini-skoleeier", 4, "Brudd"),
    ("mini-skoleeier", 4, "Kompetanse"),
    ("mini-skoleleder", 2, "Kontinuitet"),
    ("mini-skoleleder", 4, "Tid"),
    ("script-skoleeier", 2, "Brudd"),
    ("script-skoleeier", 4, "Rom"),
    ("veileder-b", 2, "Rolleavklaringer"),
    ("veileder-b", 4, "Kontinuitet"),
    ("script-skoleeier", 2, "Identitet"),  # a code in no theme
]
REMOVED = ("mini-skoleleder", 2, "Støtte")  # coded, then removed: never in a report
ROLE_OF = {"mini-skoleeier": "skoleeier", "script-skoleeier": "skoleeier", "mini-skoleleder": "skoleleder",
           "veileder-b": "veileder"}


def build_coded_project(project: Project) -> Project:
    """The shared fixture: four transcripts (S1, R2.1, S3, Vb), the codings above, one removed
    coding, and the codebook's three themes in the store."""
    project.add_files([DATA / "script-skoleeier.txt", DATA / "veileder-b.txt"], coder="tester")
    store = project.store
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "tester")
        for tid, n, code in CODINGS:
            create_coding(store, tid, *span_for_turn(store, tid, n), code, "tester", version)
        removed = create_coding(store, REMOVED[0], *span_for_turn(store, REMOVED[0], REMOVED[1]), REMOVED[2],
                                "tester", version)
        uncode(store, removed, "tester", "wrong code")
    from_codebook(store, load_codebook(project.codebook_path), "tester")
    return project


@pytest.fixture
def coded(project: Project) -> Project:
    return build_coded_project(project)


class _Structure(HTMLParser):
    """Which theme section and role heading each quote stands under."""

    def __init__(self) -> None:
        super().__init__()
        self.theme: str | None = None
        self.role: str | None = None
        self.quotes: list[tuple[str, str | None, str | None]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.theme, self.role = a.get("data-theme"), None
        elif tag == "h3" and self.theme and (a.get("id") or "").startswith("tema-"):
            self.role = a["id"].rsplit("-", 1)[-1]
        elif tag == "blockquote" and "quote" in (a.get("class") or ""):
            self.quotes.append((a["id"], self.theme, self.role))


def _build(project: Project, tmp_path: Path, **kw):
    return build_report(project, ["html", "md"], tmp_path / "out", **kw)


def test_every_passage_appears_once_per_theme_under_its_role_with_all_its_codes(coded: Project, tmp_path: Path) -> None:
    result = _build(coded, tmp_path)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    parser = _Structure()
    parser.feed(html)
    codebook = load_codebook(coded.codebook_path)
    slugs = {"Kommunikasjon": "kommunikasjon", "Kontinuitet": "kontinuitet", "Kapasitet": "kapasitet"}
    rows = coded.store.conn.execute("SELECT id, transcript_id, turn_n, code, status FROM codings").fetchall()
    passages: dict[tuple, list] = {}  # each fixture coding covers a whole turn: a passage is (theme, turn)
    for r in rows:
        for theme in codebook.themes_of(r["code"]):
            if r["status"] == "active":
                passages.setdefault((theme, r["transcript_id"], r["turn_n"]), []).append(r)
    expected = {(f"q-{min(c['id'] for c in cs)}-{slugs[theme]}", theme, ROLE_OF[tid])
                for (theme, tid, _), cs in passages.items()}
    assert sorted(parser.quotes) == sorted(expected)
    assert len(parser.quotes) == len({q[0] for q in parser.quotes})  # each exactly once
    removed_id = coded.store.conn.execute("SELECT id FROM codings WHERE status = 'removed'").fetchone()[0]
    assert f"q-{removed_id}-" not in html
    assert result.data.total_quotes == len(expected) == 10
    # the S1 turn coded Uklarhet and Veilederrollen (both Kommunikasjon) is one extract with both codes
    both = re.search(r'<blockquote class="quote" id="q-1-kommunikasjon"[^>]*data-coding="1 2".*?</blockquote>', html, re.S)
    assert both and "koder: Uklarhet, Veilederrollen" in both.group(0)
    assert "q-2-kommunikasjon" not in html


def test_overlapping_codings_in_one_turn_are_one_passage_with_flowing_text(project: Project) -> None:
    from rta.report import flow, passages

    rows = [{"id": 1, "transcript_id": "a", "revision": 1, "turn_n": 2, "start": 10, "end": 40},
            {"id": 2, "transcript_id": "a", "revision": 1, "turn_n": 2, "start": 30, "end": 60},
            {"id": 3, "transcript_id": "a", "revision": 1, "turn_n": 2, "start": 60, "end": 70},  # touches, no overlap
            {"id": 4, "transcript_id": "a", "revision": 1, "turn_n": 3, "start": 65, "end": 90}]
    assert [[r["id"] for r in p] for p in passages(rows)] == [[1, 2], [3], [4]]
    assert flow("Det var mye\nsom var uklart (...)\n  for oss.\n\nNeste   avsnitt\nher.") == \
        "Det var mye som var uklart (...) for oss.\n\nNeste   avsnitt her."


def test_quotes_follow_the_registry_role_order(coded: Project, tmp_path: Path) -> None:
    _build(coded, tmp_path)
    parser = _Structure()
    parser.feed((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    kontinuitet = [role for _, theme, role in parser.quotes if theme == "Kontinuitet"]
    order = ["skoleeier", "skoleleder", "veileder"]
    assert kontinuitet == sorted(kontinuitet, key=order.index)
    assert set(kontinuitet) == set(order)


def test_quote_text_is_exactly_the_transcript_span(coded: Project, tmp_path: Path) -> None:
    from rta.report_reading import report_quotes

    _build(coded, tmp_path)
    quotes = report_quotes((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    assert quotes
    from rta.report import flow

    broken = 0
    for q in quotes:
        text = coded.store.transcript_text(q.transcript, int(q.revision))
        assert q.text == flow(text[int(q.start):int(q.end)])
        broken += "\n" in text[int(q.start):int(q.end)]
    assert broken and not any("\n" in q.text for q in quotes)  # the transcript's line breaks joined


def test_role_and_group_matrices_count_codings_and_informants(coded: Project, tmp_path: Path) -> None:
    result = _build(coded, tmp_path)
    roles = {row.theme: [(c.codings, c.informants) for c in row.cells] + [(row.total.codings, row.total.informants)]
             for row in result.data.role_matrix.rows}
    assert result.data.role_matrix.columns == ["Skoleeier", "Skoleleder", "Veileder"]
    assert roles["Kontinuitet"] == [(2, 2), (2, 1), (1, 1), (5, 4)]
    assert roles["Kapasitet"] == [(2, 2), (1, 1), (0, 0), (3, 3)]
    assert roles["Kommunikasjon"] == [(2, 1), (0, 0), (1, 1), (3, 2)]
    groups = {row.theme: [c.codings for c in row.cells] for row in result.data.group_matrix.rows}
    assert result.data.group_matrix.columns == ["kommune 1", "kommune 2", "kommune 3", "kommune 4", "(ingen gruppe)"]
    assert groups["Kontinuitet"] == [1, 2, 1, 0, 1]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    row = re.search(r'<table class="matrix" id="matrise-roller">.*?<tr data-theme="Kontinuitet">(.*?)</tr>', html, re.S)
    cells = re.findall(r'data-codings="(\d+)" data-informants="(\d+)"', row.group(1))
    assert cells == [("2", "2"), ("2", "1"), ("1", "1"), ("5", "4")]
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "| [Kontinuitet](#tema-kontinuitet) | 2 (2) | 2 (1) | 1 (1) | 5 (4) |" in md


def test_script_tags_in_a_transcript_are_escaped_in_html_and_markdown(coded: Project, tmp_path: Path) -> None:
    _build(coded, tmp_path)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script" not in md
    assert "&lt;script&gt;" in md
    assert r"\[veilederne\]" in md and r"\*ingenting\*" in md and r"tid \| og" in md


def test_never_quoted_informants_and_unused_codes_are_listed(coded: Project, tmp_path: Path) -> None:
    data = _build(coded, tmp_path).data
    never = {n.code for n in data.never_quoted}
    assert never == {"R1.1", "R1.2", "S2", "R2.2", "R3", "S4", "R4", "Va", "Vc", "Vd", "Ve"}
    assert "Økonomi" in data.codes_never_used and "Tid" not in data.codes_never_used
    assert data.codes_never_used[-1] == "Økonomi"  # Norwegian order
    assert data.codes_in_no_theme == ["Identitet"]


def test_theme_sections_show_definition_concept_origin_and_codes(coded: Project, tmp_path: Path) -> None:
    data = _build(coded, tmp_path).data
    kapasitet = next(t for t in data.themes if t.name == "Kapasitet")
    assert kapasitet.origin_label == "deduktivt" and kapasitet.central_concept
    assert "Tid" in kapasitet.codes and kapasitet.definition
    assert kapasitet.spread == "3 av 15 informanter, 3 av 4 grupper (kommune 1, kommune 2, kommune 3), 2 av 3 roller (Skoleeier, Skoleleder)"


def test_quotes_link_to_their_turn_in_the_transcript_appendix(coded: Project, tmp_path: Path) -> None:
    _build(coded, tmp_path)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    links = set(re.findall(r'class="ctx-link" href="#([^"]+)"', html))
    anchors = set(re.findall(r'<span class="ctx-anchor" id="([^"]+)"></span>', html))
    assert links and links == anchors
    turn = re.search(r'<div class="turn" id="t-veileder-b-4">.*?</div></div>', html, re.S).group(0)
    assert '<span class="ctx-anchor" id="ctx-q-10-kontinuitet"></span><mark>' in turn
    back = re.findall(r'<a href="#(q-[^"]+)">↩ utdraget fra (\S+) i «([^»]+)»</a>', html)
    assert ("q-10-kontinuitet", "Vb", "Kontinuitet") in back
    assert {f"ctx-{a}" for a, _, _ in back} == anchors  # every back-link names the extract it returns to


def test_audit_appendix_records_codebook_coders_and_audit_result(coded: Project, tmp_path: Path) -> None:
    data = _build(coded, tmp_path).data
    assert data.audit.codebook_sha256 == load_codebook(coded.codebook_path).sha256
    assert data.audit.coders == [("tester", 11)]
    assert data.audit.audit_ok and data.audit.audit_summary.startswith("audit passed")
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    visible = re.sub(r"<!--.*?-->", "", md)  # the build's claims (JSON, for rta audit) are a comment
    assert data.audit.codebook_sha256 in md and "revisjonen besto: 23 hendelser, 4 transkripsjonsrevisjoner" in visible
    assert "audit passed" not in visible


def test_report_build_is_logged_with_file_hashes(coded: Project, tmp_path: Path) -> None:
    from rta.fsutil import sha256_text

    result = _build(coded, tmp_path)
    event = coded.store.events(kind="report.built")[-1]
    html = next(p for p in result.paths if p.suffix == ".html")
    assert event.payload["files"][str(html)] == sha256_text(html.read_text(encoding="utf-8"))
    assert event.payload["audit_ok"] is True


def test_report_refuses_a_project_that_fails_the_audit(coded: Project, tmp_path: Path) -> None:
    coded.store.conn.execute("UPDATE transcript_revisions SET text = replace(text, 'brudd', 'BRUDD') "
                             "WHERE transcript_id = 'mini-skoleeier'")
    with pytest.raises(AuditFailure, match="does not pass the audit"):
        _build(coded, tmp_path)
    assert not (tmp_path / "out").exists()


def test_allow_unverified_stamps_every_section(coded: Project, tmp_path: Path) -> None:
    coded.store.conn.execute("UPDATE transcript_revisions SET text = replace(text, 'brudd', 'BRUDD') "
                             "WHERE transcript_id = 'mini-skoleeier'")
    result = _build(coded, tmp_path, allow_unverified=True)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    sections = html.count("<section")
    assert result.data.unverified and sections >= 7
    assert html.count('class="unverified-stamp"') == sections + 1  # each section plus the page banner
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert md.count("**UVERIFISERT:**") == md.count("\n## ") - 1 + 1  # every section but the contents, plus the top


def test_audit_report_passes_on_a_fresh_report_and_names_an_edited_quote(coded: Project, tmp_path: Path, capsys) -> None:
    _build(coded, tmp_path)
    path = tmp_path / "out" / "report.html"
    with pytest.raises(SystemExit) as ok:
        main(["--project", str(coded.root), "audit", "--report", str(path)])
        raise SystemExit(0)
    assert ok.value.code == 0
    assert "report.html: unchanged since it was built (event" in capsys.readouterr().out
    html = path.read_text(encoding="utf-8")
    edited = html.replace("Tid er alltid en utfordring.", "Tid er aldri en utfordring.", 1)
    assert edited != html
    path.write_text(edited, encoding="utf-8")
    tid_coding = coded.store.conn.execute("SELECT id FROM codings WHERE code = 'Tid'").fetchone()[0]
    with pytest.raises(SystemExit) as failed:
        main(["--project", str(coded.root), "audit", "--report", str(path)])
    assert failed.value.code == 1
    out = capsys.readouterr().out
    assert f"coding {tid_coding}" in out and "Tid er aldri" in out


def test_theme_and_role_filters_narrow_the_quotes(coded: Project, tmp_path: Path) -> None:
    data = _build(coded, tmp_path, theme="kontinuitet", role="Veiledere").data
    assert [t.name for t in data.themes] == ["Kontinuitet"]
    assert [g.role for g in data.themes[0].roles] == ["veileder"]
    assert data.total_quotes == 1
    assert data.filters == {"tema": "Kontinuitet", "rolle": "Veileder"}
    assert len(data.role_matrix.rows) == 3  # the overview still covers every theme


def test_unknown_theme_or_role_is_a_clear_error(coded: Project, tmp_path: Path) -> None:
    with pytest.raises(RtaError, match="no theme 'Tillitt'") as exc:
        _build(coded, tmp_path, theme="Tillitt")
    assert "Kommunikasjon" in exc.value.hint
    with pytest.raises(RtaError, match="unknown role 'rektor'") as exc:
        _build(coded, tmp_path, role="rektor")
    assert "skoleleder" in exc.value.hint


def test_bad_format_is_refused() -> None:
    assert parse_formats("html, MD") == ["html", "md"]
    with pytest.raises(RtaError, match="unknown report format 'pdf'"):
        parse_formats("html,pdf")


def test_template_folder_overrides_one_template_and_falls_back_for_the_other(coded: Project, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "report.md.j2").write_text("# Mitt oppsett\n{% for t in r.themes %}- {{ t.name|md }}: {{ t.quotes }}\n"
                                         "{% endfor %}", encoding="utf-8")
    _build(coded, tmp_path, template_dir=folder)
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Mitt oppsett") and "- Kontinuitet: 5" in md
    assert 'class="quote"' in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_template_syntax_error_names_the_file_and_line(coded: Project, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "report.md.j2").write_text("ok\n{% for t in r.themes %}\n", encoding="utf-8")
    with pytest.raises(RtaError, match="template syntax error") as exc:
        _build(coded, tmp_path, template_dir=folder)
    assert exc.value.line == 2 and "report.md.j2" in str(exc.value.path)
    with pytest.raises(RtaError, match="template folder not found"):
        _build(coded, tmp_path, template_dir=tmp_path / "nowhere")


def test_themes_come_from_the_codebook_until_the_project_has_its_own(project: Project, tmp_path: Path) -> None:
    from rta.audit import audit

    with project.store.transaction():
        version = ensure_codebook_version(project.store, project.codebook_path, "tester")
        create_coding(project.store, "mini-skoleeier", *span_for_turn(project.store, "mini-skoleeier", 4), "Brudd",
                      "tester", version)
    data = collect(project.store, project.registry, audit(project.store))
    assert data.audit.themes_source == "codebook"
    assert [t.name for t in data.themes] == ["Kommunikasjon", "Kontinuitet", "Kapasitet"]
    assert "fra kodeboken" in render(data, "html")


def test_markdown_escape_neutralises_links_and_html() -> None:
    assert md_escape("[navn](x) <b>&") == r"\[navn\](x) &lt;b&gt;&amp;"


def test_cli_report_writes_both_formats(coded: Project, tmp_path: Path, capsys) -> None:
    main(["--project", str(coded.root), "report", "--out", str(tmp_path / "cli")])
    out = capsys.readouterr().out
    assert "10 quote(s)" in out
    assert (tmp_path / "cli" / "report.html").is_file() and (tmp_path / "cli" / "report.md").is_file()


def test_cli_report_exits_1_and_says_what_to_do_when_the_audit_fails(coded: Project, tmp_path: Path, capsys) -> None:
    coded.store.conn.execute("UPDATE codings SET quote_sha256 = 'x' WHERE code = 'Tid'")
    with pytest.raises(SystemExit) as exc:
        main(["--project", str(coded.root), "report", "--out", str(tmp_path / "cli")])
    assert exc.value.code == 1
    assert "--allow-unverified" in capsys.readouterr().err
    main(["--project", str(coded.root), "report", "--out", str(tmp_path / "cli"), "--allow-unverified"])
    assert "stamped UNVERIFIED" in capsys.readouterr().err
    assert "UVERIFISERT" in (tmp_path / "cli" / "report.md").read_text(encoding="utf-8")


def test_report_warns_about_identifiers_the_anonymisation_missed(coded: Project, tmp_path: Path, capsys) -> None:
    main(["--project", str(coded.root), "report", "--out", str(tmp_path / "clean")])
    assert "likely identifiers" not in capsys.readouterr().err
    assert "ingen funnet med mønstre og lister" in (tmp_path / "clean" / "report.html").read_text(encoding="utf-8")

    leaky = tmp_path / "lekk.txt"
    leaky.write_text("I: Hvordan kan vi nå deg?\n"
                     "S4: Ring meg på 912 34 567 eller skriv til kari.nordmann@example.no, så tar vi det.\n",
                     encoding="utf-8")
    coded.add_files([leaky], coder="tester")
    main(["--project", str(coded.root), "report", "--out", str(tmp_path / "leaky")])
    err = capsys.readouterr().err
    assert "WARNING: likely identifiers left in 1 transcript(s): lekk (2)" in err
    assert "rta anonymise check" in err
    html = (tmp_path / "leaky" / "report.html").read_text(encoding="utf-8")
    assert re.search(r'id="anonymisering"><strong>Mulige identifikatorer igjen</strong> i lekk \(2\)', html)
    assert "Mulige identifikatorer igjen i lekk (2)" in (tmp_path / "leaky" / "report.md").read_text(encoding="utf-8")
    event = coded.store.conn.execute(
        "SELECT payload FROM events WHERE kind = 'report.built' ORDER BY seq DESC LIMIT 1").fetchone()[0]
    import json

    assert json.loads(event)["unresolved_flags"] == {"lekk": 2}


# Fixed words of rta's own that must not appear in a report of the other language (data such as
# theme, code and role names may, and so may the build's claims in their comment or attribute).
ENGLISH = ["audit passed", "Status:", "Definition", "Contents", "Appendix", "informants", "extracts", "Codes",
           "line ", "Built ", "phase ", "accepted", "Theme", "Total", "(none)", "reflexive", "defined"]
NORWEGIAN = ["Definisjon", "Innhold", "Vedlegg", "informanter", "utdrag", "Koder", "linje", "Bygget", "fase",
             "revisjonen", "Tema ", "Totalt", "ingen", "refleksiv", "kandidattema", "Spredning", "Kodinger"]


def _visible_html(html: str) -> str:
    body = re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S)
    body = re.sub(r'<meta name="rta-report" content="[^"]*">', "", body)
    return re.sub(r"<[^>]+>", " ", body)


def test_a_report_in_english_has_no_norwegian_fixed_text_and_verifies(coded: Project, tmp_path: Path) -> None:
    from rta.memos import add_memo
    from rta.receipts import verify_report

    with coded.store.transaction():
        add_memo(coded.store, "journal", None, "Lest alt.", "tester")
    result = build_report(coded, ["html", "md"], tmp_path / "en", lang="en", title="Findings: continuity")
    html = result.paths[0].read_text(encoding="utf-8")
    md = result.paths[1].read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "<h1>Findings: continuity</h1>" in html and "# Findings: continuity" in md
    data_words = {"Kommunikasjon", "Kontinuitet", "Kapasitet", "Skoleeier", "Skoleleder", "Veileder", "kommune"}
    for text in (_visible_html(html), re.sub(r"<!--.*?-->", "", md)):
        for word in NORWEGIAN:
            hits = [m.start() for m in re.finditer(rf"\b{re.escape(word.strip())}\b", text)]
            leaks = [text[max(0, i - 30):i + 30] for i in hits
                     if not any(d in text[max(0, i - 30):i + 40] for d in data_words)]
            assert not leaks, (word, leaks[:3])
    assert "Appendix B: the extracts in context" in html and "audit passed: " in html and "reflexive journal" in html
    assert "deductive · " in html and "Spread</dt>" in html
    for path in result.paths:
        assert verify_report(coded, path).ok
    copy = tmp_path / "copy.html"
    copy.write_text(html.replace("Appendix B: the extracts in context", "Vedlegg B: utdragene i sammenheng"),
                    encoding="utf-8")
    assert not verify_report(coded, copy).ok


def test_a_norwegian_report_has_no_english_fixed_text(coded: Project, tmp_path: Path) -> None:
    from rta.memos import add_memo

    with coded.store.transaction():
        add_memo(coded.store, "journal", None, "Lest alt.", "tester")
        add_memo(coded.store, "coding", "3", "Tydelig brudd.", "tester")
    result = build_report(coded, ["html", "md"], tmp_path / "nb")
    html, md = (p.read_text(encoding="utf-8") for p in result.paths)
    for text in (_visible_html(html), re.sub(r"<!--.*?-->", "", md)):
        for word in ENGLISH:
            m = re.search(rf"\b{re.escape(word.strip())}\b", text)
            assert m is None, (word, text[max(0, m.start() - 60):m.start() + 60])
    assert "koding 3 Brudd" in html and "revisjonen besto: " in html and "Status: defined" not in html


def test_the_language_and_title_come_from_rta_toml_and_a_bad_language_is_refused(coded: Project, tmp_path: Path,
                                                                                   capsys) -> None:
    toml = coded.root / "rta.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('lang = "nb"', 'lang = "en"')
                    .replace('title = ""', 'title = "Continuity in four municipalities"'), encoding="utf-8")
    main(["--project", str(coded.root), "report", "--out", str(tmp_path / "cfg"), "--format", "html"])
    html = (tmp_path / "cfg" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "<h1>Continuity in four municipalities</h1>" in html
    main(["--project", str(coded.root), "report", "--out", str(tmp_path / "nb"), "--format", "html", "--lang", "nb"])
    assert '<html lang="nb">' in (tmp_path / "nb" / "report.html").read_text(encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["--project", str(coded.root), "report", "--out", str(tmp_path / "x"), "--lang", "sv"])
    assert exc.value.code == 2 and "--lang must be nb or en" in capsys.readouterr().err
    toml.write_text(toml.read_text(encoding="utf-8").replace('lang = "en"', 'lang = "de"'), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["--project", str(coded.root), "report", "--out", str(tmp_path / "y")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "[report] lang must be" in err and "rta.toml" in err
