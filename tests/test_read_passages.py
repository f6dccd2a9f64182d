"""rta read shows suggestions as rta review does: one passage with its ranked codes (each with
its evidence) and the themes they imply, each code decided on its own. Driven with Textual's
pilot over projects whose suggestions come from a real ``rta suggest`` run."""

from __future__ import annotations

import re

import pytest

from rta.audit import audit
from rta.review import passage_views, themes_for
from rta.suggest import SuggestOptions, run_suggest
from read_support import codebook_parsed, drive, keys, suggested_project
from test_suggest_support import pin_pipeline, sample_files

CODE_LINE = re.compile(r"^([ ▸])(\d) (.+)$")


@pytest.fixture
def proj(tmp_path):
    yield from suggested_project(tmp_path)


def to_decide(store, transcript: str, themes_of=None) -> list:
    """The transcript's passages with a code to decide, in text order, as rta review has them."""
    views = passage_views(store, themes_of=themes_of).values()
    return sorted((v for v in views if v.transcript_id == transcript and v.pending), key=lambda v: v.start)


def pane(app) -> str:
    return app.main.query_one("#side").content.plain


def ranked(app) -> list[tuple[int, str, bool]]:
    """(rank, code, marked ▸) of each code line in the side pane."""
    out = []
    for line in pane(app).splitlines():
        m = CODE_LINE.match(line)
        if m:
            out.append((int(m.group(2)), m.group(3), m.group(1) == "▸"))
    return out


def marked(app) -> str:
    return next(code for _rank, code, here in ranked(app) if here)


def status(project, code: str) -> tuple[str, int | None]:
    row = project.store.conn.execute("SELECT status, coding_id FROM suggestions WHERE transcript_id='suggest-k1' "
                                     "AND code=?", (code,)).fetchone()
    return row["status"], row["coding_id"]


def gutter_rows(app, line: int) -> list[str]:
    """The transcript pane's rows of file line ``line`` (the first with its number)."""
    rows = app.main.view.render().plain.splitlines()
    i = next(k for k, r in enumerate(rows) if r[:5].strip() == str(line))
    out = [rows[i]]
    for r in rows[i + 1:]:
        if r[:5].strip():
            break
        out.append(r)
    return out


def row_at(app, offset: int) -> str:
    """The transcript pane's row (as drawn) holding character ``offset``."""
    view = app.main.view
    return view.render().plain.splitlines()[view.row_index_of(offset) - view.top]


def test_the_side_pane_shows_the_passage_with_its_ranked_codes_evidence_and_themes(proj):
    seen = {}

    async def steps(app, pilot):
        await codebook_parsed(app, pilot)
        seen["pane"] = pane(app)
        seen["ranked"] = ranked(app)
        seen["selection"] = app.main.selection

    drive(proj, steps)
    text = seen["pane"]
    # the cursor starts in the informant's first sentence: inside the first passage (lines 8-9)
    assert text.startswith("passage, lines 8-9\n3 of 3 codes to decide\n"), text
    assert seen["ranked"] == [(1, "Forventninger", True), (2, "Støtte", False), (3, "Rolleavklaringer", False)]
    # each code's score and its evidence in short (the words that matched), under it
    assert "▸1 Forventninger\n   0.80 Forventningene\n" in text
    assert " 2 Støtte\n   0.70 stotte\n" in text
    assert " 3 Rolleavklaringer\n   0.60 Veilederrollen\n" in text
    # the themes the codes imply, best first, as rta review ranks them
    store = proj.store
    from rta.codebook_yaml import load_codebook

    view = to_decide(store, "suggest-k1", themes_for(store, load_codebook(proj.codebook_path)))[0]
    assert [s.code for s in view.codes] == ["Forventninger", "Støtte", "Rolleavklaringer"]
    assert view.themes == [("Kommunikasjon", 0.92), ("Kapasitet", 0.7)]
    assert "themes\n Kommunikasjon 0.92\n Kapasitet 0.70\n" in text
    assert (view.start, view.end) != seen["selection"]  # a sentence of it is selected, not the passage


def test_tab_and_shift_tab_move_between_the_passage_codes_and_a_accepts_the_marked_one(proj):
    seen = {}

    async def steps(app, pilot):
        await keys(pilot, "tab")
        seen["tab"] = marked(app)
        await keys(pilot, "shift+tab")
        seen["back"] = marked(app)
        await keys(pilot, "shift+tab")  # round to the last
        seen["round"] = marked(app)
        await keys(pilot, "j")  # the cursor keys still move the cursor: the next sentence, same passage
        seen["after_j"] = marked(app)
        await keys(pilot, "tab", "tab")
        seen["before_a"] = marked(app)
        await keys(pilot, "a")
        seen["message"] = app.main.message
        seen["after_a"] = ranked(app)
        seen["pane"] = pane(app)

    drive(proj, steps)
    assert seen["tab"] == "Støtte" and seen["back"] == "Forventninger" and seen["round"] == "Rolleavklaringer"
    assert seen["after_j"] == "Forventninger"  # a new sentence: the passage's best code first
    assert seen["before_a"] == "Rolleavklaringer"
    assert status(proj, "Rolleavklaringer")[0] == "accepted"
    assert status(proj, "Forventninger") == ("suggested", None) and status(proj, "Støtte") == ("suggested", None)
    assert seen["message"].startswith("accepted suggestion") and "Rolleavklaringer" in seen["message"]
    assert seen["message"].endswith("2 codes of this passage left")
    # the decided code is shown as decided; the marker moved round to the best code left
    coding = status(proj, "Rolleavklaringer")[1]
    assert f" 3 Rolleavklaringer\n   0.60 ✓ accepted #{coding}\n" in seen["pane"]
    assert [(r, c, here) for r, c, here in seen["after_a"] if here] == [(1, "Forventninger", True)]
    assert "2 of 3 codes to decide" in seen["pane"] and "also here (Tab): 1 coding" in seen["pane"]


def test_accepting_one_code_leaves_the_others_pending_and_the_passage_marked_once_with_what_is_left(proj):
    seen = {}

    async def steps(app, pilot):
        seen["rows_before"] = gutter_rows(app, 8)
        rendered = app.main.view.render()
        seen["underlines"] = sorted((s.start, s.end) for s in rendered.spans if "underline" in str(s.style))
        view, doc = app.main.view, app.main.doc
        seen["passage_rows"] = sum(1 for r in view.rows()[view.top:view.top + view.size.height]
                                   for p in doc.passages if r.start < p.end and p.start < r.end)
        await keys(pilot, "a")
        seen["rows_after"] = gutter_rows(app, 8)
        seen["marked"] = marked(app)
        seen["title"] = str(app.main.query_one("#title").render())

    drive(proj, steps)
    # three codes on one passage: one underline per row of the passage, not three overlapping
    # ones, and the number of codes to decide beside its first row
    assert seen["rows_before"][0].startswith("    8│3 S1: Forventningene"), seen["rows_before"]
    underlines = seen["underlines"]
    assert len(underlines) == seen["passage_rows"] == 8  # lines 8-9 and 11-12, two rows each
    assert all(a[1] <= b[0] for a, b in zip(underlines, underlines[1:]))  # none overlaps another
    assert status(proj, "Forventninger")[0] == "accepted"
    assert status(proj, "Støtte")[0] == status(proj, "Rolleavklaringer")[0] == "suggested"
    assert seen["rows_after"][0].startswith("    8▌2 S1: Forventningene"), seen["rows_after"]  # coded, 2 left
    assert seen["marked"] == "Støtte"  # the next code by rank
    assert "5 pending in 2 passages" in seen["title"]


def test_rejecting_and_recoding_each_code_on_its_own_until_the_passage_is_decided(proj):
    seen = {}

    async def steps(app, pilot):
        await keys(pilot, "r")
        seen["rejected"] = app.main.message
        seen["pane_after_r"] = pane(app)
        await keys(pilot, "R", *"Kompetanse", "enter")
        seen["recoded"] = app.main.message
        await keys(pilot, "r")
        seen["last"] = app.main.message
        seen["pane"] = pane(app)
        seen["rows"] = gutter_rows(app, 8)
        seen["passages"] = [(p.start, p.end) for p in app.main.doc.passages]

    drive(proj, steps)
    assert seen["rejected"].startswith("rejected suggestion") and "Forventninger" in seen["rejected"]
    assert " 1 Forventninger\n   0.80 ✗ rejected\n" in seen["pane_after_r"]
    assert "▸2 Støtte" in seen["pane_after_r"]
    assert seen["recoded"].startswith("recoded suggestion") and seen["recoded"].endswith(
        "Kompetanse · 1 code of this passage left")
    assert seen["last"].endswith("passage decided")
    assert status(proj, "Forventninger") == ("rejected", None)
    sid_status, coding = status(proj, "Støtte")
    assert sid_status == "rejected" and coding is not None  # recoded: its span coded with another code
    assert proj.store.conn.execute("SELECT code FROM codings WHERE id=?", (coding,)).fetchone()[0] == "Kompetanse"
    assert status(proj, "Rolleavklaringer") == ("rejected", None)
    # nothing left to decide there: the passage is no longer marked; the pane shows the coding
    assert len(seen["passages"]) == 1
    assert seen["rows"][0].startswith("    8▌  S1:"), seen["rows"]
    assert "Kompetanse" in seen["pane"] and "coder kari" in seen["pane"]
    assert audit(proj.store).ok


def test_undo_shows_the_code_pending_again_where_it_was(proj):
    seen = {}

    async def steps(app, pilot):
        await keys(pilot, "tab", "a")
        seen["after_a"] = marked(app)
        await keys(pilot, "u")
        seen["after_u"] = ranked(app)

    drive(proj, steps)
    assert seen["after_a"] == "Rolleavklaringer"
    assert seen["after_u"] == [(1, "Forventninger", False), (2, "Støtte", True), (3, "Rolleavklaringer", False)]
    assert status(proj, "Støtte") == ("suggested", None)


def test_evidence_theme_and_status_text_is_shown_literally_never_as_markup_or_terminal_control(proj):
    from rta.coding import ensure_codebook_version
    from rta.themes import add_theme

    store = proj.store
    with store.transaction():
        ensure_codebook_version(store, proj.codebook_path, "kari")
        store.conn.execute("UPDATE suggestions SET evidence=? WHERE code='Støtte'",
                           ('[{"indicator": "x", "token": "[bold red]stotte[/] \\u001b[2J", "method": "lemma"}]',))
    add_theme(store, "[red]Samarbeid[/red] \x1b]0;tittel\x07", "kari", codes=["Støtte"])
    seen = {}

    async def steps(app, pilot):
        seen["pane"] = app.main.query_one("#side").content
        app.main.say("no code '[b]Tid\x1b[2J' here")  # a status message naming something from the project
        seen["status"] = app.main.query_one("#status").content.plain

    drive(proj, steps)
    assert seen["status"] == " no code '[b]Tid\\x1b[2J' here"
    text = seen["pane"]
    assert "0.70 [bold red]stotte[/] \\x1b[2J" in text.plain  # shown as written, ESC escaped
    assert " [red]Samarbeid[/red] \\x1b]0;tittel\\x07 0.70" in text.plain
    assert "\x1b" not in text.plain and "\x07" not in text.plain
    def styles_at(needle: str) -> set[str]:
        at = text.plain.index(needle)
        return {str(span.style) for span in text.spans if span.start <= at < span.end}

    assert styles_at("[bold red]stotte") == {"italic"}  # the pane's style for evidence, not the text's
    assert styles_at("[red]Samarbeid") == set()


@pytest.fixture
def sample(tmp_path):
    from rta.project import Project

    project = Project.init(tmp_path / "sample", name="sample", coder="kari")
    project.add_files(sample_files(), coder="kari")
    project = pin_pipeline(project)
    run_suggest(project, SuggestOptions())
    yield project
    project.close()


def test_s_and_S_step_through_the_sample_passage_by_passage(sample):
    store = sample.store
    passages = to_decide(store, "k1-skoleeier")
    assert len(passages) >= 5 and any(len(p.codes) == 3 for p in passages)
    seen = {"spans": [], "codes": [], "count": []}

    async def steps(app, pilot):
        main = app.main
        await keys(pilot, "g", *"t1", "enter")  # the top: before the first passage
        for _ in range(len(passages)):
            await keys(pilot, "s")
            seen["spans"].append(main.selection)
            seen["codes"].append([c for _r, c, _h in ranked(app)])
            seen["count"].append(row_at(app, main.selection[0])[6])
        await keys(pilot, "s")
        seen["end"] = main.message
        await keys(pilot, "S")
        seen["back"] = main.selection

    drive(sample, steps, transcript="k1-skoleeier")
    assert seen["spans"] == [(p.start, p.end) for p in passages]  # each passage once, in text order
    assert seen["codes"] == [[s.code for s in p.codes] for p in passages]  # its codes, best first
    assert seen["count"] == [str(len(p.codes)) for p in passages]
    assert seen["end"] == "no passage with codes to decide after the cursor"
    assert seen["back"] == (passages[-2].start, passages[-2].end)
