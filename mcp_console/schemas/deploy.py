"""Deployment DTOs: create, views with instances and health, history, logs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from mcp_console.schemas.audit import AuditArguments
from mcp_console.schemas.base import Dto, RequestBody
from mcp_console.schemas.drift import DriftPolicy
from mcp_console.schemas.host_env import pass_env_names
from mcp_console.schemas.registry import RegistryLogin

# Deployment names appear in container names, labels and gateway paths: DNS-label style.
DEPLOYMENT_NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
MAX_REPLICAS = 50
# Events of what a deployment does before its servers start, each with ``deployment_id``,
# ``reason`` (the step in words) and ``done``: an image pulled (with ``layers_done``,
# ``layers_total``, ``bytes_done``, ``bytes_total``), or a package installed or an image
# built (``step``). The same words are the deployment's status reason meanwhile.
PULL_EVENT = "deployment.pull"
PREPARE_EVENT = "deployment.prepare"
PROGRESS_EVENTS = frozenset({PULL_EVENT, PREPARE_EVENT})
# How the gateway gives client sessions their server, and what each choice costs.
SESSION_MODES = ("per-session", "shared")
SESSION_MODE_HELP = (
    "per-session: each client session gets a server instance of its own (state kept apart, "
    "every server message delivered; at most 8 sessions at once for each replica, or each of "
    "the autoscale maximum, by default). shared: all sessions share the deployment's instances "
    "(cheaper; only for stateless servers). Default: as the version says, else per-session "
    "for stdio servers and shared for HTTP ones."
)


class SessionMode(StrEnum):
    """How client sessions get their server (``SESSION_MODE_HELP`` says what each costs)."""

    PER_SESSION = "per-session"
    SHARED = "shared"


class DeploymentStatus(StrEnum):
    """Where a deployment is: converging, serving, partly serving, failed or stopped."""

    DEPLOYING = "DEPLOYING"
    RUNNING = "RUNNING"
    DEGRADED = "DEGRADED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"


class DesiredState(StrEnum):
    """What the user asked for; the controller converges reality towards it."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    DELETED = "DELETED"


class InstanceStatus(StrEnum):
    """The life of one container or process.

    STARTING until its first health checks pass; RESTARTING while it waits out a back-off;
    DRAINING while an old version is retired; FAILED after a crash loop (no more restarts).
    """

    STARTING = "STARTING"
    RUNNING = "RUNNING"
    RESTARTING = "RESTARTING"
    DRAINING = "DRAINING"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


class HealthState(StrEnum):
    """The MCP-level health of an instance, with hysteresis."""

    UNKNOWN = "UNKNOWN"
    HEALTHY = "HEALTHY"
    UNHEALTHY = "UNHEALTHY"


class RuntimeChoice(StrEnum):
    """Where instances run: Docker containers, local processes, whichever is available, or
    elsewhere (``remote``: the gateway fronts a server at its URLs, nothing runs here)."""

    AUTO = "auto"
    DOCKER = "docker"
    PROCESS = "process"
    REMOTE = "remote"


class ShareRole(StrEnum):
    """What a share allows: callers use the endpoint; operators also run the deployment."""

    CALLER = "caller"
    OPERATOR = "operator"


class Access(StrEnum):
    """What the acting user may do with a deployment, from least to most."""

    CALLER = "caller"
    OPERATOR = "operator"
    OWNER = "owner"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Its order: each level may do everything the ones below it may."""
        return _ACCESS_ORDER.index(self)


_ACCESS_ORDER = (Access.CALLER, Access.OPERATOR, Access.OWNER, Access.ADMIN)

# The least access each verb on a deployment needs, and what the verb does (for refusals):
# a caller uses the endpoint and sees the deployment; an operator also runs it and reads its
# logs, history and sessions; its owner (and an admin) also deletes it and decides who has
# access. The backend enforces it; the console hides and explains what it refuses.
VERBS: dict[str, tuple[Access, str]] = {
    "see": (Access.CALLER, "see it"),
    "call": (Access.CALLER, "call its tools"),
    "scale": (Access.OPERATOR, "scale it"),
    "autoscale": (Access.OPERATOR, "change its autoscaling"),
    "update": (Access.OPERATOR, "update it"),
    "rollback": (Access.OPERATOR, "roll it back"),
    "stop": (Access.OPERATOR, "stop it"),
    "start": (Access.OPERATOR, "start it"),
    "history": (Access.OPERATOR, "read its history"),
    "logs": (Access.OPERATOR, "read its logs"),
    "sessions": (Access.OPERATOR, "see and end its sessions"),
    "acknowledge": (Access.OPERATOR, "acknowledge its alerts"),
    "drift": (Access.OPERATOR, "review and approve its tool definitions"),
    "configure": (Access.OWNER, "change its configuration"),
    "delete": (Access.OWNER, "delete it"),
    "change_shares": (Access.OWNER, "change who has access"),
}
_WHO = {
    Access.CALLER: "those it is shared with, its owner",
    Access.OPERATOR: "its operators, its owner",
    Access.OWNER: "its owner",
}


def allowed(access: Access | None, verb: str) -> bool:
    """Whether ``access`` is enough for ``verb`` (see ``VERBS``)."""
    return access is not None and access.rank >= VERBS[verb][0].rank


def who_may(verb: str) -> str:
    """Who may use ``verb``: ``its operators, its owner and admins``."""
    return f"{_WHO[VERBS[verb][0]]} and admins"


def indefinite(role: str) -> str:
    """``a caller``, ``an operator``."""
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def refusal(address: str, access: Access | None, verb: str) -> str:
    """Why ``verb`` on the deployment at ``address`` is not for someone with ``access``."""
    held = f"shared with you as {indefinite(access)}" if access else "not shared with you"
    return f"{address} is {held}: only {who_may(verb)} may {VERBS[verb][1]}."


class ShareCreate(RequestBody):
    """Share a deployment with exactly one user or one team."""

    user: str | None = None
    team: str | None = None
    role: ShareRole = ShareRole.CALLER


class ShareView(Dto):
    """Someone a deployment is shared with."""

    kind: str = Field(description="'user' or 'team'")
    name: str
    role: ShareRole
    created_at: datetime


class DeploymentCreate(RequestBody):
    """A new deployment of a service version.

    ``secrets`` go to the instances' environment only; they are stored encrypted and never
    shown again (views list their names).

    ``urls`` make it a remote deployment: the gateway fronts an MCP server running there
    (Streamable HTTP), balancing over the URLs, one instance each; without them a version
    that only has remote endpoints (server.json ``remotes``) is fronted at those. A URL of
    no catalog entry is deployed as the service ``mcp-console/remote``. ``headers`` are sent
    upstream on every request (``Authorization: Bearer …``); like secrets they are stored
    encrypted and never shown again (views list ``header:<name>``).
    """

    service: str = Field(min_length=1, max_length=200)
    version: str | None = Field(default=None, max_length=255, description="Default: latest.")
    name: str = Field(pattern=DEPLOYMENT_NAME_PATTERN, max_length=63)
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict, repr=False)
    # Secrets taken from the user's stored secrets: configuration key → stored secret's name.
    secret_refs: dict[str, str] = Field(default_factory=dict)
    replicas: int = Field(default=1, ge=0, le=MAX_REPLICAS)
    runtime: RuntimeChoice = RuntimeChoice.AUTO
    cpu_limit: float | None = Field(default=None, ge=0.01, le=64)
    memory_limit_mb: int | None = Field(default=None, ge=6, le=1_048_576)
    autoscale: dict[str, Any] | None = None
    # ``None``: as the version says (``default_session_mode``).
    session_mode: str | None = Field(default=None, pattern=r"^(shared|per-session)$")
    urls: list[str] = Field(default_factory=list, max_length=20)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    # Credentials for the registry the version's image is pulled from (private registries).
    registry_login: RegistryLogin | None = Field(default=None, repr=False)
    # Host variables the servers receive by name beside the version's (``--pass-env``): CA
    # bundles and proxies, as far as the console allows (``deploy.passable_env``).
    pass_env: list[str] = Field(default_factory=list)
    # When its tool definitions change: alert, or also hide changed tools until approved.
    drift: DriftPolicy = DriftPolicy.ALERT
    # What the audit trail keeps of each tool call's arguments.
    audit_arguments: AuditArguments = AuditArguments.DIGEST

    @field_validator("pass_env")
    @classmethod
    def _env_names(cls, names: list[str]) -> list[str]:
        return pass_env_names(names)


class DeploymentUpdate(RequestBody):
    """A version to roll out, a new audit policy for tool-call arguments, or both."""

    version: str | None = Field(default=None, min_length=1, max_length=255)
    audit_arguments: AuditArguments | None = None


class DeploymentReconfigure(RequestBody):
    """New settings for an existing deployment: what is given changes, the rest stays.

    ``config`` is merged over the current values (``replace_config``: it is the whole
    configuration); ``unset`` removes configuration keys and secrets. ``secrets`` and
    ``secret_refs`` (key → stored secret's name) set secrets. Running instances are replaced
    by a rolling restart. ``dry_run`` reports the changes and makes none.
    """

    config: dict[str, Any] = Field(default_factory=dict)
    replace_config: bool = False
    unset: list[str] = Field(default_factory=list)
    secrets: dict[str, str] = Field(default_factory=dict, repr=False)
    secret_refs: dict[str, str] = Field(default_factory=dict)
    cpu_limit: float | None = Field(default=None, ge=0.01, le=64)
    memory_limit_mb: int | None = Field(default=None, ge=6, le=1_048_576)
    pass_env: list[str] | None = None
    session_mode: str | None = Field(default=None, pattern=r"^(shared|per-session)$")
    dry_run: bool = False

    @field_validator("pass_env")
    @classmethod
    def _env_names(cls, names: list[str] | None) -> list[str] | None:
        return None if names is None else pass_env_names(names)


def default_session_mode(version_mode: str | None, transport: str) -> str:
    """The session mode of a deployment that asked for none: what the version's author says,
    else ``per-session`` for a stdio server (it keeps state for the one client it expects)
    and ``shared`` for one serving HTTP (it keeps each client's session apart itself)."""
    if version_mode in SESSION_MODES:
        return version_mode
    return "per-session" if transport == "stdio" else "shared"


class InstanceView(Dto):
    """One instance with what a user needs to see why it is red."""

    id: int
    name: str
    version: str | None
    status: InstanceStatus
    health: HealthState
    driver: str | None
    ref: str | None
    transport: str
    host: str | None
    port: int | None
    url: str | None
    last_health_check: datetime | None
    last_error: str | None
    stderr_tail: list[str]
    restart_count: int
    exit_code: int | None
    created_at: datetime
    # The image it runs, by digest (a Docker instance of a registry image).
    image: str | None = None


class DeploymentView(Dto):
    """A deployment as a row of the deployments list."""

    id: int
    name: str
    # How the viewer names it: ``name`` when it is theirs, else ``owner/name``.
    address: str
    owner: str
    service: str
    version: str
    status: DeploymentStatus
    status_reason: str | None
    desired_state: DesiredState
    runtime: RuntimeChoice
    driver: str | None
    transport: str
    replicas: int
    ready_replicas: int
    endpoint_url: str | None
    target_version: str | None
    previous_version: str | None
    created_at: datetime
    updated_at: datetime
    # The gateway's live figures over the last minute; None where no gateway serves.
    requests_per_s: float | None = None
    error_rate: float | None = None
    # What the acting user may do with it (someone else's shows as ``owner/name``).
    access: Access = Access.OWNER


class DeploymentDetail(DeploymentView):
    """A deployment with its settings and every instance."""

    config: dict[str, Any]
    secret_names: list[str]
    cpu_limit: float | None
    memory_limit_mb: int | None
    session_mode: str
    autoscale: dict[str, Any] | None
    rollout_deadline: datetime | None
    instances: list[InstanceView]
    # Who besides its owner (and the admins) may use it.
    shares: list[ShareView] = Field(default_factory=list)
    # Host variables its servers receive by name (the deployment's own, beside the version's).
    pass_env: list[str] = Field(default_factory=list)
    # The image each version ran first, by digest (version → ``repo@sha256:…``): restarts
    # and rollbacks run it again even after its tag moved.
    pinned_images: dict[str, str] = Field(default_factory=dict)
    # ``username@registry`` of each registry login it pulls with (never a password).
    registry_logins: list[str] = Field(default_factory=list)
    # What the audit trail keeps of each tool call's arguments.
    audit_arguments: AuditArguments = AuditArguments.DIGEST


class HistoryEntry(Dto):
    """One recorded change: who, when, what, why, and whether the system decided it."""

    id: int
    deployment: str
    at: datetime
    actor: str
    action: str
    changes: dict[str, Any]
    reason: str
    automatic: bool


class InstanceLogs(Dto):
    """The last log lines of one instance (secret values masked)."""

    instance: str
    version: str | None
    status: InstanceStatus
    lines: list[str]


class Reconfigured(Dto):
    """What a reconfiguration changed (or would change, on a dry run): ``path → [old, new]``,
    a secret's values shown only as ``(set)``, ``(changed)`` or ``null``."""

    changes: dict[str, list[Any]]
    dry_run: bool
    deployment: DeploymentDetail


class PackageStored(Dto):
    """A package published to the console (``dev publish``): a wheel or an npm tarball."""

    registry: str = Field(description="pypi (a wheel) or npm (a tarball).")
    name: str
    version: str
    filename: str
    sha256: str
