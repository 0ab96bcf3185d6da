"""AsyncConsole: the daemon's API as typed async methods, with paging and timeouts."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Self

import httpx

from mcp_console.client.host import hosted_client
from mcp_console.client.remote import CONNECT_TIMEOUT, REQUEST_TIMEOUT, RemoteClient
from mcp_console.schemas.audit import AuditEntry, AuditQuery
from mcp_console.schemas.catalog import ServiceView
from mcp_console.schemas.errors import Invalid
from mcp_console.sdk.pages import SEARCH_PAGE_SIZE, all_audit_events, all_services
from mcp_console.settings import Settings

if TYPE_CHECKING:
    from mcp_console.backend.daemon import DaemonInfo

logger = logging.getLogger(__name__)

# Where a local console points until it has found its data dir's daemon (never contacted).
_UNRESOLVED = "http://unresolved.invalid"


def _announce(info: DaemonInfo) -> None:
    # A daemon outlives the program that started it: say so, as the CLI does.
    logger.info(
        "started the mcp-console daemon at %s (pid %d); stop it with 'mcp-console daemon stop'",
        info.url,
        info.pid,
    )


def _check_timeout(seconds: float) -> None:
    if not seconds > 0:  # NaN too
        raise Invalid(f"timeout: give a positive number of seconds, not {seconds}", field="timeout")


class AsyncConsole(RemoteClient):
    """An mcp-console daemon from async code: everything the CLI does, as typed methods.

    ``AsyncConsole()`` reaches the daemon of the local data dir as the CLI does, starting
    one in the background when none runs, and acts as ``MCP_CONSOLE_API_KEY``'s user (else
    as the local admin). ``AsyncConsole(url, token)`` reaches a daemon elsewhere. Use it as
    ``async with AsyncConsole() as console: ...`` (or call ``aclose``).

    Every method takes and returns the ``mcp_console.schemas`` models and raises the errors
    exported by ``mcp_console.sdk``, all of them ``ConsoleError``.

    Args:
        url: the daemon's base URL (``http://127.0.0.1:8765``); ``None`` for the local one.
        token: an API key to act with (for the local daemon: instead of the configured one).
        timeout: seconds a call waits for the daemon's answer (``with_timeout`` changes it).
        settings: the settings whose data dir holds the local daemon (default: read from
            the environment, as the CLI reads them); only without ``url``.

    Raises:
        Invalid: ``timeout`` is not positive, or ``settings`` came with a ``url``.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = REQUEST_TIMEOUT,
        settings: Settings | None = None,
    ) -> None:
        _check_timeout(timeout)
        if url is not None and settings is not None:
            raise Invalid("settings name a local daemon: give them without a url", field="settings")
        super().__init__(url or _UNRESOLVED, token, timeout=timeout)
        self._settings = (settings or Settings()) if url is None else None
        if self._settings is not None and token:
            self._settings = self._settings.model_copy(update={"api_key": token})
        self._found = asyncio.Lock()
        # A console made by ``with_timeout`` shares the pool of the one it came from.
        self._origin: AsyncConsole | None = None

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def connect(self) -> None:
        """Find the local daemon (starting one if none runs); calls do it when first needed.

        Raises:
            Unavailable: the daemon did not start, or does not answer.
        """
        await self._ready()

    async def _ready(self) -> None:
        if self._origin is not None:
            await self._origin._ready()
            self.url, self._http = self._origin.url, self._origin._http
            return
        async with self._found:
            if self._settings is None:
                return
            host = await hosted_client(self._settings, started=_announce)
            # The host's client has checked the daemon answers: this console takes it over.
            unused, self._http, self.url = self._http, host._http, host.url
            self._settings = None
            await unused.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (a console from ``with_timeout`` leaves it to its origin)."""
        if self._origin is None:
            await super().aclose()

    def with_timeout(self, seconds: float) -> AsyncConsole:
        """This console with another timeout per call, sharing its connections.

        Raises:
            Invalid: ``seconds`` is not positive.
        """
        if seconds <= 0:
            raise Invalid(
                f"timeout: give a positive number of seconds, not {seconds}", field="timeout"
            )
        view = copy.copy(self)
        view._origin = self._origin or self
        view._timeout = httpx.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT))
        return view

    # -- every page of a paged listing ---------------------------------------------------------

    async def iter_services(
        self, query: str = "", *, page_size: int = SEARCH_PAGE_SIZE
    ) -> AsyncIterator[ServiceView]:
        """Every service a search finds, fetching ``page_size`` per request.

        Raises:
            Invalid: the query or the page size is wrong.
        """
        async for service in all_services(self, query, page_size=page_size):
            yield service

    async def iter_audit_events(self, query: AuditQuery | None = None) -> AsyncIterator[AuditEntry]:
        """Every audit entry ``query`` selects, newest first, ``query.limit`` per request.

        Raises:
            Invalid: a field of the query is wrong.
        """
        async for entry in all_audit_events(self, query):
            yield entry
