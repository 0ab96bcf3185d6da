"""An MCP server elsewhere, for remote deployments: the official SDK's server in a process of
its own on loopback, refusing every request without its bearer token (and tenant key).

Run as ``python -m tests.deploy.remote_upstream NAME``: the token comes from
``UPSTREAM_TOKEN``, the optional tenant key (``X-Tenant-Key``) from ``UPSTREAM_TENANT``, the
port from ``UPSTREAM_PORT`` (0: any), a certificate and key for https from
``UPSTREAM_CERT``/``UPSTREAM_KEY``. It prints ``PORT <n>`` once it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hmac
import ipaddress
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from mcp.server import MCPServer
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

REPO_ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 30.0


class _Tokens:
    """The SDK's bearer check: one token is valid."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token, self._token):
            return AccessToken(token=token, client_id="mcp-console", scopes=[])
        return None


class _TenantKey:
    """Refuses a request without the right ``X-Tenant-Key`` header (a custom credential)."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self._app = app
        self._key = key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"x-tenant-key", b"")
            if not hmac.compare_digest(given, self._key):
                await send({"type": "http.response.start", "status": 403, "headers": []})
                await send({"type": "http.response.body", "body": b"wrong tenant key"})
                return
        await self._app(scope, receive, send)


def app(name: str, token: str, tenant: str | None, base_url: str) -> ASGIApp:
    """The server: tools ``whoami`` (its name) and ``add``, behind its credentials."""
    server = MCPServer(
        name,
        log_level="WARNING",
        token_verifier=_Tokens(token),
        auth=AuthSettings(
            issuer_url="https://auth.example.com",
            resource_server_url=base_url,
            validate_token_resource=False,
        ),
    )

    @server.tool()
    def whoami() -> str:
        """Which server answered."""
        return name

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1:*", "localhost:*"],
        allowed_origins=["http://127.0.0.1:*"],
    )
    served: ASGIApp = server.streamable_http_app(transport_security=security)
    return _TenantKey(served, tenant) if tenant else served


def main() -> None:
    """Serve until terminated."""
    name = sys.argv[1]
    cert, key = os.environ.get("UPSTREAM_CERT"), os.environ.get("UPSTREAM_KEY")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(os.environ.get("UPSTREAM_PORT", "0"))))
    port = sock.getsockname()[1]
    scheme = "https" if cert else "http"
    served = app(
        name,
        os.environ["UPSTREAM_TOKEN"],
        os.environ.get("UPSTREAM_TENANT"),
        f"{scheme}://127.0.0.1:{port}/mcp",
    )
    config = uvicorn.Config(
        served,
        log_level="warning",
        ssl_certfile=cert,
        ssl_keyfile=key,
        timeout_graceful_shutdown=1,
    )
    print(f"PORT {port}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A certificate authority and a certificate for 127.0.0.1 it signed: (CA, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test CA"))
        .issuer_name(name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class Upstream:
    """One upstream server process; ``stop`` takes it down, ``start`` brings it back on the
    same port."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self._env = env
        self.port = 0
        self.scheme = "https" if "UPSTREAM_CERT" in env else "http"
        self._process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        """Its Streamable HTTP endpoint."""
        return f"{self.scheme}://127.0.0.1:{self.port}/mcp"

    async def start(self) -> None:
        """Start the server and wait until it listens."""
        env = {**os.environ, **self._env, "UPSTREAM_PORT": str(self.port)}
        # Forking takes a while: off the loop, which serves the gateway meanwhile.
        self._process = process = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "tests.deploy.remote_upstream", self.name],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), START_SECONDS)
        assert line.startswith("PORT "), f"{self.name} did not start: {line!r}"
        self.port = int(line.split()[1])
        await self._wait_listening()

    async def _wait_listening(self) -> None:
        async with asyncio.timeout(START_SECONDS):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                return

    async def stop(self) -> None:
        """Terminate the server and wait until it has gone."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), START_SECONDS)
        except TimeoutError:
            process.kill()
            await asyncio.to_thread(process.wait)


@contextlib.asynccontextmanager
async def upstream(name: str, token: str, **env: Any) -> AsyncIterator[Upstream]:
    """A running upstream ``name`` requiring ``token`` (``tenant=``, ``cert=``, ``key=``
    add a tenant key and https)."""
    values = {"UPSTREAM_TOKEN": token}
    for key, variable in (("tenant", "UPSTREAM_TENANT"), ("cert", "UPSTREAM_CERT")):
        if env.get(key):
            values[variable] = str(env[key])
    if env.get("key"):
        values["UPSTREAM_KEY"] = str(env["key"])
    server = Upstream(name, values)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


if __name__ == "__main__":
    main()
