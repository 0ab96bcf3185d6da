"""The per-request ``_meta`` envelope a 2026-07-28 (modern) server expects, written once."""

from __future__ import annotations

from typing import Any

from mcp_types import CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY
from mcp_types.version import LATEST_MODERN_VERSION

from mcp_console import __version__

# How the gateway names itself when it speaks for no particular client.
GATEWAY_INFO = {"name": "mcp-console-gateway", "version": __version__}


def modern_envelope(client_info: dict[str, Any] | None = GATEWAY_INFO) -> dict[str, Any]:
    """The ``_meta`` of a modern request: the protocol version, no client capabilities (a
    shared connection cannot route a server's requests back to one client), and the
    client's info when there is one."""
    meta: dict[str, Any] = {
        PROTOCOL_VERSION_META_KEY: LATEST_MODERN_VERSION,
        CLIENT_CAPABILITIES_META_KEY: {},
    }
    if client_info is not None:
        meta[CLIENT_INFO_META_KEY] = client_info
    return meta
