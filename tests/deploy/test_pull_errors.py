"""Pull errors a person can act on: not found, refused (no or a wrong login) and unreachable,
when a deployment is created and when an instance pulls; a login is stored encrypted."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import docker
import pytest
from sqlalchemy import select

from mcp_console.backend.db.models import DeploymentRegistryLogin, ServiceDeployment
from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.deploy.image_ref import RegistryAuth
from mcp_console.backend.deploy.pull import ImagePuller
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import ConsoleError, Forbidden, NotFound, Unavailable
from mcp_console.schemas.registry import RegistryLogin
from tests.conftest import Registries

from .catalogs import image_version, publish
from .registry_images import pushed_away, remove, unique_name

WRONG_PASSWORD = "not-the-password-9f2c"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def private_image(
    docker_client: docker.DockerClient, registries: Registries, example_image: str
) -> str:
    """An image only in the registry that asks for a password."""
    reference = f"{registries.auth}/{unique_name('acme/private')}:1.0.0"
    auth = RegistryAuth(registries.auth, registries.user, registries.password)
    pushed_away(docker_client, example_image, reference, auth)
    return reference


@pytest.fixture
async def puller() -> AsyncIterator[ImagePuller]:
    engine = Engine()
    yield ImagePuller(engine)
    await engine.close()


def create(login: RegistryLogin | None = None, version: str | None = None) -> DeploymentCreate:
    return DeploymentCreate(
        service="pulled",
        version=version,
        name="pulled",
        runtime=RuntimeChoice.DOCKER,
        registry_login=login,
    )


async def _deployments(runtime: Runtime) -> list[ServiceDeployment]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(ServiceDeployment)))


def cases(
    registries: Registries, private_image: str
) -> dict[str, tuple[str, type[ConsoleError], str]]:
    missing = f"{registries.open}/{unique_name('acme/missing')}:1.0.0"
    nowhere = f"127.0.0.1:{closed_port()}/acme/example:1.0.0"
    return {
        "not-found": (missing, NotFound, f"was not found in registry {registries.open}"),
        "no-login": (private_image, Forbidden, "it needs a login (deploy with --registry-user)"),
        "unreachable": (
            nowhere,
            Unavailable,
            f"registry {nowhere.split('/')[0]} cannot be reached",
        ),
    }


@pytest.mark.parametrize("case", ["not-found", "no-login", "unreachable"])
async def test_a_deployment_of_an_image_that_cannot_be_pulled_is_refused_and_nothing_written(
    runtime: Runtime, registries: Registries, private_image: str, case: str
) -> None:
    image, error, says = cases(registries, private_image)[case]
    admin = await publish(runtime, "pulled", image_version(image, "1.0.0"))

    with pytest.raises(error) as caught:
        await runtime.deployments.create(admin, create())

    assert caught.value.field in ("image", None)
    assert says in caught.value.message
    assert image.rsplit(":", 1)[0] in caught.value.message
    assert await _deployments(runtime) == []


@pytest.mark.parametrize("case", ["not-found", "no-login", "unreachable"])
async def test_an_instance_pull_fails_with_the_same_clear_error(
    puller: ImagePuller, registries: Registries, private_image: str, case: str
) -> None:
    image, error, says = cases(registries, private_image)[case]

    with pytest.raises(error) as caught:
        await puller.resolve(image)

    assert says in caught.value.message


async def test_a_wrong_password_is_refused_and_never_repeated(
    runtime: Runtime, registries: Registries, private_image: str
) -> None:
    admin = await publish(runtime, "pulled", image_version(private_image, "1.0.0"))
    login = RegistryLogin(username=registries.user, password=WRONG_PASSWORD)

    with pytest.raises(Forbidden) as caught:
        await runtime.deployments.create(admin, create(login))

    assert f"the login of {registries.user} was not accepted" in caught.value.message
    assert WRONG_PASSWORD not in caught.value.message
    assert WRONG_PASSWORD not in repr(login)
    assert await _deployments(runtime) == []


async def test_the_right_login_is_accepted_and_stored_encrypted_never_shown(
    runtime: Runtime, registries: Registries, private_image: str
) -> None:
    admin = await publish(runtime, "pulled", image_version(private_image, "1.0.0"))
    login = RegistryLogin(username=registries.user, password=registries.password)

    detail = await runtime.deployments.create(admin, create(login))

    assert detail.registry_logins == [f"{registries.user}@{registries.auth}"]
    assert registries.password not in detail.model_dump_json()
    history = await runtime.deployments.history(admin, "pulled")
    assert all(registries.password not in entry.model_dump_json() for entry in history)
    async with runtime.sessions() as session:
        [row] = await session.scalars(select(DeploymentRegistryLogin))
    assert (row.host, row.username) == (registries.auth, registries.user)
    assert registries.password not in row.ciphertext


async def test_a_login_for_a_version_that_pulls_nothing_is_refused(runtime: Runtime) -> None:
    from .catalogs import process_version

    admin = await publish(runtime, "local", process_version("1.0.0"))
    new = DeploymentCreate(
        service="local",
        name="local",
        runtime=RuntimeChoice.PROCESS,
        registry_login=RegistryLogin(username="u", password="p4ssword"),
    )

    with pytest.raises(ConsoleError) as caught:
        await runtime.deployments.create(admin, new)

    assert caught.value.field == "registry_login"
    assert "pulls no image on the process runtime" in caught.value.message


async def test_a_missing_image_is_found_in_its_registry_without_pulling_it(
    docker_client: docker.DockerClient,
    puller: ImagePuller,
    registries: Registries,
    example_image: str,
) -> None:
    reference = f"{registries.open}/{unique_name()}:1.0.0"
    _, image_id = await asyncio.to_thread(pushed_away, docker_client, example_image, reference)
    try:
        await puller.check(reference)

        listed = await asyncio.to_thread(docker_client.api.images, reference.rsplit(":", 1)[0])
        assert listed == []
    finally:
        await asyncio.to_thread(remove, docker_client, reference, image_id)


async def test_a_docker_hub_image_without_a_mirror_says_how_to_set_one(
    puller: ImagePuller, docker_client: docker.DockerClient
) -> None:
    # This machine reaches no public registry: Docker Hub is unreachable, as when air-gapped.
    with pytest.raises(Unavailable) as caught:
        await puller.resolve(f"mcp/{unique_name('nothing')}")

    assert "registry docker.io cannot be reached" in caught.value.message
    assert "MCP_CONSOLE_IMAGES__REGISTRY_MIRROR" in caught.value.message


async def test_an_update_to_an_image_that_cannot_be_pulled_is_refused_and_changes_nothing(
    runtime: Runtime, registries: Registries, example_image: str
) -> None:
    missing = f"{registries.open}/{unique_name('acme/missing')}:2.0.0"
    admin = await publish(
        runtime, "pulled", image_version(example_image, "1.0.0"), image_version(missing, "2.0.0")
    )
    await runtime.deployments.create(admin, create(version="1.0.0"))
    before = await runtime.deployments.history(admin, "pulled")

    with pytest.raises(NotFound) as caught:
        await runtime.deployments.update(admin, "pulled", "2.0.0")

    assert f"was not found in registry {registries.open}" in caught.value.message
    detail = await runtime.deployments.get(admin, "pulled")
    assert (detail.version, detail.target_version) == ("1.0.0", None)
    assert await runtime.deployments.history(admin, "pulled") == before
