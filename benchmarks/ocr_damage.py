"""Write an OCR-damaged copy of the sample transcripts, with a character alignment.

Transcripts typed from print or run through OCR lose their Norwegian letters and keep the
printer's hyphenated line breaks. This script makes such a copy of ``transcripts_sample/``,
deterministically (one seed), so that ``bench_quality.py`` can measure suggestions on it:

- ``å`` becomes ``a`` or ``d``, ``ø`` becomes ``o`` or ``a``, ``æ`` becomes ``e`` (upper case
  alike: ``Å`` -> ``A``/``D``, ``Ø`` -> ``O``/``A``, ``Æ`` -> ``E``), each letter with
  probability ``letter_rate`` (default 0.9: most letters are hit, a few survive, as in real OCR);
- a word of six letters or more is split with probability ``hyphen_rate`` (default 0.04, about
  one line in eight of a printed page) by a hyphenated line break, ``ord-\\nninga`` (two in
  three) or ``ord- ninga`` (the line joined again by someone who did not remove the hyphen).

Only the text of the turns is touched: the front matter, the speaker labels and the
timestamps stay as they were, so the damaged files parse with the same turns and speakers.
Letters are replaced one for one and hyphen breaks are inserted, so every offset of the clean
(normalised) text has a place in the damaged text: :attr:`Damaged.offsets` maps clean offset
``i`` to damaged offset ``offsets[i]`` and :meth:`Damaged.map_span` maps a span.

    python benchmarks/ocr_damage.py OUT_DIR [--seed 17] [--letter-rate 0.9] [--hyphen-rate 0.04]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SAMPLE_DIR = REPO / "transcripts_sample"
SEED = 17
LETTER_RATE = 0.9
HYPHEN_RATE = 0.04
NEWLINE_SHARE = 2 / 3  # of hyphen breaks: "-\n" rather than "- "

# letter -> ((replacement, weight), ...)
SUBSTITUTIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "å": (("a", 0.6), ("d", 0.4)),
    "ø": (("o", 0.6), ("a", 0.4)),
    "æ": (("e", 1.0),),
    "Å": (("A", 0.6), ("D", 0.4)),
    "Ø": (("O", 0.6), ("A", 0.4)),
    "Æ": (("E", 1.0),),
}
HYPHEN_BREAKS = ("-\n", "- ")
_LONG_WORD = re.compile(r"[^\W\d_]{6,}")


@dataclass
class Damaged:
    """One damaged transcript: ``text`` is the damage of ``original`` (normalised text)."""

    transcript_id: str
    file: str
    original: str
    text: str
    offsets: list[int]  # len(original) + 1 entries: clean offset -> damaged offset
    letters: int = 0  # æ/ø/å (any case) in the turns
    letters_hit: int = 0
    hyphens: int = 0
    inserted: list[tuple[int, str]] = field(default_factory=list)  # (damaged offset, break)

    def map_span(self, start: int, end: int) -> tuple[int, int]:
        """The damaged span of clean ``original[start:end]`` (a break inside it stays inside)."""
        if end <= start:
            return self.offsets[start], self.offsets[start]
        return self.offsets[start], self.offsets[end - 1] + 1


def damage_text(text: str, spans: list[tuple[int, int]], rng: random.Random,
                letter_rate: float = LETTER_RATE, hyphen_rate: float = HYPHEN_RATE) -> Damaged:
    """Damage ``text`` inside ``spans`` (the turns' text); everything else is copied as it is."""
    # Decide the hyphen breaks first: (clean offset to insert before, break string).
    breaks: dict[int, str] = {}
    for start, end in spans:
        for m in _LONG_WORD.finditer(text, start, end):
            if rng.random() < hyphen_rate:
                word = m.group()
                cut = m.start() + rng.randint(3, len(word) - 3)
                breaks[cut] = HYPHEN_BREAKS[0] if rng.random() < NEWLINE_SHARE else HYPHEN_BREAKS[1]
    inside = bytearray(len(text))
    for start, end in spans:
        inside[start:end] = b"\x01" * (end - start)
    out: list[str] = []
    offsets: list[int] = []
    pos = 0
    letters = hit = 0
    inserted: list[tuple[int, str]] = []
    for i, ch in enumerate(text):
        brk = breaks.get(i)
        if brk is not None:
            inserted.append((pos, brk))
            out.append(brk)
            pos += len(brk)
        offsets.append(pos)
        if inside[i] and ch in SUBSTITUTIONS:
            letters += 1
            if rng.random() < letter_rate:
                choices, weights = zip(*SUBSTITUTIONS[ch])
                ch = rng.choices(choices, weights)[0]
                hit += 1
        out.append(ch)
        pos += 1
    offsets.append(pos)
    return Damaged("", "", text, "".join(out), offsets, letters, hit, len(breaks), inserted)


def sample_files(sample_dir: Path = SAMPLE_DIR) -> list[Path]:
    return sorted(p for p in sample_dir.iterdir() if p.suffix in (".txt", ".md") and p.name != "README.md")


def damage_sample(out_dir: Path | None = None, sample_dir: Path = SAMPLE_DIR, seed: int = SEED,
                  letter_rate: float = LETTER_RATE, hyphen_rate: float = HYPHEN_RATE) -> dict[str, Damaged]:
    """Damage every sample transcript (seeded per file name, so one file's damage does not
    depend on the others) and, with ``out_dir``, write the damaged files there under their own
    names. Returns transcript id -> :class:`Damaged`."""
    from rta.informants import default_registry
    from rta.transcripts import parse_file

    registry = default_registry()
    result: dict[str, Damaged] = {}
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    for path in sample_files(sample_dir):
        transcript = parse_file(path, registry)
        spans = [(t.start, t.end) for t in transcript.turns]
        rng = random.Random(f"{seed}:{path.name}")
        damaged = damage_text(transcript.text, spans, rng, letter_rate, hyphen_rate)
        damaged.transcript_id, damaged.file = transcript.id, path.name
        result[transcript.id] = damaged
        if out_dir is not None:
            (Path(out_dir) / path.name).write_text(damaged.text, encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path, help="folder for the damaged copies (created if missing)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--letter-rate", type=float, default=LETTER_RATE, help="share of æ/ø/å replaced")
    ap.add_argument("--hyphen-rate", type=float, default=HYPHEN_RATE, help="share of long words split")
    args = ap.parse_args(argv)
    for name, value in (("--letter-rate", args.letter_rate), ("--hyphen-rate", args.hyphen_rate)):
        if not 0.0 <= value <= 1.0:
            ap.error(f"{name} must be between 0 and 1, got {value}")
    damaged = damage_sample(args.out_dir, seed=args.seed, letter_rate=args.letter_rate,
                            hyphen_rate=args.hyphen_rate)
    letters = sum(d.letters for d in damaged.values())
    hit = sum(d.letters_hit for d in damaged.values())
    hyphens = sum(d.hyphens for d in damaged.values())
    print(f"wrote {len(damaged)} damaged transcripts to {args.out_dir} (seed {args.seed}): "
          f"{hit} of {letters} æ/ø/å replaced ({hit / max(1, letters):.0%}), {hyphens} hyphenated breaks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
