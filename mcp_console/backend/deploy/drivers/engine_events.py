"""Fan-out of runtime lifecycle events to async subscribers, fed by a thread or the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from mcp_console.backend.deploy.drivers.base import (
    LABEL_DEPLOYMENT,
    LABEL_INSTANCE,
    LABEL_VERSION,
    EventKind,
    RuntimeEvent,
)

logger = logging.getLogger(__name__)

_KINDS: tuple[EventKind, ...] = ("start", "die", "oom")
_RESTART_DELAY = 1.0


def docker_event(driver: str, raw: Mapping[str, Any]) -> RuntimeEvent | None:
    """A ``RuntimeEvent`` from one decoded Docker engine event, or None if not ours."""
    action = raw.get("Action") or raw.get("status")
    kind = next((k for k in _KINDS if k == action), None)
    if kind is None:
        return None
    attributes: Mapping[str, str] = (raw.get("Actor") or {}).get("Attributes") or {}
    nanos = raw.get("timeNano") or int(raw.get("time", 0)) * 1_000_000_000
    exit_code = attributes.get("exitCode")
    return RuntimeEvent(
        kind=kind,
        driver=driver,
        ref=attributes.get("name", ""),
        deployment_id=attributes.get(LABEL_DEPLOYMENT, ""),
        instance_id=attributes.get(LABEL_INSTANCE, ""),
        version=attributes.get(LABEL_VERSION, ""),
        at=datetime.fromtimestamp(nanos / 1e9, tz=UTC),
        exit_code=int(exit_code) if exit_code is not None else None,
    )


class DriverEventFanout:
    """Deliver each event to every subscription; a slow one loses its oldest events.

    With a ``producer`` (a blocking function run in a thread, e.g. the Docker event stream)
    the thread starts when the first subscription is iterated and replays events since that
    subscription was created, so nothing between ``events()`` and the first ``await`` is
    lost; it is restarted if the stream breaks. Without one, call ``publish`` on the loop.
    """

    class Stopper:
        """Handed to the producer thread: publish events, learn how to be stopped."""

        def __init__(self, loop: asyncio.AbstractEventLoop, fanout: DriverEventFanout) -> None:
            self._loop = loop
            self._fanout = fanout
            self._closers: list[Callable[[], object]] = []
            self.stopped = threading.Event()

        def publish(self, event: RuntimeEvent) -> None:
            """Deliver from the producer thread."""
            self._fanout._last_seen = max(self._fanout._last_seen, event.at.timestamp())
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._loop.call_soon_threadsafe(self._fanout.publish, event)

        def on_stop(self, closer: Callable[[], object]) -> None:
            """Register what unblocks the producer (closing its stream)."""
            self._closers.append(closer)
            if self.stopped.is_set():
                closer()

        def stop(self) -> None:
            """Ask the producer to end (from any thread)."""
            self.stopped.set()
            for closer in self._closers:
                with contextlib.suppress(Exception):
                    closer()

    class Subscription:
        """An async iterator of events from the moment it was created."""

        def __init__(self, fanout: DriverEventFanout, queue_size: int) -> None:
            self._fanout = fanout
            self.since = time.time()
            self._queue: asyncio.Queue[RuntimeEvent | None] = asyncio.Queue(queue_size)
            fanout._subscriptions.add(self)

        def __aiter__(self) -> DriverEventFanout.Subscription:
            return self

        async def __anext__(self) -> RuntimeEvent:
            await self._fanout._ensure_running(self.since)
            item = await self._queue.get()
            if item is None:
                self._queue.put_nowait(None)
                raise StopAsyncIteration
            return item

        def deliver(self, item: RuntimeEvent | None) -> None:
            """Queue one event, dropping the oldest when full."""
            if item is not None and item.at.timestamp() < self.since - 0.001:
                return
            if self._queue.full():
                self._queue.get_nowait()
            self._queue.put_nowait(item)

        async def aclose(self) -> None:
            """Stop receiving."""
            self._fanout._subscriptions.discard(self)
            self.deliver(None)

    def __init__(
        self,
        producer: Callable[[float, DriverEventFanout.Stopper], None] | None = None,
        *,
        prepare: Callable[[], Awaitable[object]] | None = None,
        queue_size: int = 1000,
    ) -> None:
        self._producer = producer
        self._prepare = prepare
        self._queue_size = queue_size
        self._subscriptions: weakref.WeakSet[DriverEventFanout.Subscription] = weakref.WeakSet()
        self._thread: threading.Thread | None = None
        self._stopper: DriverEventFanout.Stopper | None = None
        self._start_lock = asyncio.Lock()
        self._last_seen = 0.0
        self._closed = False

    def subscribe(self) -> DriverEventFanout.Subscription:
        """A new subscription, receiving events from now on."""
        return DriverEventFanout.Subscription(self, self._queue_size)

    def publish(self, event: RuntimeEvent) -> None:
        """Deliver ``event`` to every subscription (on the loop)."""
        for subscription in list(self._subscriptions):
            subscription.deliver(event)

    async def _ensure_running(self, since: float) -> None:
        if self._producer is None or self._thread is not None or self._closed:
            return
        async with self._start_lock:
            if self._thread is not None or self._closed:
                return
            if self._prepare is not None:
                await self._prepare()
            self._last_seen = since
            self._stopper = DriverEventFanout.Stopper(asyncio.get_running_loop(), self)
            self._thread = threading.Thread(
                target=self._run, args=(self._stopper,), name="mcp-console-events", daemon=True
            )
            self._thread.start()

    def _run(self, stopper: DriverEventFanout.Stopper) -> None:
        assert self._producer is not None
        while not stopper.stopped.is_set():
            try:
                self._producer(self._last_seen, stopper)
            except Exception as exc:
                if stopper.stopped.is_set():
                    return
                logger.warning("event stream broke (%s); reconnecting", exc)
            stopper.stopped.wait(_RESTART_DELAY)

    async def close(self) -> None:
        """Stop the producer and end every subscription."""
        self._closed = True
        if self._stopper is not None:
            self._stopper.stop()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
            self._thread = None
        for subscription in list(self._subscriptions):
            subscription.deliver(None)
