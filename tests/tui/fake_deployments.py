"""Deployments in memory for FakeClient: created DEPLOYING, healthy after a few polls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_console.backend.db.models import ServiceDeployment
from mcp_console.backend.deploy.config import masked_config, resolve_config
from mcp_console.backend.deploy.reconfigure import settings_after
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.audit import AuditArguments
from mcp_console.schemas.catalog import ServiceDetail, VersionView
from mcp_console.schemas.deploy import (
    DeploymentCreate,
    DeploymentDetail,
    DeploymentReconfigure,
    DeploymentStatus,
    DesiredState,
    HealthState,
    HistoryEntry,
    InstanceLogs,
    InstanceStatus,
    InstanceView,
    Reconfigured,
    default_session_mode,
)
from mcp_console.schemas.errors import Conflict, Invalid, NotFound
from tests.tui.sample import NOW


class FakeDeployments:
    """What the deployment operations change, checked the way the backend checks it."""

    def __init__(self, services: Callable[[str], ServiceDetail], ready_after: int) -> None:
        self._service = services
        self.ready_after = ready_after
        self.items: dict[str, DeploymentDetail] = {}
        self.history: dict[str, list[HistoryEntry]] = {}
        self._polls: dict[str, int] = {}
        # What the backend keeps apart from the detail: plain values and secrets.
        self.values: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, dict[str, str]] = {}

    def _get(self, name: str) -> DeploymentDetail:
        found = self.items.get(name)
        if found is None:
            raise NotFound(f"no deployment named {name!r}", field="name")
        return found

    def _record(self, name: str, action: str, changes: dict[str, Any]) -> None:
        entries = self.history.setdefault(name, [])
        entry = HistoryEntry(
            id=len(entries) + 1,
            deployment=name,
            at=NOW,
            actor="admin",
            action=action,
            changes=changes,
            reason="",
            automatic=False,
        )
        entries.insert(0, entry)

    def _set(self, name: str, action: str, **changes: Any) -> DeploymentDetail:
        updated = self._get(name).model_copy(update=changes)
        self.items[name] = updated
        self._polls[name] = 0
        self._record(name, action, {k: str(v) for k, v in changes.items()})
        return updated

    def create(
        self, new: DeploymentCreate, named: dict[str, str] | None = None
    ) -> DeploymentDetail:
        service = self._service(new.service)
        chosen = _version(service, new.version)
        # The backend's own check: types, required fields and which fields are secret.
        given = {**new.secrets, **(named or {})}
        resolved = resolve_config(dict(chosen.config_schema), new.config, given)
        if new.name in self.items:
            raise Conflict(f"you already have a deployment named {new.name!r}", field="name")
        # As the backend keeps them: URLs and headers given by hand are secrets, shown masked.
        upstream = {f"url:{n}": MASK for n in range(1, len(new.urls) + 1)}
        upstream |= {f"header:{name}": MASK for name in new.headers}
        detail = _deployment(new, chosen).model_copy(
            update={
                "config": masked_config(resolved.values, resolved.secrets) | upstream,
                "secret_names": sorted(resolved.secrets),
            }
        )
        self.items[new.name] = detail
        self.values[new.name] = dict(resolved.values)
        self.secrets[new.name] = dict(resolved.secrets)
        self._polls[new.name] = 0
        self._record(new.name, "create", {"version": chosen.version})
        return detail

    def reconfigure(
        self, name: str, change: DeploymentReconfigure, named: dict[str, str]
    ) -> Reconfigured:
        """The backend's own rules (``settings_after``) over a row built from the detail."""
        current = self._get(name)
        version = _version(self._service(current.service), current.version)
        row = ServiceDeployment(
            deployment_name=name,
            config=self.values.get(name, {}),
            driver=current.driver,
            target_version_id=None,
            cpu_limit=current.cpu_limit,
            memory_limit_mb=current.memory_limit_mb,
            pass_env=list(current.pass_env),
            session_mode=current.session_mode,
        )
        stored = self.secrets.get(name, {})
        after = settings_after(row, dict(version.config_schema), stored, change, named)
        if after.changes and not change.dry_run:
            resolved = after.resolved
            self.values[name] = dict(resolved.values)
            self.secrets[name] = dict(resolved.secrets)
            current = self._set(
                name,
                "configure",
                config=masked_config(resolved.values, resolved.secrets),
                secret_names=sorted(resolved.secrets),
                **after.columns,
            )
        return Reconfigured(changes=after.changes, dry_run=change.dry_run, deployment=current)

    def get(self, name: str) -> DeploymentDetail:
        """The deployment; one poll closer to healthy while it is DEPLOYING."""
        current = self._get(name)
        self._polls[name] = self._polls.get(name, 0) + 1
        if self._polls[name] >= self.ready_after and current.status is DeploymentStatus.DEPLOYING:
            current = _healthy(current)
            self.items[name] = current
        return current

    def scale(self, name: str, replicas: int) -> DeploymentDetail:
        if not 0 <= replicas <= 50:
            raise Invalid(f"replicas must be between 0 and 50, got {replicas}", field="replicas")
        current = self._get(name)
        return self._set(name, "scale", replicas=replicas, status=_converging(current))

    def update(
        self, name: str, number: str | None, audit_arguments: AuditArguments | None = None
    ) -> DeploymentDetail:
        current = self._get(name)
        if number is None and audit_arguments is None:
            raise Invalid(
                "give a version to roll out or an audit_arguments policy", field="version"
            )
        if audit_arguments is not None:
            policy = AuditArguments(audit_arguments)
            if policy != current.audit_arguments:
                current = self._set(name, "audit", audit_arguments=policy)
        if number is None:
            return current
        chosen = _version(self._service(current.service), number)
        if chosen.version == current.version:
            raise Invalid(f"{name} already runs {number}", field="version")
        return self._set(
            name,
            "update",
            version=chosen.version,
            previous_version=current.version,
            status=DeploymentStatus.DEPLOYING,
        )

    def rollback(self, name: str) -> DeploymentDetail:
        current = self._get(name)
        if current.previous_version is None:
            raise Invalid(f"{name} has no previous version", field="version")
        return self._set(
            name,
            "rollback",
            version=current.previous_version,
            previous_version=current.version,
            status=DeploymentStatus.DEPLOYING,
        )

    def stop(self, name: str) -> DeploymentDetail:
        return self._set(
            name,
            "stop",
            desired_state=DesiredState.STOPPED,
            status=DeploymentStatus.STOPPED,
            ready_replicas=0,
        )

    def start(self, name: str) -> DeploymentDetail:
        return self._set(
            name, "start", desired_state=DesiredState.RUNNING, status=DeploymentStatus.DEPLOYING
        )

    def delete(self, name: str) -> None:
        self._get(name)
        del self.items[name]

    def logs(self, name: str, instance: str | None, tail: int) -> list[InstanceLogs]:
        if not 1 <= tail <= 5000:
            raise Invalid(f"tail must be between 1 and 5000, got {tail}", field="tail")
        current = self._get(name)
        chosen = [i for i in current.instances if instance in (None, i.name)]
        if instance is not None and not chosen:
            raise NotFound(f"{name} has no instance {instance!r}", field="instance")
        return [
            InstanceLogs(instance=i.name, version=i.version, status=i.status, lines=[])
            for i in chosen
        ]

    def autoscale(self, name: str, policy: dict[str, Any] | None) -> DeploymentDetail:
        return self._set(name, "autoscale", autoscale=policy)


def _version(service: ServiceDetail, number: str | None) -> VersionView:
    for candidate in service.versions:
        if candidate.version == number or (number is None and candidate.is_latest):
            return candidate
    raise NotFound(f"{service.name} has no version {number}", field="version")


def _converging(current: DeploymentDetail) -> DeploymentStatus:
    if current.status is DeploymentStatus.STOPPED:
        return DeploymentStatus.STOPPED
    return DeploymentStatus.DEPLOYING


def _deployment(new: DeploymentCreate, version: VersionView) -> DeploymentDetail:
    number = version.version
    instances = [
        InstanceView(
            id=i + 1,
            name=f"{new.name}-{i + 1}",
            version=number,
            status=InstanceStatus.STARTING,
            health=HealthState.UNKNOWN,
            driver="process",
            ref=f"ref-{i}",
            transport="stdio",
            host=None,
            port=None,
            url=None,
            last_health_check=None,
            last_error=None,
            stderr_tail=[],
            restart_count=0,
            exit_code=None,
            created_at=NOW,
        )
        for i in range(new.replicas)
    ]
    return DeploymentDetail(
        id=1,
        name=new.name,
        address=new.name,  # the viewer's own
        owner="admin",
        service=new.service,
        version=number,
        status=DeploymentStatus.DEPLOYING,
        status_reason=f"0 of {new.replicas} instances healthy",
        desired_state=DesiredState.RUNNING,
        runtime=new.runtime,
        driver="process",
        transport="stdio",
        replicas=new.replicas,
        ready_replicas=0,
        endpoint_url=f"http://127.0.0.1:8765/mcp/{new.name}",
        target_version=None,
        previous_version=None,
        created_at=NOW,
        updated_at=NOW,
        config=dict(new.config),
        secret_names=sorted(new.secrets),
        cpu_limit=new.cpu_limit,
        memory_limit_mb=new.memory_limit_mb,
        session_mode=new.session_mode
        or default_session_mode(version.session_mode, version.transport.value),
        autoscale=new.autoscale,
        rollout_deadline=None,
        instances=instances,
        audit_arguments=new.audit_arguments,
    )


def _healthy(current: DeploymentDetail) -> DeploymentDetail:
    instances = [
        i.model_copy(
            update={
                "status": InstanceStatus.RUNNING,
                "health": HealthState.HEALTHY,
                "last_health_check": NOW,
            }
        )
        for i in current.instances
    ]
    return current.model_copy(
        update={
            "status": DeploymentStatus.RUNNING,
            "status_reason": None,
            "ready_replicas": current.replicas,
            "instances": instances,
        }
    )
