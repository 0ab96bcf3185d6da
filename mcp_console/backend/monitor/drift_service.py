"""DriftService: records what a deployment's version lists, finds what changed, approves it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.drift_holds import blocked_tools
from mcp_console.backend.db.models import ServiceDeployment
from mcp_console.backend.db.models_drift import DefinitionBaseline, DefinitionFinding
from mcp_console.backend.deploy.deployment_record import DeploymentState, address
from mcp_console.backend.deploy.lookup import find
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.backend.monitor.drift_capture import capture
from mcp_console.backend.monitor.drift_compare import Definition, Difference, compare
from mcp_console.schemas.deploy import DesiredState, HealthState
from mcp_console.schemas.drift import (
    DefinitionChange,
    DefinitionKind,
    DriftApproval,
    DriftFinding,
    DriftPolicy,
    DriftReport,
)
from mcp_console.schemas.errors import Invalid, Unavailable
from mcp_console.schemas.users import Principal

if TYPE_CHECKING:
    from mcp_console.backend.gateway.server import GatewayServer
    from mcp_console.backend.security.internal_keys import InternalKeys

logger = logging.getLogger(__name__)

# After an instance turns healthy its route is updated; the check waits this long (seconds,
# growing per attempt) for it, and gives up after so many attempts (the periodic check
# comes anyway).
SETTLE_SECONDS = 0.5
SETTLE_ATTEMPTS = 4

RouteChanged = Callable[[int], Awaitable[None]]


async def _nothing(_deployment_id: int) -> None:
    return None


class DriftService:
    """Tool-definition drift ("rug pull") detection for every deployment.

    When a deployment's version first serves healthy its tools, prompts and resource
    templates are recorded as its baseline; every later listing (an instance turned
    healthy, a restart, the periodic check) is compared with it, and each definition
    added, removed or changed becomes a finding until an operator approves it, which
    makes it part of the baseline. In block mode the gateway hides changed and added
    tools meanwhile. The listing goes through the gateway like any client's, with a
    short-lived key of ``principal``'s the gateway lets see held-back tools.

    Args:
        sessions: the database.
        events: instance health (what starts a check) and the findings (told here).
        gateway: the gateway server while one serves, else ``None``.
        keys: short-lived keys the gateway accepts.
        principal: who the console lists as (the local admin).
        route_changed: re-reads a deployment's route (the tools it holds back).
        timeout: seconds each listing may take.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: EventBus,
        gateway: Callable[[], GatewayServer | None],
        keys: InternalKeys,
        principal: Callable[[], Principal | None],
        *,
        route_changed: RouteChanged = _nothing,
        timeout: float = 15.0,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._gateway = gateway
        self._keys = keys
        self._principal = principal
        self._route_changed = route_changed
        self.timeout = timeout
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watch: asyncio.Task[None] | None = None

    # -- checking ------------------------------------------------------------------------------

    def start(self) -> None:
        """Check each deployment whose instance turns healthy (on the running loop)."""
        if self._watch is None:
            self._watch = asyncio.create_task(self._follow(), name="definition drift")

    async def aclose(self) -> None:
        """Stop watching; checks under way are cancelled."""
        tasks = [t for t in (self._watch, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._watch = None
        self._tasks.clear()

    async def _follow(self) -> None:
        async with self._events.subscribe() as queue:
            while True:
                event = await queue.get()
                healthy = event.get("health") == HealthState.HEALTHY.value
                if event.get("type") == "instance.health" and healthy:
                    self._check_soon(int(event["deployment_id"]))

    def _check_soon(self, deployment_id: int) -> None:
        if deployment_id in self._pending:
            return
        self._pending.add(deployment_id)
        task = asyncio.create_task(self._check_settled(deployment_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check_settled(self, deployment_id: int) -> None:
        try:
            for attempt in range(1, SETTLE_ATTEMPTS + 1):
                await asyncio.sleep(SETTLE_SECONDS * attempt)
                if await self.check(deployment_id) is not None:
                    return
        except Exception:
            logger.exception("checking the definitions of deployment %s failed", deployment_id)
        finally:
            self._pending.discard(deployment_id)

    async def check_all(self) -> int:
        """Check every deployment the gateway routes to a healthy instance, one at a time
        (the scheduler's job); returns how many were checked."""
        server = self._gateway()
        if server is None:
            return 0
        checked = 0
        for route in server.gateway.routes.routes():
            if route.candidates and await self.check(route.deployment_id) is not None:
                checked += 1
        return checked

    async def check(self, deployment_id: int) -> list[Difference] | None:
        """List the deployment's definitions now and compare them with its baseline
        (recording the baseline if its version has none yet).

        Returns:
            What differs from the baseline (empty when nothing does, or when this listing
            became the baseline); ``None`` when it could not be listed (no gateway, not
            running, rolling out, or no healthy instance answered).
        """
        server, principal = self._gateway(), self._principal()
        if server is None or principal is None:
            return None
        lock = self._locks.setdefault(deployment_id, asyncio.Lock())
        async with lock:
            version_id = await self._serving_version(deployment_id)
            if version_id is None:
                return None
            try:
                listed = await capture(
                    server, self._keys, principal, deployment_id, timeout=self.timeout
                )
            except Unavailable as exc:
                logger.info("definitions of deployment %s not checked: %s", deployment_id, exc)
                return None
            async with self._sessions.begin() as session:
                if await self._serving_version(deployment_id, session) != version_id:
                    return None  # updated meanwhile: the new version gets its own baseline
                found, fresh = await _recorded(session, deployment_id, version_id, listed)
        if fresh:
            self._events.publish(
                {
                    "type": "deployment.drift",
                    "deployment_id": deployment_id,
                    "definitions": [f"{d.kind.value} {d.name}" for d in fresh],
                }
            )
            if any(d.kind is DefinitionKind.TOOL for d in fresh):
                await self._route_changed(deployment_id)
        return found

    async def _serving_version(
        self, deployment_id: int, session: AsyncSession | None = None
    ) -> int | None:
        """The version a running deployment serves; ``None`` while it rolls out or stops."""
        async with contextlib.AsyncExitStack() as stack:
            if session is None:
                session = await stack.enter_async_context(self._sessions())
            row = (
                await session.execute(
                    select(
                        ServiceDeployment.version_id,
                        ServiceDeployment.desired_state,
                        ServiceDeployment.target_version_id,
                    ).where(ServiceDeployment.id == deployment_id)
                )
            ).first()
        if row is None or row[1] != DesiredState.RUNNING.value or row[2] is not None:
            return None
        return int(row[0])

    # -- reading and approving -----------------------------------------------------------------

    async def report(self, actor: Principal, name: str) -> DriftReport:
        """The deployment's baseline, what differs from it and what is held back.

        Raises:
            NotFound: the actor has no deployment of that name.
            Forbidden: the actor is not one of its operators (nor an admin).
        """
        async with self._sessions() as session:
            state = await find(session, actor, name, "drift")
            return await _report(session, actor, state)

    async def approve(self, actor: Principal, name: str, approval: DriftApproval) -> DriftReport:
        """Make the listed definitions of the chosen findings the baseline; the gateway
        stops holding those tools back.

        Raises:
            NotFound: the actor has no deployment of that name.
            Forbidden: the actor is not one of its operators (nor an admin).
            Invalid: a named definition has no finding waiting (``field="names"``).
        """
        now = utcnow()
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "drift")
            d = state.deployment
            waiting = list(await session.scalars(_open_findings(d)))
            chosen = waiting
            if not approval.all:
                unknown = set(approval.names) - {f.name for f in waiting}
                if unknown:
                    names = ", ".join(sorted({f.name for f in waiting})) or "none"
                    raise Invalid(
                        f"no finding waits for approval under {', '.join(sorted(unknown))} "
                        f"(waiting: {names})",
                        field="names",
                    )
                chosen = [f for f in waiting if f.name in set(approval.names)]
            baseline = await session.scalar(_baseline(d.id, d.version_id))
            if baseline is not None and chosen:
                entries = {(e["kind"], e["name"]): e for e in baseline.definitions}
                for finding in chosen:
                    key = (finding.kind, finding.name)
                    if finding.new_definition is None:
                        entries.pop(key, None)
                    else:
                        kind = DefinitionKind(finding.kind)
                        entries[key] = Definition.of(
                            kind, finding.name, finding.new_definition
                        ).stored()
                    finding.approved_by, finding.approved_at = actor.name, now
                baseline.definitions = sorted(
                    entries.values(), key=lambda e: (e["kind"], e["name"])
                )
        if chosen:
            self._events.publish(
                {
                    "type": "deployment.drift.approved",
                    "deployment": d.deployment_name,
                    "deployment_id": d.id,
                    "definitions": [f"{f.kind} {f.name}" for f in chosen],
                    "by": actor.name,
                    **acted_by(actor),
                }
            )
            await self._route_changed(d.id)
        return await self.report(actor, name)

    async def set_policy(self, actor: Principal, name: str, policy: DriftPolicy) -> DriftReport:
        """Alert only, or also hold changed and added tools back until approved.

        Raises:
            NotFound: the actor has no deployment of that name.
            Forbidden: the actor is not one of its operators (nor an admin).
        """
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "drift")
            before, state.deployment.drift = state.deployment.drift, policy.value
            deployment_id = state.id
        if before != policy.value:
            change = {"deployment": state.name, "deployment_id": deployment_id, **acted_by(actor)}
            self._events.publish(
                {"type": "deployment.drift.policy", "policy": policy.value, **change}
            )
        await self._route_changed(deployment_id)
        return await self.report(actor, name)


def _baseline(deployment_id: int, version_id: int) -> Any:
    return select(DefinitionBaseline).where(
        DefinitionBaseline.deployment_id == deployment_id,
        DefinitionBaseline.version_id == version_id,
    )


def _open_findings(d: ServiceDeployment) -> Any:
    f = DefinitionFinding
    return select(f).where(
        f.deployment_id == d.id, f.version_id == d.version_id, f.approved_at.is_(None)
    )


async def _recorded(
    session: AsyncSession, deployment_id: int, version_id: int, listed: Sequence[Definition]
) -> tuple[list[Difference], list[Difference]]:
    """Compare with the baseline and keep the findings (one open finding per definition, the
    latest listing in it); the differences, and those new or changed since last time."""
    now = utcnow()
    baseline = await session.scalar(_baseline(deployment_id, version_id))
    if baseline is None:
        session.add(
            DefinitionBaseline(
                deployment_id=deployment_id,
                version_id=version_id,
                definitions=[d.stored() for d in listed],
                recorded_at=now,
                checked_at=now,
            )
        )
        return [], []
    baseline.checked_at = now
    found = compare((Definition.from_stored(e) for e in baseline.definitions), listed)
    f = DefinitionFinding
    waiting = {
        (row.kind, row.name): row
        for row in await session.scalars(
            select(f).where(
                f.deployment_id == deployment_id,
                f.version_id == version_id,
                f.approved_at.is_(None),
            )
        )
    }
    fresh: list[Difference] = []
    for difference in found:
        row = waiting.get((difference.kind.value, difference.name))
        if row is not None and row.new_digest == difference.new_digest:
            continue  # already told; a definition back as approved stays for review
        if row is None:
            row = f(deployment_id=deployment_id, version_id=version_id)
            row.kind, row.name = difference.kind.value, difference.name
            session.add(row)
        row.change = difference.change.value
        row.old_definition = difference.old.definition if difference.old else None
        row.new_definition = difference.new.definition if difference.new else None
        row.new_digest = difference.new_digest
        row.diff = difference.diff()
        row.detected_at = now
        fresh.append(difference)
    return found, fresh


async def _report(session: AsyncSession, actor: Principal, state: DeploymentState) -> DriftReport:
    d = state.deployment
    baseline = await session.scalar(_baseline(d.id, d.version_id))
    f = DefinitionFinding
    rows = await session.scalars(
        select(f)
        .where(f.deployment_id == d.id, f.version_id == d.version_id)
        .order_by(f.approved_at.is_not(None), f.detected_at.desc(), f.id.desc())
    )
    held = (await blocked_tools(session, [d.id])).get(d.id, frozenset())
    version = state.version(d.version_id)
    return DriftReport(
        deployment=address(actor, state),
        policy=DriftPolicy(d.drift),
        version=version.version if version is not None else "?",
        baseline_at=baseline.recorded_at if baseline is not None else None,
        definitions=len(baseline.definitions) if baseline is not None else 0,
        blocked_tools=sorted(held),
        findings=[_view(row) for row in rows],
    )


def _view(row: DefinitionFinding) -> DriftFinding:
    return DriftFinding(
        id=row.id,
        kind=DefinitionKind(row.kind),
        name=row.name,
        change=DefinitionChange(row.change),
        old_definition=row.old_definition,
        new_definition=row.new_definition,
        diff=row.diff,
        detected_at=row.detected_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
    )
