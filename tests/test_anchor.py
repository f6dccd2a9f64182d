"""Re-anchoring codings when a transcript is revised: exact relocation, fuzzy alignment with a
reported similarity, and orphans with candidate spans for a person to resolve."""

from __future__ import annotations

import pytest

from rta.anchor import orphans, relocate, resolve_orphan
from rta.audit import audit
from rta.coding import get_coding
from rta.errors import RtaError
from test_store_fixtures import code_quote, rektor_project, run_cli

FELLES = "Etter hvert fikk vi en felles forståelse av hva vi ville oppnå med ordningen."
VEILEDER = "I forfasen var vi usikre på hva veilderrollen skulle innebære for oss som skole."
LAERERNE = "Lærerne fikk tid til å reflektere sammen"


def revise(project, path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    (result,) = project.add_files([path], coder="tester")
    assert result.status == "revised"
    return result


def quote_of(project, coding_id: int) -> str:
    c = get_coding(project.store, coding_id)
    return project.store.transcript_text(c.transcript_id, c.revision)[c.start:c.end]


def test_an_inserted_paragraph_moves_codings_exactly(tmp_path):
    project, path = rektor_project(tmp_path)
    cid = code_quote(project, "k3-rektor", FELLES, "Forståelse")
    before = get_coding(project.store, cid)
    inserted = "I: Hvem var med i arbeidsgruppa?\nR3: Det var meg, to lærere og en fra kommunen.\n"
    revise(project, path, "I: Hvordan gikk det videre?\n", inserted + "I: Hvordan gikk det videre?\n")
    after = get_coding(project.store, cid)
    assert (after.revision, after.status) == (2, "active")
    assert after.start == before.start + len(inserted) and after.line_start == before.line_start + 2
    assert quote_of(project, cid) == FELLES
    event = project.store.events(kind="coding.reanchored")[-1]
    assert event.payload["method"] == "exact"
    assert event.payload["old"] == [1, before.start, before.end]
    assert event.payload["new"] == [2, after.start, after.end]
    assert audit(project.store).ok


def test_a_corrected_word_inside_a_quote_is_aligned_fuzzily_with_its_similarity(tmp_path):
    project, path = rektor_project(tmp_path)
    cid = code_quote(project, "k3-rektor", VEILEDER, "Veilederrollen")
    revise(project, path, "veilderrollen", "veilederrollen")
    after = get_coding(project.store, cid)
    assert (after.revision, after.status) == (2, "active")
    assert quote_of(project, cid) == VEILEDER.replace("veilderrollen", "veilederrollen")
    assert 0.85 <= after.anchor_similarity < 1.0
    event = project.store.events(kind="coding.reanchored")[-1]
    assert event.payload["method"] == "fuzzy" and event.payload["similarity"] == after.anchor_similarity
    assert event.payload["old_sha256"] != event.payload["quote_sha256"]
    report = audit(project.store)
    assert report.ok, report.to_text()


def test_a_deleted_quote_orphans_its_coding_with_candidates_and_keeps_it_verifiable(tmp_path, capsys):
    project, path = rektor_project(tmp_path)
    cid = code_quote(project, "k3-rektor", LAERERNE, "Refleksjon")
    keep = code_quote(project, "k3-rektor", FELLES, "Forståelse")
    revise(project, path, "Lærerne fikk tid til å reflektere sammen, og det har vi tatt med oss videre.\n", "")
    orphan = get_coding(project.store, cid)
    assert (orphan.status, orphan.revision) == ("orphaned", 1)  # still points at the text it quoted
    assert get_coding(project.store, keep).status == "active"
    (listed,) = orphans(project.store)
    assert listed.coding_id == cid and listed.quote == LAERERNE and listed.candidate_revision == 2
    assert listed.candidates and all(c.similarity < 0.85 for c in listed.candidates)
    event = project.store.events(kind="coding.orphaned")[-1]
    assert event.payload["old"] == [1, orphan.start, orphan.end] and event.payload["candidates"]
    assert audit(project.store).ok
    code, out, err = run_cli(capsys, project.root, "orphans")
    assert code == 0 and f"#{cid} Refleksjon" in out and "old quote: «Lærerne fikk tid" in out and "[1]" in out


def test_an_orphan_is_resolved_by_a_person_to_a_candidate_or_removed(tmp_path, capsys):
    project, path = rektor_project(tmp_path)
    a = code_quote(project, "k3-rektor", LAERERNE, "Refleksjon")
    revise(project, path, "Lærerne fikk tid til å reflektere sammen", "Lærerne fikk rom for å tenke høyt i fellesskap")
    assert get_coding(project.store, a).status == "orphaned"
    code, out, err = run_cli(capsys, project.root, "orphans", "--resolve", str(a), "--candidate", "1", "--reason", "samme utsagn")
    assert code == 0, err
    resolved = get_coding(project.store, a)
    assert (resolved.status, resolved.revision) == ("active", 2)
    assert quote_of(project, a).startswith("Lærerne fikk rom for å tenke")
    assert project.store.events(kind="coding.reanchored")[-1].payload["method"] == "manual"
    assert audit(project.store).ok
    with pytest.raises(RtaError, match="not orphaned"):
        with project.store.transaction():
            resolve_orphan(project.store, a, None, "tester")


def test_removing_an_orphan_is_a_logged_decision(tmp_path, capsys):
    project, path = rektor_project(tmp_path)
    a = code_quote(project, "k3-rektor", LAERERNE, "Refleksjon")
    revise(project, path, "Lærerne fikk tid til å reflektere sammen, og det har vi tatt med oss videre.\n", "")
    code, out, err = run_cli(capsys, project.root, "orphans", "--resolve", str(a), "--remove")
    assert code == 0, err
    assert get_coding(project.store, a).status == "removed"
    assert audit(project.store).ok


def test_a_repeated_quote_goes_to_the_occurrence_nearest_its_old_place():
    old = "A: ja. " + "x" * 100 + " B: ja. " + "y" * 100
    new = "A: ja. " + "x" * 90 + " B: ja. " + "y" * 100 + " C: ja."
    method, span, similarity, _ = relocate("ja.", old.index("B: ja.") + 3, len(old), new)
    assert method == "exact" and span == (new.index("B: ja.") + 3, new.index("B: ja.") + 6)


def test_a_short_quote_is_never_fuzzily_guessed():
    method, span, _, candidates = relocate("Ja, nyttig", 0, 20, "Nei, unyttig og dyrt.")
    assert method == "orphaned" and span is None
