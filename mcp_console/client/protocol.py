"""ConsoleClient: the domain operations the TUI and the CLI use, whatever the transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

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
from mcp_console.schemas.drift import DriftApproval, DriftPolicy, DriftReport
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


class ConsoleClient(Protocol):
    """Everything a front end may ask of the backend.

    Every method may raise the errors of ``mcp_console.schemas.errors``: ``NotFound``,
    ``Conflict``, ``Invalid`` (with the offending ``field``), ``Forbidden``,
    ``Unauthorized`` and ``Unavailable``.
    """

    async def whoami(self) -> Principal:
        """The user this client acts as."""
        ...

    async def search_services(
        self, query: str, *, page: int = 1, page_size: int = 50
    ) -> SearchPage:
        """Search the catalog.

        Args:
            query: free words mixed with filters, e.g. ``"git tag:vcs sort:rating"``.
            page: 1-based page.
            page_size: results per page, 1..500.

        Returns:
            One page of services and the total number of matches.

        Raises:
            Invalid: an unknown filter key (the message lists the valid ones) or bad value.
        """
        ...

    async def get_service(self, name: str) -> ServiceDetail:
        """A service with its versions and rating histogram.

        Raises:
            NotFound: no such service visible to the caller.
        """
        ...

    async def version_runnability(self, name: str) -> list[VersionRunnability]:
        """Whether each version of a service can run on the console's machine: on which
        runtimes (Docker, a process, remote) and, for each that cannot, why not; for each
        that can, what it does first (pull an image, fetch a Node.js). Nothing is installed
        or pulled to find out, and answers are kept for a minute.

        Args:
            name: the service's name.

        Returns:
            One answer per version, in the order of ``get_service``'s versions.

        Raises:
            NotFound: no such service visible to the caller.
        """
        ...

    async def list_categories(self) -> list[CategoryCount]:
        """Categories of published services with counts."""
        ...

    async def list_tags(self, limit: int = 200) -> list[TagCount]:
        """The most used tags of published services with counts."""
        ...

    async def featured_services(self, limit: int = 20) -> list[ServiceView]:
        """Featured published services."""
        ...

    async def my_services(self) -> list[ServiceView]:
        """The caller's own services, drafts included."""
        ...

    async def register_service(self, new: ServiceCreate) -> ServiceDetail:
        """Register a service as a draft owned by the caller.

        Raises:
            Forbidden: the caller is neither author nor admin.
            Conflict: the name is taken.
        """
        ...

    async def update_service(self, name: str, changes: ServiceUpdate) -> ServiceDetail:
        """Change a service's descriptive fields.

        Raises:
            Forbidden: the caller is not its author or an admin.
        """
        ...

    async def add_version(self, name: str, new: VersionCreate) -> VersionView:
        """Add a version to a service.

        Raises:
            Invalid: not an exact semver, or config_schema is not a JSON Schema.
            Conflict: the version exists.
            Forbidden: the caller is not its author or an admin.
        """
        ...

    async def publish_service(self, name: str) -> ServiceDetail:
        """Publish a draft service.

        Raises:
            Conflict: no version or nothing to run.
            Forbidden: the caller is not its author or an admin.
        """
        ...

    async def upload_package(
        self, registry: str, name: str, version: str, artifact: Path
    ) -> PackageStored:
        """Store a built package (a wheel, an npm tarball) on the console, as ``dev publish``.

        Raises:
            Invalid: ``artifact`` is not ``name`` at ``version`` of ``registry``, or too large.
            Conflict: that version is stored with other content.
            Forbidden: the caller is no author, or another author owns the package name.
        """
        ...

    async def publish_server_json(self, text: str, origin: str = "server.json") -> ServiceDetail:
        """Register or update a service from a ``server.json`` document and publish it.

        Raises:
            Invalid: the document is malformed or violates the schema (the JSON path is named).
        """
        ...

    async def deprecate_service(self, name: str, message: str) -> ServiceDetail:
        """Deprecate a service with a message for its users."""
        ...

    async def import_catalog(self, documents: list[CatalogDocument]) -> ImportReport:
        """Import catalog documents (server.json, registry seed, Docker catalog).

        Returns:
            What was created, updated or unchanged, and each bad entry with its reason.
        """
        ...

    async def export_server_json(self, name: str, version: str | None = None) -> dict[str, Any]:
        """A version (default: latest) as an official ``server.json`` document."""
        ...

    async def add_review(self, name: str, review: ReviewCreate) -> ReviewView:
        """Add or update the caller's review of a service.

        Raises:
            NotFound: no published service of that name.
        """
        ...

    async def list_reviews(self, name: str) -> list[ReviewView]:
        """Reviews of a service, newest first."""
        ...

    async def create_user(self, new: UserCreate) -> UserCreated:
        """Create a user; its API key is returned this once.

        Raises:
            Forbidden: the caller is not an admin.
            Conflict: the name is taken.
        """
        ...

    async def list_users(self) -> list[UserView]:
        """Every user (admins only)."""
        ...

    # -- API keys ------------------------------------------------------------------------------

    async def list_keys(self, user: str | None = None) -> list[KeyView]:
        """API keys, newest first, with their state, expiry and scope; never a secret.

        Args:
            user: whose keys (default: the caller's; only an admin may name another user).

        Returns:
            Each key with the prefix that identifies it.

        Raises:
            Forbidden: ``user`` is someone else and the caller is not an admin.
            NotFound: no such user.
        """
        ...

    async def create_key(self, new: KeyCreate) -> KeyCreated:
        """Mint an API key for the caller; its secret is returned this once.

        Args:
            new: its name, how long it works (``30d``, ``12h``, ...; ``None``: until
                revoked) and the deployments it is limited to (empty: not limited).

        Returns:
            The key as listed, and its secret.

        Raises:
            Invalid: the expiry is not a positive duration (``field`` is ``expires``).
            NotFound: the caller may not see one of the deployments named.
        """
        ...

    async def revoke_key(self, ref: str, user: str | None = None) -> KeyView:
        """Revoke an API key; it stops working at once, at the gateway too (open sessions
        opened with it end).

        Args:
            ref: the key's id, prefix or name.
            user: whose key (default: the caller's; only an admin may name another user).

        Returns:
            The key, now revoked (revoking twice is harmless).

        Raises:
            NotFound: no such key.
            Conflict: several keys have that name (give the id or prefix).
            Forbidden: ``user`` is someone else and the caller is not an admin.
        """
        ...

    # -- alerting ------------------------------------------------------------------------------

    async def list_alerts(self, everything: bool = False) -> list[AlertView]:
        """Pending and firing alerts of the deployments the caller may see, newest first
        (``everything``: resolved ones too)."""
        ...

    async def acknowledge_alert(self, alert_id: int) -> AlertView:
        """Acknowledge an alert: no more repeats of it (its deployment's operators, admins).

        Raises:
            NotFound: no such alert the caller may see.
        """
        ...

    async def list_silences(self) -> list[SilenceView]:
        """Silences that have not ended (admins)."""
        ...

    async def add_silence(self, new: SilenceCreate) -> SilenceView:
        """Mute notifications of matching alerts for a while (admins)."""
        ...

    async def expire_silence(self, silence_id: int) -> SilenceView:
        """End a silence now (admins)."""
        ...

    async def list_alert_rules(self) -> list[RuleView]:
        """Every alert rule, built-in ones included (admins)."""
        ...

    async def add_alert_rule(self, new: RuleCreate) -> RuleView:
        """Add an alert rule (admins).

        Raises:
            Invalid: an unknown metric or a bad value.
            Conflict: a rule has that name.
        """
        ...

    async def remove_alert_rule(self, name: str) -> None:
        """Remove a rule (admins; built-in rules can only be disabled)."""
        ...

    async def set_alert_rule_enabled(self, name: str, enabled: bool) -> RuleView:
        """Turn a rule on or off (admins)."""
        ...

    async def export_alert_rules(self) -> str:
        """The enabled rules as a Prometheus alerting rules file (admins)."""
        ...

    async def add_alert_target(self, new: TargetCreate) -> TargetView:
        """Add where alert notifications go (admins).

        Raises:
            Invalid: the URL is no webhook, Alertmanager or apprise URL.
            Conflict: a target has that name.
            Forbidden: the caller is no admin.
        """
        ...

    async def list_alert_targets(self) -> list[TargetView]:
        """Every notification target, URLs masked (admins)."""
        ...

    async def remove_alert_target(self, name: str) -> None:
        """Remove a target and its delivery log (admins).

        Raises:
            NotFound: no target has that name.
        """
        ...

    async def test_alert_target(self, name: str) -> DeliveryView:
        """Send a test notification to one target now; how the delivery went (admins)."""
        ...

    async def alert_deliveries(
        self, target: str | None = None, limit: int = 50
    ) -> list[DeliveryView]:
        """The delivery log, newest first (admins)."""
        ...

    # -- audit ---------------------------------------------------------------------------------

    async def audit_events(self, query: AuditQuery) -> list[AuditEntry]:
        """The newest audit events matching ``query``, newest first: every change (who, when,
        what, from where; never a secret value) and every tool call through the gateway.
        An admin sees everyone's; anyone else their own actions and what happened to the
        deployments they own. Page on with ``query.before_id`` (the last entry's ``id``).

        Raises:
            Invalid: a bad time or range, or an unknown kind (``field`` names it).
            NotFound: ``query.deployment`` names an owner who does not exist.
            Forbidden: the caller's key is limited to some deployments.
        """
        ...

    # -- billing -------------------------------------------------------------------------------

    async def billing_usage(self, query: UsageQuery) -> UsageReport:
        """Billable usage over ``query``'s period grouped by ``query.by``, each call priced
        at the price of its hour, amounts rounded once to the currency's minor unit. An
        admin reads everyone's; anyone else their own calls and those of the members of
        the teams they maintain; a key limited to some deployments only their calls.

        Raises:
            Invalid: a bad time or period (``field`` names it).
            NotFound: ``query.user`` or ``query.team`` does not exist.
            Forbidden: the caller may not read that user's or team's usage.
        """
        ...

    async def list_prices(self, service: str) -> list[PriceView]:
        """A service's prices by tool and then time: the catalog's first, until a price of
        its own replaced it.

        Raises:
            NotFound: no such service visible to the caller.
        """
        ...

    async def set_price(self, service: str, price: PriceSet) -> PriceView:
        """Price a service (or one of its tools) from a whole hour in the future on (default:
        the next); usage before it keeps its price. Setting the same hour again replaces it.

        Raises:
            NotFound: no such service.
            Forbidden: the caller is neither its author nor an admin.
            Invalid: a negative price, a price that does not fit its model, an allowance on a
                tool, or a time not a whole hour in the future (``field`` names it).
        """
        ...

    async def billing_revenue(self, query: RevenueQuery) -> RevenueReport:
        """What an author's PAID and FREEMIUM services earned over ``query``'s period, grouped
        by ``query.by`` (service, version or month): exactly what their callers were charged,
        each call at the price of its hour. The caller's own services, unless an admin names
        ``query.author``.

        Raises:
            Invalid: a bad time or period (``field`` names it).
            NotFound: no user named ``query.author``.
            Forbidden: the caller names another author and is not an admin.
        """
        ...

    async def billing_invoices(self, query: InvoiceQuery) -> list[InvoiceSummary]:
        """The invoices of ``query.month`` (default: this month), users' first, then teams':
        drafts computed from the usage until the month is closed, issued (never changed)
        after. An admin reads everyone's; anyone else their own and those of the teams they
        maintain (and, naming them, those teams' members').

        Raises:
            Invalid: a bad month, one not begun yet, or both a user and a team (``field``).
            NotFound: ``query.user`` or ``query.team`` does not exist.
            Forbidden: the caller may not read that user's or team's invoices.
        """
        ...

    async def billing_invoice(self, number: str) -> Invoice:
        """The invoice numbered ``number`` (``INV-202612-U000042``) with its lines, whose
        amounts add up to its total.

        Raises:
            Invalid: not an invoice number (``field="id"``), or a bad month in it.
            NotFound: no such invoice (its user or team made no billable calls that month).
            Forbidden: the caller may not read it.
        """
        ...

    async def export_invoice(self, number: str, fmt: InvoiceFormat) -> InvoiceExport:
        """The invoice numbered ``number`` as a file: JSON, CSV (lines, then subtotal, tax
        and total rows) or a printable HTML page.

        Raises:
            as ``billing_invoice``.
        """
        ...

    async def close_month(self, month: str) -> MonthClose:
        """Issue the invoices of ``month`` (``YYYY-MM``, over already) now; a month closed
        before stays as it was (``already``). Admins only.

        Raises:
            Forbidden: the caller is not an admin.
            Invalid: a bad month, or one not over yet (``field="month"``).
        """
        ...

    async def metering_state(self) -> MeteringState:
        """How billable usage reaches the database (durable or within a second, the crash
        journal, the calls not written yet) and the calls crashes of the backend served and
        never wrote, as each restart found them. Admins only.

        Raises:
            Forbidden: the caller is not an admin.
        """
        ...

    # -- quotas --------------------------------------------------------------------------------

    async def list_quotas(self) -> list[QuotaView]:
        """The quotas over the caller's calls and those the caller may set, with their use now
        (an admin's: every quota)."""
        ...

    async def set_quota(self, quota: QuotaSet) -> QuotaView:
        """Set a limit on billable calls (or a new figure for the one of the same subject,
        kind, period and tool): admins any; a deployment's owner its deployment's; a team's
        maintainer the team's; anyone their own keys'. Calls over it are refused by the
        gateway with a JSON-RPC error and are not billed.

        Raises:
            Invalid: a figure or period that does not fit the kind (``field`` names it).
            NotFound: no such user, team, key or deployment (``field="subject"``).
            Forbidden: the caller may not limit that subject.
        """
        ...

    async def remove_quota(self, quota_id: int) -> None:
        """Remove a limit.

        Raises:
            NotFound: no quota ``quota_id`` the caller sees.
            Forbidden: the caller reads it but may not remove it.
        """
        ...

    # -- teams ---------------------------------------------------------------------------------

    async def list_teams(self) -> list[TeamView]:
        """The caller's teams (an admin sees all), by name, with their members."""
        ...

    async def get_team(self, name: str) -> TeamView:
        """One team with its members.

        Args:
            name: the team's name.

        Returns:
            The team.

        Raises:
            NotFound: no such team among those the caller may see (its members' and,
                for admins, all).
        """
        ...

    async def create_team(self, new: TeamCreate) -> TeamView:
        """Create a team; the caller becomes its first maintainer.

        Args:
            new: its name and description.

        Returns:
            The new team.

        Raises:
            Conflict: the name is taken.
            Invalid: the name is not a valid name (``field`` is ``name``).
        """
        ...

    async def delete_team(self, name: str) -> None:
        """Delete a team; what was shared with it is no longer shared.

        Args:
            name: the team's name.

        Raises:
            NotFound: no such team among the caller's.
            Forbidden: the caller maintains neither it nor the console.
        """
        ...

    async def add_team_member(
        self, team: str, user: str, role: TeamRole = TeamRole.MEMBER
    ) -> TeamView:
        """Add a user to a team, or change their role in it.

        Args:
            team: the team's name.
            user: the user's name.
            role: member, or maintainer (maintainers add and remove members).

        Returns:
            The team with its members.

        Raises:
            NotFound: no such team or user.
            Forbidden: the caller maintains neither the team nor the console.
            Conflict: it would leave the team without a maintainer.
        """
        ...

    async def remove_team_member(self, team: str, user: str) -> TeamView:
        """Take a user out of a team (anyone may leave a team themselves).

        Args:
            team: the team's name.
            user: the user's name.

        Returns:
            The team with the members that remain.

        Raises:
            NotFound: no such team or user, or the user is not in it.
            Forbidden: the caller maintains neither the team nor the console.
            Conflict: the user is its last maintainer.
        """
        ...

    def events(self) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]:
        """Live backend events, e.g. ``{"type": "service.published", "service": "x"}``.

        Use as ``async with client.events() as stream: async for event in stream: ...``.
        Every event published after the context is entered is delivered (a reader that
        falls far behind loses the oldest first). A daemon's stream ends with a
        ``daemon.stopping`` event.

        Raises:
            Unavailable: the daemon cannot be reached, or the stream was cut.
        """
        ...

    # -- deployments ---------------------------------------------------------------------------

    async def create_deployment(self, new: DeploymentCreate) -> DeploymentDetail:
        """Deploy a service version; the backend starts its instances in the background.

        Args:
            new: service, version (default: latest), a name unique among the caller's
                deployments, configuration and secrets, replicas, runtime, limits, autoscale.

        Returns:
            The new deployment, DEPLOYING (watch it with ``get_deployment`` or ``events``).

        Raises:
            NotFound: no such service or version.
            Invalid: the configuration, policy or runtime does not fit; ``field`` names the
                offending key (``config.<key>``, ``autoscale.<key>``, ``runtime``).
            Conflict: the caller already has a deployment of that name.
            Unavailable: the runtime asked for (Docker) cannot be reached.
        """
        ...

    async def list_deployments(self) -> list[DeploymentView]:
        """The deployments the caller may see: their own, those shared with them or their
        teams (``address`` is ``owner/name`` for those), and for an admin everyone's."""
        ...

    async def get_deployment(self, name: str) -> DeploymentDetail:
        """A deployment with its instances, their health, last errors and stderr tails, and
        who it is shared with.

        Args:
            name: the deployment's address: ``name`` for the caller's own, ``owner/name`` for
                one shared with them (or, for an admin, anyone's).

        Raises:
            NotFound: no such deployment the caller may see.
        """
        ...

    async def scale_deployment(self, name: str, replicas: int) -> DeploymentDetail:
        """Run ``replicas`` instances.

        Raises:
            NotFound: no such deployment.
            Invalid: out of range, or outside its autoscale policy's bounds.
        """
        ...

    async def update_deployment(
        self,
        name: str,
        version: str | None = None,
        *,
        audit_arguments: AuditArguments | None = None,
    ) -> DeploymentDetail:
        """Roll out another version; the old one serves until the new one is healthy, and
        the update rolls back by itself if it is not healthy by the deadline.

        Args:
            name: the deployment.
            version: the version to roll out (``None``: keep the one it runs).
            audit_arguments: what the audit trail keeps of its tool calls' arguments from
                now on (``None``: unchanged).

        Raises:
            NotFound: no such deployment or version.
            Invalid: neither a version nor a policy was given, it already runs that
                version, or the version cannot run on its runtime or with its configuration.
        """
        ...

    async def reconfigure_deployment(
        self, name: str, change: DeploymentReconfigure
    ) -> Reconfigured:
        """Change a deployment's configuration, secrets, limits, host variables or session
        mode in place, checked as on create; its instances are replaced by a rolling restart.

        Args:
            name: the deployment (its owner's or an admin's to change).
            change: what to change; ``dry_run`` reports it and changes nothing.

        Returns:
            Each change as ``path → [old, new]`` (a secret as ``(set)``/``(changed)``, never
            its value) and the deployment.

        Raises:
            NotFound: no such deployment, or no stored secret of a name in ``secret_refs``.
            Forbidden: the caller is not its owner (nor an admin).
            Invalid: the settings do not fit its version, it fronts a remote server, or an
                update is rolling out.
        """
        ...

    async def list_secrets(self) -> list[StoredSecretView]:
        """The caller's stored secrets by name, with their dates; never a value."""
        ...

    async def set_secret(self, name: str, value: str) -> StoredSecretView:
        """Store a secret of the caller's (encrypted), creating it or replacing its value.

        Raises:
            Invalid: the name or the value is not acceptable.
        """
        ...

    async def delete_secret(self, name: str) -> None:
        """Remove one of the caller's stored secrets (deployments keep their values).

        Raises:
            NotFound: the caller has no secret of that name.
        """
        ...

    async def rollback_deployment(self, name: str) -> DeploymentDetail:
        """Cancel an update in progress, or roll out the previous version again.

        Raises:
            NotFound: no such deployment.
            Invalid: there is no previous version.
        """
        ...

    async def stop_deployment(self, name: str) -> DeploymentDetail:
        """Stop every instance; the deployment and its settings stay.

        Raises:
            NotFound: no such deployment.
        """
        ...

    async def start_deployment(self, name: str) -> DeploymentDetail:
        """Start a stopped deployment, or retry the failed instances of a running one.

        Raises:
            NotFound: no such deployment.
        """
        ...

    async def delete_deployment(self, name: str) -> None:
        """Remove the deployment and every container or process it made.

        Raises:
            NotFound: no such deployment.
        """
        ...

    async def deployment_history(self, name: str) -> list[HistoryEntry]:
        """Every change of a deployment, newest first: who, when, what, why, and whether
        the system decided it (restarts, rollbacks, autoscaling).

        Raises:
            NotFound: no such deployment.
        """
        ...

    async def deployment_logs(
        self, name: str, *, instance: str | None = None, tail: int = 100
    ) -> list[InstanceLogs]:
        """The last log lines of each instance (or of one), with secret values masked.

        Raises:
            NotFound: no such deployment or instance.
            Invalid: ``tail`` is not between 1 and 5000.
        """
        ...

    async def search_logs(self, query: LogQuery) -> list[LogLine]:
        """The newest kept log lines matching ``query``, newest first: instances' output
        and the gateway's access log, of the deployments whose logs the caller may read
        (operators, owners, admins), secret values masked.

        Raises:
            NotFound: ``query.deployment`` names no deployment the caller may see.
            Forbidden: the caller sees it but may not read its logs.
            Invalid: an unknown level, a bad time or regex (``field`` names it).
        """
        ...

    def follow_logs(self, query: LogQuery) -> AsyncIterator[LogLine]:
        """The newest ``query.limit`` lines matching ``query``, oldest first, then each new
        one as it is kept, until the caller stops reading.

        Raises:
            NotFound, Forbidden, Invalid: as ``search_logs``, before the first line.
            Unavailable: the daemon cannot be reached, or the stream was cut.
        """
        ...

    async def set_autoscale(self, name: str, policy: dict[str, Any] | None) -> DeploymentDetail:
        """Turn autoscaling on with a policy (``min_replicas``, ``max_replicas``, one of
        ``target_inflight``/``target_rps``, cooldowns), or off with ``None``.

        Raises:
            NotFound: no such deployment.
            Invalid: the policy is wrong (``field`` is ``autoscale.<key>``).
        """
        ...

    async def share_deployment(self, name: str, share: ShareCreate) -> DeploymentDetail:
        """Share a deployment with one user or one team; sharing again changes the role.

        Callers may use its endpoint and see it; operators may also scale, update, roll
        back, stop and start it and read its logs, history and gateway sessions.

        Args:
            name: the deployment's address (``name``, or ``owner/name`` for an admin).
            share: exactly one of ``user`` and ``team``, and the ``role`` they get.

        Returns:
            The deployment with its shares.

        Raises:
            NotFound: no such deployment, user or team.
            Forbidden: the caller is neither its owner nor an admin.
            Invalid: neither or both of user and team, or the user owns it.
        """
        ...

    async def unshare_deployment(
        self, name: str, *, user: str | None = None, team: str | None = None
    ) -> DeploymentDetail:
        """Stop sharing a deployment with a user or a team; the gateway refuses their next
        request, in open sessions too.

        Args:
            name: the deployment's address.
            user: the user to take access from (give this or ``team``).
            team: the team to take access from.

        Returns:
            The deployment with the shares that remain.

        Raises:
            NotFound: no such deployment, user or team, or it is not shared with them.
            Forbidden: the caller is neither its owner nor an admin.
            Invalid: neither or both of user and team.
        """
        ...

    # -- live: figures, sessions, inspection ---------------------------------------------------

    async def deployment_metrics(self, name: str) -> DeploymentMetrics:
        """The deployment's gateway traffic of the last minute (per second) and each running
        instance's share, CPU and memory now.

        Raises:
            NotFound: no such deployment.
        """
        ...

    async def metrics_history(
        self, name: str, period: str = "1h", by: str | None = None
    ) -> MetricsHistory:
        """The deployment's kept metrics over a range: a point per step of requests, errors
        by kind, latency percentiles, bytes and its instances' figures, split by ``by``, and
        each tool's calls, errors and latency.

        Args:
            name: the deployment's address.
            period: ``15m``, ``1h``, ``24h``, ``7d`` or ``30d``.
            by: ``instance``, ``tool``, ``user`` or ``None`` (the total only).

        Raises:
            NotFound: no such deployment.
            Invalid: an unknown range or breakdown.
        """
        ...

    async def drift_report(self, name: str) -> DriftReport:
        """The deployment's approved tool definitions and what differs from them: each
        tool, prompt or resource template its server lists that was added, removed or
        changed since (with a unified diff), and the tools held back in block mode.

        Raises:
            NotFound: no such deployment.
            Forbidden: the caller is not one of its operators (nor an admin).
        """
        ...

    async def approve_drift(self, name: str, approval: DriftApproval) -> DriftReport:
        """Make the listed definitions of the chosen findings the approved ones; the
        gateway stops holding those tools back.

        Raises:
            NotFound: no such deployment.
            Forbidden: the caller is not one of its operators (nor an admin).
            Invalid: a named definition has no finding waiting (``field="names"``).
        """
        ...

    async def set_drift_policy(self, name: str, policy: DriftPolicy) -> DriftReport:
        """``alert`` when definitions change, or ``block``: also hide changed and new tools
        from clients (and refuse their calls) until approved.

        Raises:
            NotFound: no such deployment.
            Forbidden: the caller is not one of its operators (nor an admin).
        """
        ...

    async def list_sessions(self, name: str) -> list[SessionView]:
        """The client sessions the gateway holds for a deployment, newest first.

        Raises:
            NotFound: no such deployment.
        """
        ...

    async def drain_session(self, name: str, session_id: str) -> SessionView:
        """Let a session finish what it is doing, then end it (no new requests are taken).

        Raises:
            NotFound: no such deployment, or no such session of it.
        """
        ...

    async def kill_session(self, name: str, session_id: str) -> None:
        """End a session now, cancelling its requests in flight.

        Raises:
            NotFound: no such deployment, or no such session of it.
        """
        ...

    async def inspect_deployment(self, name: str) -> InspectReport:
        """Connect to the deployment through its gateway endpoint as the caller and list
        its tools, resources and prompts, with the raw JSON-RPC exchange.

        Raises:
            NotFound: no such deployment.
            Unavailable: it has no healthy instance, or its server did not answer.
        """
        ...

    async def server_definitions(self, name: str) -> ServerDefinitions:
        """Every tool, resource, resource template and prompt the deployment's server lists
        now, read through its gateway endpoint as the caller (API docs are made from them).

        Raises:
            NotFound: no such deployment.
            Forbidden: its endpoint would refuse the caller.
            Unavailable: it has no healthy instance, or its server did not answer.
        """
        ...

    async def call_tool(self, name: str, tool: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        """Call one tool of the deployment through its gateway endpoint as the caller.

        A tool that fails answers with ``is_error`` set, not an exception.

        Raises:
            NotFound: no such deployment.
            Invalid: ``arguments`` do not match the tool's input schema (``field`` names
                the argument), or there is no such tool.
            Unavailable: it has no healthy instance, or its server did not answer.
        """
        ...
