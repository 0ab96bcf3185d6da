"""/metrics stays small whatever clients send: bounded tools, methods and error types."""

from __future__ import annotations

import uuid
from collections import Counter

from prometheus_client.parser import text_string_to_metric_families

from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.gateway.routing import DeploymentRoute, UpstreamInstance
from mcp_console.backend.monitor.prometheus_labels import MAX_TOOLS, OTHER
from mcp_console.backend.monitor.prometheus_metrics import PrometheusMetrics
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.errors import Unauthorized
from mcp_console.schemas.users import Principal
from tests.gateway.helpers import Caller, connect, result_of

# Fixtures: ``backend`` and ``database_url`` (SQLite only).
from tests.monitor.served import deployed, serving_backend, sqlite_only  # noqa: F401

REQUESTS = "mcp_console_gateway_requests_total"


def request(
    deployment: int = 1,
    method: str = "tools/call",
    tool: str | None = "add",
    *,
    status: int = 200,
    error: bool | int = False,
) -> RequestRecord:
    return RequestRecord(
        deployment_id=deployment,
        instance_id="i-1",
        user_id=1,
        method=method,
        tool_name=tool,
        status=status,
        error=error,
        latency_ms=3.0,
        bytes_in=100,
        bytes_out=200,
        at=0.0,
    )


def counts(metrics: PrometheusMetrics, label: str, **match: str) -> Counter[str]:
    """Requests per value of ``label`` among the series matching ``match``."""
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == REQUESTS and match.items() <= sample.labels.items():
                found[sample.labels[label]] += int(sample.value)
    return found


async def no_keys(key: str) -> Principal:
    raise Unauthorized("no keys here")


def gateway_routing(*names: tuple[int, str]) -> Gateway:
    """A gateway (not served) routing deployments of ada's with these ids and names."""
    gateway = Gateway(no_keys)
    for deployment_id, name in names:
        gateway.routes.upsert_deployment(
            DeploymentRoute(deployment_id=deployment_id, owner_id=1, owner_name="ada", name=name)
        )
    return gateway


def test_each_deployment_keeps_at_most_max_tools_names_and_counts_the_rest_as_other() -> None:
    gateway = gateway_routing((1, "noisy"), (2, "quiet"))
    metrics = PrometheusMetrics(lambda: gateway)
    names = [f"tool-{i}" for i in range(MAX_TOOLS + 150)]
    for name in names:
        metrics.record(request(1, tool=name))
    metrics.record(request(1, tool=names[0]))  # a known name keeps its own series
    metrics.record(request(2, tool="add"))

    noisy = counts(metrics, "gen_ai_tool_name", deployment="ada/noisy")
    assert len(noisy) == MAX_TOOLS + 1
    assert noisy[OTHER] == 150
    assert noisy[names[0]] == 2
    assert sum(noisy.values()) == len(names) + 1
    # Another deployment has a budget of its own.
    assert counts(metrics, "gen_ai_tool_name", deployment="ada/quiet") == {"add": 1}


def test_names_of_failed_calls_and_unfit_names_never_get_a_series() -> None:
    metrics = PrometheusMetrics(lambda: None)
    metrics.record(request(tool="made-up", error=-32602))
    metrics.record(request(tool="gone", status=502, error=True))
    metrics.record(request(tool="x" * 200))
    metrics.record(request(tool="line\nbreak"))
    metrics.record(request(tool=None))
    metrics.record(request(tool="add"))
    metrics.record(request(tool="add", error=-32603))  # a known name keeps it when failing
    assert counts(metrics, "gen_ai_tool_name", deployment="1") == {OTHER: 5, "add": 2}


def test_methods_outside_the_specification_are_other_and_tools_only_label_tools_call() -> None:
    metrics = PrometheusMetrics(lambda: None)
    for method in ("initialize", "tools/list", "resources/read", "GET", "DELETE", ""):
        metrics.record(request(method=method, tool="file:///etc/passwd"))
    for _ in range(50):
        metrics.record(request(method=f"random/{uuid.uuid4()}", tool=None))
    methods = counts(metrics, "mcp_method_name")
    assert methods[OTHER] == 50
    assert len(methods) == 7
    # A resource's URI (or anything else named outside tools/call) is no label value.
    assert set(counts(metrics, "gen_ai_tool_name")) == {""}


def test_error_type_is_the_json_rpc_code_or_http_status_from_a_bounded_set() -> None:
    metrics = PrometheusMetrics(lambda: None)
    metrics.record(request())
    metrics.record(request(error=-32603))
    metrics.record(request(error=4242))  # a server's own code
    metrics.record(request(status=401, error=True))
    metrics.record(request(status=503))
    metrics.record(request(status=200, error=True))  # a stream broken after its headers
    metrics.record(request(status=499, error=False))  # the client left: no failure
    metrics.record(request(method="GET", tool=None, status=405))  # no standalone stream
    assert counts(metrics, "error_type") == {
        "": 3,
        "-32603": 1,
        OTHER: 2,
        "401": 1,
        "503": 1,
    }


def test_routed_instances_are_counted_by_state_and_sessions_by_deployment() -> None:
    gateway = gateway_routing((1, "svc"))
    for name, healthy, draining in (("a", True, False), ("b", False, False), ("c", True, True)):
        instance = UpstreamInstance(
            name, "streamable-http", url="http://127.0.0.1:9/mcp", healthy=healthy
        )
        gateway.routes.set_instance(1, instance)
        if draining:
            gateway.routes.mark_draining(1, name)
    metrics = PrometheusMetrics(lambda: gateway)
    metrics.state.refresh()
    states = {
        sample.labels["state"]: sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
        if sample.name == "mcp_console_gateway_instances"
    }
    assert states == {"healthy": 1, "unhealthy": 1, "draining": 1}


async def test_random_tool_names_from_an_sdk_client_stay_within_the_cap(
    backend: Runtime,
) -> None:
    admin = backend.local_admin
    assert admin is not None
    endpoint = await deployed(backend, "target")
    caller = Caller(admin, await backend.users.create_key(admin, admin.name, label="fuzz"))
    random_names = [f"t{uuid.uuid4().hex}" for _ in range(MAX_TOOLS + 20)]
    async with connect(endpoint, caller) as client:
        assert await result_of(client, "add", {"a": 1, "b": 2}) == 3
        for name in random_names:
            # The server answers a tool it does not have with an error result.
            assert (await client.call_tool(name, {})).is_error

    tools = counts(
        backend.prometheus,
        "gen_ai_tool_name",
        deployment=f"{admin.name}/target",
        mcp_method_name="tools/call",
    )
    assert sum(tools.values()) == len(random_names) + 1
    assert len(tools) == MAX_TOOLS + 1
    assert tools["add"] == 1
    assert tools[OTHER] == len(random_names) - (MAX_TOOLS - 1)
