"""FakeClient: the ConsoleClient in memory, for the TUI's snapshot and Pilot tests only."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mcp_console.backend.monitor.alert_rules import BUILTIN_RULES, prometheus_rules
from mcp_console.backend.monitor.audit import audit_filter
from mcp_console.backend.monitor.notify_targets import mask_url, target_kind
from mcp_console.backend.security.principals import require_unscoped
from mcp_console.schemas.alerts import (
    AlertState,
    AlertView,
    DeliveryState,
    DeliveryView,
    RuleCreate,
    RuleView,
    SilenceCreate,
    SilenceView,
    TargetCreate,
    TargetKind,
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
    DeploymentView,
    HistoryEntry,
    InstanceLogs,
    PackageStored,
    Reconfigured,
    ShareCreate,
)
from mcp_console.schemas.drift import DriftApproval, DriftPolicy, DriftReport
from mcp_console.schemas.errors import (
    Conflict,
    ConsoleError,
    Forbidden,
    Invalid,
    NotFound,
    revalidated,
)
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
    Role,
    TeamCreate,
    TeamRole,
    TeamView,
    UserCreate,
    UserCreated,
    UserView,
)
from tests.fake_billing import FakeBilling
from tests.fake_invoices import FakeInvoices
from tests.fake_quotas import FakeQuotas
from tests.tui.fake_catalog import FakeCatalog
from tests.tui.fake_deployments import FakeDeployments
from tests.tui.fake_history import fake_history
from tests.tui.fake_inspector import FakeInspector
from tests.tui.fake_keys import FakeKeys
from tests.tui.fake_live import FakeLive
from tests.tui.fake_logs import FakeLogs
from tests.tui.fake_packages import FakePackages
from tests.tui.fake_runnability import FakeMachine
from tests.tui.fake_secrets import FakeSecrets
from tests.tui.fake_teams import FakeShares, FakeTeams
from tests.tui.fake_users import FakeUsers

# What a key limited to some deployments may do, as the API and LocalClient allow it: use
# and run deployments, read the catalog, say who it is.
SCOPED_KEY_METHODS = frozenset(
    {
        "whoami",
        "search_services",
        "get_service",
        "version_runnability",
        "list_categories",
        "list_tags",
        "featured_services",
        "my_services",
        "export_server_json",
        "list_reviews",
        "list_deployments",
        "get_deployment",
        "scale_deployment",
        "update_deployment",
        "reconfigure_deployment",
        "rollback_deployment",
        "stop_deployment",
        "start_deployment",
        "delete_deployment",
        "deployment_history",
        "deployment_logs",
        "search_logs",
        "set_autoscale",
        "deployment_metrics",
        "metrics_history",
        "drift_report",
        "approve_drift",
        "billing_usage",
        "list_prices",
        "set_drift_policy",
        "list_sessions",
        "drain_session",
        "kill_session",
        "inspect_deployment",
        "server_definitions",
        "call_tool",
    }
)


class FakeClient:
    """Everything the console asks of a backend, kept in memory, acting as ``me``.

    The catalog (``tests.tui.fake_catalog``) and users follow the backend's rules, and the
    contract suite (``tests/contract``) runs over this client as over the real ones, so the
    two cannot drift apart unnoticed. ``acting_as`` gives a client of the same world acting
    as another user.

    ``failures`` maps a method name to the error it raises (the error states of the
    snapshots); ``ready_after`` is how many ``get_deployment`` calls a new deployment
    takes to become healthy; a full page of a search matching more than ``estimate_above``
    reports an estimated total (``overestimate`` too many), as a broad PostgreSQL search
    does. Sample data lives in ``tests.tui.sample``.
    """

    def __init__(
        self,
        services: list[ServiceDetail] | None = None,
        *,
        reviews: list[ReviewView] | None = None,
        me: Principal | None = None,
        failures: dict[str, ConsoleError] | None = None,
        ready_after: int = 2,
        estimate_above: int | None = None,
        overestimate: int = 0,
    ) -> None:
        self.me = me or Principal(user_id=1, name="admin", role=Role.ADMIN)
        self.catalog = FakeCatalog(
            services or [],
            reviews or [],
            self.emit,
            estimate_above=estimate_above,
            overestimate=overestimate,
        )
        self.services = self.catalog.services
        self.reviews = self.catalog.reviews
        self.imported = self.catalog.imported
        self.published_texts = self.catalog.published_texts
        self.users = FakeUsers(self.me)
        self.failures = dict(failures or {})
        self.alert_targets: list[TargetView] = []
        self.alert_log: list[DeliveryView] = []
        self.alerts: list[AlertView] = []
        self.silences: list[SilenceView] = []
        self.alert_rules: list[RuleView] = [rule_view(r, builtin=True) for r in BUILTIN_RULES]
        # The audit trail, oldest first (tests add the entries they want shown).
        self.audit_log: list[AuditEntry] = []
        self.billing = FakeBilling(self.catalog)
        self.quotas = FakeQuotas()
        self.invoices = FakeInvoices()
        self.calls: list[str] = []
        self.deploys = FakeDeployments(self.catalog.stored, ready_after)
        self.stored_secrets = FakeSecrets()
        self.deployments = self.deploys.items
        self.inspector = FakeInspector(self.deployments)
        self.live = FakeLive(self.deployments)
        # Tool-definition drift per deployment (tests put the findings they want shown).
        self.drift: dict[str, DriftReport] = {}
        self.logs = FakeLogs()
        self.teams = FakeTeams(self._user_exists)
        self.shares = FakeShares(self._user_exists, self.teams)
        self.keys = FakeKeys(self._user_exists, self._address)
        # What "this machine" offers the versions (Docker, Pythons, Node.js, images).
        self.machine = FakeMachine()
        self.packages = FakePackages()
        self._queues: list[asyncio.Queue[dict[str, Any]]] = []

    def acting_as(self, principal: Principal) -> FakeClient:
        """A client of the same services, users and deployments, acting as ``principal``."""
        other = copy.copy(self)
        other.me = principal
        return other

    def authenticate(self, api_key: str) -> Principal:
        """The principal of a key this world minted (a user's own, or one from
        ``create_key``), with the user's teams.

        Raises:
            Unauthorized: no such key, or it was revoked.
        """
        found = self.keys.owner_of(api_key)
        if found is None:
            principal = self.users.authenticate(api_key)
        else:
            user = self.users.views[found[0]]
            scope = found[1].deployments
            principal = Principal(
                user_id=user.id,
                name=user.name,
                role=user.role,
                scope=None if scope is None else self._ids(scope),
            )
        return principal.model_copy(update={"team_ids": self.teams.ids_of(principal.name)})

    def _ids(self, names: list[str]) -> frozenset[int]:
        return frozenset(self.deployments[n].id for n in names if n in self.deployments)

    def _user_exists(self, name: str) -> bool:
        return name in self.users.views

    def _address(self, name: str) -> str:
        """The deployment a key may be limited to, as its owner names it."""
        return self._deployment(name).address

    def _deployment(self, name: str) -> DeploymentDetail:
        found = self.deployments.get(name)
        if found is None:
            raise NotFound(f"no deployment named {name!r}", field="name")
        return found

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        if method not in SCOPED_KEY_METHODS:
            require_unscoped(self.me)
        error = self.failures.get(method)
        if error is not None:
            raise error

    def emit(self, event: dict[str, Any]) -> None:
        """Deliver a backend event to every open ``events()`` stream."""
        for queue in self._queues:
            queue.put_nowait(event)

    # --- catalog (kept by FakeCatalog) --------------------------------------------------

    async def whoami(self) -> Principal:
        self._enter("whoami")
        return self.me

    async def search_services(
        self, query: str, *, page: int = 1, page_size: int = 50
    ) -> SearchPage:
        self._enter("search_services")
        return self.catalog.search(self.me, query, page, page_size)

    async def get_service(self, name: str) -> ServiceDetail:
        self._enter("get_service")
        return self.catalog.visible(self.me, name)

    async def version_runnability(self, name: str) -> list[VersionRunnability]:
        self._enter("version_runnability")
        return self.machine.of_service(self.catalog.visible(self.me, name))

    async def list_categories(self) -> list[CategoryCount]:
        self._enter("list_categories")
        return self.catalog.categories()

    async def list_tags(self, limit: int = 200) -> list[TagCount]:
        self._enter("list_tags")
        return self.catalog.tags(limit)

    async def featured_services(self, limit: int = 20) -> list[ServiceView]:
        self._enter("featured_services")
        return self.catalog.featured(limit)

    async def my_services(self) -> list[ServiceView]:
        self._enter("my_services")
        return self.catalog.by_author(self.me)

    async def register_service(self, new: ServiceCreate) -> ServiceDetail:
        self._enter("register_service")
        return self.catalog.register(self.me, new)

    async def update_service(self, name: str, changes: ServiceUpdate) -> ServiceDetail:
        self._enter("update_service")
        return self.catalog.update(self.me, name, changes)

    async def add_version(self, name: str, new: VersionCreate) -> VersionView:
        self._enter("add_version")
        return self.catalog.add_version(self.me, name, new)

    async def publish_service(self, name: str) -> ServiceDetail:
        self._enter("publish_service")
        return self.catalog.publish(self.me, name)

    async def upload_package(
        self, registry: str, name: str, version: str, artifact: Path
    ) -> PackageStored:
        self._enter("upload_package")
        return await self.packages.upload(self.me, registry, name, version, artifact)

    async def publish_server_json(self, text: str, origin: str = "server.json") -> ServiceDetail:
        self._enter("publish_server_json")
        return self.catalog.publish_document(self.me, text, origin)

    async def deprecate_service(self, name: str, message: str) -> ServiceDetail:
        self._enter("deprecate_service")
        return self.catalog.deprecate(self.me, name, message)

    async def import_catalog(self, documents: list[CatalogDocument]) -> ImportReport:
        self._enter("import_catalog")
        return self.catalog.import_documents(self.me, documents)

    async def export_server_json(self, name: str, version: str | None = None) -> dict[str, Any]:
        self._enter("export_server_json")
        return self.catalog.export(self.me, name, version)

    async def add_review(self, name: str, review: ReviewCreate) -> ReviewView:
        self._enter("add_review")
        return self.catalog.add_review(self.me, name, review)

    async def list_reviews(self, name: str) -> list[ReviewView]:
        self._enter("list_reviews")
        return self.catalog.list_reviews(self.me, name)

    # --- users (kept by FakeUsers) ------------------------------------------------------

    async def create_user(self, new: UserCreate) -> UserCreated:
        self._enter("create_user")
        return self.users.create(self.me, new)

    async def list_users(self) -> list[UserView]:
        self._enter("list_users")
        return self.users.listed(self.me)

    # --- API keys (kept by FakeKeys) -----------------------------------------------------

    async def list_keys(self, user: str | None = None) -> list[KeyView]:
        self._enter("list_keys")
        return self.keys.listed(self.me, user)

    async def create_key(self, new: KeyCreate) -> KeyCreated:
        self._enter("create_key")
        return self.keys.create(self.me, new)

    async def revoke_key(self, ref: str, user: str | None = None) -> KeyView:
        self._enter("revoke_key")
        return self.keys.revoke(self.me, ref, user)

    # --- alerting (targets and a delivery log, as the backend's rules have them) ----------

    def _alert_admin(self, method: str) -> None:
        self._enter(method)
        if not self.me.is_admin:
            raise Forbidden("only admins may manage notification targets")

    async def list_alerts(self, everything: bool = False) -> list[AlertView]:
        self._enter("list_alerts")
        shown = [a for a in self.alerts if everything or a.state is not AlertState.RESOLVED]
        return sorted(shown, key=lambda a: a.id, reverse=True)

    async def acknowledge_alert(self, alert_id: int) -> AlertView:
        self._enter("acknowledge_alert")
        for index, alert in enumerate(self.alerts):
            if alert.id == alert_id:
                self.alerts[index] = alert.model_copy(update={"acknowledged_by": self.me.name})
                return self.alerts[index]
        raise NotFound(f"no alert {alert_id}")

    async def list_silences(self) -> list[SilenceView]:
        self._alert_admin("list_silences")
        return [s for s in self.silences if s.active]

    async def add_silence(self, new: SilenceCreate) -> SilenceView:
        self._alert_admin("add_silence")
        now = datetime.now(UTC)
        silence = SilenceView(
            id=len(self.silences) + 1,
            matchers=dict(new.matchers),
            comment=new.comment,
            created_by=self.me.name,
            created_at=now,
            ends_at=now + timedelta(seconds=new.duration_s),
            active=True,
        )
        self.silences.append(silence)
        return silence

    async def expire_silence(self, silence_id: int) -> SilenceView:
        self._alert_admin("expire_silence")
        for index, silence in enumerate(self.silences):
            if silence.id == silence_id:
                ended = silence.model_copy(update={"active": False, "ends_at": datetime.now(UTC)})
                self.silences[index] = ended
                return ended
        raise NotFound(f"no silence {silence_id}")

    async def list_alert_rules(self) -> list[RuleView]:
        self._alert_admin("list_alert_rules")
        return sorted(self.alert_rules, key=lambda r: r.name)

    async def add_alert_rule(self, new: RuleCreate) -> RuleView:
        self._alert_admin("add_alert_rule")
        new = revalidated(new)
        if new.deployment is not None:
            self._deployment(new.deployment.rsplit("/", 1)[-1])
        if any(r.name == new.name for r in self.alert_rules):
            raise Conflict(f"an alert rule named {new.name!r} exists", field="name")
        rule = rule_view(new, builtin=False)
        self.alert_rules.append(rule)
        return rule

    async def remove_alert_rule(self, name: str) -> None:
        self._alert_admin("remove_alert_rule")
        rule = self._alert_rule(name)
        if rule.builtin:
            raise Invalid(
                f"{name} is built in: disable it instead (alert rule disable {name})",
                field="name",
            )
        self.alert_rules.remove(rule)

    async def set_alert_rule_enabled(self, name: str, enabled: bool) -> RuleView:
        self._alert_admin("set_alert_rule_enabled")
        rule = self._alert_rule(name)
        changed = rule.model_copy(update={"enabled": enabled})
        self.alert_rules[self.alert_rules.index(rule)] = changed
        return changed

    async def export_alert_rules(self) -> str:
        self._alert_admin("export_alert_rules")
        return prometheus_rules([r for r in self.alert_rules if r.enabled])

    def _alert_rule(self, name: str) -> RuleView:
        for rule in self.alert_rules:
            if rule.name == name:
                return rule
        raise NotFound(f"no alert rule named {name!r}")

    def _alert_target(self, name: str) -> TargetView:
        for target in self.alert_targets:
            if target.name == name:
                return target
        raise NotFound(f"no notification target named {name!r}")

    async def add_alert_target(self, new: TargetCreate) -> TargetView:
        self._alert_admin("add_alert_target")
        new = revalidated(new)
        kind = target_kind(new.url)
        if new.secret is not None and kind is not TargetKind.WEBHOOK:
            raise Invalid("only webhook targets are signed: drop --secret", field="secret")
        if any(t.name == new.name for t in self.alert_targets):
            raise Conflict(f"a notification target named {new.name!r} exists")
        view = TargetView(
            name=new.name,
            kind=kind,
            url=mask_url(new.url),
            signed=new.secret is not None,
            created_at=datetime.now(UTC),
        )
        self.alert_targets.append(view)
        return view

    async def list_alert_targets(self) -> list[TargetView]:
        self._alert_admin("list_alert_targets")
        return sorted(self.alert_targets, key=lambda t: t.name)

    async def remove_alert_target(self, name: str) -> None:
        self._alert_admin("remove_alert_target")
        self.alert_targets.remove(self._alert_target(name))
        self.alert_log = [d for d in self.alert_log if d.target != name]

    async def test_alert_target(self, name: str) -> DeliveryView:
        self._alert_admin("test_alert_target")
        self._alert_target(name)
        now = datetime.now(UTC)
        delivery = DeliveryView(
            id=len(self.alert_log) + 1,
            target=name,
            alert="TestNotification",
            state=DeliveryState.DELIVERED,
            alert_state=AlertState.FIRING,
            attempts=1,
            last_error=None,
            next_attempt_at=None,
            created_at=now,
            delivered_at=now,
        )
        self.alert_log.append(delivery)
        return delivery

    async def alert_deliveries(
        self, target: str | None = None, limit: int = 50
    ) -> list[DeliveryView]:
        self._alert_admin("alert_deliveries")
        if target is not None:
            self._alert_target(target)
        log = [d for d in reversed(self.alert_log) if target in (None, d.target)]
        return log[:limit]

    # --- billing (kept by FakeBilling) --------------------------------------------------

    async def billing_usage(self, query: UsageQuery) -> UsageReport:
        self._enter("billing_usage")
        return self.billing.usage(self.me, query)

    async def list_prices(self, service: str) -> list[PriceView]:
        self._enter("list_prices")
        return self.billing.list_prices(self.me, service)

    async def set_price(self, service: str, price: PriceSet) -> PriceView:
        self._enter("set_price")
        return self.billing.set_price(self.me, service, price)

    async def billing_revenue(self, query: RevenueQuery) -> RevenueReport:
        self._enter("billing_revenue")
        author = (query.author or "").strip() or self.me.name
        return self.billing.revenue(self.me, query, self._user_exists(author))

    async def list_quotas(self) -> list[QuotaView]:
        self._enter("list_quotas")
        return self.quotas.list(self.me)

    async def set_quota(self, quota: QuotaSet) -> QuotaView:
        self._enter("set_quota")
        return self.quotas.set(self.me, quota)

    async def remove_quota(self, quota_id: int) -> None:
        self._enter("remove_quota")
        self.quotas.remove(self.me, quota_id)

    async def billing_invoices(self, query: InvoiceQuery) -> list[InvoiceSummary]:
        self._enter("billing_invoices")
        return self.invoices.list(self.me, query, not query.user or self._user_exists(query.user))

    async def billing_invoice(self, number: str) -> Invoice:
        self._enter("billing_invoice")
        return self.invoices.get(self.me, number)

    async def export_invoice(self, number: str, fmt: InvoiceFormat) -> InvoiceExport:
        self._enter("export_invoice")
        return self.invoices.export(self.me, number, fmt)

    async def close_month(self, month: str) -> MonthClose:
        self._enter("close_month")
        return self.invoices.close(self.me, month)

    async def metering_state(self) -> MeteringState:
        self._enter("metering_state")
        if not self.me.is_admin:
            raise Forbidden("only an admin reads the state of metering")
        # No gateway is served here: nothing counted, nothing lost.
        return MeteringState(durable=False, journal=False, pending_calls=0, lost_calls=0, losses=[])

    # --- audit ---------------------------------------------------------------------------

    async def audit_events(self, query: AuditQuery) -> list[AuditEntry]:
        self._enter("audit_events")
        checked = audit_filter(query)
        owner, _, name = (query.deployment or "").rpartition("/")
        if owner and not self._user_exists(owner):
            raise NotFound(f"no user named {owner!r}", field="deployment")
        shown = [
            e
            for e in reversed(self.audit_log)
            if (self.me.is_admin or e.user_id == self.me.user_id)
            and checked.kind_matches(e.kind)
            and query.user in (None, e.actor)
            and (query.deployment is None or e.deployment == name)
            and (checked.since is None or e.at >= checked.since)
            and (checked.until is None or e.at <= checked.until)
            and (query.before_id is None or e.id < query.before_id)
        ]
        return shown[: query.limit]

    # --- teams (kept by FakeTeams) -------------------------------------------------------

    async def list_teams(self) -> list[TeamView]:
        self._enter("list_teams")
        return self.teams.listed(self.me)

    async def get_team(self, name: str) -> TeamView:
        self._enter("get_team")
        return self.teams.get(self.me, name)

    async def create_team(self, new: TeamCreate) -> TeamView:
        self._enter("create_team")
        return self.teams.create(self.me, new)

    async def delete_team(self, name: str) -> None:
        self._enter("delete_team")
        self.teams.delete(self.me, name)

    async def add_team_member(
        self, team: str, user: str, role: TeamRole = TeamRole.MEMBER
    ) -> TeamView:
        self._enter("add_team_member")
        return self.teams.add_member(self.me, team, user, TeamRole(role))

    async def remove_team_member(self, team: str, user: str) -> TeamView:
        self._enter("remove_team_member")
        return self.teams.remove_member(self.me, team, user)

    @asynccontextmanager
    async def events(self) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        require_unscoped(self.me)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.append(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues.remove(queue)

    # --- deployments (kept by FakeDeployments) -------------------------------------------

    async def create_deployment(self, new: DeploymentCreate) -> DeploymentDetail:
        self._enter("create_deployment")
        named = self.stored_secrets.values(self.me, new.secret_refs)
        created = self.deploys.create(new, named).model_copy(update={"owner": self.me.name})
        self.deployments[created.name] = created
        return created

    async def list_deployments(self) -> list[DeploymentView]:
        self._enter("list_deployments")
        views = [DeploymentView.model_validate(d.model_dump()) for d in self.deployments.values()]
        for view in views:
            view.requests_per_s, view.error_rate = self.live.figures(view.name)
        return views

    async def get_deployment(self, name: str) -> DeploymentDetail:
        self._enter("get_deployment")
        return self.deploys.get(name)

    async def scale_deployment(self, name: str, replicas: int) -> DeploymentDetail:
        self._enter("scale_deployment")
        return self.deploys.scale(name, replicas)

    async def update_deployment(
        self,
        name: str,
        version: str | None = None,
        *,
        audit_arguments: AuditArguments | None = None,
    ) -> DeploymentDetail:
        self._enter("update_deployment")
        if audit_arguments is not None and audit_arguments not in set(AuditArguments):
            raise Invalid(
                f"audit_arguments: must be one of {', '.join(AuditArguments)}",
                field="audit_arguments",
            )
        return self.deploys.update(name, version, audit_arguments)

    async def reconfigure_deployment(
        self, name: str, change: DeploymentReconfigure
    ) -> Reconfigured:
        self._enter("reconfigure_deployment")
        change = revalidated(change)
        named = self.stored_secrets.values(self.me, change.secret_refs)
        return self.deploys.reconfigure(name, change, named)

    async def list_secrets(self) -> list[StoredSecretView]:
        self._enter("list_secrets")
        return self.stored_secrets.list(self.me)

    async def set_secret(self, name: str, value: str) -> StoredSecretView:
        self._enter("set_secret")
        body = revalidated(StoredSecretPut.model_construct(value=value))
        return self.stored_secrets.put(self.me, name, body.value)

    async def delete_secret(self, name: str) -> None:
        self._enter("delete_secret")
        self.stored_secrets.remove(self.me, name)

    async def rollback_deployment(self, name: str) -> DeploymentDetail:
        self._enter("rollback_deployment")
        return self.deploys.rollback(name)

    async def stop_deployment(self, name: str) -> DeploymentDetail:
        self._enter("stop_deployment")
        return self.deploys.stop(name)

    async def start_deployment(self, name: str) -> DeploymentDetail:
        self._enter("start_deployment")
        return self.deploys.start(name)

    async def delete_deployment(self, name: str) -> None:
        self._enter("delete_deployment")
        self.deploys.delete(name)

    async def deployment_history(self, name: str) -> list[HistoryEntry]:
        self._enter("deployment_history")
        self.deploys.get(name)
        return list(self.deploys.history.get(name, []))

    async def deployment_logs(
        self, name: str, *, instance: str | None = None, tail: int = 100
    ) -> list[InstanceLogs]:
        self._enter("deployment_logs")
        return self.live.logs(name, self.deploys.logs(name, instance, tail), tail)

    async def search_logs(self, query: LogQuery) -> list[LogLine]:
        self._enter("search_logs")
        self._log_scope(query)
        return self.logs.search(query)

    async def follow_logs(self, query: LogQuery) -> AsyncIterator[LogLine]:
        self._enter("follow_logs")
        self._log_scope(query)
        async for line in self.logs.follow(query):
            yield line

    def _log_scope(self, query: LogQuery) -> None:
        """A named deployment must be one the caller may see (NotFound otherwise)."""
        if query.deployment is not None:
            self.deploys.get(query.deployment)

    async def set_autoscale(self, name: str, policy: dict[str, Any] | None) -> DeploymentDetail:
        self._enter("set_autoscale")
        return self.deploys.autoscale(name, policy)

    async def share_deployment(self, name: str, share: ShareCreate) -> DeploymentDetail:
        self._enter("share_deployment")
        shared = self.shares.share(self.me, self._deployment(name), share)
        self.deployments[name] = shared
        return shared

    async def unshare_deployment(
        self, name: str, *, user: str | None = None, team: str | None = None
    ) -> DeploymentDetail:
        self._enter("unshare_deployment")
        unshared = self.shares.unshare(self.me, self._deployment(name), user, team)
        self.deployments[name] = unshared
        return unshared

    # --- inspector (kept by FakeInspector) -----------------------------------------------

    async def inspect_deployment(self, name: str) -> InspectReport:
        self._enter("inspect_deployment")
        return self.inspector.inspect(name)

    async def server_definitions(self, name: str) -> ServerDefinitions:
        self._enter("server_definitions")
        return self.inspector.definitions(name)

    async def call_tool(self, name: str, tool: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        self._enter("call_tool")
        return self.inspector.call(name, tool, arguments)

    # --- live figures and sessions (kept by FakeLive) ------------------------------------

    async def deployment_metrics(self, name: str) -> DeploymentMetrics:
        self._enter("deployment_metrics")
        return self.live.metrics(name)

    async def metrics_history(
        self, name: str, period: str = "1h", by: str | None = None
    ) -> MetricsHistory:
        self._enter("metrics_history")
        return fake_history(self.deploys.get(name), self.live.now, period, by)

    # --- definition drift ------------------------------------------------------------------

    def _drift(self, name: str) -> DriftReport:
        d = self._deployment(name)
        found = self.drift.get(name)
        if found is None:
            found = DriftReport(
                deployment=d.address,
                policy=DriftPolicy.ALERT,
                version=d.version,
                baseline_at=None,
                definitions=0,
            )
        return found

    async def drift_report(self, name: str) -> DriftReport:
        self._enter("drift_report")
        return self._drift(name)

    async def approve_drift(self, name: str, approval: DriftApproval) -> DriftReport:
        self._enter("approve_drift")
        report, approval = self._drift(name), revalidated(approval)
        waiting = {f.name for f in report.findings if f.approved_at is None}
        unknown = set(approval.names) - waiting
        if unknown:
            listed = ", ".join(sorted(waiting)) or "none"
            raise Invalid(
                f"no finding waits for approval under {', '.join(sorted(unknown))} "
                f"(waiting: {listed})",
                field="names",
            )
        chosen = waiting if approval.all else set(approval.names)
        now = datetime.now(UTC)
        approved = {"approved_by": self.me.name, "approved_at": now}
        findings = [
            f.model_copy(update=approved) if f.name in chosen and f.approved_at is None else f
            for f in report.findings
        ]
        held = [t for t in report.blocked_tools if t not in chosen]
        self.drift[name] = report.model_copy(update={"findings": findings, "blocked_tools": held})
        return self.drift[name]

    async def set_drift_policy(self, name: str, policy: DriftPolicy) -> DriftReport:
        self._enter("set_drift_policy")
        self.drift[name] = self._drift(name).model_copy(update={"policy": DriftPolicy(policy)})
        return self.drift[name]

    async def list_sessions(self, name: str) -> list[SessionView]:
        self._enter("list_sessions")
        return self.live.list_sessions(name)

    async def drain_session(self, name: str, session_id: str) -> SessionView:
        self._enter("drain_session")
        return self.live.drain(name, session_id)

    async def kill_session(self, name: str, session_id: str) -> None:
        self._enter("kill_session")
        self.live.kill(name, session_id)


async def _drain(queue: asyncio.Queue[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    while True:
        yield await queue.get()


def rule_view(rule: RuleCreate, *, builtin: bool) -> RuleView:
    """A rule as the backend lists it."""
    return RuleView(
        name=rule.name,
        metric=rule.metric,
        op=rule.op,
        threshold=rule.threshold,
        window_s=rule.window_s,
        for_s=rule.for_s,
        severity=rule.severity,
        deployment=rule.deployment,
        labels=dict(rule.labels),
        description=rule.description,
        builtin=builtin,
        enabled=True,
    )
