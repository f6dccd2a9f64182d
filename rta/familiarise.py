"""Phase 1, familiarisation: who speaks how much, and which words set a speaker apart.

Numbers never replace reading a transcript in full; they point a reader at what to notice
(an interview dominated by the interviewer, an informant who hardly speaks, words one
municipality uses and the others do not). For each transcript, informant and role:
turns, words, the interviewer's and the informants' share of the words, and the most
distinctive lemmas by TF-IDF against the other units at the same level (stop words removed).

Lemmatising is injected as a callable (text -> lemmas) so the counting can be tested without
spaCy; :func:`project_lemmatizer` gives the project's Norwegian pipeline (rta.nlp) when it can
be loaded, and a plain lower-casing tokenizer otherwise (and says which one it used).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from rta.store import Store

Lemmatizer = Callable[[str], list[str]]

# A compact Norwegian stop list (Bokmål, Nynorsk and common spoken forms), so distinctive words
# are content words. spaCy's list is added when spaCy is importable.
STOPWORDS: frozenset[str] = frozenset("""
alle allerede alltid altså andre annen annet at av bare begge ble bli blir blitt bra både da
dag de del dem den denne der deres derfor det dette di din disse dit du eg ei ein eit eller
en enn er et ett etter fikk for fordi fra få før gang ganske godt gå går ha hadde han hans
har hatt hen hennar henne hennes her hjå ho hoss hun hva hvem hver hvilke hvilken hvis hvor
hvordan hvorfor i igjen ikke ikkje ingen inn ja jeg kan kanskje kom kome korleis korso kun
kunne kva kvar kvarhelst kven kvi kvifor litt lite man mange me med meg meget mellom men
mer mest mi min mine mitt mot mye må måtte ned nei noe noen nok nokon nokor nokre nå når og
også om opp oss over på rett sa sagt samme seg selv si sia sidan siden sin sine sitt sjøl skal
skulle slik slikt som sa så sånn tatt til tror ut uten var vart vere verte vi vil ville
vore vors vort være vært å eh ehm mm hm liksom egentlig jo da an ene én dere hos oppi sann
ellers egen eget egne hele heile veldig sånt
""".split())


def simple_lemmatizer(text: str) -> list[str]:
    """Lower-cased word tokens (letters only): the fallback when no pipeline is available."""
    return [w.casefold() for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text)]


def project_lemmatizer(project: Any) -> tuple[Lemmatizer, str]:
    """The project's Norwegian pipeline as a lemmatizer, and its label; falls back to
    :func:`simple_lemmatizer` (label 'tokens') when rta.nlp or spaCy cannot load one."""
    try:
        from rta.nlp import load_pipeline

        nlp, info = load_pipeline(project.config.pipeline, project.root)
    except Exception:  # no spaCy, no pipeline: counting on word forms still helps
        return simple_lemmatizer, "tokens (no NLP pipeline available)"

    def lemmatize(text: str) -> list[str]:
        return [(t.lemma_ or t.text).casefold() for t in nlp(text) if t.is_alpha]

    return lemmatize, info.label


def stopwords() -> frozenset[str]:
    """rta's stop list, plus spaCy's Norwegian one when spaCy is installed."""
    try:
        from spacy.lang.nb.stop_words import STOP_WORDS
    except Exception:  # pragma: no cover - spaCy is a dependency
        return STOPWORDS
    return STOPWORDS | frozenset(w.casefold() for w in STOP_WORDS)


@dataclass
class UnitStats:
    """One transcript, informant or role."""

    kind: str  # 'transcript' | 'informant' | 'role'
    key: str
    label: str
    turns: int = 0
    words: int = 0
    informant_words: int = 0
    interviewer_words: int = 0
    informant_turns: int = 0
    interviewer_turns: int = 0
    transcripts: list[str] = field(default_factory=list)
    distinctive: list[tuple[str, float]] = field(default_factory=list)

    @property
    def informant_share(self) -> float:
        """The informants' share of the words spoken (0-1)."""
        total = self.informant_words + self.interviewer_words
        return self.informant_words / total if total else 0.0

    @property
    def interviewer_share(self) -> float:
        total = self.informant_words + self.interviewer_words
        return self.interviewer_words / total if total else 0.0


@dataclass
class Familiarisation:
    """The three levels, plus what lemmatised the text."""

    transcripts: list[UnitStats]
    informants: list[UnitStats]
    roles: list[UnitStats]
    lemmatizer: str
    notes: list[Any] = field(default_factory=list)  # familiarisation memos (rta.memos.Memo)


def distinctive_terms(docs: dict[str, Counter], top: int = 8, min_count: int = 2) -> dict[str, list[tuple[str, float]]]:
    """TF-IDF of each unit's lemmas against the other units: tf is the lemma's share of the
    unit's lemmas, idf = ln((1 + N) / (1 + df)), so a lemma every unit uses scores 0 and is
    left out (it does not set anyone apart; with one unit nothing can). Lemmas used fewer
    than ``min_count`` times in a unit are skipped (one-off words are noise, not a pattern)."""
    n = len(docs)
    df: Counter = Counter()
    for counts in docs.values():
        df.update(counts.keys())
    out: dict[str, list[tuple[str, float]]] = {}
    for key, counts in docs.items():
        total = sum(counts.values()) or 1
        scored = [(lemma, (c / total) * math.log((1 + n) / (1 + df[lemma])))
                  for lemma, c in counts.items() if c >= min_count]
        scored = [(lemma, score) for lemma, score in scored if score > 0]
        scored.sort(key=lambda x: (-x[1], x[0]))
        out[key] = [(lemma, round(score, 4)) for lemma, score in scored[:top]]
    return out


def familiarise(store: Store, registry: Any, lemmatize: Lemmatizer = simple_lemmatizer,
                stop: Iterable[str] | None = None, top: int = 8, lemmatizer_label: str = "tokens") -> Familiarisation:
    """Counts per transcript, informant and role, and their distinctive lemmas (informants'
    speech only: the interviewer's questions would otherwise dominate each transcript)."""
    stop_set = frozenset(s.casefold() for s in (STOPWORDS if stop is None else stop))
    rows = store.current_turns()
    texts: dict[str, str] = {}
    units: dict[tuple[str, str], UnitStats] = {}
    lemmas: dict[tuple[str, str], Counter] = {}

    def unit(kind: str, key: str, label: str) -> UnitStats:
        if (kind, key) not in units:
            units[(kind, key)] = UnitStats(kind, key, label)
            lemmas[(kind, key)] = Counter()
        return units[(kind, key)]

    for r in rows:
        tid = r["transcript_id"]
        if tid not in texts:
            texts[tid] = store.transcript_text(tid, r["revision"])
        t = unit("transcript", tid, tid)
        t.turns += 1
        t.words += r["words"]
        if r["informant"]:
            t.informant_words += r["words"]
            t.informant_turns += 1
        else:
            t.interviewer_words += r["words"]
            t.interviewer_turns += 1
        if not r["informant"]:
            continue
        words = [w for w in lemmatize(texts[tid][r["start"]:r["end"]]) if w not in stop_set and len(w) > 1]
        lemmas[("transcript", tid)].update(words)
        for kind, key, label in (("informant", r["informant"], r["informant"]),
                                 ("role", r["role"] or "?", registry.role_name(r["role"]))):
            u = unit(kind, key, label)
            u.turns += 1
            u.informant_turns += 1
            u.words += r["words"]
            u.informant_words += r["words"]
            if tid not in u.transcripts:
                u.transcripts.append(tid)
            lemmas[(kind, key)].update(words)
    # the interviewer's words in the transcripts an informant or role speaks in
    per_transcript = {k[1]: u for k, u in units.items() if k[0] == "transcript"}
    for (kind, _), u in units.items():
        if kind in ("informant", "role"):
            u.interviewer_words = sum(per_transcript[t].interviewer_words for t in u.transcripts)
            u.interviewer_turns = sum(per_transcript[t].interviewer_turns for t in u.transcripts)
    for kind in ("transcript", "informant", "role"):
        keys = [k for k in units if k[0] == kind]
        scores = distinctive_terms({k[1]: lemmas[k] for k in keys}, top=top)
        for k in keys:
            units[k].distinctive = scores[k[1]]
    informant_order = {i.code: n for n, i in enumerate(registry.informants)}
    role_order = {k: n for n, k in enumerate(registry.role_order())}
    return Familiarisation(
        transcripts=sorted((u for k, u in units.items() if k[0] == "transcript"), key=lambda u: u.key),
        informants=sorted((u for k, u in units.items() if k[0] == "informant"),
                          key=lambda u: (informant_order.get(u.key, 10_000), u.key)),
        roles=sorted((u for k, u in units.items() if k[0] == "role"), key=lambda u: (role_order.get(u.key, 99), u.key)),
        lemmatizer=lemmatizer_label,
    )


def to_markdown(result: Familiarisation, title: str = "Bli kjent med dataene (fase 1)") -> str:
    """The familiarisation overview as GitHub Markdown (tables per level, then notes)."""
    from rta.report_render import md_escape

    lines = [f"# {title}", "", f"Lemmatisert med: {md_escape(result.lemmatizer)}. Særpregede ord: TF-IDF mot de "
             "andre enhetene på samme nivå, informantenes tale, uten stoppord.", ""]
    for heading, units in (("Transkripsjoner", result.transcripts), ("Informanter", result.informants),
                           ("Roller", result.roles)):
        lines += [f"## {heading}", "", "| | Turer | Ord | Informant | Intervjuer | Særpregede ord |",
                  "|---|---:|---:|---:|---:|---|"]
        for u in units:
            words = ", ".join(md_escape(w) for w, _ in u.distinctive) or "–"
            lines.append(f"| {md_escape(u.label)} | {u.turns} | {u.words} | {u.informant_share:.0%} | "
                         f"{u.interviewer_share:.0%} | {words} |")
        lines.append("")
    if result.notes:
        lines += ["## Notater fra lesingen", ""]
        for m in result.notes:
            target = f" ({md_escape(m.target)})" if m.target else ""
            lines += [f"- **{m.created}**{target}, {md_escape(m.coder or '')}: {md_escape(m.text.strip())}"]
        lines.append("")
    return "\n".join(lines)


def familiarisation_notes(store: Store) -> list[Any]:
    """Memos on transcripts and phase-1 journal entries: the notes of reading."""
    try:
        from rta.memos import list_memos
    except ImportError:  # pragma: no cover - memos land with another issue
        return []
    return [m for m in list_memos(store) if m.target_kind == "transcript"
            or (m.target_kind == "journal" and m.phase == 1)]
