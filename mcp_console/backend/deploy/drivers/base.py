"""The engine-neutral runtime driver protocol and the values it takes and returns."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from mcp_console.schemas.errors import Invalid

if TYPE_CHECKING:
    from mcp_console.backend.stdio.channel import StdioChannel

Transport = Literal["stdio", "streamable-http"]
EventKind = Literal["start", "die", "oom"]

TRANSPORTS: tuple[Transport, ...] = ("stdio", "streamable-http")
LOOPBACK = "127.0.0.1"

# Label keys every driver stamps on what it runs; adoption after a restart reads them back.
LABEL_PREFIX = "io.mcp-console."
LABEL_MANAGED = LABEL_PREFIX + "managed"
LABEL_DEPLOYMENT = LABEL_PREFIX + "deployment-id"
LABEL_DEPLOYMENT_NAME = LABEL_PREFIX + "deployment-name"
LABEL_INSTANCE = LABEL_PREFIX + "instance-id"
LABEL_VERSION = LABEL_PREFIX + "version"
LABEL_TRANSPORT = LABEL_PREFIX + "transport"
LABEL_PORT = LABEL_PREFIX + "container-port"
LABEL_PATH = LABEL_PREFIX + "mcp-path"
RESERVED_LABELS = frozenset(
    {
        LABEL_MANAGED,
        LABEL_DEPLOYMENT,
        LABEL_DEPLOYMENT_NAME,
        LABEL_INSTANCE,
        LABEL_VERSION,
        LABEL_TRANSPORT,
        LABEL_PORT,
        LABEL_PATH,
    }
)

INSTANCE_ID_ENV = "MCP_CONSOLE_INSTANCE_ID"
PORT_PLACEHOLDER = "{port}"

# Ids become part of container and process names, so they keep to Docker's name alphabet.
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_LABEL_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,127}$")
_ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PACKAGE_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}$")
# npm's own rules: an optional @scope, lowercase for new names (older ones may have capitals).
_NPM_NAME_RE = re.compile(
    r"^(?:@[A-Za-z0-9~-][A-Za-z0-9._~-]*/)?[A-Za-z0-9~-][A-Za-z0-9._~-]{0,213}$"
)
_SEMVER_RE = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
# What no container may see, even read-only: the machine's pseudo-filesystems and runtime
# state (the engine's socket lives there).
_UNMOUNTABLE = ("/proc", "/sys", "/dev", "/run", "/var/run")
# Values this short ("1", "on") would flag harmless coincidences as leaks.
_MIN_SECRET_LEN = 4


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    """Caps on what one instance may use; ``None`` leaves a dimension uncapped."""

    cpus: float | None = 1.0
    memory_mb: int | None = 512
    pids: int | None = 256

    def validate(self) -> None:
        """Raise ``Invalid`` naming the first limit that is out of range."""
        if self.cpus is not None and not 0.01 <= self.cpus <= 64:
            raise Invalid(f"cpus must be between 0.01 and 64, got {self.cpus}", field="limits.cpus")
        if self.memory_mb is not None and not 6 <= self.memory_mb <= 1_048_576:
            raise Invalid(
                f"memory_mb must be between 6 and 1048576, got {self.memory_mb}",
                field="limits.memory_mb",
            )
        if self.pids is not None and not 8 <= self.pids <= 1_000_000:
            raise Invalid(
                f"pids must be between 8 and 1000000, got {self.pids}", field="limits.pids"
            )


@dataclass(frozen=True, slots=True)
class PackageSource:
    """A PyPI distribution at an exact version, run through one of its console scripts."""

    name: str
    version: str
    entrypoint: str | None = None

    @property
    def script(self) -> str:
        """The console script to run (the distribution name unless told otherwise)."""
        return self.entrypoint or self.name

    @property
    def requirement(self) -> str:
        """The pip requirement pinning this exact version."""
        return f"{self.name}=={self.version}"

    def validate(self) -> None:
        """Raise ``Invalid`` when the name, version or entry point cannot be a real one."""
        if not _PACKAGE_RE.match(self.name):
            raise Invalid(f"not a valid package name: {self.name!r}", field="package.name")
        if not _VERSION_RE.match(self.version):
            raise Invalid(
                f"not an exact package version: {self.version!r}", field="package.version"
            )
        if self.entrypoint is not None and not _PACKAGE_RE.match(self.entrypoint):
            raise Invalid(
                f"not a valid console script name: {self.entrypoint!r}",
                field="package.entrypoint",
            )


@dataclass(frozen=True, slots=True)
class NpmPackage:
    """An npm package at an exact version, run by Node.js through one of its executables.

    ``node_args`` are Node.js options that go before the script (the package's runtime
    arguments); ``bin`` picks an executable when the package has several.
    """

    name: str
    version: str
    bin: str | None = None
    node_args: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        """``name@version`` as npm reads it."""
        return f"{self.name}@{self.version}"

    def validate(self) -> None:
        """Raise ``Invalid`` when the name, version, executable or a Node.js option is not one."""
        if not _NPM_NAME_RE.match(self.name):
            raise Invalid(f"not a valid npm package name: {self.name!r}", field="package.name")
        if not _SEMVER_RE.match(self.version):
            raise Invalid(
                f"npm package {self.name} needs an exact version to install, not {self.version!r}",
                field="package.version",
            )
        if self.bin is not None and not _NPM_NAME_RE.match(self.bin):
            raise Invalid(f"not a valid executable name: {self.bin!r}", field="package.bin")
        for arg in self.node_args:
            if not arg.startswith("-"):
                raise Invalid(
                    f"runtime argument {arg!r} of {self.name} is not a Node.js option "
                    "(options start with '-'; the script comes after them)",
                    field="package.runtime_arguments",
                )


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """Everything a driver needs to run one instance of one deployment version.

    What runs is ``image`` (Docker), ``package`` (a PyPI package in a cached virtualenv),
    ``npm`` (an npm package installed once, run by Node.js) or ``command`` (an argv).
    ``command`` replaces an image's entry point; ``args`` follow the entry point, package
    script or command. ``{port}`` in ``command``/``args`` becomes the
    port the server must listen on (the container port, or a free loopback port for a
    process); the same number is also passed as ``PORT``.

    ``env`` and ``secrets`` both reach the server's environment only. Secret values are
    checked never to appear in names, labels or argv, and neither mapping is in ``repr``.
    """

    deployment_id: str
    instance_id: str
    version: str
    transport: Transport
    deployment_name: str = ""
    image: str | None = None
    package: PackageSource | None = None
    npm: NpmPackage | None = None
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Paths of this machine a container sees read-only at the same place (a process sees them
    # anyway): what its arguments name.
    mounts: tuple[str, ...] = ()
    container_port: int = 8000
    mcp_path: str = "/mcp"
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The container or process name: ``mcp-console-<deployment>-<instance>``."""
        return f"mcp-console-{self.deployment_id}-{self.instance_id}"

    def validate(self) -> None:
        """Raise ``Invalid`` naming the first field that is wrong; nothing is started."""
        for field_name in ("deployment_id", "instance_id"):
            value = getattr(self, field_name)
            if not _ID_RE.match(value):
                raise Invalid(
                    f"{field_name} must be 1-63 lowercase letters, digits, '.', '_' or '-', "
                    f"starting with a letter or digit; got {value!r}",
                    field=field_name,
                )
        if not _VERSION_RE.match(self.version):
            raise Invalid(f"not a valid version label: {self.version!r}", field="version")
        if self.transport not in TRANSPORTS:
            raise Invalid(
                f"transport must be one of {', '.join(TRANSPORTS)}; got {self.transport!r}",
                field="transport",
            )
        if not 1 <= self.container_port <= 65535:
            raise Invalid(
                f"container_port must be 1-65535, got {self.container_port}",
                field="container_port",
            )
        if not self.mcp_path.startswith("/"):
            raise Invalid(f"mcp_path must start with '/': {self.mcp_path!r}", field="mcp_path")
        if len(self.deployment_name) > 200 or "\n" in self.deployment_name:
            raise Invalid(
                "deployment_name must be one line of at most 200 characters",
                field="deployment_name",
            )
        if self.package is not None:
            self.package.validate()
        if self.npm is not None:
            self.npm.validate()
        for path in self.mounts:
            problem = mount_problem(path)
            if problem is not None:
                raise Invalid(problem, field="mounts")
        self.limits.validate()
        for key in (*self.env, *self.secrets):
            if not _ENV_KEY_RE.match(key):
                raise Invalid(f"not a valid environment variable name: {key!r}", field="env")
        for key in self.labels:
            if key in RESERVED_LABELS or key.startswith(LABEL_PREFIX):
                raise Invalid(f"label {key!r} is reserved for mcp-console", field="labels")
            if not _LABEL_KEY_RE.match(key):
                raise Invalid(f"not a valid label key: {key!r}", field="labels")
        self._check_no_secret_leaks()

    def _check_no_secret_leaks(self) -> None:
        public = {
            "name": [self.name, self.deployment_name, self.version],
            "labels": [*self.labels.keys(), *self.labels.values()],
            "command": [*self.command, *self.args, *(self.npm.node_args if self.npm else ())],
            "image": [self.image or ""],
        }
        for key, secret in self.secrets.items():
            if len(secret) < _MIN_SECRET_LEN:
                continue
            for field_name, values in public.items():
                if any(secret in value for value in values):
                    # The message names the variable, never its value.
                    raise Invalid(
                        f"the value of secret {key} appears in the instance's {field_name}; "
                        "secrets may only be passed through the environment",
                        field=field_name,
                    )

    def child_env(self, port: int | None) -> dict[str, str]:
        """The variables the server gets: ``env``, ``secrets``, instance id and ``PORT``."""
        env = {INSTANCE_ID_ENV: self.instance_id}
        if port is not None:
            env["PORT"] = str(port)
        env.update(self.env)
        env.update(self.secrets)
        return env

    def managed_labels(self) -> dict[str, str]:
        """The labels that identify this instance to any mcp-console driver."""
        labels = dict(self.labels)
        labels.update(
            {
                LABEL_MANAGED: "true",
                LABEL_DEPLOYMENT: self.deployment_id,
                LABEL_DEPLOYMENT_NAME: self.deployment_name,
                LABEL_INSTANCE: self.instance_id,
                LABEL_VERSION: self.version,
                LABEL_TRANSPORT: self.transport,
                LABEL_PORT: str(self.container_port),
                LABEL_PATH: self.mcp_path,
            }
        )
        return labels


def mount_problem(path: str) -> str | None:
    """Why ``path`` may not be mounted into a container, or ``None`` when it may."""
    parts = path.split("/")
    if not path.startswith("/") or ".." in parts:
        return f"{path!r} is not an absolute path"
    if path.rstrip("/") == "":
        return "the whole filesystem of this machine cannot be given to a container"
    for root in _UNMOUNTABLE:
        if path == root or path.startswith(root + "/"):
            return f"{path} is under {root}, which no container may see"
    return None


def substitute_port(argv: tuple[str, ...], port: int) -> list[str]:
    """``argv`` with every ``{port}`` replaced by ``port``."""
    return [part.replace(PORT_PLACEHOLDER, str(port)) for part in argv]


def http_url(host: str, port: int, path: str) -> str:
    """The Streamable HTTP endpoint of a server on ``host:port``."""
    return f"http://{host}:{port}{path}"


@dataclass(frozen=True, slots=True)
class InstanceHandle:
    """What ``start`` returns: how to reach the instance that was started."""

    driver: str
    ref: str
    name: str
    transport: Transport
    host: str = LOOPBACK
    port: int | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ManagedInstance:
    """An instance a driver found running or stopped, read back from its labels."""

    driver: str
    ref: str
    name: str
    deployment_id: str
    instance_id: str
    version: str
    transport: Transport
    running: bool
    exit_code: int | None
    host: str = LOOPBACK
    port: int | None = None
    url: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuntimeEvent:
    """A lifecycle change of a managed instance (``exit_code`` is set on ``die``)."""

    kind: EventKind
    driver: str
    ref: str
    deployment_id: str
    instance_id: str
    version: str
    at: datetime
    exit_code: int | None = None


@runtime_checkable
class RuntimeDriver(Protocol):
    """Starts, stops and watches MCP server instances on one kind of runtime.

    Every method raises ``schemas.errors`` types: ``Invalid`` for a bad spec, ``NotFound``
    for an unknown ref or a missing image, ``Conflict`` when the instance already exists,
    ``Unavailable`` when the runtime itself cannot be reached.
    """

    name: str

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        """Create and start one instance; it may still crash right after (watch ``events``)."""
        ...

    # ``timeout`` is the grace period before a kill, not a deadline for the call.
    async def stop(self, ref: str, timeout: float = 10.0) -> int | None:  # noqa: ASYNC109
        """Stop gracefully, killing after ``timeout`` seconds; returns the exit code."""
        ...

    async def remove(self, ref: str) -> None:
        """Remove the instance (killing it if it still runs); nothing of it remains."""
        ...

    async def list_managed(self) -> list[ManagedInstance]:
        """Every instance this driver manages, running or not."""
        ...

    async def is_running(self, ref: str) -> bool:
        """Whether the instance is running now."""
        ...

    async def open_stdio(self, ref: str) -> StdioChannel:
        """The JSON-lines channel to a stdio instance's stdin and stdout."""
        ...

    async def logs(self, ref: str, tail: int = 100) -> list[str]:
        """The last ``tail`` lines the server wrote to stderr (its log)."""
        ...

    def events(self) -> AsyncIterator[RuntimeEvent]:
        """Lifecycle events (start, die, oom) from now on, until ``close``."""
        ...

    async def close(self) -> None:
        """Release watchers and connections (instances that can outlive us keep running)."""
        ...
