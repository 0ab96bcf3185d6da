"""``mcp-console daemon …``: run the headless backend, see whether it runs, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from typing import Any

import typer

from mcp_console.backend.daemon import (
    DaemonFiles,
    DaemonInfo,
    HostKind,
    holder_of,
    running_pid,
    serve,
)
from mcp_console.cli.context import JSON_OPTION, emit, load_settings, reported_errors
from mcp_console.client.host import POLL_SECONDS, answers, start_detached
from mcp_console.schemas.errors import Conflict, Unavailable
from mcp_console.settings import Settings

STOP_TIMEOUT_SECONDS = 15.0

app = typer.Typer(help="Run the headless daemon: the backend and its HTTP API.")


def _configure_logging(settings: Settings) -> None:
    """Timestamped records on stderr (daemon.log when detached) at the configured level."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _announce(info: DaemonInfo) -> None:
    typer.echo(f"mcp-console daemon listening on {info.url} (pid {info.pid})")


@app.callback(invoke_without_command=True)
def daemon(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to listen on [127.0.0.1]."),
    port: int | None = typer.Option(
        None, "--port", min=0, max=65535, help="Port to listen on (0: any free port) [8765]."
    ),
    detach: bool = typer.Option(False, "--detach", help="Run in the background."),
) -> None:
    """Run the daemon in the foreground until Ctrl-C or SIGTERM (or in the background)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings()
    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["bind_host"] = host
    if port is not None:
        overrides["api_port"] = port
    settings = settings.model_copy(update=overrides)
    with reported_errors():
        if detach:
            info = start_detached(settings, host, port)
            _announce(info)
            typer.echo(f"log: {DaemonFiles(settings.data_dir).log}")
        else:
            _configure_logging(settings)
            asyncio.run(serve(settings, ready=_announce))


@app.command()
def status(as_json: bool = JSON_OPTION) -> None:
    """Whether a daemon (or a console hosting the backend) runs on this data dir, where, and
    whether it answers."""
    holder = holder_of(DaemonFiles(load_settings().data_dir))
    pid = holder.pid if holder is not None else None
    url = holder.info.url if holder is not None and holder.info is not None else None
    answering = url is not None and answers(url)
    result = {
        "running": holder is not None,
        "kind": holder.kind.value if holder is not None else None,
        "pid": pid,
        "url": url,
        "answering": answering,
    }

    def human() -> None:
        if holder is None:
            typer.echo("stopped: no daemon is running")
            return
        what = "the console runs the backend" if holder.kind is HostKind.CONSOLE else "running"
        if url is None:
            typer.echo(f"starting: {what} (pid {pid})")
        else:
            state = what if answering else f"{what} but does not answer"
            typer.echo(f"{state} at {url} (pid {pid})")

    emit(result, as_json, human)


@app.command()
def stop() -> None:
    """Stop the daemon with SIGTERM and wait until it has finished."""
    files = DaemonFiles(load_settings().data_dir)
    with reported_errors():
        holder = holder_of(files)
        if holder is None:
            typer.echo("no daemon is running")
            return
        if holder.kind is HostKind.CONSOLE:
            raise Conflict(
                f"no daemon is running: {holder.describe()} runs the backend; quit it there"
            )
        pid = holder.pid
        if pid < 0:
            raise Unavailable(f"a daemon holds {files.pid} but its pid cannot be read")
        with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while running_pid(files) is not None:
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"the daemon (pid {pid}) did not stop within {STOP_TIMEOUT_SECONDS:.0f} s"
                )
            time.sleep(POLL_SECONDS)
        typer.echo(f"stopped the daemon (pid {pid})")
