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

# What names an item of a listing: tools and prompts by name, resources by URI.
IDENTITY_KEYS = ("name", "uri", "uriTemplate")

_STEP = re.compile(r"\.\.(\w+|\*)|\.(\w+|\*)|\[(\d+|\*)\]|\[['\"]([^'\"]+)['\"]\]|\[([^\]'\"]+)\]")


class Named(dict[str, Any]):
    """A list of named things, compared by name (shown as ``[name]`` in paths)."""


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
                "[N], [NAME], [*] or .*",
                field="ignore",
            )
        deep_key, key, index, quoted, bare = found.groups()
        steps.append((deep_key is not None, deep_key or key or index or quoted or bare))
        rest = rest[found.end() :]
    if not steps:
        raise Invalid(f"{text!r} selects the whole result: name a field inside it", field="ignore")
    return JsonPath(text, tuple(steps))


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """A list of named things (tools, prompts, resources) by name, or ``None``: it is
    compared item by item, so a tool that moved in the list is not a difference."""
    for key in IDENTITY_KEYS:
        names = [item.get(key) if isinstance(item, dict) else None for item in items]
        if items and all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
            return {str(n): item for n, item in zip(names, items, strict=True)}
    return None


def normalised(value: Any) -> Any:
    """``value`` without envelope fields, volatile values as their kind, JSON text parsed,
    lists of named things keyed by name."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items() if k not in ENVELOPE_KEYS}
    if isinstance(value, list):
        keyed = _keyed(value)
        if keyed is not None:
            return Named({k: normalised(v) for k, v in keyed.items()})
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
        if isinstance(step, Item):
            out += f"[{step}]" if _PLAIN.match(step) else f"[{json.dumps(str(step))}]"
        else:
            out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


class Item(str):
    """A step into a list of named things: the item's name."""


_PLAIN = re.compile(r"^[\w.:/-]+$")


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
    if isinstance(old, Named) and isinstance(new, Named):
        for key in sorted(old.keys() | new.keys()):
            yield from _walk(old.get(key), new.get(key), (*path, Item(key)), ignore)
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
        yield _shown(path), _plain(old), _plain(new)


def _plain(value: Any) -> Any:
    """A compared value as shown: a keyed list as the list it was."""
    if isinstance(value, Named):
        return [_plain(v) for v in value.values()]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
