"""ToolForm: a tool's arguments, asked for by a form generated from its input schema."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Static

from mcp_console.schemas.coercion import coerce_or_explain
from mcp_console.widgets.config_form import ConfigField, ConfigForm


def typed(field: ConfigField, value: Any) -> Any:
    """``value`` as the JSON value the schema declares (the rule of ``deploy call --arg``).

    Raises:
        ValueError: the text cannot be any type the argument declares; says which it must be.
    """
    if not isinstance(value, str):
        return value  # a select hands back the schema's own value
    return coerce_or_explain(value, field.prop, secret=field.secret)


class ToolForm(ConfigForm):
    """The configuration form's fields for a tool's input schema; it hands back typed values."""

    def compose(self) -> ComposeResult:
        if not self.fields:
            yield Static("This tool takes no arguments.", classes="config-help")
            return
        yield from super().compose()

    def arguments(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """``(arguments, problems)``: the values given, as JSON, and each argument that is
        required but empty or that does not parse, with why (by argument name)."""
        arguments: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for field in self.fields:
            if field.fixed:
                arguments[field.key] = field.prop["const"]
                continue
            value = self.entered(field)
            if value is None:
                if field.required:
                    problems.append((field.key, f"argument {field.key!r} is required"))
                continue
            try:
                arguments[field.key] = typed(field, value)
            except ValueError as error:
                problems.append((field.key, f"argument {field.key!r} {error}"))
        return arguments, problems
