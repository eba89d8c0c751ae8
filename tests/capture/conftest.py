"""Fixtures of the capture tests: a session on each store, a private hash cache, and a
temporary git repository to run in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mllineage import Session
from mllineage.store.base import Store


@pytest.fixture(autouse=True)
def _private_hash_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test hashes with a cache of its own, and joins no context by default."""
    cache = tmp_path / "hash-cache.sqlite"
    monkeypatch.setenv("MLLINEAGE_HASH_CACHE", str(cache))
    monkeypatch.delenv("MLLINEAGE_CONTEXT", raising=False)
    return cache


@pytest.fixture
def session(store: Store) -> Session:
    """A session on each backend of the contract suite."""
    return Session(store=store)


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit, the current directory of the test; ``data/`` and
    ``*.pkl`` are ignored, so data and models written there leave the tree clean."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("data/\n*.pkl\n")
    (root / "train.py").write_text("print('training')\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    (root / "data").mkdir()
    monkeypatch.chdir(root)
    return root
