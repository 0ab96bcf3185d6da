"""Shared pieces of the catalog formats: the import entry, JSON paths, inputs and argv rendering."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml
from pydantic import ValidationError

from mcp_console.schemas.catalog import (
    ImportProblem,
    ServiceCreate,
    ServiceStatus,
    VersionCreate,
)
from mcp_console.schemas.coercion import coerce_or_keep
from mcp_console.schemas.config_schema import (
    ARGUMENT_MARK,
    DRIVER_PORT,
    INSTRUCTION_MARK,
    PATH_FORMAT,
    SECRET_MARKS,
    has_placeholder,
    not_a_value,
    placeholder,
)

# Our own reverse-DNS `_meta` key: category, tags and (when export had to rewrite it) our name.
CONSOLE_META_KEY = "io.mcp-console/catalog"
OFFICIAL_META_KEY = "io.modelcontextprotocol.registry/official"
PUBLISHER_META_KEY = "io.modelcontextprotocol.registry/publisher-provided"
# Where a PackageRef keeps the package exactly as server.json spells it, so export is lossless.
PACKAGE_SOURCE_KEY = "server_json"
# server.json's input ``format`` of each JSON type (any other type is a string input).
INPUT_FORMATS = {"number": "number", "integer": "number", "boolean": "boolean"}
# Names without a registry namespace are exported under this one.
CONSOLE_NAMESPACE = "io.mcp-console"

_REGISTRY_NAME = re.compile(r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$")
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_SEMVER = re.compile(r"^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
# Names that almost always carry credentials; used only where the source does not say.
_SECRET_NAME = re.compile(
    r"(?i)(?:^|_)(?:API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|PASS|CREDENTIALS?|PAT|AUTH)(?:_|$)"
)
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NOT_KEY = re.compile(r"[^A-Za-z0-9]+")
_KEY_WORDS = 6


@dataclass(frozen=True)
class ImportEntry:
    """One catalog entry turned into what CatalogService stores."""

    origin: str
    service: ServiceCreate
    version: VersionCreate
    status: ServiceStatus
    status_message: str | None


class EntryError(Exception):
    """A bad entry; ``path`` is the JSON path of the offending value inside the entry."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def problem(self, origin: str, entry: str | None) -> ImportProblem:
        """The error as an import problem."""
        return ImportProblem(origin=origin, entry=entry, reason=str(self))


class DocumentError(Exception):
    """A document that cannot be read at all (not JSON/YAML, or of no known shape)."""


def json_path(parts: Iterable[str | int]) -> str:
    """Render path parts as ``packages[0].transport.url``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def join_path(base: str, *parts: str | int) -> str:
    """Append parts to an already rendered path."""
    tail = json_path(parts)
    if not base:
        return tail
    if not tail:
        return base
    return base + tail if tail.startswith("[") else f"{base}.{tail}"


def load_json(text: str) -> Any:
    """Parse JSON, naming the line and column of a syntax error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc


def load_yaml(text: str) -> Any:
    """Parse YAML, naming the line and column of a syntax error."""
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader (C or Python)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "syntax error"
        raise DocumentError(f"malformed YAML{where}: {what}") from exc
    except yaml.YAMLError as exc:
        raise DocumentError(f"malformed YAML: {exc}") from exc
    return _jsonable(data)


def _jsonable(value: Any) -> Any:
    """YAML's extra types (dates, non-string keys) as JSON's, so what we store serialises."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def entry_label(raw: object) -> str | None:
    """The entry's name for messages, when it has a usable one."""
    if isinstance(raw, Mapping):
        name = raw.get("name")
        if isinstance(name, str) and name.strip():
            return name
    return None


def expect_mapping(value: object, path: str) -> Mapping[str, Any]:
    """``value`` as a mapping, or an EntryError naming the path."""
    if not isinstance(value, Mapping):
        raise EntryError(path, f"must be an object, not {type_name(value)}")
    return value


def expect_list(value: object, path: str) -> list[Any]:
    """``value`` as a list (``None`` is an empty list), or an EntryError naming the path."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise EntryError(path, f"must be a list, not {type_name(value)}")
    return value


def opt_str(mapping: Mapping[str, Any], key: str, path: str) -> str | None:
    """An optional string field; blank counts as absent."""
    value = mapping.get(key)
    if value is None:
        return None
    if isinstance(value, bool):  # YAML reads an unquoted ``true`` as a boolean
        return "true" if value else "false"
    if isinstance(value, date):  # and an unquoted 2025-05-16 as a date
        return value.isoformat()
    if not isinstance(value, str | int | float):
        raise EntryError(join_path(path, key), f"must be a string, not {type_name(value)}")
    text = str(value).strip()
    return text or None


def req_str(mapping: Mapping[str, Any], key: str, path: str) -> str:
    """A required, non-blank string field."""
    value = opt_str(mapping, key, path)
    if value is None:
        raise EntryError(join_path(path, key), "required")
    return value


def type_name(value: object) -> str:
    """JSON's name for the type of ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, Mapping) else type(value).__name__


def semver_or_none(text: str | None) -> str | None:
    """``text`` as a semantic version (a leading ``v`` dropped), or None."""
    if not text:
        return None
    match = _SEMVER.match(text.strip())
    return match.group(1) if match else None


def remote_kind(kind: str | None, url: str, path: str) -> str:
    """A remote's transport; when blank, its URL tells (an ``/sse`` endpoint is SSE)."""
    kind = kind or ("sse" if url.rstrip("/").endswith("/sse") else "streamable-http")
    if kind not in ("sse", "streamable-http"):
        raise EntryError(path, 'must be "sse" or "streamable-http"')
    return kind


def looks_secret(name: str) -> bool:
    """Whether a variable's name says it carries a credential."""
    return bool(_SECRET_NAME.search(name))


def last_segment(name: str) -> str:
    """``io.github.acme/weather`` → ``weather``."""
    return name.rstrip("/").rsplit("/", 1)[-1]


def registry_name(name: str) -> str:
    """Our service name as a registry server name (``namespace/name``, exactly one slash).

    A name that already fits keeps it; any other goes under ``io.mcp-console/``, its slashes
    turned into dots, so ``sqlite`` exports as ``io.mcp-console/sqlite``.
    """
    if _REGISTRY_NAME.match(name):
        return name
    return f"{CONSOLE_NAMESPACE}/{name.replace('/', '.')}"


def image_has_tag(image: str) -> bool:
    """Whether an image reference pins a tag or digest."""
    return "@" in image or ":" in image.rsplit("/", 1)[-1]


def input_property(
    spec: Mapping[str, Any], *, env: str | None = None, secret_by_name: str | None = None
) -> tuple[dict[str, Any], bool]:
    """A server.json ``Input`` as a JSON Schema property, and whether the user must give it.

    ``secret_by_name``: when the input does not say whether it is secret, guess from this name
    (a credential wrongly shown in clear costs more than a plain value hidden). A ``value`` or
    ``default`` that is an instruction (``not_a_value``: ``YOUR_API_KEY_HERE``) is never kept
    as one: the input becomes required, the catalog's text its hint (``x-instruction``).
    """
    fmt = spec.get("format") or "string"
    json_type = fmt if fmt in ("number", "boolean") else "string"
    prop: dict[str, Any] = {"type": json_type}
    typed = {"type": json_type}  # server.json spells every value as text; we store the type
    if fmt == PATH_FORMAT:
        prop["x-format"] = PATH_FORMAT
    if isinstance(spec.get("description"), str) and spec["description"].strip():
        prop["description"] = spec["description"].strip()
    choices = spec.get("choices")
    if isinstance(choices, list) and choices:
        prop["enum"] = [coerce_or_keep(c, typed) for c in choices]
    instruction = catalog_instruction(spec)
    if spec.get("default") is not None and instruction is None:
        prop["default"] = coerce_or_keep(spec["default"], typed)
    if isinstance(spec.get("placeholder"), str) and spec["placeholder"]:
        prop["examples"] = [spec["placeholder"]]
    value = None if instruction is not None else spec.get("value")
    fixed = isinstance(value, str) and not has_placeholder(value)
    if fixed:
        prop["const"] = prop["default"] = coerce_or_keep(value, typed)
        prop["readOnly"] = True
    elif isinstance(value, str):
        prop["x-template"] = value
    if instruction is not None:
        prop[INSTRUCTION_MARK] = instruction
        prop.setdefault("examples", [instruction])
    secret = spec.get("isSecret")
    if secret is None and secret_by_name is not None and not fixed:
        secret = looks_secret(secret_by_name)
    if secret:
        prop |= SECRET_MARKS
    if env is not None:
        prop["x-env"] = env
    required = bool(spec.get("isRequired")) or instruction is not None
    return prop, required and not fixed


def catalog_instruction(spec: Mapping[str, Any]) -> str | None:
    """The input's ``value`` (else ``default``) when it is an instruction to the reader rather
    than a value to pass (``<port number ex. 5672>``), else ``None``."""
    for key in ("value", "default"):
        text = spec.get(key)
        if isinstance(text, str) and text.strip():
            return text if not_a_value(text) is not None else None
    return None


def argument_input(arg: Mapping[str, Any]) -> str | None:
    """The configuration key that fills a server.json ``Argument`` the user must give, if any.

    A required argument with no value takes its ``valueHint``; one whose value is an
    instruction (``--port <port number ex. 5672>``) takes a key made from its flag
    (``username``), else from its hint or description (``port`` is the driver's own, so
    ``--port`` takes its description's words): the instruction itself is never passed.
    """
    hint = arg.get("valueHint")
    if catalog_instruction(arg) is None:
        if arg.get("value", arg.get("default")) is None and arg.get("isRequired") and hint:
            return str(hint)
        return None
    candidates = [str(arg.get("name") or "").lstrip("-")] if arg.get("type") == "named" else []
    if isinstance(hint, str) and not_a_value(hint) is None:
        candidates.append(hint)
    candidates += [str(arg.get("description") or ""), str(arg.get("value") or "")]
    for text in candidates:
        words = [w for w in _NOT_KEY.split(text.lower()) if w and w not in ("your", "here")]
        key = "_".join(words[:_KEY_WORDS])
        if key and key != DRIVER_PORT:
            return key
    return "value"


class ConfigSchemaBuilder:
    """Collects configuration properties into a JSON Schema object (the first of a name wins)."""

    def __init__(self) -> None:
        self._properties: dict[str, dict[str, Any]] = {}
        self._required: list[str] = []

    def __contains__(self, key: str) -> bool:
        return key in self._properties

    def add(self, key: str, prop: dict[str, Any], *, required: bool = False) -> None:
        """Add a property unless one of that name is already there."""
        if key not in self._properties:
            self._properties[key] = prop
        if required and key not in self._required:
            self._required.append(key)

    def add_env(self, spec: Mapping[str, Any]) -> None:
        """Add a server.json environment variable (``KeyValueInput``)."""
        name = str(spec["name"])
        prop, required = input_property(spec, env=name, secret_by_name=name)
        self.add(name, prop, required=required)
        self.add_variables(spec.get("variables"), **{"x-variable-of": name})

    def add_header(self, spec: Mapping[str, Any]) -> None:
        """Add the inputs of an HTTP header: the header itself, or the variables in its value."""
        name = str(spec["name"])
        if spec.get("value") is None:
            prop, required = input_property(spec, secret_by_name=name)
            prop["x-header"] = name
            self.add(name, prop, required=required)
        self.add_variables(spec.get("variables"), **{"x-header": name})

    def add_argument(self, spec: Mapping[str, Any]) -> None:
        """Add what a server.json ``Argument`` leaves to the user (``argument_input``: the
        value of its ``{valueHint}`` when it has none, or in place of an instruction, as
        ``render_arguments`` writes it), and the variables in its value; both go into the
        arguments, not the environment."""
        key = argument_input(spec)
        if key is not None:
            prop, _ = input_property(spec)
            prop[ARGUMENT_MARK] = True
            self.add(key, prop, required=True)
        self.add_variables(spec.get("variables"), **{ARGUMENT_MARK: True})

    def add_variables(self, variables: object, **marks: str | bool) -> None:
        """Add ``{name: Input}`` template variables, each marked with ``marks``."""
        if not isinstance(variables, Mapping):
            return
        for var, spec in variables.items():
            if isinstance(spec, Mapping):
                prop, required = input_property(spec, secret_by_name=str(var))
                prop.update(marks)
                self.add(str(var), prop, required=required)

    def build(self) -> dict[str, Any]:
        """The schema; ``{}`` when there is nothing to configure."""
        if not self._properties:
            return {}
        schema: dict[str, Any] = {"type": "object", "properties": self._properties}
        if self._required:
            schema["required"] = list(self._required)
        return schema


def render_arguments(arguments: Sequence[Mapping[str, Any]]) -> list[str]:
    """server.json ``Argument`` objects as argv strings, for spawning without a shell.

    Named arguments render as two items, ``--flag value`` (the form most CLIs accept); a required
    named argument with neither value nor hint is a bare flag. A value the user must still give
    renders as ``{key}`` (``argument_input``: the registry's own placeholder syntax), so does a
    value that is an instruction; optional inputs with no value are left out.
    """
    argv: list[str] = []
    for arg in arguments:
        key = argument_input(arg)
        value = placeholder(key) if key is not None else arg.get("value", arg.get("default"))
        if arg.get("type") == "named":
            name = [str(arg.get("name", ""))]
            if value is not None:
                argv += [*name, str(value)]
            elif arg.get("isRequired"):
                argv += name
        elif value is not None:
            argv.append(str(value))
    return argv


def build_entry(
    origin: str,
    service: dict[str, Any],
    version: dict[str, Any],
    *,
    status: ServiceStatus = ServiceStatus.PUBLISHED,
    status_message: str | None = None,
    paths: Mapping[str, str] | None = None,
) -> ImportEntry:
    """Validate the DTOs; a field our rules reject becomes an EntryError at its source path."""
    paths = paths or {}
    try:
        service_dto = ServiceCreate.model_validate(service)
    except ValidationError as exc:
        raise _pydantic_error(exc, paths) from exc
    try:
        version_dto = VersionCreate.model_validate(version)
    except ValidationError as exc:
        raise _pydantic_error(exc, paths) from exc
    return ImportEntry(origin, service_dto, version_dto, status, status_message)


def _pydantic_error(exc: ValidationError, paths: Mapping[str, str]) -> EntryError:
    first = exc.errors()[0]
    loc = [p for p in first["loc"] if isinstance(p, str | int)]
    field = str(loc[0]) if loc else ""
    path = paths.get(field, json_path(loc))
    return EntryError(path, str(first["msg"]))
