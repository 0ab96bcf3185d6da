"""The API's reference as one self-contained HTML page, drawn from its OpenAPI document (no
script or stylesheet from elsewhere: it reads the same offline)."""

from __future__ import annotations

import re
from html import escape
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIX = "#/components/schemas/"
_CODE = re.compile(r"``?([^`]+?)``?")

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;
color:#1d1d1f}
h1{margin-bottom:0}h2{border-bottom:1px solid #ccc;margin-top:2.5rem}
h3{font-family:ui-monospace,monospace;font-size:1rem;margin:1.5rem 0 .3rem}
.m{border-radius:3px;color:#fff;display:inline-block;font-size:.8rem;margin-right:.5rem;
padding:0 .4rem;text-transform:uppercase;width:4rem;text-align:center}
.get{background:#2b6cb0}.post{background:#2f855a}.put,.patch{background:#b7791f}
.delete{background:#c53030}
table{border-collapse:collapse;margin:.3rem 0 1rem;width:100%}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f5}code{font-family:ui-monospace,monospace;font-size:.9em}
nav a{margin-right:1rem}.lock{color:#777;font-size:.85rem}
"""


def render_docs(document: dict[str, Any]) -> str:
    """The whole reference: every operation (grouped by area), then every schema."""
    info = document.get("info", {})
    title = escape(str(info.get("title", "API")))
    groups: dict[str, list[str]] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                groups.setdefault(_area(path), []).append(_operation(path, method, item[method]))
    nav = " ".join(f'<a href="#area-{escape(area)}">{escape(area)}</a>' for area in groups)
    areas = "".join(
        f'<h2 id="area-{escape(area)}">{escape(area)}</h2>' + "".join(operations)
        for area, operations in groups.items()
    )
    schemas = document.get("components", {}).get("schemas", {})
    models = "".join(_schema(name, schema) for name, schema in sorted(schemas.items()))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} API</title>'
        f"<style>{STYLE}</style></head><body><h1>{title} API "
        f"<small>{escape(str(info.get('version', '')))}</small></h1>"
        f"<p>{_prose(str(info.get('description', '')))}</p>"
        "<p>Send the API key as <code>Authorization: Bearer KEY</code>. The document itself: "
        '<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>'
        f'<nav>{nav} <a href="#schemas">schemas</a></nav>{areas}'
        f'<h2 id="schemas">Schemas</h2>{models}</body></html>'
    )


def _prose(text: str) -> str:
    """A description as HTML: escaped, its `code` (or ``code``) set as code."""
    return _CODE.sub(r"<code>\1</code>", escape(text))


def _area(path: str) -> str:
    """``/api/v1/deployments/{name}/scale`` belongs to ``deployments``."""
    parts = [part for part in path.split("/") if part]
    return parts[2] if len(parts) > 2 else parts[-1]


def _operation(path: str, method: str, operation: dict[str, Any]) -> str:
    lock = "" if not operation.get("security") else ' <span class="lock">API key</span>'
    out = [
        f'<h3><span class="m {method}">{method}</span>{escape(path)}{lock}</h3>',
        f"<p>{_prose(operation.get('description') or operation.get('summary', ''))}</p>",
    ]
    parameters = operation.get("parameters", [])
    if parameters:
        rows = "".join(
            f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
            f"<td>{_type(p.get('schema', {}))}</td><td>{'yes' if p.get('required') else ''}</td>"
            f"<td>{_prose(p.get('description') or p.get('schema', {}).get('description', ''))}"
            "</td></tr>"
            for p in parameters
        )
        out.append(
            "<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th>"
            f"<th>description</th></tr>{rows}</table>"
        )
    body = operation.get("requestBody", {}).get("content", {})
    for media_type, content in body.items():
        out.append(f"<p>Body ({escape(media_type)}): {_type(content.get('schema', {}))}</p>")
    rows = "".join(
        f"<tr><td>{escape(status)}</td><td>{_prose(answer.get('description', ''))}</td>"
        f"<td>{_contents(answer.get('content', {}))}</td></tr>"
        for status, answer in sorted(operation.get("responses", {}).items())
    )
    out.append(f"<table><tr><th>status</th><th>meaning</th><th>body</th></tr>{rows}</table>")
    return "".join(out)


def _contents(content: dict[str, Any]) -> str:
    parts = []
    for media_type, body in content.items():
        schema = body.get("schema") or body.get("itemSchema") or {}
        each = " (each event)" if "itemSchema" in body and "schema" not in body else ""
        parts.append(f"{_type(schema)}{each} <small>{escape(media_type)}</small>")
    return "<br>".join(parts)


def _schema(name: str, schema: dict[str, Any]) -> str:
    out = [f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>']
    if schema.get("description"):
        out.append(f"<p>{_prose(schema['description'])}</p>")
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    if properties:
        rows = "".join(
            f"<tr><td><code>{escape(field)}</code></td><td>{_type(spec)}</td>"
            f"<td>{'yes' if field in required else ''}</td>"
            f"<td>{_prose(str(spec.get('description', '')))}</td></tr>"
            for field, spec in properties.items()
        )
        out.append(
            "<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>"
            f"{rows}</table>"
        )
    elif "enum" in schema or "type" in schema:
        out.append(f"<p>{_type(schema)}</p>")
    return "".join(out)


def _type(schema: dict[str, Any]) -> str:
    """A schema's type as people read it, linking to named schemas."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        name = escape(ref.removeprefix(REF_PREFIX))
        return f'<a href="#schema-{name}">{name}</a>'
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " | ".join(_type(option) for option in schema[key])
    if "enum" in schema:
        return " | ".join(f"<code>{escape(repr(value))}</code>" for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {_type(schema['additionalProperties'])}"
    if kind is None:
        return "any"
    text = escape(str(kind))
    if "format" in schema:
        text += f" ({escape(str(schema['format']))})"
    return text
