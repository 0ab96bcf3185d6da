"""A service to deploy and deployments of it, for the sharing and key contracts."""

from __future__ import annotations

import sys

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice

SERVICE = "clock"


async def published(author: ConsoleClient) -> None:
    """Publish a service that runs as a local process."""
    await author.register_service(ServiceCreate(name=SERVICE, description="Tells the time"))
    await author.add_version(
        SERVICE,
        VersionCreate(
            version="1.0.0", command=[sys.executable, "-m", "mcp_console.devtools.example_server"]
        ),
    )
    await author.publish_service(SERVICE)


def create_deployment(name: str) -> DeploymentCreate:
    """A deployment of the published service called ``name``."""
    return DeploymentCreate(service=SERVICE, name=name, runtime=RuntimeChoice.PROCESS)
