"""How a gateway request ended, by kind of error: the one rule every monitor reader uses."""

from __future__ import annotations

from enum import StrEnum

from mcp_console.backend.gateway.records import RequestRecord, is_error


class ErrorKind(StrEnum):
    """Why a request failed.

    ``rpc``: the server answered with a JSON-RPC error; ``http``: the HTTP exchange or its
    stream failed (an error status from the server, a transport failure); ``refused``: the
    gateway answered itself without reaching an instance (authentication, limits, no
    healthy instance, an unknown session).
    """

    RPC = "rpc"
    HTTP = "http"
    REFUSED = "refused"


def error_kind(record: RequestRecord) -> ErrorKind | None:
    """The kind of error ``record`` ended with, or ``None`` when it succeeded (``is_error``)."""
    if not is_error(record):
        return None
    if record.instance_id is None:
        return ErrorKind.REFUSED
    # ``error`` holds the JSON-RPC code as an int; a bool (an int too in Python) is no code.
    if not isinstance(record.error, bool):
        return ErrorKind.RPC
    return ErrorKind.HTTP
