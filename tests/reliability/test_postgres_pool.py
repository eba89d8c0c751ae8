"""PostgreSQL connections the server has dropped are replaced before a call uses them.

The pool pings a connection at checkout only when it has been idle for
``engine.PING_AFTER_IDLE_SECONDS`` (a ping on every checkout cost a round trip per call).
"""

from __future__ import annotations

import time

import psycopg
import pytest

from mllineage.store.sql import engine
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, fresh_account_id, needs_postgres


@needs_postgres
def test_a_connection_the_server_dropped_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    assert POSTGRES_URL
    monkeypatch.setattr(engine, "PING_AFTER_IDLE_SECONDS", 0.2)
    store = SqlStore(POSTGRES_URL, account_id=fresh_account_id())
    try:
        store.create_context(ContextName="before", ContextType="Run")
        with store.db.engine.connect() as conn:  # the pool's one connection, given back
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        time.sleep(0.3)
        store.create_context(ContextName="after", ContextType="Run")
        names = {c["ContextName"] for c in store.list_contexts()["ContextSummaries"]}
        assert names == {"before", "after"}
    finally:
        store.close()
