"""Short-lived keys the console mints for its own calls through the gateway, as one user."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from mcp_console.schemas.errors import Unauthorized
from mcp_console.schemas.users import Principal

INTERNAL_PREFIX = "mcpi_"
DEFAULT_TTL = 120.0

Authenticate = Callable[[str], Awaitable[Principal]]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class InternalKeys:
    """Keys that act as one user for a short while, held in memory as digests only.

    The inspector connects to a deployment's endpoint like any client, so the gateway's
    own checks (sharing, rate limits, quotas) apply to it; it needs a key the gateway
    accepts for the calling user without ever writing one to the database or showing it.
    ``authenticate`` is what the gateway asks: an internal key is answered from memory
    (expired or revoked ones are refused), anything else goes to ``fallback``.

    Args:
        fallback: the user service's key lookup.
        ttl: seconds a key stays valid unless revoked earlier.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        fallback: Authenticate,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fallback = fallback
        self.ttl = ttl
        self._clock = clock
        self._keys: dict[bytes, tuple[Principal, float]] = {}

    def issue(self, principal: Principal) -> str:
        """A new key acting as ``principal`` until revoked or ``ttl`` has passed."""
        now = self._clock()
        for digest in [d for d, (_, expires) in self._keys.items() if expires <= now]:
            del self._keys[digest]
        key = INTERNAL_PREFIX + secrets.token_urlsafe(32)
        self._keys[_digest(key)] = (principal, now + self.ttl)
        return key

    def revoke(self, key: str) -> None:
        """Refuse ``key`` from now on."""
        self._keys.pop(_digest(key), None)

    @asynccontextmanager
    async def issued(self, principal: Principal) -> AsyncIterator[str]:
        """A key for the block's duration, revoked when it ends."""
        key = self.issue(principal)
        try:
            yield key
        finally:
            self.revoke(key)

    def __len__(self) -> int:
        return len(self._keys)

    async def authenticate(self, key: str) -> Principal:
        """The principal of an internal key, or of an API key through ``fallback``.

        Raises:
            Unauthorized: the key is not (or no longer) valid.
        """
        if not key.startswith(INTERNAL_PREFIX):
            return await self._fallback(key)
        # Found by its digest: a guess learns nothing from how fast it is refused.
        entry = self._keys.get(_digest(key))
        if entry is None or entry[1] <= self._clock():
            raise Unauthorized("the API key is not valid")
        return entry[0]
