"""Sample catalog data for the TUI's tests and snapshots, dated by a frozen clock."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from mcp_console.schemas.catalog import (
    PriceModel,
    ReviewView,
    ServiceDetail,
    ServiceStatus,
    Transport,
    VersionView,
)

# The clock every snapshot is taken at; fixture data is dated relative to it.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def frozen_clock() -> datetime:
    """The snapshot tests' clock."""
    return NOW


def version(
    number: str,
    *,
    latest: bool = False,
    changelog: str = "",
    config_schema: dict[str, Any] | None = None,
    tools: list[dict[str, Any]] | None = None,
    days_ago: int = 10,
    published: bool = True,
) -> VersionView:
    """A version as the backend would return it."""
    return VersionView(
        id=abs(hash(number)) % 10_000,
        version=number,
        changelog=changelog,
        docker_image=None,
        packages=[],
        command=["python", "-m", "server"],
        transport=Transport.STDIO,
        config_schema=config_schema or {},
        api_spec={"tools": tools} if tools else {},
        remotes=[],
        is_latest=latest,
        is_prerelease="-" in number,
        published=published,
        created_at=NOW - timedelta(days=days_ago),
    )


def service(
    name: str,
    *,
    display_name: str | None = None,
    description: str = "",
    category: str | None = None,
    tags: list[str] | None = None,
    author: str = "acme",
    price: PriceModel = PriceModel.FREE,
    per_request: str = "0",
    status: ServiceStatus = ServiceStatus.PUBLISHED,
    featured: bool = False,
    downloads: int = 0,
    histogram: dict[int, int] | None = None,
    versions: list[VersionView] | None = None,
    readme: str | None = None,
    deprecation: str | None = None,
    index: int = 0,
) -> ServiceDetail:
    """A service with everything its detail page shows; the rating follows the histogram."""
    histogram = histogram or {}
    count = sum(histogram.values())
    average = sum(k * v for k, v in histogram.items()) / count if count else 0.0
    versions = versions if versions is not None else [version("1.0.0", latest=True)]
    latest = next((v.version for v in versions if v.is_latest), None)
    return ServiceDetail(
        id=index + 1,
        name=name,
        display_name=display_name or name.rsplit("/", 1)[-1].title(),
        description=description,
        category=category,
        tags=tags or [],
        author=author,
        price_model=price,
        price_per_request=Decimal(per_request),
        status=status,
        featured=featured,
        downloads_count=downloads,
        rating_average=average,
        rating_count=count,
        latest_version=latest,
        created_at=NOW - timedelta(days=40 + index),
        updated_at=NOW - timedelta(days=2 + index),
        repository_url=f"https://github.com/{author}/{name.rsplit('/', 1)[-1]}",
        documentation_url=None,
        icon_url=None,
        readme=readme,
        deprecation_message=deprecation,
        versions=versions,
        rating_histogram={k: histogram.get(k, 0) for k in range(1, 6)},
    )


def many_services(count: int) -> list[ServiceDetail]:
    """``count`` plain services, for paging."""
    width = int(math.log10(max(count, 1))) + 1
    return [
        service(
            f"svc-{i:0{width}d}",
            description=f"Service number {i}",
            category=("devops", "database", "search")[i % 3],
            downloads=count - i,
            histogram={(i % 5) + 1: 1},
            index=i,
        )
        for i in range(count)
    ]


WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "API_KEY": {
            "type": "string",
            "description": "OpenWeatherMap API key",
            "x-secret": True,
            "x-env": "API_KEY",
        },
        "UNITS": {
            "type": "string",
            "enum": ["metric", "imperial"],
            "default": "metric",
            "description": "Units of measurement",
        },
        "CACHE_SECONDS": {"type": "integer", "default": 300, "description": "Cache lifetime"},
    },
    "required": ["API_KEY"],
}
WEATHER_TOOLS: list[dict[str, Any]] = [
    {
        "name": "forecast",
        "description": "Daily forecast for a place",
        "inputSchema": {
            "type": "object",
            "properties": {
                "place": {"type": "string", "description": "City or coordinates"},
                "days": {"type": "integer", "default": 3, "description": "1 to 10"},
            },
            "required": ["place"],
        },
    },
    {
        "name": "alerts",
        "description": "Active weather alerts",
        "inputSchema": {
            "type": "object",
            "properties": {"region": {"type": "string", "enum": ["eu", "us", "asia"]}},
        },
    },
]
WEATHER_README = """# Weather

Forecasts and alerts from **OpenWeatherMap**, for assistants that plan trips.

## Setup

1. Get an API key.
2. Deploy with `API_KEY` set.

```json
{"place": "Lyon", "days": 2}
```
"""


def sample_catalog() -> list[ServiceDetail]:
    """A small, varied catalog for the snapshots and flows."""
    return [
        service(
            "acme/weather",
            display_name="Weather",
            description="Forecasts and weather alerts for any place on Earth.",
            category="data",
            tags=["weather", "forecast", "api"],
            author="acme",
            price=PriceModel.FREEMIUM,
            featured=True,
            downloads=12_840,
            histogram={5: 12, 4: 5, 3: 1, 2: 0, 1: 1},
            readme=WEATHER_README,
            versions=[
                version(
                    "2.1.0",
                    latest=True,
                    changelog="- Alerts for Asia\n- Faster forecasts",
                    config_schema=WEATHER_SCHEMA,
                    tools=WEATHER_TOOLS,
                    days_ago=3,
                ),
                version(
                    "2.2.0-rc.1",
                    changelog="Hourly forecasts (preview)",
                    days_ago=1,
                    config_schema=WEATHER_SCHEMA,
                    tools=WEATHER_TOOLS,
                ),
                version(
                    "2.0.0",
                    changelog="First stable release",
                    days_ago=60,
                    config_schema=WEATHER_SCHEMA,
                ),
            ],
            index=0,
        ),
        service(
            "io.github.octo/github",
            display_name="GitHub",
            description="Issues, pull requests and code search on GitHub.",
            category="developer-tools",
            tags=["git", "vcs", "api"],
            author="octo",
            featured=True,
            downloads=98_200,
            histogram={5: 40, 4: 8, 3: 2},
            index=1,
        ),
        service(
            "pg/postgres",
            display_name="Postgres",
            description="Read-only SQL over a PostgreSQL database.",
            category="database",
            tags=["sql", "database"],
            author="admin",
            price=PriceModel.PAID,
            per_request="0.002",
            downloads=4_410,
            histogram={4: 3, 3: 3},
            index=2,
        ),
        service(
            "team/slack",
            display_name="Slack",
            description="Post and search messages in Slack channels.",
            category="communication",
            tags=["chat", "api"],
            author="team",
            downloads=760,
            index=3,
        ),
        service(
            "old/fetcher",
            display_name="Fetcher",
            description="Fetches web pages as Markdown.",
            category="web",
            tags=["web"],
            author="admin",
            status=ServiceStatus.DEPRECATED,
            deprecation="Use acme/browser instead.",
            downloads=150,
            index=4,
        ),
        service(
            "admin/notes",
            display_name="Notes",
            description="A notes server still being written.",
            category="productivity",
            author="admin",
            status=ServiceStatus.DRAFT,
            versions=[version("0.1.0", latest=True, published=False)],
            index=5,
        ),
    ]


def sample_reviews() -> list[ReviewView]:
    """Reviews of the weather service, newest first."""
    return [
        ReviewView(
            id=2,
            service="acme/weather",
            user="maria",
            rating=5,
            comment="Reliable, and the alerts saved a hiking trip.",
            created_at=NOW - timedelta(days=2),
            updated_at=NOW - timedelta(days=2),
        ),
        ReviewView(
            id=1,
            service="acme/weather",
            user="li",
            rating=2,
            comment="The free tier runs out quickly.",
            created_at=NOW - timedelta(days=30),
            updated_at=NOW - timedelta(days=20),
        ),
    ]


def starter_like_catalog() -> list[ServiceDetail]:
    """Services named like the starter catalog's: one long name, no downloads nor ratings."""
    return [
        service(
            "io.mcp-console/example",
            display_name="Example server",
            category="developer-tools",
            index=0,
        ),
        service("io.mcp-console/git", display_name="Git", category="developer-tools", index=1),
        service("io.mcp-console/time", display_name="Time", category="utilities", index=2),
    ]
