"""PostgreSQL connections the server has dropped are replaced before a call uses them, or
the call runs again on a new connection; a connection lost at commit is reported, not retried.

The pool pings a connection at checkout only when it has been idle for
``engine.PING_AFTER_IDLE_SECONDS`` (a ping on every checkout cost a round trip per call).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from mllineage.errors import InternalFailure
from mllineage.store.sql import engine
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, fresh_account_id, needs_postgres


def _drop_then_create(pause: float) -> None:
    """On a new store: make a context, have the server end the pooled connection, wait
    ``pause`` seconds once it is gone, and make another: both must be there."""
    assert POSTGRES_URL
    store = SqlStore(POSTGRES_URL, account_id=fresh_account_id())
    try:
        store.create_context(ContextName="before", ContextType="Run")
        with store.db.engine.connect() as conn:  # the pool's one connection, given back
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            killed = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
            assert killed == (True,)
            gone = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
            while admin.execute(gone, (pid,)).fetchone():
                time.sleep(0.01)
        time.sleep(pause)
        store.create_context(ContextName="after", ContextType="Run")
        names = {c["ContextName"] for c in store.list_contexts()["ContextSummaries"]}
        assert names == {"before", "after"}
    finally:
        store.close()


@needs_postgres
def test_a_connection_the_server_dropped_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle past the threshold: the ping at checkout finds it dead."""
    monkeypatch.setattr(engine, "PING_AFTER_IDLE_SECONDS", 0.2)
    _drop_then_create(pause=0.3)


@needs_postgres
def test_a_call_on_a_connection_dropped_just_now_runs_again() -> None:
    """Within the idle time no ping runs: the call meets the dropped connection, and runs
    once more on a new one (its transaction was never committed)."""
    _drop_then_create(pause=0)


@needs_postgres
def test_a_connection_lost_at_commit_is_reported_not_run_again() -> None:
    """A commit whose connection drops may or may not have landed: the call fails (once)
    instead of being run again."""
    assert POSTGRES_URL
    store = SqlStore(POSTGRES_URL, account_id=fresh_account_id())
    runs = []

    def idle_until_dropped(conn: Any) -> None:
        runs.append(1)
        conn.exec_driver_sql("SET idle_in_transaction_session_timeout = '50ms'")
        conn.exec_driver_sql("SELECT 1")
        time.sleep(0.5)  # the server ends the session meanwhile

    try:
        with pytest.raises(InternalFailure, match="lost while committing"):
            store.db.run(idle_until_dropped, write=True)
        assert runs == [1]
        store.create_context(ContextName="after", ContextType="Run")  # the pool recovered
    finally:
        store.close()


@needs_postgres
def test_server_settings_in_the_url_reach_every_connection() -> None:
    # The README's per-call trade: ?options=-csynchronous_commit%3Doff on the store's URL.
    assert POSTGRES_URL
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csynchronous_commit%3Doff"
    store = SqlStore(url, account_id=fresh_account_id())
    try:
        store.create_context(ContextName="quick", ContextType="Run")
        setting = "SHOW synchronous_commit"
        assert store.db.run(lambda c: c.exec_driver_sql(setting).scalar(), write=True) == "off"
        assert [c["ContextName"] for c in store.list_contexts()["ContextSummaries"]] == ["quick"]
    finally:
        store.close()
