"""Deployment overheads: first call after a deploy, a reconcile pass, memory per instance.

1. Deploy to the first successful ``tools/call``: our example server's image deployed through
   the DeploymentService (controller running, as in the daemon) and called over the
   instance's stdio channel, against a plain ``docker run -i --rm`` of the same image plus the
   same first call from the SDK client. Target: at most 1.0 s of overhead (medians).
2. One reconcile pass over N unchanged deployments (default 200), each one healthy local
   process (a minimal legacy-era MCP server, so 200 of them fit on a laptop).
   Target: at most 200 ms (median).
3. The backend's resident memory per managed instance (RSS growth over those N instances).
4. Image pulls from a registry on loopback, cold (see ``deploy_pull``): the console's pull
   against ``docker pull``, and deploy → first call with the pull against ``docker pull`` +
   ``docker run``. Targets: pull ≤ 1.1 times the engine's own; ≤ 1.0 s of overhead.
5. npm servers (see ``deploy_npm``): install cold and cached against npm's own, process
   deploy → first call against ``npx -y`` (cold and cached), the image of an install against
   ``docker build`` and deploy → first call against ``docker run``. Targets there.

    python benchmarks/deploy.py                       # everything (Docker needed for part 1)
    python benchmarks/deploy.py --runs 3 --deployments 50
    python benchmarks/deploy.py --skip-docker          # parts 2 and 3 only
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters, stdio_client

from mcp_console import __version__
from mcp_console.backend.runtime import Runtime
from mcp_console.backend.stdio.sdk_transport import stdio_transport
from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, InstanceView, RuntimeChoice
from mcp_console.schemas.users import Principal
from mcp_console.settings import DeploySettings, ImageSettings, Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_npm import bench_npm
from deploy_pull import bench_pull

FIRST_CALL_TARGET_S = 1.0
RECONCILE_TARGET_MS = 200.0
EXAMPLE_IMAGE = f"mcp-console/example-server:{__version__}"
BASE_IMAGE = ImageSettings().base_image
SETTLE_TIMEOUT = 300.0

# The smallest honest stdio MCP server: the legacy handshake, tools/list and ping.
TINY_SERVER = """
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg:
        continue
    method = msg.get("method")
    if method == "initialize":
        version = msg.get("params", {}).get("protocolVersion", "2025-06-18")
        result = {"protocolVersion": version, "capabilities": {"tools": {}},
                  "serverInfo": {"name": "tiny", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": []}
    elif method == "ping":
        result = {}
    else:
        answer = {"jsonrpc": "2.0", "id": msg["id"],
                  "error": {"code": -32601, "message": "Method not found"}}
        print(json.dumps(answer), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}), flush=True)
"""


def rss_kib() -> int:
    """This process's resident set size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


@asynccontextmanager
async def backend(
    data_dir: Path, runtime: str, **deploy: Any
) -> AsyncIterator[tuple[Runtime, Principal]]:
    """A backend with its controller running, as the daemon runs it."""
    scope = "bench-" + uuid.uuid4().hex[:8]
    settings = Settings(
        data_dir=data_dir, runtime=runtime, deploy=DeploySettings(scope=scope, **deploy)
    )
    async with Runtime(settings, background=True) as rt:
        admin = rt.local_admin
        assert admin is not None
        yield rt, admin


def pull_backend(data_dir: Path) -> AbstractAsyncContextManager[tuple[Runtime, Principal]]:
    """The backend of part 4: Docker, health checks often enough to see the first one."""
    return backend(data_dir, "docker", health_interval=5.0)


async def until(check: Callable[[], Awaitable[Any]], timeout: float = SETTLE_TIMEOUT) -> Any:  # noqa: ASYNC109
    """Poll ``check`` every 10 ms until it returns something true."""
    with anyio.fail_after(timeout):
        while not (value := await check()):  # noqa: ASYNC110 (state in the database)
            await asyncio.sleep(0.01)
    return value


async def first_call(client_target: Any) -> None:
    """Open an SDK session and call ``add`` once (raises if it fails)."""
    async with Client(client_target) as client:
        result = await client.call_tool("add", {"a": 1, "b": 2})
    if result.is_error or result.structured_content != {"result": 3}:
        raise RuntimeError(f"unexpected answer: {result}")


async def plain_docker_run(docker: str) -> float:
    params = StdioServerParameters(
        command=docker, args=["run", "-i", "--rm", "--network", "none", EXAMPLE_IMAGE]
    )
    # /dev/null never blocks; the server's log line is noise here.
    with open(os.devnull, "w") as quiet:  # noqa: ASYNC230
        started = time.perf_counter()
        await first_call(stdio_client(params, errlog=quiet))
        return time.perf_counter() - started


async def deployed(rt: Runtime, admin: Principal, name: str, service: str = "example") -> float:
    started = time.perf_counter()
    await rt.deployments.create(
        admin, DeploymentCreate(service=service, name=name, runtime=RuntimeChoice.DOCKER)
    )

    async def instance() -> InstanceView | None:
        detail = await rt.deployments.get(admin, name)
        return next((i for i in detail.instances if i.ref and i.driver), None)

    found: InstanceView = await until(instance)
    assert found.driver is not None
    assert found.ref is not None
    while True:
        try:
            async with rt.controller.stdio(found.driver, found.ref) as channel:
                await first_call(stdio_transport(channel))
            break
        except Exception:
            await asyncio.sleep(0.02)  # still starting
    return time.perf_counter() - started


async def bench_first_call(runs: int) -> bool:
    docker = shutil.which("docker") or "docker"
    print(f"\n1. deploy → first successful tools/call ({runs} runs each, {EXAMPLE_IMAGE}, stdio)")
    with tempfile.TemporaryDirectory(prefix="mcp-console-bench-") as tmp:
        async with backend(Path(tmp), "docker", health_interval=5.0) as (rt, admin):
            await rt.catalog.register(admin, ServiceCreate(name="example", description="bench"))
            await rt.catalog.add_version(
                admin, "example", VersionCreate(version="1.0.0", docker_image=EXAMPLE_IMAGE)
            )
            await rt.catalog.publish(admin, "example")
            await plain_docker_run(docker)  # warm the engine's caches for both sides
            plain: list[float] = []
            ours: list[float] = []
            for run in range(runs):
                plain.append(await plain_docker_run(docker))
                ours.append(await deployed(rt, admin, f"bench-{run}"))
                await rt.deployments.delete(admin, f"bench-{run}")
    p, o = statistics.median(plain), statistics.median(ours)
    print(f"   plain docker run + call : median {p * 1000:7.0f} ms  (runs: {_ms(plain)})")
    print(f"   mcp-console deploy + call: median {o * 1000:7.0f} ms  (runs: {_ms(ours)})")
    ok = o - p <= FIRST_CALL_TARGET_S
    print(
        f"   overhead {(o - p) * 1000:.0f} ms; target ≤ {FIRST_CALL_TARGET_S * 1000:.0f} ms: "
        f"{verdict(ok)}"
    )
    return ok


async def bench_reconcile(count: int, passes: int, runtime: str) -> bool:
    kind = "containers of the example image" if runtime == "docker" else "local processes"
    print(f"\n2. reconcile pass over {count} unchanged deployments ({kind})")
    print("3. backend memory per managed instance")
    with tempfile.TemporaryDirectory(prefix="mcp-console-bench-") as tmp:
        server = Path(tmp) / "tiny_server.py"
        server.write_text(TINY_SERVER)
        async with backend(
            Path(tmp) / "data", runtime, health_interval=30.0, reconcile_interval=3600.0
        ) as (rt, admin):
            await rt.catalog.register(admin, ServiceCreate(name="tiny", description="bench"))
            command = [sys.executable, "-S", "-u", str(server)]
            version = (
                VersionCreate(version="1.0.0", docker_image=EXAMPLE_IMAGE)
                if runtime == "docker"
                else VersionCreate(version="1.0.0", command=command)
            )
            await rt.catalog.add_version(admin, "tiny", version)
            await rt.catalog.publish(admin, "tiny")
            gc.collect()
            before = rss_kib()
            for index in range(count):
                new = DeploymentCreate(
                    service="tiny", name=f"d{index}", runtime=RuntimeChoice(runtime)
                )
                await rt.deployments.create(admin, new)

            async def all_running() -> bool:
                items = await rt.deployments.list_deployments(admin)
                return all(d.status == "RUNNING" and d.ready_replicas == 1 for d in items)

            await until(all_running)
            gc.collect()
            after = rss_kib()
            times: list[float] = []
            busy: list[int] = []
            for _ in range(passes):
                started = time.perf_counter()
                busy.append(await rt.controller.reconcile_all())
                times.append(time.perf_counter() - started)
            for index in range(count):
                await rt.deployments.delete(admin, f"d{index}")
    median = statistics.median(times) * 1000
    ok = median <= RECONCILE_TARGET_MS
    print(
        f"   {passes} passes: median {median:.1f} ms, max {max(times) * 1000:.1f} ms; "
        f"deployments needing work: {max(busy)}; target ≤ {RECONCILE_TARGET_MS:.0f} ms: "
        f"{verdict(ok)}"
    )
    per = (after - before) / count
    print(
        f"   backend RSS {before / 1024:.1f} MiB → {after / 1024:.1f} MiB with {count} "
        f"instances: {per:.0f} KiB per managed instance"
    )
    return ok


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1000:.0f}" for v in values)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="deploys per side in part 1")
    parser.add_argument("--deployments", type=int, default=200, help="deployments in part 2")
    parser.add_argument("--passes", type=int, default=20, help="reconcile passes to time")
    parser.add_argument("--skip-docker", action="store_true", help="skip parts 1 and 4")
    parser.add_argument("--skip-pull", action="store_true", help="skip part 4")
    parser.add_argument("--skip-npm", action="store_true", help="skip part 5")
    parser.add_argument(
        "--reconcile-runtime",
        choices=["process", "docker"],
        default="process",
        help="what the reconciled instances are (docker: example-image containers)",
    )
    args = parser.parse_args()
    results = []
    if not args.skip_docker:
        results.append(await bench_first_call(args.runs))
    results.append(await bench_reconcile(args.deployments, args.passes, args.reconcile_runtime))
    if not (args.skip_docker or args.skip_pull):
        results.append(
            await bench_pull(
                args.runs, EXAMPLE_IMAGE, BASE_IMAGE, pull_backend, deployed, first_call
            )
        )
    if not args.skip_npm:
        results.append(await bench_npm(args.runs, docker=not args.skip_docker))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
