"""``mcp-console key …``: your API keys, expiring or limited to some deployments."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run, validated
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.users import KeyCreate, KeyView, parse_duration

app = typer.Typer(help="Create, list and revoke your API keys.", no_args_is_help=True)

USER_OPTION = typer.Option(
    None, "--user", "-u", help="Another user's keys (admins only; default: yours)."
)


def _when(at: datetime | None, none: str) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at is not None else none


def _scope(key: KeyView) -> str:
    return ", ".join(key.deployments) if key.deployments is not None else "all"


def _deployments(text: str | None) -> list[str]:
    if text is None:
        return []
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise Invalid(
            f"--deployments takes deployment names separated by commas, got {text!r}",
            field="deployments",
        )
    return names


@app.command()
def create(
    name: str | None = typer.Option(
        None, "--name", "-n", help="What the key is for (default: key-DATE-TIME)."
    ),
    expires: str | None = typer.Option(
        None, "--expires", help="How long it works: 30d, 12h, 90m, 2w (default: until revoked)."
    ),
    deployments: str | None = typer.Option(
        None,
        "--deployments",
        help="Limit it to these deployments, comma-separated (NAME or OWNER/NAME): "
        "for an agent, it reaches nothing else.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an API key for yourself and print it (shown only this once)."""
    with reported_errors():
        if expires is not None:
            parse_duration(expires, field="expires")
        new = validated(
            KeyCreate,
            name=name or f"key-{datetime.now(UTC):%Y%m%d-%H%M%S}",
            expires_in=expires,
            deployments=_deployments(deployments),
        )
    created = run(lambda c: c.create_key(new))

    def human() -> None:
        key = created.key
        limits = [f"expires {_when(key.expires_at, '')} UTC"] if key.expires_at else []
        if key.deployments is not None:
            limits.append(f"limited to {_scope(key)}")
        more = "; " + ", ".join(limits) if limits else ""
        typer.echo(f"created key {key.name!r} (id {key.id}, prefix {key.prefix}){more}")
        typer.echo(f"API key (store it now; it cannot be shown again): {created.api_key}")

    emit(created, as_json, human)


@app.command("list")
def list_(user: str | None = USER_OPTION, as_json: bool = JSON_OPTION) -> None:
    """API keys, newest first: prefix, state, expiry and scope (never the secret)."""
    keys = run(lambda c: c.list_keys(user))

    def human() -> None:
        if not keys:
            typer.echo("no keys")
            return
        typer.echo(
            f"{'ID':>4} {'NAME':<20} {'PREFIX':<14} {'STATE':<8} {'EXPIRES':<17} "
            f"{'LAST USED':<17} DEPLOYMENTS"
        )
        for k in keys:
            typer.echo(
                f"{k.id:>4} {k.name or '-':<20} {k.prefix:<14} {k.state.value:<8} "
                f"{_when(k.expires_at, 'never'):<17} {_when(k.last_used_at, '-'):<17} "
                f"{_scope(k)}"
            )

    emit(keys, as_json, human)


@app.command()
def revoke(
    ref: str = typer.Argument(..., help="The key's id, prefix or name (as 'key list' shows)."),
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke a key: refused from now on, by the API and the gateway (its sessions end)."""
    key = run(lambda c: c.revoke_key(ref, user))
    emit(
        key,
        as_json,
        lambda: typer.echo(
            f"revoked key {key.name!r} (id {key.id}, prefix {key.prefix}); "
            "it is refused from now on, by the gateway too"
        ),
    )
