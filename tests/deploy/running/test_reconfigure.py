"""A running deployment's settings change in place: checked as on create, secrets (given or
stored by name) never shown, the instances replaced by a rolling restart that keeps the old
one serving until the new one is healthy; another user's stored secret is out of reach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import docker
import pytest

from mcp_console.backend.deploy.event_audience import EventAudience
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import (
    DeploymentCreate,
    DeploymentDetail,
    DeploymentReconfigure,
    RuntimeChoice,
    ShareCreate,
    ShareRole,
)
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Role, UserCreate

from ..catalogs import (
    SECRET_SCHEMA,
    SETTLE_TIMEOUT,
    all_healthy,
    image_version,
    pid_of_instance,
    process_version,
    publish,
    wait_for,
)
from .conftest import in_thread, scope_containers

OLD_TOKEN = "first-token-2c9d41a7"
NEW_TOKEN = "stored-token-7e18b05f"


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = [item.decode().partition("=") for item in raw.split(b"\0") if item]
    return {name: value for name, _, value in pairs}


async def test_config_and_a_stored_secret_change_in_place_with_a_rolling_restart(
    live: Runtime,
) -> None:
    admin = await publish(live, "svc", process_version("1.0.0", schema=SECRET_SCHEMA))
    new = DeploymentCreate(
        service="svc",
        name="svc",
        config={"region": "us"},
        secrets={"api_token": OLD_TOKEN},
        runtime=RuntimeChoice.PROCESS,
    )
    await live.deployments.create(admin, new)
    before = await wait_for(live, admin, "svc", all_healthy)
    (old,) = before.instances
    await live.stored_secrets.put(admin, "svc-token", NEW_TOKEN)
    change = DeploymentReconfigure(config={"workers": "4"}, secret_refs={"api_token": "svc-token"})

    planned = await live.deployments.reconfigure(
        admin, "svc", change.model_copy(update={"dry_run": True})
    )
    unchanged = await live.deployments.get(admin, "svc")
    async with live.events.subscribe() as events:
        done = await live.deployments.reconfigure(admin, "svc", change)
        published = [events.get_nowait() for _ in range(events.qsize())]
    # Right after the change the old instance still serves: the new one is not healthy yet.
    serving = {i.name: i.status.value for i in done.deployment.instances}
    # The old instance is retired once the new one is healthy.
    after = await wait_for(live, admin, "svc", lambda d: _replaced(d, old.name))
    again = await live.deployments.reconfigure(admin, "svc", change)
    history = await live.deployments.history(admin, "svc")

    expected = {"config.workers": [2, 4], "secrets.api_token": ["(set)", "(changed)"]}
    assert (planned.dry_run, planned.changes) == (True, expected)
    assert unchanged.config == before.config  # a dry run changes nothing
    assert done.changes == expected
    assert serving[old.name] == "RUNNING"
    (fresh,) = after.instances
    assert fresh.name != old.name
    environ = _environ(pid_of_instance(fresh.name))
    assert (environ["API_TOKEN"], environ["WORKERS"], environ["REGION"]) == (NEW_TOKEN, "4", "us")
    assert after.config["workers"] == 4
    assert again.changes == {}  # the same change again: nothing to do
    assert history[0].action == "configure"
    assert history[0].changes == expected
    (configured,) = [e for e in published if e["type"] == "deployment.configured"]
    assert configured["changed"] == sorted(expected)
    shown = repr([planned, done, after, again, history, published])
    assert OLD_TOKEN not in shown
    assert NEW_TOKEN not in shown


async def test_a_change_is_checked_as_on_create_and_is_the_owner_s_alone(live: Runtime) -> None:
    admin = await publish(live, "svc", process_version("1.0.0", schema=SECRET_SCHEMA))
    await live.deployments.create(
        admin,
        DeploymentCreate(
            service="svc",
            name="svc",
            secrets={"api_token": OLD_TOKEN},
            runtime=RuntimeChoice.PROCESS,
            replicas=0,
        ),
    )
    await live.stored_secrets.put(admin, "svc-token", NEW_TOKEN)
    bob_key = (await live.users.create_user(admin, UserCreate(name="bob", role=Role.USER))).api_key
    bob = await live.users.authenticate(bob_key)

    with pytest.raises(Invalid) as wrong:
        await live.deployments.reconfigure(
            admin, "svc", DeploymentReconfigure(config={"region": "mars"})
        )
    with pytest.raises(Invalid) as unset_required:
        await live.deployments.reconfigure(admin, "svc", DeploymentReconfigure(unset=["api_token"]))
    with pytest.raises(NotFound) as missing:
        await live.deployments.reconfigure(
            admin, "svc", DeploymentReconfigure(secret_refs={"api_token": "nope"})
        )
    with pytest.raises(Invalid) as unpassable:
        await live.deployments.reconfigure(admin, "svc", DeploymentReconfigure(pass_env=["HOME"]))
    mode = await live.deployments.reconfigure(
        admin, "svc", DeploymentReconfigure(session_mode="shared", pass_env=["SSL_CERT_FILE"])
    )
    # Bob sees none of the admin's secrets and cannot put one into a deployment of his;
    # nor do events about his secrets reach an admin's stream.
    assert await live.stored_secrets.list(bob) == []
    secret_event = {"type": "secret.set", "secret": "x", "user_id": bob.user_id}
    assert await EventAudience(live.sessions, bob).allows(secret_event)
    assert not await EventAudience(live.sessions, admin).allows(secret_event)
    with pytest.raises(NotFound) as borrowed:
        await live.deployments.create(
            bob,
            DeploymentCreate(
                service="svc",
                name="mine",
                secret_refs={"api_token": "svc-token"},
                runtime=RuntimeChoice.PROCESS,
                replicas=0,
            ),
        )
    with pytest.raises(NotFound):
        await live.deployments.reconfigure(bob, "admin/svc", DeploymentReconfigure())
    await live.deployments.share(admin, "svc", _operator("bob"))
    with pytest.raises(Forbidden) as operator:
        await live.deployments.reconfigure(
            bob, "admin/svc", DeploymentReconfigure(config={"region": "eu"})
        )

    assert wrong.value.field == "config.region"
    assert unset_required.value.field == "config.api_token"
    assert missing.value.field == "secret_refs.api_token"
    assert "mcp-console secret set nope" in missing.value.message
    assert unpassable.value.field == "pass_env"
    assert mode.changes == {
        "pass_env": [[], ["SSL_CERT_FILE"]],
        "session_mode": ["per-session", "shared"],
    }
    assert (mode.deployment.session_mode, mode.deployment.pass_env) == ("shared", ["SSL_CERT_FILE"])
    assert borrowed.value.field == "secret_refs.api_token"
    assert "only its owner and admins may change its configuration" in operator.value.message
    assert (await live.deployments.get(admin, "svc")).config["region"] == "eu"


def _replaced(detail: DeploymentDetail, old: str) -> bool:
    names = [i.name for i in detail.instances]
    return all_healthy(detail) and len(names) == 1 and names != [old]


def _operator(user: str) -> ShareCreate:
    return ShareCreate(user=user, role=ShareRole.OPERATOR)


async def test_new_limits_reach_every_container_the_warm_one_included(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    docker_scope: str,
    example_image: str,
) -> None:
    admin = await publish(live_docker, "svc", image_version(example_image, "1.0.0"))
    # A stdio server runs per session: a replica and an instance kept warm for a session.
    new = DeploymentCreate(service="svc", name="svc", runtime=RuntimeChoice.DOCKER)
    await live_docker.deployments.create(admin, new)
    await wait_for(live_docker, admin, "svc", all_healthy)
    change = DeploymentReconfigure(memory_limit_mb=96, cpu_limit=0.5)

    done = await live_docker.deployments.reconfigure(admin, "svc", change)
    with anyio.fail_after(SETTLE_TIMEOUT):
        while True:
            containers = await in_thread(scope_containers, docker_client, docker_scope)
            running = [c for c in containers if c.status == "running"]
            limits = {_limits(c.attrs["HostConfig"]) for c in running}
            if len(running) == 2 and limits == {(96 * 2**20, 500_000_000)}:
                break
            await anyio.sleep(0.3)

    assert done.changes == {"cpu_limit": [None, 0.5], "memory_limit_mb": [None, 96]}
    detail = await live_docker.deployments.get(admin, "svc")
    assert (detail.cpu_limit, detail.memory_limit_mb) == (0.5, 96)


def _limits(host_config: dict[str, Any]) -> tuple[int, int]:
    return host_config["Memory"], host_config["NanoCpus"]
