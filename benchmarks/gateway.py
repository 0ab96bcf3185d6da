"""The MCP gateway side by side with the echo server direct and with two stdio bridges.

Targets (each started fresh for each run, alternating, stopped by PID afterwards):

    direct        the echo server over Streamable HTTP (json_response): the ceiling
    gw-http       our gateway in front of that server
    gw-stdio      our gateway in front of the echo server over stdio (one shared process)
    gw-stdio-session  our gateway giving each session an echo process of its own, from
                  a warm pool (``--warm`` ready), as a per-session deployment runs
    mcp-proxy     mcp-proxy 0.13 in front of the stdio echo server (its own venv: mcp<2)
    supergateway  supergateway 4.0 --stateful in front of the stdio echo server (npm)
    gw-http-unmetered  (on request) gw-http without the usage meter, to show its cost
    gw-http-monitored, gw-stdio-monitored  (on request) with monitoring's taps on the meter

Two load tools, both on 127.0.0.1 only and bounded in time:

* the Python closed-loop tool (``gateway_parts.py loadgen``): K handshake-era sessions,
  one connection each, timed session setup, a warm-up, then a measured window;
* ``wrk`` (Debian's, one thread, K connections) with a Lua script, so the load tool is not
  the limit: modern-era (2026-07-28, stateless) calls to direct and our gateway, and
  handshake-era calls on one session to every target.

For every run it prints req/s, p50/p99 and the CPU-ms per call of the target's own
process (and of its stdio child, and of the upstream server for gw-http), then checks the
gateway's targets, like against like: gw-stdio (one shared child) against mcp-proxy (one
shared child), gw-stdio-session (a child per session) against supergateway --stateful (a
child per session), with the memory each session costs in both. A setup pass opens
sessions one at a time on a quiet target (``--setup-sessions``, ``--setup-pause`` apart):
how long a client waits for a session of its own from the warm pool, and from supergateway.

    python benchmarks/gateway.py --setup                    # once: mcp-proxy, supergateway, wrk
    python benchmarks/gateway.py                            # K=8 and 32, 1 rep, 10 s windows
    python benchmarks/gateway.py --ks 8 --duration 5 --targets direct gw-http
    python benchmarks/gateway.py --json-out results.json

``--peers-dir`` (default ``~/.cache/mcp-console/bench-peers``) holds the peers' installs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway_parts as parts
from gateway_report import (
    PEERS,
    PER_SESSION,
    checks,
    contention_note,
    cpu_cell,
    memory_per_session,
    python_table,
    setup_checks,
    setup_table,
    wrk_table,
)
from gateway_targets import EXTRA_TARGETS, PARTS, PY, TARGETS, Target, _gateway, start

MCP_PROXY_VERSION = "0.13.0"
SUPERGATEWAY_VERSION = "4.0.0"
BASE_PORT = 18600


# --- runs ------------------------------------------------------------------------------------


def python_run(target: Target, k: int, args: argparse.Namespace) -> dict[str, Any]:
    """One closed-loop run of the Python load tool against a started target."""
    cmd = [
        PY,
        PARTS,
        "loadgen",
        "--url",
        target.url,
        "--k",
        str(k),
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--pids",
        str(target.pid),
    ]
    if target.upstream_pid:
        cmd += ["--upstream-pids", str(target.upstream_pid)]
    for name, value in target.headers.items():
        cmd += ["--header", f"{name}: {value}"]
    limit = args.duration + args.warmup + 120
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, check=False)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"load tool failed: {out.stderr[-800:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    calls = max(result["ok"], 1)
    result["own_ms"] = 1000 * result["main_cpu_s"] / calls
    result["child_ms"] = 1000 * result["children_cpu_s"] / calls
    up = result["upstream_cpu_s"]
    result["upstream_ms"] = None if up is None else 1000 * up / calls
    return result


def echo_modes(
    modes: Sequence[tuple[str, list[str]]], args: argparse.Namespace, base_port: int
) -> list[dict[str, Any]]:
    """Our gateway (``gateway_serve.py``, stdio echo upstream, SQLite) under the Python load
    tool once per mode (its name and further ``gateway_serve.py`` arguments): per mode the
    calls per second and the gateway's CPU-ms per call."""
    rows = []
    ports = itertools.count(base_port)
    with tempfile.TemporaryDirectory() as work:
        args.work = Path(work)
        for mode, extra in modes:
            log = Path(work) / f"gateway-{mode.replace(' ', '-')}.log"
            upstream = [*extra, "--stdio-upstream", PY, PARTS, "echo"]
            with _gateway(next(ports), upstream, args, log) as target:
                result = python_run(target, args.k, args)
            rows.append(
                {
                    "mode": mode,
                    "k": args.k,
                    "calls_per_s": round(result["rps"], 1),
                    "gateway_cpu_ms_per_call": round(result["own_ms"], 3),
                    "p50_ms": round(result["p50_ms"], 2),
                    "errors": result["errors"],
                }
            )
    return rows


def setup_run(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Sessions opened one at a time on a quiet target, each timed (``gateway_parts setup``)."""
    cmd = [
        PY,
        PARTS,
        "setup",
        "--url",
        target.url,
        "--sessions",
        str(args.setup_sessions),
        "--pause",
        str(args.setup_pause),
    ]
    for name, value in target.headers.items():
        cmd += ["--header", f"{name}: {value}"]
    limit = args.setup_sessions * (args.setup_pause + 30) + 60
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, check=False)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"setup timing failed: {out.stderr[-800:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def wrk_run(target: Target, k: int, era: str, args: argparse.Namespace) -> dict[str, Any]:
    """A warm-up and a measured wrk run; CPU of the target's processes over the measured one."""
    headers = dict(target.headers)
    if era == "legacy":
        headers.update(_one_session(target))
    parts.run_wrk(target.url, k, args.warmup, era, headers)
    pids = [target.pid]
    cpu0, up0, m0 = parts.cpu_seconds(pids), _upstream_cpu(target), parts.machine_times()
    result = parts.run_wrk(target.url, k, args.duration, era, headers)
    cpu1, up1, m1 = parts.cpu_seconds(pids), _upstream_cpu(target), parts.machine_times()
    seconds = result["duration_us"] / 1e6
    calls = max(result["requests"], 1)
    main = cpu1.get(target.pid, 0.0) - cpu0.get(target.pid, 0.0)
    tree = sum(v - cpu0.get(p, 0.0) for p, v in cpu1.items())
    failures = (
        result["errors"] + result["connect"] + result["read"] + result["write"] + result["timeout"]
    )
    return {
        "k": k,
        "era": era,
        "rps": result["requests"] / seconds,
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": failures,
        "own_ms": 1000 * main / calls,
        "child_ms": 1000 * (tree - main) / calls,
        "upstream_ms": 1000 * (up1 - up0) / calls if target.upstream_pid else None,
        "busy_pct": parts.CORES * 100 * parts.busy_fraction(m0, m1),
        "tool_cpu_pct": 100 * result["tool_cpu_s"] / seconds,
        "rss_end_mb": parts.rss_mb(pids),
    }


def _upstream_cpu(target: Target) -> float:
    return sum(parts.cpu_seconds([target.upstream_pid]).values()) if target.upstream_pid else 0.0


def _one_session(target: Target) -> dict[str, str]:
    """Open one handshake-era session for wrk's connections to share."""
    hdrs = {"Content-Type": "application/json", "Accept": parts.ACCEPT, **target.headers}
    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": parts.LEGACY,
            "capabilities": {},
            "clientInfo": {"name": "wrk", "version": "0"},
        },
    }
    r = httpx.post(target.url, json=body, headers=hdrs, timeout=30)
    r.raise_for_status()
    session = {"Mcp-Session-Id": r.headers["mcp-session-id"], "MCP-Protocol-Version": parts.LEGACY}
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    httpx.post(target.url, json=note, headers={**hdrs, **session}, timeout=30).raise_for_status()
    return session


# --- setup and main --------------------------------------------------------------------------


def setup_peers(peers: Path) -> None:
    """Install the peers into ``peers``, and Debian's wrk when it is missing.

    mcp-proxy gets its own venv (it pins mcp<2); supergateway comes from npm.
    """
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    peers.mkdir(parents=True, exist_ok=True)
    proxy = peers / "b/bin/mcp-proxy"
    if not proxy.exists():
        subprocess.run([PY, "-m", "venv", str(peers / "b")], check=True)
        pip = [str(peers / "b/bin/pip"), "install", "-q", f"mcp-proxy=={MCP_PROXY_VERSION}"]
        subprocess.run(pip, check=True)
    if not (peers / "node_modules/.bin/supergateway").exists():
        npm = [
            "npm",
            "install",
            "--silent",
            "--prefix",
            str(peers),
            f"supergateway@{SUPERGATEWAY_VERSION}",
        ]
        subprocess.run(npm, check=True)


def _peers_ready(peers: Path) -> list[str]:
    missing = []
    if not (peers / "b/bin/mcp-proxy").exists():
        missing.append("mcp-proxy")
    if not (peers / "node_modules/.bin/supergateway").exists():
        missing.append("supergateway")
    return missing


def _schedule(args: argparse.Namespace) -> Iterator[tuple[str, int, str, str]]:
    """(tool, K, era, target) for one rep: session setup, every target in turn for each K,
    then wrk."""
    if not args.no_setup:
        for name in args.targets:
            if name in PER_SESSION:
                yield "setup", 1, "legacy", name
    if not args.no_python:
        for k in args.ks:
            for name in args.targets:
                yield "python", k, "legacy", name
    if not args.no_wrk:
        for k in args.ks:
            for era in ("modern", "legacy"):
                for name in args.targets:
                    # The peers speak the handshake era only (mcp-proxy is built on mcp<2); a
                    # 2026-07-28 request opens no session, so per-session targets serve none.
                    if era == "legacy" or name not in (*PEERS, *PER_SESSION):
                        yield "wrk", k, era, name


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--targets", nargs="+", choices=TARGETS + EXTRA_TARGETS, default=list(TARGETS))
    ap.add_argument("--ks", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--no-wrk", action="store_true", help="skip the wrk pass")
    ap.add_argument("--no-python", action="store_true", help="skip the Python load-tool pass")
    ap.add_argument("--no-setup", action="store_true", help="skip the session-setup pass")
    ap.add_argument("--warm", type=int, default=4, help="gw-stdio-session's warm pool size")
    ap.add_argument("--setup-sessions", type=int, default=20, help="sessions timed one by one")
    ap.add_argument(
        "--setup-pause", type=float, default=2.0, help="seconds between two timed sessions"
    )
    ap.add_argument("--setup", action="store_true", help="install the peers and exit")
    ap.add_argument(
        "--peers-dir", type=Path, default=Path.home() / ".cache/mcp-console/bench-peers"
    )
    ap.add_argument("--work", type=Path, default=None, help="logs and gateway data (a temp dir)")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    if args.setup:
        setup_peers(args.peers_dir)
        return
    if not 1 <= args.duration <= 120 or args.reps > 5 or max(args.ks) > 256:
        ap.error("keep runs bounded: duration 1..120 s, at most 5 reps, K at most 256")
    missing = [t for t in _peers_ready(args.peers_dir) if t in args.targets]
    if missing:
        ap.error(f"{', '.join(missing)} not in {args.peers_dir}: run with --setup first")
    if args.work is None:
        args.work = Path(tempfile.mkdtemp(prefix="mcp-console-bench-"))
    logs = args.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ports = iter(range(BASE_PORT, BASE_PORT + 2000))
    print(f"logs in {logs}; {os.cpu_count()} cores; python {sys.version.split()[0]}", flush=True)

    py_rows: list[dict[str, Any]] = []
    wrk_rows: list[dict[str, Any]] = []
    setup_rows: list[dict[str, Any]] = []
    for rep in range(1, args.reps + 1):
        for tool, k, era, name in _schedule(args):
            done = len(py_rows) + len(wrk_rows) + len(setup_rows)
            log = logs / f"{done + 1:03d}-{name}-{tool}-{era}-k{k}.log"
            try:
                with start(name, args, ports, log) as target:
                    if tool == "setup":
                        row = setup_run(target, args)
                    elif tool == "python":
                        row = python_run(target, k, args)
                    else:
                        row = wrk_run(target, k, era, args)
            except (RuntimeError, OSError, httpx.HTTPError) as exc:
                print(f"  {tool} {era} {name} K={k}: FAILED: {exc} (see {log})", flush=True)
                continue
            row.update(target=name, rep=rep, era=era)
            if tool == "setup":
                setup_rows.append(row)
                print(
                    f"  setup  {name:16} {row['sessions']} sessions one by one: "
                    f"p50 {row['setup_p50_ms']:6.1f} ms  p95 {row['setup_p95_ms']:6.1f} ms",
                    flush=True,
                )
                continue
            (py_rows if tool == "python" else wrk_rows).append(row)
            print(
                f"  {tool:6} {era:6} {name:16} K={k:<3} {row['rps']:6.0f} req/s  "
                f"p50 {row['p50_ms']:6.2f} ms  CPU {cpu_cell(row)} ms/call  "
                f"errors {row['errors']}",
                flush=True,
            )

    print()
    if setup_rows:
        print("Session setup, one at a time on a quiet target:\n" + setup_table(setup_rows) + "\n")
    if py_rows:
        print(
            "Python load tool (handshake era, one session per connection):\n"
            + python_table(py_rows)
            + "\n"
        )
    if wrk_rows:
        print(
            "wrk, 1 thread (modern: stateless 2026-07-28; legacy: one shared session):\n"
            + wrk_table(wrk_rows)
            + "\n"
        )
    memory = memory_per_session(py_rows)
    if memory:
        print("Memory per session (a process each):\n  " + "\n  ".join(memory) + "\n")
    note = contention_note(py_rows + wrk_rows)
    if note:
        print(note + "\n")
    print("Targets:")
    for line in setup_checks(setup_rows) + checks(py_rows, wrk_rows, args.ks):
        print("  " + line)
    if args.json_out:
        rows = {"setup": setup_rows, "python": py_rows, "wrk": wrk_rows}
        args.json_out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
