"""The terminal console's responsiveness, side by side with the targets.

1. Start-up: from starting ``mcp-console`` (a new process on a pseudo-terminal, 120x36) to the
   first interactive frame (the market with its search box; the backend starts after it, in the
   background) and to the market's first page of results — on a fresh data dir and on one holding
   100,000 services. Targets: ≤ 1.0 s to the first frame, ≤ 1.0 s to the first results. Also:
   how long the imports before the first frame take, those between it and the first results
   (the database and the catalog), and those that follow (the rest of the backend, its API
   and gateway, the other sections' screens).
2. Typing: keystroke to updated results in the market over 100,000 services in a real SQLite
   backend (the app, LocalClient and Runtime in one process, as ``mcp-console`` runs). Each
   key goes through the terminal driver like a real one; the clock stops once the screen
   showing that exact query's answer (results, or the inline "invalid filter" reason) has been
   composed. Target p95 ≤ 100 ms. Bursts (keys 30 ms apart, faster than results) are timed
   from the last key to the final answer.

    python benchmarks/tui.py                      # 100k services
    python benchmarks/tui.py --services 20000 --starts 3
    python benchmarks/tui.py --starts 10 --no-typing   # start-up only

Services are generated like ``benchmarks/catalog_search.py`` does and bulk-loaded with core
inserts.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import math
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual import events

sys.path.insert(0, str(Path(__file__).resolve().parent))
import catalog_search

from mcp_console.app import LATER_SCREENS, ConsoleApp
from mcp_console.backend.catalog.search import search_index_for
from mcp_console.backend.daemon import API_MODULES
from mcp_console.backend.db.engine import create_engine
from mcp_console.backend.db.migrate import upgrade_sync
from mcp_console.backend.runtime import BACKGROUND_MODULES, SERVICE_MODULES, Runtime
from mcp_console.client.local import LocalClient
from mcp_console.screens.market import MarketScreen
from mcp_console.settings import Settings

START_TARGET_S = 1.0
RESULTS_TARGET_S = 1.0
KEY_TARGET_MS = 100.0
SIZE = (120, 36)
FRAME_MARKER = b"Search: words and filters"  # the search box's placeholder: the first frame
READY_MARKER = b"service(s) \xc2\xb7 page"  # "… published service(s) · page 1/…"
START_TIMEOUT = 30.0
ANSWER_TIMEOUT = 10.0
BURST_GAP = 0.03
# Typed one key at a time, as people type: words, prefixes, filters, a wrong key, a sort.
TYPED = (
    "github",
    "postgres database",
    "slack tag:chat",
    "weather price:free",
    "kubernetes category:devops",
    "colour:blue",
    "browser sort:rating",
    "git status:deprecated",
    "notion sort:new",
    "redis featured:no",
)
BURSTS = ("filesystem", "stripe payments", "docker tag:containers")


@dataclass
class Timings:
    """Keystroke-to-answer latencies in milliseconds."""

    keys: list[float] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    bursts: list[float] = field(default_factory=list)
    invalid: int = 0


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


# --- data ----------------------------------------------------------------------------------


def build_catalog(data_dir: Path, services: int) -> str:
    """A migrated SQLite database in ``data_dir`` holding ``services`` generated services."""
    url = f"sqlite+aiosqlite:///{data_dir / 'mcp-console.db'}"
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_sync(url)
    vocab = catalog_search.load_vocabulary(None)
    rows = list(catalog_search.generate_services(vocab, services, seed=7))

    async def fill() -> None:
        engine = create_engine(url)
        try:
            await catalog_search.load(engine, search_index_for(engine.dialect.name), rows)
        finally:
            await engine.dispose()

    asyncio.run(fill())
    return url


# --- start-up ------------------------------------------------------------------------------


def time_start(data_dir: Path) -> tuple[float, float]:
    """Seconds from spawning ``mcp-console`` on a pty to its first frame, and to its first
    page of results."""
    # Free ports: a daemon or console elsewhere on the machine may hold the default ones.
    env = dict(
        os.environ,
        MCP_CONSOLE_DATA_DIR=str(data_dir),
        MCP_CONSOLE_API_PORT="0",
        MCP_CONSOLE_GATEWAY_PORT="0",
        TERM="xterm-256color",
    )
    env.pop("MCP_CONSOLE_DATABASE_URL", None)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_console"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    frame: float | None = None
    try:
        while True:
            left = START_TIMEOUT - (time.perf_counter() - started)
            if left <= 0:
                raise TimeoutError(
                    f"no results after {START_TIMEOUT:.0f} s; the screen: {seen[-400:]!r}"
                )
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                raise RuntimeError(f"mcp-console exited early: {seen[-400:]!r}") from None
            seen = seen[-4096:] + chunk
            if frame is None and FRAME_MARKER in seen:
                frame = time.perf_counter() - started
            if READY_MARKER in seen:
                return frame or time.perf_counter() - started, time.perf_counter() - started
    finally:
        os.write(master, b"q")
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(master)


IMPORT_PROBE = """
import sys, time
started = time.perf_counter()
import mcp_console.cli
import mcp_console.cli.tui as tui
framed = time.perf_counter()
tui.preload(tui.FIND_MODULES + tui.CATALOG_MODULES + ("sqlalchemy.dialects.sqlite.aiosqlite",))
answered = time.perf_counter()
tui.preload(tuple(sys.argv[1:]))
print(framed - started, answered - framed, time.perf_counter() - answered)
"""
# What loads once the first results are on the screen.
AFTER_RESULTS = SERVICE_MODULES + API_MODULES + BACKGROUND_MODULES + LATER_SCREENS


@dataclass(frozen=True)
class Imports:
    """Median seconds of the console's imports, each part in a fresh interpreter."""

    before_frame: float
    before_results: float  # after the first frame: the database, the catalog
    after_results: float  # the rest of the backend, its API and gateway, the other screens


def time_imports(runs: int = 3) -> Imports:
    """The console's imports in the order it makes them (each run in a fresh interpreter)."""
    parts: list[list[float]] = [[], [], []]
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE, *AFTER_RESULTS],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for part, seconds in zip(parts, out, strict=True):
            part.append(float(seconds))
    return Imports(*(quantile(part, 0.5) for part in parts))


# --- typing --------------------------------------------------------------------------------


class TimedConsole(ConsoleApp):
    """The console, noting when each query's answer has been drawn."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.answered: dict[str, float] = {}
        self.answers: asyncio.Queue[str] = asyncio.Queue()

    def on_market_screen_query_answered(self, message: MarketScreen.QueryAnswered) -> None:
        query = message.query

        def drawn() -> None:
            self.answered[query] = time.perf_counter()
            self.answers.put_nowait(query)

        self.call_after_refresh(drawn)


async def _answer(app: TimedConsole, query: str) -> float:
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            while query not in app.answered:
                await app.answers.get()
    except TimeoutError:
        raise TimeoutError(f"the market never answered {query!r}") from None
    return app.answered.pop(query)


def _send(app: TimedConsole, key: str) -> None:
    name = {" ": "space", ":": "colon", "/": "slash"}.get(key, key)
    event = events.Key(name, key if len(key) == 1 else None)
    event.set_sender(app)
    assert app._driver is not None  # the driver is what a terminal's key reaches first
    app._driver.send_message(event)


async def time_typing(settings: Settings) -> Timings:
    """Type each query one key at a time, then in bursts; time each key to its answer."""
    timings = Timings()
    async with Runtime(settings) as runtime:
        assert runtime.local_admin is not None
        app = TimedConsole(LocalClient(runtime, runtime.local_admin))
        async with app.run_test(size=SIZE) as pilot:
            market = app.screen
            assert isinstance(market, MarketScreen)
            await _answer(app, "")
            _send(app, "/")  # like a person: "/" opens the search box
            await pilot.pause()
            for text in TYPED:
                for n in range(1, len(text) + 1):
                    app.answered.clear()
                    started = time.perf_counter()
                    _send(app, text[n - 1])
                    drawn = await _answer(app, text[:n])
                    timings.keys.append((drawn - started) * 1000)
                    timings.slowest.append((timings.keys[-1], text[:n]))
                    timings.invalid += market.search_box.has_class("-invalid")
                await _clear(app, text)
            for text in BURSTS:
                app.answered.clear()
                for key in text:
                    _send(app, key)
                    last = time.perf_counter()
                    await asyncio.sleep(BURST_GAP)
                drawn = await _answer(app, text)
                timings.bursts.append((drawn - last) * 1000)
                await _clear(app, text)
            await pilot.press("escape")
    return timings


async def _clear(app: TimedConsole, text: str) -> None:
    for _ in text:
        _send(app, "backspace")
    await _answer(app, "")
    app.answered.clear()


# --- report --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def report(
    services: int,
    imports: Imports,
    fresh: list[tuple[float, float]],
    loaded: list[tuple[float, float]],
    typing: Timings | None,
    load: tuple[float, float],
) -> None:
    """Print the figures beside their targets."""
    print(f"\nmcp-console TUI at {SIZE[0]}x{SIZE[1]}, {services:,} services (SQLite)")
    print(f"load average (1 min) before and after the start-ups: {load[0]:.1f}, {load[1]:.1f}\n")
    print(
        f"imports before the first frame: {imports.before_frame:.2f} s; "
        f"then before the first results: {imports.before_results:.2f} s; "
        f"after them, on threads: {imports.after_results:.2f} s"
    )
    for label, starts in (("fresh data dir", fresh), (f"{services:,} services", loaded)):
        for what, index, target in (
            ("first frame  ", 0, START_TARGET_S),
            ("first results", 1, RESULTS_TARGET_S),
        ):
            times = [start[index] for start in starts]
            p50 = quantile(times, 0.5)
            print(
                f"start to {what} ({label:>16}): median {p50:.2f} s, min {min(times):.2f} s, "
                f"max {max(times):.2f} s over {len(times)} starts  "
                f"[target ≤ {target:.1f} s: {verdict(p50 <= target)}]"
            )
    if typing is None:
        return
    p95 = quantile(typing.keys, 0.95)
    print(
        f"keystroke to updated results: p50 {quantile(typing.keys, 0.5):.1f} ms, "
        f"p95 {p95:.1f} ms, max {max(typing.keys):.1f} ms over {len(typing.keys)} keys "
        f"({typing.invalid} answered with an inline filter error)  "
        f"[target p95 ≤ {KEY_TARGET_MS:.0f} ms: {verdict(p95 <= KEY_TARGET_MS)}]"
    )
    print(
        f"burst typing ({BURST_GAP * 1000:.0f} ms between keys), last key to final results: "
        + ", ".join(f"{ms:.1f} ms" for ms in typing.bursts)
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--starts", type=int, default=5, help="start-ups timed per data dir")
    parser.add_argument(
        "--no-typing", action="store_true", help="time the start-ups only, not the typing"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mcp-console-tui-bench-") as tmp:
        root = Path(tmp)
        print(f"generating {args.services:,} services…", flush=True)
        loaded_dir = root / "loaded"
        url = build_catalog(loaded_dir, args.services)
        imports = time_imports()
        load_before = os.getloadavg()[0]
        fresh = [time_start(root / f"fresh-{i}") for i in range(args.starts)]
        loaded = [time_start(loaded_dir) for _ in range(args.starts)]
        load = (load_before, os.getloadavg()[0])
        settings = Settings(data_dir=loaded_dir, database_url=url)
        typing = None if args.no_typing else asyncio.run(time_typing(settings))
    report(args.services, imports, fresh, loaded, typing, load)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
