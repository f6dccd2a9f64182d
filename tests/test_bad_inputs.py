"""The catalogue of bad input (issue 14): every kind of malformed transcript, registry, codebook,
rta.toml, .qdc/.qdpx, key file and command line is refused with exit code 2, a message naming
the file (and its line where it has one) or the option, no traceback, the store unchanged
(compared as an SQL dump: opening the database may touch its header) and no stray file left
in the project.

One project (two mini transcripts, one coding) is built once per session and copied for each
case; every case runs ``rta.cli.main`` in-process."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Union

import pytest

from rta.cli import main

DATA = Path(__file__).parent / "data"
HUGE = "99999999999999999999999"

Content = Union[str, bytes, Callable[[Path], None], None]  # None: make a folder


@dataclass
class Case:
    """A bad input: files to write (relative to tmp_path; ``p/`` is the project), the command
    line (``{tmp}`` and ``{proj}`` are filled in; ``-P PROJECT`` is put in front) and the texts
    the error must contain (case-insensitive; on stderr, or on stdout or stderr for a command
    whose output is a report of problems, ``report``)."""

    argv: list[str]
    files: dict[str, Content] = field(default_factory=dict)
    expect: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    report: bool = False


# -- file builders ----------------------------------------------------------------------------

GOOD = "I: Hvordan var det?\nS1: Det var fint.\n"


def yaml_bomb(indent: str = "", levels: int = 9) -> str:
    """Nested anchors and aliases: 9 levels of 9 aliases expand to 9**9 items."""
    lines = [f"{indent}a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    previous = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        lines.append(f"{indent}{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


def replace_in(old: str, new: str) -> Callable[[Path], None]:
    """Edit an existing file of the copied project: ``old`` (which must be there) becomes ``new``."""

    def edit(path: Path) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, (path, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def append_to(extra: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")

    return edit


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        with zipfile.ZipFile(path, "w", compression=compression) as zf:
            for name, data in members.items():
                zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)

    return build


QDE = ('<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="x">\n'
       '<CodeBook><Codes><Code guid="11111111-1111-1111-1111-111111111111" name="Tid" isCodable="true"/></Codes>'
       '</CodeBook>\n<Sources><TextSource guid="22222222-2222-2222-2222-222222222222" name="b" '
       'plainTextPath="internal://b.txt"/></Sources>\n</Project>\n')
SOURCE = ("I: Hvordan var det?\nS1: Tid er alltid knapp.\n" * 40).encode()
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE Project [\n<!ENTITY l0 "ha">\n'
          + "\n".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
          + '\n]>\n<Project name="&l9;"/>\n')


def corrupt_member(path: Path) -> None:
    """A stored member whose bytes no longer match its CRC."""
    zipped({"project.qde": QDE.encode(), "sources/b.txt": SOURCE}, zipfile.ZIP_STORED)(path)
    data = bytearray(path.read_bytes())
    at = data.index(SOURCE[:40])
    data[at + 5] ^= 0xFF
    path.write_bytes(bytes(data))


def zeros_member(path: Path) -> None:
    """1 MB of zeros packed to about 1 KB: over a limit lowered to 10,000 bytes."""
    zipped({"project.qde": QDE.encode(), "sources/b.txt": bytes(1 << 20)})(path)


KEY = {"format": "rta-anonymise-key", "version": 1, "style": "default",
       "entries": [{"original": "Kari", "placeholder": "[PERSON 1]", "kind": "PER"}], "variants": {}}
PSEUDONYMISED = "I: Hvem?\nS1: [PERSON 1] sa hei.\n"

REGISTRY_ADD = ["add", "{tmp}/t.txt"]  # a good transcript read through a bad registry
CODE = ["code", "mini-skoleeier", "--turn", "4", "--code", "Brudd"]  # a good coding through a bad codebook
CB_HEAD = "schema_version: 1\nname: x\n"


def validating(files: dict[str, Content], expect: list[str]) -> Case:
    """`rta codebook validate cb.yaml`: its problems are a report on stdout, the verdict on stderr."""
    return Case(["codebook", "validate", "{tmp}/cb.yaml"], files, expect, report=True)
CB_CODE = "codes:\n  - name: A\n    definition: d\n"


# -- the catalogue ----------------------------------------------------------------------------

CASES = [
    # transcripts (rta add)
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "I: Hei.\nX9: Hallo.\n"}, ["t.txt:2", "X9"]),
                 id="transcript-unknown-label"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "I: Hei.\nS1 og R1.1: Ja.\n"}, ["t.txt:2"]),
                 id="transcript-two-speakers-in-one-label"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "I: Hei.\ns9: ja, det var sånn.\n"}, ["t.txt:2", "S9"]),
                 id="transcript-lowercase-unknown-code"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "I: Hei.\n[00:00:01] X9: Hallo.\n"}, ["t.txt:2", "X9"]),
                 id="transcript-timestamp-before-unknown-label"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "I: Hei.\n\u200bX\u200b9: Hallo.\n"}, ["t.txt:2", "X9"]),
                 id="transcript-format-characters-in-unknown-label"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "---\n? [a, b]\n: c\n---\n" + GOOD}, ["t.txt:2"]),
                 id="transcript-front-matter-list-as-key"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "Dette er en innledning.\n" + GOOD}, ["t.txt:1"]),
                 id="transcript-text-before-first-label"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": ""}, ["t.txt"]), id="transcript-empty-file"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": " \n\t\n  \n"}, ["t.txt"]), id="transcript-only-whitespace"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": b"I: Hei.\nS1: V\xe6r s\xe5 god.\n"}, ["t.txt:2", "UTF-8"]),
                 id="transcript-not-utf8"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "I: Hei.\nS1: ja\x00nei\n"}, ["t.txt:2"]),
                 id="transcript-nul-byte"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "I: Hei.\nS1: ja \x1b]0;tittel\x07 \x1b[2J nei\n"},
                      ["t.txt:2"]), id="transcript-escape-sequence"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "I: Hei.\nS1: ja \x9b2J nei\n"}, ["t.txt:2"]),
                 id="transcript-c1-control"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "---\nid: t\ndate: 2021-01-01\n" + GOOD}, ["t.txt"]),
                 id="transcript-unclosed-front-matter"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "---\n- id\n- t\n---\n" + GOOD}, ["t.txt"]),
                 id="transcript-front-matter-not-a-mapping"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "---\nid: t\ninformants: 5\n---\n" + GOOD},
                      ["t.txt:3", "informants"]), id="transcript-front-matter-informants-a-number"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "---\nid: t\ngroup: {a: b}\n---\n" + GOOD},
                      ["t.txt:3", "group"]), id="transcript-front-matter-group-a-mapping"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "---\nid: [a]\n---\n" + GOOD}, ["t.txt:2", "id"]),
                 id="transcript-front-matter-id-a-list"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "---\nid: t\n" + yaml_bomb() + "---\n" + GOOD},
                      ["t.txt:", "aliases"]), id="transcript-front-matter-alias-bomb"),
    pytest.param(Case(["add", "{tmp}/mappe.txt"], {"mappe.txt": None}, ["mappe.txt"]), id="transcript-is-a-folder"),
    pytest.param(Case(["add", "{tmp}/finnes-ikke.txt"], {}, ["finnes-ikke.txt"]), id="transcript-missing-file"),
    pytest.param(Case(["add", "{tmp}/t.pdf"], {"t.pdf": GOOD}, ["t.pdf"]), id="transcript-unsupported-suffix"),
    pytest.param(Case(["add", "{tmp}/dup.txt"], {"dup.txt": "---\nid: mini-skoleeier\n---\n" + GOOD},
                      ["dup.txt:", "mini-skoleeier"]), id="transcript-duplicate-id-in-project"),
    pytest.param(Case(["add", "{tmp}/a/t.txt", "{tmp}/b/t.txt"], {"a/t.txt": GOOD, "b/t.txt": GOOD + "S1: Mer.\n"},
                      ["t.txt", "duplicate"]), id="transcript-duplicate-id-in-one-add"),
    pytest.param(Case(["add", "{tmp}/t.docx"], {"t.docx": "dette er ingen zip\n"}, ["t.docx"]),
                 id="transcript-docx-not-a-zip"),
    pytest.param(Case(["add", "{tmp}/t.docx"], {"t.docx": zipped({"t.txt": GOOD.encode()})}, ["t.docx"]),
                 id="transcript-docx-zip-but-not-word"),
    pytest.param(Case(["add", "--encoding", "no-such-codec", "{tmp}/t.txt"], {"t.txt": GOOD}, ["no-such-codec"]),
                 id="transcript-unknown-encoding"),
    pytest.param(Case(["add", "{tmp}/good.txt", "{tmp}/t.txt"], {"good.txt": GOOD, "t.txt": "I: Hei.\nQ7: Hm.\n"},
                      ["t.txt:2"]), id="transcript-one-bad-file-among-good-stores-none"),
    # informant registries (the project's informants.yaml, read by rta add)
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": replace_in("\ninformants:\n",
                                                                                    "\ninformants: 5\nx:\n")},
                      ["informants.yaml:"]), id="registry-informants-a-number"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": "name: x\nroles: \"S\"\n"},
                      ["informants.yaml:2", "roles"]), id="registry-roles-not-a-list"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": "roles:\n  - {key: a, name: A, pattern: 5}\n"},
                      ["informants.yaml:2", "pattern"]), id="registry-pattern-not-text"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": replace_in("pattern: 'V[a-z]'",
                                                                                    "pattern: 'V[a-z'")},
                      ["informants.yaml:", "V[a-z"]), id="registry-invalid-regex"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": replace_in("pattern: 'V[a-z]'",
                                                                                    "pattern: 'V(?=[a-z])[a-z]'")},
                      ["informants.yaml:", "lookahead"]), id="registry-regex-the-linear-engine-cannot-run"),
    pytest.param(Case(["add", "{tmp}/t.txt"], {"t.txt": "I: Hei.\nS" + "1" * 30 + "x: Hallo.\n",
                                               "p/informants.yaml": replace_in("pattern: 'S(?P<group>\\d+)'",
                                                                               "pattern: 'S(?P<group>(\\d+)+)'")},
                      ["t.txt:2"]), id="registry-catastrophic-pattern-meets-a-hostile-label"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": append_to(
        "  - {code: S1, role: skoleeier, group: kommune 1}\n")}, ["informants.yaml:", "S1"]),
        id="registry-duplicate-informant-code"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": append_to(
        "  - {code: S9, role: rektor, group: kommune 9}\n")}, ["informants.yaml:", "rektor"]),
        id="registry-unknown-role"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": append_to("extra:\n" + yaml_bomb("  "))},
                      ["informants.yaml:", "aliases"]), id="registry-alias-bomb"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": lambda p: p.write_bytes(
        p.read_bytes() + b"# V\xe6rsgod\n")}, ["informants.yaml:", "UTF-8"]), id="registry-not-utf8"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/informants.yaml": "roles: [\n"},
                      ["informants.yaml:", "YAML"]), id="registry-yaml-syntax-error"),
    pytest.param(Case(REGISTRY_ADD, {"t.txt": GOOD, "p/rta.toml": replace_in('registry = "informants.yaml"',
                                                                             'registry = "borte.yaml"')},
                      ["borte.yaml"]), id="registry-missing-file"),
    # codebooks: `rta codebook validate FILE`, and the project's codebook under `rta code`
    pytest.param(validating( {"cb.yaml": CB_HEAD + "codes: [\n  - name: A\n"},
                      ["cb.yaml:"]), id="codebook-yaml-syntax-error"),
    pytest.param(validating( {"cb.yaml": CB_HEAD + "codes: {A: 1}\n"},
                      ["cb.yaml:3", "codes"]), id="codebook-codes-not-a-list"),
    pytest.param(validating( {"cb.yaml": CB_HEAD + CB_CODE.replace("A", "5")},
                      ["cb.yaml:4", "number"]), id="codebook-number-as-code-name"),
    pytest.param(validating(
                      {"cb.yaml": CB_HEAD + CB_CODE + "  - name: A\n    definition: e\n"},
                      ["cb.yaml:6", "A"]), id="codebook-duplicate-code"),
    pytest.param(validating(
                      {"cb.yaml": CB_HEAD + CB_CODE + "    indicators: {regex: ['uklar(']}\n"},
                      ["cb.yaml:6"]), id="codebook-invalid-regex-indicator"),
    pytest.param(validating( {"cb.yaml": CB_HEAD + CB_CODE + yaml_bomb()},
                      ["cb.yaml:", "aliases"]), id="codebook-alias-bomb"),
    pytest.param(validating(
                      {"cb.yaml": (DATA / "codebooks" / "err_theme_unknown_code.yaml").read_text(encoding="utf-8")},
                      ["cb.yaml:13", "Kontinuitett"]), id="codebook-theme-names-unknown-code"),
    pytest.param(validating( {"cb.yaml": b"schema_version: 1\nname: V\xe6r\n"},
                      ["cb.yaml:2", "UTF-8"]), id="codebook-not-utf8"),
    pytest.param(Case(["codebook", "validate", "{tmp}/borte.yaml"], {}, ["borte.yaml", "not found"],
                      report=True), id="codebook-missing-file"),
    pytest.param(Case(CODE, {"p/codebook.yaml": replace_in("codes:\n", "codes: 5\nx:\n")}, ["codebook.yaml:"]),
                 id="codebook-of-the-project-broken-under-code"),
    pytest.param(Case(CODE, {"p/codebook.yaml": append_to(yaml_bomb())}, ["codebook.yaml:", "aliases"]),
                 id="codebook-of-the-project-alias-bomb-under-code"),
    # rta.toml (read by every project command; `rta code` would write)
    pytest.param(Case(CODE, {"p/rta.toml": replace_in('coder = "', 'coder = = "')}, ["rta.toml:", "TOML"]),
                 id="rta-toml-syntax-error"),
    pytest.param(Case(CODE, {"p/rta.toml": lambda p: p.write_bytes(p.read_bytes().replace(b'name = "', b'name = "\xf8'))},
                      ["rta.toml:3", "UTF-8"]), id="rta-toml-not-utf8"),
    pytest.param(Case(CODE, {"p/rta.toml": replace_in('pipeline = "auto"', "pipeline = 5")}, ["rta.toml:", "pipeline"]),
                 id="rta-toml-number-for-text"),
    pytest.param(Case(CODE, {"p/rta.toml": replace_in("allow = []", 'allow = "Udir"')}, ["rta.toml:", "allow"]),
                 id="rta-toml-text-for-list"),
    pytest.param(Case(CODE, {"p/rta.toml": replace_in('codebook = "codebook.yaml"', 'codebook = ["a"]')},
                      ["rta.toml:", "codebook"]), id="rta-toml-list-for-path"),
    # REFI-QDA: .qdpx (rta import-qdpx) and .qdc (rta codebook import)
    pytest.param(Case(["import-qdpx", "{tmp}/mappe.qdpx"], {"mappe.qdpx": None}, ["mappe.qdpx", "folder"]),
                 id="qdpx-a-folder"),
    pytest.param(Case(["import-qdpx", "{tmp}/x.qdpx"], {"x.qdpx": "dette er ingen zip\n"}, ["x.qdpx"]),
                 id="qdpx-not-a-zip"),
    pytest.param(Case(["import-qdpx", "{tmp}/x.qdpx"], {"x.qdpx": corrupt_member}, ["x.qdpx", "corrupt"]),
                 id="qdpx-corrupt-member"),
    pytest.param(Case(["import-qdpx", "{tmp}/x.qdpx"], {"x.qdpx": zeros_member}, ["x.qdpx", "10,000 bytes"],
                      env={"RTA_QDPX_MAX_BYTES": "10000"}), id="qdpx-zip-bomb-over-a-lowered-limit"),
    pytest.param(Case(["import-qdpx", "{tmp}/x.qdpx"], {"x.qdpx": zipped(
        {"project.qde": QDE.encode(), "sources/../../evil.txt": b"x", "sources/b.txt": SOURCE})},
        ["x.qdpx", "unsafe member path"]), id="qdpx-zip-slip"),
    pytest.param(Case(["import-qdpx", "{tmp}/x.qdpx"], {"x.qdpx": zipped({"sources/b.txt": SOURCE})},
                      ["x.qdpx", "project.qde"]), id="qdpx-no-project-qde"),
    pytest.param(Case(["import-qdpx", "{tmp}/x.qdpx"], {"x.qdpx": zipped(
        {"project.qde": b'<?xml version="1.0"?>\n<Project>\n<Sources>\n</Project>\n', "sources/b.txt": SOURCE})},
        ["x.qdpx:project.qde:4"]), id="qdpx-malformed-xml"),
    pytest.param(Case(["import-qdpx", "{tmp}/x.qdpx"], {"x.qdpx": zipped(
        {"project.qde": LAUGHS.encode(), "sources/b.txt": SOURCE})}, ["x.qdpx", "entities"]),
        id="qdpx-billion-laughs"),
    pytest.param(Case(["import-qdpx", "{tmp}/x.qdpx"], {"x.qdpx": zipped(
        {"project.qde": QDE.encode().replace(b"internal://b.txt", b"internal://c.txt"), "sources/b.txt": SOURCE})},
        ["x.qdpx", "c.txt"]), id="qdpx-source-member-missing"),
    pytest.param(Case(["codebook", "import", "{tmp}/x.qdc"], {"x.qdc": '<?xml version="1.0"?>\n<CodeBook>\n<Codes>\n'},
                      ["x.qdc"]), id="qdc-malformed-xml"),
    pytest.param(Case(["codebook", "import", "{tmp}/x.qdc"], {"x.qdc": LAUGHS.replace("Project", "CodeBook")},
                      ["x.qdc"]), id="qdc-billion-laughs"),
    pytest.param(Case(["codebook", "import", "{tmp}/mappe.qdc"], {"mappe.qdc": None}, ["mappe.qdc"]),
                 id="qdc-a-folder"),
    # key files (rta anonymise reverse / apply --key)
    pytest.param(Case(["anonymise", "reverse", "{tmp}/t.txt", "--key", "{tmp}/key.json"],
                      {"t.txt": PSEUDONYMISED, "key.json": json.dumps([KEY])}, ["key.json"]), id="key-a-json-list"),
    pytest.param(Case(["anonymise", "reverse", "{tmp}/t.txt", "--key", "{tmp}/key.json"],
                      {"t.txt": PSEUDONYMISED, "key.json": json.dumps(
                          {**KEY, "entries": [{"original": 5, "placeholder": ["x"], "kind": "PER"}]})},
                      ["key.json"]), id="key-values-not-text"),
    pytest.param(Case(["anonymise", "reverse", "{tmp}/t.txt", "--key", "{tmp}/key.json"],
                      {"t.txt": PSEUDONYMISED, "key.json": '{\n  "format": "rta-anonymise-key",\n  "entries": [\n}\n'},
                      ["key.json:4", "JSON"]), id="key-invalid-json"),
    pytest.param(Case(["anonymise", "reverse", "{tmp}/t.txt", "--key", "{tmp}/key.json"],
                      {"t.txt": PSEUDONYMISED,
                       "key.json": json.dumps(KEY, indent=2).encode().replace(b"Kari", b"K\xe5ri")},
                      ["key.json:", "UTF-8"]), id="key-not-utf8"),
    pytest.param(Case(["anonymise", "apply", "--key", "{tmp}/key.json", "--pipeline", "none"],
                      {"key.json": json.dumps([KEY])}, ["key.json"]), id="key-a-json-list-at-apply"),
    pytest.param(Case(["anonymise", "apply", "--key", "{tmp}/key.json", "--pipeline", "none"],
                      {"key.json": "{\n  \"format\": \"rta-anonymise-key\",\n"}, ["key.json:"]),
                 id="key-invalid-json-at-apply"),
    pytest.param(Case(["anonymise", "apply", "--key", "{proj}/key.json", "--pipeline", "none"], {}, ["key.json"]),
                 id="key-inside-the-project-at-apply"),
    # command-line arguments
    pytest.param(Case(["codings", "--no-such-option"], {}, ["--no-such-option"]), id="cli-unknown-option"),
    pytest.param(Case(["bogus"], {}, ["bogus"]), id="cli-unknown-command"),
    pytest.param(Case(["code", "mini-skoleeier", "--turn", "2"], {}, ["--code"]), id="cli-missing-option"),
    pytest.param(Case(["uncode"], {}, ["coding_id"]), id="cli-missing-argument"),
    pytest.param(Case(["code", "mini-skoleeier", "--turn", "2", "--code"], {}, ["--code"]), id="cli-option-without-value"),
    pytest.param(Case(["uncode", "abc"], {}, ["coding_id", "abc"]), id="cli-uncode-not-a-number"),
    pytest.param(Case(["uncode", HUGE], {}, ["coding_id", "too large"]), id="cli-uncode-past-any-integer"),
    pytest.param(Case(["uncode", "999999"], {}, ["999999"]), id="cli-uncode-unknown-id"),
    pytest.param(Case(["recode", "1", "--code", "Finnes-ikke"], {}, ["Finnes-ikke"]), id="cli-recode-unknown-code"),
    pytest.param(Case(["code", "mini-skoleeier", "--turn", HUGE, "--code", "Brudd"], {}, ["--turn", "too large"]),
                 id="cli-turn-past-any-integer"),
    pytest.param(Case(["code", "mini-skoleeier", "--turn", "99", "--code", "Brudd"], {}, ["99"]),
                 id="cli-turn-past-the-last-turn"),
    pytest.param(Case(["code", "mini-skoleeier", "--lines", "9-3", "--code", "Brudd"], {}, ["9-3"]),
                 id="cli-lines-backwards"),
    pytest.param(Case(["code", "mini-skoleeier", "--lines", "x", "--code", "Brudd"], {}, ["'x'"]),
                 id="cli-lines-not-numbers"),
    pytest.param(Case(["code", "mini-skoleeier", "--lines", "400-410", "--code", "Brudd"], {}, ["400"]),
                 id="cli-lines-past-the-end"),
    pytest.param(Case(["code", "finnes-ikke", "--turn", "2", "--code", "Brudd"], {}, ["finnes-ikke"]),
                 id="cli-unknown-transcript-id"),
    pytest.param(Case(["code", "mini-skoleeier", "--turn", "4", "--code", "Finnes-ikke"], {}, ["Finnes-ikke"]),
                 id="cli-unknown-code-name"),
    pytest.param(Case(["code", "mini-skoleeier", "--turn", "2", "--code", "Brudd"], {}, ["Brudd", "#1"]),
                 id="cli-duplicate-coding"),
    pytest.param(Case(["memo", "add", "--on", "kode:Brudd", "tekst"], {}, ["kode:Brudd"]), id="cli-memo-on-unknown-kind"),
    pytest.param(Case(["codings", "--format", "xml"], {}, ["--format", "xml"]), id="cli-format-xml-codings"),
    pytest.param(Case(["log", "--format", "xml"], {}, ["--format", "xml"]), id="cli-format-xml-log"),
    pytest.param(Case(["memos", "--format", "xml"], {}, ["--format", "xml"]), id="cli-format-xml-memos"),
    pytest.param(Case(["export", "quotes", "--format", "xml"], {}, ["--format", "xml"]),
                 id="cli-format-xml-export-quotes"),
    pytest.param(Case(["report", "--format", "html,xml"], {}, ["xml"]), id="cli-format-xml-report"),
    pytest.param(Case(["export", "quotes", "-o", "{tmp}/mappe"], {"mappe": None}, ["mappe", "folder"]),
                 id="cli-output-is-a-folder"),
    pytest.param(Case(["export", "quotes", "-o", "{tmp}/borte/q.csv"], {}, ["borte", "does not exist"]),
                 id="cli-output-in-a-missing-folder"),
    pytest.param(Case(["export", "qdpx", "{tmp}/fil.txt/x.qdpx"], {"fil.txt": "x"}, ["fil.txt", "not a folder"]),
                 id="cli-output-under-a-file"),
    pytest.param(Case(["report", "--out", "{proj}/rta.toml"], {}, ["rta.toml", "not a folder"]),
                 id="cli-report-folder-is-a-file"),
    pytest.param(Case(["log", "--since", "01.13.2026"], {}, ["--since", "01.13.2026"]), id="cli-since-not-a-date"),
    pytest.param(Case(["log", "--since", "i går"], {}, ["--since"]), id="cli-since-a-word"),
    pytest.param(Case(["-P", "{tmp}/ikke-et-prosjekt", "codings"], {"ikke-et-prosjekt": None}, ["ikke-et-prosjekt"]),
                 id="cli-project-folder-without-rta-toml"),
]


# -- the harness ------------------------------------------------------------------------------


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return code, out.out, out.err


def _dump(db: Path) -> list[str]:
    conn = sqlite3.connect(str(db))
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _files(root: Path) -> set[str]:
    """Every path in the project but SQLite's own -wal/-shm files (an in-process run leaves the
    connection to the garbage collector, so they may linger; they are not rta's files)."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.name.endswith(("-wal", "-shm"))}


@pytest.fixture(autouse=True)
def _environment(tmp_path, monkeypatch):
    monkeypatch.delenv("RTA_PROJECT", raising=False)
    monkeypatch.delenv("RTA_QDPX_MAX_BYTES", raising=False)
    monkeypatch.setenv("RTA_CODER", "tester")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The project every case starts from: two mini transcripts, one coding (#1, Brudd)."""
    root = tmp_path_factory.mktemp("bad-inputs") / "p"
    transcripts = sorted(str(p) for p in (DATA / "transcripts").glob("mini-*.txt"))
    for argv in (["init", str(root), "--coder", "tester"], ["-P", str(root), "add", *transcripts],
                 ["-P", str(root), "code", "mini-skoleeier", "--turn", "2", "--code", "Brudd"]):
        try:
            main(argv)
        except SystemExit as exc:
            assert not exc.code, argv
    return root


def _fill(text: str, tmp: Path, proj: Path) -> str:
    return text.replace("{tmp}", str(tmp)).replace("{proj}", str(proj))


def _write(path: Path, content: Content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        path.mkdir()
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content(path)


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_clearly_and_changes_nothing(case: Case, built, tmp_path, capsys, monkeypatch):
    proj = tmp_path / "p"
    shutil.copytree(built, proj)
    for name, content in case.files.items():
        _write(tmp_path / name, content)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    before_dump, before_files = _dump(proj / "rta.db"), _files(proj)
    argv = [_fill(a, tmp_path, proj) for a in case.argv]
    if argv[0] != "-P":
        argv = ["-P", str(proj), *argv]

    started = time.monotonic()
    code, out, err = _run(argv, capsys)
    elapsed = time.monotonic() - started

    assert "Traceback" not in out + err
    assert code == 2, (code, out, err)
    assert err.strip(), "no message on stderr"
    shown = (out + err if case.report else err).lower()
    for expected in case.expect:
        assert _fill(expected, tmp_path, proj).lower() in shown, (expected, out, err)
    assert _dump(proj / "rta.db") == before_dump, "the store changed"
    assert _files(proj) == before_files, "files appeared in or vanished from the project"
    assert elapsed < 10, f"took {elapsed:.1f} s"  # no hang (generous: the test machine is shared)


def test_the_catalogue_holds_at_least_fifty_kinds_of_bad_input():
    ids = [param.id for param in CASES]
    assert len(ids) == len(set(ids)) >= 50
    families = {i.split("-")[0] for i in ids}
    assert {"transcript", "registry", "codebook", "rta", "qdpx", "qdc", "key", "cli"} <= families


def test_the_built_project_accepts_a_good_transcript_so_the_refusals_are_about_the_input(built, tmp_path, capsys):
    """The control case: the same commands with good input succeed (and change the store)."""
    proj = tmp_path / "p"
    shutil.copytree(built, proj)
    (tmp_path / "t.txt").write_text(GOOD, encoding="utf-8")
    before = _dump(proj / "rta.db")
    code, _, err = _run(["-P", str(proj), "add", str(tmp_path / "t.txt")], capsys)
    assert code == 0, err
    code, _, err = _run(["-P", str(proj), *CODE], capsys)
    assert code == 0, err
    assert _dump(proj / "rta.db") != before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions (not root)")
def test_output_in_a_read_only_folder_is_refused(built, tmp_path, capsys):
    proj = tmp_path / "p"
    shutil.copytree(built, proj)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        before = _dump(proj / "rta.db")
        code, out, err = _run(["-P", str(proj), "export", "quotes", "-o", str(locked / "q.csv")], capsys)
        assert code == 2 and "Traceback" not in out + err and "locked" in err
        assert list(locked.iterdir()) == [] and _dump(proj / "rta.db") == before
    finally:
        locked.chmod(0o755)


def test_the_console_script_refuses_a_bad_transcript_without_a_traceback(built, tmp_path):
    """One real process: the entry point prints the same clear error."""
    proj = tmp_path / "p"
    shutil.copytree(built, proj)
    bad = tmp_path / "t.txt"
    bad.write_text("I: Hei.\nS1: ja\x00nei\n", encoding="utf-8")
    script = Path(sys.executable).with_name("rta")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "rta"]
    done = subprocess.run([*command, "-P", str(proj), "add", str(bad)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, env={**os.environ, "RTA_CODER": "tester"})
    assert done.returncode == 2 and "Traceback" not in done.stderr and "t.txt:2" in done.stderr, done.stderr
