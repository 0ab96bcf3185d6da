"""From a catalog version to a launch: system packages and the example server per runtime."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from mcp_console.backend.deploy.plan import (
    DOCKER,
    EXAMPLE_COMMAND,
    PROCESS,
    Recipe,
    launch_for,
    missing_on_host,
)
from mcp_console.schemas.errors import Invalid

GIT_PACKAGE = {"registry_type": "pypi", "identifier": "mcp-server-git", "version": "2026.10.19"}
MISSING = ("mcp-console-no-such-tool", "mcp-console-nor-this-one")


def recipe(**fields: Any) -> Recipe:
    return Recipe(service="git", version="2026.10.19", transport="stdio", **fields)


def test_the_process_runtime_names_each_system_package_this_machine_lacks() -> None:
    assert shutil.which("git") is not None  # this machine's own git satisfies the first
    needy = recipe(packages=(GIT_PACKAGE,), system_packages=("git", *MISSING))

    with pytest.raises(Invalid) as caught:
        launch_for(needy, PROCESS)

    assert caught.value.field == "runtime"
    message = caught.value.message
    assert message.startswith(
        "git 2026.10.19 needs the system packages mcp-console-no-such-tool, "
        "mcp-console-nor-this-one, missing on this machine"
    )
    assert "apt-get install mcp-console-no-such-tool mcp-console-nor-this-one" in message
    assert "docker runtime" in message
    assert missing_on_host(["git", *MISSING]) == list(MISSING)


def test_docker_takes_the_system_packages_into_the_image_it_builds() -> None:
    needy = recipe(packages=(GIT_PACKAGE,), system_packages=MISSING)
    launch = launch_for(needy, DOCKER)
    assert launch.package is not None
    assert launch.package.requirement == "mcp-server-git==2026.10.19"
    assert launch.system_packages == MISSING
    assert launch.image is None  # built before it starts

    present = launch_for(recipe(packages=(GIT_PACKAGE,), system_packages=("git",)), PROCESS)
    assert present.package is not None
    # A ready-made image is run as it is: it brings its own packages.
    ready = launch_for(recipe(docker_image="acme/git:1", system_packages=MISSING), DOCKER)
    assert (ready.image, ready.system_packages) == ("acme/git:1", ())


def test_the_console_example_server_runs_on_both_runtimes() -> None:
    example = recipe(command=(*EXAMPLE_COMMAND, "--flag"))
    assert example.runs_on(DOCKER)
    assert example.runs_on(PROCESS)

    in_docker = launch_for(example, DOCKER)
    assert in_docker.example
    assert (in_docker.image, in_docker.command, in_docker.args) == (None, (), ("--flag",))
    as_process = launch_for(example, PROCESS)
    assert not as_process.example
    assert as_process.command == (*EXAMPLE_COMMAND, "--flag")

    # Any other program stays a process.
    other = recipe(command=("{python}", "-m", "somewhere.else"))
    assert not other.runs_on(DOCKER)
    with pytest.raises(Invalid) as caught:
        launch_for(other, DOCKER)
    assert "no Docker image and no PyPI or npm package" in caught.value.message
