"""GET /api/v1/events streams the backend's events as SSE, with keep-alives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.errors import Unauthorized
from mcp_console.schemas.users import Role
from tests.api.conftest import Api
from tests.api.live import auth, error_of, read_sse
from tests.contract.documents import server_json

WEATHER = "io.github.acme/weather"
WAIT = 10


async def next_event(events: AsyncIterator[tuple[str, Any]]) -> tuple[str, Any]:
    """The next real event, skipping keep-alive comments."""
    while True:
        kind, data = await asyncio.wait_for(anext(events), WAIT)
        if kind != "comment":
            return kind, data


async def test_a_published_service_arrives_as_an_event(api: Api) -> None:
    author = await api.user("alice", Role.AUTHOR)
    reviewer = await api.user("bob", Role.USER)  # made before: a new user is news too
    base = f"/api/v1/services/{WEATHER}"
    await api.http.post("/api/v1/services", json={"name": WEATHER}, headers=author)
    await api.http.post(
        f"{base}/versions", json={"version": "1.0.0", "docker_image": "x:1"}, headers=author
    )
    async with (
        httpx.AsyncClient(base_url=api.live.url, timeout=WAIT) as http,
        http.stream("GET", "/api/v1/events", headers=api.admin) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = read_sse(response.aiter_lines())
        assert await asyncio.wait_for(anext(events), WAIT) == ("comment", "subscribed")

        published = await api.http.post(f"{base}/publish", headers=author)
        assert published.status_code == 200
        assert await next_event(events) == (
            "service.published",
            {"type": "service.published", "service": WEATHER},
        )
        await api.http.post(f"{base}/reviews", json={"rating": 5}, headers=reviewer)
        assert await next_event(events) == (
            "review.added",
            {"type": "review.added", "service": WEATHER},
        )


async def test_an_idle_stream_gets_keep_alive_comments(api: Api) -> None:
    async with api.http.stream("GET", "/api/v1/events", headers=api.admin) as response:
        events = read_sse(response.aiter_lines())
        assert await asyncio.wait_for(anext(events), WAIT) == ("comment", "subscribed")
        assert await asyncio.wait_for(anext(events), WAIT) == ("comment", "keep-alive")
        assert await asyncio.wait_for(anext(events), WAIT) == ("comment", "keep-alive")


async def test_the_stream_needs_a_key(api: Api) -> None:
    response = await api.http.get("/api/v1/events", headers=auth("mcpc_wrong"))
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


async def test_stopping_the_server_ends_the_stream_with_a_last_event(api: Api) -> None:
    async with RemoteClient(api.live.url, api.admin_token) as client, client.events() as stream:
        await client.publish_server_json(server_json("io.github.acme/notes"))
        received = [await asyncio.wait_for(anext(stream), WAIT)]
        stopping = asyncio.create_task(api.live.stop())
        received += [event async for event in stream]
        await asyncio.wait_for(stopping, WAIT)
    assert [e["type"] for e in received] == ["catalog.imported", "daemon.stopping"]


async def test_a_remote_event_stream_needs_a_valid_key(api: Api) -> None:
    async with RemoteClient(api.live.url, "mcpc_wrong") as client:
        with pytest.raises(Unauthorized, match="not valid"):
            async with client.events():
                pass
