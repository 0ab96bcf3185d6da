"""The audit trail: every change leaves exactly one event, by whom and from where, no secret."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from mcp_console.backend.db.models import AuditEvent
from mcp_console.backend.ports import LoadSample
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.alerts import Comparison, RuleCreate, SilenceCreate, TargetCreate
from mcp_console.schemas.audit import AuditEntry, AuditQuery
from mcp_console.schemas.catalog import ReviewCreate, ServiceCreate, ServiceUpdate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice, ShareCreate
from mcp_console.schemas.drift import DriftPolicy
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.users import KeyCreate, Principal, Role, TeamCreate, UserCreate
from tests.deploy.catalogs import SECRET_SCHEMA, process_version

SECRET_VALUE = "tok-Aud1t-s3cret-value"
TARGET_TOKEN = "hooksecret-9f8e7d"
WEBHOOK_KEY = "signing-key-0a1b2c"
POLICY = {
    "min_replicas": 1,
    "max_replicas": 3,
    "target_inflight": 2,
    "scale_up_cooldown_s": 0,
    "scale_down_cooldown_s": 0,
}


class Busy:
    """A load source reporting a deployment far over its target."""

    def sample(self, deployment_id: int) -> LoadSample | None:
        return LoadSample(at=time.monotonic(), inflight=50.0, rps=0.0, healthy_instances=1)


def document(name: str) -> str:
    """A server.json of a hosted server (nothing to run here)."""
    return json.dumps(
        {
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": name,
            "description": "hosted elsewhere",
            "version": "1.0.0",
            "remotes": [{"type": "streamable-http", "url": "https://example.com/mcp"}],
        }
    )


async def every_change(runtime: Runtime, admin: Principal, bob: Principal) -> dict[str, str]:
    """One of each change the console makes, by the admin or bob; their secrets by name."""
    catalog, deployments = runtime.catalog, runtime.deployments
    await catalog.register(admin, ServiceCreate(name="svc", description="audited"))
    await catalog.add_version(admin, "svc", process_version("1.0.0", schema=SECRET_SCHEMA))
    await catalog.add_version(admin, "svc", process_version("1.1.0", schema=SECRET_SCHEMA))
    await catalog.update(admin, "svc", ServiceUpdate(description="audited, really"))
    await catalog.publish(admin, "svc")
    await catalog.add_review(bob, "svc", ReviewCreate(rating=5, comment="fine"))
    await catalog.register(admin, ServiceCreate(name="draft", description="never published"))
    await catalog.delete_draft(admin, "draft")
    await catalog.register(admin, ServiceCreate(name="old", description="to deprecate"))
    await catalog.add_version(admin, "old", process_version("1.0.0"))
    await catalog.publish(admin, "old")
    await catalog.deprecate(admin, "old", "use svc")
    await catalog.publish_document(admin, document("io.example/hosted"), "hosted.json")

    new = DeploymentCreate(
        service="svc",
        version="1.0.0",
        name="web",
        runtime=RuntimeChoice.PROCESS,
        secrets={"api_token": SECRET_VALUE},
    )
    await deployments.create(admin, new)
    await deployments.scale(admin, "web", 2)
    await deployments.set_autoscale(admin, "web", POLICY)
    await runtime.controller.autoscale(Busy())
    await runtime.controller.autoscale(Busy())  # the second busy sample acts
    await deployments.set_autoscale(admin, "web", None)
    await deployments.update(admin, "web", "1.1.0")
    await deployments.rollback(admin, "web")
    await deployments.stop(admin, "web")
    await deployments.start(admin, "web")
    await deployments.share(admin, "web", ShareCreate(user="bob"))
    await deployments.unshare(admin, "web", user="bob")
    await runtime.drift.set_policy(admin, "web", DriftPolicy.BLOCK)
    await runtime.drift.set_policy(admin, "web", DriftPolicy.BLOCK)  # no change: no event

    made = await runtime.keys.create(bob, KeyCreate(name="laptop"))
    await runtime.keys.revoke(bob, "laptop")
    await runtime.teams.create(admin, TeamCreate(name="ops"))
    await runtime.teams.add_member(admin, "ops", "bob")
    await runtime.teams.remove_member(admin, "ops", "bob")
    await runtime.teams.delete(admin, "ops")

    rule = RuleCreate(name="Slow", metric="p95_ms", op=Comparison.GT, threshold=500)
    await runtime.alert_rules.add(admin, rule)
    await runtime.alert_rules.set_enabled(admin, "Slow", False)
    await runtime.alert_rules.set_enabled(admin, "Slow", False)  # no change: no event
    await runtime.alert_rules.set_enabled(admin, "Slow", True)
    await runtime.alert_rules.remove(admin, "Slow")
    silence = await runtime.alerts.silence(
        admin, SilenceCreate(matchers={"deployment": "web"}, duration_s=3600)
    )
    await runtime.alerts.expire_silence(admin, silence.id)
    url = f"https://hooks.example.com/in/{TARGET_TOKEN}"
    await runtime.notifications.add_target(
        admin, TargetCreate(name="hook", url=url, secret=WEBHOOK_KEY)
    )
    await runtime.notifications.remove_target(admin, "hook")
    await deployments.delete(admin, "web")
    return {
        "config secret": SECRET_VALUE,
        "api key": made.api_key,
        "target URL": TARGET_TOKEN,
        "signing key": WEBHOOK_KEY,
    }


EXPECTED = {
    # kind: (actor, target, deployment)
    "service.registered": None,  # three services: counted apart
    "version.added": None,
    "service.updated": ("admin", "svc", None),
    "service.published": None,
    "review.added": ("bob", "svc", None),
    "service.deleted": ("admin", "draft", None),
    "service.deprecated": ("admin", "old", None),
    "catalog.imported": ("admin", "", None),
    "deployment.created": ("admin", "web", "web"),
    "deployment.scaled": None,  # once by the admin, once by the controller
    "deployment.autoscale": None,
    "deployment.updating": ("admin", "web", "web"),
    "deployment.rollback": ("admin", "web", "web"),
    "deployment.stopping": ("admin", "web", "web"),
    "deployment.starting": ("admin", "web", "web"),
    "deployment.shared": ("admin", "web", "web"),
    "deployment.unshared": ("admin", "web", "web"),
    "deployment.deleting": ("admin", "web", "web"),
    "deployment.drift.policy": ("admin", "web", "web"),
    "key.created": ("bob", "laptop", None),
    "key.revoked": ("bob", "laptop", None),
    "team.created": ("admin", "ops", None),
    "team.member-set": ("admin", "ops", None),
    "team.member-removed": ("admin", "ops", None),
    "team.deleted": ("admin", "ops", None),
    "alert.rule.added": ("admin", "Slow", None),
    "alert.rule.disabled": ("admin", "Slow", None),
    "alert.rule.enabled": ("admin", "Slow", None),
    "alert.rule.removed": ("admin", "Slow", None),
    "alert.silenced": None,
    "alert.silence.ended": None,
    "alert.target.added": ("admin", "hook", None),
    "alert.target.removed": ("admin", "hook", None),
}


async def user(runtime: Runtime, admin: Principal, name: str, role: Role) -> Principal:
    """A user the admin made, acting with their key (as through the API)."""
    created = await runtime.users.create_user(admin, UserCreate(name=name, role=role))
    return await runtime.users.authenticate(created.api_key)


@pytest.fixture
async def people(runtime: Runtime) -> tuple[Principal, Principal]:
    admin = runtime.local_admin
    assert admin is not None
    return admin, await user(runtime, admin, "bob", Role.USER)


async def trail(runtime: Runtime, actor: Principal, **filters: object) -> list[AuditEntry]:
    return await runtime.audit.events(actor, AuditQuery.model_validate(filters))


async def test_every_change_leaves_one_event_with_its_actor_and_no_secret(
    runtime: Runtime, people: tuple[Principal, Principal], database_url: str
) -> None:
    admin, bob = people
    secrets = await every_change(runtime, admin, bob)

    events = await trail(runtime, admin, limit=1000)
    kinds = Counter(e.kind for e in events)
    assert kinds == {
        "user.created": 2,  # the local admin (by the console), then bob
        **{kind: 1 for kind, who in EXPECTED.items() if who is not None},
        "service.registered": 3,
        "version.added": 3,
        "service.published": 2,
        "deployment.scaled": 2,
        "deployment.autoscale": 2,
        "alert.silenced": 1,
        "alert.silence.ended": 1,
    }
    by_kind = {e.kind: e for e in events}
    for kind, who in EXPECTED.items():
        if who is not None:
            event = by_kind[kind]
            assert (event.actor, event.target, event.deployment) == who, kind
    # Who, and from where: the local admin from the console, bob with his API key.
    assert {e.via for e in events if e.actor == "admin"} == {"local"}
    assert {e.via for e in events if e.actor == "bob"} == {"api"}
    created = [e for e in events if e.kind == "user.created"]
    assert [(e.actor, e.target, e.via) for e in reversed(created)] == [
        ("console", "admin", None),
        ("admin", "bob", "local"),
    ]
    # The autoscaler's decision is the controller's, with its reason.
    scaled = [e for e in events if e.kind == "deployment.scaled"]
    assert [(e.actor, e.detail["replicas"]) for e in scaled] == [("controller", 3), ("admin", 2)]
    assert scaled[0].via is None
    assert "over target" in scaled[0].detail["reason"]
    # What changed, in a few fields.
    assert by_kind["deployment.updating"].detail == {"version": "1.1.0"}
    assert by_kind["deployment.shared"].detail == {"user": "bob"}
    assert by_kind["deployment.drift.policy"].detail == {"policy": "block"}
    assert by_kind["alert.target.added"].detail == {"kind": "webhook"}
    assert by_kind["alert.rule.added"].detail["threshold"] == 500
    assert by_kind["catalog.imported"].detail["services"] == ["io.example/hosted@1.0.0"]

    # No secret anywhere in the trail; no config secret or key anywhere in (SQLite) the
    # database's files (a target's URL is shown masked by its own table).
    async with runtime.sessions() as session:
        rows = (await session.execute(select(AuditEvent))).scalars().all()
        stored = json.dumps([[r.kind, r.actor, r.target, r.detail] for r in rows])
    assert len(rows) == len(events)
    for what, secret in secrets.items():
        assert secret not in stored, what
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        files = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for what in ("config secret", "api key", "signing key"):
            assert secrets[what].encode() not in files, what


async def test_others_see_their_own_actions_and_what_happened_to_what_they_own(
    runtime: Runtime, people: tuple[Principal, Principal]
) -> None:
    admin, bob = people
    carol = await user(runtime, admin, "carol", Role.AUTHOR)
    await runtime.catalog.register(carol, ServiceCreate(name="svc", description="carol's"))
    await runtime.catalog.add_version(carol, "svc", process_version("1.0.0"))
    await runtime.catalog.publish(carol, "svc")
    new = DeploymentCreate(service="svc", name="web", runtime=RuntimeChoice.PROCESS)
    await runtime.deployments.create(carol, new)
    await runtime.deployments.create(bob, new)
    await runtime.deployments.scale(admin, "carol/web", 2)  # the admin, on carol's
    await runtime.keys.create(bob, KeyCreate(name="bobs"))

    def seen(events: list[AuditEntry]) -> list[tuple[str, str]]:
        return [(e.kind, e.actor) for e in reversed(events)]

    assert seen(await trail(runtime, carol)) == [
        ("service.registered", "carol"),
        ("version.added", "carol"),
        ("service.published", "carol"),
        ("deployment.created", "carol"),
        ("deployment.scaled", "admin"),
    ]
    assert seen(await trail(runtime, bob)) == [
        ("deployment.created", "bob"),
        ("key.created", "bob"),
    ]
    everything = await trail(runtime, admin)
    assert {"carol", "bob", "admin", "console"} == {e.actor for e in everything}


async def test_filters_narrow_the_trail_and_bad_ones_are_named(
    runtime: Runtime, people: tuple[Principal, Principal]
) -> None:
    admin, bob = people
    await runtime.catalog.register(admin, ServiceCreate(name="svc", description="x"))
    await runtime.catalog.add_version(admin, "svc", process_version("1.0.0"))
    await runtime.catalog.publish(admin, "svc")
    for name in ("web", "api"):
        new = DeploymentCreate(service="svc", name=name, runtime=RuntimeChoice.PROCESS)
        await runtime.deployments.create(admin, new)
    await runtime.deployments.scale(admin, "web", 2)
    await runtime.keys.create(bob, KeyCreate(name="k"))
    # One event of long ago (as if written then).
    await runtime.audit_recorder.flush()
    async with runtime.sessions.begin() as session:
        await session.execute(
            update(AuditEvent)
            .where(AuditEvent.kind == "service.registered")
            .values(at=datetime.now(UTC) - timedelta(days=3))
        )

    def kinds(events: list[AuditEntry]) -> list[str]:
        return [e.kind for e in events]

    assert kinds(await trail(runtime, admin, deployment="web")) == [
        "deployment.scaled",
        "deployment.created",
    ]
    assert kinds(await trail(runtime, admin, deployment="admin/api")) == ["deployment.created"]
    assert kinds(await trail(runtime, admin, kind="deployment")) == [
        "deployment.scaled",
        "deployment.created",
        "deployment.created",
    ]
    assert kinds(await trail(runtime, admin, kind="deployment.scaled")) == ["deployment.scaled"]
    assert kinds(await trail(runtime, admin, user="bob")) == ["key.created"]
    assert "service.registered" not in kinds(await trail(runtime, admin, since="1d"))
    assert kinds(await trail(runtime, admin, until="2d")) == ["service.registered"]
    newest_two = await trail(runtime, admin, limit=2)
    assert kinds(newest_two) == ["key.created", "deployment.scaled"]
    after = await trail(runtime, admin, limit=1, before_id=newest_two[-1].id)
    assert kinds(after) == ["deployment.created"]

    with pytest.raises(Invalid, match="no audit event kind 'deploy'") as bad_kind:
        await trail(runtime, admin, kind="deploy")
    assert bad_kind.value.field == "kind"
    with pytest.raises(Invalid, match="since 'yesterday' is neither a duration") as bad_time:
        await trail(runtime, admin, since="yesterday")
    assert bad_time.value.field == "since"
    with pytest.raises(Invalid, match="since must be before until"):
        await trail(runtime, admin, since="1h", until="2h")
    with pytest.raises(NotFound, match="no user named 'nobody'"):
        await trail(runtime, admin, deployment="nobody/web")


async def test_a_value_json_cannot_hold_is_kept_as_text(
    runtime: Runtime, people: tuple[Principal, Principal]
) -> None:
    admin, _ = people
    when = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    runtime.events.publish({"type": "team.changed", "team": "ops", "change": "created", "at": when})
    await runtime.teams.create(admin, TeamCreate(name="dev"))

    [dev, ops] = await trail(runtime, admin, kind="team")
    assert (ops.actor, ops.target, ops.detail) == ("controller", "ops", {"at": str(when)})
    assert (dev.actor, dev.target) == ("admin", "dev")


async def test_retention_removes_only_events_older_than_it(
    runtime: Runtime, people: tuple[Principal, Principal]
) -> None:
    admin, _ = people
    await runtime.teams.create(admin, TeamCreate(name="ops"))
    await runtime.audit_recorder.flush()
    async with runtime.sessions.begin() as session:
        await session.execute(
            update(AuditEvent)
            .where(AuditEvent.kind == "user.created")
            .values(at=datetime.now(UTC) - timedelta(days=400))
        )

    removed = await runtime.audit_recorder.purge(runtime.settings.monitor.audit_retention)

    assert runtime.settings.monitor.audit_retention == timedelta(days=365)
    assert removed == 2  # the admin and bob, written "400 days ago"
    assert [e.kind for e in await trail(runtime, admin)] == ["team.created"]
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 1
