"""What every CLI command shares: settings, a short-lived backend, the acting user, output."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import typer
from pydantic import BaseModel

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.errors import (
    ConsoleError,
    Invalid,
    Unauthorized,
    Unavailable,
    revalidated,
)
from mcp_console.schemas.users import Principal
from mcp_console.settings import Settings

# The backend, its database drivers and the HTTP client load inside the functions that use
# them: the console draws its first frame without them.
if TYPE_CHECKING:
    from mcp_console.backend.runtime import Runtime
    from mcp_console.client.remote import RemoteClient

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DAEMON_HEALTH_TIMEOUT = 2.0
# How long a command waits for a daemon or console that is still starting its backend.
HOST_START_TIMEOUT = 30.0
HOST_POLL_SECONDS = 0.2
# A daemon reached through a tunnel may be slow to answer, but not this slow.
REMOTE_CHECK_TIMEOUT = 10.0

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


async def daemon_client(settings: Settings) -> RemoteClient | None:
    """A client of the backend hosted for this data dir, or ``None`` if nothing hosts it.

    The host is the daemon, or a console running its backend embedded: either way there is
    one backend per data dir, and commands go to it. One still starting is waited for. The
    client acts as ``MCP_CONSOLE_API_KEY``'s user when that is set, else as the local admin
    (whose key the host keeps in ``admin.token``).

    Raises:
        Unavailable: a process holds the data dir but its API does not answer.
    """
    from mcp_console.backend.daemon import DaemonFiles, holder_of, read_token

    files = DaemonFiles(settings.data_dir)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HOST_START_TIMEOUT
    while True:
        holder = await asyncio.to_thread(holder_of, files)
        if holder is None:
            return None
        if holder.info is not None:
            # httpx loads only when a backend is there.
            from mcp_console.client.remote import RemoteClient

            token = settings.api_key or await asyncio.to_thread(read_token, files)
            client = RemoteClient(holder.info.url, token)
            try:
                async with asyncio.timeout(DAEMON_HEALTH_TIMEOUT):
                    await client.health()
                return client
            except (Unavailable, TimeoutError):
                await client.aclose()
        if loop.time() > deadline:
            raise Unavailable(
                f"{holder.describe()} holds {settings.data_dir} but does not answer; "
                "wait until it has started, or end it"
            )
        await asyncio.sleep(HOST_POLL_SECONDS)


async def remote_client(url: str, token: str | None) -> RemoteClient:
    """A client of the daemon at ``url`` acting with ``token``, once both are known to work.

    Args:
        url: the daemon's base URL, e.g. ``http://127.0.0.1:8765`` (an SSH tunnel's end).
        token: the API key to act with.

    Raises:
        Invalid: ``url`` is not an http(s) URL.
        Unavailable: no daemon answers at ``url``.
        Unauthorized: the daemon refuses ``token``, or wants one and there is none.
    """
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"give the daemon's http:// or https:// URL, not {url!r}", field="--connect")
    from mcp_console.client.remote import RemoteClient

    client = RemoteClient(url, token)
    try:
        async with asyncio.timeout(REMOTE_CHECK_TIMEOUT):
            try:
                await client.health()
            except Unavailable:
                raise
            except ConsoleError as error:
                raise Unavailable(
                    f"{url} does not answer as an mcp-console daemon ({error.message})"
                ) from None
            try:
                await client.whoami()
            except Unauthorized as error:
                if not token:
                    raise Unauthorized(
                        f"the daemon at {url} wants an API key: give --token or set "
                        "MCP_CONSOLE_API_KEY"
                    ) from None
                raise Unauthorized(
                    f"the daemon at {url} refused the API key ({error.message})"
                ) from None
    except TimeoutError:
        await client.aclose()
        raise Unavailable(
            f"the daemon at {url} did not answer within {REMOTE_CHECK_TIMEOUT:g} s"
        ) from None
    except BaseException:
        await client.aclose()
        raise
    return client


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
