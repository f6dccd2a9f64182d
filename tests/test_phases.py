"""The six phases as project state: moves forward and back are logged, memos are stamped."""

from __future__ import annotations

import pytest

from rta.cli import main
from rta.errors import RtaError
from rta.phases import PHASES, get_phase, overview, phase_history, set_phase
from rta.project import Project


def test_six_phases_each_with_a_purpose_and_a_checklist() -> None:
    assert [p.number for p in PHASES] == [1, 2, 3, 4, 5, 6]
    assert all(p.purpose and len(p.checklist) >= 3 for p in PHASES)
    with pytest.raises(RtaError, match="there is no phase 7"):
        get_phase(7)


def test_a_new_project_starts_in_phase_one(project: Project) -> None:
    states = overview(project.store)
    assert [s.current for s in states] == [True, False, False, False, False, False]
    assert states[0].produced[0] == "2 transcript(s), 117 words"


def test_moving_forward_and_back_is_logged_with_its_direction(project: Project) -> None:
    forward = set_phase(project.store, 3, "kari", reason="kodene er på plass")
    back = set_phase(project.store, 2, "kari", reason="temaet holdt ikke")
    assert (forward.direction, back.direction) == ("forward", "back")
    assert project.store.phase() == 2
    events = project.store.events(kind="phase.changed")
    assert [(e.payload["from"], e.payload["to"], e.details()["reason"]) for e in events] == [
        (1, 3, "kodene er på plass"), (3, 2, "temaet holdt ikke")]
    assert [c.direction for c in phase_history(project.store)] == ["forward", "back"]


def test_setting_the_current_phase_or_a_bad_one_changes_nothing(project: Project) -> None:
    before = len(project.store.events())
    with pytest.raises(RtaError, match="already in phase 1"):
        set_phase(project.store, 1, "kari")
    with pytest.raises(RtaError, match="no phase 0"):
        set_phase(project.store, 0, "kari")
    assert len(project.store.events()) == before


def test_memos_and_events_are_stamped_with_the_phase_they_were_made_in(project: Project) -> None:
    from rta.memos import add_memo

    set_phase(project.store, 4, "kari")
    with project.store.transaction():
        memo = add_memo(project.store, "journal", None, "Kontinuitet og Brudd er to poler av samme tema.", "kari")
    assert memo.phase == 4
    assert project.store.events()[-1].phase == 4
    assert "1 memo(s)/journal entries written in this phase" in overview(project.store)[3].produced


def test_cli_phase_shows_the_checklist_and_set_moves_back(project: Project, capsys) -> None:
    root = str(project.root)
    main(["--project", root, "phase", "set", "5"])
    main(["--project", root, "phase", "set", "4", "--reason", "tilbake"])
    capsys.readouterr()
    main(["--project", root, "phase"])
    out = capsys.readouterr().out
    assert ">> 4. Gjennomgå tema  (current phase)" in out
    assert "[ ] Utdragene i hvert tema henger sammen rundt den samme ideen." in out
    with pytest.raises(SystemExit) as exc:
        main(["--project", root, "phase", "set", "9"])
    assert exc.value.code == 2
