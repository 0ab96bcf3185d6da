"""``mcp-console deploy …``: create, list, show, scale, update, roll back, stop, start, delete."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from mcp_console.cli import apply, deploy_set, drift, follow, live, shares
from mcp_console.cli import logs as logs_cli
from mcp_console.cli.context import (
    JSON_OPTION,
    emit,
    load_settings,
    reported_errors,
    run,
    validated,
)
from mcp_console.client.host import hosted_client
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.audit import AuditArguments
from mcp_console.schemas.deploy import (
    SESSION_MODE_HELP,
    DeploymentCreate,
    DeploymentDetail,
    DeploymentView,
    HistoryEntry,
    RuntimeChoice,
    SessionMode,
)
from mcp_console.schemas.drift import DriftPolicy
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.logs import LogQuery
from mcp_console.schemas.remote import REMOTE_SERVICE
from mcp_console.settings import Settings

if TYPE_CHECKING:
    from mcp_console.backend.daemon import DaemonInfo

T = TypeVar("T")

app = typer.Typer(help="Deploy services and keep them running.", no_args_is_help=True)

NAME = typer.Argument(..., help="The deployment: NAME (yours) or OWNER/NAME (shared with you).")
AUDIT_ARGUMENTS_HELP = (
    "What the audit trail keeps of each tool call's arguments: digest (a SHA-256 of them), "
    "redacted (them, with secret-looking keys and the deployment's secrets masked), or none."
)


async def _on_daemon(settings: Settings, action: Callable[[ConsoleClient], Awaitable[T]]) -> T:
    def started(info: DaemonInfo) -> None:
        # Instances need a backend that stays up after this command returns.
        typer.echo(
            f"started the mcp-console daemon at {info.url} (pid {info.pid}) to run "
            "deployments; stop it with 'mcp-console daemon stop'",
            err=True,
        )

    async with await hosted_client(settings, started=started) as client:
        return await action(client)


def on_daemon(action: Callable[[ConsoleClient], Awaitable[T]]) -> T:
    """Run ``action`` on the data dir's backend (a daemon, or the console hosting it),
    starting a daemon in the background if none runs."""
    with reported_errors():
        return asyncio.run(_on_daemon(load_settings(), action))


def _pairs(items: list[str], option: str, *, secret: bool = False) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not key:
            raise Invalid(f"{option} takes KEY=VALUE, got {item!r}", field=option.lstrip("-"))
        if not sep:
            if not secret:
                raise Invalid(f"{option} takes KEY=VALUE, got {item!r}", field=option.lstrip("-"))
            # A secret without a value is asked for, so it stays out of the shell's history.
            value = typer.prompt(f"value of secret {key}", hide_input=True)
        out[key] = value
    return out


def _headers(items: list[str]) -> dict[str, str]:
    """``NAME: VALUE`` as curl takes them; a NAME alone is asked for, out of the history."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        name = name.strip()
        if not name or " " in name:
            # Never quoted back: what was typed may hold the credential.
            raise Invalid(
                "--header takes 'NAME: VALUE' (a header name has no spaces)", field="headers"
            )
        if not sep:
            value = typer.prompt(f"value of header {name}", hide_input=True)
        out[name] = value.strip()
    return out


def _print_list(items: list[DeploymentView]) -> None:
    if not items:
        typer.echo("no deployments")
        return
    # NAME is the address to type back: OWNER/NAME for one shared with you.
    typer.echo(
        f"{'NAME':<24} {'SERVICE':<32} {'VERSION':<12} {'STATUS':<10} READY  {'RUNTIME':<8} ACCESS"
    )
    for d in items:
        version = d.version + (f"→{d.target_version}" if d.target_version else "")
        typer.echo(
            f"{d.address:<24} {d.service:<32} {version:<12} {d.status.value:<10} "
            f"{d.ready_replicas}/{d.replicas:<4} {d.driver or d.runtime.value:<8} {d.access.value}"
        )


def _print_detail(d: DeploymentDetail) -> None:
    typer.echo(f"{d.address}  ({d.service} {d.version})  [{d.status.value}]  owner: {d.owner}")
    if d.status_reason:
        typer.echo(f"  why: {d.status_reason}")
    if d.target_version:
        typer.echo(f"  rolling out {d.target_version} (deadline {d.rollout_deadline})")
    typer.echo(
        f"  runtime: {d.driver or d.runtime.value}   transport: {d.transport}   "
        f"replicas: {d.ready_replicas}/{d.replicas} ready   desired: {d.desired_state.value}"
    )
    if d.endpoint_url:
        typer.echo(f"  endpoint: {d.endpoint_url}   sessions: {d.session_mode}")
    typer.echo(f"  audit of tool-call arguments: {d.audit_arguments.value}")
    if d.previous_version:
        typer.echo(f"  previous version: {d.previous_version}")
    for version, digest in sorted(d.pinned_images.items()):
        typer.echo(f"  image of {version}: {digest}")
    if d.registry_logins:
        typer.echo("  registry logins: " + ", ".join(d.registry_logins))
    if d.autoscale:
        a = d.autoscale
        target = (
            f"{a['target_inflight']} in flight"
            if a.get("target_inflight") is not None
            else f"{a.get('target_rps')} requests/s"
        )
        typer.echo(
            f"  autoscale: {a.get('min_replicas')}..{a.get('max_replicas')} replicas, "
            f"target {target} per instance"
        )
    if d.config:
        typer.echo("  config: " + ", ".join(f"{k}={v}" for k, v in sorted(d.config.items())))
    if d.pass_env:
        typer.echo("  host variables passed: " + ", ".join(d.pass_env))
    shares.print_access(d)
    for i in d.instances:
        where = i.url or i.ref or "-"
        typer.echo(
            f"  {i.name:<12} {i.version or '?':<10} {i.status.value:<10} {i.health.value:<9} "
            f"restarts {i.restart_count:<3} {where}"
        )
        if i.image:
            typer.echo(f"      image: {i.image}")
        if i.last_error:
            typer.echo(f"      last error: {i.last_error}")
        for line in i.stderr_tail[-5:]:
            typer.echo(f"      | {line}")


def _print_history(entries: list[HistoryEntry]) -> None:
    for e in entries:
        who = f"{e.actor} (auto)" if e.automatic else e.actor
        changes = ", ".join(f"{k}: {v}" for k, v in e.changes.items())
        typer.echo(f"{e.at:%Y-%m-%d %H:%M:%S}  {who:<18} {e.action:<16} {changes}")
        if e.reason:
            typer.echo(f"{'':<21}why: {e.reason}")


@app.command()
def create(
    target: str | None = typer.Argument(
        None,
        help="SERVICE or SERVICE@VERSION (default: latest); may be left out with --url.",
    ),
    name: str = typer.Option(..., "--name", "-n", help="A name unique among your deployments."),
    values: list[str] = typer.Option([], "--set", help="A configuration value KEY=VALUE."),
    secrets: list[str] = typer.Option([], "--secret", help=deploy_set.SECRET_HELP),
    replicas: int = typer.Option(1, "--replicas", min=0, max=50),
    runtime: RuntimeChoice = typer.Option(RuntimeChoice.AUTO, "--runtime"),
    cpus: float | None = typer.Option(None, "--cpus", help="CPU limit per instance."),
    memory: int | None = typer.Option(None, "--memory", help="Memory limit per instance, MiB."),
    urls: list[str] = typer.Option(
        [],
        "--url",
        help="Front the MCP server at this URL instead of running one (repeat to balance "
        "over several); the gateway adds your keys, sharing, health checks and metering.",
    ),
    session_mode: SessionMode | None = typer.Option(None, "--session-mode", help=SESSION_MODE_HELP),
    headers: list[str] = typer.Option(
        [],
        "--header",
        help="A header sent to the --url server, 'NAME: VALUE' (or NAME alone: you are "
        "asked for it), e.g. 'Authorization: Bearer …'; stored encrypted, never shown.",
    ),
    pass_env: list[str] = typer.Option(
        [],
        "--pass-env",
        help="Give the servers this variable of the host's environment by name (a CA bundle "
        "such as SSL_CERT_FILE, a proxy); repeat for more. Nothing else of it reaches them.",
    ),
    registry_user: str | None = follow.REGISTRY_USER,
    registry_password_stdin: bool = follow.REGISTRY_PASSWORD_STDIN,
    registry: str | None = follow.REGISTRY,
    drift_policy: DriftPolicy = typer.Option(
        DriftPolicy.ALERT,
        "--drift",
        help="When its tool definitions change: alert, or block (also hide changed tools "
        "from clients until approved with 'deploy approve').",
    ),
    audit_arguments: AuditArguments = typer.Option(
        AuditArguments.DIGEST, "--audit-arguments", help=AUDIT_ARGUMENTS_HELP
    ),
    wait: bool = follow.WAIT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Deploy a service version, or front a server running elsewhere (--url); the daemon
    starts and watches its instances."""
    with reported_errors():
        if target is None and not urls:
            raise Invalid("name the SERVICE to deploy (or give the --url of a server)")
        target = target or REMOTE_SERVICE
        service, _, version = target.rpartition("@") if "@" in target else (target, "", "")
        plain, refs = deploy_set.secret_options(secrets)
        fields = {
            "service": service,
            "version": version or None,
            "name": name,
            "config": _pairs(values, "--set"),
            "secrets": plain,
            "secret_refs": refs,
            "replicas": replicas,
            "runtime": runtime,
            "cpu_limit": cpus,
            "memory_limit_mb": memory,
            "session_mode": session_mode.value if session_mode else None,
            "urls": urls,
            "headers": _headers(headers),
            "pass_env": pass_env,
            "registry_login": follow.registry_login(
                registry_user, registry_password_stdin, registry
            ),
            "drift": drift_policy,
            "audit_arguments": audit_arguments,
        }
        new = validated(DeploymentCreate, **fields)
    detail = on_daemon(follow.then_follow(lambda c: c.create_deployment(new), wait))
    emit(detail, as_json, lambda: _print_detail(detail))


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Your deployments and those shared with you (by the name to type back: OWNER/NAME for
    another's), with their status, ready instances and your access."""
    items = run(lambda c: c.list_deployments())
    emit(items, as_json, lambda: _print_list(items))


@app.command()
def show(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """A deployment: status and why, instances with health, last error and stderr tail."""
    detail = run(lambda c: c.get_deployment(name))
    emit(detail, as_json, lambda: _print_detail(detail))


@app.command()
def scale(
    name: str = NAME,
    replicas: int = typer.Argument(..., min=0, max=50),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a number of instances."""
    detail = on_daemon(lambda c: c.scale_deployment(name, replicas))
    emit(detail, as_json, lambda: _print_detail(detail))


@app.command()
def update(
    name: str = NAME,
    version: str | None = typer.Argument(None, help="The version to roll out."),
    audit_arguments: AuditArguments | None = typer.Option(
        None, "--audit-arguments", help=AUDIT_ARGUMENTS_HELP
    ),
    verify_with: Path | None = typer.Option(
        None,
        "--verify-with",
        metavar="FILE",
        help="First replay this recording against VERSION on a deployment of its own; "
        "update only when every answer matches (else exit 1, nothing moves).",
    ),
    ignore: list[str] = typer.Option(
        [], "--ignore", metavar="JSONPATH", help="With --verify-with: leave this out (as replay)."
    ),
    wait: bool = follow.WAIT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Roll out another version (it rolls back by itself if it does not become healthy),
    and/or change what the audit trail keeps of tool-call arguments (--audit-arguments);
    --verify-with replays a recording against the new version before traffic moves to it."""
    with reported_errors():
        if version is None and audit_arguments is None:
            raise Invalid("give a VERSION to roll out, --audit-arguments, or both")
    if verify_with is not None:
        from mcp_console.cli.verify import update_verified

        detail = update_verified(name, version, audit_arguments, verify_with, ignore, wait)
        emit(detail, as_json, lambda: _print_detail(detail))
        return

    async def change(client: ConsoleClient) -> DeploymentDetail:
        return await client.update_deployment(name, version, audit_arguments=audit_arguments)

    detail = on_daemon(follow.then_follow(change, wait and version is not None))
    emit(detail, as_json, lambda: _print_detail(detail))


@app.command()
def rollback(
    name: str = NAME, wait: bool = follow.WAIT_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Cancel an update in progress, or return to the previous version (the image digest it
    ran before, even if its tag moved since)."""
    detail = on_daemon(follow.then_follow(lambda c: c.rollback_deployment(name), wait))
    emit(detail, as_json, lambda: _print_detail(detail))


@app.command()
def stop(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """Stop every instance (the deployment stays)."""
    detail = on_daemon(lambda c: c.stop_deployment(name))
    emit(detail, as_json, lambda: _print_detail(detail))


@app.command()
def start(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """Start a stopped deployment, or retry its failed instances."""
    detail = on_daemon(lambda c: c.start_deployment(name))
    emit(detail, as_json, lambda: _print_detail(detail))


@app.command()
def delete(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """Delete the deployment and every container or process it runs."""
    on_daemon(lambda c: c.delete_deployment(name))
    emit({"deleted": name}, as_json, lambda: typer.echo(f"deleted {name}"))


@app.command()
def history(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """Every change, newest first: who, when, what and why (automatic ones too)."""
    entries = run(lambda c: c.deployment_history(name))
    emit(entries, as_json, lambda: _print_history(entries))


@app.command()
def logs(
    name: str = NAME,
    instance: str | None = typer.Option(None, "--instance", "-i", help="Only this instance."),
    tail: int = typer.Option(100, "--tail", min=1, max=5000),
    follow_lines: bool = logs_cli.FOLLOW_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The last log lines of its instances, oldest first, kept across restarts and
    replacements (secret values masked); ``-f`` keeps printing new ones."""
    query = validated(LogQuery, deployment=name, instance=instance, limit=tail)
    logs_cli.show(query, follow=follow_lines, as_json=as_json, line_format=logs_cli.instance_line)


@app.command()
def autoscale(
    name: str = NAME,
    min_replicas: int | None = typer.Option(None, "--min", min=0),
    max_replicas: int | None = typer.Option(None, "--max", min=1),
    target_inflight: float | None = typer.Option(None, "--target-inflight"),
    target_rps: float | None = typer.Option(None, "--target-rps"),
    up_cooldown: float | None = typer.Option(None, "--up-cooldown", help="Seconds."),
    down_cooldown: float | None = typer.Option(None, "--down-cooldown", help="Seconds."),
    off: bool = typer.Option(False, "--off", help="Turn autoscaling off."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Scale by load between --min and --max replicas (or turn it --off)."""
    policy: dict[str, Any] | None = None
    if not off:
        given = {
            "min_replicas": min_replicas,
            "max_replicas": max_replicas,
            "target_inflight": target_inflight,
            "target_rps": target_rps,
            "scale_up_cooldown_s": up_cooldown,
            "scale_down_cooldown_s": down_cooldown,
        }
        policy = {key: value for key, value in given.items() if value is not None}
    detail = on_daemon(lambda c: c.set_autoscale(name, policy))
    emit(detail, as_json, lambda: _print_detail(detail))


live.register(app)
shares.register(app)
drift.register(app)
apply.register(app)
deploy_set.register(app)
