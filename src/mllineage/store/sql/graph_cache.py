"""An in-process cache of the lineage graph of an SQLite file, never staler than the file.

A lineage query reads the same few thousand vertices and associations again and again; the
cache keeps what queries have read (each vertex's row and finished properties, each vertex's
associations in both directions) so a repeated query costs a walk of Python dicts.

Coherence rests on SQLite's ``PRAGMA data_version``: on a connection that never writes, it
changes whenever any other connection (of this process or another one) commits to the file.
The cache holds one such watcher connection, and everything it holds belongs to a generation
tagged with the data version it was read at. A query

1. takes the current generation (a new, empty one if the data version moved on),
2. walks, reading what the generation lacks from the database and adding it, and
3. checks the data version again when its transaction is over: unchanged, nothing committed
   between the two checks, so its snapshot was the generation's state and the answer stands;
   changed, the answer may mix two states and the query runs again without the cache.

Nothing uncommitted ever enters it: queries inside ``batch()`` (whose transaction may hold
uncommitted writes, to be rolled back yet) do not use the cache at all, and a rolled-back
transaction does not move the data version. Entries are keyed by entity id, which is unique
across accounts, and only ever returned for ids the walk reached in the database's own
associations, so accounts see exactly what an uncached query shows them.

PostgreSQL has no such counter visible to a reader, and SQLite in memory is one connection
that reads its own uncommitted writes: neither has a cache.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from mllineage.store.sql.graph_sql import fetch_vertices, hop_edges

# Entries (vertices, and adjacency lists) a generation may hold before the next query starts an
# empty one. Measured at ~800 bytes an entry (8.8 MB for a 6,000-vertex, 10,700-edge answer),
# so ~80 MB at most: room for three answers of the largest size a query may return.
MAX_ENTRIES = 100_000

Edge = tuple[int, int, str]  # (source id, destination id, association type)
Walk = tuple[dict[int, int], list[Edge]]  # ids reached (id -> depth), associations met
# A remembered walk keeps ~40 bytes a vertex or association: one entry's worth per 20.
_WALK_ITEMS_PER_ENTRY = 20


class Generation:
    """What the cache knows of the database as it stood at one data version. A query that
    cannot use the cache walks with a private generation, dropped with its answer.

    Everything is kept in tuples and flat dicts of strings, which Python's garbage collector
    stops tracking: a large cache adds little to the cost of a collection.
    """

    def __init__(self, version: int) -> None:
        self.version = version
        self.entries = 0
        self.children: dict[int, tuple[Edge, ...]] = {}  # id -> associations leaving it
        self.parents: dict[int, tuple[Edge, ...]] = {}  # id -> associations entering it
        self.rows: dict[int, tuple[Any, ...]] = {}  # id -> fetch_vertices row
        self.properties: dict[int, dict[str, str]] = {}  # id -> the vertex's Properties
        self.ids: dict[str, int] = {}  # ARN -> id, of every row read
        # What time travel replayed from the change log, by (what, instant, ARN): the log up
        # to an instant changes only by a commit, which ends the generation.
        self.past: dict[tuple[str, int, str], Any] = {}
        # Walks made, by (start ids, direction, depth): the ids reached, the associations met.
        self.walks: dict[tuple[tuple[int, ...], str, int], Walk] = {}

    def edges(self, conn: Connection, frontier: Sequence[int], *, forward: bool) -> list[Edge]:
        """The associations leaving (``forward``) or entering the frontier."""
        known = self.children if forward else self.parents
        missing = [i for i in frontier if i not in known]
        if missing:
            fresh: dict[int, list[Edge]] = {i: [] for i in missing}
            for edge in hop_edges(conn, missing, forward=forward):
                fresh[edge[0] if forward else edge[1]].append(edge)
            known.update((i, tuple(found)) for i, found in fresh.items())
            self.entries += len(fresh)
        out: list[Edge] = []
        for i in frontier:
            out += known[i]
        return out

    def fetch(
        self, conn: Connection, ids: Iterable[int], build: Callable[[Any], dict[str, str]]
    ) -> None:
        """Read the rows of the ``ids`` not known yet, and their properties (``build(row)``)."""
        missing = [i for i in ids if i not in self.rows]
        self._keep(fetch_vertices(conn, missing), build)
        self.entries += len(missing)

    def fetch_arns(
        self, conn: Connection, arns: Sequence[str], build: Callable[[Any], dict[str, str]]
    ) -> None:
        """:meth:`fetch` by ARN (time travel walks by ARN): then ``ids`` knows those that
        exist."""
        missing = [a for a in arns if a not in self.ids]
        self._keep(fetch_vertices(conn, missing, by_arn=True), build)
        self.entries += len(missing)

    def keep_walk(self, key: tuple[tuple[int, ...], str, int], walk: Walk) -> None:
        self.walks[key] = walk
        self.entries += 1 + (len(walk[0]) + len(walk[1])) // _WALK_ITEMS_PER_ENTRY

    def keep_past(self, found: dict[tuple[str, int, str], Any]) -> None:
        self.past.update(found)
        self.entries += len(found)

    def _keep(self, rows: Iterable[Any], build: Callable[[Any], dict[str, str]]) -> None:
        for row in rows:
            self.rows[row[0]] = tuple(row)
            self.properties[row[0]] = build(row)
            self.ids[row[1]] = row[0]


class GraphCache:
    """The cache of one SQLite file (see the module docstring)."""

    def __init__(self, path: str, max_entries: int = MAX_ENTRIES) -> None:
        self.path = str(Path(path).expanduser())
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._watcher: sqlite3.Connection | None = None
        self._watcher_pid = 0
        self._generation: Generation | None = None

    def version(self) -> int:
        """The file's data version: it changes whenever anyone commits to it."""
        with self._lock:
            if self._watcher is None or self._watcher_pid != os.getpid():
                # Opened on first use (the file exists by then), and again in a forked child,
                # which must not use its parent's connection. Read-only: it never commits.
                self._watcher = sqlite3.connect(
                    f"{Path(self.path).resolve().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                )
                self._watcher_pid = os.getpid()
                self._generation = None  # versions count per connection: start again
            version: int = self._watcher.execute("PRAGMA data_version").fetchone()[0]
            return version

    def current(self) -> Generation:
        """The generation for the file as it stands now (a fresh one after any commit)."""
        version = self.version()
        with self._lock:
            gen = self._generation
            if gen is None or gen.version != version or gen.entries > self.max_entries:
                gen = self._generation = Generation(version)
            return gen

    def still_current(self, gen: Generation) -> bool:
        """Nothing was committed since ``gen`` was taken."""
        return self.version() == gen.version

    def close(self) -> None:
        with self._lock:
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None
            self._generation = None
