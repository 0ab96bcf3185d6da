"""What goes into the images of npm servers: a Node.js base layer, then the installed package."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mcp_console.backend.deploy.node import NodeBinary
from mcp_console.backend.deploy.npm_cache import MANIFEST, InstalledPackage

NODE_BASE_REPOSITORY = "mcp-console/node-base"
CONTAINER_NODE = "/usr/local/bin/node"
CONTAINER_APP = PurePosixPath("/opt/app")
# The files of an install that the image needs (the manifest is the console's own record).
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

    def write_context(self, context: Path) -> None:
        """The Dockerfile and the binary (a hard link when the cache is on the same disk)."""
        (context / "Dockerfile").write_text(self.dockerfile)
        _link_or_copy(self.node.path, context / "node")


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

    def write_context(self, context: Path) -> None:
        """The Dockerfile and a copy of the install, readable by the image's unprivileged user."""
        (context / "Dockerfile").write_text(self.dockerfile)
        app = context / "app"
        app.mkdir()
        for name in _APP_FILES:
            source = self.installed.root / name
            if source.is_dir():
                shutil.copytree(source, app / name, symlinks=True)
            elif source.is_file() and name != MANIFEST:
                shutil.copy2(source, app / name)
        _readable(app)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        target.hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)


def _readable(root: Path) -> None:
    """Every directory searchable and every file readable by all (the server is not root)."""
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o555)
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o444)
    root.chmod(root.stat().st_mode | 0o555)
