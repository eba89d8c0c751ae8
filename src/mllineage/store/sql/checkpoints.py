"""WAL checkpoints in a background thread, off the writer's path.

In WAL mode a commit appends pages to the ``-wal`` file, and a *checkpoint* copies them into
the database file and syncs it. SQLite runs one inside the commit that takes the WAL past
``wal_autocheckpoint`` pages, so that caller pays for copying (and syncing) every page the
writes since the last one changed: 0.12 s for the 48 MB of a 60,000-row ``PutLineage``.

A writer of a file (the group commit) pokes a :class:`BackgroundCheckpoints` after each of its
commits; its thread then runs a PASSIVE checkpoint on a connection of its own, at most every
``INTERVAL_SECONDS``. A passive checkpoint never takes a lock that readers or the writer wait
for: it copies what was committed when it began, and SQLite's own locks let the next writer
start the WAL over once everything is copied. ``wal_autocheckpoint`` stays set on every
connection, the bound on the WAL's size should this thread fall behind; the thread leaves it
little to copy. The thread does not change what a crash can lose: a checkpoint is crash-safe.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

#: Checkpoints follow commits at most this often (each one syncs the database file).
INTERVAL_SECONDS = 0.2


class BackgroundCheckpoints:
    """One thread that checkpoints one database file after commits (see the module doc)."""

    def __init__(self, database_path: str) -> None:
        self.database_path = database_path
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def after_commit(self) -> None:
        """A commit wrote pages to the WAL: have them checkpointed soon."""
        self._wake.set()
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(
                        target=self._run,
                        name=f"mllineage-checkpoints {self.database_path}",
                        daemon=True,
                    )
                    self._thread.start()

    def close(self) -> None:
        """Stop the thread (after the checkpoint under way, if any)."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self.database_path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self._wake.wait()
                if self._stop.is_set():
                    return
                self._wake.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # the writers' own checkpoints still run
                    log.warning("mllineage: background checkpoint failed: %s", error)
                if self._stop.wait(INTERVAL_SECONDS):
                    return
        finally:
            conn.close()
