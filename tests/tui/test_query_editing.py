"""What the market's keys do to the query text, and how the search box completes it."""

from __future__ import annotations

from mcp_console.screens.market import current_sort, with_facet, with_sort
from mcp_console.widgets.search_box import GrammarSuggester
from mcp_console.widgets.service_table import fit


def test_sort_cycles_through_the_grammar_and_skips_relevance_without_words() -> None:
    assert with_sort("", current_sort("")) == "sort:rating"
    assert with_sort("tag:db sort:name", "name") == "tag:db sort:downloads"
    assert with_sort("git sort:name", "name") == "git sort:relevance"
    assert current_sort("git") == "relevance"
    assert current_sort("tag:db") == "downloads"


def test_a_category_replaces_the_last_and_a_tag_adds_up() -> None:
    assert with_facet('git category:"dev ops"', "category", "web") == "git category:web"
    assert with_facet("git", "category", "dev ops") == 'git category:"dev ops"'
    assert with_facet("tag:db", "tag", "sql") == "tag:db tag:sql"
    assert with_facet("tag:db", "tag", "db") == "tag:db"


async def test_the_suggester_completes_keys_and_known_values() -> None:
    suggester = GrammarSuggester()
    suggester.learn("category", ["devops", "dev tools"])
    assert await suggester.get_suggestion("git ca") == "git category:"
    assert await suggester.get_suggestion("git sort:ra") == "git sort:rating"
    assert await suggester.get_suggestion("category:dev") == "category:devops"
    assert await suggester.get_suggestion('git category:"dev t') == 'git category:"dev tools"'
    assert await suggester.get_suggestion("category:nope") is None
    assert await suggester.get_suggestion("git ") is None


def test_cells_are_cut_with_an_ellipsis_and_padded_to_their_width() -> None:
    assert fit("postgres", 5) == "post…"
    assert fit("db", 5) == "db   "
    assert fit("12k", 5, "right") == "  12k"
    assert fit("数据库服务", 5) == "数据…"
