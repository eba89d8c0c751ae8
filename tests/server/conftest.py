"""A real server process for the server tests, and clients that talk to it.

One server (SQLite file behind it) serves the whole session; every test gets an access key of
its own account, so tests never see each other's entities.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mllineage.server.testing import ServerProcess
from tests.server.support import POOL_SIZE, REGION, Account, client_for, pool_account

_next_key = itertools.count()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The server every test of this directory talks to (region us-east-1, SigV4 on)."""
    db = tmp_path_factory.mktemp("server") / "lineage.db"
    credentials = {
        a.access_key: (a.secret_key, a.account_id) for a in map(pool_account, range(POOL_SIZE))
    }
    with ServerProcess(
        f"sqlite:///{db}", credentials=credentials, args=["--region", REGION]
    ) as process:
        yield process


def take_account() -> Account:
    """The next unused account of the test server's pool."""
    index = next(_next_key)
    if index >= POOL_SIZE:
        pytest.fail("the test server's pool of access keys is used up; raise POOL_SIZE")
    return pool_account(index)


@pytest.fixture
def account() -> Account:
    """A fresh, empty account on the server."""
    return take_account()


@pytest.fixture
def new_account() -> Callable[[], Account]:
    """Hands out more fresh accounts."""
    return take_account


@pytest.fixture
def sm(server: ServerProcess, account: Account) -> Any:
    """A boto3 SageMaker client of a fresh account."""
    return client_for(server, account)
