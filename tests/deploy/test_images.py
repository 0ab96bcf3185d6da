"""ImageBuilder against the real engine: offline two-stage builds, reuse, errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import docker
import pytest

from mcp_console.backend.deploy.debs import DebCache
from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.deploy.images import (
    LABEL_HASH,
    LABEL_SYSTEM_PACKAGES,
    ImageBuilder,
    ImageRecipe,
)
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.settings import ImageSettings

from .helpers import GIT_SERVER, TIME_SERVER

pytestmark = pytest.mark.docker


IMPORT_TIME = "import mcp_server_time; print('ok')"
IMPORT_GIT = "import mcp_server_git.server; print('ok')"


async def run_once(client: docker.DockerClient, image: str, *argv: str) -> bytes:
    """What ``argv`` prints in a read-only container of ``image`` with no network."""
    out: bytes = await asyncio.to_thread(
        client.containers.run,
        image,
        entrypoint=list(argv),
        network_mode="none",
        read_only=True,
        remove=True,
    )
    return out


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


def test_system_packages_are_installed_in_the_final_stage_before_the_user_changes() -> None:
    builder = ImageBuilder(ImageSettings(base_image="example/base:1"), Engine())
    recipe = ImageRecipe(tag="t:1", requirements=("x==1",), entrypoint=("/x",))
    assert "debs" not in builder.dockerfile(recipe)
    lines = builder.dockerfile(
        ImageRecipe(tag="t:1", requirements=("x==1",), entrypoint=("/x",), system_packages=("git",))
    ).splitlines()
    final = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    install = next(i for i, line in enumerate(lines) if "dpkg --install" in line)
    assert lines[install - 1] == "COPY debs /tmp/debs"
    assert final < install < lines.index("USER 65534:65534")
    assert "rm -rf /tmp/debs" in lines[install]


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
    out = await run_once(docker_client, built.tag, "/opt/venv/bin/python", "-c", IMPORT_TIME)
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


def _counting_apt(folder: Path) -> tuple[str, Path]:
    """``apt-get`` and ``apt-cache`` that log each run, then run the real ones."""
    log = folder / "apt.log"
    folder.mkdir()
    for program in ("apt-get", "apt-cache"):
        wrapper = folder / program
        wrapper.write_text(
            f'#!/bin/sh\necho "{program} $*" >> {log}\nexec /usr/bin/{program} "$@"\n'
        )
        wrapper.chmod(0o755)
    return str(folder / "apt-get"), log


async def test_a_declared_system_package_is_installed_into_the_image(
    engine: Engine, base_image: str, deb_cache: Path, docker_client: docker.DockerClient
) -> None:
    settings = ImageSettings(base_image=base_image, deb_cache=deb_cache)
    builder = ImageBuilder(settings, engine)
    built = await builder.ensure_package_image("git", GIT_SERVER, system_packages=["git"])

    image = docker_client.images.get(built.tag)
    assert image.labels[LABEL_SYSTEM_PACKAGES] == "git"
    assert image.attrs["Config"]["User"] == "65534:65534"
    out = await run_once(
        docker_client, built.tag, "/bin/sh", "-c", "git --version; id -u; ls -A /tmp"
    )
    # The program runs as the unprivileged user, and the .deb files left the image.
    version, user, *leftovers = out.decode().splitlines()
    assert version.startswith("git version 2.")
    assert (user, leftovers) == ("65534", [])
    # The server that crash-looped without git now loads (GitPython checks for git on import).
    loaded = await run_once(docker_client, built.tag, "/opt/venv/bin/python", "-c", IMPORT_GIT)
    assert loaded.strip() == b"ok"
    # The plain base image has no git: it came with the declaration.
    with pytest.raises(docker.errors.ContainerError):
        await run_once(docker_client, base_image, "/bin/sh", "-c", "command -v git")


async def test_debs_are_downloaded_once_per_package_set_and_base_image(
    engine: Engine, base_image: str, tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    apt_get, log = _counting_apt(tmp_path / "bin")
    settings = ImageSettings(base_image=base_image, deb_cache=tmp_path / "debs")
    builder = ImageBuilder(settings, engine, debs=DebCache(settings.deb_cache, apt_get=apt_get))
    base = docker_client.images.get(base_image)
    reads: list[str] = []

    async def status() -> bytes:
        reads.append(base.id)
        return await builder.dpkg_status(base_image)

    first = await builder.debs.ensure(["git"], base.id, status)
    runs = log.read_text().splitlines()
    assert any(run.startswith("apt-get") and "--download-only" in run for run in runs)
    names = sorted(p.name for p in first.glob("*.deb"))
    assert any(name.startswith("git_") for name in names)
    # Only what the base image lacks: Python is in it already.
    assert not any(name.startswith("python3") for name in names)

    again = await builder.debs.ensure(["git"], base.id, status)
    assert again == first
    assert log.read_text().splitlines() == runs
    assert reads == [base.id]
    assert builder.debs.path_for(["git"], "sha256:another-base") != first


async def test_a_bad_or_unknown_system_package_is_named_and_nothing_is_built(
    engine: Engine, base_image: str, tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    apt_get, log = _counting_apt(tmp_path / "bin")
    settings = ImageSettings(base_image=base_image, deb_cache=tmp_path / "debs")
    builder = ImageBuilder(settings, engine, debs=DebCache(settings.deb_cache, apt_get=apt_get))

    with pytest.raises(Invalid) as bad:
        await builder.ensure_package_image(
            "git-bad-name", GIT_SERVER, system_packages=["git", "git; rm -rf /"]
        )
    assert bad.value.field == "system_packages"
    assert "'git; rm -rf /' is not a Debian package name" in bad.value.message
    assert not log.exists()  # refused before apt ever ran

    with pytest.raises(Invalid) as unknown:
        await builder.ensure_package_image(
            "git-unknown", GIT_SERVER, system_packages=["git", "mcp-console-no-such-package"]
        )
    assert unknown.value.field == "system_packages"
    assert unknown.value.message.startswith(
        "unknown system package mcp-console-no-such-package: apt finds no installable package"
    )
    for service in ("git-bad-name", "git-unknown"):
        assert (
            await asyncio.to_thread(docker_client.images.list, name=f"mcp-console/{service}") == []
        )
