"""A server's definitions as a JSON snapshot, and a live listing compared with one (as drift is)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from mcp_console.backend.monitor.drift_compare import Definition, Difference, compare
from mcp_console.schemas.drift import DefinitionKind
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.server_docs import ServerDefinitions


def snapshot_text(found: ServerDefinitions) -> str:
    """The snapshot ``docs --check`` reads: indented JSON with sorted keys, ending in a newline."""
    return (
        json.dumps(found.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
    )


def read_snapshot(path: Path) -> ServerDefinitions:
    """A snapshot written by ``snapshot_text``.

    Raises:
        Invalid: the file is missing, unreadable, or not such a snapshot.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror or exc}", field="check") from None
    try:
        return ServerDefinitions.model_validate_json(text)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "the document"
        raise Invalid(
            f"{path} is not a definitions snapshot (write one with 'mcp-console docs TARGET "
            f"--format json'): {where}: {problem['msg']}",
            field="check",
        ) from None


def definitions(found: ServerDefinitions) -> list[Definition]:
    """Each listed definition with its digest, named as drift detection names it."""
    return [
        *(Definition.of(DefinitionKind.TOOL, str(t.get("name")), t) for t in found.tools),
        *(Definition.of(DefinitionKind.PROMPT, str(p.get("name")), p) for p in found.prompts),
        *(
            Definition.of(DefinitionKind.RESOURCE_TEMPLATE, str(t.get("uriTemplate")), t)
            for t in found.resource_templates
        ),
        *(Definition.of(DefinitionKind.RESOURCE, str(r.get("uri")), r) for r in found.resources),
    ]


def differences(published: ServerDefinitions, live: ServerDefinitions) -> list[Difference]:
    """What the live server lists differently from the snapshot: added, removed, changed."""
    return compare(definitions(published), definitions(live))


def report(found: list[Difference]) -> str:
    """The differences as a readable report: a line per definition, then its JSON diff."""
    lines: list[str] = []
    for d in found:
        lines.append(f"{d.change.value} {d.kind.value} {d.name}")
        lines += [f"  {line}" for line in d.diff("published", "listed").splitlines()]
    return "\n".join(lines) + ("\n" if lines else "")
