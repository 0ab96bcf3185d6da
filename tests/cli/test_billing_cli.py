"""``billing price set|list`` and ``billing usage``: JSON answers, and refusals naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.commands import Cli

SERVICE = "io.example/billed"
SERVER_JSON = {
    "name": SERVICE,
    "description": "Billed per call",
    "version": "1.0.0",
    "packages": [
        {
            "registryType": "pypi",
            "identifier": "billed-mcp",
            "version": "1.0.0",
            "transport": {"type": "stdio"},
        }
    ],
}


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI on its own data dir, with no daemon: each command runs its own backend."""
    server = tmp_path / "server.json"
    server.write_text(json.dumps(SERVER_JSON))
    cli = Cli(tmp_path / "data", "billing-cli")
    cli("catalog", "publish", str(server))
    return cli


def test_prices_are_set_and_listed_and_usage_answers_in_json(cli: Cli) -> None:
    later = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    when = later.strftime("%Y-%m-%dT%H:%M")

    set_ = cli.json("billing", "price", "set", SERVICE, "--per-call", "0.002", "--free", "1000")
    tool = cli.json(
        "billing", "price", "set", SERVICE, "--per-call", "0.01", "--tool", "render", "--from", when
    )
    listed = cli.json("billing", "price", "list", SERVICE)
    shown = cli("billing", "price", "list", SERVICE).stdout.splitlines()
    usage = cli.json("billing", "usage", "--by", "day")

    assert (set_["model"], set_["per_call"], set_["free_requests"]) == ("FREEMIUM", "0.002", 1000)
    assert (tool["model"], tool["tool"], tool["effective_from"]) == (
        "PAID",
        "render",
        later.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert [(p["tool"], p["model"], p["set_by"]) for p in listed] == [
        (None, "FREE", None),  # the catalog's, until the first price of its own
        (None, "FREEMIUM", "admin"),
        ("render", "PAID", "admin"),
    ]
    assert shown[1].startswith(f"{SERVICE}  *  FREEMIUM  0.002 USD/call  1000 free/user/month")
    assert shown[2].endswith("by admin")
    assert usage["by"] == "day"
    assert usage["currency"] == "USD"
    assert usage["rows"] == []
    assert usage["total"]["cost"] == "0.00"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["price", "set", SERVICE, "--per-call", "-0.5"],
            "error: per_call: Input should be greater than or equal to 0 (per_call)",
        ),
        (
            ["price", "set", "io.example/none", "--per-call", "1"],
            "error: no service named 'io.example/none' (service)",
        ),
        (
            ["price", "set", SERVICE, "--per-call", "1", "--tool", "t", "--free", "5"],
            "error: free_requests: an allowance is per service, not per tool (free_requests)",
        ),
        (
            ["price", "set", SERVICE, "--per-call", "1", "--from", "2020-01-01T00:00"],
            "error: effective_from 2020-01-01T00:00:00+00:00 is in the past: usage already",
        ),
        (
            ["usage", "--from", "2026-12-05", "--to", "2026-12-01"],
            "error: to must be after from (to)",
        ),
        (["revenue", "--author", "nobody"], "error: no user named 'nobody' (author)"),
        (["revenue", "--from", "soon"], "error: from 'soon' is not a month"),
    ],
)
def test_bad_input_is_refused_naming_what_is_wrong(cli: Cli, args: list[str], said: str) -> None:
    refused = cli("billing", *args, ok=False)
    assert refused.stderr.startswith(said)
    assert refused.stdout == ""
    # Nothing was written by a refusal.
    assert [p["set_by"] for p in cli.json("billing", "price", "list", SERVICE)] == [None]


def test_catalog_price_sets_the_price_billing_charges_and_refuses_what_does_not_fit(
    cli: Cli,
) -> None:
    freemium = cli.json(
        "catalog", "price", SERVICE, "--model", "freemium", "--price", "0.002",
        "--free-requests", "1000",
    )  # fmt: skip
    tool = cli.json(
        "catalog", "price", SERVICE, "--tool", "render", "--model", "paid", "--price", "0.01"
    )
    free_with_price = cli("catalog", "price", SERVICE, "--model", "free", "--price", "1", ok=False)
    paid_without = cli("catalog", "price", SERVICE, "--model", "paid", ok=False)

    assert (freemium["model"], freemium["per_call"], freemium["free_requests"]) == (
        "FREEMIUM",
        "0.002",
        1000,
    )
    assert (tool["tool"], tool["model"], tool["per_call"]) == ("render", "PAID", "0.01")
    assert [(p["tool"], p["model"]) for p in cli.json("billing", "price", "list", SERVICE)] == [
        (None, "FREE"),
        (None, "FREEMIUM"),
        ("render", "PAID"),
    ]
    assert free_with_price.stderr.startswith("error: per_call: a FREE price costs 0 per call")
    assert paid_without.stderr.startswith("error: per_call: a PAID price needs a price per call")
