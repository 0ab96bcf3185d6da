"""The inspector: a session through the gateway as the caller, every message recorded."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from sqlalchemy import func, select

from mcp_console.backend.db.models import RequestLog
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Invalid, NotFound, Unavailable
from mcp_console.schemas.monitor import RpcDirection, RpcMessage
from tests.deploy.catalogs import process_version, publish

from .helpers import EXAMPLE_TOOLS, SERVICE, Deployed, user


async def keys_given_back(backend: Runtime) -> None:
    """Every key the console issued itself is withdrawn (a definitions check running in
    the background may hold one for a moment)."""
    with anyio.fail_after(30):
        while len(backend.internal_keys):
            await anyio.sleep(0.05)


def sent(exchange: list[RpcMessage], method: str) -> dict[str, Any]:
    """The one request of ``method`` the inspector sent."""
    (request,) = [
        m.payload
        for m in exchange
        if m.direction is RpcDirection.SENT and m.payload.get("method") == method
    ]
    return request


def answer(exchange: list[RpcMessage], request: dict[str, Any]) -> dict[str, Any]:
    """The response the inspector received to ``request``."""
    (response,) = [
        m.payload
        for m in exchange
        if m.direction is RpcDirection.RECEIVED and m.payload.get("id") == request["id"]
    ]
    return response


async def test_inspect_lists_what_the_server_offers_with_the_exchange(
    backend: Runtime, deployed: Deployed
) -> None:
    report = await backend.inspector.inspect(deployed.owner.principal, "calc")

    assert (report.deployment, report.server_name, report.server_version) == (
        "calc",
        "mcp-console-example",
        "1.0.0",
    )
    assert report.protocol_version
    assert {t.name for t in report.tools} == EXAMPLE_TOOLS
    add = next(t for t in report.tools if t.name == "add")
    assert add.description == "Add two integers."
    assert set(add.input_schema["properties"]) == {"a", "b"}
    assert [r.uri for r in report.resources] == ["example://info"]
    assert [(p.name, p.arguments) for p in report.prompts] == [("summarize", ["text"])]

    listing = answer(report.exchange, sent(report.exchange, "tools/list"))
    assert {t["name"] for t in listing["result"]["tools"]} == EXAMPLE_TOOLS
    assert report.exchange[0].direction is RpcDirection.SENT
    assert [m.at for m in report.exchange] == sorted(m.at for m in report.exchange)
    # The inspector's key was for this session only.
    await keys_given_back(backend)


async def test_call_tool_returns_the_result_and_its_exchange(
    backend: Runtime, deployed: Deployed
) -> None:
    owner = deployed.owner.principal
    outcome = await backend.inspector.call_tool(owner, "calc", "add", {"a": 2, "b": 40})

    assert (outcome.tool, outcome.is_error, outcome.structured) == ("add", False, {"result": 42})
    assert outcome.content == [{"type": "text", "text": "42"}]
    request = sent(outcome.exchange, "tools/call")
    assert request["params"]["name"] == "add"
    assert request["params"]["arguments"] == {"a": 2, "b": 40}
    response = answer(outcome.exchange, request)
    assert response["result"]["structuredContent"] == {"result": 42}

    failed = await backend.inspector.call_tool(owner, "calc", "sleep", {"seconds": 100})
    assert failed.is_error
    assert "between 0 and 60" in failed.content[0]["text"]
    await keys_given_back(backend)


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("add", {"a": "two", "b": 40}, "a"),
        ("add", {"a": 2}, "b"),
        ("echo", {"text": 7}, "text"),
        ("subtract", {"a": 2, "b": 1}, "tool"),
    ],
)
async def test_bad_arguments_are_refused_before_the_call_naming_the_field(
    backend: Runtime, deployed: Deployed, tool: str, arguments: dict[str, Any], field: str
) -> None:
    calls_before = await _tool_calls(backend, deployed)
    with pytest.raises(Invalid) as refused:
        await backend.inspector.call_tool(deployed.owner.principal, "calc", tool, arguments)
    assert refused.value.field == field
    assert (tool if field == "tool" else field) in refused.value.message
    assert await _tool_calls(backend, deployed) == calls_before


async def _tool_calls(backend: Runtime, deployed: Deployed) -> int:
    """The tools/call requests in the deployment's request log."""
    assert backend.meter is not None
    await backend.meter.flush()
    async with backend.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(RequestLog)
            .where(
                RequestLog.deployment_id == deployed.detail.id, RequestLog.method == "tools/call"
            )
        )
    return int(count or 0)


async def test_a_stranger_may_not_inspect_or_call_but_an_admin_may(
    backend: Runtime, deployed: Deployed
) -> None:
    stranger = deployed.stranger.principal
    with pytest.raises(NotFound):
        await backend.inspector.inspect(stranger, "calc")
    with pytest.raises(NotFound):
        await backend.inspector.call_tool(stranger, "calc", "add", {"a": 1, "b": 2})
    assert await _tool_calls(backend, deployed) == 0
    # An admin reaches every deployment, through its endpoint as any caller would.
    admin = backend.local_admin
    assert admin is not None
    report = await backend.inspector.inspect(admin, "alice/calc")
    assert report.deployment == "alice/calc"
    outcome = await backend.inspector.call_tool(admin, "alice/calc", "add", {"a": 1, "b": 2})
    assert outcome.structured == {"result": 3}
    assert await _tool_calls(backend, deployed) == 1


async def test_nothing_healthy_to_answer_is_unavailable(
    backend: Runtime, deployed: Deployed
) -> None:
    owner = deployed.owner.principal
    await backend.deployments.scale(owner, "calc", 0)
    with anyio.fail_after(60):
        while (await backend.deployments.get(owner, "calc")).instances:
            await anyio.sleep(0.1)
    with pytest.raises(Unavailable, match="no healthy instance"):
        await backend.inspector.inspect(owner, "calc")
    with pytest.raises(Unavailable, match="no healthy instance"):
        await backend.inspector.call_tool(owner, "calc", "add", {"a": 1, "b": 2})


async def test_without_a_gateway_the_inspector_cannot_connect(runtime: Runtime) -> None:
    await publish(runtime, SERVICE, process_version("1.0.0"))
    owner = await user(runtime, "alice")
    await runtime.deployments.create(
        owner.principal,
        DeploymentCreate(service=SERVICE, name="calc", runtime=RuntimeChoice.PROCESS),
    )
    with pytest.raises(Unavailable, match="daemon"):
        await runtime.inspector.inspect(owner.principal, "calc")
