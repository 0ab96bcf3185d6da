"""What applying spec documents would change, worked out for every document before anything
is changed, and the calls that change it, over the ``ConsoleClient`` protocol."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from mcp_console.backend.deploy.config import resolve_config
from mcp_console.client.protocol import ConsoleClient
from mcp_console.devtools.spec.checks import as_create, stored_refs
from mcp_console.devtools.spec.detail import config_secrets
from mcp_console.devtools.spec.secret_values import read_secrets
from mcp_console.devtools.spec.source import Document
from mcp_console.schemas.catalog import VersionView
from mcp_console.schemas.config_schema import is_secret
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, DeploymentReconfigure
from mcp_console.schemas.drift import DriftPolicy
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.spec import DeploymentSpec

# Fields a running deployment cannot change: it is deleted and applied again for them.
FIXED = "cannot be changed on an existing deployment (delete it and apply again)"
# Another runtime means instances of another kind (a container image rather than a local
# command, or the reverse), with what each keeps: not a change a rolling restart makes.
RUNTIME_FIXED = (
    "cannot be changed on an existing deployment: its instances would be of another kind "
    "(containers or local processes); delete it and apply again"
)


@dataclass(frozen=True)
class Change:
    """One field's move: ``path: old → new`` (``old`` is ``None`` for a new deployment)."""

    path: str
    old: str | None
    new: str


@dataclass
class Step:
    """What one document asks of its deployment."""

    document: Document
    spec: DeploymentSpec
    current: DeploymentDetail | None
    changes: list[Change] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    drift: DriftPolicy | None = None
    # The settings to change in place (configuration, secrets, limits, ...), if any differ.
    settings: DeploymentReconfigure | None = None

    @property
    def action(self) -> str:
        """``create``, ``update`` or ``unchanged``."""
        if self.current is None:
            return "create"
        return "update" if self.changes else "unchanged"


def shown(value: Any) -> str:
    """A value as the diff prints it."""
    if value is None:
        return "(none)"
    if isinstance(value, dict | list):
        return str(value) if value else "(none)"
    return str(getattr(value, "value", value))


async def plan(
    client: ConsoleClient, documents: list[tuple[Document, DeploymentSpec]]
) -> list[Step]:
    """A step for every document, each checked against the console.

    Raises:
        Invalid: naming the file, line and path of the first thing that cannot be applied
            (a field a deployment cannot change, a configuration its version refuses, a
            secret that cannot be read); nothing has been changed then.
    """
    names = [spec.name for _, spec in documents]
    for (document, spec), seen in zip(documents, range(len(names)), strict=True):
        if spec.name in names[:seen]:
            raise document.error(("name",), f"{spec.name} is in the file twice")
    return [await _step(client, document, spec) for document, spec in documents]


async def _step(client: ConsoleClient, document: Document, spec: DeploymentSpec) -> Step:
    try:
        current: DeploymentDetail | None = await client.get_deployment(spec.name)
    except NotFound:
        current = None
    stored = None if current is None else config_secrets(current)
    secrets = await asyncio.to_thread(read_secrets, document, spec.secrets, stored)
    version = await _version(client, document, spec, current)
    _refuse_inline_secrets(document, spec, version)
    step = Step(document, spec, current, secrets=secrets)
    if current is None:
        _check_new(document, spec, version, secrets)
        step.changes = _everything(spec)
    else:
        if spec.drift is not None:
            step.drift = (await client.drift_report(spec.name)).policy
        step.changes = _differences(document, spec, current, step.drift)
        step.settings, settings = await _settings(client, document, spec, secrets)
        step.changes[:0] = settings
    return step


async def _settings(
    client: ConsoleClient, document: Document, spec: DeploymentSpec, secrets: dict[str, str]
) -> tuple[DeploymentReconfigure | None, list[Change]]:
    """The settings the document changes, as the console reports them from a dry run (which
    checks them as on create; secrets are compared there and shown only as changed)."""
    change = DeploymentReconfigure.model_validate(
        {
            "config": spec.config or {},
            "replace_config": spec.config is not None,
            "secrets": {k: v for k, v in secrets.items() if k not in stored_refs(spec)},
            "secret_refs": stored_refs(spec),
            "cpu_limit": spec.limits.cpus if spec.limits else None,
            "memory_limit_mb": spec.limits.memory_mb if spec.limits else None,
            "pass_env": spec.pass_env,
            "session_mode": spec.session_mode,
        }
    )
    try:
        planned = await client.reconfigure_deployment(
            spec.name, change.model_copy(update={"dry_run": True})
        )
    except (Invalid, NotFound) as error:
        raise _settings_error(document, spec, error) from None
    changes = [Change(path, shown(old), shown(new)) for path, (old, new) in planned.changes.items()]
    return (change if changes else None), changes


def _settings_error(document: Document, spec: DeploymentSpec, error: Invalid | NotFound) -> Invalid:
    """The console's refusal of the document's settings, at their place in the file."""
    where = error.field or ""
    message = error.message.removeprefix(f"{where}: ") if where else error.message
    if where.startswith("secret_refs."):
        return document.error(("secrets", where.split(".", 1)[1], "secret"), message)
    paths = {
        "cpu_limit": ("limits", "cpus"),
        "memory_limit_mb": ("limits", "memory_mb"),
        "pass_env": ("pass_env",),
        "session_mode": ("session_mode",),
    }
    if where in paths:
        return document.error(paths[where], message)
    if isinstance(error, Invalid) and where.startswith("config"):
        return _config_error(document, spec, error)
    return document.error(("name",), message)


async def carry_out(client: ConsoleClient, step: Step) -> DeploymentDetail | None:
    """Make the step's changes; returns the deployment as it is then."""
    spec, current = step.spec, step.current
    if current is None:
        new = DeploymentCreate.model_validate(as_create(spec, step.secrets))
        return await client.create_deployment(new)
    if not step.changes:
        return current
    paths = {change.path for change in step.changes}
    detail = current
    if step.settings is not None:
        # Before a version update: settings are not changed while one rolls out.
        detail = (await client.reconfigure_deployment(spec.name, step.settings)).deployment
    if "autoscale" in paths:
        detail = await client.set_autoscale(spec.name, spec.autoscale or None)
    if "replicas" in paths and spec.replicas is not None:
        detail = await client.scale_deployment(spec.name, spec.replicas)
    if "drift" in paths and spec.drift is not None:
        await client.set_drift_policy(spec.name, spec.drift)
    version = spec.version if "version" in paths else None
    audit = spec.audit_arguments if "audit_arguments" in paths else None
    if version is not None or audit is not None:
        detail = await client.update_deployment(spec.name, version, audit_arguments=audit)
    return detail


async def _version(
    client: ConsoleClient,
    document: Document,
    spec: DeploymentSpec,
    current: DeploymentDetail | None,
) -> VersionView:
    """The catalog's version the document deploys (the latest when it names none)."""
    try:
        service = await client.get_service(spec.service)
    except NotFound as error:
        raise document.error(("service",), error.message) from None
    wanted = spec.version or (current.version if current is not None else service.latest_version)
    if wanted is None:
        raise document.error(("service",), f"{spec.service} has no published version")
    for version in service.versions:
        if version.version == wanted:
            return version
    where = ("version",) if spec.version else ("service",)
    raise document.error(where, f"{spec.service} has no version {wanted}")


def _properties(version: VersionView) -> dict[str, Any]:
    props = version.config_schema.get("properties")
    return dict(props) if isinstance(props, dict) else {}


def _refuse_inline_secrets(document: Document, spec: DeploymentSpec, version: VersionView) -> None:
    props = _properties(version)
    for key in spec.config or {}:
        prop = props.get(key)
        if isinstance(prop, dict) and is_secret(prop):
            raise document.error(
                ("config", key), "is a secret: list it under secrets as a reference, not inline"
            )


def _check_new(
    document: Document, spec: DeploymentSpec, version: VersionView, secrets: dict[str, str]
) -> None:
    """The configuration checked as the backend will check it when it creates the deployment
    (a stored secret's value is the console's to read: any non-empty text stands for it)."""
    given = secrets | dict.fromkeys(stored_refs(spec), "stored")
    try:
        resolve_config(dict(version.config_schema), dict(spec.config or {}), given)
    except Invalid as error:
        raise _config_error(document, spec, error) from None


def _config_error(document: Document, spec: DeploymentSpec, error: Invalid) -> Invalid:
    name = (error.field or "config").removeprefix("config").lstrip(".")
    key = name.split(".")[0]
    message = error.message.removeprefix(f"{error.field}: ") if error.field else error.message
    if key in spec.secrets:
        return document.error(("secrets", key), message)
    return document.error(("config", *name.split(".")) if name else ("config",), message)


def _everything(spec: DeploymentSpec) -> list[Change]:
    """A new deployment's fields, as given."""
    values = spec.model_dump(
        exclude={"kind", "name", "secrets", "profiles", "limits"}, exclude_none=True
    )
    changes = [Change(key, None, shown(value)) for key, value in values.items()]
    if spec.limits is not None:
        for key, value in spec.limits.model_dump(exclude_none=True).items():
            changes.append(Change(f"limits.{key}", None, shown(value)))
    changes += [Change(f"secrets.{k}", None, ref.describe()) for k, ref in spec.secrets.items()]
    return changes


def _differences(
    document: Document,
    spec: DeploymentSpec,
    current: DeploymentDetail,
    drift: DriftPolicy | None,
) -> list[Change]:
    """What the document changes of a deployment besides its settings; a change it cannot
    make is an error."""
    if spec.service != current.service:
        raise document.error(("service",), f"{FIXED}: {current.service} → {spec.service}")
    if spec.runtime is not None and spec.runtime != current.runtime:
        raise document.error(
            ("runtime",), f"{RUNTIME_FIXED}: {shown(current.runtime)} → {shown(spec.runtime)}"
        )
    changes: list[Change] = []
    running = current.target_version or current.version
    if spec.version is not None and spec.version != running:
        changes.append(Change("version", running, spec.version))
    autoscale = current.autoscale or None
    if "autoscale" in spec.model_fields_set:
        wanted_policy = spec.autoscale or None
        if _policy_changed(autoscale, wanted_policy):
            changes.append(Change("autoscale", shown(autoscale), shown(wanted_policy)))
        autoscale = wanted_policy
    # Under autoscaling the replica count is the autoscaler's to move.
    if spec.replicas is not None and not autoscale and spec.replicas != current.replicas:
        changes.append(Change("replicas", str(current.replicas), str(spec.replicas)))
    if spec.drift is not None and drift is not None and spec.drift != drift:
        changes.append(Change("drift", drift.value, spec.drift.value))
    audit = spec.audit_arguments
    if audit is not None and audit != current.audit_arguments:
        changes.append(Change("audit_arguments", current.audit_arguments.value, audit.value))
    return changes


def _policy_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    # Settings left out of the document take their defaults: only those given are compared.
    return any(old.get(key) != value for key, value in new.items())
