"""Helpers shared by the tests of ``rta read`` (no tests here): drive the real Textual app
headless with its pilot."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from rta.suggest import SuggestOptions, run_suggest
from rta.tui.app import ReadApp
from test_suggest_support import make_project


def suggested_project(tmp_path) -> Iterator:
    """For a fixture: the suggest test project (two small transcripts) after a real
    ``rta suggest``, closed afterwards."""
    project = make_project(tmp_path)
    run_suggest(project, SuggestOptions())
    yield project
    project.close()


def drive(project, steps, size=(80, 24), transcript="suggest-k1"):
    """Run the app in a headless terminal of ``size`` and await ``steps(app, pilot)``."""

    async def go():
        app = ReadApp(project, transcript)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(app, pilot)

    asyncio.run(go())


async def keys(pilot, *pressed: str):
    for key in pressed:
        await pilot.press(key)
    await pilot.pause()


async def codebook_parsed(app, pilot, seconds: float = 10.0) -> None:
    """Wait until the app has parsed the project's codebook (in a thread after the first
    screen): the passages' themes come from it before the store has any."""
    for _ in range(int(seconds / 0.1)):
        if app.main.codebook is not None:
            await pilot.pause()
            return
        await pilot.pause(0.1)
    raise AssertionError("the codebook was not parsed")
