"""Codebooks as data: codes, themes, lookups and the diff between two versions.

A codebook is the researcher's instrument and evolves during reflexive thematic analysis. This
module holds what a codebook *is* once read: its codes and themes, lookups by name (case- and
accent-insensitive, with a did-you-mean) and GUID, Norwegian sorted views, and how two
versions differ. The code -> theme mapping it holds is the researchers' interpretation, never
a fact the tool derives. Reading, validating and writing the YAML file a person edits is
:mod:`rta.codebook_yaml`.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from rta.errors import Problem, RtaError
from rta.norsk import fold, sort_no

ORIGINS = ("inductive", "deductive")
STATUSES = ("candidate", "reviewed", "defined")

#: Namespace for deterministic GUIDs of codes and themes that have none in the YAML, so that
#: repeated exports of the same codebook agree.
GUID_NAMESPACE = uuid.UUID("6f1d2c8e-3b7a-5e49-9c1f-2a8d4e6b7c90")


# --------------------------------------------------------------------------------------------
# Model


@dataclass
class Indicators:
    """Surface cues the NLP assistant looks for. Matching is by lemma, inside compounds,
    accent-folded and fuzzy, so each term should be specific enough to survive that."""

    keywords: list[str] = field(default_factory=list)
    lemmas: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    regex: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when the NLP assistant has nothing to look for."""
        return not (self.keywords or self.lemmas or self.phrases or self.regex)

    def terms(self) -> list[str]:
        """Keywords, lemmas and phrases (not regexes) in that order, without duplicates."""
        seen: dict[str, None] = {}
        for term in [*self.keywords, *self.lemmas, *self.phrases]:
            seen.setdefault(term, None)
        return list(seen)


@dataclass
class Code:
    """One code of the codebook (Tabell 3 has 42)."""

    name: str
    label: str = ""
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    indicators: Indicators = field(default_factory=Indicators)
    examples: list[str] = field(default_factory=list)
    color: str | None = None
    parent: str | None = None
    guid: str = ""
    line: int | None = None


@dataclass
class Theme:
    """A theme built from codes; membership is many-to-many and interpretive."""

    name: str
    definition: str = ""
    central_concept: str = ""
    origin: str = "inductive"
    codes: list[str] = field(default_factory=list)
    parent: str | None = None
    status: str = "candidate"
    guid: str = ""
    opposite: str | None = None
    line: int | None = None


class CodebookLookupError(RtaError, KeyError):
    """A code or theme name that the codebook does not have (carries a did-you-mean hint)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return RtaError.__str__(self)


@dataclass
class Codebook:
    """A parsed codebook. ``sha256`` fingerprints the file bytes (or the dumped text when the
    codebook did not come from a file) so the project store can record which version coded
    what."""

    schema_version: int
    name: str
    language: str
    codes: list[Code]
    themes: list[Theme]
    path: Path | None = None
    sha256: str = ""
    mapping_note: str = ""
    description: str = ""
    warnings: list[Problem] = field(default_factory=list)

    # -- lookups -----------------------------------------------------------------------------
    def code(self, name: str) -> Code:
        """The code called ``name`` (exact, else case- and accent-insensitive)."""
        return _lookup(self.codes, name, "code", self.path)

    def theme(self, name: str) -> Theme:
        """The theme called ``name`` (exact, else case- and accent-insensitive)."""
        return _lookup(self.themes, name, "theme", self.path)

    def has_code(self, name: str) -> bool:
        key = fold(name)
        return any(fold(c.name) == key for c in self.codes)

    def code_names(self) -> list[str]:
        """Code names in file order (use :meth:`codes_sorted` for Norwegian order)."""
        return [c.name for c in self.codes]

    def theme_names(self) -> list[str]:
        return [t.name for t in self.themes]

    def themes_of(self, code_name: str) -> list[str]:
        """Names of the themes the code belongs to, in Norwegian order (may be empty)."""
        key = fold(code_name)
        return sort_no(t.name for t in self.themes if any(fold(c) == key for c in t.codes))

    def children_of(self, code_name: str) -> list[str]:
        return sort_no(c.name for c in self.codes if c.parent == code_name)

    def codes_sorted(self) -> list[Code]:
        """Codes in Norwegian alphabetical order (æ, ø, å after z)."""
        return sort_no(self.codes, key=lambda c: c.name)

    def themes_sorted(self) -> list[Theme]:
        return sort_no(self.themes, key=lambda t: t.name)

    def unthemed_codes(self) -> list[str]:
        """Codes that belong to no theme (allowed; reports say so)."""
        return [c.name for c in self.codes_sorted() if not self.themes_of(c.name)]

    def code_by_guid(self, guid: str) -> Code | None:
        key = norm_guid(guid)
        return next((c for c in self.codes if norm_guid(c.guid) == key), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view, codes and themes in Norwegian order; each code lists its themes."""
        codes = []
        for c in self.codes_sorted():
            d = asdict(c)
            d["themes"] = self.themes_of(c.name)
            codes.append(d)
        themes = [asdict(t) for t in self.themes_sorted()]
        for t in themes:
            t["codes"] = sort_no(t["codes"])
        return {
            "schema_version": self.schema_version,
            "name": self.name,
            "language": self.language,
            "description": self.description,
            "mapping_note": self.mapping_note,
            "path": str(self.path) if self.path else None,
            "sha256": self.sha256,
            "codes": codes,
            "themes": themes,
            "unthemed_codes": self.unthemed_codes(),
        }


def _lookup(items: list, name: str, kind: str, path: Path | None):
    for item in items:
        if item.name == name:
            return item
    key = fold(name)
    for item in items:
        if fold(item.name) == key:
            return item
    guess = did_you_mean(name, [i.name for i in items])
    raise CodebookLookupError(
        f"no {kind} called {name!r} in the codebook",
        path=path,
        hint=f"did you mean {guess!r}?" if guess else f"see `rta codebook show` for the {kind}s",
    )


def derive_guid(codebook_name: str, kind: str, name: str) -> str:
    """Deterministic GUID for a code or theme that has none, so repeated exports agree."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{codebook_name}\x1f{kind}\x1f{name}"))


def norm_guid(guid: str | None) -> str:
    """A GUID as tools write it ('{ABC-...}', 'abc-...') in one comparable form: no braces
    or surrounding space, lower case ('' for none)."""
    return (guid or "").strip().strip("{}").lower()


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word``, or None when nothing is close."""
    choices = [c for c in choices if isinstance(c, str)]
    if not choices or not isinstance(word, str):
        return None
    folded = {fold(c): c for c in choices}
    if fold(word) in folded:
        return folded[fold(word)]
    try:
        from rapidfuzz import fuzz, process

        best = process.extractOne(fold(word), list(folded), scorer=fuzz.ratio, score_cutoff=60)
        return folded[best[0]] if best else None
    except ImportError:  # pragma: no cover - rapidfuzz is a dependency
        import difflib

        hits = difflib.get_close_matches(fold(word), list(folded), n=1, cutoff=0.6)
        return folded[hits[0]] if hits else None


# --------------------------------------------------------------------------------------------
# Diff


@dataclass
class CodeRename:
    guid: str
    old: str
    new: str


@dataclass
class Reassignment:
    code: str
    old_themes: list[str]
    new_themes: list[str]


@dataclass
class FieldChange:
    code: str
    field: str
    old: Any
    new: Any


@dataclass
class CodebookDiff:
    """How a codebook changed between two versions. Codes are matched by GUID first (so a
    rename is a rename, not a removal plus an addition), then by folded name."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[CodeRename] = field(default_factory=list)
    reassigned: list[Reassignment] = field(default_factory=list)
    definition_changed: list[FieldChange] = field(default_factory=list)
    other_changes: list[FieldChange] = field(default_factory=list)
    themes_added: list[str] = field(default_factory=list)
    themes_removed: list[str] = field(default_factory=list)
    themes_renamed: list[CodeRename] = field(default_factory=list)
    theme_changes: list[FieldChange] = field(default_factory=list)
    old_sha256: str = ""
    new_sha256: str = ""

    def is_empty(self) -> bool:
        return not any(
            getattr(self, f) for f in (
                "added", "removed", "renamed", "reassigned", "definition_changed", "other_changes",
                "themes_added", "themes_removed", "themes_renamed", "theme_changes",
            )
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        """Human-readable summary, one change per line."""
        out: list[str] = []
        sections = [
            ("Codes added", [f"+ {n}" for n in self.added]),
            ("Codes removed", [f"- {n}" for n in self.removed]),
            ("Codes renamed (same GUID)", [f"~ {r.old} -> {r.new}" for r in self.renamed]),
            ("Codes re-assigned between themes", [
                f"~ {r.code}: {', '.join(r.old_themes) or '(no theme)'} -> {', '.join(r.new_themes) or '(no theme)'}"
                for r in self.reassigned
            ]),
            ("Definitions changed", [f"~ {c.code}" + _short_change(c) for c in self.definition_changed]),
            ("Other code changes", [f"~ {c.code}: {c.field}" + _short_change(c) for c in self.other_changes]),
            ("Themes added", [f"+ {n}" for n in self.themes_added]),
            ("Themes removed", [f"- {n}" for n in self.themes_removed]),
            ("Themes renamed (same GUID)", [f"~ {r.old} -> {r.new}" for r in self.themes_renamed]),
            ("Theme changes", [f"~ {c.code}: {c.field}" + _short_change(c) for c in self.theme_changes]),
        ]
        for title, rows in sections:
            if rows:
                out.append(f"{title} ({len(rows)}):")
                out.extend(f"  {r}" for r in rows)
        return "\n".join(out) if out else "No differences."


def _short_change(change: FieldChange) -> str:
    def short(v: Any) -> str:
        s = v if isinstance(v, str) else repr(v)
        s = " ".join(s.split())
        return s if len(s) <= 60 else s[:57] + "..."

    if isinstance(change.old, str) and isinstance(change.new, str) and (len(change.old) > 60 or "\n" in change.old):
        return ""
    return f": {short(change.old)} -> {short(change.new)}"


def _match(old_items: list, new_items: list) -> list[tuple[Any, Any]]:
    pairs = []
    new_by_guid = {norm_guid(i.guid): i for i in new_items if i.guid}
    used: set[int] = set()
    rest = []
    for o in old_items:
        n = new_by_guid.get(norm_guid(o.guid)) if o.guid else None
        if n is not None and id(n) not in used:
            pairs.append((o, n))
            used.add(id(n))
        else:
            rest.append(o)
    new_by_name = {fold(i.name): i for i in new_items if id(i) not in used}
    for o in rest:
        n = new_by_name.get(fold(o.name))
        if n is not None and id(n) not in used:
            pairs.append((o, n))
            used.add(id(n))
        else:
            pairs.append((o, None))
    pairs.extend((None, n) for n in new_items if id(n) not in used)
    return pairs


def diff_codebooks(old: Codebook, new: Codebook) -> CodebookDiff:
    """Codes added, removed, renamed (by GUID), re-assigned between themes and changed
    definitions; themes likewise. For the project store's codebook history and supervisors."""
    d = CodebookDiff(old_sha256=old.sha256, new_sha256=new.sha256)
    theme_pairs = _match(old.themes, new.themes)
    old_theme_to_new: dict[str, str] = {}
    for o, n in theme_pairs:
        if o is None:
            d.themes_added.append(n.name)
        elif n is None:
            d.themes_removed.append(o.name)
        else:
            old_theme_to_new[o.name] = n.name
            if o.name != n.name:
                d.themes_renamed.append(CodeRename(n.guid, o.name, n.name))
            for f in ("definition", "central_concept", "origin", "status", "parent", "opposite"):
                if getattr(o, f) != getattr(n, f):
                    d.theme_changes.append(FieldChange(n.name, f, getattr(o, f), getattr(n, f)))
    for o, n in _match(old.codes, new.codes):
        if o is None:
            d.added.append(n.name)
            continue
        if n is None:
            d.removed.append(o.name)
            continue
        if o.name != n.name:
            d.renamed.append(CodeRename(n.guid, o.name, n.name))
        if o.definition.strip() != n.definition.strip():
            d.definition_changed.append(FieldChange(n.name, "definition", o.definition, n.definition))
        for f in ("label", "inclusion", "exclusion", "color", "parent", "examples"):
            if getattr(o, f) != getattr(n, f):
                d.other_changes.append(FieldChange(n.name, f, getattr(o, f), getattr(n, f)))
        if asdict(o.indicators) != asdict(n.indicators):
            d.other_changes.append(FieldChange(n.name, "indicators", asdict(o.indicators), asdict(n.indicators)))
        old_themes = old.themes_of(o.name)
        new_themes = new.themes_of(n.name)
        if sorted(old_theme_to_new.get(t, f"\x00{t}") for t in old_themes) != sorted(new_themes):
            d.reassigned.append(Reassignment(n.name, old_themes, new_themes))
    for lst in (d.added, d.removed, d.themes_added, d.themes_removed):
        lst[:] = sort_no(lst)
    return d
