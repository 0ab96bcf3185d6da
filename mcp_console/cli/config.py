"""``mcp-console config show|set``: the console's own settings, and where each comes from."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import BaseModel, ValidationError
from pydantic_settings import EnvSettingsSource

from mcp_console.backend.security.secrets import MASK
from mcp_console.cli.context import JSON_OPTION, emit, reported_errors
from mcp_console.schemas.errors import Invalid
from mcp_console.settings import (
    CONFIG_FILE_NAME,
    Settings,
    default_data_dir,
    read_config_file,
)

app = typer.Typer(help="The console's own settings.", no_args_is_help=True)

# ``scheme://user:password@host``: the password is masked wherever a URL is shown.
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@]*):[^@/]*@")


def _data_dir() -> Path:
    """The data dir, which the config file lives in (so only the environment sets it)."""
    named = os.environ.get("MCP_CONSOLE_DATA_DIR")
    return Path(named).expanduser() if named else default_data_dir()


def _file() -> Path:
    return _data_dir() / CONFIG_FILE_NAME


def _leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every setting's path: groups are walked into (``deploy.health_interval``)."""
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _leaves(kind, (*prefix, name))
        else:
            yield (*prefix, name)


def _secret(path: tuple[str, ...]) -> bool:
    """A setting hidden from ``repr`` is a credential: it is never shown."""
    model: type[BaseModel] = Settings
    for name in path[:-1]:
        annotation = model.model_fields[name].annotation
        assert isinstance(annotation, type)
        assert issubclass(annotation, BaseModel)
        model = annotation
    return not model.model_fields[path[-1]].repr


def _has(values: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = values
    for name in path:
        if not isinstance(node, dict) or name not in node:
            return False
        node = node[name]
    return True


def _env_name(path: tuple[str, ...]) -> str:
    """The variable that set ``path``: the setting's own, else its group's (JSON)."""
    nested = "MCP_CONSOLE_" + "__".join(path).upper()
    if nested in os.environ or len(path) == 1:
        return nested
    return "MCP_CONSOLE_" + path[0].upper()


def _shown(path: tuple[str, ...], value: Any) -> str:
    if value is None:
        return "(unset)"
    if _secret(path):
        return MASK
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "(none)"
    text = str(value)
    return _URL_PASSWORD.sub(rf"\1:{MASK}@", text) if path == ("database_url",) else text


def _duration(value: timedelta) -> str:
    """``7d``, ``4h``, ``90m`` or seconds: as the settings are written."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _rows() -> list[dict[str, str]]:
    try:
        settings = Settings()
        stored = read_config_file(_file())
    except (ValidationError, ValueError) as error:
        raise Invalid(f"the settings cannot be read: {error}") from None
    env = EnvSettingsSource(Settings)()
    values = settings.model_dump()
    rows = []
    for path in _leaves(Settings):
        value: Any = values
        for name in path:
            value = value[name]
        if _has(env, path):
            source = "env " + _env_name(path)
        elif _has(stored, path) and path != ("data_dir",):
            source = "config file"
        else:
            source = "default"
        rows.append({"key": ".".join(path), "value": _shown(path, value), "source": source})
    return rows


@app.command()
def show(as_json: bool = JSON_OPTION) -> None:
    """Every setting with its value and where it comes from: an environment variable
    (MCP_CONSOLE_…), the data dir's config file, or the default; credentials masked."""
    with reported_errors():
        rows = _rows()

    def table() -> None:
        typer.echo(f"config file: {_file()}")
        width = max(len(row["key"]) for row in rows)
        for row in rows:
            typer.echo(f"{row['key']:<{width}}  {row['value']}  [{row['source']}]")

    emit(rows, as_json, table)


@app.command("set")
def set_(
    key: str = typer.Argument(..., help="The setting, dotted for a group's (deploy.scope)."),
    value: str = typer.Argument(
        ..., help="Its value (a list as YAML: '[a, b]'); 'null' unsets an optional one."
    ),
) -> None:
    """Write a setting to the data dir's config file, checked first; an environment
    variable still takes precedence over it."""
    with reported_errors():
        path = _known(key)
        stored = read_config_file(_file()) if _file().exists() else {}
        written = _checked(stored, path, value)
        _write(written)
    shown = MASK if _secret(path) else value
    typer.echo(f"set {key} = {shown} in {_file()}")
    env = "MCP_CONSOLE_" + "__".join(path).upper()
    if env in os.environ:
        typer.echo(f"note: {env} is set in the environment and takes precedence", err=True)


def _known(key: str) -> tuple[str, ...]:
    path = tuple(key.strip().split("."))
    if path == ("data_dir",):
        raise Invalid("data_dir holds the config file: set it with MCP_CONSOLE_DATA_DIR")
    leaves = [leaf for leaf in _leaves(Settings) if leaf != ("data_dir",)]
    if path not in leaves:
        near = [".".join(leaf) for leaf in leaves if leaf[: len(path) - 1] == path[:-1]]
        raise Invalid(f"{key}: no such setting; known: {', '.join(near)}")
    return path


def _checked(stored: dict[str, Any], path: tuple[str, ...], raw: str) -> dict[str, Any]:
    """The file's settings with ``path`` set to ``raw``: as text, else as YAML (numbers,
    lists), whichever the setting takes; checked as the console will read them."""
    problem = ""
    for value in (_yaml(raw), raw):
        candidate = _with(stored, path, value)
        try:
            Settings.model_validate(candidate)
        except ValidationError as error:
            first = error.errors(include_url=False, include_input=False)[0]
            if tuple(str(p) for p in first["loc"][: len(path)]) != path and not problem:
                raise Invalid(f"the config file {_file()} is not valid: {first['msg']}") from None
            problem = problem or str(first["msg"]).removeprefix("Value error, ")
            continue
        return candidate
    key = ".".join(path)
    raise Invalid(f"{key}: {problem}")


def _yaml(raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def _with(stored: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = {**stored}
    node = out
    for name in path[:-1]:
        child = node.get(name)
        node[name] = {**child} if isinstance(child, dict) else {}
        node = node[name]
    node[path[-1]] = value
    return out


def _write(values: dict[str, Any]) -> None:
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = yaml.safe_dump(values, sort_keys=True, allow_unicode=True)
    # It may hold credentials (api_key, secret_key): readable by its owner only.
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    path.with_suffix(".tmp").replace(path)
