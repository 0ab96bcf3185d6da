"""A spec document checked with the shared schemas: its shape (``DeploymentSpec``) and its
values (``DeploymentCreate``'s bounds), each error at its line."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from mcp_console.devtools.spec.source import Document
from mcp_console.schemas.deploy import DeploymentCreate
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.spec import CREATE_FIELD_PATHS, DeploymentSpec


def checked(document: Document) -> DeploymentSpec:
    """The document as a spec whose every value a deployment would take.

    Raises:
        Invalid: ``file:line: deployments[N].path: what is wrong`` for the first error.
    """
    try:
        spec = DeploymentSpec.model_validate(document.values)
    except ValidationError as error:
        raise _first(document, error) from None
    try:
        # Secret values are checked where they are read; placeholders keep them out of here.
        DeploymentCreate.model_validate(as_create(spec, dict.fromkeys(spec.secrets, "")))
    except ValidationError as error:
        raise _first(document, error, renamed=True) from None
    return spec


def as_create(spec: DeploymentSpec, secrets: dict[str, str]) -> dict[str, Any]:
    """The fields of a ``DeploymentCreate`` the spec makes (its defaults where it is silent);
    ``secrets`` holds the values read, stored secrets are named."""
    refs = stored_refs(spec)
    fields: dict[str, Any] = {
        "service": spec.service,
        "version": spec.version,
        "name": spec.name,
        "config": spec.config or {},
        "secrets": {k: v for k, v in secrets.items() if k not in refs},
        "secret_refs": refs,
        "autoscale": spec.autoscale or None,
        "session_mode": spec.session_mode,
    }
    if spec.limits is not None:
        fields["cpu_limit"] = spec.limits.cpus
        fields["memory_limit_mb"] = spec.limits.memory_mb
    optional = ("replicas", "runtime", "pass_env", "drift", "audit_arguments")
    fields.update(
        {name: getattr(spec, name) for name in optional if getattr(spec, name) is not None}
    )
    return fields


def stored_refs(spec: DeploymentSpec) -> dict[str, str]:
    """The spec's secrets taken from the user's stored secrets: key → stored secret's name."""
    return {key: ref.secret for key, ref in spec.secrets.items() if ref.secret}


def _first(document: Document, error: ValidationError, *, renamed: bool = False) -> Invalid:
    first = error.errors(include_url=False, include_input=False)[0]
    loc = [part for part in first["loc"] if isinstance(part, str | int)]
    if renamed and loc and str(loc[0]) in CREATE_FIELD_PATHS:
        loc = [*CREATE_FIELD_PATHS[str(loc[0])], *loc[1:]]
    message = str(first["msg"]).removeprefix("Value error, ")
    return document.error(loc, message)
