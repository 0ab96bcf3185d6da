"""FakeQuotas: quotas in memory for FakeClient, following the backend's rules for who sets them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from mcp_console.schemas.errors import Forbidden, NotFound, revalidated
from mcp_console.schemas.quotas import QuotaKind, QuotaScope, QuotaSet, QuotaView
from mcp_console.schemas.users import Principal

CURRENCY = "USD"


class FakeQuotas:
    """Quotas set through the client; tests put figures of use in ``used`` by quota id."""

    def __init__(self) -> None:
        self.views: dict[int, QuotaView] = {}
        self.used: dict[int, Decimal] = {}
        self._next = 1

    def list(self, me: Principal) -> list[QuotaView]:
        shown = [v for v in self.views.values() if me.is_admin or _mine(me, v)]
        return [self._with_use(v) for v in shown]

    def set(self, me: Principal, new: QuotaSet) -> QuotaView:
        new = revalidated(new)
        if not me.is_admin and new.scope is QuotaScope.USER:
            raise Forbidden(f"only an admin limits a user's calls ({new.subject})")
        same = next(
            (
                v
                for v in self.views.values()
                if (v.scope, v.subject, v.kind, v.period, v.tool)
                == (new.scope, new.subject, new.kind, new.period, new.tool)
            ),
            None,
        )
        quota_id = same.id if same is not None else self._next
        self._next += same is None
        self.views[quota_id] = QuotaView(
            id=quota_id,
            scope=new.scope,
            subject=new.subject,
            kind=new.kind,
            period=new.period,
            allowed=new.allowed,
            tool=new.tool,
            used=Decimal(0),
            in_flight=Decimal(0),
            percent=0.0,
            resets_at=None,
            currency=CURRENCY if new.kind is QuotaKind.SPEND else None,
            created_by=me.name,
            created_at=datetime.now(UTC),
        )
        return self._with_use(self.views[quota_id])

    def remove(self, me: Principal, quota_id: int) -> None:
        view = self.views.get(quota_id)
        if view is None or not (me.is_admin or _mine(me, view)):
            raise NotFound(f"no quota {quota_id}", field="id")
        if not me.is_admin and view.scope is QuotaScope.USER:
            raise Forbidden(f"only an admin limits a user's calls ({view.subject})")
        del self.views[quota_id]

    def _with_use(self, view: QuotaView) -> QuotaView:
        used = self.used.get(view.id, Decimal(0))
        percent = 0.0 if view.kind is QuotaKind.RATE else float(used / view.allowed * 100)
        return view.model_copy(update={"used": used, "percent": percent})


def _mine(me: Principal, view: QuotaView) -> bool:
    return view.subject == me.name or view.subject.startswith(f"{me.name}/")
