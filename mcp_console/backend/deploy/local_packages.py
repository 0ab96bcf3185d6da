"""Packages published to this console itself (a wheel, an npm tarball): found before the index.

A server made from a template is published with its built package (``dev publish``): its
catalog entry names a plain PyPI or npm package, and the runtimes install that exact
version from here, as they would from the index, on the process runtime and into images.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

import anyio
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_wheel_filename,
)

from mcp_console.backend.catalog.service import require_author_role
from mcp_console.schemas.deploy import PackageStored
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid
from mcp_console.schemas.users import Principal
from mcp_console.settings import Settings

WHEEL = ".whl"
TARBALL = ".tgz"
# The file each registry's packages are published as.
SUFFIX_OF_REGISTRY = {"pypi": WHEEL, "npm": TARBALL}


@dataclass(frozen=True, slots=True)
class StoredPackage:
    """One stored file: the package it holds and the SHA-256 of its bytes."""

    path: Path
    name: str
    version: str
    sha256: str


class LocalPackages:
    """``<root>/pypi/*.whl`` (a flat find-links directory) and ``<root>/npm/<name>@<version>.tgz``.

    A stored version never changes: storing other bytes under the same name and version is
    refused, as an index refuses a re-upload, so every install of it is the same.

    Args:
        root: where the files live (``<data dir>/packages``).
    """

    def __init__(self, root: Path, *, max_bytes: int = 50 * 2**20) -> None:
        self.root = root
        self.max_bytes = max_bytes

    @property
    def pypi_dir(self) -> Path:
        """The wheels, as a directory pip and uv read with ``--find-links``."""
        return self.root / "pypi"

    @property
    def npm_dir(self) -> Path:
        """The npm tarballs."""
        return self.root / "npm"

    def add(self, artifact: Path) -> StoredPackage:
        """Store a built wheel or ``npm pack`` tarball (a no-op when it is there already).

        Raises:
            Invalid: ``artifact`` is neither, or cannot be read.
            Conflict: that name and version are stored with other content.
        """
        if artifact.suffix == WHEEL:
            name, version = _wheel_identity(artifact)
            target = self.pypi_dir / artifact.name
        elif artifact.suffix == TARBALL:
            name, version = _tarball_identity(artifact)
            target = self.npm_dir / _tarball_name(name, version)
        else:
            raise Invalid(
                f"{artifact.name} is not a wheel (.whl) or an npm tarball (.tgz)", field="package"
            )
        digest = sha256_of(artifact)
        if target.exists():
            if sha256_of(target) != digest:
                raise Conflict(
                    f"{name} {version} was published already with other content; publish a "
                    "new version (dev publish --bump patch)",
                    field="version",
                )
            return StoredPackage(target, name, version, digest)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(artifact, partial)
        partial.chmod(0o644)
        partial.replace(target)
        return StoredPackage(target, name, version, digest)

    async def upload(
        self,
        actor: Principal,
        registry: str,
        name: str,
        version: str,
        filename: str,
        chunks: AsyncIterator[bytes],
    ) -> PackageStored:
        """Store an uploaded package: ``filename`` must hold ``name`` at ``version``.

        The first author to publish a package name owns it: only they (or an admin) may
        publish its other versions, so nobody plants a version of someone else's package.

        Raises:
            Forbidden: the actor is no author, or another author owns the package name.
            Invalid: an unknown registry, a file of another package, or one too large.
            Conflict: that name and version are stored with other content.
        """
        require_author_role(actor)
        suffix = SUFFIX_OF_REGISTRY.get(registry)
        if suffix is None:
            known = ", ".join(SUFFIX_OF_REGISTRY)
            raise Invalid(f"registry {registry!r} is none of {known}", field="registry")
        if not filename.endswith(suffix) or "/" in filename or filename.startswith("."):
            raise Invalid(
                f"{filename} is not a {registry} package file ({suffix})", field="filename"
            )
        incoming = self.root / ".incoming"
        await asyncio.to_thread(incoming.mkdir, parents=True, exist_ok=True)
        scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, dir=incoming))
        try:
            artifact = scratch / filename
            await self._received(artifact, chunks)
            stored = await asyncio.to_thread(self._store_upload, actor, name, version, artifact)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        return PackageStored(
            registry=registry,
            name=stored.name,
            version=stored.version,
            filename=stored.path.name,
            sha256=stored.sha256,
        )

    async def _received(self, artifact: Path, chunks: AsyncIterator[bytes]) -> None:
        """Write the uploaded bytes to ``artifact``, refusing more than ``max_bytes``."""
        size = 0
        async with await anyio.open_file(artifact, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > self.max_bytes:
                    raise Invalid(
                        f"{artifact.name} is larger than the {self.max_bytes // 2**20} MB a "
                        "package may be",
                        field="package",
                    )
                await out.write(chunk)

    def _store_upload(
        self, actor: Principal, name: str, version: str, artifact: Path
    ) -> StoredPackage:
        """Check that ``artifact`` is ``name`` at ``version`` and ``actor`` may publish it."""
        if artifact.suffix == WHEEL:
            found, found_version = _wheel_identity(artifact)
            same = canonicalize_name(found) == canonicalize_name(name) and canonicalize_version(
                found_version
            ) == canonicalize_version(version)
        else:
            found, found_version = _tarball_identity(artifact)
            same = (found, found_version) == (name, version)
        if not same:
            raise Invalid(
                f"{artifact.name} holds {found} {found_version}, not {name} {version}",
                field="filename",
            )
        self._claim(actor, artifact.suffix, found)
        return self.add(artifact)

    def _claim(self, actor: Principal, suffix: str, name: str) -> None:
        """Make ``actor`` the owner of a new package name; refuse anyone else's."""
        owners = self.root / "owners" / suffix.lstrip(".")
        owners.mkdir(parents=True, exist_ok=True, mode=0o755)
        key = canonicalize_name(name) if suffix == WHEEL else name
        record = owners / key.replace("/", "+")
        try:
            # Exclusive creation: of two first uploads at once, one owns the name.
            with record.open("x") as out:
                out.write(str(actor.user_id))
            return
        except FileExistsError:
            owner = record.read_text().strip()
        if owner != str(actor.user_id) and not actor.is_admin:
            raise Forbidden(f"{name} is published by another author; only they may publish it")

    def wheel(self, name: str, version: str) -> Path | None:
        """The stored wheel of ``name`` at exactly ``version``, if any."""
        if not self.pypi_dir.is_dir():
            return None
        wanted = (canonicalize_name(name), canonicalize_version(version))
        for path in sorted(self.pypi_dir.glob(f"*{WHEEL}")):
            try:
                found, found_version, _, _ = parse_wheel_filename(path.name)
            except InvalidWheelFilename:
                continue
            if (found, canonicalize_version(str(found_version))) == wanted:
                return path
        return None

    def tarball(self, name: str, version: str) -> Path | None:
        """The stored npm tarball of ``name`` at exactly ``version``, if any."""
        path = self.npm_dir / _tarball_name(name, version)
        return path if path.is_file() else None

    def find_links(self) -> list[str]:
        """The options that let pip and uv find the stored wheels (none when there are none)."""
        return ["--find-links", str(self.pypi_dir)] if self.pypi_dir.is_dir() else []


def local_packages_dir(settings: Settings) -> Path:
    """Where a data dir keeps the packages published to its console."""
    return settings.data_dir / "packages"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def requires_python(wheel: Path) -> str | None:
    """A wheel's ``Requires-Python`` (from its METADATA), if it states one."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.count("/") == 1]
        name = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
        if name is None:
            return None
        headers = HeaderParser().parsestr(archive.read(name).decode("utf-8", "replace"))
    value = headers.get("Requires-Python")
    return str(value).strip() if value else None


def _wheel_identity(path: Path) -> tuple[str, str]:
    try:
        name, version, _, _ = parse_wheel_filename(path.name)
    except InvalidWheelFilename as exc:
        raise Invalid(f"{path.name} is not a wheel's file name: {exc}", field="package") from None
    return str(name), str(version)


def _tarball_identity(path: Path) -> tuple[str, str]:
    """The name and version in an ``npm pack`` tarball's ``package/package.json``."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = archive.extractfile("package/package.json")
            manifest = json.loads(member.read()) if member is not None else None
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise Invalid(
            f"{path.name} is not an npm package tarball: {exc}", field="package"
        ) from None
    if not isinstance(manifest, dict) or not manifest.get("name") or not manifest.get("version"):
        raise Invalid(f"{path.name}: its package.json has no name and version", field="package")
    return str(manifest["name"]), str(manifest["version"])


def _tarball_name(name: str, version: str) -> str:
    return f"{name.replace('/', '+')}@{version}{TARBALL}"
