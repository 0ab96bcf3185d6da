"""npm's ranges as packages write them in ``engines.node``, against the Node.js releases."""

from __future__ import annotations

import pytest

from mcp_console.backend.deploy.node_range import NodeRange, RangeError, parse_version

RELEASES = ("18.20.8", "20.20.2", "21.1.0", "22.23.5", "24.1.0")
# Each range as npm's own semver.satisfies() answers for RELEASES, in order.
CASES = {
    ">=18": "11111",
    ">= 16": "11111",
    ">=20.0.0": "01111",
    ">=18.0.0-0": "11111",
    "20 || >=22": "01011",
    "^20.19.0 || >=22.12.0": "01011",
    "18.x || 20.x": "11000",
    ">=20.0.0 <21": "01000",
    "~20.20": "01000",
    "^22": "00010",
    "v20": "01000",
    "20.1 - 21": "01100",
    "18 - 20.20.1": "10000",
    ">20": "00111",
    "<=21": "11100",
    ">20.20.2": "00111",
    "<20": "10000",
    "*": "11111",
    "": "11111",
    "<*": "00000",
    "^0.x": "00000",
}


@pytest.mark.parametrize("text", CASES)
def test_ranges_match_what_npm_accepts(text: str) -> None:
    wanted = NodeRange.parse(text)

    got = "".join("1" if wanted.allows(parse_version(v)) else "0" for v in RELEASES)

    assert got == CASES[text]


@pytest.mark.parametrize("text", [">=abc", "node 18", "1.2.3.4", ">=18 ||| 20"])
def test_a_range_npm_would_not_read_is_refused_naming_the_part(text: str) -> None:
    with pytest.raises(RangeError) as refused:
        NodeRange.parse(text)

    assert "not a version or range" in str(refused.value)


def test_versions_read_as_node_prints_them() -> None:
    assert parse_version("v22.23.5\n") == (22, 23, 5)
    with pytest.raises(RangeError):
        parse_version("node")
