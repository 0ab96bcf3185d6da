"""StdioMux: many client requests over one stdio server, each under an id of the gateway's own."""

# One stdio process has one stdin, one stdout and one protocol connection. A shared mux
# opens that connection itself (server/discover, or the initialize handshake for servers
# that predate 2026-07-28) and then forwards each client request under a fresh integer
# id, routing the reply back by that id and restoring the client's. Progress tokens become
# the forwarded id too, so progress reaches exactly the request that asked for it, and
# subscriptions/listen notifications are tagged with the listen request's id, which is
# routed the same way. Nothing a server writes goes to a client it was not meant for: on a
# shared connection, notifications that name no request (logs, list changes) are dropped
# and the server's own requests refused (it was promised no client capabilities).
#
# An owned mux serves one client session: the client's own initialize opens the
# connection, and everything else the server says (its requests, logs, list changes,
# resource updates) goes to that session's outbox, under the server's own ids; the
# client's replies go back as they came.

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from mcp_types import (
    UNSUPPORTED_PROTOCOL_VERSION,
)
from mcp_types.version import LATEST_HANDSHAKE_VERSION, LATEST_MODERN_VERSION

from mcp_console.backend.gateway.envelope import GATEWAY_INFO, modern_envelope
from mcp_console.backend.gateway.exchange import scan_error
from mcp_console.backend.stdio.channel import ChannelClosed, StdioChannel

logger = logging.getLogger(__name__)

Era = Literal["modern", "legacy"]
SUBSCRIPTION_ID_META_KEY = "io.modelcontextprotocol/subscriptionId"
PROBE_TIMEOUT = 10.0
_INTERNAL_ERROR = -32603

# A reply as the SDKs write it: {"jsonrpc":"2.0","id":<our int>,"result"|"error":...}
_REPLY_RE = re.compile(rb'\{"jsonrpc":"2\.0","id":(\d+),"(result|error)"')


def dumps(message: Any) -> bytes:
    """Compact JSON bytes (non-ASCII kept as UTF-8)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


async def answers_ping(channel: StdioChannel, timeout: float) -> bool:  # noqa: ASYNC109
    """Whether a stdio server answers ``ping`` within ``timeout`` seconds (any reply counts).

    Used before a client's own ``initialize``: a ping opens no session, and on a dual-era
    server it opens the handshake era that the client's ``initialize`` then continues.
    Whatever the server says before the reply is dropped (nobody is connected yet).

    Raises:
        ChannelClosed: the server's output ended.
    """
    warm_id = f"mcp-console-warm-up-{id(channel)}"
    await channel.send({"jsonrpc": "2.0", "id": warm_id, "method": "ping"})
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await channel.receive()
                if message.get("id") == warm_id and "method" not in message:
                    return True
    except TimeoutError:
        return False


class MuxClosed(ConnectionError):
    """The stdio server's channel ended; requests in flight on it are lost."""


class Pending:
    """One forwarded request: its reply (with the client's id) and, if streamed, its events.

    ``future`` completes when the reply arrives (or fails when the server ends);
    ``events`` holds notifications for this request, already carrying the client's ids;
    ``wake`` is set by whoever streams them, to be woken by either.
    """

    __slots__ = (
        "client_id",
        "client_id_json",
        "error",
        "events",
        "future",
        "reply",
        "sunk",
        "uid",
        "wake",
    )

    def __init__(
        self, uid: int, client_id: Any, future: asyncio.Future[None], streamed: bool
    ) -> None:
        self.uid = uid
        self.client_id = client_id
        # Ids are mostly small integers: skip the JSON encoder for those.
        self.client_id_json = (
            str(client_id).encode() if type(client_id) is int else dumps(client_id)
        )
        self.future = future
        self.reply = b""
        self.error: int | None = None
        self.events: deque[bytes] | None = deque() if streamed else None
        self.wake: asyncio.Future[None] | None = None
        # How many messages the server had sent on its own when the reply came (owned mux).
        self.sunk = 0

    def resolve(self, reply: bytes, error: int | None) -> None:
        self.reply = reply
        self.error = error
        if not self.future.done():
            self.future.set_result(None)
        self._wake()

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)
            self.future.exception()  # it may never be awaited (the client left)
        self._wake()

    def push(self, event: bytes) -> None:
        if self.events is not None:
            self.events.append(event)
            self._wake()

    def _wake(self) -> None:
        wake = self.wake
        if wake is not None and not wake.done():
            wake.set_result(None)


class StdioMux:
    """The gateway's one connection to a stdio server: shared by every client request, or
    owned by one client session.

    Args:
        channel: the server's JSON-lines channel (the mux becomes its only reader).
        name: for log messages.
        on_closed: called once when the channel ends (the instance is gone).
        sink: for an owned mux, takes each message the server sends on its own (a request
            or a notification that answers no request of the gateway's), as JSON bytes.
    """

    def __init__(
        self,
        channel: StdioChannel,
        *,
        name: str = "",
        on_closed: Callable[[StdioMux], None] | None = None,
        sink: Callable[[bytes], None] | None = None,
    ) -> None:
        self.channel = channel
        self.name = name
        self.on_closed = on_closed
        self.sink = sink
        # Messages handed to the sink so far: replies are stamped with it, so a client is
        # given what the server said before a reply ahead of it, and the rest after.
        self.sunk = 0
        self.era: Era | None = None
        # discover's result (modern) or initialize's (legacy).
        self.server_result: dict[str, Any] = {}
        self.closed = False
        self._next_id = 0
        self._pending: dict[int, Pending] = {}
        self._reader: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._ready: asyncio.Future[None] | None = None
        self._loop = asyncio.get_running_loop()

    # --- lifecycle --------------------------------------------------------------------

    def start(self, timeout: float) -> asyncio.Future[None]:
        """Begin reading and open the protocol connection; the future resolves when ready."""
        if self._ready is None:
            self._reader = asyncio.ensure_future(self._read_loop())
            self._ready = asyncio.ensure_future(self._open(timeout))
        return self._ready

    def start_owned(self) -> None:
        """Begin reading for one client session; its own ``initialize`` opens the connection."""
        if self._ready is None:
            self._reader = asyncio.ensure_future(self._read_loop())
            self._ready = self._loop.create_future()
            self._ready.set_result(None)

    async def open_modern(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Open the connection in the 2026-07-28 era (``server/discover``); whether it did.

        For an owned mux whose server refused the client's handshake-era ``initialize``.

        Raises:
            MuxClosed: the server ended.
        """
        discover = {
            "jsonrpc": "2.0",
            "method": "server/discover",
            "params": {"_meta": modern_envelope()},
        }
        try:
            reply = await self._own_request(discover, timeout)
        except TimeoutError:
            return False
        except ChannelClosed as exc:
            raise MuxClosed(f"{self.name}: {exc}") from None
        result = reply.get("result")
        if isinstance(result, dict) and LATEST_MODERN_VERSION in result.get(
            "supportedVersions", ()
        ):
            self.era, self.server_result = "modern", result
            return True
        return False

    async def ready(self) -> None:
        """Wait until the connection is open.

        Raises:
            MuxClosed: the server ended or never answered.
        """
        if self._ready is None:
            raise MuxClosed(f"{self.name}: the stdio connection was not started")
        await asyncio.shield(self._ready)

    async def _open(self, limit: float) -> None:
        meta = modern_envelope()
        discover = {"jsonrpc": "2.0", "method": "server/discover", "params": {"_meta": meta}}
        try:
            async with asyncio.timeout(limit):
                try:
                    reply = await self._own_request(discover, PROBE_TIMEOUT)
                except TimeoutError:
                    reply = None  # a server predating discover may stay silent before initialize
                result = reply.get("result") if reply else None
                if isinstance(result, dict) and LATEST_MODERN_VERSION in result.get(
                    "supportedVersions", ()
                ):
                    self.era, self.server_result = "modern", result
                    return
                init = await self._own_request(
                    {
                        "jsonrpc": "2.0",
                        "method": "initialize",
                        "params": {
                            "protocolVersion": LATEST_HANDSHAKE_VERSION,
                            "capabilities": {},
                            "clientInfo": GATEWAY_INFO,
                        },
                    },
                    None,
                )
                error = init.get("error")
                if isinstance(error, dict) and error.get("code") == UNSUPPORTED_PROTOCOL_VERSION:
                    # A slow modern server locked the connection modern after all.
                    reply = await self._own_request(discover, None)
                    self.era, self.server_result = "modern", dict(reply.get("result") or {})
                    return
                if not isinstance(init.get("result"), dict):
                    raise MuxClosed(f"{self.name}: the server refused initialize: {error}")
                await self.channel.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
                self.era, self.server_result = "legacy", init["result"]
        except TimeoutError:
            raise MuxClosed(
                f"{self.name}: the stdio server did not answer within {limit:g} s"
            ) from None
        except ChannelClosed as exc:
            raise MuxClosed(f"{self.name}: {exc}") from None

    async def _own_request(
        self,
        message: dict[str, Any],
        timeout: float | None,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        pending = await self.request(message, client_id=0)
        try:
            async with asyncio.timeout(timeout):
                await pending.future
        finally:
            self._pending.pop(pending.uid, None)
        reply: dict[str, Any] = json.loads(pending.reply)
        return reply

    async def aclose(self) -> None:
        """Stop reading; requests in flight fail. The channel itself is left to its owner."""
        self._close("the gateway closed the connection")
        reader = self._reader
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()

    def _close(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        error = MuxClosed(f"{self.name}: {reason}")
        for pending in self._pending.values():
            pending.fail(error)
        self._pending.clear()
        if self.on_closed is not None:
            self.on_closed(self)

    # --- requests ---------------------------------------------------------------------

    async def request(
        self, message: dict[str, Any], *, client_id: Any, streamed: bool = False
    ) -> Pending:
        """Forward a request (its ``id`` is replaced); returns the handle to await.

        A progress token in ``params._meta`` is replaced by the forwarded id, so
        progress notifications come back on ``Pending.events`` (when ``streamed``).

        Raises:
            MuxClosed: the channel has ended.
        """
        if self.closed:
            raise MuxClosed(f"{self.name}: the stdio server has ended")
        self._next_id += 1
        uid = self._next_id
        pending = Pending(uid, client_id, self._loop.create_future(), streamed)
        message["id"] = uid
        if streamed:
            params = message.get("params")
            meta = params.get("_meta") if isinstance(params, dict) else None
            if isinstance(meta, dict) and "progressToken" in meta:
                meta["progressToken"] = uid
        self._pending[uid] = pending
        try:
            await self.channel.send_line(dumps(message))
        except ChannelClosed as exc:
            self._pending.pop(uid, None)
            self._close(str(exc))
            raise MuxClosed(f"{self.name}: {exc}") from None
        return pending

    def cancel(self, pending: Pending, reason: str) -> None:
        """Give up on a request: the server is told (``notifications/cancelled``)."""
        if self._pending.pop(pending.uid, None) is None or self.closed:
            return
        notice = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": pending.uid, "reason": reason},
        }
        self._send_later(notice)

    async def send_raw(self, line: bytes) -> None:
        """Pass a client's message on as it is (an owned mux: replies, notifications).

        Raises:
            MuxClosed: the channel has ended.
        """
        if self.closed:
            raise MuxClosed(f"{self.name}: the stdio server has ended")
        try:
            await self.channel.send_line(line)
        except ChannelClosed as exc:
            self._close(str(exc))
            raise MuxClosed(f"{self.name}: {exc}") from None

    def forget(self, pending: Pending) -> None:
        """Stop tracking a request whose reply has been delivered."""
        self._pending.pop(pending.uid, None)

    def _send_later(self, message: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self._send_quietly(message))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(ChannelClosed):
            await self.channel.send(message)

    # --- replies and notifications ----------------------------------------------------

    async def _read_loop(self) -> None:
        channel = self.channel
        pending_map = self._pending
        try:
            while True:
                line = await channel.receive_line()
                match = _REPLY_RE.match(line)
                if match is not None:
                    pending = pending_map.pop(int(match.group(1)), None)
                    if pending is not None:
                        start, end = match.span(1)
                        error = None
                        if match.group(2) == b"error":
                            error = scan_error(line) or _INTERNAL_ERROR
                        pending.sunk = self.sunk
                        pending.resolve(line[:start] + pending.client_id_json + line[end:], error)
                    continue
                self._dispatch_other(line)
        except ChannelClosed:
            self._close("the stdio server's output ended")
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s: the stdio reader failed", self.name)
            self._close("the stdio reader failed")

    def _dispatch_other(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            self.channel.stderr.note(f"non-JSON line on stdout: {line[:200]!r}")
            return
        if not isinstance(message, dict):
            return
        method = message.get("method")
        if method is None:
            self._reply_other_order(message)
        elif "id" in message:
            if self.sink is not None:
                self.sunk += 1
                self.sink(line)  # the owning client answers, under the server's own id
                return
            # We declared no client capabilities, so the server has no business asking.
            refusal = {
                "jsonrpc": "2.0",
                "id": message["id"],
                "error": {"code": -32601, "message": f"{method} is not available via the gateway"},
            }
            self._send_later(refusal)
        elif not self._route_notification(message) and self.sink is not None:
            self.sunk += 1
            self.sink(line)

    def _reply_other_order(self, message: dict[str, Any]) -> None:
        uid = message.get("id")
        pending = self._pending.pop(uid, None) if isinstance(uid, int) else None
        if pending is None:
            return
        message["id"] = pending.client_id
        error = message.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        pending.sunk = self.sunk
        pending.resolve(dumps(message), code if isinstance(code, int) else None)

    def _route_notification(self, message: dict[str, Any]) -> bool:
        """Hand a notification to the request it belongs to; whether it was dealt with."""
        params = message.get("params")
        if not isinstance(params, dict):
            return False
        pending: Pending | None = None
        token = params.get("progressToken")
        if message.get("method") == "notifications/progress" and isinstance(token, int):
            pending = self._pending.get(token)
            if pending is None:
                return True  # a token of ours, for a request over: nobody awaits it
            params["progressToken"] = pending.client_id
        else:
            meta = params.get("_meta")
            sub = meta.get(SUBSCRIPTION_ID_META_KEY) if isinstance(meta, dict) else None
            if isinstance(sub, int):
                pending = self._pending.get(sub)
                if pending is not None:
                    meta[SUBSCRIPTION_ID_META_KEY] = pending.client_id  # type: ignore[index]
        if pending is None:
            return False
        pending.push(dumps(message))
        return True
