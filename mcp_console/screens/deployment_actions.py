"""The verbs on one deployment, shared by the deployments list and the monitor: same keys."""

from __future__ import annotations

from textual import events, work
from textual.binding import Binding, BindingType
from textual.widgets import Input

from mcp_console.schemas.deploy import (
    DeploymentDetail,
    DeploymentStatus,
    DeploymentView,
    DesiredState,
    ShareCreate,
    ShareView,
)
from mcp_console.screens.access import NEEDS, allows, refusal
from mcp_console.screens.base import ConsoleScreen
from mcp_console.screens.drift import DriftScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.history import HistoryModal
from mcp_console.screens.modals.scale import ScaleModal
from mcp_console.screens.modals.share import ShareModal
from mcp_console.screens.modals.update import UpdateModal

DEPLOYMENT_ACTIONS = frozenset(
    {"scale", "update", "rollback", "stop", "start", "delete", "history", "share", "drift"}
)

# Screens list these after their own keys, so what is special to a screen comes first.
DEPLOYMENT_BINDINGS: list[BindingType] = [
    Binding("s", "scale", "Scale", id="scale"),
    Binding("u", "update", "Update", id="update"),
    Binding("r", "rollback", "Rollback", id="rollback"),
    Binding("x", "stop", "Stop", id="stop"),
    Binding("x", "start", "Start", id="start"),
    Binding("ctrl+d", "delete", "Delete", id="delete"),
    Binding("h", "history", "History", id="history"),
    Binding("a", "share", "Share", id="share"),
    Binding("D", "drift", "Drift", id="drift"),
]

# A rollout sends a burst of events: screens reload once, this long after the last.
EVENT_DELAY = 0.3


def is_deployment_event(kind: str) -> bool:
    """Events after which what a screen shows of a deployment may be stale."""
    return kind.startswith(("deployment.", "instance."))


def can_stop(deployment: DeploymentView) -> bool:
    """It is meant to run and has not given up (a failed one is started again instead)."""
    return (
        deployment.desired_state is DesiredState.RUNNING
        and deployment.status is not DeploymentStatus.FAILED
    )


def applies(deployment: DeploymentView, verb: str) -> bool:
    """Whether ``verb`` makes sense for the deployment as it is, whoever asks."""
    if verb == "rollback":
        return deployment.previous_version is not None or deployment.target_version is not None
    if verb == "stop":
        return can_stop(deployment)
    if verb == "start":
        return not can_stop(deployment)
    return True


class DeploymentActionsScreen(ConsoleScreen):
    """A screen showing one deployment at a time under the cursor, with the verbs on it.

    Subclasses say which deployment that is (``selected_deployment``) and what to do when
    it changed (``deployment_changed``), and list ``DEPLOYMENT_BINDINGS`` among their keys;
    every mutation asks first where it cannot be undone. Every call names the deployment by
    its address (``owner/name`` when it is someone else's). A verb the viewer's access does
    not allow is left out of the footer, and its key says why instead.
    """

    def selected_deployment(self) -> DeploymentView | None:
        """The deployment the verbs apply to."""
        raise NotImplementedError

    def deployment_changed(self, name: str, detail: DeploymentDetail | None) -> None:
        """``name`` was changed by a verb (``detail`` is ``None`` once it is deleted)."""
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in DEPLOYMENT_ACTIONS:
            return True
        chosen = self.selected_deployment()
        if chosen is None:
            return False
        if action == "drift":  # a client without drift reports (an older daemon) offers none
            return callable(getattr(self.client, "drift_report", None))
        return applies(chosen, action) and allows(chosen, action)

    def on_key(self, event: events.Key) -> None:
        """The key of a verb kept from the viewer says why (the footer does not offer it)."""
        chosen = self.selected_deployment()
        if chosen is None or isinstance(self.focused, Input):
            return
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or binding.action not in NEEDS:
                continue
            verb = binding.action
            keys = binding.key.split(",")
            if event.key in keys and applies(chosen, verb) and not allows(chosen, verb):
                event.stop()
                self.notify(refusal(chosen, verb), title="Not yours to do", severity="warning")
                return

    def _chosen_address(self) -> str | None:
        chosen = self.selected_deployment()
        return chosen.address if chosen else None

    # --- scale ----------------------------------------------------------------------------

    def action_scale(self) -> None:
        if (name := self._chosen_address()) is not None:
            self.scale(name)

    @work(group="deployment-action", exit_on_error=False)
    async def scale(self, name: str) -> None:
        """Ask for a replica count and apply it (the dialog shows what the backend refuses)."""
        try:
            current = await self.client.get_deployment(name)
        except Exception as error:
            self.report(error, f"load {name}")
            return

        async def submit(replicas: int) -> DeploymentDetail:
            return await self.client.scale_deployment(name, replicas)

        scaled = await self.app.push_screen_wait(
            ScaleModal(name, current.replicas, submit, current.autoscale)
        )
        if scaled is not None:
            self.notify(f"{name} now wants {scaled.replicas} instance(s).", title="Scaled")
            self.deployment_changed(name, scaled)

    # --- update and rollback --------------------------------------------------------------

    def action_update(self) -> None:
        chosen = self.selected_deployment()
        if chosen is not None:
            self.update_version(chosen.address, chosen.service, chosen.version)

    @work(group="deployment-action", exit_on_error=False)
    async def update_version(self, name: str, service: str, running: str) -> None:
        """Offer the service's published versions and roll out the one chosen."""
        try:
            detail = await self.client.get_service(service)
        except Exception as error:
            self.report(error, f"list the versions of {service}")
            return
        versions = [v for v in detail.versions if v.published]

        async def submit(version: str) -> DeploymentDetail:
            return await self.client.update_deployment(name, version)

        updated = await self.app.push_screen_wait(UpdateModal(name, running, versions, submit))
        if updated is not None:
            target = updated.target_version or updated.version
            self.notify(
                f"Rolling out {target} to {name}; {running} serves until it is healthy.",
                title="Updating",
            )
            self.deployment_changed(name, updated)

    def action_rollback(self) -> None:
        chosen = self.selected_deployment()
        if chosen is not None:
            self.rollback(chosen)

    @work(group="deployment-action", exit_on_error=False)
    async def rollback(self, chosen: DeploymentView) -> None:
        """Cancel the update in progress, or roll out the previous version again."""
        name = chosen.address
        if chosen.target_version is not None and chosen.target_version != chosen.version:
            question = f"Cancel the update of {name} to {chosen.target_version}?"
            detail = f"{name} keeps running {chosen.version}."
        else:
            question = f"Roll {name} back to {chosen.previous_version}?"
            detail = (
                f"{chosen.previous_version} is rolled out again; {chosen.version} serves "
                "until it is healthy."
            )
        if not await self.app.push_screen_wait(ConfirmModal(question, detail, verb="Roll back")):
            return
        try:
            done = await self.client.rollback_deployment(name)
        except Exception as error:
            self.report(error, f"roll back {name}")
            return
        self.notify(f"{name} is rolling back to {done.version}.", title="Rolling back")
        self.deployment_changed(name, done)

    # --- stop, start, delete --------------------------------------------------------------

    def action_stop(self) -> None:
        chosen = self.selected_deployment()
        if chosen is not None:
            self.stop(chosen.address, chosen.replicas)

    @work(group="deployment-action", exit_on_error=False)
    async def stop(self, name: str, replicas: int) -> None:
        """Stop every instance after a confirmation; the deployment and its settings stay."""
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Stop {name}?",
                f"Its {replicas} instance(s) stop and its endpoint stops answering; the "
                "deployment and its settings stay, and x starts it again.",
                verb="Stop",
            )
        ):
            return
        try:
            stopped = await self.client.stop_deployment(name)
        except Exception as error:
            self.report(error, f"stop {name}")
            return
        self.notify(f"{name} is stopped.", title="Stopped")
        self.deployment_changed(name, stopped)

    def action_start(self) -> None:
        if (name := self._chosen_address()) is not None:
            self.start(name)

    @work(group="deployment-action", exit_on_error=False)
    async def start(self, name: str) -> None:
        """Start a stopped deployment, or retry the failed instances of a running one."""
        try:
            started = await self.client.start_deployment(name)
        except Exception as error:
            self.report(error, f"start {name}")
            return
        self.notify(f"{name} is starting.", title="Starting")
        self.deployment_changed(name, started)

    def action_delete(self) -> None:
        if (name := self._chosen_address()) is not None:
            self.delete(name)

    @work(group="deployment-action", exit_on_error=False)
    async def delete(self, name: str) -> None:
        """Delete after a confirmation that says what goes with it."""
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Delete {name}?",
                "Every container or process it made is removed and its endpoint is gone. "
                "This cannot be undone.",
                verb="Delete",
                default=False,  # enter alone keeps it: deleting takes y, or a move to Delete
            )
        ):
            return
        try:
            await self.client.delete_deployment(name)
        except Exception as error:
            self.report(error, f"delete {name}")
            return
        self.notify(f"{name} is deleted.", title="Deleted")
        self.deployment_changed(name, None)

    # --- history --------------------------------------------------------------------------

    def action_history(self) -> None:
        if (name := self._chosen_address()) is not None:
            self.history(name)

    @work(group="deployment-action", exit_on_error=False)
    async def history(self, name: str) -> None:
        """Show every change of ``name``, newest first."""
        try:
            entries = await self.client.deployment_history(name)
        except Exception as error:
            self.report(error, f"load the history of {name}")
            return
        await self.app.push_screen_wait(HistoryModal(name, entries, self.context.clock()))

    # --- who has access ---------------------------------------------------------------------

    def action_share(self) -> None:
        if (name := self._chosen_address()) is not None:
            self.share(name)

    @work(group="deployment-action", exit_on_error=False)
    async def share(self, name: str) -> None:
        """Show who has access; its owner (or an admin) adds and removes users and teams."""
        try:
            detail = await self.client.get_deployment(name)
        except Exception as error:
            self.report(error, f"load {name}")
            return

        async def add(share: ShareCreate) -> DeploymentDetail:
            return await self.client.share_deployment(name, share)

        async def remove(share: ShareView) -> DeploymentDetail:
            if share.kind == "team":
                return await self.client.unshare_deployment(name, team=share.name)
            return await self.client.unshare_deployment(name, user=share.name)

        changed = await self.app.push_screen_wait(
            ShareModal(detail, add, remove, self.context.clock)
        )
        if changed is not None:
            self.deployment_changed(name, changed)

    # --- tool-definition drift ----------------------------------------------------------------

    def action_drift(self) -> None:
        if (name := self._chosen_address()) is not None:
            self.drift(name)

    @work(group="deployment-action", exit_on_error=False)
    async def drift(self, name: str) -> None:
        """Show the tool definitions of ``name`` that differ from the approved ones."""
        try:
            report = await self.client.drift_report(name)
        except Exception as error:
            self.report(error, f"read the drift of {name}")
            return
        await self.app.push_screen(DriftScreen(self.context, name, report))
