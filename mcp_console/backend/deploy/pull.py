"""ImagePuller: images from registries onto the engine, with progress, pinned by digest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import docker.errors
import requests

from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.deploy.image_ref import DOCKER_HUB, ImageRef, RegistryAuth
from mcp_console.schemas.errors import ConsoleError, Forbidden, NotFound, Unavailable

logger = logging.getLogger(__name__)

# The SDK's default read timeout (the engine's client is made with it).
ENGINE_TIMEOUT_S = 60.0
# Progress goes out at most this often (and once more when the pull ends).
PROGRESS_INTERVAL = 0.5
_DIGEST_PREFIX = "sha256:"
_NOT_FOUND = ("manifest unknown", "not found", "name unknown", "repository does not exist")
_REFUSED = ("unauthorized", "authentication required", "no basic auth credentials", "denied")
_UNREACHABLE = (
    "connection refused",
    "no such host",
    "dial tcp",
    "i/o timeout",
    "timeout",
    "tls:",
    "x509",
    "connection reset",
    "network is unreachable",
)

PullReport = Callable[["PullProgress"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PullProgress:
    """How far a pull has come, summed over its layers."""

    image: str
    layers_done: int = 0
    layers_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    done: bool = False

    def describe(self) -> str:
        """``pulling IMAGE: 2 of 5 layers, 12.3 of 45.6 MB``."""
        parts = [f"pulling {self.image}"]
        if self.layers_total:
            detail = f"{self.layers_done} of {self.layers_total} layers"
            if self.bytes_total:
                detail += f", {_mb(self.bytes_done)} of {_mb(self.bytes_total)} MB"
            parts.append(detail)
        return ": ".join(parts) + (" (done)" if self.done else "")


@dataclass(frozen=True, slots=True)
class ResolvedImage:
    """An image on the engine: what was asked for and the digest to run it by."""

    reference: str
    # ``repo@sha256:…`` when it came from a registry, else the local image id.
    pinned: str
    image_id: str
    pulled: bool
    seconds: float
    bytes_pulled: int = 0


class _Tracker:
    """Sums the engine's per-layer pull messages into one PullProgress."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.layers: dict[str, list[int]] = {}  # id → [current, total]
        self.finished: set[str] = set()

    def update(self, event: Mapping[str, Any]) -> None:
        layer = str(event.get("id") or "")
        status = str(event.get("status") or "")
        if not layer or status.startswith("Pulling from") or " " in layer:
            return
        sizes = self.layers.setdefault(layer, [0, 0])
        detail = event.get("progressDetail") or {}
        if status == "Downloading" and isinstance(detail, Mapping):
            sizes[0] = int(detail.get("current") or 0)
            sizes[1] = int(detail.get("total") or sizes[1])
        elif status in ("Download complete", "Verifying Checksum") and sizes[1]:
            sizes[0] = sizes[1]
        elif status in ("Pull complete", "Already exists"):
            self.finished.add(layer)
            if sizes[1]:
                sizes[0] = sizes[1]

    def progress(self, *, done: bool = False) -> PullProgress:
        return PullProgress(
            image=self.image,
            layers_done=len(self.finished),
            layers_total=len(self.layers),
            bytes_done=sum(current for current, _ in self.layers.values()),
            bytes_total=sum(total for _, total in self.layers.values()),
            done=done,
        )


class ImagePuller:
    """Finds images on the engine and pulls the missing ones from their registries.

    An image is run by its digest once resolved: ``repo@sha256:…`` for one that came from a
    registry (pulled again by that digest if it left the engine, even after its tag moved),
    or its image id for one built or loaded here. Docker Hub references go to ``mirror``
    when one is set (an air-gapped console's own registry holding Docker Hub's names).

    Args:
        engine: the Docker connection.
        mirror: ``host[:port]`` of a registry serving Docker Hub's images.
    """

    def __init__(self, engine: Engine, *, mirror: str | None = None) -> None:
        self.engine = engine
        self.mirror = mirror
        self._locks: dict[str, asyncio.Lock] = {}

    def candidates(self, image: str) -> list[ImageRef]:
        """Where ``image`` may be found: its own name, then (a Docker Hub name with a mirror
        set) the mirror's; a pull goes to the last."""
        ref = ImageRef.parse(image)
        mirrored = ref.mirrored(self.mirror)
        return [ref] if mirrored == ref else [ref, mirrored]

    async def present(self, image: str) -> bool:
        """Whether ``image`` (or its mirror's name for it) is on the engine, asking no registry.

        Raises:
            Unavailable: the engine cannot be reached.
        """
        for ref in self.candidates(image):
            if await self._inspect(str(ref)) is not None:
                return True
        return False

    async def check(self, image: str, auth: RegistryAuth | None = None) -> None:
        """Make sure ``image`` (a reference, or a digest resolved before) can be run: on the
        engine, or in its registry, asked without pulling.

        Raises:
            NotFound: the registry has no such repository or tag (or a pinned local image
                left the engine).
            Forbidden: the registry refused (no or wrong credentials).
            Unavailable: the registry or the engine cannot be reached.
        """
        if image.startswith(_DIGEST_PREFIX):
            if await self._inspect(image) is None:
                raise _gone(image)
            return
        if await self.present(image):
            return
        refs = self.candidates(image)
        client = await self.engine.client()
        await self._registry_call(
            refs[-1],
            auth,
            client.api.inspect_distribution,
            str(refs[-1]),
            auth_config=_config(auth),
        )

    async def resolve(
        self,
        image: str,
        *,
        auth: RegistryAuth | None = None,
        pinned: str | None = None,
        report: PullReport | None = None,
    ) -> ResolvedImage:
        """``image`` on the engine, pulled if missing, with the digest to run it by.

        Args:
            image: the reference the catalog gives.
            auth: credentials for its registry.
            pinned: the digest resolved before (``repo@sha256:…`` or an image id): run that,
                pulling it by digest if it left the engine.
            report: awaited with the pull's progress now and then, and at its end.

        Raises:
            NotFound: the registry has no such image, or a pinned local image is gone.
            Forbidden: the registry refused (no or wrong credentials).
            Unavailable: the registry or the engine cannot be reached.
        """
        started = time.monotonic()
        if pinned is not None and pinned.startswith(_DIGEST_PREFIX):
            attrs = await self._inspect(pinned)
            if attrs is None:
                raise _gone(pinned, image)
            return ResolvedImage(image, pinned, str(attrs["Id"]), False, 0.0)
        refs = [ImageRef.parse(pinned)] if pinned is not None else self.candidates(image)
        lock = self._locks.setdefault(str(refs[-1]), asyncio.Lock())
        async with lock:  # one pull per image, however many instances want it
            pulled = 0
            for ref in refs:
                attrs = await self._inspect(str(ref))
                if attrs is not None:
                    break
            else:
                pulled = await self._pull(ref, auth, report)
                attrs = await self._inspect(str(ref))
                if attrs is None:
                    raise Unavailable(f"{ref} was pulled but is not on the Docker engine")
        return ResolvedImage(
            reference=str(ref),
            pinned=_pin(ref, attrs),
            image_id=str(attrs["Id"]),
            pulled=pulled > 0,
            seconds=time.monotonic() - started,
            bytes_pulled=pulled,
        )

    async def _inspect(self, reference: str) -> Mapping[str, Any] | None:
        client = await self.engine.client()
        try:
            attrs: Mapping[str, Any] = await self.engine.call(client.api.inspect_image, reference)
        except NotFound:
            return None
        return attrs

    async def _pull(
        self, ref: ImageRef, auth: RegistryAuth | None, report: PullReport | None
    ) -> int:
        """Pull ``ref``, reporting progress; returns the bytes downloaded (at least 1)."""
        client = await self.engine.client()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[PullProgress | None] = asyncio.Queue()
        tracker = _Tracker(str(ref))

        def put(progress: PullProgress | None) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, progress)

        def pull() -> None:
            try:
                last = 0.0
                for event in _stream(client, ref, auth):
                    tracker.update(event)
                    now = time.monotonic()
                    if now - last >= PROGRESS_INTERVAL:
                        last = now
                        put(tracker.progress())
            finally:
                put(None)

        logger.info("pulling %s", ref)
        task = asyncio.ensure_future(self._registry_call(ref, auth, pull))
        try:
            while (progress := await queue.get()) is not None:
                if report is not None:
                    await report(progress)
            await task
        finally:
            if not task.done():
                # The thread ends with its stream; nothing waits for it any more.
                task.add_done_callback(_quiet)
        final = tracker.progress(done=True)
        if report is not None:
            await report(final)
        logger.info("pulled %s (%d bytes)", ref, final.bytes_done)
        return max(final.bytes_done, 1)

    async def _registry_call(
        self,
        ref: ImageRef,
        auth: RegistryAuth | None,
        fn: Callable[..., Any],
        *args: Any,
        **kw: Any,
    ) -> Any:
        try:
            return await asyncio.to_thread(fn, *args, **kw)
        except _PullError as exc:
            raise registry_error(ref, auth, exc.message, None) from None
        except docker.errors.APIError as exc:
            raise registry_error(ref, auth, _explain(exc), exc.status_code) from None
        except requests.exceptions.Timeout:
            # The SDK's read timeout: the engine sent nothing for that long (a stalled pull).
            raise Unavailable(
                f"pulling {ref} from registry {ref.registry} stalled: the Docker engine "
                f"reported no progress for {ENGINE_TIMEOUT_S:.0f} s"
            ) from None
        except (docker.errors.DockerException, OSError) as exc:
            raise Unavailable(
                f"the Docker engine is not reachable at {self.engine.where}: {exc}"
            ) from exc


class _PullError(Exception):
    """An error the engine reported inside the pull's stream."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _stream(client: Any, ref: ImageRef, auth: RegistryAuth | None) -> Iterator[Mapping[str, Any]]:
    repository = ref.name
    for event in client.api.pull(
        repository, tag=ref.pull_tag, stream=True, decode=True, auth_config=_config(auth)
    ):
        if isinstance(event, Mapping):
            if event.get("error"):
                raise _PullError(str(event["error"]))
            yield event


def registry_error(
    ref: ImageRef, auth: RegistryAuth | None, why: str, status: int | None
) -> ConsoleError:
    """The error a person can act on for a failed pull or registry lookup of ``ref``."""
    text = why.lower()
    if status == 401 or any(mark in text for mark in _REFUSED):
        hint = (
            f"the login of {auth.username} was not accepted"
            if auth is not None
            else "it needs a login (deploy with --registry-user)"
        )
        return Forbidden(
            f"registry {ref.registry} refused to serve {ref}: {why}; {hint}", field="image"
        )
    if any(mark in text for mark in _UNREACHABLE):
        hint = (
            "; an air-gapped console pulls Docker Hub's images from its own registry: set "
            "images.registry_mirror (MCP_CONSOLE_IMAGES__REGISTRY_MIRROR=host:port)"
            if ref.registry == DOCKER_HUB
            else ""
        )
        return Unavailable(f"registry {ref.registry} cannot be reached to pull {ref}: {why}{hint}")
    if status == 404 or any(mark in text for mark in _NOT_FOUND):
        return NotFound(
            f"image {ref} was not found in registry {ref.registry}: {why}", field="image"
        )
    return Unavailable(f"pulling {ref} from registry {ref.registry} failed: {why}")


def _config(auth: RegistryAuth | None) -> dict[str, str] | None:
    return auth.config() if auth is not None else None


def _pin(ref: ImageRef, attrs: Mapping[str, Any]) -> str:
    """``ref``'s repository at the digest the engine recorded, else the image id."""
    for entry in attrs.get("RepoDigests") or []:
        name, _, digest = str(entry).partition("@")
        if digest and (name == ref.name or name == f"{ref.registry}/{ref.repository}"):
            return str(ref.with_digest(digest))
    return str(attrs["Id"])


def _gone(pinned: str, image: str | None = None) -> NotFound:
    what = f" (what {image} was)" if image else ""
    return NotFound(
        f"image {pinned[:19]}…{what} is no longer on the Docker engine and came from no "
        "registry, so it cannot be pulled again",
        field="image",
    )


def _explain(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc)


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f}"


def _quiet(task: asyncio.Future[Any]) -> None:
    with contextlib.suppress(BaseException):
        task.result()
