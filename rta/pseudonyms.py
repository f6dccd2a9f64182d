"""Pseudonymisation: flagged identifiers replaced by consistent placeholders under a key.

:func:`apply` replaces the identifiers :mod:`rta.anonymise` flagged with placeholders
(``[PERSON 1]`` or the study's ``X [navn på sted]`` style), the same original always with the
same placeholder, and returns a :class:`Key` that maps originals to placeholders;
:func:`reverse` restores the original text from the key. :func:`apply_to_project` does this to
a project's transcripts and memos as new, logged revisions. The key re-identifies people, so
it is never written inside the project folder (:func:`key_outside_project`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rta.anonymise import (Flag, TranscriptCheck, check_memos, check_project, excluded_spans, overlaps,
                           project_sources)
from rta.errors import RtaError

if TYPE_CHECKING:  # pragma: no cover
    from rta.project import Project

KEY_FORMAT = "rta-anonymise-key"
KEY_VERSION = 1

PLACEHOLDER_WORDS = {
    "PER": "PERSON", "NAME": "NAVN", "LOC": "STED", "GPE_LOC": "STED", "GPE_ORG": "ORG", "ORG": "ORG",
    "PHONE": "TELEFON", "EMAIL": "E-POST", "FNR": "FNR", "DOB": "DATO",
}
STUDY_NOUNS = {
    "PER": "person", "LOC": "sted", "GPE_LOC": "sted", "GPE_ORG": "kommune",
    "ORG": "organisasjon", "PHONE": "telefonnummer", "EMAIL": "e-postadresse", "FNR": "fødselsnummer",
    "DOB": "dato",
}
_STUDY_LETTERS = "XYZWVUTSRQ"
STYLES = ("default", "study")


@dataclass
class KeyEntry:
    """One original identifier and the placeholder that replaces it everywhere."""

    original: str
    placeholder: str
    kind: str


@dataclass
class Key:
    """Originals -> placeholders, plus the exact forms of originals that were broken over a
    line (so :func:`reverse` restores them byte for byte). It re-identifies people: keep it
    outside the project and out of version control."""

    style: str = "default"
    entries: list[KeyEntry] = field(default_factory=list)
    variants: dict[str, list[list[Any]]] = field(default_factory=dict)  # transcript -> [placeholder, n, surface]

    def placeholder_for(self, original: str) -> str | None:
        canon = _canon(original)
        for entry in self.entries:
            if entry.original == canon:
                return entry.placeholder
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"format": KEY_FORMAT, "version": KEY_VERSION, "style": self.style,
                "entries": [asdict(e) for e in self.entries], "variants": self.variants}

    @classmethod
    def from_dict(cls, data: Any, path: str | Path | None = None) -> "Key":
        """A key from its JSON/YAML form; every value of the wrong type is an RtaError naming
        the file (and, for YAML, the line), never a traceback later in ``reverse``."""
        from rta.yamlutil import LINE_KEY

        def fail(message: str, where: Any = None) -> RtaError:
            line = where.get(LINE_KEY) if isinstance(where, dict) else None
            return RtaError(message, path=path, line=line,
                            hint="pass the key file 'rta anonymise apply' wrote, unedited")

        if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
            raise RtaError("not an rta anonymisation key", path=path, hint="pass the key file 'rta anonymise apply' wrote")
        style = data.get("style") or "default"
        if style not in STYLES:
            raise fail(f"unknown placeholder style {style!r} in the key", data)
        raw_entries = data.get("entries") or []
        if not isinstance(raw_entries, list):
            raise fail("`entries` of the key must be a list", data)
        entries = []
        for i, raw in enumerate(raw_entries):
            if not isinstance(raw, dict) or not {"original", "placeholder", "kind"} <= set(raw):
                raise fail(f"key entry {i + 1} needs original, placeholder and kind", raw if isinstance(raw, dict) else data)
            bad = [k for k in ("original", "placeholder", "kind") if not isinstance(raw[k], str) or not raw[k].strip()]
            if bad:
                raise fail(f"key entry {i + 1}: {', '.join(bad)} must be non-empty text", raw)
            entries.append(KeyEntry(_canon(raw["original"]), raw["placeholder"], raw["kind"]))
        raw_variants = data.get("variants") or {}
        if not isinstance(raw_variants, dict):
            raise fail("`variants` of the key must be a mapping of transcript ids", data)
        variants: dict[str, list[list[Any]]] = {}
        for tid, items in raw_variants.items():
            if tid == LINE_KEY:
                continue
            ok = isinstance(items, list) and all(
                isinstance(v, list) and len(v) == 3 and isinstance(v[0], str)
                and isinstance(v[1], int) and not isinstance(v[1], bool) and isinstance(v[2], str)
                for v in items)
            if not ok:
                raise fail(f"variants of transcript {tid!r} must be a list of [placeholder, number, text]", raw_variants)
            variants[str(tid)] = [list(v) for v in items]
        return cls(style, entries, variants)


def _canon(text: str) -> str:
    return " ".join(text.split())


def load_key(path: str | Path) -> Key:
    """Read a key written by :func:`save_key` (JSON, or YAML for .yaml/.yml). A file that is
    missing, not UTF-8, not valid JSON/YAML or of the wrong shape is an RtaError with the line."""
    from rta.yamlutil import load_yaml_text

    path = Path(path)
    if path.is_dir():
        raise RtaError("the key path is a folder", path=path, hint="give the key file 'rta anonymise apply' wrote")
    try:
        data_bytes = path.read_bytes()
    except FileNotFoundError:
        raise RtaError("key file not found", path=path, hint="give the key file 'rta anonymise apply' wrote") from None
    try:
        raw = data_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data_bytes[: exc.start].count(b"\n") + 1
        raise RtaError(f"the key is not valid UTF-8 ({exc.reason})", path=path, line=line,
                       hint="give the key file 'rta anonymise apply' wrote") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        data = load_yaml_text(raw, path)  # line numbers; alias bombs refused
    else:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise RtaError(f"the key is not valid JSON: {exc.msg}", path=path, line=exc.lineno,
                           hint="give the key file 'rta anonymise apply' wrote, unedited") from None
        except RecursionError:
            raise RtaError("the key is not valid JSON: nested too deeply", path=path) from None
    return Key.from_dict(data, path)


def save_key(key: Key, path: str | Path) -> None:
    """Write the key atomically as JSON (or YAML when the name ends in .yaml/.yml)."""
    from rta.fsutil import atomic_write_text

    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        body = yaml.safe_dump(key.to_dict(), allow_unicode=True, sort_keys=False)
    else:
        body = json.dumps(key.to_dict(), ensure_ascii=False, indent=2) + "\n"
    atomic_write_text(path, body)


_STUDY_ORG_NOUNS = (("skole", "skole"), ("barnehage", "barnehage"), ("kommune", "kommune"),
                    ("universitet", "UH"), ("høgskole", "UH"), ("høyskole", "UH"), ("fylke", "fylke"))


def _study_noun(kind: str, original: str) -> str | None:
    """What the study's placeholder names: 'kommune', 'skole', 'UH', 'person', ..."""
    if kind in ("ORG", "GPE_ORG", "LOC", "NAME"):
        lowered = original.casefold()
        for stem, noun in _STUDY_ORG_NOUNS:
            if stem in lowered:
                return noun
    return STUDY_NOUNS.get(kind) if kind != "NAME" else None


def _make_placeholder(kind: str, n: int, style: str, original: str = "") -> str:
    if style == "study":
        letter = _STUDY_LETTERS[(n - 1) % len(_STUDY_LETTERS)]
        round_ = (n - 1) // len(_STUDY_LETTERS)
        noun = _study_noun(kind, original)
        if kind in ("PHONE", "EMAIL", "FNR", "DOB"):
            what = noun or "opplysning"
        else:
            what = f"navn på {noun}" if noun else "navn"
        return f"{letter}{round_ + 1 if round_ else ''} [{what}]"
    return f"[{PLACEHOLDER_WORDS.get(kind, 'NAVN')} {n}]"


def _new_placeholder(key: Key, kind: str, style: str, taken: set[str], texts: Sequence[str], original: str = "") -> str:
    n = 1
    while True:
        candidate = _make_placeholder(kind, n, style, original)
        if candidate not in taken and not any(candidate in t for t in texts):
            return candidate
        n += 1


@dataclass
class ApplyResult:
    """One transcript's (or memo's) pseudonymised text and what was replaced (counts only).
    For a memo, ``transcript`` is its reference ('memo:12', 'coding:7') and ``source`` says
    where it lives ('memo', 'coding', 'review'; see :class:`rta.memos.MemoEntry`)."""

    transcript: str
    text: str
    replacements: int
    by_kind: dict[str, int]
    source: str = "transcript"


def apply(
    texts: dict[str, str],
    flags: dict[str, list[Flag]],
    key: Key | None = None,
    style: str = "default",
    regions: dict[str, list[tuple[int, int]]] | None = None,
) -> tuple[list[ApplyResult], Key]:
    """Replace flagged identifiers in ``texts`` (transcript id -> text) with placeholders.

    The same original (whitespace-collapsed) always gets the same placeholder, across texts and
    across runs when an earlier ``key`` is given; every other occurrence of a keyed original
    inside ``regions`` (whole words, same case) is replaced too, so a name the check caught once
    is replaced everywhere. Returns the new texts and the extended key.
    """
    if style not in STYLES:
        raise RtaError(f"unknown placeholder style '{style}'", hint=f"use one of {', '.join(STYLES)}")
    key = key or Key(style=style)
    taken = {e.placeholder for e in key.entries}
    originals = list(texts.values())
    for tid in texts:
        for flag in flags.get(tid, []):
            if key.placeholder_for(flag.text) is None:
                placeholder = _new_placeholder(key, flag.kind, style, taken, originals, flag.text)
                key.entries.append(KeyEntry(_canon(flag.text), placeholder, flag.kind))
                taken.add(placeholder)
    by_original = {e.original: e for e in key.entries}
    results = []
    for tid, text in texts.items():
        spans: list[tuple[int, int]] = [(f.start, f.end) for f in flags.get(tid, [])]
        limits = (regions or {}).get(tid) or [(0, len(text))]
        spans += [(s, e) for s, e, _entry in keyed_occurrences(text, limits, by_original, skip=spans)]
        spans.sort()
        out, pos, counts, seen = [], 0, {}, {}
        variants = []
        for s, e in spans:
            if s < pos:
                continue
            surface = text[s:e]
            entry = by_original[_canon(surface)]
            out.append(text[pos:s])
            out.append(entry.placeholder)
            index = seen.get(entry.placeholder, 0)
            seen[entry.placeholder] = index + 1
            if surface != entry.original:
                variants.append([entry.placeholder, index, surface])
            counts[entry.kind] = counts.get(entry.kind, 0) + 1
            pos = e
        out.append(text[pos:])
        if variants:
            key.variants[tid] = variants
        results.append(ApplyResult(tid, "".join(out), sum(counts.values()), counts))
    return results, key


def keyed_occurrences(text: str, regions: Sequence[tuple[int, int]], by_original: dict[str, KeyEntry],
                      skip: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int, KeyEntry]]:
    """Every occurrence of a keyed original (``by_original``: canonical original -> entry)
    inside ``regions``: whole words, same spelling, a line break standing for a space; not in
    placeholders or other bracketed text, nor in the ``skip`` spans. ``(start, end, entry)``
    in the order found, none overlapping the one before: what :func:`apply` replaces besides
    the flagged spans, and what a purge replaces in a revision (rta.purge)."""
    pattern = _term_regex_exact(by_original)
    if pattern is None:
        return []
    excluded = excluded_spans(text)
    out: list[tuple[int, int, KeyEntry]] = []
    for lo, hi in sorted(regions):
        for m in pattern.finditer(text, lo, hi):
            if overlaps(m.start(), m.end(), excluded) or overlaps(m.start(), m.end(), skip) or \
                    (out and m.start() < out[-1][1]):
                continue
            entry = by_original.get(_canon(m.group()))
            if entry is not None:
                out.append((m.start(), m.end(), entry))
    return out


def _term_regex_exact(by_original: dict[str, KeyEntry]) -> re.Pattern[str] | None:
    terms = sorted(by_original, key=len, reverse=True)
    if not terms:
        return None
    body = "|".join(r"\s+".join(re.escape(w) for w in t.split()) for t in terms)
    return re.compile(rf"(?<![\w@.+-])(?:{body})(?![\w])")


def reverse(text: str, key: Key, transcript: str | None = None) -> str:
    """Restore the original text from a pseudonymised one with its key (the inverse of
    :func:`apply`; ``transcript`` selects the exact forms of originals broken over lines)."""
    by_placeholder = {e.placeholder: e.original for e in key.entries}
    if not by_placeholder:
        return text
    variants = {(p, int(n)): s for p, n, s in key.variants.get(transcript or "", [])}
    pattern = re.compile("|".join(re.escape(p) for p in sorted(by_placeholder, key=len, reverse=True)))
    seen: dict[str, int] = {}

    def restore(m: re.Match[str]) -> str:
        p = m.group()
        n = seen.get(p, 0)
        seen[p] = n + 1
        return variants.get((p, n), by_placeholder[p])

    return pattern.sub(restore, text)


# -- projects --------------------------------------------------------------------------------
def _apply_to_memos(project: "Project", key: Key, style: str, pipeline: Any, coder: str,
                    transcripts: Sequence[TranscriptCheck]) -> list[ApplyResult]:
    """Pseudonymise the memos (inside the caller's transaction) with ``key`` (extended): each
    changed memo, coding memo or review memo is replaced through :func:`rta.redact.redact_text`,
    logged as 'text.redacted' (reason 'anonymise-apply'). A review memo written before rta kept
    free text out of the log is inside the log itself and cannot change: its result has
    ``source`` 'review-log' and is reported, not applied."""
    from rta.redact import MEMO_FIELDS, redact_text

    checks = check_memos(project, pipeline, transcripts)
    if not checks:
        return []
    texts = {c.ref: c.text for c in checks}
    results, _ = apply(texts, {c.ref: c.flags for c in checks}, key, style,
                       {c.ref: [(0, len(c.text))] for c in checks})
    by_ref = {c.ref: c for c in checks}
    out = []
    for r in results:
        c = by_ref[r.transcript]
        r.source = c.source
        if r.replacements and c.source in MEMO_FIELDS:
            table, field = MEMO_FIELDS[c.source]
            if table == "event_texts" and project.store.conn.execute(
                    "SELECT 1 FROM event_texts WHERE seq = ? AND field = ?", (c.id, field)).fetchone() is None:
                r.source = "review-log"  # the old log holds it in the payload
                out.append(r)
                continue
            redact_text(project.store, table, field, c.id, r.text, coder, "anonymise-apply")
        out.append(r)
    return out


def key_outside_project(key_path: str | Path, project_root: str | Path) -> Path:
    """The key path, resolved; RtaError when it lies inside the project folder (the key
    re-identifies people and the project folder is what gets shared and archived)."""
    resolved = Path(key_path).expanduser().resolve()
    root = Path(project_root).resolve()
    if resolved == root or resolved.is_relative_to(root):
        raise RtaError(
            "the key file must be outside the project folder: it re-identifies the informants",
            path=key_path,
            hint=f"write it somewhere only you can read, outside {root}, e.g. ~/rta-keys/{root.name}.json",
        )
    if resolved.is_dir():
        raise RtaError("the key path is a folder", path=key_path, hint="name a file, e.g. key.json")
    if resolved.suffix.lower() not in (".json", ".yaml", ".yml"):
        raise RtaError("the key file must end in .json, .yaml or .yml", path=key_path)
    return resolved


def key_style(key: Key | None, style: str | None, key_path: str | Path | None = None) -> str:
    """The placeholder style to apply with: the one asked for, else the existing key's, else
    'default'. A key keeps one style: asking for another is refused (mixed placeholders would
    make the texts inconsistent), naming the style the key has."""
    if style is not None and style not in STYLES:
        raise RtaError(f"unknown placeholder style '{style}'", hint=f"use one of {', '.join(STYLES)}")
    if key is None:
        return style or "default"
    if style is not None and style != key.style:
        raise RtaError(
            f"the key file uses the '{key.style}' placeholder style, not '{style}'",
            path=key_path,
            hint=f"run again with --style {key.style} (or without --style) to extend this key, or give a new key "
                 f"file for '{style}' placeholders",
        )
    return key.style


def apply_to_project(
    project: "Project",
    key_path: str | Path,
    ids: Sequence[str] | None = None,
    style: str | None = None,
    pipeline: Any = None,
    coder: str | None = None,
    memos: bool = True,
) -> tuple[list[ApplyResult], Key]:
    """Pseudonymise the project's transcripts: check, replace, store each changed text as a new
    revision (codings are re-anchored), log 'anonymise.applied' with counts only, and write the
    key atomically outside the project. All in one store transaction: the key is written last
    inside it, so a failure leaves both the store and the key file as they were. ``style``
    None means the existing key's style (else 'default'); another style than the key's is
    refused. ``memos`` also pseudonymises memos, journal entries and coding memos with the same
    key (each a logged redaction); their results follow the transcripts' with ``source`` set."""
    resolved = key_outside_project(key_path, project.root)
    existing = load_key(resolved) if resolved.exists() else None
    style = key_style(existing, style, key_path)
    key = existing or Key(style=style)
    checks = check_project(project, pipeline, ids)
    sources = {tid: (text, regions) for tid, text, _, regions, _ in project_sources(project, ids)}
    texts = {tid: text for tid, (text, _) in sources.items()}
    results, key = apply(texts, {c.transcript: c.flags for c in checks}, key, style,
                         {tid: regions for tid, (_, regions) in sources.items()})
    who = project.coder(coder)
    store = project.store
    from rta.fsutil import sha256_text

    with store.transaction():
        for result in results:
            if not result.replacements:
                continue
            added = project.add_revision_text(result.transcript, result.text, coder=who,
                                              note=f"anonymise apply: {result.replacements} replacement(s)")
            store.log_event(
                "anonymise.applied",
                {"transcript": result.transcript, "revision": added.revision, "replacements": result.replacements,
                 "by_kind": result.by_kind, "style": style, "key_entries": len(key.entries),
                 "sha256": sha256_text(result.text)},
                who,
            )
        if memos:
            results = [*results, *_apply_to_memos(project, key, style, pipeline, who, checks)]
        save_key(key, resolved)
    return results, key
