"""A reconcile pass over unchanged deployments costs the same however many there are."""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from mcp_console.backend.deploy.drivers.base import RuntimeDriver
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.settings import Settings

from ..catalogs import all_healthy, process_version, publish, wait_for
from .conftest import fast_deploy_settings


@pytest.fixture
def live_settings(live_settings: Settings, scope: str) -> Settings:
    """No tick and no routine probe while the test counts: only the pass it runs works."""
    return live_settings.model_copy(
        update={
            "deploy": fast_deploy_settings(
                scope, reconcile_interval=3600.0, autoscale_interval=3600.0, health_interval=3600.0
            )
        }
    )


@contextmanager
def counting(live: Runtime) -> Iterator[tuple[list[str], Counter[str]]]:
    """The SQL statements issued and the driver methods called inside the block."""
    statements: list[str] = []
    calls: Counter[str] = Counter()
    # Only the pass's own statements: the backend's other tasks (the key watch's poll, a
    # meter flush) query on their own schedule.
    counted = asyncio.current_task()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if asyncio.current_task() is counted:
            statements.append(sql)

    driver: RuntimeDriver = live.drivers.process
    originals: dict[str, Any] = {}
    for name, method in inspect.getmembers(driver, inspect.ismethod):
        if name.startswith("_"):
            continue

        def wrapped(*args: Any, _name: str = name, _method: Any = method, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _method(*args, **kwargs)

        originals[name] = method
        setattr(driver, name, wrapped)
    sync_engine = live.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", statement)
    try:
        yield statements, calls
    finally:
        event.remove(sync_engine, "before_cursor_execute", statement)
        for name in originals:
            delattr(driver, name)


async def deploy(live: Runtime, names: list[str]) -> None:
    admin = live.local_admin
    assert admin is not None
    for name in names:
        await live.deployments.create(
            admin, DeploymentCreate(service="svc", name=name, runtime=RuntimeChoice.PROCESS)
        )
    for name in names:
        await wait_for(live, admin, name, all_healthy)


async def quiet_pass(live: Runtime) -> tuple[int, list[str], Counter[str]]:
    """One reconcile pass, counted, once every deployment has settled."""
    await live.controller.reconcile_all()  # anything left over from starting is done here
    await asyncio.sleep(0.2)
    with counting(live) as (statements, calls):
        busy = await live.controller.reconcile_all()
    return busy, statements, calls


async def test_a_no_op_pass_issues_the_same_statements_and_driver_calls_for_2_or_6(
    live: Runtime,
) -> None:
    await publish(live, "svc", process_version("1.0.0"))
    await deploy(live, ["a", "b"])
    busy_two, statements_two, calls_two = await quiet_pass(live)
    await deploy(live, ["c", "d", "e", "f"])
    busy_six, statements_six, calls_six = await quiet_pass(live)

    assert (busy_two, busy_six) == (0, 0)
    # Reading desired state, instances, versions, shares and prices: a handful, not per row.
    assert len(statements_two) >= 3  # desired state, instances, versions at least
    assert len(statements_six) == len(statements_two), "\n".join(statements_six)
    assert len(statements_six) <= 12, "\n".join(statements_six)
    # One listing of what runs, nothing per deployment, and never a write.
    assert calls_six == calls_two == Counter({"list_managed": 1})
    assert not [s for s in statements_six if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
