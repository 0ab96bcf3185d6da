"""A service with one version of each source (PyPI, npm, OCI image, command, remote), and a
fake machine that runs some of them: the wizard's source line and the detail page's marks."""

from __future__ import annotations

from mcp_console.schemas.catalog import PackageRef, ServiceDetail, Transport
from tests.fakes import FakeClient
from tests.tui.sample import sample_catalog, sample_reviews, service, version

KINDS = "acme/kinds"
REMOTE_URL = "https://kinds.example.com/mcp"
IMAGE = "registry.example.com/acme/kinds:1.1.0"


def kinds_service() -> ServiceDetail:
    """``acme/kinds``: newest first, PyPI (needs Python 3.13), npm, an image, a command this
    machine lacks, a remote endpoint."""
    pypi = version("2.0.0", latest=True, days_ago=1).model_copy(
        update={
            "command": [],
            "packages": [PackageRef(registry_type="pypi", identifier="acme-kinds", version="2.0")],
        }
    )
    npm = version("1.2.0", days_ago=5).model_copy(
        update={
            "command": [],
            "packages": [
                PackageRef(registry_type="npm", identifier="@acme/kinds", version="1.2.0")
            ],
        }
    )
    image = version("1.1.0", days_ago=9).model_copy(update={"command": [], "docker_image": IMAGE})
    command = version("1.0.0", days_ago=20).model_copy(update={"command": ["acme-kinds"]})
    remote = version("0.9.0", days_ago=30).model_copy(
        update={
            "command": [],
            "transport": Transport.STREAMABLE_HTTP,
            "remotes": [{"type": "streamable-http", "url": REMOTE_URL}],
        }
    )
    return service(
        KINDS,
        display_name="Kinds",
        description="One version from every place a server comes from.",
        category="devtools",
        versions=[pypi, npm, image, command, remote],
        index=20,
    )


def kinds_client(ready_after: int = 2) -> FakeClient:
    """The sample catalog and ``acme/kinds``, on a machine with Python 3.11 and Docker."""
    services = [*sample_catalog(), kinds_service()]
    client = FakeClient(services, reviews=sample_reviews(), ready_after=ready_after)
    client.machine.requires_python["acme-kinds"] = ">=3.13"
    return client
