"""Audit trail entries and the query that lists them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from mcp_console.schemas.base import Dto

MAX_AUDIT_RESULTS = 10_000
# The kind of a tool call through the gateway (every other kind is a change).
TOOL_CALL = "tool.call"
# The keys of a tool call's detail that hold its arguments, as its deployment's policy says.
ARGUMENTS_DIGEST = "arguments_sha256"
ARGUMENTS = "arguments"
# The event of a deployment's new policy (``policy``, and the one it replaced: ``before``).
AUDIT_POLICY_EVENT = "deployment.audit.policy"
# ``arguments`` of a call whose body held no readable JSON-RPC request.
UNREADABLE = "unreadable"


class AuditArguments(StrEnum):
    """What the audit trail keeps of a tool call's arguments, per deployment.

    ``digest``: the SHA-256 of their canonical JSON (sorted keys, no spaces), so equal
    arguments show as equal without being kept; ``redacted``: the arguments, with the
    values of secret-looking keys and of the deployment's secrets masked and long strings
    cut; ``none``: nothing of them.
    """

    DIGEST = "digest"
    REDACTED = "redacted"
    NONE = "none"


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
            (``ok``, ``rpc <code>`` or ``http <status>``), ``status`` and ``latency_ms``,
            and, as the deployment's ``audit_arguments`` policy says, ``arguments_sha256``
            or the redacted ``arguments`` (``"unreadable"`` when the body was no request).
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
