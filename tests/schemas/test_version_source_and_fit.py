"""One rule says where a version comes from, and one sums up where it runs (every front end
shows them as they are)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp_console.schemas.runnability import RuntimeFit, VersionRunnability
from mcp_console.schemas.version_source import SourceKind, version_source


def test_a_version_comes_from_its_image_first_then_pypi_npm_a_command_or_remotes() -> None:
    npm = {"registry_type": "npm", "identifier": "@acme/srv", "version": "1.2.3"}
    pypi = {"registry_type": "pypi", "identifier": "acme-srv", "version": "0.4"}
    remote = {"type": "streamable-http", "url": "https://u:p@mcp.example.com/mcp?key=s3cret"}

    def source(
        image: str | None = None,
        packages: Sequence[Mapping[str, Any]] = (),
        command: Sequence[str] = (),
        remotes: Sequence[Mapping[str, Any]] = (),
    ) -> tuple[SourceKind, str]:
        found = version_source(image, packages, command, remotes)
        return found.kind, found.text

    assert source(image="ghcr.io/acme/srv:1", packages=[npm]) == (
        SourceKind.OCI,
        "OCI image ghcr.io/acme/srv:1",
    )
    assert source(packages=[npm, pypi]) == (SourceKind.PYPI, "PyPI acme-srv 0.4")
    assert source(packages=[npm], remotes=[remote]) == (SourceKind.NPM, "npm @acme/srv 1.2.3")
    assert source(command=["{python}", "-m", "srv", "--name", "a b"]) == (
        SourceKind.COMMAND,
        "command python -m srv --name 'a b'",
    )
    # Credentials in a remote's URL are never part of what is shown.
    assert source(remotes=[remote, remote]) == (
        SourceKind.REMOTE,
        "remote https://mcp.example.com/mcp?… (+1 more)",
    )
    assert source(packages=[{"registry_type": "nuget", "identifier": "Acme"}]) == (
        SourceKind.OTHER,
        "nuget Acme",
    )
    assert source() == (SourceKind.NONE, "nothing to run")


def fit(runtime: str, runs: bool, note: str = "", offered: bool = True) -> RuntimeFit:
    return RuntimeFit(runtime=runtime, runs=runs, note=note, offered=offered)


def test_the_summary_names_the_refusal_that_matters() -> None:
    python = VersionRunnability.of(
        "1.0",
        [fit("process", False, "needs Python >=3.13"), fit("docker", True, "builds its image")],
        "Python >=3.13",
    )
    assert python.summary == "needs Python >=3.13: docker runtime only"
    assert [f.runtime for f in python.fits] == ["docker", "process"]
    assert python.runnable
    assert python.caveat

    image = VersionRunnability.of(
        "1.0",
        [fit("docker", True, "will pull"), fit("process", False, "image only", offered=False)],
    )
    assert image.summary == "runs here (docker) · will pull"
    assert not image.caveat

    elsewhere = VersionRunnability.of(
        "1.0",
        [
            fit("docker", False, "no image", offered=False),
            fit("process", False, "remote only", offered=False),
            fit("remote", True),
        ],
    )
    assert (elsewhere.runnable, elsewhere.summary, elsewhere.caveat) == (
        True,
        "remote: runs elsewhere",
        True,
    )

    nowhere = VersionRunnability.of(
        "1.0",
        [fit("docker", False, "no image", offered=False), fit("process", False, "no program")],
    )
    assert (nowhere.runnable, nowhere.summary) == (False, "cannot run here: no program")
