"""A deadlock inside ``store.batch()`` (PostgreSQL breaks it) rolls the whole block back and
surfaces as ``ConflictException``, so the caller can run the block again (the OpenLineage
ingest does)."""

from __future__ import annotations

import threading

import pytest

from mllineage.errors import ConflictException
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, fresh_account_id, needs_postgres


@pytest.mark.postgres
@needs_postgres
def test_a_deadlock_in_a_batch_is_a_conflict() -> None:
    assert POSTGRES_URL
    store = SqlStore(POSTGRES_URL, account_id=fresh_account_id())
    try:
        for name in ("a", "b"):
            store.create_context(ContextName=name, ContextType="T", Description="before")
        barrier = threading.Barrier(2, timeout=30)
        outcomes: dict[str, BaseException | None] = {}

        def worker(first: str, second: str) -> None:
            try:
                with store.batch():
                    store.update_context(ContextName=first, Description=f"by {first}")
                    barrier.wait()
                    store.update_context(ContextName=second, Description=f"by {first}")
                outcomes[first] = None
            except BaseException as error:  # noqa: BLE001 - the outcome is what is tested
                outcomes[first] = error

        threads = [threading.Thread(target=worker, args=pair) for pair in (("a", "b"), ("b", "a"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        failed = [k for k, v in outcomes.items() if v is not None]
        assert len(failed) == 1, outcomes
        assert isinstance(outcomes[failed[0]], ConflictException)
        (won,) = set(outcomes) - set(failed)
        for name in ("a", "b"):  # the winner wrote both; the loser's first write was undone
            assert store.describe_context(ContextName=name)["Description"] == f"by {won}"
    finally:
        store.close()
