"""One client request through the gateway: its headers, body, reply helpers and meter record."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from mcp_console.backend.gateway.quota import QuotaCheck
from mcp_console.backend.gateway.records import CLIENT_CLOSED, TOOLS_CALL, Meter, RequestRecord

logger = logging.getLogger(__name__)

# Gateway refusals, in JSON-RPC's implementation-defined range. Clients see them in the
# error body of the HTTP status named beside each.
UNAUTHORIZED = -32010  # 401
FORBIDDEN = -32011  # 403 (also a refused Origin)
RATE_LIMITED = -32012  # 429
QUOTA_EXCEEDED = -32013  # 429
UNAVAILABLE = -32014  # 502/503: no instance, or it failed
NOT_FOUND = -32015  # 404: no such deployment
TOOL_HELD = -32016  # 200: a tool whose changed definition awaits an operator's approval
INVALID_REQUEST = -32600  # 400/404/413: missing or unknown session, body too large
PARSE_ERROR = -32700
INTERNAL_ERROR = -32603
# Seconds a request runs before the gateway starts watching for its client to leave.
WATCH_DELAY = 0.02

SESSION_HEADER = b"mcp-session-id"
JSON_HEADERS = (b"content-type", b"application/json")
SSE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
)

# The request headers the gateway reads, by slot.
_AUTHORIZATION, _ORIGIN, _LENGTH, _SESSION, _VERSION, _METHOD, _NAME, _ACCEPT, _HOST = range(9)
_SLOTS = {
    b"authorization": _AUTHORIZATION,
    b"origin": _ORIGIN,
    b"content-length": _LENGTH,
    SESSION_HEADER: _SESSION,
    b"mcp-protocol-version": _VERSION,
    b"mcp-method": _METHOD,
    b"mcp-name": _NAME,
    b"accept": _ACCEPT,
    b"host": _HOST,
}

_MIRRORED = (("mcp-protocol-version", _VERSION), ("mcp-method", _METHOD), ("mcp-name", _NAME))

# A JSON-RPC error at the top of a reply, as the SDKs serialise it (jsonrpc, id, error).
_ERROR_RE = re.compile(
    rb'\{"jsonrpc":"2\.0","id":(?:-?\d+|"(?:[^"\\]|\\.)*"|null),"error":\{"code":(-?\d+)'
)


def scan_error(data: bytes) -> int | None:
    """The code of a JSON-RPC error reply found in ``data`` (a JSON body or SSE bytes)."""
    if b'"error":{"code":' not in data:
        return None
    match = _ERROR_RE.search(data)
    return int(match.group(1)) if match else None


def error_body(
    code: int, message: str, *, data: Any = None, request_id: str | int | None = None
) -> bytes:
    """A JSON-RPC error reply."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    reply = {"jsonrpc": "2.0", "id": request_id, "error": error}
    return json.dumps(reply, separators=(",", ":")).encode()


Settle = Callable[[RequestRecord], Awaitable[None]]
"""Durable metering: takes a request's record before its reply ends and returns once its
usage is written (raising when it cannot be: the reply is then not sent)."""

_UNPARSED: Any = object()


class ClientGone(Exception):
    """The client disconnected while its request was being read."""


class Exchange:
    """The gateway's view of one HTTP request, and what it will report to the meter."""

    __slots__ = (
        "_task",
        "_timer",
        "_watcher",
        "aborted",
        "at",
        "body",
        "bytes_in",
        "bytes_out",
        "client_gone",
        "deployment_id",
        "done",
        "error",
        "extra_headers",
        "headers",
        "hold",
        "http_method",
        "instance_id",
        "key_id",
        "message_cache",
        "metered",
        "method",
        "modern",
        "receive",
        "recorded",
        "scope",
        "send_raw",
        "settle",
        "started",
        "status",
        "tool_name",
        "user_id",
        "values",
    )

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, settle: Settle | None = None
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.send_raw = send
        self.started = time.perf_counter()
        self.at = time.time()
        self.http_method: str = scope["method"]
        self.headers: list[tuple[bytes, bytes]] = scope["headers"]
        values: list[bytes | None] = [None] * 9
        slots = _SLOTS
        for name, value in self.headers:
            slot = slots.get(name)
            if slot is not None:
                values[slot] = value
        self.values = values
        self.deployment_id = 0
        self.user_id: int | None = None
        self.key_id: int | None = None
        self.instance_id: str | None = None
        self.method = ""
        self.tool_name: str | None = None
        self.status = 0
        self.error: bool | int = False
        self.body = b""
        self.message_cache: Any = _UNPARSED
        self.modern = False
        self.bytes_in = 0
        self.bytes_out = 0
        self.done = False
        self.client_gone = False
        self.aborted = False
        # False for the console's own checks (they are not traffic to count or bill).
        self.metered = True
        self.settle = settle
        # The record already handed over by durable metering, before the reply ended.
        self.recorded: RequestRecord | None = None
        # What billing reserved for this call, settled when it is over.
        self.hold: object | None = None
        # CORS exposure for browser clients; empty for everyone else.
        self.extra_headers: tuple[tuple[bytes, bytes], ...] = ()
        self._task: asyncio.Task[Any] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._watcher: asyncio.Task[None] | None = None

    # --- request headers ---------------------------------------------------------------

    @property
    def authorization(self) -> bytes | None:
        """The ``Authorization`` header."""
        return self.values[_AUTHORIZATION]

    @property
    def host(self) -> bytes | None:
        """The ``Host`` header."""
        return self.values[_HOST]

    @property
    def origin(self) -> bytes | None:
        """The ``Origin`` header (browsers only)."""
        return self.values[_ORIGIN]

    @property
    def content_length(self) -> int | None:
        """The declared body length, if any and well-formed."""
        raw = self.values[_LENGTH]
        return int(raw) if raw is not None and raw.isdigit() else None

    @property
    def session_id(self) -> bytes | None:
        """The ``Mcp-Session-Id`` header."""
        return self.values[_SESSION]

    @property
    def protocol_version(self) -> bytes | None:
        """The ``MCP-Protocol-Version`` header."""
        return self.values[_VERSION]

    @property
    def mcp_method(self) -> bytes | None:
        """The ``Mcp-Method`` header (modern era)."""
        return self.values[_METHOD]

    @property
    def mcp_name(self) -> bytes | None:
        """The ``Mcp-Name`` header (modern era)."""
        return self.values[_NAME]

    @property
    def accept(self) -> bytes:
        """The ``Accept`` header, or empty."""
        return self.values[_ACCEPT] or b""

    def routing_headers(self) -> dict[str, str]:
        """The headers that mirror a modern request's body (version, method, name)."""
        found: dict[str, str] = {}
        for name, slot in _MIRRORED:
            value = self.values[slot]
            if value is not None:
                found[name] = value.decode("latin-1")
        return found

    # --- request body ------------------------------------------------------------------

    async def read_body(self, limit: int) -> bool:
        """Read the body into ``self.body``; ``False`` when it exceeds ``limit`` bytes.

        Raises:
            ClientGone: the client disconnected first.
        """
        message = await self.receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        body: bytes = message.get("body", b"")
        if message.get("more_body"):
            parts = [body]
            size = len(body)
            while True:
                message = await self.receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return False
                parts.append(chunk)
                if not message.get("more_body"):
                    break
            body = b"".join(parts)
        if len(body) > limit:
            return False
        self.body = body
        self.bytes_in = len(body)
        return True

    @property
    def message(self) -> Any:
        """The body as JSON (parsed on first use); ``None`` when it is not JSON."""
        message = self.message_cache
        if message is _UNPARSED:
            try:
                message = json.loads(self.body)
            except (ValueError, RecursionError):
                message = None
            self.message_cache = message
        return message

    @property
    def request_id(self) -> str | int | None:
        """The JSON-RPC id of the body's request (``None`` for none or a batch)."""
        message = self.message if self.body else None
        found = message.get("id") if isinstance(message, dict) else None
        return found if isinstance(found, str | int) else None

    # --- disconnects -------------------------------------------------------------------

    def watch_disconnect(self) -> None:
        """From now on, a client disconnect cancels this request's task.

        Call once the body has been read. Cancellation reaches whatever the request
        waits on (an upstream response, a stdio reply), which then cancels upstream.
        Most requests are over within milliseconds, so the watcher (a task) starts
        only if this one is still running after ``WATCH_DELAY``.
        """
        self._task = asyncio.current_task()
        self._timer = asyncio.get_running_loop().call_later(WATCH_DELAY, self._start_watching)

    def _start_watching(self) -> None:
        self._timer = None
        if not self.done:
            self._watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        receive = self.receive
        while (await receive())["type"] != "http.disconnect":
            pass
        if not self.done and self._task is not None:
            self.client_gone = True
            self._task.cancel()

    def abort(self) -> None:
        """Stop serving this request: its session was ended by the gateway.

        The request's task is cancelled, unless it is the one ending the session (a
        DELETE, or a reply that says the session is gone), which simply carries on.
        """
        task = self._task
        if self.done or task is None or task is asyncio.current_task():
            return
        self.aborted = True
        task.cancel()

    def stop_watching(self) -> None:
        """The response is complete (or abandoned): stop watching for disconnects."""
        self.done = True
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None
        watcher = self._watcher
        if watcher is not None and not watcher.done():
            watcher.cancel()

    # --- replies -----------------------------------------------------------------------

    async def start(self, status: int, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """Send the status line and headers."""
        self.status = status
        if self.extra_headers:
            headers = [*headers, *self.extra_headers]
        await self.send_raw({"type": "http.response.start", "status": status, "headers": headers})

    async def write(self, data: bytes, *, more: bool = True) -> None:
        """Send body bytes; ``more=False`` ends the response."""
        self.bytes_out += len(data)
        if not more:
            self.done = True
            if self.settle is not None and self.metered:
                # Durable metering: the call's usage is written before its reply ends.
                self.recorded = self.record()
                await self.settle(self.recorded)
        message: Message = {"type": "http.response.body", "body": data, "more_body": more}
        await self.send_raw(message)

    async def reply(
        self, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()
    ) -> None:
        """A complete JSON response."""
        await self.start(
            status,
            [JSON_HEADERS, (b"content-length", str(len(body)).encode()), *headers],
        )
        await self.write(body, more=False)

    async def reply_error(
        self,
        status: int,
        code: int,
        message: str,
        *,
        data: Any = None,
        request_id: str | int | None = None,
        headers: Iterable[tuple[bytes, bytes]] = (),
    ) -> None:
        """A JSON-RPC error with an HTTP status; it counts as an error for the meter."""
        self.error = code
        await self.reply(
            status, error_body(code, message, data=data, request_id=request_id), headers
        )

    async def reply_empty(self, status: int, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        """A response without a body (202, 204, 405)."""
        await self.start(status, [(b"content-length", b"0"), *headers])
        await self.write(b"", more=False)

    # --- metering ----------------------------------------------------------------------

    def finish(self, meter: Meter, quota: QuotaCheck) -> None:
        """Hand the request's record to the meter and settle its quota hold (once, when it
        is over)."""
        self.stop_watching()
        if not self.metered:
            return
        record = self.recorded
        if record is None:
            record = self.record()
            try:
                meter.record(record)
            except Exception:
                # Metering must never fail a request that has been served.
                logger.exception("the meter refused a request record")
        if self.hold is not None:
            try:
                quota.settle(self.hold, record)
            except Exception:
                logger.exception("billing could not settle a quota hold")

    def record(self) -> RequestRecord:
        """What the meter is told of this request, as it stands."""
        status = self.status or CLIENT_CLOSED
        error = self.error
        if error is False and status >= 400 and status != CLIENT_CLOSED:
            error = True
        return RequestRecord(
            deployment_id=self.deployment_id,
            instance_id=self.instance_id,
            user_id=self.user_id,
            key_id=self.key_id,
            method=self.method,
            tool_name=self.tool_name,
            status=status,
            error=error,
            latency_ms=(time.perf_counter() - self.started) * 1000.0,
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
            at=self.at,
            session_id=self.values[_SESSION],
            # A reference to the bytes already read (no copy, no parse): only the audit
            # trail reads it, off the request path.
            body=self.body if self.method == TOOLS_CALL else None,
        )
