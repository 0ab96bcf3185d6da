"""The SDK under test: the real API on a loopback port, over a runtime on SQLite."""

from __future__ import annotations

import pytest

from tests.api.conftest import api, app  # noqa: F401


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The SDK is a client of the API: SQLite keeps these tests quick."""
    return sqlite_url
