"""The command palette's provider: commands built from what the app shows right now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.errors import ConsoleError

LIVE_RESULTS = 8
MIN_LIVE_QUERY = 2


@dataclass(frozen=True)
class PaletteCommand:
    """One palette entry: what it says, what it does, and a line of help."""

    name: str
    run: Callable[[], Awaitable[Any] | Any]
    help: str = ""


@runtime_checkable
class PaletteHost(Protocol):
    """What the provider needs of the app (the app implements it)."""

    client: ConsoleClient

    def palette_commands(self, screen: Screen[Any]) -> Iterable[PaletteCommand]:
        """Commands for the screen the palette was opened on."""
        ...

    def open_service(self, name: str) -> None:
        """Open a service's detail page."""
        ...


class ConsoleCommands(Provider):
    """Sections, the current screen's own actions, known categories, and matching services.

    Services come from a live catalog search as you type, so any of 100,000 can be opened
    from the palette; a backend error there just means no service hits.
    """

    def _host(self) -> PaletteHost | None:
        app = self.app
        return app if isinstance(app, PaletteHost) else None

    async def discover(self) -> Hits:
        host = self._host()
        if host is None:
            return
        for command in host.palette_commands(self.screen):
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        host = self._host()
        if host is None:
            return
        matcher = self.matcher(query)
        for command in host.palette_commands(self.screen):
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, help=command.help)
        words = query.strip()
        if len(words) < MIN_LIVE_QUERY or ":" in words:
            return
        try:
            page = await host.client.search_services(words, page_size=LIVE_RESULTS)
        except ConsoleError:
            return
        for rank, service in enumerate(page.items):
            label = f"Open {service.display_name or service.name} ({service.name})"

            def open_it(name: str = service.name) -> None:
                host.open_service(name)

            # Below exact command matches, in the backend's relevance order.
            yield Hit(0.5 - rank * 0.01, label, open_it, help=service.description[:80])
