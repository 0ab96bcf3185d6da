"""Each tool's example for the docs: a call of it from a recording, and its result."""

from __future__ import annotations

import json
from typing import Any

from mcp_console.devtools.compare import ENVELOPE_KEYS
from mcp_console.devtools.docs.page import Example
from mcp_console.devtools.recording import calls
from mcp_console.schemas.recording import Recording


def _shown(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def tool_examples(recording: Recording) -> dict[str, Example]:
    """By tool name, the first call in ``recording`` that succeeded (else the first that
    failed, as a tool failure): its arguments and its result without the envelope."""
    found: dict[str, tuple[bool, Example]] = {}
    for call in calls(recording):
        if call.method != "tools/call" or call.result is None:
            continue
        name = str(call.params.get("name", ""))
        failed = bool(call.result.get("isError"))
        if name in found and (failed or not found[name][0]):
            continue
        result = {k: v for k, v in call.result.items() if k not in ENVELOPE_KEYS}
        found[name] = (failed, Example(_shown(call.params.get("arguments") or {}), _shown(result)))
    return {name: example for name, (_, example) in found.items()}
