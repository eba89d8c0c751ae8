"""Content hashes of files and directories, with a cache so unchanged files are not re-read.

The invariant: ``content_hash(path)`` is the sha256 of the bytes of a file, or for a directory
the sha256 of the lines ``<relative path>\\0<size>\\0<file sha256>\\n`` of every regular file
below it, sorted by relative path (POSIX separators; symbolic links to files count as the file,
symbolic links to directories are not followed).

The cache: a small SQLite file (``hashes.sqlite`` in the user's cache directory, or the file
``MLLINEAGE_HASH_CACHE`` names; ``MLLINEAGE_HASH_CACHE=off`` disables it) maps an absolute
path to the digest it had at a (device, inode, size, mtime_ns, ctime_ns). A lookup is one
``stat`` and one indexed read, so a second run over an unchanged 1 GB file reads none of its
data. A file modified within :data:`RACY_WINDOW_NS` before it was hashed is not cached (the
"racily clean" case of git's index: a write in the same timestamp tick as the hash would go
unnoticed), nor is one whose ``stat`` changed while it was read. Several processes share the
file safely (WAL, a busy timeout; an entry is one row written in one statement). A cache that
cannot be opened or written is skipped: hashing still works, only slower.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

ENV_HASH_CACHE = "MLLINEAGE_HASH_CACHE"
#: An entry is trusted only if the file was last modified this long before it was hashed.
RACY_WINDOW_NS = 2_000_000_000
_CHUNK = 1 << 20
_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY,
    device INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL
)
"""
_log = logging.getLogger(__name__)


def cache_path() -> Path | None:
    """Where the hash cache lives (``None`` when ``MLLINEAGE_HASH_CACHE=off``)."""
    configured = os.environ.get(ENV_HASH_CACHE)
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    return Path(platformdirs.user_cache_dir("mllineage")) / "hashes.sqlite"


def _identity(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class HashCache:
    """The digests of files already hashed, in one SQLite file; use as a context manager."""

    def __init__(self, path: Path | None) -> None:
        self._conn: sqlite3.Connection | None = None
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._conn = conn
        except (OSError, sqlite3.Error) as error:
            _log.warning("hash cache %s not used: %s", path, error)

    def lookup(self, path: str, st: os.stat_result) -> str | None:
        if self._conn is None:
            return None
        try:
            row = self._conn.execute(
                "SELECT digest FROM file_hashes WHERE path = ? AND device = ? AND inode = ? "
                "AND size = ? AND mtime_ns = ? AND ctime_ns = ?",
                (path, *_identity(st)),
            ).fetchone()
        except sqlite3.Error as error:
            _log.warning("hash cache lookup failed: %s", error)
            return None
        return str(row[0]) if row else None

    def store(self, path: str, st: os.stat_result, digest: str) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(
                "INSERT OR REPLACE INTO file_hashes "
                "(path, device, inode, size, mtime_ns, ctime_ns, digest) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (path, *_identity(st), digest),
            )
        except sqlite3.Error as error:
            _log.warning("hash cache not written: %s", error)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def open_cache() -> Iterator[HashCache]:
    """The hash cache of :func:`cache_path`, closed at the end of the block."""
    with HashCache(cache_path()) as cache:
        yield cache


def _read_digest(path: str) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
    return digest.hexdigest()


def file_digest(path: str, cache: HashCache, st: os.stat_result | None = None) -> str:
    """The sha256 (hex) of the file at the absolute ``path``, from ``cache`` when its stat
    is unchanged."""
    st = st or os.stat(path)
    found = cache.lookup(path, st)
    if found is not None:
        return found
    started = time.time_ns()
    digest = _read_digest(path)
    after = os.stat(path)
    if _identity(after) == _identity(st) and st.st_mtime_ns < started - RACY_WINDOW_NS:
        cache.store(path, st, digest)
    return digest


def _directory_files(root: str) -> list[tuple[str, str, os.stat_result]]:
    """(relative POSIX path, absolute path, stat) of every regular file below ``root``."""
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            absolute = os.path.join(folder, name)
            try:
                st = os.stat(absolute)
            except FileNotFoundError:  # a dangling symbolic link
                continue
            if stat.S_ISREG(st.st_mode):
                relative = os.path.relpath(absolute, root).replace(os.sep, "/")
                found.append((relative, absolute, st))
    found.sort()
    return found


def directory_digest(root: str, cache: HashCache) -> str:
    """The sha256 (hex) of a directory's sorted relative paths, sizes and file hashes."""
    digest = hashlib.sha256()
    for relative, absolute, st in _directory_files(root):
        line = f"{relative}\0{st.st_size}\0{file_digest(absolute, cache, st)}\n"
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def content_hash(path: str | os.PathLike[str], cache: HashCache | None = None) -> str:
    """``"sha256:<hex>"`` of a file or directory (see the module docstring).

    Args:
        path: a local file or directory.
        cache: an open :class:`HashCache`; default the one of :func:`cache_path`.
    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is neither a regular file nor a directory.
    """
    absolute = os.path.abspath(os.fspath(path))
    if cache is None:
        with open_cache() as opened:
            return content_hash(absolute, opened)
    st = os.stat(absolute)
    if stat.S_ISDIR(st.st_mode):
        return f"sha256:{directory_digest(absolute, cache)}"
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"path {absolute!r} is neither a regular file nor a directory")
    return f"sha256:{file_digest(absolute, cache, st)}"
