"""A structural diff of two MCP results, with rules that leave volatile fields out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mcp_console.schemas.errors import Invalid

# Fields of the protocol's envelope, not of the server's answer: they vary with the era
# and the session (cache hints, request metadata), not with what the server does.
ENVELOPE_KEYS = frozenset({"_meta", "ttlMs", "cacheScope", "resultType"})
# Values compared by their kind alone: a timestamp or a UUID differs on every run.
VOLATILE_VALUES = (
    (
        "<timestamp>",
        re.compile(
            r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$", re.ASCII
        ),
    ),
    (
        "<uuid>",
        re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I),
    ),
)
DEFAULT_RULES = (
    "fields named _meta, ttlMs, cacheScope or resultType (the protocol's envelope); "
    "timestamps and UUIDs are compared as such, not by value"
)

_STEP = re.compile(r"\.\.(\w+|\*)|\.(\w+|\*)|\[(\d+|\*)\]|\[['\"]([^'\"]+)['\"]\]")


@dataclass(frozen=True)
class JsonPath:
    """A JSONPath (``$.a.b``, ``$..key``, ``$.list[0]``, ``[*]``, ``.*``) matching paths."""

    text: str
    steps: tuple[tuple[bool, str], ...]  # (any depth before it, key or index or *)

    def matches(self, path: Sequence[str | int]) -> bool:
        """Whether the value at ``path`` (keys and indexes from the result) is selected."""
        return _match(self.steps, tuple(path))


def _match(steps: tuple[tuple[bool, str], ...], path: tuple[str | int, ...]) -> bool:
    if not steps:
        return True  # a selected value selects everything inside it
    deep, step = steps[0]
    for at in range(len(path)) if deep else range(min(1, len(path))):
        if (step == "*" or str(path[at]) == step) and _match(steps[1:], path[at + 1 :]):
            return True
    return False


def parse_path(text: str) -> JsonPath:
    """The JSONPath ``text``.

    Raises:
        Invalid: it is not a JSONPath of the supported kind.
    """
    rest = text.strip()
    if not rest.startswith("$"):
        raise Invalid(
            f"{text!r} is not a JSONPath: it starts with $ (e.g. $..timestamp)", field="ignore"
        )
    rest = rest[1:]
    steps: list[tuple[bool, str]] = []
    while rest:
        found = _STEP.match(rest)
        if found is None:
            raise Invalid(
                f"{text!r} is not a JSONPath this tool reads (at {rest!r}): use $.key, $..key, "
                "[N], [*] or .*",
                field="ignore",
            )
        deep_key, key, index, quoted = found.groups()
        steps.append((deep_key is not None, deep_key or key or index or quoted))
        rest = rest[found.end() :]
    if not steps:
        raise Invalid(f"{text!r} selects the whole result: name a field inside it", field="ignore")
    return JsonPath(text, tuple(steps))


def normalised(value: Any) -> Any:
    """``value`` without envelope fields, volatile values as their kind, JSON text parsed."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items() if k not in ENVELOPE_KEYS}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str):
        stripped = value.strip()
        # A tool that answers JSON as text is compared field by field.
        if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
            try:
                return normalised(json.loads(stripped))
            except ValueError:
                pass
        for shown, pattern in VOLATILE_VALUES:
            if pattern.match(stripped):
                return shown
    return value


def _shown(path: tuple[str | int, ...]) -> str:
    out = "$"
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


def differences(
    recorded: Any, replayed: Any, ignore: Sequence[JsonPath] = ()
) -> Iterator[tuple[str, Any, Any]]:
    """Each place where ``replayed`` differs from ``recorded``: its path and both values
    (``None`` where one side has nothing); paths that ``ignore`` selects are left out."""
    yield from _walk(normalised(recorded), normalised(replayed), (), ignore)


def _walk(
    old: Any, new: Any, path: tuple[str | int, ...], ignore: Sequence[JsonPath]
) -> Iterator[tuple[str, Any, Any]]:
    if any(rule.matches(path) for rule in ignore):
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            yield from _walk(old.get(key), new.get(key), (*path, key), ignore)
        return
    if isinstance(old, list) and isinstance(new, list):
        for at in range(max(len(old), len(new))):
            yield from _walk(
                old[at] if at < len(old) else None,
                new[at] if at < len(new) else None,
                (*path, at),
                ignore,
            )
        return
    if old != new or type(old) is not type(new):
        yield _shown(path), old, new
