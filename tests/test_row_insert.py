"""``RowInsert.run_many`` with values every row shares: written into the statement on SQLite,
bound on PostgreSQL; what reads back is what was given either way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from mllineage.store.sql.engine import RowInsert
from mllineage.store.sql.schema import changes
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, needs_postgres
from tests.helpers import unique

INSERT = RowInsert(changes, ("at", "scope", "arn", "peer_arn", "op", "actor", "detail"))


@pytest.fixture(
    params=[
        "memory",
        "file",
        pytest.param("postgres", marks=needs_postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    url = {
        "memory": "sqlite://",
        "file": f"sqlite:///{tmp_path / 'rows.db'}",
        "postgres": POSTGRES_URL,
    }[request.param]
    assert url is not None
    store = SqlStore(url)
    yield store
    store.close()


@pytest.mark.parametrize(
    "shared",
    [
        ("arn:aws:sagemaker:us-west-2:1:", '{"UserProfileName":"o\'brien :name ?1 \\"q\\""}'),
        ("scope with a NUL \x00 in it", "{}"),
        ("", "\u00fc\u20ac\U0001f600"),
    ],
    ids=["quotes-colons-placeholders", "nul", "empty-and-non-ascii"],
)
def test_shared_values_read_back_as_given(store: SqlStore, shared: tuple[str, str]) -> None:
    scope, actor = shared
    arn = unique("arn:row/")
    rows: list[tuple[Any, ...]] = [
        (7, scope, arn, None if i % 2 else f"peer-{i}", "Op", actor, f'{{"i": {i}}}')
        for i in range(5)
    ]
    if "\x00" in scope and not store.db.is_sqlite:
        pytest.skip("PostgreSQL text cannot hold a NUL")
    shared_columns = ("at", "scope", "op", "actor")
    store.db.run(lambda conn: INSERT.run_many(conn, rows, shared_columns), write=True)
    read = store.db.run(
        lambda conn: conn.execute(
            text(
                "SELECT at, scope, arn, peer_arn, op, actor, detail FROM changes"
                " WHERE arn = :arn ORDER BY id"
            ),
            {"arn": arn},
        ).all(),
        write=False,
    )
    assert [tuple(row) for row in read] == rows
