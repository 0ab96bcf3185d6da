"""A deployment's settings changed in place: the new ones checked as on create, and what
changes, secrets shown only as set or changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp_console.backend.db.models import ServiceDeployment
from mcp_console.backend.deploy import history
from mcp_console.backend.deploy.config import ResolvedConfig, resolve_config
from mcp_console.backend.deploy.remote import REMOTE
from mcp_console.schemas.deploy import DeploymentReconfigure
from mcp_console.schemas.errors import Invalid

# How a secret's change reads in the history and the diff: never its value.
SET, CHANGED = "(set)", "(changed)"


@dataclass
class NewSettings:
    """The settings a deployment will have, and each change as ``path → [old, new]``."""

    resolved: ResolvedConfig
    columns: dict[str, Any]
    changes: dict[str, list[Any]]


def refuse_unchangeable(d: ServiceDeployment) -> None:
    """Refuse a change the deployment cannot take in place.

    Raises:
        Invalid: it fronts a remote server, or an update is rolling out.
    """
    if d.driver == REMOTE:
        raise Invalid(
            f"{d.deployment_name} fronts a server elsewhere: its URLs and headers are set when "
            "it is created (delete it and create it again to change them)",
            field="name",
        )
    if d.target_version_id is not None:
        raise Invalid(
            f"an update of {d.deployment_name} is rolling out: wait for it to finish or roll "
            "it back, then change its settings",
            field="name",
        )


def settings_after(
    d: ServiceDeployment,
    schema: dict[str, Any],
    stored: dict[str, str],
    change: DeploymentReconfigure,
    named: dict[str, str],
) -> NewSettings:
    """The deployment's settings once ``change`` is made, checked as a new deployment's.

    Args:
        d: the deployment as it is.
        schema: its version's configuration schema.
        stored: its secrets as they are (plain).
        change: what to change.
        named: the values of the stored secrets ``change.secret_refs`` names, by key.

    Raises:
        Invalid: the configuration does not fit the schema (``config.<key>``), a key is both
            given and unset, or a secret is given twice.
    """
    both = set(change.secrets) & set(named)
    if both:
        key = sorted(both)[0]
        raise Invalid(f"{key} is given both as a value and as a stored secret", field="secrets")
    given = {**change.secrets, **named}
    config = dict(change.config) if change.replace_config else {**d.config, **change.config}
    secrets = {**stored, **given}
    for key in change.config:
        secrets.pop(key, None)  # a key given now as a plain value is no longer a secret
    for key in given:
        config.pop(key, None)
    for key in change.unset:
        if key in change.config or key in given:
            raise Invalid(f"{key} is both set and unset", field="unset")
        if key not in config and key not in secrets:
            raise Invalid(f"{d.deployment_name} has no setting {key} to unset", field="unset")
        config.pop(key, None)
        secrets.pop(key, None)
    resolved = resolve_config(schema, config, secrets)
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(d.config) | set(resolved.values)):
        old, new = d.config.get(key), resolved.values.get(key)
        if old != new:
            changes[f"config.{key}"] = history.change(old, new)
    for key in sorted(set(stored) | set(resolved.secrets)):
        old_secret, new_secret = stored.get(key), resolved.secrets.get(key)
        if old_secret != new_secret:
            after = None if new_secret is None else (CHANGED if old_secret else SET)
            changes[f"secrets.{key}"] = history.change(SET if old_secret else None, after)
    columns = {
        "cpu_limit": change.cpu_limit,
        "memory_limit_mb": change.memory_limit_mb,
        "pass_env": change.pass_env,
        "session_mode": change.session_mode,
    }
    columns = {k: v for k, v in columns.items() if v is not None and getattr(d, k) != v}
    for key, value in columns.items():
        changes[key] = history.change(getattr(d, key), value)
    return NewSettings(resolved, columns, changes)
