"""A deployment's definitions (what its API docs are made from) read the same through both
clients, as the caller, through the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from mcp_console.backend.runtime import Runtime
from mcp_console.client.protocol import ConsoleClient
from mcp_console.devtools.docs.output import DocFormat, render
from mcp_console.schemas.errors import NotFound
from tests.contract.conftest import API_TRANSPORTS, backend_clients
from tests.docs.helpers import golden
from tests.live.conftest import backend  # noqa: F401
from tests.live.helpers import deploy_example


# Not over FakeClient: it runs no servers, so only the real clients can show the gateway's
# path (its fake answers with canned definitions, for the screens).
@pytest_asyncio.fixture(params=["local", *API_TRANSPORTS])
async def callers(
    request: pytest.FixtureRequest,
    backend: Runtime,  # noqa: F811
) -> AsyncIterator[tuple[ConsoleClient, ConsoleClient]]:
    """The example server deployed by alice: clients acting as alice and as bob."""
    deployed = await deploy_example(backend)
    async with backend_clients(backend, request.param) as clients:
        yield (
            await clients.connect(deployed.owner.key),
            await clients.connect(deployed.stranger.key),
        )


async def test_definitions_of_a_deployment_are_what_its_server_lists(
    callers: tuple[ConsoleClient, ConsoleClient],
) -> None:
    owner, stranger = callers

    found = await owner.server_definitions("calc")

    assert render(found, DocFormat.JSON) == golden("example.json")
    assert render(found, DocFormat.MD) == golden("example.md")
    with pytest.raises(NotFound):
        await stranger.server_definitions("calc")
    with pytest.raises(NotFound):
        await owner.server_definitions("no-such")
