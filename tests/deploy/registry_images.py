"""Images pushed to the test registries: content of their own, so a pull really downloads."""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
import uuid
from typing import Any

import docker
import docker.errors

from mcp_console.backend.deploy.image_ref import RegistryAuth

# A layer of random bytes: big enough for the pull to report downloading progress.
PAYLOAD_BYTES = 3_000_000


def unique_name(prefix: str = "acme/ex") -> str:
    """A repository no other test pushes to."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def build_on(client: docker.DockerClient, base: str, tag: str) -> str:
    """An image of ``base`` plus a layer of random bytes, tagged ``tag``; returns its id."""
    dockerfile = f"FROM {base}\nCOPY payload /opt/payload\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile), ("payload", os.urandom(PAYLOAD_BYTES))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    image, _ = client.images.build(
        fileobj=buffer, custom_context=True, tag=tag, network_mode="none", rm=True, pull=False
    )
    return str(image.id)


def push(client: docker.DockerClient, reference: str, auth: RegistryAuth | None = None) -> str:
    """Push ``reference`` (``host/repo:tag``); returns the digest the registry gave it."""
    repository, tag = reference.rsplit(":", 1)
    digest = None
    config = auth.config() if auth is not None else None
    for event in client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=config):
        if event.get("error"):
            raise AssertionError(f"push of {reference} failed: {event['error']}")
        aux = event.get("aux")
        if isinstance(aux, dict) and aux.get("Digest"):
            digest = str(aux["Digest"])
    assert digest is not None, f"the registry gave {reference} no digest"
    return digest


def remove(client: docker.DockerClient, *references: str) -> None:
    """Remove images from the engine (a missing one is fine)."""
    for reference in references:
        with contextlib.suppress(docker.errors.NotFound, docker.errors.ImageNotFound):
            client.images.remove(reference, force=True)


def on_engine(client: docker.DockerClient, reference: str) -> Any:
    """The image's attributes, or ``None`` when the engine does not have it."""
    try:
        return client.api.inspect_image(reference)
    except docker.errors.NotFound:
        return None


def pushed_away(
    client: docker.DockerClient, base: str, reference: str, auth: RegistryAuth | None = None
) -> tuple[str, str]:
    """Build an image of our own as ``reference``, push it, and remove it from the engine, as
    if it had only ever been in the registry; returns (digest, image id)."""
    image_id = build_on(client, base, reference)
    digest = push(client, reference, auth)
    remove(client, reference, image_id)
    assert on_engine(client, image_id) is None
    return digest, image_id
