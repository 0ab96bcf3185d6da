"""Catalog DTOs: services, versions, reviews, search, categories and imports."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, computed_field, field_validator

from mcp_console.schemas.base import Dto, RequestBody
from mcp_console.schemas.host_env import pass_env_names
from mcp_console.schemas.version_source import VersionSource, version_source

MAX_COMMENT_LENGTH = 2000
MAX_SYSTEM_PACKAGES = 50
# Debian Policy 5.6.1: two or more of a-z, 0-9, "+", "-" and ".", starting alphanumeric. The
# grammar also keeps apt's own syntax out (no "=version", "/release", ":arch" or globs).
_DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]{1,99}$")


def system_package_problem(name: object) -> str | None:
    """Why ``name`` is not a Debian package name, or ``None`` when it is one."""
    if isinstance(name, str) and _DEBIAN_PACKAGE.match(name):
        return None
    return (
        f"{name!r} is not a Debian package name (2-100 lower-case letters, digits, "
        "'+', '-' or '.', starting with a letter or digit)"
    )


def system_package_names(names: Iterable[str]) -> list[str]:
    """Debian package names as given, without repeats.

    Raises:
        ValueError: naming the first entry that is not a Debian package name, or too many.
    """
    seen: dict[str, None] = {}
    for name in names:
        problem = system_package_problem(name)
        if problem is not None:
            raise ValueError(problem)
        seen[name] = None
    if len(seen) > MAX_SYSTEM_PACKAGES:
        raise ValueError(f"at most {MAX_SYSTEM_PACKAGES} system packages, got {len(seen)}")
    return list(seen)


class PriceModel(StrEnum):
    """How a service is charged."""

    FREE = "FREE"
    PAID = "PAID"
    FREEMIUM = "FREEMIUM"


class ServiceStatus(StrEnum):
    """Where a service is in its life."""

    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    DEPRECATED = "DEPRECATED"


class Transport(StrEnum):
    """How an MCP server is spoken to."""

    STDIO = "stdio"
    STREAMABLE_HTTP = "streamable-http"
    SSE = "sse"


class PackageRef(Dto):
    """A package that runs the server (the registry's ``Package``, trimmed to what we use)."""

    model_config = ConfigDict(extra="allow")

    registry_type: str
    identifier: str
    version: str | None = None
    runtime_hint: str | None = None
    transport: Transport = Transport.STDIO
    arguments: list[str] = Field(default_factory=list)


class ServiceCreate(RequestBody):
    """What an author gives to register a service."""

    name: str = Field(min_length=3, max_length=200, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._/-]*$")
    display_name: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=10_000)
    category: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=50)
    repository_url: str | None = Field(default=None, max_length=500)
    documentation_url: str | None = Field(default=None, max_length=500)
    icon_url: str | None = Field(default=None, max_length=500)
    readme: str | None = Field(default=None, max_length=200_000)
    price_model: PriceModel = PriceModel.FREE
    price_per_request: Decimal = Field(default=Decimal("0"), ge=0)
    featured: bool = False


class ServiceUpdate(RequestBody):
    """Fields an author may change on a service; ``None`` leaves a field as it is."""

    display_name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=50)
    repository_url: str | None = Field(default=None, max_length=500)
    documentation_url: str | None = Field(default=None, max_length=500)
    icon_url: str | None = Field(default=None, max_length=500)
    readme: str | None = Field(default=None, max_length=200_000)
    price_model: PriceModel | None = None
    price_per_request: Decimal | None = Field(default=None, ge=0)
    featured: bool | None = None


class VersionCreate(RequestBody):
    """A new version of a service."""

    version: str = Field(min_length=1, max_length=255)
    changelog: str = Field(default="", max_length=50_000)
    docker_image: str | None = Field(default=None, max_length=500)
    packages: list[PackageRef] = Field(default_factory=list)
    command: list[str] = Field(default_factory=list)
    transport: Transport = Transport.STDIO
    config_schema: dict[str, Any] = Field(default_factory=dict)
    api_spec: dict[str, Any] = Field(default_factory=dict)
    remotes: list[dict[str, Any]] = Field(default_factory=list)
    # Debian packages the server needs beside its own (e.g. ``git``): installed into the
    # images the console builds, required on the machine by the process runtime.
    system_packages: list[str] = Field(default_factory=list)
    # Whether one server connection may serve many clients: ``shared`` for a stateless
    # server, ``per-session`` for one that keeps state; ``None`` when the author does not
    # say (a stdio server then gets a connection per client session).
    session_mode: Literal["shared", "per-session"] | None = None
    # Host variables the server needs by name (a CA bundle such as SSL_CERT_FILE, proxies):
    # passed when the console allows them and the host has them; nothing else reaches it.
    pass_env: list[str] = Field(default_factory=list)

    @field_validator("system_packages")
    @classmethod
    def _debian_names(cls, names: list[str]) -> list[str]:
        return system_package_names(names)

    @field_validator("pass_env")
    @classmethod
    def _env_names(cls, names: list[str]) -> list[str]:
        return pass_env_names(names)


class VersionView(Dto):
    """A version as users see it."""

    id: int
    version: str
    changelog: str
    docker_image: str | None
    packages: list[PackageRef]
    command: list[str]
    transport: Transport
    config_schema: dict[str, Any]
    api_spec: dict[str, Any]
    remotes: list[dict[str, Any]]
    system_packages: list[str] = Field(default_factory=list)
    session_mode: Literal["shared", "per-session"] | None = None
    pass_env: list[str] = Field(default_factory=list)
    is_latest: bool
    is_prerelease: bool
    published: bool
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def source(self) -> VersionSource:
        """Where it comes from (``npm @scope/pkg 1.2.3``, ``OCI image …``, ``remote …``)."""
        return version_source(
            self.docker_image,
            [p.model_dump() for p in self.packages],
            self.command,
            self.remotes,
        )


class ServiceView(Dto):
    """A service as a row of the market."""

    id: int
    name: str
    display_name: str
    description: str
    category: str | None
    tags: list[str]
    author: str
    price_model: PriceModel
    price_per_request: Decimal
    status: ServiceStatus
    featured: bool
    downloads_count: int
    rating_average: float
    rating_count: int
    latest_version: str | None
    created_at: datetime
    updated_at: datetime


class ServiceDetail(ServiceView):
    """A service with everything its detail page shows."""

    repository_url: str | None
    documentation_url: str | None
    icon_url: str | None
    readme: str | None
    deprecation_message: str | None
    versions: list[VersionView]
    rating_histogram: dict[int, int]


class ReviewCreate(RequestBody):
    """A user's rating and comment."""

    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=MAX_COMMENT_LENGTH)


class ReviewView(Dto):
    """A review as shown under a service."""

    id: int
    service: str
    user: str
    rating: int
    comment: str
    created_at: datetime
    updated_at: datetime


SortKey = Literal["relevance", "rating", "downloads", "new", "name"]


class SearchPage(Dto):
    """One page of search results with the total count."""

    query: str
    items: list[ServiceView]
    total: int
    # False when ``total`` is an estimate: very broad searches are not counted ("about 16,000").
    total_exact: bool = True
    page: int
    page_size: int

    def total_text(self) -> str:
        """The total as people read it: ``1,234``, or ``about 16,000`` for an estimate."""
        if self.total_exact:
            return f"{self.total:,}"
        return f"about {round(self.total, 2 - len(str(self.total))):,}"


class CategoryCount(Dto):
    """A category with how many visible services it holds."""

    name: str
    count: int


class TagCount(Dto):
    """A tag with how many visible services carry it."""

    name: str
    count: int


class CatalogFormat(StrEnum):
    """The catalog document formats we read."""

    AUTO = "auto"
    SERVER_JSON = "server-json"
    REGISTRY_SEED = "registry-seed"
    DOCKER_CATALOG = "docker-catalog"


class CatalogDocument(Dto):
    """One raw document to import, as read from a file (the backend parses it)."""

    origin: str
    text: str
    format: CatalogFormat = CatalogFormat.AUTO
    extra_files: dict[str, str] = Field(default_factory=dict)


class ImportProblem(Dto):
    """Why one entry was not imported."""

    origin: str
    entry: str | None
    reason: str


class ImportReport(Dto):
    """What an import did, entry by entry."""

    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    problems: list[ImportProblem] = Field(default_factory=list)
