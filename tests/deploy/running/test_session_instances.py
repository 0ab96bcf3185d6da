"""Per-session deployments: each client session gets an instance of its own, removed after."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import docker
import httpx
import pytest
import pytest_asyncio
from mcp import MCPError
from sqlalchemy import func, select

from mcp_console.backend.bridge.session_launch import new_dedicated_name
from mcp_console.backend.db.models import ServiceInstance
from mcp_console.backend.deploy.deployment_record import DEDICATED_PREFIX, load_state
from mcp_console.backend.deploy.drivers.base import RuntimeDriver
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import VersionCreate
from mcp_console.schemas.deploy import (
    DeploymentCreate,
    DeploymentDetail,
    HealthState,
    InstanceStatus,
    RuntimeChoice,
)
from mcp_console.settings import Settings
from tests.gateway.helpers import Caller, connect, innermost, result_of

from ..catalogs import SETTLE_TIMEOUT, all_healthy, image_version, process_version, publish
from ..catalogs import wait_for as wait_for_deployment
from .conftest import in_thread, scope_containers

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}
ACCEPT = {"accept": "application/json, text/event-stream"}


async def per_session(
    runtime: Runtime, version: VersionCreate, kind: RuntimeChoice, replicas: int
) -> tuple[Caller, DeploymentDetail]:
    """Publish ``version`` and deploy it per session; returns its owner (with a key)."""
    admin = await publish(runtime, "svc", version)
    await runtime.deployments.create(
        admin,
        DeploymentCreate(
            service="svc", name="own", runtime=kind, replicas=replicas, session_mode="per-session"
        ),
    )
    detail = await wait_for_deployment(runtime, admin, "own", all_healthy)
    assert detail.endpoint_url is not None
    key = await runtime.users.create_key(admin, admin.name, label="sessions")
    return Caller(admin, key), detail


async def session_instances(driver: RuntimeDriver) -> set[str]:
    """The ids of the running instances started for single sessions."""
    return {
        m.instance_id
        for m in await driver.list_managed()
        if m.running and m.instance_id.startswith(DEDICATED_PREFIX)
    }


async def session_rows(runtime: Runtime) -> int:
    """The instance rows of session instances."""
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ServiceInstance)
            .where(ServiceInstance.name.like(f"{DEDICATED_PREFIX}%"))
        )
    return int(count or 0)


async def has_session_row(runtime: Runtime, name: str) -> bool:
    """Whether the session instance ``name`` still has its row."""
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(ServiceInstance).where(ServiceInstance.name == name)
        )
    return bool(count)


async def running_count(driver: RuntimeDriver) -> int:
    """How many session instances run."""
    return len(await session_instances(driver))


async def gone(driver: RuntimeDriver, names: set[str]) -> bool:
    """Whether none of these session instances runs any more."""
    return not await session_instances(driver) & names


async def held_by(runtime: Runtime, deployment_id: int) -> set[str]:
    """The instances of the deployment's live sessions."""
    assert runtime.gateway is not None
    return {s.instance_id for s in runtime.gateway.gateway.list_sessions(deployment_id)}


async def eventually(check: Callable[[], Awaitable[Any]], expected: Any) -> None:
    """Wait until ``check()`` returns ``expected``; fail with what it last returned."""
    last = None
    with anyio.move_on_after(SETTLE_TIMEOUT):
        while (last := await check()) != expected:
            await anyio.sleep(0.1)
    assert last == expected


@contextmanager
def step(what: str, seconds: float = SETTLE_TIMEOUT) -> Iterator[None]:
    """Bound one step of a test, naming it if it does not end."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise AssertionError(f"stuck: {what} (over {seconds:.0f} s)") from None


async def initialize(http: httpx.AsyncClient, url: str, owner: Caller) -> httpx.Response:
    """A raw ``initialize`` (the gateway answers once the session's instance is up)."""
    return await http.post(url, json=INITIALIZE, headers={**owner.headers, **ACCEPT})


@pytest_asyncio.fixture
async def one_per_replica(live_settings: Settings) -> AsyncIterator[Runtime]:
    """A started backend letting a per-session deployment run one session per replica."""
    deploy = live_settings.deploy.model_copy(update={"sessions_per_replica": 1})
    settings = live_settings.model_copy(update={"deploy": deploy})
    async with Runtime(settings, migrate=False, background=True) as runtime:
        yield runtime


async def test_one_replica_serves_several_sessions_at_once(live: Runtime) -> None:
    """A per-session deployment left at one replica serves a team, not one client at a time
    (it may run 8 session instances for each replica by default)."""
    owner, detail = await per_session(
        live, process_version("1.0.0"), RuntimeChoice.PROCESS, replicas=1
    )
    url = detail.endpoint_url
    assert url is not None
    async with (
        connect(url, owner, "legacy") as one,
        connect(url, owner, "legacy") as two,
        connect(url, owner, "legacy") as three,
    ):
        who = [await result_of(client, "whoami") for client in (one, two, three)]
        running = await session_instances(live.drivers.process)
    assert len(set(who)) == 3
    assert set(who) <= running


@pytest.mark.parametrize("http", [False, True], ids=["stdio", "http"])
async def test_each_session_runs_on_an_instance_of_its_own_up_to_the_limit(
    one_per_replica: Runtime, http: bool
) -> None:
    live = one_per_replica
    owner, detail = await per_session(
        live, process_version("1.0.0", http=http), RuntimeChoice.PROCESS, replicas=2
    )
    url = detail.endpoint_url
    assert url is not None
    assert live.gateway is not None
    assert live.gateway_load is not None
    replicas = {i.name for i in detail.instances}
    process = live.drivers.process

    async with connect(url, owner, "legacy") as one, connect(url, owner, "legacy") as two:
        who = [await result_of(client, "whoami") for client in (one, two)]
        counts = [[await result_of(client, "counter") for _ in range(3)] for client in (one, two)]
        sessions = live.gateway.gateway.list_sessions(detail.id)
        running = await session_instances(process)
        after = await live.deployments.get(owner.principal, "own")
        live_count = live.gateway_load.sample(detail.id)
        # Over the limit (2 replicas, one session each): refused, and told when to retry.
        with pytest.raises(BaseException) as refused:  # noqa: PT011 (an exception group)
            async with connect(url, owner, "legacy"):
                pass
        async with httpx.AsyncClient(timeout=30) as raw:
            answer = await initialize(raw, url, owner)
        # A 2026-07-28 client opens no session: a replica serves it, at the limit too.
        async with connect(url, owner, "2026-07-28") as modern:
            served_modern = await result_of(modern, "whoami")

    # Two instances of their own, started for the sessions, next to the deployment's replicas.
    assert who[0] != who[1]
    assert set(who) == running
    assert not running & replicas
    assert served_modern in replicas
    assert counts == [[1, 2, 3], [1, 2, 3]]  # nothing shared between the two sessions
    assert {(s.instance_id, s.dedicated) for s in sessions} == {(w, True) for w in who}
    # The controller neither counts, trims nor shows them: its two replicas stay as they were.
    assert {i.name for i in after.instances} == replicas
    assert after.replicas == 2
    assert after.ready_replicas == 2
    # The live figures count every instance taking work: two replicas and two sessions.
    assert live_count is not None
    assert live_count.healthy_instances == 4

    error = innermost(refused.value)
    assert isinstance(error, MCPError)
    assert "at most 2 at once (1 for each of its 2 replicas), and 2 are running" in (
        error.error.message
    )
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    body = answer.json()
    assert body["id"] == 1
    assert body["error"]["data"] == {"limit": 2, "retryAfter": 5}

    # Both clients ended their sessions (DELETE): their instances are gone, and one warm
    # instance (row and process) waits for the next session.
    await eventually(lambda: gone(process, set(who)), True)
    await eventually(lambda: session_rows(live), 1)
    await eventually(lambda: running_count(process), 1)
    assert live.gateway.gateway.list_sessions(detail.id) == []


async def test_a_killed_session_and_a_stopped_deployment_give_their_instances_back(
    live: Runtime,
) -> None:
    owner, detail = await per_session(live, process_version("1.0.0"), RuntimeChoice.PROCESS, 1)
    url = detail.endpoint_url
    assert url is not None
    assert live.gateway is not None
    gateway = live.gateway.gateway
    process = live.drivers.process

    async with httpx.AsyncClient(timeout=60) as http:
        opened = await initialize(http, url, owner)
        assert opened.status_code == 200, opened.text
        session_id = opened.headers["mcp-session-id"]
        first = await held_by(live, detail.id)
        assert first <= await session_instances(process)
        # Killed from the console: its instance goes, and its place is free again.
        assert await gateway.kill_session(session_id)
        await eventually(lambda: gone(process, first), True)
        ended = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            headers={**owner.headers, **ACCEPT, "mcp-session-id": session_id},
        )
        # Left idle past the timeout: the gateway's sweep ends it, and its instance goes.
        idle = await initialize(http, url, owner)
        assert idle.status_code == 200, idle.text
        second = await held_by(live, detail.id)
        assert len(second) == 1
        configured = gateway.config
        gateway.config = dataclasses.replace(configured, session_idle_timeout=0.0)
        try:
            assert gateway.reap_idle() == 1
        finally:
            gateway.config = configured
        await eventually(lambda: gone(process, second), True)
        again = await initialize(http, url, owner)
        assert again.status_code == 200, again.text
        [held] = await held_by(live, detail.id)

        # Stopping the deployment ends its sessions and removes their instances first.
        await live.deployments.stop(owner.principal, "own")
        await wait_for_deployment(live, owner.principal, "own", lambda d: not d.instances)
        await eventually(lambda: session_instances(process), set())
        stopped = await initialize(http, url, owner)

    assert ended.status_code == 404
    assert held.startswith(DEDICATED_PREFIX)
    assert gateway.list_sessions(detail.id) == []
    assert await session_rows(live) == 0
    assert stopped.status_code == 503
    assert "is stopped: start it to open sessions" in stopped.json()["error"]["message"]


async def test_docker_sessions_get_containers_and_a_restart_removes_what_a_crash_left(
    docker_client: docker.DockerClient,
    docker_scope: str,
    live_settings: Settings,
    example_image: str,
) -> None:
    settings = live_settings.model_copy(update={"runtime": "docker"})
    version = image_version(example_image, "1.0.0", http=True)
    with step("the first backend: sessions, a crash's leftovers, stopping", 3 * SETTLE_TIMEOUT):
        async with Runtime(settings, migrate=False, background=True) as first:
            owner, detail = await per_session(first, version, RuntimeChoice.DOCKER, replicas=2)
            url = detail.endpoint_url
            assert url is not None
            engine = await first.drivers.docker()
            with step("two sessions on containers of their own"):
                async with (
                    connect(url, owner, "legacy") as one,
                    connect(url, owner, "legacy") as two,
                ):
                    who = {await result_of(client, "whoami") for client in (one, two)}
                    running = await session_instances(engine)
            await eventually(lambda: gone(engine, who), True)

            # What a backend that crashed mid-session leaves: a session instance's row and its
            # container, started exactly as the gateway's provider starts one.
            async with first.sessions() as session:
                state = await load_state(session, detail.id)
            assert state is not None
            row = ServiceInstance(
                deployment_id=detail.id,
                version_id=state.deployment.version_id,
                name=new_dedicated_name(),
                driver="docker",
                status=InstanceStatus.RUNNING.value,
                health=HealthState.HEALTHY.value,
            )
            async with first.sessions.begin() as session:
                session.add(row)
            left = await first.controller.converger.launch(state, row)

    # Stopping the backend leaves the replicas' containers (and the crash's) running.
    names = {c.name for c in await in_thread(scope_containers, docker_client, docker_scope)}
    assert left.name in names
    with step("the second backend: clean-up after the crash, stopping", 2 * SETTLE_TIMEOUT):
        async with Runtime(settings, migrate=False, background=True) as second:
            # The leftover's row and container go; the new backend's warm instance is its own.
            await eventually(lambda: has_session_row(second, row.name), False)
            engine = await second.drivers.docker()
            await eventually(lambda: gone(engine, {row.name}), True)
            after = await second.deployments.get(owner.principal, "own")

    assert len(who) == 2
    assert who <= running  # with the warm instance refilled for the next session
    assert all(w.startswith(DEDICATED_PREFIX) for w in who)
    # The replicas were adopted (same rows, same containers); only the session's leftover went.
    assert {(i.name, i.ref) for i in after.instances} == {(i.name, i.ref) for i in detail.instances}
    remaining = {c.name for c in await in_thread(scope_containers, docker_client, docker_scope)}
    assert left.name not in remaining
