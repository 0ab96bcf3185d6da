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
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.deploy import (
    DeploymentCreate,
    DeploymentDetail,
    HealthState,
    ShareCreate,
)
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.remote import REMOTE_SERVICE
from mcp_console.schemas.users import Role, UserCreate
from mcp_console.settings import Settings
from tests.gateway.helpers import innermost

from ..catalogs import SETTLE_TIMEOUT, all_healthy, process_version, publish, wait_for
from ..remote_upstream import Upstream, make_tls, upstream
from .conftest import fast_deploy_settings

TOKEN = "upstream-t0ken-5d1e9a7c"
TENANT = "tenant-key-0b84f2d6"
QUERY_KEY = "query-key-93be04c1"
FORECAST = "io.example/forecast"
POLICY = {"min_replicas": 1, "max_replicas": 3, "target_inflight": 4}
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


def forecast_document(url: str) -> dict[str, Any]:
    """A hosted server as the registry lists one: a streamable-http remote whose headers are
    a bearer token (a template over a secret variable) and a custom secret header, beside an
    SSE endpoint the gateway cannot front."""
    return {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": FORECAST,
        "description": "Forecasts, hosted by their author",
        "version": "1.0.0",
        "remotes": [
            {
                "type": "streamable-http",
                "url": url,
                "headers": [
                    {
                        "name": "Authorization",
                        "value": "Bearer {api_token}",
                        "isRequired": True,
                        "isSecret": True,
                        "variables": {
                            "api_token": {
                                "description": "Your forecast API token",
                                "isRequired": True,
                                "isSecret": True,
                            }
                        },
                    },
                    {
                        "name": "X-Tenant-Key",
                        "description": "Your tenant's key",
                        "isRequired": True,
                        "isSecret": True,
                    },
                ],
            },
            {"type": "sse", "url": url.replace("/mcp", "/sse")},
        ],
    }


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
        both = Counter([await whoami(detail.endpoint_url, key) for _ in range(4)])

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
        attached = await live.drivers.remote.list_managed()
        history = await live.deployments.history(admin, "weather")
        logs = await live.deployments.logs(admin, "weather")
        listed = await live.deployments.list_deployments(admin)

    assert (created.driver, created.replicas, created.transport) == ("remote", 2, "streamable-http")
    assert sorted(i.url or "" for i in detail.instances) == sorted([alpha.url, beta.url])
    # Both serve (the console's own definitions check, started as an instance turns healthy,
    # may take a balancing turn between two calls, so the split need not be 2/2).
    assert set(both) == {"alpha", "beta"}
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
        names[alpha.url]: both["alpha"] + 3 + again["alpha"],
        names[beta.url]: both["beta"] + again["beta"],
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
        repr(attached),
    ]
    # Nothing runs here, so nothing carries labels: the instances are attachments to URLs.
    assert [(a.labels, a.running) for a in attached] == [({}, True), ({}, True)]
    assert not [text for text in shown if TOKEN in text]
    assert back.secret_names == ["header:Authorization", "url:1", "url:2"]
    assert history[-1].changes["headers"] == ["Authorization"]
    assert TOKEN.encode() not in database_bytes(database_url)


async def test_a_catalog_remote_is_fronted_with_its_declared_headers_after_a_restart_too(
    live_settings: Settings, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    given = {"api_token": TOKEN, "X-Tenant-Key": TENANT}
    async with upstream("forecast", TOKEN, tenant=TENANT) as server:
        async with Runtime(live_settings, migrate=False, background=True) as first:
            admin = first.local_admin
            assert admin is not None
            key = await first.users.create_key(admin, admin.name, label="remote")
            text = json.dumps(forecast_document(server.url))
            await first.catalog.publish_document(admin, text, "forecast.json")
            with pytest.raises(Invalid) as missing:
                await first.deployments.create(
                    admin, DeploymentCreate(service=FORECAST, name="forecast")
                )
            created = await first.deployments.create(
                admin, DeploymentCreate(service=FORECAST, name="forecast", secrets=given)
            )
            detail = await wait_for(first, admin, "forecast", all_healthy)
            assert detail.endpoint_url is not None
            before = await whoami(detail.endpoint_url, key)
        # A new backend on the same database attaches the instance again, headers included.
        async with Runtime(live_settings, migrate=False, background=True) as second:
            again = await wait_for(second, admin, "forecast", all_healthy)
            assert again.endpoint_url is not None  # the new gateway's address
            after = await whoami(again.endpoint_url, key)

    assert missing.value.field == "config.api_token"
    assert (created.driver, created.replicas) == ("remote", 1)  # the SSE endpoint is not fronted
    assert created.config == {"api_token": MASK, "X-Tenant-Key": MASK}
    assert [i.url for i in detail.instances] == [server.url]
    assert (before, after) == ("forecast", "forecast")
    shown = created.model_dump_json() + again.model_dump_json() + caplog.text
    assert TOKEN not in shown
    assert TENANT not in shown
    stored = database_bytes(database_url)
    assert TOKEN.encode() not in stored
    assert TENANT.encode() not in stored


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"urls": ["ftp://example.com/mcp"]}, "urls.0", "must start with https://"),
        ({"urls": ["https://me:pw@example.com/mcp"]}, "urls.0", "give credentials as a header"),
        ({"urls": ["https://example.com/mcp"] * 2}, "urls.1", "is given twice"),
        (
            {"urls": ["http://mcp.example.com/mcp"], "headers": {"Authorization": TOKEN}},
            "urls",
            "would cross the network in clear text; use https",
        ),
        (
            {"urls": ["https://example.com/mcp"], "headers": {"Host": "evil.example.com"}},
            "headers.Host",
            "set by the gateway itself",
        ),
        (
            {"urls": ["https://example.com/mcp"], "headers": {"X-Key": "a\r\nInjected: yes"}},
            "headers.X-Key",
            "must be one line",
        ),
        ({"urls": ["https://example.com/mcp"], "runtime": "process"}, "runtime", "cannot run on"),
        (
            {"urls": ["https://example.com/mcp"], "session_mode": "per-session"},
            "session_mode",
            "cannot start an instance per session",
        ),
        (
            {"urls": ["https://example.com/mcp"], "autoscale": POLICY},
            "autoscale",
            "cannot autoscale",
        ),
        ({"service": "svc", "headers": {"Authorization": TOKEN}}, "headers", "give its --url"),
        ({"service": "svc", "runtime": "remote"}, "runtime", "has no remote endpoint"),
        ({"service": FORECAST}, "version", "speak sse; the gateway fronts streamable-http"),
    ],
)
async def test_a_remote_deployment_that_cannot_work_is_refused_naming_what_is_wrong(
    live: Runtime, fields: dict[str, Any], field: str, message: str
) -> None:
    admin = await publish(live, "svc", process_version("1.0.0"))
    sse_only = forecast_document("http://127.0.0.1:9/mcp")
    sse_only["remotes"] = sse_only["remotes"][1:]
    await live.catalog.publish_document(admin, json.dumps(sse_only), "sse.json")
    new = DeploymentCreate(**{"service": REMOTE_SERVICE, "name": "bad", **fields})

    with pytest.raises(Invalid) as refused:
        await live.deployments.create(admin, new)

    assert refused.value.field == field
    assert message in refused.value.message
    assert TOKEN not in refused.value.message
    assert await live.deployments.list_deployments(admin) == []


async def test_a_remote_deployment_is_neither_scaled_nor_autoscaled(live: Runtime) -> None:
    admin = live.local_admin
    assert admin is not None
    new = DeploymentCreate(service=REMOTE_SERVICE, name="far", urls=["http://127.0.0.1:9/mcp"])
    await live.deployments.create(admin, new)

    with pytest.raises(Invalid) as scaled:
        await live.deployments.scale(admin, "far", 3)
    with pytest.raises(Invalid) as autoscaled:
        await live.deployments.set_autoscale(admin, "far", POLICY)

    assert (scaled.value.field, autoscaled.value.field) == ("replicas", "autoscale")
    assert "fronts 1 URL(s), one instance each" in scaled.value.message
    assert (await live.deployments.get(admin, "far")).replicas == 1


async def test_a_remote_server_is_reached_over_https_verified_against_the_trusted_authorities(
    live: Runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ca, cert, tls_key = make_tls(tmp_path)
    # The authority this console trusts besides the system's (Python reads SSL_CERT_FILE).
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    admin = live.local_admin
    assert admin is not None
    key = await live.users.create_key(admin, admin.name, label="remote")
    async with upstream("secure", TOKEN, cert=cert, key=tls_key) as server:
        new = DeploymentCreate(
            service=REMOTE_SERVICE,
            name="secure",
            # Hosted servers often take their key in the query string.
            urls=[f"{server.url}?key={QUERY_KEY}"],
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        await live.deployments.create(admin, new)
        detail = await wait_for(live, admin, "secure", all_healthy)
        assert detail.endpoint_url is not None
        answers = [await whoami(detail.endpoint_url, key) for _ in range(2)]
        history = await live.deployments.history(admin, "secure")

    assert server.url.startswith("https://127.0.0.1:")
    assert answers == ["secure", "secure"]
    assert detail.instances[0].url == f"{server.url}?…"
    assert "HTTP Request: POST" in caplog.text  # the health checks' requests are logged...
    shown = [detail.model_dump_json(), history[0].model_dump_json(), caplog.text]
    assert not [text for text in shown if QUERY_KEY in text]  # ...without the key
    assert QUERY_KEY.encode() not in database_bytes(database_url)


async def test_a_remote_server_whose_certificate_does_not_verify_is_never_called(
    live_settings: Settings, scope: str, tmp_path: Path
) -> None:
    _, cert, tls_key = make_tls(tmp_path)
    # No grace: a server that never answers is unhealthy from its first failed checks.
    settings = live_settings.model_copy(
        update={"deploy": fast_deploy_settings(scope, start_grace=0.0)}
    )
    async with (
        upstream("impostor", TOKEN, cert=cert, key=tls_key) as server,
        Runtime(settings, migrate=False, background=True) as live,
    ):
        admin = live.local_admin
        assert admin is not None
        new = DeploymentCreate(
            service=REMOTE_SERVICE,
            name="impostor",
            urls=[server.url],
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        await live.deployments.create(admin, new)
        detail = await wait_for(
            live, admin, "impostor", lambda d: d.instances[0].health is HealthState.UNHEALTHY
        )

    assert "CERTIFICATE_VERIFY_FAILED" in (detail.instances[0].last_error or "")
    assert detail.ready_replicas == 0


async def test_a_remote_deployment_is_shared_and_updated_like_any_other(live: Runtime) -> None:
    admin = live.local_admin
    assert admin is not None
    bob = await live.users.create_user(None, UserCreate(name="bob", role=Role.USER))
    carol = await live.users.create_user(None, UserCreate(name="carol", role=Role.USER))
    async with upstream("old", TOKEN, tenant=TENANT) as old, upstream("new", TOKEN) as new:
        first = forecast_document(old.url)
        second = forecast_document(new.url)
        second["version"] = "1.1.0"
        for doc in (first, second):
            await live.catalog.publish_document(admin, json.dumps(doc), "forecast.json")
        secrets = {"api_token": TOKEN, "X-Tenant-Key": TENANT}
        await live.deployments.create(
            admin,
            DeploymentCreate(service=FORECAST, version="1.0.0", name="forecast", secrets=secrets),
        )
        await live.deployments.share(admin, "forecast", ShareCreate(user="bob"))
        detail = await wait_for(live, admin, "forecast", all_healthy)
        assert detail.endpoint_url is not None
        before = await whoami(detail.endpoint_url, bob.api_key)
        with pytest.raises(Exception) as stranger:  # noqa: PT011 - the SDK's error group
            await whoami(detail.endpoint_url, carol.api_key)

        await live.deployments.update(admin, "forecast", "1.1.0")
        # The rollout ends when the old URL's instance is gone, not when the new one is up.
        updated = await wait_for(
            live,
            admin,
            "forecast",
            lambda d: d.version == "1.1.0" and all_healthy(d) and len(d.instances) == 1,
        )
        after = await whoami(detail.endpoint_url, bob.api_key)

    assert (before, after) == ("old", "new")
    assert "is not shared with carol" in str(innermost(stranger.value))
    assert [i.url for i in updated.instances] == [new.url]
