"""DeploySettings: the deploy wizard's form, with each complaint drawn right under its field."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from mcp_console.schemas.deploy import RuntimeChoice
from mcp_console.widgets.config_form import ConfigForm
from mcp_console.widgets.deploy_remote import FIRST_HEADER_ID, URLS_ID, RemoteFields

# Where a DeploymentCreate field (or the backend's ``field``) is typed in.
FIELD_WIDGETS = {
    "name": "deploy-name",
    "version": "deploy-version",
    "replicas": "deploy-replicas",
    "runtime": "deploy-runtime",
    "session_mode": "deploy-session",
    "cpu_limit": "deploy-cpu",
    "memory_limit_mb": "deploy-memory",
    "autoscale.min_replicas": "autoscale-min",
    "autoscale.max_replicas": "autoscale-max",
    "autoscale.target_inflight": "autoscale-target",
    "autoscale.target_rps": "autoscale-target",
    "urls": URLS_ID,
    "headers": FIRST_HEADER_ID,
}


# The session modes, and the default: what the version says (else per-session for stdio).
AS_THE_SERVER_SAYS = "auto"
SESSION_CHOICES = (
    (AS_THE_SERVER_SAYS, "as the server says"),
    ("per-session", "per-session"),
    ("shared", "shared"),
)
SESSION_HINT = (
    "Sessions: per-session gives each client its own instance (state kept apart, more "
    "memory); shared lets clients share instances (only for stateless servers)."
)


def _session_mode(value: object) -> str | None:
    return value if isinstance(value, str) and value != AS_THE_SERVER_SAYS else None


def _field(label: str, widget: Widget, hint: str = "") -> ComposeResult:
    yield Label(label, classes="config-label")
    if hint:
        yield Static(hint, classes="config-help")
    yield widget
    yield Static("", id=f"{widget.id}-error", classes="field-error")


class DeploySettings(VerticalScroll):
    """Version, name, configuration (a ConfigForm mounted per version), runtime, autoscaling.

    ``show_error`` marks one field and writes the complaint under it; one with no field
    goes to the line at the top, so it is never below the fold.
    """

    DEFAULT_CSS = """
    DeploySettings .field-error {
        display: none;
    }
    DeploySettings .field-error.-shown {
        display: block;
    }
    """

    def __init__(self, name: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.initial_name = name

    def compose(self) -> ComposeResult:
        yield Static("", id="deploy-error", classes="field-error")
        yield from _field("Version", Select([], id="deploy-version", allow_blank=True))
        # Where the chosen version comes from, and whether it runs here (the screen fills it).
        yield Static("", id="deploy-source")
        yield from _field(
            "Deployment name *",
            Input(self.initial_name, id="deploy-name", max_length=63),
            "lowercase letters, digits and dashes; unique among your deployments",
        )
        yield Label("Configuration", classes="section-title")
        yield Vertical(id="deploy-config")
        yield Label("Runtime", classes="section-title")
        with Horizontal(classes="form-row"):
            with Vertical():
                yield from _field("Replicas", Input("1", type="integer", id="deploy-replicas"))
            with Vertical():
                yield from _field(
                    "Runtime",
                    Select(
                        [(c.value, c) for c in RuntimeChoice],
                        value=RuntimeChoice.AUTO,
                        allow_blank=False,
                        id="deploy-runtime",
                    ),
                )
            with Vertical():
                yield from _field(
                    "Sessions",
                    Select(
                        [(label, value) for value, label in SESSION_CHOICES],
                        value=AS_THE_SERVER_SAYS,
                        allow_blank=False,
                        id="deploy-session",
                    ),
                )
        yield Static(SESSION_HINT, classes="config-help")
        with Horizontal(classes="form-row"):
            with Vertical():
                yield from _field(
                    "CPU limit", Input(type="number", placeholder="e.g. 0.5", id="deploy-cpu")
                )
            with Vertical():
                yield from _field(
                    "Memory MB",
                    Input(type="integer", placeholder="e.g. 256", id="deploy-memory"),
                )
        yield RemoteFields(id="deploy-remote")
        yield Label("Autoscaling", classes="section-title")
        with Horizontal(classes="form-row"):
            with Vertical():
                yield from _field(
                    "Autoscale",
                    Select(
                        [("off", False), ("on", True)],
                        value=False,
                        allow_blank=False,
                        id="autoscale-on",
                    ),
                )
            with Vertical():
                yield from _field("Min", Input("1", type="integer", id="autoscale-min"))
            with Vertical():
                yield from _field("Max", Input("3", type="integer", id="autoscale-max"))
            with Vertical():
                yield from _field(
                    "In-flight/inst.", Input("4", type="number", id="autoscale-target")
                )

    def _text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def values(self) -> dict[str, Any]:
        """What the fields outside the configuration hold, as DeploymentCreate names them."""
        autoscale: dict[str, Any] | None = None
        if self.query_one("#autoscale-on", Select).value is True:
            autoscale = {
                "min_replicas": self._text("autoscale-min") or None,
                "max_replicas": self._text("autoscale-max") or None,
                "target_inflight": self._text("autoscale-target") or None,
            }
        version = self.query_one("#deploy-version", Select).value
        return {
            "version": version if isinstance(version, str) else None,
            "name": self._text("deploy-name"),
            "replicas": self._text("deploy-replicas") or "1",
            "runtime": self.query_one("#deploy-runtime", Select).value,
            "session_mode": _session_mode(self.query_one("#deploy-session", Select).value),
            "cpu_limit": self._text("deploy-cpu") or None,
            "memory_limit_mb": self._text("deploy-memory") or None,
            "autoscale": autoscale,
        } | (self.query_one(RemoteFields).values() if self.remote_shown else {})

    @property
    def remote_shown(self) -> bool:
        """Whether the remote server's URLs and headers are asked for."""
        return self.query_one(RemoteFields).display

    def show_remote(self, shown: bool) -> None:
        """Ask for a remote server's URLs and headers (a remote runtime or version), or not."""
        self.query_one(RemoteFields).display = shown

    def show_error(self, field: str | None, message: str | None) -> Widget | None:
        """Mark ``field`` wrong with ``message`` under it (``None`` clears every mark).

        Returns:
            The widget to type the fix into, or ``None`` when the complaint names no field
            of the form (it is then shown at the top).
        """
        config = self.query_one(ConfigForm)
        in_config = field is not None and config.field_for(field) is not None
        config.show_error(field if in_config else None, message)
        # ``urls.2`` and ``headers.Authorization`` are marked at the URLs and the headers.
        named = field or ""
        target = FIELD_WIDGETS.get(named) or FIELD_WIDGETS.get(named.partition(".")[0])
        for widget_id in set(FIELD_WIDGETS.values()):
            wrong = widget_id == target and message is not None
            self.query_one(f"#{widget_id}").set_class(wrong, "-invalid")
            error = self.query_one(f"#{widget_id}-error", Static)
            error.update(f"✗ {message}" if wrong else "")
            error.set_class(wrong, "-shown")
        if in_config and field is not None:
            widget = config.widget_for(field)
        else:
            widget = self.query_one(f"#{target}") if target is not None else None
        general = self.query_one("#deploy-error", Static)
        alone = message is not None and widget is None
        general.update(f"✗ {message}" if alone else "")
        general.set_class(alone, "-shown")
        return widget

    def error_below(self, widget: Widget) -> Widget:
        """The line under ``widget`` that holds its complaint (itself when there is none)."""
        found = self.query(f"#{widget.id}-error")
        return found.first() if found else widget
