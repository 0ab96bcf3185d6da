"""An SDK client's callbacks that answer a server's questions and record what it was told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp_types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ListRootsResult,
    LoggingMessageNotificationParams,
    ResourceUpdatedNotification,
    Root,
    TextContent,
    ToolListChangedNotification,
)

_RECORDED = frozenset({"notifications/message", "notifications/progress"})
# Bounds a wait for a message the test needs; a gateway that drops it fails the test.
MESSAGE_TIMEOUT = 30.0


class ClientSide:
    """Callbacks of one client, answering as ``name`` and recording every message.

    Give ``kwargs()`` to the SDK ``Client``; it then declares sampling, elicitation and
    roots (with list changes), as a full-featured client does.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.sampled: list[CreateMessageRequestParams] = []
        self.elicited: list[ElicitRequestParams] = []
        self.roots_asked = 0
        self.logs: list[LoggingMessageNotificationParams] = []
        self.notifications: list[IncomingMessage] = []
        self.progress: list[tuple[float, float | None]] = []
        self._changed = asyncio.Event()

    def kwargs(self) -> dict[str, Any]:
        """The Client arguments that install these callbacks."""
        return {
            "sampling_callback": self.sample,
            "elicitation_callback": self.elicit,
            "list_roots_callback": self.roots,
            "logging_callback": self.log,
            "message_handler": self.message,
        }

    @property
    def root(self) -> str:
        """The one root this client offers."""
        return f"file:///srv/{self.name}"

    async def sample(
        self, context: ClientRequestContext, params: CreateMessageRequestParams
    ) -> CreateMessageResult:
        self.sampled.append(params)
        self._note()
        reply = TextContent(type="text", text=f"{self.name} sampled")
        return CreateMessageResult(role="assistant", content=reply, model=f"{self.name}-model")

    async def elicit(
        self, context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult:
        self.elicited.append(params)
        self._note()
        return ElicitResult(action="accept", content={"name": f"{self.name} answered"})

    async def roots(self, context: ClientRequestContext) -> ListRootsResult:
        self.roots_asked += 1
        self._note()
        return ListRootsResult(roots=[Root(uri=self.root, name=self.name)])

    async def log(self, params: LoggingMessageNotificationParams) -> None:
        self.logs.append(params)
        self._note()

    async def message(self, message: IncomingMessage) -> None:
        self.notifications.append(message)
        self._note()

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        """A ``progress_callback`` for one call."""
        self.progress.append((progress, total))
        self._note()

    def kinds(self) -> list[str]:
        """The notifications received other than logs and progress (which have their own
        records), in order: list changes, resource updates."""
        out = []
        for message in self.notifications:
            if isinstance(message, ToolListChangedNotification):
                out.append("tools/list_changed")
            elif isinstance(message, ResourceUpdatedNotification):
                out.append(f"resources/updated {message.params.uri}")
            elif not isinstance(message, Exception) and message.method not in _RECORDED:
                out.append(message.method)
        return out

    async def until(self, what: str, check: Callable[[], bool]) -> None:
        """Wait until ``check()`` holds, failing with ``what`` if it never does."""
        try:
            with anyio.fail_after(MESSAGE_TIMEOUT):
                while not check():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"{self.name} never got {what}") from None

    def _note(self) -> None:
        self._changed.set()
