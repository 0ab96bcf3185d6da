"""Quitting a console that hosts its own backend: asked what becomes of what runs, by keys."""

from __future__ import annotations

from mcp_console.app import ConsoleApp
from mcp_console.screens.modals.quit import QuitChoice, QuitModal, RunningWork
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, screen_text, wait_until
from tests.tui.sample import frozen_clock, sample_catalog

RUNNING = RunningWork(("calc", "bob/time"), containers=1, processes=2)


class Backend:
    """What the console's own backend runs, as the app asks for it on quit."""

    def __init__(self, work: RunningWork | None) -> None:
        self.work = work
        self.asked = 0

    async def running(self) -> RunningWork | None:
        self.asked += 1
        return self.work


def _console(backend: Backend | None) -> ConsoleApp:
    return ConsoleApp(
        FakeClient(sample_catalog()),
        clock=frozen_clock,
        steady_cursor=True,
        running=backend.running if backend is not None else None,
    )


async def _choose(keys: tuple[str, ...]) -> ConsoleApp:
    app = _console(Backend(RUNNING))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitModal), "the quit prompt")
        await pilot.press(*keys)
        await wait_until(pilot, lambda: app.return_code is not None, "the console to quit")
    return app


async def test_with_nothing_running_q_quits_at_once() -> None:
    backend = Backend(RunningWork(()))
    app = _console(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "q")
        await wait_until(pilot, lambda: app.return_code is not None, "the console to quit")
        assert backend.asked == 1
    assert app.quit_choice is None


async def test_a_console_on_someone_elses_backend_quits_at_once() -> None:
    app = _console(None)  # on a daemon (or another console): nothing of its own runs
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "q")
        await wait_until(pilot, lambda: app.return_code == 0, "the console to quit")
    assert app.quit_choice is None


async def test_the_prompt_names_what_runs_and_escape_stays_in_the_console() -> None:
    backend = Backend(RUNNING)
    app = _console(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitModal), "the quit prompt")
        shown = screen_text(pilot)
        assert "Quit? 2 deployments are running here" in shown
        assert "calc, bob/time: once the console has quit, nothing answers" in shown
        prompt = app.screen
        # q again, or the palette's Quit, does not stack a second prompt.
        await pilot.press("q")
        await pilot.pause(0.1)
        assert app.screen is prompt
        assert backend.asked == 1
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, QuitModal), "the prompt gone")
        assert app.return_code is None
        # ... and the command line's quit asks again.
        await pilot.press("colon", *"quit", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitModal), "the prompt again")
        assert backend.asked == 2
        assert app.return_code is None


async def test_enter_takes_the_highlighted_choice_hand_over_first() -> None:
    app = await _choose(("enter",))
    assert app.quit_choice is QuitChoice.HAND_OVER


async def test_down_and_enter_stops_them() -> None:
    app = await _choose(("down", "enter"))
    assert app.quit_choice is QuitChoice.STOP


async def test_leaving_them_is_the_last_choice() -> None:
    app = await _choose(("down", "down", "enter"))
    assert app.quit_choice is QuitChoice.LEAVE


async def test_a_backend_that_cannot_say_what_runs_does_not_keep_the_console_open() -> None:
    async def broken() -> RunningWork | None:
        raise RuntimeError("the database is gone")

    app = ConsoleApp(FakeClient(sample_catalog()), clock=frozen_clock, running=broken)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "q")
        await wait_until(pilot, lambda: app.return_code is not None, "the console to quit")
    assert app.quit_choice is None
