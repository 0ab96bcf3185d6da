"""The rules for a remote deployment's upstream: its URLs and the credential headers sent there."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# The catalog entry of the deployments of a URL given by hand (no service named).
REMOTE_SERVICE = "mcp-console/remote"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# RFC 9110 token characters: what a header name may be made of.
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Headers the gateway itself owns on every upstream request: a credential may not replace them.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "accept",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "mcp-session-id",
        "mcp-protocol-version",
        "last-event-id",
    }
)
MAX_URLS = 20
MAX_HEADERS = 20
MAX_HEADER_VALUE = 8192


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a remote MCP endpoint, or ``None``.

    An ``http`` or ``https`` URL with a host; credentials go in headers, never in the URL.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must start with https:// (or http://)"
    if not parts.hostname:
        return "has no host"
    if parts.username is not None or parts.password is not None:
        return "holds a user name or password: give credentials as a header instead"
    if parts.fragment:
        return "must not have a #fragment"
    if any(c.isspace() for c in url):
        return "must not contain spaces"
    return None


def clear_text_problem(url: str) -> str | None:
    """Why credentials must not be sent to ``url``: plain http to another machine."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        return (
            "is plain http to another machine: its credentials would cross the network in "
            "clear text; use https"
        )
    return None


def header_problem(name: str, value: str) -> str | None:
    """What is wrong with an upstream header ``name: value``, or ``None`` (never quotes the
    value: it is a credential)."""
    if not _TOKEN.match(name):
        return f"{name!r} is not a valid header name"
    if name.lower() in RESERVED_HEADERS:
        return f"{name} is set by the gateway itself and cannot be given"
    if any(c in value for c in "\r\n\0"):
        return f"the value of {name} must be one line"
    if len(value) > MAX_HEADER_VALUE:
        return f"the value of {name} is longer than {MAX_HEADER_VALUE} characters"
    return None


def display_url(url: str) -> str:
    """``url`` as it may be shown and stored in clear: no query string, no user info.

    A query string is where hosted servers put keys (``?api_key=…``); it shows as ``?…``.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"
