"""DockerManager: MCP servers as hardened, labelled containers on the local Docker engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docker import errors as docker_errors

from mcp_console.backend.deploy.drivers.base import (
    LABEL_DEPLOYMENT,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_PATH,
    LABEL_PORT,
    LABEL_TRANSPORT,
    LABEL_VERSION,
    LOOPBACK,
    InstanceHandle,
    InstanceSpec,
    ManagedInstance,
    Transport,
    http_url,
    substitute_port,
)
from mcp_console.backend.deploy.drivers.docker_logs import ContainerOutput
from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.deploy.drivers.engine_events import DriverEventFanout, docker_event
from mcp_console.backend.ports import LogSink, line_hook
from mcp_console.backend.stdio.channel import LineHook, StderrBuffer, StdioChannel
from mcp_console.backend.stdio.pumps import pump_docker_attach
from mcp_console.schemas.errors import Conflict, Invalid, NotFound, Unavailable

logger = logging.getLogger(__name__)

# Unprivileged "nobody": no image needs to create a user for it.
CONTAINER_USER = "65534:65534"
# The only writable place in a read-only container: a private tmpfs, also its HOME.
CONTAINER_TMP = "/tmp"  # noqa: S108
TMPFS_OPTIONS = "rw,nosuid,nodev,size=64m"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - inside the container; published on loopback
HTTP_LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m", "max-file": "2"}}
# stdout of a stdio server is the protocol: the json-file driver would store every response.
STDIO_LOG_CONFIG = {"type": "none", "config": {}}
# How long a removal the engine has in progress may take before we give up waiting for it.
REMOVAL_WAIT_SECONDS = 30.0


@dataclass
class _Attachment:
    """Our live connection to a stdio container's stdin/stdout/stderr."""

    channel: StdioChannel
    stderr: StderrBuffer


class DockerManager:
    """Runs instances as containers named ``mcp-console-<deployment>-<instance>``.

    Containers are labelled with the deployment, instance and version ids (never with env
    values) and survive the backend: a new manager finds them with ``list_managed`` and
    re-attaches to stdio ones with ``open_stdio``. stdio containers keep stdin open when we
    detach, so they outlive our connection (and ``stop`` signals them rather than closing
    stdin); stderr captured before a restart is not kept.

    Args:
        engine: the Docker connection, e.g. shared with the image builder (then the caller
            closes it); the default one is opened lazily and closed by ``close``.
        scope_labels: labels put on, and required of, every container this manager sees;
            separates consoles (or test runs) sharing one engine.
        log_sink: told every line a container writes while this manager runs it (stdio
            servers' stderr, HTTP servers' stdout and stderr).
    """

    name = "docker"

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        scope_labels: Mapping[str, str] | None = None,
        log_sink: LogSink | None = None,
    ) -> None:
        self._owns_engine = engine is None
        self._log_sink = log_sink
        self.engine = engine or Engine()
        self._scope = dict(scope_labels or {})
        self._attachments: dict[str, _Attachment] = {}
        self._output = ContainerOutput(self.engine)
        self._fanout = DriverEventFanout(self._watch_events, prepare=self.engine.client)

    def _label_filters(self) -> list[str]:
        return [f"{LABEL_MANAGED}=true", *(f"{k}={v}" for k, v in self._scope.items())]

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        """Create, attach (stdio) and start one hardened container.

        Raises:
            Invalid: the spec is wrong or names no image.
            NotFound: the image is not on the engine (there is no registry to pull from).
            Conflict: a container with this instance's name exists.
            Unavailable: the engine cannot be reached.
        """
        spec.validate()
        if not spec.image:
            raise Invalid(
                "a Docker instance runs an image; build one for the package first",
                field="image",
            )
        client = await self.engine.client()
        try:
            await self.engine.call(client.images.get, spec.image)
        except NotFound:
            raise NotFound(
                f"image {spec.image} is not on the Docker engine; build it first",
                field="image",
            ) from None
        container = await self.engine.call(
            client.containers.create, spec.image, **self._create_kwargs(spec)
        )
        try:
            # Attach before start so not one byte of early output is lost.
            hook = line_hook(self._log_sink, spec.deployment_id, spec.instance_id)
            if spec.transport == "stdio":
                self._attachments[spec.name] = await self._attach(container.id, hook)
            elif hook is not None:
                await self._output.attach(container.id, hook)
            await self.engine.call(container.start)
        except BaseException:
            await self._discard(spec.name, container.id)
            raise
        logger.info("started container %s (%s)", spec.name, spec.image)
        port = await self._published_port(container, spec) if spec.transport != "stdio" else None
        return InstanceHandle(
            driver=self.name,
            ref=spec.name,
            name=spec.name,
            transport=spec.transport,
            port=port,
            url=http_url(LOOPBACK, port, spec.mcp_path) if port else None,
        )

    def _create_kwargs(self, spec: InstanceSpec) -> dict[str, Any]:
        port = spec.container_port
        env = {"HOME": CONTAINER_TMP}
        if spec.transport != "stdio":
            # Inside its container an HTTP server must listen on every interface: the port
            # is published on the host's loopback only. HOST says so to servers that read it.
            env["HOST"] = ALL_INTERFACES
        env.update(spec.child_env(port if spec.transport != "stdio" else None))
        labels = spec.managed_labels()
        labels.update(self._scope)
        kwargs: dict[str, Any] = {
            "name": spec.name,
            "labels": labels,
            "environment": env,
            "user": CONTAINER_USER,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "read_only": True,
            "tmpfs": {CONTAINER_TMP: TMPFS_OPTIONS},
            "init": self.engine.init_available,
        }
        limits = spec.limits
        if limits.memory_mb is not None:
            kwargs["mem_limit"] = f"{limits.memory_mb}m"
            kwargs["memswap_limit"] = f"{limits.memory_mb}m"
        if limits.cpus is not None:
            kwargs["nano_cpus"] = int(limits.cpus * 1e9)
        if limits.pids is not None:
            kwargs["pids_limit"] = limits.pids
        if spec.mounts:
            # Read-only: the container sees what it was given and still cannot change the host.
            kwargs["volumes"] = {path: {"bind": path, "mode": "ro"} for path in spec.mounts}
        if spec.command:
            kwargs["entrypoint"] = substitute_port(spec.command, port)
        if spec.args:
            kwargs["command"] = substitute_port(spec.args, port)
        if spec.transport == "stdio":
            # detach=True keeps StdinOnce off: our detaching (a backend restart) must not
            # end the server, which a closed stdin would.
            kwargs.update(
                network_mode="none",
                stdin_open=True,
                tty=False,
                detach=True,
                log_config=STDIO_LOG_CONFIG,
            )
        else:
            kwargs.update(
                ports={f"{port}/tcp": (LOOPBACK, None)},
                log_config=HTTP_LOG_CONFIG,
            )
        return kwargs

    async def _attach(self, container_id: str, hook: LineHook | None) -> _Attachment:
        client = await self.engine.client()
        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        sdk_socket = await self.engine.call(client.api.attach_socket, container_id, params=params)
        try:
            raw = getattr(sdk_socket, "_sock", sdk_socket)
            # Our own descriptor: the SDK closes its socket objects when they are collected.
            own = socket.socket(fileno=os.dup(raw.fileno()))
        finally:
            sdk_socket.close()
        reader, writer = await asyncio.open_connection(sock=own, limit=2**20)
        stderr = StderrBuffer(on_line=hook)
        channel = StdioChannel(writer, stderr)
        channel.run_reader(pump_docker_attach(reader, channel))
        return _Attachment(channel=channel, stderr=stderr)

    async def _published_port(self, container: Any, spec: InstanceSpec) -> int | None:
        await self.engine.call(container.reload)
        return _host_port(container.attrs, spec.container_port)

    async def _discard(self, name: str, container_id: str) -> None:
        attachment = self._attachments.pop(name, None)
        if attachment is not None:
            await attachment.channel.aclose()
        with contextlib.suppress(Exception):
            await self._force_remove(container_id)

    async def _force_remove(self, container_id: str) -> None:
        """Force-remove a container; if the engine is removing it already, wait until it is gone.

        A name is free only once the removal ends, so a new container of that name must wait.
        """
        client = await self.engine.client()
        try:
            await self.engine.call(client.api.remove_container, container_id, force=True, v=True)
            return
        except NotFound:
            return
        except Conflict:
            pass  # "removal of container … is already in progress"
        try:
            async with asyncio.timeout(REMOVAL_WAIT_SECONDS):
                while True:
                    await self.engine.call(client.api.inspect_container, container_id)
                    await asyncio.sleep(0.1)
        except NotFound:
            return
        except TimeoutError:
            raise Conflict(
                f"the Docker engine is still removing container {container_id[:12]}"
            ) from None

    async def _container(self, ref: str) -> Any:
        client = await self.engine.client()
        try:
            container = await self.engine.call(client.containers.get, ref)
        except NotFound:
            raise NotFound(f"no managed container {ref!r}", field="ref") from None
        labels = container.labels or {}
        if labels.get(LABEL_MANAGED) != "true" or any(
            labels.get(k) != v for k, v in self._scope.items()
        ):
            raise NotFound(f"no managed container {ref!r}", field="ref")
        return container

    async def stop(self, ref: str, timeout: float = 10.0) -> int | None:  # noqa: ASYNC109
        """Stop with SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit code."""
        container = await self._container(ref)
        await self.engine.call(container.stop, timeout=max(0, round(timeout)))
        await self.engine.call(container.reload)
        code = container.attrs.get("State", {}).get("ExitCode")
        logger.info("stopped container %s (exit %s)", ref, code)
        return int(code) if code is not None else None

    async def remove(self, ref: str) -> None:
        """Force-remove the container and its anonymous volumes; drop our attachment."""
        container = await self._container(ref)
        attachment = self._attachments.pop(ref, None)
        if attachment is not None:
            await attachment.channel.aclose()
        await self._force_remove(container.id)
        logger.info("removed container %s", ref)

    async def list_managed(self) -> list[ManagedInstance]:
        """Every container labelled as ours (and in this manager's scope), running or not."""
        client = await self.engine.client()
        return await self.engine.call(self._list_managed_sync, client)

    def _list_managed_sync(self, client: Any) -> list[ManagedInstance]:
        found = []
        for summary in client.api.containers(all=True, filters={"label": self._label_filters()}):
            try:
                attrs = client.api.inspect_container(summary["Id"])
            except docker_errors.NotFound:
                continue  # removed between the listing and the inspection
            found.append(self._managed(attrs))
        return found

    def _managed(self, attrs: Mapping[str, Any]) -> ManagedInstance:
        labels: dict[str, str] = dict(attrs.get("Config", {}).get("Labels") or {})
        state = attrs.get("State", {})
        running = bool(state.get("Running"))
        transport: Transport = (
            "streamable-http" if labels.get(LABEL_TRANSPORT) == "streamable-http" else "stdio"
        )
        port = None
        if transport == "streamable-http" and running:
            port = _host_port(attrs, int(labels.get(LABEL_PORT) or 0))
        name = str(attrs.get("Name", "")).lstrip("/")
        return ManagedInstance(
            driver=self.name,
            ref=name,
            name=name,
            deployment_id=labels.get(LABEL_DEPLOYMENT, ""),
            instance_id=labels.get(LABEL_INSTANCE, ""),
            version=labels.get(LABEL_VERSION, ""),
            transport=transport,
            running=running,
            exit_code=None if running else state.get("ExitCode"),
            port=port,
            url=http_url(LOOPBACK, port, labels.get(LABEL_PATH, "/mcp")) if port else None,
            labels=labels,
        )

    async def is_running(self, ref: str) -> bool:
        """Whether the container runs now."""
        container = await self._container(ref)
        return bool(container.attrs.get("State", {}).get("Running"))

    async def open_stdio(self, ref: str) -> StdioChannel:
        """The channel to a stdio container, attaching anew to one adopted after a restart.

        Raises:
            Invalid: the instance speaks HTTP, not stdio.
            Unavailable: the container is not running.
        """
        attachment = self._attachments.get(ref)
        if attachment is not None and not attachment.channel.at_eof:
            return attachment.channel
        container = await self._container(ref)
        labels = container.labels or {}
        if labels.get(LABEL_TRANSPORT) != "stdio":
            raise Invalid(f"{ref} serves Streamable HTTP, not stdio", field="ref")
        if not container.attrs.get("State", {}).get("Running"):
            raise Unavailable(f"{ref} is not running")
        if attachment is not None:
            await attachment.channel.aclose()
        hook = line_hook(
            self._log_sink, labels.get(LABEL_DEPLOYMENT, ""), labels.get(LABEL_INSTANCE, "")
        )
        attachment = await self._attach(container.id, hook)
        self._attachments[ref] = attachment
        return attachment.channel

    async def resume_output(self, managed: ManagedInstance) -> None:
        """Read a running HTTP container's output again (one adopted after a restart), from
        now on; a stdio container's comes back when its channel is opened again."""
        if managed.transport == "stdio" or not managed.running:
            return
        hook = line_hook(self._log_sink, managed.deployment_id, managed.instance_id)
        if hook is not None:
            await self._output.attach(managed.ref, hook)

    async def logs(self, ref: str, tail: int = 100) -> list[str]:
        """The server's last log lines: stderr we captured (stdio) or the engine's log (HTTP)."""
        attachment = self._attachments.get(ref)
        if attachment is not None:
            return attachment.stderr.tail(tail)
        container = await self._container(ref)
        if (container.labels or {}).get(LABEL_TRANSPORT) == "stdio":
            return []  # no log driver for stdio; nothing was captured since we attached
        raw: bytes = await self.engine.call(
            container.logs, stdout=True, stderr=True, tail=max(tail, 0)
        )
        return raw.decode("utf-8", "replace").splitlines()[-tail:] if tail > 0 else []

    def events(self) -> DriverEventFanout.Subscription:
        """Container start, die and oom events from this moment on (see ``DriverEventFanout``)."""
        return self._fanout.subscribe()

    def _watch_events(self, since: float, stop: DriverEventFanout.Stopper) -> None:
        """Runs in a thread: stream the engine's events into the fan-out until stopped."""
        client = self.engine.client_nowait()
        seconds, fraction = divmod(since, 1)
        stream = client.events(
            decode=True,
            since=f"{int(seconds)}.{int(fraction * 1e9):09d}",
            filters={
                "type": "container",
                "label": self._label_filters(),
                "event": ["start", "die", "oom"],
            },
        )
        stop.on_stop(stream.close)
        for raw in stream:
            event = docker_event(self.name, raw)
            if event is not None:
                stop.publish(event)

    async def close(self) -> None:
        """Stop watching and detach; the containers keep running."""
        await self._fanout.close()
        self._output.close()
        for attachment in self._attachments.values():
            await attachment.channel.aclose()
        self._attachments.clear()
        if self._owns_engine:
            await self.engine.close()


def _host_port(attrs: Mapping[str, Any], container_port: int) -> int | None:
    ports = (attrs.get("NetworkSettings") or {}).get("Ports") or {}
    bindings = ports.get(f"{container_port}/tcp") or []
    for binding in bindings:
        if binding.get("HostIp") in (LOOPBACK, "") and binding.get("HostPort"):
            return int(binding["HostPort"])
    return None
