"""The log routes: search, JSON-lines export, live follow over SSE, and refused queries."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator

import pytest

from mcp_console.backend.monitor.log_store import StoredLine
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.logs import LogLevel, LogQuery
from tests.api.conftest import Api
from tests.api.live import auth, error_of
from tests.monitor.log_helpers import seed_logs

WAIT = 10


async def _alice(api: Api) -> str:
    alice = await seed_logs(api.runtime)
    return await api.runtime.users.create_key(alice, alice.name)


async def test_a_remote_client_searches_and_follows_the_kept_lines(api: Api) -> None:
    token = await _alice(api)
    async with RemoteClient(api.live.url, token) as client:
        found = await client.search_logs(LogQuery(text="/reset|full/", level="error"))
        stream = client.follow_logs(LogQuery(deployment="web", text="retry", limit=5))
        assert isinstance(stream, AsyncGenerator)
        first = await asyncio.wait_for(anext(stream), WAIT)
        [line] = await client.search_logs(LogQuery(deployment="web", text="retry"))
        web = line.deployment_id
        await asyncio.to_thread(
            api.runtime.log_collector.store.append,
            [
                StoredLine(time.time(), web, "web-1", "stderr", 1, "INFO not this one"),
                StoredLine(time.time(), web, "web-3", "stderr", 2, "WARN retry 4 of 5"),
            ],
        )
        second = await asyncio.wait_for(anext(stream), WAIT)
        await stream.aclose()

    assert [(x.deployment, x.text) for x in found] == [
        ("db", "ERROR disk full"),
        ("web", "ERROR connection reset by peer"),
    ]
    assert first.text == "WARN retry 3 of 5"
    assert (second.instance, second.level, second.text) == (
        "web-3",
        LogLevel.WARN,
        "WARN retry 4 of 5",
    )


async def test_export_gives_json_lines_oldest_first(api: Api) -> None:
    token = await _alice(api)
    response = await api.http.get(
        "/api/v1/logs/export", params={"deployment": "web"}, headers=auth(token)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(text) for text in response.text.splitlines()]
    assert [line["text"] for line in lines] == [
        "INFO old start",
        "ERROR connection reset by peer",
        "WARN retry 3 of 5",
        "tools/call tool=echo status=200",
        "INFO request took 120ms",
    ]
    assert lines[3]["stream"] == "access"


@pytest.mark.parametrize("path", ["/api/v1/logs", "/api/v1/logs/export", "/api/v1/logs/follow"])
@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"q": "/(unclosed/"}, "text", "invalid regex /(unclosed/"),
        ({"level": "verbose"}, "level", "unknown log level 'verbose'"),
        ({"since": "last week"}, "since", "'last week' is neither a duration"),
        ({"limit": "0"}, "limit", ""),
    ],
)
async def test_a_bad_query_gets_422_naming_the_parameter(
    api: Api, path: str, params: dict[str, str], field: str, words: str
) -> None:
    token = await _alice(api)
    response = await api.http.get(path, params=params, headers=auth(token))
    assert response.status_code == 422
    error = error_of(response)
    assert error["field"].endswith(field)
    assert words in error["message"]


async def test_a_remote_client_gets_the_refusals_as_errors(api: Api) -> None:
    token = await _alice(api)
    async with RemoteClient(api.live.url, token) as client:
        with pytest.raises(Invalid, match="unknown log level 'loud'"):
            await client.search_logs(LogQuery(level="loud"))
        with pytest.raises(NotFound, match="no deployment named 'nope'"):
            await anext(client.follow_logs(LogQuery(deployment="nope")))
