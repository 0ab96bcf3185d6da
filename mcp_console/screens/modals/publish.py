"""PublishModal: publish a service from a ``server.json`` file, errors shown in place."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from mcp_console.schemas.catalog import ServiceDetail
from mcp_console.schemas.errors import ConsoleError

PublishText = Callable[[str, str], Awaitable[ServiceDetail]]
MAX_DOCUMENT_BYTES = 1_000_000


class PathSuggester(Suggester):
    """Completes the last component of a path from what is on disk."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        return await asyncio.to_thread(_complete_path, value)


def _complete_path(value: str) -> str | None:
    expanded = os.path.expanduser(value)
    folder, _, partial = expanded.rpartition(os.sep)
    try:
        names = sorted(os.listdir(folder or "."))
    except OSError:
        return None
    for name in names:
        if name.startswith(partial) and name != partial and not name.startswith("."):
            full = os.path.join(folder, name) if folder else name
            suffix = os.sep if os.path.isdir(full) else ""
            return value + name[len(partial) :] + suffix
    return None


def read_document(path: str) -> str:
    """The text of ``path``; ``OSError``/``ValueError`` say why it cannot be read."""
    file = Path(path).expanduser()
    if file.is_dir():
        candidate = file / "server.json"
        if not candidate.is_file():
            raise ValueError(f"{file} is a folder without a server.json")
        file = candidate
    if file.stat().st_size > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{file} is larger than {MAX_DOCUMENT_BYTES // 1000} kB")
    return file.read_text("utf-8")


class PublishModal(ModalScreen[ServiceDetail | None]):
    """Asks for a path, publishes the document, dismisses with the published service."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, submit: PublishText, path: str = "") -> None:
        super().__init__()
        self._submit = submit
        self._path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="publish-dialog", classes="dialog"):
            yield Label("Publish from a server.json", classes="dialog-title")
            yield Label(
                "Path to a server.json file (or a folder holding one)", classes="field-label"
            )
            yield Input(
                self._path,
                placeholder="./server.json",
                suggester=PathSuggester(),
                id="publish-path",
            )
            yield Static("", id="publish-error", classes="field-error")
            yield Label(
                "enter: publish    →: complete the path    esc: cancel", classes="dialog-hint"
            )

    def show_error(self, message: str | None) -> None:
        """Show why publishing failed (the file, or the document's JSON path)."""
        self.query_one("#publish-error", Static).update(f"✗ {message}" if message else "")
        self.query_one("#publish-path", Input).set_class(bool(message), "-invalid")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if not path:
            self.show_error("path: type the path of a server.json file")
            return
        self.show_error(None)
        self._publish(path)

    @work(exclusive=True, group="publish", exit_on_error=False)
    async def _publish(self, path: str) -> None:
        try:
            text = await asyncio.to_thread(read_document, path)
        except (OSError, ValueError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            self.show_error(f"{path}: {reason}")
            return
        try:
            published = await self._submit(text, os.path.basename(path) or path)
        except ConsoleError as error:
            where = (
                f" (at {error.field})" if error.field and error.field not in error.message else ""
            )
            self.show_error(f"{error.message}{where}")
            return
        except Exception as error:  # the dialog stays open with the reason
            self.show_error(f"{type(error).__name__}: {error}")
            return
        self.dismiss(published)

    def action_cancel(self) -> None:
        self.dismiss(None)
