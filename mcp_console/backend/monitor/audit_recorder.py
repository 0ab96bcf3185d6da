"""AuditRecorder: every change told on the event bus and every tool call, appended in batches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import AuditEvent, ServiceDeployment, User
from mcp_console.backend.deploy.secretstore import DeploymentSecrets
from mcp_console.backend.gateway.records import TOOLS_CALL, RequestRecord, is_error
from mcp_console.backend.monitor.audit_arguments import arguments_detail
from mcp_console.schemas.audit import AUDIT_POLICY_EVENT, TOOL_CALL, AuditArguments
from mcp_console.schemas.errors import Unavailable

logger = logging.getLogger(__name__)

# Who acted when nobody did: the controller (its own decisions) or the console (its setup).
CONTROLLER = "controller"
CONSOLE = "console"
ANONYMOUS = "anonymous"  # a tool call refused before its caller was known
# Beyond this many rows waiting (the database is down), the oldest are dropped, counted.
MAX_PENDING = 100_000
# How long a first event waits for others to join its batch (tool calls come in bursts).
BATCH_DELAY_S = 0.2
RETRY_S = 5.0

# The event types that are changes, and the field of each that names what changed.
AUDITED: dict[str, str] = {
    "service.registered": "service",
    "service.updated": "service",
    "service.published": "service",
    "service.deprecated": "service",
    "service.deleted": "service",
    "version.added": "service",
    "review.added": "service",
    "catalog.imported": "",
    "deployment.created": "deployment",
    "deployment.scaled": "deployment",
    "deployment.autoscale": "deployment",
    "deployment.updating": "deployment",
    "deployment.configured": "deployment",
    "deployment.rollback": "deployment",
    "deployment.rollout": "deployment",
    "deployment.stopping": "deployment",
    "deployment.starting": "deployment",
    "deployment.deleting": "deployment",
    "deployment.shared": "deployment",
    "deployment.unshared": "deployment",
    "deployment.drift.approved": "deployment",
    "deployment.drift.policy": "deployment",
    AUDIT_POLICY_EVENT: "deployment",
    "key.created": "key",
    "key.revoked": "key",
    "secret.set": "secret",
    "secret.removed": "secret",
    "user.created": "user",
    "team.changed": "team",
    "alert.rule.added": "rule",
    "alert.rule.removed": "rule",
    "alert.rule.enabled": "rule",
    "alert.rule.disabled": "rule",
    "alert.acknowledged": "rule",
    "alert.silenced": "silence_id",
    "alert.silence.ended": "silence_id",
    "alert.target.added": "target",
    "alert.target.removed": "target",
    "metering.usage.lost": "",
    "price.set": "service",
    "quota.set": "subject",
    "quota.removed": "subject",
}
# The table, not the entity: a Core executemany, without the ORM's per-row bookkeeping
# (the recorder writes the trail and never reads its rows back).
_EVENTS = cast(Table, AuditEvent.__table__)
# Fields an event carries for its readers that the row holds elsewhere (or nobody needs).
_ROUTING = frozenset(
    {"type", "actor", "system", "deployment", "deployment_id", "owner_id", "user_ids"}
)


@dataclass(slots=True)
class _Pending:
    """One row to write, before the names of its user and deployment are looked up."""

    at: datetime
    kind: str
    user_id: int | None
    actor: str | None  # None: look the user's name up
    via: str | None
    target: str
    deployment_id: int | None
    deployment: str | None
    owner_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)
    call: bool = False  # a tool call, whose arguments the deployment's policy decides on
    body: bytes | None = None  # a call's request body, as the gateway kept it


def change_row(event: dict[str, Any], at: datetime) -> _Pending | None:
    """The audit row of a change event (``None`` for events that are no change)."""
    kind = str(event.get("type", ""))
    name_field = AUDITED.get(kind)
    if name_field is None:
        return None
    who = event.get("actor")
    # As JSON holds it (a time as text): one odd value must not keep a batch from the table.
    detail = json.loads(
        json.dumps(
            {k: v for k, v in event.items() if k not in _ROUTING and k != name_field},
            default=str,
        )
    )
    if kind == "team.changed":  # kept as what changed of the team
        kind = f"team.{detail.pop('change', 'changed')}"
    deployment_id = event.get("deployment_id")
    return _Pending(
        at=at,
        kind=kind,
        user_id=who["user_id"] if who else None,
        actor=who["name"] if who else str(event.get("system", CONTROLLER)),
        via=who["via"] if who else None,
        target=str(event.get(name_field, "")) if name_field else "",
        deployment_id=int(deployment_id) if deployment_id is not None else None,
        deployment=event.get("deployment"),
        owner_id=event.get("owner_id"),
        detail=detail,
    )


def outcome(record: RequestRecord) -> str:
    """``ok``, ``rpc <code>`` (the server's JSON-RPC error) or ``http <status>``."""
    if not is_error(record):
        return "ok"
    if not isinstance(record.error, bool):
        return f"rpc {record.error}"
    return f"http {record.status}"


class AuditRecorder:
    """Appends the audit trail: listens to the event bus for changes and taps the gateway's
    meter for tool calls, and writes both in batches off the path that made them.

    ``note`` (the bus listener) and ``record`` (the meter tap) only append to a list; a
    task writes what gathered. Leaving (``aclose``) writes the rest, so a short-lived CLI
    command leaves its changes in the trail too. Readers ``flush`` first to see their own
    changes.

    A tool call's arguments are kept as its deployment's ``audit_arguments`` policy says
    (``audit_arguments.arguments_detail``), worked out here, never on the request path.
    Each batch reads the policies of the deployments its calls went to (in the one query
    that looks up names); a change made here also arrives as an event among the calls, so
    each call is kept under the policy in force when it finished.

    Args:
        sessions: the database.
        secrets: the deployments' secret values, masked in redacted arguments.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], secrets: DeploymentSecrets
    ) -> None:
        self._sessions = sessions
        self._secrets = secrets
        self._pending: list[_Pending | RequestRecord] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        # Names never change and deployments never change owner: each is looked up once.
        self._users: dict[int, str] = {}
        self._deployments: dict[int, tuple[str, int]] = {}
        # Read again with each batch of calls; moved on by the change events in between.
        self._policies: dict[int, str] = {}
        self.dropped = 0

    # -- the listeners (on the loop, no I/O) ---------------------------------------------------

    def note(self, event: dict[str, Any]) -> None:
        """Take one event from the bus (kept if it is a change)."""
        row = change_row(event, datetime.now(UTC))
        if row is not None:
            self._add(row)

    def record(self, record: RequestRecord) -> None:
        """Take one finished gateway request (kept if it called a tool)."""
        if record.method == TOOLS_CALL:
            self._add(record)

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        """Not audited."""

    def _add(self, item: _Pending | RequestRecord) -> None:
        if len(self._pending) >= MAX_PENDING:
            del self._pending[0]
            self.dropped += 1
        self._pending.append(item)
        self._wake.set()

    # -- writing -------------------------------------------------------------------------------

    def start(self) -> None:
        """Write what gathers, batch by batch, until ``aclose``."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit recorder")

    async def aclose(self) -> None:
        """Stop the writer and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self.dropped:
            logger.warning("the audit trail lost %d events while it could not write", self.dropped)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(BATCH_DELAY_S)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # kept for the next pass; the writer goes on
                logger.exception("could not write the audit trail")
                await asyncio.sleep(RETRY_S)
                self._wake.set()

    async def flush(self) -> int:
        """Write everything gathered so far; the number of rows written."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                async with self._sessions.begin() as session:
                    rows = await self._rows(session, batch)
                    await session.execute(insert(_EVENTS), rows)
            except BaseException:
                self._pending[:0] = batch
                raise
            return len(rows)

    async def _rows(
        self, session: AsyncSession, batch: list[_Pending | RequestRecord]
    ) -> list[dict[str, Any]]:
        pending = [_call_row(item) if isinstance(item, RequestRecord) else item for item in batch]
        await self._learn(session, pending, {r.deployment_id or 0 for r in pending if r.call})
        # Always: a batch of policy changes alone must still move the policies on.
        await self._add_arguments(session, pending)
        rows = []
        for row in pending:
            known = self._deployments.get(row.deployment_id or 0)
            if known is not None:
                row.deployment = row.deployment or known[0]
                row.owner_id = row.owner_id if row.owner_id is not None else known[1]
            if row.actor is None:
                row.actor = self._users.get(row.user_id or 0, ANONYMOUS)
            rows.append(
                {
                    "at": row.at,
                    "kind": row.kind,
                    "user_id": row.user_id,
                    "actor": row.actor,
                    "via": row.via,
                    "target": row.target[:500],
                    "deployment_id": row.deployment_id,
                    "deployment": row.deployment,
                    "owner_id": row.owner_id,
                    "detail": row.detail,
                }
            )
        return rows

    async def _learn(
        self, session: AsyncSession, rows: Iterable[_Pending], called: Set[int] = frozenset()
    ) -> None:
        """Look up the names of users and deployments not yet known, and the argument policy
        of the deployments ``called`` (another console on the database may have changed it)."""
        rows = list(rows)
        users = {r.user_id for r in rows if r.actor is None and r.user_id is not None}
        users -= self._users.keys()
        if users:
            found = await session.execute(select(User.id, User.name).where(User.id.in_(users)))
            self._users.update({int(i): str(n) for i, n in found.all()})
        deployments = {r.deployment_id for r in rows if r.deployment_id is not None}
        deployments = (deployments - self._deployments.keys()) | called
        if deployments:
            found_d = await session.execute(
                select(
                    ServiceDeployment.id,
                    ServiceDeployment.deployment_name,
                    ServiceDeployment.user_id,
                    ServiceDeployment.audit_arguments,
                ).where(ServiceDeployment.id.in_(deployments))
            )
            for i, n, o, policy in found_d.all():
                self._deployments[int(i)] = (str(n), int(o))
                self._policies[int(i)] = str(policy)

    async def _add_arguments(self, session: AsyncSession, pending: list[_Pending]) -> None:
        """Add each call's arguments to its detail, under the policy in force when it was
        made: the batch is walked in order, its policy changes applied as they come."""
        # Before a deployment's first change in this batch, the policy that change replaced
        # (what was read from the database may already be the new one).
        policies = dict(self._policies)
        changed: set[int] = set()
        for row in pending:
            d = row.deployment_id
            if row.kind == AUDIT_POLICY_EVENT and d is not None and d not in changed:
                changed.add(d)
                policies[d] = str(row.detail.get("before", AuditArguments.DIGEST))
        calls: list[tuple[_Pending, bytes | None, str]] = []
        for row in pending:
            d = row.deployment_id or 0
            if row.kind == AUDIT_POLICY_EVENT:
                policies[d] = str(row.detail.get("policy", AuditArguments.DIGEST))
            elif row.call:
                calls.append((row, row.body, policies.get(d, AuditArguments.DIGEST)))
        self._policies.update(policies)
        masks: dict[int, tuple[str, ...] | None] = {}
        work: list[tuple[bytes | None, str, tuple[str, ...]]] = []
        for row, body, policy in calls:
            d = row.deployment_id or 0
            if policy == AuditArguments.REDACTED and d not in masks:
                masks[d] = await self._masks(session, d)
            mask = masks.get(d, ())
            if mask is None:  # its secrets cannot be read: a digest, not what may hold one
                work.append((body, AuditArguments.DIGEST, ()))
            else:
                work.append((body, policy, mask))
        if not work:
            return
        # Parsing, hashing and masking a burst of bodies: on a thread, not on the loop.
        details = await asyncio.to_thread(_arguments_details, work)
        for (row, _, _), detail in zip(calls, details, strict=True):
            row.detail.update(detail)

    async def _masks(self, session: AsyncSession, deployment_id: int) -> tuple[str, ...] | None:
        """The deployment's secret values to mask; ``None`` when they cannot be decrypted."""
        try:
            return await self._secrets.known(session, deployment_id)
        except Unavailable:
            logger.warning(
                "the secrets of deployment %d cannot be read: its calls' arguments are kept "
                "as digests",
                deployment_id,
            )
            return None

    async def purge(self, retention: timedelta) -> int:
        """Delete the events older than ``retention``; how many went."""
        before = datetime.now(UTC) - retention
        async with self._sessions.begin() as session:
            result = await session.execute(delete(AuditEvent).where(AuditEvent.at < before))
        deleted: int = result.rowcount  # type: ignore[attr-defined]
        return deleted


def _arguments_details(
    work: list[tuple[bytes | None, str, tuple[str, ...]]],
) -> list[dict[str, Any]]:
    return [arguments_detail(body, policy, secrets) for body, policy, secrets in work]


def _call_row(record: RequestRecord) -> _Pending:
    return _Pending(
        at=datetime.fromtimestamp(record.at, UTC),
        kind=TOOL_CALL,
        user_id=record.user_id,
        actor=None,
        via="gateway",
        target=record.tool_name or "",
        deployment_id=record.deployment_id,
        deployment=None,
        owner_id=None,
        detail={
            "outcome": outcome(record),
            "status": record.status,
            "latency_ms": round(record.latency_ms, 3),
        },
        call=True,
        body=record.body,
    )
