"""Teams, shares and keys over HTTP: their statuses, and every refusal in the one error shape."""

from __future__ import annotations

from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.users import Role
from tests.api.conftest import Api
from tests.api.live import auth, error_of
from tests.deploy.catalogs import process_version, publish


async def test_teams_answer_with_their_statuses_and_refusals(api: Api) -> None:
    await api.user("ben", Role.USER)
    created = await api.http.post(
        "/api/v1/teams", json={"name": "ops", "description": "on call"}, headers=api.admin
    )
    assert created.status_code == 201
    assert created.json()["members"] == [{"user": "admin", "role": "maintainer"}]
    put = await api.http.put(
        "/api/v1/teams/ops/members/ben", json={"role": "maintainer"}, headers=api.admin
    )
    assert put.status_code == 200
    assert {"user": "ben", "role": "maintainer"} in put.json()["members"]

    refusals = [
        (api.http.post("/api/v1/teams", json={"name": "ops"}, headers=api.admin), 409, "name"),
        (
            api.http.post("/api/v1/teams", json={"name": "two words"}, headers=api.admin),
            422,
            "name",
        ),
        (api.http.get("/api/v1/teams/nope", headers=api.admin), 404, "team"),
        (
            api.http.put(
                "/api/v1/teams/ops/members/ben", json={"role": "owner"}, headers=api.admin
            ),
            422,
            "role",
        ),
        (api.http.delete("/api/v1/teams/ops/members/nobody", headers=api.admin), 404, "user"),
    ]
    for request, status, field in refusals:
        response = await request
        assert response.status_code == status, response.text
        assert error_of(response)["field"] == field

    removed = await api.http.delete("/api/v1/teams/ops/members/ben", headers=api.admin)
    assert [m["user"] for m in removed.json()["members"]] == ["admin"]
    deleted = await api.http.delete("/api/v1/teams/ops", headers=api.admin)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await api.http.get("/api/v1/teams", headers=api.admin)).json() == []


async def test_shares_are_made_and_taken_back_over_http(api: Api) -> None:
    await publish(api.runtime, "calc", process_version("1.0.0"))
    zoe = await api.user("zoe", Role.USER)
    await api.http.post(
        "/api/v1/deployments",
        json=DeploymentCreate(
            service="calc", name="calc", runtime=RuntimeChoice.PROCESS
        ).model_dump(mode="json"),
        headers=api.admin,
    )
    shared = await api.http.post(
        "/api/v1/deployments/calc/shares", json={"user": "zoe"}, headers=api.admin
    )
    assert shared.status_code == 200
    assert [(s["kind"], s["name"], s["role"]) for s in shared.json()["shares"]] == [
        ("user", "zoe", "caller")
    ]
    seen = (await api.http.get("/api/v1/deployments", headers=zoe)).json()
    assert [(d["address"], d["access"]) for d in seen] == [("admin/calc", "caller")]
    scale = await api.http.post(
        "/api/v1/deployments/admin%2Fcalc/scale", json={"replicas": 2}, headers=zoe
    )
    assert scale.status_code == 403
    assert "only its operators, its owner and admins may scale it" in error_of(scale)["message"]

    both = await api.http.delete(
        "/api/v1/deployments/calc/shares", params={"user": "zoe", "team": "ops"}, headers=api.admin
    )
    assert both.status_code == 422
    assert "exactly one" in error_of(both)["message"]
    unshared = await api.http.delete(
        "/api/v1/deployments/calc/shares", params={"user": "zoe"}, headers=api.admin
    )
    assert (unshared.status_code, unshared.json()["shares"]) == (200, [])
    gone = await api.http.get("/api/v1/deployments/admin%2Fcalc", headers=zoe)
    assert gone.status_code == 404


async def test_a_key_is_shown_once_listed_by_prefix_and_refused_once_revoked(api: Api) -> None:
    created = await api.http.post(
        "/api/v1/keys", json={"name": "laptop", "expires_in": "30d"}, headers=api.admin
    )
    assert created.status_code == 201
    secret = created.json()["api_key"]
    key = created.json()["key"]
    assert secret.startswith(key["prefix"])
    assert (key["state"], key["deployments"]) == ("active", None)
    listed = await api.http.get("/api/v1/keys", headers=api.admin)
    assert secret not in listed.text
    assert key["prefix"] in listed.text
    assert (await api.http.get("/api/v1/me", headers=auth(secret))).status_code == 200

    bad = await api.http.post(
        "/api/v1/keys", json={"name": "x", "expires_in": "soon"}, headers=api.admin
    )
    assert (bad.status_code, error_of(bad)["field"]) == (422, "expires")
    revoked = await api.http.post(f"/api/v1/keys/{key['prefix']}/revoke", headers=api.admin)
    assert (revoked.status_code, revoked.json()["state"]) == (200, "revoked")
    refused = await api.http.get("/api/v1/me", headers=auth(secret))
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "unauthorized"
    unknown = await api.http.post("/api/v1/keys/nokey/revoke", headers=api.admin)
    assert (unknown.status_code, error_of(unknown)["field"]) == (404, "key")
