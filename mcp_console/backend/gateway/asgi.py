"""The gateway's ASGI app: ``/mcp/{owner}/{deployment}``, one Streamable HTTP endpoint each."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from mcp.shared.inbound import decode_header_value
from mcp_types import UNSUPPORTED_PROTOCOL_VERSION
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mcp_console.backend.gateway import owned_stdio, upstream_http, upstream_stdio
from mcp_console.backend.gateway.auth import bearer_key
from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.exchange import (
    FORBIDDEN,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    NOT_FOUND,
    QUOTA_EXCEEDED,
    RATE_LIMITED,
    UNAUTHORIZED,
    UNAVAILABLE,
    ClientGone,
    Exchange,
)
from mcp_console.backend.gateway.quota import QuotaRefusal
from mcp_console.backend.gateway.routing import DeploymentRoute, InstanceLimit
from mcp_console.backend.gateway.sessions import GatewaySession
from mcp_console.backend.gateway.stdio_mux import MuxClosed
from mcp_console.backend.gateway.tool_hold import held_back
from mcp_console.schemas.errors import Unauthorized, Unavailable

logger = logging.getLogger(__name__)

_HANDSHAKE_VERSIONS = frozenset(v.encode() for v in HANDSHAKE_PROTOCOL_VERSIONS)
_NAMED = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_METHODS = frozenset({"POST", "GET", "DELETE"})
_ALLOW = ((b"allow", b"GET, POST, DELETE, OPTIONS"),)
_WWW_AUTHENTICATE = ((b"www-authenticate", b'Bearer realm="mcp-console"'),)
_CORS_ALLOW_HEADERS = (
    b"authorization, content-type, accept, mcp-session-id, mcp-protocol-version, "
    b"mcp-method, mcp-name, last-event-id"
)


class McpEndpoint:
    """The ASGI handler behind every deployment's endpoint.

    In order: the Host header (403), the deployment (404), the browser's Origin (403),
    the API key (401), the caller's right to this deployment (403), the key's rate (429),
    the body's size (413), a held-back tool, the caller's quotas for a billable call (429);
    then the request goes to the session's instance, or to a balanced one, over HTTP or
    through a stdio multiplexer.
    """

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``scope`` through Starlette's router (path params already matched)."""
        params = scope["path_params"]
        await self.serve(scope, receive, send, params["owner"], params["deployment"])

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, owner: str, name: str
    ) -> None:
        """Serve one request to the endpoint of ``owner/name``."""
        gw = self.gw
        ex = Exchange(scope, receive, send, gw.settle)
        host = ex.host
        if host is None or not gw.host_allowed(host):
            # Before anything else, key or not: a page served under a rebinding DNS name
            # must learn nothing from a gateway on loopback.
            await ex.reply_error(403, FORBIDDEN, _host_refused(host))
            return
        origin = ex.origin
        if origin is not None and gw.origin_allowed(origin):
            ex.extra_headers = (
                (b"access-control-allow-origin", origin),
                (b"access-control-expose-headers", b"mcp-session-id"),
                (b"vary", b"origin"),
            )
        route = gw.routes.lookup(owner, name)
        if route is None:
            # Not metered: there is no deployment to count it against. Only a caller with a
            # valid key learns that: anyone else cannot probe which deployments exist.
            if await self._known_caller(ex):
                await ex.reply_error(404, NOT_FOUND, f"no deployment {owner}/{name}")
            return
        if ex.http_method == "OPTIONS":
            # A browser's CORS preflight: answered for allowed origins, never metered.
            if ex.extra_headers:
                await self._preflight(ex)
            else:
                await ex.reply_error(403, FORBIDDEN, "Forbidden: requests from this origin")
            return
        ex.deployment_id = route.deployment_id
        try:
            await self._serve(ex, route)
        except ClientGone:
            pass
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not (ex.client_gone or ex.aborted) or task is None:
                raise
            task.uncancel()
            if ex.aborted:
                await _ended_by_gateway(ex)
        except Exception:
            logger.exception("gateway request to %s failed", route.path)
            if not ex.status:
                await ex.reply_error(500, INTERNAL_ERROR, "the gateway failed; see its log")
        finally:
            ex.finish(gw.meter, gw.quota)

    async def _known_caller(self, ex: Exchange) -> bool:
        """Whether the request carries a valid key; if not, it has been answered 401."""
        key = bearer_key(ex.authorization)
        if key is not None:
            try:
                self.gw.auth.cached(key) or await self.gw.auth.principal(key)
            except Unauthorized:
                pass
            except Exception as exc:
                logger.warning("cannot check an API key: %r", exc)
            else:
                return True
        await ex.reply_error(
            401,
            UNAUTHORIZED,
            "Unauthorized: send 'Authorization: Bearer <API key>'",
            headers=_WWW_AUTHENTICATE,
        )
        return False

    async def _serve(self, ex: Exchange, route: DeploymentRoute) -> None:
        gw = self.gw
        if ex.origin is not None and not ex.extra_headers:
            await ex.reply_error(403, FORBIDDEN, "Forbidden: requests from this origin")
            return
        key = bearer_key(ex.authorization)
        if key is None:
            await ex.reply_error(
                401,
                UNAUTHORIZED,
                "Unauthorized: send 'Authorization: Bearer <API key>'",
                headers=_WWW_AUTHENTICATE,
            )
            return
        try:
            principal = gw.auth.cached(key) or await gw.auth.principal(key)
        except Unauthorized:
            await ex.reply_error(
                401,
                UNAUTHORIZED,
                "Unauthorized: the API key is not valid",
                headers=_WWW_AUTHENTICATE,
            )
            return
        except Exception as exc:
            logger.warning("cannot check an API key: %r", exc)
            await ex.reply_error(503, UNAVAILABLE, "the gateway cannot check API keys right now")
            return
        ex.user_id = principal.user_id
        ex.key_id = principal.key_id
        if not route.may_call(principal):
            why = (
                "this API key is limited to other deployments"
                if not principal.in_scope(route.deployment_id)
                else f"{route.path} is not shared with {principal.name}"
            )
            await ex.reply_error(403, FORBIDDEN, f"Forbidden: {why}")
            return
        wait = gw.auth.allow(key)
        if wait is not None:
            await ex.reply_error(
                429,
                RATE_LIMITED,
                "Too many requests for this API key",
                headers=((b"retry-after", str(max(1, math.ceil(wait))).encode()),),
            )
            return
        if ex.http_method not in _METHODS:
            await ex.reply_empty(405, _ALLOW)
            return
        if ex.http_method == "POST":
            limit = gw.config.max_body_bytes
            length = ex.content_length
            if (length is not None and length > limit) or not await ex.read_body(limit):
                await ex.reply_error(
                    413, INVALID_REQUEST, f"the request body exceeds {limit} bytes"
                )
                return
        ex.watch_disconnect()
        held = route.blocked_tools
        if gw.unfiltered_keys and key in gw.unfiltered_keys:
            # The console's own look at the definitions: every tool, and no traffic to count.
            held = frozenset()
            ex.metered = False
        session_header = ex.session_id
        if session_header is not None:
            await self._in_session(ex, route, session_header, held)
            return
        version = ex.protocol_version
        ex.modern = version is not None and version not in _HANDSHAKE_VERSIONS
        _note_method(ex)
        if held and await held_back(ex, route, held):
            return
        refusal = _reserve(gw, ex) if ex.metered else None
        if refusal is not None:
            await _refuse(ex, refusal)
            return
        per_session = route.session_mode == "per-session"
        # A 2026-07-28 request carries no session to keep apart: the replicas of a per-session
        # deployment serve it, as they would for a shared one.
        instance = gw.balancer.pick(route) if ex.modern or not per_session else None
        if per_session and instance is None:
            await self._per_session(ex, route)
            return
        if instance is None:
            await ex.reply_error(
                503,
                UNAVAILABLE,
                f"{route.path} has no healthy instance right now",
                headers=((b"retry-after", b"1"),),
            )
            return
        opening = ex.method == "initialize" and not ex.modern
        if opening and gw.at_capacity():
            await ex.reply_error(503, UNAVAILABLE, "the gateway holds too many sessions")
            return
        if instance.transport == "stdio":
            await upstream_stdio.serve_unpinned(gw, ex, route, instance)
        else:
            await upstream_http.serve_unpinned(gw, ex, route, instance, mint=opening)

    async def _in_session(
        self, ex: Exchange, route: DeploymentRoute, header: bytes, held: frozenset[str]
    ) -> None:
        gw = self.gw
        session = gw.sessions.get(header.decode("latin-1"))
        if (
            session is None
            or not session.open
            or session.deployment_id != route.deployment_id
            or session.user_id != ex.user_id
        ):
            _note_method(ex)
            await ex.reply_error(404, INVALID_REQUEST, "Session not found")
            return
        _note_method(ex)
        if held and await held_back(ex, route, held):
            return
        refusal = _reserve(gw, ex) if ex.metered else None
        if refusal is not None:
            await _refuse(ex, refusal)
            return
        stream = ex.http_method == "GET"
        gw.sessions.begin(session, ex, stream=stream)
        try:
            if session.outbox is not None:
                await owned_stdio.serve(gw, ex, session)
            elif session.instance.transport == "stdio":
                await upstream_stdio.serve_pinned(gw, ex, session)
            else:
                await upstream_http.serve_pinned(gw, ex, session)
        finally:
            gw.sessions.end(session, ex, stream=stream)

    async def _per_session(self, ex: Exchange, route: DeploymentRoute) -> None:
        """Sessionless requests to a per-session deployment: ``initialize`` opens a session
        with an instance of its own; a 2026-07-28 request finding no replica to serve it is
        told to open one."""
        gw = self.gw
        if ex.modern:
            await ex.reply_error(
                400,
                UNSUPPORTED_PROTOCOL_VERSION,
                f"{route.path} gives each session its own instance: send initialize",
                data={
                    "supported": list(HANDSHAKE_PROTOCOL_VERSIONS),
                    "requested": (ex.protocol_version or b"").decode("latin-1"),
                },
            )
            return
        if ex.http_method != "POST" or ex.method != "initialize":
            await ex.reply_error(400, INVALID_REQUEST, "Bad Request: Missing session ID")
            return
        if gw.at_capacity():
            await ex.reply_error(503, UNAVAILABLE, "the gateway holds too many sessions")
            return
        request_id = ex.request_id
        try:
            session = await gw.open_dedicated(route, ex.user_id or 0, ex.key_id)
        except InstanceLimit as exc:
            await ex.reply_error(
                503,
                UNAVAILABLE,
                exc.message,
                data={"limit": exc.limit, "retryAfter": exc.retry_after},
                request_id=request_id,
                headers=((b"retry-after", str(exc.retry_after).encode()),),
            )
            return
        except Unavailable as exc:
            await ex.reply_error(503, UNAVAILABLE, exc.message, request_id=request_id)
            return
        await self._initialize_dedicated(ex, session)

    async def _initialize_dedicated(self, ex: Exchange, session: GatewaySession) -> None:
        gw = self.gw
        try:
            if session.instance.transport == "stdio":
                # Its own server: opened with the client's own initialize.
                mux = gw.own_mux(session)
                ex.instance_id = session.instance.instance_id
                await owned_stdio.initialize(gw, ex, mux, session, ex.message)
            else:
                gw.open_session(session)
                gw.sessions.begin(session, ex, stream=False)
                try:
                    await upstream_http.serve_pinned(gw, ex, session)
                finally:
                    gw.sessions.end(session, ex, stream=False)
        except MuxClosed as exc:
            await ex.reply_error(502, UNAVAILABLE, str(exc))
        finally:
            if not 200 <= ex.status < 300 or gw.sessions.get(session.id) is not session:
                # The session never began (or its server refused it): give its instance back.
                gw.end_session(session, upstream=False)

    async def _preflight(self, ex: Exchange) -> None:
        requested = b""
        for name, value in ex.headers:
            if name == b"access-control-request-headers":
                requested = value
        await ex.reply_empty(
            204,
            (
                (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
                (b"access-control-allow-headers", requested or _CORS_ALLOW_HEADERS),
                (b"access-control-max-age", b"600"),
            ),
        )


def _host_refused(host: bytes | None) -> str:
    """Why a request naming ``host`` is refused, and the setting that would allow it."""
    if host is None:
        return "Forbidden: the request has no Host header"
    shown = host[:100].decode("latin-1")
    return (
        f"Forbidden: this gateway does not answer for Host {shown!r}; "
        "allow it with MCP_CONSOLE_GATEWAY__ALLOWED_HOSTS"
    )


async def _ended_by_gateway(ex: Exchange) -> None:
    """Finish a request whose session the gateway ended while it ran."""
    if not ex.status:
        await ex.reply_error(404, INVALID_REQUEST, "Session not found: it was ended")
    elif not ex.done:
        # A stream already under way (the GET stream, an SSE reply) simply ends.
        await ex.write(b"", more=False)


def _reserve(gw: Gateway, ex: Exchange) -> QuotaRefusal | None:
    """Take the call's quota reservation (kept on the exchange); the refusal, if a limit
    has no room for it."""
    try:
        ex.hold = gw.quota.reserve(
            ex.user_id or 0, ex.key_id, ex.deployment_id, ex.method, ex.tool_name
        )
    except QuotaRefusal as refusal:
        return refusal
    return None


async def _refuse(ex: Exchange, refusal: QuotaRefusal) -> None:
    """429 with what an agent needs to act on it; the call is never billed."""
    await ex.reply_error(
        429,
        QUOTA_EXCEEDED,
        refusal.message,
        data=refusal.data,
        request_id=ex.request_id,
        headers=((b"retry-after", str(refusal.retry_after).encode()),),
    )


def _note_method(ex: Exchange) -> None:
    """Fill in the method and tool name the meter records (the body is parsed only if needed)."""
    if ex.http_method != "POST":
        ex.method = ex.http_method
        return
    header = ex.mcp_method
    if ex.modern and header is not None:
        ex.method = header.decode("latin-1")
        name = ex.mcp_name
        if name is not None and ex.method in _NAMED:
            text = name.decode("latin-1")
            ex.tool_name = decode_header_value(text) if text.startswith("=?") else text
        return
    message: Any = ex.message
    if not isinstance(message, dict):
        return
    method = message.get("method")
    if not isinstance(method, str):
        return
    ex.method = method
    field = _NAMED.get(method)
    if field is not None:
        params = message.get("params")
        value = params.get(field) if isinstance(params, dict) else None
        if isinstance(value, str):
            ex.tool_name = value


async def _health(_request: Request) -> Response:
    return JSONResponse({"ok": True})


class GatewayApp:
    """The ASGI app: endpoint requests go straight to ``McpEndpoint``, the rest to Starlette.

    Every MCP call passes here, so the endpoint path is matched by hand rather than by
    Starlette's router and middleware stack, which would cost more than the proxying.
    """

    def __init__(self, gateway: Gateway) -> None:
        self.endpoint = McpEndpoint(gateway)
        self.starlette = Starlette(
            routes=[
                Route("/mcp/{owner}/{deployment}", endpoint=self.endpoint),
                Route("/healthz", endpoint=_health, methods=["GET"]),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith("/mcp/"):
                owner, _, name = path[5:].partition("/")
                if owner and name and "/" not in name:
                    await self.endpoint.serve(scope, receive, send, owner, name)
                    return
        await self.starlette(scope, receive, send)


def create_app(gateway: Gateway) -> GatewayApp:
    """The gateway's ASGI app: ``/mcp/{owner}/{deployment}`` and ``/healthz``."""
    return GatewayApp(gateway)
