"""A deployment written down as a spec document that ``apply`` takes back unchanged."""

from __future__ import annotations

from typing import Any

import yaml

from mcp_console.devtools.spec.detail import config_secrets, fronts_remote, plain_config
from mcp_console.schemas.deploy import DeploymentDetail
from mcp_console.schemas.drift import DriftPolicy
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.spec import DEPLOYMENT_KIND


def spec_of(detail: DeploymentDetail, drift: DriftPolicy) -> dict[str, Any]:
    """The document of a deployment: its settings, and each secret as a reference to the
    value the console stores (never the value).

    Raises:
        Invalid: the deployment fronts a remote server (its upstream is not written down).
    """
    if fronts_remote(detail):
        raise Invalid(
            f"{detail.address} fronts a server elsewhere: its URLs and headers are stored as "
            "secrets, and such a deployment cannot be written down yet",
            field="name",
        )
    document: dict[str, Any] = {
        "kind": DEPLOYMENT_KIND,
        "name": detail.name,
        "service": detail.service,
        "version": detail.target_version or detail.version,
        "runtime": detail.runtime.value,
        "replicas": detail.replicas,
        "session_mode": detail.session_mode,
    }
    limits = {"cpus": detail.cpu_limit, "memory_mb": detail.memory_limit_mb}
    if any(value is not None for value in limits.values()):
        document["limits"] = {k: v for k, v in limits.items() if v is not None}
    if detail.autoscale:
        document["autoscale"] = {k: v for k, v in detail.autoscale.items() if v is not None}
    else:
        # Written down as off, so that applying the document turns off a policy set since.
        document["autoscale"] = None
    document["config"] = plain_config(detail.config)
    if secrets := config_secrets(detail):
        document["secrets"] = {name: {"stored": True} for name in sorted(secrets)}
    if detail.pass_env:
        document["pass_env"] = list(detail.pass_env)
    document["drift"] = drift.value
    document["audit_arguments"] = detail.audit_arguments.value
    return document


def dump(documents: list[dict[str, Any]]) -> str:
    """Documents as one YAML stream (``---`` between them), keys in the order given."""
    return yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True, explicit_start=True)
