"""Featured extracts: chosen per theme, ordered, logged; the report shows them in their order
with the rest in the appendix, or picks up to 5 per role by its rule and says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rta.audit import audit
from rta.errors import RtaError
from rta.featured import feature, featured, unfeature
from rta.project import Project
from rta.receipts import verify_report
from rta.report import Quote, auto_pick
from rta.report_build import build_report
from test_report import build_coded_project
from test_store_fixtures import run_cli


@pytest.fixture
def coded(project: Project) -> Project:
    return build_coded_project(project)


def _ids(project: Project, *codes: str) -> list[int]:
    rows = project.store.conn.execute(
        "SELECT id FROM codings WHERE status = 'active' AND code IN (%s) ORDER BY id" % ",".join("?" * len(codes)),
        codes).fetchall()
    return [r[0] for r in rows]


def _theme_ids(project: Project) -> dict[str, int]:
    return {r["name"]: r["id"] for r in project.store.conn.execute("SELECT id, name FROM themes")}


def test_featured_extracts_keep_the_chosen_order_and_the_rest_go_to_the_appendix(coded: Project, tmp_path: Path):
    store = coded.store
    a, b, c = _ids(coded, "Brudd", "Kontinuitet")[:3]
    feature(store, a, "Kontinuitet", "kari", note="skoleeierens blikk")
    feature(store, b, "Kontinuitet", "kari")
    feature(store, c, "Kontinuitet", "ola", before=a)  # c, a, b
    feature(store, b, "Kontinuitet", "ola", after=c)  # moved: c, b, a
    assert [f.coding_id for f in featured(store)[_theme_ids(coded)["Kontinuitet"]]] == [c, b, a]
    assert featured(store)[_theme_ids(coded)["Kontinuitet"]][2].note == "skoleeierens blikk"
    assert audit(store).ok

    result = build_report(coded, ["html", "md"], tmp_path / "out")
    kont = next(t for t in result.data.themes if t.name == "Kontinuitet")
    assert kont.selection == "featured" and [q.coding_ids[0] for q in kont.shown[0].quotes] == [c, b, a]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    section = re.search(r'<section class="theme" id="tema-kontinuitet".*?</section>', html, re.S).group(0)
    assert re.findall(r'<blockquote class="quote" id="q-(\d+)-kontinuitet"', section) == [str(c), str(b), str(a)]
    assert "Valgt fordi: skoleeierens blikk" in section and "Utdrag valgt ut av forskerne" in section
    appendix = re.search(r'<div class="extracts" id="utdrag-kontinuitet".*?</div>\n', html, re.S).group(0)
    others = re.findall(r'id="q-(\d+)-kontinuitet"', appendix)
    assert others and not set(others) & {str(a), str(b), str(c)}
    assert html.count('id="q-%d-kontinuitet"' % a) == 1  # never twice in a theme
    for path in result.paths:
        check = verify_report(coded, path)
        assert check.ok, check.audit.to_text()


def test_a_report_built_in_a_copy_verifies_featured_order_and_catches_a_swap(coded: Project, tmp_path: Path):
    import shutil

    a, b = _ids(coded, "Brudd", "Kontinuitet")[:2]
    feature(coded.store, a, "Kontinuitet", "kari")
    feature(coded.store, b, "Kontinuitet", "kari")
    coded.close()
    shutil.copytree(coded.root, tmp_path / "kopi")
    copy = Project.open(tmp_path / "kopi")
    built = build_report(copy, ["html", "md"], tmp_path / "kopi-rapport")
    copy.close()
    original = Project.open(coded.root)
    try:
        for path in built.paths:
            assert verify_report(original, path).ok
        html = built.paths[0].read_text(encoding="utf-8")
        qa = re.search(rf'<blockquote class="quote" id="q-{a}-kontinuitet".*?</blockquote>', html, re.S).group(0)
        qb = re.search(rf'<blockquote class="quote" id="q-{b}-kontinuitet".*?</blockquote>', html, re.S).group(0)
        swapped = tmp_path / "byttet.html"
        swapped.write_text(html.replace(qa, "\0").replace(qb, qa).replace("\0", qb), encoding="utf-8")
        check = verify_report(original, swapped)
        assert not check.ok and "not in the order rta renders them" in check.audit.to_text()
    finally:
        original.close()


def test_feature_refuses_what_cannot_be_featured_and_changes_nothing(coded: Project):
    store = coded.store
    tid = _ids(coded, "Tid")[0]
    before = store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    with pytest.raises(RtaError, match=r"coding \d+ \(code Tid\) is not in theme 'Kommunikasjon'"):
        feature(store, tid, "Kommunikasjon", "kari")
    with pytest.raises(RtaError, match="no coding with id 999"):
        feature(store, 999, "Kontinuitet", "kari")
    with pytest.raises(RtaError, match="no theme 'Kontinuitett'"):
        feature(store, tid, "Kontinuitett", "kari")
    a = _ids(coded, "Brudd")[0]
    with pytest.raises(RtaError, match=f"coding {tid} is not featured in 'Kapasitet'"):
        feature(store, tid, "Kapasitet", "kari", after=tid)
    with pytest.raises(RtaError, match="is not featured in 'Kontinuitet'"):
        unfeature(store, a, "Kontinuitet", "kari")
    assert store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == before
    feature(store, a, "Kontinuitet", "kari")
    with pytest.raises(RtaError, match="already featured"):
        feature(store, a, "Kontinuitet", "kari")


def test_unfeature_sends_the_extract_back_to_the_appendix(coded: Project, tmp_path: Path):
    a, b = _ids(coded, "Brudd", "Kontinuitet")[:2]
    feature(coded.store, a, "Kontinuitet", "kari")
    feature(coded.store, b, "Kontinuitet", "kari")
    unfeature(coded.store, a, "Kontinuitet", "kari", reason="for likt det andre")
    assert [f.coding_id for f in featured(coded.store)[_theme_ids(coded)["Kontinuitet"]]] == [b]
    data = build_report(coded, ["html"], tmp_path / "out").data
    kont = next(t for t in data.themes if t.name == "Kontinuitet")
    assert [q.coding_id for q in kont.shown[0].quotes] == [b]
    assert a in [q.coding_id for g in kont.others for q in g.quotes]
    assert audit(coded.store).ok


def test_a_forged_featuring_event_fails_the_audit(coded: Project):
    store = coded.store
    a, b = _ids(coded, "Brudd", "Kontinuitet")[:2]
    theme = _theme_ids(coded)["Kontinuitet"]
    feature(store, a, "Kontinuitet", "kari")
    with store.transaction():  # an order the decisions do not give, and a coding no event added
        store.log_event("extract.featured", {"theme": "Kontinuitet", "theme_id": theme, "coding": b, "position": 1,
                                             "order": [a, b], "moved": False}, "mallory")
        store.log_event("extract.featured", {"theme": "Kontinuitet", "theme_id": theme, "coding": 4242,
                                             "position": 1, "order": [4242], "moved": False}, "mallory")
    text = audit(store).to_text()
    assert "logs the order [" in text and "but the decisions before it give" in text
    assert "concerns coding 4242, which no 'coding.added' event added" in text


def _q(n: int, informant: str, turn: int, codes: int = 1) -> Quote:
    return Quote(n, f"q-{n}-x", "t", 1, n * 10, n * 10 + 5, 1, 1, "", "x", ["A"] * codes, informant, informant,
                 "r", "R", None, "", "manual", None, [n], turn)


def test_auto_pick_spreads_over_informants_and_never_takes_two_from_one_turn():
    quotes = [_q(1, "S1", 1), _q(2, "S1", 1, codes=2), _q(3, "S1", 2), _q(4, "S1", 3), _q(5, "S2", 4),
              _q(6, "S2", 5), _q(7, "S3", 6), _q(8, "S1", 7), _q(9, "S1", 8)]
    picked = [q.coding_id for q in auto_pick(quotes)]
    assert len(picked) == 5
    assert 2 in picked and 1 not in picked  # one from turn 1: the one with more codes
    assert {5, 7} <= set(picked)  # every informant before a second from anyone
    assert picked == sorted(picked)  # in the role's order


def test_without_featured_extracts_the_report_says_it_picked_them(coded: Project, tmp_path: Path):
    build_report(coded, ["html", "md"], tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert html.count("Ingen utdrag er valgt ut for dette temaet ennå") == 3
    assert "inntil 5 per rolle, spredt over informantene og aldri to fra samme tur" in html


def test_the_theme_narrative_is_its_memos_rendered_safely(coded: Project, tmp_path: Path):
    from rta.memos import add_memo

    with coded.store.transaction():
        add_memo(coded.store, "theme", "Kontinuitet",
                 "Skoleeierne beskriver **brudd** når *nøkkelpersoner* går.\n\n- først forfasen\n- så gjennomføringen\n\n"
                 "<script>alert(1)</script> [lenke](http://x)", "kari")
    build_report(coded, ["html", "md"], tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    section = re.search(r'<section class="theme" id="tema-kontinuitet".*?</section>', html, re.S).group(0)
    assert "<strong>brudd</strong>" in section and "<em>nøkkelpersoner</em>" in section
    assert "<li>først forfasen</li>" in section
    assert "<script" not in html and "&lt;script&gt;" in section and "<a href=\"http" not in section
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "Skoleeierne beskriver **brudd** når *nøkkelpersoner* går." in md
    assert "&lt;script&gt;" in md and r"\[lenke\](http://x)" in md


def test_the_cli_features_lists_and_unfeatures(coded: Project, capsys):
    a, b = _ids(coded, "Brudd", "Kontinuitet")[:2]
    code, out, _ = run_cli(capsys, coded.root, "feature", str(a), "--theme", "kontinuitet", "--note", "tydelig")
    assert code == 0 and f"1. coding {a} " in out and "(tydelig)" in out
    code, out, _ = run_cli(capsys, coded.root, "feature", str(b), "--theme", "Kontinuitet", "--before", str(a))
    assert code == 0 and out.index(f"coding {b}") < out.index(f"coding {a}")
    code, out, _ = run_cli(capsys, coded.root, "featured", "--theme", "Kontinuitet")
    assert code == 0 and f"1. coding {b}" in out and f"2. coding {a}" in out
    code, _, err = run_cli(capsys, coded.root, "feature", "999", "--theme", "Kontinuitet")
    assert code == 2 and "no coding with id 999" in err
    code, out, _ = run_cli(capsys, coded.root, "unfeature", str(b), "--theme", "Kontinuitet")
    assert code == 0 and f"1. coding {a}" in out
    code, out, _ = run_cli(capsys, coded.root, "audit")
    assert code == 0
