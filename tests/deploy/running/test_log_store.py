"""Instances' lines and the gateway's access log land in the log store, masked, and are
still searchable after the backend restarts."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import anyio

from mcp_console.backend.daemon import DaemonFiles, running_pid
from mcp_console.backend.monitor.log_store import FILE_NAME
from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.logs import LogLevel, LogLine, LogQuery, LogStream
from mcp_console.schemas.users import Principal
from mcp_console.settings import Settings
from tests.cli.commands import Cli

from ..catalogs import (
    SECRET_SCHEMA,
    SETTLE_TIMEOUT,
    all_healthy,
    call_through_gateway,
    image_version,
    publish,
    shell_version,
    wait_for,
)

TOKEN = "t0ken-of-the-log-5a9c2e"
SCRIPT = "\n".join(
    [
        'echo "INFO starting, token $API_TOKEN" >&2',
        'echo "WARN disk almost full" >&2',
        'echo "ERROR upstream timeout after 5000ms" >&2',
        """echo '{"level": "error", "msg": "json says it failed"}' >&2""",
    ]
)


async def _lines(runtime: Runtime, actor: Principal, query: LogQuery, count: int) -> list[LogLine]:
    """Search until at least ``count`` lines match (the collector writes every half second)."""
    found = await runtime.logs.search(actor, query)
    with anyio.fail_after(SETTLE_TIMEOUT):
        while len(found) < count:
            await anyio.sleep(0.2)
            found = await runtime.logs.search(actor, query)
    return found


async def test_lines_and_access_log_are_kept_masked_across_a_restart(
    live_settings: Settings,
) -> None:
    async with Runtime(live_settings, migrate=False, background=True) as live:
        leaky = shell_version("1.0.0", SCRIPT, schema=SECRET_SCHEMA)
        admin = await publish(live, "svc", leaky)
        await live.deployments.create(
            admin,
            DeploymentCreate(
                service="svc",
                name="svc",
                secrets={"api_token": TOKEN},
                runtime=RuntimeChoice.PROCESS,
            ),
        )
        detail = await wait_for(live, admin, "svc", all_healthy)
        instance = detail.instances[0]
        await call_through_gateway(live, instance, "echo", {"text": "hello"})
        [access] = await _lines(live, admin, LogQuery(deployment="svc", text="tool=echo"), 1)
        assert access.stream is LogStream.ACCESS
        assert access.instance == instance.name
        assert "tools/call" in access.text
        assert "status=200" in access.text
        assert f"user={admin.name}" in access.text
        await _lines(live, admin, LogQuery(deployment="svc", text="json says"), 1)

    # A new backend on the same data dir: nothing runs, the lines are still there.
    async with Runtime(live_settings, migrate=False) as again:
        assert again.local_admin is not None
        admin = again.local_admin
        severe = await again.logs.search(admin, LogQuery(deployment="svc", level="warn"))
        texts = [line.text for line in severe]
        assert "ERROR upstream timeout after 5000ms" in texts
        assert "WARN disk almost full" in texts
        assert any("json says it failed" in text for text in texts)
        assert all(line.level in (LogLevel.WARN, LogLevel.ERROR) for line in severe)
        # Newest first.
        assert [line.id for line in severe] == sorted((line.id for line in severe), reverse=True)

        # Each start of the instance wrote it (the health probe's session may start one too).
        starts = await again.logs.search(admin, LogQuery(deployment="svc", text="starting"))
        assert starts
        assert {line.text for line in starts} == {f"INFO starting, token {MASK}"}
        assert {line.stream for line in starts} == {LogStream.STDERR}
        assert instance.name in {line.instance for line in starts}

    stored = b"".join(path.read_bytes() for path in _store_files(live_settings.data_dir))
    assert b"json says it failed" in stored  # the file is the store
    assert TOKEN.encode() not in stored


def _store_files(data_dir: Path) -> list[Path]:
    return list(data_dir.glob(FILE_NAME + "*"))


async def test_lines_stored_before_a_kill_9_of_the_daemon_are_searchable_after(
    cli: Cli, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    async with Runtime(Settings(data_dir=data_dir)) as runtime:
        script = 'echo "WARN written before the kill" >&2'
        await publish(runtime, "svc", shell_version("1.0.0", script))
    cli("deploy", "create", "svc@1.0.0", "--name", "web", "--runtime", "process")
    files = DaemonFiles(data_dir)
    pid = running_pid(files)
    assert pid is not None
    with anyio.fail_after(SETTLE_TIMEOUT):
        while not cli.json("logs", "search", "before the kill"):
            await anyio.sleep(0.3)

    os.kill(pid, signal.SIGKILL)  # no clean-up of any kind: nothing is flushed or closed
    with anyio.fail_after(SETTLE_TIMEOUT):
        while running_pid(files) is not None:
            await anyio.sleep(0.1)

    # No daemon now: the command opens the store itself, as a restarted backend does.
    found = cli.json("logs", "search", "-d", "web", "before the kill")
    assert found
    assert {line["text"] for line in found} == {"WARN written before the kill"}
    assert {line["level"] for line in found} == {"warn"}


async def test_docker_containers_output_is_kept_stdio_and_http(
    live_docker: Runtime, example_image: str
) -> None:
    admin = await publish(
        live_docker,
        "svc",
        image_version(example_image, "1.0.0"),
        image_version(example_image, "2.0.0", http=True),
    )
    for name, version in (("piped", "1.0.0"), ("served", "2.0.0")):
        await live_docker.deployments.create(
            admin,
            DeploymentCreate(
                service="svc", version=version, name=name, runtime=RuntimeChoice.DOCKER
            ),
        )
    for name in ("piped", "served"):
        await wait_for(live_docker, admin, name, all_healthy)

    # Every start of an instance says it (a warm session instance may start too).
    piped = await _lines(live_docker, admin, LogQuery(deployment="piped", text="serving"), 1)
    served = await _lines(live_docker, admin, LogQuery(deployment="served", text="serving"), 1)
    assert all("serving stdio" in line.text for line in piped)
    assert all("serving http" in line.text for line in served)
    assert {line.stream for line in piped + served} == {LogStream.STDERR}


async def test_an_http_container_adopted_after_a_restart_is_read_again(
    docker_scope: str, live_settings: Settings, example_image: str
) -> None:
    settings = live_settings.model_copy(update={"runtime": "docker"})
    async with Runtime(settings, migrate=False, background=True) as first:
        admin = await publish(first, "svc", image_version(example_image, "1.0.0", http=True))
        await first.deployments.create(
            admin, DeploymentCreate(service="svc", name="served", runtime=RuntimeChoice.DOCKER)
        )
        before = await wait_for(first, admin, "served", all_healthy)
    restarted = datetime.now(UTC).isoformat()

    async with Runtime(settings, migrate=False, background=True) as again:
        assert again.local_admin is not None
        admin = again.local_admin
        after = await wait_for(again, admin, "served", all_healthy)
        # The same container, taken over; the health probes' requests are in its access log.
        assert [i.ref for i in after.instances] == [i.ref for i in before.instances]
        query = LogQuery(deployment="served", text="/mcp HTTP", since=restarted)
        lines = await _lines(again, admin, query, 1)
    assert {line.instance for line in lines} == {after.instances[0].name}
