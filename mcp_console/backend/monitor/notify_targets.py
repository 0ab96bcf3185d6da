"""Notification target URLs: which kind each is, whether it is valid, how it is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit, urlunsplit

from mcp_console.schemas.alerts import TargetKind
from mcp_console.schemas.errors import Invalid

if TYPE_CHECKING:
    from apprise import NotifyBase

_ALERTMANAGER_SCHEMES = {"alertmanager": "http", "alertmanagers": "https"}
_EXAMPLES = "http(s)://host/path, alertmanager://host:port, or an apprise URL such as slack://..."


def target_kind(url: str) -> TargetKind:
    """The kind of target ``url`` names.

    Raises:
        Invalid: it is none that can be reached (naming what was expected).
    """
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise Invalid(f"the webhook URL {mask_url(url)!r} names no host", field="url")
        return TargetKind.WEBHOOK
    if parts.scheme in _ALERTMANAGER_SCHEMES:
        if not parts.hostname or parts.port is None:
            raise Invalid(
                f"an Alertmanager target is alertmanager://HOST:PORT, got {mask_url(url)!r}",
                field="url",
            )
        return TargetKind.ALERTMANAGER
    if _apprise_plugin(url) is None:
        raise Invalid(f"not a notification URL: {mask_url(url)!r} (use {_EXAMPLES})", field="url")
    return TargetKind.APPRISE


def alertmanager_base(url: str) -> str:
    """The HTTP base URL of an ``alertmanager(s)://`` target."""
    parts = urlsplit(url.strip())
    scheme = _ALERTMANAGER_SCHEMES[parts.scheme]
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def mask_url(url: str) -> str:
    """``url`` with what may be a credential hidden: a password, query values, and for
    apprise URLs whatever apprise itself counts as private (tokens in the path)."""
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https", *_ALERTMANAGER_SCHEMES):
        return urlunsplit(_masked(parts))
    plugin = _apprise_plugin(url)
    if plugin is not None:
        return str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]
    # Unknown: show the scheme only; the rest may be anything.
    return f"{parts.scheme}://…" if parts.scheme else "…"


def _masked(parts: SplitResult) -> tuple[str, str, str, str, str]:
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}:****@{netloc}" if parts.password else f"****@{netloc}"
    query = "&".join(f"{pair.split('=', 1)[0]}=****" for pair in parts.query.split("&") if pair)
    return (parts.scheme, netloc, parts.path, query, "")


def _apprise_plugin(url: str) -> NotifyBase | None:
    # apprise loads its many plugins on import: only where targets are handled.
    import apprise

    return apprise.Apprise.instantiate(url.strip())
