"""Image references (``[host[:port]/]path[:tag][@sha256:…]``) and registry logins."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp_console.schemas.errors import Invalid

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io"})
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class RegistryAuth:
    """A username and password for one registry (``host[:port]``); the password never shows."""

    registry: str
    username: str
    password: str = field(repr=False)

    def config(self) -> dict[str, str]:
        """The SDK's ``auth_config``."""
        return {
            "username": self.username,
            "password": self.password,
            "serveraddress": self.registry,
        }


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image reference split up: registry host, repository path, tag or digest."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, reference: str) -> ImageRef:
        """Split ``reference`` (``[host[:port]/]path[:tag][@sha256:…]``).

        Raises:
            Invalid: it cannot be an image reference (the message says what is wrong).
        """
        text = reference.strip()
        rest, _, digest = text.partition("@")
        name, tag = rest, None
        last = rest.rsplit("/", 1)[-1]
        if ":" in last:
            name, tag = rest[: rest.rindex(":")], last.split(":", 1)[1]
        first, slash, path = name.partition("/")
        if slash and ("." in first or ":" in first or first == "localhost"):
            registry, repository = first, path
        else:
            registry, repository = DOCKER_HUB, name
        if registry in _HUB_ALIASES:
            registry = DOCKER_HUB
            if "/" not in repository:
                repository = f"library/{repository}"
        problem = "" if _REPOSITORY_RE.match(repository) else "a repository of lowercase path parts"
        if tag is not None and not _TAG_RE.match(tag):
            problem = "a tag of letters, digits, '_', '.' and '-'"
        if digest and not _DIGEST_RE.match(digest):
            problem = "a sha256 digest of 64 hex digits"
        if problem:
            raise Invalid(
                f"not an image reference: {reference!r} (expected {problem})", field="image"
            )
        return cls(registry, repository, tag, digest or None)

    @property
    def name(self) -> str:
        """``host/repository`` as the engine names it (no host for Docker Hub)."""
        if self.registry == DOCKER_HUB:
            return self.repository.removeprefix("library/")
        return f"{self.registry}/{self.repository}"

    @property
    def pull_tag(self) -> str:
        """What to ask the registry for: the digest, else the tag (``latest`` by default)."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        if self.digest:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag or 'latest'}"

    def mirrored(self, mirror: str | None) -> ImageRef:
        """The same image on ``mirror`` when it would come from Docker Hub."""
        if not mirror or self.registry != DOCKER_HUB:
            return self
        return ImageRef(mirror, self.repository, self.tag, self.digest)

    def with_digest(self, digest: str) -> ImageRef:
        """This repository at ``digest``."""
        return ImageRef(self.registry, self.repository, None, digest)


def oci_image(packages: Iterable[Mapping[str, Any]]) -> str | None:
    """The image of a version's first ``oci`` package (older documents kept the tag in
    ``version``), or ``None``."""
    for package in packages:
        if package.get("registry_type") != "oci" or not package.get("identifier"):
            continue
        image = str(package["identifier"])
        version = package.get("version")
        tagged = "@" in image or ":" in image.rsplit("/", 1)[-1]
        if version and version != "latest" and not tagged:
            return f"{image}:{version}"
        return image
    return None


def oci_arguments(packages: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The arguments given to the image of a version's first ``oci`` package."""
    for package in packages:
        if package.get("registry_type") == "oci":
            return tuple(str(a) for a in package.get("arguments") or ())
    return ()
