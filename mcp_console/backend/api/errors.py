"""Error responses: every failure is ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mcp_console.schemas.errors import ERRORS_BY_CODE, ConsoleError, Invalid, Unauthorized

# Where FastAPI says a bad value came from; the field name alone is what callers act on.
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
_CODES_BY_STATUS = {cls.http_status: code for code, cls in ERRORS_BY_CODE.items()}


def error_body(error: ConsoleError) -> dict[str, Any]:
    """The JSON body of an error response."""
    return {"error": error.to_dict()}


def error_response(error: ConsoleError) -> JSONResponse:
    """The response for a domain error, with its HTTP status."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
    return JSONResponse(error_body(error), status_code=error.http_status, headers=headers)


def field_of(loc: Sequence[int | str]) -> str:
    """A validation error's location as a dotted field path (``rating``, ``0.text``)."""
    parts = list(loc)
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(str(part) for part in parts)


def invalid_request(errors: Sequence[Any]) -> Invalid:
    """The first problem of a rejected request as an ``Invalid`` naming its field."""
    first: dict[str, Any] = (
        errors[0] if errors else {"loc": ("body",), "msg": "the request is not valid"}
    )
    if first.get("type") == "json_invalid":
        reason = first.get("ctx", {}).get("error", "")
        return Invalid(f"the body is not valid JSON: {reason}".rstrip(": "), field="body")
    field = field_of(first.get("loc", ("body",)))
    message = f"{field}: {first.get('msg', 'invalid value')}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem(s))"
    return Invalid(message, field=field)


async def _console_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConsoleError)
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(invalid_request(exc.errors()))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _CODES_BY_STATUS.get(exc.status_code, "error")
    body = {"error": {"code": code, "message": str(exc.detail), "field": None}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(_request: Request, _exc: Exception) -> JSONResponse:
    # The server logs the traceback itself (Starlette re-raises after this answer).
    error = {"code": "error", "message": "internal error (see the daemon log)", "field": None}
    return JSONResponse({"error": error}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with the same body shape."""
    app.add_exception_handler(ConsoleError, _console_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
