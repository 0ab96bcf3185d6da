"""``mcp-console catalog …``: import, search, show, publish, deprecate, categories, export."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mcp_console.backend.catalog.formats import read_catalog_path
from mcp_console.cli.billing import set_service_price
from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run
from mcp_console.schemas.catalog import (
    CategoryCount,
    PriceModel,
    ServiceDetail,
    ServiceView,
    TagCount,
)
from mcp_console.schemas.errors import Invalid

app = typer.Typer(help="Browse and manage the service catalog.", no_args_is_help=True)


def _stars(average: float, count: int) -> str:
    return f"{'★' * round(average)}{'☆' * (5 - round(average))} ({count})" if count else "-"


def _print_rows(items: list[ServiceView]) -> None:
    for s in items:
        typer.echo(
            f"{s.name:<48} {s.category or '-':<16} {_stars(s.rating_average, s.rating_count):<12} "
            f"{s.downloads_count:>8}  {s.price_model.value:<8} {s.status.value}"
        )


def _print_counts(rows: list[CategoryCount] | list[TagCount]) -> None:
    for row in rows:
        typer.echo(f"{row.name:<30} {row.count:>6}")


def _print_detail(d: ServiceDetail) -> None:
    typer.echo(f"{d.display_name}  ({d.name})  [{d.status.value}]")
    if d.deprecation_message:
        typer.echo(f"deprecated: {d.deprecation_message}")
    typer.echo(d.description)
    typer.echo(f"author: {d.author}   category: {d.category or '-'}   tags: {', '.join(d.tags)}")
    typer.echo(
        f"rating: {_stars(d.rating_average, d.rating_count)}   downloads: {d.downloads_count}"
    )
    for v in d.versions:
        marks = " (latest)" if v.is_latest else ""
        typer.echo(f"  {v.version}{marks}  {v.docker_image or ''}")


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="A file or a directory of catalog documents."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import server.json files, a registry seed, or Docker's catalog directory."""
    with reported_errors():
        if not path.exists():
            raise Invalid(f"{path} does not exist", field="path")
        documents = read_catalog_path(path)
    report = run(lambda c: c.import_catalog(documents))

    def human() -> None:
        typer.echo(
            f"created {len(report.created)}, updated {len(report.updated)}, "
            f"unchanged {len(report.unchanged)}, problems {len(report.problems)}"
        )
        for p in report.problems:
            typer.echo(f"  {p.origin}: {p.entry or ''}: {p.reason}", err=True)

    emit(report, as_json, human)


@app.command()
def search(
    query: str = typer.Argument("", help='Words and filters, e.g. "tag:database sort:name".'),
    page: int = typer.Option(1, min=1),
    page_size: int = typer.Option(20, min=1, max=500),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search the catalog (filters: category tag price status author featured sort)."""
    result = run(lambda c: c.search_services(query, page=page, page_size=page_size))

    def human() -> None:
        _print_rows(result.items)
        typer.echo(f"{result.total_text()} match(es); page {result.page}")

    emit(result, as_json, human)


@app.command()
def show(name: str, as_json: bool = JSON_OPTION) -> None:
    """Show a service with its versions."""
    detail = run(lambda c: c.get_service(name))
    emit(detail, as_json, lambda: _print_detail(detail))


@app.command()
def publish(
    file: Path = typer.Argument(..., help="A server.json document."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Register or update a service from a server.json and publish that version."""
    with reported_errors():
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as error:
            raise Invalid(f"cannot read {file}: {error.strerror}", field="file") from None
    detail = run(lambda c: c.publish_server_json(text, str(file)))
    emit(detail, as_json, lambda: typer.echo(f"published {detail.name}"))


@app.command()
def deprecate(
    name: str,
    message: str = typer.Option(..., "--message", "-m", help="What users should do instead."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Deprecate a service (published services are never deleted)."""
    detail = run(lambda c: c.deprecate_service(name, message))
    emit(detail, as_json, lambda: typer.echo(f"deprecated {detail.name}"))


@app.command()
def price(
    name: str = typer.Argument(..., help="The service's name."),
    model: PriceModel = typer.Option(
        ...,
        "--model",
        "-m",
        case_sensitive=False,
        help="FREE, PAID (per call) or FREEMIUM (a free allowance, then per call).",
    ),
    per_call: str = typer.Option("0", "--price", "-p", help="The price of one call."),
    free: int = typer.Option(
        0, "--free-requests", help="FREEMIUM: calls per user per calendar month that cost nothing."
    ),
    tool: str | None = typer.Option(None, "--tool", help="Price only this tool's calls."),
    start: str | None = typer.Option(
        None, "--from", help="A whole hour (UTC unless it says) in the future; default: the next."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Price a service (or one of its tools) for billing, from the next whole hour on.

    Examples: ``catalog price weather --model paid --price 0.002``,
    ``catalog price weather --model freemium --price 0.002 --free-requests 1000``,
    ``catalog price weather --tool forecast --model paid --price 0.01``.
    """
    set_service_price(
        name, per_call, tool=tool, free=free, start=start, as_json=as_json, model=model
    )


@app.command()
def categories(as_json: bool = JSON_OPTION) -> None:
    """Categories with their service counts."""
    rows = run(lambda c: c.list_categories())
    emit(rows, as_json, lambda: _print_counts(rows))


@app.command()
def tags(limit: int = typer.Option(50, min=1, max=1000), as_json: bool = JSON_OPTION) -> None:
    """The most used tags with their service counts."""
    rows = run(lambda c: c.list_tags(limit))
    emit(rows, as_json, lambda: _print_counts(rows))


@app.command()
def export(
    ref: str = typer.Argument(..., help="NAME or NAME@VERSION"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file."),
) -> None:
    """Export a version as an official registry server.json."""
    name, _, version = ref.rpartition("@") if "@" in ref else (ref, "", "")
    document = run(lambda c: c.export_server_json(name, version or None))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
