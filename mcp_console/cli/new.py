"""``mcp-console new NAME --template T``: a new MCP server project from a template."""

from __future__ import annotations

from pathlib import Path

import typer

from mcp_console.cli.context import reported_errors
from mcp_console.devtools.scaffold import (
    builtin_templates,
    create_project,
    default_namespace,
    find_template,
    placeholders,
)
from mcp_console.schemas.errors import Invalid


def new(
    name: str | None = typer.Argument(
        None,
        metavar="NAME",
        help="The server's name: its package, program and deployment (e.g. weather-tools).",
        show_default=False,
    ),
    template: str = typer.Option(
        "python-stdio",
        "--template",
        "-t",
        help="A built-in template (python-stdio, python-http, node-stdio) or the path of a "
        "template directory of your own.",
    ),
    directory: Path | None = typer.Option(
        None, "--dir", help="Where to create the project (default: ./NAME); must not exist."
    ),
    namespace: str | None = typer.Option(
        None,
        "--namespace",
        help="The registry namespace of its server.json name (default: io.github.<login>).",
    ),
    list_templates: bool = typer.Option(False, "--list", help="List the built-in templates."),
) -> None:
    """Create a working MCP server project: one example tool, its tests, a server.json."""
    if list_templates:
        for found in builtin_templates():
            typer.echo(f"{found.name:<16} {found.description}")
        return
    with reported_errors():
        if name is None:
            raise Invalid("name the new server (e.g. mcp-console new weather-tools)", field="name")
        values = placeholders(name, namespace or default_namespace())
        chosen = find_template(template)
        target = directory or Path(name)
        written = create_project(chosen, target, values)
    typer.echo(f"created {target} from the {chosen.name} template ({len(written)} files)")
    typer.echo(f"next: cd {target} && mcp-console dev test")
