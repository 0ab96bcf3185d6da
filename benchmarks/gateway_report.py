"""The gateway benchmark's tables, and its targets checked against the figures measured."""

from __future__ import annotations

import math
from typing import Any

OURS = ("gw-http", "gw-stdio", "gw-stdio-session")
PEERS = ("mcp-proxy", "supergateway")
# Like against like: one shared child (mcp-proxy), a child per session (supergateway --stateful).
PAIRS = (("gw-stdio", "mcp-proxy"), ("gw-stdio-session", "supergateway"))
# What gives each session a process of its own.
PER_SESSION = ("gw-stdio-session", "supergateway")
MAX_WARM_SETUP_P95_MS = 50.0
MAX_GATEWAY_CPU_MS = 0.4
MIN_STDIO_OVER_PEER = 2.0
MIN_HTTP_OVER_DIRECT = 0.6
MAX_ADDED_P50_MS = 1.0
MAX_SETUP_32_S = 0.2
FLAT_MEMORY_MB = 10.0
OTHERS_WARN_PCT = 20.0

Row = dict[str, Any]


def cpu_cell(r: Row) -> str:
    """CPU-ms per call: the target's own process, then its stdio child or its upstream."""
    text = _fmt(r["own_ms"])
    if r.get("child_ms", 0) > 0.005:
        text += f" + {r['child_ms']:.2f} child"
    if r.get("upstream_ms") is not None:
        text += f" + {r['upstream_ms']:.2f} upstream"
    return text


def _fmt(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def python_table(rows: list[Row]) -> str:
    """The Python load tool's runs, one line each."""
    lines = [
        "| target | K | req/s | p50 ms | p99 ms | errors | CPU-ms/call | RSS MB idle → K sessions"
        " | setup s | load tool CPU % | machine busy % | others % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['target']} | {r['k']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['errors']} | {cpu_cell(r)} | "
            f"{r['rss_idle_mb']:.0f} → {r['rss_sessions_mb']:.0f} | {r['setup_s']:.3f} | "
            f"{r['tool_cpu_pct']:.0f} | {r['busy_pct']:.0f} | {others_pct(r):.0f} |"
        )
    return "\n".join(lines)


def wrk_table(rows: list[Row]) -> str:
    """The wrk runs, one line each."""
    lines = [
        "| target | era | K | req/s | p50 ms | p99 ms | errors | CPU-ms/call | RSS MB"
        " | wrk CPU % | machine busy % | others % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['target']} | {r['era']} | {r['k']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['errors']} | {cpu_cell(r)} | {r['rss_end_mb']:.0f} | "
            f"{r['tool_cpu_pct']:.0f} | {r['busy_pct']:.0f} | {others_pct(r):.0f} |"
        )
    return "\n".join(lines)


def others_pct(r: Row) -> float:
    """CPU % the machine spent on processes outside the run (100 % is one core)."""
    target = (r["own_ms"] + r.get("child_ms", 0) + (r.get("upstream_ms") or 0)) * r["rps"] / 10
    return max(0.0, float(r["busy_pct"] - target - r["tool_cpu_pct"]))


def contention_note(rows: list[Row]) -> str | None:
    """A warning when other processes took a real share of the machine during the runs."""
    shares = sorted(others_pct(r) for r in rows)
    if not shares or shares[len(shares) // 2] < OTHERS_WARN_PCT:
        return None
    return (
        f"WARNING: other processes used {shares[len(shares) // 2]:.0f}% CPU (median; 100% = one "
        "core) during the runs: throughput and latency are understated; CPU-ms/call holds best."
    )


def mean(rows: list[Row], key: str, **match: Any) -> float | None:
    """The mean of ``key`` over the rows matching every ``match`` (None when there is none)."""
    values = [r[key] for r in rows if all(r.get(k) == v for k, v in match.items())]
    return sum(values) / len(values) if values else None


class _Checks:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, ok: bool, text: str) -> None:
        self.lines.append(f"[{'PASS' if ok else 'FAIL'}] {text}")


def checks(py: list[Row], wrk: list[Row], ks: list[int]) -> list[str]:
    """Each of the gateway's targets, the figures it is judged on, and whether it holds."""
    out = _Checks()
    passes: tuple[tuple[str, list[Row], dict[str, Any]], ...] = (
        ("python", py, {}),
        ("wrk modern", wrk, {"era": "modern"}),
        ("wrk legacy", wrk, {"era": "legacy"}),
    )
    for tool, rows, era in passes:
        for k in ks:
            _per_k(out, f"{tool} K={k}", rows, {"k": k, **era})
    for gw in ("gw-http", "gw-stdio"):
        _sessions(out, gw, py, ks)
    return out.lines


def setup_table(rows: list[Row]) -> str:
    """Session setup one at a time on a quiet target: ready after initialize + initialized."""
    lines = [
        "| target | sessions | setup p50 ms | p95 ms | max ms | failures |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['target']} | {r['sessions']} | {r['setup_p50_ms']:.1f} | "
            f"{r['setup_p95_ms']:.1f} | {r['setup_max_ms']:.1f} | {len(r['failures'])} |"
        )
    return "\n".join(lines)


def memory_per_session(py: list[Row]) -> list[str]:
    """Memory each session costs where it gets a process of its own, ours beside the peer's:
    the target's whole process tree with K sessions open less the same tree idle, over K."""
    lines = []
    for k in sorted({r["k"] for r in py}):
        cells = []
        for name in PER_SESSION:
            idle = mean(py, "rss_idle_mb", target=name, k=k)
            loaded = mean(py, "rss_end_mb", target=name, k=k)
            if idle is not None and loaded is not None:
                cells.append(f"{name} {(loaded - idle) / k:.1f} MB")
        if cells:
            lines.append(f"K={k}: " + ", ".join(cells))
    return lines


def setup_checks(rows: list[Row]) -> list[str]:
    """The warm pool's target: a new session ready within 50 ms, p95."""
    out = _Checks()
    p95 = mean(rows, "setup_p95_ms", target="gw-stdio-session")
    if p95 is not None:
        peer = mean(rows, "setup_p95_ms", target="supergateway")
        beside = f"; supergateway {peer:.1f} ms" if peer is not None else ""
        out.add(
            p95 <= MAX_WARM_SETUP_P95_MS,
            f"gw-stdio-session: a new session from a warm instance ready in {p95:.1f} ms p95 "
            f"(target <= {MAX_WARM_SETUP_P95_MS:.0f} ms{beside})",
        )
    return out.lines


def _per_k(out: _Checks, label: str, rows: list[Row], match: dict[str, Any]) -> None:
    for gw in OURS:
        cpu = mean(rows, "own_ms", target=gw, **match)
        if cpu is not None:
            out.add(
                cpu <= MAX_GATEWAY_CPU_MS,
                f"{label} {gw}: gateway process {cpu:.3f} CPU-ms/call "
                f"(target <= {MAX_GATEWAY_CPU_MS})",
            )
    for ours, peer in PAIRS:
        stdio = mean(rows, "rps", target=ours, **match)
        other = mean(rows, "rps", target=peer, **match)
        if stdio is not None and other:
            ratio = stdio / other
            out.add(
                ratio >= MIN_STDIO_OVER_PEER,
                f"{label} {ours} {stdio:.0f} req/s = {ratio:.2f} x {peer} ({other:.0f}) "
                f"(target >= {MIN_STDIO_OVER_PEER} x)",
            )
    direct = mean(rows, "rps", target="direct", **match)
    http = mean(rows, "rps", target="gw-http", **match)
    if direct and http is not None:
        out.add(
            http / direct >= MIN_HTTP_OVER_DIRECT,
            f"{label} HTTP path {http:.0f} req/s = {100 * http / direct:.0f}% of direct "
            f"({direct:.0f}) (target >= {100 * MIN_HTTP_OVER_DIRECT:.0f}%)",
        )
    if match["k"] == 8:
        d50 = mean(rows, "p50_ms", target="direct", **match)
        g50 = mean(rows, "p50_ms", target="gw-http", **match)
        if d50 is not None and g50 is not None:
            out.add(
                g50 - d50 <= MAX_ADDED_P50_MS,
                f"{label} added p50 {g50 - d50:+.2f} ms (gw-http {g50:.2f} vs direct "
                f"{d50:.2f}; target <= {MAX_ADDED_P50_MS} ms)",
            )


def _sessions(out: _Checks, gw: str, py: list[Row], ks: list[int]) -> None:
    setup = mean(py, "setup_s", target=gw, k=32)
    if setup is not None:
        out.add(
            setup <= MAX_SETUP_32_S,
            f"python K=32 {gw}: 32 sessions set up in {setup:.3f} s (target <= {MAX_SETUP_32_S} s)",
        )
    shown, growth = [], []
    for k in ks:
        idle = mean(py, "rss_idle_mb", target=gw, k=k)
        opened = mean(py, "rss_sessions_mb", target=gw, k=k)
        if idle is not None and opened is not None:
            shown.append(f"K={k}: {idle:.0f} -> {opened:.0f} MB")
            growth.append(opened - idle)
    if growth:
        out.add(
            max(growth) <= FLAT_MEMORY_MB,
            f"python {gw}: gateway memory as sessions open, {', '.join(shown)} "
            f"(flat: grows <= {FLAT_MEMORY_MB:.0f} MB)",
        )
