"""Fixtures shared by the suite: a fresh store on every backend, and stores built alongside it.

Each test gets an empty store. SQLite backends get a new database per test; PostgreSQL shares
one database (and one engine) for the whole session and isolates tests by account: each test
sees the database through ``bind(account_id=...)`` with an account no other test uses.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from mllineage.store.base import Store
from mllineage.store.http import HttpStore
from mllineage.store.sql.store import SqlStore
from tests.server.support import HttpBackend, other_http_account

# Hypothesis checks behaviour here, not speed: on a loaded 2-core machine its deadline and
# too-slow health check failed examples that were right, only late.
settings.register_profile("mllineage", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("mllineage")

POSTGRES_URL = os.environ.get("MLLINEAGE_TEST_POSTGRES_URL")
NO_POSTGRES = "MLLINEAGE_TEST_POSTGRES_URL is not set"

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)

# Every backend the contract suite runs on, in one list. To add one, append its param here and
# a branch to open_backend() and other_account_of(). "http" and "http-postgres" are HttpStores
# talking to a real `mllineage serve` process with SQLite or PostgreSQL behind it.
BACKENDS = [
    pytest.param("sqlite-memory", id="sqlite-memory"),
    pytest.param("sqlite-file", id="sqlite-file"),
    pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, needs_postgres]),
    pytest.param("http", id="http"),
    pytest.param("http-postgres", id="http-postgres", marks=[pytest.mark.postgres, needs_postgres]),
]

StoreFactory = Callable[..., Store]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per reason for the skipped tests (e.g. the PostgreSQL half without
    ``MLLINEAGE_TEST_POSTGRES_URL``), instead of a line per test."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count} skipped: {reason}")


def fresh_account_id() -> str:
    """A 12-digit account no other test uses."""
    return f"{uuid.uuid4().int % 10**12:012d}"


@pytest.fixture(scope="session")
def postgres_store() -> Iterator[SqlStore]:
    """One store (one engine, one schema check) on the test PostgreSQL for the whole session."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    store = SqlStore(POSTGRES_URL)
    yield store
    store.close()


@pytest.fixture(scope="session")
def http_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpBackend]:
    """A server process on an SQLite file for the whole session; each store is an account."""
    db = tmp_path_factory.mktemp("http-backend") / "lineage.db"
    backend = HttpBackend(f"sqlite:///{db}").start()
    yield backend
    backend.stop()


@pytest.fixture(scope="session")
def http_postgres_backend() -> Iterator[HttpBackend]:
    """A server process on the test PostgreSQL for the whole session."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    backend = HttpBackend(POSTGRES_URL).start()
    yield backend
    backend.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test."""
    return str(request.param)


def open_backend(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, **options: Any
) -> Store:
    """A new, empty store on ``backend``; ``options`` go to the store (e.g. query_timeout)."""
    if backend == "sqlite-memory":
        return SqlStore("sqlite://", **options)
    if backend == "sqlite-file":
        return SqlStore(f"sqlite:///{tmp_path / f'lineage-{uuid.uuid4().hex[:8]}.db'}", **options)
    if backend == "postgres":
        assert POSTGRES_URL
        if not options:  # the cheap way: the session's engine, seen as a fresh account
            shared: SqlStore = request.getfixturevalue("postgres_store")
            return shared.bind(account_id=fresh_account_id())
        return SqlStore(POSTGRES_URL, account_id=fresh_account_id(), **options)
    if backend in ("http", "http-postgres"):
        if options:
            pytest.skip(f"{', '.join(options)}: options of SqlStore, not settable through HTTP")
        fixture = "http_backend" if backend == "http" else "http_postgres_backend"
        server: HttpBackend = request.getfixturevalue(fixture)
        return server.open()
    raise ValueError(f"unknown backend {backend!r}")


@pytest.fixture
def make_store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StoreFactory]:
    """Build more empty stores on the backend under test, e.g. ``make_store(query_timeout=0)``;
    they are closed when the test ends."""
    opened: list[Store] = []

    def make(**options: Any) -> Store:
        store = open_backend(backend, request, tmp_path, **options)
        opened.append(store)
        return store

    yield make
    for store in reversed(opened):
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> Store:
    """An empty store on each backend."""
    return make_store()


def other_account_of(store: Store) -> Store:
    """The database behind ``store`` seen by another account."""
    if isinstance(store, SqlStore):
        return store.bind(account_id=fresh_account_id())
    if isinstance(store, HttpStore):
        return other_http_account(store)
    raise NotImplementedError(f"no second account for {type(store).__name__}")


@pytest.fixture
def other_account(store: Store) -> Store:
    """The same database as ``store``, seen by another account."""
    return other_account_of(store)
