"""DeploymentService on both databases: validation, names, history, secrets at rest.

No controller runs here (a short-lived backend only records desired state), so these tests
check what is written and refused, not what runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mcp_console.backend.db.models import DeploymentSecret, ServiceDeployment
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, DesiredState, RuntimeChoice
from mcp_console.schemas.errors import Conflict, Invalid, NotFound
from mcp_console.schemas.users import Role
from tests.backend.factories import make_user

from .catalogs import SECRET_SCHEMA, image_version, process_version, publish

TOKEN = "tok-7f3a9c1e-never-shown"


def create(name: str = "web", **fields: object) -> DeploymentCreate:
    values: dict[str, object] = {
        "service": "demo",
        "version": "1.0.0",
        "name": name,
        "secrets": {"api_token": TOKEN},
        "runtime": RuntimeChoice.PROCESS,
    }
    values.update(fields)
    return DeploymentCreate.model_validate(values)


@pytest.fixture
async def demo(runtime: Runtime) -> Runtime:
    await publish(
        runtime,
        "demo",
        process_version("1.0.0", schema=SECRET_SCHEMA),
        process_version("1.1.0", schema=SECRET_SCHEMA),
        image_version("mcp-console/example-server:0.1.0", "2.0.0", schema=SECRET_SCHEMA),
    )
    return runtime


async def _deployment_rows(runtime: Runtime) -> list[ServiceDeployment]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(ServiceDeployment)))


async def test_create_records_the_deployment_its_history_and_a_download(demo: Runtime) -> None:
    admin = demo.local_admin
    assert admin is not None
    detail = await demo.deployments.create(
        admin, create(version="1.0.0", config={"workers": "4"}, replicas=2)
    )

    assert detail.status == "DEPLOYING"
    assert detail.desired_state is DesiredState.RUNNING
    assert (detail.version, detail.replicas, detail.driver) == ("1.0.0", 2, "process")
    # Defaults applied, text coerced to the declared type, the secret shown masked.
    assert detail.config["region"] == "eu"
    assert detail.config["workers"] == 4
    assert detail.config["api_token"] != TOKEN
    assert detail.secret_names == ["api_token"]
    [entry] = await demo.deployments.history(admin, "web")
    assert (entry.actor, entry.action, entry.automatic) == ("admin", "create", False)
    assert entry.changes["version"] == "1.0.0"
    assert entry.changes["secrets"] == ["api_token"]
    assert TOKEN not in repr(entry)
    service = await demo.catalog.get_service(admin, "demo")
    assert service.downloads_count == 1


async def test_invalid_config_names_the_field_and_writes_nothing(demo: Runtime) -> None:
    admin = demo.local_admin
    assert admin is not None

    with pytest.raises(Invalid) as bad_enum:
        await demo.deployments.create(admin, create(config={"region": "mars"}))
    with pytest.raises(Invalid) as missing_secret:
        await demo.deployments.create(admin, create(secrets={}))
    with pytest.raises(Invalid) as secret_as_value:
        await demo.deployments.create(admin, create(config={"api_token": TOKEN}, secrets={}))
    with pytest.raises(Invalid) as bad_policy:
        await demo.deployments.create(admin, create(autoscale={"min_replicas": 1}))

    assert bad_enum.value.field == "config.region"
    assert "eu" in bad_enum.value.message
    assert missing_secret.value.field == "config.api_token"
    assert secret_as_value.value.field == "config.api_token"
    assert TOKEN not in secret_as_value.value.message
    assert bad_policy.value.field == "autoscale.max_replicas"
    assert await _deployment_rows(demo) == []


async def test_unknown_service_version_or_runtime_are_refused_with_the_field(
    demo: Runtime,
) -> None:
    admin = demo.local_admin
    assert admin is not None

    with pytest.raises(NotFound) as no_service:
        await demo.deployments.create(admin, create(service="nope"))
    with pytest.raises(Invalid) as image_as_process:
        await demo.deployments.create(admin, create(version=None))
    with pytest.raises(NotFound) as no_version:
        await demo.deployments.create(admin, create(version="9.9.9"))

    assert no_service.value.field == "service"
    assert no_version.value.field == "version"
    assert image_as_process.value.field == "runtime"
    assert "docker" in image_as_process.value.message


async def test_system_packages_missing_here_refuse_the_process_runtime_and_write_nothing(
    runtime: Runtime,
) -> None:
    needy = process_version("1.0.0").model_copy(
        update={"system_packages": ["mcp-console-no-such-tool"]}
    )
    admin = await publish(runtime, "needy", needy)

    with pytest.raises(Invalid) as caught:
        await runtime.deployments.create(
            admin, DeploymentCreate(service="needy", name="needy", runtime=RuntimeChoice.PROCESS)
        )

    assert caught.value.field == "runtime"
    assert "needs the system package mcp-console-no-such-tool, missing on this machine" in (
        caught.value.message
    )
    assert await _deployment_rows(runtime) == []


async def test_names_are_unique_per_user_and_private_to_their_owner(demo: Runtime) -> None:
    admin = demo.local_admin
    assert admin is not None
    alice = await make_user(demo, "alice", Role.USER)
    await demo.deployments.create(admin, create())

    with pytest.raises(Conflict) as taken:
        await demo.deployments.create(admin, create())
    theirs = await demo.deployments.create(alice, create())

    assert taken.value.field == "name"
    assert theirs.owner == "alice"
    assert [d.name for d in await demo.deployments.list_deployments(alice)] == ["web"]
    assert len(await demo.deployments.list_deployments(admin)) == 2
    assert (await demo.deployments.get(admin, "alice/web")).owner == "alice"
    with pytest.raises(NotFound):
        await demo.deployments.get(alice, "admin/web")


async def test_every_change_is_in_the_history_with_who_and_what(demo: Runtime) -> None:
    admin = demo.local_admin
    assert admin is not None
    await demo.deployments.create(admin, create(version="1.0.0"))

    await demo.deployments.scale(admin, "web", 3)
    await demo.deployments.update(admin, "web", "1.1.0")
    rolling = await demo.deployments.get(admin, "web")
    await demo.deployments.rollback(admin, "web")  # cancels the update in progress
    await demo.deployments.stop(admin, "web")
    await demo.deployments.start(admin, "web")
    with pytest.raises(Invalid) as no_previous:
        await demo.deployments.rollback(admin, "web")
    with pytest.raises(Invalid) as same_version:
        await demo.deployments.update(admin, "web", "1.0.0")

    assert rolling.target_version == "1.1.0"
    assert rolling.rollout_deadline is not None
    entries = await demo.deployments.history(admin, "web")
    assert [e.action for e in entries] == [
        "start",
        "stop",
        "rollback",
        "update",
        "scale",
        "create",
    ]
    assert entries[4].changes == {"replicas": [1, 3]}
    assert entries[3].changes == {"version": ["1.0.0", "1.1.0"]}
    assert entries[2].changes == {"version": ["1.1.0", "1.0.0"]}
    assert all(e.actor == "admin" and not e.automatic for e in entries)
    assert no_previous.value.field == "version"
    assert same_version.value.field == "version"


async def test_secrets_are_stored_encrypted_only(demo: Runtime, database_url: str) -> None:
    admin = demo.local_admin
    assert admin is not None
    await demo.deployments.create(admin, create())

    async with demo.sessions() as session:
        [row] = list(await session.scalars(select(DeploymentSecret)))
        [deployment] = list(await session.scalars(select(ServiceDeployment)))
    assert row.name == "api_token"
    assert TOKEN not in row.ciphertext
    assert TOKEN not in str(deployment.config)
    if database_url.startswith("sqlite"):
        database = Path(database_url.split("///", 1)[1])
        for path in database.parent.glob(database.name + "*"):
            assert TOKEN.encode() not in path.read_bytes(), path.name


async def test_delete_without_a_controller_keeps_the_name_until_it_is_done(
    demo: Runtime,
) -> None:
    admin = demo.local_admin
    assert admin is not None
    await demo.deployments.create(admin, create())

    await demo.deployments.delete(admin, "web")

    assert await demo.deployments.list_deployments(admin) == []
    with pytest.raises(NotFound):
        await demo.deployments.get(admin, "web")
    with pytest.raises(Conflict) as busy:
        await demo.deployments.create(admin, create())
    assert "being deleted" in busy.value.message
    [row] = await _deployment_rows(demo)
    assert row.desired_state == "DELETED"


async def test_scale_stays_within_the_autoscale_policy(demo: Runtime) -> None:
    admin = demo.local_admin
    assert admin is not None
    policy = {"min_replicas": 2, "max_replicas": 4, "target_inflight": 3}
    detail = await demo.deployments.create(admin, create(replicas=1, autoscale=policy))

    with pytest.raises(Invalid) as outside:
        await demo.deployments.scale(admin, "web", 9)
    off = await demo.deployments.set_autoscale(admin, "web", None)
    scaled = await demo.deployments.scale(admin, "web", 9)

    assert detail.replicas == 2  # brought into the policy's bounds
    assert outside.value.field == "replicas"
    assert off.autoscale is None
    assert scaled.replicas == 9


async def test_updating_a_stopped_deployment_switches_its_version_at_once(demo: Runtime) -> None:
    admin = demo.local_admin
    assert admin is not None
    await demo.deployments.create(admin, create(version="1.0.0"))
    await demo.deployments.stop(admin, "web")

    updated = await demo.deployments.update(admin, "web", "1.1.0")

    assert (updated.version, updated.previous_version, updated.target_version) == (
        "1.1.0",
        "1.0.0",
        None,
    )
    [entry, *_] = await demo.deployments.history(admin, "web")
    assert (entry.action, entry.changes) == ("update", {"version": ["1.0.0", "1.1.0"]})
