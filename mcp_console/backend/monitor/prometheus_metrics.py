"""PrometheusMetrics: the gateway's traffic as Prometheus counters, histograms and gauges."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.records import TOOLS_CALL, RequestRecord
from mcp_console.backend.monitor.prometheus_gateway_state import GatewayState
from mcp_console.backend.monitor.prometheus_instances import InstanceFigures
from mcp_console.backend.monitor.prometheus_labels import (
    ToolNames,
    deployment_label,
    error_label,
    method_label,
)

# The OpenTelemetry MCP conventions' histogram (mcp.server.operation.duration, in seconds)
# spans quick pings to tool calls of minutes.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
OPERATION_LABELS = ("deployment", "mcp_method_name", "gen_ai_tool_name", "error_type")

_OperationKey = tuple[int, str, str, str]

logger = logging.getLogger(__name__)


class PrometheusMetrics:
    """A ``Meter`` of the gateway keeping its figures for a Prometheus scrape of /metrics.

    The metrics live in this object's own registry, so several backends in one process
    (and tests) never share or collide. Every label value comes from the bounded sets of
    ``prometheus_labels``. ``record()`` and ``inflight_changed()`` only update counters in
    memory (on the loop, O(1)); ``scrape()`` renders them on a worker thread
    (prometheus-client guards its values with locks), so a scrape never holds up the loop.

    Args:
        gateway: The gateway while one serves, else ``None``: where a deployment id turns
            into its ``owner/name`` label, and whose instances and sessions are counted.
        instances: The controller's instances, read at each scrape (none: not shown).
    """

    def __init__(
        self, gateway: Callable[[], Gateway | None], instances: InstanceFigures | None = None
    ) -> None:
        self._gateway = gateway
        self._instances = instances
        # No ``*_created`` series: they would double every series for a start time that
        # Prometheus infers from counter resets anyway (a library-wide switch).
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in the library
        self.registry = CollectorRegistry(auto_describe=True)
        self.duration = Histogram(
            "mcp_server_operation_duration",
            "MCP request duration as the gateway saw it, from arrival to the last byte sent.",
            OPERATION_LABELS,
            unit="seconds",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "mcp_console_gateway_requests",
            "Requests the gateway finished, by deployment, method, tool and error type.",
            OPERATION_LABELS,
            registry=self.registry,
        )
        self.received = Counter(
            "mcp_console_gateway_received_bytes",
            "Request body bytes received from clients.",
            ("deployment",),
            registry=self.registry,
        )
        self.sent = Counter(
            "mcp_console_gateway_sent_bytes",
            "Response body bytes sent to clients.",
            ("deployment",),
            registry=self.registry,
        )
        self.inflight = Gauge(
            "mcp_console_gateway_inflight_requests",
            "Requests the gateway is serving now.",
            ("deployment",),
            registry=self.registry,
        )
        self.state = GatewayState(gateway)
        self.registry.register(self.state)
        if instances is not None:
            self.registry.register(instances)
        self._names: dict[int, str] = {}
        self._tools: dict[int, ToolNames] = {}
        # The children of each label set, so a request does one dictionary read per metric
        # rather than prometheus-client's label validation and locking every time.
        self._operations: dict[_OperationKey, tuple[Histogram, Counter]] = {}
        self._traffic: dict[int, tuple[Counter, Counter, Gauge]] = {}

    # -- the Meter protocol (the request path) -------------------------------------------

    def record(self, record: RequestRecord) -> None:
        """Count one finished request: O(1), no I/O, no await."""
        deployment = record.deployment_id
        method = method_label(record.method)
        error = error_label(record)
        tool = ""
        if method == TOOLS_CALL:
            names = self._tools.get(deployment)
            if names is None:
                names = self._tools[deployment] = ToolNames()
            tool = names.label(record.tool_name, bool(error))
        key = (deployment, method, tool, error)
        children = self._operations.get(key)
        if children is None:
            values = (self._name(deployment), method, tool, error)
            children = (self.duration.labels(*values), self.requests.labels(*values))
            self._operations[key] = children
        duration, requests = children
        duration.observe(record.latency_ms / 1000.0)
        requests.inc()
        received, sent, _ = self._traffic_of(deployment)
        received.inc(record.bytes_in)
        sent.inc(record.bytes_out)

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        """Follow a request starting (``+1``) or finishing (``-1``) on a deployment."""
        self._traffic_of(deployment_id)[2].inc(delta)

    # -- the scrape ------------------------------------------------------------------------

    async def scrape(self) -> bytes:
        """Every metric now, in the Prometheus text format (``CONTENT_TYPE_LATEST``)."""
        self.state.refresh()  # on the loop, where the gateway's tables change
        if self._instances is not None:
            try:
                await self._instances.refresh()
            except Exception:
                # The traffic figures are still worth a scrape; the instances' stay as read.
                logger.warning("/metrics: instance figures not read", exc_info=True)
        # Rendering walks every series: a worker thread keeps a large registry off the loop.
        return await asyncio.to_thread(self.render)

    def render(self) -> bytes:
        """Every metric as last counted (any thread; ``scrape()`` refreshes first)."""
        return generate_latest(self.registry)

    # -- labels ----------------------------------------------------------------------------

    def _traffic_of(self, deployment: int) -> tuple[Counter, Counter, Gauge]:
        children = self._traffic.get(deployment)
        if children is None:
            name = self._name(deployment)
            children = (
                self.received.labels(name),
                self.sent.labels(name),
                self.inflight.labels(name),
            )
            self._traffic[deployment] = children
        return children

    def _name(self, deployment: int) -> str:
        """``owner/name`` of a deployment, looked up once (a name never changes)."""
        name = self._names.get(deployment)
        if name is None:
            gateway = self._gateway()
            route = gateway.routes.get(deployment) if gateway is not None else None
            name = deployment_label(route) if route is not None else str(deployment)
            self._names[deployment] = name
        return name
