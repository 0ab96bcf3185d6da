"""The routing table and the load balancer, on their own."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from mcp_console.backend.gateway.balancer import LoadBalancer
from mcp_console.backend.gateway.routing import DeploymentRoute, RoutingTable, UpstreamInstance
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.users import Principal, Role

from .helpers import RecordingMeter


def http(instance_id: str, port: int = 9000) -> UpstreamInstance:
    return UpstreamInstance(instance_id, "streamable-http", url=f"http://127.0.0.1:{port}/mcp")


def table_with(*instances: UpstreamInstance) -> tuple[RoutingTable, DeploymentRoute]:
    table = RoutingTable()
    route = table.upsert_deployment(
        DeploymentRoute(deployment_id=1, owner_id=10, owner_name="alice", name="calc")
    )
    for instance in instances:
        table.set_instance(1, instance)
    return table, route


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deployments_are_found_by_owner_and_name_and_follow_renames() -> None:
    table, route = table_with(http("a"))
    assert table.lookup("alice", "calc") is route
    assert route.path == "/mcp/alice/calc"
    renamed = table.upsert_deployment(
        DeploymentRoute(
            deployment_id=1,
            owner_id=10,
            owner_name="alice",
            name="calculator",
            allowed_user_ids=frozenset({11}),
            allowed_team_ids=frozenset({7}),
        )
    )
    assert renamed is route
    assert table.lookup("alice", "calc") is None
    assert table.lookup("alice", "calculator") is route
    assert set(route.instances) == {"a"}  # instances survive an update

    def who(user_id: int, **fields: Any) -> Principal:
        return Principal(user_id=user_id, name=f"u{user_id}", role=Role.USER, **fields)

    callers = {
        "owner": who(10),
        "shared user": who(11),
        "stranger": who(12),
        "team member": who(13, team_ids=frozenset({7})),
        "other team": who(14, team_ids=frozenset({8})),
        "admin": Principal(user_id=15, name="root", role=Role.ADMIN),
        "owner, key scoped elsewhere": who(10, scope=frozenset({2})),
        "owner, key scoped here": who(10, scope=frozenset({1})),
    }
    assert {name: route.may_call(p) for name, p in callers.items()} == {
        "owner": True,
        "shared user": True,
        "stranger": False,
        "team member": True,
        "other team": False,
        "admin": True,
        "owner, key scoped elsewhere": False,
        "owner, key scoped here": True,
    }
    with pytest.raises(Invalid, match="already routes to another deployment"):
        table.upsert_deployment(
            DeploymentRoute(deployment_id=2, owner_id=10, owner_name="alice", name="calculator")
        )
    table.remove_deployment(1)
    assert table.lookup("alice", "calculator") is None
    assert table.get(1) is None


def test_instances_must_be_reachable_only_on_loopback() -> None:
    with pytest.raises(Invalid, match=r"127\.0\.0\.1") as outside:
        UpstreamInstance("x", "streamable-http", url="http://10.0.0.5:8000/mcp")
    assert outside.value.field == "url"
    with pytest.raises(Invalid, match="no channel"):
        UpstreamInstance("x", "stdio")
    with pytest.raises(Invalid, match="session_mode"):
        DeploymentRoute(
            deployment_id=1,
            owner_id=1,
            owner_name="a",
            name="b",
            session_mode="sticky",  # type: ignore[arg-type]
        )
    table, _ = table_with()
    with pytest.raises(NotFound):
        table.set_instance(99, http("a"))
    with pytest.raises(NotFound, match="no instance 'zz'"):
        table.mark_draining(1, "zz")


def test_replacing_an_instance_ends_it_but_new_flags_do_not() -> None:
    table, route = table_with(http("a"))
    gone: list[str] = []
    table.add_listener(lambda deployment_id, instance: gone.append(instance.instance_id))
    table.set_instance(
        1, UpstreamInstance("a", "streamable-http", url=route.instances["a"].url, healthy=False)
    )
    assert gone == []
    assert not route.candidates
    table.set_health(1, "a", True)
    assert [i.instance_id for i in route.candidates] == ["a"]
    table.set_instance(1, http("a", port=9001))  # same id, a new server
    assert gone == ["a"]
    table.remove_instance(1, "a")
    table.remove_instance(1, "a")  # already gone: nothing more to report
    assert gone == ["a", "a"]


def test_least_in_flight_wins_and_ties_rotate() -> None:
    a, b, c = http("a"), http("b", 9001), http("c", 9002)
    table, route = table_with(a, b, c)
    meter = RecordingMeter()
    balancer = LoadBalancer(table, meter)

    picks = Counter(balancer.pick(route).instance_id for _ in range(300))  # type: ignore[union-attr]
    assert picks == {"a": 100, "b": 100, "c": 100}

    balancer.begin(1, a)
    balancer.begin(1, a)
    balancer.begin(1, b)
    assert {balancer.pick(route) for _ in range(10)} == {c}
    assert balancer.inflight(1) == {"a": 2, "b": 1, "c": 0}
    balancer.end(1, a)
    assert meter.inflight == {"a": 1, "b": 1}


def test_draining_unhealthy_and_ejected_instances_get_no_new_work() -> None:
    a, b = http("a"), http("b", 9001)
    table, route = table_with(a, b)
    clock = Clock()
    balancer = LoadBalancer(table, RecordingMeter(), eject_seconds=2.0, clock=clock)

    table.mark_draining(1, "a")
    assert {balancer.pick(route) for _ in range(4)} == {b}
    table.mark_draining(1, "a", draining=False)
    table.set_health(1, "b", False)
    assert {balancer.pick(route) for _ in range(4)} == {a}
    table.set_health(1, "b", True)

    balancer.eject(a)
    assert balancer.is_ejected(a)
    assert {balancer.pick(route) for _ in range(4)} == {b}
    balancer.eject(b)
    clock.now += 0.5
    # Everything is ejected: try the one whose ejection ends first, rather than nothing.
    assert balancer.pick(route) is a
    clock.now += 2.0
    assert not balancer.is_ejected(a)
    assert {balancer.pick(route) for _ in range(4)} == {a, b}
    assert balancer.pick(route, exclude=a) is b
    table.remove_instance(1, "a")
    table.remove_instance(1, "b")
    assert balancer.pick(route) is None
