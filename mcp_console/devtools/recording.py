"""Recordings on disk: a session's JSON-RPC messages as JSON lines, header first."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mcp_console.devtools.targets import ServerTarget
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.monitor import RpcDirection, RpcMessage
from mcp_console.schemas.recording import (
    RECORDING_KIND,
    RecordedCall,
    RecordedMessage,
    Recording,
    RecordingHeader,
)

# Requests that open or manage a session rather than ask the server something.
SESSION_METHODS = frozenset({"initialize", "server/discover"})


def from_exchange(header: RecordingHeader, messages: Iterable[RpcMessage]) -> Recording:
    """The recording of an exchange, each message timed from the session's start."""
    started = header.started_at
    return Recording(
        header=header,
        messages=[
            RecordedMessage(
                direction=m.direction,
                at=m.at,
                elapsed_ms=round((m.at - started).total_seconds() * 1000, 3),
                message=m.payload,
            )
            for m in messages
        ],
    )


def dumps(recording: Recording) -> str:
    """The recording as JSON lines."""
    lines = [recording.header.model_dump_json(exclude_none=True)]
    lines += [m.model_dump_json() for m in recording.messages]
    return "\n".join(lines) + "\n"


def write(recording: Recording, path: Path) -> None:
    """Write ``recording`` to ``path`` whole or not at all (a temporary file, then a rename)."""
    path = path.expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise Invalid(f"cannot write {path}: {folder} is not a directory", field="record")
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(dumps(recording))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def loads(text: str, source: str) -> Recording:
    """The recording in ``text`` (JSON lines) read from ``source``.

    Raises:
        Invalid: it is not a recording (the message names the line and what is wrong).
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise Invalid(f"{source} is empty: not a recording", field="recording")
    parsed: list[tuple[int, Any]] = []
    for number, line in lines:
        try:
            parsed.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise Invalid(
                f"{source} line {number} is not JSON ({error.msg}): not a recording",
                field="recording",
            ) from None
    first = parsed[0][1]
    if not isinstance(first, dict) or first.get("kind") != RECORDING_KIND:
        raise Invalid(
            f"{source} is not a recording: its first line is not a {RECORDING_KIND} header "
            "(record one with 'mcp-console inspect TARGET --record FILE')",
            field="recording",
        )
    try:
        header = RecordingHeader.model_validate(first)
        messages = [RecordedMessage.model_validate(item) for _, item in parsed[1:]]
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "line"
        raise Invalid(
            f"{source}: {where}: {problem['msg']} (a recording's lines are direction, at, "
            "elapsed_ms and message)",
            field="recording",
        ) from None
    return Recording(header=header, messages=messages)


def read(path: Path) -> Recording:
    """The recording at ``path``.

    Raises:
        Invalid: no such file, or it is not a recording.
    """
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Invalid(f"no recording at {path}: no such file", field="recording") from None
    except (OSError, UnicodeDecodeError) as error:
        raise Invalid(f"cannot read the recording {path}: {error}", field="recording") from None
    return loads(text, str(path))


def calls(recording: Recording) -> list[RecordedCall]:
    """The requests the client sent (session set-up left out) with their replies, in order."""
    replies: dict[Any, dict[str, Any]] = {}
    for m in recording.messages:
        if m.direction is RpcDirection.RECEIVED and "id" in m.message and "method" not in m.message:
            replies.setdefault(m.message["id"], m.message)
    found: list[RecordedCall] = []
    for m in recording.messages:
        message = m.message
        method = message.get("method")
        if m.direction is not RpcDirection.SENT or "id" not in message or not method:
            continue
        if method in SESSION_METHODS:
            continue
        reply = replies.get(message["id"], {})
        params = message.get("params")
        found.append(
            RecordedCall(
                index=len(found) + 1,
                method=str(method),
                params=params if isinstance(params, dict) else {},
                result=reply.get("result"),
                error=reply.get("error"),
            )
        )
    return found


def header_for(target: ServerTarget, started_at: datetime, client: Any) -> RecordingHeader:
    """The header of a session with ``client``'s server, begun at ``started_at``."""
    info = client.server_info
    return RecordingHeader(
        target=target.label,
        command=list(target.command) or None,
        started_at=started_at,
        server_name=info.name if info else None,
        server_version=info.version if info else None,
        protocol_version=client.protocol_version,
    )
