"""A recorded MCP session (JSON lines) and what replaying it against a server found."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from mcp_console.schemas.base import Dto
from mcp_console.schemas.monitor import RpcDirection

RECORDING_KIND: Literal["mcp-console-recording"] = "mcp-console-recording"


class RecordingHeader(Dto):
    """The first line of a recording: what was recorded, when, and which server answered."""

    kind: Literal["mcp-console-recording"] = RECORDING_KIND
    format: Literal[1] = 1
    target: str
    # The program and arguments of a stdio server (``target`` shows them joined).
    command: list[str] | None = None
    started_at: datetime
    server_name: str | None = None
    server_version: str | None = None
    protocol_version: str | None = None


class RecordedMessage(Dto):
    """One JSON-RPC message as it went over the wire, and when (ms after the session began)."""

    direction: RpcDirection
    at: datetime
    elapsed_ms: float
    message: dict[str, Any]


class Recording(Dto):
    """A whole recorded session."""

    header: RecordingHeader
    messages: list[RecordedMessage] = Field(default_factory=list)


class RecordedCall(Dto):
    """A request the client sent and the reply it got (``None``: none came)."""

    index: int
    method: str
    params: dict[str, Any]
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def subject(self) -> str:
        """What the call was about: the tool, prompt or resource it named, if any."""
        for key in ("name", "uri"):
            value = self.params.get(key)
            if isinstance(value, str):
                return value
        return ""

    @property
    def title(self) -> str:
        """``#INDEX METHOD SUBJECT``, as reports name a call."""
        return f"#{self.index} {self.method} {self.subject}".rstrip()


class Difference(Dto):
    """Where a replayed answer differs from the recorded one (``None``: absent there)."""

    call: str
    path: str
    recorded: Any = None
    replayed: Any = None


class ReplayReport(Dto):
    """What replaying a recording against a server found."""

    target: str
    replayed: int
    skipped: dict[str, int] = Field(default_factory=dict)
    differences: list[Difference] = Field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def same(self) -> bool:
        """Whether every replayed answer matched the recorded one."""
        return not self.differences
