"""``mcp-console deploy create --wait`` of an image only in a private registry: the login's
password read from stdin and never printed, pull progress shown, the digest in ``show``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import docker

from mcp_console.backend.deploy.image_ref import RegistryAuth
from mcp_console.backend.runtime import Runtime
from mcp_console.settings import Settings
from tests.cli.commands import Cli
from tests.conftest import Registries

from ..catalogs import image_version, publish
from ..registry_images import pushed_away, remove, unique_name
from .conftest import in_thread


def run(cli: Cli, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """One command with ``stdin`` (the CLI helper gives none); what it printed is kept."""
    result = subprocess.run(
        [sys.executable, "-m", "mcp_console", *args],
        env={**cli.env, "MCP_CONSOLE_RUNTIME": "docker"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    cli.printed += [result.stdout, result.stderr]
    return result


async def test_create_wait_pulls_with_the_login_shows_progress_and_the_digest(
    cli: Cli,
    tmp_path: Path,
    docker_client: docker.DockerClient,
    docker_scope: str,
    registries: Registries,
    example_image: str,
) -> None:
    reference = f"{registries.auth}/{unique_name('acme/private')}:1.0.0"
    auth = RegistryAuth(registries.auth, registries.user, registries.password)
    digest, image_id = await in_thread(pushed_away, docker_client, example_image, reference, auth)
    missing = f"{registries.open}/{unique_name('acme/missing')}:1.0.0"
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        await publish(runtime, "private", image_version(reference, "1.0.0"))
        await publish(runtime, "nowhere", image_version(missing, "1.0.0"))
    try:
        created = run(
            cli,
            "deploy",
            "create",
            "private",
            "--name",
            "web",
            "--registry-user",
            registries.user,
            "--registry-password-stdin",
            "--wait",
            stdin=registries.password + "\n",
        )
        refused = run(cli, "deploy", "create", "nowhere", "--name", "gone")
        shown = run(cli, "deploy", "show", "web")
    finally:
        run(cli, "deploy", "delete", "web")
        await in_thread(remove, docker_client, reference, image_id)

    assert created.returncode == 0, created.stderr
    pinned = f"{reference.rsplit(':', 1)[0]}@{digest}"
    progress = created.stderr.splitlines()
    assert any(line.startswith(f"pulling {reference}: ") for line in progress), progress
    assert any(line.endswith("(done)") for line in progress), progress
    assert progress[-1].startswith("RUNNING 1.0.0 1/1 ready"), progress
    assert f"image of 1.0.0: {pinned}" in created.stdout
    assert f"registry logins: {registries.user}@{registries.auth}" in shown.stdout
    assert f"image: {pinned}" in shown.stdout
    assert refused.returncode == 1
    assert f"was not found in registry {registries.open}" in refused.stderr
    assert all(registries.password not in printed for printed in cli.printed)
