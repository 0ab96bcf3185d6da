"""/metrics: the gateway's figures in the Prometheus text format, for a scraper."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcp_console.backend.api.deps import bearer, key_principal, runtime_of
from mcp_console.schemas.errors import Forbidden

METRICS_PATH = "/metrics"


async def metrics(request: Request) -> Response:
    """Every deployment's figures; who may read them follows ``monitor.metrics_auth``.

    With ``key`` (the default) the scraper sends an admin's API key as a bearer token:
    the figures name every deployment, so nothing less will do. With ``none`` anyone who
    reaches the API port may read them.

    Raises:
        Unauthorized: ``key`` and no valid API key.
        Forbidden: ``key`` and the key is not an admin's (or is limited to deployments).
    """
    runtime = runtime_of(request)
    if runtime.settings.monitor.metrics_auth == "key":
        principal = await key_principal(request, await bearer(request))
        if not principal.is_admin:
            raise Forbidden(
                "/metrics shows every deployment's figures: scrape it with an admin's API key "
                "without a scope (or set MCP_CONSOLE_MONITOR__METRICS_AUTH=none)"
            )
    return Response(await runtime.prometheus.scrape(), media_type=CONTENT_TYPE_LATEST)


# A plain route, outside the OpenAPI document and /api/v1: the path every scraper expects.
route = Route(METRICS_PATH, metrics, methods=["GET"])
