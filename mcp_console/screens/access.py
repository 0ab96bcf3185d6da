"""What the viewer may do with a deployment, from the access the backend says they have."""

from __future__ import annotations

from mcp_console.schemas.deploy import (
    VERBS,
    Access,
    DeploymentView,
    allowed,
    indefinite,
    who_may,
)
from mcp_console.schemas.deploy import refusal as deployment_refusal

__all__ = ["NEEDS", "access_line", "allows", "indefinite", "refusal", "who_may"]

# Verbs the console offers that the backend refuses below some access (``schemas.VERBS``).
NEEDS = frozenset(VERBS)


def allows(deployment: DeploymentView, verb: str) -> bool:
    """Whether the viewer's access to ``deployment`` is enough for ``verb``."""
    return verb not in VERBS or allowed(deployment.access, verb)


def refusal(deployment: DeploymentView, verb: str) -> str:
    """Why ``verb`` is not the viewer's to use, in one sentence."""
    return deployment_refusal(deployment.address, deployment.access, verb)


def access_line(deployment: DeploymentView) -> str | None:
    """How the viewer comes to reach someone else's deployment (``None`` for their own)."""
    if deployment.address == deployment.name:
        return None
    if deployment.access is Access.ADMIN:
        return f"{deployment.owner}'s; you reach it as an admin"
    return f"shared with you by {deployment.owner} as {indefinite(deployment.access)}"
