"""Report pictures: the thematic map (also alone, at an earlier phase), the heat map and
informant coverage; deterministic SVG, names kept as text, never as markup."""

from __future__ import annotations

import re
from pathlib import Path

from rta.figures import map_layout, themes_at_phase
from rta.phases import set_phase
from rta.project import Project
from rta.report_build import build_report
from rta.themes import assign
from test_report import build_coded_project
from test_store_fixtures import run_cli


def test_a_code_shared_by_two_themes_stands_between_them():
    tpos, cpos = map_layout([("A", ["x", "delt"]), ("B", ["y", "delt"]), ("C", ["z"])])
    (ax, ay), (bx, by), (sx, sy) = tpos["A"], tpos["B"], cpos["delt"]
    assert abs(sx - (ax + bx) / 2 * 0.8) < 1e-9 and abs(sy - (ay + by) / 2 * 0.8) < 1e-9
    assert min(abs(cpos["x"][0] - ax) + abs(cpos["x"][1] - ay), 9) < 0.6  # a theme's own code sits by it


def test_the_report_holds_the_map_the_heat_map_and_coverage_drawn_the_same_every_time(project: Project,
                                                                                       tmp_path: Path):
    build_coded_project(project)
    first = build_report(project, ["html", "md"], tmp_path / "a")
    html = first.paths[0].read_text(encoding="utf-8")
    assert [f.key for f in first.data.figures] == ["kart", "roller", "dekning"]
    assert html.count("<svg") == 3 and '<figure class="figure" id="figur-kart">' in html
    assert ">Kontinuitet<" in html or "Kontinuitet" in re.search(r"<svg.*?</svg>", html, re.S).group(0)
    for name in ("report-kart.svg", "report-roller.svg", "report-dekning.svg"):
        assert (tmp_path / "a" / name).read_text(encoding="utf-8").startswith("<svg")
        assert f"]({name})" in first.paths[1].read_text(encoding="utf-8")
    second = build_report(project, ["html"], tmp_path / "b")
    assert [f.svg for f in second.data.figures] == [f.svg for f in first.data.figures]
    event = project.store.events(kind="report.built")[-2]
    assert any(k.endswith("report-kart.svg") for k in event.payload["files"])


def test_a_theme_name_with_markup_stays_text_in_the_picture(project: Project, tmp_path: Path):
    from rta.themes import add_theme

    build_coded_project(project)
    add_theme(project.store, "<script>alert(1)</script>", "tester", ["Tid"])
    html = build_report(project, ["html"], tmp_path / "x").paths[0].read_text(encoding="utf-8")
    assert "<script" not in html and "&lt;script&gt;" in html


def test_themes_map_draws_the_themes_as_they_stood_at_an_earlier_phase(project: Project, tmp_path: Path, capsys):
    build_coded_project(project)  # themes made in phase 1
    set_phase(project.store, 4, "tester", reason="gjennomgang")
    assign(project.store, "Kapasitet", ["Identitet"], "tester")
    assert "Identitet" not in dict(themes_at_phase(project.store, 1))["Kapasitet"]
    assert "Identitet" in dict(themes_at_phase(project.store))["Kapasitet"]
    code, out, _ = run_cli(capsys, project.root, "themes", "map", "--phase", "1", "-o", str(tmp_path / "f1.svg"))
    assert code == 0 and "wrote" in out
    early = (tmp_path / "f1.svg").read_text(encoding="utf-8")
    assert "Identitet" not in early and "Kapasitet" in early and "fase 1" in early
    code, _, _ = run_cli(capsys, project.root, "themes", "map", "-o", str(tmp_path / "naa.png"))
    assert code == 0 and (tmp_path / "naa.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = run_cli(capsys, project.root, "themes", "map", "-o", str(tmp_path / "kart.pdf"))
    assert code == 2 and "cannot draw a map as .pdf" in err
