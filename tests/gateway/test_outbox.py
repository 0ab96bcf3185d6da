"""A session's outbox: what its server says on its own waits, in order and within bounds."""

from __future__ import annotations

import asyncio

from mcp_console.backend.gateway.sessions import Outbox


def test_messages_come_out_in_order_and_a_reply_takes_only_what_came_before_it() -> None:
    outbox = Outbox()
    for data in (b"one", b"two", b"three"):
        outbox.put(data)
    # A reply that came after two messages carries those two, not the third.
    assert outbox.has_before(2)
    assert [outbox.take(2), outbox.take(2), outbox.take(2)] == [b"one", b"two", None]
    assert not outbox.has_before(2)
    assert outbox.has_before(None)
    assert outbox.take() == b"three"
    assert outbox.take() is None


def test_a_client_that_never_listens_keeps_only_the_latest_messages() -> None:
    outbox = Outbox(limit=2)
    for data in (b"a", b"b", b"c", b"d"):
        outbox.put(data)
    assert outbox.dropped == 2
    assert [outbox.take(), outbox.take()] == [b"c", b"d"]


async def test_waiting_streams_are_woken_by_a_message_and_by_the_end() -> None:
    outbox = Outbox()
    loop = asyncio.get_running_loop()
    first, second = loop.create_future(), loop.create_future()
    outbox.waiters.update({first, second})
    outbox.put(b"x")
    assert first.done()
    assert second.done()
    third = loop.create_future()
    outbox.waiters = {third}
    outbox.close()
    assert third.done()
    assert outbox.closed
    outbox.put(b"late")  # nobody can take it any more
    assert outbox.take() is None
