"""A JSON Schema as table rows: nested objects as dotted paths, arrays, enums, defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Deeper nesting is shown as its type only: a table past this depth helps nobody.
MAX_DEPTH = 8
# What a constraint is called in a row's details, in the order they are shown.
CONSTRAINTS = (
    ("format", "format"),
    ("minimum", "≥"),
    ("exclusiveMinimum", ">"),
    ("maximum", "≤"),
    ("exclusiveMaximum", "<"),
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("pattern", "pattern"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
)


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One field of a schema: its dotted path (``[]`` marks an array's items) and rules."""

    path: str
    type: str
    required: bool
    default: str
    details: str
    description: str


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _resolved(
    schema: Any, root: dict[str, Any], seen: frozenset[str]
) -> tuple[Any, frozenset[str]]:
    """``schema`` with a local ``$ref`` (``#/...``) followed; a cycle or a remote ref stays."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref: str = schema["$ref"]
        if not ref.startswith("#") or ref in seen:
            return schema, seen
        seen = seen | {ref}
        target: Any = root
        for part in ref.lstrip("#").split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return schema, seen
            target = target[part]
        # Keywords beside a $ref (a description, a default) override the target's.
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema, seen


def _variants(schema: dict[str, Any]) -> list[Any]:
    found: list[Any] = schema.get("anyOf") or schema.get("oneOf") or []
    return found


def type_of(schema: Any, root: dict[str, Any], seen: frozenset[str] = frozenset()) -> str:
    """A readable type: ``string``, ``integer | null``, ``array of object (Line)`` (a
    definition's name after an object that refers to it)."""
    if schema is True or schema == {}:
        return "any"
    if not isinstance(schema, dict):
        return "never" if schema is False else "any"
    if isinstance(schema.get("$ref"), str):
        named = str(schema["$ref"]).rsplit("/", 1)[-1]
        resolved, inner = _resolved(schema, root, seen)
        if resolved is schema:  # a cycle or a ref outside the document: its name alone
            return named
        found = type_of(resolved, root, inner)
        return f"{found} ({named})" if found == "object" else found
    variants = _variants(schema)
    if variants:
        return " | ".join(dict.fromkeys(type_of(v, root, seen) for v in variants))
    if "allOf" in schema and "type" not in schema:
        return " & ".join(dict.fromkeys(type_of(v, root, seen) for v in schema["allOf"]))
    kind = schema.get("type")
    names = [kind] if isinstance(kind, str) else [str(k) for k in kind or []]
    if not names:
        if "const" in schema:
            return "const"
        if "enum" in schema:
            return "enum"
        if "properties" in schema:
            names = ["object"]
        else:
            return "any"
    if "array" in names and "items" in schema:
        names = [
            f"array of {type_of(schema['items'], root, seen)}" if n == "array" else n for n in names
        ]
    return " | ".join(names)


def _details(schema: dict[str, Any]) -> str:
    parts: list[str] = []
    if "const" in schema:
        parts.append(f"always {_json(schema['const'])}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(_json(v) for v in schema["enum"]))
    for key, label in CONSTRAINTS:
        if key in schema:
            value = schema[key]
            parts.append(f"{label} {value if isinstance(value, str) else _json(value)}")
    extra = schema.get("additionalProperties")
    if extra is False:
        parts.append("no other fields")
    return "; ".join(parts)


def _object_of(schema: Any) -> dict[str, Any] | None:
    """The object schema whose fields nest under a row (directly, or the one object variant)."""
    if not isinstance(schema, dict):
        return None
    if "properties" in schema:
        return schema
    objects = [v for v in _variants(schema) if isinstance(v, dict) and "properties" in v]
    return objects[0] if len(objects) == 1 else None


def field_rows(schema: Any) -> list[FieldRow]:
    """The fields of an object schema, parents before their children, in declared order.

    Args:
        schema: a tool's input or output schema (JSON Schema, local ``$ref`` followed).

    Returns:
        One row per property at any depth: ``a.b`` for a nested field, ``a[].b`` for a
        field of an array's items.
    """
    if not isinstance(schema, dict):
        return []
    rows: list[FieldRow] = []
    _walk(schema, schema, "", 0, frozenset(), rows)
    return rows


def _walk(
    schema: dict[str, Any],
    root: dict[str, Any],
    prefix: str,
    depth: int,
    seen: frozenset[str],
    rows: list[FieldRow],
) -> None:
    schema, seen = _resolved(schema, root, seen)
    target = _object_of(schema)
    if target is None or depth > MAX_DEPTH:
        return
    target, seen = _resolved(target, root, seen)
    required = set(target.get("required") or ())
    properties = target.get("properties")
    if not isinstance(properties, dict):
        return
    for name, raw in properties.items():
        field, inner = _resolved(raw, root, seen)
        if not isinstance(field, dict):
            field = {}
        path = f"{prefix}{name}"
        rows.append(
            FieldRow(
                path=path,
                type=type_of(raw, root, seen),
                required=name in required,
                default=_json(field["default"]) if "default" in field else "",
                details=_details(field),
                description=str(field.get("description") or ""),
            )
        )
        if _object_of(field) is not None:
            _walk(field, root, f"{path}.", depth + 1, inner, rows)
        items = field.get("items")
        if isinstance(items, dict):
            resolved_items, items_seen = _resolved(items, root, inner)
            if _object_of(resolved_items) is not None:
                _walk(resolved_items, root, f"{path}[].", depth + 1, items_seen, rows)
