"""Where a catalog version comes from, in words: the one rule every front end shows it by."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from mcp_console.schemas.base import Dto
from mcp_console.schemas.remote import display_url

# The catalog's registry types the console deploys (server.json ``registryType``).
PYPI = "pypi"
NPM = "npm"
OCI = "oci"
# In a command: the Python the console runs on (a process runs it; shown as ``python``).
PYTHON_PLACEHOLDER = "{python}"
_COMMAND_WIDTH = 60


class SourceKind(StrEnum):
    """What a deployment of the version fetches or runs."""

    OCI = "oci"
    PYPI = "pypi"
    NPM = "npm"
    COMMAND = "command"
    REMOTE = "remote"
    OTHER = "other"
    NONE = "none"


class VersionSource(Dto):
    """A version's origin: its kind and a line naming it (``npm @scope/pkg 1.2.3``)."""

    kind: SourceKind
    text: str


def version_source(
    docker_image: str | None,
    packages: Sequence[Mapping[str, Any]],
    command: Sequence[str],
    remotes: Sequence[Mapping[str, Any]],
) -> VersionSource:
    """Where a version comes from, in the order a deployment looks for something to run:
    an image, a PyPI package, an npm package, a command, and remote endpoints last (a
    version runs elsewhere only when it has nothing to run here).

    Args:
        docker_image: the image reference, if any.
        packages: its packages (``registry_type``, ``identifier``, ``version``).
        command: the command it runs, if any.
        remotes: its remote endpoints (``type``, ``url``).
    """
    if docker_image:
        return VersionSource(kind=SourceKind.OCI, text=f"OCI image {docker_image}")
    by_type = {str(p.get("registry_type") or "").lower(): p for p in reversed(packages)}
    for registry, kind, label in ((PYPI, SourceKind.PYPI, "PyPI"), (NPM, SourceKind.NPM, "npm")):
        package = by_type.get(registry)
        if package is not None:
            return VersionSource(kind=kind, text=f"{label} {_package(package)}")
    if command:
        return VersionSource(kind=SourceKind.COMMAND, text=f"command {_command(command)}")
    urls = [str(r["url"]) for r in remotes if r.get("url")]
    if urls:
        more = f" (+{len(urls) - 1} more)" if len(urls) > 1 else ""
        return VersionSource(kind=SourceKind.REMOTE, text=f"remote {display_url(urls[0])}{more}")
    if packages:
        package = packages[0]
        registry = str(package.get("registry_type") or "package")
        if registry == OCI:
            return VersionSource(kind=SourceKind.OCI, text=f"OCI image {_package(package)}")
        return VersionSource(kind=SourceKind.OTHER, text=f"{registry} {_package(package)}")
    return VersionSource(kind=SourceKind.NONE, text="nothing to run")


def _package(package: Mapping[str, Any]) -> str:
    version = package.get("version")
    return f"{package.get('identifier')} {version}" if version else str(package.get("identifier"))


def _command(command: Sequence[str]) -> str:
    shown = [("python" if part == PYTHON_PLACEHOLDER else part) for part in command]
    text = shlex.join(shown)
    return text if len(text) <= _COMMAND_WIDTH else text[: _COMMAND_WIDTH - 1] + "…"
