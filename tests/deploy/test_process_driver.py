"""ProcessManager against real subprocesses: the example server, a PyPI package, stop escalation."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from pathlib import Path

import pytest
from mcp import Client

from mcp_console.backend.deploy.drivers.base import InstanceSpec, PackageSource, RuntimeDriver
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.stdio.sdk_transport import stdio_transport
from mcp_console.schemas.errors import Conflict, Invalid, NotFound

from .helpers import EXAMPLE_COMMAND, TIME_SERVER, new_id, next_event, wait_until_ready


def example_spec(transport: str = "stdio", *args: str) -> InstanceSpec:
    extra = ("--transport", "http", "--port", "{port}") if transport != "stdio" else ()
    return InstanceSpec(
        deployment_id=f"dep-{new_id()}",
        instance_id="i1",
        version="v1",
        transport="streamable-http" if transport != "stdio" else "stdio",
        command=EXAMPLE_COMMAND,
        args=(*extra, *args),
    )


async def test_stdio_example_answers_over_pipes_and_exits_cleanly_on_stop(
    process_manager: ProcessManager,
) -> None:
    driver: RuntimeDriver = process_manager  # checked statically by mypy, at runtime below
    assert isinstance(driver, RuntimeDriver)
    spec = example_spec()
    handle = await driver.start(spec)
    assert handle.driver == "process"
    assert handle.port is None

    channel = await process_manager.open_stdio(handle.ref)
    async with Client(stdio_transport(channel)) as client:
        added = await client.call_tool("add", {"a": 20, "b": 22})
        counts = [(await client.call_tool("counter", {})).structured_content for _ in range(3)]
        who = await client.call_tool("whoami", {})
    assert added.structured_content == {"result": 42}
    assert counts == [{"result": 1}, {"result": 2}, {"result": 3}]
    assert who.structured_content == {"result": "i1"}

    # Closing stdin is enough for an MCP server to finish on its own: a clean exit.
    assert await process_manager.stop(handle.ref, timeout=10) == 0
    assert not await process_manager.is_running(handle.ref)
    assert any("serving stdio" in line for line in await process_manager.logs(handle.ref))
    await process_manager.remove(handle.ref)
    assert await process_manager.list_managed() == []


async def test_http_example_gets_a_loopback_port_and_keeps_counters_per_session(
    process_manager: ProcessManager,
) -> None:
    handle = await process_manager.start(example_spec("http"))
    assert handle.url == f"http://127.0.0.1:{handle.port}/mcp"
    await wait_until_ready(handle.url)

    # Legacy HTTP sessions each count on their own, even interleaved on one server.
    async with Client(handle.url, mode="legacy") as first, Client(handle.url, mode="legacy") as b:
        a1 = await first.call_tool("counter", {})
        b1 = await b.call_tool("counter", {})
        a2 = await first.call_tool("counter", {})
    assert (a1.structured_content, a2.structured_content) == ({"result": 1}, {"result": 2})
    assert b1.structured_content == {"result": 1}

    # Modern requests carry no session: they share one counter on the server.
    async with Client(handle.url) as one, Client(handle.url) as two:
        m1 = await one.call_tool("counter", {})
        m2 = await two.call_tool("counter", {})
    assert m2.structured_content == {"result": m1.structured_content["result"] + 1}

    [managed] = await process_manager.list_managed()
    assert (managed.running, managed.url, managed.instance_id) == (True, handle.url, "i1")


async def test_secrets_reach_the_child_only_through_its_environment(
    process_manager: ProcessManager,
) -> None:
    secret = "s3cr3t-token-value"
    digest = hashlib.sha256(secret.encode()).hexdigest()
    check = (
        "import hashlib, os, sys; "
        "ok = hashlib.sha256(os.environ['API_TOKEN'].encode()).hexdigest() == sys.argv[1]; "
        "sys.exit(0 if ok else 1)"
    )
    spec = InstanceSpec(
        deployment_id=f"dep-{new_id()}",
        instance_id="i1",
        version="v1",
        transport="stdio",
        command=(sys.executable, "-c", check, digest),
        secrets={"API_TOKEN": secret},
    )
    events = process_manager.events()
    handle = await process_manager.start(spec)
    died = await next_event(events, lambda e: e.kind == "die" and e.ref == handle.ref)
    assert died.exit_code == 0
    [managed] = await process_manager.list_managed()
    assert secret not in repr(managed)
    assert secret not in repr(spec)


async def test_a_secret_in_argv_or_labels_is_refused_without_naming_it(
    process_manager: ProcessManager,
) -> None:
    secret = "hunter2-very-secret"
    for leaky, field in (
        ({"command": (*EXAMPLE_COMMAND, "--token", secret)}, "command"),
        ({"command": EXAMPLE_COMMAND, "labels": {"note": secret}}, "labels"),
    ):
        spec = InstanceSpec(
            deployment_id=f"dep-{new_id()}",
            instance_id="i1",
            version="v1",
            transport="stdio",
            secrets={"TOKEN": secret},
            **leaky,
        )
        with pytest.raises(Invalid) as caught:
            await process_manager.start(spec)
        assert caught.value.field == field
        assert secret not in str(caught.value)
    assert await process_manager.list_managed() == []


async def test_bad_specs_are_refused_with_the_field_named(
    process_manager: ProcessManager,
) -> None:
    with pytest.raises(Invalid) as caught:
        await process_manager.start(
            InstanceSpec(deployment_id="Bad Id!", instance_id="i1", version="v1", transport="stdio")
        )
    assert caught.value.field == "deployment_id"
    with pytest.raises(Invalid) as caught:
        await process_manager.start(
            InstanceSpec(deployment_id="d", instance_id="i1", version="v1", transport="stdio")
        )
    assert caught.value.field == "command"
    with pytest.raises(Invalid) as caught:
        await process_manager.start(
            InstanceSpec(
                deployment_id="d",
                instance_id="i1",
                version="v1",
                transport="stdio",
                command=("/nonexistent/mcp-server",),
            )
        )
    assert caught.value.field == "command"
    assert "/nonexistent/mcp-server" in caught.value.message
    with pytest.raises(NotFound):
        await process_manager.stop("mcp-console-nothing-here")
    assert await process_manager.list_managed() == []


async def test_the_same_instance_cannot_start_twice(process_manager: ProcessManager) -> None:
    spec = example_spec()
    await process_manager.start(spec)
    with pytest.raises(Conflict):
        await process_manager.start(spec)


async def test_a_server_ignoring_stdin_and_sigterm_is_killed_after_the_grace_period(
    process_manager: ProcessManager,
) -> None:
    stubborn = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ignoring SIGTERM', file=sys.stderr, flush=True); time.sleep(120)"
    )
    spec = InstanceSpec(
        deployment_id=f"dep-{new_id()}",
        instance_id="i1",
        version="v1",
        transport="stdio",
        command=(sys.executable, "-c", stubborn),
    )
    events = process_manager.events()
    handle = await process_manager.start(spec)
    # Wait until it has installed its handler, or SIGTERM would simply kill it.
    while not any("ignoring" in line for line in await process_manager.logs(handle.ref)):
        await asyncio.sleep(0.05)
    assert await process_manager.stop(handle.ref, timeout=1.0) == 137
    died = await next_event(events, lambda e: e.kind == "die" and e.ref == handle.ref)
    assert died.exit_code == 137
    assert not await process_manager.is_running(handle.ref)


async def test_fail_at_start_exits_3_with_the_reason_on_stderr(
    process_manager: ProcessManager,
) -> None:
    events = process_manager.events()
    handle = await process_manager.start(example_spec("stdio", "--fail-at-start"))
    died = await next_event(events, lambda e: e.kind == "die" and e.ref == handle.ref)
    assert died.exit_code == 3
    assert died.instance_id == "i1"
    assert any("--fail-at-start" in line for line in await process_manager.logs(handle.ref))


async def test_pypi_package_runs_from_one_shared_venv(
    process_manager: ProcessManager, venv_root: Path
) -> None:
    specs = [
        InstanceSpec(
            deployment_id=f"time-{new_id()}",
            instance_id=f"i{n}",
            version=TIME_SERVER.version,
            transport="stdio",
            package=TIME_SERVER,
        )
        for n in range(2)
    ]
    # Started together: the per-package lock must give both the same, complete venv.
    handles = await asyncio.gather(*(process_manager.start(spec) for spec in specs))
    for handle in handles:
        channel = await process_manager.open_stdio(handle.ref)
        async with Client(stdio_transport(channel)) as client:
            result = await client.call_tool("get_current_time", {"timezone": "UTC"})
        assert not result.is_error
        assert result.structured_content is not None
        assert result.structured_content["timezone"] == "UTC"
    venvs = [p.name for p in venv_root.iterdir() if p.is_dir()]
    assert venvs == [f"mcp-server-time-{TIME_SERVER.version}"]


async def test_a_package_that_does_not_exist_leaves_no_venv_behind(
    process_manager: ProcessManager, venv_root: Path
) -> None:
    missing = PackageSource("mcp-server-time", "1.0.0.post999")
    spec = InstanceSpec(
        deployment_id=f"time-{new_id()}",
        instance_id="i1",
        version="v1",
        transport="stdio",
        package=missing,
    )
    with pytest.raises(Invalid) as caught:
        await process_manager.start(spec)
    assert caught.value.field == "package"
    assert "mcp-server-time==1.0.0.post999" in caught.value.message
    assert not process_manager.venvs.path_for(missing).exists()
    assert await process_manager.list_managed() == []
