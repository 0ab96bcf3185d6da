"""Upgrading keeps every service's price: each gets its catalog price as its first one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from alembic import command
from sqlalchemy import DateTime, Numeric, bindparam, text

from mcp_console.backend.db.engine import create_engine
from mcp_console.backend.db.migrate import alembic_config


async def test_existing_services_keep_their_catalog_price_after_the_upgrade(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    await asyncio.to_thread(command.upgrade, config, "0015")
    engine = create_engine(empty_database_url)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, name, role, created_at) VALUES (1, 'a', 'author', :t)"
                ),
                {"t": now},
            )
            for sid, model, price in [
                (1, "FREE", "0.5"),
                (2, "PAID", "0.0125"),
                (3, "FREEMIUM", "0.2"),
            ]:
                await conn.execute(
                    text(
                        "INSERT INTO mcp_services (id, name, display_name, description, tags,"
                        " author_id, price_model, price_per_request, status, featured,"
                        " downloads_count, rating_average, rating_count, rating_sum,"
                        " created_at, updated_at) VALUES (:id, :name, :name, '', '[]', 1,"
                        " :model, :price, 'PUBLISHED', false, 0, 0, 0, 0, :t, :t)"
                    ).bindparams(
                        bindparam("price", type_=Numeric(12, 6)),
                        bindparam("t", type_=DateTime(timezone=True)),
                    ),
                    {
                        "id": sid,
                        "name": f"svc{sid}",
                        "model": model,
                        "price": Decimal(price),
                        "t": now,
                    },
                )
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT service_id, tool, price_model, unit_price, free_requests"
                        " FROM service_prices ORDER BY service_id"
                    ).columns(unit_price=Numeric(20, 10))
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "", "FREE", Decimal(0), 0),  # FREE costs nothing, whatever its price field says
        (2, "", "PAID", Decimal("0.0125"), 0),
        (3, "", "FREEMIUM", Decimal("0.2"), 0),
    ]
