"""``mcp-console review …``: rate and comment on services."""

from __future__ import annotations

import typer

from mcp_console.cli.context import JSON_OPTION, emit, run
from mcp_console.schemas.catalog import MAX_COMMENT_LENGTH, ReviewCreate
from mcp_console.schemas.errors import Invalid

app = typer.Typer(help="Read and write reviews.", no_args_is_help=True)


def _review(rating: int, comment: str) -> ReviewCreate:
    # Checked here too so the message names the option, as the API's does the field.
    if not 1 <= rating <= 5:
        raise Invalid(f"rating must be between 1 and 5, not {rating}", field="rating")
    if len(comment) > MAX_COMMENT_LENGTH:
        raise Invalid(f"comment is longer than {MAX_COMMENT_LENGTH} characters", field="comment")
    return ReviewCreate(rating=rating, comment=comment)


@app.command()
def add(
    name: str,
    rating: int = typer.Option(..., "--rating", "-r", help="1 to 5 stars."),
    comment: str = typer.Option("", "--comment", "-c"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add your review of a service, or update the one you wrote."""
    review = run(lambda c: c.add_review(name, _review(rating, comment)))
    emit(review, as_json, lambda: typer.echo(f"reviewed {name}: {review.rating}/5"))


@app.command("list")
def list_(name: str, as_json: bool = JSON_OPTION) -> None:
    """Reviews of a service, newest first."""
    reviews = run(lambda c: c.list_reviews(name))

    def human() -> None:
        for r in reviews:
            typer.echo(f"{'★' * r.rating:<5} {r.user:<20} {r.updated_at:%Y-%m-%d}  {r.comment}")

    emit(reviews, as_json, human)
