"""Property tests: any reasonable codebook survives YAML and REFI-QDA round trips unchanged."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rta.codebook import Code, Codebook, Indicators, Theme, derive_guid
from rta.codebook_yaml import dump_codebook, parse_codebook
from rta.norsk import fold
from rta.qdc import codebook_to_qdc, read_qdc, validate_xml

LETTERS = "abcdefghijklmnopqrstuvwxyzæøåABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅéü"
word = st.text(alphabet=LETTERS, min_size=4, max_size=10)
name = st.lists(word, min_size=1, max_size=3).map(" ".join)
sentence = st.lists(
    st.text(alphabet=LETTERS + ",.;:!?()«»\"'-–/&<>#%", min_size=1, max_size=12), min_size=1, max_size=6
).map(" ".join)
paragraphs = st.lists(sentence, min_size=1, max_size=3).map("\n".join)
colour = st.one_of(st.none(), st.from_regex(r"#[0-9a-f]{6}", fullmatch=True))


@st.composite
def codebooks(draw) -> Codebook:
    names = draw(st.lists(name, min_size=1, max_size=6, unique_by=fold))
    codes = []
    for i, n in enumerate(names):
        parent = draw(st.one_of(st.none(), st.sampled_from(names[:i]))) if i else None
        codes.append(Code(
            name=n, label=draw(sentence), definition=draw(paragraphs), inclusion=draw(st.one_of(st.just(""), paragraphs)),
            exclusion=draw(st.one_of(st.just(""), paragraphs)),
            indicators=Indicators(
                keywords=draw(st.lists(word, min_size=1, max_size=3, unique=True)),
                phrases=draw(st.lists(name, max_size=2, unique=True)),
                regex=draw(st.lists(st.sampled_from([r"\btid til\b", r"rom (?:for|til)", "[Kk]ontinuitet"]), max_size=2, unique=True)),
            ),
            examples=draw(st.lists(sentence, max_size=2, unique=True)), color=draw(colour), parent=parent,
            guid=derive_guid("prop", "code", n),
        ))
    theme_names = draw(st.lists(name, max_size=3, unique_by=fold))
    themes = [
        Theme(
            name=t, definition=draw(paragraphs), central_concept=draw(sentence),
            origin=draw(st.sampled_from(["inductive", "deductive"])),
            codes=draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True)),
            status=draw(st.sampled_from(["candidate", "reviewed", "defined"])),
            opposite=draw(st.one_of(st.none(), name)), guid=derive_guid("prop", "theme", t),
        )
        for t in theme_names
    ]
    return Codebook(schema_version=1, name="prop", language="nb", codes=codes, themes=themes)


def _strip(items):
    return [replace(i, line=None) for i in items]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codebooks())
def test_yaml_dump_and_parse_round_trip(cb: Codebook) -> None:
    back, problems = parse_codebook(dump_codebook(cb))
    assert [p for p in problems if p.severity == "error"] == []
    assert _strip(back.codes) == _strip(cb.codes)
    assert _strip(back.themes) == _strip(cb.themes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codebooks())
def test_qdc_export_is_valid_and_import_gives_the_codebook_back(cb: Codebook) -> None:
    data = codebook_to_qdc(cb)
    assert validate_xml(data) == []
    back = read_qdc(data, name=cb.name).codebook
    by_guid = lambda items: sorted(_strip(items), key=lambda i: i.guid)  # noqa: E731
    assert by_guid(back.codes) == by_guid(cb.codes)  # order becomes the tree's depth-first order
    assert _strip(back.themes) == _strip(cb.themes)
