"""Audit trail entries and the query that lists them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from mcp_console.schemas.base import Dto

MAX_AUDIT_RESULTS = 10_000
# The kind of a tool call through the gateway (every other kind is a change).
TOOL_CALL = "tool.call"


class AuditQuery(Dto):
    """A listing of the audit trail, newest first; every field narrows it.

    ``since``/``until`` take a duration back from now (``1h``, ``7d``) or an ISO 8601
    time. ``kind`` is a kind (``deployment.scaled``, ``tool.call``) or the start of kinds
    up to a dot (``deployment``, ``alert.rule``). ``user`` is who acted; ``deployment``
    the deployment's name. ``before_id`` pages on from an entry (its ``id``).
    """

    since: str | None = None
    until: str | None = None
    user: str | None = None
    kind: str | None = None
    deployment: str | None = None
    before_id: int | None = Field(default=None, ge=1)
    limit: int = Field(default=100, ge=1, le=MAX_AUDIT_RESULTS)


class AuditEntry(Dto):
    """One change or tool call, as it was recorded.

    Attributes:
        actor: the user's name, or ``controller``/``console`` when mcp-console acted by
            itself.
        via: ``api`` (a request with an API key), ``local`` (the CLI or the console), or
            ``None`` when automatic.
        target: the name of what changed (a service, key, user, team, rule, target, the
            tool of a call).
        detail: what changed (never a secret value); for a tool call its ``outcome``
            (``ok``, ``rpc <code>`` or ``http <status>``), ``status`` and ``latency_ms``.
    """

    id: int
    at: datetime
    kind: str
    actor: str
    user_id: int | None
    via: str | None
    target: str
    deployment: str | None
    detail: dict[str, Any]
