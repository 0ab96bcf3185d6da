"""The catalog search grammar's vocabulary: its filter keys and the values the fixed ones take."""

from __future__ import annotations

from typing import get_args

from mcp_console.schemas.catalog import PriceModel, ServiceStatus, SortKey

# Every ``key:`` the grammar reads, in the order an error message lists them.
FILTER_KEYS = ("author", "category", "featured", "price", "sort", "status", "tag")
SORT_KEYS: tuple[SortKey, ...] = get_args(SortKey)
FEATURED = {"yes": True, "no": False}
# The keys whose values come from a fixed list, each list as it is typed (lower case).
FIXED_VALUES: dict[str, tuple[str, ...]] = {
    "featured": tuple(FEATURED),
    "price": tuple(p.value.lower() for p in PriceModel),
    "sort": SORT_KEYS,
    "status": tuple(s.value.lower() for s in ServiceStatus),
}
