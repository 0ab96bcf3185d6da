"""The scheduled reconcile pass picks up desired state written by another backend."""

from __future__ import annotations

import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.settings import Settings

from ..catalogs import all_healthy, process_version, publish, wait_for
from .conftest import fast_deploy_settings


@pytest.fixture
def live_settings(live_settings: Settings, scope: str) -> Settings:
    """A reconcile tick every second."""
    return live_settings.model_copy(
        update={"deploy": fast_deploy_settings(scope, reconcile_interval=1.0)}
    )


async def test_a_change_recorded_elsewhere_is_converged_by_the_tick(
    live: Runtime, live_settings: Settings
) -> None:
    admin = await publish(live, "svc", process_version("1.0.0"))
    # A short-lived backend (as a CLI command without a daemon) only records desired state.
    async with Runtime(live_settings, migrate=False) as cli:
        cli_admin = cli.local_admin
        assert cli_admin is not None
        await cli.deployments.create(
            cli_admin, DeploymentCreate(service="svc", name="svc", runtime=RuntimeChoice.PROCESS)
        )
        await cli.deployments.scale(cli_admin, "svc", 2)

    detail = await wait_for(live, admin, "svc", all_healthy)

    assert detail.replicas == 2
    assert len(detail.instances) == 2
