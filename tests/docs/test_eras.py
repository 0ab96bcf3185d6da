"""A URL is documented in either protocol era: a gateway endpoint that speaks only the legacy
handshake (a per-session deployment) gives the same docs, with the key sent as a header."""

from __future__ import annotations

import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.devtools.docs.output import DocFormat, render
from mcp_console.devtools.docs.targets import read_url
from mcp_console.schemas.deploy import DeploymentCreate
from mcp_console.schemas.errors import Unavailable
from tests.deploy.catalogs import all_healthy, process_version, publish, wait_for
from tests.docs.helpers import TIMEOUT, golden
from tests.live.conftest import backend  # noqa: F401
from tests.live.helpers import SERVICE, user


async def test_a_legacy_only_endpoint_gives_the_same_docs(backend: Runtime) -> None:  # noqa: F811
    await publish(backend, SERVICE, process_version("1.0.0"))
    owner = await user(backend, "alice")
    # Per-session deployments answer only the initialize handshake (2025-11-25 and older).
    new = DeploymentCreate(service=SERVICE, name="calc", session_mode="per-session")
    await backend.deployments.create(owner.principal, new)
    detail = await wait_for(backend, owner.principal, "calc", all_healthy)
    assert detail.endpoint_url is not None

    found = await read_url(
        detail.endpoint_url, timeout=TIMEOUT, headers={"Authorization": f"Bearer {owner.key}"}
    )

    assert render(found, DocFormat.MD) == golden("example.md")
    with pytest.raises(Unavailable) as refused:
        await read_url(detail.endpoint_url, timeout=TIMEOUT)
    assert refused.value.message.startswith(
        f"{detail.endpoint_url} did not answer as an MCP server: "
    )
    assert "Unauthorized" in refused.value.message
