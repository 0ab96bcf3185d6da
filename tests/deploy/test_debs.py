"""DebCache without a Docker engine: what it refuses before and instead of downloading."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_console.backend.deploy.debs import DebCache
from mcp_console.schemas.errors import Invalid


async def _no_status() -> bytes:
    raise AssertionError("the base image is read only when something must be downloaded")


async def test_a_machine_without_apt_is_told_so_and_nothing_is_cached(tmp_path: Path) -> None:
    cache = DebCache(tmp_path / "debs", apt_get=str(tmp_path / "no-apt" / "apt-get"))

    async def status() -> bytes:
        return b""

    with pytest.raises(Invalid) as caught:
        await cache.ensure(["git"], "sha256:base", status)

    assert caught.value.field == "system_packages"
    assert "which this machine lacks" in caught.value.message
    assert not cache.path_for(["git"], "sha256:base").exists()


async def test_names_are_checked_before_anything_runs(tmp_path: Path) -> None:
    cache = DebCache(tmp_path / "debs", apt_get=str(tmp_path / "no-apt" / "apt-get"))
    with pytest.raises(Invalid) as caught:
        await cache.ensure(["git", "-oAPT::Get::Trivial-Only=true"], "sha256:base", _no_status)
    assert caught.value.field == "system_packages"
    assert "'-oAPT::Get::Trivial-Only=true' is not a Debian package name" in caught.value.message
    assert not (tmp_path / "debs").exists()
