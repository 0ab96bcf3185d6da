"""The registry's 2025-05 seed (snake_case, ``version_detail``), converted to server.json shape."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from mcp_console.backend.catalog.formats.common import (
    EntryError,
    ImportEntry,
    expect_list,
    expect_mapping,
    image_has_tag,
    join_path,
    looks_secret,
    opt_str,
    remote_kind,
    req_str,
)
from mcp_console.backend.catalog.formats.server_json import entry_from_server

# The seed's registry names → server.json registryType, and the runtime that launches each
# (the registry's documented launch conventions; the seed itself names no runtime).
_REGISTRY_TYPES = {"docker": "oci"}
_RUNTIME_HINTS = {"npm": "npx", "pypi": "uvx", "oci": "docker"}
_ARGUMENT_KEYS = (
    ("runtime_arguments", "runtimeArguments"),
    ("package_arguments", "packageArguments"),
)
# uv's own options, which PyPI entries of the seed wrote before the program as its launch
# command (``uv --directory <checkout> run <program>``, ``uvx --with X --python 3.13 <program>``):
# they name the author's checkout and uv's choices, not arguments of the server.
_UV_OPTIONS = frozenset(
    {"--directory", "--project", "--with", "--with-editable", "--with-requirements", "--python"}
)
_UV_WORDS = frozenset({"run", "python"})
_NAME_SEPARATORS = re.compile(r"[-_.]+")
_INPUT_KEYS = {
    "description": "description",
    "is_required": "isRequired",
    "is_secret": "isSecret",
    "is_repeated": "isRepeated",
    "format": "format",
    "default": "default",
    "placeholder": "placeholder",
    "choices": "choices",
    "value": "value",
    "value_hint": "valueHint",
    "name": "name",
    "type": "type",
}


def is_seed_entry(raw: object) -> bool:
    """Whether a JSON object is a 2025-05 seed entry rather than a server.json."""
    if not isinstance(raw, Mapping):
        return False
    if "version_detail" in raw:
        return True
    packages = raw.get("packages")
    return isinstance(packages, list) and any(
        isinstance(p, Mapping) and "registry_name" in p for p in packages
    )


def entry_from_seed(raw: object, origin: str) -> ImportEntry:
    """Map one seed entry to an ImportEntry.

    Raises:
        EntryError: with the path inside the seed entry (e.g. ``packages[0].name: required``).
    """
    return entry_from_server(seed_to_server_json(raw), origin, validate=False)


def seed_to_server_json(raw: object) -> dict[str, Any]:
    """A seed entry rewritten in the 2025-12-11 server.json shape (camelCase)."""
    entry = expect_mapping(raw, "")
    detail = expect_mapping(entry.get("version_detail") or {}, "version_detail")
    if not any(opt_str(entry, k, "") for k in ("name", "description", "id")):
        raise EntryError("name", "required (the entry is blank: no name, id or description)")
    server: dict[str, Any] = {
        "name": req_str(entry, "name", ""),
        "description": opt_str(entry, "description", "") or "",
        "version": req_str(detail, "version", "version_detail"),
    }
    repository = entry.get("repository")
    if isinstance(repository, Mapping) and opt_str(repository, "url", "repository"):
        server["repository"] = {
            "url": req_str(repository, "url", "repository"),
            "source": opt_str(repository, "source", "repository") or "github",
        }
    website = opt_str(entry, "website_url", "")
    if website:
        server["websiteUrl"] = website
    packages = expect_list(entry.get("packages"), "packages")
    server["packages"] = [_package(p, join_path("packages", i)) for i, p in enumerate(packages)]
    remotes = expect_list(entry.get("remotes"), "remotes")
    server["remotes"] = [_remote(r, join_path("remotes", i)) for i, r in enumerate(remotes)]
    return server


def _package(raw: object, path: str) -> dict[str, Any]:
    package = expect_mapping(raw, path)
    registry = req_str(package, "registry_name", path).lower()
    registry_type = _REGISTRY_TYPES.get(registry, registry)
    identifier = req_str(package, "name", path)
    version = opt_str(package, "version", path)
    out: dict[str, Any] = {"registryType": registry_type, "identifier": identifier}
    if registry_type == "oci":
        # server.json keeps an image's tag in the identifier, not in ``version``.
        if version and version != "latest" and not image_has_tag(identifier):
            out["identifier"] = f"{identifier}:{version}"
    elif version and version != "latest":
        out["version"] = version
    hint = opt_str(package, "runtime_hint", path) or _RUNTIME_HINTS.get(registry_type)
    if hint:
        out["runtimeHint"] = hint
    out["transport"] = {"type": "stdio"}
    for key, camel in _ARGUMENT_KEYS:
        args = expect_list(package.get(key), join_path(path, key))
        converted = [
            a for i, raw in enumerate(args) for a in _argument(raw, join_path(path, key, i))
        ]
        if registry_type == "pypi" and key == "package_arguments":
            converted = _server_arguments(converted, identifier)
        if converted:
            out[camel] = converted
    env_path = join_path(path, "environment_variables")
    envs = expect_list(package.get("environment_variables"), env_path)
    if envs:
        out["environmentVariables"] = [_env(e, join_path(env_path, i)) for i, e in enumerate(envs)]
    return out


def _remote(raw: object, path: str) -> dict[str, Any]:
    remote = expect_mapping(raw, path)
    url = req_str(remote, "url", path)
    # One seed remote leaves the type blank; its URL says which transport it is.
    kind = opt_str(remote, "transport_type", path)
    return {"type": remote_kind(kind, url, join_path(path, "transport_type")), "url": url}


def _input(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, camel in _INPUT_KEYS.items():
        value = raw.get(key)
        if value is None or value == "":
            continue
        out[camel] = str(value) if camel in ("default", "value") else value
    if out.get("default") == out.get("value"):
        out.pop("default", None)
    return out


def _env(raw: object, path: str) -> dict[str, Any]:
    env = _input(expect_mapping(raw, path))
    env["name"] = req_str(env, "name", path)
    # The seed never says which variables are secret; its names do (API_KEY, TOKEN, ...).
    if "isSecret" not in env and looks_secret(env["name"]):
        env["isSecret"] = True
    return env


def _argument(raw: object, path: str) -> list[dict[str, Any]]:
    """One seed argument as server.json arguments.

    The seed wrote each argument as the command-line text it stands for (a named argument's
    ``name`` and ``value`` are both ``"--directory <path>"``); split that text into a flag and
    its value, and a multi-word positional into one positional per word, so argv rendering and
    export see what the author meant.
    """
    arg = _input(expect_mapping(raw, path))
    kind = arg.get("type") or ("named" if arg.get("name") else "positional")
    if kind not in ("named", "positional"):
        raise EntryError(join_path(path, "type"), 'must be "named" or "positional"')
    arg["type"] = kind
    if kind == "named":
        text = req_str(arg, "name", path)
        flag, *rest = _words(text)
        value = arg.pop("value", None)
        if value is None or value == text:
            value = " ".join(rest) or None
        elif value.startswith(flag):
            value = value[len(flag) :].strip() or None
        arg["name"] = flag
        if value is None:
            arg.pop("valueHint", None)
        else:
            arg["value"] = value
        return [arg]
    value = arg.get("value")
    if value is None:
        if not arg.get("valueHint"):
            raise EntryError(path, "a positional argument needs a value or a value_hint")
        return [arg]
    words = _words(value)
    if len(words) <= 1:
        return [arg]
    required = bool(arg.get("isRequired"))
    return [{"type": "positional", "value": word, "isRequired": required} for word in words]


def _server_arguments(args: list[dict[str, Any]], identifier: str) -> list[dict[str, Any]]:
    """A PyPI package's arguments without the uv command line the seed wrote before them.

    When the arguments name the package itself as the program (``mcp-server-motherduck``,
    or ``-m <its module>``) after nothing but uv's options, what follows is the server's
    own; otherwise they are kept as written (a script of a source checkout, say).
    """
    own = _name_key(identifier)
    i = 0
    while i < len(args):
        arg = args[i]
        word = str(arg.get("name") if arg["type"] == "named" else arg.get("value", ""))
        if (arg["type"] == "named" and word in _UV_OPTIONS) or word in _UV_WORDS:
            i += 1
            continue
        if word == "-m":
            module = arg.get("value") if arg["type"] == "named" else None
            after = i + 1
            if module is None and after < len(args):
                module, after = args[after].get("value"), after + 1
            if isinstance(module, str) and _name_key(module.split(".")[0]) == own:
                return args[after:]
            return args
        if arg["type"] == "positional" and _name_key(word) == own:
            return args[i + 1 :]
        return args
    return args


def _name_key(name: str) -> str:
    """A distribution or module name as PyPI compares them (``Foo_Bar`` → ``foo-bar``)."""
    return _NAME_SEPARATORS.sub("-", name).lower()


def _words(text: str) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError:  # an unbalanced quote in free text
        words = text.split()
    return words or [text]
