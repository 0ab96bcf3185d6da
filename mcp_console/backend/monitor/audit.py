"""AuditService: the audit trail read back, newest first, filtered, each reader seeing theirs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import AuditEvent, User
from mcp_console.backend.monitor.audit_recorder import AUDITED, AuditRecorder
from mcp_console.backend.monitor.log_service import moment
from mcp_console.schemas.audit import TOOL_CALL, AuditEntry, AuditQuery
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.users import Principal

TEAM_CHANGES = ("created", "deleted", "member-set", "member-removed")
# Every kind the trail holds (``team.changed`` is kept as what changed of the team).
KINDS = tuple(
    sorted(
        {k for k in AUDITED if k != "team.changed"}
        | {f"team.{change}" for change in TEAM_CHANGES}
        | {TOOL_CALL}
    )
)


def kind_filter(kind: str) -> ColumnElement[bool]:
    """Rows of ``kind``, or of every kind under it (``deployment`` finds ``deployment.*``).

    Raises:
        Invalid: no kind is or starts with ``kind``.
    """
    kind = kind.strip().rstrip(".")
    if not any(k == kind or k.startswith(f"{kind}.") for k in KINDS):
        groups = sorted({k.split(".")[0] for k in KINDS})
        raise Invalid(
            f"no audit event kind {kind!r}; use a kind such as deployment.scaled or a group: "
            + ", ".join(groups),
            field="kind",
        )
    return or_(AuditEvent.kind == kind, AuditEvent.kind.startswith(f"{kind}.", autoescape=True))


class AuditService:
    """Lists the audit trail: an admin sees every event; anyone else their own actions and
    what happened to the deployments they own (tool calls of others included).

    Nothing here changes or removes an event: the trail only grows, and the backend's
    scheduler trims it by age (``monitor.audit_retention``).

    Args:
        sessions: the database.
        recorder: the writer of the trail (flushed before reading, so a reader sees its own
            last change).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], recorder: AuditRecorder) -> None:
        self._sessions = sessions
        self._recorder = recorder

    async def events(self, actor: Principal, query: AuditQuery) -> list[AuditEntry]:
        """The newest events matching ``query`` that ``actor`` may see.

        Raises:
            Invalid: a bad time or range, or an unknown kind (``field`` names it).
            NotFound: ``query.deployment`` is ``owner/name`` of an owner who does not exist.
        """
        conditions = [*_times(query), *self._who(actor)]
        if query.kind:
            conditions.append(kind_filter(query.kind))
        if query.user:
            conditions.append(AuditEvent.actor == query.user.strip())
        if query.before_id is not None:
            conditions.append(AuditEvent.id < query.before_id)
        await self._recorder.flush()
        async with self._sessions() as session:
            if query.deployment:
                conditions.extend(await _deployment(session, query.deployment.strip()))
            rows = await session.scalars(
                select(AuditEvent)
                .where(*conditions)
                .order_by(AuditEvent.id.desc())
                .limit(query.limit)
            )
            return [_entry(row) for row in rows]

    @staticmethod
    def _who(actor: Principal) -> list[ColumnElement[bool]]:
        if actor.is_admin:
            return []
        return [or_(AuditEvent.user_id == actor.user_id, AuditEvent.owner_id == actor.user_id)]


def _times(query: AuditQuery) -> list[ColumnElement[bool]]:
    since = moment(query.since, "since")
    until = moment(query.until, "until")
    if since is not None and until is not None and since > until:
        raise Invalid("since must be before until", field="since")
    conditions = []
    if since is not None:
        conditions.append(AuditEvent.at >= datetime.fromtimestamp(since, UTC))
    if until is not None:
        conditions.append(AuditEvent.at <= datetime.fromtimestamp(until, UTC))
    return conditions


async def _deployment(session: AsyncSession, address: str) -> list[ColumnElement[bool]]:
    """``name`` (any owner's) or ``owner/name``."""
    owner, _, name = address.rpartition("/")
    conditions = [AuditEvent.deployment == name]
    if owner:
        owner_id = await session.scalar(select(User.id).where(User.name == owner))
        if owner_id is None:
            raise NotFound(f"no user named {owner!r}", field="deployment")
        conditions.append(AuditEvent.owner_id == owner_id)
    return conditions


def _entry(row: AuditEvent) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        kind=row.kind,
        actor=row.actor,
        user_id=row.user_id,
        via=row.via,
        target=row.target,
        deployment=row.deployment,
        detail=dict(row.detail),
    )
