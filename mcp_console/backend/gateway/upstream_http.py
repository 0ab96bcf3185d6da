"""Proxying to Streamable HTTP instances: headers rewritten, bodies streamed piece by piece."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from mcp_console.backend.gateway.exchange import (
    INVALID_REQUEST,
    SESSION_HEADER,
    UNAVAILABLE,
    Exchange,
    error_body,
    scan_error,
)
from mcp_console.backend.gateway.httpclient import UpstreamConnection, UpstreamError
from mcp_console.backend.gateway.routing import DeploymentRoute, UpstreamInstance
from mcp_console.backend.gateway.sessions import GatewaySession, mint_session_id

if TYPE_CHECKING:
    from mcp_console.backend.gateway.core import Gateway

# Never forwarded upstream: hop-by-hop headers, the gateway's own credentials, the
# browser's Origin (checked here; the upstream only trusts loopback origins), and the
# session id (replaced by the upstream's own).
_DROP_REQUEST = frozenset(
    {
        b"host",
        b"authorization",
        b"cookie",
        b"origin",
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"expect",
        b"content-length",
        SESSION_HEADER,
    }
)
# Never passed back: hop-by-hop headers, and what the gateway's server sets itself.
_DROP_RESPONSE = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"trailer",
        b"upgrade",
        b"server",
        b"date",
        SESSION_HEADER,
    }
)
_MAX_RETRIES = 2
_EVENT_STREAM = b"text/event-stream"


def request_bytes(ex: Exchange, instance: UpstreamInstance, upstream_sid: bytes | None) -> bytes:
    """The whole upstream request: request line, headers and body."""
    body = ex.body
    parts = [
        ex.http_method.encode(),
        b" ",
        instance.path.encode(),
        b" HTTP/1.1\r\nhost: ",
        instance.authority,
        b"\r\n",
    ]
    drop = _DROP_REQUEST
    # A remote instance's credentials replace whatever the client sent under their names.
    replaced = instance.replaced
    for name, value in ex.headers:
        if name not in drop and name not in replaced:
            parts += (name, b": ", value, b"\r\n")
    if instance.extra_head:
        parts.append(instance.extra_head)
    if upstream_sid is not None:
        parts += (b"mcp-session-id: ", upstream_sid, b"\r\n")
    if body or ex.http_method == "POST":
        parts += (b"content-length: ", str(len(body)).encode(), b"\r\n")
    parts += (b"\r\n", body)
    return b"".join(parts)


async def serve_unpinned(
    gw: Gateway, ex: Exchange, route: DeploymentRoute, instance: UpstreamInstance, *, mint: bool
) -> None:
    """A request outside any session, on a balanced HTTP instance.

    A connection refused means the request never left: the instance is passed over and
    the request tries another. Idempotent reads also retry after other failures that
    happen before any response; anything else (``tools/call``) never runs twice. With
    ``mint`` (a shared-mode ``initialize``), an upstream session id in a successful reply
    becomes a gateway session pinned to the instance that answered.
    """
    balancer = gw.balancer
    deployment_id = route.deployment_id
    idempotent = ex.method in gw.idempotent_methods
    current: UpstreamInstance | None = instance
    for attempt in range(_MAX_RETRIES + 1):
        target = current
        if target is None:
            break
        if target.transport != "streamable-http":
            # A stdio instance in a mixed deployment: no retry past this point.
            await gw.serve_stdio_unpinned(ex, route, target)
            return
        ex.instance_id = target.instance_id
        balancer.begin(deployment_id, target)
        try:
            try:
                conn = await gw.pool.request(
                    target.host, target.port, request_bytes(ex, target, None), tls=target.tls
                )
            except UpstreamError as exc:
                if not exc.received:
                    # Refused, or accepted and dropped unanswered (a dying container's
                    # port proxy does that): new work goes elsewhere for a while.
                    balancer.eject(target)
                if attempt < _MAX_RETRIES and (not exc.sent or (idempotent and not exc.received)):
                    current = balancer.pick(route, exclude=target)
                    continue
                await ex.reply_error(
                    502, UNAVAILABLE, f"instance {target.instance_id} failed: {exc}"
                )
                return
            if await refused_credentials(ex, target, conn):
                return
            session_value: bytes | None = None
            if mint and 200 <= conn.status < 300:
                upstream_sid = _header(conn, SESSION_HEADER)
                if upstream_sid is not None:
                    session = GatewaySession(
                        id=mint_session_id(),
                        deployment_id=deployment_id,
                        user_id=ex.user_id or 0,
                        key_id=ex.key_id,
                        instance=target,
                        upstream_id=upstream_sid,
                    )
                    gw.sessions.add(session)
                    session_value = session.id.encode()
            await relay(ex, conn, session_value)
            return
        finally:
            balancer.end(deployment_id, target)
    await ex.reply_error(503, UNAVAILABLE, f"{route.path} has no instance able to serve")


async def serve_pinned(gw: Gateway, ex: Exchange, session: GatewaySession) -> None:
    """A request in a session, on the instance the session is pinned to (never retried).

    An instance that refuses the connection is gone, and so is the session: 404 tells
    the client to initialize again. A 404 from the instance means it lost the session
    too. DELETE ends the session whatever the instance answers.
    """
    instance = session.instance
    deployment_id = session.deployment_id
    ex.instance_id = instance.instance_id
    gw.balancer.begin(deployment_id, instance)
    try:
        try:
            conn = await gw.pool.request(
                instance.host,
                instance.port,
                request_bytes(ex, instance, session.upstream_id),
                tls=instance.tls,
            )
        except UpstreamError as exc:
            if exc.sent:
                if not exc.received:
                    gw.balancer.eject(instance)
                await ex.reply_error(
                    502, UNAVAILABLE, f"instance {instance.instance_id} failed: {exc}"
                )
                return
            gw.balancer.eject(instance)
            gw.end_session(session, upstream=False)
            await ex.reply_error(
                404, INVALID_REQUEST, "Session not found: its instance is gone; initialize again"
            )
            return
        if await refused_credentials(ex, instance, conn):
            return
        ending = conn.status == 404 or ex.http_method == "DELETE"
        if session.upstream_id is None and (sid := _header(conn, SESSION_HEADER)) is not None:
            # Per-session mode minted our id before the instance answered initialize.
            session.upstream_id = sid
        try:
            await relay(ex, conn, session.id.encode())
        finally:
            if ending:
                gw.end_session(session, upstream=False)
    finally:
        gw.balancer.end(deployment_id, instance)


async def refused_credentials(
    ex: Exchange, instance: UpstreamInstance, conn: UpstreamConnection
) -> bool:
    """Answer 502 when a remote server refuses the credentials the console sent it.

    The caller's own key was good (the gateway checked it); passing the remote's 401 on
    would send the client off to authorize against a server it never talks to.
    """
    if not instance.remote or conn.status not in (401, 403):
        return False
    status = conn.status
    conn.abort()
    await ex.reply_error(
        502,
        UNAVAILABLE,
        f"the remote server behind instance {instance.instance_id} refused the console's "
        f"credentials (HTTP {status}); the deployment's owner must check its headers",
        request_id=_request_id(ex),
    )
    return True


async def relay(ex: Exchange, conn: UpstreamConnection, session_value: bytes | None) -> None:
    """Pass the upstream's response through: status, headers, then each piece as it comes.

    Nothing is buffered: every piece the upstream sends is written to the client at once
    (SSE events arrive as they are produced). A plain reply's status waits for its first
    piece, so an instance that dies between its headers and its body still gets its
    caller a JSON-RPC error rather than a cut-off response. If the client leaves, the
    request task is cancelled and the upstream connection dropped, which the upstream
    sees as cancellation.
    """
    headers = [(n, v) for n, v in conn.headers if n not in _DROP_RESPONSE]
    if session_value is not None:
        headers.append((SESSION_HEADER, session_value))
    streaming = any(n == b"content-type" and v.startswith(_EVENT_STREAM) for n, v in headers)
    try:
        piece: bytes | None = None
        if not streaming:
            try:
                piece = await conn.read()
            except UpstreamError as exc:
                await ex.reply_error(
                    502,
                    UNAVAILABLE,
                    f"instance {ex.instance_id} broke off its reply: {exc}",
                    request_id=_request_id(ex),
                )
                return
        await ex.start(conn.status, headers)
        while True:
            if piece is None:
                try:
                    piece = await conn.read()
                except UpstreamError as exc:
                    await _broken(ex, streaming, str(exc))
                    return
            if ex.error is False and piece:
                code = scan_error(piece)
                if code is not None:
                    ex.error = code
            if conn.complete:
                await ex.write(piece, more=False)
                break
            await ex.write(piece)
            piece = None
    finally:
        conn.release()


async def _broken(ex: Exchange, streaming: bool, reason: str) -> None:
    """The upstream broke off mid-response."""
    ex.error = UNAVAILABLE
    if not streaming:
        # The declared length cannot be met: leaving it short makes the server close
        # the connection, which is the truth.
        return
    event = error_body(UNAVAILABLE, f"the instance broke off: {reason}", request_id=_request_id(ex))
    await ex.write(b"event: message\r\ndata: " + event + b"\r\n\r\n", more=False)


def _request_id(ex: Exchange) -> str | int | None:
    try:
        message = json.loads(ex.body)
    except ValueError:
        return None
    request_id = message.get("id") if isinstance(message, dict) else None
    return request_id if isinstance(request_id, str | int) else None


def _header(conn: UpstreamConnection, name: bytes) -> bytes | None:
    for key, value in conn.headers:
        if key == name:
            return value
    return None
