"""PyPI releases as the index describes them, the interpreter and the program chosen for them."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mcp_console.backend.deploy.drivers.base import InstanceSpec, PackageSource
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.deploy.drivers.venvs import VenvCache
from mcp_console.backend.deploy.interpreters import Interpreters
from mcp_console.backend.deploy.pypi_entry import Distribution, Entry, choose_entry
from mcp_console.backend.deploy.pypi_release import PypiIndex, pip_index_of
from mcp_console.schemas.errors import Invalid
from mcp_console.settings import PypiSettings

OWN_PYTHON = ".".join(map(str, sys.version_info[:3]))


@pytest.fixture
def settings(tmp_path: Path) -> PypiSettings:
    """Only the console's own Python; release metadata cached per test."""
    return PypiSettings(discover_interpreters=False, cache=tmp_path / "pypi")


async def test_a_release_says_its_python_and_when_it_was_published(settings: PypiSettings) -> None:
    index = PypiIndex(settings)
    release = await index.release("kagimcp", "0.1.3")
    assert release.requires_python == ">=3.12"
    assert release.uploaded is not None
    assert release.uploaded.year == 2025
    assert release.has_wheel
    # Resolved just after its upload; the SDK of its day was 1.x, so 2.x stays out.
    resolution = release.resolution(now=datetime(2026, 12, 1, tzinfo=UTC))
    assert resolution.args[:2] == ("--exclude-newer", release.exclude_newer)
    assert resolution.args[-2:] == ("--exclude-newer-package", "mcp=2026-12-01T00:00:00Z")
    assert resolution.constraints == ("mcp<2",)
    assert not release.fits(OWN_PYTHON)

    # Kept on disk: a second index object asks the network nothing for it.
    again = PypiIndex(settings.model_copy(update={"index_url": "http://127.0.0.1:9/simple"}))
    assert await again.release("kagimcp", "0.1.3") == release


async def test_an_unknown_release_or_project_is_named(settings: PypiSettings) -> None:
    index = PypiIndex(settings)
    with pytest.raises(Invalid) as caught:
        await index.release("greptimedb-mcp-server", "9.9.9")
    assert caught.value.message.startswith(
        "greptimedb-mcp-server==9.9.9 is not on the package index"
    )
    assert "its latest releases: " in caught.value.message
    with pytest.raises(Invalid) as caught:
        await index.release("needle-mcp", "0.1.0")
    assert "needle-mcp is not a project on the package index" in caught.value.message


async def test_the_process_runtime_refuses_a_release_needing_another_python(
    settings: PypiSettings, tmp_path: Path
) -> None:
    venvs = VenvCache(tmp_path / "venvs", settings)
    manager = ProcessManager(tmp_path / "data", venvs=venvs)
    package = PackageSource("kagimcp", "0.1.3")
    spec = InstanceSpec(
        deployment_id="kagi", instance_id="i1", version="v1", transport="stdio", package=package
    )
    try:
        with pytest.raises(Invalid) as caught:
            await manager.start(spec)
    finally:
        await manager.close()
    assert caught.value.field == "runtime"
    assert caught.value.message == (
        f"kagimcp==0.1.3 requires Python >=3.12; this machine has Python {OWN_PYTHON}: choose "
        "the docker runtime (its images bring a Python that fits), or make a fitting Python "
        "known to the console (MCP_CONSOLE_PYPI__INTERPRETERS)"
    )
    assert not venvs.path_for(package).exists()  # refused before anything was installed


async def test_the_own_python_comes_first_and_a_listed_one_is_used_when_it_fits(
    settings: PypiSettings,
) -> None:
    own = await Interpreters(settings).pick(">=3.8")
    assert own is not None
    assert own.path == Path(sys.executable)
    assert await Interpreters(settings).pick(">=4") is None


@pytest.mark.parametrize(
    ("package", "offered", "expected"),
    [
        # The script of the package's name, however it is spelled.
        (
            PackageSource("keboola-mcp-server", "1"),
            Distribution(("keboola_mcp_server",), ()),
            Entry(script="keboola_mcp_server"),
        ),
        # Its one script, whatever its name.
        (PackageSource("mcp-gravitino-x", "1"), Distribution(("mcp-gravitino",), ()), None),
        # No script: python -m its module with a __main__.
        (PackageSource("acme-mcp", "1"), Distribution((), ("acme_mcp",)), Entry(module="acme_mcp")),
        # Several scripts and one named by the catalog.
        (
            PackageSource("ableton-live-mcp-server", "1", "ableton-mcp-server"),
            Distribution(("ableton-mcp-server", "ableton-osc-daemon"), ()),
            Entry(script="ableton-mcp-server"),
        ),
    ],
)
def test_the_program_of_a_distribution(
    package: PackageSource, offered: Distribution, expected: Entry | None
) -> None:
    chosen = choose_entry(package, offered)
    assert chosen == (expected or Entry(script=offered.scripts[0]))


def test_a_distribution_with_several_scripts_names_them() -> None:
    package = PackageSource("ableton-live-mcp-server", "0.1.0")
    offered = Distribution(("ableton-mcp-server", "ableton-osc-daemon"), ())
    with pytest.raises(Invalid) as caught:
        choose_entry(package, offered)
    assert caught.value.field == "package.entrypoint"
    assert "it has the scripts ableton-mcp-server, ableton-osc-daemon" in caught.value.message
    assert Entry(module="acme.cli").argv("/v/bin") == ["/v/bin/python", "-m", "acme.cli"]


def test_pips_index_is_read_from_its_configuration_in_pips_order() -> None:
    listed = (
        ":env:.find-links='/opt/wheels'\n"
        "download.index-url='https://download.example/simple'\n"
        "install.index-url='https://install.example/simple'\n"
        "global.extra-index-url='file:///opt/pypi/simple'\n"
    )
    assert pip_index_of(listed) == "https://install.example/simple"
    assert pip_index_of(listed + "global.index-url='https://global.example/simple'\n") == (
        "https://global.example/simple"
    )
    assert pip_index_of("global.cert='/etc/ssl/certs/ca.crt'\n") is None
