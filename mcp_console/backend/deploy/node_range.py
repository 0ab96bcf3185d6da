"""npm's version ranges (as in a package's ``engines.node``) checked against a Node.js release."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Version = tuple[int, int, int]
_Bound = tuple[str, Version]  # (">=", ">", "<=" or "<", version)
_Partial = tuple[int | None, int | None, int | None]  # None: a wildcard or left out

_RELEASE = re.compile(r"^\s*v?(\d+)\.(\d+)\.(\d+)")
# One partial version: each of up to three parts a number or a wildcard; a prerelease or
# build suffix is dropped (Node releases carry none).
_XR = r"(\d+|[xX*])"
_PARTIAL = re.compile(rf"^v?{_XR}(?:\.{_XR})?(?:\.{_XR})?(?:[-+][0-9A-Za-z.+-]*)?$")
_OPERATOR = re.compile(r"(<=|>=|<|>|=|~>|~|\^)\s+")
_COMPARE: dict[str, Callable[[Version, Version], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


class RangeError(ValueError):
    """A range npm would not understand either."""


def parse_version(text: str) -> Version:
    """``v22.23.5`` or ``22.23.5`` as ``(22, 23, 5)``.

    Raises:
        RangeError: the text is not a release version.
    """
    match = _RELEASE.match(text)
    if match is None:
        raise RangeError(f"not a version: {text!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


@dataclass(frozen=True, slots=True)
class NodeRange:
    """One npm range (``>=18``, ``^20.19.0 || >=22.12.0``, ``18 - 20``, ``*``)."""

    text: str
    alternatives: tuple[tuple[_Bound, ...], ...]

    @classmethod
    def parse(cls, text: str) -> NodeRange:
        """Parse ``text`` as npm does (operators may be followed by spaces).

        Raises:
            RangeError: a part of it is not a version, wildcard or operator npm knows.
        """
        alternatives = tuple(_alternative(part) for part in text.split("||"))
        return cls(text.strip(), alternatives)

    def allows(self, version: Version) -> bool:
        """Whether ``version`` satisfies the range."""
        return any(
            all(_COMPARE[op](version, bound) for op, bound in bounds)
            for bounds in self.alternatives
        )


def _alternative(text: str) -> tuple[_Bound, ...]:
    text = _OPERATOR.sub(r"\1", text.strip())
    if not text:
        return ()
    parts = text.split()
    if len(parts) == 3 and parts[1] == "-":
        low, high = _partial(parts[0]), _partial(parts[2])
        return (*_at_least(low), *_at_most(high))
    bounds: list[_Bound] = []
    for part in parts:
        bounds += _comparator(part)
    return tuple(bounds)


def _comparator(text: str) -> list[_Bound]:
    match = re.match(r"^(<=|>=|<|>|=|~>|~|\^)?(.*)$", text)
    assert match is not None
    op, rest = match.group(1) or "=", match.group(2)
    parts = _partial(rest)
    if op == "=":
        return [*_at_least(parts), *_at_most(parts)]
    if op in ("~", "~>"):
        return [*_at_least(parts), *_below_next(parts, 1 if parts[1] is not None else 0)]
    if op == "^":
        return [*_at_least(parts), *_below_next(parts, _caret_level(parts))]
    if op == ">=":
        return _at_least(parts)
    if op == "<=":
        return _at_most(parts)
    if op == ">":
        return _above(parts)
    return _below(parts)


def _partial(text: str) -> _Partial:
    match = _PARTIAL.match(text)
    if match is None:
        raise RangeError(f"not a version or range: {text!r}")
    values = [None if p is None or p in "xX*" else int(p) for p in match.groups()]
    # Anything after a wildcard is a wildcard too (``1.x.3`` means ``1.x``).
    for i, value in enumerate(values):
        if value is None:
            values[i:] = [None] * (3 - i)
            break
    return values[0], values[1], values[2]


def _filled(parts: _Partial) -> Version:
    return parts[0] or 0, parts[1] or 0, parts[2] or 0


def _at_least(parts: _Partial) -> list[_Bound]:
    return [] if parts[0] is None else [(">=", _filled(parts))]


def _at_most(parts: _Partial) -> list[_Bound]:
    if parts[0] is None:
        return []
    if parts[2] is not None:
        return [("<=", _filled(parts))]
    return _below_next(parts, 1 if parts[1] is not None else 0)


def _above(parts: _Partial) -> list[_Bound]:
    if parts[0] is None:
        return [("<", (0, 0, 0))]  # ``>*`` matches nothing
    if parts[2] is not None:
        return [(">", _filled(parts))]
    (upper,) = _below_next(parts, 1 if parts[1] is not None else 0)
    return [(">=", upper[1])]


def _below(parts: _Partial) -> list[_Bound]:
    return [("<", (0, 0, 0))] if parts[0] is None else [("<", _filled(parts))]


def _below_next(parts: _Partial, level: int) -> list[_Bound]:
    """``< `` the next version at ``level`` (0 major, 1 minor, 2 patch) of ``parts``."""
    if parts[0] is None:
        return []
    major, minor, patch = _filled(parts)
    upper = [(major + 1, 0, 0), (major, minor + 1, 0), (major, minor, patch + 1)][level]
    return [("<", upper)]


def _caret_level(parts: _Partial) -> int:
    """The part ``^`` may not change: the first non-zero one (npm's rule for 0.x versions)."""
    major, minor, patch = parts
    if major != 0 or minor is None:
        return 0
    if minor != 0 or patch is None:
        return 1
    return 2
