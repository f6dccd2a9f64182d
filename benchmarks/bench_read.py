"""Benchmark: ``rta read`` on a 20,000-word transcript with 500 codings (issue 16: opens in
under 1 s; each keystroke that moves or codes handled in under 50 ms).

Builds the same project as ``bench_show.py`` (one generated transcript, codings made through
the library), then drives the real app headless with Textual's pilot in an 80x24 terminal:

* baseline, in the same run: an empty Textual app's start-up (``run_test`` until the first
  screen is drawn), and a key pressed in that empty app (the pilot's own cost per key);
* opening: ``ReadApp`` until its first screen is drawn (the store read, the rows wrapped, the
  side pane), and, in-process, :meth:`rta.tui.model.Document.load` alone;
* each kind of keystroke: pressed repeatedly, from the key to the redrawn screen (median and
  worst): next sentence, next turn, grow by word and by sentence, next uncoded turn, search
  next, opening the code picker (c), coding (Enter in the code picker: one transaction
  through rta.coding, the document re-read, the screen redrawn) and undo.

    python benchmarks/bench_read.py [--words 20000] [--codings 500] [--presses 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

OPEN_GOAL, KEY_GOAL = 1.0, 0.050


async def _timed_press(pilot, key: str) -> float:
    t0 = time.perf_counter()
    await pilot.press(key)
    await pilot.pause()
    return time.perf_counter() - t0


def _line(name: str, values: list[float], goal: float | None = None, base: float | None = None) -> str:
    """Median and worst; with ``base`` (the pilot's median cost of a key in the empty app), the
    app's own cost: the median minus that baseline, judged against ``goal``."""
    med, worst = statistics.median(values), max(values)
    text = f"  {name:<36} median {1000 * med:6.1f} ms  worst {1000 * worst:6.1f} ms"
    if base is not None:
        extra = med - base
        text += f"  app's own {1000 * extra:6.1f} ms"
        if goal is not None:
            text += "  PASS" if extra < goal else "  FAIL"
    return text


async def empty_app(presses: int) -> tuple[float, list[float]]:
    from textual.app import App
    from textual.widgets import Static

    class Empty(App):
        def compose(self):
            yield Static("empty")

    t0 = time.perf_counter()
    app = Empty()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        startup = time.perf_counter() - t0
        keys = [await _timed_press(pilot, "j") for _ in range(presses)]
    return startup, keys


async def read_app(project, transcript: str, presses: int) -> tuple[float, dict[str, list[float]], int]:
    from rta.tui.app import ReadApp

    t0 = time.perf_counter()
    app = ReadApp(project, transcript)
    timings: dict[str, list[float]] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        opened = time.perf_counter() - t0
        main = app.main
        assert main.doc is not None and main.doc.transcript_id == transcript
        await pilot.pause(2.0)  # the codebook file is parsed in a thread 1 s after opening
        assert main.codebook is not None
        for name, key in (("next sentence (j)", "j"), ("next turn (J)", "J"), ("previous turn (K)", "K"),
                          ("grow by word (l)", "l"), ("grow by sentence (L)", "L"),
                          ("next uncoded turn (])", "right_square_bracket"), ("search next (n)", "n")):
            if key == "n":
                main.search_for = "kompetanse"
            timings[name] = [await _timed_press(pilot, key) for _ in range(presses)]
            await _timed_press(pilot, "escape")
        picked, coded, undone = [], [], []
        for _ in range(max(5, presses // 3)):
            await _timed_press(pilot, "right_square_bracket")  # an informant turn not coded yet
            picked.append(await _timed_press(pilot, "c"))
            for ch in "Tid":
                await pilot.press(ch)
            await pilot.pause()
            coded.append(await _timed_press(pilot, "enter"))
            assert main.message.startswith("coded #"), main.message
            undone.append(await _timed_press(pilot, "u"))
            assert main.message.startswith("undone:"), main.message
        timings["open the code picker (c)"] = picked
        timings["code the selection (Enter in picker)"] = coded
        timings["undo (u)"] = undone
        codings = len(main.doc.codings)
    return opened, timings, codings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=20000)
    parser.add_argument("--codings", type=int, default=500)
    parser.add_argument("--presses", type=int, default=30)
    args = parser.parse_args()

    from bench_show import build_project

    from rta.project import Project
    from rta.tui.model import Document

    with tempfile.TemporaryDirectory() as tmp:
        root, _source, words = build_project(Path(tmp), args.words, args.codings)
        project = Project.open(root)
        n_codings = project.store.conn.execute("SELECT COUNT(*) FROM codings WHERE status='active'").fetchone()[0]
        print(f"rta read: transcript of {words} words, {n_codings} active codings, 80x24, "
              f"{args.presses} presses per key")
        loads = []
        for _ in range(5):
            t0 = time.perf_counter()
            Document.load(project.store, "bench-show")
            loads.append(time.perf_counter() - t0)
        base_start, base_keys = asyncio.run(empty_app(args.presses))
        opened, timings, shown = asyncio.run(read_app(project, "bench-show", args.presses))
        assert shown == n_codings
        print("baseline (same run):")
        print(f"  {'empty Textual app start-up':<34} {1000 * base_start:7.1f} ms")
        print(_line("key in the empty app (pilot cost)", base_keys))
        print("open:")
        print(_line("Document.load (store read)", loads))
        print(f"  {'rta read start-up to first screen':<34} {1000 * opened:7.1f} ms   "
              f"({opened / base_start:4.1f}x baseline)   {'PASS' if opened < OPEN_GOAL else 'FAIL'} (< 1 s)")
        print("keystrokes (key to redrawn screen, through the pilot; the app's own cost = median minus the")
        print("pilot's cost of a key in the empty app; goal < 50 ms):")
        base = statistics.median(base_keys)
        for name, values in timings.items():
            print(_line(name, values, KEY_GOAL, base))
        project.close()


if __name__ == "__main__":
    main()
