"""JSON Schema summaries: a version's config schema as a table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mcp_console.schemas.config_schema import is_secret

_MAX_VALUE = 40


@dataclass(frozen=True)
class Field:
    """One property of an object schema, as a person reads it."""

    name: str
    type: str
    required: bool
    secret: bool
    description: str
    default: str | None
    env: str | None


def type_label(prop: Mapping[str, Any]) -> str:
    """``string``, ``integer``, ``one of a|b``, ``array of string``, ``string|null``..."""
    if isinstance(prop.get("enum"), list):
        return "one of " + "|".join(_short(v) for v in prop["enum"])
    kind = prop.get("type")
    if isinstance(kind, list):
        return "|".join(str(k) for k in kind)
    if kind == "array" and isinstance(prop.get("items"), Mapping):
        return f"array of {type_label(prop['items'])}"
    for key in ("anyOf", "oneOf"):
        if isinstance(prop.get(key), list):
            return "|".join(type_label(p) for p in prop[key] if isinstance(p, Mapping))
    return str(kind or "any")


def schema_fields(schema: Mapping[str, Any]) -> list[Field]:
    """The properties of an object schema in their order, required ones marked."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return []
    required = set(schema.get("required") or [])
    fields = []
    for name, raw in properties.items():
        prop = raw if isinstance(raw, Mapping) else {}
        secret = is_secret(prop)
        default = None if secret or "default" not in prop else _short(prop["default"])
        env = prop.get("x-env")
        fields.append(
            Field(
                name=str(name),
                type=type_label(prop),
                required=name in required,
                secret=secret,
                description=str(prop.get("description") or prop.get("title") or ""),
                default=default,
                env=env if isinstance(env, str) and env != name else None,
            )
        )
    return fields


def fields_table(fields: list[Field], *, show_env: bool = False) -> Table:
    """A borderless table of fields: name (``*`` when required), type, notes."""
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=True)
    table.add_column("Name", no_wrap=True, ratio=2)
    table.add_column("Type", ratio=2)
    table.add_column("Notes", ratio=5)
    for field in fields:
        name = Text(field.name, style="bold")
        if field.required:
            name.append(" *", style="bold red")
        notes = Text()
        if field.secret:
            notes.append("secret ", style="bold magenta")
        if field.default is not None:
            notes.append(f"default {field.default} ", style="cyan")
        if show_env and field.env:
            notes.append(f"env {field.env} ", style="dim")
        notes.append(field.description)
        table.add_row(name, field.type, notes)
    return table


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


class ConfigSummary(VerticalScroll, can_focus=True):
    """What a deployment of this version must be told: its config schema, secrets marked."""

    DEFAULT_CSS = """
    ConfigSummary {
        height: 1fr;
        padding: 0 1;
    }
    ConfigSummary:focus {
        background: $boost;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="config-body")

    def show(self, config_schema: Mapping[str, Any]) -> None:
        """Summarise ``config_schema``."""
        fields = schema_fields(config_schema)
        body = self.query_one("#config-body", Static)
        if not fields:
            body.update(Text("Nothing to configure: this version runs as it is.", style="dim"))
            return
        secrets = sum(f.secret for f in fields)
        required = sum(f.required for f in fields)
        summary = Text(
            f"{len(fields)} setting(s), {required} required (*), {secrets} secret "
            "(stored encrypted, never shown again)",
            style="dim",
        )
        body.update(Group(summary, fields_table(fields, show_env=True)))
