"""How good is the assistant? Suggestions compared with the codings a person kept.

Not inter-rater reliability (reflexive TA does not treat codes as facts to agree on): a measure
of the NLP assistant, for the researcher deciding how far to trust it.

Per code:

* **recall**: the share of final (active) codings that a suggestion of the same code
  anticipated, i.e. overlapped in the same transcript revision (accepted suggestions count,
  and so do manual codings that a pending or rejected suggestion had pointed at);
* **acceptance**: accepted / (accepted + rejected) suggestions (recoded count as rejected);
* codes whose decided suggestions are mostly rejected are listed as "mostly rejected";
* what the learned part (rta.learn) changes: **recall without it** counts only suggestions
  with indicator evidence (one whose only evidence is the learned model does not count; one
  whose indicators alone would have scored under the threshold still does, so the figure can
  understate the change), and **learned acceptance** is the acceptance of the suggestions the
  learned model took part in.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from rta.norsk import sort_no
from rta.store import Store

MOSTLY_REJECTED = 0.5
MIN_DECIDED = 2


@dataclass
class CodeFigures:
    """The assistant's figures for one code."""

    code: str
    suggestions: int = 0
    accepted: int = 0
    rejected: int = 0
    pending: int = 0
    codings: int = 0
    anticipated: int = 0
    anticipated_without_learned: int = 0
    learned: int = 0  # suggestions the learned model took part in
    learned_accepted: int = 0
    learned_rejected: int = 0

    @property
    def recall(self) -> float | None:
        return self.anticipated / self.codings if self.codings else None

    @property
    def acceptance(self) -> float | None:
        decided = self.accepted + self.rejected
        return self.accepted / decided if decided else None

    @property
    def recall_without_learned(self) -> float | None:
        return self.anticipated_without_learned / self.codings if self.codings else None

    @property
    def learned_acceptance(self) -> float | None:
        decided = self.learned_accepted + self.learned_rejected
        return self.learned_accepted / decided if decided else None

    @property
    def mostly_rejected(self) -> bool:
        decided = self.accepted + self.rejected
        return decided >= MIN_DECIDED and self.rejected / decided > MOSTLY_REJECTED

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(recall=self.recall, acceptance=self.acceptance, mostly_rejected=self.mostly_rejected,
                 recall_without_learned=self.recall_without_learned, learned_acceptance=self.learned_acceptance)
        return d


@dataclass
class Evaluation:
    """Per-code figures plus totals over all codes."""

    codes: list[CodeFigures]
    total: CodeFigures
    by_method: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def mostly_rejected(self) -> list[str]:
        return [c.code for c in self.codes if c.mostly_rejected]

    def to_dict(self) -> dict[str, Any]:
        return {"codes": [c.to_dict() for c in self.codes], "total": self.total.to_dict(),
                "by_method": self.by_method, "mostly_rejected": self.mostly_rejected}


def evaluate(store: Store, code: str | None = None, coder: str | None = None) -> Evaluation:
    """Compute the figures from the store (suggestions and active codings). ``coder``: that
    coder's view: the suggestions they decided and their codings (pending suggestions, decided
    by no one yet, are left out)."""
    figures: dict[str, CodeFigures] = {}
    by_method: dict[str, dict[str, int]] = defaultdict(lambda: {"suggested": 0, "accepted": 0, "rejected": 0})
    spans: dict[tuple[str, int, str], list[tuple[int, int, bool]]] = defaultdict(list)
    for r in store.conn.execute("SELECT transcript_id, revision, start, end, code, status, method, evidence, "
                                "decided_by FROM suggestions"):
        if coder and r["decided_by"] != coder:
            continue
        if (code and r["code"] != code) or r["status"] == "retired":
            continue  # retired: made on text a later revision replaced, never decided by a person
        f = figures.setdefault(r["code"], CodeFigures(r["code"]))
        f.suggestions += 1
        status = r["status"]
        if status == "accepted":
            f.accepted += 1
        elif status == "rejected":
            f.rejected += 1
        else:
            f.pending += 1
        by_method[r["method"]][status] += 1
        methods = _methods(r["evidence"])
        if "learned" in methods:
            f.learned += 1
            if status == "accepted":
                f.learned_accepted += 1
            elif status == "rejected":
                f.learned_rejected += 1
        indicator = bool(methods - {"learned"})
        spans[(r["transcript_id"], r["revision"], r["code"])].append((r["start"], r["end"], indicator))
    for r in store.conn.execute(
            "SELECT transcript_id, revision, start, end, code, coder FROM codings WHERE status = 'active'"):
        if (code and r["code"] != code) or (coder and r["coder"] != coder):
            continue
        f = figures.setdefault(r["code"], CodeFigures(r["code"]))
        f.codings += 1
        near = [ind for s, e, ind in spans.get((r["transcript_id"], r["revision"], r["code"]), ())
                if s < r["end"] and r["start"] < e]
        if near:
            f.anticipated += 1
        if any(near):
            f.anticipated_without_learned += 1
    codes = sort_no(figures.values(), key=lambda f: f.code)
    total = CodeFigures("(all)")
    for f in codes:
        for name in ("suggestions", "accepted", "rejected", "pending", "codings", "anticipated",
                     "anticipated_without_learned", "learned", "learned_accepted", "learned_rejected"):
            setattr(total, name, getattr(total, name) + getattr(f, name))
    return Evaluation(codes, total, dict(by_method))


def _methods(evidence: str | None) -> set[str]:
    try:
        items = json.loads(evidence or "[]")
    except ValueError:
        return set()
    return {i.get("method") for i in items if isinstance(i, dict)} if isinstance(items, list) else set()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def format_table(ev: Evaluation) -> str:
    """A plain-text table for the terminal (one line per code, totals, mostly-rejected list)."""
    head = (f"{'code':<20} {'sugg':>5} {'acc':>5} {'rej':>5} {'pend':>5} {'codings':>8} {'recall':>7} "
            f"{'-learned':>8} {'accept':>7} {'learned':>8}")
    lines = [head, "-" * len(head)]
    for f in [*ev.codes, ev.total]:
        if f is ev.total:
            lines.append("-" * len(head))
        flag = "  mostly rejected" if f.mostly_rejected and f is not ev.total else ""
        lines.append(f"{f.code:<20} {f.suggestions:>5} {f.accepted:>5} {f.rejected:>5} {f.pending:>5} "
                     f"{f.codings:>8} {_pct(f.recall):>7} {_pct(f.recall_without_learned):>8} "
                     f"{_pct(f.acceptance):>7} {_pct(f.learned_acceptance):>8}{flag}")
    lines.append("")
    lines.append("recall: share of final codings a suggestion of the same code anticipated "
                 "(-learned: counting only suggestions with indicator evidence); "
                 "accept: accepted / decided suggestions (learned: of those the learned model took part in)")
    if ev.by_method:
        parts = []
        for method, counts in sorted(ev.by_method.items()):
            decided = counts["accepted"] + counts["rejected"]
            parts.append(f"{method} {_pct(counts['accepted'] / decided if decided else None)} of {decided}")
        lines.append("acceptance by method: " + ", ".join(parts))
    lines.append("mostly rejected: " + (", ".join(ev.mostly_rejected) if ev.mostly_rejected else "none"))
    return "\n".join(lines)
