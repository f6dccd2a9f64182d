"""``rta demo``: the whole path on the bundled sample, as a new user's first run.

init -> add the sample transcripts -> (phase 2) NLP suggestions -> a scripted, deterministic
review (the demo's stand-in for a researcher: accept the strongest suggestions for each themed
code, spread over informants; reject the weak ones; leave the rest for review) -> (phase 3-5)
themes seeded from the codebook -> (phase 6) HTML and Markdown reports -> audit, including the
report's quotes. When the NLP assistant cannot run, a short scripted list of manual codings is
used instead, so the demo always reaches a report.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rta.errors import RtaError
from rta.resources import sample_transcripts_dir

DEMO_CODER = "demo"
ACCEPT_MIN_SCORE = 0.8  # the scripted reviewer accepts only strong suggestions ...
ACCEPT_PER_CODE = 3  # ... at most this many per code, different informants first
REJECT_BELOW = 0.85  # and rejects a passage's weakest proposal: ranked third, under this score

# Used only when suggestions cannot be generated: (transcript, turn, code), chosen by reading.
SCRIPTED_CODINGS: list[tuple[str, int, str]] = [
    ("k1-skoleeier", 2, "Forventninger"),
    ("k1-skoleeier", 4, "Uklarhet"),
    ("k2-skoleeier", 2, "Utskiftning"),
    ("k3-skoleeier", 2, "Kapasitetsbygging"),
    ("k4-skoleleder", 2, "Tid"),
    ("veiledere-a-b", 2, "Veilederrollen"),
]


def sample_files() -> list[Path]:
    folder = sample_transcripts_dir()
    files = sorted(p for p in folder.glob("*") if p.suffix in (".txt", ".md", ".docx") and p.name != "README.md")
    if not files:
        raise RtaError("no sample transcripts found", path=folder, hint="run rta demo from a source checkout")
    return files


@dataclass
class DemoResult:
    """Where the demo put things and what it decided."""

    root: Path
    reports: list[Path] = field(default_factory=list)
    suggestions: int = 0
    accepted: int = 0
    rejected: int = 0
    manual: int = 0
    audit_ok: bool = False


def scripted_review(store, coder: str, codebook_version: int, codes: set[str]) -> tuple[int, int]:
    """The demo's deterministic reviewer: for each code in ``codes``, accept the
    ``ACCEPT_PER_CODE`` best pending suggestions scoring at least ``ACCEPT_MIN_SCORE``
    (one per informant before a second from the same), and reject each passage's third-ranked
    code when it scores below ``REJECT_BELOW``. Returns (accepted, rejected)."""
    from rta.review import accept, reject

    rows = store.conn.execute(
        "SELECT s.id, s.code, s.score, s.transcript_id, s.start, t.informant FROM suggestions s LEFT JOIN turns t "
        "ON t.transcript_id = s.transcript_id AND t.revision = s.revision AND t.n = s.turn_n "
        "WHERE s.status = 'suggested' ORDER BY s.code, s.score DESC, s.transcript_id, s.start, s.id").fetchall()
    accepted = rejected = 0
    by_code: dict[str, list] = {}
    by_passage: dict[tuple[str, int], list] = {}
    for r in rows:
        by_code.setdefault(r["code"], []).append(r)
        by_passage.setdefault((r["transcript_id"], r["start"]), []).append(r)
    third = {sorted(group, key=lambda r: (-r["score"], r["id"]))[2]["id"]
             for group in by_passage.values() if len(group) >= 3}
    taken: set[tuple[str, int, int]] = set()
    for code, items in sorted(by_code.items()):
        if code in codes:
            strong = [r for r in items if r["score"] >= ACCEPT_MIN_SCORE]
            picked, seen = [], set()
            for r in strong:  # different informants first
                if r["informant"] not in seen and len(picked) < ACCEPT_PER_CODE:
                    picked.append(r)
                    seen.add(r["informant"])
            for r in strong:
                if r not in picked and len(picked) < ACCEPT_PER_CODE:
                    picked.append(r)
            for r in picked:
                key = (r["transcript_id"], r["start"], r["id"])
                if key not in taken:
                    accept(store, r["id"], coder, codebook_version, memo="demo: accepted by the scripted review")
                    taken.add(key)
                    accepted += 1
        for r in items:
            if r["id"] in third and r["score"] < REJECT_BELOW and (r["transcript_id"], r["start"], r["id"]) not in taken:
                reject(store, r["id"], coder, reason="demo: too weak a match")
                rejected += 1
    return accepted, rejected


def feature_contrast(store, theme: str, roles: tuple[str, ...]) -> list[int]:
    """The demo's stand-in for a researcher choosing extracts: in ``theme``, the first coding
    from each of ``roles`` in that order (a school leader's view, then an adviser's)."""
    from rta.featured import feature
    from rta.themes import get_theme

    try:
        codes = get_theme(store, theme).codes
    except RtaError:
        return []
    chosen: list[int] = []
    for role in roles:
        row = store.conn.execute(
            "SELECT c.id FROM codings c JOIN turns t ON t.transcript_id = c.transcript_id AND t.revision = c.revision "
            "AND t.n = c.turn_n WHERE c.status = 'active' AND t.role = ? AND c.code IN (%s) ORDER BY c.id LIMIT 1"
            % ",".join("?" * len(codes)), (role, *codes)).fetchone()
        if row is not None:
            feature(store, row[0], theme, DEMO_CODER, note=f"demo: the {role}'s view")
            chosen.append(row[0])
    return chosen


def run_demo(out: Path | None, echo: Callable[[str], None] = print) -> Path:
    """Run the whole path on the sample and print where the report is."""
    return run_demo_result(out, echo).root


def run_demo_result(out: Path | None, echo: Callable[[str], None] = print, use_nlp: bool = True) -> DemoResult:
    """:func:`run_demo`, returning what it did (for tests). ``use_nlp=False`` takes the
    scripted manual codings instead of NLP suggestions."""
    from rta.codebook_yaml import load_codebook
    from rta.coding import create_coding, ensure_codebook_version, span_for_turn
    from rta.overview import transcript_overview
    from rta.phases import set_phase
    from rta.project import Project
    from rta.report_build import build_report
    from rta.themes import from_codebook

    root = Path(out) if out else Path(tempfile.mkdtemp(prefix="rta-demo-")) / "studie"
    project = Project.init(root, name="Oppfølgingsordningen (eksempel)", coder=DEMO_CODER)
    result = DemoResult(project.root)
    store = project.store
    echo(f"1. project created: {project.root}")
    added = project.add_files(sample_files(), coder=DEMO_CODER)
    words = sum(r["words"] for r in transcript_overview(store))
    echo(f"2. added {len(added)} sample transcripts ({words} words)")
    try:
        from rta.memos import add_memo

        with store.transaction():
            add_memo(store, "journal", None, "Demo: alle transkripsjonene er lest i sin helhet før koding.", DEMO_CODER)
    except ImportError:  # pragma: no cover - memos land with another issue
        pass
    set_phase(store, 2, DEMO_CODER, reason="demo: transcripts read")
    codebook = load_codebook(project.codebook_path)
    themed = {c for t in codebook.themes for c in t.codes}
    suggested = False
    if use_nlp:
        try:
            from rta.suggest import run_suggest

            echo("3. reading the transcripts with the Norwegian NLP pipeline for suggestions ...")
            run = run_suggest(project, coder=DEMO_CODER)
            result.suggestions = run.candidates
            suggested = True
            echo(f"   {run.candidates} suggestions ({run.pipeline})")
        except (ImportError, RtaError) as exc:
            echo(f"   no NLP suggestions ({exc}); using the scripted codings instead")
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, DEMO_CODER)
        if suggested:
            result.accepted, result.rejected = scripted_review(store, DEMO_CODER, version, themed)
            echo(f"4. scripted review: accepted {result.accepted} (score >= {ACCEPT_MIN_SCORE}, at most "
                 f"{ACCEPT_PER_CODE} per code), rejected {result.rejected} (third-ranked in their passage, score < {REJECT_BELOW}), "
                 f"the rest left for review")
        else:
            for tid, n, code in SCRIPTED_CODINGS:
                start, end = span_for_turn(store, tid, n)
                create_coding(store, tid, start, end, code, DEMO_CODER, version, memo="demo: scripted coding")
                result.manual += 1
            echo(f"4. coded {result.manual} turns from the demo script")
    set_phase(store, 3, DEMO_CODER, reason="demo: codes in place")
    seeded = from_codebook(store, codebook, DEMO_CODER)
    echo(f"5. themes from the codebook: {', '.join(seeded.added)}")
    set_phase(store, 6, DEMO_CODER, reason="demo: themes taken as defined in the codebook")
    featured = feature_contrast(store, "Kontinuitet", ("skoleleder", "veileder"))
    if featured:
        echo(f"   featured in Kontinuitet: coding {' then '.join(map(str, featured))} (a school leader's view, "
             "then an adviser's)")
    built = build_report(project, ["html", "md", "docx"], project.root / "rapport", coder=DEMO_CODER)
    result.reports = built.paths
    echo(f"6. report: {built.data.total_quotes} quotes in {len(built.data.themes)} themes from "
         f"{built.data.informants_quoted} of {built.data.informants_total} informants")
    if built.unresolved_flags:
        echo(f"   the report warns: likely identifiers left in {len(built.unresolved_flags)} transcript(s) "
             "(the sample's planted slips): see 'rta anonymise check'")
    from rta.audit import audit
    from rta.receipts import verify_report

    checked = audit(store)
    receipts = [verify_report(project, p) for p in built.paths]
    result.audit_ok = checked.ok and all(r.ok for r in receipts)
    echo(f"7. {checked.summary()}; reports: " + "; ".join(r.summary() for r in receipts))
    echo("")
    for path in built.paths:
        echo(f"report: {path}")
    echo(f"done. Explore it: cd {project.root} && rta show k1-skoleeier --suggestions && rta phase "
         "&& rta themes review")
    project.close()
    return result
