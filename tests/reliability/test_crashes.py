"""Crashes: ``kill -9`` a writer at random points of a per-call and of a bulk ingest into an
SQLite file, again and again on the same file. After every kill the store opens, SQLite's
``integrity_check`` and ``foreign_key_check`` are clean and every write the writer saw
acknowledged is there; at the end no association points at a missing entity, no entity lacks
a property or tag it was created with, and every bulk block is there whole or not at all.

The writer is ``tests/reliability/crash_writer.py``; it appends each acknowledgement to a file
the moment the call returns.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mllineage.store.sql.store import SqlStore
from tests.reliability.crash_writer import PROPERTIES, TAGS
from tests.reliability.stores import every_artifact, every_edge

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Acknowledged:
    """What the writers were told was written, read back from their files."""

    entities: set[str] = field(default_factory=set)
    associations: set[tuple[str, str]] = field(default_factory=set)
    blocks: dict[str, list[str]] = field(default_factory=dict)

    def read(self, path: Path) -> None:
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines(keepends=True):
            words = line.split()
            if not line.endswith("\n") or not words:
                continue  # the line the kill cut short
            if words[0] == "E":
                self.entities.add(words[1])
            elif words[0] == "A":
                self.associations.add((words[1], words[2]))
            elif words[0] == "B":
                self.blocks[words[1]] = words[3:]
                assert len(words[3:]) == int(words[2])


def kill_a_writer(mode: str, url: str, ack: Path, run: str, rng: random.Random) -> float:
    """Start a writer, let it work for a random while, ``kill -9`` it; the delay used."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.crash_writer", mode, url, str(ack), run],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while f"S {run}\n" not in (ack.read_text() if ack.exists() else ""):
            assert child.poll() is None, f"the writer failed: {child.stderr.read().decode()}"
            assert time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.02)
        delay = rng.uniform(0.05, 0.8)
        time.sleep(delay)
        assert child.poll() is None, f"the writer failed: {child.stderr.read().decode()}"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        return delay
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stderr is not None
        child.stderr.close()


def check_file(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def check_acknowledged(store: SqlStore, acked: Acknowledged) -> dict[str, int]:
    listed = every_artifact(store)
    edges = every_edge(store)
    bulk_arns = {arn for arns in acked.blocks.values() for arn in arns}
    bulk_links = {
        pair for arns in acked.blocks.values() for pair in zip(arns, arns[1:], strict=False)
    }
    lost = {
        "lost_entities": len((acked.entities | bulk_arns) - listed),
        "lost_associations": len((acked.associations | bulk_links) - edges),
        "dangling_associations": len({end for edge in edges for end in edge} - listed),
    }
    assert lost == dict.fromkeys(lost, 0), lost
    return {"entities": len(listed), "associations": len(edges)}


def check_whole(store: SqlStore) -> dict[str, int]:
    """Every entity has all its properties and tags; every bulk block is complete."""
    blocks: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    half_written = 0
    for arn in every_artifact(store):
        properties = store.describe_artifact(ArtifactArn=arn)["Properties"]
        tags = store.list_tags(ResourceArn=arn)["Tags"]
        if "block" in properties:
            blocks.setdefault(properties["block"], []).append(arn)
            sizes[properties["block"]] = int(properties["size"])
        mine = {k: properties[k] for k in PROPERTIES if k in properties}
        if mine != PROPERTIES or sorted(tags, key=lambda t: t["Key"]) != TAGS:
            half_written += 1
    half_blocks = sum(len(arns) != sizes[name] for name, arns in blocks.items())
    assert (half_written, half_blocks) == (0, 0)
    return {"bulk_blocks_found": len(blocks)}


def crash_rounds(tmp_path: Path, kills: int, figures: dict[str, Any]) -> None:
    db = tmp_path / "crash.db"
    url = f"sqlite:///{db}"
    SqlStore(url).close()
    rng = random.Random(kills)  # the same kill points on every run of a given size
    acked = Acknowledged()
    for round_ in range(kills):
        mode = ("calls", "bulk")[round_ % 2]
        ack = tmp_path / f"ack-{round_}.txt"
        kill_a_writer(mode, url, ack, f"r{round_}", rng)
        acked.read(ack)
        check_file(db)
        store = SqlStore(url)  # opens (and recovers the WAL) after the crash
        try:
            counts = check_acknowledged(store, acked)
        finally:
            store.close()
    store = SqlStore(url)
    try:
        whole = check_whole(store)
    finally:
        store.close()
    check_file(db)
    figures.update(
        kills=kills,
        per_call_kills=(kills + 1) // 2,
        bulk_kills=kills // 2,
        acknowledged_entities=len(acked.entities)
        + sum(len(arns) for arns in acked.blocks.values()),
        acknowledged_associations=len(acked.associations)
        + sum(len(arns) - 1 for arns in acked.blocks.values()),
        acknowledged_bulk_blocks=len(acked.blocks),
        **counts,
        **whole,
        lost=0,
        dangling_associations=0,
        half_written_entities=0,
        half_written_blocks=0,
        integrity_check="ok",
    )


def test_kill_nine_writers(tmp_path: Path, figures: dict[str, Any]) -> None:
    crash_rounds(tmp_path, 4, figures)


@pytest.mark.slow
def test_kill_nine_writers_long(tmp_path: Path, figures: dict[str, Any]) -> None:
    crash_rounds(tmp_path, 40, figures)  # 20 kills of each ingest
