"""The world an authorization matrix runs in: ten principals around one owner's shared
deployment, her teams, keys and services; fresh targets for the changes that are allowed; and
a snapshot of everything a user can change."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select, update

from mcp_console.backend.db.models import (
    Alert,
    AlertDelivery,
    AlertRule,
    AlertSilence,
    AlertTarget,
    ApiKey,
    ApiKeyDeployment,
    DeploymentHistory,
    DeploymentSecret,
    DeploymentShare,
    McpService,
    ServiceDeployment,
    ServiceReview,
    ServiceTag,
    ServiceVersion,
    Team,
    TeamMember,
    User,
)
from mcp_console.backend.db.models_billing import Quota, ServicePrice
from mcp_console.backend.db.models_invoices import ClosedMonth
from mcp_console.backend.db.models_secrets import StoredSecret
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.alerts import RuleCreate, SilenceCreate, TargetCreate
from mcp_console.schemas.catalog import ServiceCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice, ShareCreate, ShareRole
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope, QuotaSet
from mcp_console.schemas.users import KeyCreate, Principal, Role, TeamCreate, UserCreate
from tests.deploy.catalogs import all_healthy, process_version, publish, wait_for
from tests.gateway.helpers import CLIENT_TIMEOUT

# The columns, in order, of the principals the matrix tries every request as.
PRINCIPALS = (
    "anon",  # no Authorization header
    "wrong",  # a key that was never issued
    "revoked",  # the owner's key, revoked
    "expired",  # the owner's key, past its expiry
    "scoped",  # the owner's key, limited to another of her deployments
    "other",  # a user nothing is shared with
    "caller",  # in the team the deployment is shared with as caller
    "operator",  # in the team the deployment is shared with as operator
    "owner",  # the deployment's (and the services', teams' and keys') owner
    "admin",  # the console's administrator
)

OWNER = "olga"
SERVICE = "example"  # the example server, published by the admin, run as a local process
DEPLOYMENT = "app"  # olga's, running, shared with both teams and with ``BYSTANDER``
SPARE = "spare"  # olga's, no replicas, the only deployment the scoped key reaches
CALLERS, OPERATORS = "callers", "operators"  # olga maintains both
BYSTANDER = "dave"  # a member of ``callers`` and a caller of the deployment, never a principal
OWN_SERVICE, DRAFT = "olga-tools", "olga-draft"  # olga's services: published, and a draft
OWN_KEY = "spare-key"  # one of olga's keys, to revoke
OWN_SECRET = "olga-token"  # one of olga's stored secrets, to remove
FIRST, SECOND = "1.0.0", "1.1.0"
# The handshake-era opening of a session, as any MCP client sends it.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "matrix", "version": "1"},
    },
}
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def bearer(key: str) -> dict[str, str]:
    """The header presenting ``key``."""
    return {"Authorization": f"Bearer {key}"}


@dataclass
class World:
    """The backend with its API served, and who is who in it."""

    runtime: Runtime
    api: httpx.AsyncClient
    gateway: httpx.AsyncClient
    headers: dict[str, dict[str, str]]
    users: dict[str, Principal]
    # The owner's open gateway session: refused requests aim at it and must leave it be.
    session: str = ""
    # A firing alert on olga's deployment and an admin's silence: refused requests aim at them.
    alert: int = 0
    silence: int = 0
    # A rate limit olga set on her deployment: refused requests aim at it.
    quota: int = 0
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def endpoint(self) -> str:
        """The path of the deployment's endpoint on the gateway."""
        return f"/mcp/{OWNER}/{DEPLOYMENT}"

    @property
    def owner(self) -> Principal:
        """Olga."""
        return self.users["owner"]

    def fresh_name(self) -> str:
        """A name used by nothing yet."""
        return f"fresh-{next(self._names)}"

    async def open_session(self, who: str) -> str:
        """A new gateway session on the deployment, opened by ``who``."""
        opened = await self.gateway.post(
            self.endpoint, json=INITIALIZE, headers={**ACCEPT, **self.headers[who]}
        )
        assert opened.status_code == 200, opened.text
        return opened.headers["mcp-session-id"]

    # -- fresh targets: each allowed change gets its own, so later rows find the world intact

    async def fresh_deployment(self) -> str:
        """A deployment of olga's shared as the standing one is (no replicas: nothing runs)."""
        name = self.fresh_name()
        await self.deploy(name, replicas=0)
        await self.share_as_standing(name)
        return f"{OWNER}/{name}"

    async def fresh_updated_deployment(self) -> str:
        """A fresh deployment updated once, so there is something to roll back."""
        address = await self.fresh_deployment()
        await self.runtime.deployments.update(self.owner, address, SECOND)
        return address

    async def fresh_team(self) -> str:
        """A team olga maintains, with the caller and the bystander as members."""
        name = self.fresh_name()
        await self.runtime.teams.create(self.owner, TeamCreate(name=name))
        for member in (self.users["caller"].name, BYSTANDER):
            await self.runtime.teams.add_member(self.owner, name, member)
        return name

    async def fresh_alert(self) -> str:
        """A firing CrashLoop alert on olga's deployment, by id."""
        return str(await _firing_alert(self.runtime))

    async def fresh_silence(self) -> str:
        """An admin's silence, by id."""
        new = SilenceCreate(matchers={"alertname": self.fresh_name()}, duration_s=3600)
        return str((await self.runtime.alerts.silence(self.users["admin"], new)).id)

    async def fresh_alert_rule(self) -> str:
        """An admin's rule, by name."""
        name = "R" + self.fresh_name().replace("-", "")
        new = RuleCreate(name=name, metric="errors", threshold=1)
        await self.runtime.alert_rules.add(self.users["admin"], new)
        return name

    async def fresh_alert_target(self) -> str:
        """A notification target (of the admin's) that nothing listens behind."""
        name = self.fresh_name()
        new = TargetCreate(name=name, url="http://127.0.0.1:9/hook")
        await self.runtime.notifications.add_target(self.users["admin"], new)
        return name

    async def fresh_quota(self) -> str:
        """A rate limit of olga's on one tool of her deployment, by id."""
        new = QuotaSet(
            scope=QuotaScope.DEPLOYMENT,
            subject=f"{OWNER}/{DEPLOYMENT}",
            kind=QuotaKind.RATE,
            period=QuotaPeriod.SECOND,
            allowed=Decimal(1000),
            tool=self.fresh_name(),
        )
        return str((await self.runtime.quotas.set_quota(self.owner, new)).id)

    async def fresh_key(self) -> str:
        """A key of olga's, by name."""
        name = self.fresh_name()
        await self.runtime.keys.create(self.owner, KeyCreate(name=name))
        return name

    async def fresh_secret(self) -> str:
        """A stored secret of olga's, by name."""
        name = self.fresh_name()
        await self.runtime.stored_secrets.put(self.owner, name, "value")
        return name

    async def fresh_draft(self) -> str:
        """A draft service of olga's, ready to publish."""
        name = self.fresh_name()
        await self.runtime.catalog.register(self.owner, ServiceCreate(name=name, description="d"))
        await self.runtime.catalog.add_version(self.owner, name, process_version(FIRST))
        return name

    async def fresh_service(self) -> str:
        """A published service of olga's."""
        name = await self.fresh_draft()
        await self.runtime.catalog.publish(self.owner, name)
        return name

    async def fresh_session(self) -> str:
        """A new gateway session of olga's on the deployment."""
        return await self.open_session("owner")

    async def deploy(self, name: str, replicas: int) -> None:
        """Olga deploys the example server's first version as ``name``."""
        new = DeploymentCreate(
            service=SERVICE,
            version=FIRST,
            name=name,
            replicas=replicas,
            runtime=RuntimeChoice.PROCESS,
        )
        await self.runtime.deployments.create(self.owner, new)

    async def share_as_standing(self, name: str) -> None:
        """Share olga's ``name`` as ``app`` is: both teams and the bystander."""
        shares = (
            ShareCreate(team=CALLERS, role=ShareRole.CALLER),
            ShareCreate(team=OPERATORS, role=ShareRole.OPERATOR),
            ShareCreate(user=BYSTANDER, role=ShareRole.CALLER),
        )
        for share in shares:
            await self.runtime.deployments.share(self.owner, name, share)


async def _user(runtime: Runtime, name: str, role: Role) -> tuple[Principal, str]:
    created = await runtime.users.create_user(None, UserCreate(name=name, role=role))
    return await runtime.users.authenticate(created.api_key), created.api_key


async def build_world(
    runtime: Runtime, api: httpx.AsyncClient, gateway: httpx.AsyncClient
) -> World:
    """Olga (an author) and her world: the running deployment ``app`` shared with team
    ``callers`` (as caller: Carol), team ``operators`` (as operator: Oscar) and Dave; a
    deployment ``spare``; her published service, a draft and keys; Eve, who shares nothing."""
    admin = runtime.local_admin
    assert admin is not None
    await publish(runtime, SERVICE, process_version(FIRST, http=True))
    await runtime.catalog.add_version(admin, SERVICE, process_version(SECOND, http=True))
    olga, olga_key = await _user(runtime, OWNER, Role.AUTHOR)
    users = {"owner": olga, "admin": admin}
    keys = {
        "owner": olga_key,
        "admin": await runtime.users.create_key(admin, admin.name),
        "wrong": "mcpc_" + "x" * 43,
    }
    for who, name in (("other", "eve"), ("caller", "carol"), ("operator", "oscar")):
        users[who], keys[who] = await _user(runtime, name, Role.USER)
    await _user(runtime, BYSTANDER, Role.USER)

    teams = runtime.teams
    for team, member in ((CALLERS, "caller"), (OPERATORS, "operator")):
        await teams.create(olga, TeamCreate(name=team))
        await teams.add_member(olga, team, users[member].name)
    await teams.add_member(olga, CALLERS, BYSTANDER)

    world = World(runtime, api, gateway, {}, users)
    await world.deploy(DEPLOYMENT, replicas=1)
    await world.share_as_standing(DEPLOYMENT)
    await world.deploy(SPARE, replicas=0)

    await runtime.catalog.register(olga, ServiceCreate(name=DRAFT, description="a draft"))
    await runtime.catalog.add_version(olga, DRAFT, process_version(FIRST))
    await runtime.catalog.register(olga, ServiceCreate(name=OWN_SERVICE, description="tools"))
    await runtime.catalog.add_version(olga, OWN_SERVICE, process_version(FIRST))
    await runtime.catalog.publish(olga, OWN_SERVICE)

    await runtime.keys.create(olga, KeyCreate(name=OWN_KEY))
    await runtime.stored_secrets.put(olga, OWN_SECRET, "value")
    keys["scoped"] = (
        await runtime.keys.create(olga, KeyCreate(name="agent", deployments=[SPARE]))
    ).api_key
    keys["revoked"] = (await runtime.keys.create(olga, KeyCreate(name="gone"))).api_key
    await runtime.keys.revoke(olga, "gone")
    expiring = await runtime.keys.create(olga, KeyCreate(name="old", expires_in="1d"))
    keys["expired"] = expiring.api_key
    async with runtime.sessions.begin() as session:
        past = expiring.key.created_at - timedelta(minutes=1)
        await session.execute(
            update(ApiKey).where(ApiKey.id == expiring.key.id).values(expires_at=past)
        )

    world.headers = {who: bearer(key) for who, key in keys.items()} | {"anon": {}}
    await wait_for(runtime, olga, DEPLOYMENT, all_healthy)
    world.session = await world.open_session("owner")
    world.alert = await _firing_alert(runtime)
    world.silence = int(await world.fresh_silence())
    world.quota = int(await world.fresh_quota())
    return world


async def _firing_alert(runtime: Runtime) -> int:
    """A firing CrashLoop alert on olga's ``app``, as the engine would have raised it."""
    async with runtime.sessions.begin() as session:
        rule = await session.scalar(select(AlertRule).where(AlertRule.name == "CrashLoop"))
        deployment = await session.scalar(
            select(ServiceDeployment.id).where(ServiceDeployment.deployment_name == DEPLOYMENT)
        )
        assert rule is not None
        assert deployment is not None
        now = datetime.now(UTC)
        alert = Alert(
            rule_id=rule.id,
            deployment_id=deployment,
            fingerprint=f"test-{now.timestamp()}",
            labels={"alertname": "CrashLoop", "severity": "critical", "deployment": "olga/app"},
            state="firing",
            value=1,
            started_at=now,
            fired_at=now,
        )
        session.add(alert)
        await session.flush()
        return alert.id


# -- what users can change ---------------------------------------------------------------------

# Every table a request can change, whole, but for what the console itself keeps up to date:
# a key's last use, a deployment's progress (status, versions, instances, endpoint), the
# controller's own history entries, and traffic records.
_EXCLUDED: dict[str, set[str]] = {
    ApiKey.__tablename__: {"last_used_at"},
    # The alert engine moves alerts on and the deliverer retries notifications by itself.
    Alert.__tablename__: {
        "value",
        "state",
        "fired_at",
        "clear_since",
        "resolved_at",
        "notified_at",
    },
    AlertDelivery.__tablename__: {
        "state",
        "attempts",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    },
    ServiceDeployment.__tablename__: {
        "status",
        "status_reason",
        "endpoint_url",
        "driver",
        "version_id",
        "previous_version_id",
        "target_version_id",
        "rollout_deadline",
        "updated_at",
    },
}
_TABLES = [
    User.metadata.tables[model.__tablename__]
    for model in (
        User,
        ApiKey,
        ApiKeyDeployment,
        Team,
        TeamMember,
        DeploymentShare,
        ServiceDeployment,
        DeploymentHistory,
        DeploymentSecret,
        StoredSecret,
        McpService,
        ServiceVersion,
        ServiceTag,
        ServiceReview,
        AlertTarget,
        AlertDelivery,
        AlertRule,
        Alert,
        AlertSilence,
        ServicePrice,
        ClosedMonth,
        Quota,
    )
]

Snapshot = dict[str, Any]


async def snapshot(world: World) -> Snapshot:
    """Every row users can change, and the gateway sessions that are open."""
    tables: Snapshot = {}
    async with world.runtime.sessions() as session:
        for table in _TABLES:
            excluded = _EXCLUDED.get(table.name, set())
            columns = [c for c in table.columns if c.name not in excluded]
            query = select(*columns).order_by(*table.primary_key.columns)
            if table.name == DeploymentHistory.__tablename__:
                query = query.where(DeploymentHistory.automatic.is_(False))
            tables[table.name] = [tuple(row) for row in await session.execute(query)]
    server = world.runtime.gateway
    assert server is not None
    # Draining sessions end by themselves a little later: only the open ones are compared.
    tables["gateway sessions"] = sorted(
        (s.id, s.deployment_id, s.user_id)
        for s in server.gateway.list_sessions()
        if s.state == "active"
    )
    return tables


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    """The names of the tables whose rows differ."""
    return [name for name in before if before[name] != after[name]]


def gateway_client(runtime: Runtime) -> httpx.AsyncClient:
    """A client for the runtime's gateway."""
    assert runtime.gateway_url is not None
    return httpx.AsyncClient(base_url=runtime.gateway_url, timeout=CLIENT_TIMEOUT)
