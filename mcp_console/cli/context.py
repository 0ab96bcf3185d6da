"""What every CLI command shares: settings, a short-lived backend, the acting user, output."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from pydantic import BaseModel

from mcp_console.client.host import daemon_client
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.errors import (
    ConsoleError,
    Invalid,
    Unavailable,
    revalidated,
)
from mcp_console.schemas.users import Principal
from mcp_console.settings import Settings

# The backend, its database drivers and the HTTP client load inside the functions that use
# them: the console draws its first frame without them.
if TYPE_CHECKING:
    from mcp_console.backend.runtime import Runtime

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")


def load_settings() -> Settings:
    """Settings from the environment (loaded once per command)."""
    return Settings()


async def acting_user(runtime: Runtime, settings: Settings) -> Principal:
    """The user whose API key is configured, else the local admin."""
    if settings.api_key:
        return await runtime.users.authenticate(settings.api_key)
    if runtime.local_admin is None:
        raise Unavailable("the backend has no local admin")
    return runtime.local_admin


async def _with_client(settings: Settings, action: Callable[[ConsoleClient], Awaitable[T]]) -> T:
    remote = await daemon_client(settings)
    if remote is not None:
        async with remote:
            return await action(remote)
    from mcp_console.backend.runtime import Runtime
    from mcp_console.client.local import LocalClient

    async with Runtime(settings) as runtime:
        return await action(LocalClient(runtime, await acting_user(runtime, settings)))


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn domain errors into a message on stderr and exit status 1."""
    try:
        yield
    except ConsoleError as error:
        where = f" ({error.field})" if error.field else ""
        typer.echo(f"error: {error.message}{where}", err=True)
        raise typer.Exit(1) from None


def run(action: Callable[[ConsoleClient], Awaitable[T]]) -> T:
    """Run ``action`` on the running daemon if one answers, else on an embedded backend."""
    with reported_errors():
        return asyncio.run(_with_client(load_settings(), action))


def validated(model: type[M], **fields: Any) -> M:
    """A request built from command-line values, checked as the API checks a body.

    Raises:
        Invalid: naming the first wrong field.
    """
    return revalidated(model.model_construct(**fields))


def read_decimal(text: str, field: str) -> Decimal:
    """A number typed on the command line, exactly (a price, an amount, a rate).

    Raises:
        Invalid: ``text`` is not a number (``field`` names the option).
    """
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise Invalid(f"{field}: {text!r} is not a number such as 0.002", field=field) from None


def to_jsonable(value: Any) -> Any:
    """DTOs and lists of DTOs as plain JSON data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


def emit(value: Any, as_json: bool, human: Callable[[], None]) -> None:
    """Print ``value`` as JSON, or call ``human`` to print it for people."""
    if as_json:
        sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")
    else:
        human()
