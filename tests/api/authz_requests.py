"""How a row of the authorization matrix becomes requests: the tables' rows, how each
request is made, and sending it as one principal to the API or the gateway."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from tests.api.authz_world import (
    ACCEPT,
    BYSTANDER,
    CALLERS,
    DEPLOYMENT,
    INITIALIZE,
    OWN_KEY,
    OWN_SERVICE,
    OWNER,
    PRINCIPALS,
    World,
)
from tests.gateway.test_auth import ADD, MODERN

# The tables' column heads, one per principal in the order of PRINCIPALS.
COLUMNS = ("ano", "wrg", "rev", "exp", "scp", "oth", "cal", "opr", "own", "adm")

FreshTarget = Callable[[World], Awaitable[str]]


@dataclass(frozen=True)
class Call:
    """How a row's request is made beyond its method and path.

    Attributes:
        body: the JSON body; ``{who}`` in its strings becomes the principal's column name,
            so names a request creates differ per principal.
        fresh: makes a new target for each principal allowed to change it (its value fills
            the path's {name}, {ref} or {session_id}); refused principals aim at the
            standing one.
        changes: an allowed request changes what ``snapshot`` sees (checked, so the
            refusals' comparison cannot pass by looking at the wrong tables).
        target: the standing {name} when it is not the route family's usual one.
    """

    body: Any = None
    fresh: FreshTarget | None = None
    changes: bool = True
    target: str | None = None


# How a route that changes nothing is tried: as the table says, no body.
READ = Call(changes=False)


@dataclass(frozen=True)
class Row:
    """One line of a matrix: a request and the status each principal gets."""

    method: str
    request: str
    expected: dict[str, int]

    @property
    def key(self) -> str:
        """``METHOD request``, as the tables and ``CALLS`` name it."""
        return f"{self.method} {self.request}"


def parse(table: str) -> list[Row]:
    """The rows of a matrix written as a table (its first line names the columns)."""
    header, *lines = [line for line in table.strip().splitlines() if line.strip()]
    assert tuple(header.split()[1:]) == COLUMNS, header
    rows = []
    for line in lines:
        method, *middle = line.split()
        statuses = [int(s) for s in middle[-len(PRINCIPALS) :]]
        request = " ".join(middle[: -len(PRINCIPALS)])
        rows.append(Row(method, request, dict(zip(PRINCIPALS, statuses, strict=True))))
    return rows


def refused(row: Row) -> list[str]:
    """The principals the row refuses."""
    return [who for who in PRINCIPALS if row.expected[who] >= 400]


def allowed(row: Row) -> list[str]:
    """The principals the row lets through."""
    return [who for who in PRINCIPALS if row.expected[who] < 400]


def fill(value: Any, who: str) -> Any:
    """``value`` with ``{who}`` in its strings replaced by ``who``."""
    if isinstance(value, str):
        return value.replace("{who}", who)
    if isinstance(value, list):
        return [fill(v, who) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, who) for k, v in value.items()}
    return value


def url_of(world: World, row: Row, call: Call, fresh: str | None = None) -> str:
    """The row's path aimed at olga's standing things, or at ``fresh`` in the place of the
    one a fresh target stands for ({session_id}, {ref}, else {name})."""
    path = row.request
    if path.startswith("/deployments/"):
        name = f"{OWNER}/{DEPLOYMENT}"
    elif path.startswith("/teams/"):
        name = CALLERS
    else:
        name = call.target or OWN_SERVICE
    values = {
        "name": name,
        "user": BYSTANDER,
        "ref": OWN_KEY,
        "session_id": world.session,
        "alert_id": str(world.alert),
        "silence_id": str(world.silence),
        "quota_id": str(world.quota),
        # An upload names its package's registry, version and file (its name is {name}).
        "registry": "pypi",
        "version": "1.0.0",
        "filename": f"{(call.target or OWN_SERVICE).replace('-', '_')}-1.0.0-py3-none-any.whl",
    }
    if fresh is not None:
        ids = ("session_id", "ref", "alert_id", "silence_id", "quota_id")
        slot = next((s for s in ids if f"{{{s}}}" in path), "name")
        values[slot] = fresh
    for slot, value in values.items():
        path = path.replace(f"{{{slot}}}", quote(value, safe=""))
    return path


async def send(world: World, method: str, url: str, body: Any, who: str) -> httpx.Response:
    """One API request as ``who``; an event stream is left after its first bytes."""
    headers = world.headers[who]
    async with world.api.stream(method, url, json=fill(body, who), headers=headers) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return response
        await response.aread()
        return response


async def send_gateway(world: World, row: Row, who: str, session: str | None) -> httpx.Response:
    """One request to the deployment's endpoint (or the gateway's health) as ``who``."""
    headers = dict(world.headers[who])
    if row.request == "/healthz":
        return await world.gateway.get("/healthz", headers=headers)
    if row.request == "initialize":
        return await world.gateway.post(world.endpoint, json=INITIALIZE, headers=ACCEPT | headers)
    if row.request == "tools/call":
        return await world.gateway.post(world.endpoint, json=ADD, headers=MODERN | headers)
    assert session is not None
    headers |= {"mcp-session-id": session, "mcp-protocol-version": "2025-06-18"}
    async with world.gateway.stream(row.method, world.endpoint, headers=headers) as response:
        return response


def note(problems: list[str], row: Row, who: str, response: httpx.Response) -> None:
    """Report a status other than the expected one, with what the server said."""
    if response.status_code != row.expected[who]:
        try:
            answer = response.text[:300]
        except httpx.ResponseNotRead:
            answer = response.headers.get("content-type", "")
        expected, got = row.expected[who], response.status_code
        problems.append(f"{row.key} as {who}: {got} (expected {expected}) {answer}")
