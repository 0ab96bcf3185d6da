"""Remote instances in the routing table: https and other hosts for them alone, and the
credential headers the gateway sends them in place of whatever the client sent."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_console.backend.gateway.exchange import Exchange
from mcp_console.backend.gateway.routing import UpstreamInstance
from mcp_console.backend.gateway.upstream_http import request_bytes
from mcp_console.schemas.errors import Invalid
from tests.deploy.remote_upstream import upstream

from .helpers import GatewayEnv, connect, innermost, result_of

TOKEN = "remote-credential-2c9d"


async def _never(*_: Any) -> Any:
    raise AssertionError("not used")


def exchange(headers: list[tuple[bytes, bytes]]) -> Exchange:
    """A POST as the gateway's ASGI server hands it over."""
    ex = Exchange({"type": "http", "method": "POST", "headers": headers}, _never, _never)
    ex.body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    return ex


@pytest.mark.parametrize(
    ("url", "remote", "field"),
    [
        ("https://127.0.0.1:8443/mcp", False, "url"),
        ("http://10.0.0.5:8000/mcp", False, "url"),
        ("ftp://mcp.example.com/mcp", True, "url"),
        ("https://user:pw@mcp.example.com/mcp", True, "url"),
    ],
)
def test_an_instance_the_console_runs_is_plain_http_on_loopback(
    url: str, remote: bool, field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        UpstreamInstance("i1", "streamable-http", url=url, remote=remote)

    assert refused.value.field == field


def test_headers_go_to_a_remote_instance_only_and_must_be_one_line() -> None:
    with pytest.raises(Invalid) as local:
        UpstreamInstance(
            "i1", "streamable-http", url="http://127.0.0.1:9000/mcp", headers={"X-Key": "k"}
        )
    with pytest.raises(Invalid) as split:
        UpstreamInstance(
            "i2",
            "streamable-http",
            url="https://mcp.example.com/mcp",
            remote=True,
            headers={"X-Key": "k\r\nX-Admin: yes"},
        )

    assert (local.value.field, split.value.field) == ("headers", "headers")
    assert "X-Admin" not in split.value.message


def test_a_remote_instance_on_another_host_speaks_https_to_its_own_authority() -> None:
    instance = UpstreamInstance(
        "i1",
        "streamable-http",
        url=f"https://mcp.example.com/v1/mcp?key={TOKEN}",
        remote=True,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )

    assert (instance.host, instance.port, instance.tls) == ("mcp.example.com", 443, True)
    assert instance.authority == b"mcp.example.com"
    assert instance.path == f"/v1/mcp?key={TOKEN}"
    assert TOKEN not in repr(instance)


def test_the_gateway_sends_the_remote_credentials_in_place_of_the_clients_headers() -> None:
    instance = UpstreamInstance(
        "i1",
        "streamable-http",
        url="https://mcp.example.com:8443/mcp",
        remote=True,
        headers={"Authorization": f"Bearer {TOKEN}", "X-Api-Key": TOKEN},
    )
    local = UpstreamInstance("i2", "streamable-http", url="http://127.0.0.1:9000/mcp")
    ex = exchange(
        [
            (b"host", b"127.0.0.1:8080"),
            (b"authorization", b"Bearer mcp_console_key"),
            (b"x-api-key", b"the client's own"),
            (b"accept", b"application/json, text/event-stream"),
        ]
    )

    head, _, body = request_bytes(ex, instance, b"upstream-session").partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    plain = request_bytes(ex, local, None).decode()

    assert lines[0] == "POST /mcp HTTP/1.1"
    assert "host: mcp.example.com:8443" in lines
    assert [line for line in lines if line.lower().startswith("authorization")] == [
        f"Authorization: Bearer {TOKEN}"
    ]
    assert [line for line in lines if line.lower().startswith("x-api-key")] == [
        f"X-Api-Key: {TOKEN}"
    ]
    assert "mcp-session-id: upstream-session" in lines
    assert "mcp_console_key" not in head.decode()
    assert body == ex.body
    assert "host: 127.0.0.1:9000" in plain
    assert TOKEN not in plain
    assert "x-api-key: the client's own" in plain


async def test_a_remote_server_refusing_the_stored_credential_is_a_bad_gateway(
    env: GatewayEnv,
) -> None:
    async with upstream("guarded", TOKEN) as server:
        good = env.deploy(
            UpstreamInstance(
                "i-good",
                "streamable-http",
                url=server.url,
                remote=True,
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        )
        stale = env.deploy(
            UpstreamInstance(
                "i-stale",
                "streamable-http",
                url=server.url,
                remote=True,
                headers={"Authorization": "Bearer revoked-long-ago"},
            )
        )
        async with connect(env.endpoint(good), env.friend) as client:
            answer = await result_of(client, "add", {"a": 2, "b": 3})
        with pytest.raises(Exception) as refused:  # noqa: PT011 - the SDK's error group
            async with connect(env.endpoint(stale), env.friend) as client:
                await client.list_tools()

    assert answer == 5
    message = str(innermost(refused.value))
    assert "refused the console's credentials (HTTP 401)" in message
    assert "revoked-long-ago" not in message
