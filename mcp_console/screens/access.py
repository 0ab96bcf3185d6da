"""What the viewer may do with a deployment, from the access the backend says they have."""

from __future__ import annotations

from mcp_console.schemas.deploy import Access, DeploymentView

# The least access each verb needs, as the backend enforces it: a caller uses the endpoint
# and sees the deployment; an operator also runs it and reads its logs, history and
# sessions; its owner (and an admin) also deletes it and decides who has access.
NEEDS: dict[str, Access] = {
    "scale": Access.OPERATOR,
    "update": Access.OPERATOR,
    "rollback": Access.OPERATOR,
    "stop": Access.OPERATOR,
    "start": Access.OPERATOR,
    "history": Access.OPERATOR,
    "logs": Access.OPERATOR,
    "sessions": Access.OPERATOR,
    "delete": Access.OWNER,
    "change_shares": Access.OWNER,
}

# What each verb does, for a refusal that says what was refused.
_DOING = {
    "scale": "scale it",
    "update": "update it",
    "rollback": "roll it back",
    "stop": "stop it",
    "start": "start it",
    "history": "read its history",
    "logs": "read its logs",
    "sessions": "see its sessions",
    "delete": "delete it",
    "change_shares": "change who has access",
}
_WHO = {Access.OPERATOR: "its operators, its owner", Access.OWNER: "its owner"}


def allows(deployment: DeploymentView, verb: str) -> bool:
    """Whether the viewer's access to ``deployment`` is enough for ``verb``."""
    need = NEEDS.get(verb)
    return need is None or deployment.access.rank >= need.rank


def refusal(deployment: DeploymentView, verb: str) -> str:
    """Why ``verb`` is not the viewer's to use, in one sentence."""
    return (
        f"{deployment.address} is shared with you as {indefinite(deployment.access)}: "
        f"only {who_may(verb)} may {_DOING[verb]}."
    )


def who_may(verb: str) -> str:
    """``its operators, its owner and admins``: who may use ``verb``."""
    return f"{_WHO[NEEDS[verb]]} and admins"


def access_line(deployment: DeploymentView) -> str | None:
    """How the viewer comes to reach someone else's deployment (``None`` for their own)."""
    if deployment.address == deployment.name:
        return None
    if deployment.access is Access.ADMIN:
        return f"{deployment.owner}'s; you reach it as an admin"
    return f"shared with you by {deployment.owner} as {indefinite(deployment.access)}"


def indefinite(role: str) -> str:
    """``a caller``, ``an operator``."""
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"
