"""Writing catalog entries: create or update services and versions, publish, deprecate, import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.catalog.price_history import keep_catalog_price_change
from mcp_console.backend.catalog.versions import (
    new_version_row,
    recompute_latest,
    row_content,
    runnable,
    validate_version,
    version_content,
)
from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import McpService, ServiceTag, ServiceVersion
from mcp_console.schemas.catalog import ImportProblem, ImportReport, ServiceCreate, ServiceStatus
from mcp_console.schemas.errors import Conflict, ConsoleError, Forbidden
from mcp_console.schemas.users import Principal, Role

# The registry formats (and their schema validator) load with an import, not with the
# catalog: a console's first page of results waits for the catalog only.
if TYPE_CHECKING:
    from mcp_console.backend.catalog.formats import ImportEntry

# ServiceCreate fields that are stored on the row as they are.
_PLAIN_FIELDS = (
    "display_name",
    "description",
    "category",
    "repository_url",
    "documentation_url",
    "icon_url",
    "readme",
    "price_model",
    "price_per_request",
    "featured",
)


def normalise_tags(tags: list[str]) -> list[str]:
    """Tags lower-cased, trimmed and unique, in their first order."""
    seen: dict[str, None] = {}
    for tag in tags:
        clean = tag.strip().lower()
        if clean:
            seen.setdefault(clean[:100], None)
    return list(seen)


async def set_tags(
    session: AsyncSession, service: McpService, tags: list[str], *, fresh: bool = False
) -> None:
    """Store tags on the row (for display) and in ``service_tags`` (for indexed filtering)."""
    clean = normalise_tags(tags)
    service.tags = clean
    if not fresh:
        await session.execute(delete(ServiceTag).where(ServiceTag.service_id == service.id))
    session.add_all(ServiceTag(service_id=service.id, tag=t) for t in clean)


def new_service_row(actor: Principal, new: ServiceCreate) -> McpService:
    """A DRAFT service row owned by ``actor`` (not yet added to a session)."""
    return McpService(
        name=new.name,
        display_name=new.display_name or new.name.rsplit("/", 1)[-1],
        description=new.description,
        category=new.category.strip().lower() if new.category else None,
        author_id=actor.user_id,
        repository_url=new.repository_url,
        documentation_url=new.documentation_url,
        icon_url=new.icon_url,
        readme=new.readme,
        price_model=new.price_model.value,
        price_per_request=new.price_per_request,
        featured=new.featured,
        status=ServiceStatus.DRAFT.value,
        tags=[],
    )


async def create_service(
    session: AsyncSession, actor: Principal, new: ServiceCreate, *, with_author: bool = True
) -> McpService:
    """Insert a DRAFT service owned by ``actor`` (``with_author`` loads it for views)."""
    row = new_service_row(actor, new)
    session.add(row)
    await session.flush()
    await set_tags(session, row, new.tags, fresh=True)
    await session.flush()
    if with_author:
        await session.refresh(row, ["author"])
    return row


def assign_plain_fields(row: McpService, fields: dict[str, Any]) -> bool:
    """Set changed descriptive fields (not tags) on ``row``; returns whether any changed."""
    changed = False
    for name in _PLAIN_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if name == "display_name" and not value:
            continue
        if name == "category" and value:
            value = str(value).strip().lower()
        if name == "price_model":
            value = getattr(value, "value", value)
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def apply_service_fields(
    session: AsyncSession, row: McpService, fields: dict[str, Any], actor: Principal
) -> bool:
    """Apply changed descriptive fields to ``row``; returns whether anything changed.

    A change of its price is kept in its price timeline too, from the next hour: calls
    already made keep the price they were made at.
    """
    old_price = (row.price_model, row.price_per_request)
    changed = assign_plain_fields(row, fields)
    if (row.price_model, row.price_per_request) != old_price:
        await keep_catalog_price_change(session, row, old_price, actor.user_id, utcnow())
    if "tags" in fields and normalise_tags(fields["tags"]) != row.tags:
        await set_tags(session, row, fields["tags"])
        changed = True
    if changed:
        row.updated_at = utcnow()
        await session.flush()
    return changed


async def publish_service(
    session: AsyncSession, service: McpService, versions: list[ServiceVersion] | None = None
) -> None:
    """Publish a draft: it needs a version with something to run; its versions freeze.

    ``versions`` are the service's version rows when the caller has them all already.
    """
    if service.status != ServiceStatus.DRAFT.value:
        raise Conflict(f"{service.name} is {service.status.lower()}, not a draft")
    if versions is None:
        versions = list(
            await session.scalars(
                select(ServiceVersion).where(ServiceVersion.service_id == service.id)
            )
        )
    mark_published(service, versions)
    await session.flush()


def check_publishable(name: str, versions: list[ServiceVersion]) -> None:
    """Raise ``Conflict`` unless one of a service's versions has something to run."""
    if not versions:
        raise Conflict(f"{name} has no version; add one before publishing")
    if not any(runnable(v) for v in versions):
        raise Conflict(
            f"{name} has nothing to run: give a version a docker_image, a package, "
            "a command or a remote endpoint before publishing"
        )


def mark_published(service: McpService, versions: list[ServiceVersion]) -> None:
    """Set a draft and its versions published, if one of them has something to run.

    Raises:
        Conflict: there is no version, or none has anything to run.
    """
    check_publishable(service.name, versions)
    now = utcnow()
    for version in versions:
        version.published_at = version.published_at or now
    service.status = ServiceStatus.PUBLISHED.value
    service.published_at = now
    service.updated_at = now


def deprecate_service(service: McpService, message: str) -> None:
    """Mark a service deprecated; drafts cannot be deprecated (delete them instead)."""
    if service.status == ServiceStatus.DRAFT.value:
        raise Conflict(f"{service.name} is a draft: delete it instead of deprecating it")
    service.status = ServiceStatus.DEPRECATED.value
    service.deprecation_message = message.strip()
    service.updated_at = utcnow()


async def apply_entries(
    session: AsyncSession,
    actor: Principal,
    entries: list[ImportEntry],
    services: dict[str, McpService],
    report: ImportReport,
) -> set[int]:
    """Apply import entries, each in a savepoint, given every stored service they name (by
    name; updated as entries apply); returns the ids of services touched."""
    versions: dict[tuple[int, str], ServiceVersion] = {
        (v.service_id, v.version): v
        for v in await session.scalars(
            select(ServiceVersion).where(
                ServiceVersion.service_id.in_([s.id for s in services.values()])
            )
        )
    }
    cache = _Cache(services, versions)
    touched: set[int] = set()
    for entry in entries:
        label = f"{entry.service.name}@{entry.version.version}"
        try:
            async with session.begin_nested():
                outcome, service = await _apply_entry(session, actor, entry, cache)
        except (ConsoleError, IntegrityError) as error:
            reason = (
                error.message if isinstance(error, ConsoleError) else "conflicts with stored data"
            )
            report.problems.append(ImportProblem(origin=entry.origin, entry=label, reason=reason))
            # The savepoint's rollback expired what it touched: drop the caches, reload on use.
            cache.forget()
            continue
        services[service.name] = service
        getattr(report, outcome).append(label)
        if outcome != "unchanged":
            touched.add(service.id)
    return touched


class _Cache:
    """The rows an import has seen; while ``complete``, a miss means the row does not exist."""

    def __init__(
        self,
        services: dict[str, McpService],
        versions: dict[tuple[int, str], ServiceVersion],
    ) -> None:
        self.services = services
        self.versions = versions
        self.complete = True

    def forget(self) -> None:
        self.services.clear()
        self.versions.clear()
        self.complete = False

    def versions_of(self, service_id: int) -> list[ServiceVersion] | None:
        if not self.complete:
            return None
        return [v for (sid, _), v in self.versions.items() if sid == service_id]

    async def service(self, session: AsyncSession, name: str) -> McpService | None:
        found = self.services.get(name)
        if found is not None or self.complete:
            return found
        return await session.scalar(select(McpService).where(McpService.name == name))

    async def version(
        self, session: AsyncSession, service_id: int, version: str
    ) -> ServiceVersion | None:
        found = self.versions.get((service_id, version))
        if found is not None or self.complete:
            return found
        return await session.scalar(
            select(ServiceVersion).where(
                ServiceVersion.service_id == service_id, ServiceVersion.version == version
            )
        )


async def _apply_entry(
    session: AsyncSession, actor: Principal, entry: ImportEntry, cache: _Cache
) -> tuple[str, McpService]:
    parsed = validate_version(entry.version)
    service = await cache.service(session, entry.service.name)
    outcome = "unchanged"
    if service is None:
        if actor.role not in (Role.AUTHOR, Role.ADMIN):
            raise Forbidden("only authors and admins import services")
        service = await create_service(session, actor, entry.service, with_author=False)
        outcome = "created"
    else:
        if service.author_id != actor.user_id and not actor.is_admin:
            raise Forbidden(f"{service.name} belongs to another author")
        fields = entry.service.model_dump(exclude={"name", "featured"})
        if await apply_service_fields(session, service, fields, actor):
            outcome = "updated"
    existing = await cache.version(session, service.id, entry.version.version)
    if existing is None:
        row = new_version_row(service.id, entry.version, parsed)
        if service.status != ServiceStatus.DRAFT.value:
            row.published_at = utcnow()
        session.add(row)
        await session.flush()
        cache.versions[(service.id, row.version)] = row
        await recompute_latest(session, service.id, cache.versions_of(service.id))
        outcome = "created" if outcome == "created" else "updated"
    elif row_content(existing) != version_content(entry.version):
        if existing.published_at is not None:
            raise Conflict(
                f"version {existing.version} is published and immutable; "
                "publish a new version instead"
            )
        for key, value in version_content(entry.version).items():
            setattr(existing, key, value)
        outcome = "updated" if outcome == "unchanged" else outcome
    if entry.status is ServiceStatus.PUBLISHED and service.status == ServiceStatus.DRAFT.value:
        await publish_service(session, service, cache.versions_of(service.id))
        outcome = "updated" if outcome == "unchanged" else outcome
    if (
        entry.status is ServiceStatus.DEPRECATED
        and service.status != ServiceStatus.DEPRECATED.value
    ):
        if service.status == ServiceStatus.DRAFT.value:
            await publish_service(session, service, cache.versions_of(service.id))
        deprecate_service(service, entry.status_message or "deprecated upstream")
        outcome = "updated" if outcome == "unchanged" else outcome
    return outcome, service
