"""How a catalog's npm package is run: Node.js options, arguments filled, paths mounted."""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_console.backend.catalog.formats.server_json import config_schema_for, package_ref
from mcp_console.backend.deploy.arguments import with_arguments
from mcp_console.backend.deploy.config import resolve_config
from mcp_console.backend.deploy.npm_cache import InstalledPackage
from mcp_console.backend.deploy.npm_plan import node_options, npm_package
from mcp_console.backend.deploy.plan import DOCKER, PROCESS, Launch, Recipe, launch_for
from mcp_console.schemas.errors import Invalid

FILESYSTEM: dict[str, Any] = {
    "registryType": "npm",
    "identifier": "@modelcontextprotocol/server-filesystem",
    "version": "2026.8.31",
    "runtimeHint": "npx",
    "runtimeArguments": [
        {"type": "positional", "value": "-y"},
        {"type": "named", "name": "--node-options", "value": "--max-old-space-size=256"},
        # A bare flag: server.json says so with a required named argument without a value.
        {"type": "named", "name": "--enable-source-maps", "isRequired": True},
    ],
    "packageArguments": [
        {"type": "positional", "valueHint": "allowed_directory", "isRequired": True}
    ],
    "transport": {"type": "stdio"},
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "allowed_directory": {"type": "string", "x-format": "filepath", "x-argument": True},
        "token": {"type": "string", "x-secret": True, "x-argument": True},
    },
}


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory other users may enter (unlike pytest's own), as a container's user must."""
    path = Path(tempfile.mkdtemp(prefix="mcp-console-paths-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def recipe(package: dict[str, Any]) -> Recipe:
    ref = package_ref(package).model_dump()
    return Recipe(service="files", version="1.0.0", transport="stdio", packages=(ref,))


def filled(launch: Launch, config: dict[str, Any], secrets: dict[str, str] | None = None) -> Launch:
    return with_arguments(launch, SCHEMA, resolve_config(SCHEMA, config, secrets or {}))


def test_npx_options_are_dropped_and_node_options_kept_before_the_script() -> None:
    launch = launch_for(recipe(FILESYSTEM), PROCESS)

    assert launch.npm is not None
    assert launch.npm.spec == "@modelcontextprotocol/server-filesystem@2026.8.31"
    assert launch.npm.node_args == ("--max-old-space-size=256", "--enable-source-maps")
    assert launch.args == ("{allowed_directory}",)


def test_node_runtime_arguments_are_node_options_with_values_joined() -> None:
    arguments = [
        {"type": "named", "name": "--max-old-space-size", "value": "512"},
        {"type": "named", "name": "--require", "value": "./tracing.js"},
        {"type": "positional", "value": "--no-warnings"},
    ]

    assert node_options(arguments, "node") == (
        "--max-old-space-size=512",
        "--require=./tracing.js",
        "--no-warnings",
    )


def test_a_package_without_an_exact_version_is_refused_by_name() -> None:
    with pytest.raises(Invalid) as refused:
        npm_package({"identifier": "@acme/server", "version": "latest"})

    assert refused.value.message == "npm package @acme/server has no exact version to install"


def test_the_placeholder_is_filled_from_the_configuration(tmp_path: Path) -> None:
    launch = launch_for(recipe(FILESYSTEM), PROCESS)

    ready = filled(launch, {"allowed_directory": str(tmp_path)})

    assert ready.args == (str(tmp_path),)
    assert ready.mounts == ()  # a process sees the machine's paths as they are


def test_a_placeholder_without_its_value_is_never_passed() -> None:
    launch = launch_for(recipe(FILESYSTEM), PROCESS)

    with pytest.raises(Invalid) as refused:
        filled(launch, {})

    assert refused.value.field == "config.allowed_directory"
    assert "--set allowed_directory=VALUE" in refused.value.message


def test_a_secret_is_never_put_in_the_arguments() -> None:
    package = {**FILESYSTEM, "packageArguments": [{"type": "positional", "value": "{token}"}]}
    launch = launch_for(recipe(package), PROCESS)

    with pytest.raises(Invalid) as refused:
        filled(launch, {}, {"token": "s3cr3t-value"})

    assert refused.value.field == "config.token"
    assert "s3cr3t-value" not in refused.value.message


def test_on_docker_a_path_is_mounted_read_only_where_it_is(open_dir: Path) -> None:
    shared = open_dir / "shared"
    shared.mkdir()
    launch = launch_for(recipe(FILESYSTEM), DOCKER)

    ready = filled(launch, {"allowed_directory": f"{shared}/"})

    assert ready.args == (f"{shared}/",)
    assert ready.mounts == (str(shared),)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("relative/dir", "must be an absolute path"),
        ("/", "the whole filesystem of this machine cannot be given to a container"),
        ("/proc/self", "/proc/self is under /proc, which no container may see"),
        ("/var/run/docker.sock", "is under /var/run, which no container may see"),
        ("/nowhere/at/all", "/nowhere/at/all does not exist on this machine"),
    ],
)
def test_on_docker_a_path_that_cannot_be_mounted_is_named(path: str, problem: str) -> None:
    launch = launch_for(recipe(FILESYSTEM), DOCKER)

    with pytest.raises(Invalid) as refused:
        filled(launch, {"allowed_directory": path})

    assert refused.value.field == "config.allowed_directory"
    assert problem in refused.value.message


def test_on_docker_a_path_other_users_cannot_reach_is_named(open_dir: Path) -> None:
    private = open_dir / "private"
    (private / "inner").mkdir(parents=True)
    private.chmod(stat.S_IRWXU)
    launch = launch_for(recipe(FILESYSTEM), DOCKER)

    with pytest.raises(Invalid) as refused:
        filled(launch, {"allowed_directory": str(private / "inner")})

    assert f"{private} is not readable by other users" in refused.value.message


def test_the_executable_is_chosen_as_npx_chooses_it(tmp_path: Path) -> None:
    def installed(bins: dict[str, str]) -> InstalledPackage:
        return InstalledPackage(tmp_path, "@acme/weather", "1.0.0", bins, ())

    assert installed({"anything": "a.js"}).script() == "a.js"
    assert installed({"weather": "w.js", "weather-admin": "x.js"}).script() == "w.js"
    assert installed({"weather": "w.js", "other": "o.js"}).script("other") == "o.js"
    with pytest.raises(Invalid) as several:
        installed({"one": "1.js", "two": "2.js"}).script()
    with pytest.raises(Invalid) as none:
        installed({}).script()
    with pytest.raises(Invalid) as unknown:
        installed({"weather": "w.js"}).script("nope")
    assert "several executables (one, two)" in several.value.message
    assert "declares no executable" in none.value.message
    assert "has no executable 'nope'; it has: weather" in unknown.value.message


def test_only_arguments_the_console_passes_become_inputs() -> None:
    hole = {"type": "named", "name": "--cache", "valueHint": "cache_dir", "isRequired": True}
    npm = {**FILESYSTEM, "runtimeArguments": [hole]}
    oci = {
        "registryType": "oci",
        "identifier": "docker.io/acme/files:1.0.0",
        "runtimeHint": "docker",
        "runtimeArguments": [{**hole, "name": "-v", "valueHint": "host_path"}],
        "transport": {"type": "stdio"},
    }

    schema = config_schema_for({"packages": [npm, oci]})

    # Node.js gets the npm package's runtime arguments; docker's are not the console's to fill.
    assert schema["required"] == ["cache_dir", "allowed_directory"]
    assert "host_path" not in schema["properties"]
