"""Fixtures shared by the suite: a fresh store on every backend, and stores built alongside it.

Each test gets an empty store. SQLite backends get a new database per test; PostgreSQL shares
one database (and one engine) for the whole session and isolates tests by account: each test
sees the database through ``bind(account_id=...)`` with an account no other test uses.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mllineage.store.base import Store
from mllineage.store.sql.store import SqlStore

POSTGRES_URL = os.environ.get("MLLINEAGE_TEST_POSTGRES_URL")
NO_POSTGRES = "MLLINEAGE_TEST_POSTGRES_URL is not set"

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)

# Every backend the contract suite runs on, in one list. To add one, append its param here and
# a branch to open_backend() and other_account_of(). The HTTP store goes here:
# pytest.param("http", id="http") -> an HttpStore talking to a real `mllineage serve` process.
BACKENDS = [
    pytest.param("sqlite-memory", id="sqlite-memory"),
    pytest.param("sqlite-file", id="sqlite-file"),
    pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, needs_postgres]),
]

StoreFactory = Callable[..., Store]


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
    raise NotImplementedError(f"no second account for {type(store).__name__}")


@pytest.fixture
def other_account(store: Store) -> Store:
    """The same database as ``store``, seen by another account."""
    return other_account_of(store)
