"""Images pulled from a real registry: progress while pulling, the digest recorded, rollbacks
running the digest that ran before after the tag moved, private registries with a login, and
Docker catalog entries and server.json ``oci`` packages deploying this way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import docker
import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import CatalogDocument, CatalogFormat
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, RuntimeChoice
from mcp_console.schemas.registry import RegistryLogin
from mcp_console.settings import ImageSettings, Settings
from tests.conftest import Registries

from ..catalogs import all_healthy, call, image_version, publish, wait_for
from ..registry_images import build_on, on_engine, push, pushed_away, remove, unique_name
from .conftest import in_thread, scope_containers


@pytest.fixture
def live_settings(live_settings: Settings, registries: Registries) -> Settings:
    """Docker Hub names (a Docker catalog's ``mcp/…``) are pulled from the open registry."""
    images = ImageSettings(registry_mirror=registries.open)
    return live_settings.model_copy(update={"images": images})


def deployment(service: str, **fields: Any) -> DeploymentCreate:
    # One shared instance: these tests are about what it runs, not about sessions.
    values = {"service": service, "name": service, "runtime": RuntimeChoice.DOCKER}
    return DeploymentCreate.model_validate({**values, "session_mode": "shared", **fields})


@asynccontextmanager
async def recording(runtime: Runtime) -> AsyncIterator[list[dict[str, Any]]]:
    """Every event published while the block runs."""
    seen: list[dict[str, Any]] = []
    async with runtime.events.subscribe() as queue:

        async def drain() -> None:
            while True:
                seen.append(await queue.get())

        task = asyncio.create_task(drain())
        try:
            yield seen
        finally:
            task.cancel()


def on(version: str) -> Callable[[DeploymentDetail], bool]:
    """All healthy on ``version``, with no rollout under way."""
    return lambda d: all_healthy(d) and d.version == version and d.target_version is None


async def test_an_image_missing_from_the_engine_is_pulled_with_progress_and_its_digest_kept(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    registries: Registries,
    example_image: str,
) -> None:
    reference = f"{registries.open}/{unique_name()}:1.0.0"
    digest, image_id = await in_thread(pushed_away, docker_client, example_image, reference)
    admin = await publish(live_docker, "pulled", image_version(reference, "1.0.0"))
    try:
        async with recording(live_docker) as seen:
            await live_docker.deployments.create(admin, deployment("pulled"))
            detail = await wait_for(live_docker, admin, "pulled", all_healthy)

        pinned = f"{reference.rsplit(':', 1)[0]}@{digest}"
        assert detail.pinned_images == {"1.0.0": pinned}
        [instance] = detail.instances
        assert instance.image == pinned
        result = await call(live_docker, instance, "add", {"a": 2, "b": 3})
        assert result.structured_content == {"result": 5}
        assert on_engine(docker_client, reference)["Id"] == image_id
        pulls = [e for e in seen if e["type"] == "deployment.pull"]
        assert pulls, "no pull progress was published"
        assert pulls[-1]["done"] is True
        assert pulls[-1]["layers_total"] >= 1
        assert pulls[-1]["layers_done"] == pulls[-1]["layers_total"]
        assert pulls[-1]["reason"].startswith(f"pulling {reference}: ")
        history = await live_docker.deployments.history(admin, "pulled")
        pinned_entry = next(e for e in history if e.action == "image-pinned")
        assert pinned_entry.changes["digest"] == pinned
        assert "pulled in" in pinned_entry.reason
    finally:
        await live_docker.deployments.delete(admin, "pulled")
        await in_thread(remove, docker_client, reference, image_id)


async def test_a_rollback_runs_the_digest_that_ran_before_even_after_its_tag_moved(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    docker_scope: str,
    registries: Registries,
    example_image: str,
) -> None:
    repository = f"{registries.open}/{unique_name()}"
    one, two = f"{repository}:one", f"{repository}:two"
    first, first_id = await in_thread(pushed_away, docker_client, example_image, one)
    _, second_id = await in_thread(pushed_away, docker_client, example_image, two)
    admin = await publish(
        live_docker, "moving", image_version(one, "1.0.0"), image_version(two, "2.0.0")
    )
    moved_id = ""
    try:
        await live_docker.deployments.create(admin, deployment("moving", version="1.0.0"))
        await wait_for(live_docker, admin, "moving", on("1.0.0"))
        await live_docker.deployments.update(admin, "moving", "2.0.0")
        await wait_for(live_docker, admin, "moving", on("2.0.0"))
        # The tag the first version names now holds other content, and the engine has
        # neither the old image nor the new one.
        await until_unused(docker_client, docker_scope, first_id)
        moved_id = await in_thread(build_on, docker_client, example_image, one)
        moved = await in_thread(push, docker_client, one)
        assert moved != first
        await in_thread(remove, docker_client, one, moved_id, f"{repository}@{first}", first_id)

        await live_docker.deployments.rollback(admin, "moving")
        detail = await wait_for(live_docker, admin, "moving", on("1.0.0"))

        [instance] = [i for i in detail.instances if i.version == "1.0.0"]
        assert instance.image == f"{repository}@{first}"
        assert detail.pinned_images["1.0.0"] == f"{repository}@{first}"
        [container] = [
            c
            for c in await in_thread(scope_containers, docker_client, docker_scope)
            if c.name == instance.ref
        ]
        assert container.image.id == first_id
        assert on_engine(docker_client, moved_id) is None
    finally:
        await live_docker.deployments.delete(admin, "moving")
        await in_thread(remove, docker_client, one, two, moved_id or one, first_id, second_id)


async def until_unused(client: docker.DockerClient, scope: str, image_id: str) -> None:
    """Wait until no running container of the scope runs ``image_id`` (retired ones stop in
    the background)."""
    for _ in range(300):
        running = await in_thread(scope_containers, client, scope)
        if not any(c.status == "running" and c.image.id == image_id for c in running):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"containers of {image_id} still run")


async def test_a_private_image_is_pulled_with_the_deployments_login_which_shows_nowhere(
    live_docker: Runtime,
    live_settings: Settings,
    docker_client: docker.DockerClient,
    registries: Registries,
    example_image: str,
) -> None:
    from mcp_console.backend.deploy.image_ref import RegistryAuth

    reference = f"{registries.auth}/{unique_name('acme/private')}:1.0.0"
    auth = RegistryAuth(registries.auth, registries.user, registries.password)
    _, image_id = await in_thread(pushed_away, docker_client, example_image, reference, auth)
    admin = await publish(live_docker, "private", image_version(reference, "1.0.0"))
    login = RegistryLogin(username=registries.user, password=registries.password)
    try:
        await live_docker.deployments.create(admin, deployment("private", registry_login=login))
        detail = await wait_for(live_docker, admin, "private", all_healthy)

        assert detail.registry_logins == [f"{registries.user}@{registries.auth}"]
        shown = [
            detail.model_dump_json(),
            json.dumps([e.model_dump(mode="json") for e in await history(live_docker, admin)]),
            json.dumps([e.model_dump(mode="json") for e in await logs(live_docker, admin)]),
        ]
        assert all(registries.password not in text for text in shown)
        database = Path(str(live_settings.resolved_database_url).split("///", 1)[1])
        assert registries.password.encode() not in await in_thread(database.read_bytes)
    finally:
        await live_docker.deployments.delete(admin, "private")
        await in_thread(remove, docker_client, reference, image_id)


async def history(runtime: Runtime, admin: Any) -> list[Any]:
    return list(await runtime.deployments.history(admin, "private"))


async def logs(runtime: Runtime, admin: Any) -> list[Any]:
    return list(await runtime.deployments.logs(admin, "private"))


async def test_a_docker_catalog_entry_deploys_from_the_registry_holding_its_name(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    registries: Registries,
    example_image: str,
) -> None:
    name = unique_name("pulled")
    # As Docker's catalog names it (mcp/NAME, on Docker Hub); the mirror holds that name.
    entry = f"name: {name}\nimage: mcp/{name}\ntype: server\nabout:\n  title: Pulled\n"
    mirrored = f"{registries.open}/mcp/{name}:latest"
    _, image_id = await in_thread(pushed_away, docker_client, example_image, mirrored)
    admin = live_docker.local_admin
    assert admin is not None
    document = CatalogDocument(
        origin=f"servers/{name}/server.yaml", text=entry, format=CatalogFormat.DOCKER_CATALOG
    )
    report = await live_docker.catalog.import_documents(admin, [document])
    assert report.created == [f"{name}@1.0.0"], report
    try:
        await live_docker.deployments.create(admin, deployment(name))
        detail = await wait_for(live_docker, admin, name, all_healthy)

        [instance] = detail.instances
        assert instance.image is not None
        assert instance.image.startswith(f"{registries.open}/mcp/{name}@sha256:")
        result = await call(live_docker, instance, "add", {"a": 1, "b": 1})
        assert result.structured_content == {"result": 2}
    finally:
        await live_docker.deployments.delete(admin, name)
        await in_thread(remove, docker_client, mirrored, image_id)


async def test_a_server_json_oci_package_deploys_by_pulling_its_image(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    registries: Registries,
    example_image: str,
) -> None:
    repository = f"{registries.open}/{unique_name()}"
    _, image_id = await in_thread(pushed_away, docker_client, example_image, f"{repository}:2.1.0")
    document = {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "io.example/oci-pulled",
        "description": "An OCI-packaged stdio server",
        "version": "2.1.0",
        "packages": [
            {
                "registryType": "oci",
                "identifier": repository,
                "version": "2.1.0",
                "transport": {"type": "stdio"},
            }
        ],
    }
    admin = live_docker.local_admin
    assert admin is not None
    await live_docker.catalog.publish_document(admin, json.dumps(document), "server.json")
    new = DeploymentCreate(
        service="io.example/oci-pulled", name="oci", runtime=RuntimeChoice.DOCKER
    )
    try:
        await live_docker.deployments.create(admin, new)
        detail = await wait_for(live_docker, admin, "oci", all_healthy)

        [instance] = detail.instances
        assert instance.image is not None
        assert instance.image.startswith(f"{repository}@sha256:")
    finally:
        await live_docker.deployments.delete(admin, "oci")
        await in_thread(remove, docker_client, f"{repository}:2.1.0", image_id)
