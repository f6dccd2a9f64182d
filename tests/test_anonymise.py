"""The anonymisation check on single sentences: patterns, identity numbers, names, allowed terms."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rta.anonymise import Flag, check_text, fnr_check_digits, fnr_kind
from rta.informants import default_registry

REG = default_registry()

# -- identity numbers computed here with the published mod-11 algorithm (no real person's number)
W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def make_fnr(born: date, individual: int, d_number: bool = False) -> str | None:
    """An 11-digit identity number with valid check digits, or None when the individual number
    gives a check digit of 10 (no valid number exists)."""
    day = born.day + (40 if d_number else 0)
    nine = f"{day:02d}{born.month:02d}{born.year % 100:02d}{individual:03d}"
    digits = [int(c) for c in nine]
    k1 = (11 - sum(w * d for w, d in zip(W1, digits)) % 11) % 11
    if k1 == 10:
        return None
    k2 = (11 - sum(w * d for w, d in zip(W2, [*digits, k1])) % 11) % 11
    if k2 == 10:
        return None
    return f"{nine}{k1}{k2}"


def first_valid(born: date, start: int, d_number: bool = False) -> str:
    for individual in range(start, start + 100):
        number = make_fnr(born, individual, d_number)
        if number:
            return number
    raise AssertionError("no valid number in range")


def flags_of(text: str, **kw) -> list[Flag]:
    return check_text(text, REG, None, **kw)


def kinds(text: str, **kw) -> list[tuple[str, str]]:
    return [(f.text, f.kind) for f in flags_of(text, **kw)]


def test_check_digits_match_the_algorithm_in_the_test() -> None:
    number = first_valid(date(1985, 3, 12), 123)
    assert fnr_check_digits(number[:9]) == number[9:]
    assert fnr_kind(number) == "fødselsnummer"


@pytest.mark.parametrize(
    "born, individual",
    [(date(1985, 3, 12), 123), (date(1902, 2, 28), 10), (date(2005, 12, 31), 500), (date(1960, 6, 1), 910)],
)
def test_valid_national_identity_number_is_flagged(born: date, individual: int) -> None:
    number = first_valid(born, individual)
    found = flags_of(f"S1: Nummeret mitt er {number}, skriv det ned.")
    assert [(f.text, f.kind, f.method) for f in found] == [(number, "FNR", "pattern")]
    assert "fødselsnummer" in found[0].reason


def test_valid_d_number_is_flagged_as_identity_number() -> None:
    number = first_valid(date(1990, 7, 15), 200, d_number=True)
    assert int(number[:2]) == 55
    found = flags_of(f"S1: D-nummeret er {number}.")
    assert [(f.text, f.kind) for f in found] == [(number, "FNR")]
    assert "D-nummer" in found[0].reason


def test_identity_number_written_with_a_space_is_flagged() -> None:
    number = first_valid(date(1975, 1, 9), 300)
    spaced = f"{number[:6]} {number[6:]}"
    assert kinds(f"S1: Det står {spaced} på arket.") == [(spaced, "FNR")]


def test_eleven_digits_with_wrong_check_digits_are_not_flagged() -> None:
    number = first_valid(date(1985, 3, 12), 123)
    wrong = number[:10] + str((int(number[10]) + 1) % 10)
    assert fnr_kind(wrong) is None
    assert flags_of(f"S1: Saksnummeret var {wrong} i arkivet.") == []


def test_eleven_digits_with_valid_check_digits_but_no_real_date_are_not_flagged() -> None:
    # day 32 of month 13 has check digits computable, but is no date
    nine = "321385123"
    check = fnr_check_digits(nine)
    if check is None:
        nine = "321385124"
        check = fnr_check_digits(nine)
    assert check is not None
    assert fnr_kind(nine + check) is None
    assert flags_of(f"S1: Referansen {nine}{check} gjelder prosjektet.") == []


@pytest.mark.parametrize(
    "phone",
    ["412 55 390", "41 25 53 90", "41255390", "4125 5390", "+47 412 55 390", "0047 41255390", "+4741255390", "22 33 44 55"],
)
def test_norwegian_phone_numbers_are_flagged(phone: str) -> None:
    assert kinds(f"S1: Ring meg på {phone} i morgen.") == [(phone, "PHONE")]


@pytest.mark.parametrize(
    "text",
    ["S1: Vi fikk 2 000 000 kroner i 2021.", "S1: Det var 120 elever og 14 lærere.", "S1: Kl. 08.30 startet møtet.",
     "S1: Budsjettet var 12 500 000.", "S1: Skoleåret 2020-2021 var tøft.", "S1: Fra 2019 2020 og utover."],
)
def test_ordinary_numbers_are_not_phone_numbers(text: str) -> None:
    assert flags_of(text) == []


def test_email_address_is_flagged() -> None:
    assert kinds("S1: Send det til ola.nordmann@kommune.no så ordner hen det.") == [
        ("ola.nordmann@kommune.no", "EMAIL")
    ]


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("S1: Hen er født 12.03.1975 og har jobbet her lenge.", "12.03.1975"),
        ("S1: Fødselsdato: 3. mars 1980, står det i papirene.", "3. mars 1980"),
        ("S1: Hen ble født i 1968, tror jeg.", "1968"),
    ],
)
def test_date_of_birth_near_fodt_is_flagged(sentence: str, expected: str) -> None:
    assert kinds(sentence) == [(expected, "DOB")]


def test_a_date_without_birth_words_is_not_a_date_of_birth() -> None:
    assert flags_of("S1: Møtet var 12.03.2021 på rådhuset.") == []


def test_two_capitalised_words_mid_sentence_are_flagged_as_a_person() -> None:
    found = flags_of("S1: Vi snakket med Kari Nordmann om det.")
    assert [(f.text, f.kind, f.method) for f in found] == [("Kari Nordmann", "PER", "heuristic")]


def test_single_capitalised_unknown_word_mid_sentence_is_flagged_as_a_name() -> None:
    assert kinds("S1: Jeg jobbet i Kvernvika før jeg kom hit.") == [("Kvernvika", "NAME")]


def test_sentence_initial_words_and_capitalised_common_words_are_not_flagged() -> None:
    text = "S1: Det var bra. Og så kom vi i gang. «Hva gjør vi nå?» spurte vi. Eh, det var fint.\nS1: Ja."
    assert flags_of(text) == []


def test_allowed_institutional_terms_are_not_flagged() -> None:
    text = ("S1: Vi hadde møter med Statsforvalteren, Udir og Utdanningsdirektoratet, og veiledere fra UH.\n"
            "PPT var med, og Kunnskapsdepartementet sendte brev om oppfølgingsordningen.")
    assert flags_of(text) == []


def test_informant_codes_and_interviewer_labels_are_not_flagged() -> None:
    text = "I: Hva sa R1.1 om det?\nS1: Både Va og Vb og R 2.1 var enige, sa Intervjuer."
    assert flags_of(text) == []


def test_placeholders_and_brackets_are_not_flagged() -> None:
    text = ("S1: Jeg er fra X [navn på kommune] og jobbet på Y [navn på skole] med [Ola Hansen] og "
            "veilederne [fra X [navn på UH]].")
    assert flags_of(text) == []


def test_project_allow_list_silences_a_term() -> None:
    text = "S1: Vi brukte Lesesenteret sine materialer."
    assert kinds(text) == [("Lesesenteret", "NAME")]
    assert flags_of(text, allow=["Lesesenteret"]) == []


def test_deny_list_flags_names_anywhere_even_at_sentence_start() -> None:
    text = "S1: Solbakken var skolen vår. Vi likte solbakken."
    found = flags_of(text, deny=["Solbakken"])
    assert [(f.text, f.method) for f in found] == [("Solbakken", "deny-list"), ("solbakken", "deny-list")]


def test_flags_carry_line_offsets_and_text() -> None:
    text = "---\nid: t\n---\nI: Hei.\nS1: Jeg bodde i Drammen.\nRing 412 55 390 en gang."
    found = check_text(text, REG, transcript="t", path="t.txt")
    assert [f.line for f in found] == [5, 6]
    for f in found:
        assert text[f.start:f.end] == f.text and f.transcript == "t" and f.path == "t.txt"


def test_speaker_labels_and_front_matter_are_not_checked() -> None:
    text = "---\nid: t\ninterviewer: Intervjuer\n---\nIntervjuer: Hvordan gikk det?\nS1: Det gikk fint."
    assert check_text(text, REG) == []


def test_plain_text_without_a_registry_is_checked_whole() -> None:
    assert [(f.text, f.kind) for f in check_text("Vi møtte Per Hansen der.", None)] == [("Per Hansen", "PER")]


def test_a_first_name_that_is_also_a_common_word_stays_with_the_surname() -> None:
    text = "S1: Det kostet 50 kroner per elev. Vi møtte Per Dahl der."
    assert kinds(text) == [("Per Dahl", "PER")]


def test_words_in_email_addresses_do_not_make_a_name_a_common_word() -> None:
    text = "S1: Vi snakket med Kari Solheim, kari@skole.no, om det."
    assert kinds(text) == [("Kari Solheim", "PER"), ("kari@skole.no", "EMAIL")]


HARD = Path(__file__).parent / "data" / "anonymise" / "hard-veiledere.txt"
HARD_EXPECTED_NO_NER = [
    (10, "NTNU", "NAME"), (14, "Marte", "NAME"), (15, "Bjørkely skole", "ORG"), (15, "Geir Arne Lund", "PER"),
    (16, "0047 98 76 54 32", "PHONE"),
]


def test_realistic_turns_flag_names_but_not_codebook_terms_months_products_or_quotes() -> None:
    from rta.anonymise import check_files

    [result] = check_files([HARD], REG, None)
    assert [(f.line, f.text, f.kind) for f in result.flags] == HARD_EXPECTED_NO_NER


def test_with_ner_the_same_identifiers_are_found_with_entity_kinds() -> None:
    from rta.anonymise import check_files, has_ner, load_check_pipeline

    nlp = load_check_pipeline("auto")
    if not has_ner(nlp):
        pytest.skip("no pipeline with NER installed or bundled")
    [result] = check_files([HARD], REG, nlp)
    for line, text, _kind in HARD_EXPECTED_NO_NER:
        assert any(f.line == line and (text in f.text or f.text in text) for f in result.flags), text
    assert len(result.flags) <= len(HARD_EXPECTED_NO_NER) + 2  # a couple of extra NER guesses at most
    assert any(f.method.startswith("ner:") and f.kind == "PER" for f in result.flags)


def test_an_allowed_term_inside_an_email_address_does_not_hide_it() -> None:
    assert kinds("S1: Skriv til rektor@skole.no eller udir@example.org.") == [
        ("rektor@skole.no", "EMAIL"), ("udir@example.org", "EMAIL")]


def test_a_flagged_name_is_flagged_at_sentence_start_and_in_other_transcripts(tmp_path: Path) -> None:
    from rta.anonymise import check_files

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("I: Hvor bodde du?\nS1: Jeg bodde i Kvernvika. Kvernvika var fint.\n", encoding="utf-8")
    b.write_text("I: Og du?\nS2: Kvernvika kjenner jeg godt.\n", encoding="utf-8")
    ra, rb = check_files([a, b], REG, None)
    assert [(f.line, f.text, f.method) for f in ra.flags] == [(2, "Kvernvika", "heuristic"), (2, "Kvernvika", "propagated")]
    assert [(f.transcript, f.line, f.text, f.method) for f in rb.flags] == [("b", 2, "Kvernvika", "propagated")]
    assert "another transcript" in rb.flags[0].reason


class _FixedNER:
    """A stand-in pipeline whose 'NER' labels given words, so the test controls what it finds."""

    pipe_names = ["ner"]
    meta = {"name": "fixed", "version": "1"}

    def __init__(self, labels: list[tuple[str, str]]) -> None:
        import spacy

        self.nlp = spacy.blank("nb")
        self.labels = labels  # (surface, label), each used once, in the order of the turns

    def select_pipes(self, enable):
        import contextlib

        return contextlib.nullcontext()

    def pipe(self, texts, batch_size: int = 32):
        todo = list(self.labels)
        for text in texts:
            doc = self.nlp(text)
            if todo and todo[0][0] in text:
                surface, label = todo.pop(0)
                start = text.index(surface)
                doc.ents = [doc.char_span(start, start + len(surface), label=label)]
            yield doc


def test_a_lone_surname_in_a_later_turn_is_flagged_as_the_person_the_full_name_was() -> None:
    text = "I: Hvem møtte du?\nS1: Jeg møtte Ola Djuvik i går.\nI: Og så?\nS1: Etterpå sa Djuvik at alt var greit.\n"
    fake = _FixedNER([("Ola Djuvik", "PER"), ("Djuvik", "GPE_LOC")])  # the NER took the surname for a place
    flags = check_text(text, REG, fake)
    assert [(f.text, f.kind, f.line) for f in flags if f.method.startswith("ner:")] == [
        ("Ola Djuvik", "PER", 2), ("Djuvik", "PER", 4)]


def test_a_place_list_name_wins_over_a_shorter_or_equal_ner_span_but_not_a_longer_one_or_a_person() -> None:
    text = ("I: Hvor?\nS1: Jeg kom fra Nore og Uvdal.\nI: Og så?\nS1: Så jobbet jeg i Lier.\n"
            "I: Og nå?\nS1: Nå er jeg i Bergen kommune.\nI: Med hvem?\nS1: Med kollegaen min, Flora.\n")
    fake = _FixedNER([("Nore", "PER"), ("Lier", "ORG"), ("Bergen kommune", "GPE_ORG"), ("Flora", "PER")])
    flags = check_text(text, REG, fake)
    assert [(f.text, f.kind, f.method.split(":")[0]) for f in flags] == [
        ("Nore og Uvdal", "GPE_LOC", "places"), ("Lier", "GPE_LOC", "places"),
        ("Bergen kommune", "GPE_ORG", "ner"), ("Flora", "PER", "ner")]  # a person stays a person


def _places(text: str, **kw) -> list[tuple[str, str, str]]:
    return [(f.text, f.kind, f.method) for f in flags_of(text, **kw)]


def test_a_municipality_at_the_start_of_a_sentence_is_flagged_as_a_place() -> None:
    # the capitalisation heuristic skips sentence-initial words; the place list does not
    assert _places("S1: Levanger har mange små skoler.") == [("Levanger", "GPE_LOC", "places")]


def test_a_place_that_is_also_a_common_word_is_flagged_mid_sentence_only() -> None:
    assert _places("S1: Jeg vokste opp i Lier, men flyttet.") == [("Lier", "GPE_LOC", "places")]
    assert _places("S1: Sola skinte. Time etter time gikk, og lier og strand lå stille.") == []


def test_multi_word_places_and_genitives_are_flagged_whole() -> None:
    assert _places("S1: Hun kom fra Nore og Uvdal til Bodøs skoler.") == [
        ("Nore og Uvdal", "GPE_LOC", "places"), ("Bodø", "GPE_LOC", "places")]


def test_a_place_word_inside_a_persons_name_leaves_the_name_to_the_heuristic() -> None:
    assert _places("S1: Vi snakket med Geir Arne Lund om det.") == [("Geir Arne Lund", "PER", "heuristic")]


def test_allowed_places_and_placeholders_are_not_flagged() -> None:
    assert _places("S1: Vi var i Bergen og i X [navn på kommune].", allow=["Bergen"]) == []


def test_the_place_list_knows_municipalities_and_which_names_are_common_words() -> None:
    from rta.entities import places_no

    places = set(places_no())
    assert {"Oslo", "Tromsø", "Nore og Uvdal", "Indre Østfold", "Sør-Varanger", "Herøy", "Våler"} <= places
    assert places_no()["Sola"] is True and places_no()["Levanger"] is False
