"""Braun & Clarke's six phases as project state.

Reflexive thematic analysis is recursive: a team moves forward through the phases but goes back
whenever the data demand it (a theme falls apart in review, so codes are revisited). The
project records which phase it is in (meta key ``phase``); every event, memo and journal entry
is stamped with it, and each move, forward or back, is itself a logged decision. The phase is
a statement about where the analysis stands, not a gate: no command refuses to run because of
it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rta.errors import RtaError
from rta.store import Store


@dataclass(frozen=True)
class Phase:
    """One of the six phases: what it is for and what good practice in it looks like."""

    number: int
    name: str
    purpose: str
    checklist: tuple[str, ...]


PHASES: tuple[Phase, ...] = (
    Phase(
        1,
        "Bli kjent med dataene",
        "Les hver transkripsjon i sin helhet, gjerne flere ganger og sammen i teamet, og lytt til "
        "opptakene. Skriv ned første inntrykk og egne forforståelser før kodingen begynner.",
        (
            "Hver transkripsjon er lest fra start til slutt (ikke bare søkt i).",
            "Opptakene er lyttet til der det finnes tvil om ordlyd eller tone.",
            "Første inntrykk og egen forforståelse er skrevet ned (memo eller logg).",
            "Teamet har lest og drøftet minst noen av intervjuene sammen.",
        ),
    ),
    Phase(
        2,
        "Generere koder",
        "Kod det som er relevant for forskningsspørsmålene: erfaringer, begreper, ord og "
        "sammenhenger som går igjen. Koder er tolkninger, ikke fakta; NLP-forslag er bare forslag "
        "til en person har vurdert dem.",
        (
            "Hele datasettet er kodet, ikke bare de mest slående utsagnene.",
            "Kodene er sjekket mot hele datamaterialet, også intervjuene som ble kodet først.",
            "Hver kode har en definisjon som en kollega kan forstå.",
            "Begrunnelser for vanskelige kodinger er skrevet som memo.",
        ),
    ),
    Phase(
        3,
        "Konstruere tema",
        "Samle koder til kandidattema ut fra forskningsspørsmålene. Her blir tolkningen eksplisitt: "
        "et tema er et mønster av delt mening, ikke en oppsummering av et emne.",
        (
            "Hvert kandidattema har en sentral organiserende idé, ikke bare en emneoverskrift.",
            "Koder kan høre til flere tema; tilordningen er et bevisst valg som er registrert.",
            "Koder som ikke passer i noe tema er vurdert, ikke glemt.",
            "Forslag fra samforekomst av koder er behandlet som innspill, ikke som svar.",
        ),
    ),
    Phase(
        4,
        "Gjennomgå tema",
        "Prøv temaene mot de kodede utdragene og mot hele datasettet. Slå sammen, del opp eller "
        "forkast tema, og fortett dem på tvers av forskningsspørsmålene.",
        (
            "Utdragene i hvert tema henger sammen rundt den samme ideen.",
            "Temaet hviler på flere informanter og roller, eller begrensningen er drøftet.",
            "Grensene mellom tema er tydelige; overlapp er forklart.",
            "Sammenslåinger, oppdelinger og forkastede tema har en begrunnelse i loggen.",
        ),
    ),
    Phase(
        5,
        "Definere og navngi tema",
        "Skriv en definisjon og den sentrale organiserende ideen for hvert endelige tema, og gi det "
        "et navn som sier hva temaet handler om. Avklar om temaet er induktivt eller deduktivt.",
        (
            "Hvert tema har en definisjon på noen få setninger.",
            "Navnet er kort og sier noe om innholdet, ikke bare om emnet.",
            "Opphav (induktivt eller deduktivt) er registrert for hvert tema.",
            "Eventuelle motpoler (for eksempel Kontinuitet og Brudd) er beskrevet.",
        ),
    ),
    Phase(
        6,
        "Skrive rapporten",
        "Skriv fram temaene med sitater som illustrerer de analytiske påstandene, og drøft dem. "
        "Rapporten skal kunne etterprøves: hvert sitat peker tilbake til sin linje.",
        (
            "Sitatene illustrerer påstanden i teksten og er ikke selve analysen.",
            "Sitatene er hentet fra flere informanter; hvem som aldri siteres er vurdert.",
            "Rapporten er bygget fra et prosjekt som består revisjonen (rta audit).",
            "Egen rolle og refleksivitet i analysen er beskrevet.",
        ),
    ),
)


def get_phase(number: int) -> Phase:
    """The phase with this number (1-6); a clear error otherwise."""
    if not 1 <= number <= len(PHASES):
        raise RtaError(f"there is no phase {number}", hint="Braun & Clarke's phases are numbered 1 to 6; see 'rta phase'")
    return PHASES[number - 1]


@dataclass
class PhaseStatus:
    """A phase as the project stands: is it current, and what has the project produced for it."""

    phase: Phase
    current: bool
    produced: list[str] = field(default_factory=list)


def _count(store: Store, sql: str, args: tuple = ()) -> int:
    row = store.conn.execute(sql, args).fetchone()
    return int(row[0] or 0) if row else 0


def produced(store: Store, number: int) -> list[str]:
    """What the project holds that belongs to phase ``number``, in a few short lines."""
    get_phase(number)
    out: list[str] = []
    if number == 1:
        n = _count(store, "SELECT COUNT(*) FROM transcripts")
        words = _count(store, "SELECT SUM(t.words) FROM turns t JOIN transcripts x ON x.id = t.transcript_id "
                              "AND x.revision = t.revision")
        out.append(f"{n} transcript(s), {words} words")
        notes = _count(store, "SELECT COUNT(*) FROM memos WHERE target_kind = 'transcript' "
                              "OR (target_kind = 'journal' AND phase = 1)")
        out.append(f"{notes} familiarisation note(s) (transcript memos, phase-1 journal entries)")
    elif number == 2:
        versions = _count(store, "SELECT COUNT(*) FROM codebook_versions")
        codings = _count(store, "SELECT COUNT(*) FROM codings WHERE status = 'active'")
        used = _count(store, "SELECT COUNT(DISTINCT code) FROM codings WHERE status = 'active'")
        latest = _count(store, "SELECT COUNT(*) FROM codes WHERE codebook_version = (SELECT MAX(id) FROM codebook_versions)")
        coded = _count(store, "SELECT COUNT(DISTINCT transcript_id) FROM codings WHERE status = 'active'")
        out.append(f"{versions} codebook version(s); {used} of {latest} codes used")
        out.append(f"{codings} active coding(s) in {coded} transcript(s)")
        counts = dict(store.conn.execute("SELECT status, COUNT(*) FROM suggestions GROUP BY status").fetchall())
        if counts:
            out.append(f"suggestions: {counts.get('accepted', 0)} accepted, {counts.get('rejected', 0)} rejected, "
                       f"{counts.get('suggested', 0)} awaiting review")
    elif number in (3, 4, 5):
        status = {3: "candidate", 4: "reviewed", 5: "defined"}[number]
        n = _count(store, "SELECT COUNT(*) FROM themes WHERE status = ?", (status,))
        label = {3: "candidate theme(s)", 4: "reviewed theme(s)", 5: "defined theme(s)"}[number]
        out.append(f"{n} {label}")
        if number == 3:
            proposed = _count(store, "SELECT COUNT(*) FROM themes WHERE source = 'proposed' AND status != 'discarded'")
            out.append(f"{proposed} kept from 'rta themes propose'")
        if number == 4:
            discarded = _count(store, "SELECT COUNT(*) FROM themes WHERE status = 'discarded'")
            changes = _count(store, "SELECT COUNT(*) FROM events WHERE kind IN ('theme.merged', 'theme.split', "
                                    "'theme.discarded')")
            out.append(f"{discarded} discarded theme(s); {changes} merge/split/discard decision(s)")
        if number == 5:
            undefined = _count(store, "SELECT COUNT(*) FROM themes WHERE status != 'discarded' AND "
                                      "(TRIM(definition) = '' OR TRIM(central_concept) = '')")
            out.append(f"{undefined} active theme(s) still lacking a definition or central concept")
    else:
        reports = store.conn.execute(
            "SELECT COUNT(*), MAX(ts) FROM events WHERE kind = 'report.built'").fetchone()
        out.append(f"{reports[0]} report build(s)" + (f", last {reports[1]}" if reports[0] else ""))
    memos = _count(store, "SELECT COUNT(*) FROM memos WHERE phase = ?", (number,))
    out.append(f"{memos} memo(s)/journal entries written in this phase")
    return out


def overview(store: Store) -> list[PhaseStatus]:
    """All six phases, the current one marked, each with what the project produced for it."""
    current = store.phase()
    return [PhaseStatus(p, p.number == current, produced(store, p.number)) for p in PHASES]


@dataclass
class PhaseChange:
    """A recorded move between phases (``direction`` 'forward', 'back' or 'same')."""

    old: int
    new: int
    direction: str
    seq: int


def set_phase(store: Store, number: int, coder: str | None, reason: str | None = None) -> PhaseChange:
    """Move the project to phase ``number`` and log 'phase.changed'. Moving back is allowed
    (RTA is recursive) and recorded as such, so the history shows the analysis' real path.
    Runs inside the caller's transaction (or its own)."""
    get_phase(number)
    with store.transaction():
        old = store.phase()
        if number == old:
            raise RtaError(f"the project is already in phase {number}", hint="see 'rta phase'")
        direction = "forward" if number > old else "back"
        store.set_meta("phase", str(number))
        event = store.log_event(
            "phase.changed",
            {"from": old, "to": number, "direction": direction, "name": get_phase(number).name, "reason": reason},
            coder,
        )
    return PhaseChange(old, number, direction, event.seq)


def phase_history(store: Store) -> list[PhaseChange]:
    """Every recorded phase change, oldest first."""
    return [PhaseChange(int(e.payload.get("from", 0)), int(e.payload.get("to", 0)),
                        str(e.payload.get("direction", "")), e.seq)
            for e in store.events(kind="phase.changed")]
