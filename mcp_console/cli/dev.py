"""``mcp-console dev …``: test, run, publish and deploy the server project in a directory."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import typer

from mcp_console.cli import follow
from mcp_console.cli.context import JSON_OPTION, emit, load_settings, reported_errors, run
from mcp_console.client.protocol import ConsoleClient
from mcp_console.devtools.project import (
    BUMPS,
    REGISTRY_OF_KIND,
    Bump,
    Project,
    bumped,
    load_project,
    set_version,
)
from mcp_console.schemas.catalog import ServiceDetail
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Conflict, Invalid, NotFound
from mcp_console.settings import Settings

app = typer.Typer(
    help="Test, run, publish and deploy the MCP server project in this directory (see 'new').",
    no_args_is_help=True,
)

# Seconds the server has to answer each request of ``dev run``.
RUN_TIMEOUT = 30.0
DIR_OPTION = typer.Option(Path("."), "--dir", help="The project's directory.")


def _index(settings: Settings) -> Callable[[], Awaitable[str]]:
    """The package index projects install from (the console's rule), found when first asked."""
    from mcp_console.backend.deploy.pypi_release import PypiIndex

    return PypiIndex(settings.pypi).index_url


@app.command("test")
def run_tests_command(directory: Path = DIR_OPTION) -> None:
    """Install the project's dependencies and run its tests (pytest, or node --test)."""
    from mcp_console.devtools.project_tasks import run_tests

    settings = load_settings()
    with reported_errors():
        project = load_project(directory)
        status = asyncio.run(run_tests(project, index_url=_index(settings)))
    if status != 0:
        typer.echo(f"error: the tests of {project.name} failed (exit {status})", err=True)
        raise typer.Exit(1)


@app.command("run")
def run_(
    directory: Path = DIR_OPTION,
    tool: str | None = typer.Option(None, "--call", help="Call this tool, then stop."),
    args: list[str] = typer.Option(
        [], "--arg", help="An argument of --call, KEY=VALUE (typed as the tool declares it)."
    ),
    exchange: bool = typer.Option(False, "--exchange", help="Print every JSON-RPC message."),
) -> None:
    """Start the server here with the inspector attached (list it, or --call a tool)."""
    settings = load_settings()
    with reported_errors():
        project = load_project(directory)
        if args and tool is None:
            raise Invalid("--arg goes with --call TOOL", field="arg")
        try:
            failed = asyncio.run(_run(project, settings, tool, args, exchange))
        except KeyboardInterrupt:
            failed = False
    if failed:
        typer.echo(f"error: {tool} reported a failure", err=True)
        raise typer.Exit(1)


async def _run(
    project: Project, settings: Settings, tool: str | None, items: list[str], exchange: bool
) -> bool:
    """Start the server, inspect it and maybe call a tool; whether the call failed."""
    from mcp_console.cli.live import parse_arguments, print_outcome, print_report
    from mcp_console.devtools.inspect_session import Session, call, inspect
    from mcp_console.devtools.project_tasks import prepare, started

    await prepare(project, index_url=_index(settings))
    async with started(project) as target:
        if tool is None:
            print_report(await inspect(Session(target), timeout=RUN_TIMEOUT), exchange)
            if target.url is None:
                return False
            typer.echo(f"serving at {target.url}; Ctrl-C stops it")
            await asyncio.Event().wait()
            return False
        outcome = await call(
            Session(target),
            tool,
            lambda schema: parse_arguments(items, schema, tool=tool),
            timeout=RUN_TIMEOUT,
        )
    print_outcome(outcome, exchange)
    return outcome.is_error


@app.command()
def publish(
    directory: Path = DIR_OPTION,
    bump: str | None = typer.Option(
        None, "--bump", help="Raise the version first: patch, minor or major (SemVer)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate, build and publish the version: its package and the API its server lists."""
    settings = load_settings()
    with reported_errors():
        project = load_project(directory)
        if bump is not None:
            if bump not in BUMPS:
                raise Invalid(f"--bump takes {', '.join(BUMPS)}, not {bump!r}", field="bump")
            part: Bump = bump  # type: ignore[assignment]
            version = bumped(project.version, part)
            project = set_version(project, version)
            typer.echo(f"version {version} (server.json and the package manifest)")
    detail = run(lambda c: _publish(c, project, settings))
    emit(
        detail,
        as_json,
        lambda: typer.echo(f"published {detail.name} {project.version}"),
    )


async def _publish(client: ConsoleClient, project: Project, settings: Settings) -> ServiceDetail:
    from mcp_console.backend.catalog.formats.common import CONSOLE_META_KEY
    from mcp_console.backend.catalog.formats.server_json import API_SPEC_KEY
    from mcp_console.devtools.docs.listing import list_definitions
    from mcp_console.devtools.docs.published import spec_of
    from mcp_console.devtools.project_tasks import build, prepare, serving

    try:
        existing = await client.get_service(project.server_name)
    except NotFound:
        existing = None
    if existing is not None and any(v.version == project.version for v in existing.versions):
        raise Conflict(
            f"{project.server_name} {project.version} is published already; publish a new "
            "version (--bump patch)",
            field="version",
        )
    index_url = _index(settings)
    await prepare(project, index_url=index_url)
    artifact = await build(project, index_url=index_url)
    async with serving(project) as session:
        found = await list_definitions(session)
    if not found.tools:
        raise Invalid(f"{project.name} lists no tools: nothing to publish", field="dir")
    # Uploaded through the API: the console's daemon may well run on another machine.
    registry = REGISTRY_OF_KIND[project.kind]
    await client.upload_package(registry, project.name, project.version, artifact)
    document: dict[str, Any] = copy.deepcopy(project.server)
    meta = document.setdefault("_meta", {}).setdefault(CONSOLE_META_KEY, {})
    # The API spec as the server itself lists it, not as anyone typed it.
    meta[API_SPEC_KEY] = spec_of(found)
    origin = str(project.root / "server.json")
    return await client.publish_server_json(json.dumps(document), origin)


@app.command()
def deploy(
    directory: Path = DIR_OPTION,
    name: str | None = typer.Option(
        None, "--name", "-n", help="The deployment's name (default: the project's)."
    ),
    runtime: RuntimeChoice = typer.Option(RuntimeChoice.AUTO, "--runtime"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Deploy the project's published version (dev publish first) and wait until it runs."""
    from mcp_console.cli.deploy import _print_detail, on_daemon

    with reported_errors():
        project = load_project(directory)
        new = DeploymentCreate(
            service=project.server_name,
            version=project.version,
            name=name or project.name,
            runtime=runtime,
        )
    detail = on_daemon(follow.then_follow(lambda c: _created(c, project, new), True))
    emit(detail, as_json, lambda: _print_detail(detail))


async def _created(client: ConsoleClient, project: Project, new: DeploymentCreate) -> Any:
    try:
        return await client.create_deployment(new)
    except NotFound as missing:
        raise NotFound(
            f"{missing.message}; publish {project.server_name} {project.version} first "
            "(mcp-console dev publish)",
            field=missing.field,
        ) from None
