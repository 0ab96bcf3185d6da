"""Where a developer tool reaches an MCP server itself: a Streamable HTTP URL or a stdio
command, and the rules that check one."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Sequence
from urllib.parse import urlsplit

from pydantic import Field

from mcp_console.schemas.base import Dto
from mcp_console.schemas.errors import Invalid


class ServerTarget(Dto):
    """An MCP server to open a session with: ``url`` (with ``headers``) or ``command``.

    Attributes:
        label: how messages name it (the URL, the command line, or a deployment's name).
        url: its Streamable HTTP endpoint (either protocol era).
        headers: sent with every HTTP request (a bearer key); never shown.
        command: the program and arguments that start a stdio server.
        legacy: open the session with the initialize handshake (servers that speak only it).
    """

    model_config = Dto.model_config | {"frozen": True}

    label: str
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    command: tuple[str, ...] = ()
    legacy: bool = False


def is_url(target: str) -> bool:
    """Whether ``target`` names a server by URL (else it names a deployment)."""
    return "://" in target


def check_url(url: str) -> str:
    """``url`` if it can name a Streamable HTTP endpoint.

    Raises:
        Invalid: not an http(s) URL with a host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(
            f"{url!r} is not an MCP server's URL: give http(s)://HOST[:PORT]/PATH", field="target"
        )
    return url


def parse_headers(given: Sequence[str]) -> dict[str, str]:
    """``NAME: VALUE`` pairs as headers (a bearer key for an endpoint that asks for one).

    Raises:
        Invalid: one is not ``NAME: VALUE`` (the message shows the name only: values are
            often secrets).
    """
    headers: dict[str, str] = {}
    for item in given:
        name, colon, value = item.partition(":")
        if not colon or not name.strip() or any(c.isspace() for c in name.strip()):
            shown = name.strip().split()[0] if name.strip() else ""
            raise Invalid(
                f"a header is NAME: VALUE (e.g. 'Authorization: Bearer KEY'), not {shown!r}...",
                field="header",
            )
        headers[name.strip()] = value.strip()
    return headers


def url_target(url: str, headers: dict[str, str] | None = None) -> ServerTarget:
    """The server at ``url``.

    Raises:
        Invalid: ``url`` is not an http(s) URL.
    """
    return ServerTarget(label=check_url(url), url=url, headers=dict(headers or {}))


def split_command(line: str) -> tuple[str, ...]:
    """A command line's words, split as a POSIX shell would (quotes, backslashes).

    Raises:
        Invalid: nothing given, or a quote is not closed.
    """
    try:
        words = tuple(shlex.split(line))
    except ValueError as error:
        raise Invalid(f"cannot read the command line: {error}", field="command") from None
    if not words:
        raise Invalid("give the command that starts the server", field="command")
    return words


def check_program(command: Sequence[str]) -> None:
    """Check that ``command`` names a program on PATH (blocking: a look at each folder).

    Raises:
        Invalid: no command, or its program is not found.
    """
    if not command:
        raise Invalid("give the server's command after --", field="command")
    if shutil.which(command[0]) is None:
        raise Invalid(f"{command[0]!r} is not a program found on PATH", field="command")


def command_target(command: Sequence[str]) -> ServerTarget:
    """The stdio server ``command`` starts.

    Raises:
        Invalid: no command, or its program is not found.
    """
    check_program(command)
    return ServerTarget(label=" ".join(command), command=tuple(command))
