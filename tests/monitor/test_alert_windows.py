"""An alert window read from coarse tiers and fine edges sums what the 10-second tier holds."""

from __future__ import annotations

import itertools
import random
import time
from datetime import UTC, datetime, timedelta

from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.monitor.alert_metrics import figures
from mcp_console.backend.monitor.alert_windows import Tier, window_spans
from mcp_console.backend.monitor.history_recorder import RAW_TIER, bucket_start
from mcp_console.backend.monitor.history_store import watermarks
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from tests.deploy.catalogs import process_version, publish

TIERS = (
    Tier(10, timedelta(hours=24)),
    Tier(60, timedelta(days=7)),
    Tier(3600, timedelta(days=90)),
)
RAW_ONLY = (Tier(10, timedelta(hours=24)),)
WINDOWS = (60, 300, 900, 3600, 7200)
METRICS = ("requests_per_s", "errors", "error_rate", "p50_ms", "p95_ms", "p99_ms")


def test_a_window_is_covered_once_by_whole_coarse_buckets_and_fine_edges() -> None:
    now = 1_700_003_627  # 27 s into a minute
    marks = {60: bucket_start(now - 20, 60) - 60, 3600: bucket_start(now, 3600)}
    for window in WINDOWS:
        spans = window_spans(window, now, TIERS, marks)
        # Contiguous from the window's start to now, no gap and no overlap.
        assert spans[0].start == now - window
        assert spans[-1].end == now + 1
        assert all(a.end == b.start for a, b in itertools.pairwise(spans))
        for span in spans:
            assert span.start % span.tier == 0 or span.tier == RAW_TIER
            assert span.end % span.tier == 0 or span.tier == RAW_TIER
            assert span.end <= marks.get(span.tier, now + 1) or span.tier == RAW_TIER
    assert {s.tier for s in window_spans(120, now, TIERS, marks)} == {RAW_TIER}
    hour = window_spans(3600, now, TIERS, marks)
    assert [s.tier for s in hour] == [RAW_TIER, 60, RAW_TIER]
    assert hour[1].end - hour[1].start == 58 * 60
    # Nothing summed into minutes yet: the 10-second tier answers alone.
    assert [s.tier for s in window_spans(3600, now, TIERS, {})] == [RAW_TIER]


async def test_figures_from_rolled_up_tiers_equal_the_raw_buckets(runtime: Runtime) -> None:
    admin = runtime.local_admin
    assert admin is not None
    await publish(runtime, "svc", process_version("1.0.0"))
    new = DeploymentCreate(service="svc", name="one", replicas=0, runtime=RuntimeChoice.PROCESS)
    one = (await runtime.deployments.create(admin, new)).id
    rng = random.Random(5)
    now = time.time()
    for n in range(3000):
        runtime.history.recorder.record(
            RequestRecord(
                deployment_id=one,
                instance_id="i-1",
                user_id=admin.user_id,
                method="tools/call",
                tool_name="t",
                status=200,
                error=-32603 if n % 7 == 0 else False,
                latency_ms=rng.expovariate(1 / 50),
                bytes_in=1,
                bytes_out=1,
                at=now - rng.uniform(0, 7300),
            )
        )
    await runtime.history.flush(sample=False)
    await runtime.history.roll_up()  # as the scheduler does every minute
    wanted = {(metric, window) for metric in METRICS for window in WINDOWS}
    at = datetime.fromtimestamp(now, UTC)
    async with runtime.engine.connect() as conn:
        # The last hours are summed into minutes: the mixed reads mix.
        assert (await watermarks(conn))[60] > now - 120
        mixed = await figures(conn, wanted, at, TIERS, [one])
        raw = await figures(conn, wanted, at, RAW_ONLY, [one])
    assert mixed == raw
    assert mixed[("errors", 3600)][one] > 0  # the comparison compared something
