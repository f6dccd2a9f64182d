"""Recall and precision of `rta anonymise check` on the planted slips in transcripts_sample/.

    .venv/bin/python benchmarks/anonymise_recall.py [--pipeline auto|none|NAME] [--json]

The slips come from transcripts_sample/slips.yaml (kept in sync with the README's tables). A
slip is found when a flag on its line overlaps its text; every flag that overlaps no slip is a
false flag. Prints recall overall, false flags and precision per transcript, and the time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "transcripts_sample"


def load_slips(folder: Path = SAMPLE) -> list[dict]:
    """The planted slips: file, line, text, kind."""
    import yaml

    return list(yaml.safe_load((folder / "slips.yaml").read_text(encoding="utf-8"))["slips"])


def slip_span(text: str, slip: dict) -> tuple[int, int]:
    """Code-point span of a slip's text on its line (ValueError when the line lacks it)."""
    lines = text.split("\n")
    line_start = sum(len(x) + 1 for x in lines[: slip["line"] - 1])
    col = lines[slip["line"] - 1].index(slip["text"])
    return line_start + col, line_start + col + len(slip["text"])


def score(folder: Path = SAMPLE, pipeline: str = "auto") -> dict:
    """Run the check over the sample and score it against the slips."""
    from rta.anonymise import check_files, has_ner, load_check_pipeline, pipeline_name
    from rta.informants import default_registry

    files = sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".md") and p.name != "README.md")
    t0 = time.perf_counter()
    nlp = load_check_pipeline(pipeline)
    t1 = time.perf_counter()
    checks = check_files(files, default_registry(), nlp)
    t2 = time.perf_counter()
    slips = load_slips(folder)
    per: dict[str, dict] = {}
    found = 0
    for check in checks:
        name = Path(check.path).name
        text = Path(check.path).read_text(encoding="utf-8")
        mine = [s for s in slips if s["file"] == name]
        spans = [slip_span(text, s) for s in mine]
        hit = [any(f.start < e and s < f.end for f in check.flags) for s, e in spans]
        false = [f for f in check.flags if not any(f.start < e and s < f.end for s, e in spans)]
        found += sum(hit)
        true_flags = len(check.flags) - len(false)
        per[name] = {
            "slips": len(mine), "found": sum(hit), "flags": len(check.flags), "false_flags": len(false),
            "precision": (true_flags / len(check.flags)) if check.flags else None,
            "false": [f"{f.line}: {f.text!r} {f.kind} {f.method}" for f in false],
            "missed": [s["text"] for s, h in zip(mine, hit) if not h],
        }
    flags = sum(p["flags"] for p in per.values())
    false_total = sum(p["false_flags"] for p in per.values())
    return {
        "pipeline": pipeline_name(nlp), "ner": has_ner(nlp),
        "recall": found / len(slips), "found": found, "slips": len(slips),
        "flags": flags, "false_flags": false_total,
        "precision": (flags - false_total) / flags if flags else None,
        "max_false_per_transcript": max(p["false_flags"] for p in per.values()),
        "load_seconds": round(t1 - t0, 2), "check_seconds": round(t2 - t1, 2),
        "transcripts": per,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="auto", help="auto, none or a pipeline name/path")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = score(pipeline=args.pipeline)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"pipeline {result['pipeline']} (NER: {'yes' if result['ner'] else 'no'}); "
          f"load {result['load_seconds']} s, check {result['check_seconds']} s")
    print(f"{'transcript':24}{'slips':>6}{'found':>6}{'flags':>6}{'false':>6}  precision")
    for name, p in result["transcripts"].items():
        prec = "-" if p["precision"] is None else f"{p['precision']:.2f}"
        print(f"{name:24}{p['slips']:>6}{p['found']:>6}{p['flags']:>6}{p['false_flags']:>6}  {prec}")
        for item in p["false"]:
            print(f"    false flag  {item}")
        for item in p["missed"]:
            print(f"    MISSED      {item!r}")
    prec = "-" if result["precision"] is None else f"{result['precision']:.2f}"
    print(f"recall {result['recall']:.2f} ({result['found']}/{result['slips']}), precision {prec} "
          f"({result['false_flags']} false of {result['flags']} flags), "
          f"at most {result['max_false_per_transcript']} false flag(s) per transcript")
    return 0


if __name__ == "__main__":
    sys.exit(main())
