"""The official ``server.json`` (schema 2025-12-11): validation and mapping to our DTOs."""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from mcp_console.backend.catalog.formats.common import (
    CONSOLE_META_KEY,
    OFFICIAL_META_KEY,
    PACKAGE_SOURCE_KEY,
    PUBLISHER_META_KEY,
    ConfigSchemaBuilder,
    EntryError,
    ImportEntry,
    build_entry,
    image_has_tag,
    join_path,
    json_path,
    last_segment,
    registry_name,
    render_arguments,
)
from mcp_console.schemas.catalog import (
    PackageRef,
    ServiceStatus,
    Transport,
    system_package_names,
    system_package_problem,
)
from mcp_console.schemas.deploy import SESSION_MODES
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.host_env import pass_env_names

# Our ``_meta`` key for a version's whole API spec (generated from the live server).
API_SPEC_KEY = "apiSpec"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
# How a command of ours can be reached (``_meta`` ``transport``).
COMMAND_TRANSPORTS = tuple(t.value for t in Transport)
_MAX_REPORTED = 3


@cache
def server_schema() -> dict[str, Any]:
    """The vendored official schema (draft-07)."""
    text = resources.files(__package__).joinpath("data/server.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft7Validator:
    return Draft7Validator(server_schema())


def server_json_errors(document: object) -> list[tuple[str, str]]:
    """Every schema violation as ``(json_path, message)``, in the schema's order."""
    return [_describe(error) for error in _validator().iter_errors(document)]


def validate_server_json(document: dict[str, Any]) -> None:
    """Check a document against the official server.json schema.

    Raises:
        Invalid: naming the first violations; ``field`` is the JSON path of the first one.
    """
    errors = server_json_errors(document)
    if not errors:
        return
    shown = "; ".join(f"{path}: {msg}" if path else msg for path, msg in errors[:_MAX_REPORTED])
    more = len(errors) - _MAX_REPORTED
    suffix = f" (and {more} more)" if more > 0 else ""
    raise Invalid(f"not a valid server.json: {shown}{suffix}", field=errors[0][0] or None)


def _describe(error: ValidationError) -> tuple[str, str]:
    """The most telling leaf of a (possibly nested anyOf) error, as ``(path, message)``."""
    while error.context:
        branches: dict[object, list[ValidationError]] = defaultdict(list)
        for sub in error.context:
            branches[sub.relative_schema_path[0]].append(sub)
        # A branch that failed on its "type" discriminator is not what the author meant.
        meant = [errs for errs in branches.values() if not any(map(_is_type_mismatch, errs))]
        if not meant:
            allowed: list[object] = []
            for sub in error.context:
                if _is_type_mismatch(sub):
                    allowed += list(_values(sub))
            return json_path([*error.absolute_path, "type"]), _one_of(allowed)
        candidates = meant[0] if len(meant) == 1 else [e for errs in meant for e in errs]
        error = best_match(candidates)
    path = list(error.absolute_path)
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [k for k in _values(error) if k not in present]
        return json_path([*path, str(missing[0]) if missing else "?"]), "required"
    too_short = "must not be empty" if expected == 1 else f"shorter than {expected} characters"
    messages = {
        "maxLength": f"longer than {expected} characters",
        "minLength": too_short,
        "pattern": f"does not match the pattern {expected}",
        "type": f"must be of type {expected}",
        "enum": _one_of(_values(error)),
        "not": f"{json.dumps(error.instance)} is not allowed",
    }
    return json_path(path), messages.get(str(kind), error.message)


def _values(error: ValidationError) -> list[object]:
    expected = error.validator_value
    return list(expected) if isinstance(expected, list) else []


def _one_of(values: list[object]) -> str:
    return "must be one of " + ", ".join(json.dumps(v) for v in dict.fromkeys(values))


def _is_type_mismatch(error: ValidationError) -> bool:
    return error.validator == "enum" and list(error.relative_path)[-1:] == ["type"]


def console_meta(meta: object) -> dict[str, Any]:
    """Our own ``_meta`` block, top-level or inside the publisher-provided one."""
    if not isinstance(meta, Mapping):
        return {}
    found = meta.get(CONSOLE_META_KEY)
    if not isinstance(found, Mapping):
        publisher = meta.get(PUBLISHER_META_KEY)
        found = publisher.get(CONSOLE_META_KEY) if isinstance(publisher, Mapping) else None
    return dict(found) if isinstance(found, Mapping) else {}


def official_status(*metas: object) -> tuple[ServiceStatus, str | None]:
    """The registry's status of a server (wrapper ``_meta`` first, then the server's own)."""
    for meta in metas:
        official = meta.get(OFFICIAL_META_KEY) if isinstance(meta, Mapping) else None
        if not isinstance(official, Mapping):
            continue
        status = str(official.get("status") or "active").lower()
        message = official.get("statusMessage")
        text = str(message).strip() if message else None
        if status in ("deprecated", "deleted"):
            return ServiceStatus.DEPRECATED, text or f"{status} in the MCP registry"
        return ServiceStatus.PUBLISHED, text
    return ServiceStatus.PUBLISHED, None


def package_ref(package: Mapping[str, Any]) -> PackageRef:
    """A server.json ``Package`` as a PackageRef that keeps the original for export."""
    transport = package.get("transport")
    kind = transport.get("type") if isinstance(transport, Mapping) else None
    return PackageRef.model_validate(
        {
            "registry_type": package["registryType"],
            "identifier": package["identifier"],
            "version": package.get("version"),
            "runtime_hint": package.get("runtimeHint"),
            "transport": kind or Transport.STDIO,
            "arguments": render_arguments(package.get("packageArguments") or []),
            PACKAGE_SOURCE_KEY: copy.deepcopy(dict(package)),
        }
    )


def oci_image(package: Mapping[str, Any]) -> str:
    """The image reference of an ``oci`` package (older documents kept the tag in ``version``)."""
    image = str(package["identifier"])
    version = package.get("version")
    if version and version != "latest" and not image_has_tag(image):
        return f"{image}:{version}"
    return image


def config_schema_for(server: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments left to the user, environment variables, header inputs and URL variables as
    one JSON Schema object."""
    builder = ConfigSchemaBuilder()
    for package in server.get("packages") or []:
        # Runtime arguments are passed only to Node.js (see ``npm_plan``); docker's and uvx's
        # are theirs to interpret, so their holes are no input of ours.
        runtime = package.get("runtimeArguments") if package.get("registryType") == "npm" else None
        for argument in [*(runtime or []), *(package.get("packageArguments") or [])]:
            builder.add_argument(argument)
        for env in package.get("environmentVariables") or []:
            builder.add_env(env)
        transport = package.get("transport")
        for header in (transport.get("headers") if isinstance(transport, Mapping) else None) or []:
            builder.add_header(header)
    for remote in server.get("remotes") or []:
        builder.add_variables(remote.get("variables"), **{"x-url-variable": str(remote["url"])})
        for header in remote.get("headers") or []:
            builder.add_header(header)
    return builder.build()


def entry_from_server(
    server: Mapping[str, Any],
    origin: str,
    *,
    wrapper_meta: object = None,
    validate: bool = True,
    extra_service: Mapping[str, Any] | None = None,
) -> ImportEntry:
    """Map one server.json document to an ImportEntry.

    Raises:
        EntryError: the document breaks the schema or our own rules (path inside the document).
    """
    if validate:
        errors = server_json_errors(server)
        if errors:
            raise EntryError(*errors[0])
    name = str(server["name"])
    ours = console_meta(server.get("_meta"))
    original = ours.get("name")
    # Export renamed a namespace-less name; take ours back when the meta vouches for it.
    if isinstance(original, str) and registry_name(original) == name:
        name = original
    packages = [package_ref(p) for p in server.get("packages") or []]
    remotes = [copy.deepcopy(dict(r)) for r in server.get("remotes") or []]
    oci = next((p for p in server.get("packages") or [] if p.get("registryType") == "oci"), None)
    command = _meta_strings(ours, "command")
    transport = packages[0].transport if packages else _meta_transport(ours, command)
    if transport is None and remotes:
        transport = Transport(remotes[0]["type"])
    repository = server.get("repository")
    icons = server.get("icons") or []
    service: dict[str, Any] = {
        "name": name,
        "display_name": server.get("title") or last_segment(name),
        "description": str(server.get("description") or "").strip(),
        "repository_url": repository.get("url") if isinstance(repository, Mapping) else None,
        "documentation_url": server.get("websiteUrl"),
        "icon_url": icons[0].get("src") if icons else None,
        "category": _meta_category(ours),
        "tags": _meta_tags(ours),
        "readme": _meta_text(ours, "readme"),
    }
    service.update(extra_service or {})
    version = {
        "version": str(server["version"]),
        "docker_image": oci_image(oci) if oci else None,
        "packages": packages,
        "command": command,
        "transport": transport or Transport.STDIO,
        "config_schema": config_schema_for(server),
        "api_spec": _meta_api_spec(ours),
        "remotes": remotes,
        "system_packages": _meta_system_packages(ours),
        "pass_env": _meta_pass_env(ours),
        "session_mode": _meta_session_mode(ours),
    }
    status, message = official_status(wrapper_meta, server.get("_meta"))
    paths = {"display_name": "title", "documentation_url": "websiteUrl", "icon_url": "icons[0].src"}
    paths |= {"repository_url": "repository.url", "tags": f"_meta[{json.dumps(CONSOLE_META_KEY)}]"}
    return build_entry(origin, service, version, status=status, status_message=message, paths=paths)


def _meta_category(meta: Mapping[str, Any]) -> str | None:
    category = meta.get("category")
    if category is not None and not isinstance(category, str):
        raise EntryError(join_path("_meta", CONSOLE_META_KEY, "category"), "must be a string")
    return category or None


def _meta_text(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is not None and not isinstance(value, str):
        raise EntryError(join_path("_meta", CONSOLE_META_KEY, key), "must be a string")
    return value or None


def _meta_strings(meta: Mapping[str, Any], key: str) -> list[str]:
    """Our ``command`` (an argv: server.json has no field for a program of our own)."""
    value = meta.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EntryError(join_path("_meta", CONSOLE_META_KEY, key), "must be a list of strings")
    return list(value)


def _meta_transport(meta: Mapping[str, Any], command: list[str]) -> Transport | None:
    """Our ``transport``: how the version's ``command`` is reached: ``stdio`` (the default),
    ``streamable-http`` (it serves HTTP on ``{port}`` in its arguments or on ``$PORT``)."""
    value = meta.get("transport")
    if value is None:
        return None
    path = join_path("_meta", CONSOLE_META_KEY, "transport")
    if value not in COMMAND_TRANSPORTS:
        raise EntryError(path, _one_of(list(COMMAND_TRANSPORTS)))
    if not command:
        raise EntryError(path, "says how the command is reached, but there is no command")
    return Transport(value)


def _meta_system_packages(meta: Mapping[str, Any]) -> list[str]:
    """Our ``systemPackages``: Debian packages installed into the images built for the version."""
    path = join_path("_meta", CONSOLE_META_KEY, "systemPackages")
    names = _meta_strings(meta, "systemPackages")
    for index, name in enumerate(names):
        problem = system_package_problem(name)
        if problem is not None:
            raise EntryError(join_path(path, index), problem)
    try:
        return system_package_names(names)
    except ValueError as exc:
        raise EntryError(path, str(exc)) from None


def _meta_pass_env(meta: Mapping[str, Any]) -> list[str]:
    """Our ``passEnv``: host variables the server needs by name (CA bundles, proxies)."""
    path = join_path("_meta", CONSOLE_META_KEY, "passEnv")
    names = _meta_strings(meta, "passEnv")
    try:
        return pass_env_names(names)
    except ValueError as exc:
        raise EntryError(path, str(exc)) from None


def _meta_api_spec(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Our ``apiSpec`` (what the server listed, as ``dev publish`` generates it: tools,
    resources, templates, prompts), else our ``tools`` (name, description, inputSchema
    each), kept as the version's api_spec."""
    spec = meta.get(API_SPEC_KEY)
    if spec is not None:
        path = join_path("_meta", CONSOLE_META_KEY, API_SPEC_KEY)
        if not isinstance(spec, Mapping):
            raise EntryError(path, "must be an object")
        for key, value in spec.items():
            if isinstance(value, list) and not all(isinstance(v, Mapping) for v in value):
                raise EntryError(join_path(path, key), "must be a list of objects")
        return copy.deepcopy(dict(spec))
    tools = meta.get("tools")
    if tools is None:
        return {}
    path = join_path("_meta", CONSOLE_META_KEY, "tools")
    if not isinstance(tools, list):
        raise EntryError(path, "must be a list of tools")
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
            raise EntryError(join_path(path, i, "name"), "required")
        if not isinstance(tool.get("inputSchema", {}), Mapping):
            raise EntryError(join_path(path, i, "inputSchema"), "must be an object")
    return {"tools": copy.deepcopy(tools)} if tools else {}


def _meta_session_mode(meta: Mapping[str, Any]) -> str | None:
    """Our ``sessionMode``: ``shared`` when one connection may serve many clients (the
    server keeps no state of theirs), ``per-session`` when each needs its own."""
    value = meta.get("sessionMode")
    if value is not None and value not in SESSION_MODES:
        raise EntryError(
            join_path("_meta", CONSOLE_META_KEY, "sessionMode"), _one_of(list(SESSION_MODES))
        )
    return value if isinstance(value, str) else None


def _meta_tags(meta: Mapping[str, Any]) -> list[str]:
    tags = meta.get("tags")
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise EntryError(join_path("_meta", CONSOLE_META_KEY, "tags"), "must be a list of strings")
    return list(dict.fromkeys(t.strip() for t in tags if t.strip()))
