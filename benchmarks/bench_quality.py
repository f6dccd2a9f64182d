"""Benchmark: how good are `rta suggest`'s suggestions, measured against our own gold standard?

The gold standard (``benchmarks/gold/``, loaded by ``gold_standard.py``) is a careful reader's
coding of the ten sample transcripts. This script gets suggestions the way ``rta suggest``
does (a project in a temporary folder, ``rta.suggest.run_suggest``, the ``suggestions`` table
read back) and prints, for (a) the clean sample and (b) an OCR-damaged copy
(``ocr_damage.py``, gold spans mapped through its character alignment):

- passage recall: share of gold passages with at least one suggestion that overlaps the
  passage and has one of its gold codes;
- code precision: share of suggestions (stored rows: span + code) whose span overlaps a gold
  passage of the same transcript that has that code;
- top-1 theme per passage: the theme with the highest summed score over the suggestions that
  overlap the passage (a suggestion's themes are its ``themes_ranked`` when the store has them,
  otherwise the codebook themes of its code, the score split evenly between them) is one of
  the passage's gold themes; a passage without suggestions counts as a miss. Printed next to
  the majority-theme baseline (always guess the theme most gold passages have), measured in
  the same run;
- candidates per 1,000 informant words, and the run's raw (sentence-level) count when its
  result reports one (``SuggestResult.raw_candidates``);
- the same with the learned part in leave-one-transcript-out: for each transcript T a copy of
  a project holding all ten transcripts, in which the gold passages of the other nine are
  accepted codings by coder ``gold``; suggestions for T only; scored on T's gold and summed
  over T. The baseline there is the majority theme of the other nine transcripts' gold.

Then the floors of issue 17 as PASS/FAIL lines. Exit code 0 (it is a report) unless
``--strict`` and a floor FAILs (1).

    python benchmarks/bench_quality.py [--json] [--strict] [--no-loo] [--no-ocr]
        [--option KEY=VALUE ...] [--loo-option KEY=VALUE ...] [--keep DIR]

``--option`` sets a field of ``SuggestOptions`` for every run, ``--loo-option`` for the
leave-one-out runs only (e.g. ``--loo-option learn=false``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for p in (str(REPO), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)

import gold_standard  # noqa: E402
import ocr_damage  # noqa: E402

CODER = "bench"
GOLD_CODER = "gold"
# `rta suggest` on the sample before issue 17 (commit 0eacd92): 558 candidates for 11,424
# informant words. Used as the "before" figure when a run does not report a raw count.
BEFORE_CANDIDATES = 558
BEFORE_WORDS = 11424

# floors of issue 17
TOP1_OVER_BASELINE = 0.15
RECALL_FLOOR = 0.85
PRECISION_FLOOR = 0.5
CANDIDATES_SHARE = 1 / 3
OCR_RECALL_GAP = 0.05


# ---------------------------------------------------------------------------------------
# Reading suggestions: the one place that knows the store's layout


def read_suggestions(project: Any, transcript: str | None = None) -> list[dict[str, Any]]:
    """The suggestions in ``project``'s store, as dicts with ``transcript_id``, ``start``,
    ``end``, ``code``, ``score`` and ``themes_ranked`` (a list of ``(theme, score)`` or None).

    ``themes_ranked`` is read from a ``themes_ranked`` column when the table has one, else from
    the evidence JSON (a ``themes_ranked`` key of the evidence object or of one of its items),
    else from the records of ``rta export suggestions`` when they carry the field."""
    conn = project.store.conn
    columns = {r[1] for r in conn.execute("PRAGMA table_info(suggestions)")}
    extra = ", themes_ranked" if "themes_ranked" in columns else ""
    sql = f"SELECT id, transcript_id, start, end, code, score, evidence{extra} FROM suggestions"
    args: tuple = ()
    if transcript is not None:
        sql += " WHERE transcript_id = ?"
        args = (transcript,)
    out = []
    for row in conn.execute(sql + " ORDER BY transcript_id, start, end, code, id", args):
        ranked = _themes_ranked(row["themes_ranked"] if extra else None, row["evidence"])
        out.append({"id": row["id"], "transcript_id": row["transcript_id"], "start": row["start"],
                    "end": row["end"], "code": row["code"], "score": float(row["score"]), "themes_ranked": ranked})
    if out and all(s["themes_ranked"] is None for s in out):
        exported = _exported_themes_ranked(project)
        for s in out:
            s["themes_ranked"] = exported.get(s["id"])
    return out


def _exported_themes_ranked(project: Any) -> dict[int, list[tuple[str, float]]]:
    """suggestion id -> ``themes_ranked`` from the export's records, if they have the field."""
    try:
        from rta.cli.nlp import suggestion_records
    except ImportError:
        return {}
    found: dict[int, list[tuple[str, float]]] = {}
    for rec in suggestion_records(project.store, None, project.codebook_path):
        ranked = _themes_ranked(rec.get("themes_ranked"), None)
        if ranked:
            found[int(rec["id"])] = ranked
    return found


def _themes_ranked(column: Any, evidence: str | None) -> list[tuple[str, float]] | None:
    raw = None
    if column:
        raw = json.loads(column) if isinstance(column, str) else column  # a JSON column or a record's list
    elif evidence:
        try:
            ev = json.loads(evidence)
        except ValueError:
            ev = None
        if isinstance(ev, dict):
            raw = ev.get("themes_ranked")
        elif isinstance(ev, list):
            raw = next((i["themes_ranked"] for i in ev if isinstance(i, dict) and i.get("themes_ranked")), None)
    if not raw:
        return None
    pairs = []
    for item in raw:
        if isinstance(item, dict):
            pairs.append((str(item.get("theme")), float(item.get("score", 0.0))))
        else:
            pairs.append((str(item[0]), float(item[1])))
    return pairs


# ---------------------------------------------------------------------------------------
# Scoring


@dataclass
class Span:
    """A gold passage placed in the text the project stores (clean or damaged)."""

    transcript_id: str
    start: int
    end: int
    codes: list[str]
    themes: list[str]
    key: str


@dataclass
class Scores:
    passages: int = 0
    recalled: int = 0
    suggestions: int = 0
    decisions: int = 0  # passages proposed for review (one decision each, with up to a few codes)
    precise: int = 0
    themed: int = 0
    top1_hits: int = 0
    covered: int = 0  # themed passages with at least one overlapping suggestion
    baseline_hits: int = 0
    words: int = 0
    raw_candidates: int | None = None
    baseline_theme: str = ""
    seconds: float = 0.0
    per_code: dict[str, list[int]] = field(default_factory=dict)  # code -> [gold, recalled]

    def add(self, other: "Scores") -> None:
        for f in ("passages", "recalled", "suggestions", "decisions", "precise", "themed", "top1_hits", "covered",
                  "baseline_hits", "words", "seconds"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        if other.raw_candidates is not None:
            self.raw_candidates = (self.raw_candidates or 0) + other.raw_candidates
        for code, (g, r) in other.per_code.items():
            cur = self.per_code.setdefault(code, [0, 0])
            cur[0] += g
            cur[1] += r

    def figures(self) -> dict[str, Any]:
        def share(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        # review burden: one decision per proposed passage (its ranked codes decided together);
        # before issue 17 every sentence x code pair was a decision of its own
        per_1000 = 1000 * self.decisions / self.words if self.words else None
        raw = 1000 * self.raw_candidates / self.words if self.words and self.raw_candidates is not None else None
        top1, base = share(self.top1_hits, self.themed), share(self.baseline_hits, self.themed)
        return {
            "passages": self.passages, "suggestions": self.suggestions, "decisions": self.decisions,
            "informant_words": self.words,
            "passage_recall": share(self.recalled, self.passages),
            "code_precision": share(self.precise, self.suggestions),
            "top1_theme": top1, "top1_theme_covered": share(self.top1_hits, self.covered),
            "majority_baseline": base, "baseline_theme": self.baseline_theme,
            "top1_minus_baseline": round(top1 - base, 4) if top1 is not None and base is not None else None,
            "candidates_per_1000_words": round(per_1000, 2) if per_1000 is not None else None,
            "raw_candidates": self.raw_candidates,
            "raw_candidates_per_1000_words": round(raw, 2) if raw is not None else None,
            "seconds": round(self.seconds, 2),
            "recall_per_code": {c: {"gold": g, "recalled": r} for c, (g, r) in sorted(self.per_code.items())},
        }


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def suggestion_themes(s: dict[str, Any], themes_of: dict[str, list[str]]) -> list[tuple[str, float]]:
    """A suggestion's themes with scores: its ``themes_ranked``, or its code's codebook themes
    sharing its score."""
    if s["themes_ranked"]:
        return list(s["themes_ranked"])
    themes = themes_of.get(s["code"], [])
    return [(t, s["score"] / len(themes)) for t in themes]


def top_theme(suggestions: list[dict[str, Any]], themes_of: dict[str, list[str]]) -> str | None:
    total: dict[str, float] = defaultdict(float)
    for s in suggestions:
        for theme, score in suggestion_themes(s, themes_of):
            total[theme] += score
    if not total:
        return None
    return max(sorted(total), key=lambda t: total[t])  # ties: the first name in sort order


def majority_theme(spans: list[Span]) -> str:
    counts = Counter(t for s in spans for t in s.themes)
    return max(sorted(counts), key=lambda t: counts[t]) if counts else ""


def score(spans: list[Span], suggestions: list[dict[str, Any]], themes_of: dict[str, list[str]],
          baseline_theme: str) -> Scores:
    """Score ``suggestions`` against the gold ``spans`` (of the same transcripts)."""
    sc = Scores(passages=len(spans), suggestions=len(suggestions), baseline_theme=baseline_theme,
                decisions=len({(s["transcript_id"], s["start"], s["end"]) for s in suggestions}))
    by_t: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in suggestions:
        by_t[s["transcript_id"]].append(s)
    gold_by_t: dict[str, list[Span]] = defaultdict(list)
    for g in spans:
        gold_by_t[g.transcript_id].append(g)
    for g in spans:
        near = [s for s in by_t[g.transcript_id] if overlaps(s["start"], s["end"], g.start, g.end)]
        hit = any(s["code"] in g.codes for s in near)
        sc.recalled += hit
        for code in g.codes:
            cur = sc.per_code.setdefault(code, [0, 0])
            cur[0] += 1
            cur[1] += any(s["code"] == code for s in near)
        if g.themes:
            sc.themed += 1
            sc.baseline_hits += baseline_theme in g.themes
            if near:
                sc.covered += 1
            top = top_theme(near, themes_of)
            sc.top1_hits += top is not None and top in g.themes
    for s in suggestions:
        sc.precise += any(s["code"] in g.codes and overlaps(s["start"], s["end"], g.start, g.end)
                          for g in gold_by_t[s["transcript_id"]])
    return sc


# ---------------------------------------------------------------------------------------
# Projects and runs


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as SuggestOptions fields, converted by the field's default type."""
    from rta.suggest import SuggestOptions

    known = {f.name: f for f in dataclasses.fields(SuggestOptions)}
    defaults = SuggestOptions()
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in known:
            raise SystemExit(f"error: --option {pair!r}: not KEY=VALUE with KEY one of {', '.join(sorted(known))}")
        current = getattr(defaults, key)
        if isinstance(current, bool):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise SystemExit(f"error: --option {key}: true or false, got {value!r}")
            out[key] = value.lower() in ("true", "1", "yes")
        elif isinstance(current, int):
            out[key] = int(value)
        elif isinstance(current, float):
            out[key] = float(value)
        elif isinstance(current, list) or (current is None and "list" in str(known[key].type)):
            out[key] = [v for v in value.split(",") if v]
        elif current is None and "int" in str(known[key].type):
            out[key] = int(value)
        else:
            out[key] = value
    return out


def make_base(root: Path, files: list[Path]) -> Path:
    """A project at ``root`` with ``files`` added (like ``rta demo``'s first two steps)."""
    from rta.project import Project

    project = Project.init(root, name="bench_quality", coder=CODER)
    project.add_files(files, coder=CODER)
    project.close()
    return root


def copy_project(base: Path, dest: Path):
    from rta.project import Project

    shutil.copytree(base, dest)
    return Project.open(dest)


def check_texts(project: Any, texts: dict[str, str]) -> None:
    """The stored texts are the ones gold offsets refer to (else the benchmark would lie)."""
    for tid, text in texts.items():
        row = project.store.transcript_row(tid)
        if row is None or project.store.transcript_text(tid, row["revision"]) != text:
            raise SystemExit(f"error: the stored text of {tid} is not the text the gold offsets refer to")


def record_gold(project: Any, spans: list[Span]) -> int:
    """Record ``spans`` as accepted codings by coder ``gold`` (one per code)."""
    from rta.coding import create_coding, ensure_codebook_version

    store = project.store
    n = 0
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, GOLD_CODER)
        for g in spans:
            for code in g.codes:
                create_coding(store, g.transcript_id, g.start, g.end, code, GOLD_CODER, version,
                              memo=f"gold standard passage {g.key} (bench_quality)")
                n += 1
    return n


def run(project: Any, options: dict[str, Any], transcript: str | None = None) -> tuple[list[dict[str, Any]], Any]:
    from rta.suggest import SuggestOptions, run_suggest

    opts = SuggestOptions(**options)
    if transcript is not None:
        opts.transcript = transcript
    result = run_suggest(project, opts, coder=CODER)
    return read_suggestions(project, transcript), result


def _raw(result: Any) -> int | None:
    raw = getattr(result, "raw_candidates", None)
    return int(raw) if raw is not None else None


def measure(base: Path, work: Path, label: str, spans: list[Span], themes_of: dict[str, list[str]],
            options: dict[str, Any]) -> Scores:
    t0 = time.perf_counter()
    project = copy_project(base, work / label)
    try:
        suggestions, result = run(project, options)
    finally:
        project.close()
    sc = score(spans, suggestions, themes_of, majority_theme(spans))
    sc.words, sc.raw_candidates = result.words, _raw(result)
    sc.seconds = time.perf_counter() - t0
    return sc


def measure_loo(base: Path, work: Path, label: str, spans: list[Span], themes_of: dict[str, list[str]],
                options: dict[str, Any]) -> Scores:
    total = Scores()
    transcripts = sorted({g.transcript_id for g in spans})
    for tid in transcripts:
        t0 = time.perf_counter()
        train = [g for g in spans if g.transcript_id != tid]
        test = [g for g in spans if g.transcript_id == tid]
        project = copy_project(base, work / f"{label}-{tid}")
        try:
            record_gold(project, train)
            suggestions, result = run(project, options, transcript=tid)
        finally:
            project.close()
        sc = score(test, suggestions, themes_of, majority_theme(train))
        sc.words, sc.raw_candidates = result.words, _raw(result)
        sc.seconds = time.perf_counter() - t0
        total.add(sc)
        shutil.rmtree(work / f"{label}-{tid}", ignore_errors=True)
    total.baseline_theme = "majority of the other transcripts"
    return total


# ---------------------------------------------------------------------------------------
# Report


def floors(figs: dict[str, dict[str, Any]]) -> list[tuple[str, bool, str]]:
    """(name, passed, detail) for each floor of issue 17 that the figures allow to check."""
    out: list[tuple[str, bool, str]] = []
    for mode in ("clean", "clean_loo"):
        f = figs.get(mode)
        if not f:
            continue
        if f["top1_minus_baseline"] is not None:
            out.append((f"{mode}: top-1 theme >= baseline + {TOP1_OVER_BASELINE}",
                        f["top1_minus_baseline"] >= TOP1_OVER_BASELINE - 1e-9,
                        f"{f['top1_theme']:.3f} vs {f['majority_baseline']:.3f} ({f['top1_minus_baseline']:+.3f})"))
        if f["passage_recall"] is not None:
            out.append((f"{mode}: passage recall >= {RECALL_FLOOR}", f["passage_recall"] >= RECALL_FLOOR,
                        f"{f['passage_recall']:.3f}"))
        if f["code_precision"] is not None:
            out.append((f"{mode}: code precision >= {PRECISION_FLOOR}", f["code_precision"] >= PRECISION_FLOOR,
                        f"{f['code_precision']:.3f}"))
        if f["candidates_per_1000_words"] is not None:
            before, source = f["raw_candidates_per_1000_words"], "this run's raw count"
            if before is None:
                before, source = 1000 * BEFORE_CANDIDATES / BEFORE_WORDS, "before issue 17"
            out.append((f"{mode}: candidates per 1,000 words <= 1/3 of before",
                        f["candidates_per_1000_words"] <= before * CANDIDATES_SHARE + 1e-9,
                        f"{f['candidates_per_1000_words']:.1f} vs {before:.1f} ({source})"))
        ocr = figs.get(mode.replace("clean", "ocr"))
        if ocr and ocr["passage_recall"] is not None and f["passage_recall"] is not None:
            gap = f["passage_recall"] - ocr["passage_recall"]
            out.append((f"{mode.replace('clean', 'ocr')}: recall within {OCR_RECALL_GAP} of clean",
                        gap <= OCR_RECALL_GAP + 1e-9,
                        f"{ocr['passage_recall']:.3f} vs {f['passage_recall']:.3f} (gap {gap:+.3f})"))
    return out


TITLES = {
    "clean": "(a) clean sample",
    "ocr": "(b) OCR-damaged copy",
    "clean_loo": "(a) clean sample, leave-one-transcript-out (learning from the other transcripts' gold)",
    "ocr_loo": "(b) OCR-damaged copy, leave-one-transcript-out",
}


def _pct(v: float | None) -> str:
    return "   n/a" if v is None else f"{v:6.3f}"


def render(figs: dict[str, dict[str, Any]], checks: list[tuple[str, bool, str]], meta: dict[str, Any]) -> str:
    lines = [f"bench_quality: {meta['passages']} gold passages in {meta['transcripts']} transcripts "
             f"({meta['themed']} with a theme); pipeline {meta['pipeline']}; options {meta['options'] or 'defaults'}"
             + (f"; leave-one-out options {meta['loo_options']}" if meta["loo_options"] else "")]
    lines.append(f"OCR copy: {meta['ocr']}" if meta.get("ocr") else "OCR copy: not measured")
    for mode, title in TITLES.items():
        f = figs.get(mode)
        if not f:
            continue
        lines.append("")
        lines.append(title)
        lines.append(f"  passage recall            {_pct(f['passage_recall'])}")
        lines.append(f"  code precision            {_pct(f['code_precision'])}   ({f['suggestions']} suggestions)")
        lines.append(f"  top-1 theme per passage   {_pct(f['top1_theme'])}   (over passages with suggestions: "
                     f"{_pct(f['top1_theme_covered']).strip()})")
        lines.append(f"  majority-theme baseline   {_pct(f['majority_baseline'])}   ({f['baseline_theme']})")
        diff = f["top1_minus_baseline"]
        lines.append(f"  top-1 minus baseline      {'   n/a' if diff is None else f'{diff:+6.3f}'}")
        cand = f["candidates_per_1000_words"]
        lines.append(f"  candidates / 1,000 words  {'   n/a' if cand is None else f'{cand:6.1f}'}   "
                     f"({f['decisions']} passages to decide, {f['suggestions']} codes proposed, "
                     f"for {f['informant_words']} informant words)")
        if f["raw_candidates_per_1000_words"] is not None:
            lines.append(f"  raw (before grouping)     {f['raw_candidates_per_1000_words']:6.1f}   "
                         f"({f['raw_candidates']} raw candidates)")
        lines.append(f"  time                      {f['seconds']:6.1f} s")
    lines.append("")
    lines.append(f"before issue 17: {BEFORE_CANDIDATES} candidates for {BEFORE_WORDS} informant words = "
                 f"{1000 * BEFORE_CANDIDATES / BEFORE_WORDS:.1f} per 1,000 words")
    lines.append("floors (issue 17):")
    for name, ok, detail in checks:
        lines.append(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    lines.append(f"total time {meta['seconds']:.1f} s")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of text")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a floor FAILs")
    ap.add_argument("--no-loo", action="store_true", help="skip the leave-one-transcript-out runs")
    ap.add_argument("--no-ocr", action="store_true", help="skip the OCR-damaged copy")
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                    help="a SuggestOptions field for every run (repeatable)")
    ap.add_argument("--loo-option", action="append", default=[], metavar="KEY=VALUE",
                    help="a SuggestOptions field for the leave-one-out runs only (repeatable)")
    ap.add_argument("--seed", type=int, default=ocr_damage.SEED, help="seed of the OCR damage")
    ap.add_argument("--keep", type=Path, help="work in this (new) folder and keep the projects")
    args = ap.parse_args(argv)
    options = parse_options(args.option)
    loo_options = {**options, **parse_options(args.loo_option)}

    t_start = time.perf_counter()
    from rta.codebook_yaml import load_codebook
    from rta.nlp import load_pipeline

    gold = gold_standard.load_gold()
    parsed = gold_standard.parse_sample()
    cb = load_codebook(gold_standard.CODEBOOK)
    themes_of = {c: cb.themes_of(c) for c in cb.code_names()}
    clean_spans = [Span(g.transcript_id, g.start, g.end, g.codes, g.themes, g.key) for g in gold]
    files = ocr_damage.sample_files()

    if args.keep:
        if args.keep.exists():
            raise SystemExit(f"error: --keep {args.keep}: exists; give a new folder")
        work = args.keep
        work.mkdir(parents=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="rta-bench-quality-"))
    figs: dict[str, dict[str, Any]] = {}
    meta: dict[str, Any] = {"passages": len(gold), "transcripts": len(parsed),
                            "themed": sum(1 for g in gold if g.themes), "options": options,
                            "loo_options": parse_options(args.loo_option)}
    try:
        base = make_base(work / "base-clean", files)
        from rta.project import Project

        with_project = Project.open(base)
        check_texts(with_project, {tid: t.text for tid, t in parsed.items()})
        meta["pipeline"] = load_pipeline(with_project.config.pipeline, with_project.root)[1].label
        with_project.close()
        figs["clean"] = measure(base, work, "clean", clean_spans, themes_of, options).figures()
        if not args.no_loo:
            figs["clean_loo"] = measure_loo(base, work, "clean-loo", clean_spans, themes_of, loo_options).figures()
        if not args.no_ocr:
            damaged = ocr_damage.damage_sample(work / "ocr-files", seed=args.seed)
            letters = sum(d.letters for d in damaged.values())
            hit = sum(d.letters_hit for d in damaged.values())
            meta["ocr"] = (f"seed {args.seed}, {hit} of {letters} æ/ø/å replaced, "
                           f"{sum(d.hyphens for d in damaged.values())} hyphenated breaks")
            ocr_spans = []
            for g in clean_spans:
                s, e = damaged[g.transcript_id].map_span(g.start, g.end)
                ocr_spans.append(Span(g.transcript_id, s, e, g.codes, g.themes, g.key))
            ocr_base = make_base(work / "base-ocr", [work / "ocr-files" / f.name for f in files])
            with_project = Project.open(ocr_base)
            check_texts(with_project, {tid: d.text for tid, d in damaged.items()})
            with_project.close()
            figs["ocr"] = measure(ocr_base, work, "ocr", ocr_spans, themes_of, options).figures()
            if not args.no_loo:
                figs["ocr_loo"] = measure_loo(ocr_base, work, "ocr-loo", ocr_spans, themes_of, loo_options).figures()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    meta["seconds"] = round(time.perf_counter() - t_start, 2)
    checks = floors(figs)
    if args.json:
        print(json.dumps({"meta": meta, "figures": figs,
                          "floors": [{"floor": n, "pass": ok, "detail": d} for n, ok, d in checks]},
                         ensure_ascii=False, indent=2))
    else:
        print(render(figs, checks, meta))
    return 1 if args.strict and not all(ok for _, ok, _ in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
