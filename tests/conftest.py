"""Shared fixtures: migrated databases (SQLite and PostgreSQL), settings, a runtime, Docker,
image registries."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import pytest
import pytest_asyncio
from sqlalchemy import NullPool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from mcp_console.backend.db.migrate import upgrade_sync
from mcp_console.settings import Settings

if TYPE_CHECKING:
    from mcp_console.backend.runtime import Runtime

T = TypeVar("T")

TESTS_DIR = Path(__file__).parent
POSTGRES_URL_VAR = "MCP_CONSOLE_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_VAR = "MCP_CONSOLE_REQUIRE_POSTGRES"
REQUIRE_DOCKER_VAR = "MCP_CONSOLE_REQUIRE_DOCKER"
REGISTRY_VAR = "MCP_CONSOLE_TEST_REGISTRY"
AUTH_REGISTRY_VAR = "MCP_CONSOLE_TEST_AUTH_REGISTRY"
REGISTRY_USER_VAR = "MCP_CONSOLE_TEST_REGISTRY_USER"
REGISTRY_PASSWORD_VAR = "MCP_CONSOLE_TEST_REGISTRY_PASSWORD"
REQUIRE_REGISTRY_VAR = "MCP_CONSOLE_REQUIRE_REGISTRY"
REQUIRE_PROMETHEUS_VAR = "MCP_CONSOLE_REQUIRE_PROMETHEUS"
# Test folders that drive the backend's loop; asyncio debug mode reports slow callbacks there.
ASYNCIO_DEBUG_DIRS = ("backend", "gateway", "deploy", "api", "contract")
SLOW_CALLBACK_SECONDS = 0.1
# Just before the per-test timeout (pyproject.toml) fails a stuck test.
STUCK_AFTER_SECONDS = 240.0


def _required(var: str) -> bool:
    """Whether a missing service fails the run: asked for (``var``), or on any CI."""
    return any(
        os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")
        for name in (var, "CI")
    )


def _unavailable(service: str, require_var: str, reason: str, how: str) -> NoReturn:
    """Fail when the run requires ``service``; otherwise skip, saying how to enable it."""
    if _required(require_var):
        why = f"{service} is required ({require_var} or CI set) but unavailable: {reason}"
        pytest.fail(why, False)
    pytest.skip(f"{service} unavailable ({reason}); {how}")


def _in_thread(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a private loop in a worker thread, away from the tests' own loops."""

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _migrate(url: str) -> None:
    # Alembic's env runs its own event loop: keep it off the main thread's loop bookkeeping.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(upgrade_sync, url).result()


# --- markers -------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the services their fixtures need, so ``-m docker``/``-m postgres`` work."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "docker_client" in names:
            item.add_marker(pytest.mark.docker)
        if "postgres_url" in names:
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what tests recorded with ``record_property("summary", ...)`` (such as the
    conformance suite's results), from xdist workers too."""
    for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed"):
        for name, value in report.user_properties:
            if name == "summary":
                terminalreporter.write_sep("-", report.head_line or report.nodeid)
                terminalreporter.write_line(str(value))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that requires Docker and PostgreSQL (CI) fails on any skipped test at all."""
    if hasattr(session.config, "workerinput"):
        return  # the controller sees every worker's results
    if not (_required(REQUIRE_DOCKER_VAR) and _required(REQUIRE_POSTGRES_VAR)):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == pytest.ExitCode.OK:
        for report in skipped:
            print(f"skipped where nothing may be: {report.nodeid}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _required_services(request: pytest.FixtureRequest) -> None:
    """A test marked ``docker`` or ``postgres`` gets the service, or skips/fails before it runs."""
    if request.node.get_closest_marker("postgres") is not None:
        request.getfixturevalue("postgres_url")
    if request.node.get_closest_marker("docker") is not None:
        request.getfixturevalue("docker_client")


@pytest.fixture(autouse=True)
def _asyncio_debug(request: pytest.FixtureRequest) -> None:
    """Backend tests run their loop in debug mode: slow callbacks are logged, not failed."""
    if not pytest_asyncio.is_async_test(request.node):
        return
    path: Path = request.node.path
    if not path.is_relative_to(TESTS_DIR):
        return
    parts = path.relative_to(TESTS_DIR).parts
    if len(parts) > 1 and parts[0] in ASYNCIO_DEBUG_DIRS:
        request.getfixturevalue("_debug_loop")


@pytest_asyncio.fixture
async def _debug_loop() -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_SECONDS
    # A test stuck this long is about to be failed by the per-test timeout: say where each of
    # its tasks waits (the timeout itself can only show the idle event loop).
    watchdog = loop.call_later(STUCK_AFTER_SECONDS, _print_tasks)
    yield
    watchdog.cancel()


def _print_tasks() -> None:
    print(f"--- stuck for {STUCK_AFTER_SECONDS:.0f} s; the loop's tasks:", file=sys.stderr)
    for task in asyncio.all_tasks():
        task.print_stack(limit=12, file=sys.stderr)


# --- services ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The admin URL of a PostgreSQL server for tests (``MCP_CONSOLE_TEST_POSTGRES_URL``)."""
    how = f"set {POSTGRES_URL_VAR}=postgresql+asyncpg://USER@HOST:PORT/postgres or run scripts/test"
    url = os.environ.get(POSTGRES_URL_VAR, "").strip()
    if not url:
        _unavailable("PostgreSQL", REQUIRE_POSTGRES_VAR, f"{POSTGRES_URL_VAR} is not set", how)
    try:
        version = int(_in_thread(lambda: _pg_run(url, "SHOW server_version_num")))
    except Exception as exc:  # refused, timed out, or asyncpg's own (auth, no such database)
        _unavailable("PostgreSQL", REQUIRE_POSTGRES_VAR, f"cannot use {url}: {exc!r}", how)
    if version < 150000:
        _unavailable("PostgreSQL", REQUIRE_POSTGRES_VAR, f"server {version} is older than 15", how)
    return url


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A ``docker.DockerClient`` connected to a running engine."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except DockerException as exc:
        _unavailable(
            "Docker",
            REQUIRE_DOCKER_VAR,
            str(exc),
            "start a Docker engine (dockerd) or run scripts/test",
        )
    try:
        yield client
    finally:
        client.close()


@dataclass(frozen=True)
class Registries:
    """Two image registries on loopback: ``open`` serves anyone, ``auth`` asks for a password."""

    open: str
    auth: str
    user: str
    password: str = field(repr=False)


def _registry_answers(address: str, status: int) -> str | None:
    """Why ``address`` is no registry answering ``/v2/`` with ``status`` (None: it is)."""
    import httpx

    try:
        got = httpx.get(f"http://{address}/v2/", timeout=5).status_code
    except httpx.HTTPError as exc:
        return f"{address} does not answer: {exc!r}"
    return None if got == status else f"{address}/v2/ answered {got}, not {status}"


@pytest.fixture(scope="session")
def registries(docker_client: Any) -> Registries:
    """The image registries started by scripts/test (``MCP_CONSOLE_TEST_REGISTRY`` and
    ``MCP_CONSOLE_TEST_AUTH_REGISTRY`` with its user and password)."""
    how = "run scripts/test, which starts Debian's docker-registry (see scripts/lib/services.sh)"
    values = {
        var: os.environ.get(var, "").strip()
        for var in (REGISTRY_VAR, AUTH_REGISTRY_VAR, REGISTRY_USER_VAR, REGISTRY_PASSWORD_VAR)
    }
    unset = [var for var, value in values.items() if not value]
    if unset:
        _unavailable("An image registry", REQUIRE_REGISTRY_VAR, f"{unset[0]} is not set", how)
    found = Registries(*values.values())
    for address, status in ((found.open, 200), (found.auth, 401)):
        problem = _registry_answers(address, status)
        if problem is not None:
            _unavailable("An image registry", REQUIRE_REGISTRY_VAR, problem, how)
    return found


@pytest.fixture(scope="session")
def prometheus_binary() -> Path:
    """Debian's ``prometheus`` server binary (scripts/test installs it)."""
    found = shutil.which("prometheus")
    if found is None:
        how = "apt-get install prometheus, or run scripts/test (which installs it)"
        _unavailable("Prometheus", REQUIRE_PROMETHEUS_VAR, "no prometheus on PATH", how)
    return Path(found)


# --- PostgreSQL databases ------------------------------------------------------------------


def _with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _pg_run(url: str, statement: str) -> Any:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    engine = create_async_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"timeout": 10}
    )
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


def _new_database_name(kind: str) -> str:
    return f"mcp_console_{kind}_{uuid.uuid4().hex[:12]}"


@contextmanager
def _pg_database(server_url: str, template: str, kind: str = "test") -> Iterator[str]:
    """A new database cloned from ``template``, dropped on exit (even if creating it failed)."""
    name = _new_database_name(kind)
    try:
        _in_thread(lambda: _pg_run(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        yield _with_database(server_url, name)
    finally:
        # FORCE: a test that leaked a connection must not leave its database behind.
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        _in_thread(lambda: _pg_run(server_url, drop))


@pytest.fixture(scope="session")
def _postgres_template(postgres_url: str) -> Iterator[str]:
    """A database migrated to the current head once per session, cloned for each test."""
    with _pg_database(postgres_url, "template0", "template") as url:
        _migrate(url)
        database = make_url(url).database
        assert database is not None
        yield database


def _postgres_database(request: pytest.FixtureRequest, *, migrated: bool) -> Iterator[str]:
    server_url: str = request.getfixturevalue("postgres_url")
    template = request.getfixturevalue("_postgres_template") if migrated else "template0"
    with _pg_database(server_url, template) as url:
        yield url


# --- SQLite databases ----------------------------------------------------------------------


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the current head once per session, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "mcp-console.db"
    _migrate(_sqlite_url(path))
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database file, migrated to head."""
    path = tmp_path / "mcp-console.db"
    for suffix in ("", "-wal"):
        source = _sqlite_template.with_name(_sqlite_template.name + suffix)
        if source.exists():
            shutil.copyfile(source, path.with_name(path.name + suffix))
    return _sqlite_url(path)


DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database migrated to head: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
    else:
        yield from _postgres_database(request, migrated=True)


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no tables at all (for migration tests)."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path / "empty.db")
    else:
        yield from _postgres_database(request, migrated=False)


# --- the backend ---------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for one test: its own data dir and database."""
    # A background runtime serves its gateway on a free port: parallel tests never compete.
    return Settings(data_dir=tmp_path / "data", database_url=database_url, gateway_port=0)


@pytest_asyncio.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A started backend on the test's loop (its database is already migrated)."""
    # Imported here so a test run that needs no backend survives a backend that cannot load.
    from mcp_console.backend.runtime import Runtime

    async with Runtime(settings, migrate=False) as rt:
        yield rt
