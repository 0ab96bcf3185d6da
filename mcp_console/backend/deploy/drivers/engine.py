"""One Docker engine connection: created off the loop, every SDK error mapped to our errors."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import docker
import docker.errors

from mcp_console.schemas.errors import Conflict, ConsoleError, Invalid, NotFound, Unavailable

T = TypeVar("T")

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
# Attach sockets, event streams and builds each hold a connection; a small pool would thrash.
MAX_POOL_SIZE = 64


def map_docker_error(exc: Exception, where: str) -> ConsoleError:
    """The domain error for an SDK or transport failure."""
    if isinstance(exc, ConsoleError):
        return exc
    if isinstance(exc, docker.errors.NotFound | docker.errors.ImageNotFound):
        return NotFound(f"not found on the Docker engine: {_explain(exc)}")
    if isinstance(exc, docker.errors.APIError):
        status = exc.status_code or 0
        if status == 409:
            return Conflict(f"the Docker engine refused: {_explain(exc)}")
        if status == 400:
            return Invalid(f"the Docker engine rejected the request: {_explain(exc)}")
        return Unavailable(f"the Docker engine failed: {_explain(exc)}")
    # requests' connection errors are OSErrors; DockerException covers the SDK's own.
    return Unavailable(f"the Docker engine is not reachable at {where}: {exc}")


def _explain(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc)


class Engine:
    """A lazily opened Docker SDK client shared by drivers and the image builder."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url
        self._client: docker.DockerClient | None = None
        self._lock = asyncio.Lock()
        self.init_available = False

    @property
    def where(self) -> str:
        """Where the engine is expected (for messages)."""
        return self.base_url or DEFAULT_SOCKET

    async def client(self) -> docker.DockerClient:
        """The connected client; raises ``Unavailable`` when the engine cannot be reached."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await asyncio.to_thread(self._connect)
        return self._client

    def client_nowait(self) -> docker.DockerClient:
        """The client already connected by ``client()`` (for code running in threads)."""
        if self._client is None:
            raise Unavailable(f"not connected to the Docker engine at {self.where}")
        return self._client

    def _connect(self) -> docker.DockerClient:
        try:
            # "auto" negotiates down to the engine's API (1.41 on Debian's 20.10).
            if self.base_url:
                client = docker.DockerClient(
                    base_url=self.base_url, version="auto", max_pool_size=MAX_POOL_SIZE
                )
            else:
                client = docker.from_env(version="auto", max_pool_size=MAX_POOL_SIZE)
            info: dict[str, Any] = client.info()
        except (docker.errors.DockerException, OSError) as exc:
            raise Unavailable(
                f"the Docker engine is not reachable at {self.where}: {exc}. "
                "Start the engine (dockerd) or choose the process runtime."
            ) from exc
        self.init_available = bool(info.get("InitBinary"))
        return client

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run one blocking SDK call in a thread, mapping its errors."""
        try:
            return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
        except (docker.errors.DockerException, OSError) as exc:
            raise map_docker_error(exc, self.where) from exc

    async def close(self) -> None:
        """Close the client's connection pool."""
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.to_thread(client.close)
