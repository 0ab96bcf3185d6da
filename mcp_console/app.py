"""The Textual app shell: it receives a ConsoleClient and never builds one."""

from __future__ import annotations

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.errors import ConsoleError


class ConsoleApp(App[None]):
    """mcp-console's terminal UI."""

    TITLE = "mcp-console"
    BINDINGS = [Binding("q", "quit", "Quit", id="quit")]

    def __init__(self, client: ConsoleClient) -> None:
        super().__init__()
        self.client = client

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the catalog…", id="summary")
        yield Footer()

    def on_mount(self) -> None:
        self.load_summary()

    @work(exclusive=True, exit_on_error=False)
    async def load_summary(self) -> None:
        """Show who is signed in and how large the catalog is."""
        summary = self.query_one("#summary", Static)
        try:
            me = await self.client.whoami()
            page = await self.client.search_services("", page_size=1)
        except ConsoleError as error:
            summary.update(f"The backend answered with an error: {error.message}")
            return
        summary.update(
            f"Signed in as {me.name} ({me.role.value}). "
            f"{page.total} published service(s) in the catalog.\n\n"
            "Use the `mcp-console catalog` commands meanwhile; press q to quit."
        )
