"""A key limited to some deployments uses them and reads the catalog, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.users import KeyCreate, Role, UserCreate
from tests.api.conftest import Api
from tests.api.live import auth, error_of, example_url
from tests.deploy.catalogs import process_version, publish

# What a scoped key may reach: its deployments (and their live figures), catalog reads
# (prices among them), its deployments' usage, /me.
OPTED_IN = {
    ("get", "/api/v1/me"),
    ("get", "/api/v1/me/services"),
    ("get", "/api/v1/services"),
    ("get", "/api/v1/services/{name}"),
    ("get", "/api/v1/services/{name}/export"),
    ("get", "/api/v1/services/{name}/runnability"),
    ("get", "/api/v1/services/{name}/reviews"),
    ("get", "/api/v1/categories"),
    ("get", "/api/v1/tags"),
    ("get", "/api/v1/featured"),
    ("get", "/api/v1/billing/prices/{name}"),
    ("get", "/api/v1/billing/usage"),
    ("get", "/api/v1/logs"),
    ("get", "/api/v1/logs/export"),
    ("get", "/api/v1/deployments"),
    ("get", "/api/v1/deployments/{name}"),
    ("get", "/api/v1/deployments/{name}/drift"),
    ("post", "/api/v1/deployments/{name}/drift/approve"),
    ("put", "/api/v1/deployments/{name}/drift/policy"),
    ("delete", "/api/v1/deployments/{name}"),
    ("post", "/api/v1/deployments/{name}/scale"),
    ("post", "/api/v1/deployments/{name}/update"),
    ("post", "/api/v1/deployments/{name}/configure"),
    ("post", "/api/v1/deployments/{name}/rollback"),
    ("post", "/api/v1/deployments/{name}/stop"),
    ("post", "/api/v1/deployments/{name}/start"),
    ("put", "/api/v1/deployments/{name}/autoscale"),
    ("get", "/api/v1/deployments/{name}/history"),
    ("get", "/api/v1/deployments/{name}/logs"),
    ("get", "/api/v1/deployments/{name}/metrics"),
    ("get", "/api/v1/deployments/{name}/metrics/history"),
    ("get", "/api/v1/deployments/{name}/sessions"),
    ("delete", "/api/v1/deployments/{name}/sessions/{session_id}"),
    ("post", "/api/v1/deployments/{name}/sessions/{session_id}/drain"),
    ("get", "/api/v1/deployments/{name}/inspect"),
    ("get", "/api/v1/deployments/{name}/definitions"),
    ("post", "/api/v1/deployments/{name}/tools/call"),
}
PUBLIC = {("get", "/api/v1/health")}
SCOPE_REFUSAL = "limited to some deployments"


@dataclass
class Agent:
    """The owner of two deployments and an agent's key limited to one of them."""

    owner: dict[str, str]
    agent: dict[str, str]


@pytest.fixture
async def agent(api: Api) -> Agent:
    await publish(api.runtime, "calc", process_version("1.0.0"))
    created = await api.runtime.users.create_user(None, UserCreate(name="olga", role=Role.USER))
    owner = await api.runtime.users.authenticate(created.api_key)
    for name in ("calc", "other"):
        await api.runtime.deployments.create(
            owner, DeploymentCreate(service="calc", name=name, runtime=RuntimeChoice.PROCESS)
        )
    scoped = await api.runtime.keys.create(owner, KeyCreate(name="agent", deployments=["calc"]))
    return Agent(auth(created.api_key), auth(scoped.api_key))


async def test_every_route_but_the_opted_in_refuses_a_scoped_key_saying_why(
    api: Api, agent: Agent
) -> None:
    document = (await api.http.get("/api/v1/openapi.json")).json()
    operations = {(m, p) for p, item in document["paths"].items() for m in item} - PUBLIC
    assert operations >= OPTED_IN
    for method, path in sorted(operations):
        url = example_url(path, "calc")
        response = await api.http.request(method.upper(), url, json={}, headers=agent.agent)
        refused = response.status_code == 403 and SCOPE_REFUSAL in response.text
        assert refused == ((method, path) not in OPTED_IN), (method, path, response.text)
        if refused:
            assert error_of(response)["code"] == "forbidden"


async def test_a_scoped_key_changes_nothing_it_is_refused(api: Api, agent: Agent) -> None:
    refused = [
        ("POST", "/api/v1/teams", {"name": "agents"}),
        ("POST", "/api/v1/keys", {"name": "wider"}),
        ("POST", "/api/v1/keys/agent/revoke", None),
        ("POST", "/api/v1/deployments/calc/shares", {"user": "admin"}),
        ("POST", "/api/v1/deployments", {"service": "calc", "name": "third"}),
        ("POST", "/api/v1/services", {"name": "sneaky", "description": "not mine"}),
    ]
    for method, url, body in refused:
        response = await api.http.request(method, url, json=body, headers=agent.agent)
        assert response.status_code == 403, (url, response.text)
        assert SCOPE_REFUSAL in error_of(response)["message"]

    teams = (await api.http.get("/api/v1/teams", headers=api.admin)).json()
    assert teams == []
    keys = (await api.http.get("/api/v1/keys", headers=agent.owner)).json()
    assert [(k["name"], k["state"]) for k in keys] == [("agent", "active"), ("initial", "active")]
    listed = (await api.http.get("/api/v1/deployments", headers=agent.owner)).json()
    assert sorted(d["name"] for d in listed) == ["calc", "other"]
    calc = (await api.http.get("/api/v1/deployments/calc", headers=agent.owner)).json()
    assert calc["shares"] == []
    missing = await api.http.get("/api/v1/services/sneaky", headers=api.admin)
    assert missing.status_code == 404


async def test_a_scoped_key_reaches_its_deployment_only(api: Api, agent: Agent) -> None:
    me = (await api.http.get("/api/v1/me", headers=agent.agent)).json()
    assert me["name"] == "olga"
    assert me["scope"] is not None
    listed = (await api.http.get("/api/v1/deployments", headers=agent.agent)).json()
    assert [(d["name"], d["address"]) for d in listed] == [("calc", "calc")]
    scaled = await api.http.post(
        "/api/v1/deployments/calc/scale", json={"replicas": 0}, headers=agent.agent
    )
    assert (scaled.status_code, scaled.json()["replicas"]) == (200, 0)
    other = await api.http.get("/api/v1/deployments/other", headers=agent.agent)
    assert other.status_code == 404
    assert error_of(other)["field"] == "name"
    search = await api.http.get("/api/v1/services", params={"q": "calc"}, headers=agent.agent)
    assert [s["name"] for s in search.json()["items"]] == ["calc"]
