"""Stored secrets: a user's named secret values, listed by name and never shown."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from mcp_console.schemas.base import Dto, RequestBody

SECRET_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"  # noqa: S105  (a pattern, not a secret)
MAX_SECRET_NAME = 200
MAX_SECRET_VALUE = 65_536
# How a CLI option or a spec names a stored secret instead of giving a value.
STORED_PREFIX = "secret:"


class StoredSecretView(Dto):
    """A stored secret as anyone may see it: its name, owner and dates (never its value)."""

    name: str
    owner: str
    created_at: datetime
    updated_at: datetime


class StoredSecretPut(RequestBody):
    """A new value for a stored secret (created when its name is new)."""

    value: str = Field(min_length=1, max_length=MAX_SECRET_VALUE, repr=False)


def split_refs(secrets: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Secrets as given on a command line: values, and ``secret:NAME`` references to stored
    secrets (key → name)."""
    values = {k: v for k, v in secrets.items() if not v.startswith(STORED_PREFIX)}
    refs = {k: v.removeprefix(STORED_PREFIX) for k, v in secrets.items() if k not in values}
    return values, refs
