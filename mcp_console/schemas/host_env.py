"""Host environment variables a server receives by name (CA bundles, proxies): the names."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_PASS_ENV = 50
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def pass_env_names(names: Iterable[str]) -> list[str]:
    """Variable names as given, without repeats.

    Raises:
        ValueError: naming the first entry that is not a variable name, or too many.
    """
    seen: dict[str, None] = {}
    for name in names:
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ValueError(
                f"{name!r} is not an environment variable name (letters, digits and _, "
                "not starting with a digit)"
            )
        seen[name] = None
    if len(seen) > MAX_PASS_ENV:
        raise ValueError(f"at most {MAX_PASS_ENV} variables, got {len(seen)}")
    return list(seen)
