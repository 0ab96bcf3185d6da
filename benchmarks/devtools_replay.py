"""Time replaying a 1,000-call recording against a real local MCP server (target: 5 s)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mcp_console.devtools import example_server
from mcp_console.devtools.inspect_session import Session, recorded_client
from mcp_console.devtools.replay import replay
from mcp_console.devtools.targets import ServerTarget, command_target
from mcp_console.schemas.recording import Recording

TARGET_SECONDS = 5.0
CALLS = 1000
TIMEOUT = 30.0
# The example server as this checkout has it, over stdio.
SERVER = (sys.executable, str(Path(example_server.__file__)))


@dataclass(frozen=True)
class ReplayFigure:
    """One replay of a recording: how many calls, how long, and whether all matched."""

    calls: int
    seconds: float
    differences: int
    target_seconds: float = TARGET_SECONDS

    @property
    def met(self) -> bool:
        """Whether it replayed within its target, every answer matching."""
        return self.seconds <= self.target_seconds and self.differences == 0

    def line(self) -> str:
        """The figure beside its target."""
        verdict = "met" if self.met else "missed"
        return (
            f"replay of a {self.calls:,}-call recording: {self.seconds:.2f} s   "
            f"target <= {self.target_seconds:.1f} s   {verdict}"
            f"{'' if self.differences == 0 else f' ({self.differences} differences)'}"
        )


async def record_calls(target: ServerTarget, calls: int) -> Recording:
    """A session of ``calls`` tool calls (add, echo, counter, whoami in turn), recorded."""
    session = Session(target)
    async with recorded_client(session, timeout=TIMEOUT) as client:
        await client.list_tools()
        for n in range(calls):
            match n % 4:
                case 0:
                    await client.call_tool("add", {"a": n, "b": 1})
                case 1:
                    await client.call_tool("echo", {"text": f"call {n}"})
                case 2:
                    await client.call_tool("counter", {})
                case _:
                    await client.call_tool("whoami", {})
    return session.recording()


async def _figure(calls: int) -> ReplayFigure:
    target = command_target(SERVER)
    recording = await record_calls(target, calls)
    started = time.perf_counter()
    report = await replay(recording, target, timeout=TIMEOUT)
    seconds = time.perf_counter() - started
    return ReplayFigure(report.replayed - 1, seconds, len(report.differences))


def replay_figure(calls: int = CALLS) -> ReplayFigure:
    """Record ``calls`` tool calls against the example server, then time their replay
    (a new session, each answer compared) against it."""
    return asyncio.run(_figure(calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=CALLS)
    args = parser.parse_args()
    print(replay_figure(args.calls).line())


if __name__ == "__main__":
    main()
