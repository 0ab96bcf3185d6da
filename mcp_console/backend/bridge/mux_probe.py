"""Health checks of routed stdio instances over the gateway's own connection to them."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from mcp_types.version import LATEST_MODERN_VERSION

from mcp_console.backend.deploy.health import describe
from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.envelope import modern_envelope
from mcp_console.backend.gateway.routing import UpstreamInstance
from mcp_console.backend.gateway.stdio_mux import MuxClosed
from mcp_console.backend.ports import ProbeResult


async def probe_mux(
    gateway: Gateway,
    instance: UpstreamInstance,
    timeout: float,  # noqa: ASYNC109
) -> ProbeResult:
    """List the tools of a stdio instance through the gateway's multiplexer.

    The gateway is the only reader of a routed stdio server's channel, so the health check
    asks through it (opening the connection if no client has yet) instead of reading the
    channel itself.
    """
    started = time.monotonic()
    pending = None
    mux = None
    try:
        async with asyncio.timeout(timeout):
            mux = await gateway.mux_ready(instance)
            params: dict[str, Any] = {}
            if mux.era == "modern":
                params["_meta"] = modern_envelope()
            message = {"jsonrpc": "2.0", "method": "tools/list", "params": params}
            pending = await mux.request(message, client_id=0)
            await pending.future
        mux.forget(pending)
        reply: dict[str, Any] = json.loads(pending.reply)
    except TimeoutError:
        if mux is not None and pending is not None:
            mux.cancel(pending, "health check timed out")
        return _failed(f"no MCP answer within {timeout:g} s", started)
    except (MuxClosed, ValueError) as exc:
        return _failed(describe(exc), started)
    result = reply.get("result")
    if not isinstance(result, dict):
        return _failed(f"tools/list failed: {reply.get('error')}", started)
    tools = result.get("tools")
    assert mux is not None
    protocol = (
        LATEST_MODERN_VERSION if mux.era == "modern" else mux.server_result.get("protocolVersion")
    )
    return ProbeResult(
        ok=True,
        protocol=protocol if isinstance(protocol, str) else None,
        tools=len(tools) if isinstance(tools, list) else None,
        seconds=time.monotonic() - started,
    )


def _failed(error: str, started: float) -> ProbeResult:
    return ProbeResult(ok=False, error=error, seconds=time.monotonic() - started)
