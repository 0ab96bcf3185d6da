"""DeployScreen: the deploy wizard — settings, a review page, then progress until healthy."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Collection
from typing import ClassVar

from pydantic import ValidationError
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Header, Input, Select, Static

from mcp_console.messages import BackendEventReceived, DeploymentOpenRequested
from mcp_console.schemas.catalog import ServiceDetail, VersionView
from mcp_console.schemas.deploy import PROGRESS_EVENTS, DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Conflict, ConsoleError
from mcp_console.schemas.remote import display_url
from mcp_console.schemas.runnability import VersionRunnability
from mcp_console.schemas.version_source import SourceKind
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.widgets.config_form import ConfigForm
from mcp_console.widgets.deploy_progress import DeploymentProgress, has_failed, is_healthy
from mcp_console.widgets.deploy_settings import DeploySettings
from mcp_console.widgets.version_fit import source_line

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
MASK = "••••••"
_NUMBERED = re.compile(r"^(?P<base>.+)-\d{1,3}$")


def default_name(service: str) -> str:
    """A deployment name from a service name: ``io.github.acme/Weather`` → ``weather``."""
    slug = re.sub(r"[^a-z0-9-]+", "-", service.rsplit("/", 1)[-1].lower()).strip("-")
    return slug[:63].strip("-") or "deployment"


def free_name(wanted: str, taken: Collection[str]) -> str:
    """The first of ``wanted-2``, ``wanted-3``… that is not ``taken`` (``git-2`` taken too:
    ``git-3``, not ``git-2-2``), cut to fit the 63 characters a name may have."""
    numbered = _NUMBERED.match(wanted)
    base = numbered.group("base") if numbered else wanted
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: 63 - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        number += 1


class DeployScreen(ConsoleScreen):
    """Settings → review → progress; every backend complaint is shown at its field."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "review", "Review", priority=True, id="review"),
        Binding("ctrl+s", "confirm", "Deploy", priority=True, id="deploy"),
        Binding("escape", "back", "Back", id="back"),
        Binding("ctrl+n", "free_name", "Free name", priority=True, id="free-name"),
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
        self.deployment_id: int | None = None
        # Whether each version runs on the backend's machine (asked beside the service).
        self.fits: dict[str, VersionRunnability] = {}
        self._config_for: str | None = None
        self.ready = False  # the versions are listed and the form is built
        # A name nobody of the user's deployments has, offered when the one typed is taken.
        self.free_name: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="deploy-steps")
        with ContentSwitcher(initial="deploy-form", id="deploy-switcher"):
            yield DeploySettings(default_name(self.service_name), id="deploy-form")
            with VerticalScroll(id="deploy-review"):
                yield Static("", id="review-body")
            with VerticalScroll(id="deploy-progress"):
                yield DeploymentProgress(id="progress-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()
        self.load_fits()

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

    @work(exclusive=True, group="deploy-fits", exit_on_error=False)
    async def load_fits(self) -> None:
        """Ask which versions run on this machine (it may take the package index a moment:
        the form does not wait for it)."""
        try:
            answers = await self.client.version_runnability(self.service_name)
        except Exception:  # a convenience: the deployment itself says why it cannot run
            logger.warning("could not tell which versions run here", exc_info=True)
            return
        self.fits = {a.version: a for a in answers}
        self._show_version_info()

    @staticmethod
    def _version_label(version: VersionView) -> str:
        return version.version + (" (latest)" if version.is_latest else "")

    def _version(self, number: str | None) -> VersionView | None:
        versions = self.service.versions if self.service else []
        return next((v for v in versions if v.version == number), None)

    def _chosen(self) -> VersionView | None:
        value = self.query_one("#deploy-version", Select).value
        return self._version(value if isinstance(value, str) else None)

    def _show_version_info(self) -> None:
        """The chosen version's source and whether it runs here; the remote server's
        fields when it runs elsewhere."""
        version = self._chosen()
        line = source_line(version, self.fits.get(version.version)) if version else Text()
        self.query_one("#deploy-source", Static).update(line)
        runtime = self.query_one("#deploy-runtime", Select).value
        remote = version is not None and version.source.kind is SourceKind.REMOTE
        self.query_one(DeploySettings).show_remote(remote or runtime == RuntimeChoice.REMOTE)

    @on(Select.Changed, "#deploy-runtime")
    def _runtime_changed(self) -> None:
        self._show_version_info()

    async def _build_config(self, number: str | None) -> None:
        self._show_version_info()
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
        if action == "free_name":
            return self.step == "form" and self.free_name is not None
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

    def _collect(self) -> DeploymentCreate | None:
        config, secrets, problems = self.query_one(ConfigForm).collect()
        if problems:
            key, message = problems[0]
            self.show_error(f"config.{key}", message)
            return None
        values = self.query_one(DeploySettings).values()
        values |= {"service": self.service_name, "config": config, "secrets": secrets}
        try:
            draft = DeploymentCreate.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            self.show_error(field, f"{field}: {first['msg']}")
            return None
        self.show_error(None, None)
        return draft

    def show_error(
        self, field: str | None, message: str | None, *, free_name: str | None = None
    ) -> None:
        """Show ``message`` under ``field`` (or atop the form), focus the field, scroll to it;
        ``free_name`` is a name to offer instead of a taken one (ctrl+n takes it)."""
        self.free_name = free_name
        self.refresh_bindings()
        if free_name is not None and message is not None:
            message += f"\n{free_name!r} is free: ctrl+n takes it"
        settings = self.query_one(DeploySettings)
        widget = settings.show_error(field, message)
        if message is None:
            return
        if widget is None:
            self.call_after_refresh(settings.scroll_home, animate=False)
            return
        # Scrolled at once, not animated: the field and its complaint are where the eye goes.
        widget.focus(scroll_visible=False)
        self.call_after_refresh(self._reveal, widget)

    def _reveal(self, widget: Widget) -> None:
        settings = self.query_one(DeploySettings)
        settings.scroll_to_center(widget, animate=False)
        settings.scroll_to_widget(settings.error_below(widget), animate=False)

    def action_free_name(self) -> None:
        if self.free_name is not None:
            name = self.query_one("#deploy-name", Input)
            name.value = self.free_name
            name.focus()
            self.show_error(None, None)

    def _review(self, draft: DeploymentCreate) -> Group:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        rows = [
            ("Service", f"{draft.service} {draft.version or '(latest)'}"),
            ("Name", draft.name),
            ("Replicas", str(draft.replicas)),
            ("Runtime", draft.runtime.value),
            ("Sessions", draft.session_mode or "as the server says"),
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
        version = self._version(draft.version) or self._chosen()
        if version is not None:
            rows.insert(1, ("Source", version.source.text))
        rows += [("URL", display_url(url)) for url in draft.urls]
        rows += [(f"header {name}", MASK) for name in draft.headers]
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

    def on_backend_event_received(self, event: BackendEventReceived) -> None:
        """An image pull's progress, or a package install or image build, of this deployment."""
        if (
            event.kind in PROGRESS_EVENTS
            and self.deployment_id is not None
            and event.event.get("deployment_id") == self.deployment_id
        ):
            self.query_one(DeploymentProgress).step(event.event)

    async def _untaken(self, wanted: str) -> str | None:
        """A name like ``wanted`` that none of the user's deployments has (``None`` when
        their deployments cannot be listed: the complaint is shown without an offer)."""
        try:
            me, deployments = await asyncio.gather(
                self.client.whoami(), self.client.list_deployments()
            )
        except Exception:  # the offer is a convenience; the refusal itself is shown anyway
            logger.warning("could not list deployments to offer a free name", exc_info=True)
            return None
        return free_name(wanted, {d.name for d in deployments if d.owner == me.name} | {wanted})

    @work(exclusive=True, group="deploy-create", exit_on_error=False)
    async def deploy(self, draft: DeploymentCreate) -> None:
        """Create the deployment, then follow it until it is healthy or has failed."""
        try:
            created = await self.client.create_deployment(draft)
        except ConsoleError as error:
            offer = None
            if isinstance(error, Conflict) and error.field == "name":
                offer = await self._untaken(draft.name)
            self._show_step("form")
            self.show_error(error.field, describe(error), free_name=offer)
            return
        except Exception as error:
            self._show_step("review")
            self.report(error, f"deploy {draft.service}")
            return
        self.deployment_name = created.address
        self.deployment_id = created.id
        self._show_step("progress")
        progress = self.query_one(DeploymentProgress)
        progress.show(created)
        current = created
        while not (is_healthy(current) or has_failed(current)):
            await asyncio.sleep(POLL_SECONDS)
            try:
                current = await self.client.get_deployment(created.address)
            except Exception as error:
                self.report(error, f"follow {created.name}")
                return
            progress.show(current)
        if is_healthy(current):
            if self.is_current:
                self.notify(f"{current.name} is healthy.", title="Deployed")
                # The app swaps the finished wizard for the deployment's monitor.
                self.post_message(DeploymentOpenRequested(current.address))
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
