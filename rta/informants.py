"""The informant registry: who speaks in the transcripts, with which role and group.

Informant codes such as ``S1`` (school owner, municipality 1), ``R1.1`` (school leader 1 in
municipality 1) and ``Va`` (adviser a) are data, read from a YAML registry. The role follows
from a per-role regular expression, so other labelling schemes ("Skoleeier A", "Rektor 2",
"UH1") only need another registry file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import Problem, RtaError
from rta.yamlutil import LINE_KEY, load_yaml_file, strip_lines

INTERVIEWER_ROLE = "intervjuer"
_WS = re.compile(r"\s+")


def squash(label: str) -> str:
    """A label with all whitespace removed: how ``R 2.1`` and ``R2.1`` are compared."""
    return _WS.sub("", label)


@dataclass(frozen=True)
class Role:
    """A kind of informant (Skoleeier, Skoleleder, Veileder, ...)."""

    key: str
    name: str
    pattern: str
    plural: str = ""
    description: str = ""
    group_format: str | None = None

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def match(self, label: str) -> re.Match[str] | None:
        """Full match of the label (whitespace-insensitive) against the role's pattern."""
        return self.regex.fullmatch(squash(label)) or self.regex.fullmatch(_WS.sub(" ", label.strip()))

    def group_of(self, match: re.Match[str]) -> str | None:
        if not self.group_format or "group" not in match.re.groupindex:
            return None
        return self.group_format.format(group=match.group("group"))


@dataclass(frozen=True)
class Informant:
    """One informant code in the registry."""

    code: str
    role: str
    group: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Registry:
    """Roles, known informants and interviewer labels of a study."""

    name: str
    roles: list[Role]
    informants: list[Informant]
    interviewer_labels: list[str]
    path: Path | None = None

    def role(self, key: str) -> Role:
        for role in self.roles:
            if role.key == key:
                return role
        raise KeyError(key)

    def role_name(self, key: str | None) -> str:
        if key == INTERVIEWER_ROLE:
            return "Intervjuer"
        try:
            return self.role(key).name if key else ""
        except KeyError:
            return key or ""

    def role_order(self) -> list[str]:
        return [r.key for r in self.roles]

    def informant(self, code: str) -> Informant | None:
        wanted = squash(code)
        for inf in self.informants:
            if squash(inf.code) == wanted:
                return inf
        return None

    def is_interviewer(self, label: str, extra: list[str] | tuple[str, ...] = ()) -> bool:
        wanted = squash(label).casefold()
        return any(squash(lbl).casefold() == wanted for lbl in [*self.interviewer_labels, *extra])

    def matching_roles(self, label: str) -> list[tuple[Role, re.Match[str]]]:
        found = []
        for role in self.roles:
            m = role.match(label)
            if m:
                found.append((role, m))
        return found

    def known_labels(self) -> list[str]:
        return [i.code for i in self.informants] + list(self.interviewer_labels)

    def with_declared(self, declared: list[Informant]) -> "Registry":
        """A registry extended by informants declared in one transcript's front matter."""
        extra = [d for d in declared if self.informant(d.code) is None]
        if not extra:
            return self
        return Registry(self.name, self.roles, [*self.informants, *extra], self.interviewer_labels, self.path)

    def resolve(self, label: str) -> Informant:
        """The informant a speaker label stands for.

        Raises :class:`LabelError` for a label that matches no role, matches two roles, or
        matches a role but is missing from a non-empty informant list.
        """
        known = self.informant(label)
        roles = self.matching_roles(label)
        if len(roles) > 1:
            names = ", ".join(f"{r.name} ({r.pattern})" for r, _ in roles)
            raise LabelError(
                f"speaker label '{label}' matches more than one role: {names}",
                hint="make the role patterns in the informant registry mutually exclusive",
            )
        if known is not None:
            return known
        if roles and not self.informants:
            role, match = roles[0]
            return Informant(code=_WS.sub(" ", label.strip()), role=role.key, group=role.group_of(match))
        suggestions = self.suggest(label)
        hint = f"did you mean {' or '.join(suggestions)}?" if suggestions else None
        if roles:
            role = roles[0][0]
            msg = f"speaker label '{label}' looks like a {role.name} but is not in the informant registry"
            hint = (hint + " " if hint else "") + (
                "If it is a new informant, add it to the registry or declare it in the transcript's "
                "front matter (informants: [...])."
            )
        else:
            msg = f"unknown speaker label '{label}'"
            hint = (hint + " " if hint else "") + (
                "Known labels: " + ", ".join(self.known_labels())
            )
        raise LabelError(msg, hint=hint)

    def suggest(self, label: str, limit: int = 3) -> list[str]:
        from rapidfuzz import fuzz, process

        choices = self.known_labels()
        hits = process.extract(squash(label), choices, scorer=fuzz.ratio, limit=limit, score_cutoff=40)
        return [h[0] for h in hits]


class LabelError(RtaError):
    """A speaker label the registry cannot place."""


def load_registry(path: str | Path) -> Registry:
    """Read and check a registry YAML file; every problem names the file and line."""
    path = Path(path)
    data = load_yaml_file(path)
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise RtaError("an informant registry must be a mapping with `roles` and `informants`", path=path, line=1)
    roles: list[Role] = []
    for raw in data.get("roles") or []:
        line = raw.get(LINE_KEY) if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or not raw.get("key") or not raw.get("pattern"):
            problems.append(Problem("each role needs `key` and `pattern`", path, line))
            continue
        try:
            re.compile(str(raw["pattern"]))
        except re.error as exc:
            problems.append(Problem(f"invalid regular expression for role {raw['key']}: {exc}", path, line))
            continue
        roles.append(
            Role(
                key=str(raw["key"]),
                name=str(raw.get("name") or raw["key"]),
                pattern=str(raw["pattern"]),
                plural=str(raw.get("plural") or ""),
                description=str(raw.get("description") or ""),
                group_format=raw.get("group_format"),
            )
        )
    if not roles and not problems:
        problems.append(Problem("the registry defines no roles", path, 1, hint="add a `roles:` list"))
    informants: list[Informant] = []
    seen: dict[str, int | None] = {}
    role_keys = {r.key for r in roles}
    for raw in data.get("informants") or []:
        line = raw.get(LINE_KEY) if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or not raw.get("code"):
            problems.append(Problem("each informant needs a `code`", path, line))
            continue
        code = str(raw["code"])
        if squash(code) in seen:
            problems.append(Problem(f"duplicate informant code {code} (first on line {seen[squash(code)]})", path, line))
            continue
        seen[squash(code)] = line
        role_key = raw.get("role")
        if role_key is None:
            matches = [r for r in roles if r.match(code)]
            role_key = matches[0].key if len(matches) == 1 else None
        if role_key not in role_keys:
            problems.append(
                Problem(f"informant {code}: unknown role {role_key!r}", path, line, hint=f"use one of {sorted(role_keys)}")
            )
            continue
        attrs = strip_lines({k: v for k, v in raw.items() if k not in ("code", "role", "group")})
        informants.append(Informant(code=code, role=str(role_key), group=raw.get("group"), attributes=attrs))
    labels = [str(x) for x in (data.get("interviewer_labels") or ["I", "Intervjuer"])]
    if problems:
        raise RtaError(f"invalid informant registry ({len(problems)} problem(s))", path=path, problems=problems)
    return Registry(name=str(data.get("name") or path.stem), roles=roles, informants=informants,
                    interviewer_labels=labels, path=path)


def default_registry() -> Registry:
    """Tabell 2 from the study: the registry new projects start with."""
    from rta.resources import default_registry_path

    return load_registry(default_registry_path())
