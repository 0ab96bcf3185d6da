"""What a deployment lists now (tools, prompts, resource templates), read through the gateway."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from mcp import Client

from mcp_console.backend.monitor.drift_compare import Definition
from mcp_console.backend.monitor.inspector_session import MAX_PAGES, Exchange, connected
from mcp_console.schemas.drift import DefinitionKind
from mcp_console.schemas.errors import Unavailable
from mcp_console.schemas.users import Principal

if TYPE_CHECKING:
    from mcp_console.backend.gateway.server import GatewayServer
    from mcp_console.backend.security.internal_keys import InternalKeys


async def _listed(client: Client, method: str, field: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await getattr(client, method)(cursor=cursor)
        items += getattr(page, field)
        cursor = page.next_cursor
        if not cursor:
            break
    return items


def _dumped(item: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = item.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped


async def definitions(client: Client) -> list[Definition]:
    """Every tool, prompt and resource template the server lists, all pages."""
    found = [
        Definition.of(DefinitionKind.TOOL, t.name, _dumped(t))
        for t in await _listed(client, "list_tools", "tools")
    ]
    capabilities = client.server_capabilities
    if capabilities.prompts is not None:
        found += [
            Definition.of(DefinitionKind.PROMPT, p.name, _dumped(p))
            for p in await _listed(client, "list_prompts", "prompts")
        ]
    if capabilities.resources is not None:
        templates = await _listed(client, "list_resource_templates", "resource_templates")
        found += [
            Definition.of(DefinitionKind.RESOURCE_TEMPLATE, t.uri_template, _dumped(t))
            for t in templates
        ]
    return found


async def capture(
    server: GatewayServer,
    keys: InternalKeys,
    principal: Principal,
    deployment_id: int,
    *,
    timeout: float,  # noqa: ASYNC109
) -> list[Definition]:
    """List a deployment's definitions through its gateway endpoint, as ``principal``.

    The key is one the gateway lets see held-back tools too: the check compares what the
    server says, not what clients are shown.

    Raises:
        Unavailable: the deployment is not routed, has no healthy instance, or did not
            answer in time.
    """
    gateway = server.gateway
    route = gateway.routes.get(deployment_id)
    if route is None:
        raise Unavailable(f"deployment {deployment_id} is not served by the gateway")
    # Through the deployment's replicas, which answer stateless (2026-07-28) requests even in
    # per-session mode: a handshake would take an instance kept warm for a user's session.
    legacy = False
    if not route.candidates:
        raise Unavailable(f"{route.path} has no healthy instance to answer")
    url = f"{server.url}{route.path}"
    async with keys.issued(principal) as key:
        gateway.unfiltered_keys.add(key)
        try:
            async with asyncio.timeout(timeout * 2):
                async with connected(
                    url, key, Exchange(limit=0), read_timeout=timeout, legacy=legacy
                ) as client:
                    return await definitions(client)
        except Unavailable:
            raise
        except Exception as exc:
            raise Unavailable(f"{route.path} did not list its definitions: {exc!r}") from None
        finally:
            gateway.unfiltered_keys.discard(key)
            gateway.auth.forget(key)
