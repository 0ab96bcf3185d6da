"""The errors every layer raises and maps: services, clients, API, CLI and TUI."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConsoleError(Exception):
    """Base of every domain error; ``code`` is stable and travels over the API.

    ``details`` is JSON data that helps to see what happened (the inspector's exchange with
    a server that failed); it travels with the error when there is some.
    """

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500

    def __init__(
        self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The error as the API sends it."""
        body: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(ConsoleError):
    """The named thing does not exist (or is not visible to the caller)."""

    code = "not_found"
    http_status = 404


class Conflict(ConsoleError):
    """The change clashes with what exists (a duplicate, an immutable record)."""

    code = "conflict"
    http_status = 409


class Invalid(ConsoleError):
    """The input is wrong; ``field`` names the path of the offending value."""

    code = "invalid"
    http_status = 422


class Forbidden(ConsoleError):
    """The caller is known but may not do this."""

    code = "forbidden"
    http_status = 403


class Unauthorized(ConsoleError):
    """The caller could not be identified (missing or wrong API key)."""

    code = "unauthorized"
    http_status = 401


class Unavailable(ConsoleError):
    """A required part (engine, database, daemon) cannot be reached."""

    code = "unavailable"
    http_status = 503


class Unreachable(Unavailable):
    """A client could not reach the daemon at all (refused, reset, unknown host)."""


class TimedOut(Unavailable):
    """A client's call got no answer from the daemon in time."""


# Clients raise the two above themselves: over the API they travel as ``unavailable``.
ERRORS_BY_CODE: dict[str, type[ConsoleError]] = {
    cls.code: cls for cls in (NotFound, Conflict, Invalid, Forbidden, Unauthorized, Unavailable)
}


def error_from_dict(payload: dict[str, object]) -> ConsoleError:
    """Rebuild an error sent over the API."""
    cls = ERRORS_BY_CODE.get(str(payload.get("code")), ConsoleError)
    field = payload.get("field")
    details = payload.get("details")
    return cls(
        str(payload.get("message", "")),
        field=str(field) if field else None,
        details=details if isinstance(details, dict) else None,
    )


def revalidated(dto: M) -> M:
    """``dto`` validated again, as the API validates a request body, so that every client
    refuses the same input (a DTO built with ``model_construct`` skipped its checks).

    Raises:
        Invalid: naming the first wrong field.
    """
    try:
        return type(dto).model_validate(dto.model_dump())
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise Invalid(f"{field}: {first['msg']}", field=field) from None
