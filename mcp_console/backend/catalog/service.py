"""CatalogService: register, version, publish, deprecate, search and review MCP services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# The registry formats, their schema validator and the bulk writer load with the first
# export or import, inside the methods that use them: a console's first page of results
# waits for the catalog's reads only.
from mcp_console.backend.catalog import importer
from mcp_console.backend.catalog.search import (
    SearchIndex,
    category_counts,
    parse_query,
    tag_counts,
)
from mcp_console.backend.catalog.versions import (
    new_version_row,
    recompute_latest,
    validate_version,
)
from mcp_console.backend.catalog.views import (
    review_view,
    service_detail,
    service_views,
    version_view,
)
from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import McpService, ServiceReview, ServiceVersion
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.schemas.catalog import (
    CatalogDocument,
    CatalogFormat,
    CategoryCount,
    ImportProblem,
    ImportReport,
    ReviewCreate,
    ReviewView,
    SearchPage,
    ServiceCreate,
    ServiceDetail,
    ServiceStatus,
    ServiceUpdate,
    ServiceView,
    TagCount,
    VersionCreate,
    VersionView,
)
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Principal, Role

MAX_PAGE_SIZE = 500


def require_author_role(actor: Principal) -> None:
    """Only authors and admins publish services."""
    if actor.role not in (Role.AUTHOR, Role.ADMIN):
        raise Forbidden(f"{actor.name} is a {actor.role.value}; only authors and admins publish")


def require_owner(actor: Principal, service: McpService) -> None:
    """Only a service's author, or an admin, may change it."""
    if service.author_id != actor.user_id and not actor.is_admin:
        raise Forbidden(f"only the author of {service.name} or an admin may change it")


def can_see(actor: Principal | None, service: McpService) -> bool:
    """Drafts are visible to their author and admins only."""
    if service.status != ServiceStatus.DRAFT.value:
        return True
    return actor is not None and (actor.is_admin or actor.user_id == service.author_id)


class CatalogService:
    """The service market. Every method runs in one transaction: nothing is half-written."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: EventBus,
        search_index: SearchIndex,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._index = search_index

    # -- reading -------------------------------------------------------------------------------

    async def search(
        self, actor: Principal | None, text: str, *, page: int = 1, page_size: int = 50
    ) -> SearchPage:
        """Search the catalog with free words and ``key:value`` filters.

        Args:
            actor: who searches (drafts are visible to their authors).
            text: e.g. ``"github tag:db sort:rating"``.
            page: 1-based page number.
            page_size: results per page (at most 500).

        Returns:
            The page of services and the total number of matches.

        Raises:
            Invalid: an unknown filter key or a bad value (the message lists valid ones).
        """
        if page < 1:
            raise Invalid("page must be 1 or more", field="page")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise Invalid(f"page_size must be between 1 and {MAX_PAGE_SIZE}", field="page_size")
        query = parse_query(text)
        async with self._sessions() as session:
            hits = await self._index.search(
                session, query, actor=actor, page=page, page_size=page_size
            )
            items = await service_views(session, hits.ids)
        return SearchPage(
            query=text,
            items=items,
            total=hits.total,
            total_exact=hits.exact,
            page=page,
            page_size=page_size,
        )

    async def get_service(self, actor: Principal | None, name: str) -> ServiceDetail:
        """A service with versions and rating histogram.

        Raises:
            NotFound: no such service, or a draft the actor may not see.
        """
        async with self._sessions() as session:
            return await service_detail(session, await self._visible(session, actor, name))

    async def categories(self, actor: Principal | None) -> list[CategoryCount]:
        """Categories of published services with their counts."""
        async with self._sessions() as session:
            return await category_counts(session, actor)

    async def tags(self, actor: Principal | None, limit: int = 200) -> list[TagCount]:
        """The most used tags of published services with their counts."""
        async with self._sessions() as session:
            return await tag_counts(session, actor, limit)

    async def featured(self, limit: int = 20) -> list[ServiceView]:
        """Featured published services, best rated first."""
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(McpService.id)
                    .where(
                        McpService.featured.is_(True),
                        McpService.status == ServiceStatus.PUBLISHED.value,
                    )
                    .order_by(McpService.rating_average.desc(), McpService.name)
                    .limit(limit)
                )
            )
            return await service_views(session, ids)

    async def services_by_author(self, actor: Principal) -> list[ServiceView]:
        """The actor's own services, drafts included, by name."""
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(McpService.id)
                    .where(McpService.author_id == actor.user_id)
                    .order_by(McpService.name)
                )
            )
            return await service_views(session, ids)

    async def list_reviews(
        self, actor: Principal | None, name: str, *, limit: int = 100
    ) -> list[ReviewView]:
        """Reviews of a service, newest first."""
        async with self._sessions() as session:
            service = await self._visible(session, actor, name)
            rows = await session.scalars(
                select(ServiceReview)
                .where(ServiceReview.service_id == service.id)
                .order_by(ServiceReview.updated_at.desc(), ServiceReview.id.desc())
                .limit(limit)
            )
            return [review_view(r, service.name) for r in rows]

    async def export(
        self, actor: Principal | None, name: str, version: str | None = None
    ) -> dict[str, Any]:
        """A version (default: latest) as an official registry ``server.json`` document."""
        detail = await self.get_service(actor, name)
        chosen = next(
            (v for v in detail.versions if (v.version == version if version else v.is_latest)),
            None,
        )
        if chosen is None:
            what = f"version {version}" if version else "a latest version"
            raise NotFound(f"{name} has no {what}")
        from mcp_console.backend.catalog.formats import export_server_json, validate_server_json

        document = export_server_json(detail, chosen)
        validate_server_json(document)
        return document

    # -- writing -------------------------------------------------------------------------------

    async def register(self, actor: Principal, new: ServiceCreate) -> ServiceDetail:
        """Register a service as a DRAFT owned by the actor.

        Raises:
            Forbidden: the actor is neither author nor admin.
            Conflict: the name is taken.
        """
        require_author_role(actor)
        if new.featured and not actor.is_admin:
            raise Forbidden("only an admin may feature a service")
        async with self._sessions.begin() as session:
            if await session.scalar(select(McpService.id).where(McpService.name == new.name)):
                raise Conflict(f"a service named {new.name!r} already exists", field="name")
            row = await importer.create_service(session, actor, new)
            await self._reindex(session, row.id)
            detail = await service_detail(session, row)
        self._events.publish({"type": "service.registered", "service": new.name, **acted_by(actor)})
        return detail

    async def update(self, actor: Principal, name: str, changes: ServiceUpdate) -> ServiceDetail:
        """Change a service's descriptive fields (author or admin)."""
        async with self._sessions.begin() as session:
            row = await self._owned(session, actor, name)
            if changes.featured is not None and not actor.is_admin:
                raise Forbidden("only an admin may feature a service")
            fields = changes.model_dump(exclude_none=True)
            await importer.apply_service_fields(session, row, fields, actor)
            await self._reindex(session, row.id)
            detail = await service_detail(session, row)
        self._events.publish(
            {
                "type": "service.updated",
                "service": name,
                "fields": sorted(fields),
                **acted_by(actor),
            }
        )
        return detail

    async def add_version(self, actor: Principal, name: str, new: VersionCreate) -> VersionView:
        """Add a version; on a published service it is published (and immutable) at once.

        Raises:
            Invalid: bad semver, a range, ``latest``, or a config_schema that is not a JSON Schema.
            Conflict: the version exists already.
        """
        parsed = validate_version(new)
        async with self._sessions.begin() as session:
            service = await self._owned(session, actor, name)
            exists = await session.scalar(
                select(ServiceVersion.id).where(
                    ServiceVersion.service_id == service.id, ServiceVersion.version == new.version
                )
            )
            if exists:
                raise Conflict(f"{name} already has version {new.version}", field="version")
            row = new_version_row(service.id, new, parsed)
            if service.status != ServiceStatus.DRAFT.value:
                row.published_at = utcnow()
            session.add(row)
            await session.flush()
            await recompute_latest(session, service.id)
            service.updated_at = utcnow()
            view = version_view(row)
        self._events.publish(
            {"type": "version.added", "service": name, "version": new.version, **acted_by(actor)}
        )
        return view

    async def publish(self, actor: Principal, name: str) -> ServiceDetail:
        """Publish a DRAFT service and freeze its versions.

        Raises:
            Conflict: no version, or nothing to run (no image, package or command), or not a draft.
        """
        async with self._sessions.begin() as session:
            service = await self._owned(session, actor, name)
            await importer.publish_service(session, service)
            await self._reindex(session, service.id)
            detail = await service_detail(session, service)
        self._events.publish({"type": "service.published", "service": name, **acted_by(actor)})
        return detail

    async def deprecate(self, actor: Principal, name: str, message: str) -> ServiceDetail:
        """Mark a service DEPRECATED with a message users will see; it is never deleted."""
        if not message.strip():
            raise Invalid("a deprecation needs a message for users", field="message")
        async with self._sessions.begin() as session:
            service = await self._owned(session, actor, name)
            importer.deprecate_service(service, message)
            await self._reindex(session, service.id)
            detail = await service_detail(session, service)
        self._events.publish({"type": "service.deprecated", "service": name, **acted_by(actor)})
        return detail

    async def delete_draft(self, actor: Principal, name: str) -> None:
        """Delete a service that was never published; published ones are deprecated instead."""
        async with self._sessions.begin() as session:
            service = await self._owned(session, actor, name)
            if service.status != ServiceStatus.DRAFT.value:
                raise Conflict(f"{name} was published; deprecate it instead of deleting it")
            await session.execute(delete(McpService).where(McpService.id == service.id))
            await self._reindex(session, service.id)
        self._events.publish({"type": "service.deleted", "service": name, **acted_by(actor)})

    async def add_review(self, actor: Principal, name: str, review: ReviewCreate) -> ReviewView:
        """Add the actor's review, or update it if they reviewed before.

        The service row is locked while the aggregate is recomputed from the reviews
        themselves, so concurrent reviewers always leave an exact average and count.

        Raises:
            NotFound: no such service (drafts cannot be reviewed).
            Invalid: rating outside 1..5 or a comment that is too long.
        """
        async with self._sessions.begin() as session:
            service = await session.scalar(
                select(McpService).where(McpService.name == name).with_for_update()
            )
            if service is None or service.status == ServiceStatus.DRAFT.value:
                raise NotFound(f"no published service named {name!r}")
            row = await session.scalar(
                select(ServiceReview).where(
                    ServiceReview.service_id == service.id, ServiceReview.user_id == actor.user_id
                )
            )
            if row is None:
                row = ServiceReview(service_id=service.id, user_id=actor.user_id)
                session.add(row)
            row.rating, row.comment = review.rating, review.comment
            row.updated_at = utcnow()
            await session.flush()
            count, total = (
                await session.execute(
                    select(func.count(), func.coalesce(func.sum(ServiceReview.rating), 0)).where(
                        ServiceReview.service_id == service.id
                    )
                )
            ).one()
            service.rating_count, service.rating_sum = int(count), int(total)
            service.rating_average = round(int(total) / int(count), 4)
            await session.refresh(row, ["user"])
            view = review_view(row, service.name)
        self._events.publish({"type": "review.added", "service": name, **acted_by(actor)})
        return view

    async def record_download(self, name: str) -> None:
        """Count one install or deployment of a service (atomic increment)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(McpService)
                .where(McpService.name == name)
                .values(downloads_count=McpService.downloads_count + 1)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"no service named {name!r}")

    async def import_documents(
        self, actor: Principal, documents: list[CatalogDocument]
    ) -> ImportReport:
        """Import catalog documents; bad entries are reported with their reason, the rest land.

        Each entry is applied in its own savepoint of one transaction: an entry either lands
        whole or not at all, and re-importing the same documents changes nothing.
        """
        from mcp_console.backend.catalog import bulk
        from mcp_console.backend.catalog.formats import parse_document

        require_author_role(actor)
        report = ImportReport()
        entries = []
        for document in documents:
            for item in parse_document(document):
                if isinstance(item, ImportProblem):
                    report.problems.append(item)
                else:
                    entries.append(item)
        async with self._sessions.begin() as session:
            # Services new to the catalog go in batches; the others entry by entry.
            fresh, known, stored = await bulk.split_new(session, entries)
            planned = bulk.plan_new_services(actor, fresh, report)
            touched = await bulk.insert_new_services(session, planned)
            touched |= await importer.apply_entries(session, actor, known, stored, report)
            if touched:
                await self._index.index(session, sorted(touched))
        if report.created or report.updated:
            names = [*report.created, *report.updated]
            self._events.publish(
                {
                    "type": "catalog.imported",
                    "count": len(touched),
                    "services": names,
                    **acted_by(actor),
                }
            )
        return report

    async def publish_document(self, actor: Principal, text: str, origin: str) -> ServiceDetail:
        """Register or update a service from one ``server.json`` and publish that version."""
        report = await self.import_documents(
            actor, [CatalogDocument(origin=origin, text=text, format=CatalogFormat.SERVER_JSON)]
        )
        if report.problems:
            problem = report.problems[0]
            raise Invalid(f"{problem.origin}: {problem.reason}")
        names = report.created + report.updated + report.unchanged
        if not names:
            raise Invalid(f"{origin}: the document holds no server")
        return await self.get_service(actor, names[0].split("@")[0])

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    async def _visible(session: AsyncSession, actor: Principal | None, name: str) -> McpService:
        service = await session.scalar(select(McpService).where(McpService.name == name))
        if service is None or not can_see(actor, service):
            raise NotFound(f"no service named {name!r}")
        return service

    async def _owned(self, session: AsyncSession, actor: Principal, name: str) -> McpService:
        service = await self._visible(session, actor, name)
        require_owner(actor, service)
        return service

    async def _reindex(self, session: AsyncSession, service_id: int) -> None:
        await self._index.index(session, [service_id])
