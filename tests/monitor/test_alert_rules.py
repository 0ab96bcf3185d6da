"""Alert rules: built-ins seeded once, admins manage the rest, Prometheus gets valid rules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mcp_console.backend.monitor.alert_rules import BUILTIN_RULES, prometheus_rules
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.alerts import ALERT_METRICS, Comparison, RuleCreate, RuleView, Severity
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Principal, Role
from tests.backend.factories import make_user
from tests.conftest import _unavailable
from tests.fakes import rule_view


@pytest.fixture
def admin(runtime: Runtime) -> Principal:
    assert runtime.local_admin is not None
    return runtime.local_admin


async def test_built_in_rules_are_there_once_and_can_be_disabled_not_removed(
    runtime: Runtime, admin: Principal
) -> None:
    await runtime.alert_rules.seed()  # a second start adds nothing
    rules = await runtime.alert_rules.rules(admin)
    assert sorted(r.name for r in rules) == sorted(r.name for r in BUILTIN_RULES)
    assert all(r.builtin and r.enabled for r in rules)
    with pytest.raises(Invalid, match="disable it instead"):
        await runtime.alert_rules.remove(admin, "CrashLoop")
    off = await runtime.alert_rules.set_enabled(admin, "CrashLoop", False)
    assert not off.enabled
    await runtime.alert_rules.seed()
    [crash] = [r for r in await runtime.alert_rules.rules(admin) if r.name == "CrashLoop"]
    assert not crash.enabled  # the admin's choice survives a restart's seeding


async def test_admins_add_and_remove_rules_others_may_not(
    runtime: Runtime, admin: Principal
) -> None:
    new = RuleCreate(
        name="SlowCalls",
        metric="p95_ms",
        op=Comparison.GT,
        threshold=500,
        window_s=600,
        for_s=120,
        labels={"team": "ops"},
    )
    made = await runtime.alert_rules.add(admin, new)
    assert (made.name, made.builtin, made.deployment, made.labels) == (
        "SlowCalls",
        False,
        None,
        {"team": "ops"},
    )
    with pytest.raises(Conflict, match="'SlowCalls' exists"):
        await runtime.alert_rules.add(admin, new)
    with pytest.raises(NotFound, match="no deployment named 'ghost'"):
        await runtime.alert_rules.add(
            admin, new.model_copy(update={"name": "Other", "deployment": "ghost"})
        )
    bob = await make_user(runtime, "bob", Role.USER)
    with pytest.raises(Forbidden, match="only admins"):
        await runtime.alert_rules.add(bob, new.model_copy(update={"name": "Mine"}))
    with pytest.raises(Forbidden):
        await runtime.alert_rules.rules(bob)
    await runtime.alert_rules.remove(admin, "SlowCalls")
    assert "SlowCalls" not in {r.name for r in await runtime.alert_rules.rules(admin)}
    with pytest.raises(NotFound, match="no alert rule named 'SlowCalls'"):
        await runtime.alert_rules.remove(admin, "SlowCalls")


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"metric": "cpu"}, "unknown metric 'cpu'"),
        ({"labels": {"alertname": "x"}}, "not a label name you may set"),
        ({"labels": {"bad-name": "x"}}, "not a label name you may set"),
        ({"window_s": 1}, "window_s"),
        ({"name": "two words"}, "name"),
    ],
)
def test_bad_rules_are_refused_by_name(fields: dict[str, object], named: str) -> None:
    base: dict[str, object] = {"name": "R", "metric": "errors", "threshold": 1}
    with pytest.raises(ValueError, match=named):
        RuleCreate.model_validate({**base, **fields})


def _every_exportable_rule() -> list[RuleView]:
    """A rule on each metric, with and without a deployment, a duration and labels."""
    rules = []
    for n, metric in enumerate(ALERT_METRICS):
        new = RuleCreate(
            name=f"R{n}",
            metric=metric,
            op=list(Comparison)[n % len(Comparison)],
            threshold=n / 10,
            window_s=60 * (n + 1),
            for_s=30 * (n % 2),
            severity=Severity.CRITICAL,
            labels={"team": "ops"} if n % 2 else {},
        )
        view = rule_view(new, builtin=False)
        rules.append(view.model_copy(update={"deployment": "admin/time"}) if n % 3 else view)
    return rules


def test_the_prometheus_export_is_a_rules_file_promtool_accepts(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        _unavailable(
            "promtool", "MCP_CONSOLE_REQUIRE_PROMETHEUS", "not on PATH", "scripts/test installs it"
        )
    rules = _every_exportable_rule()
    text = prometheus_rules(rules)
    path = tmp_path / "rules.yml"
    path.write_text(text)
    checked = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    exported = yaml.safe_load(text)["groups"][0]["rules"]
    # Every figure /metrics carries is exported; those it does not (instances unavailable,
    # definition drift) are named, not dropped.
    assert len(exported) == len(rules) - 2
    assert text.startswith("# Not exported (their figures are not on /metrics): R")
    scoped = next(r for r in exported if r["alert"] == "R1")
    assert 'deployment="admin/time"' in scoped["expr"]
    assert scoped["labels"] == {"team": "ops", "severity": "critical"}
    assert scoped["for"] == "30s"
