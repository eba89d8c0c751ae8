"""Engines, transactions and schema checks for SQLite and PostgreSQL."""

from __future__ import annotations

import contextvars
import operator
import random
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, Table, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.pool import StaticPool

from mllineage.errors import ConflictException, InternalFailure
from mllineage.store.sql import group_commit
from mllineage.store.sql.graph_cache import GraphCache
from mllineage.store.sql.group_commit import CAPTURE

T = TypeVar("T")

HEAD_REVISION = "0006"
SQLITE_BUSY_TIMEOUT_SECONDS = 60.0
PING_AFTER_IDLE_SECONDS = 1.0  # a PostgreSQL connection idle this long is checked before use
_RETRIES = 8

# PostgreSQL advisory lock taken by every writer of associations: it serialises the DAG check
# so that two racing writers can never close a cycle together.
DAG_LOCK_KEY = 0x6D6C6C696E656167  # "mllineag"


_NAMED = re.compile(r"(?<!:):(\w+)")  # a :name placeholder (not a ::cast)

# Python 3.11's sqlite3 binds a None by first asking the adapter registry, then the prepare
# protocol and the value itself for an adapter, two failed attribute lookups: ~0.45 µs per
# None, a third of a bulk entity insert (a row holds five or six). An adapter registered for
# None answers the first question (``{}.get(None)`` is None, which binds NULL, as before).
# 3.12 binds None directly. Nothing else changes, in this process or in the database.
if sys.version_info < (3, 12):
    sqlite3.adapters.setdefault((type(None), sqlite3.PrepareProtocol), {}.get)


class Statement:
    """A hot-path statement sent straight to the driver.

    SQLAlchemy Core spends ~30 µs per statement on compiling, parameter processing and result
    set-up, several times what SQLite takes to run one of these, and the single-item writes
    run four or five per call. Written once with ``:name`` placeholders and run with dicts;
    SQLite gets them numbered (``?1``) with a tuple of the values (binding by name costs the
    driver a lookup per parameter, a fifth of a 19-column insert, and the group commit's
    journal keeps the same tuple: writing a dict's keys in every record costs as much as its
    values), psycopg gets ``%(name)s`` and the dict. Driver errors surface as SQLAlchemy's
    ``DBAPIError`` subclasses, as they would through Core, so callers and the retry of
    transient conflicts in ``Database.run`` see the same exceptions.
    """

    def __init__(self, sql: str, *, named: bool = True) -> None:
        """``named=False``: ``sql`` has ``?`` placeholders, run with tuples (no ``:name`` is
        looked for: its literals may hold colons)."""
        self.sql = self.numbered = sql
        self.pyformat = sql.replace("?", "%s")
        self.names: tuple[str, ...] = ()
        if named:
            self.names = tuple(dict.fromkeys(_NAMED.findall(sql)))
            self.numbered = _NAMED.sub(lambda m: f"?{self.names.index(m[1]) + 1}", sql)
            self.pyformat = _NAMED.sub(r"%(\1)s", sql)
        self._get_values = operator.itemgetter(*self.names) if self.names else None
        # Writes are journaled by a group commit (see group_commit.py).
        self.writes = sql.split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")

    def run(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Execute on ``conn``'s transaction; returns the driver's cursor."""
        driver = conn.connection.dbapi_connection
        values = self._values(params) if self.names and conn.dialect.name == "sqlite" else params
        cursor = self._guarded(conn, driver.execute, values)  # type: ignore[union-attr]
        self._journal(values, False, cursor.rowcount)
        return cursor

    def run_many(self, conn: Connection, rows: Sequence[Mapping[str, Any] | Sequence[Any]]) -> None:
        """Execute once per row through the driver's ``executemany`` (bulk writes); rows are
        dicts, or tuples for a :class:`RowInsert`."""
        if not rows:
            return
        if self.names and conn.dialect.name == "sqlite":
            rows = [self._values(row) for row in rows]  # type: ignore[arg-type]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            self._guarded(conn, cursor.executemany, rows)
            self._journal(rows, True, cursor.rowcount)
        finally:
            cursor.close()

    def _values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values of the numbered placeholders, in order."""
        if len(self.names) == 1:  # (itemgetter of one name returns the value itself)
            return (params[self.names[0]],)
        return self._get_values(params)  # type: ignore[misc,no-any-return]

    def _journal(self, params: Any, many: bool, changed: int) -> None:
        """Hand a write to the group commit's capture of the call under way, if any."""
        if self.writes:
            capture = CAPTURE.get()
            if capture is not None:
                capture.add(self.numbered, params, many, changed)

    def _guarded(
        self, conn: Connection, call: Callable[[str, Any], Any], params: Any, sql: str | None = None
    ) -> Any:
        if sql is None:
            sql = self.numbered if conn.dialect.name == "sqlite" else self.pyformat
        try:
            return call(sql, params)
        except conn.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(
                sql, params, error, conn.dialect.loaded_dbapi.Error
            ) from error

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.run(conn, params).fetchone()
        return row


def insert_into(table: Table) -> Statement:
    """``INSERT INTO table (every column but the id) VALUES (:column, ...)``."""
    columns = [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]
    return Statement(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})"
    )


class RowInsert(Statement):
    """``INSERT INTO table (columns) VALUES (?, ...)`` for ``run_many`` on tuples (the drivers
    bind a tuple faster than a dict, which counts at bulk sizes). On PostgreSQL the rows go in
    with one ``COPY``: one statement instead of one per row."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table.name
        self.columns = tuple(columns)
        names = ", ".join(columns)
        super().__init__(
            f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})",
            named=False,
        )
        self.copy = f"COPY {table.name} ({names}) FROM STDIN"

    def run_many(
        self,
        conn: Connection,
        rows: Sequence[Mapping[str, Any] | Sequence[Any]],
        same: Sequence[str] = (),
    ) -> None:
        """Insert ``rows``. ``same`` names columns that hold the same value in every row (the
        caller's promise): on SQLite the statement carries their values as literals instead
        of binding them row by row. The driver takes ~0.3 µs to bind a value, and a bulk
        call's rows share their scope, times and people: a third of an entity row's values,
        a third of its insert."""
        literal = self._with_literals(conn, rows[0], same) if same and len(rows) > 1 else None
        if literal is not None:
            statement, varying = literal
            statement.run_many(conn, list(map(varying, rows)))
            return
        if conn.dialect.name != "postgresql" or not rows:
            super().run_many(conn, rows)
            return
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

        def copy_rows(sql: str, rows: Sequence[Any]) -> None:
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)

        try:
            self._guarded(conn, copy_rows, rows, self.copy)
        finally:
            cursor.close()

    def _with_literals(
        self, conn: Connection, row: Any, same: Sequence[str]
    ) -> tuple[Statement, Callable[[Any], Sequence[Any]]] | None:
        """On SQLite, this insert with the values of ``same`` (as ``row`` holds them) written
        in as SQL literals, and what picks the other values out of a row. SQLite's ``quote()``
        writes the literals, so they read back exactly as the bound values would. None on
        PostgreSQL, or for a text with a NUL (which SQL text cannot carry)."""
        fixed = [self.columns.index(name) for name in same]
        if conn.dialect.name != "sqlite" or any(
            isinstance(row[i], str) and "\x00" in row[i] for i in fixed
        ):
            return None
        driver = conn.connection.dbapi_connection
        assert driver is not None
        quoted = driver.execute(
            f"SELECT {', '.join('quote(?)' for _ in fixed)}", [row[i] for i in fixed]
        ).fetchone()
        literals = dict(zip(fixed, quoted, strict=True))
        values = ", ".join(literals.get(i, "?") for i in range(len(self.columns)))
        statement = Statement(
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({values})", named=False
        )
        varying = [i for i in range(len(self.columns)) if i not in literals]
        if len(varying) == 1:  # (itemgetter of one index returns the value itself)
            return statement, lambda r: (r[varying[0]],)
        return statement, operator.itemgetter(*varying)


_BEGIN_WRITE = Statement("BEGIN IMMEDIATE")
_BEGIN_READ = Statement("BEGIN")


class SchemaOutOfDate(InternalFailure):
    """The database was written by another version of mllineage."""


def normalise_url(url: str) -> str:
    """Map the URLs users type to SQLAlchemy URLs with mllineage's drivers."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    sa_url = make_url(normalise_url(url))
    if sa_url.get_backend_name() == "sqlite":
        return _sqlite_engine(sa_url.database)
    if sa_url.get_backend_name() == "postgresql":
        return _postgres_engine(create_engine(sa_url, pool_size=5, max_overflow=10))
    raise ValueError(
        f"url {url!r} is not supported: use sqlite:///path.db, postgresql://... or http(s)://..."
    )


def _postgres_engine(engine: Engine) -> Engine:
    """Check a pooled connection before use only when it has been idle a while.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one round trip of the eight a
    single-item write made. A connection in steady use is alive; one that has sat in the pool for
    ``PING_AFTER_IDLE_SECONDS`` (a server restart, an idle timeout) is pinged, and replaced
    when the ping fails."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"a pooled connection is gone: {error}") from error

    return engine


def _sqlite_engine(database: str | None) -> Engine:
    in_memory = not database or database == ":memory:"
    if in_memory:
        # One shared connection, so every user of the engine sees the same database.
        engine = create_engine(
            "sqlite://",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        assert database is not None
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            f"sqlite:///{Path(database).expanduser()}",
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (BEGIN IMMEDIATE for writers), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            # Checkpoints (with their fsyncs) dominate the cost of small commits: let the WAL
            # grow to ~40 MB between them instead of SQLite's default ~4 MB. The group
            # commit's writes are checkpointed sooner, by a thread (checkpoints.py).
            cursor.execute("PRAGMA wal_autocheckpoint=10000")
        # WAL + NORMAL: a committed write survives a crash of the process (not of the OS).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    return engine


def _is_transient(error: DBAPIError) -> bool:
    """Errors that a retry of the whole transaction can cure."""
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01"):  # serialization failure, deadlock detected
        return True
    message = str(orig).lower()
    return isinstance(error, OperationalError) and (
        "database is locked" in message or "database table is locked" in message
    )


class Database:
    """An engine plus the one transaction helper every store operation goes through."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self.is_sqlite = self.dialect == "sqlite"
        self._memory_lock = threading.RLock() if self._in_memory() else None
        on_file = self.is_sqlite and not self._in_memory()
        self.graph_cache = GraphCache(self.engine.url.database or "") if on_file else None
        path = str(Path(self.engine.url.database or "").expanduser())
        self.group = (
            group_commit.writer_for(path, lambda: _sqlite_engine(path)) if on_file else None
        )
        self._batch: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
            f"mllineage_batch_{id(self)}", default=None
        )

    def _in_memory(self) -> bool:
        return self.is_sqlite and not self.engine.url.database

    def dispose(self) -> None:
        if self.group is not None:
            group_commit.release(self.group)
            self.group = None
        if self.graph_cache is not None:
            self.graph_cache.close()
        self.engine.dispose()

    def in_batch(self) -> bool:
        """A :meth:`batch` is open here: reads see its uncommitted writes."""
        return self._batch.get() is not None

    @contextmanager
    def _connection(self, write: bool) -> Iterator[Connection]:
        if self._memory_lock is not None:
            self._memory_lock.acquire()
        try:
            if self.group is not None:
                if write:
                    self.group.flush()  # a batch comes after this process's writes
                else:
                    self.group.before_read()  # reads see every write that has returned
            with self.engine.connect() as conn:
                # Explicit, so that commit() commits what statements sent straight to the
                # driver (core.Statement) wrote; SQLAlchemy's begin sends nothing itself.
                conn.begin()
                if self.is_sqlite and write:
                    # IMMEDIATE takes the write lock up front: writers queue on the busy
                    # timeout instead of failing with "database is locked" on lock upgrade.
                    with self.group.waiting_for_lock() if self.group else nullcontext():
                        _BEGIN_WRITE.run(conn, {})
                    if self.group is not None:
                        self.group.recover(conn)
                elif self.is_sqlite:
                    _BEGIN_READ.run(conn, {})
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                try:
                    conn.commit()
                except DBAPIError as error:
                    if error.connection_invalidated:  # (not for run() to try again)
                        raise InternalFailure(
                            "the connection to the database was lost while committing: "
                            "the call may or may not have been applied"
                        ) from error
                    raise
        finally:
            if self._memory_lock is not None:
                self._memory_lock.release()

    def run(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``fn`` in one transaction: commit on success, roll back on any error.

        Inside :meth:`batch` the batch's transaction is used. Transient conflicts (a deadlock,
        a serialization failure, a lock that timed out) are retried with back-off; after the
        last try they surface as ``ConflictException``.
        """
        batch_conn = self._batch.get()
        if batch_conn is not None:
            # A savepoint per call: a refused call inside a batch changes nothing, and the
            # batch's transaction stays usable (PostgreSQL aborts a transaction on any error).
            with batch_conn.begin_nested():
                return fn(batch_conn)
        for attempt in range(_RETRIES):
            try:
                if write and self.group is not None:
                    return self.group.call(fn)
                with self._connection(write) as conn:
                    return fn(conn)
            except DBAPIError as error:
                if error.connection_invalidated and attempt == 0:
                    # The server dropped the connection (a restart, an idle timeout, a
                    # terminated backend) before the transaction committed, so it was rolled
                    # back: run it once more, on a new connection.
                    continue
                if not _is_transient(error):
                    raise InternalFailure(f"database error: {error.orig}") from error
                if attempt == _RETRIES - 1:
                    raise ConflictException(
                        f"the call conflicted with concurrent writers {_RETRIES} times; retry it"
                    ) from error
                time.sleep(min(0.5, 0.005 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One write transaction around every store call made in the block.

        A transient conflict inside it (a deadlock PostgreSQL broke) rolls the whole block
        back and surfaces as ``ConflictException``: the caller may run the block again."""
        if self._batch.get() is not None:
            yield  # nested: the outer batch commits
            return
        try:
            with self._connection(write=True) as conn:
                token = self._batch.set(conn)
                try:
                    yield
                finally:
                    self._batch.reset(token)
        except DBAPIError as error:
            if not _is_transient(error):
                raise
            raise ConflictException(
                "the batch conflicted with concurrent writers and was rolled back; run it again"
            ) from error

    # -- schema -----------------------------------------------------------------------------
    def current_revision(self, conn: Connection) -> str | None:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def ensure_schema(self, *, upgrade: bool = False) -> str | None:
        """Create the schema in an empty database; refuse one that is out of date.

        Args:
            upgrade: also migrate an existing database to the current schema.
        Returns:
            The schema revision the database had (None: it was empty).
        Raises:
            SchemaOutOfDate: the database needs ``mllineage db upgrade`` (or a newer mllineage).
        """
        with self.engine.connect() as conn:
            revision = self.current_revision(conn)
            conn.rollback()
        if revision == HEAD_REVISION:
            if self.group is not None:
                self.group.before_read()  # applies what a process that died left behind
            return revision
        if revision is not None and not upgrade:
            raise SchemaOutOfDate(
                f"the database {self.engine.url.render_as_string(hide_password=True)} has "
                f"schema revision {revision}, this mllineage needs {HEAD_REVISION}: run "
                "`mllineage db upgrade` (back it up first), or install the mllineage that wrote it"
            )
        self.run(self._migrate, write=True)
        return revision

    def _migrate(self, conn: Connection) -> None:
        if not self.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": DAG_LOCK_KEY})
        if self.current_revision(conn) == HEAD_REVISION:
            return  # another process got here first
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", "mllineage.store.sql:migrations")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
