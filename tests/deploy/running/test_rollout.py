"""Rollouts keep the old version serving; a broken new version rolls back by itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate
from mcp_console.settings import Settings

from ..catalogs import all_healthy, call, image_version, process_version, publish, wait_for
from .conftest import fast_deploy_settings

RUNTIMES = ["docker", "process"]


def http_version(runtime: str, example_image: str, version: str, *extra: str) -> VersionCreate:
    if runtime == "docker":
        return image_version(example_image, version, *extra, http=True)
    return process_version(version, *extra, http=True)


@pytest.fixture(params=RUNTIMES)
def kind(request: pytest.FixtureRequest) -> str:
    """The runtime under test; Docker needs an engine and the example image."""
    if request.param == "docker":
        request.getfixturevalue("example_image")
    return str(request.param)


@pytest.fixture
def backend(kind: str, request: pytest.FixtureRequest) -> Runtime:
    runtime: Runtime = request.getfixturevalue("live_docker" if kind == "docker" else "live")
    return runtime


class Caller:
    """Calls ``add`` on one instance over one session, again and again, counting failures."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls = 0
        self.failures: list[str] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async with Client(self.url) as client:
            while not self._stop.is_set():
                try:
                    result = await client.call_tool("add", {"a": self.calls, "b": 1})
                    if result.is_error or result.structured_content != {"result": self.calls + 1}:
                        self.failures.append(repr(result))
                except Exception as exc:
                    self.failures.append(repr(exc))
                self.calls += 1
                await asyncio.sleep(0.02)

    def __enter__(self) -> Caller:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()

    async def done(self) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task


async def test_an_update_that_exits_at_start_rolls_back_and_the_old_version_serves_throughout(
    backend: Runtime, kind: str, request: pytest.FixtureRequest
) -> None:
    image = request.getfixturevalue("example_image") if kind == "docker" else ""
    admin = await publish(
        backend,
        "svc",
        http_version(kind, image, "1.0.0"),
        http_version(kind, image, "1.1.0", "--fail-at-start"),
    )
    await backend.deployments.create(
        admin, DeploymentCreate(service="svc", version="1.0.0", name="svc")
    )
    [old] = (await wait_for(backend, admin, "svc", all_healthy)).instances
    assert old.url is not None

    async with backend.events.subscribe() as events:
        with Caller(old.url) as caller:
            rolling = await backend.deployments.update(admin, "svc", "1.1.0")
            detail = await wait_for(backend, admin, "svc", lambda d: d.target_version is None)
            await wait_for(backend, admin, "svc", lambda d: len(d.instances) == 1)
            await asyncio.sleep(0.5)
            await caller.done()
        seen = [events.get_nowait() for _ in range(events.qsize())]

    assert rolling.target_version == "1.1.0"
    assert caller.calls > 20
    assert caller.failures == []
    assert (detail.version, detail.status) == ("1.0.0", "RUNNING")
    assert "rolled back" in (detail.status_reason or "")
    [still] = (await backend.deployments.get(admin, "svc")).instances
    assert (still.name, still.version, still.url) == (old.name, "1.0.0", old.url)
    rollback = next(
        e
        for e in await backend.deployments.history(admin, "svc")
        if e.automatic and e.action == "auto-rollback"
    )
    assert rollback.actor == "controller"
    assert rollback.changes == {"version": ["1.1.0", "1.0.0"]}
    assert "1.1.0" in rollback.reason
    assert "exited with code 3" in rollback.reason
    rolled = [e for e in seen if e["type"] == "deployment.rollout"]
    assert [e["result"] for e in rolled] == ["rolled-back"]


async def test_a_healthy_update_replaces_the_old_instances_and_rollback_returns(
    backend: Runtime, kind: str, request: pytest.FixtureRequest
) -> None:
    image = request.getfixturevalue("example_image") if kind == "docker" else ""
    admin = await publish(
        backend, "svc", http_version(kind, image, "1.0.0"), http_version(kind, image, "1.0.1")
    )
    await backend.deployments.create(
        admin, DeploymentCreate(service="svc", version="1.0.0", name="svc", replicas=2)
    )
    before = await wait_for(backend, admin, "svc", all_healthy)

    await backend.deployments.update(admin, "svc", "1.0.1")
    updated = await wait_for(
        backend,
        admin,
        "svc",
        lambda d: d.version == "1.0.1" and all_healthy(d) and len(d.instances) == 2,
    )
    await backend.deployments.rollback(admin, "svc")
    back = await wait_for(
        backend,
        admin,
        "svc",
        lambda d: d.version == "1.0.0" and all_healthy(d) and len(d.instances) == 2,
    )

    assert updated.previous_version == "1.0.0"
    assert {i.version for i in updated.instances} == {"1.0.1"}
    assert not {i.name for i in before.instances} & {i.name for i in updated.instances}
    assert back.previous_version == "1.0.1"
    for instance in back.instances:
        assert (await call(backend, instance, "add", {"a": 2, "b": 3})).structured_content == {
            "result": 5
        }
    history = await backend.deployments.history(admin, "svc")
    actions = [(e.action, e.automatic) for e in history if e.action != "image-pinned"]
    assert actions[:4] == [
        ("rollout-complete", True),
        ("rollback", False),
        ("rollout-complete", True),
        ("update", False),
    ]
    # An image's digest is pinned once per version; the rollback runs the pin it recorded.
    pinned = [e.changes["version"] for e in history if e.action == "image-pinned"]
    assert sorted(pinned) == (["1.0.0", "1.0.1"] if kind == "docker" else [])


@pytest.fixture
async def short_deadline(live_settings: Settings, scope: str) -> AsyncIterator[Runtime]:
    """A 6 s rollout deadline; a silent server's probe failures stay within the start grace."""
    deploy = fast_deploy_settings(scope, rollout_deadline=6.0, start_grace=60.0)
    settings = live_settings.model_copy(update={"deploy": deploy})
    async with Runtime(settings, migrate=False, background=True) as runtime:
        yield runtime


async def test_an_update_not_healthy_by_the_deadline_rolls_back(short_deadline: Runtime) -> None:
    live = short_deadline
    silent = VersionCreate(version="2.0.0", command=["/bin/sh", "-c", "exec sleep 600"])
    admin = await publish(live, "svc", process_version("1.0.0"), silent)
    await live.deployments.create(
        admin, DeploymentCreate(service="svc", version="1.0.0", name="svc")
    )
    await wait_for(live, admin, "svc", all_healthy)

    await live.deployments.update(admin, "svc", "2.0.0")
    detail = await wait_for(live, admin, "svc", lambda d: d.target_version is None)

    assert detail.version == "1.0.0"
    assert "not healthy by the deadline" in (detail.status_reason or "")
    entry = next(
        e for e in await live.deployments.history(admin, "svc") if e.action == "auto-rollback"
    )
    assert "0 of 1 instances healthy" in entry.reason
