"""Pictures for reports: a thematic map, a theme x role heat map and informant coverage.

Drawn with matplotlib (imported only here, only when a picture is drawn; the Agg canvas, no
window, no font download: matplotlib's own DejaVu fonts), as SVG for the HTML report (inline,
no JavaScript) and the Markdown report (files beside it), and as PNG for Word. The SVG is
deterministic (fixed hash salt, no date), so ``rta audit --report`` can draw it again and compare.
Every name in a picture is text matplotlib escapes: a theme called ``<script>`` stays text.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

from rta.norsk import sort_no

_SVG_START = re.compile(r"<svg\b")


@dataclass
class Figure:
    """One picture: its key (file and anchor name), title and caption in the report's
    language, its SVG text and the matplotlib figure (for a PNG)."""

    key: str
    title: str
    caption: str
    svg: str
    file: str
    fig: Any = field(default=None, repr=False)

    def png(self, dpi: int = 120) -> bytes:
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        return buf.getvalue()


def _new(width: float, height: float, constrained: bool = True) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    return fig


def to_svg(fig: Any, key: str) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), deterministic for one input."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"rta-{key}", "svg.fonttype": "none", "svg.id": f"svg-{key}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    m = _SVG_START.search(text)
    svg = text[m.start():] if m else text
    if re.search(r"<script|\son\w+\s*=|javascript:", svg, re.I):  # matplotlib writes none: refuse if it ever did
        raise ValueError("the drawn SVG holds script")
    return svg


# --------------------------------------------------------------------------------------------
# The thematic map


def map_layout(themes: list[tuple[str, list[str]]]) -> tuple[dict[str, tuple[float, float]],
                                                             dict[str, tuple[float, float]]]:
    """Where each theme and each code stands: themes on a circle, a code of one theme around
    it (away from the centre), a code shared by themes between them."""
    n = len(themes)
    tpos: dict[str, tuple[float, float]] = {}
    for i, (name, _) in enumerate(themes):
        angle = math.pi / 2 - 2 * math.pi * i / max(n, 1)
        tpos[name] = (0.0, 0.0) if n == 1 else (math.cos(angle), math.sin(angle))
    owners: dict[str, list[str]] = {}
    for name, codes in themes:
        for c in codes:
            owners.setdefault(c, []).append(name)
    cpos: dict[str, tuple[float, float]] = {}
    groups: dict[tuple[str, ...], list[str]] = {}
    for c, ts in owners.items():
        groups.setdefault(tuple(ts), []).append(c)
    for ts, codes in groups.items():
        codes = sort_no(codes)
        cx = sum(tpos[t][0] for t in ts) / len(ts)
        cy = sum(tpos[t][1] for t in ts) / len(ts)
        if len(ts) == 1:
            base = math.atan2(cy, cx) if (cx, cy) != (0.0, 0.0) else math.pi / 2
            spread = min(math.pi * 1.6, 0.3 * len(codes))
            radius = 0.5 + 0.015 * max(0, len(codes) - 8)
            for k, c in enumerate(codes):
                a = base + (k - (len(codes) - 1) / 2) * (spread / max(len(codes) - 1, 1))
                cpos[c] = (cx + radius * math.cos(a), cy + radius * math.sin(a))
        else:
            dx, dy = -cy, cx  # along the perpendicular of the centroid's direction
            norm = math.hypot(dx, dy) or 1.0
            for k, c in enumerate(codes):
                off = (k - (len(codes) - 1) / 2) * 0.22
                cpos[c] = (cx * 0.8 + off * dx / norm, cy * 0.8 + off * dy / norm)
    return tpos, cpos


def thematic_map(themes: list[tuple[str, list[str]]], counts: dict[str, int], title: str = "") -> Any:
    """The thematic map: themes (sized by their codings), their codes (sized by codings),
    lines from each theme to its codes; a code in two themes stands between them."""
    fig = _new(9, 7, constrained=False)  # no axes to lay out: fixed margins save a layout pass per save
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.93))
    ax.set_axis_off()
    ax.set_aspect("equal")
    tpos, cpos = map_layout(themes)
    colours = ["#1f5f8b", "#b5651d", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#6d4c41", "#546e7a"]
    for i, (name, codes) in enumerate(themes):
        tx, ty = tpos[name]
        for c in codes:
            x, y = cpos[c]
            ax.plot([tx, x], [ty, y], color=colours[i % len(colours)], alpha=0.45, linewidth=1, zorder=1)
    shared = {c for c in cpos if sum(c in codes for _, codes in themes) > 1}
    owner = {c: tpos[name] for name, codes in themes for c in codes}
    alternate = {c: (-1.0 if k % 2 == 0 else 1.0) for k, c in enumerate(sort_no(shared))}
    for c, (x, y) in sorted(cpos.items()):
        n = counts.get(c, 0)
        ax.scatter([x], [y], s=30 + 12 * math.sqrt(n), color="#ffffff" if not n else "#e9eef4",
                   edgecolors="#8a6d00" if c in shared else "#5a5a60", linewidths=1.6 if c in shared else 0.8,
                   zorder=2)
        ox, oy = (x - owner[c][0], y - owner[c][1]) if c not in shared else (0.0, alternate[c])
        norm = math.hypot(ox, oy) or 1.0
        ha = "left" if ox / norm > 0.3 else "right" if ox / norm < -0.3 else "center"
        ax.annotate(f"{c} ({n})", (x, y), xytext=(7 * ox / norm, 7 * oy / norm), textcoords="offset points",
                    ha=ha, va="center" if ha != "center" else ("bottom" if oy > 0 else "top"),
                    fontsize=7, color="#1d1d1f", zorder=4)
    for i, (name, codes) in enumerate(themes):
        x, y = tpos[name]
        total = sum(counts.get(c, 0) for c in codes)
        colour = colours[i % len(colours)]
        ax.scatter([x], [y], s=300 + 40 * math.sqrt(total), color=colour, alpha=0.9, zorder=3)
        ax.annotate(f"{name} ({total})", (x, y), ha="center", va="center", fontsize=9, fontweight="bold",
                    color="white", zorder=5, bbox={"boxstyle": "round,pad=0.35", "fc": colour, "ec": "none"})
    xs = [p[0] for p in list(tpos.values()) + list(cpos.values())] or [0.0]
    ys = [p[1] for p in list(tpos.values()) + list(cpos.values())] or [0.0]
    ax.set_xlim(min(xs) - 0.55, max(xs) + 0.55)
    ax.set_ylim(min(ys) - 0.25, max(ys) + 0.25)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


# --------------------------------------------------------------------------------------------
# Charts


def heat_map(rows: list[str], columns: list[str], values: list[list[tuple[int, int]]], title: str = "") -> Any:
    """Themes (rows) x roles (columns): codings as colour, 'codings (informants)' written."""
    fig = _new(max(5.0, 1.6 + 1.3 * len(columns)), max(2.2, 0.9 + 0.55 * len(rows)))
    ax = fig.add_subplot()
    grid = [[v[0] for v in row] for row in values] or [[0]]
    ax.imshow(grid, cmap="Blues", aspect="auto", vmin=0, vmax=max(1, max(max(r) for r in grid)))
    ax.set_xticks(range(len(columns)), labels=columns, fontsize=9)
    ax.set_yticks(range(len(rows)), labels=rows, fontsize=9)
    top = max(1, max(max(r) for r in grid))
    for i, row in enumerate(values):
        for j, (n, k) in enumerate(row):
            ax.text(j, i, f"{n} ({k})" if n else "–", ha="center", va="center", fontsize=9,
                    color="white" if n > top * 0.6 else "#1d1d1f")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def coverage_chart(informants: list[str], themes: list[str], shown: list[set[str]], coded: list[set[str]],
                   legend: list[str], title: str = "") -> Any:
    """Informants (rows) x themes: a filled dot where the theme's section quotes them, a ring
    where they are only coded in it, nothing where they never are (a blank row: never quoted)."""
    fig = _new(max(4.5, 2.0 + 1.2 * len(themes)), max(2.5, 0.8 + 0.28 * len(informants)))
    ax = fig.add_subplot()
    for j, _ in enumerate(themes):
        for i, inf in enumerate(informants):
            if inf in shown[j]:
                ax.scatter([j], [i], s=70, color="#1f5f8b", zorder=2)
            elif inf in coded[j]:
                ax.scatter([j], [i], s=70, facecolors="none", edgecolors="#1f5f8b", linewidths=1.4, zorder=2)
    ax.set_xticks(range(len(themes)), labels=themes, fontsize=9)
    ax.set_yticks(range(len(informants)), labels=informants, fontsize=8)
    ax.set_xlim(-0.6, max(len(themes), 1) - 0.4)
    ax.set_ylim(len(informants) - 0.5, -0.5)
    ax.grid(True, color="#e4e4e7", linewidth=0.6, zorder=0)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.scatter([], [], s=70, color="#1f5f8b", label=legend[0])
    ax.scatter([], [], s=70, facecolors="none", edgecolors="#1f5f8b", label=legend[1])
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


# --------------------------------------------------------------------------------------------
# A report's pictures


def add_figures(data: Any) -> None:
    """Draw the report's pictures into ``data.figures``: the thematic map, the theme x role
    heat map and informant coverage per theme."""
    from rta.report_text import labels

    L = labels(data.lang)
    figures: list[Figure] = []
    themes = [(t.name, list(t.codes)) for t in data.themes]
    if themes:
        fig = thematic_map(themes, data.code_counts)
        figures.append(Figure("kart", L["map_title"], L["map_caption"], to_svg(fig, "kart"), "report-kart.svg", fig))
    m = data.role_matrix
    if m.rows:
        fig = heat_map([r.theme for r in m.rows], m.columns, [[(c.codings, c.informants) for c in r.cells]
                                                               for r in m.rows])
        figures.append(Figure("roller", L["heat_title"], L["heat_caption"], to_svg(fig, "roller"),
                              "report-roller.svg", fig))
    if data.themes and data.informant_order:
        shown = [{q.informant for g in t.shown for q in g.quotes if q.informant} for t in data.themes]
        coded = [set(t.informants) for t in data.themes]
        fig = coverage_chart(data.informant_order, [t.name for t in data.themes], shown, coded,
                             list(L["coverage_legend"]))
        figures.append(Figure("dekning", L["coverage_title"], L["coverage_caption"], to_svg(fig, "dekning"),
                              "report-dekning.svg", fig))
    data.figures = figures


# --------------------------------------------------------------------------------------------
# The map on its own, at any phase


def themes_at_phase(store: Any, phase: int | None = None) -> list[tuple[str, list[str]]]:
    """The project's themes (not discarded) with their codes as the log says they stood at the
    end of ``phase`` (every theme event stamped with that phase or an earlier one), or now."""
    import json

    state: dict[str, dict[str, Any]] = {}
    for r in store.conn.execute("SELECT phase, payload FROM events WHERE kind LIKE 'theme.%' ORDER BY seq"):
        if phase is not None and (r["phase"] or 1) > phase:
            break
        after = json.loads(r["payload"]).get("after")
        if isinstance(after, dict):
            state.update({str(k): v for k, v in after.items() if isinstance(v, dict)})
    themes = [(str(v.get("name")), sort_no(v.get("codes") or []), int(k)) for k, v in state.items()
              if v.get("status") != "discarded"]
    return [(name, codes) for name, codes, _ in sorted(themes, key=lambda t: t[2])]


def draw_map(store: Any, phase: int | None = None, lang: str = "nb") -> Figure:
    """The thematic map of the project (at the end of ``phase``, or now), sized by today's
    active codings per code."""
    from rta.errors import RtaError
    from rta.report_text import labels

    themes = themes_at_phase(store, phase)
    if not themes:
        when = f" at the end of phase {phase}" if phase is not None else ""
        raise RtaError(f"no themes{when} to draw", hint="build themes with 'rta themes add' (see 'rta themes history')")
    counts = {r[0]: r[1] for r in store.conn.execute(
        "SELECT code, COUNT(*) FROM codings WHERE status = 'active' GROUP BY code")}
    L = labels(lang)
    title = L["map_title"] + (f" ({L['phase']} {phase})" if phase is not None else "")
    fig = thematic_map(themes, counts, title)
    return Figure("kart", title, L["map_caption"], to_svg(fig, "kart"), "kart.svg", fig)
