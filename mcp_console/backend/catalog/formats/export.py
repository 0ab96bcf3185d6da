"""Export a service version as an official ``server.json`` (schema 2025-12-11)."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlparse

from mcp_console.backend.catalog.formats.common import (
    CONSOLE_META_KEY,
    INPUT_FORMATS,
    PACKAGE_SOURCE_KEY,
    registry_name,
)
from mcp_console.backend.catalog.formats.server_json import (
    API_SPEC_KEY,
    SCHEMA_URL,
    validate_server_json,
)
from mcp_console.schemas.catalog import PackageRef, ServiceDetail, Transport, VersionView
from mcp_console.schemas.coercion import as_text
from mcp_console.schemas.config_schema import is_secret

MAX_DESCRIPTION = 100
MAX_TITLE = 100
MAX_ICON_URL = 255


def export_server_json(service: ServiceDetail, version: VersionView) -> dict[str, Any]:
    """The version as a server.json document that validates against the official schema.

    Names without a registry namespace are exported as ``io.mcp-console/<name>`` (our original
    name travels in ``_meta["io.mcp-console/catalog"]``, so a re-import gets it back); a
    description longer than the schema's 100 characters is cut at a word with an ellipsis.

    Raises:
        Invalid: the version cannot be expressed as server.json (e.g. an HTTP package with no
            URL); ``field`` is the JSON path of the offending value.
    """
    name = registry_name(service.name)
    description = service.description.strip() or service.display_name or service.name
    doc: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "name": name,
        "description": _trim(" ".join(description.split()), MAX_DESCRIPTION),
        "version": version.version,
    }
    title = " ".join(service.display_name.split())
    if title:
        doc["title"] = _trim(title, MAX_TITLE)
    if service.repository_url and _is_web_url(service.repository_url):
        url = service.repository_url
        doc["repository"] = {"url": url, "source": _forge(url)}
    if service.documentation_url and _is_web_url(service.documentation_url):
        doc["websiteUrl"] = service.documentation_url
    icon = service.icon_url
    if icon and icon.startswith("https://") and len(icon) <= MAX_ICON_URL:
        doc["icons"] = [{"src": icon}]
    packages = _packages(version)
    if packages:
        doc["packages"] = packages
    if version.remotes:
        doc["remotes"] = [copy.deepcopy(r) for r in version.remotes]
    ours: dict[str, Any] = {}
    if name != service.name:
        ours["name"] = service.name
    if service.category:
        ours["category"] = service.category
    if service.tags:
        ours["tags"] = list(service.tags)
    if service.readme:
        ours["readme"] = service.readme
    # A command next to an image is the image's arguments (exported with its package).
    if version.command and not version.docker_image:
        ours["command"] = list(version.command)
        # Without a package to carry it, a command serving HTTP says so itself.
        if version.transport != Transport.STDIO and not version.packages:
            ours["transport"] = version.transport.value
    if set(version.api_spec) - {"tools"}:
        # A spec generated from the server (dev publish): resources, prompts and all.
        ours[API_SPEC_KEY] = copy.deepcopy(version.api_spec)
    elif version.api_spec.get("tools"):
        ours["tools"] = copy.deepcopy(version.api_spec["tools"])
    if version.system_packages:
        ours["systemPackages"] = list(version.system_packages)
    if version.pass_env:
        ours["passEnv"] = list(version.pass_env)
    if version.session_mode:
        ours["sessionMode"] = version.session_mode
    if ours:
        doc["_meta"] = {CONSOLE_META_KEY: ours}
    validate_server_json(doc)
    return doc


def _packages(version: VersionView) -> list[dict[str, Any]]:
    packages = [_package(ref, version, first=i == 0) for i, ref in enumerate(version.packages)]
    image = version.docker_image
    if image and not any(p["registryType"] == "oci" for p in packages):
        ref = PackageRef(
            registry_type="oci",
            identifier=image,
            runtime_hint="docker",
            transport=version.transport,
            arguments=version.command,
        )
        packages.append(_package(ref, version, first=not packages))
    return packages


def _package(ref: PackageRef, version: VersionView, *, first: bool) -> dict[str, Any]:
    """A package: its original server.json form when it has one, otherwise built from fields."""
    source = (ref.model_extra or {}).get(PACKAGE_SOURCE_KEY)
    if isinstance(source, dict):
        return copy.deepcopy(source)
    package: dict[str, Any] = {"registryType": ref.registry_type, "identifier": ref.identifier}
    # An OCI image carries its tag in the identifier; server.json gives it no version.
    if ref.version and ref.version != "latest" and ref.registry_type != "oci":
        package["version"] = ref.version
    hint = ref.runtime_hint or ("docker" if ref.registry_type == "oci" else None)
    if hint:
        package["runtimeHint"] = hint
    package["transport"] = {"type": str(ref.transport)}
    if ref.transport != Transport.STDIO:
        url = next((r.get("url") for r in version.remotes if r.get("type") == ref.transport), None)
        if url:
            package["transport"]["url"] = url
    if ref.arguments:
        package["packageArguments"] = [{"type": "positional", "value": a} for a in ref.arguments]
    env = _environment(version.config_schema) if first else []
    if env:
        package["environmentVariables"] = env
    return package


def _environment(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """``x-env`` properties of a config schema as server.json environment variables."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    required = set(schema.get("required") or [])
    out = []
    for key, prop in properties.items():
        if not isinstance(prop, dict) or not isinstance(prop.get("x-env"), str):
            continue
        spec: dict[str, Any] = {"name": prop["x-env"]}
        fmt = INPUT_FORMATS.get(str(prop.get("type")))
        values = {
            "description": prop.get("description"),
            "isRequired": key in required or None,
            "isSecret": is_secret(prop) or None,
            "default": _text(prop.get("default")),
            "placeholder": _text((prop.get("examples") or [None])[0]),
            "choices": [_text(c) for c in enum]
            if isinstance(enum := prop.get("enum"), list)
            else None,
        }
        spec |= {k: v for k, v in values.items() if v is not None}
        if fmt:
            spec["format"] = fmt
        if prop.get("readOnly") and "const" in prop:
            spec["value"] = _text(prop["const"])
            spec.pop("default", None)
        out.append(spec)
    return out


def _text(value: object) -> str | None:
    return None if value is None else as_text(value)


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def _is_web_url(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _forge(url: str) -> str:
    host = (urlparse(url).hostname or "").lower()
    for forge in ("github", "gitlab", "bitbucket"):
        if host == f"{forge}.com" or host.endswith(f".{forge}.com") or host == f"{forge}.org":
            return forge
    return host or "git"
