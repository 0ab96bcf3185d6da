"""FakeClient: the ConsoleClient in memory, for the TUI's snapshot and Pilot tests only."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp_console.schemas.catalog import (
    CatalogDocument,
    CategoryCount,
    ImportReport,
    ReviewCreate,
    ReviewView,
    SearchPage,
    ServiceCreate,
    ServiceDetail,
    ServiceStatus,
    ServiceUpdate,
    ServiceView,
    TagCount,
    VersionCreate,
    VersionView,
)
from mcp_console.schemas.deploy import (
    DeploymentCreate,
    DeploymentDetail,
    DeploymentView,
    HistoryEntry,
    InstanceLogs,
)
from mcp_console.schemas.errors import Conflict, ConsoleError, Invalid, NotFound
from mcp_console.schemas.monitor import (
    DeploymentMetrics,
    InspectReport,
    SessionView,
    ToolCallOutcome,
)
from mcp_console.schemas.users import Principal, Role, UserCreate, UserCreated, UserView
from tests.tui.fake_deployments import FakeDeployments
from tests.tui.fake_inspector import FakeInspector
from tests.tui.fake_live import FakeLive
from tests.tui.sample import NOW, service, version

FILTER_KEYS = ("author", "category", "featured", "price", "sort", "status", "tag")
_TOKEN = re.compile(
    r'(?P<key>[A-Za-z][A-Za-z_-]*):(?:"(?P<quoted>[^"]*)"?|(?P<value>\S*))|(?P<word>\S+)'
)


class FakeClient:
    """Everything the console asks of a backend, kept in memory.

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
        self.services = {s.name: s for s in services or []}
        self.estimate_above = estimate_above
        self.overestimate = overestimate
        self.reviews = list(reviews or [])
        self.me = me or Principal(user_id=1, name="admin", role=Role.ADMIN)
        self.failures = dict(failures or {})
        self.calls: list[str] = []
        self.imported: list[CatalogDocument] = []
        self.published_texts: list[str] = []
        self.deploys = FakeDeployments(self._get, ready_after)
        self.deployments = self.deploys.items
        self.inspector = FakeInspector(self.deployments)
        self.live = FakeLive(self.deployments)
        self._queues: list[asyncio.Queue[dict[str, Any]]] = []

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        error = self.failures.get(method)
        if error is not None:
            raise error

    def emit(self, event: dict[str, Any]) -> None:
        """Deliver a backend event to every open ``events()`` stream."""
        for queue in self._queues:
            queue.put_nowait(event)

    def _get(self, name: str) -> ServiceDetail:
        found = self.services.get(name)
        if found is None:
            raise NotFound(f"no service named {name!r}", field="name")
        return found

    def _store(self, detail: ServiceDetail) -> ServiceDetail:
        self.services[detail.name] = detail
        return detail

    # --- catalog ------------------------------------------------------------------------

    async def whoami(self) -> Principal:
        self._enter("whoami")
        return self.me

    async def search_services(
        self, query: str, *, page: int = 1, page_size: int = 50
    ) -> SearchPage:
        self._enter("search_services")
        words, filters = _parse(query)
        status = ServiceStatus((filters.get("status") or ["published"])[0].upper())
        found = [s for s in self.services.values() if s.status is status]
        for word in words:
            found = [s for s in found if word in _haystack(s)]
        if "category" in filters:
            found = [
                s for s in found if (s.category or "").lower() == filters["category"][0].lower()
            ]
        for tag in filters.get("tag", []):
            found = [s for s in found if tag.lower() in (t.lower() for t in s.tags)]
        if "price" in filters:
            prices = {p.upper() for p in filters["price"][0].split("|")}
            found = [s for s in found if s.price_model.value in prices]
        if "featured" in filters:
            found = [s for s in found if s.featured is (filters["featured"][0] == "yes")]
        if "author" in filters:
            found = [s for s in found if s.author == filters["author"][0]]
        sort = (filters.get("sort") or ["relevance" if words else "downloads"])[0]
        keys = {
            "rating": lambda s: (-s.rating_average, s.name),
            "downloads": lambda s: (-s.downloads_count, s.name),
            "new": lambda s: (-s.created_at.timestamp(), s.name),
            "name": lambda s: (s.name,),
            "relevance": lambda s: (-s.downloads_count, s.name),
        }
        found.sort(key=keys[sort])
        start = (page - 1) * page_size
        items = [
            ServiceView.model_validate(s.model_dump()) for s in found[start : start + page_size]
        ]
        estimated = (
            self.estimate_above is not None
            and len(found) > self.estimate_above
            and len(items) == page_size
        )
        return SearchPage(
            query=query,
            items=items,
            total=len(found) + self.overestimate if estimated else len(found),
            total_exact=not estimated,
            page=page,
            page_size=page_size,
        )

    async def get_service(self, name: str) -> ServiceDetail:
        self._enter("get_service")
        return self._get(name)

    async def list_categories(self) -> list[CategoryCount]:
        self._enter("list_categories")
        counts: dict[str, int] = {}
        for s in self.services.values():
            if s.category and s.status is ServiceStatus.PUBLISHED:
                counts[s.category] = counts.get(s.category, 0) + 1
        return [CategoryCount(name=k, count=v) for k, v in sorted(counts.items())]

    async def list_tags(self, limit: int = 200) -> list[TagCount]:
        self._enter("list_tags")
        counts: dict[str, int] = {}
        for s in self.services.values():
            if s.status is ServiceStatus.PUBLISHED:
                for tag in s.tags:
                    counts[tag] = counts.get(tag, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [TagCount(name=k, count=v) for k, v in ranked]

    async def featured_services(self, limit: int = 20) -> list[ServiceView]:
        self._enter("featured_services")
        chosen = [s for s in self.services.values() if s.featured][:limit]
        return [ServiceView.model_validate(s.model_dump()) for s in chosen]

    async def my_services(self) -> list[ServiceView]:
        self._enter("my_services")
        mine = [s for s in self.services.values() if s.author == self.me.name]
        return [ServiceView.model_validate(s.model_dump()) for s in mine]

    async def register_service(self, new: ServiceCreate) -> ServiceDetail:
        self._enter("register_service")
        if new.name in self.services:
            raise Conflict(f"the name {new.name!r} is taken", field="name")
        return self._store(
            service(
                new.name,
                description=new.description,
                author=self.me.name,
                versions=[],
                status=ServiceStatus.DRAFT,
            )
        )

    async def update_service(self, name: str, changes: ServiceUpdate) -> ServiceDetail:
        self._enter("update_service")
        current = self._get(name)
        updates = {k: v for k, v in changes.model_dump().items() if v is not None}
        return self._store(current.model_copy(update=updates))

    async def add_version(self, name: str, new: VersionCreate) -> VersionView:
        self._enter("add_version")
        current = self._get(name)
        if not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", new.version):
            raise Invalid(f"{new.version!r} is not an exact semantic version", field="version")
        if any(v.version == new.version for v in current.versions):
            raise Conflict(f"{name} {new.version} exists", field="version")
        added = version(new.version, latest=True, changelog=new.changelog, days_ago=0)
        older = [v.model_copy(update={"is_latest": False}) for v in current.versions]
        self._store(
            current.model_copy(update={"versions": [added, *older], "latest_version": new.version})
        )
        return added

    async def publish_service(self, name: str) -> ServiceDetail:
        self._enter("publish_service")
        current = self._get(name)
        if not current.versions:
            raise Conflict(f"{name} has no version to publish", field="versions")
        return self._store(current.model_copy(update={"status": ServiceStatus.PUBLISHED}))

    async def publish_server_json(self, text: str, origin: str = "server.json") -> ServiceDetail:
        self._enter("publish_server_json")
        import json

        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise Invalid(f"malformed JSON at line {error.lineno}", field="document") from None
        for key in ("name", "description", "version"):
            if key not in document:
                raise Invalid(f"not a valid server.json: {key}: required", field=key)
        self.published_texts.append(text)
        return self._store(
            service(
                document["name"],
                description=document["description"],
                author=self.me.name,
                versions=[version(document["version"], latest=True, days_ago=0)],
                index=len(self.services),
            )
        )

    async def deprecate_service(self, name: str, message: str) -> ServiceDetail:
        self._enter("deprecate_service")
        current = self._get(name)
        changes = {"status": ServiceStatus.DEPRECATED, "deprecation_message": message}
        return self._store(current.model_copy(update=changes))

    async def import_catalog(self, documents: list[CatalogDocument]) -> ImportReport:
        self._enter("import_catalog")
        self.imported.extend(documents)
        import json

        created = []
        for i, document in enumerate(documents):
            data = json.loads(document.text)
            ours = data.get("_meta", {}).get("io.mcp-console/catalog", {})
            name = ours.get("name") or data["name"]
            self._store(
                service(
                    name,
                    display_name=data.get("title"),
                    description=data["description"],
                    category=ours.get("category"),
                    tags=ours.get("tags"),
                    index=i,
                )
            )
            created.append(f"{name}@{data['version']}")
        return ImportReport(created=created)

    async def export_server_json(self, name: str, version: str | None = None) -> dict[str, Any]:
        self._enter("export_server_json")
        current = self._get(name)
        return {"name": current.name, "description": current.description, "version": version}

    async def add_review(self, name: str, review: ReviewCreate) -> ReviewView:
        self._enter("add_review")
        current = self._get(name)
        if current.status is not ServiceStatus.PUBLISHED:
            raise NotFound(f"no published service named {name!r}", field="name")
        mine = next((r for r in self.reviews if r.service == name and r.user == self.me.name), None)
        if mine is not None:
            self.reviews.remove(mine)
        saved = ReviewView(
            id=len(self.reviews) + 1,
            service=name,
            user=self.me.name,
            rating=review.rating,
            comment=review.comment,
            created_at=mine.created_at if mine else NOW,
            updated_at=NOW,
        )
        self.reviews.insert(0, saved)
        histogram = dict.fromkeys(range(1, 6), 0)
        for r in self.reviews:
            if r.service == name:
                histogram[r.rating] += 1
        count = sum(histogram.values())
        average = sum(k * v for k, v in histogram.items()) / count
        self._store(
            current.model_copy(
                update={
                    "rating_histogram": histogram,
                    "rating_count": count,
                    "rating_average": average,
                }
            )
        )
        return saved

    async def list_reviews(self, name: str) -> list[ReviewView]:
        self._enter("list_reviews")
        self._get(name)
        return [r for r in self.reviews if r.service == name]

    async def create_user(self, new: UserCreate) -> UserCreated:
        self._enter("create_user")
        user = UserView(id=2, name=new.name, role=new.role, created_at=NOW)
        return UserCreated(user=user, api_key="mcpc_fake")

    async def list_users(self) -> list[UserView]:
        self._enter("list_users")
        return [UserView(id=1, name=self.me.name, role=self.me.role, created_at=NOW)]

    @asynccontextmanager
    async def events(self) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.append(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues.remove(queue)

    # --- deployments (kept by FakeDeployments) -------------------------------------------

    async def create_deployment(self, new: DeploymentCreate) -> DeploymentDetail:
        self._enter("create_deployment")
        return self.deploys.create(new)

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

    async def update_deployment(self, name: str, version: str) -> DeploymentDetail:
        self._enter("update_deployment")
        return self.deploys.update(name, version)

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

    async def set_autoscale(self, name: str, policy: dict[str, Any] | None) -> DeploymentDetail:
        self._enter("set_autoscale")
        return self.deploys.autoscale(name, policy)

    # --- inspector (kept by FakeInspector) -----------------------------------------------

    async def inspect_deployment(self, name: str) -> InspectReport:
        self._enter("inspect_deployment")
        return self.inspector.inspect(name)

    async def call_tool(self, name: str, tool: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        self._enter("call_tool")
        return self.inspector.call(name, tool, arguments)

    # --- live figures and sessions (kept by FakeLive) ------------------------------------

    async def deployment_metrics(self, name: str) -> DeploymentMetrics:
        self._enter("deployment_metrics")
        return self.live.metrics(name)

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


def _parse(query: str) -> tuple[list[str], dict[str, list[str]]]:
    words: list[str] = []
    filters: dict[str, list[str]] = {}
    for match in _TOKEN.finditer(query):
        key = match["key"]
        if key is None:
            words.append(match["word"].lower())
            continue
        key = key.lower()
        if key not in FILTER_KEYS:
            raise Invalid(
                f"unknown filter {key + ':'!r}; valid filters are {', '.join(FILTER_KEYS)}",
                field="query",
            )
        value = match["quoted"] if match["quoted"] is not None else match["value"]
        filters.setdefault(key, []).append(value)
    return words, filters


def _haystack(s: ServiceDetail) -> str:
    return " ".join([s.name, s.display_name, s.description, *s.tags]).lower()
