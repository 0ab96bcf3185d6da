"""Why an inspector session failed, in words: a reply that breaks the protocol names its field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp_types import PROTOCOL_VERSION_META_KEY
from pydantic import ValidationError

from mcp_console.schemas.monitor import RpcDirection, RpcMessage

# Problems named in one message; the exchange shows the rest.
MAX_PROBLEMS = 3


def innermost(exc: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def spoken_version(messages: Sequence[RpcMessage]) -> str | None:
    """The protocol version of the session: the last one a request carried (2026-07-28
    requests name it in ``_meta``) or the server agreed to in the handshake."""
    version: str | None = None
    for message in messages:
        payload = message.payload
        params = payload.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        result = payload.get("result")
        if message.direction is RpcDirection.SENT and isinstance(meta, dict):
            found = meta.get(PROTOCOL_VERSION_META_KEY)
        elif message.direction is RpcDirection.RECEIVED and isinstance(result, dict):
            found = result.get("protocolVersion")
        else:
            found = None
        if isinstance(found, str):
            version = found
    return version


def answered_method(messages: Sequence[RpcMessage]) -> str | None:
    """The method of the request the last reply answered."""
    sent = {
        _key(m.payload.get("id")): m.payload.get("method")
        for m in messages
        if m.direction is RpcDirection.SENT and "method" in m.payload
    }
    for message in reversed(messages):
        payload = message.payload
        if message.direction is RpcDirection.RECEIVED and ("result" in payload):
            method = sent.get(_key(payload.get("id")))
            return method if isinstance(method, str) else None
    return None


def nonconforming(exc: BaseException, messages: Sequence[RpcMessage]) -> str | None:
    """What is wrong with a reply the client refused as not conforming to the protocol,
    or ``None`` when ``exc`` is not such a refusal.

    The SDK validates each result against the negotiated version's schema and raises
    pydantic's ``ValidationError``; this says which reply, which fields, which version.
    """
    error = innermost(exc)
    if not isinstance(error, ValidationError):
        return None
    method = answered_method(messages)
    version = spoken_version(messages)
    problems = _problems(error)
    shown = "; ".join(problems[:MAX_PROBLEMS])
    if len(problems) > MAX_PROBLEMS:
        shown += f" (and {len(problems) - MAX_PROBLEMS} more)"
    reply = f"its reply to {method}" if method else "a reply of the server"
    spoken = f"MCP {version}" if version else "the MCP version it negotiated"
    return f"{reply} does not conform to {spoken}: {shown}"


def _problems(error: ValidationError) -> list[str]:
    """Each wrong field once, as ``result.<path> …`` (a union's branches say it twice)."""
    found: dict[str, str] = {}
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        # Where the SDK tried several result types, the first part names the type.
        if len(loc) > 1 and loc[0][:1].isupper() and not loc[0].isdigit():
            loc = loc[1:]
        path = ".".join(["result", *loc])
        if item["type"] == "missing":
            found.setdefault(path, f"{path} is required but missing")
        else:
            found.setdefault(path, f"{path}: {item['msg']}")
    return list(found.values())


def _key(request_id: Any) -> str:
    return repr(request_id)
