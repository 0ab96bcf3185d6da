"""The state of metering answers alike through every client: an admin's, nothing lost yet."""

from __future__ import annotations

import pytest

from mcp_console.schemas.errors import Forbidden
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients


async def test_an_admin_reads_the_state_of_metering_and_nobody_else_does(
    clients: Clients,
) -> None:
    admin = await clients.admin()
    ann = await clients.user("ann", Role.AUTHOR)

    state = await admin.metering_state()
    with pytest.raises(Forbidden) as refused:
        await ann.metering_state()

    # No gateway is served by this backend: nothing counted, nothing waiting, nothing lost.
    assert (state.durable, state.journal, state.pending_calls) == (False, False, 0)
    assert (state.lost_calls, state.losses) == (0, [])
    assert "admin" in str(refused.value)
