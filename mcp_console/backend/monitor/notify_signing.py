"""Signed webhooks: HMAC-SHA256 over a timestamp and the body, checked within a tolerance."""

# The scheme is the one payment webhooks made familiar: the signature covers
# "<timestamp>.<body>", so a captured request cannot be replayed with a new timestamp, and a
# receiver refuses timestamps older than its tolerance; the delivery id lets it drop the
# retries of a request it already handled.

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-MCP-Console-Timestamp"
SIGNATURE_HEADER = "X-MCP-Console-Signature"
DELIVERY_HEADER = "X-MCP-Console-Delivery"
DEFAULT_TOLERANCE_S = 300
_VERSION = "v1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (epoch seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{_VERSION}={digest.hexdigest()}"


def signed_headers(
    secret: str, body: bytes, delivery_id: int, now: float | None = None
) -> dict[str, str]:
    """The headers of a signed webhook request."""
    timestamp = int(time.time() if now is None else now)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_HEADER: str(delivery_id),
    }


def verify(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether a received request was signed with ``secret`` within ``tolerance_s`` seconds.

    ``headers`` are matched case-insensitively (receivers see them lower-cased).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance_s:
        return False
    return hmac.compare_digest(given, signature(secret, int(stamp), body))
