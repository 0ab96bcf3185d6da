"""Alert rules and notification targets are added, refused and removed alike through every
client: the refusal names the field a form shows it under, and a secret never comes back."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_console.schemas.alerts import RuleCreate, TargetCreate, TargetKind
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients

SECRET = "s3cr3t-hmac-key-0042"


def _rule(**fields: Any) -> RuleCreate:
    """A rule as a form or the CLI sends it: unchecked, for the client to refuse."""
    values: dict[str, Any] = {
        "name": "SlowFetch",
        "metric": "p95_ms",
        "threshold": 1500.0,
        "window_s": 300,
        "for_s": 0,
        "deployment": None,
        "labels": {},
    }
    return RuleCreate.model_construct(**(values | fields))


async def test_rules_are_refused_at_their_field_added_and_removed(clients: Clients) -> None:
    admin = await clients.admin()
    refusals = [
        (_rule(window_s=5), "window_s"),
        (_rule(for_s=-1), "for_s"),
        (_rule(metric="latency"), "metric"),
        (_rule(name="1st"), "name"),
        (_rule(labels={"severity": "page"}), "labels"),
    ]
    for rule, field in refusals:
        with pytest.raises(Invalid) as refused:
            await admin.add_alert_rule(rule)
        assert refused.value.field == field
    with pytest.raises(NotFound, match="nowhere"):
        await admin.add_alert_rule(_rule(deployment="nowhere"))
    assert "SlowFetch" not in [r.name for r in await admin.list_alert_rules()]

    added = await admin.add_alert_rule(_rule(labels={"team": "search"}))
    assert (added.name, added.window_s, added.labels, added.builtin) == (
        "SlowFetch",
        300,
        {"team": "search"},
        False,
    )
    with pytest.raises(Conflict) as taken:
        await admin.add_alert_rule(_rule())
    assert taken.value.field == "name"
    await admin.remove_alert_rule("SlowFetch")
    assert "SlowFetch" not in [r.name for r in await admin.list_alert_rules()]
    with pytest.raises(NotFound):
        await admin.remove_alert_rule("SlowFetch")

    # Built-in rules stay: the backend says to turn them off instead.
    with pytest.raises(Invalid, match="built in") as kept:
        await admin.remove_alert_rule("CrashLoop")
    assert kept.value.field == "name"
    assert "CrashLoop" in [r.name for r in await admin.list_alert_rules()]

    user = await clients.user("bob", Role.USER)
    with pytest.raises(Forbidden):
        await user.add_alert_rule(_rule(name="Mine"))


async def test_targets_are_refused_at_their_field_and_their_secret_stays_hidden(
    clients: Clients,
) -> None:
    admin = await clients.admin()

    def target(url: str, secret: str | None = None, name: str = "pager") -> TargetCreate:
        return TargetCreate.model_construct(name=name, url=url, secret=secret)

    refusals = [
        (target("ftp://files.example.com"), "url"),
        (target("alertmanager://am.example.com"), "url"),
        (target("slack://T000/B000/XXXX", SECRET), "secret"),
        (target("https://hooks.example.com/pager", "short"), "secret"),
        (target("https://hooks.example.com/pager", name="a b"), "name"),
    ]
    for new, field in refusals:
        with pytest.raises(Invalid) as refused:
            await admin.add_alert_target(new)
        assert refused.value.field == field
        assert SECRET not in refused.value.message
    assert await admin.list_alert_targets() == []

    added = await admin.add_alert_target(target("https://hooks.example.com/pager", SECRET))
    assert (added.name, added.kind, added.signed) == ("pager", TargetKind.WEBHOOK, True)
    listed = await admin.list_alert_targets()
    assert [t.name for t in listed] == ["pager"]
    assert SECRET not in listed[0].model_dump_json()
    with pytest.raises(Conflict):
        await admin.add_alert_target(target("https://hooks.example.com/other"))

    user = await clients.user("bob", Role.USER)
    with pytest.raises(Forbidden):
        await user.add_alert_target(target("https://hooks.example.com/mine", name="mine"))
    with pytest.raises(Forbidden):
        await user.remove_alert_target("pager")

    await admin.remove_alert_target("pager")
    assert await admin.list_alert_targets() == []
    with pytest.raises(NotFound):
        await admin.remove_alert_target("pager")
