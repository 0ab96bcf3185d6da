"""Sample people, teams, shares and keys for the sharing and keys tests and snapshots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mcp_console.schemas.deploy import Access, DeploymentDetail, ShareRole, ShareView
from mcp_console.schemas.users import KeyCreate, Role, TeamCreate, UserCreate
from tests.fakes import FakeClient
from tests.tui.sample import NOW
from tests.tui.sample_deployments import live_client

SECRET = "mcpc_00000004-fake-secret"  # the fake mints the fourth key of the sample so


def someone_elses(
    detail: DeploymentDetail, owner: str, access: Access, index: int
) -> DeploymentDetail:
    """``detail`` as a viewer who does not own it sees it: ``owner/name``, with ``access``."""
    return detail.model_copy(
        update={
            "id": index,
            "owner": owner,
            "address": f"{owner}/{detail.name}",
            "access": access,
            "endpoint_url": f"http://127.0.0.1:8765/mcp/{owner}/{detail.name}",
            "shares": [],
        }
    )


def sharing_client(**kwargs: Any) -> FakeClient:
    """The sample deployments, users bob, carol and alice, a team ``platform``; ``weather``
    is shared with carol (caller) and the platform team (operator); alice shares her
    ``github`` with me as a caller and her ``slack`` as an operator."""
    client = live_client(**kwargs)
    admin = client.me
    for name in ("alice", "bob", "carol"):
        client.users.create(admin, UserCreate(name=name, role=Role.USER))
    client.teams.create(admin, TeamCreate(name="platform"))
    weather = client.deployments["weather"]
    client.deployments["weather"] = weather.model_copy(
        update={
            "shares": [
                ShareView(
                    kind="user",
                    name="carol",
                    role=ShareRole.CALLER,
                    created_at=NOW - timedelta(days=2),
                ),
                ShareView(
                    kind="team",
                    name="platform",
                    role=ShareRole.OPERATOR,
                    created_at=NOW - timedelta(hours=5),
                ),
            ]
        }
    )
    github, slack = client.deployments["github"], client.deployments["slack"]
    for shared in (
        someone_elses(github, "alice", Access.CALLER, 11),
        someone_elses(slack, "alice", Access.OPERATOR, 12),
    ):
        client.deployments[shared.address] = shared
    return client


def keys_client(**kwargs: Any) -> FakeClient:
    """``sharing_client`` with three keys of mine: one for every deployment, one limited to
    two and expiring, one revoked; the next one created is the fourth (``SECRET``)."""
    client = sharing_client(**kwargs)
    me = client.me
    client.keys.create(me, KeyCreate(name="laptop"))
    client.keys.create(
        me,
        KeyCreate(name="ci-bot", expires_in="30d", deployments=["weather", "alice/github"]),
    )
    old = client.keys.create(me, KeyCreate(name="old-script"))
    client.keys.revoke(me, str(old.key.id), None)
    return client
