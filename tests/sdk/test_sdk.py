"""The SDK: both consoles offer the same methods, page through listings, bound each call's
time and say whether a daemon could not be reached or did not answer."""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from mcp_console.schemas.audit import AuditQuery
from mcp_console.sdk import (
    AsyncConsole,
    Console,
    ConsoleError,
    Invalid,
    NotFound,
    TimedOut,
    Unavailable,
    Unreachable,
)
from mcp_console.sdk.reference import main, public_methods, render, summary
from tests.api.conftest import Api

SERVICES = 7


def _names(cls: type) -> set[str]:
    return {name for name, _method in public_methods(cls)}


def test_the_blocking_console_has_every_method_of_the_async_one() -> None:
    async_only = {"aclose"}  # its blocking twin is ``close``
    missing = _names(AsyncConsole) - async_only - _names(Console)
    # A method added to RemoteClient (or AsyncConsole) needs its line in ``Console``.
    assert not missing, [f"{name} = blocking(AsyncConsole.{name})" for name in sorted(missing)]
    assert _names(Console) - {"close"} <= _names(AsyncConsole)
    for name in _names(Console) - {"close", "with_timeout", "events"}:
        method = getattr(Console, name)
        assert not inspect.iscoroutinefunction(method), name
        assert inspect.signature(method).parameters.keys() == (
            inspect.signature(getattr(AsyncConsole, name)).parameters.keys()
        ), name


def test_the_reference_has_every_public_method_with_its_summary(tmp_path: Path) -> None:
    main(["--out", str(tmp_path / "docs")])
    written = (tmp_path / "docs" / "sdk.md").read_text(encoding="utf-8")
    assert written == render()
    for cls, prefix in ((Console, ""), (AsyncConsole, "async ")):
        section = written.split(f"\n## {cls.__name__}\n", 1)[1].split("\n## ", 1)[0]
        for name, method in public_methods(cls):
            lines = [line for line in section.splitlines() if line.startswith(f"- `{name}(")]
            lines += [
                line for line in section.splitlines() if line.startswith(f"- `{prefix}{name}(")
            ]
            assert lines, (cls.__name__, name)
            assert summary(name, method), (cls.__name__, name)
            assert lines[0].endswith(summary(name, method)), lines[0]
    assert (
        "- `search_services(query: str, *, page: int = 1, page_size: int = 50) -> SearchPage`"
        in (written)
    )
    assert "- `async search_services(query: str" in written
    assert (
        "- `iter_services(query: str = '', *, page_size: int = 50) -> Iterator[ServiceView]`"
        in (written)
    )


@pytest_asyncio.fixture
async def console(api: Api) -> AsyncIterator[AsyncConsole]:
    """An AsyncConsole of the served API, acting as the admin, with a few services."""
    async with AsyncConsole(api.live.url, api.admin_token) as console:
        for number in range(SERVICES):
            document = {
                "name": f"io.github.acme/pager-{number}",
                "description": "A service to page through",
                "version": "1.0.0",
                "_meta": {"io.mcp-console/catalog": {"command": ["pager"]}},
            }
            await console.publish_server_json(json.dumps(document))
        yield console


async def test_paging_gives_every_item_once_in_order(console: AsyncConsole) -> None:
    whole = await console.search_services("pager", page_size=50)
    assert whole.total == SERVICES
    paged = [s.name async for s in console.iter_services("pager", page_size=3)]
    assert paged == [s.name for s in whole.items]

    # The trail records the publications from the event bus, a moment after they happen.
    async with asyncio.timeout(10):
        while len(trail := await console.audit_events(AuditQuery(kind="catalog"))) < SERVICES:
            await asyncio.sleep(0.05)
    walked = [e.id async for e in console.iter_audit_events(AuditQuery(kind="catalog", limit=2))]
    assert walked == [e.id for e in trail]


async def test_the_blocking_console_pages_and_raises_the_same(api: Api) -> None:
    def work() -> tuple[list[str], str]:
        with Console(api.live.url, api.admin_token) as blocking:
            names = [s.name for s in blocking.iter_services("")]
            with pytest.raises(NotFound) as missing:
                blocking.get_deployment("no-such")
            return names, missing.value.message

    names, message = await asyncio.to_thread(work)
    assert names == []
    assert message == "no deployment named 'no-such'"


@pytest_asyncio.fixture
async def silent_url() -> AsyncIterator[str]:
    """A loopback server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_a_call_that_gets_no_answer_times_out(silent_url: str) -> None:
    async with AsyncConsole(silent_url, "key", timeout=0.3) as quick:
        with pytest.raises(TimedOut) as caught:
            await quick.whoami()
    assert isinstance(caught.value, Unavailable)
    assert silent_url in caught.value.message
    # A per-call bound on a patient console: the shorter one applies.
    async with AsyncConsole(silent_url, "key", timeout=60) as patient:
        with pytest.raises(TimedOut):
            await asyncio.wait_for(patient.with_timeout(0.3).whoami(), 30)

    def blocking() -> ConsoleError:
        with Console(silent_url, "key", timeout=0.3) as console, pytest.raises(TimedOut) as err:
            console.list_deployments()
        return err.value

    assert isinstance(await asyncio.to_thread(blocking), TimedOut)


async def test_a_daemon_that_is_not_there_is_unreachable() -> None:
    url = _closed_port_url()
    async with AsyncConsole(url, "key") as console:
        with pytest.raises(Unreachable) as caught:
            await console.list_deployments()
    assert f"cannot reach the daemon at {url}" in caught.value.message
    assert isinstance(caught.value, Unavailable)


def test_a_timeout_must_be_positive_and_settings_go_without_a_url() -> None:
    with pytest.raises(Invalid) as caught:
        AsyncConsole("http://127.0.0.1:1", "key", timeout=0)
    assert caught.value.field == "timeout"
    with Console("http://127.0.0.1:1", "key") as console, pytest.raises(Invalid):
        console.with_timeout(-1)
