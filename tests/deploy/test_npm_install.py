"""npm installs against the real registry: once per version, as published, with named failures."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from mcp_console.backend.deploy.drivers.base import NpmPackage
from mcp_console.backend.deploy.node import REGISTRY_BINARY, NodeToolchain
from mcp_console.backend.deploy.node_range import NodeRange, parse_version
from mcp_console.backend.deploy.npm_cache import MANIFEST
from mcp_console.schemas.errors import Invalid, Unavailable
from mcp_console.settings import NodeSettings

EVERYTHING = NpmPackage("@modelcontextprotocol/server-everything", "2026.8.31")
# Published in January 2026, asking for ``@modelcontextprotocol/sdk ^1.25.2``: newer SDKs exist.
OLD_EVERYTHING = NpmPackage("@modelcontextprotocol/server-everything", "2026.1.14")
# No server, but a real package whose engines.node asks for more than the machine's Node 20.
NEEDS_NODE_22 = NpmPackage("undici", "8.14.1")

pytestmark = pytest.mark.xdist_group("npm")


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> NodeSettings:
    """Caches shared by the tests of this session (an install is made once)."""
    root = tmp_path_factory.mktemp("npm-shared")
    return NodeSettings(node_cache=root / "node", package_cache=root / "npm")


def fresh(tmp_path: Path, **overrides: object) -> NodeSettings:
    """Empty caches of this test's own."""
    values: dict[str, object] = {
        "node_cache": tmp_path / "node",
        "package_cache": tmp_path / "npm",
        **overrides,
    }
    return NodeSettings.model_validate(values)


def npm_view(spec: str, field: str) -> object:
    done = subprocess.run(
        ["npm", "view", spec, field, "--json"], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout)


async def test_a_version_installs_once_and_is_reused_without_npm(
    shared: NodeSettings, tmp_path: Path
) -> None:
    first = await NodeToolchain(shared).packages.ensure(EVERYTHING)
    # The same cache with no npm at all: the install is found, nothing is asked of a registry.
    offline = NodeToolchain(shared.model_copy(update={"npm": str(tmp_path / "no-npm")}))

    again = await offline.packages.ensure(EVERYTHING)

    assert again == first
    assert first.root.name == "@modelcontextprotocol+server-everything@2026.8.31"
    assert first.script() == "node_modules/@modelcontextprotocol/server-everything/dist/index.js"
    assert (first.root / first.script()).is_file()
    lock = json.loads((first.root / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@modelcontextprotocol/server-everything"]["version"] == (
        "2026.8.31"
    )
    assert [p.name for p in shared.package_cache.iterdir() if not p.name.endswith(".lock")] == [
        first.root.name
    ]


async def test_dependencies_are_resolved_as_of_the_release(tmp_path: Path) -> None:
    published = datetime.fromisoformat(
        str(npm_view(OLD_EVERYTHING.spec, f"time[{OLD_EVERYTHING.version}]"))
    )
    times = npm_view("@modelcontextprotocol/sdk", "time")
    assert isinstance(times, dict)
    wanted = NodeRange.parse("^1.25.2")
    releases = [v for v in times if v[:1].isdigit() and "-" not in v]
    fitting = [v for v in releases if wanted.allows(parse_version(v))]
    earlier = [v for v in fitting if datetime.fromisoformat(times[v]) <= published]
    then = max(earlier, key=parse_version)
    now = max(fitting, key=parse_version)
    assert then != now  # a newer SDK exists: the date is what picks the older one

    installed = await NodeToolchain(fresh(tmp_path)).packages.ensure(OLD_EVERYTHING)

    lock = json.loads((installed.root / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@modelcontextprotocol/sdk"]["version"] == then


async def test_the_machines_node_runs_what_it_satisfies(shared: NodeSettings) -> None:
    toolchain = NodeToolchain(shared)

    installed, node = await toolchain.for_process(EVERYTHING)

    machine = await toolchain.machine_node()
    assert machine is not None
    assert node == machine
    assert not node.from_registry
    assert installed.engines  # the tree's own ranges were read (none excludes Node 20)


async def test_a_package_needing_a_newer_node_gets_one_from_the_registry_once(
    shared: NodeSettings, tmp_path: Path
) -> None:
    toolchain = NodeToolchain(shared)

    installed, node = await toolchain.for_process(NEEDS_NODE_22)

    assert dict(installed.engines)["undici@8.14.1"] == ">=22.19.0"
    machine = await toolchain.machine_node()
    assert machine is not None
    assert machine.version < (22, 19, 0)
    assert node.from_registry
    assert node.version >= (22, 19, 0)
    assert node.version[0] == 22  # the configured preference, not merely the newest release
    assert node.path == shared.node_cache / node.version_text / REGISTRY_BINARY
    # Fetched once: a second toolchain with no npm finds it in the cache.
    offline = NodeToolchain(shared.model_copy(update={"npm": str(tmp_path / "no-npm")}))
    assert (await offline.for_process(NEEDS_NODE_22))[1] == node


async def test_an_unknown_package_is_named(tmp_path: Path) -> None:
    missing = NpmPackage("@modelcontextprotocol/server-mcp-console-never-published", "1.0.0")

    with pytest.raises(Invalid) as refused:
        await NodeToolchain(fresh(tmp_path)).packages.ensure(missing)

    assert refused.value.field == "package.name"
    assert "no npm package named @modelcontextprotocol/server-mcp-console-never-published" in (
        refused.value.message
    )
    assert not list((tmp_path / "npm").glob("*@*/"))


async def test_an_unknown_version_is_named_with_the_latest_ones(tmp_path: Path) -> None:
    missing = NpmPackage(EVERYTHING.name, "0.0.1")

    with pytest.raises(Invalid) as refused:
        await NodeToolchain(fresh(tmp_path)).packages.ensure(missing)

    assert refused.value.field == "package.version"
    message = refused.value.message
    assert f"npm package {EVERYTHING.name} has no version 0.0.1" in message
    assert "2026.8.31" in message


async def test_a_failed_install_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    # A real package that installs only on macOS: npm refuses it here.
    darwin_only = NpmPackage("fsevents", "2.3.3")
    settings = fresh(tmp_path)

    with pytest.raises(Invalid) as refused:
        await NodeToolchain(settings).packages.ensure(darwin_only)

    message = refused.value.message
    assert message.startswith("installing fsevents@2.3.3 failed: EBADPLATFORM")
    assert "darwin" in message
    assert [p.name for p in settings.package_cache.iterdir()] == ["fsevents@2.3.3.lock"]


async def test_a_missing_npm_is_named(tmp_path: Path) -> None:
    settings = fresh(tmp_path, npm=str(tmp_path / "bin" / "npm"))

    with pytest.raises(Invalid) as refused:
        await NodeToolchain(settings).packages.ensure(EVERYTHING)

    assert "npm (the Node.js package manager) was not found" in refused.value.message
    assert str(tmp_path / "bin" / "npm") in refused.value.message
    assert "apt-get install npm" in refused.value.message


async def test_no_node_on_the_machine_and_no_npm_to_fetch_one_names_both(
    shared: NodeSettings, tmp_path: Path
) -> None:
    await NodeToolchain(shared).packages.ensure(EVERYTHING)
    settings = shared.model_copy(
        update={
            "node": str(tmp_path / "no-node"),
            "npm": str(tmp_path / "no-npm"),
            "node_cache": tmp_path / "node",
        }
    )

    with pytest.raises(Invalid) as refused:
        await NodeToolchain(settings).for_process(EVERYTHING)

    message = refused.value.message
    assert message.startswith(f"{EVERYTHING.spec} needs Node.js 20 or newer")
    assert f"no Node.js was found on this machine (as '{tmp_path / 'no-node'}')" in message
    assert "npm (the Node.js package manager) was not found" in message


async def test_an_unreachable_registry_is_unavailable_not_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_fetch_retries", "0")

    with pytest.raises(Unavailable) as away:
        await NodeToolchain(fresh(tmp_path)).packages.ensure(EVERYTHING)

    assert "the npm registry could not be reached" in away.value.message
    assert "ECONNREFUSED" in away.value.message


def test_only_an_exact_version_of_a_real_name_is_installed() -> None:
    for bad, field in [
        (NpmPackage("@scope/pkg", "latest"), "package.version"),
        (NpmPackage("@scope/pkg", "^1.2.0"), "package.version"),
        (NpmPackage("not a name", "1.0.0"), "package.name"),
        (NpmPackage("pkg", "1.0.0", node_args=("script.js",)), "package.runtime_arguments"),
    ]:
        with pytest.raises(Invalid) as refused:
            bad.validate()
        assert refused.value.field == field, bad


async def test_the_manifest_marks_a_complete_install(shared: NodeSettings) -> None:
    installed = await NodeToolchain(shared).packages.ensure(EVERYTHING)

    record = json.loads((installed.root / MANIFEST).read_text())

    assert record["bins"] == {"mcp-server-everything": installed.script()}
    assert record["skipped_scripts"] == []
