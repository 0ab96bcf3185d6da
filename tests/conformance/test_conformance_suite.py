"""Every scenario of the official conformance suite that passes against its reference server
directly passes through the gateway too, the server deployed as a command serving HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import ServiceCreate, Transport, VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.settings import Settings
from tests.deploy.catalogs import all_healthy, wait_for
from tests.deploy.running.conftest import fast_deploy_settings

from .conftest import Scenario, Toolchain, read_results
from .key_proxy import KeyProxy, serving

pytestmark = pytest.mark.conformance

# The suite runs its 30 scenarios in seconds; a hung one must fail the test, not hold it.
SUITE_TIMEOUT = 180.0
SERVER_READY_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _run_suite(chain: Toolchain, url: str, output: Path) -> dict[str, Scenario]:
    """Run the default (active) server suite against ``url``; each scenario's checks."""
    output.mkdir(parents=True)
    process = await asyncio.create_subprocess_exec(
        str(chain.node),
        str(chain.suite),
        "server",
        "--url",
        url,
        "--output-dir",
        str(output),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=output,
    )
    try:
        async with asyncio.timeout(SUITE_TIMEOUT):
            log, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    (output / "suite.log").write_bytes(log)
    results = read_results(output)
    assert results, f"the suite ran no scenario against {url}:\n{log.decode()[-3000:]}"
    return results


async def _wait_until_serving(url: str) -> None:
    async with asyncio.timeout(SERVER_READY_TIMEOUT):
        while True:
            try:
                async with Client(url) as client:
                    await client.list_tools()
                    return
            except Exception:
                await asyncio.sleep(0.2)


def _report(direct: dict[str, Scenario], through: dict[str, Scenario]) -> str:
    width = max(map(len, direct | through))
    lines = [f"{'SCENARIO':<{width}}  {'DIRECT':>7}  {'GATEWAY':>7}"]

    def cell(result: Scenario | None) -> str:
        if result is None:
            return "absent"
        mark = "ok" if result.ok else "FAIL"
        return f"{result.passed}/{result.passed + result.failed} {mark}"

    for name in sorted(direct | through):
        lines.append(f"{name:<{width}}  {cell(direct.get(name)):>7}  {cell(through.get(name)):>7}")
    for label, results in (("directly", direct), ("through the gateway", through)):
        checks = sum(r.passed for r in results.values())
        total = checks + sum(r.failed for r in results.values())
        scenarios = sum(r.ok for r in results.values())
        lines.append(
            f"{label}: {scenarios}/{len(results)} scenarios passed, {checks}/{total} checks"
        )
    return "\n".join(lines)


async def test_the_suite_passes_through_the_gateway_as_it_does_directly(
    toolchain: Toolchain,
    tmp_path: Path,
    sqlite_url: str,
    record_property: Callable[[str, object], None],
) -> None:
    # Directly: the reference server as its authors run it.
    port = _free_port()
    server = await asyncio.create_subprocess_exec(
        *toolchain.server_command,
        env={**os.environ, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_until_serving(f"http://127.0.0.1:{port}/mcp")
        direct = await _run_suite(toolchain, f"http://127.0.0.1:{port}/mcp", tmp_path / "direct")
    finally:
        server.terminate()
        await server.wait()

    # Through the gateway: the same server published as a command serving HTTP on $PORT,
    # deployed on the process runtime; the suite sends no key, so a proxy adds one.
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        gateway_port=0,
        runtime="process",
        deploy=fast_deploy_settings("conformance"),
    )
    async with Runtime(settings, migrate=False, background=True) as runtime:
        admin = runtime.local_admin
        assert admin is not None
        await runtime.catalog.register(
            admin, ServiceCreate(name="conformance", description="the suite's reference server")
        )
        await runtime.catalog.add_version(
            admin,
            "conformance",
            VersionCreate(
                version="1.0.0",
                command=toolchain.server_command,
                transport=Transport.STREAMABLE_HTTP,
            ),
        )
        await runtime.catalog.publish(admin, "conformance")
        await runtime.deployments.create(
            admin,
            DeploymentCreate(
                service="conformance", name="conformance", runtime=RuntimeChoice.PROCESS
            ),
        )
        detail = await wait_for(runtime, admin, "conformance", all_healthy)
        assert detail.endpoint_url is not None
        gateway_url = runtime.gateway_url
        assert gateway_url is not None
        path = detail.endpoint_url.removeprefix(gateway_url)
        key = await runtime.users.create_key(admin, admin.name, label="conformance")
        async with serving(KeyProxy(gateway_url, key)) as proxy:
            through = await _run_suite(toolchain, proxy + path, tmp_path / "gateway")

    report = _report(direct, through)
    record_property("summary", f"MCP conformance suite\n{report}")
    print(report)
    assert any(result.ok for result in direct.values()), report
    lost = [name for name, ok in direct.items() if ok.ok and not through.get(name, _NONE).ok]
    assert not lost, f"pass directly but not through the gateway: {', '.join(lost)}\n{report}"


_NONE = Scenario(passed=0, failed=0)
