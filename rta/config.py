"""The project configuration file ``rta.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import Problem, RtaError
from rta.fsutil import atomic_write_text

CONFIG_NAME = "rta.toml"


@dataclass
class Config:
    """What a study's ``rta.toml`` holds. Paths are relative to the project folder."""

    name: str
    language: str = "nb"
    registry: str = "informants.yaml"
    codebook: str = "codebook.yaml"
    coder: str = ""
    pipeline: str = "auto"  # 'auto' or a spaCy package name / path to pin
    allow: list[str] = field(default_factory=list)  # anonymisation allow-list
    deny: list[str] = field(default_factory=list)  # anonymisation deny-list
    report_lang: str = "nb"  # [report] lang: the language of a report's fixed text (nb or en)
    report_title: str = ""  # [report] title: the report's title (default: 'Tema i NAME' / 'Themes in NAME')
    extra: dict[str, Any] = field(default_factory=dict)

    def to_toml(self) -> str:
        def q(value: str) -> str:
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

        def qlist(values: list[str]) -> str:
            return "[" + ", ".join(q(v) for v in values) + "]"

        return (
            "# rta project configuration. Paths are relative to this folder.\n"
            "[project]\n"
            f"name = {q(self.name)}\n"
            f"language = {q(self.language)}\n"
            "\n[paths]\n"
            "# informant registry (codes, roles, groups, label patterns)\n"
            f"registry = {q(self.registry)}\n"
            f"codebook = {q(self.codebook)}\n"
            "\n[coding]\n"
            "# default coder name; --coder and $RTA_CODER override it\n"
            f"coder = {q(self.coder)}\n"
            "\n[nlp]\n"
            "# 'auto' picks the best Norwegian pipeline installed; or pin one, e.g. \"nb_core_news_sm\"\n"
            f"pipeline = {q(self.pipeline)}\n"
            "\n[anonymise]\n"
            "# terms never flagged (e.g. Statsforvalteren, Udir, UH) and names always flagged\n"
            f"allow = {qlist(self.allow)}\n"
            f"deny = {qlist(self.deny)}\n"
            "\n[report]\n"
            "# the language of the report's own text (nb or en) and its title (empty: 'Tema i <name>')\n"
            f"lang = {q(self.report_lang)}\n"
            f"title = {q(self.report_title)}\n"
        )


#: The known keys: section -> key -> (expected type, what to write). Wrong types are refused
#: with the line, so a typo never silently becomes e.g. the codebook path "['a']".
_TEXT = (str, "text in quotes")
_TEXT_LIST = (list, "a list of texts, e.g. [\"Udir\", \"UH\"]")
_SCHEMA: dict[str, dict[str, tuple[type, str]]] = {
    "project": {"name": _TEXT, "language": _TEXT},
    "paths": {"registry": _TEXT, "codebook": _TEXT},
    "coding": {"coder": _TEXT},
    "nlp": {"pipeline": _TEXT},
    "anonymise": {"allow": _TEXT_LIST, "deny": _TEXT_LIST},
    "report": {"lang": _TEXT, "title": _TEXT},
}
_TOML_POS = re.compile(r"\(at line (\d+), column \d+\)|\(at end of document\)")


def _key_line(text: str, section: str, key: str | None = None) -> int | None:
    """The line of ``[section]`` (or of ``key = ...`` inside it) in ``text``, for messages."""
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = stripped.split("]")[0].strip("[ \t").replace(" ", "").replace('"', "")
            if current == (section if key is None else f"{section}.{key}"):
                return number
            continue
        if current == section and key is not None and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
        if current is None and key is None and re.match(rf"{re.escape(section)}\s*=", stripped):
            return number
    return None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        odd = next((x for x in value if not isinstance(x, str)), None)
        return "a list" if odd is None else f"a list holding {_describe(odd)}"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"the {type(value).__name__} {value}"


def load_config(path: str | Path) -> Config:
    """Read ``rta.toml``. Not UTF-8, TOML syntax errors and known keys of the wrong type are
    :class:`RtaError` naming the file and line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RtaError("configuration file not found", path=path, hint="run 'rta init DIR' first") from None
    except IsADirectoryError:
        raise RtaError("is a directory, expected the configuration file rta.toml", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RtaError(f"not valid UTF-8 ({exc.reason})", path=path, line=line, hint="save rta.toml as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_POS.search(message)
        line = getattr(exc, "lineno", None)
        if line is None and m is not None:
            line = int(m.group(1)) if m.group(1) else text.count("\n") + 1
        if m is not None:
            message = message[: m.start()].strip()
        raise RtaError(f"invalid TOML: {message}", path=path, line=line, hint="fix the syntax of rta.toml") from None
    problems: list[Problem] = []
    sections: dict[str, dict[str, Any]] = {}
    for section, keys in _SCHEMA.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            problems.append(Problem(f"`{section}` must be a table ([{section}]), not {_describe(table)}", path,
                                    _key_line(text, section)))
            table = {}
        sections[section] = table
        for key, (kind, what) in keys.items():
            if key not in table:
                continue
            value = table[key]
            ok = isinstance(value, kind) and (kind is not list or all(isinstance(x, str) for x in value))
            if not ok:
                problems.append(Problem(f"[{section}] {key} must be {what}, not {_describe(value)}", path,
                                        _key_line(text, section, key)))
    if problems:
        raise RtaError(f"invalid configuration ({len(problems)} problem(s))", path=path, problems=problems)
    project, paths, coding = sections["project"], sections["paths"], sections["coding"]
    nlp, anon, report = sections["nlp"], sections["anonymise"], sections["report"]
    lang = report.get("lang", project.get("language", "nb") if project.get("language") in ("nb", "en") else "nb")
    if lang not in ("nb", "en"):
        raise RtaError(f"[report] lang must be \"nb\" or \"en\", not \"{lang}\"", path=path,
                       line=_key_line(text, "report", "lang"), hint="set lang = \"nb\" or lang = \"en\" under [report]")
    if not project.get("name"):
        raise RtaError("[project] name is missing", path=path, line=_key_line(text, "project"),
                       hint="add name = \"...\" under [project]")
    return Config(
        name=project["name"],
        language=project.get("language", "nb"),
        registry=paths.get("registry", "informants.yaml"),
        codebook=paths.get("codebook", "codebook.yaml"),
        coder=coding.get("coder", ""),
        pipeline=nlp.get("pipeline", "auto"),
        allow=list(anon.get("allow", [])),
        deny=list(anon.get("deny", [])),
        report_lang=lang,
        report_title=report.get("title", ""),
        extra={k: v for k, v in data.items() if k not in _SCHEMA},
    )


def save_config(path: str | Path, config: Config) -> None:
    atomic_write_text(path, config.to_toml())
