"""RemoteFields: the deploy wizard's URLs of a server running elsewhere, and the headers sent
there (credentials: typed masked, never shown back)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

HEADER_ROWS = 2
URLS_ID = "deploy-urls"
FIRST_HEADER_ID = "deploy-header-name-1"


class RemoteFields(Vertical):
    """URLs (several balance) and up to ``HEADER_ROWS`` headers, each a name and a value.

    A header value is typed into a password field: it is a credential (``Authorization:
    Bearer …``), stored encrypted and never shown again, here or anywhere.
    """

    DEFAULT_CSS = """
    RemoteFields {
        height: auto;
        display: none;
    }
    RemoteFields .header-row {
        height: auto;
    }
    RemoteFields .header-row Input {
        width: 1fr;
    }
    """

    def compose(self) -> ComposeResult:
        yield Label("Remote server", classes="section-title")
        yield Label("URLs", classes="config-label")
        yield Static(
            "where the server answers (Streamable HTTP); several, separated by spaces, are "
            "balanced over; empty: the catalog's endpoint",
            classes="config-help",
        )
        yield Input(placeholder="https://mcp.example.com/mcp", id=URLS_ID)
        yield Static("", id=f"{URLS_ID}-error", classes="field-error")
        yield Label("Headers", classes="config-label")
        yield Static(
            "sent with every request (e.g. Authorization: Bearer …); stored encrypted, never "
            "shown again",
            classes="config-help",
        )
        for row in range(1, HEADER_ROWS + 1):
            with Horizontal(classes="header-row"):
                yield Input(placeholder="Name", id=f"deploy-header-name-{row}")
                yield Input(placeholder="Value", password=True, id=f"deploy-header-value-{row}")
        yield Static("", id=f"{FIRST_HEADER_ID}-error", classes="field-error")

    def values(self) -> dict[str, object]:
        """``urls`` and ``headers`` as DeploymentCreate names them (empty rows left out)."""
        urls = self.query_one(f"#{URLS_ID}", Input).value.split()
        headers: dict[str, str] = {}
        for row in range(1, HEADER_ROWS + 1):
            name = self.query_one(f"#deploy-header-name-{row}", Input).value.strip()
            value = self.query_one(f"#deploy-header-value-{row}", Input).value
            if name or value:
                headers[name] = value
        return {"urls": urls, "headers": headers}
