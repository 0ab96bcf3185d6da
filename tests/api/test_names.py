"""Service names contain '/': sent as is or encoded as %2F, they reach the right service."""

from __future__ import annotations

from urllib.parse import quote

from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.users import Role
from tests.api.conftest import Api

WEATHER = "io.github.acme/weather"


async def publish(api: Api, headers: dict[str, str], name: str, path: str) -> None:
    """Register and publish ``name``, addressing it by ``path`` in the URLs."""
    created = await api.http.post("/api/v1/services", json={"name": name}, headers=headers)
    assert created.status_code == 201, created.text
    version = await api.http.post(
        f"/api/v1/services/{path}/versions",
        json={"version": "1.0.0", "docker_image": "x:1"},
        headers=headers,
    )
    assert version.status_code == 201, version.text
    published = await api.http.post(f"/api/v1/services/{path}/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert published.json()["name"] == name


async def test_a_name_with_slashes_works_raw_and_encoded(api: Api) -> None:
    author = await api.user("alice", Role.AUTHOR)
    await publish(api, author, WEATHER, WEATHER)
    for path in (WEATHER, quote(WEATHER, safe="")):
        detail = await api.http.get(f"/api/v1/services/{path}", headers=author)
        assert detail.status_code == 200
        assert detail.json()["name"] == WEATHER
        review = await api.http.post(
            f"/api/v1/services/{path}/reviews", json={"rating": 4}, headers=author
        )
        assert review.status_code == 201
        assert review.json()["service"] == WEATHER
        exported = await api.http.get(f"/api/v1/services/{path}/export", headers=author)
        assert exported.json()["name"] == WEATHER


async def test_a_name_ending_in_an_action_word_is_reached_encoded(api: Api) -> None:
    author = await api.user("alice", Role.AUTHOR)
    await publish(api, author, "io.github.acme/reviews", quote("io.github.acme/reviews", safe=""))

    # Sent raw, the path reads as the reviews of a service called "io.github.acme".
    raw = await api.http.get("/api/v1/services/io.github.acme/reviews", headers=author)
    assert raw.status_code == 404
    assert "'io.github.acme'" in raw.json()["error"]["message"]

    encoded = await api.http.get("/api/v1/services/io.github.acme%2Freviews", headers=author)
    assert encoded.status_code == 200
    assert encoded.json()["name"] == "io.github.acme/reviews"

    async with RemoteClient(api.live.url, api.admin_token) as client:
        detail = await client.get_service("io.github.acme/reviews")
        assert detail.name == "io.github.acme/reviews"
        assert await client.list_reviews("io.github.acme/reviews") == []
