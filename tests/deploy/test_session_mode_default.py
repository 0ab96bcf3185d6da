"""A deployment's session mode: what its creator asked, else what the version's author says,
else per-session for a stdio server and shared for one serving HTTP."""

from __future__ import annotations

import json

import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Invalid

from .catalogs import process_version, publish

SERVER_JSON = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": "io.github.acme/stateless",
    "description": "Answers from nothing it remembers",
    "version": "1.0.0",
    "_meta": {
        "io.modelcontextprotocol.registry/publisher-provided": {
            "io.mcp-console/catalog": {
                "command": ["python3", "-m", "stateless"],
                "sessionMode": "shared",
            }
        }
    },
}


@pytest.fixture
async def catalog(runtime: Runtime) -> Runtime:
    stateless = process_version("1.1.0").model_copy(update={"session_mode": "shared"})
    stateful = process_version("1.2.0").model_copy(update={"session_mode": "per-session"})
    await publish(
        runtime,
        "demo",
        process_version("1.0.0"),
        stateless,
        stateful,
        process_version("2.0.0", http=True),
    )
    return runtime


@pytest.mark.parametrize(
    ("version", "asked", "mode"),
    [
        ("1.0.0", None, "per-session"),  # stdio, its author said nothing: stateful
        ("1.1.0", None, "shared"),  # its author says one connection serves everyone
        ("1.2.0", None, "per-session"),
        ("2.0.0", None, "shared"),  # an HTTP server keeps its clients' sessions apart itself
        ("1.0.0", "shared", "shared"),  # the deployment's own choice wins
        ("1.1.0", "per-session", "per-session"),
    ],
)
async def test_the_session_mode_comes_from_the_deployment_then_the_version(
    catalog: Runtime, version: str, asked: str | None, mode: str
) -> None:
    admin = catalog.local_admin
    assert admin is not None
    new = DeploymentCreate(
        service="demo",
        version=version,
        name="web",
        runtime=RuntimeChoice.PROCESS,
        session_mode=asked,
    )
    detail = await catalog.deployments.create(admin, new)
    assert detail.session_mode == mode
    assert (await catalog.deployments.get(admin, "web")).session_mode == mode


async def test_server_json_says_whether_a_server_may_be_shared_and_keeps_saying_it(
    runtime: Runtime,
) -> None:
    admin = runtime.local_admin
    assert admin is not None
    service = await runtime.catalog.publish_document(admin, json.dumps(SERVER_JSON), "test")
    [version] = service.versions
    assert version.session_mode == "shared"
    exported = await runtime.catalog.export(admin, service.name, "1.0.0")
    ours = exported["_meta"]["io.mcp-console/catalog"]
    assert ours["sessionMode"] == "shared"

    wrong = json.loads(json.dumps(SERVER_JSON))
    wrong["version"] = "1.0.1"
    meta = wrong["_meta"]["io.modelcontextprotocol.registry/publisher-provided"]
    meta["io.mcp-console/catalog"]["sessionMode"] = "sometimes"
    with pytest.raises(Invalid) as refused:
        await runtime.catalog.publish_document(admin, json.dumps(wrong), "test")
    assert "sessionMode" in refused.value.message
    assert "per-session" in refused.value.message
