"""Builders of catalog DTOs from rows (the only place rows become schemas)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import McpService, ServiceReview, ServiceVersion
from mcp_console.schemas.catalog import (
    PackageRef,
    PriceModel,
    ReviewView,
    ServiceDetail,
    ServiceStatus,
    ServiceView,
    Transport,
    VersionView,
)


def version_view(row: ServiceVersion) -> VersionView:
    """The DTO of a version row."""
    return VersionView(
        id=row.id,
        version=row.version,
        changelog=row.changelog,
        docker_image=row.docker_image,
        packages=[PackageRef.model_validate(p) for p in row.packages],
        command=list(row.command),
        transport=Transport(row.transport),
        config_schema=dict(row.config_schema),
        api_spec=dict(row.api_spec),
        remotes=list(row.remotes),
        system_packages=list(row.system_packages),
        pass_env=list(row.pass_env),
        session_mode=_session_mode(row.session_mode),
        is_latest=row.is_latest,
        is_prerelease=row.is_prerelease,
        published=row.published_at is not None,
        created_at=row.created_at,
    )


def _session_mode(value: str | None) -> Literal["shared", "per-session"] | None:
    if value == "shared":
        return "shared"
    return "per-session" if value == "per-session" else None


def service_view(row: McpService, latest_version: str | None) -> ServiceView:
    """The market-row DTO of a service."""
    return ServiceView(**_service_fields(row, latest_version))


def _service_fields(row: McpService, latest_version: str | None) -> dict[str, object]:
    return {
        "id": row.id,
        "name": row.name,
        "display_name": row.display_name,
        "description": row.description,
        "category": row.category,
        "tags": list(row.tags),
        "author": row.author.name,
        "price_model": PriceModel(row.price_model),
        "price_per_request": row.price_per_request,
        "status": ServiceStatus(row.status),
        "featured": row.featured,
        "downloads_count": row.downloads_count,
        "rating_average": row.rating_average,
        "rating_count": row.rating_count,
        "latest_version": latest_version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def review_view(row: ServiceReview, service_name: str) -> ReviewView:
    """The DTO of a review row."""
    return ReviewView(
        id=row.id,
        service=service_name,
        user=row.user.name,
        rating=row.rating,
        comment=row.comment,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def service_views(session: AsyncSession, ids: Sequence[int]) -> list[ServiceView]:
    """Views of the services ``ids``, in that order, with their latest versions, in two queries."""
    if not ids:
        return []
    rows = {
        s.id: s for s in await session.scalars(select(McpService).where(McpService.id.in_(ids)))
    }
    latest_rows = await session.execute(
        select(ServiceVersion.service_id, ServiceVersion.version).where(
            ServiceVersion.service_id.in_(ids), ServiceVersion.is_latest.is_(True)
        )
    )
    latest: dict[int, str] = dict(latest_rows.all())
    return [service_view(rows[i], latest.get(i)) for i in ids if i in rows]


async def service_detail(session: AsyncSession, row: McpService) -> ServiceDetail:
    """The detail DTO of a service: versions newest first and the rating histogram."""
    versions = list(
        await session.scalars(
            select(ServiceVersion)
            .where(ServiceVersion.service_id == row.id)
            .order_by(ServiceVersion.created_at.desc(), ServiceVersion.id.desc())
        )
    )
    histogram = dict.fromkeys(range(1, 6), 0)
    counts = await session.execute(
        select(ServiceReview.rating, func.count())
        .where(ServiceReview.service_id == row.id)
        .group_by(ServiceReview.rating)
    )
    for rating, count in counts:
        histogram[rating] = count
    latest = next((v.version for v in versions if v.is_latest), None)
    return ServiceDetail(
        **_service_fields(row, latest),
        repository_url=row.repository_url,
        documentation_url=row.documentation_url,
        icon_url=row.icon_url,
        readme=row.readme,
        deprecation_message=row.deprecation_message,
        versions=[version_view(v) for v in versions],
        rating_histogram=histogram,
    )
