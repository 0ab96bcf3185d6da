"""UpdateModal: choose the version a deployment rolls out; its changelog is shown beside it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from mcp_console.schemas.catalog import VersionView
from mcp_console.schemas.deploy import DeploymentDetail
from mcp_console.screens.modals.submit import SubmitModal

SubmitUpdate = Callable[[str], Awaitable[DeploymentDetail]]


def version_label(version: VersionView, running: str) -> Text:
    """``2.1.0  latest``, ``2.0.0  running``, ``2.2.0-rc.1  pre-release``."""
    text = Text(version.version, style="bold")
    notes = [
        note
        for note, applies in (
            ("running", version.version == running),
            ("latest", version.is_latest),
            ("pre-release", version.is_prerelease),
        )
        if applies
    ]
    if notes:
        text.append("  " + ", ".join(notes), style="dim")
    return text


class UpdateModal(SubmitModal):
    """Dismisses with the deployment as it starts rolling out, or ``None`` when cancelled."""

    def __init__(
        self,
        name: str,
        running: str,
        versions: Sequence[VersionView],
        submit: SubmitUpdate,
    ) -> None:
        super().__init__()
        self.deployment = name
        self.running = running
        self.versions = list(versions)
        self._submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(id="update-dialog", classes="dialog"):
            yield Label(
                f"Update {self.deployment} (it runs {self.running})", classes="dialog-title"
            )
            yield OptionList(
                *(
                    Option(
                        version_label(v, self.running),
                        id=v.version,
                        disabled=v.version == self.running,
                    )
                    for v in self.versions
                ),
                id="update-versions",
            )
            yield Static("", id="update-changelog")
            yield Static(
                "The running version serves until the new one is healthy; if the new one is "
                "not healthy in time, the update rolls back by itself.",
                classes="dialog-hint",
            )
            yield Static("", id="update-error", classes="field-error")
            yield Label("enter: roll out    esc: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one("#update-versions", OptionList)
        # The latest other version is what an update usually means.
        preferred = next(
            (i for i, v in enumerate(self.versions) if v.is_latest and v.version != self.running),
            next((i for i, v in enumerate(self.versions) if v.version != self.running), None),
        )
        options.highlighted = preferred
        options.focus()

    @on(OptionList.OptionHighlighted, "#update-versions")
    def _show_changelog(self, event: OptionList.OptionHighlighted) -> None:
        chosen = next((v for v in self.versions if v.version == event.option.id), None)
        changelog = (chosen.changelog.strip() if chosen else "") or "No changelog."
        self.query_one("#update-changelog", Static).update(Text(changelog, style="italic"))

    def show_error(self, message: str | None) -> None:
        """Show why the version cannot be rolled out."""
        self.query_one("#update-error", Static).update(f"✗ {message}" if message else "")

    @on(OptionList.OptionSelected, "#update-versions")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = event.option.id
        if chosen is not None:
            self.show_error(None)
            self.submit(lambda: self._submit(chosen))
