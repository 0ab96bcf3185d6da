"""Docker's MCP catalog: one ``server.yaml`` per server, with an optional ``tools.json``."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from mcp_console.backend.catalog.formats.common import (
    INPUT_FORMATS,
    ConfigSchemaBuilder,
    DocumentError,
    EntryError,
    ImportEntry,
    build_entry,
    expect_list,
    expect_mapping,
    join_path,
    load_json,
    looks_secret,
    opt_str,
    remote_kind,
    req_str,
    semver_or_none,
)
from mcp_console.backend.catalog.formats.server_json import package_ref
from mcp_console.schemas.catalog import Transport
from mcp_console.schemas.coercion import as_text
from mcp_console.schemas.config_schema import SECRET_MARKS, is_secret, placeholder

_KINDS = ("server", "remote", "poci")
# ``{{server.param}}`` or ``{{server.param|filter}}``: a reference to a configuration parameter.
_TEMPLATE = re.compile(r"\{\{\s*([^}|]+?)\s*(?:\|[^}]*)?\}\}")
_SHELL_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Docker's entries carry no version. Take the image tag when it is semver (a re-import of the same
# entry then yields the same version, and a retagged image a new one); otherwise 1.0.0, so that
# every re-import of an unchanged entry maps to the same immutable version.
DEFAULT_VERSION = "1.0.0"


def is_docker_entry(raw: object) -> bool:
    """Whether a parsed YAML/JSON object is a Docker catalog ``server.yaml``."""
    if not isinstance(raw, Mapping) or "name" not in raw:
        return False
    if "version" in raw or "version_detail" in raw or "packages" in raw:
        return False
    return raw.get("type") in _KINDS or "image" in raw or "about" in raw


def entry_from_docker(raw: object, origin: str, extra_files: Mapping[str, str]) -> ImportEntry:
    """Map one Docker catalog entry (plus its ``tools.json``/``readme.md`` text) to an ImportEntry.

    Raises:
        EntryError: with the path inside ``server.yaml`` (or ``tools.json``) of what is wrong.
    """
    doc = expect_mapping(raw, "")
    name = req_str(doc, "name", "")
    kind = opt_str(doc, "type", "") or ("remote" if "remote" in doc else "server")
    if kind not in _KINDS:
        raise EntryError("type", "must be one of " + ", ".join(f'"{k}"' for k in _KINDS))
    meta = expect_mapping(doc.get("meta") or {}, "meta")
    about = expect_mapping(doc.get("about") or {}, "about")
    source = expect_mapping(doc.get("source") or {}, "source")
    image = opt_str(doc, "image", "")
    if kind == "server" and image is None:
        raise EntryError("image", 'required for an entry of type "server"')
    config = _Config(name, expect_mapping(doc.get("config") or {}, "config"))
    config.read_oauth(expect_list(doc.get("oauth"), "oauth"))
    run = expect_mapping(doc.get("run") or {}, "run")
    command = [config.rewrite(str(c)) for c in expect_list(run.get("command"), "run.command")]
    packages = []
    remotes: list[dict[str, Any]] = []
    transport = Transport.STDIO
    if kind == "server" and image is not None:
        packages.append(package_ref(_oci_package(image, command, run, config)))
    elif kind == "remote":
        remotes.append(_remote(doc.get("remote"), config))
        transport = Transport(remotes[0]["type"])
    tag = image.rsplit("/", 1)[-1].partition(":")[2] if image else ""
    service = {
        "name": name,
        "display_name": opt_str(about, "title", "about") or name,
        "description": opt_str(about, "description", "about") or "",
        "category": opt_str(meta, "category", "meta"),
        "tags": _tags(meta.get("tags")),
        "repository_url": opt_str(source, "project", "source"),
        "icon_url": opt_str(about, "icon", "about"),
        "readme": extra_files.get("readme.md"),
    }
    version = {
        "version": semver_or_none(tag) or DEFAULT_VERSION,
        "docker_image": image,
        "packages": packages,
        "command": command,
        "transport": transport,
        "config_schema": config.schema(),
        "api_spec": _api_spec(doc, extra_files.get("tools.json")),
        "remotes": remotes,
    }
    paths = {
        "display_name": "about.title",
        "description": "about.description",
        "category": "meta.category",
        "tags": "meta.tags",
        "repository_url": "source.project",
        "icon_url": "about.icon",
        "docker_image": "image",
        "readme": "readme.md",
    }
    return build_entry(origin, service, version, paths=paths)


class _Config:
    """An entry's ``config`` block: secrets, env and parameters as one JSON Schema.

    Environment variables are keyed by their name (``x-env``); parameters that no variable
    binds keep their own name. ``{{server.param}}`` references elsewhere are rewritten to
    ``{key}``, the placeholder syntax of server.json, naming that property.
    """

    def __init__(self, server: str, config: Mapping[str, Any]) -> None:
        self._server = server
        self._builder = ConfigSchemaBuilder()
        self.env_vars: list[dict[str, Any]] = []
        self._params = _parameters(config)
        entries = expect_list(config.get("env"), "config.env")
        self._bound: dict[tuple[str, ...], str] = {}
        for i, raw in enumerate(entries):
            entry = expect_mapping(raw, join_path("config.env", i))
            value = entry.get("value")
            whole = _TEMPLATE.fullmatch(value.strip()) if isinstance(value, str) else None
            if whole:
                self._bound.setdefault(self._param_path(whole.group(1)), _env_name(entry, i))
        for i, raw in enumerate(expect_list(config.get("secrets"), "config.secrets")):
            self._add_secret(expect_mapping(raw, join_path("config.secrets", i)), i)
        for i, entry in enumerate(entries):
            self._add_env(entry, i)
        self._add_unbound_parameters()

    def _param_path(self, ref: str) -> tuple[str, ...]:
        prefix = self._server + "."
        return tuple((ref[len(prefix) :] if ref.startswith(prefix) else ref).split("."))

    def _param(self, path: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
        """The parameter's schema ({} if undeclared) and whether it is required all the way down."""
        node: Any = self._params
        required = True
        for part in path:
            required = required and part in (node.get("required") or [])
            node = (node.get("properties") or {}).get(part)
            if not isinstance(node, Mapping):
                return {}, False
        return copy.deepcopy(dict(node)), required

    def rewrite(self, text: str) -> str:
        """``--level={{aks.access_level}}`` → ``--level={access_level}``."""

        def key(match: re.Match[str]) -> str:
            path = self._param_path(match.group(1))
            return placeholder(self._bound.get(path, ".".join(path)))

        return _TEMPLATE.sub(key, text)

    def _add_secret(self, secret: Mapping[str, Any], i: int) -> None:
        path = join_path("config.secrets", i)
        env = req_str(secret, "env", path)
        required = secret.get("required", True) is not False
        prop: dict[str, Any] = {"type": "string"}
        spec: dict[str, Any] = {"name": env, "isRequired": required, "isSecret": True}
        description = opt_str(secret, "description", path)
        _describe(prop, spec, description, opt_str(secret, "example", path))
        prop |= {"x-env": env, **SECRET_MARKS}
        self._builder.add(env, prop, required=required)
        self.env_vars.append(spec)

    def _add_env(self, entry: Mapping[str, Any], i: int) -> None:
        path = join_path("config.env", i)
        env = _env_name(entry, i)
        value = entry.get("value")
        example = opt_str(entry, "example", path)
        description = opt_str(entry, "description", path)
        whole = _TEMPLATE.fullmatch(value.strip()) if isinstance(value, str) else None
        spec: dict[str, Any] = {"name": env}
        if value is not None and not whole:
            text = self.rewrite(str(value))
            fixed = text == str(value)
            prop: dict[str, Any] = {"type": "string", "x-env": env}
            if fixed:
                prop |= {"const": text, "default": text, "readOnly": True}
            else:
                prop["x-template"] = text
            spec["value"] = text
            _describe(prop, spec, description, example)
            self._builder.add(env, prop)
            self.env_vars.append(spec)
            return
        if whole:
            prop, required = self._param(self._param_path(whole.group(1)))
            prop.setdefault("type", "string")
            required = required or bool(entry.get("required"))
        else:
            prop, required = {"type": "string"}, bool(entry.get("required"))
        if entry.get("default") is not None:
            prop["default"] = entry["default"]
        _describe(prop, spec, description or prop.pop("description", None), example)
        spec |= {"isRequired": required, "format": INPUT_FORMATS.get(str(prop["type"]), "string")}
        if prop.get("default") is not None:
            spec["default"] = as_text(prop["default"])
        if isinstance(prop.get("enum"), list):
            spec["choices"] = [as_text(c) for c in prop["enum"]]
        prop["x-env"] = env
        # Docker marks only config.secrets as secret; credentials passed as plain env still are.
        if looks_secret(env):
            prop |= SECRET_MARKS
            spec["isSecret"] = True
        self._builder.add(env, prop, required=required)
        self.env_vars.append(spec)

    def _add_unbound_parameters(self) -> None:
        required = self._params.get("required") or []
        for key, schema in (self._params.get("properties") or {}).items():
            if not isinstance(schema, Mapping) or key in self._builder:
                continue
            if all(path in self._bound for path in _leaves(schema, (str(key),))):
                continue
            self._builder.add(str(key), copy.deepcopy(dict(schema)), required=key in required)

    def read_oauth(self, providers: list[Any]) -> None:
        """OAuth-backed servers also take a token directly (the console runs no OAuth flow)."""
        for i, raw in enumerate(providers):
            entry = expect_mapping(raw, join_path("oauth", i))
            env = opt_str(entry, "env", join_path("oauth", i))
            if env and env not in self._builder:
                provider = opt_str(entry, "provider", join_path("oauth", i)) or "the provider"
                prop: dict[str, Any] = {"type": "string"}
                prop["description"] = f"OAuth access token for {provider}"
                prop |= {"x-env": env, **SECRET_MARKS}
                self._builder.add(env, prop)

    def is_secret(self, key: str) -> bool:
        """Whether the property ``key`` holds a secret."""
        return is_secret(self.schema().get("properties", {}).get(key, {}))

    def schema(self) -> dict[str, Any]:
        """The configuration's JSON Schema ({} when there is nothing to set)."""
        return self._builder.build()


def _env_name(entry: Mapping[str, Any], i: int) -> str:
    # One entry in the catalog files its variable under ``env`` with ``name`` as a secret id.
    path = join_path("config.env", i)
    return opt_str(entry, "env", path) or req_str(entry, "name", path)


def _describe(
    prop: dict[str, Any], spec: dict[str, Any], description: str | None, example: str | None
) -> None:
    if description:
        prop["description"] = spec["description"] = description
    if example:
        prop["examples"] = [example]
        spec["placeholder"] = example


def _parameters(config: Mapping[str, Any]) -> Mapping[str, Any]:
    params = config.get("parameters")
    if isinstance(params, Mapping):
        return params
    # A mis-indented block leaves type/properties/required directly under ``config``.
    if isinstance(config.get("properties"), Mapping):
        return {k: config[k] for k in ("type", "properties", "required") if k in config}
    return {}


def _leaves(schema: Mapping[str, Any], path: tuple[str, ...]) -> list[tuple[str, ...]]:
    children = schema.get("properties")
    if not isinstance(children, Mapping) or not children:
        return [path]
    return [
        leaf
        for key, child in children.items()
        if isinstance(child, Mapping)
        for leaf in _leaves(child, (*path, str(key)))
    ]


def _oci_package(
    image: str, command: list[str], run: Mapping[str, Any], config: _Config
) -> dict[str, Any]:
    """The entry as a server.json ``oci`` package: run options become ``docker run`` arguments."""
    runtime: list[dict[str, Any]] = []
    for flag, key in (("-v", "volumes"), ("-p", "ports")):
        for value in expect_list(run.get(key), join_path("run", key)):
            runtime.append({"type": "named", "name": flag, "value": config.rewrite(str(value))})
    user = opt_str(run, "user", "run")
    if user:
        runtime.append({"type": "named", "name": "--user", "value": config.rewrite(user)})
    env_vars = list(config.env_vars)
    known = {e["name"] for e in env_vars}
    for key, value in expect_mapping(run.get("env") or {}, "run.env").items():
        if str(key) not in known:
            env_vars.append({"name": str(key), "value": config.rewrite(str(value))})
    package: dict[str, Any] = {
        "registryType": "oci",
        "identifier": image,
        "runtimeHint": "docker",
        "transport": {"type": "stdio"},
    }
    if runtime:
        package["runtimeArguments"] = runtime
    if command:
        package["packageArguments"] = [{"type": "positional", "value": c} for c in command]
    if env_vars:
        package["environmentVariables"] = env_vars
    return package


def _remote(raw: object, config: _Config) -> dict[str, Any]:
    remote = expect_mapping(raw, "remote")
    url = req_str(remote, "url", "remote")
    kind = remote_kind(opt_str(remote, "transport_type", "remote"), url, "remote.transport_type")
    out: dict[str, Any] = {"type": kind, "url": url}
    headers = []
    for name, value in expect_mapping(remote.get("headers") or {}, "remote.headers").items():
        text = _SHELL_VAR.sub(lambda m: placeholder(m.group(1)), config.rewrite(str(value)))
        names = _SHELL_VAR.findall(str(value))
        secret = any(config.is_secret(n) or looks_secret(n) for n in names) or looks_secret(name)
        headers.append({"name": str(name), "value": text, "isRequired": True, "isSecret": secret})
    if headers:
        out["headers"] = headers
    return out


def _tags(raw: object) -> list[str]:
    tags = expect_list(raw, "meta.tags")
    return list(dict.fromkeys(str(t).strip() for t in tags if t is not None and str(t).strip()))


def _api_spec(doc: Mapping[str, Any], tools_json: str | None) -> dict[str, Any]:
    """Tools from ``tools.json`` (name/description/arguments) or the entry's own ``tools``."""
    tools: list[dict[str, Any]] = []
    if tools_json is not None:
        try:
            listed = load_json(tools_json)
        except DocumentError as exc:
            raise EntryError("tools.json", str(exc)) from exc
        for i, raw in enumerate(expect_list(listed, "tools.json")):
            tools.append(_tool(raw, join_path("tools.json", i)))
    if not tools:
        for i, raw in enumerate(expect_list(doc.get("tools"), "tools")):
            tools.append(_tool(raw, join_path("tools", i)))
    return {"tools": tools} if tools else {}


def _tool(raw: object, path: str) -> dict[str, Any]:
    tool = expect_mapping(raw, path)
    out: dict[str, Any] = {
        "name": req_str(tool, "name", path),
        "description": opt_str(tool, "description", path) or "",
    }
    schema = tool.get("inputSchema", tool.get("parameters"))
    if isinstance(schema, Mapping):
        out["inputSchema"] = copy.deepcopy(dict(schema))
    else:
        arguments = expect_list(tool.get("arguments"), join_path(path, "arguments"))
        out["inputSchema"] = _input_schema(arguments, path)
    for key in ("annotations", "container"):
        if isinstance(tool.get(key), Mapping):
            out[key] = copy.deepcopy(dict(tool[key]))
    return out


def _input_schema(arguments: list[Any], path: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for i, raw in enumerate(arguments):
        arg = expect_mapping(raw, join_path(path, "arguments", i))
        name = req_str(arg, "name", join_path(path, "arguments", i))
        prop: dict[str, Any] = {"type": arg.get("type") or "string"}
        if arg.get("desc") or arg.get("description"):
            prop["description"] = str(arg.get("desc") or arg.get("description"))
        if isinstance(arg.get("items"), Mapping):
            prop["items"] = copy.deepcopy(dict(arg["items"]))
        properties[name] = prop
        # Docker's tool arguments are required unless marked optional.
        if not arg.get("optional"):
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
