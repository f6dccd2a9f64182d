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
from rta.userregex import UserMatch, UserPattern, UserRegexError, compile_user_regex
from rta.yamlutil import LINE_KEY, load_yaml_text, read_text_file, strip_lines

INTERVIEWER_ROLE = "intervjuer"
#: The role of a speaker brought in from another tool whose label says nothing about their role
#: (``Speaker 1``, ``Max Bigman``): its pattern matches no label, so such informants are known by
#: their listed code (or an alias) only. Map them to a study code with ``rta informants rename``.
UNKNOWN_ROLE = "ukjent"
UNKNOWN_ROLE_ENTRY = {"key": UNKNOWN_ROLE, "name": "Ukjent", "plural": "Ukjente",
                      "description": "Talere fra et annet QDA-verktøy uten kjent rolle (rta import-qdpx).",
                      "pattern": r"[^\s\S]"}
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
    def regex(self) -> UserPattern:
        """The pattern, compiled for the linear-time engine (no label can hang a parse)."""
        return compile_user_regex(self.pattern, what="role pattern")

    def match(self, label: str) -> UserMatch | None:
        """Full match of the label (whitespace-insensitive) against the role's pattern."""
        return self.regex.fullmatch(squash(label)) or self.regex.fullmatch(_WS.sub(" ", label.strip()))

    def group_of(self, match: UserMatch) -> str | None:
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
    aliases: tuple[str, ...] = ()  # other labels for the same person ("Den UH-ansatte Hege")

    def entry(self) -> dict[str, Any]:
        """The registry file's entry for this informant (``code``, ``role``, ``group``,
        ``aliases`` and its other attributes)."""
        out: dict[str, Any] = {"code": self.code, "role": self.role}
        if self.group:
            out["group"] = self.group
        if self.aliases:
            out["aliases"] = list(self.aliases)
        out.update(self.attributes)
        return out


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
        """The informant whose code, or one of whose aliases, is ``code`` (whitespace ignored)."""
        wanted = squash(code)
        for inf in self.informants:
            if squash(inf.code) == wanted:
                return inf
        for inf in self.informants:
            if any(squash(a) == wanted for a in inf.aliases):
                return inf
        return None

    def is_interviewer(self, label: str, extra: list[str] | tuple[str, ...] = ()) -> bool:
        wanted = squash(label).casefold()
        return any(squash(lbl).casefold() == wanted for lbl in [*self.interviewer_labels, *extra])

    def matching_roles(self, label: str) -> list[tuple[Role, UserMatch]]:
        found = []
        for role in self.roles:
            m = role.match(label)
            if m:
                found.append((role, m))
        return found

    def known_labels(self) -> list[str]:
        return [i.code for i in self.informants] + [a for i in self.informants for a in i.aliases] + list(
            self.interviewer_labels)

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
    """Read and check a registry YAML file; every problem (a wrong type too) names the file
    and line, and role patterns are checked for the linear-time engine."""
    path = Path(path)
    return load_registry_text(read_text_file(path, "informant registry"), path)


def load_registry_text(text: str, path: str | Path) -> Registry:
    """:func:`load_registry` of the file's text (e.g. a changed registry before it is written)."""
    path = Path(path)
    data = load_yaml_text(text, path)
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise RtaError("an informant registry must be a mapping with `roles` and `informants`", path=path, line=1,
                       hint="start from codebooks/informants_tabell2.yaml")

    def top_line(key: str) -> int:
        m = re.search(rf"^{re.escape(key)}[ \t]*:", text, re.MULTILINE)
        return text.count("\n", 0, m.start()) + 1 if m else 1

    def entries(key: str, what: str) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            problems.append(Problem(f"`{key}` must be a list of {what}, not {_type_name(value)}", path, top_line(key),
                                    hint=f"write one `- ...` entry per line under `{key}:`"))
            return []
        return value

    def text_field(raw: dict, key: str, where: str, line: int | None, required: bool = False) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            if required:
                problems.append(Problem(f"{where} needs `{key}`", path, line))
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append(Problem(f"`{key}` of {where} must be text, not {_type_name(value)}", path, line,
                                    hint="put the value in quotes"))
            return None
        return str(value)

    roles: list[Role] = []
    for raw in entries("roles", "roles"):
        line = raw.get(LINE_KEY) if isinstance(raw, dict) else None
        if not isinstance(raw, dict):
            problems.append(Problem(f"each role must be a mapping with `key` and `pattern`, not {_type_name(raw)}",
                                    path, line or top_line("roles")))
            continue
        before = len(problems)
        where = f"role {raw.get('key')!r}" if isinstance(raw.get("key"), str) else "a role"
        key = text_field(raw, "key", where, line, required=True)
        pattern_value = raw.get("pattern")
        if pattern_value is not None and not isinstance(pattern_value, str):
            problems.append(Problem(f"`pattern` of {where} must be a regular expression in quotes, "
                                    f"not {_type_name(pattern_value)}", path, line, hint="e.g. pattern: 'S(?P<group>\\d+)'"))
            continue
        pattern = text_field(raw, "pattern", where, line, required=True)
        fields = {k: text_field(raw, k, where, line) for k in ("name", "plural", "description", "group_format")}
        if key is None or pattern is None or len(problems) > before:
            continue
        try:
            compiled = compile_user_regex(pattern, path, line, what=f"pattern of role {key}")
        except UserRegexError as exc:
            problems.append(Problem(exc.message, path, line, exc.hint))
            continue
        group_format = fields["group_format"]
        if group_format is not None:
            try:
                group_format.format(group="1")
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(Problem(f"group_format {group_format!r} of role {key} is not a template: {exc}", path,
                                        line, hint="write e.g. 'Kommune {group}': only {group} is filled in"))
                continue
            if "group" not in compiled.groupindex:
                problems.append(Problem(f"role {key} has a group_format but its pattern has no (?P<group>...)", path,
                                        line, hint="name the group part of the pattern, e.g. 'S(?P<group>\\d+)'"))
                continue
        roles.append(
            Role(
                key=key,
                name=fields["name"] or key,
                pattern=pattern,
                plural=fields["plural"] or "",
                description=fields["description"] or "",
                group_format=group_format,
            )
        )
    if not roles and not problems:
        problems.append(Problem("the registry defines no roles", path, 1, hint="add a `roles:` list"))
    informants: list[Informant] = []
    seen: dict[str, int | None] = {}
    role_keys = {r.key for r in roles}
    for raw in entries("informants", "informants"):
        line = raw.get(LINE_KEY) if isinstance(raw, dict) else None
        if not isinstance(raw, dict):
            problems.append(Problem(f"each informant must be a mapping with a `code`, not {_type_name(raw)}",
                                    path, line or top_line("informants")))
            continue
        before = len(problems)
        code = text_field(raw, "code", "an informant", line, required=True)
        group = text_field(raw, "group", f"informant {code}", line)
        role_value = text_field(raw, "role", f"informant {code}", line)
        if code is None or len(problems) > before:
            continue
        if squash(code) in seen:
            problems.append(Problem(f"duplicate informant code {code} (first on line {seen[squash(code)]})", path, line))
            continue
        seen[squash(code)] = line
        aliases_value = raw.get("aliases")
        if aliases_value is not None and (not isinstance(aliases_value, list) or not all(
                isinstance(a, (str, int)) and not isinstance(a, bool) and str(a).strip() for a in aliases_value)):
            problems.append(Problem(f"`aliases` of informant {code} must be a list of labels", path, line,
                                    hint='write e.g. aliases: ["UH-ansatte Hege", "Den UH-ansatte Hege"]'))
            continue
        aliases = tuple(str(a).strip() for a in aliases_value or [])
        clash = next((a for a in aliases if squash(a) in seen), None)
        if clash is not None:
            problems.append(Problem(f"alias {clash!r} of informant {code} is already a code or alias (line "
                                    f"{seen[squash(clash)]})", path, line, hint="a label names one informant"))
            continue
        for alias in aliases:
            seen[squash(alias)] = line
        role_key = role_value
        if role_key is None:
            matches = [r for r in roles if r.match(code)]
            role_key = matches[0].key if len(matches) == 1 else None
        if role_key not in role_keys:
            problems.append(
                Problem(f"informant {code}: unknown role {role_key!r}", path, line, hint=f"use one of {sorted(role_keys)}")
            )
            continue
        attrs = strip_lines({k: v for k, v in raw.items() if k not in ("code", "role", "group", "aliases")})
        informants.append(Informant(code=code, role=str(role_key), group=group, attributes=attrs, aliases=aliases))
    labels = ["I", "Intervjuer"]
    raw_labels = data.get("interviewer_labels")
    if raw_labels is not None:
        if not isinstance(raw_labels, list) or not all(
                isinstance(x, (str, int)) and not isinstance(x, bool) for x in raw_labels):
            problems.append(Problem("`interviewer_labels` must be a list of labels (text)", path,
                                    top_line("interviewer_labels"), hint="write e.g. interviewer_labels: [I, Intervjuer]"))
        elif raw_labels:
            labels = [str(x) for x in raw_labels]
    name = data.get("name")
    if name is not None and not isinstance(name, (str, int)):
        problems.append(Problem(f"`name` must be text, not {_type_name(name)}", path, top_line("name")))
        name = None
    if problems:
        raise RtaError(f"invalid informant registry ({len(problems)} problem(s))", path=path, problems=problems)
    return Registry(name=str(name or path.stem), roles=roles, informants=informants,
                    interviewer_labels=labels, path=path)


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()} (yes/no)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"a {type(value).__name__}"


def default_registry() -> Registry:
    """Tabell 2 from the study: the registry new projects start with."""
    from rta.resources import default_registry_path

    return load_registry(default_registry_path())
