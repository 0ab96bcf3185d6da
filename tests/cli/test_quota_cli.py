"""``billing quota set|list|rm``: limits set, listed with their use, removed; bad input named."""

from __future__ import annotations

from pathlib import Path

from tests.cli.commands import Cli


def test_quotas_are_set_listed_and_removed(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "quota-cli")
    cli("user", "create", "bob")

    made = cli.json("billing", "quota", "set", "--user", "bob", "--requests", "500", "--per", "day")
    budget = cli.json("billing", "quota", "set", "--user", "bob", "--spend", "12.50")
    listed = cli.json("billing", "quota", "list")
    shown = cli("billing", "quota", "list").stdout.splitlines()
    removed = cli("billing", "quota", "rm", str(made["id"]))
    after = cli.json("billing", "quota", "list")

    assert (made["scope"], made["subject"], made["kind"], made["period"], made["allowed"]) == (
        "user",
        "bob",
        "requests",
        "day",
        "500",
    )
    assert (budget["kind"], budget["period"], budget["allowed"], budget["currency"]) == (
        "spend",
        "month",
        "12.5",
        "USD",
    )
    assert [q["id"] for q in listed] == [made["id"], budget["id"]]
    assert shown[0].startswith(f"#{made['id']:<4} user bob: 0/500 requests per day (0 %")
    assert "0/12.5 USD spend per month" in shown[1]
    assert removed.stdout.strip() == f"quota {made['id']} removed"
    assert [q["id"] for q in after] == [budget["id"]]


def test_bad_quotas_are_refused_naming_what_is_wrong(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "quota-cli-bad")
    cli("user", "create", "bob")

    two = cli(
        "billing", "quota", "set", "--user", "bob", "--team", "x", "--requests", "5", ok=False
    )
    none = cli("billing", "quota", "set", "--user", "bob", ok=False)
    second = cli(
        "billing", "quota", "set", "--user", "bob", "--requests", "5", "--per", "second", ok=False
    )
    nobody = cli("billing", "quota", "set", "--user", "nobody", "--requests", "5", ok=False)
    gone = cli("billing", "quota", "rm", "99", ok=False)

    assert "name one of --user, --team, --key or --deployment (subject)" in two.stderr
    assert "give one of --requests, --spend or --rate (allowed)" in none.stderr
    assert "a requests quota is counted per day or month, not per second" in second.stderr
    assert nobody.stderr == "error: no user 'nobody' (subject)\n"
    assert "no quota 99" in gone.stderr
