"""The metrics history through the running backend, its API and the command line: kept across
a restart, the same figures as JSON, a wrong range or breakdown named."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest

from mcp_console.backend.api import create_app
from mcp_console.backend.monitor.history_writer import HistoryWriter
from mcp_console.backend.runtime import Runtime
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.users import Role, UserCreate
from mcp_console.settings import Settings
from tests.api.live import serving
from tests.cli.commands import Cli
from tests.deploy.running.conftest import fast_deploy_settings
from tests.monitor.history_helpers import (
    deployment_rows,
    request,
)


async def test_the_history_outlives_the_backend_that_counted_it(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        gateway_port=0,
        runtime="process",
        deploy=fast_deploy_settings("test-" + uuid.uuid4().hex[:10]),
    )
    now = time.time()
    async with Runtime(settings, migrate=False, background=True) as first:
        created = await first.users.create_user(None, UserCreate(name="alice", role=Role.USER))
        alice = await first.users.authenticate(created.api_key)
        (calc,) = await deployment_rows(first.engine, alice.user_id, "calc")
        meter = first.meter
        assert meter is not None
        # As the gateway hands them over: the runtime's history sees every request.
        for i in range(40):
            meter.inflight_changed(calc, "i-a", +1)
            meter.record(request(calc, now - 120 + i, user=alice.user_id, error=i % 8 == 0))
            meter.inflight_changed(calc, "i-a", -1)
    # Leaving wrote what was pending; a new backend (no gateway) reads it.
    async with Runtime(settings, migrate=False) as second:
        h = await second.metrics_history.history(alice, "calc", "15m", "instance")
    assert (h.total.requests, h.total.errors) == (40, 5)
    (series,) = h.breakdown
    assert series.key == "i-a"
    assert max(p.in_flight_max or 0 for p in series.points) == 1


async def test_the_api_answers_the_history_and_names_a_wrong_range(runtime: Runtime) -> None:
    created = await runtime.users.create_user(None, UserCreate(name="alice", role=Role.USER))
    alice = await runtime.users.authenticate(created.api_key)
    stranger = await runtime.users.create_user(None, UserCreate(name="bob", role=Role.USER))
    (calc,) = await deployment_rows(runtime.engine, alice.user_id, "calc")
    writer = HistoryWriter(runtime.engine, runtime.settings.monitor)
    now = time.time()
    for i in range(12):
        writer.recorder.record(request(calc, now - 60 + i, tool=("add", "echo")[i % 2]))
    await writer.flush()

    async with serving(create_app(runtime)) as server:
        headers = {"Authorization": f"Bearer {created.api_key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
            ok = await http.get(
                "/api/v1/deployments/calc/metrics/history", params={"range": "24h", "by": "tool"}
            )
            assert ok.status_code == 200
            body = ok.json()
            assert body["period"] == "24h"
            assert body["total"]["requests"] == 12
            assert {s["key"]: s["requests"] for s in body["breakdown"]} == {"add": 6, "echo": 6}
            assert [(t["tool"], t["calls"]) for t in body["tools"]] == [("add", 6), ("echo", 6)]
            for params, bad in (({"range": "2w"}, "'2w'"), ({"by": "region"}, "'region'")):
                wrong = await http.get("/api/v1/deployments/calc/metrics/history", params=params)
                assert wrong.status_code == 422
                assert bad in wrong.text
        remote = RemoteClient(server.url, created.api_key)
        other = RemoteClient(server.url, stranger.api_key)
        try:
            history = await remote.metrics_history("calc", "15m")
            assert (history.total.requests, len(history.total.points)) == (12, 90)
            with pytest.raises(Invalid) as error:
                await remote.metrics_history("calc", "1y")
            assert error.value.field == "range"
            with pytest.raises(NotFound):
                await other.metrics_history("alice/calc", "1h")
        finally:
            await remote.aclose()
            await other.aclose()


async def test_the_command_line_prints_the_history_as_json_or_a_table(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, database_url=None)
    now = time.time()
    async with Runtime(settings) as rt:
        assert rt.local_admin is not None
        (calc,) = await deployment_rows(rt.engine, rt.local_admin.user_id, "calc")
        writer = HistoryWriter(rt.engine, settings.monitor)
        for i in range(30):
            slow = i % 3 == 0
            writer.recorder.record(
                request(calc, now - 300 + i, tool="add", latency_ms=800 if slow else 4)
            )
        await writer.flush()

    cli = Cli(data_dir, "test-" + uuid.uuid4().hex[:10])
    shown = json.loads(
        cli("deploy", "metrics", "calc", "--range", "1h", "--by", "tool", "--json").stdout
    )
    assert shown["total"]["requests"] == 30
    assert shown["step_s"] == 30
    assert [(t["tool"], t["calls"]) for t in shown["tools"]] == [("add", 30)]
    assert 500 < shown["tools"][0]["p95_ms"] <= 1000

    table = cli("deploy", "metrics", "calc", "--range", "1h", "--by", "tool").stdout
    assert "30 requests" in table
    assert "BY TOOL" in table
    assert "add" in table

    wrong = cli("deploy", "metrics", "calc", "--range", "2w", ok=False)
    assert "'2w'" in wrong.stderr
    assert "15m, 1h, 24h, 7d, 30d" in wrong.stderr
    live = json.loads(cli("deploy", "metrics", "calc", "--json").stdout)
    assert live["window_s"] == 60  # without --range: the live minute, as before
