"""The API's OpenAPI document: every route's error statuses, each with the one error body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from mcp_console.backend.api.bodies import ErrorBody

# What each error status means; the body is always ``ErrorBody``, its ``code`` the status's.
ERROR_STATUSES: dict[int, str] = {
    401: "No API key, or one the daemon does not know (code `unauthorized`).",
    403: "The caller may not do this, or their key is limited elsewhere (code `forbidden`).",
    404: "What the request names does not exist or is not visible (code `not_found`).",
    409: "The change clashes with what exists (code `conflict`).",
    422: "A parameter or the body is wrong; `field` names it (code `invalid`).",
    500: "An unexpected failure, logged by the daemon (code `error`).",
    503: "A part the request needs (engine, database, server) is unreachable (code `unavailable`).",
}
CHANGES = frozenset({"post", "put", "patch", "delete"})
_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def text_response(
    description: str, *media_types: str, json_model: type[BaseModel] | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers with a file or text (or, as JSON, with
    ``json_model``) rather than with its return value."""
    content = {
        media_type: {"schema": {"type": "string", "description": description}}
        for media_type in media_types
        # FastAPI writes the model's schema under application/json itself.
        if json_model is None or media_type != "application/json"
    }
    answer: dict[str, Any] = {"description": description, "content": content}
    if json_model is not None:
        answer["model"] = json_model
    return {200: answer}


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation may answer with.

    Every route may fail unexpectedly or miss a part it needs; one that needs a key may be
    refused it; one that takes input may find it wrong or naming nothing; a change may clash.
    """
    statuses = [500, 503]
    if operation.get("security"):
        statuses += [401, 403]
    if operation.get("parameters") or operation.get("requestBody"):
        statuses += [404, 422]
    if method in CHANGES:
        statuses.append(409)
    return sorted(statuses)


def with_errors(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with each operation's error responses (FastAPI's own 422 replaced)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    ref_template = "#/components/schemas/{model}"
    schema = ErrorBody.model_json_schema(ref_template=ref_template)
    schemas.update(schema.pop("$defs", {}))
    schemas[ErrorBody.__name__] = schema
    error_ref = {"$ref": ref_template.format(model=ErrorBody.__name__)}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, operation):
                responses[str(status)] = {
                    "description": ERROR_STATUSES[status],
                    "content": {"application/json": {"schema": error_ref}},
                }
    for name in _VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Build ``app``'s document with its error responses (once, when first asked for)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_errors(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
