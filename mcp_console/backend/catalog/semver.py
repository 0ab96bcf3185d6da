"""Semantic versions: strict parsing (no ranges, no ``latest``) and SemVer 2.0 precedence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from mcp_console.schemas.errors import Invalid

_SEMVER = re.compile(
    r"^(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_RANGE_MARKERS = ("^", "~", ">", "<", "=", "*", " ", "||", ".x", ".X")


@total_ordering
@dataclass(frozen=True)
class SemVer:
    """A parsed semantic version; ordering follows SemVer 2.0 (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

    @property
    def is_prerelease(self) -> bool:
        """Whether this is a pre-release (never latest while a release exists)."""
        return bool(self.prerelease)

    def _key(self) -> tuple[object, ...]:
        # A release sorts above all its pre-releases; numeric identifiers sort below textual ones.
        pre: tuple[tuple[int, int | str], ...] = tuple(
            (0, int(part)) if part.isdigit() else (1, part) for part in self.prerelease
        )
        return (self.major, self.minor, self.patch, not self.prerelease, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        return text + (f"+{self.build}" if self.build else "")


def parse_semver(text: str, *, field: str = "version") -> SemVer:
    """Parse ``text`` as an exact semantic version.

    Raises:
        Invalid: ``text`` is ``latest``, a range, or not a semantic version.
    """
    value = text.strip()
    if value.lower() == "latest":
        raise Invalid("'latest' is not a version; give an exact semantic version", field=field)
    match = _SEMVER.match(value)
    if match is None:
        if any(marker in value for marker in _RANGE_MARKERS):
            raise Invalid(f"{text!r} is a version range; give an exact version", field=field)
        raise Invalid(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH)", field=field)
    pre = match.group("pre")
    return SemVer(
        int(match.group("major")),
        int(match.group("minor")),
        int(match.group("patch")),
        tuple(pre.split(".")) if pre else (),
        match.group("build") or "",
    )


def pick_latest(versions: list[str]) -> str | None:
    """The version that is latest: the highest release, or the highest pre-release if none."""
    parsed = [(parse_semver(v), v) for v in versions]
    releases = [p for p in parsed if not p[0].is_prerelease]
    pool = releases or parsed
    return max(pool, key=lambda p: p[0])[1] if pool else None
