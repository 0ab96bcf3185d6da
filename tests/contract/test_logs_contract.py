"""Log searches refuse the same input, and find nothing where there is nothing, through
every client."""

from __future__ import annotations

import pytest

from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.logs import LogQuery
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (LogQuery(level="loud"), "level"),
        (LogQuery(text="/(unclosed/"), "text"),
        (LogQuery(text="!"), "text"),
        (LogQuery(since="soon"), "since"),
        (LogQuery(since="1h", until="2h"), "since"),
    ],
)
async def test_a_bad_log_query_is_refused_naming_its_field(
    clients: Clients, query: LogQuery, field: str
) -> None:
    alice = await clients.user("alice", Role.USER)
    with pytest.raises(Invalid) as caught:
        await alice.search_logs(query)
    assert caught.value.field == field


async def test_logs_of_a_deployment_nobody_has_are_not_found(clients: Clients) -> None:
    alice = await clients.user("alice", Role.USER)
    assert await alice.search_logs(LogQuery()) == []
    with pytest.raises(NotFound):
        await alice.search_logs(LogQuery(deployment="nope"))
    with pytest.raises(NotFound):
        await anext(alice.follow_logs(LogQuery(deployment="nope")))
