"""ConfigForm: a form generated from a version's ``config_schema`` (secrets masked as typed)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from mcp_console.schemas.config_schema import is_secret, missing_problem
from mcp_console.widgets.schema_view import type_label

_TEXT_TYPES = {"integer": "integer", "number": "number"}


@dataclass(frozen=True)
class ConfigField:
    """One property of the schema and how the form asks for it."""

    key: str
    prop: Mapping[str, Any]
    required: bool
    index: int

    @property
    def widget_id(self) -> str:
        """A DOM id (config keys may hold characters ids may not)."""
        return f"cfg-{self.index}"

    @property
    def secret(self) -> bool:
        """Whether the value is a secret."""
        return is_secret(self.prop)

    @property
    def fixed(self) -> bool:
        """Whether the value is fixed by the catalog (``readOnly`` with a ``const``)."""
        return bool(self.prop.get("readOnly")) and "const" in self.prop

    @property
    def kind(self) -> str:
        """``enum``, ``boolean``, ``integer``, ``number``, ``json`` or ``string``."""
        if isinstance(self.prop.get("enum"), list):
            return "enum"
        declared = self.prop.get("type")
        if declared in ("boolean", "integer", "number"):
            return str(declared)
        return "json" if declared in ("object", "array") else "string"


def config_fields(schema: Mapping[str, Any]) -> list[ConfigField]:
    """The top-level properties of ``schema`` in order."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return []
    required = set(schema.get("required") or [])
    return [
        ConfigField(str(key), prop if isinstance(prop, Mapping) else {}, key in required, i)
        for i, (key, prop) in enumerate(properties.items())
    ]


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class ConfigForm(Vertical):
    """Inputs for each property: selects for enums and booleans, masked inputs for secrets."""

    DEFAULT_CSS = """
    ConfigForm {
        height: auto;
    }
    ConfigForm .config-label {
        margin-top: 1;
        text-style: bold;
    }
    ConfigForm .config-help {
        color: $text-muted;
    }
    ConfigForm .config-error {
        color: $text-error;
        display: none;
    }
    ConfigForm .config-error.-shown {
        display: block;
    }
    """

    def __init__(self, schema: Mapping[str, Any], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fields = config_fields(schema)

    def compose(self) -> ComposeResult:
        if not self.fields:
            yield Static("This version needs no configuration.", classes="config-help")
            return
        for field in self.fields:
            label = field.key + (" *" if field.required and not field.fixed else "")
            if field.secret:
                label += "  (secret: stored encrypted, never shown again)"
            yield Label(label, classes="config-label")
            help_text = " · ".join(
                part
                for part in (
                    type_label(field.prop),
                    str(field.prop.get("description") or ""),
                    f"env {field.prop['x-env']}" if field.prop.get("x-env") else "",
                )
                if part
            )
            yield Static(help_text, classes="config-help")
            yield self._input(field)
            yield Static("", id=f"{field.widget_id}-error", classes="config-error")

    def _input(self, field: ConfigField) -> Widget:
        prop, default = field.prop, field.prop.get("default")
        if field.fixed:
            return Static(f"fixed by the catalog: {_text(prop['const'])}", id=field.widget_id)
        if field.kind == "enum":
            options = [(_text(v), v) for v in prop["enum"]]
            allow_blank = not field.required or default not in prop["enum"]
            value = default if default in prop["enum"] else Select.NULL
            return Select(options, allow_blank=allow_blank, value=value, id=field.widget_id)
        if field.kind == "boolean":
            value = default if isinstance(default, bool) else Select.NULL
            return Select(
                [("yes", True), ("no", False)],
                allow_blank=not isinstance(default, bool),
                value=value,
                id=field.widget_id,
            )
        examples = prop.get("examples")
        placeholder = _text(examples[0]) if isinstance(examples, list) and examples else ""
        return Input(
            "" if default is None or field.secret else _text(default),
            placeholder=placeholder or ("JSON" if field.kind == "json" else ""),
            password=field.secret,
            type=_TEXT_TYPES.get(field.kind, "text"),  # type: ignore[arg-type]
            id=field.widget_id,
        )

    def field_for(self, key: str) -> ConfigField | None:
        """The field of a config key (``config.`` prefix and dotted tails accepted)."""
        key = key.removeprefix("config.")
        return next((f for f in self.fields if key == f.key or key.startswith(f.key + ".")), None)

    def collect(self) -> tuple[dict[str, Any], dict[str, str], list[tuple[str, str]]]:
        """``(config, secrets, problems)``: what was given, and each required value missing.

        Text goes to the backend as typed: it coerces text to the declared type and names
        the field when it cannot.
        """
        config: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        problems: list[tuple[str, str]] = []
        for field in self.fields:
            if field.fixed:
                continue
            value = self.entered(field)
            if isinstance(value, str) and field.kind != "enum":
                value = value.strip()  # typed text; a choice is the schema's own value
            if value is None:
                if field.required and field.prop.get("default") is None:
                    problem = missing_problem(field.prop)
                    problems.append((field.key, f"config.{field.key}: {problem}"))
                continue
            if field.secret:
                secrets[field.key] = str(value)
            else:
                config[field.key] = value
        return config, secrets, problems

    def entered(self, field: ConfigField) -> Any:
        """What ``field`` holds: a choice, or text as typed; ``None`` when left empty."""
        widget = self.query_one(f"#{field.widget_id}")
        if isinstance(widget, Select):
            return None if widget.value is Select.NULL else widget.value
        if isinstance(widget, Input) and widget.value.strip():
            return widget.value
        return None

    def show_error(self, key: str | None, message: str | None) -> None:
        """Mark one field wrong with ``message`` (``None`` clears every mark)."""
        for field in self.fields:
            error = self.query_one(f"#{field.widget_id}-error", Static)
            wrong = key is not None and self.field_for(key) is field
            error.set_class(wrong, "-shown")
            error.update(f"✗ {message}" if wrong and message else "")
            self.query_one(f"#{field.widget_id}").set_class(wrong, "-invalid")

    def widget_for(self, key: str) -> Widget | None:
        """The input of ``key``'s field (``None`` for a field fixed by the catalog)."""
        field = self.field_for(key)
        if field is None or field.fixed:
            return None
        return self.query_one(f"#{field.widget_id}")
