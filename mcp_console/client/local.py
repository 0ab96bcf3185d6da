"""LocalClient: the ConsoleClient over a Runtime on the same event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_console.backend.events import streamed
from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.principals import require_unscoped
from mcp_console.client.uploads import file_chunks
from mcp_console.schemas.alerts import (
    AlertView,
    DeliveryView,
    RuleCreate,
    RuleView,
    SilenceCreate,
    SilenceView,
    TargetCreate,
    TargetView,
)
from mcp_console.schemas.audit import AuditArguments, AuditEntry, AuditQuery
from mcp_console.schemas.billing import PriceSet, PriceView, UsageQuery, UsageReport
from mcp_console.schemas.catalog import (
    CatalogDocument,
    CategoryCount,
    ImportReport,
    ReviewCreate,
    ReviewView,
    SearchPage,
    ServiceCreate,
    ServiceDetail,
    ServiceUpdate,
    ServiceView,
    TagCount,
    VersionCreate,
    VersionView,
)
from mcp_console.schemas.deploy import (
    DeploymentCreate,
    DeploymentDetail,
    DeploymentReconfigure,
    DeploymentUpdate,
    DeploymentView,
    HistoryEntry,
    InstanceLogs,
    PackageStored,
    Reconfigured,
    ShareCreate,
)
from mcp_console.schemas.drift import DriftApproval, DriftPolicy, DriftReport
from mcp_console.schemas.errors import revalidated
from mcp_console.schemas.invoices import (
    Invoice,
    InvoiceExport,
    InvoiceFormat,
    InvoiceQuery,
    InvoiceSummary,
    MonthClose,
)
from mcp_console.schemas.logs import LogLine, LogQuery
from mcp_console.schemas.metering import MeteringState
from mcp_console.schemas.monitor import (
    DeploymentMetrics,
    InspectReport,
    MetricsHistory,
    SessionView,
    ToolCallOutcome,
)
from mcp_console.schemas.quotas import QuotaSet, QuotaView
from mcp_console.schemas.revenue import RevenueQuery, RevenueReport
from mcp_console.schemas.runnability import VersionRunnability
from mcp_console.schemas.secrets import StoredSecretPut, StoredSecretView
from mcp_console.schemas.server_docs import ServerDefinitions
from mcp_console.schemas.users import (
    KeyCreate,
    KeyCreated,
    KeyView,
    Principal,
    TeamCreate,
    TeamRole,
    TeamView,
    UserCreate,
    UserCreated,
    UserView,
)

# The deployments' modules load after a console's first results (they wait for the catalog
# only); the runtime loads them on a thread by the time events are asked for.
if TYPE_CHECKING:
    from mcp_console.backend.deploy.event_audience import EventAudience


class LocalClient:
    """Calls the runtime's services directly, acting as one principal."""

    def __init__(self, runtime: Runtime, actor: Principal) -> None:
        self._runtime = runtime
        self._actor = actor

    def _unscoped(self) -> Principal:
        # As the API: a key limited to some deployments may use and run them, read the
        # catalog and say who it is, and nothing else.
        require_unscoped(self._actor)
        return self._actor

    async def whoami(self) -> Principal:
        return self._actor

    async def search_services(
        self, query: str, *, page: int = 1, page_size: int = 50
    ) -> SearchPage:
        return await self._runtime.catalog.search(
            self._actor, query, page=page, page_size=page_size
        )

    async def get_service(self, name: str) -> ServiceDetail:
        return await self._runtime.catalog.get_service(self._actor, name)

    async def version_runnability(self, name: str) -> list[VersionRunnability]:
        return await self._runtime.runnability.of_service(self._actor, name)

    async def list_categories(self) -> list[CategoryCount]:
        return await self._runtime.catalog.categories(self._actor)

    async def list_tags(self, limit: int = 200) -> list[TagCount]:
        return await self._runtime.catalog.tags(self._actor, limit)

    async def featured_services(self, limit: int = 20) -> list[ServiceView]:
        return await self._runtime.catalog.featured(limit)

    async def my_services(self) -> list[ServiceView]:
        return await self._runtime.catalog.services_by_author(self._actor)

    async def register_service(self, new: ServiceCreate) -> ServiceDetail:
        return await self._runtime.catalog.register(self._unscoped(), revalidated(new))

    async def update_service(self, name: str, changes: ServiceUpdate) -> ServiceDetail:
        return await self._runtime.catalog.update(self._unscoped(), name, revalidated(changes))

    async def add_version(self, name: str, new: VersionCreate) -> VersionView:
        return await self._runtime.catalog.add_version(self._unscoped(), name, revalidated(new))

    async def publish_service(self, name: str) -> ServiceDetail:
        return await self._runtime.catalog.publish(self._unscoped(), name)

    async def upload_package(
        self, registry: str, name: str, version: str, artifact: Path
    ) -> PackageStored:
        return await self._runtime.drivers.packages.upload(
            self._unscoped(), registry, name, version, artifact.name, file_chunks(artifact)
        )

    async def publish_server_json(self, text: str, origin: str = "server.json") -> ServiceDetail:
        return await self._runtime.catalog.publish_document(self._unscoped(), text, origin)

    async def deprecate_service(self, name: str, message: str) -> ServiceDetail:
        return await self._runtime.catalog.deprecate(self._unscoped(), name, message)

    async def import_catalog(self, documents: list[CatalogDocument]) -> ImportReport:
        return await self._runtime.catalog.import_documents(self._unscoped(), documents)

    async def export_server_json(self, name: str, version: str | None = None) -> dict[str, Any]:
        return await self._runtime.catalog.export(self._actor, name, version)

    async def add_review(self, name: str, review: ReviewCreate) -> ReviewView:
        return await self._runtime.catalog.add_review(self._unscoped(), name, revalidated(review))

    async def list_reviews(self, name: str) -> list[ReviewView]:
        return await self._runtime.catalog.list_reviews(self._actor, name)

    async def create_user(self, new: UserCreate) -> UserCreated:
        return await self._runtime.users.create_user(self._unscoped(), revalidated(new))

    async def list_users(self) -> list[UserView]:
        return await self._runtime.users.list_users(self._unscoped())

    # -- API keys ------------------------------------------------------------------------------

    async def list_keys(self, user: str | None = None) -> list[KeyView]:
        return await self._runtime.keys.list_keys(self._unscoped(), user)

    async def create_key(self, new: KeyCreate) -> KeyCreated:
        return await self._runtime.keys.create(self._unscoped(), revalidated(new))

    async def revoke_key(self, ref: str, user: str | None = None) -> KeyView:
        return await self._runtime.keys.revoke(self._unscoped(), ref, user)

    # -- alerting ------------------------------------------------------------------------------

    async def list_alerts(self, everything: bool = False) -> list[AlertView]:
        return await self._runtime.alerts.alerts(self._unscoped(), everything=everything)

    async def acknowledge_alert(self, alert_id: int) -> AlertView:
        return await self._runtime.alerts.acknowledge(self._unscoped(), alert_id)

    async def list_silences(self) -> list[SilenceView]:
        return await self._runtime.alerts.silences(self._unscoped())

    async def add_silence(self, new: SilenceCreate) -> SilenceView:
        return await self._runtime.alerts.silence(self._unscoped(), revalidated(new))

    async def expire_silence(self, silence_id: int) -> SilenceView:
        return await self._runtime.alerts.expire_silence(self._unscoped(), silence_id)

    async def list_alert_rules(self) -> list[RuleView]:
        return await self._runtime.alert_rules.rules(self._unscoped())

    async def add_alert_rule(self, new: RuleCreate) -> RuleView:
        return await self._runtime.alert_rules.add(self._unscoped(), revalidated(new))

    async def remove_alert_rule(self, name: str) -> None:
        await self._runtime.alert_rules.remove(self._unscoped(), name)

    async def set_alert_rule_enabled(self, name: str, enabled: bool) -> RuleView:
        return await self._runtime.alert_rules.set_enabled(self._unscoped(), name, enabled)

    async def export_alert_rules(self) -> str:
        return await self._runtime.alert_rules.export_prometheus(self._unscoped())

    async def add_alert_target(self, new: TargetCreate) -> TargetView:
        return await self._runtime.notifications.add_target(self._unscoped(), revalidated(new))

    async def list_alert_targets(self) -> list[TargetView]:
        return await self._runtime.notifications.list_targets(self._unscoped())

    async def remove_alert_target(self, name: str) -> None:
        await self._runtime.notifications.remove_target(self._unscoped(), name)

    async def test_alert_target(self, name: str) -> DeliveryView:
        return await self._runtime.notifications.test_target(self._unscoped(), name)

    async def alert_deliveries(
        self, target: str | None = None, limit: int = 50
    ) -> list[DeliveryView]:
        return await self._runtime.notifications.deliveries(self._unscoped(), target, limit)

    # -- audit ---------------------------------------------------------------------------------

    async def audit_events(self, query: AuditQuery) -> list[AuditEntry]:
        return await self._runtime.audit.events(self._unscoped(), revalidated(query))

    # -- billing -------------------------------------------------------------------------------

    async def billing_usage(self, query: UsageQuery) -> UsageReport:
        return await self._runtime.usage.usage(self._actor, revalidated(query))

    async def list_prices(self, service: str) -> list[PriceView]:
        return await self._runtime.prices.list_prices(self._actor, service)

    async def set_price(self, service: str, price: PriceSet) -> PriceView:
        return await self._runtime.prices.set_price(self._unscoped(), service, price)

    async def billing_revenue(self, query: RevenueQuery) -> RevenueReport:
        return await self._runtime.revenue.revenue(self._unscoped(), query)

    async def billing_invoices(self, query: InvoiceQuery) -> list[InvoiceSummary]:
        return await self._runtime.invoices.invoices(self._unscoped(), revalidated(query))

    async def billing_invoice(self, number: str) -> Invoice:
        return await self._runtime.invoices.invoice(self._unscoped(), number)

    async def export_invoice(self, number: str, fmt: InvoiceFormat) -> InvoiceExport:
        return await self._runtime.invoices.export(self._unscoped(), number, fmt)

    async def close_month(self, month: str) -> MonthClose:
        return await self._runtime.invoices.close_month(self._unscoped(), month)

    async def metering_state(self) -> MeteringState:
        return await self._runtime.metering.state(self._unscoped())

    async def list_quotas(self) -> list[QuotaView]:
        return await self._runtime.quotas.list_quotas(self._unscoped())

    async def set_quota(self, quota: QuotaSet) -> QuotaView:
        return await self._runtime.quotas.set_quota(self._unscoped(), quota)

    async def remove_quota(self, quota_id: int) -> None:
        await self._runtime.quotas.remove_quota(self._unscoped(), quota_id)

    # -- teams ---------------------------------------------------------------------------------

    async def list_teams(self) -> list[TeamView]:
        return await self._runtime.teams.list_teams(self._unscoped())

    async def get_team(self, name: str) -> TeamView:
        return await self._runtime.teams.get(self._unscoped(), name)

    async def create_team(self, new: TeamCreate) -> TeamView:
        return await self._runtime.teams.create(self._unscoped(), revalidated(new))

    async def delete_team(self, name: str) -> None:
        await self._runtime.teams.delete(self._unscoped(), name)

    async def add_team_member(
        self, team: str, user: str, role: TeamRole = TeamRole.MEMBER
    ) -> TeamView:
        return await self._runtime.teams.add_member(self._unscoped(), team, user, TeamRole(role))

    async def remove_team_member(self, team: str, user: str) -> TeamView:
        return await self._runtime.teams.remove_member(self._unscoped(), team, user)

    @asynccontextmanager
    async def events(self) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        from mcp_console.backend.deploy.event_audience import EventAudience

        audience = EventAudience(self._runtime.sessions, self._unscoped())
        async with self._runtime.events.subscribe() as queue:
            yield _drain(queue, audience)

    # -- deployments ---------------------------------------------------------------------------

    async def create_deployment(self, new: DeploymentCreate) -> DeploymentDetail:
        return await self._runtime.deployments.create(self._unscoped(), revalidated(new))

    async def list_deployments(self) -> list[DeploymentView]:
        views = await self._runtime.deployments.list_deployments(self._actor)
        return self._runtime.live_figures.live_views(views)

    async def get_deployment(self, name: str) -> DeploymentDetail:
        detail = await self._runtime.deployments.get(self._actor, name)
        return self._runtime.live_figures.live_view(detail)

    async def scale_deployment(self, name: str, replicas: int) -> DeploymentDetail:
        return await self._runtime.deployments.scale(self._actor, name, replicas)

    async def update_deployment(
        self,
        name: str,
        version: str | None = None,
        *,
        audit_arguments: AuditArguments | None = None,
    ) -> DeploymentDetail:
        change = revalidated(
            DeploymentUpdate.model_construct(version=version, audit_arguments=audit_arguments)
        )
        return await self._runtime.deployments.update(
            self._actor, name, change.version, audit_arguments=change.audit_arguments
        )

    async def reconfigure_deployment(
        self, name: str, change: DeploymentReconfigure
    ) -> Reconfigured:
        return await self._runtime.deployments.reconfigure(self._actor, name, revalidated(change))

    async def list_secrets(self) -> list[StoredSecretView]:
        return await self._runtime.stored_secrets.list(self._unscoped())

    async def set_secret(self, name: str, value: str) -> StoredSecretView:
        body = revalidated(StoredSecretPut.model_construct(value=value))
        return await self._runtime.stored_secrets.put(self._unscoped(), name, body.value)

    async def delete_secret(self, name: str) -> None:
        await self._runtime.stored_secrets.remove(self._unscoped(), name)

    async def rollback_deployment(self, name: str) -> DeploymentDetail:
        return await self._runtime.deployments.rollback(self._actor, name)

    async def stop_deployment(self, name: str) -> DeploymentDetail:
        return await self._runtime.deployments.stop(self._actor, name)

    async def start_deployment(self, name: str) -> DeploymentDetail:
        return await self._runtime.deployments.start(self._actor, name)

    async def delete_deployment(self, name: str) -> None:
        await self._runtime.deployments.delete(self._actor, name)

    async def deployment_history(self, name: str) -> list[HistoryEntry]:
        return await self._runtime.deployments.history(self._actor, name)

    async def deployment_logs(
        self, name: str, *, instance: str | None = None, tail: int = 100
    ) -> list[InstanceLogs]:
        return await self._runtime.deployments.logs(self._actor, name, instance=instance, tail=tail)

    async def search_logs(self, query: LogQuery) -> list[LogLine]:
        return await self._runtime.logs.search(self._actor, revalidated(query))

    async def follow_logs(self, query: LogQuery) -> AsyncIterator[LogLine]:
        # As the API's streams: a key limited to some deployments follows nothing live.
        actor = self._unscoped()
        async for line in self._runtime.logs.follow(actor, revalidated(query)):
            yield line

    async def set_autoscale(self, name: str, policy: dict[str, Any] | None) -> DeploymentDetail:
        return await self._runtime.deployments.set_autoscale(self._actor, name, policy)

    async def share_deployment(self, name: str, share: ShareCreate) -> DeploymentDetail:
        return await self._runtime.deployments.share(self._unscoped(), name, revalidated(share))

    async def unshare_deployment(
        self, name: str, *, user: str | None = None, team: str | None = None
    ) -> DeploymentDetail:
        return await self._runtime.deployments.unshare(self._unscoped(), name, user=user, team=team)

    # -- live: figures, sessions, inspection ---------------------------------------------------

    async def deployment_metrics(self, name: str) -> DeploymentMetrics:
        return await self._runtime.live_figures.deployment_metrics(self._actor, name)

    async def metrics_history(
        self, name: str, period: str = "1h", by: str | None = None
    ) -> MetricsHistory:
        return await self._runtime.metrics_history.history(self._actor, name, period, by)

    async def drift_report(self, name: str) -> DriftReport:
        return await self._runtime.drift.report(self._actor, name)

    async def approve_drift(self, name: str, approval: DriftApproval) -> DriftReport:
        return await self._runtime.drift.approve(self._actor, name, revalidated(approval))

    async def set_drift_policy(self, name: str, policy: DriftPolicy) -> DriftReport:
        return await self._runtime.drift.set_policy(self._actor, name, DriftPolicy(policy))

    async def list_sessions(self, name: str) -> list[SessionView]:
        return await self._runtime.gateway_sessions.list_sessions(self._actor, name)

    async def drain_session(self, name: str, session_id: str) -> SessionView:
        return await self._runtime.gateway_sessions.drain_session(self._actor, name, session_id)

    async def kill_session(self, name: str, session_id: str) -> None:
        await self._runtime.gateway_sessions.kill_session(self._actor, name, session_id)

    async def inspect_deployment(self, name: str) -> InspectReport:
        return await self._runtime.inspector.inspect(self._actor, name)

    async def server_definitions(self, name: str) -> ServerDefinitions:
        return await self._runtime.inspector.definitions(self._actor, name)

    async def call_tool(self, name: str, tool: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        return await self._runtime.inspector.call_tool(self._actor, name, tool, arguments)


async def _drain(
    queue: asyncio.Queue[dict[str, Any]], audience: EventAudience
) -> AsyncIterator[dict[str, Any]]:
    while True:
        event = await queue.get()
        if await audience.allows(event):
            yield streamed(event)
