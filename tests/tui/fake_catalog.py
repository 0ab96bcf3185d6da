"""The catalog in memory for FakeClient, on the backend's own rules wherever they are pure.

Search (``tests.tui.fake_search``), tag and field normalisation, version rules, the catalog
formats and export are the backend's functions; the contract suite runs over the fake to
show that the rest agrees.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any, cast

from mcp_console.backend.catalog.formats import (
    ImportEntry,
    export_server_json,
    parse_document,
    validate_server_json,
)
from mcp_console.backend.catalog.importer import (
    _PLAIN_FIELDS,  # the fields a service stores as they are given
    assign_plain_fields,
    check_publishable,
    new_service_row,
    normalise_tags,
)
from mcp_console.backend.catalog.semver import pick_latest
from mcp_console.backend.catalog.service import require_author_role
from mcp_console.backend.catalog.versions import validate_version, version_content
from mcp_console.backend.db.models import McpService, ServiceVersion
from mcp_console.schemas.catalog import (
    CatalogDocument,
    CatalogFormat,
    CategoryCount,
    ImportProblem,
    ImportReport,
    PriceModel,
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
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound, revalidated
from mcp_console.schemas.users import Principal
from tests.tui.fake_search import category_counts, search_page, tag_counts, view_of
from tests.tui.sample import NOW


class FakeCatalog:
    """Services, versions and reviews, each change announced through ``publish``.

    ``estimate_above``/``overestimate``: a full page of a search matching more than that
    reports an estimated total (``overestimate`` too many), as a broad PostgreSQL search does.
    """

    def __init__(
        self,
        services: Iterable[ServiceDetail],
        reviews: Iterable[ReviewView],
        publish: Callable[[dict[str, Any]], None],
        *,
        estimate_above: int | None = None,
        overestimate: int = 0,
    ) -> None:
        self.services = {s.name: s for s in services}
        self.reviews = list(reviews)
        self.imported: list[CatalogDocument] = []
        self.published_texts: list[str] = []
        self.estimate_above = estimate_above
        self.overestimate = overestimate
        self._publish = publish
        ids = [s.id for s in self.services.values()] + [r.id for r in self.reviews]
        self._ids = itertools.count(max(ids, default=0) + 1)

    # --- reading ------------------------------------------------------------------------

    def stored(self, name: str) -> ServiceDetail:
        """The service of that name, whoever may see it."""
        found = self.services.get(name)
        if found is None:
            raise NotFound(f"no service named {name!r}")
        return found

    def visible(self, actor: Principal, name: str) -> ServiceDetail:
        """Drafts are visible to their author and admins only."""
        found = self.services.get(name)
        if found is None or not _sees(actor, found):
            raise NotFound(f"no service named {name!r}")
        return found

    def search(self, actor: Principal, text: str, page: int, page_size: int) -> SearchPage:
        return search_page(
            self.services.values(),
            actor,
            text,
            page,
            page_size,
            estimate_above=self.estimate_above,
            overestimate=self.overestimate,
        )

    def categories(self) -> list[CategoryCount]:
        return category_counts(self._published())

    def tags(self, limit: int) -> list[TagCount]:
        return tag_counts(self._published(), limit)

    def featured(self, limit: int) -> list[ServiceView]:
        chosen = sorted(
            (s for s in self._published() if s.featured),
            key=lambda s: (-s.rating_average, s.name),
        )
        return [view_of(s) for s in chosen[:limit]]

    def by_author(self, actor: Principal) -> list[ServiceView]:
        mine = sorted((s for s in self.services.values() if s.author == actor.name), key=_name)
        return [view_of(s) for s in mine]

    def list_reviews(self, actor: Principal, name: str) -> list[ReviewView]:
        self.visible(actor, name)
        mine = [r for r in self.reviews if r.service == name]
        return sorted(mine, key=lambda r: (r.updated_at, r.id), reverse=True)[:100]

    def export(self, actor: Principal, name: str, version: str | None) -> dict[str, Any]:
        detail = self.visible(actor, name)
        chosen = next(
            (v for v in detail.versions if (v.version == version if version else v.is_latest)),
            None,
        )
        if chosen is None:
            what = f"version {version}" if version else "a latest version"
            raise NotFound(f"{name} has no {what}")
        document = export_server_json(detail, chosen)
        validate_server_json(document)
        return document

    # --- writing ------------------------------------------------------------------------

    def register(self, actor: Principal, new: ServiceCreate) -> ServiceDetail:
        require_author_role(actor)
        new = revalidated(new)
        if new.featured and not actor.is_admin:
            raise Forbidden("only an admin may feature a service")
        if new.name in self.services:
            raise Conflict(f"a service named {new.name!r} already exists", field="name")
        detail = self._create(actor, new)
        self._publish({"type": "service.registered", "service": new.name})
        return detail

    def update(self, actor: Principal, name: str, changes: ServiceUpdate) -> ServiceDetail:
        current = self._owned(actor, name)
        changes = revalidated(changes)
        if changes.featured is not None and not actor.is_admin:
            raise Forbidden("only an admin may feature a service")
        return self._apply_fields(current, changes.model_dump(exclude_none=True))[0]

    def add_version(self, actor: Principal, name: str, new: VersionCreate) -> VersionView:
        new = revalidated(new)
        validate_version(new)
        current = self._owned(actor, name)
        if any(v.version == new.version for v in current.versions):
            raise Conflict(f"{name} already has version {new.version}", field="version")
        added = self._add_version(current, new)
        self._publish({"type": "version.added", "service": name, "version": new.version})
        return added

    def publish(self, actor: Principal, name: str) -> ServiceDetail:
        detail = self._published_now(self._owned(actor, name))
        self._publish({"type": "service.published", "service": name})
        return detail

    def deprecate(self, actor: Principal, name: str, message: str) -> ServiceDetail:
        if not message.strip():
            raise Invalid("a deprecation needs a message for users", field="message")
        detail = self._deprecated(self._owned(actor, name), message)
        self._publish({"type": "service.deprecated", "service": name})
        return detail

    def add_review(self, actor: Principal, name: str, review: ReviewCreate) -> ReviewView:
        review = revalidated(review)
        current = self.services.get(name)
        if current is None or current.status is ServiceStatus.DRAFT:
            raise NotFound(f"no published service named {name!r}")
        mine = next((r for r in self.reviews if r.service == name and r.user == actor.name), None)
        if mine is not None:
            self.reviews.remove(mine)
        saved = ReviewView(
            id=mine.id if mine else next(self._ids),
            service=name,
            user=actor.name,
            rating=review.rating,
            comment=review.comment,
            created_at=mine.created_at if mine else NOW,
            updated_at=NOW,
        )
        self.reviews.insert(0, saved)
        ratings = [r.rating for r in self.reviews if r.service == name]
        histogram = {stars: ratings.count(stars) for stars in range(1, 6)}
        self._store(
            current,
            rating_histogram=histogram,
            rating_count=len(ratings),
            rating_average=round(sum(ratings) / len(ratings), 4),
        )
        self._publish({"type": "review.added", "service": name})
        return saved

    def import_documents(self, actor: Principal, documents: list[CatalogDocument]) -> ImportReport:
        require_author_role(actor)
        self.imported.extend(documents)
        report = ImportReport()
        touched: set[str] = set()
        for document in documents:
            for item in parse_document(document):
                if isinstance(item, ImportProblem):
                    report.problems.append(item)
                    continue
                label = f"{item.service.name}@{item.version.version}"
                try:
                    outcome = self._apply_entry(actor, item)
                except (Conflict, Forbidden, Invalid) as error:
                    report.problems.append(
                        ImportProblem(origin=item.origin, entry=label, reason=error.message)
                    )
                    continue
                getattr(report, outcome).append(label)
                if outcome != "unchanged":
                    touched.add(item.service.name)
        if report.created or report.updated:
            self._publish({"type": "catalog.imported", "count": len(touched)})
        return report

    def publish_document(self, actor: Principal, text: str, origin: str) -> ServiceDetail:
        self.published_texts.append(text)
        document = CatalogDocument(origin=origin, text=text, format=CatalogFormat.SERVER_JSON)
        report = self.import_documents(actor, [document])
        if report.problems:
            problem = report.problems[0]
            raise Invalid(f"{problem.origin}: {problem.reason}")
        names = report.created + report.updated + report.unchanged
        if not names:
            raise Invalid(f"{origin}: the document holds no server")
        return self.visible(actor, names[0].split("@")[0])

    # --- the rules behind the writes ----------------------------------------------------

    def _owned(self, actor: Principal, name: str) -> ServiceDetail:
        current = self.visible(actor, name)
        if current.author != actor.name and not actor.is_admin:
            raise Forbidden(f"only the author of {name} or an admin may change it")
        return current

    def _store(self, current: ServiceDetail, **changes: Any) -> ServiceDetail:
        updated = current.model_copy(update=changes)
        self.services[updated.name] = updated
        return updated

    def _published(self) -> list[ServiceDetail]:
        return [s for s in self.services.values() if s.status is ServiceStatus.PUBLISHED]

    def _create(self, actor: Principal, new: ServiceCreate) -> ServiceDetail:
        row = new_service_row(actor, new)
        detail = ServiceDetail(
            id=next(self._ids),
            name=new.name,
            **_descriptive(row),
            tags=normalise_tags(new.tags),
            author=actor.name,
            status=ServiceStatus.DRAFT,
            downloads_count=0,
            rating_average=0.0,
            rating_count=0,
            latest_version=None,
            created_at=NOW,
            updated_at=NOW,
            deprecation_message=None,
            versions=[],
            rating_histogram=dict.fromkeys(range(1, 6), 0),
        )
        self.services[detail.name] = detail
        return detail

    def _apply_fields(
        self, current: ServiceDetail, fields: dict[str, Any]
    ) -> tuple[ServiceDetail, bool]:
        """Descriptive fields and tags changed as the backend changes them; whether any did."""
        row = McpService(**{name: getattr(current, name) for name in _PLAIN_FIELDS})
        row.price_model = current.price_model.value
        changed = assign_plain_fields(row, fields)
        tags = current.tags
        if "tags" in fields and normalise_tags(fields["tags"]) != current.tags:
            tags, changed = normalise_tags(fields["tags"]), True
        if not changed:
            return current, False
        return self._store(current, **_descriptive(row), tags=tags, updated_at=NOW), True

    def _add_version(self, current: ServiceDetail, new: VersionCreate) -> VersionView:
        added = VersionView.model_validate(
            {
                **new.model_dump(),
                "id": next(self._ids),
                "is_latest": False,
                "is_prerelease": validate_version(new).is_prerelease,
                "published": current.status is not ServiceStatus.DRAFT,
                "created_at": NOW,
            }
        )
        versions = [added, *current.versions]
        latest = pick_latest([v.version for v in versions])
        versions = [v.model_copy(update={"is_latest": v.version == latest}) for v in versions]
        self._store(current, versions=versions, latest_version=latest, updated_at=NOW)
        return versions[0]

    def _published_now(self, current: ServiceDetail) -> ServiceDetail:
        if current.status is not ServiceStatus.DRAFT:
            raise Conflict(f"{current.name} is {current.status.value.lower()}, not a draft")
        # The backend's check reads only what a version's view shares with its row.
        check_publishable(current.name, cast(list[ServiceVersion], current.versions))
        versions = [v.model_copy(update={"published": True}) for v in current.versions]
        return self._store(
            current, status=ServiceStatus.PUBLISHED, versions=versions, updated_at=NOW
        )

    def _deprecated(self, current: ServiceDetail, message: str) -> ServiceDetail:
        if current.status is ServiceStatus.DRAFT:
            raise Conflict(f"{current.name} is a draft: delete it instead of deprecating it")
        return self._store(
            current,
            status=ServiceStatus.DEPRECATED,
            deprecation_message=message.strip(),
            updated_at=NOW,
        )

    def _apply_entry(self, actor: Principal, entry: ImportEntry) -> str:
        """What the backend's import does with one entry: created, updated or unchanged."""
        validate_version(entry.version)
        current = self.services.get(entry.service.name)
        if current is None:
            current, outcome = self._create(actor, entry.service), "created"
        else:
            if current.author != actor.name and not actor.is_admin:
                raise Forbidden(f"{current.name} belongs to another author")
            fields = entry.service.model_dump(exclude={"name", "featured"})
            current, changed = self._apply_fields(current, fields)
            outcome = "updated" if changed else "unchanged"
        existing = next((v for v in current.versions if v.version == entry.version.version), None)
        if existing is None:
            self._add_version(current, entry.version)
            outcome = "created" if outcome == "created" else "updated"
        elif _content(existing) != version_content(entry.version):
            if existing.published:
                raise Conflict(
                    f"version {existing.version} is published and immutable; "
                    "publish a new version instead"
                )
            rewritten = VersionView.model_validate(
                {**existing.model_dump(), **entry.version.model_dump()}
            )
            versions = [rewritten if v is existing else v for v in current.versions]
            self._store(current, versions=versions)
            outcome = "updated" if outcome == "unchanged" else outcome
        current = self.services[entry.service.name]
        if entry.status is not ServiceStatus.DRAFT and current.status is ServiceStatus.DRAFT:
            current = self._published_now(current)
            outcome = "updated" if outcome == "unchanged" else outcome
        if entry.status is ServiceStatus.DEPRECATED and current.status is not entry.status:
            self._deprecated(current, entry.status_message or "deprecated upstream")
            outcome = "updated" if outcome == "unchanged" else outcome
        return outcome


def _sees(actor: Principal, service: ServiceDetail) -> bool:
    if service.status is not ServiceStatus.DRAFT:
        return True
    return actor.is_admin or service.author == actor.name


def _descriptive(row: McpService) -> dict[str, Any]:
    fields = {name: getattr(row, name) for name in _PLAIN_FIELDS}
    fields["price_model"] = PriceModel(fields["price_model"])
    return fields


def _content(view: VersionView) -> dict[str, Any]:
    """A stored version's fields as ``version_content`` gives a new one's."""
    return version_content(VersionCreate.model_validate(view.model_dump()))


def _name(service: ServiceDetail) -> str:
    return service.name
