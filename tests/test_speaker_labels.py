"""The speaker-label rule: every line that looks like a label is a known speaker or an error.

Nothing an informant says may silently become part of another speaker's turn (rta.labels).
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rta.cli import main
from rta.errors import RtaError
from rta.informants import default_registry, load_registry
from rta.transcripts import _FORMAT_CHARS, normalise_text, parse_text

REG = default_registry()


def _turns(text: str, registry=REG) -> list[tuple[str | None, str]]:
    return [(t.code, t.text) for t in parse_text(text, registry).turns]


@pytest.mark.parametrize(
    "line",
    [
        "s1: ja, det var sånn",  # lower case code
        "  S1: ja, det var sånn",  # indented
        "\tS1: ja, det var sånn",
        "\u200bS1: ja, det var sånn",  # zero-width space before
        "S\u200b1: ja, det var sånn",  # zero-width space inside
        "\u202eS1: ja, det var sånn",  # right-to-left override before
        "\u200eS\u00ad1 : ja, det var sånn",  # LRM, soft hyphen, space before the colon
        "[00:00:01] S1: ja, det var sånn",  # timestamp first
        "(00:01) S1: ja, det var sånn",
        "00:00:01 S1: ja, det var sånn",
        "00:00:01 - S1: ja, det var sånn",
        "S1 [00:00:01]: ja, det var sånn",  # timestamp between label and colon
        "S1: [00:00:01] ja, det var sånn",  # timestamp after the colon
        "\ufeffS1: ja, det var sånn",
    ],
)
def test_label_variants_start_the_informants_turn(line: str) -> None:
    turns = _turns("I: Hvordan var det?\n" + line + "\n")
    assert turns == [(None, "Hvordan var det?"), ("S1", "ja, det var sånn")]


def test_timestamp_before_the_label_is_kept_as_metadata() -> None:
    t = parse_text("[00:00:01] I: Hei.\n[00:00:09] S1: Ja.\n", REG)
    assert [(turn.code, turn.timestamp, turn.text) for turn in t.turns] == [
        (None, "00:00:01", "Hei."),
        ("S1", "00:00:09", "Ja."),
    ]


def test_lower_and_upper_case_codes_name_the_registered_informant() -> None:
    t = parse_text("intervjuer: Hei.\nva: Ja.\nVA: Nei.\nr1.1: Tja.\n", REG)
    assert [(turn.speaker, turn.code, turn.role) for turn in t.turns] == [
        ("intervjuer", None, "intervjuer"),
        ("va", "Va", "veileder"),
        ("VA", "Va", "veileder"),
        ("r1.1", "R1.1", "skoleleder"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("S1 og R1.1: vi var enige", "names more than one speaker"),
        ("S1, R1.1: vi var enige", "names more than one speaker"),
        ("S1 & R2.1: vi var enige", "names more than one speaker"),
        ("R9.9: det var sånn", "not in the informant registry"),
        ("X7: det var sånn", "unknown speaker label 'X7'"),
        ("Speaker 1: det var sånn", "unknown speaker label 'Speaker 1'"),
        ("Max Bigman: det var sånn", "unknown speaker label 'Max Bigman'"),
        ("Informant: det var sånn", "unknown speaker label 'Informant'"),
        ("Intervjuer (Kari): det var sånn", "unknown speaker label 'Intervjuer (Kari)'"),
        ("  [00:00:03] Ja: det var sånn", "unknown speaker label 'Ja'"),
        ("\u200bx7: det var sånn", "unknown speaker label 'x7'"),
    ],
)
def test_a_line_that_looks_like_an_unknown_label_is_refused_with_file_and_line(line: str, message: str) -> None:
    with pytest.raises(RtaError) as err:
        parse_text("I: Hvordan var det?\nS1: Ja.\n" + line + "\n", REG, path="intervju.txt")
    assert err.value.line == 3
    assert str(err.value.path) == "intervju.txt"
    assert message in err.value.message
    assert err.value.hint


def test_unknown_label_hint_names_the_nearest_known_labels() -> None:
    with pytest.raises(RtaError) as err:
        parse_text("I: Hei\nR1.3: ja\n", REG)
    assert "R1.1" in err.value.hint or "R1.2" in err.value.hint


@pytest.mark.parametrize(
    "line",
    [
        "Det jeg mener er dette: vi må ha tid.",
        "Kl. 10:30 kom veilederne, se https://example.no/rapport.",
        "så sa hun: nei.",
        "Altså: det var mye.",
        "Og så, til slutt: ingenting.",
        "https://example.no: lenke",
        "10:30 var vi ferdige.",
        "Poenget er (kanskje): tid.",
    ],
)
def test_ordinary_text_with_a_colon_continues_the_turn(line: str) -> None:
    turns = _turns("I: Hei\nS1: Først dette.\n" + line + "\n")
    assert turns == [(None, "Hei"), ("S1", "Først dette.\n" + line)]


def test_other_schemes_work_in_any_case_through_their_registry(tmp_path: Path) -> None:
    reg_file = tmp_path / "reg.yaml"
    reg_file.write_text(
        "roles:\n  - {key: rektor, name: Rektor, pattern: 'Rektor (?P<group>\\d+)', group_format: 'skole {group}'}\n"
        "interviewer_labels: [Forsker]\n",
        encoding="utf-8",
    )
    reg = load_registry(reg_file)
    t = parse_text("forsker: Hei.\nrektor 2: Ja.\nRektor 2: Nei.\n", reg)
    assert [(turn.code, turn.group) for turn in t.turns] == [(None, None), ("Rektor 2", "skole 2"), ("Rektor 2", "skole 2")]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("I: Hei\nS1: ja\x00 nei\n", 2, 7),
        ("I: Hei\x07\nS1: ja\n", 1, 7),
        ("I: Hei\nS1: \x1b]0;tittel\x07ja\n", 2, 5),
        ("I: Hei\nS1: ja\x0c\n", 2, 7),
        ("I: Hei\nS1: ja\x85\n", 2, 7),
    ],
)
def test_control_characters_are_refused_naming_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(RtaError) as err:
        parse_text(text, REG, path="x.txt")
    assert err.value.line == line
    assert f"line {line}, column {column}" in err.value.message


def test_format_characters_are_dropped_and_offsets_refer_to_the_stored_text() -> None:
    t = parse_text("I: He\u200bi\r\n\u202eS1: ja\u00adnei\u2028R1.1: tja\n", REG)
    assert "\u200b" not in t.text and "\u202e" not in t.text and "\u00ad" not in t.text
    for turn in t.turns:
        assert t.text[turn.start : turn.end] == turn.text
        assert t.text.split("\n")[turn.line_start - 1].endswith(turn.text.split("\n")[0])
    assert [(turn.code, turn.text) for turn in t.turns] == [(None, "Hei"), ("S1", "janei"), ("R1.1", "tja")]


def test_zero_width_joiners_are_kept() -> None:
    assert normalise_text("a\u200db\u200cc") == "a\u200db\u200cc"


def test_format_character_table_covers_unicode_category_cf() -> None:
    """The hard-coded table (kept literal for start-up speed) matches this Python's Unicode."""
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        category = unicodedata.category(ch)
        if category == "Cf" and cp not in (0x200C, 0x200D):
            assert _FORMAT_CHARS.match(ch), f"U+{cp:04X} is Cf but not dropped"
        elif _FORMAT_CHARS.match(ch):
            assert category in ("Cf", "Cn"), f"U+{cp:04X} ({category}) dropped but not a format character"


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("informants: 5", "`informants` must be a list"),
        ("group: {a: b}", "`group` must be a single value"),
        ("id: [a, b]", "`id` must be a single value"),
        ("interviewer: [I]", "`interviewer` must be a single value"),
        ("informants: [[R5.1]]", "must be a code or a mapping"),
        ("informants: [{code: [R5.1], role: skoleleder}]", "`code` must be a single value"),
        ("informants: [{code: R5.1, role: skoleleder, group: {k: 5}}]", "`group` must be a single value"),
    ],
)
def test_front_matter_values_of_the_wrong_type_are_refused(front: str, message: str) -> None:
    with pytest.raises(RtaError) as err:
        parse_text(f"---\n{front}\n---\nI: Hei\nS1: Ja\n", REG, path="f.txt")
    assert message in err.value.message
    assert err.value.line == 2


def test_unrecognised_label_is_refused_by_rta_add_and_nothing_is_stored(tmp_path: Path, capsys) -> None:
    main(["init", str(tmp_path / "p"), "--coder", "kari"])
    (tmp_path / "t.txt").write_text("I: Hei\nS1: Ja\nS1 og R1.1: Vi var enige\n", encoding="utf-8")
    db = tmp_path / "p" / "rta.db"
    before = _dump(db)
    with pytest.raises(SystemExit) as exit_:
        main(["-P", str(tmp_path / "p"), "add", str(tmp_path / "t.txt")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "t.txt:3" in err and "more than one speaker" in err and "Traceback" not in err
    assert _dump(db) == before


def _dump(db: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(str(db))
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# Property: every line of a generated transcript belongs to exactly one turn of the right speaker,
# or the file is refused. Labels come in random case, indentation, format characters and with
# timestamps; body lines contain colons and words that are not labels.

_KNOWN = ["S1", "R1.1", "R 2.1", "Va", "Vb", "I", "Intervjuer", "S4"]
_UNKNOWN = ["X9", "R7.7", "Speaker 2", "S1 og Va", "Ukjent Person"]
_FORMAT = ["", "", "\u200b", "\u202e", "\u200e", "\ufeff", "\u00ad", "\u2066"]
_STAMPS = ["", "", "[00:01:02] ", "(12:34) ", "00:00:07 "]
_BODY_WORDS = ["det", "var", "sånn", "vi", "hadde", "tid:", "ja", "nei", "rom", "tenker", "10:30", "altså,", "(...)"]


def _case(label: str, how: int) -> str:
    return [label, label.lower(), label.upper()][how]


@st.composite
def _transcripts(draw):
    turns = []
    for _ in range(draw(st.integers(1, 6))):
        known = draw(st.booleans()) or draw(st.integers(0, 9)) > 0
        label = draw(st.sampled_from(_KNOWN if known else _UNKNOWN))
        # Names in lower case ('ukjent person: ...') cannot be told from speech and are read as
        # text (documented in rta.labels); codes and known labels come in any case.
        how = draw(st.integers(0, 2))
        cased = _case(label, 0 if (not known and " " in label and how == 1) else how)
        fmt = draw(st.sampled_from(_FORMAT))
        inner = draw(st.sampled_from(_FORMAT))
        if len(cased) > 1 and inner:
            pos = draw(st.integers(1, len(cased) - 1))
            cased = cased[:pos] + inner + cased[pos:]
        indent = draw(st.sampled_from(["", "", " ", "\t", "   "]))
        stamp = draw(st.sampled_from(_STAMPS))
        lines = [
            " ".join(draw(st.lists(st.sampled_from(_BODY_WORDS), min_size=1, max_size=6)))
            for _ in range(draw(st.integers(1, 3)))
        ]
        turns.append((label, known, indent + fmt + stamp + cased + ": " + lines[0], lines[1:], lines))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return turns, newline


def _expected_code(label: str) -> str | None:
    if label in ("I", "Intervjuer"):
        return None
    return label.replace(" ", "")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_transcripts())
def test_every_line_belongs_to_one_turn_of_the_right_speaker_or_the_file_is_refused(generated) -> None:
    turns, newline = generated
    raw_lines: list[str] = []
    owners: list[int] = []  # which generated turn each file line belongs to
    for i, (_label, _known, first, rest, _lines) in enumerate(turns):
        for line in [first, *rest]:
            raw_lines.append(line)
            owners.append(i)
    text = newline.join(raw_lines) + newline
    all_known = all(known for _l, known, *_ in turns)
    try:
        t = parse_text(text, REG)
    except RtaError as exc:
        assert not all_known, f"refused a transcript of known labels: {exc}"
        assert exc.line is not None
        # the refused line is the first line with an unknown label
        first_bad = next(i for i, (_l, known, *_x) in enumerate(turns) if not known)
        assert owners[exc.line - 1] == first_bad and raw_lines[exc.line - 1] == turns[first_bad][2]
        return
    assert all_known, "a transcript with an unknown label was accepted"
    assert len(t.turns) == len(turns)
    stored_lines = t.text.split("\n")
    for turn, (label, _known, _first, _rest, lines) in zip(t.turns, turns):
        assert turn.code == _expected_code(label)
        assert turn.text == "\n".join(lines)
        for ln in range(turn.line_start, turn.line_end + 1):
            assert owners[ln - 1] == turn.n - 1
        assert stored_lines[turn.line_end - 1].endswith(lines[-1])
