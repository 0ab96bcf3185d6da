"""``deploy update NAME VERSION --verify-with FILE``: the new version answers the recording
as recorded, on a deployment of its own, before the real one moves to it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

from mcp_console.cli.context import reported_errors
from mcp_console.cli.follow import follow
from mcp_console.cli.targets import deployment_server, temporary_deployment
from mcp_console.client.protocol import ConsoleClient
from mcp_console.devtools.compare import JsonPath, parse_path
from mcp_console.devtools.recording import read
from mcp_console.devtools.replay import replay, report_text
from mcp_console.schemas.audit import AuditArguments
from mcp_console.schemas.deploy import DeploymentDetail
from mcp_console.schemas.errors import Conflict, Invalid, Unavailable
from mcp_console.schemas.recording import Recording

TIMEOUT = 30.0


class Blocked(Conflict):
    """The new version answered the recording differently: the update did not start."""


async def verified_update(
    client: ConsoleClient,
    name: str,
    version: str,
    recording: Recording,
    source: str,
    ignore: Sequence[JsonPath],
    *,
    wait: bool,
) -> DeploymentDetail:
    """Replay ``recording`` against ``version`` deployed on its own (as ``name`` runs, for
    as long as the replay takes); move ``name`` to it only when every answer matches.

    Raises:
        Blocked: an answer differed; ``name`` keeps serving the version it runs.
        Unavailable: the new version did not start or answer.
    """
    current = await client.get_deployment(name)
    typer.echo(
        f"verifying {current.service}@{version} against {source} before {name} moves to it",
        err=True,
    )
    try:
        async with (
            temporary_deployment(client, current.service, version, "verify", like=current) as trial,
            deployment_server(client, trial) as server,
        ):
            report = await replay(recording, server, ignore=ignore, timeout=TIMEOUT)
    except Unavailable as error:
        # Secrets never leave the backend, so the trial ran without them.
        secrets = ", ".join(current.secret_names)
        note = f" (it ran without {name}'s secrets: {secrets})" if secrets else ""
        raise Unavailable(
            f"update blocked: {error.message}{note}; {name} stays on {current.version}"
        ) from None
    report = report.model_copy(update={"target": f"{current.service}@{version}"})
    if not report.same:
        typer.echo(report_text(report, source), nl=False)
        raise Blocked(
            f"update blocked: {current.service}@{version} answered {source} differently, so "
            f"{name} stays on {current.version} and no traffic moved",
            field="verify-with",
        )
    typer.echo(
        f"{current.service}@{version} answers as recorded ({report.replayed} call(s)); "
        f"updating {name}",
        err=True,
    )

    async def change(c: ConsoleClient) -> DeploymentDetail:
        return await c.update_deployment(name, version)

    return await follow(client, change) if wait else await change(client)


def update_verified(
    name: str,
    version: str | None,
    audit_arguments: AuditArguments | None,
    path: Path,
    ignore: Sequence[str],
    wait: bool,
) -> DeploymentDetail:
    """``deploy update --verify-with``: the recording and rules read first, then the update."""
    from mcp_console.cli.deploy import on_daemon

    with reported_errors():
        if version is None:
            raise Invalid("--verify-with checks a VERSION to roll out: give one", field="version")
        if audit_arguments is not None:
            raise Invalid("change --audit-arguments in a separate update", field="audit-arguments")
        rules = [parse_path(text) for text in ignore]
        recording = read(path)
    return on_daemon(
        lambda c: verified_update(c, name, version, recording, str(path), rules, wait=wait)
    )
