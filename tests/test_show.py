"""``rta show`` and ``rta codings --context``: a transcript read with its file's line numbers,
turns, speakers and coding markers, checked row by row against the transcript file."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rta.show import Mark, render_text, transcript_view
from test_store_fixtures import run_cli

DATA = Path(__file__).parent / "data" / "transcripts"
ROW = re.compile(r"^(?P<flag>[ >])\s*(?P<line>\d+) \| (?P<turn>.*?) \| (?P<rest>.*)$")
MARKER = re.compile(r"  ((?:\[[#?]\d+ [^\]]+\] ?)+)$")


def _rows(out: str) -> list[dict]:
    """Parse ``rta show`` rows: flag, line number, turn column, text, markers."""
    parsed = []
    for row in out.rstrip("\n").split("\n"):
        m = ROW.match(row)
        assert m, f"not a show row: {row!r}"
        rest = m.group("rest")
        markers: list[str] = []
        mm = MARKER.search(rest)
        if mm:
            markers = re.findall(r"\[[#?]\d+ [^\]]+\]", mm.group(1))
            rest = rest[:mm.start()]
        parsed.append({"flag": m.group("flag"), "line": int(m.group("line")), "turn": m.group("turn").strip(),
                       "text": rest, "markers": markers})
    return parsed


def _code(project, capsys, *args: str) -> None:
    code, _, err = run_cli(capsys, project.root, "code", *args)
    assert code == 0, err


@pytest.fixture
def coded(project, capsys):
    """The mini project with three codings and one pending suggestion."""
    _code(project, capsys, "mini-skoleeier", "--lines", "8-9", "--code", "Uklarhet")      # coding 1
    _code(project, capsys, "mini-skoleeier", "--turn", "4", "--code", "Brudd")            # coding 2
    _code(project, capsys, "mini-skoleleder", "--turn", "4", "--code", "Tid")             # coding 3
    store = project.store
    text = store.transcript_text("mini-skoleeier")
    start = text.index("Det tok tid")
    end = text.index("igjen.") + len("igjen.")
    with store.transaction():
        store.conn.execute(
            "INSERT INTO suggestions(transcript_id, revision, turn_n, start, end, line_start, line_end, code, score, "
            "method, pipeline, created) VALUES ('mini-skoleeier', 1, 4, ?, ?, 12, 12, 'Tid', 0.85, 'lexicon', 'test', "
            "'2026-01-01T00:00:00Z')", (start, end))
    return project


def _dump(project) -> str:
    return hashlib.sha256("\n".join(project.store.conn.iterdump()).encode()).hexdigest()


# -- the rows against the file --------------------------------------------------------------


def test_every_row_is_the_files_line_with_its_number(coded, capsys):
    code, out, err = run_cli(capsys, coded.root, "show", "mini-skoleeier")
    assert code == 0, err
    file_lines = (DATA / "mini-skoleeier.txt").read_text(encoding="utf-8").splitlines()
    rows = _rows(out)
    assert [r["line"] for r in rows] == list(range(1, len(file_lines) + 1))
    assert [r["text"] for r in rows] == file_lines


def test_markers_stand_on_exactly_the_lines_each_coding_covers(coded, capsys):
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier")
    assert code == 0
    rows = _rows(out)
    for cid, code_name, first, last in coded.store.conn.execute(
            "SELECT id, code, line_start, line_end FROM codings WHERE transcript_id='mini-skoleeier'"):
        marker = f"[#{cid} {code_name}]"
        assert [r["line"] for r in rows if marker in r["markers"]] == list(range(first, last + 1))
    assert [r["line"] for r in rows if r["markers"]] == [8, 9, 11, 12]
    assert not any("[?" in m for r in rows for m in r["markers"])  # suggestions only when asked


def test_turn_number_and_speaker_stand_where_each_turn_starts(coded, capsys):
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleleder")
    assert code == 0
    rows = _rows(out)
    assert {r["line"]: r["turn"] for r in rows if r["turn"]} == {7: "T1 I", 8: "T2 R2.1", 10: "T3 I",
                                                                  11: "T4 R2.1"}
    file_lines = (DATA / "mini-skoleleder.txt").read_text(encoding="utf-8").splitlines()
    for r in rows:  # the label the turn column names is the one on that line of the file
        if r["turn"]:
            assert re.match(r"(Intervjuer|R ?2\.1):", file_lines[r["line"] - 1])


# -- options --------------------------------------------------------------------------------


def test_lines_shows_only_those_lines(coded, capsys):
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--lines", "8-9")
    assert code == 0
    rows = _rows(out)
    assert [r["line"] for r in rows] == [8, 9]
    assert rows[0]["turn"] == "T2 S1" and rows[0]["markers"] == ["[#1 Uklarhet]"]


def test_turn_shows_the_turns_lines_and_context_widens_it(coded, capsys):
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--turn", "4")
    assert [r["line"] for r in _rows(out)] == [11, 12]
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--turn", "4", "--context", "1")
    assert [r["line"] for r in _rows(out)] == [10, 11, 12]  # the file ends at line 12


def test_coding_is_shown_in_context_with_its_lines_flagged(coded, capsys):
    code, out, err = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--coding", "1")
    assert code == 0, err
    rows = _rows(out)
    assert [r["line"] for r in rows] == [6, 7, 8, 9, 10, 11]  # two lines of context by default
    assert [r["line"] for r in rows if r["flag"] == ">"] == [8, 9]
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--coding", "1", "--context", "0")
    assert [r["line"] for r in _rows(out)] == [8, 9]


def test_a_removed_coding_can_still_be_shown_where_it_was(coded, capsys):
    code, _, err = run_cli(capsys, coded.root, "uncode", "2", "--reason", "feil kode")
    assert code == 0, err
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier")
    assert not any("#2 " in m for r in _rows(out) for m in r["markers"])
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--coding", "2", "-C", "0")
    assert code == 0
    assert [(r["line"], r["markers"]) for r in _rows(out)] == [(11, ["[#2 Brudd removed]"]),
                                                              (12, ["[#2 Brudd removed]"])]


def test_suggestions_are_marked_with_id_code_and_score_when_asked(coded, capsys):
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--suggestions")
    assert code == 0
    rows = _rows(out)
    assert [r["line"] for r in rows if "[?1 Tid 0.85]" in r["markers"]] == [12]


def test_codes_marks_only_codings_of_those_codes(coded, capsys):
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--codes", "brudd")
    assert code == 0
    marks = {m for r in _rows(out) for m in r["markers"]}
    assert marks == {"[#2 Brudd]"}
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--codes", "Brudd,Uklarhet")
    assert {m for r in _rows(out) for m in r["markers"]} == {"[#1 Uklarhet]", "[#2 Brudd]"}


def test_json_gives_turns_with_their_codings_and_quotes(coded, capsys):
    code, out, err = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--format", "json", "--suggestions")
    assert code == 0, err
    data = json.loads(out)
    assert (data["transcript"], data["revision"], data["lines"], data["line_count"]) == ("mini-skoleeier", 1, [1, 12], 12)
    assert [(t["n"], t["speaker"], t["informant"]) for t in data["turns"]] == [
        (1, "I", None), (2, "S1", "S1"), (3, "I", None), (4, "S1", "S1")]
    text = coded.store.transcript_text("mini-skoleeier")
    turn2, turn4 = data["turns"][1], data["turns"][3]
    assert turn2["text"] == text[turn2["start"]:turn2["end"]] and turn2["text"].startswith("Altså, i starten")
    assert [(c["id"], c["code"], c["line_start"], c["line_end"]) for c in turn2["codings"]] == [(1, "Uklarhet", 8, 9)]
    assert turn4["codings"][0]["quote"] == turn4["text"]
    assert [(s["id"], s["code"], s["score"]) for s in turn4["suggestions"]] == [(1, "Tid", 0.85)]
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--format", "json", "--lines", "10-10")
    assert [t["n"] for t in json.loads(out)["turns"]] == [3]


def test_width_wraps_rows_and_keeps_the_margin_empty_on_continuations(coded, capsys):
    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--width", "50", "--lines", "8-9")
    assert code == 0
    rows = out.rstrip("\n").split("\n")
    assert all(len(r) <= 50 for r in rows)
    assert len(rows) > 2 and rows[1].startswith("     |       | ")
    words = " ".join(r.split(" | ", 2)[2] for r in rows).split()
    original = (DATA / "mini-skoleeier.txt").read_text(encoding="utf-8").splitlines()[7:9]
    assert [w for w in words if not w.startswith("[#") and not w.endswith("]")] == " ".join(original).split()


# -- colour, escapes, pager -----------------------------------------------------------------


def test_no_colour_in_a_pipe_or_with_no_color_or_no_color_option(coded, capsys, monkeypatch):
    from rta.cli.show import use_color

    code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", "--coding", "1")
    assert "\x1b" not in out

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_color(False, Tty()) is True
    assert use_color(False, io.StringIO()) is False
    assert use_color(True, Tty()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(False, Tty()) is False


def test_colour_rows_carry_the_same_text_and_the_coding_in_reverse_video(coded):
    view = transcript_view(coded.store, "mini-skoleeier")
    plain = render_text(view, 8, 9, highlight=1)
    coloured = render_text(view, 8, 9, highlight=1, color=True)
    assert "\x1b[7m" in coloured[0]
    assert [re.sub(r"\x1b\[[0-9;]*m", "", r) for r in coloured] == plain


def test_terminal_escapes_in_a_transcript_are_shown_escaped(coded, capsys):
    store = coded.store
    text = store.transcript_text("mini-skoleeier")
    at = text.index("Vi forventet")
    nasty = "\x1b]0;pwned\x07\x1b[2J\u202e"
    with store.transaction():
        store.conn.execute("UPDATE transcript_revisions SET text=? WHERE transcript_id='mini-skoleeier'",
                           (text[:at] + nasty + text[at + len(nasty):],))
    for args in ((), ("--width", "60"), ("--coding", "1")):
        code, out, _ = run_cli(capsys, coded.root, "show", "mini-skoleeier", *args)
        assert code == 0
        assert not any(ch in out for ch in "\x1b\x07\u202e"), args
        assert "\\x1b]0;pwned\\x07\\x1b[2J\\u202e" in out
    view = transcript_view(store, "mini-skoleeier")
    coloured = "\n".join(render_text(view, highlight=1, color=True))
    assert "\x1b]" not in coloured and "\x07" not in coloured and "\x1b[2J" not in coloured


def test_long_output_on_a_terminal_goes_through_the_pager(monkeypatch, tmp_path, capsys):
    from rta.cli import show as cli_show

    monkeypatch.setattr(cli_show, "_is_tty", lambda stream: True)
    sink = tmp_path / "paged.txt"
    monkeypatch.delenv("RTA_PAGER", raising=False)
    monkeypatch.setenv("PAGER", f"sh -c 'cat > {sink}'")
    rows = [f"row {i}" for i in range(500)]
    cli_show.page(rows)
    assert sink.read_text(encoding="utf-8") == "\n".join(rows) + "\n"
    assert capsys.readouterr().out == ""


def test_a_pager_that_cannot_start_falls_back_to_plain_output(monkeypatch, capsys):
    from rta.cli import show as cli_show

    monkeypatch.setattr(cli_show, "_is_tty", lambda stream: True)
    monkeypatch.setenv("RTA_PAGER", "no-such-pager-rta-test --flag")
    rows = [f"row {i}" for i in range(500)]
    cli_show.page(rows)
    assert capsys.readouterr().out == "\n".join(rows) + "\n"


# -- rta codings --context --------------------------------------------------------------------


def test_codings_context_prints_each_quote_with_lines_around_it(coded, capsys):
    code, out, err = run_cli(capsys, coded.root, "codings", "--transcript", "mini-skoleeier", "--context", "1")
    assert code == 0, err
    blocks = out.split("\n\n")
    assert blocks[0].startswith("#1 ") and blocks[1].startswith("#2 ")
    first = _rows(blocks[0].split("\n", 1)[1])
    assert [(r["line"], r["flag"]) for r in first] == [(7, " "), (8, ">"), (9, ">"), (10, " ")]
    assert [r["markers"] for r in first if r["markers"]] == [["[#1 Uklarhet]"], ["[#1 Uklarhet]"]]
    file_lines = (DATA / "mini-skoleeier.txt").read_text(encoding="utf-8").splitlines()
    assert [r["text"] for r in first] == file_lines[6:10]
    code, out, _ = run_cli(capsys, coded.root, "codings", "--code", "Tid", "--context", "0", "--format", "json")
    item = json.loads(out)[0]
    assert item["context"] == {"line_start": 11, "line_end": 11, "lines": (DATA / "mini-skoleleder.txt").read_text(
        encoding="utf-8").splitlines()[10:11]}


# -- bad input: exit 2, a clear message, nothing written -----------------------------------------


@pytest.mark.parametrize("args, message", [
    (("show", "mini-skoleier"), "did you mean mini-skoleeier?"),
    (("show", "mini-skoleeier", "--lines", "10-99"), "lines 10-99 are outside transcript 'mini-skoleeier' (12 lines)"),
    (("show", "mini-skoleeier", "--lines", "0-3"), "outside transcript"),
    (("show", "mini-skoleeier", "--lines", "9-8"), "the first line is after the last"),
    (("show", "mini-skoleeier", "--lines", "ti"), "cannot read --lines 'ti'"),
    (("show", "mini-skoleeier", "--coding", "99"), "no coding with id 99"),
    (("show", "mini-skoleeier", "--coding", "3"), "coding #3 is a coding of 'mini-skoleleder'"),
    (("show", "mini-skoleeier", "--turn", "9"), "has no turn 9 (it has 4)"),
    (("show", "mini-skoleeier", "--revision", "5"), "has no revision 5"),
    (("show", "mini-skoleeier", "--turn", "2", "--lines", "1-2"), "at most one of --lines, --turn and --coding"),
    (("show", "mini-skoleeier", "--context", "-1", "--turn", "2"), "--context -1 is negative"),
    (("show", "mini-skoleeier", "--codes", "Brud"), "unknown code 'Brud' in --codes"),
    (("show", "mini-skoleeier", "--format", "xml"), "unknown format 'xml'"),
    (("codings", "--context", "-2"), "--context -2 is negative"),
])
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(coded, capsys, args, message):
    before = _dump(coded)
    code, out, err = run_cli(capsys, coded.root, *args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert _dump(coded) == before


def test_mark_markers_name_id_code_and_score():
    coding = Mark("coding", 17, "Tid", 0, 5, 1, 1, 1, "active")
    suggestion = Mark("suggestion", 12, "Tid", 0, 5, 1, 1, 1, "suggested", score=0.853)
    assert (coding.marker, suggestion.marker) == ("[#17 Tid]", "[?12 Tid 0.85]")


def test_the_demo_leaves_a_project_where_show_works_at_once(tmp_path, capsys):
    from rta.demo import run_demo_result

    lines: list[str] = []
    result = run_demo_result(tmp_path / "studie", echo=lines.append, use_nlp=False)
    assert "rta show k1-skoleeier" in lines[-1] and str(result.root) in lines[-1]
    code, out, err = run_cli(capsys, result.root, "show", "k1-skoleeier")
    assert code == 0, err
    rows = _rows(out)
    assert [r["line"] for r in rows if "[#1 Forventninger]" in r["markers"]]  # the scripted coding of turn 2
    assert rows[7]["turn"] == "T1 I"


def test_revision_shows_the_older_text_and_the_current_one_follows_the_coding(tmp_path, capsys):
    from test_store_fixtures import code_quote, rektor_project

    project, src = rektor_project(tmp_path)
    old_lines = src.read_text(encoding="utf-8").splitlines()
    cid = code_quote(project, "k3-rektor", "en felles forståelse", "Forståelse")
    new_text = src.read_text(encoding="utf-8").replace("I: Kan du fortelle", "I: Velkommen.\nI: Kan du fortelle")
    src.write_text(new_text, encoding="utf-8")
    project.add_files([src], coder="tester")
    code, out, err = run_cli(capsys, project.root, "show", "k3-rektor", "--revision", "1")
    assert code == 0, err
    assert [r["text"] for r in _rows(out)] == old_lines
    code, out, _ = run_cli(capsys, project.root, "show", "k3-rektor")
    rows = _rows(out)
    assert [r["text"] for r in rows] == new_text.splitlines()
    before = next(i for i, line in enumerate(old_lines, 1) if "en felles forståelse" in line)
    assert [r["line"] for r in rows if f"[#{cid} Forståelse]" in r["markers"]] == [before + 1]
    project.close()


HEAVY = ("spacy", "pandas", "numpy", "yaml", "pydantic", "re2", "rapidfuzz", "jinja2", "docx", "openpyxl",
         "cryptography", "textual", "xmlschema", "rich")


def test_show_in_a_new_process_imports_no_heavy_library(coded):
    """`rta show` pays only start-up and its own work (issue 16: under 0.5 s end to end): opening
    a project to read loads no YAML, regex engine, NLP, template, office or terminal-app library."""
    probe = (
        "import sys\nfrom rta.cli import main\n"
        f"try:\n    main(['-P', {str(coded.root)!r}, 'show', 'mini-skoleeier', '--suggestions', '--codes', 'Tid'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print('IMPORTED', sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert "[?1 Tid 0.85]" in done.stdout  # the command ran: the pending suggestion is marked
    assert done.stdout.rstrip().splitlines()[-1] == "IMPORTED []"
