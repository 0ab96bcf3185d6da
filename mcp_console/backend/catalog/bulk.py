"""Importing services new to the catalog: decided in memory, then written in a few batches.

Each entry still lands whole or not at all: every check an entry can fail runs before it
changes the planned rows, so a failed entry leaves the plan as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.catalog.formats import ImportEntry
from mcp_console.backend.catalog.importer import (
    assign_plain_fields,
    check_publishable,
    deprecate_service,
    mark_published,
    new_service_row,
    normalise_tags,
)
from mcp_console.backend.catalog.versions import (
    mark_latest,
    new_version_row,
    row_content,
    validate_version,
    version_content,
)
from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import McpService, ServiceTag, ServiceVersion
from mcp_console.schemas.catalog import ImportProblem, ImportReport, ServiceStatus
from mcp_console.schemas.errors import Conflict, ConsoleError, Forbidden
from mcp_console.schemas.users import Principal, Role


@dataclass
class _Planned:
    """A new service as the entries so far leave it."""

    row: McpService
    versions: dict[str, ServiceVersion] = field(default_factory=dict)


def plan_new_services(
    actor: Principal, entries: list[ImportEntry], report: ImportReport
) -> list[_Planned]:
    """Apply entries of services that do not exist yet to unsaved rows, reporting each."""
    planned: dict[str, _Planned] = {}
    for entry in entries:
        label = f"{entry.service.name}@{entry.version.version}"
        try:
            outcome = _plan_entry(actor, entry, planned)
        except ConsoleError as error:
            report.problems.append(
                ImportProblem(origin=entry.origin, entry=label, reason=error.message)
            )
            continue
        getattr(report, outcome).append(label)
    return list(planned.values())


def _plan_entry(actor: Principal, entry: ImportEntry, planned: dict[str, _Planned]) -> str:
    parsed = validate_version(entry.version)
    if actor.role not in (Role.AUTHOR, Role.ADMIN):
        raise Forbidden("only authors and admins import services")
    plan = planned.get(entry.service.name)
    draft = plan is None or plan.row.status == ServiceStatus.DRAFT.value
    existing = plan.versions.get(entry.version.version) if plan is not None else None
    content = version_content(entry.version)
    changes_version = existing is not None and row_content(existing) != content
    if changes_version and existing is not None and existing.published_at is not None:
        raise Conflict(
            f"version {existing.version} is published and immutable; publish a new version instead"
        )
    new_row = new_version_row(0, entry.version, parsed) if existing is None else None
    publish = draft and entry.status in (ServiceStatus.PUBLISHED, ServiceStatus.DEPRECATED)
    if publish:
        known = list(plan.versions.values()) if plan is not None else []
        check_publishable(entry.service.name, known + ([new_row] if new_row else []))

    # Every check has passed: only now does the plan change.
    if plan is None:
        service = new_service_row(actor, entry.service)
        service.tags = normalise_tags(entry.service.tags)
        plan = planned[entry.service.name] = _Planned(service)
        outcome = "created"
    else:
        service = plan.row
        changed = assign_plain_fields(
            service, entry.service.model_dump(exclude={"name", "featured"})
        )
        tags = normalise_tags(entry.service.tags)
        if tags != service.tags:
            service.tags = tags
            changed = True
        outcome = "updated" if changed else "unchanged"
    if new_row is not None:
        if not draft:
            new_row.published_at = utcnow()
        plan.versions[new_row.version] = new_row
        mark_latest(list(plan.versions.values()))
    elif existing is not None and changes_version:
        for key, value in content.items():
            setattr(existing, key, value)
    if new_row is not None or changes_version:
        outcome = "updated" if outcome == "unchanged" else outcome
    if publish:
        mark_published(service, list(plan.versions.values()))
        outcome = "updated" if outcome == "unchanged" else outcome
    deprecated = ServiceStatus.DEPRECATED
    if entry.status is deprecated and service.status != deprecated.value:
        deprecate_service(service, entry.status_message or "deprecated upstream")
        outcome = "updated" if outcome == "unchanged" else outcome
    return outcome


async def split_new(
    session: AsyncSession, entries: list[ImportEntry]
) -> tuple[list[ImportEntry], list[ImportEntry], dict[str, McpService]]:
    """Entries of services not in the catalog yet, entries of services that are, and the
    stored services by name."""
    names = {e.service.name for e in entries}
    stored = {
        s.name: s
        for s in await session.scalars(select(McpService).where(McpService.name.in_(names)))
    }
    fresh = [e for e in entries if e.service.name not in stored]
    known = [e for e in entries if e.service.name in stored]
    return fresh, known, stored


async def insert_new_services(session: AsyncSession, planned: list[_Planned]) -> set[int]:
    """Write planned services, their versions and tags; returns the new services' ids."""
    if not planned:
        return set()
    rows = [plan.row for plan in planned]
    session.add_all(rows)
    await session.flush()  # one multi-row INSERT … RETURNING id
    versions: list[ServiceVersion] = []
    tags: list[dict[str, object]] = []
    for plan in planned:
        for version in plan.versions.values():
            version.service_id = plan.row.id
            versions.append(version)
        tags.extend({"service_id": plan.row.id, "tag": tag} for tag in plan.row.tags)
    session.add_all(versions)
    await session.flush()
    if tags:
        await session.execute(insert(ServiceTag), tags)
    return {row.id for row in rows}
