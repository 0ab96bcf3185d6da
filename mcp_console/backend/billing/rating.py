"""Pricing metered calls: each hour's calls at the price in effect then, allowances applied."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from mcp_console.backend.billing.money import ZERO
from mcp_console.backend.gateway.records import TOOLS_CALL
from mcp_console.schemas.catalog import PriceModel


@dataclass(frozen=True, slots=True)
class Price:
    """One price of a service (``tool`` empty: the service's own) from ``effective_from``."""

    tool: str
    model: PriceModel
    per_call: Decimal
    free_requests: int
    effective_from: datetime


@dataclass(frozen=True, slots=True)
class MeteredCalls:
    """One row the meter wrote: a user's calls to a deployment in one hour, method, tool
    and key."""

    deployment_id: int
    service_id: int
    user_id: int
    hour: datetime
    method: str
    tool: str
    requests: int
    errors: int
    key_id: int = 0  # the API key they were made with (0: none known)


@dataclass(frozen=True, slots=True)
class RatedCalls:
    """Metered calls with what they cost: ``free`` + ``charged`` are the successful ones."""

    calls: MeteredCalls
    free: int
    charged: int
    cost: Decimal  # exact: charged times the unit price, never rounded here


class PriceTimeline:
    """A service's prices over time: the service's own, and each tool's overriding it.

    Args:
        prices: every price of the service, in any order.
        fallback: the price before the first one (the catalog's, from the beginning).
    """

    def __init__(self, prices: Iterable[Price], fallback: Price) -> None:
        by_tool: dict[str, list[Price]] = {}
        for price in sorted(prices, key=lambda p: p.effective_from):
            by_tool.setdefault(price.tool, []).append(price)
        self._by_tool = by_tool
        self._starts = {tool: [p.effective_from for p in ps] for tool, ps in by_tool.items()}
        self._fallback = fallback

    def _at(self, tool: str, at: datetime) -> Price | None:
        starts = self._starts.get(tool)
        if not starts:
            return None
        index = bisect.bisect_right(starts, at) - 1
        return self._by_tool[tool][index] if index >= 0 else None

    def price(self, method: str, tool: str, at: datetime) -> Price:
        """The price of a call made at ``at``: its tool's when the tool has one then, else
        the service's."""
        if method == TOOLS_CALL and tool:
            own = self._at(tool, at)
            if own is not None:
                return own
        return self._at("", at) or self._fallback


Allowances = dict[tuple[int, int, int, int], int]
"""FREEMIUM calls used per (user, service, year, month): what ``rate`` counts as it goes."""


def rate(
    calls: Sequence[MeteredCalls],
    timelines: Mapping[int, PriceTimeline],
    used: Allowances | None = None,
) -> list[RatedCalls]:
    """Price every row of ``calls``.

    A call costs its price in effect in its hour; failed calls cost nothing. A FREEMIUM
    price's allowance is counted per user, service and calendar month (UTC), across the
    service's deployments, in time order (within an hour, by deployment id, method and tool),
    over the calls priced at the service's own price: a tool priced on its own neither uses
    nor gets the allowance. ``calls`` must hold every call of a month from its start for
    the allowance of that month to be right, or continue from ``used``: the allowances
    counted by a ``rate`` of the earlier calls (updated in place).
    """
    if used is None:
        used = {}
    rated: list[RatedCalls] = []
    ordered = sorted(
        calls, key=lambda c: (c.hour, c.user_id, c.service_id, c.deployment_id, c.method, c.tool)
    )
    for row in ordered:
        price = timelines[row.service_id].price(row.method, row.tool, row.hour)
        served = row.requests - row.errors
        free = 0
        if price.model is PriceModel.FREEMIUM and not price.tool:
            month = (row.user_id, row.service_id, row.hour.year, row.hour.month)
            so_far = used.get(month, 0)
            free = min(served, max(0, price.free_requests - so_far))
            used[month] = so_far + served
        if price.model is PriceModel.FREE:
            free, charged, cost = served, 0, ZERO
        else:
            charged = served - free
            cost = price.per_call * charged
        rated.append(RatedCalls(row, free, charged, cost))
    return rated
