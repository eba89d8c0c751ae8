"""Content hashes and their cache: must-hold 4 (a 1 GB file is read once) and the rules of
the cache."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import pytest

import mllineage
from mllineage import Session
from mllineage.capture import hashing
from mllineage.capture.hashing import HashCache, content_hash

GIB = 1 << 30
HAS_PROC_IO = sys.platform == "linux" and os.path.exists("/proc/thread-self/io")


def bytes_read() -> int:
    """What this thread has read so far through read()-like calls (Linux's ``rchar``). The
    thread's own count, not the process's: pytest-xdist's channel to the controller reads in
    a thread of its own, whenever the controller sends work."""
    for line in Path("/proc/thread-self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/thread-self/io")


def settled(path: Path) -> Path:
    """Date the file back past the cache's racy window, as a file written a while ago is."""
    past = time.time_ns() - 10 * hashing.RACY_WINDOW_NS
    os.utime(path, ns=(past, past))
    return path


#: sha256 of 1 GiB of zero bytes.
GIB_OF_ZEROS = "sha256:49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14"
needs_proc_io = pytest.mark.skipif(
    not HAS_PROC_IO, reason="counting the bytes read needs Linux's /proc/self/io"
)


@pytest.fixture(scope="module")
def hashed_gigabyte(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A sparse 1 GiB file (zeros that take no disk) hashed once, and the cache that knows it:
    the whole file is read, once for the module."""
    folder = tmp_path_factory.mktemp("gigabyte")
    big, cache = folder / "big.bin", folder / "hashes.sqlite"
    with big.open("wb") as handle:
        handle.truncate(GIB)
    settled(big)
    before = bytes_read() if HAS_PROC_IO else 0
    with HashCache(cache) as opened:
        assert content_hash(big, opened) == GIB_OF_ZEROS
    assert not HAS_PROC_IO or bytes_read() - before >= GIB
    return big, cache


@needs_proc_io
def test_an_unchanged_gigabyte_is_not_read_again(
    session: Session,
    hashed_gigabyte: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    big, cache = hashed_gigabyte
    monkeypatch.setenv(hashing.ENV_HASH_CACHE, str(cache))
    monkeypatch.chdir(tmp_path)
    before = bytes_read()
    assert content_hash(big) == GIB_OF_ZEROS
    hash_reads = bytes_read() - before

    reads = []
    for _ in range(2):
        before = bytes_read()
        with mllineage.run("train", inputs=[big], sagemaker_session=session, code=False) as run:
            pass
        reads.append(bytes_read() - before)
        assert run.inputs[0].source == {
            "source_uri": big.as_uri(),
            "source_types": [{"SourceIdType": "Custom", "Value": GIB_OF_ZEROS}],
        }

    assert hash_reads < 64 * 1024  # the cache's own pages, not the file
    # Each run reads under 1.6% of the file: the store's pages or answers and the cache's.
    assert max(reads) < 16 * 1024 * 1024, reads


def test_a_file_hash_is_its_sha256(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    data = b"a,b\n1,2\n"
    path.write_bytes(data)
    assert content_hash(path) == f"sha256:{hashlib.sha256(data).hexdigest()}"


def test_a_directory_hash_covers_paths_sizes_and_contents(tmp_path: Path) -> None:
    root = tmp_path / "shards"
    (root / "b").mkdir(parents=True)
    (root / "a.bin").write_bytes(b"one")
    (root / "b" / "c.bin").write_bytes(b"two")
    lines = "".join(
        f"{rel}\0{len(data)}\0{hashlib.sha256(data).hexdigest()}\n"
        for rel, data in (("a.bin", b"one"), ("b/c.bin", b"two"))
    )
    first = content_hash(root)
    assert first == f"sha256:{hashlib.sha256(lines.encode()).hexdigest()}"
    (root / "b" / "c.bin").rename(root / "c.bin")  # same bytes, another path
    assert content_hash(root) != first


def test_a_changed_file_is_hashed_again(tmp_path: Path) -> None:
    path = settled_file(tmp_path, b"version 1")
    first = content_hash(path)
    path.write_bytes(b"version 2")  # same size, new mtime
    settled(path)
    assert content_hash(path) == f"sha256:{hashlib.sha256(b'version 2').hexdigest()}" != first


def settled_file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    return settled(path)


def test_the_cache_answers_for_an_unchanged_file(tmp_path: Path) -> None:
    path = settled_file(tmp_path, b"payload")
    with HashCache(tmp_path / "c.sqlite") as cache:
        digest = content_hash(path, cache)
        assert cache.lookup(str(path), os.stat(path)) == digest.removeprefix("sha256:")


def test_a_file_modified_just_before_hashing_is_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "fresh.bin"
    path.write_bytes(b"just written")  # a write in the same tick would go unnoticed
    with HashCache(tmp_path / "c.sqlite") as cache:
        content_hash(path, cache)
        assert cache.lookup(str(path), os.stat(path)) is None


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hashing.ENV_HASH_CACHE, "off")
    assert hashing.cache_path() is None
    path = settled_file(tmp_path, b"x")
    assert content_hash(path) == f"sha256:{hashlib.sha256(b'x').hexdigest()}"


def test_an_unwritable_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv(hashing.ENV_HASH_CACHE, str(blocker / "hashes.sqlite"))
    path = settled_file(tmp_path, b"y")
    assert content_hash(path) == f"sha256:{hashlib.sha256(b'y').hexdigest()}"


def test_a_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        content_hash(tmp_path / "missing.csv")
