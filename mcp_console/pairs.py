"""``NAME=VALUE`` lists as people type them: ``team=payments, tier=1``."""

from __future__ import annotations

from collections.abc import Iterable

from mcp_console.schemas.errors import Invalid


def read_pairs(items: Iterable[str], what: str) -> dict[str, str]:
    """``name=value`` items (each may be a comma-separated list) as a mapping.

    Raises:
        Invalid: an item is no ``NAME=VALUE`` (``what`` says what it should have been).
    """
    found: dict[str, str] = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            name, sep, value = part.partition("=")
            if not sep or not name.strip():
                raise Invalid(f"a {what} is NAME=VALUE, got {part!r}")
            found[name.strip()] = value.strip()
    return found
