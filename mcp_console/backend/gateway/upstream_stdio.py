"""Serving Streamable HTTP clients of both eras from a stdio instance, through its StdioMux."""

# The gateway terminates HTTP here: it answers the handshake itself (from what the
# server said when the mux opened its connection), keeps each handshake-era session's
# state, and turns every client request into one request on the mux. A server that
# speaks 2026-07-28 serves both eras: handshake-era requests get the per-request
# envelope added. A server that predates it serves handshake-era clients only, and a
# modern request is told so (-32022), which makes dual-era clients fall back.

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    InboundLadderRejection,
    classify_inbound_request,
)
from mcp_types import (
    SERVER_INFO_META_KEY,
    UNSUPPORTED_PROTOCOL_VERSION,
)
from mcp_types.version import (
    HANDSHAKE_PROTOCOL_VERSIONS,
    LATEST_HANDSHAKE_VERSION,
)

from mcp_console.backend.gateway.envelope import modern_envelope
from mcp_console.backend.gateway.exchange import (
    INVALID_REQUEST,
    PARSE_ERROR,
    SESSION_HEADER,
    SSE_HEADERS,
    UNAVAILABLE,
    Exchange,
)
from mcp_console.backend.gateway.routing import DeploymentRoute, UpstreamInstance
from mcp_console.backend.gateway.sessions import GatewaySession
from mcp_console.backend.gateway.stdio_mux import MuxClosed, Pending, StdioMux, dumps

if TYPE_CHECKING:
    from mcp_console.backend.gateway.core import Gateway

METHOD_NOT_FOUND = -32601
# What a shared connection cannot deliver to one session: the server's logs and resource
# updates come on their own, naming no request, so nobody could be given them.
_UNDELIVERABLE = frozenset({"resources/subscribe", "resources/unsubscribe", "logging/setLevel"})
_ALLOW = ((b"allow", b"POST, DELETE"),)


def sse(data: bytes) -> bytes:
    """One JSON-RPC message as an SSE event."""
    return b"event: message\r\ndata: " + data + b"\r\n\r\n"


def deliverable(capabilities: Any) -> dict[str, Any]:
    """A server's capabilities as a shared connection can honour them for one session.

    Change notifications, resource subscriptions and logs are notifications the server
    sends on its own; on a connection shared between sessions they cannot be routed to
    one client, so they are not advertised (a client would wait for them in vain).
    """
    if not isinstance(capabilities, dict):
        return {}
    kept = {k: v for k, v in capabilities.items() if k != "logging"}
    for key in ("tools", "prompts", "resources"):
        value = kept.get(key)
        if isinstance(value, dict):
            kept[key] = {k: v for k, v in value.items() if k not in ("listChanged", "subscribe")}
    return kept


def _result(request_id: Any, result: Any) -> bytes:
    return dumps({"jsonrpc": "2.0", "id": request_id, "result": result})


async def serve_unpinned(
    gw: Gateway, ex: Exchange, route: DeploymentRoute, instance: UpstreamInstance
) -> None:
    """A request outside any session: a modern request, or a handshake-era ``initialize``."""
    if ex.http_method != "POST":
        await ex.reply_empty(405, _ALLOW)
        return
    mux = await _mux(gw, ex, instance)
    if mux is None:
        return
    message = ex.message
    if not isinstance(message, dict):
        await bad_body(ex)
        return
    ex.instance_id = instance.instance_id
    if ex.modern:
        await _serve_modern(gw, ex, route, instance, mux, message)
    elif message.get("method") == "initialize" and "id" in message:
        session = GatewaySession(
            id="",
            deployment_id=route.deployment_id,
            user_id=ex.user_id or 0,
            key_id=ex.key_id,
            instance=instance,
        )
        await answer_initialize(gw, ex, mux, session, message)
    else:
        await ex.reply_error(400, INVALID_REQUEST, "Bad Request: Missing session ID")


async def serve_pinned(gw: Gateway, ex: Exchange, session: GatewaySession) -> None:
    """A request in a handshake-era session on a stdio instance."""
    ex.instance_id = session.instance.instance_id
    if ex.http_method == "DELETE":
        gw.end_session(session, upstream=False)
        await ex.reply_empty(200)
        return
    if ex.http_method != "POST":
        # No standalone stream: nothing a shared server says belongs to one session.
        await ex.reply_empty(405, _ALLOW)
        return
    mux = await _mux(gw, ex, session.instance)
    if mux is None:
        return
    message = ex.message
    if not isinstance(message, dict):
        await bad_body(ex)
        return
    method = message.get("method")
    if "id" not in message or not isinstance(method, str):
        if method == "notifications/cancelled":
            params = message.get("params")
            request_id = params.get("requestId") if isinstance(params, dict) else None
            pending = session.upstream_ids.get(request_id)
            if pending is not None:
                mux.cancel(pending, "cancelled by the client")
        await ex.reply_empty(202)
        return
    request_id = message["id"]
    if method == "initialize":
        await ex.reply_error(
            400, INVALID_REQUEST, "this session is already initialized", request_id=request_id
        )
    elif method == "ping":
        await ex.reply(200, _result(request_id, {}))  # needs no server
    elif method in _UNDELIVERABLE:
        # Never a pretended success: the notifications it asks for could not be delivered.
        await ex.reply_error(
            200,
            METHOD_NOT_FOUND,
            f"{method} is not available: this deployment shares one server connection "
            "between sessions, so the notifications it asks for cannot reach one of them "
            "(a per-session deployment delivers them)",
            request_id=request_id,
        )
    else:
        if mux.era == "modern":
            _add_envelope(message, session)
        await forward(gw, ex, session.deployment_id, session.instance, mux, message, session)


async def answer_initialize(
    gw: Gateway, ex: Exchange, mux: StdioMux, session: GatewaySession, message: dict[str, Any]
) -> None:
    """Open a handshake-era session: answered by the gateway from the server's own reply."""
    params = message.get("params")
    params = params if isinstance(params, dict) else {}
    requested = params.get("protocolVersion")
    version = requested if requested in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION
    known = mux.server_result
    if mux.era == "legacy":
        result = dict(known)
        result["protocolVersion"] = version
        result["capabilities"] = deliverable(known.get("capabilities"))
    else:
        meta = known.get("_meta")
        server_info = meta.get(SERVER_INFO_META_KEY) if isinstance(meta, dict) else None
        result = {
            "protocolVersion": version,
            "capabilities": deliverable(known.get("capabilities")),
            "serverInfo": server_info or {"name": mux.name or "mcp-server", "version": "0"},
        }
        if known.get("instructions"):
            result["instructions"] = known["instructions"]
    session.protocol_version = version
    session.client_info = params.get("clientInfo")
    gw.open_session(session)
    ex.method = "initialize"
    await ex.reply(200, _result(message["id"], result), [(SESSION_HEADER, session.id.encode())])


async def _serve_modern(
    gw: Gateway,
    ex: Exchange,
    route: DeploymentRoute,
    instance: UpstreamInstance,
    mux: StdioMux,
    message: dict[str, Any],
) -> None:
    if mux.era != "modern":
        # Its questions to a client (sampling, elicitation, roots) need a session to go
        # back on: the client is told to open one rather than have them answered for it.
        await ex.reply_error(
            400,
            UNSUPPORTED_PROTOCOL_VERSION,
            "this server speaks only the handshake era (2025-11-25 and before): "
            "connect with initialize",
            data={
                "supported": list(HANDSHAKE_PROTOCOL_VERSIONS),
                "requested": (ex.protocol_version or b"").decode("latin-1"),
            },
            request_id=message.get("id"),
        )
        return
    if "id" not in message:
        await ex.reply_empty(202)  # the modern HTTP wire defines no client notifications
        return
    verdict = classify_inbound_request(message, headers=ex.routing_headers())
    if isinstance(verdict, InboundLadderRejection):
        # The server never sees the headers: the gateway checks they mirror the body.
        await ex.reply_error(
            ERROR_CODE_HTTP_STATUS.get(verdict.code, 400),
            verdict.code,
            verdict.message,
            data=verdict.data,
            request_id=message["id"],
        )
        return
    await forward(gw, ex, route.deployment_id, instance, mux, message, None)


async def forward(
    gw: Gateway,
    ex: Exchange,
    deployment_id: int,
    instance: UpstreamInstance,
    mux: StdioMux,
    message: dict[str, Any],
    session: GatewaySession | None,
) -> None:
    """One request over the mux; the reply as JSON, or as SSE when progress was asked for."""
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    streamed = message.get("method") == "subscriptions/listen" or (
        isinstance(meta, dict) and "progressToken" in meta
    )
    client_id = message["id"]
    gw.balancer.begin(deployment_id, instance)
    pending: Pending | None = None
    try:
        pending = await mux.request(message, client_id=client_id, streamed=streamed)
        if session is not None:
            session.upstream_ids[client_id] = pending
        if streamed:
            await _stream(ex, pending)
        else:
            await pending.future
            status = 200
            if pending.error is not None:
                ex.error = pending.error
                if session is None:  # 2026-07-28 maps error codes to HTTP statuses
                    status = ERROR_CODE_HTTP_STATUS.get(pending.error, 200)
            await ex.reply(status, pending.reply)
    except MuxClosed as exc:
        if ex.status:
            ex.error = UNAVAILABLE
        else:
            await ex.reply_error(502, UNAVAILABLE, str(exc), request_id=client_id)
    except asyncio.CancelledError:
        if pending is not None:
            mux.cancel(pending, "the client disconnected")
        raise
    finally:
        gw.balancer.end(deployment_id, instance)
        if session is not None:
            session.upstream_ids.pop(client_id, None)


async def _stream(ex: Exchange, pending: Pending) -> None:
    events = pending.events
    assert events is not None
    loop = asyncio.get_running_loop()
    await ex.start(200, SSE_HEADERS)
    while True:
        while events:
            await ex.write(sse(events.popleft()))
        if pending.future.done():
            break
        pending.wake = loop.create_future()
        try:
            await pending.wake
        finally:
            pending.wake = None
    pending.future.result()  # raises MuxClosed when the server ended first
    if pending.error is not None:
        ex.error = pending.error
    await ex.write(sse(pending.reply), more=False)


def _add_envelope(message: dict[str, Any], session: GatewaySession) -> None:
    """Give a handshake-era request the per-request envelope a 2026-07-28 server expects.

    The client's declared capabilities are not passed on: they promise answers to
    server requests, which a shared connection cannot route back to one session.
    """
    params = message.get("params")
    if not isinstance(params, dict):
        params = message["params"] = {}
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        meta = params["_meta"] = {}
    meta.update(modern_envelope(session.client_info))


async def _mux(gw: Gateway, ex: Exchange, instance: UpstreamInstance) -> StdioMux | None:
    try:
        return await gw.mux_ready(instance)
    except MuxClosed as exc:
        await ex.reply_error(502, UNAVAILABLE, str(exc))
        return None


async def bad_body(ex: Exchange) -> None:
    """Refuse a body that is not one JSON-RPC message (400)."""
    if ex.message is None:
        await ex.reply_error(400, PARSE_ERROR, "Parse error: the body is not JSON")
    else:
        await ex.reply_error(
            400, INVALID_REQUEST, "the body must be a single JSON-RPC request or notification"
        )
