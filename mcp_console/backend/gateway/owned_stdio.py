"""A client session that owns its stdio server: everything either side says is passed on."""

# A per-session deployment gives each handshake-era session a server process of its own,
# so nothing needs hiding or refusing: the client's initialize goes to the server as the
# client sent it (its capabilities, so the server offers what this client can do), every
# request and notification goes on, and what the server says on its own (sampling,
# elicitation and roots requests; logs, list changes, resource updates, cancellations)
# reaches the client on its GET stream, or, while none is open, on the SSE reply of a
# request in flight. The server's requests keep the server's ids and the client's replies
# go back as they came: with one client on the connection, ids cannot clash.

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from mcp_types import METHOD_NOT_FOUND, UNSUPPORTED_PROTOCOL_VERSION

from mcp_console.backend.gateway.exchange import (
    INVALID_REQUEST,
    SESSION_HEADER,
    SSE_HEADERS,
    UNAVAILABLE,
    Exchange,
)
from mcp_console.backend.gateway.sessions import GatewaySession, Outbox
from mcp_console.backend.gateway.stdio_mux import PROBE_TIMEOUT, MuxClosed, StdioMux, dumps
from mcp_console.backend.gateway.upstream_stdio import answer_initialize, bad_body, sse

if TYPE_CHECKING:
    from mcp_console.backend.gateway.core import Gateway

# A comment line on an idle GET stream now and then keeps proxies and clients from
# timing it out.
KEEPALIVE_SECONDS = 15.0
_KEEPALIVE = b": keep-alive\r\n\r\n"
_ALLOW = ((b"allow", b"GET, POST, DELETE"),)
# Errors a server that speaks only 2026-07-28 gives a handshake.
_NO_HANDSHAKE = frozenset({UNSUPPORTED_PROTOCOL_VERSION, METHOD_NOT_FOUND})


async def initialize(
    gw: Gateway, ex: Exchange, mux: StdioMux, session: GatewaySession, message: dict[str, Any]
) -> None:
    """Open the session with the client's own ``initialize``, answered by its server.

    A server that refuses the handshake but speaks 2026-07-28 is opened that way instead,
    and the session is then served as a shared connection would be (no messages of the
    server's own reach it), so the reply advertises only what can be delivered.
    """
    params = message.get("params")
    params = params if isinstance(params, dict) else {}
    pending = await mux.request(dict(message), client_id=message["id"])
    await pending.future
    mux.forget(pending)
    if pending.error is None:
        reply: Any = _parsed(pending.reply)
        result = reply.get("result") if isinstance(reply, dict) else None
        if isinstance(result, dict):
            mux.era, mux.server_result = "legacy", result
            version = result.get("protocolVersion")
            session.protocol_version = version if isinstance(version, str) else ""
            session.client_info = params.get("clientInfo")
            gw.open_session(session)
            ex.method = "initialize"
            await ex.reply(200, pending.reply, [(SESSION_HEADER, session.id.encode())])
            return
    if pending.error in _NO_HANDSHAKE and await mux.open_modern(PROBE_TIMEOUT):
        mux.sink = None
        session.outbox = None
        await answer_initialize(gw, ex, mux, session, message)
        return
    ex.error = pending.error or True
    await ex.reply(200, pending.reply)


async def serve(gw: Gateway, ex: Exchange, session: GatewaySession) -> None:
    """A request in a session that owns its stdio server."""
    ex.instance_id = session.instance.instance_id
    if ex.http_method == "DELETE":
        gw.end_session(session, upstream=False)
        await ex.reply_empty(200)
        return
    outbox = session.outbox
    mux = gw.owned_mux(session.instance)
    if outbox is None or mux is None:
        await ex.reply_error(404, INVALID_REQUEST, "Session not found: its server has ended")
        return
    if ex.http_method == "GET":
        await _stream(ex, outbox)
        return
    if ex.http_method != "POST":
        await ex.reply_empty(405, _ALLOW)
        return
    message = ex.message
    if not isinstance(message, dict):
        await bad_body(ex)
        return
    method = message.get("method")
    try:
        if method is None:
            await _pass_reply(ex, mux, message)
        elif "id" not in message:
            await _pass_notification(ex, mux, session, message)
        elif method == "initialize":
            await ex.reply_error(
                400,
                INVALID_REQUEST,
                "this session is already initialized",
                request_id=message["id"],
            )
        else:
            await _forward(gw, ex, session, mux, message)
    except MuxClosed as exc:
        if ex.status:
            ex.error = UNAVAILABLE
        else:
            await ex.reply_error(502, UNAVAILABLE, str(exc), request_id=message.get("id"))


async def _pass_reply(ex: Exchange, mux: StdioMux, message: dict[str, Any]) -> None:
    """The client's answer to one of the server's requests: back to the server as it is."""
    if "id" not in message or ("result" not in message and "error" not in message):
        await bad_body(ex)
        return
    ex.method = "response"
    await mux.send_raw(dumps(message))  # re-encoded: the body may span several lines
    await ex.reply_empty(202)


async def _pass_notification(
    ex: Exchange, mux: StdioMux, session: GatewaySession, message: dict[str, Any]
) -> None:
    if message.get("method") == "notifications/cancelled":
        # The server knows the request by the gateway's id for it.
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        pending = session.upstream_ids.get(params.get("requestId"))
        if pending is not None:
            mux.cancel(pending, str(params.get("reason") or "cancelled by the client"))
    else:
        await mux.send_raw(dumps(message))
    await ex.reply_empty(202)


async def _forward(
    gw: Gateway, ex: Exchange, session: GatewaySession, mux: StdioMux, message: dict[str, Any]
) -> None:
    """One request; its reply as JSON, or as SSE once anything else must go with it.

    Progress for the request goes on its reply. So do the server's own messages while
    the session has no GET stream open (a server asking for sampling during a tool call
    must reach the client before the call can end).
    """
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    streamed = isinstance(meta, dict) and "progressToken" in meta
    client_id = message["id"]
    outbox = session.outbox
    assert outbox is not None
    deployment_id, instance = session.deployment_id, session.instance
    loop = asyncio.get_running_loop()
    gw.balancer.begin(deployment_id, instance)
    pending = None
    try:
        pending = await mux.request(message, client_id=client_id, streamed=streamed)
        session.upstream_ids[client_id] = pending
        events = pending.events
        while True:
            # Once the reply is in, only what the server said before it goes ahead of it.
            before = pending.sunk if pending.future.done() else None
            if events or (not outbox.streams and outbox.has_before(before)):
                if not ex.status:
                    await ex.start(200, SSE_HEADERS)
                while events:
                    await ex.write(sse(events.popleft()))
                while not outbox.streams and (data := outbox.take(before)) is not None:
                    await ex.write(sse(data))
                continue
            if pending.future.done():
                break
            wake = pending.wake = loop.create_future()
            outbox.waiters.add(wake)
            try:
                await wake
            finally:
                pending.wake = None
                outbox.waiters.discard(wake)
        pending.future.result()  # raises MuxClosed when the server ended first
        if pending.error is not None:
            ex.error = pending.error
        if ex.status:
            await ex.write(sse(pending.reply), more=False)
        else:
            await ex.reply(200, pending.reply)
    except asyncio.CancelledError:
        if pending is not None:
            mux.cancel(pending, "the client disconnected")
        raise
    finally:
        gw.balancer.end(deployment_id, instance)
        session.upstream_ids.pop(client_id, None)


async def _stream(ex: Exchange, outbox: Outbox) -> None:
    """The session's GET stream: the server's own messages, as they come, until it ends."""
    loop = asyncio.get_running_loop()
    outbox.streams += 1
    try:
        await ex.start(200, SSE_HEADERS)
        while not outbox.closed:
            while (data := outbox.take()) is not None:
                await ex.write(sse(data))
            wake = loop.create_future()
            outbox.waiters.add(wake)
            try:
                await asyncio.wait_for(wake, KEEPALIVE_SECONDS)
            except TimeoutError:
                await ex.write(_KEEPALIVE)
            finally:
                outbox.waiters.discard(wake)
        await ex.write(b"", more=False)
    finally:
        outbox.streams -= 1
        if outbox.messages and not outbox.streams:
            outbox.wake()  # a reply in flight carries them now


def _parsed(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
