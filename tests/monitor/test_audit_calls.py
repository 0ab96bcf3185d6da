"""Every tool call through the gateway is in the audit trail: who, where, which tool, how."""

from __future__ import annotations

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.monitor.audit_recorder import outcome
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.audit import AuditEntry, AuditQuery
from mcp_console.schemas.deploy import ShareCreate
from mcp_console.schemas.users import Principal, Role, UserCreate
from tests.deploy.catalogs import SETTLE_TIMEOUT
from tests.monitor.served import deployed, serving_backend, sqlite_only  # noqa: F401


async def calls(endpoint: str, key: str, *tools: tuple[str, dict[str, int | str]]) -> None:
    """Call ``tools`` in one session through the gateway with the official SDK client."""
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=SETTLE_TIMEOUT) as http,
        Client(streamable_http_client(endpoint, http_client=http)) as client,
    ):
        for name, arguments in tools:
            await client.call_tool(name, arguments)


async def tool_calls(backend: Runtime, actor: Principal) -> list[AuditEntry]:
    return await backend.audit.events(actor, AuditQuery(kind="tool.call"))


async def test_tool_calls_are_audited_with_caller_tool_and_outcome(backend: Runtime) -> None:
    admin = backend.local_admin
    assert admin is not None
    endpoint = await deployed(backend, "calc")
    admin_key = await backend.users.create_key(admin, admin.name, label="calls")
    bob = await backend.users.create_user(admin, UserCreate(name="bob", role=Role.USER))
    carol = await backend.users.create_user(admin, UserCreate(name="carol", role=Role.USER))
    await backend.deployments.share(admin, "calc", ShareCreate(user="bob"))

    await calls(endpoint, admin_key, ("add", {"a": 2, "b": 3}), ("echo", {"text": "hi"}))
    await calls(endpoint, bob.api_key, ("add", {"a": 1, "b": 1}))

    seen = await tool_calls(backend, admin)
    assert [(e.actor, e.deployment, e.target, e.detail["outcome"]) for e in reversed(seen)] == [
        ("admin", "calc", "add", "ok"),
        ("admin", "calc", "echo", "ok"),
        ("bob", "calc", "add", "ok"),
    ]
    assert all(e.via == "gateway" and e.detail["latency_ms"] >= 0 for e in seen)
    assert {e.detail["status"] for e in seen} == {200}
    # Bob sees his own call; carol, who neither called nor owns it, sees none.
    bob_sees = await tool_calls(backend, await backend.users.authenticate(bob.api_key))
    assert [(e.actor, e.target) for e in bob_sees] == [("bob", "add")]
    assert await tool_calls(backend, await backend.users.authenticate(carol.api_key)) == []


def test_a_calls_outcome_names_its_json_rpc_code_or_http_status() -> None:
    def call(status: int, error: bool | int, instance: str | None = "i-1") -> RequestRecord:
        return RequestRecord(1, instance, 1, "tools/call", "add", status, error, 1.0, 0, 0, 0.0)

    assert outcome(call(200, False)) == "ok"
    assert outcome(call(200, -32602)) == "rpc -32602"
    assert outcome(call(502, True)) == "http 502"
    assert outcome(call(429, False, instance=None)) == "http 429"  # refused by the gateway
