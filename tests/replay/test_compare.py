"""The structural diff replay prints: volatile values, named lists, JSON text, ignore rules."""

from __future__ import annotations

import pytest

from mcp_console.devtools.compare import differences, parse_path
from mcp_console.schemas.errors import Invalid


def test_timestamps_ids_and_the_envelope_never_count() -> None:
    recorded = {
        "content": [{"type": "text", "text": '{"at": "2026-12-08T00:14:40Z", "tz": "UTC"}'}],
        "structuredContent": {"id": "5f0c6a52-3b7a-4f55-9a34-2a0cbd0e8d11", "n": 1},
        "_meta": {"io.modelcontextprotocol/serverInfo": {"version": "1.0.0"}},
        "ttlMs": 0,
    }
    replayed = {
        "content": [{"type": "text", "text": '{"at": "2026-12-09T10:01:02.5+01:00", "tz": "CET"}'}],
        "structuredContent": {"id": "0b7e1f0e-8f7e-4c7c-9d5a-6a1e2b3c4d5e", "n": 1},
    }

    # The text held JSON: the difference is named inside it.
    assert list(differences(recorded, replayed)) == [("$.content[0].text.tz", "UTC", "CET")]


def test_named_lists_are_compared_by_name() -> None:
    recorded = {"tools": [{"name": "add", "description": "Add."}, {"name": "echo"}]}
    replayed = {"tools": [{"name": "echo"}, {"name": "add", "description": "Sum."}]}
    fewer = {"tools": [{"name": "add", "description": "Add."}]}

    assert list(differences(recorded, replayed)) == [("$.tools[add].description", "Add.", "Sum.")]
    assert list(differences(recorded, fewer)) == [("$.tools[echo]", {"name": "echo"}, None)]


def test_ignore_rules_leave_out_what_they_select() -> None:
    recorded = {"a": {"when": 1, "x": [1, 2]}, "tools": [{"name": "t", "v": 1}]}
    replayed = {"a": {"when": 2, "x": [1, 3]}, "tools": [{"name": "t", "v": 2}]}

    def left(*rules: str) -> list[str]:
        return [p for p, _, _ in differences(recorded, replayed, [parse_path(r) for r in rules])]

    assert left() == ["$.a.when", "$.a.x[1]", "$.tools[t].v"]
    assert left("$..when") == ["$.a.x[1]", "$.tools[t].v"]
    assert left("$.a.x[*]", "$.tools[t]") == ["$.a.when"]
    assert left("$.a.*", "$.tools['t'].v") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.b", "'a.b' is not a JSONPath: it starts with $ (e.g. $..timestamp)"),
        ("$", "'$' selects the whole result: name a field inside it"),
        (
            "$.a[",
            "'$.a[' is not a JSONPath this tool reads (at '['): use $.key, $..key, [N], "
            "[NAME], [*] or .*",
        ),
    ],
)
def test_a_bad_jsonpath_is_named(text: str, message: str) -> None:
    with pytest.raises(Invalid) as raised:
        parse_path(text)
    assert (raised.value.message, raised.value.field) == (message, "ignore")
