"""Parsing transcripts into turns: offsets, lines, normalisation, front matter, timestamps."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rta.errors import RtaError
from rta.informants import default_registry, load_registry
from rta.transcripts import normalise_text, parse_file, parse_text, read_text

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "transcripts_sample").glob("*.txt")) + sorted((REPO / "transcripts_sample").glob("*.md"))
SAMPLES = [p for p in SAMPLES if p.name != "README.md"]
REG = default_registry()


def _check_turns_against_file(path: Path, transcript) -> None:
    """Every turn's offsets select its text, and its line numbers point at the file's lines."""
    raw_lines = read_text(path).split("\n")
    for turn in transcript.turns:
        assert transcript.text[turn.start : turn.end] == turn.text
        first_line = raw_lines[turn.line_start - 1]
        last_line = raw_lines[turn.line_end - 1]
        assert turn.text.split("\n")[0] in first_line
        assert turn.text.split("\n")[-1] in last_line
        assert turn.line_end - turn.line_start == turn.text.count("\n")


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_turn_has_offsets_and_lines_that_match_the_file(path: Path) -> None:
    transcript = parse_file(path, REG)
    assert transcript.turns, path
    assert transcript.informants, "each sample has at least one informant"
    _check_turns_against_file(path, transcript)


def test_label_variants_are_normalised_and_raw_form_kept() -> None:
    text = "I: Hei.\nS3:Så det begynte.\nR1.1:(...) ja.\nR 2.1: Tja.\nVa: Nei.\n"
    t = parse_text(text, REG)
    got = [(turn.speaker, turn.code, turn.role, turn.group, turn.text) for turn in t.turns]
    assert got == [
        ("I", None, "intervjuer", None, "Hei."),
        ("S3", "S3", "skoleeier", "kommune 3", "Så det begynte."),
        ("R1.1", "R1.1", "skoleleder", "kommune 1", "(...) ja."),
        ("R 2.1", "R2.1", "skoleleder", "kommune 2", "Tja."),
        ("Va", "Va", "veileder", None, "Nei."),
    ]


def test_interviewer_is_a_speaker_but_never_an_informant() -> None:
    t = parse_text("Intervjuer: Spørsmål?\nS1: Svar.\nInt: Takk.\n", REG)
    assert [turn.is_interviewer for turn in t.turns] == [True, False, True]
    assert t.informants == ["S1"]


def test_turn_continues_over_lines_until_next_label_and_keeps_colons_in_text() -> None:
    text = "I: Spørsmål\nS1: Første linje\nandre linje: med kolon\n\nnytt avsnitt\nI: Neste"
    t = parse_text(text, REG)
    assert t.turns[1].text == "Første linje\nandre linje: med kolon\n\nnytt avsnitt"
    assert (t.turns[1].line_start, t.turns[1].line_end) == (2, 5)


def test_timestamps_in_both_forms_become_metadata_not_text() -> None:
    t = parse_text("I: [00:12:34] Hei.\nS1: (12:40) Hallo.\nI: Uten tid.\n", REG)
    assert [(turn.timestamp, turn.text) for turn in t.turns] == [
        ("00:12:34", "Hei."),
        ("12:40", "Hallo."),
        (None, "Uten tid."),
    ]


def test_normalisation_drops_bom_unifies_line_ends_and_composes_unicode() -> None:
    decomposed = "S1: Sto\u0308tte og a\u030a"  # ö / å written as base + combining mark
    raw = "\ufeffI: Hei\r\n" + decomposed + "\rI: Slutt"
    t = parse_text(raw, REG)
    assert "\r" not in t.text and not t.text.startswith("\ufeff")
    assert t.turns[1].text == "Stötte og å"
    assert normalise_text(raw) == t.text
    assert t.text[t.turns[1].start : t.turns[1].end] == "Stötte og å"


def test_front_matter_sets_id_metadata_and_offsets_count_from_file_start(tmp_path: Path) -> None:
    path = tmp_path / "fil.txt"
    path.write_text("---\nid: k9-test\ndate: 2021-05-01\ninterviewer: I\ngroup: kommune 1\n---\nI: Hei.\nS1: Svar.\n", encoding="utf-8")
    t = parse_file(path, REG)
    assert t.id == "k9-test"
    assert t.metadata["date"] == "2021-05-01"
    assert t.turns[0].line_start == 7
    assert t.text[t.turns[1].start : t.turns[1].end] == "Svar."


def test_id_defaults_to_file_name_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "k2-skoleeier.md"
    path.write_text("I: Hei.\nS2: Svar.\n", encoding="utf-8")
    assert parse_file(path, REG).id == "k2-skoleeier"


def test_front_matter_can_declare_an_informant_missing_from_the_registry() -> None:
    text = "---\ninformants:\n  - {code: R5.1, role: skoleleder, group: kommune 5}\n---\nI: Hei.\nR5.1: Hallo.\n"
    t = parse_text(text, REG)
    assert (t.turns[1].code, t.turns[1].role, t.turns[1].group) == ("R5.1", "skoleleder", "kommune 5")


def test_docx_transcripts_are_read_paragraph_by_paragraph(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    for line in ["I: Hvordan gikk forfasen?", "S4: Det var en del uklarhet i starten.", "Men det løsnet.", "I: Takk."]:
        document.add_paragraph(line)
    path = tmp_path / "intervju.docx"
    document.save(str(path))
    t = parse_file(path, REG)
    assert t.id == "intervju"
    assert [turn.code for turn in t.turns] == [None, "S4", None]
    assert t.turns[1].text == "Det var en del uklarhet i starten.\nMen det løsnet."
    assert (t.turns[1].line_start, t.turns[1].line_end) == (2, 3)


def test_other_labelling_schemes_work_through_the_registry_alone(tmp_path: Path) -> None:
    reg_path = tmp_path / "reg.yaml"
    reg_path.write_text(
        "name: Annen studie\ninterviewer_labels: [Forsker]\nroles:\n"
        "  - {key: skoleeier, name: Skoleeier, pattern: 'Skoleeier [A-Z]'}\n"
        "  - {key: rektor, name: Rektor, pattern: 'Rektor \\d+'}\n"
        "  - {key: uh, name: UH, pattern: 'UH\\d+'}\n",
        encoding="utf-8",
    )
    reg = load_registry(reg_path)
    t = parse_text("Forsker: Hei.\nSkoleeier A: Ja.\nRektor 2: Nei.\nUH1: Kanskje.\n", reg)
    assert [(turn.code, turn.role) for turn in t.turns] == [
        (None, "intervjuer"),
        ("Skoleeier A", "skoleeier"),
        ("Rektor 2", "rektor"),
        ("UH1", "uh"),
    ]


# -- bad input: each names the file and line --------------------------------------------


def _error(text: str, tmp_path: Path, name: str = "t.txt", registry=REG) -> RtaError:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RtaError) as info:
        parse_file(path, registry)
    assert str(path) in str(info.value)
    return info.value


def test_unknown_speaker_label_names_line_and_suggests_nearest_codes(tmp_path: Path) -> None:
    err = _error("I: Hei.\nS1: Ja.\nR1.3: Nei.\n", tmp_path)
    assert err.line == 3
    assert "R1.3" in err.message
    assert "R1.1" in (err.hint or "")


def test_text_before_first_speaker_label_is_an_error(tmp_path: Path) -> None:
    err = _error("Intervju med skoleeier\nI: Hei.\nS1: Ja.\n", tmp_path)
    assert err.line == 1 and "before the first speaker label" in err.message


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    err = _error("\n  \n", tmp_path)
    assert "empty" in err.message


def test_malformed_front_matter_names_the_yaml_line(tmp_path: Path) -> None:
    err = _error("---\nid: x\ndate: [2021\n---\nI: Hei.\n", tmp_path)
    assert "YAML" in err.message and err.line is not None and 2 <= err.line <= 4


def test_unclosed_front_matter_is_an_error(tmp_path: Path) -> None:
    err = _error("---\nid: x\nI: Hei.\n", tmp_path)
    assert "not closed" in err.message


def test_label_matching_two_roles_is_an_error(tmp_path: Path) -> None:
    reg_path = tmp_path / "reg.yaml"
    reg_path.write_text(
        "roles:\n  - {key: a, name: A, pattern: 'X\\d'}\n  - {key: b, name: B, pattern: 'X[0-9]'}\n", encoding="utf-8"
    )
    err = _error("I: Hei.\nX1: Ja.\n", tmp_path, registry=load_registry(reg_path))
    assert err.line == 2 and "more than one role" in err.message


def test_file_that_is_not_utf8_suggests_an_encoding_and_reads_with_it(tmp_path: Path) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes("I: Hei.\nS1: Støtte og forståelse.\n".encode("cp1252"))
    with pytest.raises(RtaError) as info:
        parse_file(path, REG)
    assert info.value.line == 2 and "--encoding cp1252" in (info.value.hint or "")
    assert parse_file(path, REG, encoding="cp1252").turns[1].text == "Støtte og forståelse."


def test_missing_file_and_directory_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(RtaError, match="not found"):
        parse_file(tmp_path / "finnes-ikke.txt", REG)
    with pytest.raises(RtaError, match="directory"):
        parse_file(tmp_path, REG)


# -- property: offsets always select the turn text ----------------------------------------

_labels = st.sampled_from(["I", "Intervjuer", "S1", "R1.1", "R 2.1", "Va", "S3"])
_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøåÆØÅ .,!?()[]-–«»é\u0301\t", min_size=0, max_size=40)
_body = st.lists(_words, min_size=1, max_size=4).map(lambda ls: "\n".join(ls))
_sep = st.sampled_from([": ", ":", ":  "])
_stamp = st.sampled_from(["", "[00:01:02] ", "(12:34) "])
_eol = st.sampled_from(["\n", "\r\n"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_labels, _sep, _stamp, _body), min_size=1, max_size=8), _eol, st.booleans())
def test_property_offsets_select_turn_text_for_any_generated_transcript(turns, eol, bom) -> None:
    lines = []
    for label, sep, stamp, body in turns:
        # a continuation line that looks like "X: ..." would be a label: keep bodies colon-free
        lines.append(f"{label}{sep}{stamp}{body}")
    raw = ("\ufeff" if bom else "") + eol.join(lines)
    t = parse_text(raw, REG)
    assert len(t.turns) == len(turns)
    for turn in t.turns:
        assert t.text[turn.start : turn.end] == turn.text
        assert turn.text == turn.text.strip()
        assert t.line_of(turn.start) == turn.line_start


def test_docx_tables_of_speaker_and_text_become_turns_in_reading_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("I: Vi starter med litt bakgrunn.")
    table = document.add_table(rows=3, cols=2)
    for row, (who, said) in zip(table.rows, [("S4", "Vi var med fra starten."), ("I:", "Og etterpå?"),
                                              ("R 2.1", "Det tok tid.")]):
        row.cells[0].text, row.cells[1].text = who, said
    table.rows[2].cells[1].add_paragraph("Men det løsnet.")
    timed = document.add_table(rows=1, cols=3)
    timed.rows[0].cells[0].text, timed.rows[0].cells[1].text, timed.rows[0].cells[2].text = (
        "00:12:05", "Va", "Vi kom inn i januar.")
    document.add_paragraph("I: Takk for praten.")
    path = tmp_path / "tabell.docx"
    document.save(str(path))
    t = parse_file(path, REG)
    assert [turn.code for turn in t.turns] == [None, "S4", None, "R2.1", "Va", None]
    assert t.turns[3].text == "Det tok tid.\nMen det løsnet."
    assert t.turns[4].text == "Vi kom inn i januar." and t.turns[4].timestamp == "00:12:05"
    for turn in t.turns:  # offsets and lines still point into the stored, normalised text
        assert t.text[turn.start:turn.end] == turn.text
