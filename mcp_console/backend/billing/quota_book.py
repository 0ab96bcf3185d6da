"""QuotaBook: every limit's use in memory, reserved before a billable call, settled after it."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from mcp_console.backend.billing.money import ZERO
from mcp_console.backend.billing.periods import month_start, next_month
from mcp_console.backend.billing.rating import Price, PriceTimeline
from mcp_console.backend.gateway.quota import QuotaRefusal
from mcp_console.backend.gateway.records import TOOLS_CALL, RequestRecord, is_error
from mcp_console.backend.gateway.usage_ledger import BILLABLE_METHODS, billed
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope

ONE = Decimal(1)
SECONDS_PER_DAY = 86400
SECONDS_PER_HOUR = 3600
# The levels of use that are announced once per period (a fraction of what is allowed).
THRESHOLDS = (Decimal("0.8"), ONE)

Threshold = Callable[["Limit", Decimal], None]
"""Called when a limit's use first reaches a level of ``THRESHOLDS`` in its period."""


@dataclass(slots=True, eq=False)
class Limit:
    """One quota as the book counts it: what the current period used and what is in flight."""

    id: int
    scope: QuotaScope
    subject_id: int
    subject: str  # as people name it: a user, a team, a key prefix, owner/deployment
    kind: QuotaKind
    period: QuotaPeriod
    allowed: Decimal
    tool: str = ""
    used: Decimal = ZERO
    reserved: Decimal = ZERO
    starts: float = 0.0  # epoch seconds the current period began
    ends: float = 0.0  # and ends (a rate limit: never)
    announced: Decimal = ZERO  # the highest threshold announced this period
    # A rate limit's token buckets by (deployment, tool): tokens left, when last filled.
    buckets: dict[tuple[int, str], list[float]] = field(default_factory=dict)

    def fits(self, need: Decimal) -> bool:
        """Whether ``need`` more stays within what is allowed, counting calls in flight."""
        return self.used + self.reserved + need <= self.allowed


@dataclass(slots=True)
class Allowance:
    """A user's FREEMIUM allowance of a service this month: calls used and in flight."""

    used: int = 0
    reserved: int = 0


@dataclass(slots=True, eq=False)
class Hold:
    """What one call reserved: an amount from each limit, and maybe a free call."""

    takes: tuple[tuple[Limit, Decimal], ...]
    allowance: tuple[int, int] | None  # the (user, service) whose free call it reserved
    charge: Decimal  # what the call costs if it succeeds (0 for a free one)


def period_bounds(period: QuotaPeriod, now: float) -> tuple[float, float]:
    """The UTC day or month holding ``now`` (epoch seconds); a rate limit's is endless."""
    if period is QuotaPeriod.DAY:
        start = now - now % SECONDS_PER_DAY
        return start, start + SECONDS_PER_DAY
    if period is QuotaPeriod.MONTH:
        at = datetime.fromtimestamp(now, UTC)
        return month_start(at).timestamp(), next_month(at).timestamp()
    return 0.0, float("inf")


class QuotaBook:
    """The gateway's ``QuotaCheck``: limits counted in memory, no I/O on the request path.

    A billable call reserves what it may use from every limit over it (one request; its
    price for a spend budget; a token for a rate limit) only if every one has room for it,
    counting the calls in flight, so concurrent calls can never go over a limit together.
    When the call is over its reservation is settled: a call a deployment answered counts
    as a request (failed ones too, as usage counts them); a successful one adds its price
    to spend; a call the gateway refused itself counts nothing. A FREEMIUM allowance is
    reserved the same way, so calls in flight never share the last free call.

    ``QuotaService`` loads the book from what the database and the meter hold, again
    whenever limits, prices or teams change; calls in flight then settle against the newly
    loaded limits of the same id.

    Args:
        on_threshold: told when a limit's use reaches 80 % and 100 % in its period.
        clock: epoch seconds.
        billable_methods: the calls that count (the meter's ledger counts the same ones).
    """

    def __init__(
        self,
        on_threshold: Threshold | None = None,
        clock: Callable[[], float] = time.time,
        billable_methods: Collection[str] = BILLABLE_METHODS,
    ) -> None:
        self._on_threshold = on_threshold
        self._clock = clock
        self._billable = frozenset(billable_methods)
        self.limits: dict[int, Limit] = {}
        self.allowances: dict[tuple[int, int], Allowance] = {}
        self._user: dict[int, tuple[Limit, ...]] = {}
        self._key: dict[int, tuple[Limit, ...]] = {}
        self._deployment: dict[int, tuple[Limit, ...]] = {}
        self._services: dict[int, int] = {}
        self._timelines: dict[int, PriceTimeline] = {}
        self._prices: dict[tuple[int, str, str], tuple[int, Price]] = {}
        self._spend = False
        self._active = False
        self._month_ends = period_bounds(QuotaPeriod.MONTH, clock())[1]

    def now(self) -> float:
        """The book's time (epoch seconds)."""
        return self._clock()

    def load(
        self,
        limits: Iterable[Limit],
        *,
        teams: Mapping[int, Iterable[int]],
        allowances: dict[tuple[int, int], Allowance],
        services: Mapping[int, int],
        timelines: Mapping[int, PriceTimeline],
    ) -> None:
        """Replace what the book holds, all at once (call it without awaiting in between
        reading the figures and loading them).

        Args:
            limits: every quota, its use in its current period counted.
            teams: each user's teams (a team's limits are over each member's calls).
            allowances: FREEMIUM allowance used this month by user and service.
            services: each deployment's service.
            timelines: each service's prices.
        """
        fresh = {limit.id: limit for limit in limits}
        for limit in fresh.values():
            old = self.limits.get(limit.id)
            if old is not None:
                # Calls in flight settle against the new figures.
                limit.reserved = old.reserved
                limit.buckets = old.buckets
                if old.starts == limit.starts:
                    limit.announced = max(limit.announced, old.announced)
        for key, allowance in allowances.items():
            old_allowance = self.allowances.get(key)
            if old_allowance is not None:
                allowance.reserved = old_allowance.reserved
        by_team: dict[int, list[Limit]] = {}
        by_user: dict[int, list[Limit]] = {}
        by_key: dict[int, list[Limit]] = {}
        by_deployment: dict[int, list[Limit]] = {}
        scoped = {
            QuotaScope.USER: by_user,
            QuotaScope.TEAM: by_team,
            QuotaScope.KEY: by_key,
            QuotaScope.DEPLOYMENT: by_deployment,
        }
        for limit in fresh.values():
            scoped[limit.scope].setdefault(limit.subject_id, []).append(limit)
        for user_id, user_teams in teams.items():
            for team_id in user_teams:
                by_user.setdefault(user_id, []).extend(by_team.get(team_id, ()))
        self.limits = fresh
        self.allowances = allowances
        self._user = {k: tuple(v) for k, v in by_user.items() if v}
        self._key = {k: tuple(v) for k, v in by_key.items()}
        self._deployment = {k: tuple(v) for k, v in by_deployment.items()}
        self._services = dict(services)
        self._timelines = dict(timelines)
        self._prices = {}
        self._spend = any(limit.kind is QuotaKind.SPEND for limit in fresh.values())
        self._active = bool(fresh)
        self._month_ends = period_bounds(QuotaPeriod.MONTH, self._clock())[1]

    # -- the request path ------------------------------------------------------------------

    def reserve(
        self,
        user_id: int,
        key_id: int | None,
        deployment_id: int,
        method: str,
        tool: str | None,
    ) -> Hold | None:
        """Reserve a billable call's use of every limit over it, or refuse it whole.

        Raises:
            QuotaRefusal: a limit has no room for the call (nothing was reserved).
        """
        if not self._active or method not in self._billable:
            return None
        limits = (
            self._user.get(user_id, ())
            + self._key.get(key_id or 0, ())
            + self._deployment.get(deployment_id, ())
        )
        if not limits and not self._spend:
            return None
        now = self._clock()
        allowance, charge = self._price(user_id, deployment_id, method, tool, now)
        if not limits and allowance is None:
            return None
        named = tool if method == TOOLS_CALL and tool else ""
        takes: list[tuple[Limit, Decimal]] = []
        for limit in limits:
            if now >= limit.ends:
                self._roll(limit, now)
            if limit.kind is QuotaKind.RATE:
                if named and (not limit.tool or limit.tool == named):
                    self._rate_room(limit, deployment_id, named, now)
                continue
            need = ONE if limit.kind is QuotaKind.REQUESTS else charge
            if not limit.fits(need):
                # A budget may stop short of 100 % (no room for one more call's price).
                self._announce(limit, reached=True)
                raise self._refusal(limit, now)
            takes.append((limit, need))
        for limit in limits:
            if limit.kind is QuotaKind.RATE and named and (not limit.tool or limit.tool == named):
                limit.buckets[deployment_id, named][0] -= 1.0
        for limit, need in takes:
            limit.reserved += need
        free = None
        if allowance is not None:
            allowance.reserved += 1
            free = (user_id, self._services[deployment_id])
        return Hold(tuple(takes), free, charge)

    def settle(self, hold: object, record: RequestRecord) -> None:
        """Count what the finished call used and release the rest of its reservation."""
        if not isinstance(hold, Hold):
            return
        counted = billed(record, self._billable)
        succeeded = counted and not is_error(record)
        for held, need in hold.takes:
            # The book may have been rebuilt meanwhile: its limit of the same id counts it.
            limit = self.limits.get(held.id, held)
            limit.reserved -= need
            if not counted:
                continue
            if limit.kind is QuotaKind.REQUESTS:
                limit.used += ONE
            elif succeeded:
                limit.used += hold.charge
            self._announce(limit)
        if hold.allowance is not None:
            allowance = self.allowances.get(hold.allowance)
            if allowance is not None:
                allowance.reserved -= 1
                if succeeded:
                    allowance.used += 1

    # -- pricing a call --------------------------------------------------------------------

    def _price(
        self, user_id: int, deployment_id: int, method: str, tool: str | None, now: float
    ) -> tuple[Allowance | None, Decimal]:
        """What a call would cost now, and the allowance a free call reserves (if any)."""
        if not self._spend:
            return None, ZERO
        service = self._services.get(deployment_id)
        timeline = self._timelines.get(service) if service is not None else None
        if service is None or timeline is None:
            return None, ZERO  # a deployment newer than the book: it is being rebuilt
        hour = int(now // SECONDS_PER_HOUR)
        key = (service, method, tool or "")
        cached = self._prices.get(key)
        if cached is None or cached[0] != hour:
            # Prices change on whole hours: one lookup per hour, service, method and tool.
            at = datetime.fromtimestamp(hour * SECONDS_PER_HOUR, UTC)
            cached = self._prices[key] = (hour, timeline.price(method, tool or "", at))
        price = cached[1]
        if price.model is PriceModel.FREE:
            return None, ZERO
        if price.model is not PriceModel.FREEMIUM or price.tool:
            return None, price.per_call
        if now >= self._month_ends:
            self._new_month(now)
        allowance = self.allowances.get((user_id, service))
        if allowance is None:
            allowance = self.allowances[user_id, service] = Allowance()
        if allowance.used + allowance.reserved < price.free_requests:
            return allowance, ZERO
        return None, price.per_call

    def _new_month(self, now: float) -> None:
        """Every allowance starts again with the calendar month."""
        self._month_ends = period_bounds(QuotaPeriod.MONTH, now)[1]
        for allowance in self.allowances.values():
            allowance.used = 0

    # -- periods, rates, refusals ----------------------------------------------------------

    def _roll(self, limit: Limit, now: float) -> None:
        """Start the limit's next period: nothing used yet (calls in flight stay reserved)."""
        limit.starts, limit.ends = period_bounds(limit.period, now)
        if limit.kind is not QuotaKind.RATE:
            limit.used = ZERO
            limit.announced = ZERO

    def _rate_room(self, limit: Limit, deployment_id: int, tool: str, now: float) -> None:
        """Refill the tool's bucket for the time passed; refuse the call if it is empty."""
        rate = float(limit.allowed)
        bucket = limit.buckets.get((deployment_id, tool))
        if bucket is None:
            bucket = limit.buckets[deployment_id, tool] = [rate, now]
        bucket[0] = min(rate, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if bucket[0] < 1.0:
            raise self._refusal(limit, now, wait=(1.0 - bucket[0]) / rate, tool=tool)

    def _refusal(
        self, limit: Limit, now: float, *, wait: float | None = None, tool: str = ""
    ) -> QuotaRefusal:
        what = _WHAT[limit.kind, limit.period]
        whose = f"{limit.scope.value} {limit.subject}"
        if wait is not None:
            retry = max(1, round(wait + 0.4999))
            message = (
                f"Quota exceeded: {whose} may call each tool {limit.allowed.normalize()} "
                f"times per second; {tool!r} is at that rate, retry in {wait:.2f} s"
            )
            data = {
                "limit": what,
                "scope": limit.scope.value,
                "subject": limit.subject,
                "tool": tool,
                "allowed": float(limit.allowed),
                "retryAfter": retry,
            }
            return QuotaRefusal(message, data, retry)
        resets = datetime.fromtimestamp(limit.ends, UTC)
        retry = max(1, int(limit.ends - now + 0.999))
        used = limit.used + limit.reserved
        shown = _figure(limit.kind, used)
        allowed = _figure(limit.kind, limit.allowed)
        in_flight = f" ({_figure(limit.kind, limit.reserved)} in flight)" if limit.reserved else ""
        message = (
            f"Quota exceeded: {whose} is allowed {allowed} {what}; {shown} used{in_flight}; "
            f"it resets at {resets:%Y-%m-%dT%H:%M:%SZ}"
        )
        data = {
            "limit": what,
            "scope": limit.scope.value,
            "subject": limit.subject,
            "allowed": allowed,
            "used": shown,
            "resetsAt": f"{resets:%Y-%m-%dT%H:%M:%SZ}",
            "retryAfter": retry,
        }
        return QuotaRefusal(message, data, retry)

    def _announce(self, limit: Limit, *, reached: bool = False) -> None:
        """Tell of each threshold the limit's use has passed this period, once; ``reached``:
        a call found no room, which is 100 % whatever the figures say."""
        if self._on_threshold is None:
            return
        for level in THRESHOLDS:
            passed = limit.used >= level * limit.allowed or (reached and level == ONE)
            if level > limit.announced and passed:
                limit.announced = level
                self._on_threshold(limit, level)


_WHAT = {
    (QuotaKind.REQUESTS, QuotaPeriod.DAY): "requests per day",
    (QuotaKind.REQUESTS, QuotaPeriod.MONTH): "requests per month",
    (QuotaKind.SPEND, QuotaPeriod.MONTH): "spend per month",
    (QuotaKind.RATE, QuotaPeriod.SECOND): "calls per second per tool",
}


def _figure(kind: QuotaKind, value: Decimal) -> str:
    """A count as a whole number, an amount without trailing zeros."""
    if kind is QuotaKind.REQUESTS:
        return str(int(value))
    return f"{value.normalize():f}"
