"""Console: the daemon's API as typed blocking methods, for scripts and notebooks."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Self

from mcp_console.client.remote import REQUEST_TIMEOUT
from mcp_console.sdk.async_console import AsyncConsole
from mcp_console.sdk.blocking import LoopThread, blocking, blocking_iter, blocking_stream
from mcp_console.settings import Settings


def _shut(loop: LoopThread, aconsole: AsyncConsole) -> None:
    """Close the connections, then stop the loop."""
    if not loop.loop.is_closed():
        loop.run(aconsole.aclose())
        loop.stop()


class Console:
    """An mcp-console daemon from blocking code: every method of ``AsyncConsole``, waited for.

    ``Console()`` reaches the daemon of the local data dir as the CLI does (starting one in
    the background when none runs); ``Console(url, token)`` a daemon elsewhere. Use it as
    ``with Console() as console: ...`` (or call ``close``). The calls run on an event loop of
    the console's own, on a background thread, so it works where a loop already runs (a
    notebook) as well as in plain scripts; it may be used from one thread at a time.

    Args:
        url: the daemon's base URL (``http://127.0.0.1:8765``); ``None`` for the local one.
        token: an API key to act with (for the local daemon: instead of the configured one).
        timeout: seconds a call waits for the daemon's answer (``with_timeout`` changes it).
        settings: the settings whose data dir holds the local daemon (default: read from
            the environment, as the CLI reads them); only without ``url``.

    Raises:
        Invalid: ``timeout`` is not positive, or ``settings`` came with a ``url``.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = REQUEST_TIMEOUT,
        settings: Settings | None = None,
    ) -> None:
        self._aconsole = AsyncConsole(url, token, timeout=timeout, settings=settings)
        self._loop = LoopThread()
        # Closed by ``close``, or once nothing refers to it (never at exit: a daemon thread
        # ends with the program).
        self._closer: weakref.finalize[[LoopThread, AsyncConsole], Console] | None = (
            weakref.finalize(self, _shut, self._loop, self._aconsole)
        )
        self._closer.atexit = False

    @property
    def aconsole(self) -> AsyncConsole:
        """The async console every call goes to."""
        return self._aconsole

    @property
    def loop(self) -> LoopThread:
        """The event loop (on its own thread) the calls run on."""
        return self._loop

    @property
    def url(self) -> str:
        """The daemon's base URL (the local one's once found)."""
        return self._aconsole.url

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections and stop the loop (a console from ``with_timeout`` leaves
        both to its origin)."""
        if self._closer is not None:
            self._closer()

    def with_timeout(self, seconds: float) -> Console:
        """This console with another timeout per call, sharing its connections and loop.

        Raises:
            Invalid: ``seconds`` is not positive.
        """
        view = object.__new__(Console)
        view._aconsole = self._aconsole.with_timeout(seconds)
        view._loop = self._loop
        view._closer = None
        return view

    def events(self) -> AbstractContextManager[Iterator[dict[str, Any]]]:
        """The daemon's live events: ``with console.events() as events: for event in events``.

        Raises:
            Unavailable: the stream cannot be opened or is lost.
        """
        return blocking_stream(self._loop, self._aconsole.events())

    # Every other public method of AsyncConsole, waited for: one line each, so that type
    # checkers and editors see them (a test keeps the list complete).
    connect = blocking(AsyncConsole.connect)
    health = blocking(AsyncConsole.health)
    whoami = blocking(AsyncConsole.whoami)
    search_services = blocking(AsyncConsole.search_services)
    get_service = blocking(AsyncConsole.get_service)
    version_runnability = blocking(AsyncConsole.version_runnability)
    list_categories = blocking(AsyncConsole.list_categories)
    list_tags = blocking(AsyncConsole.list_tags)
    featured_services = blocking(AsyncConsole.featured_services)
    my_services = blocking(AsyncConsole.my_services)
    register_service = blocking(AsyncConsole.register_service)
    update_service = blocking(AsyncConsole.update_service)
    add_version = blocking(AsyncConsole.add_version)
    publish_service = blocking(AsyncConsole.publish_service)
    upload_package = blocking(AsyncConsole.upload_package)
    publish_server_json = blocking(AsyncConsole.publish_server_json)
    deprecate_service = blocking(AsyncConsole.deprecate_service)
    import_catalog = blocking(AsyncConsole.import_catalog)
    export_server_json = blocking(AsyncConsole.export_server_json)
    add_review = blocking(AsyncConsole.add_review)
    list_reviews = blocking(AsyncConsole.list_reviews)
    create_user = blocking(AsyncConsole.create_user)
    list_users = blocking(AsyncConsole.list_users)
    list_keys = blocking(AsyncConsole.list_keys)
    list_secrets = blocking(AsyncConsole.list_secrets)
    set_secret = blocking(AsyncConsole.set_secret)
    delete_secret = blocking(AsyncConsole.delete_secret)
    create_key = blocking(AsyncConsole.create_key)
    revoke_key = blocking(AsyncConsole.revoke_key)
    list_alerts = blocking(AsyncConsole.list_alerts)
    acknowledge_alert = blocking(AsyncConsole.acknowledge_alert)
    list_silences = blocking(AsyncConsole.list_silences)
    add_silence = blocking(AsyncConsole.add_silence)
    expire_silence = blocking(AsyncConsole.expire_silence)
    list_alert_rules = blocking(AsyncConsole.list_alert_rules)
    add_alert_rule = blocking(AsyncConsole.add_alert_rule)
    remove_alert_rule = blocking(AsyncConsole.remove_alert_rule)
    set_alert_rule_enabled = blocking(AsyncConsole.set_alert_rule_enabled)
    export_alert_rules = blocking(AsyncConsole.export_alert_rules)
    add_alert_target = blocking(AsyncConsole.add_alert_target)
    list_alert_targets = blocking(AsyncConsole.list_alert_targets)
    remove_alert_target = blocking(AsyncConsole.remove_alert_target)
    test_alert_target = blocking(AsyncConsole.test_alert_target)
    alert_deliveries = blocking(AsyncConsole.alert_deliveries)
    audit_events = blocking(AsyncConsole.audit_events)
    billing_usage = blocking(AsyncConsole.billing_usage)
    billing_revenue = blocking(AsyncConsole.billing_revenue)
    list_prices = blocking(AsyncConsole.list_prices)
    set_price = blocking(AsyncConsole.set_price)
    billing_invoices = blocking(AsyncConsole.billing_invoices)
    billing_invoice = blocking(AsyncConsole.billing_invoice)
    export_invoice = blocking(AsyncConsole.export_invoice)
    close_month = blocking(AsyncConsole.close_month)
    metering_state = blocking(AsyncConsole.metering_state)
    list_quotas = blocking(AsyncConsole.list_quotas)
    set_quota = blocking(AsyncConsole.set_quota)
    remove_quota = blocking(AsyncConsole.remove_quota)
    list_teams = blocking(AsyncConsole.list_teams)
    get_team = blocking(AsyncConsole.get_team)
    create_team = blocking(AsyncConsole.create_team)
    delete_team = blocking(AsyncConsole.delete_team)
    add_team_member = blocking(AsyncConsole.add_team_member)
    remove_team_member = blocking(AsyncConsole.remove_team_member)
    create_deployment = blocking(AsyncConsole.create_deployment)
    list_deployments = blocking(AsyncConsole.list_deployments)
    get_deployment = blocking(AsyncConsole.get_deployment)
    scale_deployment = blocking(AsyncConsole.scale_deployment)
    update_deployment = blocking(AsyncConsole.update_deployment)
    reconfigure_deployment = blocking(AsyncConsole.reconfigure_deployment)
    rollback_deployment = blocking(AsyncConsole.rollback_deployment)
    stop_deployment = blocking(AsyncConsole.stop_deployment)
    start_deployment = blocking(AsyncConsole.start_deployment)
    delete_deployment = blocking(AsyncConsole.delete_deployment)
    deployment_history = blocking(AsyncConsole.deployment_history)
    deployment_logs = blocking(AsyncConsole.deployment_logs)
    search_logs = blocking(AsyncConsole.search_logs)
    follow_logs = blocking_iter(AsyncConsole.follow_logs)
    set_autoscale = blocking(AsyncConsole.set_autoscale)
    share_deployment = blocking(AsyncConsole.share_deployment)
    unshare_deployment = blocking(AsyncConsole.unshare_deployment)
    deployment_metrics = blocking(AsyncConsole.deployment_metrics)
    metrics_history = blocking(AsyncConsole.metrics_history)
    drift_report = blocking(AsyncConsole.drift_report)
    approve_drift = blocking(AsyncConsole.approve_drift)
    set_drift_policy = blocking(AsyncConsole.set_drift_policy)
    list_sessions = blocking(AsyncConsole.list_sessions)
    drain_session = blocking(AsyncConsole.drain_session)
    kill_session = blocking(AsyncConsole.kill_session)
    inspect_deployment = blocking(AsyncConsole.inspect_deployment)
    server_definitions = blocking(AsyncConsole.server_definitions)
    call_tool = blocking(AsyncConsole.call_tool)
    iter_services = blocking_iter(AsyncConsole.iter_services)
    iter_audit_events = blocking_iter(AsyncConsole.iter_audit_events)
