"""A handshake-era stdio MCP server that asks its client questions and talks on its own.

Written as raw JSON lines so that every message it sends is exactly the one a test expects:

- ``caps``: returns the ``initialize`` params it was given (what the client declared);
- ``ask`` ``{method, params}``: sends that request to the client (``sampling/createMessage``,
  ``elicitation/create``, ``roots/list``) and returns the client's answer as it came;
- ``notify`` ``{uri}``: sends a log message, ``tools/list_changed`` and
  ``resources/updated`` before its reply;
- ``notify-after``: replies first, then sends a log message;
- ``progress``: two progress notifications for the request's token, then its reply;
- ``resources/subscribe``, ``logging/setLevel``, ``ping``: ``{}``;
- ``initialize`` at a protocol version it does not know: refused.
"""

from __future__ import annotations

import json
import sys
from typing import Any

TOOLS = [
    {"name": name, "inputSchema": {"type": "object"}}
    for name in ("caps", "ask", "notify", "notify-after", "progress")
]
VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
CAPABILITIES = {
    "tools": {"listChanged": True},
    "resources": {"subscribe": True, "listChanged": True},
    "logging": {},
}


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
    sys.stdout.flush()


def text(request_id: Any, value: Any) -> None:
    content = [{"type": "text", "text": json.dumps(value)}]
    send({"id": request_id, "result": {"content": content, "isError": False}})


def main() -> None:
    initialized: dict[str, Any] = {}
    asked: dict[str, Any] = {}  # the server's request id -> the tools/call waiting on it
    for line in sys.stdin:
        message = json.loads(line)
        method = message.get("method")
        request_id = message.get("id")
        params = message.get("params") or {}
        if method is None:  # a client's answer to one of our requests
            waiting = asked.pop(request_id, None)
            if waiting is not None:
                text(waiting, message.get("result") or {"error": message.get("error")})
        elif method == "initialize" and params.get("protocolVersion") not in VERSIONS:
            error = {"code": -32602, "message": "Unsupported protocol version"}
            send({"id": request_id, "error": error})
        elif method == "initialize":
            initialized = params
            send(
                {
                    "id": request_id,
                    "result": {
                        "protocolVersion": params.get("protocolVersion", "2025-11-25"),
                        "capabilities": CAPABILITIES,
                        "serverInfo": {"name": "asking", "version": "1.0"},
                    },
                }
            )
        elif method == "tools/list":
            send({"id": request_id, "result": {"tools": TOOLS}})
        elif method == "tools/call":
            call(params, request_id, initialized, asked)
        elif request_id is not None:
            send({"id": request_id, "result": {}})


def call(params: dict[str, Any], request_id: Any, initialized: Any, asked: dict[str, Any]) -> None:
    name = params.get("name")
    arguments = params.get("arguments") or {}
    if name == "caps":
        text(request_id, initialized)
    elif name == "ask":
        ours = f"asking-{request_id}"
        asked[ours] = request_id
        send({"id": ours, "method": arguments["method"], "params": arguments.get("params", {})})
    elif name == "notify":
        send({"method": "notifications/message", "params": {"level": "info", "data": "hello"}})
        send({"method": "notifications/tools/list_changed"})
        send({"method": "notifications/resources/updated", "params": {"uri": arguments["uri"]}})
        text(request_id, "sent")
    elif name == "notify-after":
        text(request_id, "replied")
        send({"method": "notifications/message", "params": {"level": "info", "data": "after"}})
    elif name == "progress":
        token = (params.get("_meta") or {}).get("progressToken")
        for step in (1, 2):
            progress = {"progressToken": token, "progress": step, "total": 2}
            send({"method": "notifications/progress", "params": progress})
        text(request_id, "done")


if __name__ == "__main__":
    main()
