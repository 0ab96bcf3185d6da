"""A test MCP server whose tools stream progress and wait on gates (stdio or HTTP)."""

# Run as a file by the gateway tests (it imports only the standard library and the SDK).

from __future__ import annotations

import argparse
import os

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings

mcp = MCPServer("gateway-stream-test", version="1.0.0")
_gates: dict[str, anyio.Event] = {}
_cancelled: set[str] = set()


def _gate(key: str) -> anyio.Event:
    return _gates.setdefault(key, anyio.Event())


@mcp.tool()
async def gated(key: str, ctx: Context) -> str:
    """Report progress, wait until ``open_gate(key)`` is called, report again, finish."""
    await ctx.report_progress(1, 2, f"{key}: waiting")
    await _gate(key).wait()
    await ctx.report_progress(2, 2, f"{key}: opened")
    return f"{key}: done"


@mcp.tool()
def open_gate(key: str) -> bool:
    """Let ``gated(key)`` finish."""
    _gate(key).set()
    return True


@mcp.tool()
async def hang(key: str, ctx: Context) -> str:
    """Report progress, then wait forever; a cancellation is remembered under ``key``."""
    await ctx.report_progress(1, None, f"{key}: hanging")
    try:
        await anyio.sleep_forever()
    except anyio.get_cancelled_exc_class():
        _cancelled.add(key)
        raise
    return key


@mcp.tool()
def was_cancelled(key: str) -> bool:
    """Whether ``hang(key)`` was cancelled."""
    return key in _cancelled


@mcp.tool()
def whoami() -> str:
    """The instance id."""
    return os.environ.get("MCP_CONSOLE_INSTANCE_ID", "unset")


def main() -> None:
    """Serve over stdio, or HTTP with ``--http PORT``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int)
    args = parser.parse_args()
    if args.http is None:
        mcp.run()
        return
    mcp.run(
        "streamable-http",
        host="127.0.0.1",
        port=args.http,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*"],
            allowed_origins=["http://127.0.0.1:*"],
        ),
    )


if __name__ == "__main__":
    main()
