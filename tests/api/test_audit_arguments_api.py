"""A deployment's audit policy for tool-call arguments through the API: set, changed, refused."""

from __future__ import annotations

import pytest

from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.audit import AuditArguments
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Invalid
from tests.api.conftest import Api
from tests.api.live import auth, error_of
from tests.deploy.catalogs import process_version, publish

NEW = {"service": "svc", "name": "web", "runtime": "process"}


async def test_the_policy_is_set_at_creation_and_changed_without_a_rollout(api: Api) -> None:
    await publish(api.runtime, "svc", process_version("1.0.0"))
    async with RemoteClient(api.live.url, api.admin_token) as client:
        created = await client.create_deployment(
            DeploymentCreate(
                service="svc",
                name="web",
                runtime=RuntimeChoice.PROCESS,
                audit_arguments=AuditArguments.REDACTED,
            )
        )
        changed = await client.update_deployment("web", audit_arguments=AuditArguments.NONE)
        shown = await client.get_deployment("web")
        plain = await client.create_deployment(
            DeploymentCreate(service="svc", name="plain", runtime=RuntimeChoice.PROCESS)
        )

    assert created.audit_arguments is AuditArguments.REDACTED
    assert changed.audit_arguments is AuditArguments.NONE
    assert shown.audit_arguments is AuditArguments.NONE
    assert (changed.version, changed.target_version) == ("1.0.0", None)
    assert plain.audit_arguments is AuditArguments.DIGEST


@pytest.mark.parametrize("value", ["bogus", "", 3, "DIGEST "])
async def test_a_bad_policy_is_refused_naming_the_field(api: Api, value: object) -> None:
    await publish(api.runtime, "svc", process_version("1.0.0"))
    created = await api.http.post(
        "/api/v1/deployments", json={**NEW, "audit_arguments": value}, headers=api.admin
    )
    made = await api.http.post("/api/v1/deployments", json=NEW, headers=api.admin)
    updated = await api.http.post(
        "/api/v1/deployments/web/update", json={"audit_arguments": value}, headers=api.admin
    )

    for refused in (created, updated):
        assert refused.status_code == 422
        error = error_of(refused)
        assert error["field"] == "audit_arguments"
        assert "'digest', 'redacted' or 'none'" in error["message"]
    assert made.status_code == 201
    async with RemoteClient(api.live.url, api.admin_token) as client:
        with pytest.raises(Invalid) as remote:
            await client.update_deployment("web", audit_arguments=value)  # type: ignore[arg-type]
        unchanged = await client.get_deployment("web")
    assert remote.value.field == "audit_arguments"
    assert unchanged.audit_arguments is AuditArguments.DIGEST


async def test_an_update_that_changes_nothing_is_refused(api: Api) -> None:
    await publish(api.runtime, "svc", process_version("1.0.0"))
    await api.http.post("/api/v1/deployments", json=NEW, headers=api.admin)

    refused = await api.http.post(
        "/api/v1/deployments/web/update", json={}, headers=auth(api.admin_token)
    )

    assert refused.status_code == 422
    error = error_of(refused)
    assert error["field"] == "version"
    assert "audit_arguments" in error["message"]
