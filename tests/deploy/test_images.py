"""ImageBuilder against the real engine: offline two-stage builds, reuse, errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import docker
import pytest

from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.deploy.images import LABEL_HASH, ImageBuilder, ImageRecipe
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.settings import ImageSettings

from .helpers import TIME_SERVER

pytestmark = pytest.mark.docker


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    engine = Engine()
    yield engine
    await engine.close()


async def test_an_image_is_reused_while_its_content_is_unchanged(
    engine: Engine, example_image: str, base_image: str, docker_client: docker.DockerClient
) -> None:
    builder = ImageBuilder(ImageSettings(base_image=base_image), engine)
    again = await builder.ensure_example_image()
    assert again.reused
    assert again.tag == example_image
    image = docker_client.images.get(example_image)
    assert again.image_id == image.id
    assert image.labels[LABEL_HASH]
    assert image.attrs["Config"]["User"] == "65534:65534"


def test_the_dockerfile_has_two_stages_and_no_build_mounts() -> None:
    builder = ImageBuilder(ImageSettings(base_image="example/base:1"), Engine())
    recipe_tag = ImageBuilder.package_tag("mcp-server-time", TIME_SERVER.version)
    assert recipe_tag == "mcp-console/mcp-server-time:2026.10.19"
    text = builder.dockerfile(
        ImageRecipe(tag=recipe_tag, requirements=(TIME_SERVER.requirement,), entrypoint=("/x",))
    )
    assert text.count("FROM example/base:1") == 2
    assert "--mount" not in text
    assert "USER 65534:65534" in text


def test_names_that_cannot_be_image_tags_are_refused() -> None:
    with pytest.raises(Invalid) as bad_service:
        ImageBuilder.package_tag("My Service", "1.0")
    assert bad_service.value.field == "service"
    with pytest.raises(Invalid) as bad_version:
        ImageBuilder.package_tag("svc", "1.0 beta")
    assert bad_version.value.field == "version"
    assert ImageBuilder.package_tag("svc", "1.0+local") == "mcp-console/svc:1.0_local"


async def test_a_missing_base_image_is_reported_as_such(engine: Engine, base_image: str) -> None:
    builder = ImageBuilder(ImageSettings(base_image="mcp-console/no-such-base:1"), engine)
    with pytest.raises(NotFound) as caught:
        await builder.ensure_example_image()
    assert caught.value.field == "images.base_image"


async def test_builds_from_a_wheel_directory_use_nothing_else(
    engine: Engine, base_image: str, tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    wheels = tmp_path / "wheels"
    download = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"),
        *("--python-version", "3.11", "--platform", "manylinux2014_x86_64"),
        *("-d", str(wheels), TIME_SERVER.requirement),
    )
    assert await download.wait() == 0
    builder = ImageBuilder(ImageSettings(base_image=base_image, wheel_dir=wheels), engine)
    built = await builder.ensure_package_image("mcp-server-time-offline", TIME_SERVER)
    assert built.tag == "mcp-console/mcp-server-time-offline:2026.10.19"
    out = await asyncio.to_thread(
        docker_client.containers.run,
        built.tag,
        entrypoint=["/opt/venv/bin/python", "-c", "import mcp_server_time; print('ok')"],
        network_mode="none",
        remove=True,
    )
    assert out.strip() == b"ok"

    # Without the package's own wheel, the offline build must fail before any image exists.
    for wheel in wheels.glob("mcp_server_time-*.whl"):
        wheel.unlink()
    with pytest.raises(Invalid) as caught:
        await builder.ensure_package_image("mcp-server-time-incomplete", TIME_SERVER)
    assert caught.value.field == "package"
    assert "mcp-server-time" in caught.value.message
    leftovers = await asyncio.to_thread(
        docker_client.images.list, name="mcp-console/mcp-server-time-incomplete"
    )
    assert leftovers == []
