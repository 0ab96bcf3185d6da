"""Version rules: validation, immutability, content comparison and the ``is_latest`` flag."""

from __future__ import annotations

import functools
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.catalog.semver import SemVer, parse_semver, pick_latest
from mcp_console.backend.db.models import ServiceVersion
from mcp_console.schemas.catalog import VersionCreate
from mcp_console.schemas.errors import Invalid


def json_path(parts: Any) -> str:
    """A JSON path like ``properties.port.type`` from jsonschema's deque of parts."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validate_config_schema(schema: dict[str, Any]) -> None:
    """Check that ``schema`` is itself a valid JSON Schema (2020-12).

    Raises:
        Invalid: naming the path inside ``config_schema`` that is wrong.
    """
    if not schema:
        return
    # jsonschema loads with the first schema to check: reading the catalog never needs it.
    from jsonschema.exceptions import SchemaError

    try:
        _check_schema(json.dumps(schema, sort_keys=True))
    except SchemaError as error:
        path = json_path(error.path)
        field = f"config_schema.{path}" if path else "config_schema"
        raise Invalid(
            f"config_schema is not a valid JSON Schema: {error.message}", field=field
        ) from None
    if schema.get("type", "object") != "object":
        raise Invalid("config_schema must describe an object", field="config_schema.type")


@functools.lru_cache(maxsize=1024)
def _check_schema(text: str) -> None:
    """Check a schema given as canonical JSON (cached: catalogs repeat the same schemas)."""
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads(text))


def validate_version(new: VersionCreate) -> SemVer:
    """Validate a new version and return its parsed semver."""
    parsed = parse_semver(new.version)
    validate_config_schema(new.config_schema)
    for index, package in enumerate(new.packages):
        if package.version and package.version.strip().lower() == "latest":
            raise Invalid(
                "a package version must be exact, not 'latest'", field=f"packages[{index}].version"
            )
    return parsed


def runnable(row: ServiceVersion) -> bool:
    """Whether a version can be served: an image, a package, a command, or a remote to front."""
    return bool(row.docker_image or row.packages or row.command or row.remotes)


def version_content(new: VersionCreate) -> dict[str, Any]:
    """The stored fields of a version, as a comparable dict."""
    return {
        "changelog": new.changelog,
        "docker_image": new.docker_image,
        "packages": [p.model_dump(mode="json", exclude_none=True) for p in new.packages],
        "command": list(new.command),
        "transport": new.transport.value,
        "config_schema": new.config_schema,
        "api_spec": new.api_spec,
        "remotes": new.remotes,
        "system_packages": list(new.system_packages),
        "pass_env": list(new.pass_env),
        "session_mode": new.session_mode,
    }


def row_content(row: ServiceVersion) -> dict[str, Any]:
    """The same comparable dict, read from a row."""
    return {
        "changelog": row.changelog,
        "docker_image": row.docker_image,
        "packages": row.packages,
        "command": row.command,
        "transport": row.transport,
        "config_schema": row.config_schema,
        "api_spec": row.api_spec,
        "remotes": row.remotes,
        "system_packages": row.system_packages,
        "pass_env": row.pass_env,
        "session_mode": row.session_mode,
    }


def new_version_row(service_id: int, new: VersionCreate, parsed: SemVer) -> ServiceVersion:
    """A version row for ``new`` (not yet added to a session)."""
    return ServiceVersion(
        service_id=service_id,
        version=new.version,
        is_prerelease=parsed.is_prerelease,
        is_latest=False,
        **version_content(new),
    )


async def recompute_latest(
    session: AsyncSession, service_id: int, rows: list[ServiceVersion] | None = None
) -> None:
    """Set ``is_latest`` on exactly the highest released version (or pre-release, if no release).

    ``rows`` are all of the service's versions when the caller has them already.
    """
    if rows is None:
        rows = list(
            await session.scalars(
                select(ServiceVersion).where(ServiceVersion.service_id == service_id)
            )
        )
    mark_latest(rows)
    await session.flush()


def mark_latest(rows: list[ServiceVersion]) -> None:
    """Flag the highest released version of ``rows`` (all of one service) as the latest."""
    latest = pick_latest([r.version for r in rows])
    for row in rows:
        flag = row.version == latest
        if row.is_latest != flag:
            row.is_latest = flag
