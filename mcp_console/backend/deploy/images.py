"""ImageBuilder: offline, cached Docker images for PyPI and npm MCP servers and our example."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import shlex
import shutil
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import docker.errors
from packaging.utils import canonicalize_name

from mcp_console import __version__
from mcp_console.backend.deploy.debs import DebCache, checked_names
from mcp_console.backend.deploy.drivers.base import NpmPackage, PackageSource
from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.deploy.local_packages import sha256_of
from mcp_console.backend.deploy.node import NodeBinary, NodeToolchain
from mcp_console.backend.deploy.node_images import NodeBase, NpmImage
from mcp_console.backend.deploy.pypi_entry import choose_entry, in_wheel
from mcp_console.backend.deploy.pypi_release import PypiIndex, Release
from mcp_console.backend.deploy.uv_runner import UvFailed, run_uv
from mcp_console.schemas.errors import Invalid, NotFound, Unavailable
from mcp_console.settings import ImageSettings, NodeSettings, PypiSettings

logger = logging.getLogger(__name__)

LABEL_IMAGE = "io.mcp-console.image"
LABEL_HASH = "io.mcp-console.content-hash"
LABEL_REQUIREMENTS = "io.mcp-console.requirements"
LABEL_SYSTEM_PACKAGES = "io.mcp-console.system-packages"
EXAMPLE_REPOSITORY = "mcp-console/example-server"
EXAMPLE_FILE = "example_server.py"
EXAMPLE_SOURCE = Path(__file__).resolve().parents[2] / "devtools" / EXAMPLE_FILE
IMAGE_USER = "65534:65534"
DPKG_STATUS = "/var/lib/dpkg/status"
_REPO_PART_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_PIP_TAIL_LINES = 15
_BUILD_TAIL_LINES = 20
_CONTEXT_CHUNK = 1 << 20
VENV_BIN = "/opt/venv/bin"
# What uv resolves wheels for (glibc 2.36: bookworm; trixie's newer glibc runs them too).
_UV_PLATFORM = "x86_64-manylinux_2_36"


@dataclass(frozen=True, slots=True)
class BuiltImage:
    """An image ready on the engine: built now, or reused because its content matched."""

    tag: str
    image_id: str
    reused: bool
    size_bytes: int
    seconds: float


@dataclass(frozen=True)
class ImageRecipe:
    """What goes into one image: pinned requirements, Debian packages, extra files for /app,
    the entry point.

    ``base``/``python``: the base image and its Python (the settings' default when unset);
    ``release``: dependencies are resolved as of its upload (``Release.resolution``);
    ``package``: the distribution whose program is the entry point, chosen from its wheel
    once downloaded.
    """

    tag: str
    requirements: tuple[str, ...]
    entrypoint: tuple[str, ...]
    files: Mapping[str, bytes] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    system_packages: tuple[str, ...] = ()
    base: str | None = None
    python: str | None = None
    release: Release | None = None
    package: PackageSource | None = None


class ImageBuilder:
    """Builds images with a venv of downloaded wheels on the configured base image.

    Wheels are fetched on the host (``pip download`` with pip's own index configuration, or
    only from ``settings.wheel_dir`` when set), so builds run with no network; so are the
    ``.deb`` files of the Debian packages a recipe asks for (see ``DebCache``), which dpkg
    installs into the final stage. Two stages keep pip and the wheels out of the final
    image, which runs as an unprivileged user. An image is rebuilt only when its content
    hash label differs from the recipe's.

    Args:
        settings: the base image, the optional wheel directory and the ``.deb`` cache.
        engine: the Docker connection.
        python_version: the base image's Python (``X.Y``) the wheels must fit.
        platforms: wheel platform tags acceptable on the base image.
        debs: where Debian packages come from (by default a cache at ``settings.deb_cache``).
        node: npm installs and the registry's Node.js for npm servers' images (installed
            on the host, copied in: see ``ensure_npm_image``).
        pypi: release lookups (Requires-Python, upload time) for PyPI servers' images.
    """

    def __init__(
        self,
        settings: ImageSettings,
        engine: Engine,
        *,
        python_version: str = "3.11",
        platforms: Sequence[str] = ("manylinux2014_x86_64", "manylinux_2_36_x86_64"),
        debs: DebCache | None = None,
        node: NodeToolchain | None = None,
        pypi: PypiIndex | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.python_version = python_version
        self.platforms = tuple(platforms)
        self.debs = debs or DebCache(settings.deb_cache)
        self.node = node or NodeToolchain(NodeSettings())
        self.pypi = pypi or PypiIndex(PypiSettings())
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def package_tag(service: str, version: str) -> str:
        """``mcp-console/<service>:<version>``, or ``Invalid`` if either cannot be a tag."""
        repo = service.lower()
        if not _REPO_PART_RE.match(repo):
            raise Invalid(f"service name {service!r} cannot name an image", field="service")
        tag = version.replace("+", "_")
        if not _TAG_RE.match(tag):
            raise Invalid(f"version {version!r} cannot be an image tag", field="version")
        return f"mcp-console/{repo}:{tag}"

    async def ensure_package_image(
        self, service: str, package: PackageSource, *, system_packages: Sequence[str] = ()
    ) -> BuiltImage:
        """The image running ``package``'s server, built unless already present.

        The base image is the first whose Python satisfies the release's ``Requires-Python``
        (the default base, else ``settings.python_bases``); dependencies are resolved as of
        the release's upload; the entry point is the package's console script (or ``python
        -m``, see ``choose_entry``).

        Args:
            service: names the image (``mcp-console/<service>:<version>``).
            package: the PyPI package at its exact version.
            system_packages: Debian packages the server needs (e.g. ``git``).

        Raises:
            Invalid: the names cannot form a tag, no base image has a Python the release
                accepts, the release has no wheel, a system package is unknown, the package
                has nothing to run, or the resolution/download/build failed (with the reason).
            NotFound: the base image is missing.
            Unavailable: the engine or the package index cannot be reached, or apt could not
                download.
        """
        package.validate()
        release = await self.pypi.release(package.name, package.version)
        python, base = self.base_for(release)
        if not release.has_wheel:
            raise Invalid(
                f"{package.requirement} is published as source only; images install wheels "
                "(built with no network): choose the process runtime",
                field="runtime",
            )
        recipe = ImageRecipe(
            tag=self.package_tag(service, package.version),
            requirements=(package.requirement,),
            entrypoint=(),
            system_packages=tuple(checked_names(system_packages)),
            base=base,
            python=python,
            release=release,
            package=package,
        )
        return await self._ensure(recipe)

    def base_for(self, release: Release) -> tuple[str, str]:
        """``(python, base image)`` for ``release``: the default base when its Python fits,
        else the oldest configured base whose Python does.

        Raises:
            Invalid: no base image has a Python the release accepts (both are named).
        """
        bases = {self.python_version: self.settings.base_image, **self.settings.python_bases}
        if release.fits(self.python_version):
            return self.python_version, self.settings.base_image
        for python in sorted(bases, key=lambda v: tuple(int(p) for p in v.split("."))):
            if release.fits(python):
                return python, bases[python]
        raise Invalid(
            f"{release.name}=={release.version} requires Python {release.requires_python}; "
            f"the base images have Python {', '.join(sorted(bases))}: add a base image with a "
            "Python that fits (MCP_CONSOLE_IMAGES__PYTHON_BASES)",
            field="runtime",
        )

    async def ensure_npm_image(self, service: str, package: NpmPackage) -> BuiltImage:
        """The image running ``package`` with the registry's Node.js, built unless present.

        The package is installed on the host (``NodeToolchain``) and copied in, onto a layer
        holding the registry's Node.js binary on the base image: the build needs no network.

        Raises:
            Invalid: the names cannot form a tag, the package cannot be installed, no Node.js
                fits it, or the build failed (with the reason).
            NotFound: the base image is missing.
            Unavailable: the engine or the npm registry cannot be reached.
        """
        installed, node = await self.node.for_image(package)
        base = await self.ensure_node_base(node)
        image = NpmImage.of(
            self.package_tag(service, package.version),
            base.tag,
            installed,
            installed.script(package.bin),
            package.node_args,
            IMAGE_USER,
        )
        labels = {LABEL_REQUIREMENTS: f"{package.spec} node@{node.version_text}"}
        return await self._ensure_context_image(
            image.tag, base.image_id, image.content_hash, image.write_context, labels
        )

    async def ensure_node_base(self, node: NodeBinary) -> BuiltImage:
        """The base image with ``node`` (a registry build) added, built once per version.

        Raises:
            NotFound: the base image is missing.
            Unavailable: the engine cannot be reached.
        """
        layer = NodeBase.of(self.settings.base_image, node)
        client = await self.engine.client()
        try:
            base = await self.engine.call(client.images.get, self.settings.base_image)
        except NotFound:
            raise NotFound(
                f"base image {self.settings.base_image} is not on the Docker engine; "
                "build it with scripts/images.sh",
                field="images.base_image",
            ) from None
        return await self._ensure_context_image(
            layer.tag, base.id, layer.content_hash, layer.write_context, {}
        )

    async def _ensure_context_image(
        self,
        tag: str,
        base_id: str,
        content_hash: Callable[[str], str],
        write_context: Callable[[tarfile.TarFile], None],
        labels: Mapping[str, str],
    ) -> BuiltImage:
        """``tag`` built from the context archive ``write_context`` fills (straight from the
        caches: no copy of the files first), unless the image's content hash matches."""
        started = time.monotonic()
        digest = await asyncio.to_thread(content_hash, base_id)
        async with self._locks.setdefault(tag, asyncio.Lock()):
            existing = await self._existing(tag, digest)
            if existing is not None:
                return _built(existing, tag, reused=True, started=started)
            logger.info("building image %s", tag)
            all_labels = {LABEL_IMAGE: "true", LABEL_HASH: digest, **labels}
            image = await self._build(write_context, tag, all_labels)
        return _built(image, tag, reused=False, started=started)

    async def ensure_example_image(self, *, system_packages: Sequence[str] = ()) -> BuiltImage:
        """The image of our example MCP server: the installed ``mcp`` version plus one file.

        With system packages the tag carries a digest of them, so that each set has an
        image of its own.
        """
        names = tuple(checked_names(system_packages))
        tag = f"{EXAMPLE_REPOSITORY}:{__version__}"
        if names:
            tag += "-" + hashlib.sha256(" ".join(sorted(names)).encode()).hexdigest()[:12]
        content = await asyncio.to_thread(EXAMPLE_SOURCE.read_bytes)
        recipe = ImageRecipe(
            tag=tag,
            requirements=(f"mcp=={metadata.version('mcp')}",),
            entrypoint=("/opt/venv/bin/python", f"/app/{EXAMPLE_FILE}"),
            files={EXAMPLE_FILE: content},
            system_packages=names,
        )
        return await self._ensure(recipe)

    def dockerfile(self, recipe: ImageRecipe) -> str:
        """The two-stage Dockerfile for ``recipe`` (classic builder: no ``RUN --mount``)."""
        base = recipe.base or self.settings.base_image
        requirements = " ".join(shlex.quote(r) for r in recipe.requirements)
        lines = [
            f"FROM {base} AS build",
            "COPY wheels /wheels",
            "RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-index"
            f" --no-cache-dir --disable-pip-version-check --find-links /wheels {requirements}",
            f"FROM {base}",
        ]
        if recipe.system_packages:
            # One dpkg run over every file orders their installation itself; the files leave
            # the image once installed (the classic builder has no build-time mounts).
            lines += [
                "COPY debs /tmp/debs",
                "RUN find /tmp/debs -name '*.deb' -exec env DEBIAN_FRONTEND=noninteractive"
                " dpkg --install {} + && rm -rf /tmp/debs",
            ]
        lines.append("COPY --from=build /opt/venv /opt/venv")
        if recipe.files:
            lines.append("COPY app /app")
        lines += [
            "ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin PYTHONUNBUFFERED=1"
            " PYTHONDONTWRITEBYTECODE=1 HOME=/tmp",
            f"USER {IMAGE_USER}",
            "WORKDIR /tmp",
            f"ENTRYPOINT {json.dumps(list(recipe.entrypoint))}",
            "CMD []",
        ]
        return "\n".join(lines) + "\n"

    async def _ensure(self, recipe: ImageRecipe) -> BuiltImage:
        started = time.monotonic()
        client = await self.engine.client()
        base_tag = recipe.base or self.settings.base_image
        try:
            base = await self.engine.call(client.images.get, base_tag)
        except NotFound:
            setting = "base_image" if base_tag == self.settings.base_image else "python_bases"
            raise NotFound(
                f"base image {base_tag} is not on the Docker engine; "
                "build it with scripts/images.sh",
                field=f"images.{setting}",
            ) from None
        # Without its entry point: that follows from the rest, once the wheels are here.
        dockerfile = self.dockerfile(recipe)
        content_hash = await asyncio.to_thread(self._content_hash, recipe, dockerfile, base.id)
        lock = self._locks.setdefault(recipe.tag, asyncio.Lock())
        async with lock:
            existing = await self._existing(recipe.tag, content_hash)
            if existing is not None:
                return _built(existing, recipe.tag, reused=True, started=started)
            context = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="mcp-console-build-"))
            try:
                if recipe.system_packages:
                    # First: an unknown package is the likelier mistake, and apt says so fast.
                    debs = await self.debs.ensure(
                        recipe.system_packages, base.id, lambda: self.dpkg_status(base.id)
                    )
                    await asyncio.to_thread(_link_tree, debs, context / "debs")
                await self._download_wheels(recipe, context / "wheels")
                if recipe.package is not None:
                    recipe = await asyncio.to_thread(_with_entry, recipe, context / "wheels")
                    dockerfile = self.dockerfile(recipe)
                await asyncio.to_thread(_write_context, context, dockerfile, recipe.files)
                labels = {
                    LABEL_IMAGE: "true",
                    LABEL_HASH: content_hash,
                    LABEL_REQUIREMENTS: " ".join(recipe.requirements),
                    **recipe.labels,
                }
                if recipe.system_packages:
                    labels[LABEL_SYSTEM_PACKAGES] = " ".join(recipe.system_packages)
                logger.info("building image %s", recipe.tag)
                image = await self._build(context, recipe.tag, labels)
            finally:
                await asyncio.to_thread(shutil.rmtree, context, True)
        return _built(image, recipe.tag, reused=False, started=started)

    def _content_hash(self, recipe: ImageRecipe, dockerfile: str, base_id: str) -> str:
        digest = hashlib.sha256()
        parts: dict[str, Any] = {
            "dockerfile": dockerfile,
            "base": base_id,
            "requirements": recipe.requirements,
            "system_packages": sorted(recipe.system_packages),
            "python": recipe.python or self.python_version,
            # How dependencies are resolved, "today" fixed: the image is rebuilt when the rule
            # changes, not every day.
            "resolution": _resolution_key(recipe.release),
            "platforms": self.platforms,
            "files": {n: hashlib.sha256(c).hexdigest() for n, c in sorted(recipe.files.items())},
        }
        local = self.pypi.local
        package = recipe.package
        wheel = local.wheel(package.name, package.version) if local and package else None
        if wheel is not None:
            # A version published to the console: its bytes, not its name, say what it is.
            parts["local_wheel"] = sha256_of(wheel)
        wheel_dir = self.settings.wheel_dir
        if wheel_dir is not None and wheel_dir.is_dir():
            parts["wheel_dir"] = sorted(
                (p.name, p.stat().st_size) for p in wheel_dir.iterdir() if p.suffix == ".whl"
            )
        digest.update(json.dumps(parts, sort_keys=True).encode())
        return digest.hexdigest()

    async def dpkg_status(self, image: str) -> bytes:
        """``image``'s dpkg database, read from a container that never starts.

        Raises:
            Invalid: the image has no dpkg database (it is not Debian-based).
            Unavailable: the engine cannot be reached.
        """
        client = await self.engine.client()
        try:
            return await self.engine.call(_read_file, client, image, DPKG_STATUS)
        except NotFound:
            raise Invalid(
                f"the image {image} has no {DPKG_STATUS}: system packages need a "
                "Debian-based base image",
                field="system_packages",
            ) from None

    async def _existing(self, tag: str, content_hash: str) -> Any:
        client = await self.engine.client()
        try:
            image = await self.engine.call(client.images.get, tag)
        except NotFound:
            return None
        return image if (image.labels or {}).get(LABEL_HASH) == content_hash else None

    async def _download_wheels(self, recipe: ImageRecipe, target: Path) -> None:
        """The wheels of ``recipe``'s requirements and their dependencies, for its Python.

        uv resolves them (as of ``recipe.exclude_newer``, for the base image's Python and
        platform) and pip downloads exactly those pins, each with its own configuration.
        """
        python = recipe.python or self.python_version
        pins = await self._resolve(recipe, python, target.parent)
        argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check"]
        argv += ["--no-input", "--no-deps", "--only-binary=:all:", "--implementation", "cp"]
        argv += ["--python-version", python, "-d", str(target)]
        for platform in self.platforms:
            argv += ["--platform", platform]
        if self.settings.wheel_dir is not None:
            argv += ["--no-index", "--find-links", str(self.settings.wheel_dir)]
        argv += self.pypi.find_links()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            *pins,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await proc.communicate()
        if proc.returncode != 0:
            lines = output.decode("utf-8", "replace").strip().splitlines()
            errors = [line for line in lines if line.startswith("ERROR")] or lines
            raise Invalid(
                f"could not download wheels for {' '.join(recipe.requirements)}: "
                + " / ".join(errors[-_PIP_TAIL_LINES:]),
                field="package",
            )

    async def _resolve(self, recipe: ImageRecipe, python: str, context: Path) -> list[str]:
        """``name==version`` of every wheel ``recipe`` needs on Python ``python`` (a
        constraints file, if any, is written into the build ``context``)."""
        argv = ["pip", "compile", "-", "--no-config", "--quiet", "--no-header"]
        argv += ["--no-annotate", "--no-strip-extras", "--only-binary", ":all:"]
        argv += ["--python-version", python, "--python-platform", _UV_PLATFORM]
        if self.settings.wheel_dir is not None:
            argv += ["--no-index", "--find-links", str(self.settings.wheel_dir)]
        else:
            argv += ["--default-index", await self.pypi.index_url()]
        argv += self.pypi.find_links()
        if recipe.release is not None:
            resolution = recipe.release.resolution()
            argv += await asyncio.to_thread(resolution.uv_args, context / "constraints.txt")
        requirements = "\n".join(recipe.requirements) + "\n"
        try:
            output = await run_uv(*argv, stdin=requirements)
        except UvFailed as exc:
            raise Invalid(
                f"could not resolve {' '.join(recipe.requirements)} for Python {python}: "
                f"{exc.reason}",
                field="package",
            ) from None
        return [
            line.split(";")[0].strip()
            for line in output.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]

    async def _build(
        self, context: Path | Callable[[tarfile.TarFile], None], tag: str, labels: Mapping[str, str]
    ) -> Any:
        """Build ``tag`` from ``context``: a directory, or what fills the context archive."""
        client = await self.engine.client()
        try:
            image, _ = await asyncio.to_thread(
                _build_from,
                client,
                context,
                tag=tag,
                labels=dict(labels),
                network_mode="none",
                rm=True,
                forcerm=True,
                pull=False,
            )
        except docker.errors.BuildError as exc:
            log = [str(entry.get("stream", "")).rstrip() for entry in exc.build_log]
            tail = " / ".join(line for line in log if line)[-2000:]
            raise Invalid(f"building {tag} failed: {exc.msg}; {tail}", field="package") from None
        except (docker.errors.DockerException, OSError) as exc:
            raise Unavailable(f"building {tag} failed on the Docker engine: {exc}") from exc
        return image


def _build_from(
    client: Any, context: Path | Callable[[tarfile.TarFile], None], **options: Any
) -> Any:
    if isinstance(context, Path):
        return client.images.build(path=str(context), **options)
    return client.images.build(fileobj=_streamed(context), custom_context=True, **options)


def _streamed(write: Callable[[tarfile.TarFile], None]) -> Iterator[bytes]:
    """The archive ``write`` fills, chunk by chunk while it is written: the engine reads the
    context as a thread writes it, and no copy of it ever lands on disk."""
    read_end, write_end = os.pipe()
    failed: list[BaseException] = []

    def produce() -> None:
        try:
            with open(write_end, "wb") as sink, tarfile.open(fileobj=sink, mode="w|") as archive:
                write(archive)
        except BrokenPipeError:
            pass  # the engine stopped reading; the error it reports is the one that counts
        except BaseException as exc:
            failed.append(exc)

    producer = threading.Thread(target=produce, name="image-context", daemon=True)
    producer.start()
    try:
        with open(read_end, "rb") as source:
            while chunk := source.read(_CONTEXT_CHUNK):
                yield chunk
    finally:
        producer.join()
    if failed:
        raise failed[0]


def _read_file(client: Any, image: str, path: str) -> bytes:
    """One file of ``image``, copied out of a created (never started) container."""
    container = client.containers.create(image, entrypoint=["/bin/true"], network_disabled=True)
    try:
        chunks, _ = container.get_archive(path)
        archive = b"".join(chunks)
    finally:
        container.remove(force=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.next()
        data = tar.extractfile(member) if member is not None else None
        if data is None:
            raise NotFound(f"{path} is not a file in {image}")
        return data.read()


def _resolution_key(release: Release | None) -> list[str]:
    if release is None:
        return []
    resolution = release.resolution(now=datetime(2000, 1, 1, tzinfo=UTC))
    return [*resolution.args, *resolution.constraints]


def _with_entry(recipe: ImageRecipe, wheels: Path) -> ImageRecipe:
    """``recipe`` with the entry point its package's wheel offers (``choose_entry``)."""
    assert recipe.package is not None
    own = canonicalize_name(recipe.package.name)
    wheel = next(
        (w for w in sorted(wheels.glob("*.whl")) if canonicalize_name(w.name.split("-")[0]) == own),
        None,
    )
    if wheel is None:
        raise Invalid(f"no wheel of {recipe.package.requirement} was downloaded", field="package")
    entry = choose_entry(recipe.package, in_wheel(wheel))
    return dataclasses.replace(recipe, entrypoint=tuple(entry.argv(VENV_BIN)))


def _link_tree(source: Path, target: Path) -> None:
    """The cached files in the build context: hard links where possible, copies otherwise."""
    target.mkdir()
    for entry in source.iterdir():
        if entry.suffix == ".deb":
            try:
                (target / entry.name).hardlink_to(entry)
            except OSError:
                shutil.copy2(entry, target / entry.name)


def _write_context(context: Path, dockerfile: str, files: Mapping[str, bytes]) -> None:
    (context / "Dockerfile").write_text(dockerfile)
    (context / "wheels").mkdir(exist_ok=True)
    if files:
        app = context / "app"
        app.mkdir()
        for name, content in files.items():
            (app / name).write_bytes(content)
            (app / name).chmod(0o644)


def _built(image: Any, tag: str, *, reused: bool, started: float) -> BuiltImage:
    return BuiltImage(
        tag=tag,
        image_id=image.id,
        reused=reused,
        size_bytes=int(image.attrs.get("Size", 0)),
        seconds=time.monotonic() - started,
    )
