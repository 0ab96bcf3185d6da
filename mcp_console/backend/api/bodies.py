"""Request and response bodies that only the HTTP API needs (the rest are the schemas DTOs)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ServerJsonBody(BaseModel):
    """A ``server.json`` document to register (or update) and publish."""

    text: str = Field(description="The document, as text.", max_length=1_000_000)
    origin: str = Field(default="server.json", max_length=500, description="Where it came from.")


class DeprecationBody(BaseModel):
    """Why a service is deprecated and what its users should do instead."""

    message: str = Field(max_length=2000)


class Health(BaseModel):
    """The daemon is up."""

    status: str = "ok"
    version: str
    pid: int


class ErrorDetail(BaseModel):
    """What went wrong: a stable ``code``, a message for people, the offending field."""

    code: str = Field(description="not_found, conflict, invalid, forbidden, unauthorized, …")
    message: str
    field: str | None = Field(description="The path of the offending value, if one is.")
    details: dict[str, Any] | None = Field(
        default=None, description="Data that helps to see what happened, when there is some."
    )


class ErrorBody(BaseModel):
    """Every error response's body."""

    error: ErrorDetail
