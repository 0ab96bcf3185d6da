"""A built package uploads the same through the embedded backend and through the daemon's API."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from mcp_console.schemas.errors import Conflict, Forbidden, Invalid
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients

WHEEL = "acme_weather-1.0.0-py3-none-any.whl"


def _wheel(directory: Path, filename: str, content: str) -> Path:
    """A wheel file whose one module holds ``content``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("acme_weather/__init__.py", content)
    return path


def _tarball(directory: Path, name: str, version: str) -> Path:
    """An ``npm pack`` tarball of ``name`` at ``version``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "package.tgz"
    manifest = json.dumps({"name": name, "version": version}).encode()
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo("package/package.json")
        member.size = len(manifest)
        archive.addfile(member, io.BytesIO(manifest))
    return path


async def test_a_package_is_stored_once_and_only_by_its_author(
    clients: Clients, tmp_path: Path
) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    wheel = _wheel(tmp_path / "first", WHEEL, "A = 1\n")
    stored = await alice.upload_package("pypi", "acme-weather", "1.0.0", wheel)
    assert (stored.registry, stored.version, stored.filename) == ("pypi", "1.0.0", WHEEL)
    assert stored.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
    # The same bytes again (a retried publish) change nothing.
    assert await alice.upload_package("pypi", "acme-weather", "1.0.0", wheel) == stored

    other = _wheel(tmp_path / "other", WHEEL, "A = 2\n")
    with pytest.raises(Conflict, match="published already with other content"):
        await alice.upload_package("pypi", "acme-weather", "1.0.0", other)

    bob = await clients.user("bob", Role.AUTHOR)
    planted = _wheel(tmp_path / "bob", "acme_weather-1.0.1-py3-none-any.whl", "A = 3\n")
    with pytest.raises(Forbidden, match="another author"):
        await bob.upload_package("pypi", "acme-weather", "1.0.1", planted)
    carol = await clients.user("carol", Role.USER)
    with pytest.raises(Forbidden, match="only authors and admins publish"):
        await carol.upload_package("pypi", "carol-tools", "1.0.0", planted)

    with pytest.raises(Invalid, match=r"acme_weather-1\.0\.1-py3-none-any\.whl holds"):
        await bob.upload_package("pypi", "bob-tools", "1.0.1", planted)
    with pytest.raises(Invalid, match=r"package\.tgz is not a pypi package file \(\.whl\)"):
        await bob.upload_package("pypi", "bob-tools", "1.0.0", _tarball(tmp_path, "x", "1.0.0"))

    scoped = _tarball(tmp_path / "npm", "@acme/weather", "2.0.0")
    stored = await alice.upload_package("npm", "@acme/weather", "2.0.0", scoped)
    assert (stored.name, stored.filename) == ("@acme/weather", "@acme+weather@2.0.0.tgz")
