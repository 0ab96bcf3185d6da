"""``deploy … --wait`` follows a deployment until it settles, printing what it is doing
(image pull progress, status, why it failed) on stderr; ``--registry-user`` gives a login."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import typer

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.deploy import PROGRESS_EVENTS, DeploymentDetail, DeploymentStatus
from mcp_console.schemas.errors import ConsoleError
from mcp_console.schemas.registry import RegistryLogin

POLL_SECONDS = 0.5
# A first pull of a big image on a slow link takes minutes; stop waiting, not deploying.
WAIT_SECONDS = 900.0

WAIT_OPTION = typer.Option(
    False,
    "--wait",
    help="Follow it until it is healthy or has failed, showing image pull progress.",
)
REGISTRY_USER = typer.Option(
    None,
    "--registry-user",
    help="Pull the image with this registry login (you are asked for the password; it is "
    "stored encrypted and never shown).",
)
REGISTRY_PASSWORD_STDIN = typer.Option(
    False, "--registry-password-stdin", help="Read the registry password from stdin."
)
REGISTRY = typer.Option(
    None, "--registry", help="The registry the login is for (default: the image's own)."
)


def registry_login(
    user: str | None, password_stdin: bool, registry: str | None
) -> RegistryLogin | None:
    """The login given on the command line (the password asked for, or read from stdin)."""
    if user is None:
        return None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"registry password of {user}", hide_input=True)
    return RegistryLogin.model_validate(
        {"registry": registry, "username": user, "password": password}
    )


def settled(detail: DeploymentDetail) -> bool:
    """Healthy on the version it should run, or failed for good."""
    if detail.status is DeploymentStatus.FAILED:
        return True
    if detail.target_version is not None:
        return False
    return detail.status is DeploymentStatus.RUNNING and detail.ready_replicas >= detail.replicas


def _line(detail: DeploymentDetail) -> str:
    head = f"{detail.status.value} {detail.version} {detail.ready_replicas}/{detail.replicas} ready"
    return f"{head}: {detail.status_reason}" if detail.status_reason else head


async def follow(
    client: ConsoleClient,
    action: Callable[[ConsoleClient], Awaitable[DeploymentDetail]],
    *,
    timeout: float = WAIT_SECONDS,  # noqa: ASYNC109 (a bound on waiting, not on a call)
) -> DeploymentDetail:
    """Run ``action``, then follow its deployment until it settles: each change of its
    status and image pull progress as it comes (from the event stream); returns the last
    view of it."""
    async with client.events() as stream:
        detail = await action(client)
        events = aiter(stream)
        pending: asyncio.Future[dict[str, Any]] | None = asyncio.ensure_future(anext(events))
        deadline = time.monotonic() + timeout
        polled = time.monotonic()
        shown = pulled = ""
        try:
            while True:
                line = _line(detail)
                if line != shown and not (pulled and line.endswith(pulled)):
                    typer.echo(line, err=True)
                    shown = line
                if settled(detail) or time.monotonic() >= deadline:
                    break
                if pending is None:
                    await asyncio.sleep(POLL_SECONDS)
                elif (await asyncio.wait({pending}, timeout=POLL_SECONDS))[0]:
                    try:
                        event = pending.result()
                        pending = asyncio.ensure_future(anext(events))
                    except (StopAsyncIteration, ConsoleError):
                        pending = None  # the stream ended: polling alone from here
                    else:
                        if (
                            event.get("type") in PROGRESS_EVENTS
                            and event.get("deployment_id") == detail.id
                        ):
                            pulled = str(event.get("reason") or "")
                            typer.echo(pulled, err=True)
                if time.monotonic() - polled >= POLL_SECONDS:
                    polled = time.monotonic()
                    detail = await client.get_deployment(detail.address)
        finally:
            if pending is not None:
                pending.cancel()
    if not settled(detail):
        typer.echo(f"still {detail.status.value} after {timeout:.0f} s", err=True)
    return detail


def then_follow(
    action: Callable[[ConsoleClient], Awaitable[DeploymentDetail]], wait: bool
) -> Callable[[ConsoleClient], Awaitable[DeploymentDetail]]:
    """``action``, followed until the deployment settles when ``wait`` is set."""

    async def run(client: ConsoleClient) -> DeploymentDetail:
        return await follow(client, action) if wait else await action(client)

    return run
