"""PyPI entries of the official registry's seed, deployed as a new user would deploy them.

The test picks the seed's PyPI entries that need no outside service to start (the rule is
``needs_no_outside_service``) and deploys each on the process runtime with only the console's
own Python (3.11): each becomes healthy, or is refused before it starts with an error naming
the real cause. Those refused for their Python are then deployed on Docker, whose images
bring the Python they require. None may crash-loop: no placeholder is ever passed.

The first run downloads the packages; later runs take them from uv's and pip's caches and
reuse the images (cached by content).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import pytest_asyncio

from mcp_console.backend.catalog.formats.common import looks_secret
from mcp_console.backend.deploy.images import LABEL_REQUIREMENTS, VENV_BIN
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import CatalogDocument, VersionCreate
from mcp_console.schemas.config_schema import not_a_value
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, RuntimeChoice
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.users import Principal
from mcp_console.settings import PypiSettings, Settings

from ..catalogs import SETTLE_TIMEOUT, TIME_PACKAGE, publish, wait_for

REPO = Path(__file__).resolve().parents[3]
SEED = REPO / ".." / "shared" / "data" / "catalogs" / "official-registry" / "seed-2025-05-16.json"
MINIMUM_ENTRIES = 8
# A variable whose name says it locates a service elsewhere.
_LOCATOR = re.compile(r"(?i)(?:^|_)(?:URL|URI|ENDPOINT|DSN|CONNECTION_STRING)(?:_|$)")
# What a refusal may name: each is a cause the user can act on.
CAUSES = {
    "python": re.compile(r"requires Python [<>=!~]"),
    "setting": re.compile(
        r"config\.\w+: required: the catalog's value '.+' is (?:an instruction|a path on its)"
    ),
    "unpublished": re.compile(r"is not (?:a project )?on the package index"),
    "nothing to run": re.compile(r"installs no console script named \S+; it has"),
}


def needs_no_outside_service(package: dict[str, Any]) -> bool:
    """Whether a seed package can start here with nothing but what the catalog says.

    Its variables must not configure a third party: no credential (by name: API_KEY,
    TOKEN, PASSWORD...), no locator of a remote service (a URL, URI or endpoint, by name or
    by its example), and no example that is itself an instruction ("your account, 0x...").
    Arguments may hold instructions: those must make the console ask for a value.
    """
    for variable in package.get("environment_variables") or []:
        name = str(variable.get("name", ""))
        example = str(variable.get("description") or variable.get("value") or "")
        if looks_secret(name) or _LOCATOR.search(name):
            return False
        if "://" in example or not_a_value(example) is not None:
            return False
    return True


def selected() -> list[dict[str, Any]]:
    """The seed's entries with one PyPI package at an exact version that pass the rule."""
    entries: list[dict[str, Any]] = json.loads(SEED.read_text())
    chosen = []
    for entry in entries:
        packages = entry.get("packages") or []
        pypi = [p for p in packages if p.get("registry_name") == "pypi"]
        exact = len(pypi) == len(packages) == 1 and pypi[0].get("version")
        if exact and needs_no_outside_service(pypi[0]):
            chosen.append(entry)
    return chosen


@dataclass(frozen=True)
class Outcome:
    """How one deployment went: healthy, or refused (with what was said)."""

    service: str
    runtime: str
    healthy: bool
    message: str = ""
    started: bool = False

    @property
    def cause(self) -> str | None:
        return next((k for k, rule in CAUSES.items() if rule.search(self.message)), None)


@pytest_asyncio.fixture
async def seed_runtime(
    docker_client: docker.DockerClient, docker_scope: str, live_settings: Settings
) -> AsyncIterator[Runtime]:
    """A backend whose process runtime knows only the console's own Python (3.11)."""
    settings = live_settings.model_copy(update={"pypi": PypiSettings(discover_interpreters=False)})
    async with Runtime(settings, migrate=False, background=True) as runtime:
        yield runtime


def _name(service: str, runtime: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", service.rsplit("/", 1)[-1].lower()).strip("-")
    return f"{slug[:50]}-{runtime[:4]}"


def _settled(detail: DeploymentDetail) -> bool:
    return detail.status in ("RUNNING", "FAILED", "DEGRADED") and detail.ready_replicas in (
        0,
        detail.replicas,
    )


async def deploy(runtime: Runtime, admin: Principal, service: str, on: RuntimeChoice) -> Outcome:
    """Deploy ``service`` on ``on`` as a user would, with nothing configured; remove it after."""
    name = _name(service, on.value)
    try:
        await runtime.deployments.create(
            admin, DeploymentCreate(service=service, name=name, runtime=on)
        )
    except Invalid as exc:
        return Outcome(service, on.value, healthy=False, message=exc.message)
    try:
        detail = await wait_for(runtime, admin, name, _settled, timeout=SETTLE_TIMEOUT * 4)
        if detail.status == "RUNNING":
            return Outcome(service, on.value, healthy=True)
        [instance] = detail.instances
        error = instance.last_error or ""
        # Refused before it started: the console never ran a program that then failed.
        started = not error.startswith("cannot start: ") or instance.restart_count > 0
        return Outcome(service, on.value, healthy=False, message=error, started=started)
    finally:
        await runtime.deployments.delete(admin, name)


@pytest.mark.docker
@pytest.mark.timeout(1500)  # the first run downloads every release; later ones take seconds
@pytest.mark.xdist_group("pypi")
async def test_seed_pypi_entries_run_or_are_refused_for_a_named_cause(
    seed_runtime: Runtime, docker_client: docker.DockerClient
) -> None:
    entries = selected()
    assert len(entries) >= MINIMUM_ENTRIES
    admin = seed_runtime.local_admin
    assert admin is not None
    report = await seed_runtime.catalog.import_documents(
        admin, [CatalogDocument(origin="seed.json", text=json.dumps(entries))]
    )
    assert report.problems == []
    services = [str(e["name"]) for e in entries]
    # Never a placeholder as an argument: an instruction became a setting to give.
    for service in services:
        detail = await seed_runtime.catalog.get_service(admin, service)
        for package in detail.versions[0].packages:
            assert not [a for a in package.arguments if not_a_value(a)], (service, package)

    on_process = [await deploy(seed_runtime, admin, s, RuntimeChoice.PROCESS) for s in services]
    newer_python = [o.service for o in on_process if o.cause == "python"]
    on_docker = [await deploy(seed_runtime, admin, s, RuntimeChoice.DOCKER) for s in newer_python]

    outcomes = on_process + on_docker
    # None crash-looped or failed after it started, and each refusal names its cause.
    assert [(o.service, o.runtime, o.message) for o in outcomes if o.started] == []
    unexplained = [o for o in outcomes if not o.healthy and o.cause is None]
    assert unexplained == []
    causes = {o.cause for o in outcomes}
    # The seed has entries of each kind the issue met: a newer Python, a value to give,
    # a release that is not on PyPI, a distribution whose scripts must be chosen from.
    assert {"python", "setting", "unpublished", "nothing to run"} <= causes
    python_refusals = [o for o in on_process if o.cause == "python"]
    assert all("choose the docker runtime" in o.message for o in python_refusals)
    # Told by deploy create itself, before any deployment existed.
    assert not [o for o in python_refusals if o.message.startswith("cannot start")]
    assert [o.service for o in on_process if o.healthy]
    assert [o.service for o in on_docker if o.healthy]

    # Dependencies as of each release: every one of these predates mcp 2.x, so none got it.
    venvs = seed_runtime.settings.data_dir / "venvs"
    process_mcp = await asyncio.to_thread(_installed_versions, venvs, "mcp")
    assert process_mcp
    assert all(v.startswith("1.") for v in process_mcp.values()), process_mcp
    images = await asyncio.to_thread(
        docker_client.images.list, filters={"label": LABEL_REQUIREMENTS}
    )
    built = [
        i for i in images if i.labels[LABEL_REQUIREMENTS].split("==")[0] in _identifiers(entries)
    ]
    assert built
    for image in built:
        version = await asyncio.to_thread(_image_version, docker_client, image.id, "mcp")
        assert version.startswith("1."), (image.tags, version)


def _identifiers(entries: list[dict[str, Any]]) -> set[str]:
    return {str(e["packages"][0]["name"]) for e in entries}


def _installed_versions(venvs: Path, distribution: str) -> dict[str, str]:
    """The version of ``distribution`` in each venv of the cache."""
    found = {}
    for info in venvs.glob(f"*/lib/python*/site-packages/{distribution}-*.dist-info"):
        found[info.parents[3].name] = info.name.removesuffix(".dist-info").split("-")[1]
    return found


def _image_version(client: docker.DockerClient, image: str, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    output = client.containers.run(
        image, entrypoint=[f"{VENV_BIN}/python", "-c", code], network_mode="none", remove=True
    )
    return bytes(output).decode().strip()


async def test_a_server_that_fails_to_start_says_why_in_the_error_shown(live: Runtime) -> None:
    package = TIME_PACKAGE.model_copy(
        update={"arguments": ["--local-timezone", "Nowhere/Atlantis"]}
    )
    admin = await publish(live, "svc", VersionCreate(version="1.0.0", packages=[package]))
    await live.deployments.create(
        admin, DeploymentCreate(service="svc", name="svc", runtime=RuntimeChoice.PROCESS)
    )
    detail = await wait_for(live, admin, "svc", lambda d: d.status == "FAILED")

    said = "it wrote last: Error: invalid --local-timezone 'Nowhere/Atlantis'"
    # The deployment's reason, which the CLI and the console show, quotes the server.
    assert said in (detail.status_reason or "")
    [instance] = detail.instances
    assert "crash loop: exited with code" in (instance.last_error or "")
    assert said in (instance.last_error or "")
