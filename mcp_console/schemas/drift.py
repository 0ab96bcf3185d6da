"""Tool-definition drift DTOs: a deployment's policy, its findings and their approval."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from mcp_console.schemas.base import Dto, RequestBody


class DriftPolicy(StrEnum):
    """What a changed definition does: ``alert`` tells operators; ``block`` also hides
    changed and added tools from clients until an operator approves them."""

    ALERT = "alert"
    BLOCK = "block"


class DefinitionKind(StrEnum):
    """What a server lists: its tools, prompts, resource templates and resources (drift
    watches the first three; generated API docs compare all four)."""

    TOOL = "tool"
    PROMPT = "prompt"
    RESOURCE_TEMPLATE = "resource_template"
    RESOURCE = "resource"


class DefinitionChange(StrEnum):
    """How a definition differs from the approved one."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class DriftFinding(Dto):
    """One definition that differs from the deployment's baseline.

    Attributes:
        old_definition: the approved definition (``None`` for an added one).
        new_definition: the definition the server lists now (``None`` for a removed one).
        diff: a unified diff of the two as indented JSON.
        approved_by: who approved it (``None`` while it waits for an operator).
    """

    id: int
    kind: DefinitionKind
    name: str
    change: DefinitionChange
    old_definition: dict[str, Any] | None
    new_definition: dict[str, Any] | None
    diff: str
    detected_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None


class DriftReport(Dto):
    """A deployment's baseline and what differs from it.

    Attributes:
        baseline_at: when the running version's definitions were first recorded (``None``:
            not yet, it has not served healthy through the gateway).
        definitions: how many definitions the baseline holds.
        blocked_tools: the tools the gateway hides and refuses now (block mode).
        findings: unapproved ones first, then the approved ones, newest first.
    """

    deployment: str
    policy: DriftPolicy
    version: str
    baseline_at: datetime | None
    definitions: int
    blocked_tools: list[str] = Field(default_factory=list)
    findings: list[DriftFinding] = Field(default_factory=list)


class DriftApproval(RequestBody):
    """Approve findings: every waiting one (``all``) or those of the named definitions."""

    all: bool = False
    names: list[str] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _one_way(self) -> DriftApproval:
        if self.all == bool(self.names):
            raise ValueError("approve either all findings or the named ones, not both or neither")
        return self


class DriftPolicyChange(RequestBody):
    """A deployment's new drift policy."""

    policy: DriftPolicy
