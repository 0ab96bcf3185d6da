"""The audit routes: a remote client lists what each caller may see; export; bad filters."""

from __future__ import annotations

import json

import pytest

from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.audit import AuditQuery
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.users import KeyCreate, Role, TeamCreate, UserCreate
from tests.api.conftest import Api
from tests.api.live import auth, error_of


async def _bob(api: Api) -> str:
    admin = api.runtime.local_admin
    assert admin is not None
    created = await api.runtime.users.create_user(admin, UserCreate(name="bob", role=Role.USER))
    return created.api_key


async def test_a_remote_client_lists_the_trail_as_its_caller_may_see_it(api: Api) -> None:
    bob_key = await _bob(api)
    async with (
        RemoteClient(api.live.url, bob_key) as bob,
        RemoteClient(api.live.url, api.admin_token) as admin,
    ):
        await bob.create_team(TeamCreate(name="bobs"))
        await bob.create_key(KeyCreate(name="laptop"))
        await admin.create_team(TeamCreate(name="ops"))
        bobs = await bob.audit_events(AuditQuery())
        everyone = await admin.audit_events(AuditQuery(kind="team"))
        keys = await admin.audit_events(AuditQuery(user="bob", kind="key"))

    # Bob sees his own changes, made through the API; the admin sees everyone's.
    assert [(e.kind, e.target, e.actor, e.via) for e in bobs] == [
        ("key.created", "laptop", "bob", "api"),
        ("team.created", "bobs", "bob", "api"),
    ]
    assert [(e.target, e.actor) for e in everyone] == [("ops", "admin"), ("bobs", "bob")]
    assert [e.target for e in keys] == ["laptop"]


async def test_export_gives_every_matching_event_as_json_lines(api: Api) -> None:
    admin = api.runtime.local_admin
    assert admin is not None
    for name in ("a", "b", "c"):
        await api.runtime.teams.create(admin, TeamCreate(name=name))

    response = await api.http.get(
        "/api/v1/audit/export", params={"kind": "team", "limit": 1}, headers=auth(api.admin_token)
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    exported = [json.loads(line) for line in response.text.splitlines()]
    assert [e["target"] for e in exported] == ["c", "b", "a"]  # limit is no bound on an export


@pytest.mark.parametrize(
    ("params", "status", "field", "message"),
    [
        ({"kind": "nothing"}, 422, "kind", "no audit event kind 'nothing'"),
        ({"since": "soon"}, 422, "since", "since 'soon' is neither a duration"),
        ({"since": "1h", "until": "2h"}, 422, "since", "since must be before until"),
        ({"deployment": "nobody/web"}, 404, "deployment", "no user named 'nobody'"),
    ],
)
async def test_a_bad_filter_is_refused_naming_it(
    api: Api, params: dict[str, str], status: int, field: str, message: str
) -> None:
    for path in ("/api/v1/audit", "/api/v1/audit/export"):
        response = await api.http.get(path, params=params, headers=auth(api.admin_token))
        assert response.status_code == status, path
        error = error_of(response)
        assert error["field"] == field
        assert error["message"].startswith(message)
    async with RemoteClient(api.live.url, api.admin_token) as client:
        with pytest.raises((Invalid, NotFound)) as refused:
            await client.audit_events(AuditQuery.model_validate(params))
    assert refused.value.field == field
