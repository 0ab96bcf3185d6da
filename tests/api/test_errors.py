"""Errors travel as ``{"error": {code, message, field}}`` with their status, and back again."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.errors import (
    ERRORS_BY_CODE,
    ConsoleError,
    Invalid,
    NotFound,
    Unavailable,
)
from mcp_console.schemas.users import Role
from tests.api.conftest import Api
from tests.api.live import error_of
from tests.contract.documents import server_json


async def test_domain_errors_have_their_status_and_body(api: Api) -> None:
    author = await api.user("alice", Role.AUTHOR)
    reader = await api.user("bob", Role.USER)
    new = {"name": "io.github.acme/weather", "description": "Forecasts"}

    missing = await api.http.get("/api/v1/services/io.github.acme/nothing", headers=author)
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"

    assert (await api.http.post("/api/v1/services", json=new, headers=author)).status_code == 201
    duplicate = await api.http.post("/api/v1/services", json=new, headers=author)
    assert duplicate.status_code == 409
    assert error_of(duplicate) | {"message": ""} == {
        "code": "conflict",
        "message": "",
        "field": "name",
    }

    forbidden = await api.http.post(
        "/api/v1/services", json={"name": "io.github.bob/tool"}, headers=reader
    )
    assert forbidden.status_code == 403
    assert error_of(forbidden)["code"] == "forbidden"

    unknown_filter = await api.http.get(
        "/api/v1/services", params={"q": "colour:blue"}, headers=reader
    )
    assert unknown_filter.status_code == 422
    assert error_of(unknown_filter)["code"] == "invalid"
    assert "colour" in error_of(unknown_filter)["message"]

    bad_document = await api.http.post(
        "/api/v1/catalog/publish", json={"text": '{"name": 1}', "origin": "a.json"}, headers=author
    )
    assert bad_document.status_code == 422
    assert error_of(bad_document)["message"].startswith("a.json: name")


@pytest.mark.parametrize("code", sorted(ERRORS_BY_CODE))
async def test_each_error_type_round_trips_to_the_same_class(
    app: FastAPI, api: Api, code: str
) -> None:
    cls = ERRORS_BY_CODE[code]

    async def fail() -> None:
        raise cls(f"a {code} error", field="some.field")

    # Appended after the app's own routes, so nothing else answers this path.
    app.add_api_route(f"/api/v1/test-errors/{code}", fail, methods=["GET"])
    response = await api.http.get(f"/api/v1/test-errors/{code}")
    assert response.status_code == cls.http_status
    assert error_of(response) == {"code": code, "message": f"a {code} error", "field": "some.field"}

    async with RemoteClient(api.live.url, api.admin_token) as client:
        with pytest.raises(cls) as raised:
            await client._call("GET", f"/test-errors/{code}")
    assert type(raised.value) is cls
    assert (raised.value.message, raised.value.field) == (f"a {code} error", "some.field")


async def test_an_unexpected_failure_is_a_500_with_the_same_body(app: FastAPI, api: Api) -> None:
    async def crash() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/v1/test-crash", crash, methods=["GET"])
    response = await api.http.get("/api/v1/test-crash")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "error"
    assert "boom" not in error["message"]
    async with RemoteClient(api.live.url, api.admin_token) as client:
        with pytest.raises(ConsoleError, match="internal error"):
            await client._call("GET", "/test-crash")


async def test_unknown_routes_use_the_error_body(api: Api) -> None:
    response = await api.http.get("/api/v1/no-such-thing", headers=api.admin)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


async def test_an_unreachable_daemon_is_unavailable(api: Api) -> None:
    url = api.live.url
    await api.live.stop()
    async with RemoteClient(url, api.admin_token) as client:
        with pytest.raises(Unavailable, match=f"cannot reach the daemon at {url}"):
            await client.whoami()


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/services/io.github.acme/weather/reviews", {"rating": 9}, "rating"),
        ("POST", "/api/v1/services", {"description": "no name"}, "name"),
        ("POST", "/api/v1/services", {"name": "bad name!"}, "name"),
        ("POST", "/api/v1/catalog/import", [{"origin": "a.json"}], "0.text"),
        ("POST", "/api/v1/users", {"name": "x", "role": "overlord"}, "role"),
        ("GET", "/api/v1/services?page=first", None, "page"),
        ("GET", "/api/v1/tags?limit=0", None, "limit"),
    ],
)
async def test_a_malformed_request_is_422_naming_the_field(
    api: Api, method: str, path: str, body: object, field: str
) -> None:
    response = await api.http.request(method, path, json=body, headers=api.admin)
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid", field)
    assert error["message"].startswith(f"{field}: ")


async def test_a_body_that_is_not_json_is_422_naming_the_body(api: Api) -> None:
    response = await api.http.post(
        "/api/v1/services",
        content=b"{not json",
        headers={**api.admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert error_of(response)["field"] == "body"


async def test_remote_client_raises_invalid_with_the_field(api: Api) -> None:
    text = server_json("io.github.acme/notes")
    async with RemoteClient(api.live.url, api.admin_token) as client:
        await client.publish_server_json(text)
        with pytest.raises(Invalid) as error:
            await client.search_services("", page=0)
        assert error.value.field == "page"
        with pytest.raises(NotFound):
            await client.list_reviews("io.github.acme/missing")
