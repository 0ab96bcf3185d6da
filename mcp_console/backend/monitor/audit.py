"""AuditService: the audit trail read back, newest first, filtered, each reader seeing theirs."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """An audit query's times and kind, checked (the clients' fake reads queries with it too)."""

    since: datetime | None
    until: datetime | None
    kind: str | None

    def kind_matches(self, kind: str) -> bool:
        """Whether ``kind`` is the filter's kind or one under it."""
        return self.kind is None or kind == self.kind or kind.startswith(f"{self.kind}.")


def audit_filter(query: AuditQuery) -> AuditFilter:
    """The checked times and kind of ``query``.

    Raises:
        Invalid: a bad time or range, or no kind is or starts with ``query.kind``.
    """
    since = moment(query.since, "since")
    until = moment(query.until, "until")
    if since is not None and until is not None and since > until:
        raise Invalid("since must be before until", field="since")
    kind = query.kind.strip().rstrip(".") if query.kind else None
    if kind is not None and not any(k == kind or k.startswith(f"{kind}.") for k in KINDS):
        groups = sorted({k.split(".")[0] for k in KINDS})
        raise Invalid(
            f"no audit event kind {kind!r}; use a kind such as deployment.scaled or a group: "
            + ", ".join(groups),
            field="kind",
        )
    return AuditFilter(
        since=datetime.fromtimestamp(since, UTC) if since is not None else None,
        until=datetime.fromtimestamp(until, UTC) if until is not None else None,
        kind=kind,
    )


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
        checked = audit_filter(query)
        conditions = self._who(actor)
        if checked.since is not None:
            conditions.append(AuditEvent.at >= checked.since)
        if checked.until is not None:
            conditions.append(AuditEvent.at <= checked.until)
        if checked.kind is not None:
            kind = checked.kind
            conditions.append(
                or_(
                    AuditEvent.kind == kind, AuditEvent.kind.startswith(f"{kind}.", autoescape=True)
                )
            )
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
