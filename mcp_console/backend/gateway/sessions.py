"""The gateway's handshake-era client sessions: which instance each is pinned to, and its use."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from mcp_console.backend.gateway.routing import UpstreamInstance

SessionState = Literal["active", "draining", "closed"]


class Abortable(Protocol):
    """A request in flight that ending its session stops."""

    def abort(self) -> None:
        """Stop serving the request (its task is cancelled; the reply ends cleanly)."""
        ...


class Outbox:
    """What a server says to one client session on its own (its requests, logs, list
    changes, resource updates), kept until one of the client's streams takes it.

    The session's standalone GET stream takes them; while none is open, a request in
    flight in the session carries them on its SSE reply, as Streamable HTTP allows. Past
    ``limit`` messages waiting, the oldest are dropped (a client that never listens must
    not grow the gateway without bound); ``dropped`` counts them.
    """

    __slots__ = ("closed", "dropped", "limit", "messages", "put_count", "streams", "waiters")

    def __init__(self, limit: int = 1000) -> None:
        self.messages: deque[bytes] = deque()
        self.limit = limit
        # Messages ever offered (the number of the next one): numbers messages in the
        # order the server sent them, as its connection counts them.
        self.put_count = 0
        self.dropped = 0
        self.closed = False
        # Open GET streams of the session: while there is one, replies leave these alone.
        self.streams = 0
        self.waiters: set[asyncio.Future[None]] = set()

    def put(self, data: bytes) -> None:
        """Keep a message for the client and wake whoever streams to it."""
        self.put_count += 1
        if self.closed:
            return
        self.messages.append(data)
        if len(self.messages) > self.limit:
            self.messages.popleft()
            self.dropped += 1
        self.wake()

    def take(self, before: int | None = None) -> bytes | None:
        """The oldest message waiting, if any (and if it is among the first ``before``)."""
        if not self.messages:
            return None
        if before is not None and self.put_count - len(self.messages) >= before:
            return None
        return self.messages.popleft()

    def has_before(self, before: int | None) -> bool:
        """Whether a message is waiting (among the first ``before``, when given)."""
        if not self.messages:
            return False
        return before is None or self.put_count - len(self.messages) < before

    def close(self) -> None:
        """The session is over: streams waiting here end."""
        self.closed = True
        self.messages.clear()
        self.wake()

    def wake(self) -> None:
        """Wake whoever waits here (to look again at the messages and the streams)."""
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)


@dataclass(slots=True, eq=False)
class GatewaySession:
    """One client session, under the id the gateway minted at ``initialize``.

    Attributes:
        id: The ``Mcp-Session-Id`` the client holds.
        deployment_id: The deployment it belongs to.
        user_id: Who opened it; nobody else may use it.
        key_id: The API key it was opened with (its revocation ends the session).
        instance: The instance it is pinned to.
        upstream_id: The session id the upstream server minted (HTTP instances), sent
            in its place on every request.
        dedicated: Whether ``instance`` was started for this session alone.
        created: When it began (epoch seconds).
        last_activity: When a request last arrived or ended (epoch seconds).
        request_count: Requests made in it.
        inflight: Requests in it now (an open GET stream counts).
        calls: Requests in it now other than its GET stream.
        state: ``active``; ``draining`` (still served, but ended as soon as it has been
            idle for the gateway's drain grace); ``closed``.
        protocol_version: The version negotiated at ``initialize`` (stdio instances).
        client_info: The client's ``clientInfo`` (stdio instances).
        outbox: What the server says to this client on its own, for a session that owns
            its upstream connection (a stdio instance of its own); ``None`` when the
            connection is shared and such messages cannot be delivered.
    """

    id: str
    deployment_id: int
    user_id: int
    instance: UpstreamInstance
    key_id: int | None = None
    upstream_id: bytes | None = None
    dedicated: bool = False
    created: float = field(default_factory=time.time)
    last_activity: float = field(default_factory=time.time)
    request_count: int = 0
    inflight: int = 0
    calls: int = 0
    state: SessionState = "active"
    protocol_version: str = ""
    client_info: Any = None
    requests: set[Abortable] = field(default_factory=set)
    # stdio: the client's ids of its requests in flight, to their mux handles (for cancels).
    upstream_ids: dict[Any, Any] = field(default_factory=dict)
    outbox: Outbox | None = None

    @property
    def open(self) -> bool:
        """Whether it still takes requests."""
        return self.state != "closed"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session as the console lists it."""

    id: str
    deployment_id: int
    user_id: int
    instance_id: str
    dedicated: bool
    created_at: datetime
    last_activity: datetime
    request_count: int
    inflight: int
    state: SessionState
    # What the client said at ``initialize`` (known for stdio instances only).
    protocol_version: str = ""
    client_info: Any = None


def mint_session_id() -> str:
    """A fresh, unguessable session id of visible ASCII (as the spec requires)."""
    return secrets.token_urlsafe(24)


class SessionTable:
    """Live sessions by id, and by the instance they are pinned to.

    ``begin``/``end`` bracket every request in a session; when a draining session's last
    request in flight ends, ``on_drained`` is called with it so the gateway can close it
    once it stays idle.
    """

    def __init__(self, on_drained: Callable[[GatewaySession], None] | None = None) -> None:
        self._sessions: dict[str, GatewaySession] = {}
        self._by_instance: dict[UpstreamInstance, set[str]] = {}
        self.on_drained = on_drained

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str) -> GatewaySession | None:
        """The session, or ``None`` if unknown or over."""
        return self._sessions.get(session_id)

    def add(self, session: GatewaySession) -> None:
        """Start tracking a new session."""
        self._sessions[session.id] = session
        self._by_instance.setdefault(session.instance, set()).add(session.id)

    def remove(self, session_id: str) -> GatewaySession | None:
        """Stop tracking a session; it is marked closed and returned (``None`` if unknown)."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            return None
        session.state = "closed"
        ids = self._by_instance.get(session.instance)
        if ids is not None:
            ids.discard(session_id)
            if not ids:
                del self._by_instance[session.instance]
        return session

    def on_instance(self, instance: UpstreamInstance) -> list[GatewaySession]:
        """The sessions pinned to ``instance``."""
        return [self._sessions[i] for i in self._by_instance.get(instance, ())]

    def begin(self, session: GatewaySession, request: Abortable, *, stream: bool) -> None:
        """A request in ``session`` starts (ending the session aborts it).

        ``stream`` marks the standalone GET stream, which keeps a session from idling
        out but not from draining.
        """
        session.request_count += 1
        session.inflight += 1
        if not stream:
            session.calls += 1
        session.last_activity = time.time()
        session.requests.add(request)

    def end(self, session: GatewaySession, request: Abortable, *, stream: bool) -> None:
        """A request in ``session`` has finished."""
        session.inflight -= 1
        if not stream:
            session.calls -= 1
        session.last_activity = time.time()
        session.requests.discard(request)
        if session.state == "draining" and session.calls <= 0 and self.on_drained:
            self.on_drained(session)

    def idle(self, older_than: float) -> list[GatewaySession]:
        """Sessions with nothing in flight and no activity since ``older_than`` (epoch)."""
        return [
            s for s in self._sessions.values() if s.inflight <= 0 and s.last_activity < older_than
        ]

    def all(self) -> list[GatewaySession]:
        """Every live session."""
        return list(self._sessions.values())

    def describe(self, deployment_id: int | None = None) -> list[SessionInfo]:
        """The live sessions (of one deployment), oldest first."""
        return [
            info(s)
            for s in sorted(self._sessions.values(), key=lambda s: s.created)
            if deployment_id is None or s.deployment_id == deployment_id
        ]


def info(session: GatewaySession) -> SessionInfo:
    """The listing of a session."""
    return SessionInfo(
        id=session.id,
        deployment_id=session.deployment_id,
        user_id=session.user_id,
        instance_id=session.instance.instance_id,
        dedicated=session.dedicated,
        created_at=datetime.fromtimestamp(session.created, UTC),
        last_activity=datetime.fromtimestamp(session.last_activity, UTC),
        request_count=session.request_count,
        inflight=session.inflight,
        state=session.state,
        protocol_version=session.protocol_version,
        client_info=session.client_info,
    )
