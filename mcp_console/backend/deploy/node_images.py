"""What goes into the images of npm servers: a Node.js base layer, then the installed package."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from mcp_console.backend.deploy.node import NodeBinary
from mcp_console.backend.deploy.npm_cache import InstalledPackage

NODE_BASE_REPOSITORY = "mcp-console/node-base"
CONTAINER_NODE = "/usr/local/bin/node"
CONTAINER_APP = PurePosixPath("/opt/app")
# The files of an install that the image needs (not the console's own manifest).
_APP_FILES = ("node_modules", "package.json", "package-lock.json")


@dataclass(frozen=True, slots=True)
class NodeBase:
    """The Node.js layer on the console's base image: its tag and build context."""

    tag: str
    dockerfile: str
    node: NodeBinary

    @classmethod
    def of(cls, base_image: str, node: NodeBinary) -> NodeBase:
        """The Node.js ``node`` (a registry build) copied onto ``base_image``."""
        dockerfile = "\n".join(
            [
                f"FROM {base_image}",
                f"COPY node {CONTAINER_NODE}",
                "ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp",
                "",
            ]
        )
        return cls(f"{NODE_BASE_REPOSITORY}:{node.version_text}", dockerfile, node)

    def content_hash(self, base_id: str) -> str:
        """What the layer is made of: the base image, the Dockerfile and the binary's version."""
        parts = {"base": base_id, "dockerfile": self.dockerfile, "node": self.node.version_text}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def write_context(self, archive: tarfile.TarFile) -> None:
        """The Dockerfile and the binary, into the build context."""
        _add_text(archive, "Dockerfile", self.dockerfile)
        archive.add(self.node.path, arcname="node", filter=_for_everyone)


@dataclass(frozen=True, slots=True)
class NpmImage:
    """An npm server's image: the installed tree on the Node.js base, run unprivileged."""

    tag: str
    dockerfile: str
    installed: InstalledPackage

    @classmethod
    def of(
        cls,
        tag: str,
        base: str,
        installed: InstalledPackage,
        script: str,
        node_args: tuple[str, ...],
        user: str,
    ) -> NpmImage:
        """``installed`` on ``base`` (a Node.js base tag), started as ``node <node_args>
        <script>``; the package's arguments follow at run time."""
        entrypoint = [CONTAINER_NODE, *node_args, str(CONTAINER_APP / script)]
        dockerfile = "\n".join(
            [
                f"FROM {base}",
                f"COPY app {CONTAINER_APP}",
                f"USER {user}",
                "WORKDIR /tmp",
                f"ENTRYPOINT {json.dumps(entrypoint)}",
                "CMD []",
                "",
            ]
        )
        return cls(tag, dockerfile, installed)

    def content_hash(self, base_id: str) -> str:
        """The base, the Dockerfile and the locked tree (an install never changes once made)."""
        lock = (self.installed.root / "package-lock.json").read_bytes()
        parts = {
            "base": base_id,
            "dockerfile": self.dockerfile,
            "tree": hashlib.sha256(lock).hexdigest(),
            "package": self.installed.spec,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def write_context(self, archive: tarfile.TarFile) -> None:
        """The Dockerfile and the install, read straight from the cache, owned by root and
        readable by the image's unprivileged user."""
        _add_text(archive, "Dockerfile", self.dockerfile)
        for name in _APP_FILES:
            source = self.installed.root / name
            if source.exists():
                archive.add(source, arcname=f"app/{name}", filter=_for_everyone)


def _add_text(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def _for_everyone(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owned by root, readable (directories searchable) by all: the server runs unprivileged."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if info.isdir():
        info.mode |= 0o555
    elif info.isfile():
        info.mode |= 0o444
    return info
