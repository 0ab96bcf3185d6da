"""Image pulls from a registry on loopback: the console's pull beside the engine's own.

The image is our example server's, rebuilt over a layer of its own so that the engine holds
none of its layers but the base image's (a cold pull, as on a machine that never ran it).
It is pushed once to a registry (``MCP_CONSOLE_TEST_REGISTRY``, or Debian's
``docker-registry`` started here on a free loopback port), then removed before every run.

a. The pull alone: ``docker pull`` against ImagePuller.resolve (progress streamed, digest
   pinned). Target: the console's median at most 10 % (and 0.3 s) slower.
b. Deploy to the first successful ``tools/call`` with the pull: a deployment of the image
   through the DeploymentService against ``docker pull`` + ``docker run -i`` + the same first
   call. Target: at most 1.0 s of overhead (medians), as for an image already present.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import docker.errors
from mcp import StdioServerParameters, stdio_client

from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.deploy.pull import ImagePuller
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.users import Principal

PULL_RATIO_TARGET = 1.10
PULL_SLACK_S = 0.3
FIRST_CALL_TARGET_S = 1.0

Backend = Callable[[Path], contextlib.AbstractAsyncContextManager[tuple[Runtime, Principal]]]


@contextmanager
def registry() -> Iterator[str]:
    """A registry's ``host:port``: the test command's, or one started here for the run."""
    given = os.environ.get("MCP_CONSOLE_TEST_REGISTRY", "").strip()
    if given:
        yield given
        return
    program = shutil.which("docker-registry")
    if program is None:
        raise SystemExit(
            "no registry: set MCP_CONSOLE_TEST_REGISTRY or apt-get install docker-registry"
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="mcp-console-bench-registry-") as tmp:
        config = Path(tmp) / "config.yml"
        config.write_text(
            "version: 0.1\nlog: {level: error}\n"
            f"storage: {{filesystem: {{rootdirectory: {tmp}/data}}}}\n"
            f'http: {{addr: "127.0.0.1:{port}"}}\n'
        )
        process = subprocess.Popen(
            [program, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_for_port(port)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"the registry did not answer on 127.0.0.1:{port}")


def cold_copy(client: docker.DockerClient, example: str, base: str, tag: str) -> str:
    """The example image rebuilt over a layer of its own: its venv and app are new layers."""
    config = client.api.inspect_image(example)["Config"]
    lines = [
        f"FROM {example} AS example",
        f"FROM {base}",
        "COPY marker /etc/mcp-console-bench-marker",
        "COPY --from=example /opt/venv /opt/venv",
        "COPY --from=example /app /app",
        *(
            f"ENV {json.dumps(v.split('=', 1)[0])}={json.dumps(v.split('=', 1)[1])}"
            for v in config["Env"]
        ),
        f"USER {config['User']}",
        f"WORKDIR {config['WorkingDir']}",
        f"ENTRYPOINT {json.dumps(config['Entrypoint'])}",
    ]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("Dockerfile", "\n".join(lines).encode()), ("marker", tag.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    image, _ = client.images.build(
        fileobj=buffer, custom_context=True, tag=tag, network_mode="none", rm=True, pull=False
    )
    for event in client.api.push(
        tag.rsplit(":", 1)[0], tag=tag.rsplit(":", 1)[1], stream=True, decode=True
    ):
        if event.get("error"):
            raise SystemExit(f"push of {tag} failed: {event['error']}")
    return str(image.id)


def forget(client: docker.DockerClient, image_id: str) -> None:
    """Remove the image and every tag of it, so that the next pull is cold (once the
    containers of the run before, still stopping, have let go of it)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            client.images.remove(image_id, force=True)
            return
        except (docker.errors.ImageNotFound, docker.errors.NotFound):
            return
        except docker.errors.APIError as exc:
            if exc.status_code != 409 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def plain_pull(docker_cli: str, reference: str) -> float:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        docker_cli, "pull", "-q", reference, stdout=asyncio.subprocess.DEVNULL
    )
    if await proc.wait() != 0:
        raise SystemExit(f"docker pull {reference} failed")
    return time.perf_counter() - started


async def console_pull(reference: str) -> float:
    engine = Engine()
    try:
        started = time.perf_counter()
        resolved = await ImagePuller(engine).resolve(reference)
        elapsed = time.perf_counter() - started
    finally:
        await engine.close()
    assert resolved.pulled, "the image was already on the engine"
    return elapsed


async def plain_pull_and_call(
    docker_cli: str, reference: str, first_call: Callable[[Any], Awaitable[None]]
) -> float:
    params = StdioServerParameters(
        command=docker_cli, args=["run", "-i", "--rm", "--network", "none", reference]
    )
    started = time.perf_counter()
    await plain_pull(docker_cli, reference)
    with open(os.devnull, "w") as quiet:  # noqa: ASYNC230 (never blocks)
        await first_call(stdio_client(params, errlog=quiet))
    return time.perf_counter() - started


async def bench_pull(
    runs: int,
    example: str,
    base: str,
    backend: Backend,
    deployed: Callable[[Runtime, Principal, str, str], Awaitable[float]],
    first_call: Callable[[Any], Awaitable[None]],
) -> bool:
    """Parts a and b (see the module docstring); True when both targets are met."""
    client = docker.from_env()
    docker_cli = shutil.which("docker") or "docker"
    with registry() as address:
        reference = f"{address}/bench/example:{uuid.uuid4().hex[:8]}"
        image_id = await asyncio.to_thread(cold_copy, client, example, base, reference)
        size = client.api.inspect_image(image_id)["Size"]
        print(f"\n4. image pull from a registry on loopback ({runs} cold runs each, {reference})")
        print(f"   image {size / 1e6:.0f} MB, of which the base image's layers stay on the engine")
        ours: list[float] = []
        plain: list[float] = []
        for _ in range(runs):
            await asyncio.to_thread(forget, client, image_id)
            plain.append(await plain_pull(docker_cli, reference))
            await asyncio.to_thread(forget, client, image_id)
            ours.append(await console_pull(reference))
        p, o = statistics.median(plain), statistics.median(ours)
        pull_ok = o <= max(p * PULL_RATIO_TARGET, p + PULL_SLACK_S)
        print(f"   docker pull            : median {p * 1000:7.0f} ms  (runs: {_ms(plain)})")
        print(f"   mcp-console pull       : median {o * 1000:7.0f} ms  (runs: {_ms(ours)})")
        print(
            f"   ratio {o / p:.2f}; target ≤ {PULL_RATIO_TARGET:.2f} times "
            f"(or +{PULL_SLACK_S * 1000:.0f} ms): {'OK' if pull_ok else 'MISSED'}"
        )
        plain_first: list[float] = []
        ours_first: list[float] = []
        with tempfile.TemporaryDirectory(prefix="mcp-console-bench-") as tmp:
            async with backend(Path(tmp)) as (rt, admin):
                await rt.catalog.register(admin, ServiceCreate(name="pulled", description="bench"))
                await rt.catalog.add_version(
                    admin, "pulled", VersionCreate(version="1.0.0", docker_image=reference)
                )
                await rt.catalog.publish(admin, "pulled")
                for run in range(runs):
                    await asyncio.to_thread(forget, client, image_id)
                    plain_first.append(await plain_pull_and_call(docker_cli, reference, first_call))
                    await asyncio.to_thread(forget, client, image_id)
                    ours_first.append(await deployed(rt, admin, f"pulled-{run}", "pulled"))
                    await rt.deployments.delete(admin, f"pulled-{run}")
        await asyncio.to_thread(forget, client, image_id)
    client.close()
    p, o = statistics.median(plain_first), statistics.median(ours_first)
    first_ok = o - p <= FIRST_CALL_TARGET_S
    print(
        f"   docker pull + run + call     : median {p * 1000:7.0f} ms  (runs: {_ms(plain_first)})"
    )
    print(
        f"   mcp-console deploy (pull)+call: median {o * 1000:7.0f} ms  (runs: {_ms(ours_first)})"
    )
    print(
        f"   overhead {(o - p) * 1000:.0f} ms; target ≤ {FIRST_CALL_TARGET_S * 1000:.0f} ms: "
        f"{'OK' if first_ok else 'MISSED'}"
    )
    return pull_ok and first_ok


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1000:.0f}" for v in values)
