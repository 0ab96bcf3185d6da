"""What a deployment's detail says of its configuration: its plain values and its secrets."""

from __future__ import annotations

from typing import Any

from mcp_console.backend.deploy.secretstore import HEADER_PREFIX, URL_PREFIX
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.deploy import DeploymentDetail


def plain_config(values: dict[str, Any]) -> dict[str, Any]:
    """A detail's configuration without its secrets (shown there as the mask)."""
    return {
        k: plain_config(v) if isinstance(v, dict) else v for k, v in values.items() if v != MASK
    }


def config_secrets(detail: DeploymentDetail) -> set[str]:
    """The names of the deployment's configuration secrets (not a remote upstream's)."""
    return {n for n in detail.secret_names if not n.startswith((URL_PREFIX, HEADER_PREFIX))}


def fronts_remote(detail: DeploymentDetail) -> bool:
    """Whether the deployment fronts a server elsewhere (its upstream stored as secrets)."""
    return detail.driver == "remote" or len(config_secrets(detail)) < len(detail.secret_names)
