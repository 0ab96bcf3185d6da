"""Every API route and gateway endpoint, tried as each of ten principals, answers exactly as
the access rules say, and a refused request changes nothing (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi.routing import APIRoute
from starlette.routing import Route

from mcp_console.backend.api import create_app
from mcp_console.backend.gateway.asgi import create_app as create_gateway_app
from mcp_console.backend.runtime import Runtime
from mcp_console.settings import Settings
from tests import conftest as suite
from tests.api.authz_requests import (
    READ,
    Call,
    Row,
    allowed,
    note,
    parse,
    refused,
    send,
    send_gateway,
    url_of,
)
from tests.api.authz_world import (
    BYSTANDER,
    DEPLOYMENT,
    DRAFT,
    FIRST,
    OWN_SECRET,
    OWNER,
    SECOND,
    SERVICE,
    Snapshot,
    World,
    build_world,
    changed_tables,
    gateway_client,
    snapshot,
)
from tests.api.live import serving
from tests.contract.documents import server_json
from tests.deploy.running.conftest import fast_deploy_settings

API = "/api/v1"

# Both databases, as the suite's own fixture gives them (this folder's default is SQLite).
database_url = suite.database_url

# The columns, one per principal: ano(nymous, no key), wr(on)g key, rev(oked) key,
# exp(ired) key, sc(o)p(ed) key (all three olga's; the last limited to her deployment
# "spare"), oth(er user, nothing shared), cal(ler: in team "callers"), op(e)r(ator: in team
# "operators"), own(er: olga), adm(in).
#
# What each principal gets from each route of the API (paths under /api/v1, as the app
# declares them). Each aims at olga's things: {name} is her running deployment "app" (sent
# as olga%2Fapp), her published service (her draft for publish), or her team "callers"
# (maintained by her; "caller" is a plain member, "operator" in another team); {user} is a
# member of that team, {ref} one of her keys, {session_id} her open gateway session. An
# allowed change aims at a fresh one made alike (see CALLS), so later rows find them intact.
#
# Judgement calls, as a user of such a console would expect them:
# - a deployment not shared with you is 404, as if it did not exist; seen but not allowed
#   (a caller scaling it) is 403;
# - a key limited to another deployment sees only that one (its lists hold nothing else):
#   on deployment routes every other deployment is as absent to it (404) as an unshared one
#   is to a stranger; every route outside deployments and catalog reads refuses it (403);
# - naming another user's keys (?user=olga) is an admin's right, refused (403) before the
#   user is looked up, so it tells nothing about her;
# - a team you are not in is 404; a member who does not maintain it is refused (403);
# - catalog writes are for authors (403 to plain users); another author's draft is 404;
# - uploading a package is for authors; its name belongs to whoever uploaded it first;
# - stored secrets are each user's own, admins' too: another's is 404 to everyone;
# - changing a deployment's configuration is its owner's (and admins'), not operators'.
API_MATRIX = """
route                                                  ano wrg rev exp scp oth cal opr own adm
GET    /health                                         200 200 200 200 200 200 200 200 200 200
GET    /me                                             401 401 401 401 200 200 200 200 200 200
GET    /me/services                                    401 401 401 401 200 200 200 200 200 200
GET    /users                                          401 401 401 401 403 403 403 403 403 200
POST   /users                                          401 401 401 401 403 403 403 403 403 201
GET    /teams                                          401 401 401 401 403 200 200 200 200 200
POST   /teams                                          401 401 401 401 403 201 201 201 201 201
GET    /teams/{name}                                   401 401 401 401 403 404 200 404 200 200
DELETE /teams/{name}                                   401 401 401 401 403 404 403 404 204 204
PUT    /teams/{name}/members/{user}                    401 401 401 401 403 404 403 404 200 200
DELETE /teams/{name}/members/{user}                    401 401 401 401 403 404 403 404 200 200
GET    /keys                                           401 401 401 401 403 200 200 200 200 200
GET    /keys?user=olga                                 401 401 401 401 403 403 403 403 200 200
POST   /keys                                           401 401 401 401 403 201 201 201 201 201
POST   /keys/{ref}/revoke?user=olga                    401 401 401 401 403 403 403 403 200 200
GET    /secrets                                        401 401 401 401 403 200 200 200 200 200
PUT    /secrets/{name}                                 401 401 401 401 403 200 200 200 200 200
PUT    /packages/{registry}/{name}/{version}/{filename} 401 401 401 401 403 403 403 403 200 200
DELETE /secrets/{name}                                 401 401 401 401 403 404 404 404 204 404
GET    /services                                       401 401 401 401 200 200 200 200 200 200
POST   /services                                       401 401 401 401 403 403 403 403 201 201
GET    /services/{name}                                401 401 401 401 200 200 200 200 200 200
PATCH  /services/{name}                                401 401 401 401 403 403 403 403 200 200
POST   /services/{name}/versions                       401 401 401 401 403 403 403 403 201 201
POST   /services/{name}/publish                        401 401 401 401 403 404 404 404 200 200
POST   /services/{name}/deprecate                      401 401 401 401 403 403 403 403 200 200
GET    /services/{name}/export                         401 401 401 401 200 200 200 200 200 200
GET    /services/{name}/runnability                    401 401 401 401 200 200 200 200 200 200
GET    /services/{name}/reviews                        401 401 401 401 200 200 200 200 200 200
POST   /services/{name}/reviews                        401 401 401 401 403 201 201 201 201 201
POST   /catalog/import                                 401 401 401 401 403 403 403 403 200 200
POST   /catalog/publish                                401 401 401 401 403 403 403 403 200 200
GET    /categories                                     401 401 401 401 200 200 200 200 200 200
GET    /tags                                           401 401 401 401 200 200 200 200 200 200
GET    /featured                                       401 401 401 401 200 200 200 200 200 200
GET    /events                                         401 401 401 401 403 200 200 200 200 200
GET    /deployments                                    401 401 401 401 200 200 200 200 200 200
POST   /deployments                                    401 401 401 401 403 201 201 201 201 201
GET    /logs                                           401 401 401 401 200 200 200 200 200 200
GET    /logs?deployment=olga/app                       401 401 401 401 404 404 403 200 200 200
GET    /logs/export                                    401 401 401 401 200 200 200 200 200 200
GET    /logs/follow                                    401 401 401 401 403 200 200 200 200 200
GET    /deployments/{name}                             401 401 401 401 404 404 200 200 200 200
DELETE /deployments/{name}                             401 401 401 401 404 404 403 403 204 204
POST   /deployments/{name}/scale                       401 401 401 401 404 404 403 200 200 200
POST   /deployments/{name}/update                      401 401 401 401 404 404 403 200 200 200
POST   /deployments/{name}/configure                   401 401 401 401 404 404 403 403 200 200
POST   /deployments/{name}/rollback                    401 401 401 401 404 404 403 200 200 200
POST   /deployments/{name}/stop                        401 401 401 401 404 404 403 200 200 200
POST   /deployments/{name}/start                       401 401 401 401 404 404 403 200 200 200
PUT    /deployments/{name}/autoscale                   401 401 401 401 404 404 403 200 200 200
GET    /deployments/{name}/history                     401 401 401 401 404 404 403 200 200 200
GET    /deployments/{name}/logs                        401 401 401 401 404 404 403 200 200 200
POST   /deployments/{name}/shares                      401 401 401 401 403 404 403 403 200 200
DELETE /deployments/{name}/shares?user=dave            401 401 401 401 403 404 403 403 200 200
GET    /deployments/{name}/metrics                     401 401 401 401 404 404 200 200 200 200
GET    /deployments/{name}/metrics/history             401 401 401 401 404 404 200 200 200 200
GET    /deployments/{name}/drift                       401 401 401 401 404 404 403 200 200 200
POST   /deployments/{name}/drift/approve               401 401 401 401 404 404 403 200 200 200
PUT    /deployments/{name}/drift/policy                401 401 401 401 404 404 403 200 200 200
GET    /deployments/{name}/sessions                    401 401 401 401 404 404 403 200 200 200
POST   /deployments/{name}/sessions/{session_id}/drain 401 401 401 401 404 404 403 200 200 200
DELETE /deployments/{name}/sessions/{session_id}       401 401 401 401 404 404 403 204 204 204
GET    /deployments/{name}/inspect                     401 401 401 401 404 404 200 200 200 200
GET    /deployments/{name}/definitions                 401 401 401 401 404 404 200 200 200 200
POST   /deployments/{name}/tools/call                  401 401 401 401 404 404 200 200 200 200
GET    /alerts/targets                                 401 401 401 401 403 403 403 403 403 200
POST   /alerts/targets                                 401 401 401 401 403 403 403 403 403 201
DELETE /alerts/targets/{name}                          401 401 401 401 403 403 403 403 403 204
POST   /alerts/targets/{name}/test                     401 401 401 401 403 403 403 403 403 200
GET    /alerts/deliveries                              401 401 401 401 403 403 403 403 403 200
GET    /alerts                                         401 401 401 401 403 200 200 200 200 200
POST   /alerts/{alert_id}/ack                          401 401 401 401 403 404 403 200 200 200
GET    /alerts/silences                                401 401 401 401 403 403 403 403 403 200
POST   /alerts/silences                                401 401 401 401 403 403 403 403 403 201
DELETE /alerts/silences/{silence_id}                   401 401 401 401 403 403 403 403 403 200
GET    /alerts/rules                                   401 401 401 401 403 403 403 403 403 200
POST   /alerts/rules                                   401 401 401 401 403 403 403 403 403 201
DELETE /alerts/rules/{name}                            401 401 401 401 403 403 403 403 403 204
PUT    /alerts/rules/{name}/enabled                    401 401 401 401 403 403 403 403 403 200
GET    /alerts/rules/export                            401 401 401 401 403 403 403 403 403 200
GET    /audit                                          401 401 401 401 403 200 200 200 200 200
GET    /audit/export                                   401 401 401 401 403 200 200 200 200 200
GET    /billing/usage                                  401 401 401 401 200 200 200 200 200 200
GET    /billing/revenue                                401 401 401 401 403 200 200 200 200 200
GET    /billing/metering                               401 401 401 401 403 403 403 403 403 200
GET    /billing/prices/{name}                          401 401 401 401 200 200 200 200 200 200
POST   /billing/prices/{name}                          401 401 401 401 403 403 403 403 201 201
GET    /billing/quotas                                 401 401 401 401 403 200 200 200 200 200
POST   /billing/quotas                                 401 401 401 401 403 403 403 403 201 201
DELETE /billing/quotas/{quota_id}                      401 401 401 401 403 404 404 404 204 204
GET    /billing/invoices                               401 401 401 401 403 200 200 200 200 200
GET    /billing/invoices/{name}                        401 401 401 401 403 403 403 403 403 404
GET    /billing/invoices/{name}/export                 401 401 401 401 403 403 403 403 403 404
POST   /billing/close                                  401 401 401 401 403 403 403 403 403 200
"""

# The deployment's endpoint on the gateway, /mcp/olga/app. The gateway tells a deployment
# that exists from one that does not before it looks at the key (404 even to a client
# without one), so it says why it refuses a key that may not call it (403), rather than
# pretending the deployment is not there. A session is its opener's alone: another
# principal's request in it is 404, as if it had ended.
GATEWAY_MATRIX = """
request                                                ano wrg rev exp scp oth cal opr own adm
POST   initialize                                      401 401 401 401 403 403 200 200 200 200
POST   tools/call                                      401 401 401 401 403 403 200 200 200 200
GET    in-own-session                                  401 401 401 401 403 403 200 200 200 200
DELETE own-session                                     401 401 401 401 403 403 200 200 200 200
DELETE owner-session                                   401 401 401 401 403 403 404 404 200 404
GET    /healthz                                        200 200 200 200 200 200 200 200 200 200
"""

# Who finds olga's deployment "app" in their list of deployments (a 200 that must leak
# nothing): neither her key limited to another deployment nor a user she shares nothing with.
LISTED = {
    "scoped": False,
    "other": False,
    "caller": True,
    "operator": True,
    "owner": True,
    "admin": True,
}

# The gateway requests that change something when allowed: a session opened or ended.
GATEWAY_CHANGES = {"POST initialize", "DELETE own-session", "DELETE owner-session"}

DEPLOYMENT_CREATE = {
    "service": SERVICE,
    "version": FIRST,
    "name": "made-{who}",
    "replicas": 0,
    "runtime": "process",
}
IMPORTED = [{"origin": "matrix.json", "text": server_json("io.github.olga/import-{who}")}]
PUBLISHED = {"text": server_json("io.github.olga/publish-{who}")}

# A team invoice of a month gone by, for a team that does not exist.
NOBODYS_INVOICE = "INV-202511-T999999"

CALLS: dict[str, Call] = {
    "POST /users": Call({"name": "made-{who}", "role": "user"}),
    "POST /teams": Call({"name": "made-{who}"}),
    "DELETE /teams/{name}": Call(fresh=World.fresh_team),
    "PUT /teams/{name}/members/{user}": Call({"role": "maintainer"}, fresh=World.fresh_team),
    "DELETE /teams/{name}/members/{user}": Call(fresh=World.fresh_team),
    "POST /keys": Call({"name": "made-{who}"}),
    "POST /alerts/targets": Call({"name": "made-{who}", "url": "http://127.0.0.1:9/hook"}),
    "DELETE /alerts/targets/{name}": Call(fresh=World.fresh_alert_target),
    "POST /alerts/targets/{name}/test": Call(fresh=World.fresh_alert_target),
    "POST /alerts/{alert_id}/ack": Call(fresh=World.fresh_alert),
    "POST /alerts/silences": Call({"matchers": {"alertname": "{who}"}, "duration_s": 3600}),
    "DELETE /alerts/silences/{silence_id}": Call(fresh=World.fresh_silence),
    "POST /alerts/rules": Call({"name": "made{who}", "metric": "errors", "threshold": 1}),
    "DELETE /alerts/rules/{name}": Call(fresh=World.fresh_alert_rule),
    "PUT /alerts/rules/{name}/enabled": Call({"enabled": False}, fresh=World.fresh_alert_rule),
    "POST /keys/{ref}/revoke?user=olga": Call(fresh=World.fresh_key),
    # Each principal sets a secret of their own; olga's is out of everyone else's reach.
    "PUT /secrets/{name}": Call({"value": "v-{who}"}, target="matrix-secret"),
    "DELETE /secrets/{name}": Call(fresh=World.fresh_secret, target=OWN_SECRET),
    # olga's first upload makes the package name hers; the admin's same bytes change nothing.
    "PUT /packages/{registry}/{name}/{version}/{filename}": Call(
        changes=False, target="matrix-package"
    ),
    "POST /services": Call({"name": "made-{who}", "description": "new"}),
    "PATCH /services/{name}": Call({"description": "changed by {who}"}, fresh=World.fresh_service),
    "POST /services/{name}/versions": Call(
        {"version": "2.0.0", "command": ["true"]}, fresh=World.fresh_service
    ),
    "POST /services/{name}/publish": Call(fresh=World.fresh_draft, target=DRAFT),
    "POST /services/{name}/deprecate": Call({"message": "use another"}, fresh=World.fresh_service),
    "POST /services/{name}/reviews": Call({"rating": 4, "comment": "{who}"}),
    "POST /billing/prices/{name}": Call({"per_call": "0.01"}),
    "POST /billing/quotas": Call(
        {
            "scope": "deployment",
            "subject": "olga/app",
            "kind": "requests",
            "period": "day",
            "allowed": "100000",
        }
    ),
    "DELETE /billing/quotas/{quota_id}": Call(fresh=World.fresh_quota),
    # Nobody's invoice: only an admin may look, and finds none.
    "GET /billing/invoices/{name}": Call(changes=False, target=NOBODYS_INVOICE),
    "GET /billing/invoices/{name}/export": Call(changes=False, target=NOBODYS_INVOICE),
    "POST /billing/close": Call({"month": "2025-01"}),
    "POST /catalog/import": Call(IMPORTED),
    "POST /catalog/publish": Call(PUBLISHED),
    "POST /deployments": Call(DEPLOYMENT_CREATE),
    "DELETE /deployments/{name}": Call(fresh=World.fresh_deployment),
    "POST /deployments/{name}/scale": Call({"replicas": 0}, fresh=World.fresh_deployment),
    "POST /deployments/{name}/update": Call({"version": SECOND}, fresh=World.fresh_deployment),
    "POST /deployments/{name}/configure": Call(
        {"config": {"MATRIX": "{who}"}}, fresh=World.fresh_deployment
    ),
    "POST /deployments/{name}/rollback": Call(fresh=World.fresh_updated_deployment),
    "POST /deployments/{name}/stop": Call(fresh=World.fresh_deployment),
    "POST /deployments/{name}/start": Call(fresh=World.fresh_deployment),
    "PUT /deployments/{name}/autoscale": Call({"policy": None}, fresh=World.fresh_deployment),
    "POST /deployments/{name}/drift/approve": Call({"all": True}, changes=False),
    "PUT /deployments/{name}/drift/policy": Call({"policy": "block"}, fresh=World.fresh_deployment),
    "POST /deployments/{name}/shares": Call(
        {"user": BYSTANDER, "role": "operator"}, fresh=World.fresh_deployment
    ),
    "DELETE /deployments/{name}/shares?user=dave": Call(fresh=World.fresh_deployment),
    "POST /deployments/{name}/sessions/{session_id}/drain": Call(fresh=World.fresh_session),
    "DELETE /deployments/{name}/sessions/{session_id}": Call(fresh=World.fresh_session),
    "POST /deployments/{name}/tools/call": Call(
        {"tool": "add", "arguments": {"a": 1, "b": 2}}, changes=False
    ),
}


# -- the backend ---------------------------------------------------------------------------


@pytest.fixture
def _debug_loop() -> None:
    """The loop runs in its ordinary mode here: hundreds of requests under debug mode's
    bookkeeping (a stack captured for every future) take three times as long, and slow
    callbacks are watched by the API's and the backend's focused tests."""


@pytest_asyncio.fixture
async def world(tmp_path: Path, database_url: str) -> AsyncIterator[World]:
    """A backend as the daemon runs it (controller, gateway, local processes), its API
    served, and the world the matrix is tried in."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        gateway_port=0,
        runtime="process",
        deploy=fast_deploy_settings("authz-" + tmp_path.name),
    )
    async with (
        Runtime(settings, migrate=False, background=True) as runtime,
        serving(create_app(runtime)) as live,
        httpx.AsyncClient(base_url=live.url + API, timeout=30) as api,
        gateway_client(runtime) as gateway,
    ):
        yield await build_world(runtime, api, gateway)


# -- the matrix ----------------------------------------------------------------------------


def uncovered_routes(world: World, rows: list[Row], gateway_rows: list[Row]) -> set[str]:
    """Routes of the API and the gateway that no row tries (a new route must be classified)."""
    app = create_app(world.runtime)
    declared = {
        f"{method} {route.path.removeprefix(API).replace(':path', '')}"
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    tried = {f"{row.method} {row.request.split('?')[0]}" for row in rows}
    server = world.runtime.gateway
    assert server is not None
    gateway_paths = {
        route.path
        for route in create_gateway_app(server.gateway).starlette.routes
        if isinstance(route, Route)
    }
    # Requests named by what they send go to the deployment's endpoint.
    tried_gateway = {
        row.request if row.request.startswith("/") else "/mcp/{owner}/{deployment}"
        for row in gateway_rows
    }
    return (declared - tried) | (gateway_paths - tried_gateway)


async def try_api_row(world: World, row: Row, problems: list[str]) -> None:
    """Every principal on one route; refused ones first, and they must change nothing."""
    call = CALLS.get(row.key, READ)
    url = url_of(world, row, call)
    async with unchanged(world, row):
        for who in refused(row):
            note(problems, row, who, await send(world, row.method, url, call.body, who))
    for who in allowed(row):
        target = url_of(world, row, call, await call.fresh(world)) if call.fresh else url
        before = await baseline(world, row, who, call.changes)
        response = await send(world, row.method, target, call.body, who)
        note(problems, row, who, response)
        await saw_change(world, row, who, before, response, problems)


async def try_gateway_row(world: World, row: Row, problems: list[str]) -> None:
    """Every principal on one gateway request; the refused ones must change nothing."""
    async with unchanged(world, row):
        for who in refused(row):
            note(problems, row, who, await send_gateway(world, row, who, world.session))
    for who in allowed(row):
        session = await world.open_session(who) if "session" in row.request else None
        before = await baseline(world, row, who, row.key in GATEWAY_CHANGES)
        response = await send_gateway(world, row, who, session)
        note(problems, row, who, response)
        await saw_change(world, row, who, before, response, problems)


@asynccontextmanager
async def unchanged(world: World, row: Row) -> AsyncIterator[None]:
    """Fail if the block's (refused) requests change anything users can change.

    Reads are not compared: a GET that changed state would be a defect of its own kind.
    """
    if row.method == "GET":
        yield
        return
    before = await snapshot(world)
    yield
    changed = changed_tables(before, await snapshot(world))
    if changed:
        raise AssertionError(f"refused requests changed {', '.join(changed)}")


async def baseline(world: World, row: Row, who: str, changes: bool) -> Snapshot | None:
    """Before the first request a changing row allows: the snapshot to compare with."""
    return await snapshot(world) if changes and who == allowed(row)[0] else None


async def saw_change(
    world: World,
    row: Row,
    who: str,
    before: Snapshot | None,
    response: httpx.Response,
    problems: list[str],
) -> None:
    """Report an allowed change the snapshot does not see: the refusals' comparison must
    look where such a request writes."""
    if before is None or response.status_code != row.expected[who]:
        return
    if not changed_tables(before, await snapshot(world)):
        problems.append(f"{row.key} as {who}: the snapshot sees no change")


async def test_every_route_answers_each_principal_as_the_rules_say(world: World) -> None:
    api_rows, gateway_rows = parse(API_MATRIX), parse(GATEWAY_MATRIX)
    uncovered = uncovered_routes(world, api_rows, gateway_rows)
    assert uncovered == set(), "classify these routes in the matrix"
    assert set(CALLS) <= {row.key for row in api_rows}

    problems: list[str] = []
    rows = [(try_api_row, row) for row in api_rows] + [(try_gateway_row, r) for r in gateway_rows]
    for attempt, row in rows:
        try:
            await attempt(world, row, problems)
        except AssertionError as exc:
            # A refusal that let a change through may leave nothing to try the rest on.
            problems.append(f"{row.key}: {exc} (the rows after it were not tried)")
            break
    assert not problems, "\n".join(problems)
    assert await listing(world) == LISTED


async def listing(world: World) -> dict[str, bool]:
    """Whether each principal who may list deployments finds olga's "app" among them."""
    found = {}
    for who in LISTED:
        response = await world.api.get("/deployments", headers=world.headers[who])
        addresses = {d["address"] for d in response.json()}
        found[who] = bool(addresses & {DEPLOYMENT, f"{OWNER}/{DEPLOYMENT}"})
    return found
