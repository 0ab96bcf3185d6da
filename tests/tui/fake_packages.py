"""The fake console's package store: the real one, in a directory made when first used."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

from mcp_console.backend.deploy.local_packages import LocalPackages
from mcp_console.client.uploads import file_chunks
from mcp_console.schemas.deploy import PackageStored
from mcp_console.schemas.users import Principal


class FakePackages:
    """Uploads kept by the backend's own store (its rules are files and digests, cheap to
    run for real), in a temporary directory removed with this object."""

    def __init__(self) -> None:
        self._store: LocalPackages | None = None

    def _opened(self) -> LocalPackages:
        if self._store is None:
            root = Path(tempfile.mkdtemp(prefix="fake-packages-"))
            weakref.finalize(self, shutil.rmtree, root, True)
            self._store = LocalPackages(root)
        return self._store

    async def upload(
        self, actor: Principal, registry: str, name: str, version: str, artifact: Path
    ) -> PackageStored:
        """Store ``artifact`` as the console does."""
        store = self._opened()
        chunks = file_chunks(artifact)
        return await store.upload(actor, registry, name, version, artifact.name, chunks)
