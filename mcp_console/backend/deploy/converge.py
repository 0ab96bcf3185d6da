"""One deployment's convergence: restart what died, fill or trim replicas, drive its rollout."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import ServiceDeployment, ServiceInstance
from mcp_console.backend.deploy import rollout
from mcp_console.backend.deploy.deployment_record import DeploymentState, live, load_state
from mcp_console.backend.deploy.instances import InstanceOps, alive, new_instance_name
from mcp_console.backend.deploy.remote import REMOTE
from mcp_console.backend.deploy.status_rollup import compute_status, is_summary
from mcp_console.schemas.deploy import DesiredState, HealthState, InstanceStatus

# Least useful first when scaling down: failed, waiting, starting, then the newest running.
_RETIRE_ORDER: dict[str, int] = {
    InstanceStatus.FAILED: 0,
    InstanceStatus.RESTARTING: 1,
    InstanceStatus.STARTING: 2,
    InstanceStatus.RUNNING: 3,
}


class Converger(InstanceOps):
    """Brings one deployment's instances in line with its desired state (one call at a time)."""

    # -- the pass ------------------------------------------------------------------------------

    async def run(self, deployment_id: int) -> None:
        """Converge one deployment now."""
        async with self._sessions() as session:
            state = await load_state(session, deployment_id)
        if state is None:
            return
        d = state.deployment
        if d.desired_state in (DesiredState.DELETED, DesiredState.STOPPED):
            # Clients stop being sent there before the instances stop.
            await self.routes_changed(d.id)
        if d.desired_state == DesiredState.DELETED:
            await self.teardown(state)
            async with self._sessions.begin() as session:
                await session.execute(delete(ServiceDeployment).where(ServiceDeployment.id == d.id))
            self._secrets.forget(d.id)
            await self.routes_changed(d.id)
            self._publish("deployment.removed", state)
            return
        if d.desired_state == DesiredState.STOPPED:
            await self.teardown(state)
            await self.routes_changed(d.id)
            await self._update_status(state)
            return
        await self._check(state)
        note = await self._drive_rollout(state)
        for row in list(state.instances):
            stale = row.version_id not in (d.version_id, d.target_version_id)
            if stale and row.status != InstanceStatus.DRAINING:
                await self.retire(state, row)
        if d.target_version_id is not None:
            await self._fill(state, d.target_version_id)
        await self._fill(state, d.version_id)
        await self._retire_outdated(state)
        # Routes first: a deployment shown RUNNING is reachable through the gateway.
        await self.routes_changed(d.id)
        await self._update_status(state, note)

    async def _check(self, state: DeploymentState) -> None:
        now = utcnow()
        wanted = (state.deployment.version_id, state.deployment.target_version_id)
        for row in live(state.instances):
            if row.version_id not in wanted:
                continue  # retired below, not restarted
            if row.status == InstanceStatus.RESTARTING:
                due = row.next_restart_at
                if due is not None and due > now:
                    self._schedule(state.id, (due - now).total_seconds())
                else:
                    await self.start(state, row)
                continue
            driver = await self._driver(state, row)
            if driver is None:
                continue
            if not row.container_id or not await alive(driver, row.container_id):
                code = self.exit_codes.pop(row.container_id or "", row.exit_code)
                reason = f"exited with code {code}" if code is not None else "is not running"
                await self.failed(state, row, driver, reason, code)
            elif row.health == HealthState.UNHEALTHY and row.driver != REMOTE:
                # A remote server that stops answering is probed until it answers again:
                # attaching its URL anew would change nothing there.
                await self.failed(state, row, driver, f"unhealthy: {row.last_error}", None)

    async def _drive_rollout(self, state: DeploymentState) -> str | None:
        d = state.deployment
        if d.target_version_id is None:
            return None
        verdict = rollout.judge(state, utcnow())
        if verdict.action == "wait":
            if d.rollout_deadline is not None:
                left = (d.rollout_deadline - utcnow()).total_seconds()
                self._schedule(state.id, max(left, 0.0) + 0.05)
            return None
        target = d.target_version_id
        async with self._sessions.begin() as session:
            if verdict.action == "commit":
                done = await rollout.commit(session, state, verdict.reason)
            else:
                done = await rollout.abandon(session, state, verdict.reason)
        if not done:
            return None
        result = "completed" if verdict.action == "commit" else "rolled-back"
        self._publish(
            "deployment.rollout",
            state,
            result=result,
            version=rollout.label(state, target),
            reason=verdict.reason,
        )
        if verdict.action == "commit":
            return None
        return f"update to {rollout.label(state, target)} rolled back: {verdict.reason}"

    async def _retire_outdated(self, state: DeploymentState) -> None:
        """A rolling restart after a settings change, as a rollout: the instances started
        before it serve until as many started since are healthy, then they are retired."""
        d = state.deployment
        outdated = [row for row in state.slots(d.version_id) if not state.current(row)]
        if not outdated:
            return
        fresh = [row for row in state.healthy(d.version_id) if state.current(row)]
        if len(fresh) >= d.replicas:
            for row in outdated:
                await self.retire(state, row)

    async def _fill(self, state: DeploymentState, version_id: int) -> None:
        d = state.deployment
        # Instances started before the settings changed are replaced, not counted.
        slots = [row for row in state.slots(version_id) if state.current(row)]
        if len(slots) > d.replicas:
            extras = sorted(slots, key=lambda r: (_RETIRE_ORDER.get(r.status, 0), -r.id))
            for row in extras[: len(slots) - d.replicas]:
                await self.retire(state, row)
            return
        if len(slots) == d.replicas:
            return
        rows = [
            ServiceInstance(
                deployment_id=d.id,
                version_id=version_id,
                name=new_instance_name(),
                driver=d.driver,
                status=InstanceStatus.STARTING.value,
                health=HealthState.UNKNOWN.value,
            )
            for _ in range(d.replicas - len(slots))
        ]
        # Rows first: a container always has its row, so a crash leaves no unknown container.
        async with self._sessions.begin() as session:
            session.add_all(rows)
        state.instances.extend(rows)
        await asyncio.gather(*(self.start(state, row) for row in rows))

    async def _update_status(self, state: DeploymentState, note: str | None = None) -> None:
        d = state.deployment
        status, reason = compute_status(state)
        reason = note or reason
        if status.value == d.status and reason == d.status_reason:
            return
        # A steady status keeps its last note (e.g. why an update was rolled back).
        if status.value == d.status and reason is None and not is_summary(d.status_reason):
            return
        await self._save_deployment(d, status=status.value, status_reason=reason)
        self._publish("deployment.status", state, status=status.value, reason=reason)
