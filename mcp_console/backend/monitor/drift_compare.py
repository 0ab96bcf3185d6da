"""Definitions compared by a canonical-JSON SHA-256: what was added, removed or changed."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp_console.schemas.drift import DefinitionChange, DefinitionKind

# ``(kind, name)``: the identity of a definition on one server.
Key = tuple[DefinitionKind, str]


@dataclass(frozen=True, slots=True)
class Definition:
    """One tool, prompt or resource template as the server lists it."""

    kind: DefinitionKind
    name: str
    definition: dict[str, Any]
    digest: str

    @classmethod
    def of(cls, kind: DefinitionKind, name: str, definition: dict[str, Any]) -> Definition:
        """The definition with its digest."""
        return cls(kind, name, definition, digest(definition))

    @property
    def key(self) -> Key:
        """Its identity on the server."""
        return self.kind, self.name

    def stored(self) -> dict[str, Any]:
        """As kept in a baseline row."""
        return {
            "kind": self.kind.value,
            "name": self.name,
            "digest": self.digest,
            "definition": self.definition,
        }

    @classmethod
    def from_stored(cls, row: Mapping[str, Any]) -> Definition:
        """Read back what ``stored`` wrote."""
        return cls(DefinitionKind(row["kind"]), row["name"], row["definition"], row["digest"])


@dataclass(frozen=True, slots=True)
class Difference:
    """A definition that differs from the baseline, with a readable diff."""

    kind: DefinitionKind
    name: str
    change: DefinitionChange
    old: Definition | None
    new: Definition | None

    @property
    def key(self) -> Key:
        """The identity of the definition."""
        return self.kind, self.name

    @property
    def new_digest(self) -> str | None:
        """The digest of what the server lists now (``None``: it lists nothing by that name)."""
        return self.new.digest if self.new is not None else None

    def diff(self, before: str = "approved", after: str = "listed") -> str:
        """A unified diff of the old and new definitions as indented, sorted JSON, its sides
        called ``before`` and ``after``."""
        label = f"{self.kind.value} {self.name}"
        return unified_diff(
            self.old.definition if self.old else None,
            self.new.definition if self.new else None,
            label,
            before=before,
            after=after,
        )


def canonical(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: equal values, equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    """The SHA-256 (hex) of ``value``'s canonical JSON."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def unified_diff(
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    label: str,
    *,
    before: str = "approved",
    after: str = "listed",
) -> str:
    """``old`` → ``new`` as a unified diff of indented JSON (an empty side for none)."""
    return "".join(
        difflib.unified_diff(
            _lines(old), _lines(new), fromfile=f"{before} {label}", tofile=f"{after} {label}", n=3
        )
    )


def _lines(value: dict[str, Any] | None) -> list[str]:
    if value is None:
        return []
    return [line + "\n" for line in json.dumps(value, sort_keys=True, indent=2).splitlines()]


def compare(baseline: Iterable[Definition], current: Iterable[Definition]) -> list[Difference]:
    """What differs between the approved definitions and the ones listed now, by kind and
    name: added (listed, not approved), removed (approved, not listed), changed (digests
    differ)."""
    old = {d.key: d for d in baseline}
    new = {d.key: d for d in current}
    found: list[Difference] = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before is None and after is not None:
            found.append(Difference(*key, DefinitionChange.ADDED, None, after))
        elif after is None and before is not None:
            found.append(Difference(*key, DefinitionChange.REMOVED, before, None))
        elif before is not None and after is not None and before.digest != after.digest:
            found.append(Difference(*key, DefinitionChange.CHANGED, before, after))
    return found
