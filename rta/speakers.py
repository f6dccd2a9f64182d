"""Speakers of sources from other tools: any label scheme, or none (``rta import-qdpx``).

A study's transcripts use its informant codes (``S1``, ``R1.1``); another tool's sources may
say ``Speaker 1:``, ``Max Bigman:``, ``admin-1:`` or have no labels at all. The one rule for
what a label is stays :mod:`rta.labels`: every line it reads as a label must name a speaker the
registry knows. So before such sources are parsed, every label they use that the registry does
not know is **registered** as an informant (role ``ukjent`` unless ``--speakers FILE.yaml`` maps
it, or its label matches one role's pattern), and a source with no labels (or text before its
first label) gets ``unlabelled_speaker:`` front matter: one turn per paragraph of that speaker
(the source's one case, else ``Ukjent``). The researcher maps them to study codes afterwards
with ``rta informants rename "Speaker 1" S1`` (:mod:`rta.informant_rename`).

``--speakers FILE.yaml`` maps labels to roles::

    Speaker 1: skoleleder                      # a role key of the registry
    Max Bigman: {role: skoleeier, group: kommune 2}
    Moderator: intervjuer                      # the interviewer: never an informant
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import RtaError
from rta.informants import (INTERVIEWER_ROLE, UNKNOWN_ROLE, UNKNOWN_ROLE_ENTRY, Informant, LabelError, Registry,
                            load_registry_text, squash)

UNNAMED_SPEAKER = "Ukjent"


@dataclass
class SpeakerPlan:
    """The registry the sources are parsed with, and the file text that records it."""

    registry: Registry
    text: str | None = None  # the registry file's new text (None: unchanged)
    added: list[Informant] = field(default_factory=list)
    interviewers: list[str] = field(default_factory=list)
    unlabelled: dict[int, str] = field(default_factory=dict)  # source index -> its unlabelled speaker


def load_speaker_map(path: str | Path, registry: Registry) -> dict[str, dict[str, Any]]:
    """``--speakers FILE.yaml``: label -> {'role': key, 'group': ...} (role 'intervjuer' for the
    interviewer); a role the registry does not have is refused naming the file and line."""
    from rta.yamlutil import LINE_KEY, load_yaml_text, read_text_file, strip_lines

    path = Path(path)
    text = read_text_file(path, "speaker map")
    data = load_yaml_text(text, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RtaError("a speaker map must be a mapping of labels to roles", path=path, line=1,
                       hint="write e.g. 'Speaker 1: skoleleder' on a line of its own")
    keys = {*registry.role_order(), UNKNOWN_ROLE, INTERVIEWER_ROLE}
    out: dict[str, dict[str, Any]] = {}
    for label, value in data.items():
        if label == LINE_KEY:
            continue
        m = re.search(rf"^[\"']?{re.escape(str(label))}[\"']?\s*:", text, re.MULTILINE)
        line = text.count("\n", 0, m.start()) + 1 if m else None
        entry = strip_lines(value) if isinstance(value, dict) else {"role": value}
        role = entry.get("role")
        if not isinstance(role, str) or role not in keys:
            raise RtaError(f"speaker '{label}': unknown role {role!r}", path=path, line=line,
                           hint=f"use one of {sorted(keys)}")
        out[squash(str(label))] = {k: entry[k] for k in ("role", "group", "code") if entry.get(k) is not None}
    return out


def _body_offset(text: str) -> int:
    if not text.startswith("---\n"):
        return 0
    m = re.search(r"^(?:---|\.\.\.)[ \t]*$\n?", text[4:], re.MULTILINE)
    return 4 + m.end() if m else 0


def _interviewer(front: str) -> list[str]:
    """The ``interviewer:`` a transcript's front matter names (its label is no informant's)."""
    m = re.search(r"^interviewer[ \t]*:[ \t]*[\"']?([^\"'\n#]+?)[\"']?[ \t]*$", front, re.MULTILINE)
    return [m.group(1)] if m else []


def plan_speakers(registry: Registry, registry_text: str, registry_path: str | Path,
                  sources: list[tuple[str, str]], speaker_map: dict[str, dict[str, Any]] | None = None,
                  source_cases: dict[int, str] | None = None, attributes: dict[str, dict[str, Any]] | None = None,
                  ) -> SpeakerPlan:
    """Register the labels ``sources`` ((name, normalised text) each) use that ``registry`` does
    not know, and name the unlabelled speaker of each source that needs one. ``source_cases``:
    the one case of a source (its unlabelled speaker); ``attributes``: by squashed label, the
    attributes (case variables) of new informants. A label that names two speakers is refused
    (:mod:`rta.labels`)."""
    from rta.labels import HEAD_LINES, head_of, is_multi_speaker, looks_like_label, resolve
    from rta.yamledit import append_items, dump_item, set_flow_list

    speaker_map = speaker_map or {}
    source_cases = source_cases or {}
    attributes = attributes or {}
    plan = SpeakerPlan(registry)
    reg = registry

    def add(label: str) -> None:
        nonlocal reg
        mapped = speaker_map.get(squash(label), {})
        role = mapped.get("role")
        if role == INTERVIEWER_ROLE:
            plan.interviewers.append(label)
            reg = Registry(reg.name, reg.roles, reg.informants, [*reg.interviewer_labels, label], reg.path)
            return
        group = mapped.get("group")
        attrs = dict(attributes.get(squash(label), {}))
        for key in [k for k in attrs if k.casefold() in ("rolle", "role")]:  # rta's own case variables
            by_name = {r.name.casefold(): r.key for r in reg.roles} | {r.key.casefold(): r.key for r in reg.roles}
            if role is None and str(attrs[key]).casefold() in by_name:
                role = by_name[str(attrs.pop(key)).casefold()]
        for key in [k for k in attrs if k.casefold() in ("gruppe", "group")]:
            group = group or attrs.pop(key)
        if role is None:
            roles = reg.matching_roles(label)
            if len(roles) == 1:
                role, group = roles[0][0].key, roles[0][0].group_of(roles[0][1])
            else:
                role = UNKNOWN_ROLE
        code = " ".join(str(mapped.get("code") or label).split())
        aliases = (label,) if squash(code) != squash(label) else ()
        informant = Informant(code, role, str(group) if group else None, attrs, aliases)
        plan.added.append(informant)
        reg = Registry(reg.name, reg.roles, [*reg.informants, informant], reg.interviewer_labels, reg.path)

    for index, (name, text) in enumerate(sources):
        body = _body_offset(text)
        extra = _interviewer(text[:body])
        first = None
        for m in HEAD_LINES.finditer(text, body):
            head = head_of(m)
            if head is None or not looks_like_label(head.label, reg, extra):
                continue
            first = m.start() if first is None else first
            try:
                resolve(head.label, reg, extra)
            except LabelError as exc:
                if is_multi_speaker(head.label, reg, extra):
                    raise RtaError(f"source '{name}', line {text.count(chr(10), 0, m.start()) + 1}: {exc.message}",
                                   hint=exc.hint) from None
                add(head.label)
        before = text[body:first if first is not None else len(text)]
        if before.strip() and body == 0:
            speaker = source_cases.get(index) or UNNAMED_SPEAKER
            if reg.informant(speaker) is None and not reg.is_interviewer(speaker):
                add(speaker)
            plan.unlabelled[index] = speaker

    if not plan.added and not plan.interviewers:
        return plan
    path = Path(registry_path)
    text = registry_text
    if any(i.role == UNKNOWN_ROLE for i in plan.added) and UNKNOWN_ROLE not in registry.role_order():
        text = append_items(text, "roles", [dump_item(UNKNOWN_ROLE_ENTRY)], path)
    text = append_items(text, "informants", [dump_item(i.entry(), flow=True) for i in plan.added], path)
    if plan.interviewers:
        text = set_flow_list(text, "interviewer_labels", [*registry.interviewer_labels, *plan.interviewers], path)
    plan.registry = load_registry_text(text, path)  # what the file will say; refused if it would not load
    plan.text = text
    return plan
