"""A deployment written down as a document (``deploy export``, ``apply -f``) and its secret
references: what a spec file may hold, checked with the deployment's own rules."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mcp_console.schemas.audit import AuditArguments
from mcp_console.schemas.deploy import RuntimeChoice
from mcp_console.schemas.drift import DriftPolicy
from mcp_console.schemas.secrets import MAX_SECRET_NAME, SECRET_NAME_PATTERN

DEPLOYMENT_KIND: Literal["Deployment"] = "Deployment"
# The path in a spec document of each field a ``DeploymentCreate`` names otherwise.
CREATE_FIELD_PATHS: dict[str, tuple[str, ...]] = {
    "cpu_limit": ("limits", "cpus"),
    "memory_limit_mb": ("limits", "memory_mb"),
}
NOT_INLINE = (
    "a secret is never written inline: reference it as {env: VARIABLE}, {file: PATH}, "
    "{secret: NAME} (one of your stored secrets) or {stored: true}"
)


class _Strict(BaseModel):
    """A part of a spec document: unknown keys are refused (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


class SecretRef(_Strict):
    """Where a secret's value comes from: exactly one of an environment variable of the
    machine running ``apply``, a file (relative to the spec file), one of the user's stored
    secrets by name (read by the console, never by ``apply``), or the value the console
    already stores for the deployment (encrypted)."""

    env: str | None = Field(default=None, min_length=1)
    file: str | None = Field(default=None, min_length=1)
    secret: str | None = Field(
        default=None, pattern=SECRET_NAME_PATTERN, max_length=MAX_SECRET_NAME
    )
    stored: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_inline(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(NOT_INLINE)
        return data

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        given = [name for name in ("env", "file", "secret", "stored") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of env, file, secret or stored: true")
        return self

    def describe(self) -> str:
        """Where the value comes from, in words (never the value)."""
        if self.env:
            return f"from env {self.env}"
        if self.file:
            return f"from file {self.file}"
        if self.secret:
            return f"stored secret {self.secret}"
        return "stored"


class Limits(_Strict):
    """What one instance may use."""

    cpus: float | None = None
    memory_mb: int | None = None


class DeploymentSpec(_Strict):
    """One deployment as a document. A field left out keeps the deployment's current value
    (and takes the default when it is created); ``config``, once given, is the whole of it.

    The bounds of each value are ``DeploymentCreate``'s: a spec is checked by building one.
    """

    kind: Literal["Deployment"] = DEPLOYMENT_KIND
    name: str
    service: str
    version: str | None = None
    runtime: RuntimeChoice | None = None
    replicas: int | None = None
    session_mode: str | None = None
    limits: Limits | None = None
    autoscale: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    pass_env: list[str] | None = None
    drift: DriftPolicy | None = None
    audit_arguments: AuditArguments | None = None
    # Sets of values a document takes instead of its own with ``--profile NAME``.
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
