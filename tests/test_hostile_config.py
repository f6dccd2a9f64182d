"""Hostile configuration: YAML alias bombs, regexes that backtrack catastrophically, and values
of the wrong type in registries, codebooks, rta.toml and key files. Each is refused with the
file (and line) and exit code 2, or (regexes) run in the linear-time engine; none hangs and
none prints a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from rta.cli import main
from rta.errors import RtaError
from rta.informants import load_registry
from rta.resources import default_codebook_path, default_registry_path
from rta.userregex import UserPattern, UserRegexError, compile_user_regex
from rta.yamlutil import ALIAS_EXPANSION_LIMIT, load_yaml_text

REPO = Path(__file__).resolve().parent.parent


def bomb(indent: str = "", levels: int = 9) -> str:
    """Nested anchors and aliases: 9 levels of 9 aliases expand to 9**9 (387 million) items."""
    lines = [f"{indent}a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    previous = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        lines.append(f"{indent}{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


def run(argv: list[str], capsys) -> tuple[int, str]:
    """Run the CLI in-process; exit code and everything printed."""
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return code, out.out + out.err


def assert_refused(code: int, output: str, name: str, *words: str) -> None:
    assert code == 2, output
    assert name in output, output
    assert "Traceback" not in output
    for word in words:
        assert word in output, output


# -- 1. YAML alias bombs ---------------------------------------------------------------------


def test_alias_bomb_in_a_codebook_is_refused_at_validate_with_its_line(tmp_path, capsys):
    path = tmp_path / "bomb.yaml"
    path.write_text("schema_version: 1\nname: x\n" + bomb(), encoding="utf-8")
    code, output = run(["codebook", "validate", str(path)], capsys)
    assert_refused(code, output, "bomb.yaml:", "aliases expand beyond")
    line = int(re.search(r"bomb\.yaml:(\d+)", output).group(1))
    assert path.read_text(encoding="utf-8").splitlines()[line - 1].split(":")[0] in "defghi"


def test_alias_bomb_in_an_informant_registry_is_refused(tmp_path, capsys):
    path = tmp_path / "informants.yaml"
    path.write_text(default_registry_path().read_text(encoding="utf-8") + "extra:\n" + bomb("  "), encoding="utf-8")
    with pytest.raises(RtaError, match="aliases expand beyond"):
        load_registry(path)
    code, output = run(["init", str(tmp_path / "p"), "--registry", str(path)], capsys)
    assert_refused(code, output, "informants.yaml:", "remove anchors/aliases")
    assert not (tmp_path / "p").exists()


def test_alias_bomb_in_front_matter_is_refused_naming_the_transcript(tmp_path, capsys):
    code, _ = run(["init", str(tmp_path / "p")], capsys)
    assert code == 0
    transcript = tmp_path / "bomb.txt"
    transcript.write_text("---\nid: bomb\n" + bomb() + "---\nI: Hei.\nS1: Hei.\n", encoding="utf-8")
    code, output = run(["-P", str(tmp_path / "p"), "add", str(transcript)], capsys)
    assert_refused(code, output, "bomb.txt:", "aliases expand beyond")


def test_alias_bomb_in_a_yaml_key_file_is_refused(tmp_path, capsys):
    key = tmp_path / "key.yaml"
    key.write_text("format: rta-anonymise-key\nversion: 1\nvariants:\n" + bomb("  "), encoding="utf-8")
    text = tmp_path / "t.txt"
    text.write_text("S1: [PERSON 1] sa hei.\n", encoding="utf-8")
    code, output = run(["anonymise", "reverse", str(text), "--key", str(key)], capsys)
    assert_refused(code, output, "key.yaml:", "aliases expand beyond")


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n"])
def test_a_recursive_alias_is_refused(text):
    with pytest.raises(RtaError, match="recursive alias") as info:
        load_yaml_text(text, path="x.yaml")
    assert info.value.path == "x.yaml" and info.value.line == 1


def test_a_few_aliases_and_plain_yaml_still_load():
    data = load_yaml_text("a: &a [1, 2]\nb: [*a, *a]\n")
    assert data["b"] == [[1, 2], [1, 2]]
    big = "items:\n" + "".join(f"  - {{n: {i}}}\n" for i in range(ALIAS_EXPANSION_LIMIT // 10))
    assert len(load_yaml_text(big)["items"]) == ALIAS_EXPANSION_LIMIT // 10  # no aliases: no budget


def test_the_bundled_codebooks_and_registry_still_load():
    from rta.codebook_yaml import load_codebook

    for path in sorted((REPO / "codebooks").glob("*.yaml")):
        if "informants" in path.name:
            assert load_registry(path).roles
        else:
            assert load_codebook(path).codes


# -- 2. regexes: linear-time engine ----------------------------------------------------------

CATASTROPHIC = [r"(\w+\s?)+$", r"S(?P<group>(\d+)+)", r"(a|aa)+$", r"(x+x+)+y"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_run_in_the_linear_engine(pattern):
    import re2

    compiled = compile_user_regex(pattern)
    assert isinstance(compiled, UserPattern) and compiled.engine == "re2"
    assert isinstance(compiled.variant("ctx", "ctx").regex, type(re2.compile("a")))
    adversarial = "S" + "1" * 5000 + "a" * 20000 + "x" * 20000 + "!"
    assert compiled.fullmatch(adversarial) is None  # Python's re would not return in our lifetime
    compiled.search(adversarial)


def test_a_registry_role_with_a_catastrophic_pattern_matches_long_labels_promptly(tmp_path):
    path = tmp_path / "informants.yaml"
    path.write_text(
        "roles:\n  - {key: skoleeier, name: Skoleeier, pattern: 'S(?P<group>(\\d+)+)', group_format: 'Kommune {group}'}\n",
        encoding="utf-8",
    )
    registry = load_registry(path)
    assert isinstance(registry.roles[0].regex, UserPattern)
    assert registry.resolve("S12").group == "Kommune 12"
    assert registry.matching_roles("S" + "1" * 30000 + "x") == []


@pytest.mark.parametrize("pattern, construct", [
    (r"(ja)\1", "back-references"),
    (r"(?<=, )uklart", "lookahead or lookbehind"),
    (r"uklar(?!t)", "lookahead or lookbehind"),
    (r"(?>uklar)t", "atomic"),
    (r"uklar++", "possessive"),
    (r"a{5000}", "repetition count above 1000"),
])
def test_constructs_the_engine_cannot_run_are_refused_at_codebook_validate(tmp_path, capsys, pattern, construct):
    src = (REPO / "tests" / "data" / "codebooks" / "valid_small.yaml").read_text(encoding="utf-8")
    quoted = "'" + pattern.replace("'", "''") + "'"
    assert "regex: ['\\bbytte av\\b']" in src
    path = tmp_path / "cb.yaml"
    path.write_text(src.replace("regex: ['\\bbytte av\\b']", f"regex: [{quoted}]"), encoding="utf-8")
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if quoted in text)
    code, output = run(["codebook", "validate", str(path)], capsys)
    assert_refused(code, output, f"cb.yaml:{line}: error:", construct, "linear-time")


def test_a_lookaround_role_pattern_is_refused_at_registry_load_with_the_line(tmp_path):
    path = tmp_path / "informants.yaml"
    path.write_text("name: x\nroles:\n  - {key: a, name: A, pattern: 'S(?=\\d)\\d+'}\n", encoding="utf-8")
    with pytest.raises(RtaError) as info:
        load_registry(path)
    [problem] = info.value.problems
    assert problem.line == 3 and "lookahead or lookbehind" in problem.message


@pytest.mark.parametrize("pattern, text, expected", [
    (r"\båpen\b", "en åpen dør, gjenåpen", ["åpen"]),  # RE2's own \b is ASCII-only: would find nothing
    (r"skole\w*", "skoleåret og skoleeier", ["skoleåret", "skoleeier"]),
    (r"[^\W\d_]+", "Æ1 ø_2 bæ", ["Æ", "ø", "bæ"]),
    (r"\bøk\w+", "økonomi, søkte", ["økonomi"]),
    (r"tid\b", "tid, tida, tid", ["tid", "tid"]),
    (r"\brom for\b", "rom for rom for", ["rom for", "rom for"]),
    (r"(?i)ÆRE", "ære", ["ære"]),
])
def test_user_regexes_keep_pythons_unicode_meaning(pattern, text, expected):
    assert [m.group() for m in compile_user_regex(pattern).finditer(text)] == expected
    assert [m.group() for m in re.finditer(pattern, text)] == expected


def test_the_bundled_codebook_regexes_find_what_python_re_finds_in_the_sample():
    from rta.codebook_yaml import load_codebook

    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "transcripts_sample").glob("*.txt"))]
    texts.append("Vi måtte begynne på nytt. Rom for mer? Lite tid til det, 12 000 kroner, nye rektorer. "
                 "Årom for, tar lang tid; for lite tid til")
    patterns = [p for code in load_codebook(default_codebook_path()).codes for p in code.indicators.regex]
    assert patterns
    hits = 0
    for pattern in patterns:
        ours = compile_user_regex(pattern, flags=re.IGNORECASE)
        theirs = re.compile(pattern, re.IGNORECASE)
        for text in texts:
            expected = [m.span() for m in theirs.finditer(text)]
            assert [m.span() for m in ours.finditer(text)] == expected, pattern
            hits += len(expected)
    assert hits > 0


def test_a_non_text_pattern_is_refused():
    with pytest.raises(UserRegexError, match="must be text"):
        compile_user_regex(5)  # type: ignore[arg-type]


# -- 3. wrong types, through the CLI ---------------------------------------------------------

REGISTRY = "name: x\nroles:\n  - {key: skoleeier, name: Skoleeier, pattern: 'S(?P<group>\\d+)'}\n"


@pytest.mark.parametrize("text, words", [
    (REGISTRY + "informants: 5\n", ["informants", "must be a list", ":4:"]),
    ("name: x\nroles: \"x\"\n", ["roles", "must be a list", ":2:"]),
    (REGISTRY + "informants:\n  - {code: S1, group: {a: 1}}\n", ["group", "must be text", ":5:"]),
    (REGISTRY + "informants:\n  - {code: [S1, S2]}\n", ["code", "must be text"]),
    ("roles:\n  - {key: a, name: A, pattern: 5}\n", ["pattern", "regular expression in quotes", ":2:"]),
    ("roles:\n  - {key: a, name: A, pattern: [S]}\n", ["pattern", "a list"]),
    (REGISTRY + "interviewer_labels: I\n", ["interviewer_labels", "must be a list", ":4:"]),
    (REGISTRY + "interviewer_labels: [{a: 1}]\n", ["interviewer_labels"]),
    ("- a\n- b\n", ["must be a mapping"]),
    ("roles:\n  - S1\n", ["each role must be a mapping"]),
    ("roles:\n  - {key: a, pattern: 'S\\d', group_format: 'K {kommune}'}\n", ["group_format", "not a template"]),
    (REGISTRY + "? [a, b]\n: c\n", ["cannot be a key"]),
    ("roles: [\n", ["YAML syntax error"]),
])
def test_registry_values_of_the_wrong_type_are_refused(tmp_path, capsys, text, words):
    path = tmp_path / "reg.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = run(["init", str(tmp_path / "p"), "--registry", str(path)], capsys)
    assert_refused(code, output, "reg.yaml", *words)
    assert not (tmp_path / "p").exists()


def test_a_registry_that_is_not_utf8_is_refused_with_the_line(tmp_path, capsys):
    path = tmp_path / "reg.yaml"
    path.write_bytes(REGISTRY.encode() + b"# V\xe6rsgod\n")
    code, output = run(["init", str(tmp_path / "p"), "--registry", str(path)], capsys)
    assert_refused(code, output, "reg.yaml:4", "UTF-8")


@pytest.fixture
def project_dir(tmp_path, capsys) -> Path:
    code, _ = run(["init", str(tmp_path / "p")], capsys)
    assert code == 0
    return tmp_path / "p"


@pytest.mark.parametrize("old, new, words", [
    ('pipeline = "auto"', "pipeline = 5", ["[nlp] pipeline must be text", "the number 5"]),
    ('codebook = "codebook.yaml"', 'codebook = ["a"]', ["[paths] codebook must be text", "a list"]),
    ("allow = []", 'allow = "x"', ["[anonymise] allow must be a list"]),
    ("allow = []", "allow = [1, 2]", ["[anonymise] allow must be a list", "the number 1"]),
    ('coder = "', 'coder = = "', ["invalid TOML"]),
    ("[nlp]", "[nlp.pipeline]", ["[nlp] pipeline must be text", "a table"]),
    ('name = "', 'name = 12\nx = "', ["[project] name must be text"]),
])
def test_rta_toml_values_of_the_wrong_type_are_refused_with_the_line(project_dir, capsys, old, new, words):
    config = project_dir / "rta.toml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = next(n for n, t in enumerate(config.read_text(encoding="utf-8").splitlines(), 1)
                if t.startswith(new.splitlines()[0].split("=")[0].strip()) or t.startswith(new.splitlines()[0][:6]))
    code, output = run(["-P", str(project_dir), "transcripts"], capsys)
    assert_refused(code, output, f"rta.toml:{line}:", *words)


def test_rta_toml_that_is_not_utf8_is_refused_with_the_line(project_dir, capsys):
    config = project_dir / "rta.toml"
    config.write_bytes(config.read_bytes().replace(b'coder = "', b'coder = "\xf8', 1))
    line = next(n for n, t in enumerate(config.read_bytes().split(b"\n"), 1) if t.startswith(b"coder"))
    code, output = run(["-P", str(project_dir), "transcripts"], capsys)
    assert_refused(code, output, f"rta.toml:{line}:", "not valid UTF-8")


GOOD_KEY = {"format": "rta-anonymise-key", "version": 1, "style": "default",
            "entries": [{"original": "Kari", "placeholder": "[PERSON 1]", "kind": "PER"}], "variants": {}}


@pytest.mark.parametrize("name, body, words", [
    ("list.json", json.dumps([GOOD_KEY]), ["not an rta anonymisation key"]),
    ("nums.json", json.dumps({**GOOD_KEY, "entries": [{"original": 5, "placeholder": "[PERSON 1]", "kind": "PER"}]}),
     ["original must be non-empty text"]),
    ("entries.json", json.dumps({**GOOD_KEY, "entries": "Kari"}), ["`entries` of the key must be a list"]),
    ("variants.json", json.dumps({**GOOD_KEY, "variants": {"t": [["[PERSON 1]", "x", "K ari"]]}}),
     ["variants of transcript 't'"]),
    ("style.json", json.dumps({**GOOD_KEY, "style": ["x"]}), ["unknown placeholder style"]),
    ("broken.json", '{\n  "format": "rta-anonymise-key",\n  "entries": [\n}\n', ["not valid JSON", "broken.json:4"]),
    ("key.yaml", "format: rta-anonymise-key\nentries:\n  - {original: Kari, placeholder: [1], kind: PER}\n",
     ["key.yaml:3", "placeholder must be non-empty text"]),
])
def test_key_files_of_the_wrong_shape_are_refused(tmp_path, capsys, name, body, words):
    key = tmp_path / name
    key.write_text(body, encoding="utf-8")
    text = tmp_path / "t.txt"
    text.write_text("S1: [PERSON 1] sa hei.\n", encoding="utf-8")
    code, output = run(["anonymise", "reverse", str(text), "--key", str(key)], capsys)
    assert_refused(code, output, name, *words)


def test_a_key_file_that_is_not_utf8_is_refused_with_the_line(tmp_path, capsys):
    key = tmp_path / "key.json"
    key.write_bytes(json.dumps(GOOD_KEY, indent=2).replace("Kari", "K\\u00e5ri").encode().replace(b"PER\"", b"P\xe5R\""))
    text = tmp_path / "t.txt"
    text.write_text("S1: [PERSON 1] sa hei.\n", encoding="utf-8")
    code, output = run(["anonymise", "reverse", str(text), "--key", str(key)], capsys)
    assert_refused(code, output, "key.json:", "not valid UTF-8")


def test_a_good_key_still_reverses(tmp_path, capsys):
    key = tmp_path / "key.json"
    key.write_text(json.dumps(GOOD_KEY), encoding="utf-8")
    text = tmp_path / "t.txt"
    text.write_text("S1: [PERSON 1] sa hei.\n", encoding="utf-8")
    code, output = run(["anonymise", "reverse", str(text), "--key", str(key)], capsys)
    assert code == 0 and "S1: Kari sa hei." in output


@pytest.mark.parametrize("text, words", [
    ("- schema_version: 1\n- name: x\n", ["must be a mapping of keys, not a list"]),
    ("schema_version: 1\nname: x\ncodes:\n  - name: 5\n    definition: d\n", ["cb.yaml:4", "must be text, not the number 5"]),
    ("schema_version: 1\nname: x\ncodes:\n  - name: A\n    definition: d\n    indicators: [a, b]\n",
     ["cb.yaml:6", "indicators of code 'A' must be a mapping"]),
    ("schema_version: 1\nname: x\ncodes:\n  - name: A\n    definition: d\n    indicators: {keywords: abc}\n",
     ["cb.yaml:6", "must be a list"]),
    ("schema_version: 1\nname: x\ncodes: {A: 1}\n", ["cb.yaml:3", "'codes' must be a list"]),
    ("schema_version: 1\nname: x\ncodes:\n  - name: A\n    definition: 1.10\n",
     ["cb.yaml:5", "read as the number 1.1"]),
    ("schema_version: 1\nname: x\ncodes:\n  - name: A\n    definition: d\n    indicators: {regex: [[a]]}\n",
     ["cb.yaml:6", "must be text"]),
])
def test_codebook_values_of_the_wrong_type_are_refused_with_the_line(tmp_path, capsys, text, words):
    path = tmp_path / "cb.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = run(["codebook", "validate", str(path)], capsys)
    assert_refused(code, output, "cb.yaml", *words)


@given(st.lists(st.sampled_from(["ja", "nei", "Ja", "ta", "tar", "tid", "lang", " ", "  ", "\n", ",", ".", "æ", "ø", "å",
                                 "rolle", "veileder", "12", "kr"]), max_size=40),
       st.sampled_from([r"\bja\b", r"\bta?r?\b", r"\btar (?:lang )?tid\b", r"\brolle\w*(?:[ ,]+\w+){0,3}[ ,]+veileder",
                        r"\b\d+ ?kr\b", r"ø|å", r"j\Ba", r"a?"]))
def test_regions_contain_every_match_a_search_finds(parts, pattern):
    from rta.userregex import compile_user_regex

    text = "".join(parts)
    rx = compile_user_regex(pattern, flags=re.IGNORECASE)
    data = text.encode("utf-8")
    regions = list(rx.regions(data))
    for m in rx.finditer(text):
        start, end = len(text[:m.start()].encode("utf-8")), len(text[:m.end()].encode("utf-8"))
        assert any(a <= start and end <= b for a, b in regions), (text, pattern, m.span(), regions)
