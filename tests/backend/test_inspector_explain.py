"""A reply the SDK refuses as not conforming is explained: the method, the fields, the version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from mcp.types import CallToolResult, ListPromptsResult, ListToolsResult
from pydantic import BaseModel, ValidationError

from mcp_console.backend.monitor.inspector_explain import nonconforming, spoken_version
from mcp_console.schemas.errors import Unavailable, error_from_dict
from mcp_console.schemas.monitor import RpcDirection, RpcMessage

AT = datetime(2026, 1, 1, tzinfo=UTC)
MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}


def _sent(payload: dict[str, Any]) -> RpcMessage:
    return RpcMessage(direction=RpcDirection.SENT, at=AT, payload={"jsonrpc": "2.0", **payload})


def _received(payload: dict[str, Any]) -> RpcMessage:
    return RpcMessage(direction=RpcDirection.RECEIVED, at=AT, payload={"jsonrpc": "2.0", **payload})


def _refusal(model: type[BaseModel], result: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(result)
    return caught.value


HANDSHAKE = [
    _sent({"id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}),
    _received({"id": 0, "result": {"protocolVersion": "2025-06-18", "capabilities": {}}}),
    _sent({"method": "notifications/initialized"}),
]


def test_a_handshake_era_reply_names_the_version_the_server_agreed_to() -> None:
    messages = [
        *HANDSHAKE,
        _sent({"id": 1, "method": "tools/list", "params": {}}),
        _received({"id": 1, "result": {"tools": []}}),
        _sent({"id": 2, "method": "prompts/list", "params": {}}),
        _received({"id": 2, "result": {}}),
    ]
    error = _refusal(ListPromptsResult, {})

    assert spoken_version(messages) == "2025-06-18"
    assert nonconforming(error, messages) == (
        "its reply to prompts/list does not conform to MCP 2025-06-18: "
        "result.prompts is required but missing"
    )


def test_a_modern_reply_names_the_version_its_request_carried_and_each_wrong_field() -> None:
    messages = [
        _sent({"id": 5, "method": "tools/call", "params": {"name": "x", "_meta": MODERN_META}}),
        _received({"id": 5, "result": {"content": 5, "isError": "maybe"}}),
    ]
    error = _refusal(CallToolResult, {"content": 5, "isError": "maybe"})

    explained = nonconforming(ExceptionGroup("session", [error]), messages)

    assert explained is not None
    assert explained.startswith("its reply to tools/call does not conform to MCP 2026-07-28: ")
    assert "result.content: Input should be a valid list" in explained
    assert "result.isError: Input should be a valid boolean" in explained


def test_many_problems_are_counted_beyond_the_first_three() -> None:
    tools = [{"name": n} for n in range(5)]
    error = _refusal(ListToolsResult, {"tools": tools})
    explained = nonconforming(error, [])
    assert explained is not None
    assert explained.startswith(
        "a reply of the server does not conform to the MCP version it negotiated: "
        "result.tools.0.name: Input should be a valid string"
    )
    assert explained.endswith(f"(and {len(error.errors()) - 3} more)")


def test_other_failures_are_not_taken_for_a_nonconforming_reply() -> None:
    assert nonconforming(TimeoutError(), HANDSHAKE) is None
    assert nonconforming(ExceptionGroup("g", [ConnectionError("refused")]), HANDSHAKE) is None


def test_an_errors_details_travel_over_the_api() -> None:
    exchange = [m.model_dump(mode="json") for m in HANDSHAKE]
    sent = Unavailable("web: its reply …", details={"exchange": exchange}).to_dict()
    back = error_from_dict(sent)
    assert isinstance(back, Unavailable)
    assert back.details == {"exchange": exchange}
    # An error without details keeps the body it always had.
    assert Unavailable("gone").to_dict() == {
        "code": "unavailable",
        "message": "gone",
        "field": None,
    }
