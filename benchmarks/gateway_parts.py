"""Parts of the gateway benchmark: the echo server, the Python load tool, wrk, /proc figures.

Run by ``benchmarks/gateway.py`` as separate processes, so that each one's CPU is its own:

    python benchmarks/gateway_parts.py echo                 # the echo server over stdio
    python benchmarks/gateway_parts.py echo --http PORT     # ... over Streamable HTTP at /mcp
    python benchmarks/gateway_parts.py loadgen --url URL --k 8 --duration 10 --pids PID ...
    python benchmarks/gateway_parts.py setup --url URL --sessions 20 --pause 2

The load tool is closed-loop: K workers, each with its own keep-alive connection and
handshake-era session (initialize, notifications/initialized, then ``tools/call echo`` in a
loop, DELETE at the end), like the peers' harness, so the figures compare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ACCEPT = "application/json, text/event-stream"
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
_CLK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
CORES = os.cpu_count() or 1


# --- /proc -----------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on


def process_tree(pids: list[int]) -> list[int]:
    """The given processes and all their descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process of the trees rooted at ``pids``."""
    out = {}
    for pid in process_tree(pids):
        fields = _stat(pid)
        if fields is not None:
            out[pid] = (int(fields[11]) + int(fields[12])) / _CLK
    return out


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the trees rooted at ``pids``, in MiB."""
    total = 0
    for pid in process_tree(pids):
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[21]) * _PAGE
    return total / 2**20


def busy_fraction(before: list[int], after: list[int]) -> float:
    """How busy the machine was between two ``/proc/stat`` cpu lines (0..1 of all cores)."""
    total = sum(after) - sum(before)
    idle = (after[3] + after[4]) - (before[3] + before[4])
    return 1 - idle / total if total > 0 else 0.0


def machine_times() -> list[int]:
    """The aggregate cpu line of ``/proc/stat``."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


# --- the echo server -------------------------------------------------------------------------


def echo_server(http_port: int | None) -> None:
    """An ``MCPServer`` with one tool ``echo(text)``, as in the peers' harness."""
    from mcp.server import MCPServer

    mcp = MCPServer("echo")

    @mcp.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    if http_port is None:
        mcp.run()
    else:
        mcp.run("streamable-http", host="127.0.0.1", port=http_port, json_response=True)


# --- the Python load tool --------------------------------------------------------------------


def message_from(content_type: str, body: str, want_id: object) -> dict[str, Any] | None:
    """The JSON-RPC reply with ``want_id`` from a JSON or SSE body."""
    if content_type.startswith("text/event-stream"):
        for block in body.split("\n\n"):
            data = "\n".join(
                line[5:].removeprefix(" ")
                for line in block.splitlines()
                if line.startswith("data:")
            )
            if data:
                try:
                    msg = json.loads(data)
                except ValueError:
                    continue
                if isinstance(msg, dict) and msg.get("id") == want_id:
                    return msg
        return None
    msg = json.loads(body)
    return msg if isinstance(msg, dict) else None


class Worker:
    """One closed-loop client with its own connection and session."""

    def __init__(self, idx: int, url: str, headers: dict[str, str], stats: dict[str, Any]):
        import httpx

        self.idx, self.url, self.stats = idx, url, stats
        self.base = {"Content-Type": "application/json", "Accept": ACCEPT, **headers}
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0),
            limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
        )
        self.sid: str | None = None
        self.version = LEGACY
        self.next_id = 1

    def headers(self) -> dict[str, str]:
        if self.sid is None:
            return self.base
        return {**self.base, "Mcp-Session-Id": self.sid, "MCP-Protocol-Version": self.version}

    async def open_session(self) -> None:
        body = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": LEGACY,
                "capabilities": {},
                "clientInfo": {"name": "mcp-console-bench", "version": "1.0"},
            },
        }
        r = await self.client.post(self.url, content=json.dumps(body), headers=self.headers())
        if r.status_code != 200:
            raise RuntimeError(f"initialize: HTTP {r.status_code} {r.text[:200]}")
        self.sid = r.headers.get("mcp-session-id")
        msg = message_from(r.headers.get("content-type", ""), r.text, 0)
        if not self.sid or not msg or "result" not in msg:
            raise RuntimeError(f"initialize: no session or result: {r.text[:200]}")
        self.version = msg["result"].get("protocolVersion", LEGACY)
        note = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
        r = await self.client.post(self.url, content=note, headers=self.headers())
        if r.status_code not in (200, 202):
            raise RuntimeError(f"notifications/initialized: HTTP {r.status_code}")

    async def call_once(self) -> str | None:
        rid, self.next_id = self.next_id, self.next_id + 1
        text = f"hello-{self.idx}-{rid}"
        body = {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": text}},
        }
        r = await self.client.post(self.url, content=json.dumps(body), headers=self.headers())
        if r.status_code != 200:
            return f"http_{r.status_code}"
        msg = message_from(r.headers.get("content-type", ""), r.text, rid)
        if msg is None:
            return "no_reply"
        if "error" in msg:
            return f"rpc_{msg['error'].get('code')}"
        result = msg.get("result") or {}
        if result.get("isError"):
            return "tool_error"
        try:
            return None if result["content"][0]["text"] == text else "echo_mismatch"
        except (KeyError, IndexError, TypeError):
            return "bad_result"

    async def run(self, t0: float, t1: float) -> None:
        lat, errors = self.stats["lat"], self.stats["errors"]
        while (start := time.perf_counter()) < t1:
            try:
                err = await self.call_once()
            except Exception as exc:
                err = "exc_" + type(exc).__name__
            end = time.perf_counter()
            if t0 <= end <= t1:
                if err:
                    errors[err] += 1
                else:
                    lat.append(end - start)
            if err:
                await asyncio.sleep(0.01)

    async def close(self) -> None:
        if self.sid:
            # The run is over: a failed goodbye changes nothing.
            with contextlib.suppress(Exception):
                await self.client.delete(self.url, headers=self.headers(), timeout=5)
        await self.client.aclose()


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN for no values)."""
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


async def loadgen(args: argparse.Namespace) -> dict[str, Any]:
    """Open K sessions (timed), warm up, measure a window; CPU of the target PIDs over it."""
    headers = dict(h.split(": ", 1) for h in args.header)
    stats: dict[str, Any] = {"lat": [], "errors": Counter()}
    rss_idle = rss_mb(args.pids)
    workers = [Worker(i, args.url, headers, stats) for i in range(args.k)]
    started = time.perf_counter()
    opened = await asyncio.gather(*(w.open_session() for w in workers), return_exceptions=True)
    setup_s = time.perf_counter() - started
    live = [w for w, r in zip(workers, opened, strict=True) if not isinstance(r, BaseException)]
    failures = [repr(r) for r in opened if isinstance(r, BaseException)]
    rss_sessions = rss_mb(args.pids)

    t0 = time.perf_counter() + args.warmup
    t1 = t0 + args.duration
    snap: dict[str, Any] = {}

    async def snapshots() -> None:
        await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
        snap.update(ru0=resource.getrusage(resource.RUSAGE_SELF), cpu0=cpu_seconds(args.pids))
        snap["up0"] = sum(cpu_seconds(args.upstream_pids).values())
        snap.update(m0=machine_times(), w0=time.perf_counter())
        await asyncio.sleep(max(0.0, t1 - time.perf_counter()))
        snap.update(ru1=resource.getrusage(resource.RUSAGE_SELF), cpu1=cpu_seconds(args.pids))
        snap["up1"] = sum(cpu_seconds(args.upstream_pids).values())
        snap.update(m1=machine_times(), w1=time.perf_counter(), rss=rss_mb(args.pids))
        snap["procs"] = len(process_tree(args.pids))

    snapper = asyncio.create_task(snapshots())
    await asyncio.gather(*(w.run(t0, t1) for w in live))
    await snapper
    await asyncio.gather(*(w.close() for w in workers))

    window = snap["w1"] - snap["w0"]
    lat = sorted(stats["lat"])
    ru0, ru1 = snap["ru0"], snap["ru1"]
    own = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    main = sum(snap["cpu1"].get(p, 0.0) - snap["cpu0"].get(p, 0.0) for p in args.pids)
    tree = sum(v - snap["cpu0"].get(p, 0.0) for p, v in snap["cpu1"].items())
    return {
        "k": args.k,
        "sessions_ok": len(live),
        "setup_s": setup_s,
        "setup_failures": failures[:3],
        "ok": len(lat),
        "rps": len(lat) / args.duration,
        "p50_ms": percentile(lat, 0.50) * 1e3,
        "p99_ms": percentile(lat, 0.99) * 1e3,
        "errors": sum(stats["errors"].values()),
        "error_kinds": dict(stats["errors"]),
        "tool_cpu_pct": 100 * own / window,
        "main_cpu_s": main,
        "children_cpu_s": tree - main,
        "upstream_cpu_s": snap["up1"] - snap["up0"] if args.upstream_pids else None,
        "window_s": window,
        "busy_pct": CORES * 100 * busy_fraction(snap["m0"], snap["m1"]),
        "rss_idle_mb": rss_idle,
        "rss_sessions_mb": rss_sessions,
        "rss_end_mb": snap["rss"],
        "procs": snap["procs"],
    }


async def setup_times(args: argparse.Namespace) -> dict[str, Any]:
    """Open and close ``--sessions`` sessions one after another, timing each opening.

    A session is ready when ``initialize`` has been answered and ``notifications/initialized``
    accepted. Between two, ``--pause`` seconds let a warm pool refill, so each one measures
    what a client arriving at a quiet server waits for.
    """
    headers = dict(h.split(": ", 1) for h in args.header)
    stats: dict[str, Any] = {"lat": [], "errors": Counter()}
    times: list[float] = []
    failures: list[str] = []
    worker = Worker(0, args.url, headers, stats)
    # One call first, so the key is verified and the connection open before timing starts.
    await worker.open_session()
    await worker.close()
    for index in range(args.sessions):
        await asyncio.sleep(args.pause)
        worker = Worker(index + 1, args.url, headers, stats)
        started = time.perf_counter()
        try:
            await worker.open_session()
            times.append(time.perf_counter() - started)
            error = await worker.call_once()
            if error:
                failures.append(error)
        except Exception as exc:
            failures.append(repr(exc))
        await worker.close()
    ordered = sorted(times)
    return {
        "sessions": len(times),
        "setup_p50_ms": percentile(ordered, 0.50) * 1e3,
        "setup_p95_ms": percentile(ordered, 0.95) * 1e3,
        "setup_max_ms": (ordered[-1] if ordered else float("nan")) * 1e3,
        "failures": failures[:3],
    }


# --- wrk -------------------------------------------------------------------------------------

_WRK_SCRIPT = r"""
local headers = HEADERS
local template = TEMPLATE
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args) errors = 0; n = 0 end
function request()
  n = n + 1
  return wrk.format("POST", nil, headers, string.format(template, tid, n, tid, n))
end
function response(status, hdrs, body)
  if status ~= 200 or not string.find(body, '"text":"hello-', 1, true)
     or string.find(body, '"isError":true', 1, true) then
    errors = errors + 1
  end
end
function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + t:get("errors") end
  local s = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"errors":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"status":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e, s.connect, s.read, s.write, s.timeout, s.status,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def wrk_script(era: str, headers: dict[str, str]) -> str:
    """A wrk script posting ``tools/call echo`` with distinct ids and texts, checking replies."""
    params: dict[str, Any] = {"name": "echo", "arguments": {"text": "hello-%d-%d"}}
    all_headers = {"Content-Type": "application/json", "Accept": ACCEPT, **headers}
    if era == "modern":
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        all_headers.update({"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call"})
        all_headers["Mcp-Name"] = "echo"
    body = json.dumps({"jsonrpc": "2.0", "id": "%d-%d", "method": "tools/call", "params": params})
    lua_headers = (
        "{"
        + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in all_headers.items())
        + "}"
    )
    return _WRK_SCRIPT.replace("HEADERS", lua_headers).replace("TEMPLATE", _lua_string(body))


def run_wrk(
    url: str, connections: int, duration: float, era: str, headers: dict[str, str]
) -> dict[str, Any]:
    """One wrk run (one thread, ``connections`` keep-alive connections); its figures."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(wrk_script(era, headers))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(duration))}s",
                "--timeout",
                "10s",
                "-s",
                f.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
        )
    finally:
        os.unlink(f.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            result: dict[str, Any] = json.loads(line[8:])
            result["tool_cpu_s"] = (after.ru_utime - before.ru_utime) + (
                after.ru_stime - before.ru_stime
            )
            return result
    raise RuntimeError(f"wrk gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")


# --- entry -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="part", required=True)
    echo = sub.add_parser("echo")
    echo.add_argument("--http", type=int, metavar="PORT")
    load = sub.add_parser("loadgen")
    load.add_argument("--url", required=True)
    load.add_argument("--k", type=int, default=8)
    load.add_argument("--duration", type=float, default=10.0)
    load.add_argument("--warmup", type=float, default=2.0)
    load.add_argument("--pids", type=int, nargs="*", default=[], help="the target's own")
    load.add_argument("--upstream-pids", type=int, nargs="*", default=[])
    load.add_argument("--header", action="append", default=[], help="'Name: value'")
    setup = sub.add_parser("setup")
    setup.add_argument("--url", required=True)
    setup.add_argument("--sessions", type=int, default=20)
    setup.add_argument("--pause", type=float, default=2.0)
    setup.add_argument("--header", action="append", default=[], help="'Name: value'")
    args = parser.parse_args()
    if args.part == "echo":
        echo_server(args.http)
    else:
        run = loadgen if args.part == "loadgen" else setup_times
        print(json.dumps(asyncio.run(run(args))), flush=True)
        sys.exit(0)


if __name__ == "__main__":
    main()
