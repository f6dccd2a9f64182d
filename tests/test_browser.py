"""The HTML report in a real browser: headless Chromium renders it, dumps the DOM and takes a
screenshot. Skips when Chromium is not installed (Debian package `chromium`)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from rta.project import Project
from rta.report_build import build_report
from test_report import build_coded_project

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"{CHROMIUM} not found: install Debian's chromium package to run browser tests")


def chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def test_chromium_renders_the_report_with_its_themes_and_quotes(project: Project, tmp_path: Path) -> None:
    build_coded_project(project)
    result = build_report(project, ["html"], tmp_path / "out")
    html = result.paths[0]
    url = html.resolve().as_uri()
    dom = chromium(["--dump-dom", url], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    headings = re.findall(r"<h2>([^<]+)</h2>", dom.stdout)
    assert headings[:4] == ["Innhold", "Kommunikasjon", "Kontinuitet", "Kapasitet"]
    assert len(re.findall(r'<blockquote class="quote"', dom.stdout)) == result.data.total_quotes == 10
    assert "<script" not in dom.stdout  # the transcript's <script> stayed text: nothing ran or was parsed
    assert "&lt;script&gt;" in dom.stdout
    # the pictures are in the page as SVG (no JavaScript), with their text
    assert len(re.findall(r"<svg\b", dom.stdout)) == 3 and "Kontinuitet" in re.search(r"<svg.*?</svg>", dom.stdout,
                                                                                         re.S).group(0)
    # every in-page link resolves to an element of the page (extract -> context, context -> extract)
    ids = set(re.findall(r'\sid="([^"]+)"', dom.stdout))
    targets = set(re.findall(r'href="#([^"]+)"', dom.stdout))
    assert targets and targets <= ids, sorted(targets - ids)[:5]
    assert any(t.startswith("ctx-q-") for t in targets) and any(t.startswith("q-") for t in targets)
    shot = tmp_path / "report.png"
    done = chromium(["--window-size=1000,1400", f"--screenshot={shot}", url], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    phone = tmp_path / "phone.png"
    assert chromium(["--window-size=390,844", f"--screenshot={phone}", url], tmp_path).returncode == 0
    assert phone.stat().st_size > 5_000
