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


def read_norne(path: Path) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Sentences of a NorNE CoNLL-U file with their gold name spans (start, end, type)."""
    sentences: list[tuple[str, list[tuple[int, int, str]]]] = []
    text, tokens = None, []

    def flush() -> None:
        if text is None:
            return
        spans, pos, current = [], 0, None
        for form, tag in tokens:
            start = text.find(form, pos)
            if start < 0:
                return  # a multiword token the surface text spells differently: skip the sentence
            end = pos = start + len(form)
            if tag.startswith("B-") or (tag.startswith("I-") and current is None):
                current = [start, end, tag[2:]]
                spans.append(current)
            elif tag.startswith("I-") and current is not None:
                current[1] = end
            else:
                current = None
        sentences.append((text, [tuple(s) for s in spans]))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# text = "):
            text, tokens = line[len("# text = "):], []
        elif line and not line.startswith("#"):
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            tag = next((x[5:] for x in cols[9].split("|") if x.startswith("name=")), "O")
            tokens.append((cols[1], tag))
        elif not line:
            flush()
            text = None
    flush()
    return sentences


def score_norne(path: Path, pipeline: str = "none", propagate: bool = True) -> dict:
    """Name recall and precision of the check on NorNE sentences (news and other genres, not
    interviews: a harder and different test of the heuristic than the planted slips)."""
    from rta.anonymise import NAME_KINDS, check_text, load_check_pipeline, pipeline_name, propagate_flags, text_vocabulary

    kinds = {"PER", "LOC", "GPE_LOC", "GPE_ORG", "ORG"}
    sentences = read_norne(path)
    nlp = load_check_pipeline(pipeline)
    vocab = text_vocabulary(t for t, _ in sentences)
    gold_n = found = flags_n = true_flags = 0
    t0 = time.perf_counter()
    checked = [check_text(text, None, nlp, vocabulary=vocab) for text, _ in sentences]
    names = {f.text for flags in checked for f in flags if f.kind in NAME_KINDS}
    for (text, spans), flags in zip(sentences, checked):
        gold = [(s, e) for s, e, k in spans if k in kinds]
        if propagate:
            flags = propagate_flags(text, flags, names)
        flags = [f for f in flags if f.kind not in ("PHONE", "EMAIL", "FNR", "DOB")]
        gold_n += len(gold)
        found += sum(any(f.start < e and s < f.end for f in flags) for s, e in gold)
        flags_n += len(flags)
        # a flag on any gold name (also PROD/EVT/DRV/MISC names) is no false alarm
        true_flags += sum(any(f.start < e and s < f.end for s, e, _ in spans) for f in flags)
    return {"pipeline": pipeline_name(nlp), "sentences": len(sentences), "names": gold_n,
            "recall": found / gold_n if gold_n else None, "flags": flags_n,
            "precision": true_flags / flags_n if flags_n else None,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="auto", help="auto, none or a pipeline name/path")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--norne", type=Path, default=None,
                        help="also score names on a NorNE CoNLL-U file, e.g. ../shared/data/norne/ud/nob/no_bokmaal-ud-dev.conllu")
    args = parser.parse_args(argv)
    if args.norne is not None:
        norne = score_norne(args.norne, args.pipeline)
        print(f"NorNE {args.norne.name}: pipeline {norne['pipeline']}, {norne['sentences']} sentences, "
              f"{norne['names']} PER/LOC/GPE/ORG names: recall {norne['recall']:.2f}, "
              f"precision {norne['precision']:.2f} ({norne['flags']} flags), {norne['seconds']} s")
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
