"""How a catalog's npm package runs: the exact package, its Node.js options, its arguments."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mcp_console.backend.catalog.formats.common import PACKAGE_SOURCE_KEY, render_arguments
from mcp_console.backend.deploy.drivers.base import NpmPackage
from mcp_console.schemas.errors import Invalid

NPM = "npm"
# npx's own options: the console installs the package itself, so they have nothing to do.
_NPX_FLAGS = frozenset(
    {"-y", "--yes", "--no", "-q", "--quiet", "--silent", "--prefer-offline", "--prefer-online"}
)
_NPX_OPTIONS = frozenset(
    {"-p", "--package", "--registry", "--cache", "--userconfig", "-c", "--call"}
)
_NODE_OPTIONS = "--node-options"


def npm_package(package: Mapping[str, Any]) -> NpmPackage:
    """The ``NpmPackage`` of a stored npm ``PackageRef`` (its server.json runtime arguments
    become Node.js options).

    Raises:
        Invalid: the package has no exact version, or a runtime argument is no Node.js option.
    """
    identifier = str(package.get("identifier") or "")
    version = package.get("version")
    if not version or version == "latest":
        raise Invalid(f"npm package {identifier} has no exact version to install", field="version")
    source = package.get(PACKAGE_SOURCE_KEY)
    source = source if isinstance(source, Mapping) else {}
    hint = package.get("runtime_hint") or source.get("runtimeHint")
    runtime = source.get("runtimeArguments")
    options = node_options(runtime if isinstance(runtime, list) else [], hint)
    found = NpmPackage(identifier, str(version), node_args=options)
    found.validate()
    return found


def node_options(arguments: Sequence[Mapping[str, Any]], hint: object) -> tuple[str, ...]:
    """server.json ``runtimeArguments`` as the Node.js options that go before the script.

    A named argument with a value becomes ``--name=value``: Node.js reads V8's options only
    that way. When the runtime is npx (the registry's convention for npm packages), npx's own
    options are dropped (the console installs the package itself) and ``--node-options``
    is unpacked into the options it carries.
    """
    options: list[str] = []
    for argument in arguments:
        rendered = render_arguments([argument])
        if argument.get("type") == "named" and len(rendered) == 2:
            rendered = [f"{rendered[0]}={rendered[1]}"]
        options += rendered
    return tuple(options if hint == "node" else _without_npx_options(options))


def _without_npx_options(argv: Iterable[str]) -> list[str]:
    kept: list[str] = []
    items = iter(argv)
    for item in items:
        name, has_value, value = item.partition("=")
        if name == _NODE_OPTIONS:
            kept += shlex.split(value if has_value else next(items, ""))
        elif name in _NPX_OPTIONS:
            if not has_value:
                next(items, None)
        elif item not in _NPX_FLAGS:
            kept.append(item)
    return kept
