"""One secret rule from both sides: what the console masks is stored encrypted, and the reverse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from textual.app import App, ComposeResult
from textual.widgets import Input

from mcp_console.backend.db.models import DeploymentSecret, ServiceDeployment
from mcp_console.backend.deploy.config import resolve_config, secret_fields
from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.catalog import CatalogDocument, CatalogFormat
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Invalid
from mcp_console.widgets.config_form import ConfigForm
from mcp_console.widgets.schema_view import schema_fields
from tests.deploy.catalogs import process_version, publish

# Every way a field may be marked secret, and fields that look close but are not.
MARKED: dict[str, dict[str, Any]] = {
    "x_secret": {"type": "string", "x-secret": True},
    "x_secret_yes": {"type": "string", "x-secret": "yes"},
    "write_only": {"type": "string", "writeOnly": True},
    "password": {"type": "string", "format": "password"},
}
PLAIN: dict[str, dict[str, Any]] = {
    "region": {"type": "string"},
    "x_secret_no": {"type": "string", "x-secret": "no"},
    "email": {"type": "string", "format": "email"},
}
SERVER_JSON = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": "io.github.acme/vault",
    "description": "Keeps things",
    "version": "1.0.0",
    "packages": [
        {
            "registryType": "oci",
            "identifier": "ghcr.io/acme/vault:1.0.0",
            "transport": {"type": "stdio"},
            "environmentVariables": [
                {"name": "VAULT_TOKEN", "isSecret": True, "isRequired": True},
                {"name": "ACME_API_KEY"},  # a credential by its name alone
                {"name": "VAULT_REGION", "default": "eu"},
            ],
        }
    ],
}
DOCKER_ENTRY = """\
name: keeper
image: mcp/keeper:1.0.0
type: server
about:
  title: Keeper
  description: Keeps things too
config:
  secrets:
    - name: keeper.password
      env: KEEPER_PASSWORD
  env:
    - name: KEEPER_MODE
      value: "{{keeper.mode}}"
  parameters:
    type: object
    properties:
      mode:
        type: string
"""


class FormApp(App[None]):
    """The console's configuration form, alone."""

    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__()
        self.schema = schema

    def compose(self) -> ComposeResult:
        yield ConfigForm(self.schema)


def _masked(form: ConfigForm) -> set[str]:
    """The fields the form masks as they are typed."""
    return {
        field.key
        for field in form.fields
        if isinstance(widget := form.query_one(f"#{field.widget_id}"), Input) and widget.password
    }


async def test_fields_the_console_masks_are_stored_encrypted_by_the_backend(
    runtime: Runtime,
) -> None:
    schema = {"type": "object", "properties": {**MARKED, **PLAIN}}
    admin = await publish(runtime, "vault", process_version("1.0.0", schema=schema))
    typed = {key: f"typed-into-{key}-7c1e" for key in schema["properties"]}
    typed["email"] = "ops@example.com"

    app = FormApp(schema)
    async with app.run_test() as pilot:
        form = app.query_one(ConfigForm)
        assert _masked(form) == set(MARKED)
        for field in form.fields:
            form.query_one(f"#{field.widget_id}", Input).value = typed[field.key]
        await pilot.pause()
        config, secrets, problems = form.collect()
    assert problems == []
    assert set(secrets) == set(MARKED)

    detail = await runtime.deployments.create(
        admin,
        DeploymentCreate(
            service="vault",
            name="vault",
            config=config,
            secrets=secrets,
            runtime=RuntimeChoice.PROCESS,
        ),
    )
    assert detail.secret_names == sorted(MARKED)
    assert {key: detail.config[key] for key in MARKED} == dict.fromkeys(MARKED, MASK)
    assert {key: detail.config[key] for key in PLAIN} == {key: typed[key] for key in PLAIN}
    async with runtime.sessions() as session:
        rows = list(await session.scalars(select(DeploymentSecret)))
        [deployment] = list(await session.scalars(select(ServiceDeployment)))
    assert {row.name for row in rows} == set(MARKED)
    for key in MARKED:
        assert typed[key] not in json.dumps(deployment.config)
        assert all(typed[key] not in row.ciphertext for row in rows)
    # Given as a plain value, a marked field is refused rather than stored in clear.
    with pytest.raises(Invalid, match="is a secret") as refused:
        resolve_config(schema, {"x_secret_yes": "in-clear"}, {})
    assert refused.value.field == "config.x_secret_yes"


async def test_fields_the_backend_keeps_secret_are_masked_in_the_console(
    runtime: Runtime,
) -> None:
    admin = runtime.local_admin
    assert admin is not None
    report = await runtime.catalog.import_documents(
        admin,
        [
            CatalogDocument(
                origin="vault.json", text=json.dumps(SERVER_JSON), format=CatalogFormat.SERVER_JSON
            ),
            CatalogDocument(
                origin="servers/keeper/server.yaml",
                text=DOCKER_ENTRY,
                format=CatalogFormat.DOCKER_CATALOG,
            ),
        ],
    )
    assert report.problems == []
    expected = {
        "io.github.acme/vault": {"VAULT_TOKEN", "ACME_API_KEY"},
        "keeper": {"KEEPER_PASSWORD"},
    }
    for name, secret in expected.items():
        schema = (await runtime.catalog.get_service(admin, name)).versions[0].config_schema
        assert secret_fields(schema) == secret
        for key in schema["properties"]:
            try:
                resolve_config(schema, {key: "in-clear"}, {})
            except Invalid as error:
                refused = "is a secret" in error.message
            else:
                refused = False
            assert refused is (key in secret), key

        app = FormApp(schema)
        async with app.run_test():
            form = app.query_one(ConfigForm)
            assert _masked(form) == secret
            assert {f.key for f in form.fields if f.secret} == secret
        assert {f.name for f in schema_fields(schema) if f.secret} == secret
