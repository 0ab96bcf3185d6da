"""Developer tools' costs, each figure printed beside its target and what the peers offer.

    python benchmarks/devtools.py                              # every figure
    python benchmarks/devtools.py --only template_node_stdio   # one figure (repeatable)
    python benchmarks/devtools.py --runtime docker             # deploy on Docker instead

One function per figure (each returns a ``Figure``); ``main`` runs those asked for. Figures:

- ``template_python_stdio`` / ``template_python_http`` / ``template_node_stdio``: seconds
  from ``mcp-console new`` to the first successful tool call through the gateway, as an
  author goes: ``new``, ``dev test``, ``dev publish``, ``dev deploy`` (process runtime by
  default), then ``greet`` called with the official SDK client as ``connect`` configures
  it. Caches are warm (uv's, npm's, the images of the same package): a first round, not
  timed, fills them; the timed round starts from an empty data dir and a new daemon.
- ``replay``: seconds to replay a 1,000-call recording against the example server over
  stdio, every answer compared (``devtools_replay.py``, which also runs alone).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from devtools_replay import replay_figure

TEMPLATE_TARGET_S = 30.0
TEMPLATE_PEER = (
    "MCP Inspector: no templates; registry publisher: init/validate of server.json only; "
    "ToolHive: scaffolds its own virtual servers only"
)
COMMAND_TIMEOUT = 300
STEPS = ("new", "dev test", "dev publish", "dev deploy", "first call")


@dataclass(frozen=True)
class Figure:
    """One measured figure, its target (lower is better) and what the peers offer."""

    name: str
    value: float | None  # None: not measured (the reason is in ``note``)
    unit: str
    target: float
    peer: str
    note: str = ""

    @property
    def met(self) -> bool:
        """Whether the figure is within its target."""
        return self.value is not None and self.value <= self.target


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Console:
    """``mcp-console`` commands on one data dir, with a daemon of its own on free ports."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MCP_CONSOLE_")},
            "MCP_CONSOLE_DATA_DIR": str(data_dir),
            "MCP_CONSOLE_API_PORT": str(_free_port()),
            "MCP_CONSOLE_GATEWAY_PORT": str(_free_port()),
            "MCP_CONSOLE_DEPLOY__HEALTH_INTERVAL": "1",
        }

    def __call__(self, *args: str) -> str:
        """Run one command; its standard output (it must succeed)."""
        done = subprocess.run(
            [sys.executable, "-m", "mcp_console", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"mcp-console {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def stop(self) -> None:
        """Stop the daemon the commands started (and with it the deployments' processes)."""
        subprocess.run(
            [sys.executable, "-m", "mcp_console", "daemon", "stop"],
            env=self.env,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )


async def _greet(config: dict[str, Any]) -> Any:
    async with (
        httpx2.AsyncClient(headers=config["headers"], timeout=60) as http,
        Client(streamable_http_client(config["url"], http_client=http)) as client,
    ):
        result = await client.call_tool("greet", {"name": "benchmark"})
        if result.is_error:
            raise RuntimeError(f"greet failed: {result.content}")
        return result.structured_content


def _round(template: str, root: Path, runtime: str) -> dict[str, float]:
    """One pass from ``new`` to the first call; seconds per step."""
    console = Console(root / "data")
    name = f"bench-{template}"
    project = root / name
    took: dict[str, float] = {}
    steps: list[tuple[str, Callable[[], object]]] = [
        ("new", lambda: console("new", name, "-t", template, "--dir", str(project))),
        ("dev test", lambda: console("dev", "test", "--dir", str(project))),
        ("dev publish", lambda: console("dev", "publish", "--dir", str(project))),
        (
            "dev deploy",
            lambda: console("dev", "deploy", "--dir", str(project), "--runtime", runtime),
        ),
        (
            "first call",
            lambda: anyio.run(
                _greet, json.loads(console("connect", name, "--client", "json", "--with-key"))
            ),
        ),
    ]
    try:
        for step, run in steps:
            started = time.perf_counter()
            run()
            took[step] = time.perf_counter() - started
    finally:
        with contextlib.suppress(RuntimeError):  # never deployed
            console("deploy", "delete", name)
        console.stop()
    return took


def _new_to_first_call(template: str, options: argparse.Namespace) -> Figure:
    name = f"template_{template.replace('-', '_')}"
    try:
        with tempfile.TemporaryDirectory(prefix="mcp-console-bench-") as warm:
            _round(template, Path(warm), options.runtime)
        with tempfile.TemporaryDirectory(prefix="mcp-console-bench-") as timed:
            took = _round(template, Path(timed), options.runtime)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return Figure(name, None, "s", TEMPLATE_TARGET_S, TEMPLATE_PEER, str(exc))
    print("  " + ", ".join(f"{step} {took[step]:.1f} s" for step in STEPS))
    return Figure(name, sum(took.values()), "s", TEMPLATE_TARGET_S, TEMPLATE_PEER)


def template_python_stdio(options: argparse.Namespace) -> Figure:
    """``new`` to the first call, python-stdio."""
    return _new_to_first_call("python-stdio", options)


def template_python_http(options: argparse.Namespace) -> Figure:
    """``new`` to the first call, python-http."""
    return _new_to_first_call("python-http", options)


def template_node_stdio(options: argparse.Namespace) -> Figure:
    """``new`` to the first call, node-stdio."""
    return _new_to_first_call("node-stdio", options)


def replay(options: argparse.Namespace) -> Figure:
    """A 1,000-call recording replayed against the server it was made with."""
    found = replay_figure()
    name = f"replay of a {found.calls:,}-call recording"
    peer = "MCP Inspector: no recording or replay; its users ask for it"
    if found.differences:
        note = f"not measured: {found.differences} answer(s) differed from the recording"
        return Figure(name, None, "s", found.target_seconds, peer, note)
    return Figure(name, found.seconds, "s", found.target_seconds, peer)


FIGURES: dict[str, Callable[[argparse.Namespace], Figure]] = {
    "template_python_stdio": template_python_stdio,
    "template_python_http": template_python_http,
    "template_node_stdio": template_node_stdio,
    "replay": replay,
}


def main(argv: list[str] | None = None) -> int:
    """Measure the figures asked for and print each beside its target and the peers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", action="append", choices=sorted(FIGURES), default=[])
    parser.add_argument(
        "--runtime", choices=("process", "docker"), default="process", help="(template_*)"
    )
    options = parser.parse_args(argv)
    missed = 0
    for name in options.only or list(FIGURES):
        print(f"{name}:")
        figure = FIGURES[name](options)
        if figure.value is None:
            print(f"{figure.name}: {figure.note}  (target <= {figure.target:g} {figure.unit})")
            missed += 1
            continue
        verdict = "MET" if figure.met else "MISSED"
        missed += not figure.met
        print(
            f"{figure.name}: {figure.value:.3g} {figure.unit} "
            f"(target <= {figure.target:g} {figure.unit}; peers: {figure.peer})  {verdict}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
