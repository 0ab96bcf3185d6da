"""Gateway authentication: Bearer API keys to principals (cached) and per-key rate limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from mcp_console.schemas.errors import Unauthorized
from mcp_console.schemas.users import Principal

DEFAULT_TTL = 30.0
DEFAULT_NEGATIVE_TTL = 5.0
DEFAULT_MAX_ENTRIES = 10_000
_BEARER = b"bearer "

Authenticate = Callable[[str], Awaitable[Principal]]


def bearer_key(header: bytes | None) -> str | None:
    """The key in an ``Authorization: Bearer <key>`` header, or ``None``."""
    if header is None or len(header) <= len(_BEARER) or header[:7].lower() != _BEARER:
        return None
    key = header[7:].strip()
    return key.decode("ascii", "replace") if key else None


class _Entry:
    __slots__ = ("expires", "key_expires", "principal", "tokens", "updated")

    def __init__(self, principal: Principal | None, expires: float, tokens: float) -> None:
        self.principal = principal
        self.expires = expires
        # When the key itself stops working (epoch seconds), whatever the cache says.
        at = principal.key_expires_at if principal is not None else None
        self.key_expires = at.timestamp() if at is not None else None
        self.tokens = tokens
        self.updated = 0.0


class KeyAuthenticator:
    """Turns API keys into principals, remembering answers so the request path skips the DB.

    A valid key is trusted for ``ttl`` seconds unless ``revoke`` forgets it first (the
    backend tells the gateway of each revocation) or the key expires meanwhile; an invalid
    one is refused from memory for ``negative_ttl``. Concurrent first
    uses of one key share a single lookup. The cache is bounded; the oldest entries go
    first.

    Each key also has a token bucket: ``rate`` requests per second with bursts of
    ``burst``; ``rate=None`` turns the limit off.

    Args:
        authenticate: the lookup (``UserService.authenticate``); raises ``Unauthorized``.
        ttl: seconds a valid key is trusted without asking again.
        negative_ttl: seconds an invalid key is refused without asking again.
        rate: requests per second allowed per key, or ``None``.
        burst: the bucket's size (defaults to ``rate``, at least 1).
        max_entries: keys remembered at most.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        authenticate: Authenticate,
        *,
        ttl: float = DEFAULT_TTL,
        negative_ttl: float = DEFAULT_NEGATIVE_TTL,
        rate: float | None = None,
        burst: float | None = None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._authenticate = authenticate
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else (rate or 1.0))
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._pending: dict[str, asyncio.Future[Principal]] = {}

    def cached(self, key: str) -> Principal | None:
        """The principal of ``key`` from memory, or ``None`` when it must be looked up.

        Raises:
            Unauthorized: the key was recently found invalid.
        """
        entry = self._entries.get(key)
        if entry is None or entry.expires < self._clock():
            return None
        if entry.principal is None:
            raise Unauthorized("the API key is not valid")
        if entry.key_expires is not None and entry.key_expires <= time.time():
            entry.principal = None
            raise Unauthorized("the API key has expired")
        return entry.principal

    async def principal(self, key: str) -> Principal:
        """The principal of ``key``, from memory or from one shared lookup.

        Raises:
            Unauthorized: the key is not valid.
        """
        cached = self.cached(key)
        if cached is not None:
            return cached
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            principal = await self._authenticate(key)
        except Unauthorized as exc:
            self._remember(key, None, self.negative_ttl)
            future.set_exception(exc)
            raise
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            raise
        else:
            self._remember(key, principal, self.ttl)
            future.set_result(principal)
            return principal
        finally:
            del self._pending[key]
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: a lone caller leaves no "never retrieved" log

    def allow(self, key: str) -> float | None:
        """Take one request from the key's bucket: ``None`` if allowed, else seconds to wait."""
        rate = self.rate
        if rate is None:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None  # only authenticated keys reach here; a racing eviction gets a pass
        now = self._clock()
        tokens = min(self.burst, entry.tokens + (now - entry.updated) * rate)
        entry.updated = now
        if tokens >= 1.0:
            entry.tokens = tokens - 1.0
            return None
        entry.tokens = tokens
        return (1.0 - tokens) / rate

    def forget(self, key: str | None = None) -> None:
        """Drop one key (or all) from memory."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

    def revoke(self, key_ids: set[int]) -> int:
        """Refuse the keys with these ids from now on; returns how many were remembered.

        A lookup already under way when this is called may still answer for such a key
        once; the next request asks again.
        """
        now = self._clock()
        revoked = 0
        for entry in self._entries.values():
            principal = entry.principal
            if principal is not None and principal.key_id in key_ids:
                entry.principal = None
                entry.expires = now + self.negative_ttl
                revoked += 1
        return revoked

    def forget_users(self, user_ids: set[int]) -> None:
        """Look these users' keys up afresh on their next use (their teams changed)."""
        for key in [
            key
            for key, entry in self._entries.items()
            if entry.principal is not None and entry.principal.user_id in user_ids
        ]:
            del self._entries[key]

    def _remember(self, key: str, principal: Principal | None, ttl: float) -> None:
        entries = self._entries
        previous = entries.pop(key, None)
        while len(entries) >= self.max_entries:
            del entries[next(iter(entries))]
        now = self._clock()
        entry = _Entry(principal, now + ttl, previous.tokens if previous else self.burst)
        entry.updated = previous.updated if previous else now
        entries[key] = entry
