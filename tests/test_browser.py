"""The HTML report in a real browser: headless Chromium renders it, dumps the DOM and takes a
screenshot. Skips when Chromium is not installed (Debian package `chromium`)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from rta.project import Project
from rta.report import build_report
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
    shot = tmp_path / "report.png"
    done = chromium(["--window-size=1000,1400", f"--screenshot={shot}", url], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    phone = tmp_path / "phone.png"
    assert chromium(["--window-size=390,844", f"--screenshot={phone}", url], tmp_path).returncode == 0
    assert phone.stat().st_size > 5_000
