"""Which versions run here, and where each version comes from, read the same through every
client (those a machine decides alike: a remote endpoint, a missing program, a package kind
the console does not install)."""

from __future__ import annotations

import pytest

from mcp_console.schemas.catalog import PackageRef, ServiceCreate, Transport, VersionCreate
from mcp_console.schemas.errors import NotFound
from mcp_console.schemas.users import Role
from mcp_console.schemas.version_source import SourceKind
from tests.contract.conftest import Clients

KINDS = "io.github.acme/kinds"
REMOTE = {"type": "streamable-http", "url": "https://mcp.example.com/mcp?key=k-29f1"}


async def test_each_version_says_where_it_comes_from_and_whether_it_runs_here(
    clients: Clients,
) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await alice.register_service(ServiceCreate(name=KINDS))
    versions = [
        VersionCreate(version="1.0.0", command=["no-such-program-4f1c", "--serve"]),
        VersionCreate(version="1.1.0", remotes=[REMOTE], transport=Transport.STREAMABLE_HTTP),
        VersionCreate(
            version="1.2.0",
            packages=[PackageRef(registry_type="nuget", identifier="Acme.Srv", version="2.0.0")],
        ),
    ]
    for new in versions:
        await alice.add_version(KINDS, new)
    await alice.publish_service(KINDS)
    bob = await clients.user("bob", Role.USER)

    detail = await bob.get_service(KINDS)
    sources = {v.version: (v.source.kind, v.source.text) for v in detail.versions}
    answers = {a.version: a for a in await bob.version_runnability(KINDS)}

    assert sources == {
        "1.0.0": (SourceKind.COMMAND, "command no-such-program-4f1c --serve"),
        # The key in the URL's query string is never shown.
        "1.1.0": (SourceKind.REMOTE, "remote https://mcp.example.com/mcp?…"),
        "1.2.0": (SourceKind.OTHER, "nuget Acme.Srv 2.0.0"),
    }
    assert [a.version for a in await bob.version_runnability(KINDS)] == [
        v.version for v in detail.versions
    ]
    missing = answers["1.0.0"]
    assert (missing.runnable, missing.summary) == (
        False,
        "cannot run here: program no-such-program-4f1c not found on this machine",
    )
    remote = answers["1.1.0"]
    assert (remote.runnable, remote.summary) == (True, "remote: runs elsewhere")
    assert [(f.runtime, f.runs, f.offered) for f in remote.fits] == [
        ("docker", False, False),
        ("process", False, False),
        ("remote", True, True),
    ]
    other = answers["1.2.0"]
    assert (other.runnable, other.summary) == (
        False,
        "cannot run here: packaged as nuget, which the console does not install",
    )


async def test_an_unseen_service_has_no_versions_to_judge(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    bob = await clients.user("bob", Role.USER)
    await alice.register_service(ServiceCreate(name=KINDS))
    await alice.add_version(KINDS, VersionCreate(version="1.0.0", command=["srv"]))
    with pytest.raises(NotFound):
        await bob.version_runnability(KINDS)
    assert len(await alice.version_runnability(KINDS)) == 1
