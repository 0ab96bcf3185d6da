"""API key minting and hashing: keys are random, shown once, stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "mcpc_"
# The prefix stored in clear (the scheme plus 8 random characters) finds a key without
# scanning; the rest of the 32 random bytes stays secret.
LOOKUP_LENGTH = len(KEY_PREFIX) + 8


def mint_key() -> str:
    """A fresh API key (about 256 bits of randomness)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_lookup_prefix(key: str) -> str:
    """The part of a key stored in clear to find its row."""
    return key[:LOOKUP_LENGTH]


def hash_key(key: str) -> str:
    """The stored digest of a key. High-entropy keys need no slow KDF, only a one-way hash."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key with a stored digest."""
    return hmac.compare_digest(hash_key(key), stored_hash)
