"""A server project on disk (made by ``mcp-console new``): its package, server.json and version."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mcp_console.backend.catalog.formats.server_json import validate_server_json
from mcp_console.backend.catalog.semver import parse_semver
from mcp_console.schemas.errors import Invalid

SERVER_JSON = "server.json"
PYPROJECT = "pyproject.toml"
PACKAGE_JSON = "package.json"
REGISTRY_OF_KIND = {"python": "pypi", "node": "npm"}
BUMPS = ("patch", "minor", "major")
Bump = Literal["patch", "minor", "major"]
_VERSION_LINE = re.compile(r'^(\s*version\s*=\s*)"[^"]*"', re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Project:
    """A project directory: how it is built (``python`` or ``node``), its package's name and
    version, and its ``server.json``."""

    root: Path
    kind: str
    name: str
    version: str
    server: dict[str, Any]

    @property
    def server_name(self) -> str:
        """The name the catalog knows it by (server.json ``name``)."""
        return str(self.server["name"])

    @property
    def package(self) -> dict[str, Any]:
        """The server.json package entry that is this project's package."""
        registry = REGISTRY_OF_KIND[self.kind]
        return next(
            p
            for p in self.server.get("packages") or []
            if p.get("registryType") == registry and p.get("identifier") == self.name
        )

    @property
    def transport(self) -> str:
        """How the server is reached: ``stdio`` or ``streamable-http``."""
        return str(self.package["transport"]["type"])


def load_project(root: Path) -> Project:
    """The project in ``root``, checked: server.json valid and in step with the package.

    Raises:
        Invalid: no server.json or package manifest, a file that does not parse, a
            server.json breaking the schema, or one naming another package or version
            (each message names the file and what differs).
    """
    # Absolute: the tools it runs work in the project's directory, wherever the user is.
    root = root.resolve()
    server_path = root / SERVER_JSON
    if not server_path.is_file():
        raise Invalid(
            f"{root} has no {SERVER_JSON}: run this in a project made by "
            "'mcp-console new', or give its --dir",
            field="dir",
        )
    server = _json_object(server_path)
    try:
        validate_server_json(server)
    except Invalid as exc:
        raise Invalid(f"{server_path}: {exc.message}", field=exc.field) from None
    if (root / PYPROJECT).is_file():
        kind = "python"
        name, version = _pyproject_identity(root / PYPROJECT)
    elif (root / PACKAGE_JSON).is_file():
        kind = "node"
        name, version = _package_json_identity(root / PACKAGE_JSON)
    else:
        raise Invalid(
            f"{root} has neither {PYPROJECT} nor {PACKAGE_JSON}: nothing to build",
            field="dir",
        )
    project = Project(root, kind, name, version, server)
    _check_in_step(project, server_path)
    return project


def _check_in_step(project: Project, server_path: Path) -> None:
    manifest = PYPROJECT if project.kind == "python" else PACKAGE_JSON
    registry = REGISTRY_OF_KIND[project.kind]
    if str(project.server["version"]) != project.version:
        raise Invalid(
            f"{server_path}: version {project.server['version']} differs from {manifest}'s "
            f"{project.version}; make them equal (dev publish --bump changes both)",
            field="version",
        )
    packages = [
        p for p in project.server.get("packages") or [] if p.get("registryType") == registry
    ]
    mine = [p for p in packages if p.get("identifier") == project.name]
    if not mine:
        named = ", ".join(str(p.get("identifier")) for p in packages) or "none"
        raise Invalid(
            f"{server_path}: no {registry} package named {project.name} (the {manifest} "
            f"name); it lists: {named}",
            field="packages",
        )
    for package in mine:
        if str(package.get("version")) != project.version:
            raise Invalid(
                f"{server_path}: the {registry} package's version {package.get('version')} "
                f"differs from {manifest}'s {project.version}",
                field="packages.version",
            )
    transport = mine[0].get("transport") or {}
    if transport.get("type") not in ("stdio", "streamable-http"):
        raise Invalid(
            f"{server_path}: the package's transport must be stdio or streamable-http",
            field="packages.transport",
        )


def bumped(version: str, part: Bump) -> str:
    """``version`` with its ``part`` raised (SemVer: the parts after it reset; a
    pre-release becomes its release on a patch bump).

    Raises:
        Invalid: ``version`` is not a semantic version, or ``part`` is not one of BUMPS.
    """
    current = parse_semver(version)
    if part == "major":
        return f"{current.major + 1}.0.0"
    if part == "minor":
        return f"{current.major}.{current.minor + 1}.0"
    if part == "patch":
        patch = current.patch if current.is_prerelease else current.patch + 1
        return f"{current.major}.{current.minor}.{patch}"
    raise Invalid(f"--bump takes {', '.join(BUMPS)}, not {part!r}", field="bump")


def set_version(project: Project, version: str) -> Project:
    """Write ``version`` into the package manifest and server.json (its version and the
    package's); returns the project as it now is."""
    server = json.loads(json.dumps(project.server))
    server["version"] = version
    for package in server.get("packages") or []:
        if package.get("identifier") == project.name:
            package["version"] = version
    if project.kind == "python":
        path = project.root / PYPROJECT
        path.write_text(_with_pyproject_version(path.read_text(encoding="utf-8"), version))
    else:
        path = project.root / PACKAGE_JSON
        manifest = _json_object(path)
        manifest["version"] = version
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    (project.root / SERVER_JSON).write_text(json.dumps(server, indent=2, ensure_ascii=False) + "\n")
    return Project(project.root, project.kind, project.name, version, server)


def _with_pyproject_version(text: str, version: str) -> str:
    """``text`` with the ``[project]`` table's version replaced (comments and layout kept)."""
    start = re.search(r"^\[project\]\s*$", text, re.MULTILINE)
    if start is None:
        raise Invalid(f"{PYPROJECT} has no [project] table", field="version")
    end = re.search(r"^\[", text[start.end() :], re.MULTILINE)
    stop = start.end() + end.start() if end else len(text)
    table = text[start.end() : stop]
    if _VERSION_LINE.search(table) is None:
        raise Invalid(f'{PYPROJECT}: [project] has no version = "..." line', field="version")
    table = _VERSION_LINE.sub(lambda m: f'{m.group(1)}"{version}"', table, count=1)
    return text[: start.end()] + table + text[stop:]


def _json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror}", field="dir") from None
    except ValueError as exc:
        raise Invalid(f"{path} is not valid JSON: {exc}", field="dir") from None
    if not isinstance(data, dict):
        raise Invalid(f"{path} must hold a JSON object", field="dir")
    return data


def _pyproject_identity(path: Path) -> tuple[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise Invalid(f"cannot read {path}: {exc}", field="dir") from None
    table = data.get("project")
    if not isinstance(table, dict) or not table.get("name") or not table.get("version"):
        raise Invalid(f"{path}: [project] needs a name and a static version", field="dir")
    return str(table["name"]), str(table["version"])


def _package_json_identity(path: Path) -> tuple[str, str]:
    manifest = _json_object(path)
    if not manifest.get("name") or not manifest.get("version"):
        raise Invalid(f"{path} needs a name and a version", field="dir")
    return str(manifest["name"]), str(manifest["version"])
