"""Searching the log store: filters, the query grammar, who sees what, and bad queries."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mcp_console.backend.monitor.log_search import LogFilter, parse_text
from mcp_console.backend.monitor.log_store import LogStore, StoredLine
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import ShareCreate
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.logs import LogLevel, LogQuery
from mcp_console.schemas.users import Principal, Role
from tests.backend.factories import make_user
from tests.monitor.log_helpers import seed_logs


@pytest.fixture
async def alice(runtime: Runtime) -> Principal:
    """alice, with two deployments and lines of every kind written straight to the store."""
    return await seed_logs(runtime)


async def _texts(runtime: Runtime, actor: Principal, **query: object) -> list[str]:
    return [line.text for line in await runtime.logs.search(actor, LogQuery(**query))]


async def test_filters_find_what_they_name_newest_first(runtime: Runtime, alice: Principal) -> None:
    assert await _texts(runtime, alice, deployment="web", limit=2) == [
        "INFO request took 120ms",
        "tools/call tool=echo status=200",
    ]
    assert await _texts(runtime, alice, text="CONNECTION reset") == [
        "ERROR connection reset by peer"
    ]
    assert await _texts(runtime, alice, text=r"/took \d+ms$/") == ["INFO request took 120ms"]
    assert await _texts(runtime, alice, text=r"/retry \d of/") == ["WARN retry 3 of 5"]
    assert await _texts(runtime, alice, deployment="web", text="!INFO") == [
        "tools/call tool=echo status=200",
        "WARN retry 3 of 5",
        "ERROR connection reset by peer",
    ]
    assert await _texts(runtime, alice, deployment="web", text="!/^(INFO|WARN|tools)/") == [
        "ERROR connection reset by peer"
    ]
    assert await _texts(runtime, alice, level="error") == [
        "ERROR disk full",
        "ERROR connection reset by peer",
    ]
    assert await _texts(runtime, alice, deployment="db", level="ERROR") == ["ERROR disk full"]
    assert await _texts(runtime, alice, level="warn", since="1h") == [
        "ERROR disk full",
        "WARN retry 3 of 5",
    ]
    assert await _texts(runtime, alice, deployment="web", until="90m") == [
        "ERROR connection reset by peer",
        "INFO old start",
    ]
    assert await _texts(runtime, alice, instance="web-2") == ["WARN retry 3 of 5"]
    # Two characters are below the index's trigrams: still found, by reading the lines.
    assert await _texts(runtime, alice, text="5 ") == []
    assert await _texts(runtime, alice, text="of") == ["WARN retry 3 of 5"]
    [line] = await runtime.logs.search(alice, LogQuery(text="disk"))
    assert (line.deployment, line.instance, line.level) == ("db", "db-1", LogLevel.ERROR)


async def test_a_reader_sees_only_logs_of_deployments_they_operate(
    runtime: Runtime, alice: Principal
) -> None:
    bob = await make_user(runtime, "bob", Role.USER)
    carol = await make_user(runtime, "carol", Role.USER)
    admin = runtime.local_admin
    assert admin is not None
    await runtime.deployments.share(alice, "web", ShareCreate(user="bob", role="operator"))
    await runtime.deployments.share(alice, "db", ShareCreate(user="carol", role="caller"))

    assert await _texts(runtime, bob, text="disk") == []
    assert await _texts(runtime, bob, text="reset") == ["ERROR connection reset by peer"]
    assert len(await _texts(runtime, bob)) == 5
    # A caller may call the tools, not read the logs.
    assert await _texts(runtime, carol) == []
    with pytest.raises(Forbidden):
        await runtime.logs.search(carol, LogQuery(deployment="alice/db"))
    with pytest.raises(NotFound):
        await runtime.logs.search(bob, LogQuery(deployment="alice/db"))
    assert len(await _texts(runtime, admin)) == 6
    [line] = await runtime.logs.search(bob, LogQuery(text="reset"))
    assert line.deployment == "alice/web"


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"text": "/[unclosed/"}, "text", "invalid regex /[unclosed/"),
        ({"level": "loud"}, "level", "unknown log level 'loud'; use one of debug, info"),
        ({"since": "yesterday"}, "since", "'yesterday' is neither a duration"),
        ({"until": "5x"}, "until", "'5x' is neither a duration"),
        ({"since": "1h", "until": "2h"}, "since", "since must be before until"),
        ({"text": "!"}, "text", "after '!'"),
    ],
)
async def test_a_bad_query_is_refused_naming_what_is_wrong(
    runtime: Runtime, alice: Principal, query: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(Invalid) as caught:
        await runtime.logs.search(alice, LogQuery(**query))
    assert caught.value.field == field
    assert words in caught.value.message


def test_a_search_running_too_long_is_stopped_with_advice(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", search_seconds=0.0)
    store.open()
    store.append(
        [StoredLine(time.time(), 1, "i-1", "stderr", 1, f"line {n}") for n in range(50_000)]
    )
    with pytest.raises(Invalid) as caught:
        store.search(LogFilter((1,), text=parse_text(r"/^\d{9}$/")))
    store.close()
    assert caught.value.field == "text"
    assert "narrow it with a deployment, a level, a time range" in caught.value.message
