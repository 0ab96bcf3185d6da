"""The driver of remote deployments: it runs nothing, it attaches instances to URLs elsewhere."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from mcp_console.backend.deploy.drivers.base import (
    InstanceHandle,
    InstanceSpec,
    ManagedInstance,
    RuntimeEvent,
)
from mcp_console.backend.deploy.health import probe
from mcp_console.backend.deploy.remote import REMOTE, Endpoint
from mcp_console.backend.ports import ProbeResult
from mcp_console.backend.stdio.channel import StdioChannel
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.remote import display_url

# The loggers of the health checks' HTTP client and MCP transport, which name every URL.
_URL_LOGGERS = ("httpx2", "mcp.client.streamable_http")
_URL_WITH_QUERY = re.compile(r"https?://[^\s\"'<>?]+\?[^\s\"'<>]*")


class _QueryHidden(logging.Filter):
    """Logs URLs without their query string, where a remote's key may be."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = _URL_WITH_QUERY.sub(lambda m: display_url(m.group(0)), message)
            record.args = None
        return True


_QUERY_HIDDEN = _QueryHidden()


@dataclass(frozen=True, slots=True)
class _Attached:
    deployment_id: str
    instance_id: str
    version: str
    endpoint: Endpoint


class RemoteDriver:
    """Instances of remote deployments: each one is a URL of the deployment, so that status,
    health checks and the gateway's balancing work as for instances the console runs.

    Nothing outlives the backend: after a restart the controller attaches them again from
    the database. An instance never "exits"; a server that stops answering turns
    unhealthy and is probed until it answers again. The URLs and headers are kept in
    memory only, for the gateway and the health checks.
    """

    name = REMOTE

    def __init__(self) -> None:
        # Added once however many drivers there are (a logger keeps one of each filter).
        for name in _URL_LOGGERS:
            logging.getLogger(name).addFilter(_QUERY_HIDDEN)
        self._attached: dict[str, _Attached] = {}
        self._closed = asyncio.Event()
        self._tls: ssl.SSLContext | None = None

    # -- attaching -----------------------------------------------------------------------------

    def attach(
        self, deployment_id: str, instance_id: str, version: str, endpoints: Sequence[Endpoint]
    ) -> InstanceHandle:
        """Attach a new instance of a deployment to the URL that fewest of its instances use
        (the first of those, in the deployment's order).

        Raises:
            Invalid: the deployment has no URL.
        """
        if not endpoints:
            raise Invalid("a remote deployment needs at least one URL", field="urls")
        ref = f"mcp-console-{deployment_id}-{instance_id}"
        self._attached.pop(ref, None)
        used = [a.endpoint.url for a in self._attached.values() if a.deployment_id == deployment_id]
        endpoint = min(endpoints, key=lambda e: used.count(e.url))
        self._attached[ref] = _Attached(deployment_id, instance_id, version, endpoint)
        parts = urlsplit(endpoint.url)
        return InstanceHandle(
            driver=REMOTE,
            ref=ref,
            name=ref,
            transport="streamable-http",
            host=parts.hostname or "",
            port=parts.port,
            url=endpoint.shown,
        )

    def endpoint(self, ref: str) -> Endpoint | None:
        """The URL and headers of an attached instance (``None`` once detached)."""
        attached = self._attached.get(ref)
        return attached.endpoint if attached is not None else None

    async def probe(self, ref: str, timeout: float) -> ProbeResult:  # noqa: ASYNC109
        """An MCP health check of the instance's server, with the deployment's headers."""
        # The SDK and its HTTP client load with the first probe, not with the backend.
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        endpoint = self.endpoint(ref)
        if endpoint is None:
            return ProbeResult(ok=False, error="no longer attached")
        context = await self._tls_context()
        async with httpx2.AsyncClient(
            headers=dict(endpoint.headers), verify=context, timeout=timeout
        ) as http:
            result = await probe(streamable_http_client(endpoint.url, http_client=http), timeout)
        if result.error and endpoint.url in result.error:
            # An HTTP error quotes the URL, query string (and key) included.
            result = ProbeResult(
                ok=result.ok,
                error=result.error.replace(endpoint.url, endpoint.shown),
                protocol=result.protocol,
                tools=result.tools,
                seconds=result.seconds,
            )
        return result

    async def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            # Loading the certificate authorities reads files: off the loop, once.
            self._tls = await asyncio.to_thread(ssl.create_default_context)
        return self._tls

    # -- the driver protocol -------------------------------------------------------------------

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        """Not for remote instances: they are attached to a URL (``attach``)."""
        raise Invalid(
            f"{spec.name} belongs to a remote deployment: it is attached to a URL, not started",
            field="runtime",
        )

    async def stop(self, ref: str, timeout: float = 10.0) -> int | None:  # noqa: ASYNC109
        """Detach the instance (the server elsewhere keeps running)."""
        self._attached.pop(ref, None)
        return None

    async def remove(self, ref: str) -> None:
        """Detach the instance."""
        self._attached.pop(ref, None)

    async def list_managed(self) -> list[ManagedInstance]:
        """The attached instances (each counts as running: health says whether it answers)."""
        return [
            ManagedInstance(
                driver=REMOTE,
                ref=ref,
                name=ref,
                deployment_id=a.deployment_id,
                instance_id=a.instance_id,
                version=a.version,
                transport="streamable-http",
                running=True,
                exit_code=None,
                host=urlsplit(a.endpoint.url).hostname or "",
                port=urlsplit(a.endpoint.url).port,
                url=a.endpoint.shown,
            )
            for ref, a in self._attached.items()
        ]

    async def is_running(self, ref: str) -> bool:
        """Whether the instance is attached.

        Raises:
            NotFound: it is not (never attached, or detached since).
        """
        if ref not in self._attached:
            raise NotFound(f"no remote instance {ref}", field="ref")
        return True

    async def open_stdio(self, ref: str) -> StdioChannel:
        """Not for remote instances: they speak Streamable HTTP."""
        raise Invalid(f"{ref} is a remote instance: it speaks streamable-http", field="ref")

    async def logs(self, ref: str, tail: int = 100) -> list[str]:
        """Nothing: the server's log is where it runs."""
        return []

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        """None: a remote instance never exits (its health says whether it answers)."""
        await self._closed.wait()
        return
        yield  # an async generator that ends at close

    async def close(self) -> None:
        """Forget every attached instance."""
        self._attached.clear()
        self._closed.set()
