"""Which versions run on this machine, on which runtime, and why not, as the detail page and
the deploy wizard show it: asked of the real engine, the real package index, the machine's
Pythons and Node.js, and kept for a minute."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from mcp_console.backend.deploy.runnability import CACHE_SECONDS, Runnability, recipe_of
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import PackageRef, Transport, VersionCreate
from mcp_console.schemas.errors import NotFound
from mcp_console.schemas.runnability import RuntimeFit, VersionRunnability
from mcp_console.settings import NodeSettings, PypiSettings, Settings
from tests.deploy.catalogs import EXAMPLE_COMMAND, publish

pytestmark = pytest.mark.docker

OWN_MINOR = f"{sys.version_info[0]}.{sys.version_info[1]}"
# Requires-Python >=3.12 (see the PyPI release tests): more than the console's own Python.
KAGI = PackageRef(registry_type="pypi", identifier="kagimcp", version="0.1.3")
MISSING_IMAGE = "127.0.0.1:9/nobody/nothing:1"
REMOTE = {"type": "streamable-http", "url": "https://mcp.example.com/mcp?key=abc"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Only the console's own Python (the machine's others are not looked for); a Node.js
    minimum no machine meets, so the registry's would be fetched."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        gateway_port=0,
        pypi=PypiSettings(discover_interpreters=False, cache=tmp_path / "pypi"),
        node=NodeSettings(minimum_major=99),
    )


@pytest_asyncio.fixture
async def versions(runtime: Runtime, docker_client: Any) -> AsyncIterator[dict[str, Any]]:
    await publish(
        runtime,
        "acme/kinds",
        VersionCreate(version="1.0.0", command=[*EXAMPLE_COMMAND]),
        VersionCreate(version="1.1.0", command=["no-such-program-4f1c", "--serve"]),
        VersionCreate(version="1.2.0", packages=[KAGI]),
        VersionCreate(version="1.3.0", docker_image=MISSING_IMAGE),
        VersionCreate(version="1.4.0", remotes=[REMOTE], transport=Transport.STREAMABLE_HTTP),
        VersionCreate(
            version="1.5.0",
            packages=[PackageRef(registry_type="npm", identifier="@acme/srv", version="1.0.0")],
        ),
        VersionCreate(
            version="1.6.0",
            packages=[PackageRef(registry_type="nuget", identifier="Acme.Srv", version="1.0.0")],
        ),
    )
    answers = await runtime.runnability.of_service(runtime.local_admin, "acme/kinds")
    yield {a.version: a for a in answers}


def fit(answer: VersionRunnability, runtime: str) -> RuntimeFit:
    return next(f for f in answer.fits if f.runtime == runtime)


async def test_each_kind_of_version_says_where_it_runs_and_why_not(
    versions: dict[str, VersionRunnability],
) -> None:
    command = versions["1.0.0"]
    assert command.runnable
    assert command.summary == "runs here (process)"
    assert not fit(command, "docker").offered

    missing = versions["1.1.0"]
    assert not missing.runnable
    assert missing.summary == (
        "cannot run here: program no-such-program-4f1c not found on this machine"
    )

    pypi = versions["1.2.0"]
    assert pypi.runnable
    assert pypi.requires == "Python >=3.12"
    assert fit(pypi, "process") == RuntimeFit(
        runtime="process", runs=False, note=f"needs Python >=3.12; this machine has {OWN_MINOR}"
    )
    assert fit(pypi, "docker") == RuntimeFit(
        runtime="docker", runs=True, note="builds its image once, on Python 3.13"
    )
    assert pypi.summary == (
        f"needs Python >=3.12; this machine has {OWN_MINOR}: docker runtime only"
    )

    image = versions["1.3.0"]
    assert image.summary == "runs here (docker) · image not on the engine: will pull"
    assert fit(image, "process").note == "published as an image only"

    remote = versions["1.4.0"]
    assert remote.runnable
    assert remote.summary == "remote: runs elsewhere"
    assert [f.runtime for f in remote.fits] == ["docker", "process", "remote"]

    npm = versions["1.5.0"]
    assert npm.requires == "Node.js >=99"
    note = fit(npm, "process").note
    assert fit(npm, "process").runs
    assert note.startswith("needs Node.js 99+ (this machine has Node.js ")
    assert note.endswith("will use the registry's Node.js 22")

    other = versions["1.6.0"]
    assert not other.runnable
    assert other.summary == "cannot run here: packaged as nuget, which the console does not install"


async def test_answers_are_kept_for_a_minute_then_asked_again(runtime: Runtime) -> None:
    await publish(runtime, "acme/image", VersionCreate(version="1.0.0", docker_image=MISSING_IMAGE))
    now = [1000.0]
    checker = Runnability(runtime.catalog, runtime.drivers, clock=lambda: now[0])
    asked: list[str] = []
    present = runtime.drivers.pulls.present

    async def counted(image: str) -> bool:
        asked.append(image)
        return await present(image)

    runtime.drivers.pulls.present = counted  # type: ignore[method-assign]
    first = await checker.of_service(runtime.local_admin, "acme/image")
    again = await checker.of_service(runtime.local_admin, "acme/image")
    now[0] += CACHE_SECONDS + 1
    later = await checker.of_service(runtime.local_admin, "acme/image")

    assert first == again == later
    assert asked == [MISSING_IMAGE, MISSING_IMAGE]


async def test_a_service_the_caller_cannot_see_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await runtime.runnability.of_service(runtime.local_admin, "acme/absent")


def test_the_recipe_of_a_catalog_version_keeps_its_packages() -> None:
    from tests.tui.sample import version

    view = version("2.0.0").model_copy(update={"packages": [KAGI], "command": []})
    recipe = recipe_of("acme/x", view)
    assert recipe.pypi is not None
    assert recipe.pypi["identifier"] == "kagimcp"
    assert recipe.runs_on("process")
