"""Durations as people type them: ``30d``, ``12h``, ``90m``, ``45s``, ``2w``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
EXAMPLES = "30d, 12h, 90m or 2w"


def read_duration(text: str) -> timedelta | None:
    """The positive duration ``text`` names, or ``None`` when it names none."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) == 0:
        return None
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
