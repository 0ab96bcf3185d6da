"""The gateway's narrow quota check: a reservation before a billable call, settled after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mcp_console.backend.gateway.records import RequestRecord


@dataclass(frozen=True, slots=True)
class QuotaRefusal(Exception):
    """A call refused because it would go over a limit; what an agent needs to act on it.

    Attributes:
        message: one sentence naming the limit, its use and when it resets.
        data: the JSON-RPC error's ``data``: ``limit`` (what is limited), ``scope`` and
            ``subject`` (whose limit), ``allowed``, ``used`` (settled and in flight),
            ``resetsAt`` (ISO 8601, UTC) and ``retryAfter`` (seconds).
        retry_after: whole seconds until the limit resets (the ``Retry-After`` header).
    """

    message: str
    data: dict[str, Any]
    retry_after: int


class QuotaCheck(Protocol):
    """Billing's say on each call; both methods run on the request path (no I/O, no await)."""

    def reserve(
        self,
        user_id: int,
        key_id: int | None,
        deployment_id: int,
        method: str,
        tool: str | None,
    ) -> object | None:
        """Take what the call may use from every limit over it, before it goes upstream.

        Returns:
            A hold to hand to ``settle`` once the call is over, or ``None`` when no limit
            applies (nothing to settle).

        Raises:
            QuotaRefusal: the call would go over a limit; nothing was taken.
        """
        ...

    def settle(self, hold: object, record: RequestRecord) -> None:
        """Give back a hold: what the finished call (``record``) used is counted, the rest
        released."""
        ...


class NoQuota:
    """The QuotaCheck used until billing provides one: everything passes."""

    def reserve(
        self,
        user_id: int,
        key_id: int | None,
        deployment_id: int,
        method: str,
        tool: str | None,
    ) -> object | None:
        """Let the call through with nothing to settle."""
        return None

    def settle(self, hold: object, record: RequestRecord) -> None:
        """Nothing was held."""
