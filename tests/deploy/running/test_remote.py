"""Remote deployments: the gateway fronts MCP servers running elsewhere (real SDK servers in
processes of their own on loopback), with their credentials kept out of sight."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import select

from mcp_console.backend.db.models import RequestLog
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, HealthState
from mcp_console.schemas.remote import REMOTE_SERVICE

from ..catalogs import SETTLE_TIMEOUT, all_healthy, wait_for
from ..remote_upstream import Upstream, upstream

TOKEN = "upstream-t0ken-5d1e9a7c"
# How many health checks an unreachable server must fail without being restarted.
PROBES_WHILE_DOWN = 3


def database_bytes(database_url: str) -> bytes:
    """The SQLite database's files, journal included."""
    database = Path(database_url.split("///", 1)[1])
    return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))


async def whoami(endpoint: str, key: str) -> str:
    """A new session through the gateway with the official SDK client: who answers."""
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=SETTLE_TIMEOUT) as http,
        Client(streamable_http_client(endpoint, http_client=http)) as client,
    ):
        result = await client.call_tool("whoami", {})
    assert not result.is_error, result
    assert result.structured_content is not None
    return str(result.structured_content["result"])


def instance_on(detail: DeploymentDetail, server: Upstream) -> Any:
    """The instance attached to ``server``'s URL."""
    [found] = [i for i in detail.instances if i.url == server.url]
    return found


async def test_the_stand_in_server_refuses_calls_without_its_credential() -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    accept = {"Accept": "application/json, text/event-stream"}
    async with upstream("alpha", TOKEN) as alpha:
        async with httpx2.AsyncClient() as http:
            bare = await http.post(alpha.url, json=initialize, headers=accept)
            wrong = await http.post(
                alpha.url, json=initialize, headers={**accept, "Authorization": "Bearer nope"}
            )
        with pytest.raises(Exception):  # noqa: B017, PT011 - the SDK's own error group
            async with Client(alpha.url) as client:
                await client.call_tool("whoami", {})
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
            Client(streamable_http_client(alpha.url, http_client=http)) as client,
        ):
            answered = await client.call_tool("whoami", {})

    assert (bare.status_code, wrong.status_code) == (401, 401)
    assert answered.structured_content == {"result": "alpha"}


async def test_a_remote_deployment_balances_over_two_urls_and_rides_out_one_going_down(
    live: Runtime, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = live.local_admin
    assert admin is not None
    key = await live.users.create_key(admin, admin.name, label="remote")
    async with (
        upstream("alpha", TOKEN) as alpha,
        upstream("beta", TOKEN) as beta,
        live.events.subscribe() as events,
    ):
        created = await live.deployments.create(
            admin,
            DeploymentCreate(
                service=REMOTE_SERVICE,
                name="weather",
                urls=[alpha.url, beta.url],
                headers={"Authorization": f"Bearer {TOKEN}"},
            ),
        )
        detail = await wait_for(live, admin, "weather", all_healthy)
        assert detail.endpoint_url is not None
        both = [await whoami(detail.endpoint_url, key) for _ in range(4)]

        await beta.stop()
        down = await wait_for(
            live,
            admin,
            "weather",
            lambda d: instance_on(d, beta).health is HealthState.UNHEALTHY,
        )
        first_check = instance_on(down, beta).last_health_check
        # Several more failed checks: still attached, never restarted nor given up.
        seen: set[Any] = {first_check}
        while len(seen) <= PROBES_WHILE_DOWN:
            await anyio.sleep(0.2)
            later = await live.deployments.get(admin, "weather")
            seen.add(instance_on(later, beta).last_health_check)
        alone = [await whoami(detail.endpoint_url, key) for _ in range(3)]

        await beta.start()
        back = await wait_for(live, admin, "weather", all_healthy)
        again = Counter([await whoami(detail.endpoint_url, key) for _ in range(4)])
        assert live.meter is not None
        await live.meter.flush()
        async with live.sessions() as session:
            calls = Counter(
                (
                    await session.execute(
                        select(RequestLog.instance_id).where(
                            RequestLog.deployment_id == detail.id,
                            RequestLog.method == "tools/call",
                        )
                    )
                ).scalars()
            )
        published = [events.get_nowait() for _ in range(events.qsize())]
        history = await live.deployments.history(admin, "weather")
        logs = await live.deployments.logs(admin, "weather")
        listed = await live.deployments.list_deployments(admin)

    assert (created.driver, created.replicas, created.transport) == ("remote", 2, "streamable-http")
    assert sorted(i.url or "" for i in detail.instances) == sorted([alpha.url, beta.url])
    assert Counter(both) == {"alpha": 2, "beta": 2}
    assert alone == ["alpha", "alpha", "alpha"]
    later_beta = instance_on(later, beta)
    assert later_beta.status.value == "RUNNING"
    assert later_beta.restart_count == 0
    assert "beta" not in later_beta.name  # instances are named by the console
    assert later.status.value == "DEGRADED"
    assert later.status_reason is not None
    assert later.status_reason.startswith("1 of 2 instances healthy")
    assert not any(e["type"] in ("instance.restarting", "instance.failed") for e in published)
    assert back.status.value == "RUNNING"
    assert set(again) == {"alpha", "beta"}
    # Every call was metered, on the instance that served it.
    names = {i.url: i.name for i in back.instances}
    assert calls == {
        names[alpha.url]: 2 + 3 + again["alpha"],
        names[beta.url]: 2 + again["beta"],
    }

    shown = [
        created.model_dump_json(),
        back.model_dump_json(),
        json.dumps([v.model_dump(mode="json") for v in listed]),
        json.dumps([h.model_dump(mode="json") for h in history]),
        json.dumps([log.model_dump(mode="json") for log in logs]),
        json.dumps(published, default=str),
        caplog.text,
        repr(live.gateway.gateway.routes.routes()) if live.gateway else "",
    ]
    assert not [text for text in shown if TOKEN in text]
    assert back.secret_names == ["header:Authorization", "url:1", "url:2"]
    assert history[-1].changes["headers"] == ["Authorization"]
    assert TOKEN.encode() not in database_bytes(database_url)
