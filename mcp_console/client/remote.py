"""RemoteClient: the ConsoleClient over the daemon's HTTP API (the Python SDK)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from mcp_console.client.protocol import ConsoleClient
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
    DeploymentView,
    HistoryEntry,
    InstanceLogs,
    PackageStored,
    Reconfigured,
    ShareCreate,
)
from mcp_console.schemas.drift import (
    DriftApproval,
    DriftPolicy,
    DriftPolicyChange,
    DriftReport,
)
from mcp_console.schemas.errors import (
    Conflict,
    ConsoleError,
    Forbidden,
    Invalid,
    NotFound,
    TimedOut,
    Unauthorized,
    Unavailable,
    Unreachable,
    error_from_dict,
)
from mcp_console.schemas.invoices import (
    Invoice,
    InvoiceExport,
    InvoiceFormat,
    InvoiceQuery,
    InvoiceSummary,
    MonthClose,
    invoice_file,
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
from mcp_console.schemas.secrets import StoredSecretView
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

API_PREFIX = "/api/v1"
CONNECT_TIMEOUT = 5.0
REQUEST_TIMEOUT = 60.0
# Seconds each step of an upload may take (sending a chunk, the answer after the last).
UPLOAD_TIMEOUT = 300.0

M = TypeVar("M", bound=BaseModel)

_ERRORS_BY_STATUS: dict[int, type[ConsoleError]] = {
    cls.http_status: cls for cls in (NotFound, Conflict, Invalid, Forbidden, Unauthorized)
}


def _path(name: str) -> str:
    # '/' inside a name is sent as %2F so the name is one segment (the API decodes it).
    return quote(name, safe="")


def _period_params(params: dict[str, Any]) -> dict[str, Any]:
    """A billing query's parameters, its period named as the API (and the CLI) name it."""
    for name, alias in (("start", "from"), ("end", "to")):
        if name in params:
            params[alias] = params.pop(name)
    return params


def _only(**params: str | None) -> dict[str, str]:
    """The query parameters that were given."""
    return {key: value for key, value in params.items() if value is not None}


def _error_of(response: httpx.Response) -> ConsoleError:
    """The domain error an error response carries (or one built from its status)."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return error_from_dict(payload["error"])
    if response.status_code >= 500:
        return Unavailable(f"the daemon answered {response.status_code} {response.reason_phrase}")
    cls = _ERRORS_BY_STATUS.get(response.status_code, ConsoleError)
    return cls(f"the daemon answered {response.status_code} {response.reason_phrase}")


class RemoteClient(ConsoleClient):
    """Talks to a daemon over HTTP with one connection pool; use it as an async context.

    Args:
        url: the daemon's base URL, e.g. ``http://127.0.0.1:8765``.
        token: an API key; every call acts as its user.
        timeout: seconds to wait for an answer (connecting waits at most 5 s).
    """

    def __init__(self, url: str, token: str | None, *, timeout: float = REQUEST_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Every request passes it, so a copy with another timeout can share the pool.
        self._timeout = httpx.Timeout(timeout, connect=CONNECT_TIMEOUT)
        self._http = httpx.AsyncClient(
            base_url=self.url + API_PREFIX, headers=headers, timeout=self._timeout
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def health(self) -> dict[str, Any]:
        """The daemon's health answer (no API key needed).

        Raises:
            Unavailable: the daemon cannot be reached or does not answer in time.
        """
        data = await self._call("GET", "/health")
        assert isinstance(data, dict)
        return data

    # -- transport -----------------------------------------------------------------------------

    async def _ready(self) -> None:
        """Wait until the client knows its daemon (a subclass may have to find it first)."""

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The daemon's answer to one request.

        Raises:
            TimedOut: no answer in time.
            Unreachable: the daemon cannot be reached.
            ConsoleError: the error the daemon answered with.
        """
        await self._ready()
        try:
            kwargs.setdefault("timeout", self._timeout)
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise TimedOut(
                f"the daemon at {self.url} did not answer in time ({type(error).__name__})"
            ) from None
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise Unreachable(f"cannot reach the daemon at {self.url}: {reason}") from None
        if response.is_error:
            raise _error_of(response)
        return response

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        text: bool = False,
    ) -> Any:
        response = await self._send(method, path, json=body, params=params)
        return response.text if text else response.json()

    async def _model(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        return model.model_validate(await self._call(method, path, **kwargs))

    async def _models(self, model: type[M], method: str, path: str, **kwargs: Any) -> list[M]:
        items = await self._call(method, path, **kwargs)
        if not isinstance(items, list):
            raise Unavailable(f"the daemon at {self.url} answered {path} with no list")
        return [model.model_validate(item) for item in items]

    @staticmethod
    def _dump(dto: BaseModel, **kwargs: Any) -> Any:
        return dto.model_dump(mode="json", **kwargs)

    # -- ConsoleClient -------------------------------------------------------------------------

    async def whoami(self) -> Principal:
        return await self._model(Principal, "GET", "/me")

    async def search_services(
        self, query: str, *, page: int = 1, page_size: int = 50
    ) -> SearchPage:
        params = {"q": query, "page": page, "page_size": page_size}
        return await self._model(SearchPage, "GET", "/services", params=params)

    async def get_service(self, name: str) -> ServiceDetail:
        return await self._model(ServiceDetail, "GET", f"/services/{_path(name)}")

    async def version_runnability(self, name: str) -> list[VersionRunnability]:
        path = f"/services/{_path(name)}/runnability"
        return await self._models(VersionRunnability, "GET", path)

    async def list_categories(self) -> list[CategoryCount]:
        return await self._models(CategoryCount, "GET", "/categories")

    async def list_tags(self, limit: int = 200) -> list[TagCount]:
        return await self._models(TagCount, "GET", "/tags", params={"limit": limit})

    async def featured_services(self, limit: int = 20) -> list[ServiceView]:
        return await self._models(ServiceView, "GET", "/featured", params={"limit": limit})

    async def my_services(self) -> list[ServiceView]:
        return await self._models(ServiceView, "GET", "/me/services")

    async def register_service(self, new: ServiceCreate) -> ServiceDetail:
        return await self._model(ServiceDetail, "POST", "/services", body=self._dump(new))

    async def update_service(self, name: str, changes: ServiceUpdate) -> ServiceDetail:
        body = self._dump(changes, exclude_none=True)
        return await self._model(ServiceDetail, "PATCH", f"/services/{_path(name)}", body=body)

    async def add_version(self, name: str, new: VersionCreate) -> VersionView:
        path = f"/services/{_path(name)}/versions"
        return await self._model(VersionView, "POST", path, body=self._dump(new))

    async def publish_service(self, name: str) -> ServiceDetail:
        return await self._model(ServiceDetail, "POST", f"/services/{_path(name)}/publish")

    async def upload_package(
        self, registry: str, name: str, version: str, artifact: Path
    ) -> PackageStored:
        path = f"/packages/{registry}/{_path(name)}/{_path(version)}/{_path(artifact.name)}"
        # A large file on a slow link: the body streams, with no deadline for the whole.
        response = await self._send(
            "PUT",
            path,
            content=file_chunks(artifact),
            headers={"Content-Type": "application/octet-stream"},
            timeout=httpx.Timeout(UPLOAD_TIMEOUT, connect=CONNECT_TIMEOUT),
        )
        return PackageStored.model_validate(response.json())

    async def publish_server_json(self, text: str, origin: str = "server.json") -> ServiceDetail:
        body = {"text": text, "origin": origin}
        return await self._model(ServiceDetail, "POST", "/catalog/publish", body=body)

    async def deprecate_service(self, name: str, message: str) -> ServiceDetail:
        path = f"/services/{_path(name)}/deprecate"
        return await self._model(ServiceDetail, "POST", path, body={"message": message})

    async def import_catalog(self, documents: list[CatalogDocument]) -> ImportReport:
        body = [self._dump(d) for d in documents]
        return await self._model(ImportReport, "POST", "/catalog/import", body=body)

    async def export_server_json(self, name: str, version: str | None = None) -> dict[str, Any]:
        params = {"version": version} if version else None
        data = await self._call("GET", f"/services/{_path(name)}/export", params=params)
        assert isinstance(data, dict)
        return data

    async def add_review(self, name: str, review: ReviewCreate) -> ReviewView:
        path = f"/services/{_path(name)}/reviews"
        return await self._model(ReviewView, "POST", path, body=self._dump(review))

    async def list_reviews(self, name: str) -> list[ReviewView]:
        return await self._models(ReviewView, "GET", f"/services/{_path(name)}/reviews")

    async def create_user(self, new: UserCreate) -> UserCreated:
        return await self._model(UserCreated, "POST", "/users", body=self._dump(new))

    async def list_users(self) -> list[UserView]:
        return await self._models(UserView, "GET", "/users")

    # -- API keys ------------------------------------------------------------------------------

    async def list_keys(self, user: str | None = None) -> list[KeyView]:
        return await self._models(KeyView, "GET", "/keys", params=_only(user=user))

    async def create_key(self, new: KeyCreate) -> KeyCreated:
        return await self._model(KeyCreated, "POST", "/keys", body=self._dump(new))

    async def revoke_key(self, ref: str, user: str | None = None) -> KeyView:
        path = f"/keys/{_path(ref)}/revoke"
        return await self._model(KeyView, "POST", path, params=_only(user=user))

    # -- alerting ------------------------------------------------------------------------------

    async def list_alerts(self, everything: bool = False) -> list[AlertView]:
        params = {"all": "true"} if everything else None
        return await self._models(AlertView, "GET", "/alerts", params=params)

    async def acknowledge_alert(self, alert_id: int) -> AlertView:
        return await self._model(AlertView, "POST", f"/alerts/{int(alert_id)}/ack")

    async def list_silences(self) -> list[SilenceView]:
        return await self._models(SilenceView, "GET", "/alerts/silences")

    async def add_silence(self, new: SilenceCreate) -> SilenceView:
        return await self._model(SilenceView, "POST", "/alerts/silences", body=self._dump(new))

    async def expire_silence(self, silence_id: int) -> SilenceView:
        return await self._model(SilenceView, "DELETE", f"/alerts/silences/{int(silence_id)}")

    async def list_alert_rules(self) -> list[RuleView]:
        return await self._models(RuleView, "GET", "/alerts/rules")

    async def add_alert_rule(self, new: RuleCreate) -> RuleView:
        return await self._model(RuleView, "POST", "/alerts/rules", body=self._dump(new))

    async def remove_alert_rule(self, name: str) -> None:
        await self._delete(f"/alerts/rules/{_path(name)}")

    async def set_alert_rule_enabled(self, name: str, enabled: bool) -> RuleView:
        path = f"/alerts/rules/{_path(name)}/enabled"
        return await self._model(RuleView, "PUT", path, body={"enabled": enabled})

    async def export_alert_rules(self) -> str:
        text: str = await self._call("GET", "/alerts/rules/export", text=True)
        return text

    async def add_alert_target(self, new: TargetCreate) -> TargetView:
        return await self._model(TargetView, "POST", "/alerts/targets", body=self._dump(new))

    async def list_alert_targets(self) -> list[TargetView]:
        return await self._models(TargetView, "GET", "/alerts/targets")

    async def remove_alert_target(self, name: str) -> None:
        await self._delete(f"/alerts/targets/{_path(name)}")

    async def test_alert_target(self, name: str) -> DeliveryView:
        return await self._model(DeliveryView, "POST", f"/alerts/targets/{_path(name)}/test")

    async def alert_deliveries(
        self, target: str | None = None, limit: int = 50
    ) -> list[DeliveryView]:
        params: dict[str, Any] = {"limit": limit}
        if target is not None:
            params["target"] = target
        return await self._models(DeliveryView, "GET", "/alerts/deliveries", params=params)

    # -- audit ---------------------------------------------------------------------------------

    async def audit_events(self, query: AuditQuery) -> list[AuditEntry]:
        params = query.model_dump(exclude_none=True)
        return await self._models(AuditEntry, "GET", "/audit", params=params)

    # -- billing -------------------------------------------------------------------------------

    async def billing_usage(self, query: UsageQuery) -> UsageReport:
        params = _period_params(query.model_dump(mode="json", exclude_none=True))
        return await self._model(UsageReport, "GET", "/billing/usage", params=params)

    async def billing_revenue(self, query: RevenueQuery) -> RevenueReport:
        params = _period_params(query.model_dump(mode="json", exclude_none=True))
        return await self._model(RevenueReport, "GET", "/billing/revenue", params=params)

    async def list_prices(self, service: str) -> list[PriceView]:
        return await self._models(PriceView, "GET", f"/billing/prices/{_path(service)}")

    async def set_price(self, service: str, price: PriceSet) -> PriceView:
        path = f"/billing/prices/{_path(service)}"
        return await self._model(PriceView, "POST", path, body=self._dump(price, exclude_none=True))

    async def billing_invoices(self, query: InvoiceQuery) -> list[InvoiceSummary]:
        params = query.model_dump(exclude_none=True)
        return await self._models(InvoiceSummary, "GET", "/billing/invoices", params=params)

    async def billing_invoice(self, number: str) -> Invoice:
        return await self._model(Invoice, "GET", f"/billing/invoices/{_path(number)}")

    async def export_invoice(self, number: str, fmt: InvoiceFormat) -> InvoiceExport:
        path = f"/billing/invoices/{_path(number)}/export"
        text: str = await self._call("GET", path, params={"format": fmt.value}, text=True)
        return invoice_file(number.strip(), fmt, text)

    async def close_month(self, month: str) -> MonthClose:
        body = {"month": month}
        return await self._model(MonthClose, "POST", "/billing/close", body=body)

    async def metering_state(self) -> MeteringState:
        return await self._model(MeteringState, "GET", "/billing/metering")

    async def list_quotas(self) -> list[QuotaView]:
        return await self._models(QuotaView, "GET", "/billing/quotas")

    async def set_quota(self, quota: QuotaSet) -> QuotaView:
        body = self._dump(quota, exclude_none=True)
        return await self._model(QuotaView, "POST", "/billing/quotas", body=body)

    async def remove_quota(self, quota_id: int) -> None:
        await self._delete(f"/billing/quotas/{int(quota_id)}")

    # -- teams ---------------------------------------------------------------------------------

    async def list_teams(self) -> list[TeamView]:
        return await self._models(TeamView, "GET", "/teams")

    async def get_team(self, name: str) -> TeamView:
        return await self._model(TeamView, "GET", f"/teams/{_path(name)}")

    async def create_team(self, new: TeamCreate) -> TeamView:
        return await self._model(TeamView, "POST", "/teams", body=self._dump(new))

    async def delete_team(self, name: str) -> None:
        await self._delete(f"/teams/{_path(name)}")

    async def add_team_member(
        self, team: str, user: str, role: TeamRole = TeamRole.MEMBER
    ) -> TeamView:
        path = f"/teams/{_path(team)}/members/{_path(user)}"
        return await self._model(TeamView, "PUT", path, body={"role": TeamRole(role).value})

    async def remove_team_member(self, team: str, user: str) -> TeamView:
        path = f"/teams/{_path(team)}/members/{_path(user)}"
        return await self._model(TeamView, "DELETE", path)

    @asynccontextmanager
    async def events(self) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """The daemon's live events over SSE; see ``ConsoleClient.events``."""
        await self._ready()
        try:
            async with self._http.stream(
                "GET", "/events", timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT)
            ) as response:
                if response.is_error:
                    await response.aread()
                    raise _error_of(response)
                lines = response.aiter_lines()
                # The stream's first comment says the subscription is live.
                async for line in lines:
                    if line.startswith(":"):
                        break
                yield _sse_events(lines)
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise Unavailable(f"lost the event stream of {self.url}: {reason}") from None

    # -- deployments ---------------------------------------------------------------------------

    async def create_deployment(self, new: DeploymentCreate) -> DeploymentDetail:
        return await self._model(DeploymentDetail, "POST", "/deployments", body=self._dump(new))

    async def list_deployments(self) -> list[DeploymentView]:
        return await self._models(DeploymentView, "GET", "/deployments")

    async def get_deployment(self, name: str) -> DeploymentDetail:
        return await self._model(DeploymentDetail, "GET", f"/deployments/{_path(name)}")

    async def scale_deployment(self, name: str, replicas: int) -> DeploymentDetail:
        path = f"/deployments/{_path(name)}/scale"
        return await self._model(DeploymentDetail, "POST", path, body={"replicas": replicas})

    async def update_deployment(
        self,
        name: str,
        version: str | None = None,
        *,
        audit_arguments: AuditArguments | None = None,
    ) -> DeploymentDetail:
        path = f"/deployments/{_path(name)}/update"
        # Sent as given: the API validates it and names a wrong field.
        fields = {"version": version, "audit_arguments": audit_arguments}
        body = {key: value for key, value in fields.items() if value is not None}
        return await self._model(DeploymentDetail, "POST", path, body=body)

    async def reconfigure_deployment(
        self, name: str, change: DeploymentReconfigure
    ) -> Reconfigured:
        path = f"/deployments/{_path(name)}/configure"
        return await self._model(Reconfigured, "POST", path, body=self._dump(change))

    async def list_secrets(self) -> list[StoredSecretView]:
        return await self._models(StoredSecretView, "GET", "/secrets")

    async def set_secret(self, name: str, value: str) -> StoredSecretView:
        path = f"/secrets/{_path(name)}"
        return await self._model(StoredSecretView, "PUT", path, body={"value": value})

    async def delete_secret(self, name: str) -> None:
        await self._delete(f"/secrets/{_path(name)}")

    async def rollback_deployment(self, name: str) -> DeploymentDetail:
        path = f"/deployments/{_path(name)}/rollback"
        return await self._model(DeploymentDetail, "POST", path)

    async def stop_deployment(self, name: str) -> DeploymentDetail:
        return await self._model(DeploymentDetail, "POST", f"/deployments/{_path(name)}/stop")

    async def start_deployment(self, name: str) -> DeploymentDetail:
        return await self._model(DeploymentDetail, "POST", f"/deployments/{_path(name)}/start")

    async def delete_deployment(self, name: str) -> None:
        await self._delete(f"/deployments/{_path(name)}")

    async def _delete(self, path: str) -> None:
        await self._send("DELETE", path)

    async def deployment_history(self, name: str) -> list[HistoryEntry]:
        return await self._models(HistoryEntry, "GET", f"/deployments/{_path(name)}/history")

    async def deployment_logs(
        self, name: str, *, instance: str | None = None, tail: int = 100
    ) -> list[InstanceLogs]:
        params: dict[str, Any] = {"tail": tail}
        if instance is not None:
            params["instance"] = instance
        path = f"/deployments/{_path(name)}/logs"
        return await self._models(InstanceLogs, "GET", path, params=params)

    async def search_logs(self, query: LogQuery) -> list[LogLine]:
        return await self._models(LogLine, "GET", "/logs", params=_log_params(query))

    async def follow_logs(self, query: LogQuery) -> AsyncIterator[LogLine]:
        await self._ready()
        try:
            async with self._http.stream(
                "GET",
                "/logs/follow",
                params=_log_params(query),
                timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT),
            ) as response:
                if response.is_error:
                    await response.aread()
                    raise _error_of(response)
                async for event in _sse_events(response.aiter_lines()):
                    yield LogLine.model_validate(event)
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise Unavailable(f"lost the log stream of {self.url}: {reason}") from None

    async def set_autoscale(self, name: str, policy: dict[str, Any] | None) -> DeploymentDetail:
        path = f"/deployments/{_path(name)}/autoscale"
        return await self._model(DeploymentDetail, "PUT", path, body={"policy": policy})

    async def share_deployment(self, name: str, share: ShareCreate) -> DeploymentDetail:
        path = f"/deployments/{_path(name)}/shares"
        return await self._model(DeploymentDetail, "POST", path, body=self._dump(share))

    async def unshare_deployment(
        self, name: str, *, user: str | None = None, team: str | None = None
    ) -> DeploymentDetail:
        path = f"/deployments/{_path(name)}/shares"
        params = _only(user=user, team=team)
        return await self._model(DeploymentDetail, "DELETE", path, params=params)

    # -- live: figures, sessions, inspection ---------------------------------------------------

    async def deployment_metrics(self, name: str) -> DeploymentMetrics:
        path = f"/deployments/{_path(name)}/metrics"
        return await self._model(DeploymentMetrics, "GET", path)

    async def metrics_history(
        self, name: str, period: str = "1h", by: str | None = None
    ) -> MetricsHistory:
        path = f"/deployments/{_path(name)}/metrics/history"
        params = _only(range=period, by=by)
        return await self._model(MetricsHistory, "GET", path, params=params)

    async def drift_report(self, name: str) -> DriftReport:
        return await self._model(DriftReport, "GET", f"/deployments/{_path(name)}/drift")

    async def approve_drift(self, name: str, approval: DriftApproval) -> DriftReport:
        path = f"/deployments/{_path(name)}/drift/approve"
        return await self._model(DriftReport, "POST", path, body=self._dump(approval))

    async def set_drift_policy(self, name: str, policy: DriftPolicy) -> DriftReport:
        path = f"/deployments/{_path(name)}/drift/policy"
        body = self._dump(DriftPolicyChange(policy=policy))
        return await self._model(DriftReport, "PUT", path, body=body)

    async def list_sessions(self, name: str) -> list[SessionView]:
        return await self._models(SessionView, "GET", f"/deployments/{_path(name)}/sessions")

    async def drain_session(self, name: str, session_id: str) -> SessionView:
        path = f"/deployments/{_path(name)}/sessions/{_path(session_id)}/drain"
        return await self._model(SessionView, "POST", path)

    async def kill_session(self, name: str, session_id: str) -> None:
        await self._delete(f"/deployments/{_path(name)}/sessions/{_path(session_id)}")

    async def inspect_deployment(self, name: str) -> InspectReport:
        return await self._model(InspectReport, "GET", f"/deployments/{_path(name)}/inspect")

    async def server_definitions(self, name: str) -> ServerDefinitions:
        return await self._model(
            ServerDefinitions, "GET", f"/deployments/{_path(name)}/definitions"
        )

    async def call_tool(self, name: str, tool: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        path = f"/deployments/{_path(name)}/tools/call"
        body = {"tool": tool, "arguments": arguments}
        return await self._model(ToolCallOutcome, "POST", path, body=body)


def _log_params(query: LogQuery) -> dict[str, Any]:
    """The query string of a log search (the API calls the text ``q``)."""
    fields = query.model_dump(exclude_none=True)
    if "text" in fields:
        fields["q"] = fields.pop("text")
    return fields


async def _sse_events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Events parsed from SSE lines (comments and keep-alives skipped)."""
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                event = json.loads("\n".join(data))
                data = []
                if isinstance(event, dict):
                    yield event
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
