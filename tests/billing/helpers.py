"""Builders for billing tests: services, deployments, and calls written by the real meter."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from mcp_console.backend.billing.prices import PriceService
from mcp_console.backend.billing.usage import UsageService
from mcp_console.backend.db.models import ServiceDeployment, ServiceVersion
from mcp_console.backend.gateway.records import RequestRecord, is_error
from mcp_console.backend.gateway.usage_ledger import UsageLedger
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import PriceModel, ServiceCreate, VersionCreate
from mcp_console.schemas.users import Principal
from tests.backend.factories import IMAGE


class Clock:
    """A time that tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(text: str) -> datetime:
    """``2026-12-15T10:00`` as an aware UTC time."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def billing(runtime: Runtime, clock: Clock) -> tuple[PriceService, UsageService]:
    """The runtime's billing services, with their time set by ``clock``."""
    prices = PriceService(runtime.sessions, runtime.settings.billing.currency, clock)
    return prices, UsageService(runtime.sessions, prices, clock=clock)


async def service(
    runtime: Runtime,
    author: Principal,
    name: str,
    model: PriceModel = PriceModel.FREE,
    price: Decimal = Decimal(0),
) -> int:
    """A published service priced so in the catalog, with one version; its id."""
    await runtime.catalog.register(
        author, ServiceCreate(name=name, price_model=model, price_per_request=price)
    )
    await runtime.catalog.add_version(
        author, name, VersionCreate(version="1.0.0", docker_image=IMAGE)
    )
    return (await runtime.catalog.publish(author, name)).id


async def deployment(runtime: Runtime, service_id: int, owner: Principal, name: str) -> int:
    """A (stopped) deployment of the service's first version; its id."""
    async with runtime.sessions.begin() as session:
        version = await session.scalar(
            select(ServiceVersion.id).where(ServiceVersion.service_id == service_id)
        )
        row = ServiceDeployment(
            service_id=service_id,
            version_id=version,
            user_id=owner.user_id,
            deployment_name=name,
            uid=uuid.uuid4().hex,
            desired_state="STOPPED",
        )
        session.add(row)
        await session.flush()
        return row.id


def call(
    deployment_id: int,
    user: Principal,
    when: datetime,
    tool: str | None = "add",
    *,
    method: str = "tools/call",
    status: int = 200,
    error: bool | int = False,
) -> RequestRecord:
    """What the gateway records of one request."""
    return RequestRecord(
        deployment_id=deployment_id,
        instance_id="i1",
        user_id=user.user_id,
        method=method,
        tool_name=tool,
        status=status,
        error=error,
        latency_ms=2.0,
        bytes_in=10,
        bytes_out=20,
        at=when.timestamp(),
    )


async def meter(runtime: Runtime, records: Iterable[RequestRecord]) -> None:
    """Count ``records`` as the gateway's meter does and write them as it flushes."""
    ledger = UsageLedger(billable_methods=runtime.settings.billing.billable_methods)
    for record in records:
        ledger.add(record, is_error(record))
    async with runtime.engine.begin() as conn:
        await ledger.write(conn, ledger.take())
