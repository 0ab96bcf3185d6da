"""What the audit trail keeps of a tool call's arguments: a digest, a redacted copy, or nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from mcp_console.backend.catalog.formats.common import looks_secret
from mcp_console.backend.deploy.secretstore import MIN_REDACTED_LENGTH, redact
from mcp_console.backend.monitor.drift_compare import digest
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.audit import ARGUMENTS, ARGUMENTS_DIGEST, UNREADABLE, AuditArguments

# Bounds on a redacted copy: the trail keeps what was asked, not every byte of it.
MAX_STRING = 200  # characters of a string; the rest is cut
MAX_ITEMS = 50  # entries of an object or items of an array
MAX_DEPTH = 8  # nesting; deeper values become CUT
CUT = "…"
# Where a camelCase or kebab-case key breaks into words (``apiKey``, ``client-secret``).
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")
_NO_ARGUMENTS: Any = object()


def arguments_detail(
    body: bytes | None, policy: str, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The entries a tool call's audit detail gets for its arguments under ``policy``.

    ``digest``: ``arguments_sha256``, the SHA-256 of the arguments' canonical JSON (the same
    arguments give the same digest whatever their key order or spacing); ``redacted``:
    ``arguments``, masked (see ``redacted``); ``none``: nothing. A body that is no JSON-RPC
    request gives ``arguments: "unreadable"``; a call without arguments, nothing.

    Args:
        body: the request body the gateway kept (``None``: it kept none).
        policy: the deployment's ``audit_arguments``.
        secrets: the deployment's secret values, masked wherever they appear.
    """
    if body is None or policy == AuditArguments.NONE:
        return {}
    arguments = _arguments(body)
    if arguments is _NO_ARGUMENTS:
        return {}
    if arguments is None:
        return {ARGUMENTS: UNREADABLE}
    if policy == AuditArguments.REDACTED:
        return {ARGUMENTS: redacted(arguments, secrets)}
    return {ARGUMENTS_DIGEST: digest(arguments)}


def _arguments(body: bytes) -> Any:
    """``params.arguments`` of the request; ``None`` when the body is no request,
    ``_NO_ARGUMENTS`` when it has none."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None
    params = message.get("params") if isinstance(message, dict) else None
    if not isinstance(params, dict):
        return None
    return params.get("arguments", _NO_ARGUMENTS)


def redacted(value: Any, secrets: tuple[str, ...] = (), depth: int = 0) -> Any:
    """``value`` with what must not be kept masked: the value of every key that looks like
    it holds a credential, and the deployment's secret values wherever they appear; strings
    beyond ``MAX_STRING`` characters and collections beyond ``MAX_ITEMS`` entries cut."""
    if depth > MAX_DEPTH:
        return CUT
    if isinstance(value, str):
        text = redact(value, secrets)  # before cutting: a secret across the cut is masked
        return text if len(text) <= MAX_STRING else text[:MAX_STRING] + CUT
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in list(value.items())[:MAX_ITEMS]:
            name = redact(str(key), secrets)
            out[name] = MASK if secret_key(str(key)) else redacted(item, secrets, depth + 1)
        if len(value) > MAX_ITEMS:
            out[CUT] = f"{len(value) - MAX_ITEMS} more"
        return out
    if isinstance(value, list):
        items = [redacted(item, secrets, depth + 1) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"{CUT} {len(value) - MAX_ITEMS} more")
        return items
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A numeric secret (a PIN, an account number) sent as a number.
        text = str(value)
        if len(text) >= MIN_REDACTED_LENGTH and text in secrets:
            return MASK
    return value


def secret_key(key: str) -> bool:
    """Whether an argument's name says it carries a credential: the catalog's rule for
    variable names, read with the key spelled as one (``apiKey`` as ``api_Key``)."""
    return looks_secret(_NOT_WORD.sub("_", _CAMEL.sub("_", key)))
