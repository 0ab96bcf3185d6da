"""The gateway benchmark's targets: started fresh, ready when they speak MCP, stopped by PID."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import gateway_parts as parts
import httpx

HERE = Path(__file__).resolve().parent
PARTS = str(HERE / "gateway_parts.py")
PY = sys.executable
TARGETS = ("direct", "gw-http", "gw-stdio", "gw-stdio-session", "mcp-proxy", "supergateway")
# Run on request only: gw-http without metering, to show what metering costs; with
# monitoring's taps; with billing's quota book over every call.
EXTRA_TARGETS = (
    "gw-http-unmetered",
    "gw-http-monitored",
    "gw-stdio-monitored",
    "gw-http-quota",
    "gw-stdio-quota",
)
# The gateway_serve.py option each variant of a gateway target adds.
VARIANTS = {"unmetered": "--unmetered", "monitored": "--monitoring", "quota": "--quota"}


@dataclass
class Target:
    """A started target: its endpoint, the process whose CPU is its own, any upstream."""

    name: str
    url: str
    pid: int
    headers: dict[str, str] = field(default_factory=dict)
    upstream_pid: int | None = None


# --- processes -------------------------------------------------------------------------------


def _free_port(counter: Iterator[int]) -> int:
    for port in counter:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port")


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def _wait_mcp(url: str, headers: dict[str, str], timeout: float = 60.0) -> None:
    """Wait until an initialize succeeds (a listening port is not readiness)."""
    end = time.monotonic() + timeout
    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": parts.LEGACY,
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "0"},
        },
    }
    hdrs = {"Content-Type": "application/json", "Accept": parts.ACCEPT, **headers}
    while time.monotonic() < end:
        try:
            r = httpx.post(url, json=body, headers=hdrs, timeout=10)
            if r.status_code == 200:
                sid = r.headers.get("mcp-session-id")
                if sid:
                    httpx.delete(url, headers={**hdrs, "Mcp-Session-Id": sid}, timeout=10)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} never answered initialize")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process by PID, then end its leftover descendants by PID."""
    kids = [p for p in parts.process_tree([proc.pid]) if p != proc.pid]
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    deadline = time.monotonic() + 3
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in kids:
            if parts._stat(pid) is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        while time.monotonic() < deadline and any(parts._stat(p) is not None for p in kids):
            time.sleep(0.05)
        deadline = time.monotonic() + 2


@contextmanager
def _process(
    cmd: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        out.write(("CMD: " + " ".join(cmd) + "\n").encode())
        out.flush()
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        try:
            yield proc
        finally:
            _stop(proc)


def _variant(name: str) -> list[str]:
    """The gateway_serve.py options of a target's variant (``gw-http-quota``: ``--quota``)."""
    suffix = name.rsplit("-", 1)[-1]
    return [VARIANTS[suffix]] if suffix in VARIANTS else []


@contextmanager
def start(name: str, args: argparse.Namespace, ports: Iterator[int], log: Path) -> Iterator[Target]:
    """Start one target (and the upstream it needs), ready to serve; stop it all after."""
    peers = args.peers_dir
    echo_stdio = [PY, PARTS, "echo"]
    port = _free_port(ports)
    if name == "direct":
        with _process([*echo_stdio, "--http", str(port)], log) as proc:
            target = Target(name, f"http://127.0.0.1:{port}/mcp", proc.pid)
            _wait_port(port, proc)
            _wait_mcp(target.url, target.headers)
            yield target
    elif name == "gw-http" or name.startswith("gw-http-"):
        up_port = _free_port(ports)
        gateway_args = ["--http-upstream", f"http://127.0.0.1:{up_port}/mcp", *_variant(name)]
        with _process([*echo_stdio, "--http", str(up_port)], log) as upstream:
            _wait_port(up_port, upstream)
            _wait_mcp(f"http://127.0.0.1:{up_port}/mcp", {})
            with _gateway(port, gateway_args, args, log) as target:
                target.upstream_pid = upstream.pid
                yield target
    elif name == "gw-stdio" or name in ("gw-stdio-monitored", "gw-stdio-quota"):
        variant = _variant(name)
        with _gateway(port, [*variant, "--stdio-upstream", *echo_stdio], args, log) as target:
            yield target
    elif name == "gw-stdio-session":
        # A process per session from the warm pool; room for every session a run opens.
        limit = max(args.ks) + args.warm + 4
        session_args = ["--per-session", str(limit), "--warm", str(args.warm)]
        with _gateway(port, [*session_args, "--stdio-upstream", *echo_stdio], args, log) as target:
            yield target
    elif name == "mcp-proxy":
        cmd = [
            str(peers / "b/bin/mcp-proxy"),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--",
            *echo_stdio,
        ]
        with _process(cmd, log) as proc:
            target = Target(name, f"http://127.0.0.1:{port}/mcp", proc.pid)
            _wait_port(port, proc)
            _wait_mcp(target.url, target.headers)
            yield target
    elif name == "supergateway":
        cmd = [
            str(peers / "node_modules/.bin/supergateway"),
            "--stdio",
            " ".join(echo_stdio),
            "--outputTransport",
            "streamableHttp",
            "--stateful",
            "--port",
            str(port),
        ]
        with _process(cmd, log) as proc:
            target = Target(name, f"http://127.0.0.1:{port}/mcp", proc.pid)
            _wait_port(port, proc)
            _wait_mcp(target.url, target.headers)
            yield target
    else:
        raise ValueError(f"unknown target {name!r}")


@contextmanager
def _gateway(
    port: int, upstream: list[str], args: argparse.Namespace, log: Path
) -> Iterator[Target]:
    """Our gateway, standalone, routing one deployment to one upstream (``gateway_serve.py``)."""
    key_file = log.with_suffix(".key")
    cmd = [
        PY,
        str(HERE / "gateway_serve.py"),
        "--port",
        str(port),
        "--key-file",
        str(key_file),
        "--data-dir",
        str(args.work / "gateway-data"),
        *upstream,
    ]
    key_file.unlink(missing_ok=True)
    with _process(cmd, log) as proc:
        deadline = time.monotonic() + 60
        while not key_file.exists():  # written once the gateway listens
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not start (see {log})")
            time.sleep(0.05)
        time.sleep(0.05)
        info = json.loads(key_file.read_text())
        target = Target(
            "gw",
            f"http://127.0.0.1:{port}{info['path']}",
            proc.pid,
            headers={"Authorization": f"Bearer {info['api_key']}"},
        )
        _wait_mcp(target.url, target.headers)
        yield target
