"""Text turned into the JSON type a schema property declares: config values and tool arguments."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_EXPECTED = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false (or yes/no, 1/0)",
    "array": "a list (comma-separated or JSON)",
    "object": "a JSON object",
    "string": "text",
    "null": "null",
}
_QUOTED_CHARS = 40


def json_types(prop: Mapping[str, Any]) -> list[str]:
    """The JSON types a property declares (an object with ``properties`` is an object)."""
    declared = prop.get("type")
    if declared is not None:
        return [str(t) for t in (declared if isinstance(declared, list) else [declared])]
    return ["object"] if "properties" in prop else []


def expected(types: Iterable[str]) -> str:
    """What a value of these types looks like, for a message: "an integer or null"."""
    return " or ".join(_EXPECTED.get(t, t) for t in types)


def boolean_word(text: str) -> bool | None:
    """What ``text`` says as a yes/no answer (true/false, yes/no, 1/0), or ``None``."""
    return _BOOLEANS.get(text.strip().lower())


def coerce(raw: str, prop: Mapping[str, Any]) -> Any:
    """``raw`` as the property's type; text stays text where the property takes text.

    The one rule for text typed by a person: ``--set`` and the deploy form's config values,
    the console's tool form and ``deploy call --arg``'s arguments, the catalog formats'
    input values. A property that declares no type takes the text as it is.

    An enum member whose text equals ``raw`` wins (``"2"`` for ``enum: [1, 2]``). Booleans take
    true/false/yes/no/1/0, arrays a comma list or JSON, objects JSON.

    Raises:
        ValueError: ``raw`` cannot be any of the declared types.
    """
    enum = prop.get("enum")
    if isinstance(enum, list) and raw not in enum:
        for choice in enum:
            if as_text(choice) == raw:
                return choice
    types = json_types(prop)
    if not types or "string" in types:
        return raw
    for kind in types:
        try:
            return _convert(raw.strip(), kind, prop)
        except ValueError:
            continue
    raise ValueError(expected(types))


def coerce_or_explain(raw: str, prop: Mapping[str, Any], *, secret: bool = False) -> Any:
    """``coerce``, failing with a message fit for a person: ``must be an integer, got 'two'``.

    Raises:
        ValueError: what the value must be, and what it was unless it is a ``secret``'s.
    """
    try:
        return coerce(raw, prop)
    except ValueError:
        got = "" if secret else f", got {quote(raw)}"
        raise ValueError(f"must be {expected(json_types(prop))}{got}") from None


def _convert(text: str, kind: str, prop: Mapping[str, Any]) -> Any:
    if kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if kind == "number" and _NUMBER.fullmatch(text) and math.isfinite(float(text)):
        return int(text) if _INTEGER.fullmatch(text) else float(text)
    if kind == "boolean" and (answer := boolean_word(text)) is not None:
        return answer
    if kind == "null" and text.lower() in ("", "null"):
        return None
    if kind == "object" and isinstance(parsed := parse_json(text), dict):
        return parsed
    if kind == "array":
        items = parse_json(text) if text.startswith("[") else text.split(",") if text else []
        if not isinstance(items, list):
            raise ValueError(kind)
        items = [item.strip() if isinstance(item, str) else item for item in items]
        item_schema = prop.get("items")
        # An item that will not convert stays text: validation then names it by its index.
        if isinstance(item_schema, Mapping):
            return [coerce_or_keep(item, item_schema) for item in items]
        return items
    raise ValueError(kind)


def coerce_or_keep(value: Any, prop: Mapping[str, Any]) -> Any:
    """Text as the property's type where it converts; anything else as given."""
    if not isinstance(value, str):
        return value
    try:
        return coerce(value, prop)
    except ValueError:
        return value


def parse_json(text: str) -> Any:
    """The JSON value of ``text``, or ``None`` when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def as_text(value: Any) -> str:
    """A value as an environment variable holds it: text as is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def quote(value: Any) -> str:
    """A value shortened for an error message (never pass a secret's value)."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= _QUOTED_CHARS else text[: _QUOTED_CHARS - 3] + "..."
