"""Where the reliability tests write: a store several processes open by description.

A :class:`Target` is picklable, so spawned worker processes can open their own connection to
an SQLite file, a PostgreSQL account, or one of several servers in front of either.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mllineage.server.testing import ServerProcess
from mllineage.store.base import Store
from mllineage.store.http import HttpStore
from mllineage.store.sql.group_commit import settle
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, fresh_account_id


@dataclass(frozen=True)
class Target:
    """A SQL store URL and account, or a server URL and an access key."""

    url: str
    account: str = "000000000000"
    access_key: str | None = None
    secret_key: str | None = None

    def open(self) -> Store:
        if self.access_key is None:
            return SqlStore(self.url, account_id=self.account)
        return HttpStore(self.url, access_key=self.access_key, secret_key=self.secret_key)


BACKINGS = ["sqlite-file", "postgres"]


def sql_target(backing: str, tmp_path: Path) -> Target:
    """An empty store on ``backing`` with its schema in place."""
    if backing == "sqlite-file":
        target = Target(f"sqlite:///{tmp_path / 'shared.db'}")
    else:
        assert POSTGRES_URL
        target = Target(POSTGRES_URL, fresh_account_id())
    target.open().close()  # create the schema before any race
    return target


@contextmanager
def server_targets(backing: Target, count: int = 2) -> Iterator[list[Target]]:
    """``count`` server processes on the same store, and one access key (one account) valid
    on all of them; the servers are stopped when the block ends."""
    key, secret = "AKIDRELIABILITY", secrets.token_urlsafe(24)
    credentials = {key: (secret, backing.account)}
    with ExitStack() as stack:
        servers = [
            stack.enter_context(ServerProcess(backing.url, credentials=credentials))
            for _ in range(count)
        ]
        yield [Target(s.url, backing.account, key, secret) for s in servers]


def every_edge(store: Store) -> set[tuple[str, str]]:
    return {
        (a["SourceArn"], a["DestinationArn"])
        for a in store.paginate("list_associations", "AssociationSummaries", MaxResults=100)
    }


def every_artifact(store: Store) -> set[str]:
    return {
        a["ArtifactArn"]
        for a in store.paginate("list_artifacts", "ArtifactSummaries", MaxResults=100)
    }


def new_key() -> str:
    return secrets.token_hex(4)


def table_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of an SQLite file, in a stable order: compare two to prove
    that nothing changed in between."""
    settle(str(path))  # every write that returned is committed
    connection = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }
    finally:
        connection.close()
