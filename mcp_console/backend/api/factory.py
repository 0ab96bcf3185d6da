"""The FastAPI app factory: routes under /api/v1, bearer auth, one error body shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_console import __version__
from mcp_console.backend.api.deps import key_principal
from mcp_console.backend.api.docs_page import render_docs
from mcp_console.backend.api.errors import install_error_handlers
from mcp_console.backend.api.openapi import install_openapi
from mcp_console.backend.api.routes import (
    alerts,
    audit,
    billing,
    catalog,
    deployments,
    drift,
    events,
    health,
    invoices,
    keys,
    live,
    logs,
    metrics,
    metrics_history,
    packages,
    quotas,
    reviews,
    stored_secrets,
    teams,
    users,
)
from mcp_console.backend.api.routes.events import STOPPING_EVENT
from mcp_console.backend.runtime import Runtime

API_PREFIX = "/api/v1"
DOCS_PATH = "/api/docs"
KEEPALIVE_SECONDS = 15.0


class EncodedSlashes:
    """Keep ``%2F`` inside a path segment, so an encoded service name stays one segment.

    Servers decode ``%2F`` to ``/`` before routing; re-deriving the path from ``raw_path``
    with only ``%2F`` kept encoded lets ``/services/acme%2Freviews`` name the service
    ``acme/reviews`` instead of the reviews of ``acme``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and b"%2f" in raw.lower():
            text = raw.decode("latin-1").replace("%2F", "%252F").replace("%2f", "%252F")
            scope = {**scope, "path": unquote(text)}
        await self.app(scope, receive, send)


def create_app(runtime: Runtime, *, keepalive_seconds: float = KEEPALIVE_SECONDS) -> FastAPI:
    """The API over ``runtime`` (which must be started and outlive the app).

    Args:
        runtime: the started backend whose services the routes call.
        keepalive_seconds: how long an idle event stream waits before a keep-alive comment.
    """
    app = FastAPI(
        title="mcp-console",
        version=__version__,
        description="The mcp-console daemon: catalog, reviews, deployments and their live "
        "figures, users, teams, API keys and live events.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        # The page FastAPI offers loads its scripts from a CDN: ours works offline.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.keepalive_seconds = keepalive_seconds
    app.state.stopping = False
    app.add_middleware(EncodedSlashes)
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router, prefix=API_PREFIX)
    # Public like health and the document: they tell how to call, not what is stored.
    # A page about the API rather than a route of it (as the document's own route is).
    app.router.routes.append(Route(DOCS_PATH, _docs_page(app), methods=["GET"]))
    # Outside /api/v1, where scrapers look; it checks its own key (monitor.metrics_auth).
    app.router.routes.append(metrics.route)
    # Every route wants a key; each route's own actor decides whether a key limited to some
    # deployments will do (``deps.Actor`` refuses one, ``deps.ScopedActor`` keeps to it).
    authenticated = [Depends(key_principal)]
    # Reviews first: their ``/services/{name:path}/reviews`` must win over the bare
    # ``/services/{name:path}`` of the catalog; live routes before deployments likewise.
    routers = (
        users.router,
        teams.router,
        keys.router,
        stored_secrets.router,
        reviews.router,
        catalog.router,
        events.router,
        live.router,
        logs.router,
        metrics_history.router,
        drift.router,
        alerts.router,
        audit.router,
        billing.router,
        quotas.router,
        invoices.router,
        packages.router,
    )
    for router in (*routers, deployments.router):
        app.include_router(router, prefix=API_PREFIX, dependencies=authenticated)
    return app


def _docs_page(app: FastAPI) -> Callable[[Request], Awaitable[HTMLResponse]]:
    """The route answering with the API's reference, drawn once from its document."""
    page: list[str] = []

    async def docs(_request: Request) -> HTMLResponse:
        if not page:
            page.append(render_docs(app.openapi()))
        return HTMLResponse(page[0])

    return docs


def stop_streams(app: FastAPI) -> None:
    """End every open event stream (with a ``daemon.stopping`` event) so a stop is quick."""
    app.state.stopping = True
    runtime: Runtime = app.state.runtime
    runtime.events.publish({"type": STOPPING_EVENT})
