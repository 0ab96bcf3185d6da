"""``mcp-console alert …``: where alert notifications go, and how their delivery went."""

from __future__ import annotations

import sys

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run, validated
from mcp_console.durations import EXAMPLES, read_duration
from mcp_console.pairs import read_pairs
from mcp_console.schemas.alerts import (
    ALERT_METRICS,
    AlertView,
    Comparison,
    DeliveryView,
    RuleCreate,
    RuleView,
    Severity,
    SilenceCreate,
    TargetCreate,
    TargetView,
)
from mcp_console.schemas.errors import Invalid

app = typer.Typer(
    help="Alerting: notification targets and their delivery log.", no_args_is_help=True
)
targets = typer.Typer(
    help="Where notifications go: a webhook (signed with --secret), alertmanager://HOST:PORT, "
    "or any URL apprise speaks (slack://, mailto://, msteams://, ...).",
    no_args_is_help=True,
)
app.add_typer(targets, name="target")
rules = typer.Typer(
    help="Alert rules: METRIC OP THRESHOLD over a window, held for a while.", no_args_is_help=True
)
app.add_typer(rules, name="rule")

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


# --- alerts and silences -------------------------------------------------------------------


def _seconds(text: str, option: str) -> int:
    """A duration option (``30s``, ``5m``, ``1h``, ``7d``) in seconds."""
    duration = read_duration(text)
    if duration is None:
        raise Invalid(f"{option} must be a duration such as {EXAMPLES}, got {text!r}")
    return int(duration.total_seconds())


def _print_alerts(found: list[AlertView]) -> None:
    if not found:
        typer.echo("no alerts")
        return
    typer.echo(f"{'ID':>5}  {'STATE':<9} {'SEVERITY':<9} {'RULE':<18} {'DEPLOYMENT':<24} NOTE")
    for a in found:
        notes = [n for n in ("silenced" if a.silenced else "", a.acknowledged_by or "") if n]
        if a.acknowledged_by:
            notes[-1] = f"acknowledged by {a.acknowledged_by}"
        value = "" if a.value is None else f"value {a.value:g}"
        typer.echo(
            f"{a.id:>5}  {a.state.value:<9} {a.severity.value:<9} {a.rule:<18} "
            f"{a.labels.get('deployment', ''):<24} {', '.join([value, *notes]).strip(', ')}"
        )


@app.command("list")
def list_alerts(
    everything: bool = typer.Option(False, "--all", help="Resolved alerts too (history)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pending and firing alerts of the deployments you may see, newest first."""
    found = run(lambda c: c.list_alerts(everything))
    emit(found, as_json, lambda: _print_alerts(found))


@app.command()
def ack(
    alert_id: int = typer.Argument(..., help="The alert's id."), as_json: bool = JSON_OPTION
) -> None:
    """Acknowledge an alert: it is not notified again while it fires."""
    done = run(lambda c: c.acknowledge_alert(alert_id))
    emit(done, as_json, lambda: typer.echo(f"acknowledged alert {alert_id} ({done.rule})"))


@app.command()
def silence(
    matchers: list[str] = typer.Argument(
        ..., help="LABEL=VALUE (all must match), e.g. alertname=CrashLoop deployment=admin/time"
    ),
    duration: str = typer.Option(..., "--for", help="How long, e.g. 1h or 2d."),
    comment: str = typer.Option("", "--comment", help="Why."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Mute notifications of matching alerts for a while (admins)."""
    with reported_errors():
        new = validated(
            SilenceCreate,
            matchers=read_pairs(matchers, "matcher"),
            duration_s=_seconds(duration, "--for"),
            comment=comment,
        )
    made = run(lambda c: c.add_silence(new))
    emit(
        made,
        as_json,
        lambda: typer.echo(f"silence {made.id} until {made.ends_at:%Y-%m-%d %H:%M} UTC"),
    )


@app.command()
def silences(as_json: bool = JSON_OPTION) -> None:
    """Silences that have not ended."""
    found = run(lambda c: c.list_silences())

    def human() -> None:
        if not found:
            typer.echo("no silences")
        for s in found:
            match = ", ".join(f"{k}={v}" for k, v in s.matchers.items())
            typer.echo(f"{s.id:>4}  until {s.ends_at:%Y-%m-%d %H:%M} UTC  {match}  {s.comment}")

    emit(found, as_json, human)


@app.command()
def unsilence(
    silence_id: int = typer.Argument(..., help="The silence's id."), as_json: bool = JSON_OPTION
) -> None:
    """End a silence now."""
    ended = run(lambda c: c.expire_silence(silence_id))
    emit(ended, as_json, lambda: typer.echo(f"silence {silence_id} ended"))


@app.command()
def export(
    prometheus: bool = typer.Option(
        False, "--prometheus", help="As Prometheus alerting rules (YAML)."
    ),
) -> None:
    """Write the enabled rules for another system to evaluate (from /metrics)."""
    if not prometheus:
        with reported_errors():
            raise Invalid("say which format: --prometheus")
    typer.echo(run(lambda c: c.export_alert_rules()), nl=False)


# --- rules -----------------------------------------------------------------------------------


def _print_rules(found: list[RuleView]) -> None:
    typer.echo(f"{'NAME':<20} {'ON':<3} {'CONDITION':<40} {'FOR':>6}  {'SEVERITY':<9} DEPLOYMENT")
    for r in found:
        condition = f"{r.metric} {r.op.value} {r.threshold:g} over {r.window_s}s"
        typer.echo(
            f"{r.name:<20} {'yes' if r.enabled else 'no':<3} {condition:<40} {r.for_s:>5}s  "
            f"{r.severity.value:<9} {r.deployment or 'all'}{'  (built in)' if r.builtin else ''}"
        )


@rules.command("add")
def add_rule(
    name: str = typer.Argument(..., help="The rule's name (the alertname label)."),
    metric: str = typer.Option(..., "--metric", help="One of: " + ", ".join(ALERT_METRICS)),
    op: Comparison = typer.Option(Comparison.GT, "--op", help="How it compares with --threshold."),
    threshold: float = typer.Option(..., "--threshold"),
    window: str = typer.Option("5m", "--window", help="Over what span the metric is taken."),
    hold: str = typer.Option("0s", "--for", help="How long it must hold before it fires."),
    deployment: str | None = typer.Option(None, "--deployment", help="Only this deployment."),
    severity: Severity = typer.Option(Severity.WARNING, "--severity"),
    labels: list[str] = typer.Option([], "--label", help="LABEL=VALUE added to its alerts."),
    description: str = typer.Option("", "--description"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an alert rule (admins)."""
    with reported_errors():
        new = validated(
            RuleCreate,
            name=name,
            metric=metric,
            op=op,
            threshold=threshold,
            window_s=_seconds(window, "--window"),
            for_s=0 if hold.strip() in ("0", "0s") else _seconds(hold, "--for"),
            deployment=deployment,
            severity=severity,
            labels=read_pairs(labels, "label"),
            description=description,
        )
    made = run(lambda c: c.add_alert_rule(new))
    emit(made, as_json, lambda: _print_rules([made]))


@rules.command("list")
def list_rules(as_json: bool = JSON_OPTION) -> None:
    """Every alert rule, built-in ones included."""
    found = run(lambda c: c.list_alert_rules())
    emit(found, as_json, lambda: _print_rules(found))


@rules.command("rm")
def remove_rule(name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Remove a rule and its alerts (built-in rules are disabled instead)."""
    run(lambda c: c.remove_alert_rule(name))
    emit({"removed": name}, as_json, lambda: typer.echo(f"removed rule {name}"))


@rules.command("enable")
def enable_rule(name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Evaluate a rule again."""
    done = run(lambda c: c.set_alert_rule_enabled(name, True))
    emit(done, as_json, lambda: typer.echo(f"enabled rule {name}"))


@rules.command("disable")
def disable_rule(name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Stop evaluating a rule; its alerts resolve."""
    done = run(lambda c: c.set_alert_rule_enabled(name, False))
    emit(done, as_json, lambda: typer.echo(f"disabled rule {name}"))
