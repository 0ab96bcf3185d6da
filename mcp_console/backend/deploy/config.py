"""Deployment configuration: values and secrets checked against a version's JSON Schema."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError

from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.coercion import (
    as_text,
    coerce_or_explain,
    expected,
    json_types,
    parse_json,
    quote,
)
from mcp_console.schemas.config_schema import (
    fill,
    is_argument,
    is_secret,
    missing_problem,
    placeholders,
)
from mcp_console.schemas.errors import Invalid

Path = tuple[str, ...]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# jsonschema's own messages quote the value; these never do unless {got} (not for secrets).
_RULES = {
    "const": "is fixed to {limit} and cannot be changed",
    "format": "must be a valid {limit}{got}",
    "pattern": "must match the pattern {limit}",
    "minLength": "must be at least {limit} characters long",
    "maxLength": "must be at most {limit} characters long",
    "minimum": "must be at least {limit}{got}",
    "maximum": "must be at most {limit}{got}",
    "exclusiveMinimum": "must be greater than {limit}{got}",
    "exclusiveMaximum": "must be less than {limit}{got}",
    "multipleOf": "must be a multiple of {limit}{got}",
    "minItems": "must have at least {limit} items",
    "maxItems": "must have at most {limit} items",
    "uniqueItems": "must not repeat an item",
}
_FORMAT_NAMES = {"email": "email address", "uri": "URI", "ipv4": "IPv4 address", "uuid": "UUID"}
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.fullmatch(value))


_FORMATS = FormatChecker()
if "uri" not in _FORMATS.checkers:
    # jsonschema checks "uri" only with an optional package installed; a scheme is the minimum.
    _FORMATS.checks("uri")(_is_uri)


@dataclass(frozen=True)
class ResolvedConfig:
    """A deployment's configuration after validation, split into what may and may not be shown.

    ``values`` and ``secrets`` are keyed like the input (dotted for nested fields); ``env`` and
    ``secret_env`` are keyed by environment variable name (``x-env``, else the upper-cased key).
    ``texts`` holds each plain value as text by dotted key, to fill ``{name}`` in arguments.
    """

    values: dict[str, Any]
    secrets: dict[str, str] = field(repr=False)
    env: dict[str, str]
    secret_env: dict[str, str] = field(repr=False)
    texts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Given:
    value: Any
    secret: bool
    text: str | None  # a secret exactly as given, whatever it was coerced to for validation


def secret_fields(schema: dict[str, Any]) -> set[str]:
    """The keys of the secret properties (``is_secret``; dotted when nested)."""
    return {".".join(path) for path, _, secret in _leaves(schema) if secret}


def masked_config(values: dict[str, Any], secret_names: Iterable[str]) -> dict[str, Any]:
    """``values`` with each named secret shown as ``MASK`` (whether or not it is in ``values``)."""
    shown = copy.deepcopy(dict(values))
    for name in secret_names:
        *parents, leaf = name.split(".")
        node: dict[str, Any] | None = shown
        if name in shown:
            parents, leaf = [], name
        for part in parents:
            child = node.setdefault(part, {}) if node is not None else None
            node = child if isinstance(child, dict) else None
        if node is None:
            shown[name] = MASK
        else:
            node[leaf] = MASK
    return shown


def resolve_config(
    schema: dict[str, Any], values: dict[str, Any], secrets: dict[str, str]
) -> ResolvedConfig:
    """Validate ``values`` and ``secrets`` together, with defaults applied, and split them.

    Keys name the schema's properties (or their ``x-env``); a nested object's fields take dotted
    keys (``volume.host_share``) or the whole object as JSON. Text is coerced to the declared
    type first. A schema declaring no ``properties`` takes any key, each an environment variable
    of that name; otherwise unknown keys are refused unless ``additionalProperties`` allows them.
    An empty string for a required property counts as missing; a plain property given as a
    secret stays secret. An ``x-template`` property not given is rendered into the environment;
    an argument's property (``is_argument``) stays out of it.

    Args:
        schema: the version's ``config_schema`` (a JSON Schema object; ``{}`` takes any key).
        values: plain settings; text is coerced to the declared type.
        secrets: secret settings, as text.

    Returns:
        The typed values, the secrets, and both as environment variables.

    Raises:
        Invalid: naming the first wrong field as ``config.<key>``; the message never holds a
            secret's value.
    """
    validator_cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        validator_cls.check_schema(schema)
    except SchemaError as exc:
        where = ".".join(str(p) for p in exc.path) or "the top"
        raise Invalid(
            f"the service's configuration schema is not valid at {where}: {exc.message}",
            field="config_schema",
        ) from None
    given: dict[Path, _Given] = {}
    for key, raw in values.items():
        _take(schema, str(key), raw, False, given)
    for key, raw in secrets.items():
        _take(schema, str(key), raw, True, given)
    instance: dict[str, Any] = {}
    for path, item in given.items():
        _set(instance, path, item.value)
    _apply_defaults(schema, instance)
    marked = {path for path, _, secret in _leaves(schema) if secret}
    hidden = marked | {path for path, item in given.items() if item.secret}
    problems = [
        (path, "required, but the value given is empty")
        for path, item in given.items()
        if item.value == "" and path[-1] in _required(schema, path[:-1])
    ]
    validator = validator_cls(schema, format_checker=_FORMATS)
    for error in validator.iter_errors(instance):
        problems.extend(_problems(error, hidden))
    if problems:
        path, message = min(problems, key=lambda p: _rank(schema, p[0]))
        name = "config." + ".".join(path) if path else "config"
        raise Invalid(f"{name}: {message}", field=name)
    given_texts = {path: item.text for path, item in given.items() if item.text is not None}
    return _split(schema, instance, hidden, given_texts)


def _take(
    schema: dict[str, Any], key: str, raw: Any, as_secret: bool, into: dict[Path, _Given]
) -> None:
    """Find ``key``'s property, coerce ``raw`` to its type and record it (objects by field)."""
    name = f"config.{key}"
    parts = tuple(key.split("."))
    if not all(parts):
        raise Invalid(f"{name}: not a valid key", field=name)
    node: Mapping[str, Any] = schema
    path: list[str] = []
    secret = False
    prop: Mapping[str, Any] = {}
    for i, part in enumerate(parts):
        props = _properties(node)
        found = part if part in props else _by_env(props, part)
        if found is None:
            if not (_is_open(node) and i == len(parts) - 1):
                raise Invalid(f"{name}: unknown key; {_known(schema)}", field=name)
            if not _ENV_NAME.match(part):
                raise Invalid(
                    f"{name}: not a valid environment variable name (letters, digits and _, "
                    "not starting with a digit)",
                    field=name,
                )
            extra = node.get("additionalProperties")
            prop = extra if isinstance(extra, Mapping) else {}
        else:
            prop = props[found]
            if i < len(parts) - 1 and not _is_group(prop):
                raise Invalid(f"{name}: unknown key; {_known(schema)}", field=name)
        path.append(found or part)
        secret = secret or is_secret(prop)
        node = prop
    name = "config." + ".".join(path)
    if _is_group(prop):
        fields = parse_json(raw) if isinstance(raw, str) else raw
        if not isinstance(fields, Mapping):
            shown = "" if secret or as_secret else f", got {quote(raw)}"
            raise Invalid(f"{name}: must be a JSON object{shown}", field=name)
        if not fields and tuple(path) not in into:
            # Present but empty: the object's own required fields must still be reported.
            into[tuple(path)] = _Given({}, secret or as_secret, None)
        for child, value in fields.items():
            _take(schema, f"{'.'.join(path)}.{child}", value, as_secret, into)
        return
    if secret and not as_secret:
        raise Invalid(
            f"{name}: is a secret; pass it with --secret {'.'.join(path)}=... "
            "so that it is stored encrypted",
            field=name,
        )
    if as_secret and not isinstance(raw, str):
        raise Invalid(f"{name}: a secret must be given as text", field=name)
    if (earlier := into.get(tuple(path))) is not None:
        twice = "twice" if (earlier.text is not None) == as_secret else "as a value and a secret"
        raise Invalid(f"{name}: given {twice}", field=name)
    hidden = secret or as_secret
    text = raw if as_secret else None
    into[tuple(path)] = _Given(_coerce(raw, prop, name, hidden), hidden, text)


def _coerce(raw: Any, prop: Mapping[str, Any], name: str, secret: bool) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return coerce_or_explain(raw, prop, secret=secret)
    except ValueError as error:
        raise Invalid(f"{name}: {error}", field=name) from None


def _problems(error: ValidationError, hidden: set[Path]) -> list[tuple[Path, str]]:
    """An error as (path, message) pairs; a value is quoted only when it is not a secret's."""
    path = tuple(str(p) for p in error.absolute_path)
    # A secret's own value, or an object holding one, is never quoted.
    secret = any(path[: len(h)] == h or h[: len(path)] == path for h in hidden)
    got = "" if secret else f", got {quote(error.instance)}"
    rule, limit = str(error.validator), error.validator_value
    if rule == "required" and isinstance(limit, list):
        have = error.instance if isinstance(error.instance, dict) else {}
        props = _properties(error.schema if isinstance(error.schema, Mapping) else {})
        return [
            ((*path, str(n)), missing_problem(props.get(str(n), {})))
            for n in limit
            if n not in have
        ]
    if rule == "additionalProperties" and isinstance(error.instance, dict):
        known = set(_properties(error.schema if isinstance(error.schema, Mapping) else {}))
        extra = ", ".join(sorted(str(k) for k in error.instance if k not in known))
        return [(path, f"unknown keys: {extra}")]
    if rule == "type":
        types = [str(t) for t in (limit if isinstance(limit, list) else [limit])]
        return [(path, f"must be {expected(types)}{got}")]
    if rule == "enum" and isinstance(limit, list):
        return [(path, "must be one of " + ", ".join(as_text(v) for v in limit))]
    if rule == "format":
        limit = _FORMAT_NAMES.get(str(limit), limit)
    template = _RULES.get(rule, f"does not satisfy the schema's {rule!r} rule")
    return [(path, template.format(limit=as_text(limit), got=got))]


def _split(
    schema: dict[str, Any], instance: dict[str, Any], hidden: set[Path], given: dict[Path, str]
) -> ResolvedConfig:
    values: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    env: dict[str, str] = {}
    secret_env: dict[str, str] = {}
    texts: dict[str, tuple[str, bool]] = {}
    for path, value, prop, declared in _walk(schema, instance):
        key, secret = ".".join(path), any(path[: len(h)] == h for h in hidden)
        text = given.get(path, as_text(value))
        if secret:
            secrets[key] = text
        else:
            _set(values, path, value)
        texts[key] = (text, secret)
        if value is not None and not is_argument(prop):
            target = secret_env if secret else env
            target.setdefault(_env_name(path, prop, declared), text)
    for path, prop, secret in _leaves(schema):
        template = prop.get("x-template")
        if ".".join(path) in texts or not isinstance(template, str):
            continue
        refs = placeholders(template)
        if all(ref in texts for ref in refs):
            rendered = fill(template, lambda ref: texts[ref][0])
            leaks = secret or any(texts[ref][1] for ref in refs)
            (secret_env if leaks else env).setdefault(_env_name(path, prop, True), rendered)
    plain = {key: text for key, (text, secret) in texts.items() if not secret}
    return ResolvedConfig(values, secrets, env, secret_env, texts=plain)


def _walk(
    schema: Mapping[str, Any], instance: Mapping[str, Any], prefix: Path = ()
) -> Iterable[tuple[Path, Any, Mapping[str, Any], bool]]:
    """Each leaf of ``instance``: path, value, property and whether the schema declares it."""
    props = _properties(schema)
    extra = schema.get("additionalProperties")
    order = [k for k in props if k in instance] + [k for k in instance if k not in props]
    for key in order:
        prop = props.get(key, extra if isinstance(extra, Mapping) else {})
        value = instance[key]
        if _is_group(prop) and isinstance(value, Mapping):
            yield from _walk(prop, value, (*prefix, key))
        else:
            yield (*prefix, key), value, prop, key in props


def _leaves(
    schema: Mapping[str, Any], prefix: Path = (), secret: bool = False
) -> Iterable[tuple[Path, Mapping[str, Any], bool]]:
    for key, prop in _properties(schema).items():
        marked = secret or is_secret(prop)
        if _is_group(prop):
            yield from _leaves(prop, (*prefix, key), marked)
        else:
            yield (*prefix, key), prop, marked


def _apply_defaults(schema: Mapping[str, Any], instance: dict[str, Any]) -> None:
    for key, prop in _properties(schema).items():
        if key not in instance and "default" in prop:
            instance[key] = copy.deepcopy(prop["default"])
        if _is_group(prop) and isinstance(instance.get(key), dict):
            _apply_defaults(prop, instance[key])


def _rank(schema: Mapping[str, Any], path: Path) -> tuple[int, ...]:
    """Where ``path`` comes in the schema's own order (the order a form shows the fields)."""
    rank: list[int] = []
    node: Any = schema
    for part in path:
        props = list(_properties(node)) if isinstance(node, Mapping) else []
        rank.append(props.index(part) if part in props else int(part) if part.isdigit() else 10**6)
        node = _properties(node).get(part, {}) if isinstance(node, Mapping) else {}
    return tuple(rank)


def _known(schema: dict[str, Any]) -> str:
    keys = [
        ".".join(path) + (" (secret)" if secret else "")
        for path, prop, secret in _leaves(schema)
        if not prop.get("readOnly")
    ]
    return "known keys: " + ", ".join(keys) if keys else "this service takes no configuration"


def _properties(node: Mapping[str, Any]) -> dict[str, Any]:
    props = node.get("properties")
    return (
        {str(k): v for k, v in props.items() if isinstance(v, Mapping)}
        if isinstance(props, Mapping)
        else {}
    )


def _by_env(props: Mapping[str, Any], name: str) -> str | None:
    return next((key for key, prop in props.items() if prop.get("x-env") == name), None)


def _required(schema: Mapping[str, Any], path: Path) -> list[str]:
    """The required keys of the object at ``path``."""
    for part in path:
        schema = _properties(schema).get(part, {})
    required = schema.get("required")
    return [str(r) for r in required] if isinstance(required, list) else []


def _is_open(node: Mapping[str, Any]) -> bool:
    extra = node.get("additionalProperties")
    return "properties" not in node or extra is True or isinstance(extra, Mapping)


def _is_group(prop: Mapping[str, Any]) -> bool:
    """An object whose fields are set one by one (one with ``x-env`` is a single JSON value)."""
    return "object" in json_types(prop) and bool(_properties(prop)) and "x-env" not in prop


def _env_name(path: Path, prop: Mapping[str, Any], declared: bool) -> str:
    named = prop.get("x-env")
    if isinstance(named, str) and _ENV_NAME.match(named):
        return named
    if not declared:
        return path[-1]
    name = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(path)).upper()
    return name if _ENV_NAME.match(name) else "_" + name


def _set(target: dict[str, Any], path: Path, value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    if value == {}:
        target.setdefault(path[-1], {})
    else:
        target[path[-1]] = value
