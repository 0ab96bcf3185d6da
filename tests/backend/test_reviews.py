"""Reviews: one per user and service, ratings 1..5, and an aggregate that stays exact."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from mcp_console.backend.db.models import ServiceReview
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import MAX_COMMENT_LENGTH, ReviewCreate, ServiceCreate
from mcp_console.schemas.errors import NotFound
from mcp_console.schemas.users import Role
from tests.backend.factories import make_user, published


async def test_a_second_review_by_the_same_user_replaces_the_first(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    bob = await make_user(runtime, "bob", Role.USER)
    await published(runtime, alice, "weather")
    await runtime.catalog.add_review(bob, "weather", ReviewCreate(rating=2, comment="slow"))
    await runtime.catalog.add_review(bob, "weather", ReviewCreate(rating=5, comment="fixed!"))
    reviews = await runtime.catalog.list_reviews(None, "weather")
    assert [(r.user, r.rating, r.comment) for r in reviews] == [("bob", 5, "fixed!")]
    detail = await runtime.catalog.get_service(None, "weather")
    assert (detail.rating_average, detail.rating_count) == (5.0, 1)
    assert detail.rating_histogram == {1: 0, 2: 0, 3: 0, 4: 0, 5: 1}


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_ratings_outside_one_to_five_are_refused(rating: int) -> None:
    with pytest.raises(ValidationError, match="rating"):
        ReviewCreate(rating=rating)


def test_comments_are_capped() -> None:
    with pytest.raises(ValidationError, match="comment"):
        ReviewCreate(rating=3, comment="x" * (MAX_COMMENT_LENGTH + 1))


async def test_drafts_and_unknown_services_cannot_be_reviewed(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await runtime.catalog.register(alice, ServiceCreate(name="draft"))
    for name in ("draft", "missing"):
        with pytest.raises(NotFound):
            await runtime.catalog.add_review(alice, name, ReviewCreate(rating=4))
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ServiceReview)) == 0


async def test_concurrent_reviewers_leave_an_exact_average(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await published(runtime, alice, "weather")
    users = [await make_user(runtime, f"user{i}", Role.USER) for i in range(12)]
    ratings = [(i % 5) + 1 for i in range(12)]
    # Everyone reviews at once, then half of them change their minds at once.
    await asyncio.gather(
        *(
            runtime.catalog.add_review(u, "weather", ReviewCreate(rating=r))
            for u, r in zip(users, ratings, strict=True)
        )
    )
    for i in range(0, 12, 2):
        ratings[i] = 5
    await asyncio.gather(
        *(
            runtime.catalog.add_review(users[i], "weather", ReviewCreate(rating=5))
            for i in range(0, 12, 2)
        )
    )
    detail = await runtime.catalog.get_service(None, "weather")
    assert detail.rating_count == 12
    assert detail.rating_average == pytest.approx(sum(ratings) / 12, abs=1e-4)
    assert sum(detail.rating_histogram.values()) == 12
