"""``audit list`` and ``audit export``: each command's changes are in the trail at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.commands import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI on its own data dir, with no daemon: each command runs its own backend."""
    return Cli(tmp_path / "data", "audit-cli")


def test_changes_made_by_commands_are_listed_and_exported(cli: Cli) -> None:
    cli("team", "create", "ops")
    cli("team", "create", "dev")
    cli("team", "delete", "dev")

    listed = cli.json("audit", "list")
    teams = cli("audit", "list", "--kind", "team", "--since", "1h").stdout.splitlines()
    exported = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    only_one = cli.json("audit", "list", "--kind", "team.created", "--limit", "1")

    # The first run made the local admin (the console did); then the admin's own changes.
    assert [(e["kind"], e["actor"], e["target"], e["via"]) for e in reversed(listed)] == [
        ("user.created", "console", "admin", None),
        ("team.created", "admin", "ops", "local"),
        ("team.created", "admin", "dev", "local"),
        ("team.deleted", "admin", "dev", "local"),
    ]
    assert [line.split(" ", 2)[2] for line in teams] == [
        "admin via local team.deleted dev",
        "admin via local team.created dev",
        "admin via local team.created ops",
    ]
    assert exported == listed
    assert [e["target"] for e in only_one] == ["dev"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--kind", "deploy"],
            "error: no audit event kind 'deploy'; use a kind such as deployment.scaled or a "
            "group: alert, catalog, deployment, key, metering, price, quota, review, secret, "
            "service, team, tool, user, version (kind)",
        ),
        (
            ["--since", "soon"],
            "error: since 'soon' is neither a duration (30d, 12h, 90m or 2w) nor an ISO 8601"
            " time (since)",
        ),
        (["--since", "1h", "--until", "2h"], "error: since must be before until (since)"),
        (["-d", "nobody/web"], "error: no user named 'nobody' (deployment)"),
    ],
)
def test_a_bad_filter_is_refused_naming_what_is_wrong(cli: Cli, args: list[str], said: str) -> None:
    refused = cli("audit", "list", *args, ok=False)
    assert refused.stderr == said + "\n"
    assert refused.stdout == ""
    exported = cli("audit", "export", *args, ok=False)
    assert exported.stderr == said + "\n"
