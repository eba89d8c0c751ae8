"""Group commit for an SQLite file: each call durable when it returns, commits shared.

A commit appends every page its transaction changed to the WAL (10-12 pages for one create),
which is most of what a single write costs. So the calls on an SQLite file share transactions:
the first call of a *group* takes the write lock (``BEGIN IMMEDIATE``) and every call runs in
the group's transaction. Before a call returns, what it wrote is appended to a
journal next to the database (``<db>-mllineage``) as one checksummed record: once ``write()``
has returned, the record survives a crash of the process (as a WAL commit with
``synchronous=NORMAL`` does; neither survives a crash of the OS). The group commits after
``GROUP_SECONDS`` or ``GROUP_CALLS`` calls, before any read by this process (which so reads
its own writes), before a batch, at close, before a fork and at exit. A call that fails
after it wrote is undone by rolling the group back and replaying the group's records (as
recovery does, below); one that fails before it wrote (most refusals) leaves the group as it
is.

Readers: a group holds an exclusive ``flock`` on the journal from its first call until it has
committed and emptied the journal; a read in any process takes (and drops) a shared one first,
so it sees every call that has returned. A reader of this process commits the group instead.

Recovery: the database's ``user_version`` is the number of the last group that journaled
calls, and every record carries its group's number. A journal that is not empty when no group
holds it belongs to a process that died: the next reader or writer (and every process that
opens the store) replays, under the write lock, the records of the group after the last
committed one, in one transaction with its own writes; records of committed groups (a death
between commit and emptying) are dropped. Only the write lock's holder appends, and the
journal is emptied only by the group that holds it or under the write lock with every record
committed, so no process cuts records another one is writing.

Only writes made through ``engine.Statement`` are journaled. A call that wrote anything else
(SQLAlchemy Core statements: the connection's ``total_changes`` tells) or more than
``RECORD_MAX_ROWS`` rows commits the group before it returns: correct, just not grouped.

Checkpoints: after each commit a thread of the writer copies the WAL into the database file
(``checkpoints.py``), so that no call pays for it.

Fairness: a group holds the write lock for up to ``GROUP_SECONDS`` and takes it again at
once for the next call, which would starve other processes' writers (SQLite's busy handler
polls). A writer waiting for the lock holds a shared ``flock`` on a second file (``-wait``);
a group that ends with a writer waiting lets that writer in before it begins the next one.
"""

from __future__ import annotations

import atexit
import contextvars
import fcntl
import json
import logging
import marshal
import os
import sqlite3
import struct
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from mllineage.errors import InternalFailure
from mllineage.store.sql.checkpoints import BackgroundCheckpoints

T = TypeVar("T")
log = logging.getLogger(__name__)

GROUP_SECONDS = 0.01  # MLLINEAGE_GROUP_COMMIT_MS sets it; 0 commits every call by itself
GROUP_CALLS = 1000
RECORD_MAX_ROWS = 200
IDLE_SECONDS = 1.0  # the committing thread ends after this long without a group
_MARK_MODULUS = 2**31  # user_version is a signed 32-bit integer
_HEADER = struct.Struct("<4sIII")  # magic, group, payload length, CRC-32 of the payload
# Records are in marshal's format, which writes the call's strings and numbers in a third of
# the time JSON takes (a record per call); the journal is only read back by mllineage, right
# after a crash, and ``marshal.loads`` reads the formats of every Python 3 since 3.4. (It is
# not safe against crafted input: whoever can write the journal can write the database.)
_MAGIC = b"MLJ2"
#: Decoders by magic: the JSON records (``MLJ1``) of earlier builds are replayed all the same.
_DECODERS: dict[bytes, Callable[[bytes], Any]] = {_MAGIC: marshal.loads, b"MLJ1": json.loads}
#: This process's id, kept by a fork hook: every call checks it, and ``os.getpid()`` is a
#: system call.
_PID = os.getpid()


class Capture:
    """What one call wrote through ``engine.Statement``: the journal record's statements."""

    __slots__ = ("statements", "rows", "complete")

    def __init__(self) -> None:
        # (sql, parameters, many), as run: the parameters are the statement's own tuple (or
        # list of rows), made for the driver
        self.statements: list[tuple[str, Any, bool]] = []
        self.rows = 0  # rows changed by the captured statements
        self.complete = True  # False: too big for a record

    def unrecordable(self) -> None:
        """The call changes what no record can replay (the schema): never journal it."""
        self.complete = False
        self.statements.clear()

    def add(self, sql: str, params: Any, many: bool, changed: int) -> None:
        self.rows += changed
        if not self.complete:
            return
        if self.rows > RECORD_MAX_ROWS:
            self.complete = False
            self.statements.clear()
            return
        self.statements.append((sql, params, many))

    def record(self, group: int) -> bytes | None:
        """The journal record, or None when the call cannot be replayed from one."""
        if not self.complete:
            return None
        try:
            payload = marshal.dumps(self.statements)
        except ValueError:  # a parameter of a type marshal does not write
            return None
        return _HEADER.pack(_MAGIC, group, len(payload), zlib.crc32(payload)) + payload


#: The capture of the call under way in this thread: ``engine.Statement`` adds its writes.
CAPTURE: contextvars.ContextVar[Capture | None] = contextvars.ContextVar(
    "mllineage_capture", default=None
)
#: What the calls of the open group keep for one another (``deferred.take_log_id`` keeps its
#: block of change ids there), for the call under way in this thread. It starts empty with
#: each group and is emptied when a call fails: it may hold nothing a rollback undoes.
GROUP_STATE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "mllineage_group_state", default=None
)


def read_records(data: bytes) -> Iterator[tuple[int, list[Any], int]]:
    """The whole records at the start of ``data``: (group, statements, the offset after the
    record). A torn or damaged record ends the journal there: it belongs to a call that never
    returned."""
    offset = 0
    while offset + _HEADER.size <= len(data):
        magic, group, length, crc = _HEADER.unpack_from(data, offset)
        payload = data[offset + _HEADER.size : offset + _HEADER.size + length]
        decode = _DECODERS.get(magic)
        if decode is None or len(payload) != length or zlib.crc32(payload) != crc:
            return
        offset += _HEADER.size + length
        yield group, decode(payload), offset


def next_group(mark: int) -> int:
    return (mark + 1) % _MARK_MODULUS


class GroupWriter:
    """The shared write transaction of one SQLite file in this process.

    One per file and process (see :func:`writer_for`), whichever sessions use the file, so
    that every session of the process reads what any of them wrote.
    """

    def __init__(self, engine: Engine, database_path: str) -> None:
        self.engine = engine
        self.database_path = database_path
        self.journal_path = journal_path(database_path)
        self.waiting_path = self.journal_path + "-wait"
        self.users = 0
        self.mutex = threading.RLock()
        self._wake = threading.Event()  # set: a group has begun while the thread idled
        self._conn: Connection | None = None
        self._fds: dict[str, int] = {}
        self._pid = _PID
        self._group: int | None = None  # the open group's number
        self._state: dict[str, Any] = {}  # GROUP_STATE of the open group
        self._calls = 0
        self._deadline = 0.0
        self._end = 0  # the journal's size after this process's last append
        self._thread: threading.Thread | None = None
        self._closed = False
        self._depth = 0  # calls of this thread under way (a call may make another)
        self._idle = False  # the committing thread waits for a group to begin
        self.group_seconds = group_seconds()
        self._checkpoints = BackgroundCheckpoints(database_path)
        _WRITERS.add(self)

    # -- the calls ---------------------------------------------------------------------------
    def call(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in the open group (beginning one if needed); journal what it wrote, or
        commit before returning when it cannot be journaled. A failure undoes what ``fn``
        wrote, and nothing else (see :meth:`_abandon`)."""
        with self.mutex:
            if self._depth:  # made by a call under way: part of it
                assert self._conn is not None
                return fn(self._conn)
            self._check_pid()
            if self._group is not None and (
                self._calls >= GROUP_CALLS or time.monotonic() >= self._deadline
            ):
                self._commit()
            if self._group is None:
                self._begin()
            conn = self._conn
            assert conn is not None
            driver = conn.connection.dbapi_connection
            assert driver is not None
            capture = Capture()
            before = driver.total_changes
            token = CAPTURE.set(capture)
            state_token = GROUP_STATE.set(self._state)
            self._depth += 1
            try:
                result = fn(conn)
            except BaseException:
                self._state.clear()
                if driver.total_changes != before or not capture.complete:
                    self._abandon()  # (the call wrote before it failed)
                raise
            finally:
                self._depth -= 1
                CAPTURE.reset(token)
                GROUP_STATE.reset(state_token)
            changed = driver.total_changes - before
            if changed == 0:
                return result
            assert self._group is not None
            record = (
                capture.record(self._group)
                if changed == capture.rows and self.group_seconds > 0
                else None
            )
            if record is None:
                self._commit(raise_errors=True)
                return result
            try:
                self._append(record)
            except BaseException:  # (a full disk): the call fails, so it must not commit
                self._state.clear()
                self._abandon()
                raise
            self._calls += 1
            return result

    def _abandon(self) -> None:
        """Undo a call that failed after it wrote: roll the group back, then begin a new one,
        which replays the group's journaled calls (every call that returned), as it would
        after a crash. A failed call that wrote nothing leaves the group as it is; so no call
        pays for a savepoint (which costs a sixth of a single create: every page the call
        changes is copied first)."""
        conn = self._conn
        assert conn is not None
        self._group = None
        try:
            conn.rollback()
        finally:
            fcntl.flock(self._descriptor("journal", self.journal_path), fcntl.LOCK_UN)
        try:
            self._begin(replaying_own=True)
        except Exception as error:  # (the journal keeps the calls: the next group replays them)
            log.warning("mllineage: could not begin a group after a failed call: %s", error)

    def flush(self) -> None:
        """Commit the open group, if any (before a read, a batch, a fork, the end)."""
        if self._group is None:
            return
        with self.mutex:
            if self._group is not None:
                self._commit(raise_errors=True)

    def before_read(self) -> None:
        """Before a read transaction on the file: commit this process's group, wait for the
        group of another process to commit (at most GROUP_SECONDS), and apply what a process
        that died left in the journal."""
        with self.mutex:
            if self._depth:  # a read inside a call: the call's group must stay open
                return
            self._check_pid()
            if self._group is not None:
                self._commit(raise_errors=True)
            fd = self._descriptor("reader", self.journal_path)
            fcntl.flock(fd, fcntl.LOCK_SH)  # granted when no group holds the journal
            fcntl.flock(fd, fcntl.LOCK_UN)
            # A group empties the journal before it lets go: what is left belongs to a
            # process that died (or to a group that has begun since: replaying finds nothing).
            leftover = os.fstat(fd).st_size > 0
        if leftover:
            self.call(lambda conn: None)
            self.flush()

    def close(self) -> None:
        with self.mutex:
            self._closed = True
            try:
                self.flush()
            finally:
                if self._conn is not None and self._pid == _PID:
                    self._conn.close()
                self._conn = None
                self.engine.dispose()
                for fd in self._fds.values():
                    os.close(fd)
                self._fds.clear()
                self._wake.set()
                if self._pid == _PID:
                    self._checkpoints.close()

    # -- the locks, the journal and recovery ------------------------------------------------
    def _descriptor(self, role: str, path: str) -> int:
        """This process's descriptor of ``path`` for one role: flocks belong to open files,
        so the group's own locks and those it waits on need descriptors of their own."""
        fd = self._fds.get(role)
        if fd is None:
            fd = self._fds[role] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        return fd

    @contextmanager
    def waiting_for_lock(self, fd: int | None = None) -> Iterator[None]:
        """Hold a shared flock on the waiting-room file while waiting for SQLite's write
        lock: a group that ends sees that a writer waits and lets it in first. Writers other
        than the group pass no ``fd`` and use a descriptor of their own."""
        own = fd is None
        if fd is None:
            fd = os.open(self.waiting_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            if own:
                os.close(fd)

    def recover(self, conn: Connection, replaying_own: bool = False) -> int:
        """In a write transaction just begun: replay what a dead process journaled and did
        not commit (or, ``replaying_own``, what this one did before a failed call), drop what
        is committed; returns the number this transaction's group has.
        """
        driver = conn.connection.dbapi_connection
        assert driver is not None
        mark = int(driver.execute("PRAGMA user_version").fetchone()[0])
        group = next_group(mark)
        fd = self._descriptor("journal", self.journal_path)
        size = os.fstat(fd).st_size
        if size == 0:
            return group
        records = list(read_records(os.pread(fd, size, 0)))
        pending = [statements for g, statements, _ in records if g == group]
        if pending:
            # This group appends its own records after these: cut what a torn record left
            # (the next recovery would stop there, and miss them).
            whole = records[-1][2]
            if whole < size:
                os.ftruncate(fd, whole)
            for statements in pending:
                for sql, params, many in statements:
                    (driver.executemany if many else driver.execute)(sql, params)
            driver.execute(f"PRAGMA user_version = {group}")
            (log.debug if replaying_own else log.warning)(
                "mllineage: replayed %d journaled calls of a process that ended before "
                "committing them (%s)",
                len(pending),
                self.journal_path,
            )
            return group
        # Only the write lock's holder appends, so every record here is committed: drop them.
        os.ftruncate(fd, 0)
        return group

    def _append(self, record: bytes) -> None:
        written = os.write(self._descriptor("journal", self.journal_path), record)
        if written != len(record):  # (out of space): the part written is a torn record
            raise InternalFailure(f"short write to {self.journal_path}")
        self._end += written

    # -- groups ---------------------------------------------------------------------------------
    def _check_pid(self) -> None:
        if self._pid != _PID:  # a forked child: never touch the parent's connections
            self.engine.dispose(close=False)
            self._conn, self._fds, self._thread = None, {}, None
            self._group, self._pid = None, _PID
            self._state = {}
            self._checkpoints = BackgroundCheckpoints(self.database_path)

    def _begin(self, replaying_own: bool = False) -> None:
        if self._conn is None:
            self._conn = self.engine.connect()
        conn = self._conn
        journal = self._descriptor("journal", self.journal_path)
        conn.begin()
        try:
            with self.waiting_for_lock(self._descriptor("waiting", self.waiting_path)):
                try:
                    conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
                except sqlite3.Error as error:  # as engine.Statement reports it: retried
                    raise DBAPIError.instance(
                        "BEGIN IMMEDIATE", (), error, sqlite3.Error
                    ) from error
            # Readers of other processes wait on this flock until the group has committed.
            fcntl.flock(journal, fcntl.LOCK_EX)
            try:
                self._group = self.recover(conn, replaying_own)
            except BaseException:
                fcntl.flock(journal, fcntl.LOCK_UN)
                raise
        except BaseException:
            conn.rollback()
            raise
        self._end = os.fstat(journal).st_size  # what recover() left: replayed records
        self._calls = 0
        self._state.clear()
        self._deadline = time.monotonic() + self.group_seconds
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._commit_when_due, name="mllineage-group-commit", daemon=True
            )
            self._thread.start()
        elif self._idle:
            self._wake.set()  # (a thread that waits for a deadline sees the new group)

    def _commit(self, *, raise_errors: bool = False) -> None:
        conn, group = self._conn, self._group
        assert conn is not None
        assert group is not None
        journal = self._descriptor("journal", self.journal_path)
        self._group = None
        try:
            if self._end:  # the group journaled calls: mark them committed with it
                conn.connection.dbapi_connection.execute(f"PRAGMA user_version = {group}")  # type: ignore[union-attr]
            conn.commit()
        except BaseException as error:
            conn.rollback()
            fcntl.flock(journal, fcntl.LOCK_UN)
            # Every call of the group that returned is still in the journal: the next
            # reader or writer of the file replays them.
            if raise_errors:
                raise InternalFailure(
                    f"could not commit to the database: {error} (the calls that returned are "
                    f"kept in {self.journal_path} and applied by the next writer)"
                ) from error
            log.error("mllineage: group commit failed: %s", error)
            return
        if self._end:
            os.ftruncate(journal, 0)  # committed; no one else appends while we hold the flock
            self._end = 0
        fcntl.flock(journal, fcntl.LOCK_UN)
        self._let_waiters_in()
        self._checkpoints.after_commit()

    def _let_waiters_in(self) -> None:
        """A writer of another process waits for the lock: wait until it has it."""
        fd = self._descriptor("waiting", self.waiting_path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(fd, fcntl.LOCK_EX)  # granted once every waiter has the lock
        fcntl.flock(fd, fcntl.LOCK_UN)

    def _commit_when_due(self) -> None:
        """The committing thread: ends a group that is still open when its time is up.

        A process that keeps calling commits its groups itself (at the start of the first
        call past the deadline), so the thread takes the mutex only when a group is due: it
        never makes a busy caller wait for the mutex or for the GIL more than once a group.
        Nor does a busy caller wake it: the thread, which looks at a group's deadline, mostly
        finds the caller between committing that group and beginning the next, so it looks
        again a group's time later before it waits to be woken.
        """
        while not self._closed and self._pid == _PID:
            if self._group is None:
                time.sleep(self.group_seconds)  # (a group begun meanwhile is not yet due)
            self._idle = True  # before looking: a group begun after the look wakes the thread
            if self._group is None:
                woken = self._wake.wait(IDLE_SECONDS)
                self._wake.clear()
                self._idle = False
                if not woken:
                    with self.mutex:
                        if self._group is None:  # under the mutex: _begin starts a new thread
                            self._thread = None
                            return
                continue
            self._idle = False
            remaining = self._deadline - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
                continue
            with self.mutex:
                if self._group is not None and time.monotonic() >= self._deadline:
                    self._commit()
        with self.mutex:
            if self._thread is threading.current_thread():
                self._thread = None


def group_seconds() -> float:
    """How long a group stays open: ``MLLINEAGE_GROUP_COMMIT_MS`` (0 to 1000), else 10 ms."""
    value = os.environ.get("MLLINEAGE_GROUP_COMMIT_MS")
    if value is None:
        return GROUP_SECONDS
    try:
        ms = float(value)
    except ValueError:
        ms = -1.0
    if not 0 <= ms <= 1000:
        raise ValueError(
            f"MLLINEAGE_GROUP_COMMIT_MS must be a number of milliseconds from 0 to 1000 "
            f"(0: commit every call by itself), got {value!r}"
        )
    return ms / 1000


def journal_path(database_path: str) -> str:
    """The journal beside the database (the same for every name of the file, as SQLite's
    own ``-wal`` file is)."""
    return os.path.realpath(database_path) + "-mllineage"


def settle(database_path: str) -> None:
    """Wait until no process has a group open on the file: then a reader that is not
    mllineage (the ``sqlite3`` shell, a backup tool) sees every write that has returned."""
    try:
        fd = os.open(journal_path(database_path), os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    finally:
        os.close(fd)  # closing lets the lock go


_WRITERS: weakref.WeakSet[GroupWriter] = weakref.WeakSet()
_SHARED: dict[str, GroupWriter] = {}
_SHARED_LOCK = threading.Lock()


def writer_for(database_path: str, make_engine: Callable[[], Engine]) -> GroupWriter:
    """This process's writer of the file (made with its own engine on first use); give it
    back with :func:`release`."""
    key = os.path.realpath(database_path)
    with _SHARED_LOCK:
        writer = _SHARED.get(key)
        if writer is None or writer._closed or writer._pid != _PID:
            writer = _SHARED[key] = GroupWriter(make_engine(), database_path)
        writer.users += 1
        return writer


def release(writer: GroupWriter) -> None:
    """One user fewer; the last one closes the writer (committing its group)."""
    with _SHARED_LOCK:
        writer.users -= 1
        if writer.users > 0:
            return
        if _SHARED.get(os.path.realpath(writer.database_path)) is writer:
            del _SHARED[os.path.realpath(writer.database_path)]
    writer.close()


def _flush(writer: GroupWriter) -> None:
    try:
        writer.flush()
    except InternalFailure as error:
        log.error("mllineage: %s", error)


def _flush_all() -> None:
    for writer in list(_WRITERS):
        _flush(writer)


atexit.register(_flush_all)

#: The writers whose mutex the thread that forks holds across the fork.
_HELD: list[GroupWriter] = []


def _before_fork() -> None:
    """Commit every open group and hold every writer's mutex (and the registry's lock) across
    the fork: the child gets a copy of each lock as it is, and one held by another thread (the
    committing thread, another caller) would stay held in the child forever."""
    _HELD[:] = list(_WRITERS)
    for writer in _HELD:
        writer.mutex.acquire()
        _flush(writer)
    _SHARED_LOCK.acquire()


def _after_fork_in_parent() -> None:
    _SHARED_LOCK.release()
    for writer in _HELD:
        writer.mutex.release()
    _HELD.clear()


def _after_fork_in_child() -> None:
    global _PID, _SHARED_LOCK
    _PID = os.getpid()
    _SHARED_LOCK = threading.Lock()
    for writer in _HELD:
        writer.mutex = threading.RLock()
        writer._wake = threading.Event()
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
