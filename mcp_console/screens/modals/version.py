"""VersionModal: add a version to one of my services, starting from its latest one."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from pydantic import ValidationError
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static, TextArea

from mcp_console.schemas.catalog import Transport, VersionCreate, VersionView
from mcp_console.schemas.errors import ConsoleError

SubmitVersion = Callable[[VersionCreate], Awaitable[VersionView]]
_FIELDS = ("version", "changelog", "docker_image", "command", "transport")
# How the server is reached: over its stdin and stdout, or as an HTTP server.
_TRANSPORTS = [
    ("stdio", Transport.STDIO),
    ("serves HTTP", Transport.STREAMABLE_HTTP),
    ("HTTP+SSE (old)", Transport.SSE),
]


class VersionModal(ModalScreen[VersionView | None]):
    """A new version: number, changelog, image, command and how the command is reached
    (stdio, or HTTP on ``{port}``/``$PORT``); packages, config schema, tools and remotes are
    carried over from ``base`` (the latest version)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True, id="save"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, service: str, submit: SubmitVersion, base: VersionView | None) -> None:
        super().__init__()
        self.service = service
        self._submit = submit
        self._base = base

    DEFAULT_CSS = """
    #version-command-row {
        height: auto;
    }
    #version-command {
        width: 1fr;
    }
    #version-transport {
        width: 20;
    }
    """

    def compose(self) -> ComposeResult:
        base = self._base
        with Vertical(id="version-dialog", classes="dialog"):
            yield Label(f"New version of {self.service}", classes="dialog-title")
            yield Label("Version (exact semver, e.g. 1.4.0)", classes="field-label")
            yield Input(placeholder="1.0.0", id="version-version", max_length=255)
            yield Label("Changelog (Markdown)", classes="field-label")
            yield TextArea("", id="version-changelog", soft_wrap=True)
            yield Label("Docker image (optional)", classes="field-label")
            yield Input((base.docker_image or "") if base else "", id="version-docker_image")
            yield Label(
                "Command (optional, as a shell would split it) and transport",
                classes="field-label",
            )
            with Horizontal(id="version-command-row"):
                yield Input(shlex.join(base.command) if base else "", id="version-command")
                yield Select(
                    _TRANSPORTS,
                    value=base.transport if base else Transport.STDIO,
                    allow_blank=False,
                    id="version-transport",
                )
            yield Static(
                "An HTTP server listens on {port} in its arguments or on $PORT.",
                classes="dialog-hint",
            )
            carried = (
                f"Carried over from {base.version}: packages, config schema, tools and remotes."
                if base
                else "The service has no version yet."
            )
            yield Static(carried, classes="dialog-hint")
            yield Static("", id="version-error", classes="field-error")
            yield Label("ctrl+s: save    esc: cancel    tab: next field", classes="dialog-hint")

    def show_error(self, message: str | None, field: str | None = None) -> None:
        """Show ``message`` and mark ``field``'s input."""
        self.query_one("#version-error", Static).update(f"✗ {message}" if message else "")
        for name in _FIELDS:
            self.query_one(f"#version-{name}").set_class(field == name, "-invalid")

    def _draft(self) -> VersionCreate | None:
        base = self._base
        text = self.query_one("#version-command", Input).value.strip()
        try:
            command = shlex.split(text)
        except ValueError as error:
            self.show_error(f"command: {error}", "command")
            return None
        values: dict[str, Any] = {
            "version": self.query_one("#version-version", Input).value.strip(),
            "changelog": self.query_one("#version-changelog", TextArea).text.strip(),
            "docker_image": self.query_one("#version-docker_image", Input).value.strip() or None,
            "command": command,
            "transport": self.query_one("#version-transport", Select).value,
        }
        if base is not None:
            values |= {
                "packages": base.packages,
                "config_schema": base.config_schema,
                "api_spec": base.api_spec,
                "remotes": base.remotes,
                "system_packages": base.system_packages,
                "pass_env": base.pass_env,
            }
        try:
            return VersionCreate.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "version"
            self.show_error(f"{field}: {first['msg']}", field)
            return None

    def action_save(self) -> None:
        draft = self._draft()
        if draft is not None:
            self.show_error(None)
            self._save(draft)

    @work(exclusive=True, group="version-save", exit_on_error=False)
    async def _save(self, draft: VersionCreate) -> None:
        try:
            saved = await self._submit(draft)
        except ConsoleError as error:
            field = (error.field or "").split(".")[0] or None
            self.show_error(error.message, field)
            return
        except Exception as error:  # the form stays open with the reason
            self.show_error(f"{type(error).__name__}: {error}")
            return
        self.dismiss(saved)

    def action_cancel(self) -> None:
        self.dismiss(None)
