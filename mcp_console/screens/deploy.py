"""DeployScreen: the deploy wizard — settings, a review page, then progress until healthy."""

from __future__ import annotations

import asyncio
import re
from typing import Any, ClassVar

from pydantic import ValidationError
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Footer, Header, Input, Label, Select, Static

from mcp_console.messages import DeploymentOpenRequested
from mcp_console.schemas.catalog import ServiceDetail, VersionView
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import ConsoleError
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.widgets.config_form import ConfigForm
from mcp_console.widgets.deploy_progress import DeploymentProgress, has_failed, is_healthy

POLL_SECONDS = 1.0
MASK = "••••••"
# Where a DeploymentCreate field (or the backend's ``field``) is typed in.
_FIELD_WIDGETS = {
    "name": "#deploy-name",
    "version": "#deploy-version",
    "replicas": "#deploy-replicas",
    "runtime": "#deploy-runtime",
    "session_mode": "#deploy-session",
    "cpu_limit": "#deploy-cpu",
    "memory_limit_mb": "#deploy-memory",
    "autoscale.min_replicas": "#autoscale-min",
    "autoscale.max_replicas": "#autoscale-max",
    "autoscale.target_inflight": "#autoscale-target",
    "autoscale.target_rps": "#autoscale-target",
}


def default_name(service: str) -> str:
    """A deployment name from a service name: ``io.github.acme/Weather`` → ``weather``."""
    slug = re.sub(r"[^a-z0-9-]+", "-", service.rsplit("/", 1)[-1].lower()).strip("-")
    return slug[:63].strip("-") or "deployment"


def _field(label: str, widget: Any, hint: str = "") -> ComposeResult:
    yield Label(label, classes="config-label")
    if hint:
        yield Static(hint, classes="config-help")
    yield widget


class DeployScreen(ConsoleScreen):
    """Settings → review → progress; every backend complaint is shown at its field."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "review", "Review", priority=True, id="review"),
        Binding("ctrl+s", "confirm", "Deploy", priority=True, id="deploy"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, context: ConsoleContext, service: str, version: str | None = None) -> None:
        super().__init__(context)
        self.service_name = service
        self.wanted_version = version
        self.title = f"Deploy {service}"
        self.service: ServiceDetail | None = None
        self.draft: DeploymentCreate | None = None
        self.step = "form"
        self.deployment_name: str | None = None
        self._config_for: str | None = None
        self.ready = False  # the versions are listed and the form is built

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="deploy-steps")
        with ContentSwitcher(initial="deploy-form", id="deploy-switcher"):
            with VerticalScroll(id="deploy-form"):
                yield from _field("Version", Select([], id="deploy-version", allow_blank=True))
                yield from _field(
                    "Deployment name *",
                    Input(default_name(self.service_name), id="deploy-name", max_length=63),
                    "lowercase letters, digits and dashes; unique among your deployments",
                )
                yield Label("Configuration", classes="section-title")
                yield Vertical(id="deploy-config")
                yield Label("Runtime", classes="section-title")
                with Horizontal(classes="form-row"):
                    with Vertical():
                        yield from _field(
                            "Replicas", Input("1", type="integer", id="deploy-replicas")
                        )
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
                                [("shared", "shared"), ("per-session", "per-session")],
                                value="shared",
                                allow_blank=False,
                                id="deploy-session",
                            ),
                        )
                with Horizontal(classes="form-row"):
                    with Vertical():
                        yield from _field(
                            "CPU limit",
                            Input(type="number", placeholder="e.g. 0.5", id="deploy-cpu"),
                        )
                    with Vertical():
                        yield from _field(
                            "Memory MB",
                            Input(type="integer", placeholder="e.g. 256", id="deploy-memory"),
                        )
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
                yield Static("", id="deploy-error", classes="field-error")
            with VerticalScroll(id="deploy-review"):
                yield Static("", id="review-body")
            with VerticalScroll(id="deploy-progress"):
                yield DeploymentProgress(id="progress-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="deploy-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the service to list its versions and build the configuration form."""
        try:
            self.service = await self.client.get_service(self.service_name)
        except Exception as error:
            self.query_one("#deploy-steps", Static).update(
                Text(f"✗ {describe(error)}", style="bold red")
            )
            self.report(error, f"load {self.service_name}")
            return
        versions = [v for v in self.service.versions if v.published]
        select: Select[str] = self.query_one("#deploy-version", Select)
        select.set_options([(self._version_label(v), v.version) for v in versions])
        latest = next((v.version for v in versions if v.is_latest), None)
        chosen = (
            self.wanted_version if self.wanted_version in {v.version for v in versions} else latest
        )
        if chosen is not None:
            select.value = chosen
        await self._build_config(chosen)
        self._show_step("form")
        self.query_one("#deploy-name", Input).focus()
        self.ready = True

    @staticmethod
    def _version_label(version: VersionView) -> str:
        return version.version + (" (latest)" if version.is_latest else "")

    def _version(self, number: str | None) -> VersionView | None:
        versions = self.service.versions if self.service else []
        return next((v for v in versions if v.version == number), None)

    async def _build_config(self, number: str | None) -> None:
        self._config_for = number
        holder = self.query_one("#deploy-config", Vertical)
        await holder.remove_children()
        version = self._version(number)
        await holder.mount(ConfigForm(version.config_schema if version else {}, id="config-form"))

    @on(Select.Changed, "#deploy-version")
    async def _version_changed(self, event: Select.Changed) -> None:
        chosen = event.value if isinstance(event.value, str) else None
        if self.service is not None and chosen != self._config_for:
            await self._build_config(chosen)

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    # --- steps --------------------------------------------------------------------------

    def _show_step(self, step: str) -> None:
        self.step = step
        self.query_one(
            ContentSwitcher
        ).current = f"deploy-{'review' if step == 'creating' else step}"
        labels = {"form": "1 Settings", "review": "2 Review", "progress": "3 Deploy"}
        shown = "review" if step == "creating" else step
        line = Text()
        for key, label in labels.items():
            line.append(f" {label} ", style="reverse bold" if key == shown else "dim")
        hints = {
            "form": "ctrl+s review · tab next field · esc cancel",
            "review": "ctrl+s deploy · esc edit",
            "progress": "esc close (it carries on) · the monitor opens once it is healthy",
            "creating": "creating the deployment…",
        }
        line.append(f" {hints[step]}", style="italic")
        self.query_one("#deploy-steps", Static).update(line)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "review":
            return self.step == "form" and self.service is not None
        if action == "confirm":
            return self.step == "review" and self.draft is not None
        return True

    def action_review(self) -> None:
        draft = self._collect()
        if draft is not None:
            self.draft = draft
            self.query_one("#review-body", Static).update(self._review(draft))
            self._show_step("review")

    def action_confirm(self) -> None:
        if self.draft is not None:
            self._show_step("creating")
            self.deploy(self.draft)

    def action_back(self) -> None:
        if self.step == "review":
            self._show_step("form")
        else:
            self.dismiss(None)

    # --- the form -----------------------------------------------------------------------

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _collect(self) -> DeploymentCreate | None:
        form = self.query_one(ConfigForm)
        config, secrets, problems = form.collect()
        if problems:
            key, message = problems[0]
            self.show_error(f"config.{key}", message)
            return None
        autoscale: dict[str, Any] | None = None
        if self.query_one("#autoscale-on", Select).value is True:
            autoscale = {
                "min_replicas": self._value("#autoscale-min") or None,
                "max_replicas": self._value("#autoscale-max") or None,
                "target_inflight": self._value("#autoscale-target") or None,
            }
        version = self.query_one("#deploy-version", Select).value
        values = {
            "service": self.service_name,
            "version": version if isinstance(version, str) else None,
            "name": self._value("#deploy-name"),
            "config": config,
            "secrets": secrets,
            "replicas": self._value("#deploy-replicas") or "1",
            "runtime": self.query_one("#deploy-runtime", Select).value,
            "session_mode": self.query_one("#deploy-session", Select).value,
            "cpu_limit": self._value("#deploy-cpu") or None,
            "memory_limit_mb": self._value("#deploy-memory") or None,
            "autoscale": autoscale,
        }
        try:
            draft = DeploymentCreate.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            self.show_error(field, f"{field}: {first['msg']}")
            return None
        self.show_error(None, None)
        return draft

    def show_error(self, field: str | None, message: str | None) -> None:
        """Show ``message`` under the form, mark ``field`` and move the focus to it."""
        self.query_one("#deploy-error", Static).update(f"✗ {message}" if message else "")
        form = self.query_one(ConfigForm)
        config_field = field is not None and form.field_for(field) is not None
        form.show_error(field if config_field else None, message)
        target = _FIELD_WIDGETS.get(field or "")
        for selector in set(_FIELD_WIDGETS.values()):
            self.query_one(selector).set_class(selector == target, "-invalid")
        if field is None:
            return
        widget = form.widget_for(field) if config_field else None
        if widget is None and target is not None:
            widget = self.query_one(target)
        if widget is not None:
            # Scrolled at once, not animated: the field is where the eye goes next.
            widget.focus(scroll_visible=False)
            scroller = self.query_one("#deploy-form", VerticalScroll)
            self.call_after_refresh(scroller.scroll_to_center, widget, animate=False)

    def _review(self, draft: DeploymentCreate) -> Group:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        rows = [
            ("Service", f"{draft.service} {draft.version or '(latest)'}"),
            ("Name", draft.name),
            ("Replicas", str(draft.replicas)),
            ("Runtime", draft.runtime.value),
            ("Sessions", draft.session_mode),
            ("CPU limit", str(draft.cpu_limit) if draft.cpu_limit else "runtime default"),
            (
                "Memory",
                f"{draft.memory_limit_mb} MB" if draft.memory_limit_mb else "runtime default",
            ),
            (
                "Autoscale",
                ", ".join(f"{k}={v}" for k, v in draft.autoscale.items())
                if draft.autoscale
                else "off",
            ),
        ]
        rows += [(f"config {key}", str(value)) for key, value in draft.config.items()]
        rows += [(f"secret {key}", MASK) for key in draft.secrets]
        for label, value in rows:
            table.add_row(label, value)
        return Group(
            Text("Check the deployment, then press ctrl+s to deploy.", style="bold"),
            Text(""),
            table,
        )

    # --- deploying ----------------------------------------------------------------------

    @work(exclusive=True, group="deploy-create", exit_on_error=False)
    async def deploy(self, draft: DeploymentCreate) -> None:
        """Create the deployment, then follow it until it is healthy or has failed."""
        try:
            created = await self.client.create_deployment(draft)
        except ConsoleError as error:
            self._show_step("form")
            self.show_error(error.field, describe(error))
            return
        except Exception as error:
            self._show_step("review")
            self.report(error, f"deploy {draft.service}")
            return
        self.deployment_name = created.name
        self._show_step("progress")
        progress = self.query_one(DeploymentProgress)
        progress.show(created)
        current = created
        while not (is_healthy(current) or has_failed(current)):
            await asyncio.sleep(POLL_SECONDS)
            try:
                current = await self.client.get_deployment(created.name)
            except Exception as error:
                self.report(error, f"follow {created.name}")
                return
            progress.show(current)
        if is_healthy(current):
            if self.is_current:
                self.notify(f"{current.name} is healthy.", title="Deployed")
                # The app swaps the finished wizard for the deployment's monitor.
                self.post_message(DeploymentOpenRequested(current.name))
            else:  # the user went elsewhere meanwhile: tell, do not pull them away
                self.notify(
                    f"{current.name} is healthy; the monitor (3) shows it live.", title="Deployed"
                )
        else:
            self.notify(
                current.status_reason or "the instances did not become healthy",
                title=f"{current.name} failed",
                severity="error",
                timeout=10,
            )
