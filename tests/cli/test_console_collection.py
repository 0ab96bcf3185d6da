"""The console starts with garbage collection paused and always resumes it: once its first
results are drawn, or once its backend has failed."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_console.cli.startup import pause_collection
from mcp_console.cli.tui import ConsoleBackend, StartingConsole
from mcp_console.settings import Settings


@pytest.fixture
def paused() -> Iterator[None]:
    """Collection paused as ``mcp-console`` pauses it, and on again after the test."""
    pause_collection()
    try:
        yield
    finally:
        gc.enable()


async def _run(settings: Settings) -> tuple[StartingConsole, str]:
    """Run the console until its backend is up (or has failed); what the market said then."""
    backend = ConsoleBackend(settings, say=lambda _: None)
    app = StartingConsole(backend)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            # Bounded only so that a hang fails the test instead of stalling the run.
            async with asyncio.timeout(120):
                while app.is_running and not backend.client.ready:
                    await pilot.pause(0.05)
            status = "".join(str(w.render()) for w in app.screen.query("#market-status"))
            if app.is_running:
                await pilot.press("q")
    finally:
        await backend.aclose()
    return app, status


@pytest.mark.usefixtures("paused")
async def test_collection_resumes_once_the_first_results_are_drawn(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", api_port=0, gateway_port=0)
    app, status = await _run(settings)
    assert status.startswith("0 published service(s) · page 1/")
    assert app.backend.error is None
    assert gc.isenabled()


@pytest.mark.usefixtures("paused")
async def test_collection_resumes_when_the_backend_cannot_start(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port no database listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/none",
        api_port=0,
        gateway_port=0,
    )
    app, _ = await _run(settings)
    assert app.backend.error is not None
    assert app.return_code == 1
    assert gc.isenabled()
