"""Metering: usage rows count every billable request exactly; the raw log keeps every request."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx2
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_console.backend.db.engine import create_engine, session_factory
from mcp_console.backend.db.models import (
    McpService,
    RequestLog,
    ServiceDeployment,
    ServiceUsage,
    ServiceVersion,
    User,
)
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.meter import UsageMeter
from mcp_console.backend.gateway.records import Meter, RequestRecord, is_error
from mcp_console.backend.gateway.request_log import RequestLogWriter
from mcp_console.backend.gateway.routing import DeploymentRoute
from mcp_console.backend.gateway.server import GatewayServer
from mcp_console.backend.gateway.usage_ledger import UsageLedger
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.users import Role, UserCreate
from tests.conftest import DATABASES, _postgres_database

from .helpers import Caller, connect, result_of, stdio_process

MIDNIGHT = datetime(2026, 11, 25, tzinfo=UTC) + timedelta(days=1)
PRICE = Decimal("0.0025")


@dataclass
class World:
    """Rows the meter writes against: users and two deployments."""

    users: list[int]
    paid: int  # a deployment whose requests cost PRICE each
    free: int


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Both databases (this folder's default is SQLite only): counts must be exact on each."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
    else:
        yield from _postgres_database(request, migrated=True)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    async with session_factory(engine)() as session, session.begin():
        users = [User(name=f"user-{i}", role="user") for i in range(3)]
        session.add_all(users)
        await session.flush()
    paid, free = await deployment_rows(engine, users[0].id, "paid", "free")
    return World([u.id for u in users], paid, free)


async def deployment_rows(engine: AsyncEngine, owner: int, *names: str) -> list[int]:
    """Deployments of one service owned by ``owner`` (usage rows refer to them)."""
    async with session_factory(engine)() as session, session.begin():
        service = McpService(
            name=f"echo-{uuid.uuid4().hex[:8]}", display_name="Echo", author_id=owner
        )
        session.add(service)
        await session.flush()
        version = ServiceVersion(service_id=service.id, version="1.0.0")
        session.add(version)
        await session.flush()
        deployments = [
            ServiceDeployment(
                service_id=service.id,
                version_id=version.id,
                user_id=owner,
                deployment_name=name,
                uid=uuid.uuid4().hex,
            )
            for name in names
        ]
        session.add_all(deployments)
        await session.flush()
        return [d.id for d in deployments]


def call(
    deployment: int,
    user: int | None,
    at: datetime,
    *,
    method: str = "tools/call",
    status: int = 200,
    error: bool | int = False,
    latency_ms: float = 2.0,
    instance: str | None = "i-a",
) -> RequestRecord:
    return RequestRecord(
        deployment_id=deployment,
        instance_id=instance,
        user_id=user,
        method=method,
        tool_name="echo" if method == "tools/call" else None,
        status=status,
        error=error,
        latency_ms=latency_ms,
        bytes_in=120,
        bytes_out=380,
        at=at.timestamp(),
    )


def thousand_calls(world: World) -> list[RequestRecord]:
    """1,000 tools/call by three users on two deployments over a UTC midnight, some failing."""
    records = []
    for i in range(1000):
        at = MIDNIGHT - timedelta(seconds=30) + timedelta(milliseconds=60 * i)
        failure: dict[str, object] = {}
        if i % 10 == 3:
            failure = {"status": 200, "error": -32602}  # a JSON-RPC error reply
        elif i % 25 == 7:
            failure = {"status": 502, "error": True}  # the upstream failed
        elif i % 40 == 11:
            failure = {"status": 429, "error": False}  # refused by the rate limit
        records.append(
            call(
                world.paid if i % 3 else world.free,
                world.users[i % len(world.users)],
                at,
                latency_ms=0.5 + (i % 17) * 0.731,
                **failure,  # type: ignore[arg-type]
            )
        )
    return records


def protocol_chatter(world: World) -> list[RequestRecord]:
    """Requests around the calls that are logged but not billed."""
    at = MIDNIGHT - timedelta(seconds=40)
    return [
        call(world.paid, world.users[0], at, method="initialize"),
        call(world.paid, world.users[0], at, method="notifications/initialized", status=202),
        call(world.paid, world.users[0], at, method="tools/list"),
        call(world.paid, None, at, status=401, error=True, instance=None),  # no user: no usage
    ]


def expected_usage(records: list[RequestRecord]) -> dict[tuple[int, int, date], dict[str, float]]:
    out: dict[tuple[int, int, date], dict[str, float]] = defaultdict(Counter)  # type: ignore[arg-type]
    for r in records:
        failed = r.error is not False or r.status >= 400
        key = (r.deployment_id, r.user_id or 0, datetime.fromtimestamp(r.at, UTC).date())
        row = out[key]
        row["requests"] += 1
        row["errors"] += failed
        row["latency"] += r.latency_ms
        row["bytes"] += r.bytes_in + r.bytes_out
    return out


async def usage_rows(engine: AsyncEngine) -> dict[tuple[int, int, date], ServiceUsage]:
    async with session_factory(engine)() as session:
        rows = (await session.scalars(select(ServiceUsage))).all()
    return {(u.deployment_id, u.user_id, u.date): u for u in rows}


async def count(engine: AsyncEngine, what: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(what))).scalar_one())  # type: ignore[arg-type]


async def billed(engine: AsyncEngine) -> tuple[int, int]:
    rows = await usage_rows(engine)
    return sum(u.request_count for u in rows.values()), sum(u.error_count for u in rows.values())


def prices(deployment_id: int, world: World) -> Decimal:
    return PRICE if deployment_id == world.paid else Decimal(0)


# --- usage rows ------------------------------------------------------------------------------


async def test_thousand_calls_become_exact_daily_usage_with_errors_apart(
    engine: AsyncEngine, world: World
) -> None:
    meter = UsageMeter(engine, ledger=UsageLedger(lambda d: prices(d, world)))
    records = thousand_calls(world)
    assert isinstance(meter, Meter)

    # Two batches, so the second adds to the rows the first created.
    for r in records[:400] + protocol_chatter(world):
        meter.record(r)
    await meter.flush()
    for r in records[400:]:
        meter.record(r)
    await meter.aclose()

    rows = await usage_rows(engine)
    # 100 JSON-RPC errors, 40 upstream failures, 25 refusals: counted apart, not charged.
    assert await billed(engine) == (1000, 165)
    assert {k[2] for k in rows} == {date(2026, 11, 25), date(2026, 11, 26)}
    want = expected_usage(records)
    assert set(rows) == set(want)
    for key, u in rows.items():
        w = want[key]
        assert (u.request_count, u.error_count) == (w["requests"], w["errors"])
        # The exact weighted mean over both batches, to the microsecond the meter keeps.
        assert u.response_time_avg == pytest.approx(w["latency"] / w["requests"], abs=1e-6)
        assert u.data_transfer_mb == pytest.approx(w["bytes"] / 1_000_000)
        paid_calls = int(w["requests"] - w["errors"]) if key[0] == world.paid else 0
        assert u.cost == PRICE * paid_calls
    # Every request is in the raw log, billed or not.
    assert await count(engine, RequestLog) == 1004
    async with engine.connect() as conn:
        codes = Counter((await conn.execute(select(RequestLog.error_code))).scalars())
    assert codes[-32602] == 100


async def test_recording_while_flushing_loses_nothing(engine: AsyncEngine, world: World) -> None:
    meter = UsageMeter(engine, flush_interval=0.02)
    meter.start()
    partial_counts = set()
    for burst in range(100):
        for i in range(20):
            meter.record(call(world.paid, world.users[i % 3], MIDNIGHT))
        await asyncio.sleep(0.005)
        if burst % 10 == 9:
            partial_counts.add((await billed(engine))[0])
    await meter.aclose()

    assert await billed(engine) == (2000, 0)
    assert await count(engine, RequestLog) == 2000
    # Flushes really ran while requests were still being recorded.
    assert any(0 < n < 2000 for n in partial_counts)


async def test_a_failed_flush_keeps_counts_and_a_later_flush_lands_them(
    engine: AsyncEngine, world: World
) -> None:
    meter = UsageMeter(engine)
    for i in range(300):
        meter.record(call(world.paid, world.users[i % 3], MIDNIGHT, status=500 if i < 7 else 200))
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE request_log RENAME TO request_log_away"))

    with pytest.raises(Exception, match="request_log"):
        await meter.flush()
    # The usage half of that transaction was rolled back with the failing half.
    assert await billed(engine) == (0, 0)
    assert meter.pending_requests == 300

    for i in range(50):
        meter.record(call(world.paid, world.users[i % 3], MIDNIGHT))
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE request_log_away RENAME TO request_log"))
    await meter.flush()

    assert await billed(engine) == (350, 7)
    assert await count(engine, RequestLog) == 350
    assert meter.pending_requests == 0
    await meter.aclose()


async def test_the_background_task_retries_until_the_database_is_back(
    engine: AsyncEngine, world: World
) -> None:
    meter = UsageMeter(engine, flush_interval=0.02)
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE request_log RENAME TO request_log_away"))
    async with meter:
        for i in range(120):
            meter.record(call(world.free, world.users[i % 3], MIDNIGHT))
        await asyncio.sleep(0.2)  # several failing flushes
        assert await billed(engine) == (0, 0)
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE request_log_away RENAME TO request_log"))
        for _ in range(200):
            if await billed(engine) == (120, 0):
                break
            await asyncio.sleep(0.02)
        assert await billed(engine) == (120, 0)
    assert await billed(engine) == (120, 0)


async def test_closing_the_meter_writes_what_is_pending(engine: AsyncEngine, world: World) -> None:
    meter = UsageMeter(engine, flush_interval=60)
    meter.start()
    for i in range(25):
        meter.record(call(world.paid, world.users[0], MIDNIGHT, error=i < 5))
    assert await billed(engine) == (0, 0)

    await meter.aclose()

    assert await billed(engine) == (25, 5)
    assert await count(engine, RequestLog) == 25


async def test_a_long_outage_keeps_the_newest_raw_records_and_all_usage(
    engine: AsyncEngine, world: World
) -> None:
    meter = UsageMeter(engine, log=RequestLogWriter(limit=100))
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE request_log RENAME TO request_log_away"))
    for i in range(150):
        meter.record(call(world.paid, world.users[0], MIDNIGHT + timedelta(seconds=i)))
    with pytest.raises(Exception, match="request_log"):
        await meter.flush()
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE request_log_away RENAME TO request_log"))

    await meter.aclose()

    # The raw log is bounded: the oldest 50 are gone. Usage is never dropped: it is billed.
    assert (meter.pending_records, meter.raw_dropped) == (0, 50)
    async with engine.connect() as conn:
        ats = (await conn.execute(select(RequestLog.at).order_by(RequestLog.at))).scalars().all()
    assert [int((at - MIDNIGHT).total_seconds()) for at in ats] == list(range(50, 150))
    assert await billed(engine) == (150, 0)


async def test_a_deleted_deployment_does_not_hold_back_the_others(
    engine: AsyncEngine, world: World
) -> None:
    meter = UsageMeter(engine)
    for i in range(30):
        meter.record(call(world.paid if i % 2 else world.free, world.users[1], MIDNIGHT))
    async with engine.begin() as conn:
        await conn.execute(delete(ServiceDeployment).where(ServiceDeployment.id == world.free))

    await meter.aclose()

    rows = await usage_rows(engine)
    assert [(k[0], u.request_count) for k, u in rows.items()] == [(world.paid, 15)]
    assert meter.usage_dropped == 15


async def test_purge_removes_raw_records_past_retention(engine: AsyncEngine, world: World) -> None:
    meter = UsageMeter(engine, log=RequestLogWriter(retention=timedelta(days=7)))
    now = MIDNIGHT + timedelta(days=30)
    for age_days in (0, 1, 6, 8, 10, 29):
        meter.record(call(world.paid, world.users[0], now - timedelta(days=age_days, hours=1)))
    await meter.aclose()

    assert await meter.purge(now) == 3
    async with engine.connect() as conn:
        ats = (await conn.execute(select(RequestLog.at).order_by(RequestLog.at))).scalars().all()
    assert [(now - at).days for at in ats] == [6, 1, 0]
    # Usage rows are billing history: purging the raw log leaves them.
    assert (await billed(engine))[0] == 6


def test_a_refused_standalone_stream_is_no_error_but_a_failed_one_is() -> None:
    at = MIDNIGHT
    assert not is_error(call(1, 1, at, method="GET", status=405))
    assert is_error(call(1, 1, at, method="GET", status=502, error=True))
    assert is_error(call(1, 1, at, method="tools/call", status=405))
    assert not is_error(call(1, 1, at, status=499))


# --- through the gateway ---------------------------------------------------------------------


async def caller(runtime: Runtime, name: str) -> Caller:
    created = await runtime.users.create_user(None, UserCreate(name=name, role=Role.USER))
    return Caller(await runtime.users.authenticate(created.api_key), created.api_key)


async def raw_modern_call(http: httpx2.AsyncClient, url: str, meta: bool = True) -> int:
    """One stateless ``tools/call echo`` posted by hand; returns the HTTP status."""
    params: dict[str, object] = {"name": "echo", "arguments": {"text": "x"}}
    if meta:
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    response = await http.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params},
        headers={
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2026-07-28",
            "Mcp-Method": "tools/call",
            "Mcp-Name": "echo",
        },
    )
    return response.status_code


async def test_a_thousand_calls_through_the_gateway_are_a_thousand_in_usage(
    runtime: Runtime, process_manager: ProcessManager
) -> None:
    alice, bob = await caller(runtime, "alice"), await caller(runtime, "bob")
    (deployment_id,) = await deployment_rows(runtime.engine, alice.principal.user_id, "echo")
    meter = UsageMeter(runtime.engine, ledger=UsageLedger(lambda d: PRICE), flush_interval=0.2)
    gateway = Gateway(runtime.users.authenticate, meter=meter)
    server = GatewayServer(gateway)
    url = await server.start()
    meter.start()
    try:
        route = gateway.routes.upsert_deployment(
            DeploymentRoute(
                deployment_id=deployment_id,
                owner_id=alice.principal.user_id,
                owner_name=alice.principal.name,
                name="echo",
                allowed_user_ids=frozenset({bob.principal.user_id}),
            )
        )
        instance = await stdio_process(process_manager, "i-1")
        gateway.routes.set_instance(deployment_id, instance)
        endpoint = f"{url}{route.path}"

        async def session(who: Caller, mode: str, calls: int) -> None:
            async with connect(endpoint, who, mode) as client:
                for i in range(calls):
                    assert await result_of(client, "echo", {"text": f"{who.key[-4:]}{i}"}) == (
                        f"{who.key[-4:]}{i}"
                    )

        # 920 calls that succeed: two handshake-era sessions of alice's, bob stateless.
        await asyncio.gather(session(alice, "legacy", 300), session(alice, "legacy", 300))
        await session(bob, "auto", 320)
        async with httpx2.AsyncClient(timeout=30) as http:
            # 30 calls the server refuses (no protocol metadata): 400 with a JSON-RPC error.
            http.headers["Authorization"] = f"Bearer {bob.key}"
            refused = [await raw_modern_call(http, endpoint, meta=False) for _ in range(30)]
            # 50 calls while the only instance is unhealthy: the gateway answers 503.
            http.headers["Authorization"] = f"Bearer {alice.key}"
            gateway.routes.set_health(deployment_id, "i-1", False)
            dark = [await raw_modern_call(http, endpoint) for _ in range(50)]
            gateway.routes.set_health(deployment_id, "i-1", True)
        assert set(dark) == {503}
        assert set(refused) == {400}
    finally:
        await server.stop()
        await meter.aclose()

    rows = await usage_rows(runtime.engine)
    by_user = {key[1]: (u.request_count, u.error_count, u.cost) for key, u in rows.items()}
    # The calls the gateway answered itself (503: no healthy instance) are no usage at all;
    # those the server refused count among the errors and cost nothing.
    assert by_user == {
        alice.principal.user_id: (600, 0, PRICE * 600),
        bob.principal.user_id: (350, 30, PRICE * 320),
    }
    # The protocol around the calls (initialize, discovery, lists, session ends) is logged only.
    assert await count(runtime.engine, RequestLog) > 1000


class _Tap:
    """A monitoring reader: keeps what the meter hands it."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self.inflight: list[tuple[int, str, int]] = []

    def record(self, record: RequestRecord) -> None:
        self.records.append(record)

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        self.inflight.append((deployment_id, instance_id, delta))


async def test_taps_see_every_record_and_inflight_change(engine: AsyncEngine, world: World) -> None:
    first, second = _Tap(), _Tap()
    assert isinstance(first, Meter)
    meter = UsageMeter(engine, taps=[first, second])
    sent = [call(world.paid, world.users[i % 3], MIDNIGHT) for i in range(5)]
    meter.inflight_changed(world.paid, "i-1", +1)
    for record in sent:
        meter.record(record)
    meter.inflight_changed(world.paid, "i-1", -1)
    await meter.aclose()

    for tap in (first, second):
        assert tap.records == sent
        assert tap.inflight == [(world.paid, "i-1", 1), (world.paid, "i-1", -1)]
    # The meter's own accounting is unchanged by its taps.
    assert await billed(engine) == (5, 0)
