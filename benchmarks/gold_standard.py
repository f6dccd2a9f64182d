"""Load the gold standard in ``benchmarks/gold/`` and place every passage in its transcript.

A gold file (one per sample transcript) is YAML::

    transcript: k1-skoleeier          # the transcript id (front matter ``id`` or file stem)
    file: k1-skoleeier.txt            # the file in transcripts_sample/
    passages:
      - informant: S1                 # the informant code of the turn the quote is in
        quote: >-                     # verbatim, but every run of whitespace written as one space
          Jeg overtok som kommunalsjef ...
        codes: [Utskiftning]          # 1-3 codes of codebooks/tabell3.yaml
        themes: [Kontinuitet]         # themes of those codes that the passage speaks to
        note: ...                     # optional: why, in a few words

A quote is the text of the transcript with its line breaks (and the blank line between
paragraphs of one turn) written as single spaces, because a transcript wraps its lines where
the typist's editor did. :func:`resolve` finds the quote exactly once among the informant's
turns (parsed with :func:`rta.transcripts.parse_file`, so offsets are code points into the
normalised text ``rta`` stores) and returns its offsets; anything else is an error.

    python benchmarks/gold_standard.py          # check every passage, print a summary
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GOLD_DIR = REPO / "benchmarks" / "gold"
SAMPLE_DIR = REPO / "transcripts_sample"
CODEBOOK = REPO / "codebooks" / "tabell3.yaml"
PASSAGE_KEYS = {"informant", "quote", "codes", "themes", "note"}
MAX_CODES = 3


class GoldError(ValueError):
    """A gold passage that does not resolve, or names a code or theme the codebook lacks."""


@dataclass
class GoldPassage:
    """One coded passage: ``text[start:end]`` of transcript ``transcript_id`` is the quote."""

    transcript_id: str
    informant: str
    quote: str
    codes: list[str]
    themes: list[str]
    note: str | None = None
    index: int = 0  # 1-based position in its gold file
    turn_n: int = 0  # the turn's number (as rta counts turns, interviewer included)
    start: int = 0
    end: int = 0

    @property
    def key(self) -> str:
        return f"{self.transcript_id}#{self.index}"


@dataclass
class GoldFile:
    transcript_id: str
    file: str
    path: Path
    passages: list[GoldPassage] = field(default_factory=list)


def quote_pattern(quote: str) -> re.Pattern[str]:
    """The quote as a regex in which each space matches any run of whitespace."""
    words = quote.split()
    if not words:
        raise GoldError("empty quote")
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def read_gold_files(gold_dir: Path = GOLD_DIR) -> list[GoldFile]:
    """The gold files as written (no resolution against the transcripts)."""
    out: list[GoldFile] = []
    for path in sorted(gold_dir.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or "transcript" not in raw or "passages" not in raw:
            raise GoldError(f"{path.name}: needs 'transcript', 'file' and 'passages'")
        gf = GoldFile(str(raw["transcript"]), str(raw.get("file") or ""), path)
        for i, item in enumerate(raw["passages"] or [], 1):
            where = f"{path.name} passage {i}"
            if not isinstance(item, dict):
                raise GoldError(f"{where}: not a mapping")
            unknown = set(item) - PASSAGE_KEYS
            if unknown:
                raise GoldError(f"{where}: unknown keys {sorted(unknown)}")
            for key in ("informant", "quote", "codes", "themes"):
                if key not in item:
                    raise GoldError(f"{where}: '{key}' missing")
            codes, themes = item["codes"], item["themes"]
            if not isinstance(codes, list) or not 1 <= len(codes) <= MAX_CODES:
                raise GoldError(f"{where}: 1-{MAX_CODES} codes, got {codes!r}")
            if not isinstance(themes, list):
                raise GoldError(f"{where}: themes must be a list, got {themes!r}")
            gf.passages.append(GoldPassage(
                transcript_id=gf.transcript_id, informant=str(item["informant"]),
                quote=" ".join(str(item["quote"]).split()), codes=[str(c) for c in codes],
                themes=[str(t) for t in themes], note=item.get("note"), index=i))
        out.append(gf)
    return out


def parse_sample(sample_dir: Path = SAMPLE_DIR, registry=None) -> dict[str, object]:
    """transcript id -> :class:`rta.transcripts.Transcript` for the sample files."""
    from rta.informants import default_registry
    from rta.transcripts import parse_file

    registry = registry or default_registry()
    parsed = {}
    for path in sorted(sample_dir.iterdir()):
        if path.suffix in (".txt", ".md") and path.name != "README.md":
            t = parse_file(path, registry)
            parsed[t.id] = t
    return parsed


def resolve(passage: GoldPassage, transcript) -> None:
    """Set ``turn_n``, ``start`` and ``end`` of ``passage`` from ``transcript`` (parsed), or
    raise :class:`GoldError` unless the quote occurs exactly once in the informant's turns."""
    pattern = quote_pattern(passage.quote)
    hits: list[tuple[int, int, int]] = []
    turns = [t for t in transcript.informant_turns if t.code == passage.informant]
    if not turns:
        raise GoldError(f"{passage.key}: no turn of informant {passage.informant} in {transcript.id}")
    for turn in turns:
        for m in pattern.finditer(transcript.text, turn.start, turn.end):
            hits.append((turn.n, m.start(), m.end()))
    if len(hits) != 1:
        where = "not found" if not hits else f"found {len(hits)} times"
        raise GoldError(f"{passage.key}: quote {where} in {passage.informant}'s turns: {passage.quote[:70]!r}")
    passage.turn_n, passage.start, passage.end = hits[0]


def check_codebook(passages: list[GoldPassage], codebook_path: Path = CODEBOOK) -> None:
    """Every code and theme exists; the themes are themes of the passage's codes."""
    from rta.codebook_yaml import load_codebook

    cb = load_codebook(codebook_path)
    codes, themes = set(cb.code_names()), set(cb.theme_names())
    for p in passages:
        for c in p.codes:
            if c not in codes:
                raise GoldError(f"{p.key}: unknown code {c!r}")
        if len(set(p.codes)) != len(p.codes):
            raise GoldError(f"{p.key}: a code twice")
        allowed = {t for c in p.codes for t in cb.themes_of(c)}
        for t in p.themes:
            if t not in themes:
                raise GoldError(f"{p.key}: unknown theme {t!r}")
            if t not in allowed:
                raise GoldError(f"{p.key}: theme {t!r} is not a theme of its codes {p.codes}")
        if allowed and not p.themes:
            raise GoldError(f"{p.key}: its codes belong to themes {sorted(allowed)} but it names none")


def load_gold(gold_dir: Path = GOLD_DIR, sample_dir: Path = SAMPLE_DIR,
              codebook_path: Path = CODEBOOK) -> list[GoldPassage]:
    """Every gold passage, resolved to (transcript, turn, offsets) and checked against the
    codebook; raises :class:`GoldError` on the first problem. No two passages overlap."""
    parsed = parse_sample(sample_dir)
    passages: list[GoldPassage] = []
    for gf in read_gold_files(gold_dir):
        if gf.transcript_id not in parsed:
            raise GoldError(f"{gf.path.name}: no sample transcript with id {gf.transcript_id!r}")
        for p in gf.passages:
            resolve(p, parsed[gf.transcript_id])
        spans = sorted(gf.passages, key=lambda p: p.start)
        for a, b in zip(spans, spans[1:]):
            if b.start < a.end:
                raise GoldError(f"{a.key} and {b.key} overlap")
        passages.extend(gf.passages)
    check_codebook(passages, codebook_path)
    return passages


def summary(passages: list[GoldPassage]) -> str:
    parsed = parse_sample()
    informant_turns = sum(len(t.informant_turns) for t in parsed.values())
    coded_turns = {(p.transcript_id, p.turn_n) for p in passages}
    codes = Counter(c for p in passages for c in p.codes)
    themes = Counter(t for p in passages for t in p.themes)
    words = sum(len(p.quote.split()) for p in passages)
    lines = [
        f"{len(passages)} passages in {len({p.transcript_id for p in passages})} transcripts; "
        f"{len(coded_turns)} of {informant_turns} informant turns have at least one passage",
        f"codes per passage: " + ", ".join(f"{k}: {v}" for k, v in sorted(Counter(len(p.codes) for p in passages).items())),
        f"words per passage: {words / max(1, len(passages)):.1f} on average",
        f"{len(codes)} distinct codes used: " + ", ".join(f"{c} {n}" for c, n in codes.most_common()),
        "themes (a passage may have several): " + ", ".join(f"{t} {n}" for t, n in themes.most_common()),
        f"passages with no theme (codes outside every theme): {sum(1 for p in passages if not p.themes)}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(load_gold()))
