"""The metering hook of the gateway: one RequestRecord per request, handed to a Meter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

CLIENT_CLOSED = 499  # nginx's status for "the client went away before the response"
NO_STREAM = 405  # a server's answer to a GET when it offers no standalone stream
TOOLS_CALL = "tools/call"  # the method whose tool name (and body) a record carries


@dataclass(slots=True)
class RequestRecord:
    """What the gateway saw of one client request, recorded once it has finished.

    Attributes:
        deployment_id: The deployment the request was addressed to (its database id).
        instance_id: The instance that served it (the instance id on its labels);
            ``None`` when the gateway answered itself (401/403/413/429, no healthy
            instance, unknown session, ...).
        user_id: The authenticated caller (``users.id``); ``None`` when authentication
            failed.
        method: The JSON-RPC method (``tools/call``, ``initialize``, ...), ``"GET"``
            for the standalone SSE stream, ``"DELETE"`` for session termination, or
            ``""`` when the body could not be read.
        tool_name: ``params.name`` of a ``tools/call`` (or prompt name of
            ``prompts/get``, uri of ``resources/read``), else ``None``.
        status: The HTTP status the client got.
        error: ``False`` for success; ``True`` for an HTTP-level failure or a broken
            stream; the JSON-RPC error code (an ``int``) when the gateway saw one in a
            JSON reply. A tool result with ``isError: true`` is not an error here.
        latency_ms: From the request arriving to the last byte sent (or the client leaving).
        bytes_in: Request body size.
        bytes_out: Response body bytes sent to the client.
        at: When the request arrived (epoch seconds).
        session_id: The ``Mcp-Session-Id`` the client sent, raw (``None`` before the
            session exists, e.g. on ``initialize``); readers decode it off the request path.
        body: The request body as received, kept for a ``tools/call`` only (else ``None``)
            so that the audit trail can digest or redact its arguments; a reference, never
            parsed on the request path.
        key_id: The API key the caller used (``api_keys.id``); ``None`` when authentication
            failed.
    """

    deployment_id: int
    instance_id: str | None
    user_id: int | None
    method: str
    tool_name: str | None
    status: int
    error: bool | int
    latency_ms: float
    bytes_in: int
    bytes_out: int
    at: float
    session_id: bytes | None = None
    body: bytes | None = None
    key_id: int | None = None


def is_error(record: RequestRecord) -> bool:
    """Whether a request failed: the gateway flagged it, or its HTTP status is 400 or more.

    A client that left before any reply (499) is not a failure of the deployment, nor is
    405 to a GET: that is how a server says it offers no standalone stream, and legacy
    clients ask for one with every session.
    """
    if record.method == "GET" and record.status == NO_STREAM:
        return False
    return record.error is not False or (record.status >= 400 and record.status != CLIENT_CLOSED)


@runtime_checkable
class Meter(Protocol):
    """Receives the gateway's request records and in-flight changes.

    Both methods are called on the event loop, on the request path: they must not block,
    do I/O or await; append to an in-memory buffer and return.
    """

    def record(self, record: RequestRecord) -> None:
        """Take one finished request (called exactly once per request)."""
        ...

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        """Note a request starting (``delta=+1``) or finishing (``-1``) on an instance.

        The gateway's LoadBalancer also exposes the current counts
        (``LoadBalancer.inflight(deployment_id)``); this call lets a meter keep its own
        time series without polling.
        """
        ...


class NullMeter:
    """A Meter that forgets everything (the gateway's default when metering is off)."""

    def record(self, record: RequestRecord) -> None:
        """Drop the record."""

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        """Ignore the change."""
