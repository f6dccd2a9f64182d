"""The project configuration file ``rta.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import RtaError
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
        )


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RtaError("configuration file not found", path=path, hint="run 'rta init DIR' first") from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise RtaError(f"invalid TOML: {exc}", path=path, line=line, hint="fix the syntax of rta.toml") from None
    project = data.get("project", {})
    paths = data.get("paths", {})
    coding = data.get("coding", {})
    nlp = data.get("nlp", {})
    anon = data.get("anonymise", {})
    if not project.get("name"):
        raise RtaError("[project] name is missing", path=path, hint="add name = \"...\" under [project]")
    known = {"project", "paths", "coding", "nlp", "anonymise"}
    return Config(
        name=str(project["name"]),
        language=str(project.get("language", "nb")),
        registry=str(paths.get("registry", "informants.yaml")),
        codebook=str(paths.get("codebook", "codebook.yaml")),
        coder=str(coding.get("coder", "")),
        pipeline=str(nlp.get("pipeline", "auto")),
        allow=[str(x) for x in anon.get("allow", [])],
        deny=[str(x) for x in anon.get("deny", [])],
        extra={k: v for k, v in data.items() if k not in known},
    )


def save_config(path: str | Path, config: Config) -> None:
    atomic_write_text(path, config.to_toml())
