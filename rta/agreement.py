"""Agreement figures between two coders, for studies that want them (``rta compare --agreement``).

Reflexive thematic analysis does not use these figures: a coding there is one researcher's
reading, and two readings that differ are material for reflection, not measurement error.
Codebook and coding-reliability approaches do use them, so rta computes them on request and
says so next to them (:data:`NOT_FOR_RTA`).

Units are chosen by the researcher: informant **turns** or **sentences** (within informant
turns), never characters (agreement over uncoded characters is inflated by all the text nobody
coded). Only transcripts both coders have coded count. A unit is coded with a code by a coder
when one of the coder's active codings with that code overlaps it. Per code, each unit is a
yes/no decision of each coder; **overall** pools every (unit, code) decision. Figures:

* percentage agreement: the share of units where both decided alike;
* Cohen's kappa, from the 2x2 confusion table: (p_o - p_e) / (1 - p_e), p_e from each coder's
  own rate (undefined when p_e = 1: both coders decided the same way on every unit);
* Krippendorff's alpha (nominal), from the ``krippendorff`` package (imported here only).
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from rta.errors import RtaError
from rta.store import Store

UNITS = ("turn", "sentence")
NOT_FOR_RTA = ("Reflexive thematic analysis does not use these figures: there a coding is a researcher's reading, "
               "and where two coders differ is material for reflection, not error. They belong to codebook and "
               "coding-reliability approaches.")


@dataclass
class Figures:
    """Two coders' yes/no decisions over the same units, summed up."""

    units: int
    coded_a: int  # units the first coder coded (with the code)
    coded_b: int
    agree: int
    percent: float
    kappa: float | None
    alpha: float | None


@dataclass
class AgreementReport:
    coders: tuple[str, str]
    unit: str
    units: int
    transcripts: int
    per_code: dict[str, Figures] = field(default_factory=dict)
    overall: Figures | None = None
    note: str = NOT_FOR_RTA

    def to_dict(self) -> dict[str, Any]:
        return {"coders": list(self.coders), "unit": self.unit, "units": self.units, "transcripts": self.transcripts,
                "note": self.note, "per_code": {k: asdict(v) for k, v in self.per_code.items()},
                "overall": asdict(self.overall) if self.overall else None}


def binary_figures(a: Sequence[int], b: Sequence[int]) -> Figures:
    """Percentage agreement, Cohen's kappa and Krippendorff's alpha (nominal) of two coders'
    0/1 decisions over the same units."""
    if len(a) != len(b):
        raise ValueError("both coders need a decision for every unit")
    n = len(a)
    n11 = sum(1 for x, y in zip(a, b) if x and y)
    n10 = sum(1 for x, y in zip(a, b) if x and not y)
    n01 = sum(1 for x, y in zip(a, b) if y and not x)
    agree = n - n10 - n01
    if n == 0:
        return Figures(0, 0, 0, 0, 0.0, None, None)
    po = agree / n
    pa, pb = (n11 + n10) / n, (n11 + n01) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    kappa = None if pe >= 1 else (po - pe) / (1 - pe)
    return Figures(n, n11 + n10, n11 + n01, agree, 100.0 * po, kappa, _alpha(a, b))


def _alpha(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Krippendorff's alpha, nominal: None when it is undefined (one value only)."""
    import krippendorff
    import numpy as np

    if len(set(a) | set(b)) < 2:
        return None
    value = krippendorff.alpha(reliability_data=np.array([a, b], dtype=float), level_of_measurement="nominal")
    return None if value != value else float(value)  # NaN: undefined


def units_of(store: Store, transcripts: list[str], unit: str) -> dict[str, list[tuple[int, int]]]:
    """The units (spans, by start) of each transcript's current revision: informant turns, or
    the sentences of informant turns."""
    if unit not in UNITS:
        raise RtaError(f"unknown unit '{unit}'", hint="use --unit turn or --unit sentence")
    out: dict[str, list[tuple[int, int]]] = {}
    for tid in transcripts:
        turns = [(r["start"], r["end"]) for r in store.current_turns(tid) if r["informant"] is not None]
        if unit == "sentence":
            from rta.review import sentence_bounds

            text = store.transcript_text(tid)
            turns = [s for start, end in turns for s in sentence_bounds(text, start, end)]
        out[tid] = sorted(turns)
    return out


def agreement(store: Store, a: str, b: str, unit: str = "turn", transcript: str | None = None,
              code: str | None = None) -> AgreementReport:
    """Agreement between coders ``a`` and ``b`` per code and overall (module doc)."""
    from rta.compare import _scope, current_codings

    transcript, code = _scope(store, transcript, code)
    by_transcript, _ = current_codings(store, (a, b), transcript)
    both = sorted(t for t, rows in by_transcript.items() if {r["coder"] for r in rows} == {a, b})
    units = units_of(store, both, unit)
    coded: dict[str, set[tuple[str, int, str]]] = {a: set(), b: set()}
    codes: set[str] = set()
    for tid in both:
        spans = units[tid]
        starts = [s for s, _ in spans]
        for r in by_transcript[tid]:
            if code is not None and r["code"] != code:
                continue
            codes.add(r["code"])
            i = max(0, bisect.bisect_right(starts, r["start"]) - 1)
            while i < len(spans) and spans[i][0] < r["end"]:
                if spans[i][1] > r["start"]:
                    coded[r["coder"]].add((tid, i, r["code"]))
                i += 1
    keys = [(tid, i) for tid in both for i in range(len(units[tid]))]
    report = AgreementReport((a, b), unit, len(keys), len(both))
    pooled_a: list[int] = []
    pooled_b: list[int] = []
    from rta.norsk import sort_no

    for c in sort_no(codes):
        va = [1 if (tid, i, c) in coded[a] else 0 for tid, i in keys]
        vb = [1 if (tid, i, c) in coded[b] else 0 for tid, i in keys]
        report.per_code[c] = binary_figures(va, vb)
        pooled_a += va
        pooled_b += vb
    report.overall = binary_figures(pooled_a, pooled_b) if codes else None
    return report


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def agreement_text(report: AgreementReport) -> list[str]:
    """The figures as a terminal table, with what they are and what they are not."""
    a, b = report.coders
    units = "informant turns" if report.unit == "turn" else "sentences of informant turns"
    lines = [f"Agreement between {a} and {b} over {report.units} {units} in {report.transcripts} transcript(s) "
             f"both coded (a unit counts as coded with a code when a coding with that code overlaps it).",
             report.note, ""]
    width = max([len("overall (pooled)"), *(len(c) for c in report.per_code)])
    wa, wb = max(len(a), 5), max(len(b), 5)
    lines.append(f"{'code':<{width}}  {'units':>6}  {a:>{wa}}  {b:>{wb}}  {'agree %':>7}  {'kappa':>6}  {'alpha':>6}")
    rows = list(report.per_code.items()) + ([("overall (pooled)", report.overall)] if report.overall else [])
    for name, f in rows:
        lines.append(f"{name:<{width}}  {f.units:>6}  {f.coded_a:>{wa}}  {f.coded_b:>{wb}}  {f.percent:>7.1f}  "
                     f"{_fmt(f.kappa):>6}  {_fmt(f.alpha):>6}")
    if not report.per_code:
        lines.append("(no transcript that both coders coded: nothing to compare)")
    lines += ["", "kappa: Cohen's, from the 2x2 table of each code's yes/no decisions; alpha: Krippendorff's "
                  "(nominal); overall pools every unit and code; n/a: undefined (both coders decided alike on "
                  "every unit)."]
    return lines
