"""``mcp-console alert …``: where alert notifications go, and how their delivery went."""

from __future__ import annotations

import sys

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run, validated
from mcp_console.schemas.alerts import DeliveryView, TargetCreate, TargetView

app = typer.Typer(
    help="Alerting: notification targets and their delivery log.", no_args_is_help=True
)
targets = typer.Typer(
    help="Where notifications go: a webhook (signed with --secret), alertmanager://HOST:PORT, "
    "or any URL apprise speaks (slack://, mailto://, msteams://, ...).",
    no_args_is_help=True,
)
app.add_typer(targets, name="target")

NAME = typer.Argument(..., help="The target's name.")


def _print_targets(found: list[TargetView]) -> None:
    if not found:
        typer.echo("no notification targets")
        return
    typer.echo(f"{'NAME':<20} {'KIND':<13} {'SIGNED':<6}  URL")
    for t in found:
        typer.echo(f"{t.name:<20} {t.kind.value:<13} {'yes' if t.signed else 'no':<6}  {t.url}")


def _print_deliveries(found: list[DeliveryView]) -> None:
    if not found:
        typer.echo("no deliveries")
        return
    typer.echo(f"{'ID':>6}  {'TARGET':<16} {'STATE':<10} {'TRIES':>5}  {'ALERT':<24} LAST ERROR")
    for d in found:
        alert = f"{d.alert} ({d.alert_state.value})"
        typer.echo(
            f"{d.id:>6}  {d.target:<16} {d.state.value:<10} {d.attempts:>5}  {alert:<24} "
            f"{d.last_error or ''}"
        )


@targets.command("add")
def add(
    name: str = NAME,
    url: str = typer.Argument(..., help="Webhook, alertmanager:// or apprise URL."),
    secret: str | None = typer.Option(
        None,
        "--secret",
        help="Sign a webhook's requests with this key (HMAC-SHA256); - reads stdin.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a notification target (admins); its URL is stored encrypted."""
    if secret == "-":  # noqa: S105 (the stdin marker, not a password)
        secret = sys.stdin.readline().strip()
    with reported_errors():
        new = validated(TargetCreate, name=name, url=url, secret=secret)
    view = run(lambda c: c.add_alert_target(new))
    emit(
        view, as_json, lambda: typer.echo(f"added {view.kind.value} target {view.name}: {view.url}")
    )


@targets.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every notification target, credentials masked."""
    found = run(lambda c: c.list_alert_targets())
    emit(found, as_json, lambda: _print_targets(found))


@targets.command("rm")
def remove(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """Remove a target and its delivery log."""
    run(lambda c: c.remove_alert_target(name))
    emit({"removed": name}, as_json, lambda: typer.echo(f"removed target {name}"))


@targets.command("test")
def send_test(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """Send a test notification to a target now; exits 1 when it was not delivered."""
    done = run(lambda c: c.test_alert_target(name))

    def human() -> None:
        if done.delivered_at is not None:
            typer.echo(f"delivered a test notification to {name}")
        else:
            typer.echo(f"not delivered to {name}: {done.last_error} (it will be retried)", err=True)

    emit(done, as_json, human)
    if done.delivered_at is None:
        raise typer.Exit(1)


@app.command()
def deliveries(
    target: str | None = typer.Option(None, "--target", help="Only this target's."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="How many, newest first."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The delivery log: each notification, its attempts and last error."""
    found = run(lambda c: c.alert_deliveries(target, limit))
    emit(found, as_json, lambda: _print_deliveries(found))
