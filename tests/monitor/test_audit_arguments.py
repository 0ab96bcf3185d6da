"""A tool call's arguments in the audit trail, as its deployment's policy says: a digest, a
redacted copy (secret-looking keys and the deployment's secrets masked), or nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import select, update

from mcp_console.backend.db.models import AuditEvent, ServiceDeployment
from mcp_console.backend.deploy.secretstore import DeploymentSecrets
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.monitor.audit_arguments import MAX_DEPTH, redacted
from mcp_console.backend.monitor.audit_recorder import AuditRecorder
from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.audit import AUDIT_POLICY_EVENT, AuditArguments, AuditEntry, AuditQuery
from mcp_console.schemas.catalog import ServiceCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.users import Principal
from tests.deploy.catalogs import SECRET_SCHEMA, SETTLE_TIMEOUT, all_healthy, process_version
from tests.deploy.catalogs import wait_for as settled
from tests.monitor.served import serving_backend  # noqa: F401
from tests.monitor.test_audit_calls import calls

SECRET = "tok-Arg5-s3cret-9Q"
KEY_VALUE = "k-hidden-Zq81x"
CALL_FIELDS = {"outcome", "status", "latency_ms"}


def admin_of(backend: Runtime) -> Principal:
    admin = backend.local_admin
    assert admin is not None
    return admin


async def deployed(
    backend: Runtime,
    name: str,
    policy: AuditArguments = AuditArguments.DIGEST,
    secrets: dict[str, str] | None = None,
) -> tuple[str, str]:
    """A healthy deployment of the example server under ``policy``: its endpoint and a key."""
    admin = admin_of(backend)
    schema = SECRET_SCHEMA if secrets else None
    await backend.catalog.register(admin, ServiceCreate(name=name, description="audited"))
    await backend.catalog.add_version(admin, name, process_version("1.0.0", schema=schema))
    await backend.catalog.publish(admin, name)
    new = DeploymentCreate(
        service=name,
        name=name,
        runtime=RuntimeChoice.PROCESS,
        secrets=secrets or {},
        audit_arguments=policy,
    )
    await backend.deployments.create(admin, new)
    detail = await settled(backend, admin, name, all_healthy)
    assert detail.endpoint_url is not None
    assert detail.audit_arguments is policy
    key = await backend.users.create_key(admin, admin.name, label=name)
    return detail.endpoint_url, key


async def tool_calls(backend: Runtime) -> list[AuditEntry]:
    """Every tool call in the trail, oldest first."""
    entries = await backend.audit.events(admin_of(backend), AuditQuery(kind="tool.call"))
    return list(reversed(entries))


def canonical_sha256(arguments: dict[str, Any]) -> str:
    text = json.dumps(arguments, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def test_the_same_arguments_in_any_key_order_give_the_same_digest(backend: Runtime) -> None:
    endpoint, key = await deployed(backend, "calc")

    await calls(endpoint, key, ("add", {"a": 2, "b": 3}), ("add", {"b": 3, "a": 2}))
    await calls(endpoint, key, ("add", {"a": 2, "b": 4}))

    first, reordered, other = [e.detail for e in await tool_calls(backend)]
    assert first["arguments_sha256"] == canonical_sha256({"a": 2, "b": 3})
    assert reordered["arguments_sha256"] == first["arguments_sha256"]
    assert other["arguments_sha256"] == canonical_sha256({"a": 2, "b": 4})
    assert other["arguments_sha256"] != first["arguments_sha256"]
    # A digest keeps nothing of the arguments themselves.
    assert set(first) == CALL_FIELDS | {"arguments_sha256"}


async def test_redacted_arguments_mask_secret_keys_and_the_deployments_secrets(
    backend: Runtime, database_url: str
) -> None:
    endpoint, key = await deployed(
        backend, "vault", AuditArguments.REDACTED, secrets={"api_token": SECRET}
    )

    await calls(
        endpoint,
        key,
        ("echo", {"text": f"my token is {SECRET}, keep it", "apiKey": KEY_VALUE}),
        ("echo", {"text": "x" * 500}),
    )

    masked, long = [e.detail for e in await tool_calls(backend)]
    assert masked["arguments"] == {"text": f"my token is {MASK}, keep it", "apiKey": MASK}
    assert long["arguments"]["text"] == "x" * 200 + "…"
    assert "arguments_sha256" not in masked
    # Neither value was written anywhere in the trail, nor (SQLite) in the database's files.
    async with backend.sessions() as session:
        details = (await session.execute(select(AuditEvent.detail))).scalars().all()
    stored = json.dumps(details)
    assert SECRET not in stored
    assert KEY_VALUE not in stored
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        files = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert SECRET.encode() not in files
        assert KEY_VALUE.encode() not in files


async def test_none_keeps_nothing_of_the_arguments(backend: Runtime) -> None:
    endpoint, key = await deployed(backend, "quiet", AuditArguments.NONE)

    await calls(endpoint, key, ("echo", {"text": "not kept"}))

    [call] = await tool_calls(backend)
    assert set(call.detail) == CALL_FIELDS
    assert call.target == "echo"


async def test_a_policy_change_applies_to_the_calls_after_it(backend: Runtime) -> None:
    admin = admin_of(backend)
    endpoint, key = await deployed(backend, "calc")

    await calls(endpoint, key, ("add", {"a": 1, "b": 1}))
    redacted = await backend.deployments.update(
        admin, "calc", audit_arguments=AuditArguments.REDACTED
    )
    await calls(endpoint, key, ("add", {"a": 1, "b": 2}))
    await backend.deployments.update(admin, "calc", audit_arguments=AuditArguments.NONE)
    await calls(endpoint, key, ("add", {"a": 1, "b": 3}))

    before, during, after = [e.detail for e in await tool_calls(backend)]
    assert before["arguments_sha256"] == canonical_sha256({"a": 1, "b": 1})
    assert during["arguments"] == {"a": 1, "b": 2}
    assert set(after) == CALL_FIELDS
    # The change is a change of the trail's own, and of the deployment's history; the
    # version it runs stays.
    assert redacted.audit_arguments is AuditArguments.REDACTED
    assert redacted.version == "1.0.0"
    assert redacted.target_version is None
    changes = await backend.audit.events(admin, AuditQuery(kind=AUDIT_POLICY_EVENT))
    assert [(e.target, e.detail) for e in reversed(changes)] == [
        ("calc", {"policy": "redacted", "before": "digest"}),
        ("calc", {"policy": "none", "before": "redacted"}),
    ]
    history = await backend.deployments.history(admin, "calc")
    assert [e.changes for e in history if e.action == "audit"] == [
        {"audit_arguments": ["redacted", "none"]},
        {"audit_arguments": ["digest", "redacted"]},
    ]


async def test_a_body_that_is_no_json_leaves_the_trail_going(backend: Runtime) -> None:
    endpoint, key = await deployed(backend, "calc")
    headers = {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": "add",
    }
    async with httpx2.AsyncClient(timeout=SETTLE_TIMEOUT) as http:
        broken = await http.post(endpoint, content=b"{not json at all", headers=headers)

    await calls(endpoint, key, ("add", {"a": 5, "b": 5}))

    unreadable, fine = await tool_calls(backend)
    assert broken.status_code >= 400
    assert unreadable.target == "add"
    assert unreadable.detail["arguments"] == "unreadable"
    assert fine.detail["arguments_sha256"] == canonical_sha256({"a": 5, "b": 5})


def call(tool: str, body: bytes | None, deployment_id: int) -> RequestRecord:
    """A finished ``tools/call`` as the gateway hands it to its meter taps."""
    return RequestRecord(
        deployment_id, "i-1", 1, "tools/call", tool, 200, False, 1.0, 0, 0, 0.0, body=body
    )


def body(arguments: dict[str, Any] | None) -> bytes:
    params: dict[str, Any] = {"name": "add"}
    if arguments is not None:
        params["arguments"] = arguments
    return json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    ).encode()


async def test_one_batch_keeps_each_call_under_the_policy_in_force_when_it_was_made(
    backend: Runtime,
) -> None:
    admin = admin_of(backend)
    await deployed(backend, "calc")
    detail = await backend.deployments.update(
        admin, "calc", audit_arguments=AuditArguments.REDACTED
    )
    # A recorder that has not seen the deployment yet: the database already says redacted,
    # but the first call was made before the change reached it.
    recorder = AuditRecorder(backend.sessions, DeploymentSecrets(backend.settings))
    change = {"type": AUDIT_POLICY_EVENT, "deployment": "calc", "deployment_id": detail.id}
    recorder.record(call("before", body({"b": 1, "a": 2}), detail.id))
    recorder.note({**change, "policy": "redacted", "before": "digest"})
    recorder.record(call("during", body({"password": "hunter22", "n": 1}), detail.id))
    recorder.record(call("spaced", b'{ "params" : {"arguments": {"n":  1,"password":"x"}}}', 0))
    recorder.record(call("unreadable", b"\xff\xfe not json", detail.id))
    recorder.record(call("no-arguments", body(None), detail.id))
    recorder.note({**change, "policy": "none", "before": "redacted"})
    recorder.record(call("after", body({"a": 3}), detail.id))

    assert await recorder.flush() == 8

    async with backend.sessions() as session:
        rows = (
            await session.execute(
                select(AuditEvent.target, AuditEvent.detail)
                .where(AuditEvent.kind == "tool.call")
                .order_by(AuditEvent.id)
            )
        ).all()
    kept = {target: {k: v for k, v in d.items() if k not in CALL_FIELDS} for target, d in rows}
    assert kept == {
        "before": {"arguments_sha256": canonical_sha256({"a": 2, "b": 1})},
        "during": {"arguments": {"password": MASK, "n": 1}},
        # A deployment the database does not know: the default, a digest.
        "spaced": {"arguments_sha256": canonical_sha256({"password": "x", "n": 1})},
        "unreadable": {"arguments": "unreadable"},
        "no-arguments": {},
        "after": {},
    }


async def test_a_change_written_alone_applies_to_the_calls_of_later_batches(
    backend: Runtime,
) -> None:
    admin = admin_of(backend)
    await deployed(backend, "calc")
    recorder = AuditRecorder(backend.sessions, DeploymentSecrets(backend.settings))
    deployment_id = (await backend.deployments.get(admin, "calc")).id
    change = {"type": AUDIT_POLICY_EVENT, "deployment": "calc", "deployment_id": deployment_id}

    recorder.record(call("first", body({"a": 1}), deployment_id))
    written = [await recorder.flush()]
    await backend.deployments.update(admin, "calc", audit_arguments=AuditArguments.REDACTED)
    recorder.note({**change, "policy": "redacted", "before": "digest"})
    written.append(await recorder.flush())
    recorder.record(call("second", body({"a": 2}), deployment_id))
    written.append(await recorder.flush())

    assert written == [1, 1, 1]
    async with backend.sessions() as session:
        rows: dict[str, dict[str, Any]] = dict(
            (
                await session.execute(
                    select(AuditEvent.target, AuditEvent.detail).where(
                        AuditEvent.target.in_(["first", "second"])
                    )
                )
            ).all()
        )
    assert rows["first"]["arguments_sha256"] == canonical_sha256({"a": 1})
    assert rows["second"]["arguments"] == {"a": 2}


async def test_a_change_made_by_another_console_applies_from_the_next_batch(
    backend: Runtime,
) -> None:
    admin = admin_of(backend)
    await deployed(backend, "calc")
    recorder = AuditRecorder(backend.sessions, DeploymentSecrets(backend.settings))
    deployment_id = (await backend.deployments.get(admin, "calc")).id

    recorder.record(call("first", body({"a": 1}), deployment_id))
    await recorder.flush()
    # Another console on the same database: the row changes, no event reaches this one.
    async with backend.sessions.begin() as session:
        await session.execute(
            update(ServiceDeployment)
            .where(ServiceDeployment.id == deployment_id)
            .values(audit_arguments="none")
        )
    recorder.record(call("second", body({"a": 2}), deployment_id))
    await recorder.flush()

    async with backend.sessions() as session:
        found = await session.execute(
            select(AuditEvent.target, AuditEvent.detail).where(
                AuditEvent.target.in_(["first", "second"])
            )
        )
        rows: dict[str, dict[str, Any]] = dict(found.all())
    assert rows["first"]["arguments_sha256"] == canonical_sha256({"a": 1})
    assert set(rows["second"]) == CALL_FIELDS


def test_a_redacted_copy_is_bounded_and_masks_secrets_wherever_they_are() -> None:
    deep: Any = "bottom"
    for _ in range(12):
        deep = {"level": deep}
    arguments = {
        "items": list(range(60)),
        "deep": deep,
        "pin": 73914682,
        "client-secret": {"any": "shape"},
        "nested": [{"authToken": "y", "note": f"says {SECRET}"}],
        f"{SECRET}": 1,
    }

    copy = redacted(arguments, (SECRET, "73914682"))

    assert copy["items"] == [*range(50), "… 10 more"]
    assert json.dumps(copy).count("level") == MAX_DEPTH  # and below them, a cut
    assert "bottom" not in json.dumps(copy)
    assert copy["pin"] == MASK
    assert copy["client-secret"] == MASK
    assert copy["nested"] == [{"authToken": MASK, "note": f"says {MASK}"}]
    assert copy[MASK] == 1
    assert SECRET not in json.dumps(copy)
