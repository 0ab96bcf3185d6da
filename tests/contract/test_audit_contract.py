"""Audit listings refuse the same filters, and show a new user nothing, through every client."""

from __future__ import annotations

import pytest

from mcp_console.schemas.audit import AuditQuery
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (AuditQuery(kind="deploy"), "kind"),
        (AuditQuery(since="soon"), "since"),
        (AuditQuery(until="later"), "until"),
        (AuditQuery(since="1h", until="2h"), "since"),
    ],
)
async def test_a_bad_audit_filter_is_refused_naming_its_field(
    clients: Clients, query: AuditQuery, field: str
) -> None:
    alice = await clients.user("alice", Role.USER)
    with pytest.raises(Invalid) as caught:
        await alice.audit_events(query)
    assert caught.value.field == field


async def test_a_new_user_sees_nobody_elses_events(clients: Clients) -> None:
    alice = await clients.user("alice", Role.USER)
    assert await alice.audit_events(AuditQuery()) == []
    assert await alice.audit_events(AuditQuery(kind="deployment", deployment="web")) == []
    with pytest.raises(NotFound) as caught:
        await alice.audit_events(AuditQuery(deployment="nobody/web"))
    assert caught.value.field == "deployment"
