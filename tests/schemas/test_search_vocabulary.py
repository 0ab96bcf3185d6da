"""The search box offers exactly what the backend's grammar reads: its keys and fixed values."""

from __future__ import annotations

import pytest

from mcp_console.backend.catalog.search import parse_query
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.search import FILTER_KEYS, FIXED_VALUES
from mcp_console.widgets.search_box import GrammarSuggester

FREE_TEXT_KEYS = sorted(set(FILTER_KEYS) - set(FIXED_VALUES))


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, vs in FIXED_VALUES.items() for v in vs])
async def test_every_fixed_value_the_box_completes_is_read_by_the_backend(
    key: str, value: str
) -> None:
    suggester = GrammarSuggester()
    completed = await suggester.get_suggestion(f"git {key}:{value[:-1]}")
    assert completed is not None
    query = parse_query(completed)  # the backend takes it
    assert query.words == ("git",)
    assert completed.split(":", 1)[1] in FIXED_VALUES[key]


@pytest.mark.parametrize("key", FREE_TEXT_KEYS)
def test_every_free_text_key_takes_a_value(key: str) -> None:
    parse_query(f"{key}:something")


async def test_the_box_completes_every_key_and_the_backend_lists_the_same_ones() -> None:
    suggester = GrammarSuggester()
    for key in FILTER_KEYS:
        # The key less its last letter, then more letters until only this key fits.
        stems = (key[:n] for n in range(1, len(key)))
        offered = {await suggester.get_suggestion(f"git {stem}") for stem in stems}
        assert f"git {key}:" in offered
    with pytest.raises(Invalid) as unknown:
        parse_query("colour:blue")
    assert unknown.value.message.endswith("valid filters are " + ", ".join(FILTER_KEYS))
    with pytest.raises(Invalid) as bad_value:
        parse_query("price:gratis")
    assert bad_value.value.message.endswith("valid values are " + ", ".join(FIXED_VALUES["price"]))
