"""Every route but /health wants a valid bearer API key, and says so in the error body."""

from __future__ import annotations

import os

import pytest

from tests.api.conftest import Api
from tests.api.live import auth, error_of, example_url

PUBLIC = {("get", "/api/v1/health")}


async def test_health_answers_without_a_key(api: Api) -> None:
    response = await api.http.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0", "pid": os.getpid()}


async def test_every_other_route_refuses_a_missing_key(api: Api) -> None:
    document = (await api.http.get("/api/v1/openapi.json")).json()
    operations = [
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if (method, path) not in PUBLIC
    ]
    assert len(operations) >= 20
    for method, path in operations:
        response = await api.http.request(method.upper(), example_url(path), json={})
        assert response.status_code == 401, (method, path, response.text)
        assert error_of(response)["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    ["Bearer mcpc_wrongwrongwrongwrong", "Bearer", "Basic YWRtaW46YWRtaW4=", "mcpc_no_scheme"],
)
async def test_a_wrong_key_is_unauthorized(api: Api, header: str) -> None:
    response = await api.http.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "unauthorized"
    assert "key" in error["message"]


async def test_a_valid_key_acts_as_its_user(api: Api) -> None:
    me = await api.http.get("/api/v1/me", headers=api.admin)
    assert me.status_code == 200
    assert me.json()["name"] == "admin"
    assert me.json()["role"] == "admin"

    created = await api.http.post(
        "/api/v1/users", json={"name": "erin", "role": "author"}, headers=api.admin
    )
    assert created.status_code == 201
    erin = await api.http.get("/api/v1/me", headers=auth(created.json()["api_key"]))
    assert erin.json()["name"] == "erin"
    assert erin.json()["role"] == "author"
