"""Runtime: owns the engine, the services and the event bus for one backend on one loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mcp_console.backend.catalog.search import search_index_for
from mcp_console.backend.catalog.service import CatalogService
from mcp_console.backend.db.engine import create_engine, is_sqlite, session_factory
from mcp_console.backend.db.migrate import upgrade_if_behind
from mcp_console.backend.events import EventBus
from mcp_console.backend.ports import GatewayLink
from mcp_console.backend.security.users import UserService
from mcp_console.schemas.users import Principal
from mcp_console.settings import Settings

# How often raw request records past their retention are deleted (usage rows stay).
PURGE_INTERVAL_SECONDS = 3600.0
# How often the metrics history is summed into minutes and hours, and trimmed per tier.
HISTORY_ROLLUP_SECONDS = 60.0
# Notifications waiting for their target are tried this often (each has its own back-off).
NOTIFY_INTERVAL_SECONDS = 5.0
# How often logs past their age or size limit are deleted.
LOG_PURGE_INTERVAL_SECONDS = 600.0
# Months that are over are closed (their invoices issued) this often, and at start.
MONTH_CLOSE_INTERVAL_SECONDS = 900.0
# Beyond the stop timeout, how long shutting down may wait for instances to be removed.
SHUTDOWN_SLACK = 30.0

logger = logging.getLogger(__name__)

# The catalog and the users answer first (a console's first page of results); what
# deployments, monitoring and the gateway need loads after them, on a thread, so that a
# console sharing this loop keeps drawing while it does.
SERVICE_MODULES = (
    "mcp_console.backend.billing.invoices",
    "mcp_console.backend.billing.metering",
    "mcp_console.backend.billing.quotas",
    "mcp_console.backend.billing.revenue",
    "mcp_console.backend.billing.usage",
    "mcp_console.backend.deploy.controller",
    "mcp_console.backend.deploy.driver_registry",
    "mcp_console.backend.deploy.runnability",
    "mcp_console.backend.deploy.secretstore",
    "mcp_console.backend.deploy.service",
    "mcp_console.backend.monitor.gateway_sessions",
    "mcp_console.backend.monitor.history_query",
    "mcp_console.backend.monitor.history_writer",
    "mcp_console.backend.monitor.inspector",
    "mcp_console.backend.monitor.live_figures",
    "mcp_console.backend.monitor.log_collector",
    "mcp_console.backend.monitor.log_service",
    "mcp_console.backend.monitor.notifications",
    "mcp_console.backend.monitor.alert_engine",
    "mcp_console.backend.monitor.audit_recorder",
    "mcp_console.backend.monitor.alert_rules",
    "mcp_console.backend.monitor.alert_service",
    "mcp_console.backend.monitor.drift_service",
    "mcp_console.backend.monitor.audit",
    "mcp_console.backend.monitor.prometheus_metrics",
    "mcp_console.backend.monitor.resource_sampler",
    "mcp_console.backend.security.api_keys",
    "mcp_console.backend.security.internal_keys",
    "mcp_console.backend.security.teams",
)
# What runs in the background: the scheduler, the gateway (uvicorn, the MCP SDK) and its feed.
BACKGROUND_MODULES = (
    "apscheduler.schedulers.asyncio",
    "mcp_console.backend.bridge.access_watch",
    "mcp_console.backend.bridge.load",
    "mcp_console.backend.bridge.mux_probe",
    "mcp_console.backend.bridge.route_feed",
    "mcp_console.backend.bridge.session_instances",
    "mcp_console.backend.gateway.meter",
    "mcp_console.backend.gateway.server",
)

if TYPE_CHECKING:
    from mcp_console.backend.billing.invoices import InvoiceService
    from mcp_console.backend.billing.metering import MeteringService
    from mcp_console.backend.billing.month_close import MonthCloser
    from mcp_console.backend.billing.prices import PriceService
    from mcp_console.backend.billing.quota_book import Limit, QuotaBook
    from mcp_console.backend.billing.quotas import QuotaService
    from mcp_console.backend.billing.revenue import RevenueService
    from mcp_console.backend.billing.usage import UsageService
    from mcp_console.backend.bridge.access_watch import AccessWatch
    from mcp_console.backend.bridge.load import GatewayLoad
    from mcp_console.backend.bridge.route_feed import RouteFeed
    from mcp_console.backend.bridge.session_instances import SessionInstances
    from mcp_console.backend.deploy.controller import Controller
    from mcp_console.backend.deploy.driver_registry import Drivers
    from mcp_console.backend.deploy.runnability import Runnability
    from mcp_console.backend.deploy.service import DeploymentService
    from mcp_console.backend.gateway.meter import UsageMeter
    from mcp_console.backend.gateway.records import Meter
    from mcp_console.backend.gateway.server import GatewayServer
    from mcp_console.backend.gateway.usage_ledger import DailyUsage, UsageKey
    from mcp_console.backend.monitor.alert_engine import AlertEngine
    from mcp_console.backend.monitor.alert_rules import AlertRules
    from mcp_console.backend.monitor.alert_service import AlertService
    from mcp_console.backend.monitor.audit import AuditService
    from mcp_console.backend.monitor.drift_service import DriftService
    from mcp_console.backend.monitor.gateway_sessions import GatewaySessionService
    from mcp_console.backend.monitor.history_query import MetricsHistoryService
    from mcp_console.backend.monitor.history_writer import HistoryWriter
    from mcp_console.backend.monitor.inspector import InspectorService
    from mcp_console.backend.monitor.live_figures import LiveFiguresService
    from mcp_console.backend.monitor.log_collector import LogCollector
    from mcp_console.backend.monitor.log_service import LogService
    from mcp_console.backend.monitor.notifications import Notifications
    from mcp_console.backend.monitor.prometheus_metrics import PrometheusMetrics
    from mcp_console.backend.security.api_keys import KeyService
    from mcp_console.backend.security.internal_keys import InternalKeys
    from mcp_console.backend.security.teams import TeamService
    from mcp_console.schemas.alerts import AlertNotice

# Called once the catalog and the users answer, before the rest of the backend starts.
CatalogReady = Callable[["Runtime"], Awaitable[None]]


async def import_modules(names: tuple[str, ...]) -> None:
    """Import ``names`` on a worker thread: a module's code runs as it loads, and on the
    event loop that would stall whatever shares it (a console's screen)."""
    await asyncio.to_thread(lambda: [importlib.import_module(name) for name in names])


class Runtime:
    """The backend: enter it on the running loop, leave it to release everything it holds.

    Args:
        settings: loaded once by the caller.
        migrate: upgrade the database first.
        background: run the deployment controller (reconcile loop, health checks, autoscaler)
            and the MCP gateway (on ``bind_host:gateway_port``) for as long as the runtime is
            open; a daemon or an interactive console wants it, a short-lived CLI command does
            not (it only records desired state).
        catalog_ready: awaited once the catalog and the users answer, before the rest
            starts (a console shows its first page of results meanwhile); the runtime goes
            on when it returns.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        migrate: bool = True,
        background: bool = False,
        catalog_ready: CatalogReady | None = None,
    ) -> None:
        self.settings = settings
        self._migrate = migrate
        self._background = background
        self._catalog_ready = catalog_ready
        self._engine: AsyncEngine | None = None
        self._scheduler: Any = None
        self.gateway: GatewayServer | None = None
        self.meter: UsageMeter | None = None
        self._notice_tasks: set[asyncio.Task[None]] = set()
        self._routes: RouteFeed | None = None
        self._session_instances: SessionInstances | None = None
        self._access_watch: AccessWatch | None = None
        # While the gateway serves: where the autoscaler reads each deployment's load.
        self.gateway_load: GatewayLoad | None = None
        self.local_admin: Principal | None = None
        self.local_admin_new_key: str | None = None

    @property
    def engine(self) -> AsyncEngine:
        """The database engine (only inside the context)."""
        if self._engine is None:
            raise RuntimeError("the runtime is not started")
        return self._engine

    @property
    def gateway_url(self) -> str | None:
        """The gateway's base URL while it serves (a background runtime), else ``None``."""
        return self.gateway.url if self.gateway is not None else None

    async def __aenter__(self) -> Self:
        try:
            await self._open_catalog()
            if self._catalog_ready is not None:
                await self._catalog_ready(self)
            await self._open_services()
            if self._background:
                await self.start_background()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _open_catalog(self) -> None:
        """The database, the users and the catalog: what a console's first page needs."""
        url = self.settings.resolved_database_url
        await asyncio.to_thread(self._prepare_database, url)
        self._engine = create_engine(url)
        if self._migrate:
            await upgrade_if_behind(self._engine, url)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self._engine)
        self.events = EventBus()
        # Every change from here on is kept in the audit trail (first: the local admin); the
        # recorder loads with the services, after a console's first page, and takes these then.
        self._early_events: list[dict[str, Any]] = []
        self.events.listen(self._early_events.append)
        self.users = UserService(self.sessions, self.events)
        self.catalog = CatalogService(
            self.sessions, self.events, search_index_for(self._engine.dialect.name)
        )
        self.local_admin, self.local_admin_new_key = await self.users.ensure_local_admin(
            self.settings.local_admin_name
        )

    def _prepare_database(self, url: str) -> None:
        """Make a SQLite database's data dir, and load the database's dialect and driver
        (blocking: on a thread, as import_modules does)."""
        if is_sqlite(url):
            self.settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        make_url(url).get_dialect()

    async def _open_services(self) -> None:
        """Deployments, keys, teams and monitoring (loaded off the loop, see SERVICE_MODULES)."""
        await import_modules(SERVICE_MODULES)
        from mcp_console.backend.billing.invoices import InvoiceService
        from mcp_console.backend.billing.metering import MeteringService
        from mcp_console.backend.billing.month_close import MonthCloser
        from mcp_console.backend.billing.prices import PriceService
        from mcp_console.backend.billing.quota_book import QuotaBook
        from mcp_console.backend.billing.quotas import QuotaService
        from mcp_console.backend.billing.revenue import RevenueService
        from mcp_console.backend.billing.usage import UsageService
        from mcp_console.backend.deploy.controller import Controller
        from mcp_console.backend.deploy.driver_registry import Drivers
        from mcp_console.backend.deploy.runnability import Runnability
        from mcp_console.backend.deploy.secretstore import DeploymentSecrets
        from mcp_console.backend.deploy.service import DeploymentService
        from mcp_console.backend.monitor.alert_engine import AlertEngine
        from mcp_console.backend.monitor.alert_rules import AlertRules
        from mcp_console.backend.monitor.alert_service import AlertService
        from mcp_console.backend.monitor.audit import AuditService
        from mcp_console.backend.monitor.audit_recorder import AuditRecorder
        from mcp_console.backend.monitor.drift_service import DriftService
        from mcp_console.backend.monitor.gateway_sessions import GatewaySessionService
        from mcp_console.backend.monitor.history_gauges import GaugeSampler
        from mcp_console.backend.monitor.history_query import MetricsHistoryService
        from mcp_console.backend.monitor.history_writer import HistoryWriter
        from mcp_console.backend.monitor.inspector import InspectorService
        from mcp_console.backend.monitor.live_figures import LiveFiguresService
        from mcp_console.backend.monitor.log_collector import open_log_collector
        from mcp_console.backend.monitor.log_service import LogService
        from mcp_console.backend.monitor.notifications import Notifications
        from mcp_console.backend.monitor.prometheus_instances import InstanceFigures
        from mcp_console.backend.monitor.prometheus_metrics import PrometheusMetrics
        from mcp_console.backend.monitor.resource_sampler import ResourceSampler
        from mcp_console.backend.security.api_keys import KeyService
        from mcp_console.backend.security.internal_keys import InternalKeys
        from mcp_console.backend.security.stored_secrets import StoredSecrets
        from mcp_console.backend.security.teams import TeamService

        secrets_store = DeploymentSecrets(self.settings)
        # Users' named secrets, encrypted with the same key as deployments' own.
        self.stored_secrets: StoredSecrets = StoredSecrets(
            self.sessions, secrets_store.box, self.events
        )
        self.audit_recorder = AuditRecorder(self.sessions, secrets_store)
        for event in self._early_events:
            self.audit_recorder.note(event)
        self.events.unlisten(self._early_events.append)
        self.events.listen(self.audit_recorder.note)
        self._early_events.clear()
        self.audit_recorder.start()
        # Every line an instance writes, masked and kept (the gateway's access log too).
        self.log_collector: LogCollector = await open_log_collector(
            self.settings, self.sessions, secrets_store
        )
        self.drivers: Drivers = Drivers(self.settings, log_sink=self.log_collector)
        # Which versions run here, and why not (for the service detail page).
        self.runnability: Runnability = Runnability(self.catalog, self.drivers)
        self.controller: Controller = Controller(
            self.sessions,
            self.events,
            self.drivers,
            secrets_store,
            self.settings.deploy,
        )
        self.deployments: DeploymentService = DeploymentService(
            self.sessions,
            self.events,
            self.controller,
            secrets_store,
            self.settings.deploy,
            self.catalog.record_download,
            self.stored_secrets,
        )
        self.logs: LogService = LogService(
            self.sessions, self.log_collector.store, self.deployments
        )
        self.keys: KeyService = KeyService(self.sessions, self.events, self.deployments.key_scope)
        self.teams: TeamService = TeamService(self.sessions, self.events)
        # The inspector's own keys: the gateway accepts them besides users' API keys.
        self.internal_keys: InternalKeys = InternalKeys(self.users.authenticate)
        self.live_figures: LiveFiguresService = LiveFiguresService(
            self.sessions,
            ResourceSampler(self.drivers),
            lambda: self.gateway,
            lambda: self.meter.live if self.meter is not None else None,
        )
        self.gateway_sessions: GatewaySessionService = GatewaySessionService(
            self.sessions, lambda: self.gateway
        )
        self.inspector: InspectorService = InspectorService(
            self.sessions, lambda: self.gateway, self.internal_keys
        )
        # Tool-definition drift: listed through the gateway as the local admin.
        self.drift: DriftService = DriftService(
            self.sessions,
            self.events,
            lambda: self.gateway,
            self.internal_keys,
            lambda: self.local_admin,
            route_changed=self._route_changed,
        )
        # The metrics history: read by any backend, written while a gateway serves.
        self.metrics_history: MetricsHistoryService = MetricsHistoryService(
            self.sessions, self.settings.monitor
        )
        self.history: HistoryWriter = HistoryWriter(
            self.engine,
            self.settings.monitor,
            GaugeSampler(self.sessions, ResourceSampler(self.drivers), lambda: self.gateway),
        )
        # What /metrics serves (empty figures where no gateway runs).
        self.prometheus: PrometheusMetrics = PrometheusMetrics(
            lambda: self.gateway.gateway if self.gateway is not None else None,
            InstanceFigures(self.sessions, ResourceSampler(self.drivers)),
        )
        self.notifications: Notifications = Notifications(
            self.sessions, secrets_store.box, events=self.events
        )
        self.alert_rules: AlertRules = AlertRules(self.sessions, self.events)
        await self.alert_rules.seed()
        self.alerts: AlertService = AlertService(self.sessions, events=self.events)
        self.audit: AuditService = AuditService(self.sessions, self.audit_recorder)
        self.alert_engine: AlertEngine = AlertEngine(
            self.engine, self.sessions, self.notifications, self.settings.monitor
        )
        # Billing reads what the meter wrote (flushed first, so a reader sees their calls).
        self.prices: PriceService = PriceService(
            self.sessions, self.settings.billing.currency, events=self.events
        )
        self.usage: UsageService = UsageService(self.sessions, self.prices, self._flush_meter)
        self.revenue: RevenueService = RevenueService(self.sessions, self.prices, self._flush_meter)
        self.metering: MeteringService = MeteringService(
            self.sessions, lambda: self.meter, self.settings.billing.durable_metering
        )
        # Invoices: drafts on read; each month issued once it is over (the close-months job).
        self.month_close: MonthCloser = MonthCloser(self.sessions, self.prices, self._flush_meter)
        self.invoices: InvoiceService = InvoiceService(
            self.sessions, self.prices, self.month_close, self._flush_meter
        )
        # The gateway asks the book before each billable call; the service loads it from
        # the usage written and what the meter still holds, read as one.
        self.quota_book: QuotaBook = QuotaBook(
            on_threshold=self._quota_reached,
            billable_methods=self.settings.billing.billable_methods,
        )
        self.quotas: QuotaService = QuotaService(
            self.sessions,
            self.prices,
            self.quota_book,
            self.events,
            pending=self._pending_usage,
            paused=self._meter_writes_paused,
        )

    async def start_background(self) -> None:
        """Start the gateway, the deployment controller and the scheduler of its passes.

        ``background=True`` does it on entering; a host that must bind its API first calls
        it itself. Leaving the runtime stops them.
        """
        await import_modules(BACKGROUND_MODULES)
        await self._start_background()

    async def _start_background(self) -> None:
        # APScheduler loads only where something runs in the background.
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        await self._start_gateway()
        await self.controller.start()
        deploy = self.settings.deploy
        scheduler = AsyncIOScheduler()
        job = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        scheduler.add_job(
            self.controller.reconcile_all,
            "interval",
            seconds=deploy.reconcile_interval,
            id="reconcile",
            **job,
        )
        scheduler.add_job(
            self.controller.autoscale,
            "interval",
            seconds=deploy.autoscale_interval,
            id="autoscale",
            **job,
        )
        scheduler.add_job(
            self.notifications.deliver_due,
            "interval",
            seconds=NOTIFY_INTERVAL_SECONDS,
            id="deliver-notifications",
            **job,
        )
        scheduler.add_job(
            self.alert_engine.evaluate,
            "interval",
            seconds=self.settings.monitor.alert_interval,
            id="evaluate-alerts",
            **job,
        )
        # At start too: a console that is never up for a whole interval still purges.
        scheduler.add_job(
            functools.partial(self.log_collector.purge, self.settings.monitor),
            "interval",
            seconds=LOG_PURGE_INTERVAL_SECONDS,
            id="purge-logs",
            next_run_time=datetime.now(UTC),
            **job,
        )
        scheduler.add_job(
            self._purge_request_log,
            "interval",
            seconds=PURGE_INTERVAL_SECONDS,
            id="purge-request-log",
            next_run_time=datetime.now(UTC),
            **job,
        )
        scheduler.add_job(
            functools.partial(self.audit_recorder.purge, self.settings.monitor.audit_retention),
            "interval",
            seconds=PURGE_INTERVAL_SECONDS,
            id="purge-audit",
            next_run_time=datetime.now(UTC),
            **job,
        )
        scheduler.add_job(
            self.history.scheduled_roll_up,
            "interval",
            seconds=HISTORY_ROLLUP_SECONDS,
            id="metrics-history-rollup",
            next_run_time=datetime.now(UTC),
            **job,
        )
        scheduler.add_job(
            self.drift.check_all,
            "interval",
            seconds=self.settings.monitor.drift_interval.total_seconds(),
            id="check-definitions",
            **job,
        )
        # At start too: the months that ended while the console was down are closed first.
        scheduler.add_job(
            self.month_close.catch_up,
            "interval",
            seconds=MONTH_CLOSE_INTERVAL_SECONDS,
            id="close-months",
            next_run_time=datetime.now(UTC),
            **job,
        )
        self.drift.start()
        scheduler.start()
        self._scheduler = scheduler

    async def _route_changed(self, deployment_id: int) -> None:
        if self._routes is not None:
            await self._routes.sync(deployment_id)

    def _pending_usage(self) -> Mapping[UsageKey, DailyUsage]:
        return self.meter.ledger.pending_usage() if self.meter is not None else {}

    def _meter_writes_paused(self) -> AbstractAsyncContextManager[Any]:
        return self.meter.writes_paused() if self.meter is not None else contextlib.nullcontext()

    def _quota_reached(self, limit: Limit, level: Decimal) -> None:
        """Tell the alert targets (and the event stream) that a quota is 80 % or 100 % used."""
        from mcp_console.backend.billing.quota_notices import quota_notice

        notice = quota_notice(limit, level, datetime.now(UTC))
        self.events.publish(
            {
                "type": "quota.threshold",
                "system": "billing",
                "quota": limit.id,
                "subject": limit.subject,
                "percent": int(level * 100),
            }
        )
        task = asyncio.get_running_loop().create_task(self._deliver_notice(notice))
        self._notice_tasks.add(task)
        task.add_done_callback(self._notice_tasks.discard)

    async def _deliver_notice(self, notice: AlertNotice) -> None:
        try:
            await self.notifications.notify([notice])
            await self.notifications.deliver_due()
        except Exception:
            logger.exception("a quota notice could not be queued")

    async def _flush_meter(self) -> None:
        if self.meter is not None:
            await self.meter.flush()

    async def _purge_request_log(self) -> None:
        if self.meter is not None:
            await self.meter.purge()

    async def _start_gateway(self) -> None:
        # The gateway (uvicorn, metering) loads only where something serves it.
        from mcp_console.backend.bridge.access_watch import AccessWatch
        from mcp_console.backend.bridge.load import GatewayLoad
        from mcp_console.backend.bridge.mux_probe import probe_mux
        from mcp_console.backend.bridge.route_feed import RouteFeed
        from mcp_console.backend.bridge.session_instances import SessionInstances
        from mcp_console.backend.gateway.live_stats import LiveStats
        from mcp_console.backend.gateway.meter import UsageMeter
        from mcp_console.backend.gateway.pricing import PriceBook
        from mcp_console.backend.gateway.server import GatewayServer
        from mcp_console.backend.gateway.usage_journal import JOURNAL_FILE, open_journal
        from mcp_console.backend.gateway.usage_ledger import UsageLedger
        from mcp_console.backend.monitor.live_figures import LIVE_HISTORY_S

        prices = PriceBook()
        journal, loss = await open_journal(self.engine, self.settings.data_dir / JOURNAL_FILE)
        if loss is not None:
            logger.warning(
                "metering: the last run was killed after serving %d billable calls it never "
                "wrote (%d of them failed); they are not billed",
                loss.lost_requests,
                loss.lost_errors,
            )
            self.events.publish(
                {
                    "type": "metering.usage.lost",
                    "system": "console",
                    "requests": loss.lost_requests,
                    "errors": loss.lost_errors,
                    "run_started": loss.started_at.isoformat() if loss.started_at else None,
                }
            )
        self.meter = UsageMeter(
            self.engine,
            ledger=UsageLedger(prices, billable_methods=self.settings.billing.billable_methods),
            live=LiveStats(history_s=LIVE_HISTORY_S),
            taps=self.metering_taps(),
            journal=journal,
            durable=self.settings.billing.durable_metering,
        )
        self.meter.start()
        self.history.start()
        self._session_instances = SessionInstances(
            self.sessions,
            self.controller.converger,
            self.drivers,
            self.controller.stdio,
            self.settings.deploy,
        )
        await self._session_instances.clean()
        server = GatewayServer.from_settings(
            self.settings,
            self.internal_keys.authenticate,
            meter=self.meter,
            quota=self.quota_book,
            instance_provider=self._session_instances,
            settle=self.meter.settle if self.meter.durable else None,
        )
        await self.quotas.reload()
        url = await server.start()
        self.gateway = server
        gateway = server.gateway
        self._routes = RouteFeed(
            self.sessions,
            gateway.routes,
            url,
            self.controller.stdio,
            functools.partial(probe_mux, gateway),
            self._session_instances,
            prices,
            self.drivers.remote.endpoint,
        )
        self.gateway_load = GatewayLoad(self.meter.live, self._routes.healthy_instances)
        self._access_watch = AccessWatch(self.events, gateway, self.keys.revoked_since)
        self._access_watch.start()
        # The one link made after construction: the controller feeds the serving gateway.
        self.controller.connect_gateway(
            GatewayLink(
                routes=self._routes,
                session_instances=self._session_instances,
                load=self.gateway_load,
            )
        )

    def metering_taps(self) -> list[Meter]:
        """Monitoring's readers of every gateway request (each keeps its own figures)."""
        return [self.log_collector, self.prometheus, self.history.recorder, self.audit_recorder]

    async def _stop_gateway(self) -> None:
        # Clients first, then the usage they made, then the stdio channels go back.
        if hasattr(self, "controller"):
            self.controller.disconnect_gateway()
        if self._access_watch is not None:
            await self._access_watch.aclose()
            self._access_watch = None
        if self.gateway is not None:
            with contextlib.suppress(Exception):
                await self.gateway.stop()
            self.gateway = None
        if self._session_instances is not None:
            try:
                # Bounded: what is left is removed as an orphan at the next start.
                async with asyncio.timeout(self.settings.deploy.stop_timeout + SHUTDOWN_SLACK):
                    await self._session_instances.aclose()
            except TimeoutError:
                logger.warning("session instances were still being removed at shutdown")
            self._session_instances = None
        if self.meter is not None:
            await self.meter.aclose()
            await self.history.aclose()
            self.meter = None
            self.gateway_load = None
        if self._routes is not None:
            await self._routes.close()
            self._routes = None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._scheduler is not None:
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if hasattr(self, "drift"):
            await self.drift.aclose()
        if hasattr(self, "quotas"):
            await self.quotas.aclose()
        await self._stop_gateway()
        if hasattr(self, "controller"):
            await self.controller.close()
            await self.drivers.close()
        if hasattr(self, "log_collector"):
            await self.log_collector.aclose()
        if hasattr(self, "audit_recorder"):
            try:
                await self.audit_recorder.aclose()
            except Exception:
                logger.exception("the last audit events could not be written")
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
