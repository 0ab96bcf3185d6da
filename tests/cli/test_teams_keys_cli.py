"""``mcp-console team …``, ``key …`` and ``deploy share|unshare``, run as a user runs them."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.commands import Cli
from tests.deploy.catalogs import SETTLE_TIMEOUT
from tests.live.helpers import SERVICE, example_cli


def acting_as(cli: Cli, api_key: str) -> Cli:
    """The same commands on the same data dir, acting as the owner of ``api_key``."""
    other = copy.copy(cli)
    other.env = {**cli.env, "MCP_CONSOLE_API_KEY": api_key}
    return other


def shown_endpoint(cli: Cli) -> str:
    """The endpoint the owner's ``deploy show`` gives for ``calc``."""
    endpoint = cli.json("deploy", "show", "calc")["endpoint_url"]
    assert isinstance(endpoint, str)
    return endpoint


def refused(cli: Cli, *args: str) -> str:
    """What a command that must fail printed on stderr (nothing on stdout)."""
    result = cli(*args, ok=False)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    return result.stderr


def test_teams_are_made_joined_shown_and_deleted(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "unused")
    cli("user", "create", "bob")
    created = cli.json("team", "create", "ops", "--description", "on call")
    assert (created["name"], created["members"]) == (
        "ops",
        [{"user": "admin", "role": "maintainer"}],
    )
    added = cli.json("team", "add", "ops", "bob", "--role", "maintainer")
    assert {"user": "bob", "role": "maintainer"} in added["members"]
    assert "ops" in cli("team", "list").stdout
    shown = cli("team", "show", "ops").stdout.splitlines()
    assert shown[0] == "ops - on call"
    assert [line.split() for line in shown[1:]] == [["admin", "maintainer"], ["bob", "maintainer"]]

    assert refused(cli, "team", "add", "ops", "nobody") == "error: no user named 'nobody' (user)\n"
    assert "(name)" in refused(cli, "team", "create", "two words")
    assert "already exists" in refused(cli, "team", "create", "ops")

    cli("team", "remove", "ops", "bob")
    assert [m["user"] for m in cli.json("team", "show", "ops")["members"]] == ["admin"]
    assert cli("team", "delete", "ops").stdout == "deleted team ops\n"
    assert cli("team", "list").stdout == "no teams\n"
    assert cli.json("team", "list") == []


def test_a_key_is_printed_once_listed_by_prefix_and_refused_once_revoked(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "unused")
    bob = acting_as(cli, cli.json("user", "create", "bob")["api_key"])
    printed = bob("key", "create", "--name", "laptop", "--expires", "30d").stdout.splitlines()
    assert printed[0].startswith("created key 'laptop' (id ")
    assert "expires" in printed[0]
    assert printed[1].startswith("API key (store it now; it cannot be shown again): mcpc_")
    secret = printed[1].rsplit(" ", 1)[1]

    listed = bob.json("key", "list")
    laptop = next(k for k in listed if k["name"] == "laptop")
    assert (laptop["state"], laptop["deployments"]) == ("active", None)
    assert secret.startswith(laptop["prefix"])
    table = bob("key", "list").stdout
    assert laptop["prefix"] in table
    assert secret not in table
    assert secret not in str(listed)
    laptop_cli = acting_as(cli, secret)
    assert laptop_cli("team", "list").stdout == "no teams\n"

    assert "positive duration" in refused(bob, "key", "create", "--expires", "soon")
    assert "--deployments" in refused(bob, "key", "create", "--deployments", "a,,b")
    assert "no deployment named 'nothing'" in refused(
        bob, "key", "create", "--deployments", "nothing"
    )
    assert "only an admin" in refused(bob, "key", "list", "--user", "admin")

    revoked = bob("key", "revoke", laptop["prefix"]).stdout
    assert revoked.startswith("revoked key 'laptop'")
    assert "refused from now on" in revoked
    assert "API key" in refused(laptop_cli, "team", "list")
    states = {k["name"]: k["state"] for k in bob.json("key", "list")}
    assert states["laptop"] == "revoked"
    assert "no key 'laptop2'" in refused(bob, "key", "revoke", "laptop2")
    assert cli.json("key", "list", "--user", "bob")[0]["name"] == "laptop"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Cli]:
    """A daemon running the admin's deployment ``calc`` of the example server."""
    with example_cli(tmp_path / "data") as cli:
        cli("deploy", "create", SERVICE, "--name", "calc", "--runtime", "process")
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while (shown := cli.json("deploy", "show", "calc"))["ready_replicas"] != 1:
            assert time.monotonic() < deadline, shown
            time.sleep(0.3)
        yield cli


def test_a_deployment_shared_with_a_team_is_used_by_its_members_as_owner_slash_name(
    running: Cli,
) -> None:
    cli = running
    bob = acting_as(cli, cli.json("user", "create", "bob")["api_key"])
    cli("team", "create", "ops")
    cli("team", "add", "ops", "bob")
    both = refused(cli, "deploy", "share", "calc", "--user", "bob", "--team", "ops")
    assert both == "error: give --user or --team, not both (user)\n"
    assert "--user USER or --team TEAM" in refused(cli, "deploy", "unshare", "calc")
    assert refused(bob, "deploy", "show", "admin/calc") == (
        "error: no deployment named 'admin/calc' (name)\n"
    )

    shared = cli("deploy", "share", "calc", "--team", "ops").stdout
    assert shared.startswith("shared calc with team ops as caller\n")
    shown = cli("deploy", "show", "calc").stdout
    assert "access: admin (owner) and the admins, and:" in shown
    assert [line.split() for line in shown.splitlines() if "team ops" in line] == [
        ["team", "ops", "caller"]
    ]

    listed = bob("deploy", "list").stdout.splitlines()
    assert listed[1].split()[0] == "admin/calc"
    assert listed[1].split()[-1] == "caller"
    assert "you: caller (address it as admin/calc)" in bob("deploy", "show", "admin/calc").stdout
    called = bob.json("deploy", "call", "admin/calc", "add", "--arg", "a=2", "--arg", "b=40")
    assert (called["is_error"], called["structured"]) == (False, {"result": 42})
    assert "only its operators, its owner and admins may scale it" in refused(
        bob, "deploy", "scale", "admin/calc", "2"
    )
    connected = json.loads(bob("connect", "admin/calc").stdout)
    assert connected["url"] == shown_endpoint(cli)

    operator = cli.json("deploy", "share", "calc", "--user", "bob", "--role", "operator")
    assert [(s["kind"], s["name"], s["role"]) for s in operator["shares"]] == [
        ("user", "bob", "operator"),
        ("team", "ops", "caller"),
    ]
    assert bob.json("deploy", "history", "admin/calc")[0]["action"] == "share"

    cli("deploy", "unshare", "calc", "--user", "bob")
    cli("deploy", "unshare", "calc", "--team", "ops")
    assert refused(bob, "deploy", "call", "admin/calc", "add") == (
        "error: no deployment named 'admin/calc' (name)\n"
    )
    assert bob("deploy", "list").stdout == "no deployments\n"
