"""A real ``mllineage serve`` process with OpenLineage API keys, shared by this package's tests
(each test takes an account of its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mllineage.server.testing import ServerProcess
from tests.openlineage.support import Accounts, OlAccount, start_server


@pytest.fixture(scope="session")
def ol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp("openlineage-server") / "lineage.db"
    server = start_server(f"sqlite:///{db}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ol_accounts(ol_server: ServerProcess) -> Accounts:
    return Accounts(ol_server)


@pytest.fixture
def ol_account(ol_accounts: Accounts) -> OlAccount:
    return ol_accounts.take()
