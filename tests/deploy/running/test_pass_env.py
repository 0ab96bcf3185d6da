"""Host variables reach a server only by name, as the version or the deployment asks and the
console allows: on the process runtime and on Docker (with the CA bundle they name mounted
read-only); nothing else of the host's environment leaks in."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, InstanceStatus, RuntimeChoice
from mcp_console.schemas.errors import Invalid
from mcp_console.settings import Settings
from tests.cli.commands import Cli

from ..catalogs import (
    SETTLE_TIMEOUT,
    all_healthy,
    image_version,
    pid_of_instance,
    process_version,
    publish,
    wait_for,
)
from .conftest import in_thread, scope_containers

PROXY = "http://proxy.internal.example:3128"
UNLISTED = "UNLISTED_TOKEN"
LEAK = "host-secret-8f2c61d0"


def _authority() -> str:
    """A self-signed CA certificate, as a corporate proxy's would be (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Corporate Proxy CA")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


BUNDLE = _authority()


def _bundle(tmp_path: Path, mode: int = 0o644) -> Path:
    path = tmp_path / "corporate-ca.pem"
    path.write_text(BUNDLE)
    path.chmod(mode)
    return path


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = [item.decode().partition("=") for item in raw.split(b"\0") if item]
    return {name: value for name, _, value in pairs}


async def test_a_process_gets_the_variables_asked_for_by_name_and_nothing_else(
    cli: Cli, tmp_path: Path
) -> None:
    bundle = _bundle(tmp_path)
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        version = process_version("1.0.0").model_copy(update={"pass_env": ["SSL_CERT_FILE"]})
        await publish(runtime, "svc", version)
    # The daemon the commands start has all of these; its servers must get only two.
    cli.env.update(
        {
            "SSL_CERT_FILE": str(bundle),
            "NODE_EXTRA_CA_CERTS": str(bundle),
            "HTTPS_PROXY": PROXY,
            UNLISTED: LEAK,
        }
    )

    refused = cli("deploy", "create", "svc", "--name", "bad", "--pass-env", UNLISTED, ok=False)
    created = cli.json(
        "deploy", "create", "svc", "--name", "web", "--pass-env", "NODE_EXTRA_CA_CERTS"
    )
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (shown := cli.json("deploy", "show", "web"))["ready_replicas"] != 1:
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    human = cli("deploy", "show", "web").stdout
    environ = _environ(pid_of_instance(shown["instances"][0]["name"]))

    assert (
        f"error: the deployment (--pass-env) asks for the host variable {UNLISTED}, which "
        "this console does not pass to servers"
    ) in refused.stderr
    assert "MCP_CONSOLE_DEPLOY__PASSABLE_ENV" in refused.stderr
    assert created["pass_env"] == ["NODE_EXTRA_CA_CERTS"]
    assert "host variables passed: NODE_EXTRA_CA_CERTS" in human
    assert environ["SSL_CERT_FILE"] == str(bundle)  # the version's
    assert environ["NODE_EXTRA_CA_CERTS"] == str(bundle)  # the deployment's
    assert "HTTPS_PROXY" not in environ  # passable, but nobody asked for it
    assert UNLISTED not in environ
    assert not any(LEAK in value for value in environ.values())


async def test_a_version_asking_for_a_variable_the_console_keeps_is_refused(
    live: Runtime,
) -> None:
    version = process_version("1.0.0").model_copy(update={"pass_env": ["AWS_SECRET_ACCESS_KEY"]})
    admin = await publish(live, "svc", version)
    with pytest.raises(Invalid) as refused:
        await live.deployments.create(admin, DeploymentCreate(service="svc", name="web"))
    assert refused.value.field == "pass_env"
    assert refused.value.message.startswith(
        "svc 1.0.0 asks for the host variable AWS_SECRET_ACCESS_KEY, which this console "
        "does not pass to servers (it passes SSL_CERT_FILE, "
    )
    assert await live.deployments.list_deployments(admin) == []


async def test_a_container_gets_the_variables_and_the_bundle_they_name_read_only(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    docker_scope: str,
    example_image: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = _bundle(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "localhost")
    monkeypatch.setenv(UNLISTED, LEAK)
    version = image_version(example_image, "1.0.0").model_copy(
        update={"pass_env": ["SSL_CERT_FILE"]}
    )
    admin = await publish(live_docker, "svc", version)
    await live_docker.deployments.create(
        admin,
        DeploymentCreate(
            service="svc",
            name="web",
            runtime=RuntimeChoice.DOCKER,
            session_mode="shared",  # one container to look into
            pass_env=["HTTPS_PROXY"],
        ),
    )
    await wait_for(live_docker, admin, "web", all_healthy)

    [container] = await in_thread(scope_containers, docker_client, docker_scope)
    env = container.attrs["Config"]["Env"]
    [mount] = [m for m in container.attrs["Mounts"] if m["Destination"] == str(bundle)]
    # As the container's own unprivileged user, the server reads the bundle it was pointed at.
    read = await asyncio.to_thread(container.exec_run, ["cat", str(bundle)])
    write = await asyncio.to_thread(container.exec_run, ["sh", "-c", f"echo x >> {bundle}"])

    assert f"SSL_CERT_FILE={bundle}" in env
    assert f"HTTPS_PROXY={PROXY}" in env
    assert not any(item.startswith(("NO_PROXY=", f"{UNLISTED}=")) for item in env)
    assert not any(LEAK in item for item in env)
    assert mount["RW"] is False
    assert (read.exit_code, read.output.decode()) == (0, BUNDLE)
    assert write.exit_code != 0
    assert bundle.read_text() == BUNDLE


async def test_a_bundle_the_container_cannot_read_is_named(
    live_docker: Runtime,
    docker_scope: str,
    example_image: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = _bundle(tmp_path, mode=0o600)
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(bundle))
    admin = await publish(live_docker, "svc", image_version(example_image, "1.0.0"))
    await live_docker.deployments.create(
        admin,
        DeploymentCreate(
            service="svc",
            name="web",
            runtime=RuntimeChoice.DOCKER,
            pass_env=["NODE_EXTRA_CA_CERTS"],
        ),
    )
    detail = await wait_for(
        live_docker,
        admin,
        "web",
        lambda d: bool(d.instances) and d.instances[0].status == InstanceStatus.FAILED,
    )
    reason = detail.instances[0].last_error or ""
    assert f"NODE_EXTRA_CA_CERTS names the file {bundle}" in reason
    assert "chmod o+r" in reason
