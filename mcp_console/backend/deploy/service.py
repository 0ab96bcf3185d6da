"""DeploymentService: create, scale, update, roll back, stop, start and delete deployments."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import (
    DeploymentHistory,
    DeploymentShare,
    ServiceDeployment,
    ServiceInstance,
    ServiceVersion,
)
from mcp_console.backend.deploy import history, rollout
from mcp_console.backend.deploy.access import grant_access, shares_reaching
from mcp_console.backend.deploy.arguments import with_arguments
from mcp_console.backend.deploy.config import masked_config, resolve_config
from mcp_console.backend.deploy.controller import Controller
from mcp_console.backend.deploy.deployment_record import DeploymentState, address, load_states
from mcp_console.backend.deploy.host_env import refuse_unpassable
from mcp_console.backend.deploy.image_pins import image_ready, with_images
from mcp_console.backend.deploy.lookup import (
    clamp,
    find,
    policy_of,
    refuse_taken,
    service_version,
    version_label,
)
from mcp_console.backend.deploy.plan import Recipe, launch_for, transport_of
from mcp_console.backend.deploy.reconfigure import refuse_unchangeable, settings_after
from mcp_console.backend.deploy.registry_logins import save_logins
from mcp_console.backend.deploy.remote import (
    REMOTE,
    RemotePlan,
    endpoints,
    plan_remote,
    refuse_for_remote,
)
from mcp_console.backend.deploy.remote_service import ensure_remote_service
from mcp_console.backend.deploy.secretstore import DeploymentSecrets
from mcp_console.backend.deploy.sharing import drop_share, grantee, put_share, shares_of
from mcp_console.backend.deploy.views import deployment_detail, deployment_view
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.backend.security.stored_secrets import StoredSecrets
from mcp_console.schemas.audit import AUDIT_POLICY_EVENT, AuditArguments
from mcp_console.schemas.deploy import (
    MAX_REPLICAS,
    DeploymentCreate,
    DeploymentDetail,
    DeploymentReconfigure,
    DeploymentStatus,
    DeploymentView,
    DesiredState,
    HistoryEntry,
    InstanceLogs,
    InstanceStatus,
    Reconfigured,
    ShareCreate,
    default_session_mode,
)
from mcp_console.schemas.errors import Conflict, Invalid, NotFound
from mcp_console.schemas.remote import REMOTE_SERVICE
from mcp_console.schemas.users import Principal
from mcp_console.settings import DeploySettings

MAX_HISTORY = 500
MAX_LOG_LINES = 5000


class DeploymentService:
    """Writes desired state and history; the controller makes it so.

    Every change is recorded with who made it and why. Names are unique per user; an admin
    may address another user's deployment as ``owner/name``. Secret values are stored
    encrypted and never returned, logged or published.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: EventBus,
        controller: Controller,
        secrets_store: DeploymentSecrets,
        settings: DeploySettings,
        record_download: Callable[[str], Awaitable[None]],
        stored_secrets: StoredSecrets,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._controller = controller
        self._secrets = secrets_store
        self._settings = settings
        self._record_download = record_download
        self._stored = stored_secrets

    # -- reading -------------------------------------------------------------------------------

    async def list_deployments(self, actor: Principal) -> list[DeploymentView]:
        """The deployments the actor may see, oldest first: their own, those shared with
        them or their teams, and (for an admin) everyone's."""
        where = [ServiceDeployment.desired_state != DesiredState.DELETED.value]
        if not actor.is_admin:
            shared = select(DeploymentShare.deployment_id).where(shares_reaching(actor))
            where.append(
                or_(ServiceDeployment.user_id == actor.user_id, ServiceDeployment.id.in_(shared))
            )
        if actor.scope is not None:
            where.append(ServiceDeployment.id.in_(actor.scope))
        async with self._sessions() as session:
            states = await load_states(session, *where, with_secrets=False)
            visible = await grant_access(session, actor, states)
        return [deployment_view(actor, state) for state in visible]

    async def get(self, actor: Principal, name: str) -> DeploymentDetail:
        """One deployment with its instances, health, masked configuration and shares.

        Raises:
            NotFound: the actor may see no deployment of that name.
        """
        async with self._sessions() as session:
            state = await find(session, actor, name)
            detail = deployment_detail(actor, state, await shares_of(session, state.id))
            return await with_images(session, state, detail)

    async def history(self, actor: Principal, name: str) -> list[HistoryEntry]:
        """Every recorded change of a deployment, newest first."""
        async with self._sessions() as session:
            state = await find(session, actor, name, "history")
            rows = await session.scalars(
                select(DeploymentHistory)
                .where(DeploymentHistory.deployment_id == state.id)
                .order_by(DeploymentHistory.id.desc())
                .limit(MAX_HISTORY)
            )
            return [history.history_entry(row) for row in rows]

    async def logs(
        self, actor: Principal, name: str, *, instance: str | None = None, tail: int = 100
    ) -> list[InstanceLogs]:
        """The last log lines of each instance (or of one), secret values masked.

        Raises:
            NotFound: no such deployment, or no instance of that name in it.
            Invalid: ``tail`` is out of range.
        """
        if not 1 <= tail <= MAX_LOG_LINES:
            raise Invalid(f"tail must be between 1 and {MAX_LOG_LINES}", field="tail")
        async with self._sessions() as session:
            state = await find(session, actor, name, "logs")
        rows = [row for row in state.instances if instance in (None, row.name)]
        if instance is not None and not rows:
            raise NotFound(f"{state.name} has no instance {instance!r}", field="instance")
        state.instances = rows
        lines = await self._controller.logs(state, tail)
        return [
            InstanceLogs(
                instance=row.name,
                version=version_label(state, row.version_id),
                status=InstanceStatus(row.status),
                lines=lines.get(row.id, []),
            )
            for row in rows
        ]

    # -- creating ------------------------------------------------------------------------------

    async def create(self, actor: Principal, new: DeploymentCreate) -> DeploymentDetail:
        """Deploy a service version: validated, recorded, then started by the controller.

        Returns:
            The new deployment, DEPLOYING.

        Raises:
            NotFound: no such service (or version) visible to the actor.
            Invalid: the configuration, autoscale policy or runtime does not fit the version;
                ``field`` names what is wrong (``config.<key>``, ``autoscale.<key>``, ...).
            Conflict: the actor already has a deployment of that name.
            Unavailable: the runtime asked for (Docker) cannot be reached.
        """
        if new.service == REMOTE_SERVICE and new.urls:
            await ensure_remote_service(self._sessions, actor)
        async with self._sessions() as session:
            service, version = await service_version(session, actor, new.service, new.version)
            recipe = Recipe.of(service.name, version)
            given = await self._given_secrets(session, actor, new.secrets, new.secret_refs)
            resolved = resolve_config(dict(version.config_schema), new.config, given)
            policy = policy_of(new.autoscale)
            await refuse_taken(session, actor, new.name)
        driver = await self._controller.drivers.choose(new.runtime, recipe, urls=bool(new.urls))
        self._check_pass_env(new, service.name, version, driver)
        replicas = clamp(new.replicas, policy)
        # A remote server keeps its clients' sessions apart itself, as any HTTP server does.
        session_mode = new.session_mode or (
            "shared"
            if driver == REMOTE
            else default_session_mode(version.session_mode, version.transport)
        )
        upstream = RemotePlan()
        if driver == REMOTE:
            upstream = plan_remote(recipe, version.config_schema, resolved, new.urls, new.headers)
            refuse_for_remote(session_mode, autoscale=policy is not None)
            replicas = len(upstream.endpoints)  # one instance per URL, balanced over
        else:
            if new.headers:
                raise Invalid(
                    "headers are sent to the server a remote deployment fronts: give its --url",
                    field="headers",
                )
            transport_of(recipe)
            # A placeholder without its value is refused now, before anything is written.
            launch = with_arguments(launch_for(recipe, driver), version.config_schema, resolved)
            if launch.npm is not None:
                # As is a package or version the npm registry does not have.
                await self._controller.drivers.node.packages.check(launch.npm)
        pulls = self._controller.drivers.pulls
        login = await image_ready(pulls, recipe, driver, new.registry_login)
        row = ServiceDeployment(
            service_id=service.id,
            version_id=version.id,
            user_id=actor.user_id,
            deployment_name=new.name,
            config=resolved.values,
            status=DeploymentStatus.DEPLOYING.value,
            desired_state=DesiredState.RUNNING.value,
            runtime=new.runtime.value,
            driver=driver,
            replicas=replicas,
            cpu_limit=new.cpu_limit,
            memory_limit_mb=new.memory_limit_mb,
            session_mode=session_mode,
            autoscale=policy.to_dict() if policy else {},
            uid=secrets.token_hex(6),
            pass_env=list(new.pass_env),
            drift=new.drift.value,
            audit_arguments=new.audit_arguments.value,
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
                await session.flush()
                await self._secrets.save(session, row.id, {**resolved.secrets, **upstream.secrets})
                if login is not None:
                    save_logins(session, await self._secrets.box(), row.id, [login])
                changes = {
                    "service": service.name,
                    "version": version.version,
                    "replicas": replicas,
                    "runtime": driver,
                    "config": masked_config(resolved.values, resolved.secrets),
                    "secrets": sorted(resolved.secrets),
                    **upstream.changes(),
                }
                if policy:
                    changes["autoscale"] = policy.to_dict()
                if new.pass_env:
                    changes["pass_env"] = list(new.pass_env)
                if new.audit_arguments != AuditArguments.DIGEST:
                    changes["audit_arguments"] = new.audit_arguments.value
                history.record(session, row, "create", actor=actor, changes=changes)
        except IntegrityError:
            raise Conflict(
                f"you already have a deployment named {new.name!r}", field="name"
            ) from None
        await self._record_download(service.name)
        self._publish("deployment.created", row, actor, version=version.version, replicas=replicas)
        self._controller.poke(row.id)
        return await self.get(actor, new.name)

    async def _given_secrets(
        self,
        session: AsyncSession,
        actor: Principal,
        secrets_: dict[str, str],
        refs: dict[str, str],
    ) -> dict[str, str]:
        """Secrets given as values and as stored secrets' names, by key (each key once)."""
        both = sorted(set(secrets_) & set(refs))
        if both:
            raise Invalid(
                f"{both[0]} is given both as a value and as a stored secret", field="secrets"
            )
        return {**secrets_, **await self._stored.values(session, actor, refs)}

    def _check_pass_env(
        self, new: DeploymentCreate, service: str, version: ServiceVersion, driver: str
    ) -> None:
        """Refuse host variables this console never passes, asked by the version or by
        the deployment, and any for a server that does not run here."""
        if new.pass_env and driver == REMOTE:
            raise Invalid(
                "a remote deployment runs no server here: there is nothing to pass "
                "host variables to",
                field="pass_env",
            )
        passable = self._settings.passable_env
        refuse_unpassable(version.pass_env, passable, whose=f"{service} {version.version}")
        refuse_unpassable(new.pass_env, passable, whose="the deployment (--pass-env)")

    # -- changing ------------------------------------------------------------------------------

    async def scale(self, actor: Principal, name: str, replicas: int) -> DeploymentDetail:
        """Run ``replicas`` instances.

        Raises:
            Invalid: out of range, or outside the autoscale policy's bounds.
        """
        if not 0 <= replicas <= MAX_REPLICAS:
            raise Invalid(f"replicas must be between 0 and {MAX_REPLICAS}", field="replicas")
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "scale")
            d = state.deployment
            if d.driver == REMOTE:
                raise Invalid(
                    f"{d.deployment_name} fronts {d.replicas} URL(s), one instance each: it "
                    "cannot be scaled (stop it to stop serving)",
                    field="replicas",
                )
            policy = policy_of(dict(d.autoscale) or None)
            if policy and not policy.min_replicas <= replicas <= policy.max_replicas:
                raise Invalid(
                    f"autoscaling keeps {d.deployment_name} between {policy.min_replicas} and "
                    f"{policy.max_replicas} replicas; change or turn off its policy first",
                    field="replicas",
                )
            await self._change(session, state, actor, "scale", replicas=replicas)
        return await self._after(actor, state, "deployment.scaled", replicas=replicas)

    async def set_autoscale(
        self, actor: Principal, name: str, policy_data: dict[str, Any] | None
    ) -> DeploymentDetail:
        """Turn autoscaling on with a policy, or off with ``None``.

        Raises:
            Invalid: the policy is wrong (``field`` is ``autoscale.<key>``).
        """
        policy = policy_of(policy_data)
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "autoscale")
            d = state.deployment
            if d.driver == REMOTE:
                refuse_for_remote(d.session_mode, autoscale=policy is not None)
            replicas = clamp(d.replicas, policy)
            await self._change(
                session,
                state,
                actor,
                "autoscale",
                autoscale=policy.to_dict() if policy else {},
                replicas=replicas,
            )
        self._controller.autoscaler.forget(state.id)
        return await self._after(actor, state, "deployment.autoscale", enabled=policy is not None)

    async def update(
        self,
        actor: Principal,
        name: str,
        version: str | None = None,
        *,
        audit_arguments: AuditArguments | None = None,
    ) -> DeploymentDetail:
        """Roll out another version: new instances first, old ones retired once they are
        healthy; rolled back by itself if they are not healthy by the deadline. And/or set
        what the audit trail keeps of its tool calls' arguments (from the next call on).

        Raises:
            NotFound: the service has no such version.
            Invalid: neither a version nor a policy was given, the deployment already runs
                the version, it cannot run on the deployment's runtime, or the deployment's
                configuration does not fit its schema.
        """
        if version is None and audit_arguments is None:
            raise Invalid(
                "give a version to roll out or an audit_arguments policy (digest, redacted, none)",
                field="version",
            )
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "update")
            before = state.deployment.audit_arguments
            policy = audit_arguments.value if audit_arguments is not None else before
            if policy != before:
                await self._change(session, state, actor, "audit", audit_arguments=policy)
            if version is not None:
                _, row = await service_version(session, actor, state.service, version)
                state.versions[row.id] = row
                await self._roll(session, state, actor, row, "update")
        if policy != before:
            # The recorder applies it from this event on, in the order calls arrive.
            self._publish(AUDIT_POLICY_EVENT, state.deployment, actor, policy=policy, before=before)
        if version is None:
            return await self.get(actor, address(actor, state))
        return await self._after(actor, state, "deployment.updating", version=version)

    async def reconfigure(
        self, actor: Principal, name: str, change: DeploymentReconfigure
    ) -> Reconfigured:
        """Change a deployment's configuration, secrets, limits, host variables or session
        mode in place, checked as on create; running instances are replaced by a rolling
        restart (those started before serve until as many started since are healthy).

        Returns:
            What changed (secrets as ``(set)``/``(changed)``), and the deployment; on a dry
            run what would change, with nothing changed.

        Raises:
            NotFound: no such deployment, or no stored secret of a name in ``secret_refs``.
            Forbidden: the actor is not its owner (nor an admin).
            Invalid: the new settings do not fit the version (``field`` says where), it
                fronts a remote server, or an update is rolling out.
        """
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "configure")
            d = state.deployment
            refuse_unchangeable(d)
            version = state.versions[d.version_id]
            if change.pass_env is not None:
                refuse_unpassable(
                    change.pass_env, self._settings.passable_env, whose="the deployment"
                )
            stored = await self._secrets.load(session, d.id)
            # Stored secrets are the actor's own, whoever's deployment they go to.
            named = await self._stored.values(session, actor, change.secret_refs)
            after = settings_after(d, dict(version.config_schema), stored, change, named)
            if after.changes and not change.dry_run:
                assert d.driver is not None
                # A placeholder left without its value is refused before anything changes.
                launch = launch_for(Recipe.of(state.service, version), d.driver)
                with_arguments(launch, version.config_schema, after.resolved)
                await self._change(
                    session,
                    state,
                    actor,
                    "configure",
                    changes=after.changes,
                    config=after.resolved.values,
                    settings_changed_at=utcnow(),
                    **after.columns,
                )
                await self._secrets.save(session, d.id, after.resolved.secrets)
        if change.dry_run or not after.changes:
            detail = await self.get(actor, address(actor, state))
        else:
            detail = await self._after(
                actor, state, "deployment.configured", changed=sorted(after.changes)
            )
        return Reconfigured(changes=after.changes, dry_run=change.dry_run, deployment=detail)

    async def rollback(self, actor: Principal, name: str) -> DeploymentDetail:
        """Cancel an update in progress, or roll out the previous version again.

        Raises:
            Invalid: there is nothing to roll back to.
        """
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "rollback")
            d = state.deployment
            if d.target_version_id is not None:
                await rollout.abandon(session, state, f"cancelled by {actor.name}", actor=actor)
            else:
                previous = state.version(d.previous_version_id)
                if previous is None:
                    raise Invalid(
                        f"{d.deployment_name} has no previous version to roll back to",
                        field="version",
                    )
                await self._roll(session, state, actor, previous, "rollback")
        return await self._after(actor, state, "deployment.rollback")

    async def stop(self, actor: Principal, name: str) -> DeploymentDetail:
        """Stop every instance; the deployment and its settings stay."""
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "stop")
            await self._change(session, state, actor, "stop", desired_state="STOPPED")
        return await self._after(actor, state, "deployment.stopping")

    async def start(self, actor: Principal, name: str) -> DeploymentDetail:
        """Start a stopped deployment, or retry the instances of a running one that failed."""
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "start")
            d = state.deployment
            if d.desired_state == DesiredState.RUNNING:
                failed = [r.id for r in state.instances if r.status == InstanceStatus.FAILED]
                await session.execute(delete(ServiceInstance).where(ServiceInstance.id.in_(failed)))
                reason = f"retry {len(failed)} failed instance(s)"
                history.record(session, d, "start", actor=actor, reason=reason)
            else:
                await self._change(
                    session, state, actor, "start", desired_state="RUNNING", status="DEPLOYING"
                )
        return await self._after(actor, state, "deployment.starting")

    async def delete(self, actor: Principal, name: str) -> None:
        """Remove every container or process of the deployment, then the deployment itself.

        With the controller running this returns once everything is gone; otherwise the
        next running controller finishes the job (the name stays taken until then).
        """
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "delete")
            await self._change(session, state, actor, "delete", desired_state="DELETED")
        self._publish("deployment.deleting", state.deployment, actor)
        if self._controller.running:
            await self._controller.converge(state.id)

    # -- sharing -------------------------------------------------------------------------------

    async def share(self, actor: Principal, name: str, share: ShareCreate) -> DeploymentDetail:
        """Share a deployment with a user or a team as a caller or an operator (sharing
        again changes the role).

        Raises:
            NotFound: no such deployment, user or team.
            Forbidden: the actor is not its owner (nor an admin).
            Invalid: neither or both of user and team, or the user is its owner.
        """
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "change_shares")
            who = await grantee(session, state, share)
            before = await put_share(session, state, who, share.role)
            change = history.change(before, share.role.value)
            history.record(
                session, state.deployment, "share", actor=actor, changes={who.label: change}
            )
        await self._controller.sync_routes(state.id)
        return await self._after(actor, state, "deployment.shared", **{who.kind: who.name})

    async def unshare(
        self, actor: Principal, name: str, *, user: str | None = None, team: str | None = None
    ) -> DeploymentDetail:
        """Stop sharing a deployment with a user or a team (the gateway refuses their next
        request, open sessions included).

        Raises:
            NotFound: no such deployment, user or team, or it is not shared with them.
            Forbidden: the actor is not its owner (nor an admin).
        """
        async with self._sessions.begin() as session:
            state = await find(session, actor, name, "change_shares")
            who = await grantee(session, state, ShareCreate(user=user, team=team))
            before = await drop_share(session, state, who)
            if before is None:
                raise NotFound(f"{state.name} is not shared with {who.label}", field=who.kind)
            change = history.change(before, None)
            history.record(
                session, state.deployment, "unshare", actor=actor, changes={who.label: change}
            )
        await self._controller.sync_routes(state.id)
        return await self._after(actor, state, "deployment.unshared", **{who.kind: who.name})

    async def key_scope(self, actor: Principal, names: list[str]) -> dict[str, int]:
        """The deployments a new key of the actor's may be limited to, by name to id.

        Raises:
            NotFound: the actor may not see one of them.
        """
        async with self._sessions() as session:
            return {name: (await find(session, actor, name)).id for name in names}

    # -- helpers -------------------------------------------------------------------------------

    async def _roll(
        self,
        session: AsyncSession,
        state: DeploymentState,
        actor: Principal,
        target: ServiceVersion,
        action: str,
    ) -> None:
        d = state.deployment
        if target.id == d.version_id:
            if d.target_version_id is None:
                raise Invalid(f"{d.deployment_name} already runs {target.version}", field="version")
            await rollout.abandon(session, state, f"cancelled by {actor.name}", actor=actor)
            return
        recipe = Recipe.of(state.service, target)
        assert d.driver is not None
        if d.driver == REMOTE:
            stored = await self._secrets.load_all(session, d.id)
            endpoints(
                state.service,
                target.version,
                recipe.remotes,
                target.config_schema,
                d.config,
                stored,
            )
        else:
            transport_of(recipe)
            launch_for(recipe, d.driver)
            await self._controller.converger.pins.check(session, state, target.id, recipe)
            secrets_ = await self._secrets.load(session, d.id)
            resolve_config(dict(target.config_schema), dict(d.config), secrets_)
        changes = {"version": history.change(rollout.label(state, d.version_id), target.version)}
        if d.desired_state == DesiredState.STOPPED:
            # Nothing runs, so nothing to roll out: the next start runs the new version.
            await self._change(
                session,
                state,
                actor,
                action,
                changes=changes,
                previous_version_id=d.version_id,
                version_id=target.id,
                target_version_id=None,
                rollout_deadline=None,
            )
            return
        now = utcnow()
        await self._change(
            session,
            state,
            actor,
            action,
            changes=changes,
            target_version_id=target.id,
            rollout_deadline=rollout.deadline(now, self._settings.rollout_deadline),
        )

    async def _change(
        self,
        session: AsyncSession,
        state: DeploymentState,
        actor: Principal,
        action: str,
        *,
        changes: dict[str, Any] | None = None,
        **values: Any,
    ) -> None:
        d = state.deployment
        if changes is None:
            changes = {
                key: history.change(getattr(d, key), value)
                for key, value in values.items()
                if getattr(d, key) != value
            }
        await session.execute(
            update(ServiceDeployment).where(ServiceDeployment.id == d.id).values(**values)
        )
        history.record(session, d, action, actor=actor, changes=changes)
        for key, value in values.items():
            setattr(d, key, value)

    async def _after(
        self, actor: Principal, state: DeploymentState, event: str, **fields: Any
    ) -> DeploymentDetail:
        self._publish(event, state.deployment, actor, **fields)
        self._controller.poke(state.id)
        return await self.get(actor, address(actor, state))

    def _publish(self, kind: str, d: ServiceDeployment, actor: Principal, **fields: Any) -> None:
        self._events.publish(
            {
                "type": kind,
                "deployment": d.deployment_name,
                "deployment_id": d.id,
                "owner_id": d.user_id,
                **fields,
                **acted_by(actor),
            }
        )
