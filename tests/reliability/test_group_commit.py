"""Group commit on an SQLite file (src/mllineage/store/sql/group_commit.py): a call that has
returned survives ``kill -9`` even when its group never committed, every reader (another
session, another process) sees it, and writers of several processes all make progress.

The writer processes are ``tests/reliability/group_writer.py``.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from mllineage import Artifact, Session
from mllineage.errors import InternalFailure, ValidationException
from mllineage.store.sql import group_commit
from mllineage.store.sql.bulk import REBUILD_MIN_ROWS
from mllineage.store.sql.store import SqlStore
from tests.reliability.stores import every_artifact, every_edge

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def writer(url: str, ack: Path, mode: str, count: int) -> Iterator[subprocess.Popen[bytes]]:
    """A group_writer process, started (it has acknowledged ``S``); killed on the way out."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.group_writer", url, str(ack), mode, str(count)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(ack, "S", child)
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert child.stderr is not None
        child.stderr.close()


def wait_for(ack: Path, line: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while f"{line}\n" not in (ack.read_text() if ack.exists() else "").splitlines(True):
        assert child.poll() is None, f"the writer failed: {child.stderr.read().decode()}"  # type: ignore[union-attr]
        assert time.monotonic() < deadline, f"the writer did not write {line!r}"
        time.sleep(0.01)


def acknowledged(ack: Path) -> list[str]:
    return [line.split()[1] for line in ack.read_text().splitlines() if line.startswith("E ")]


def committed_artifacts(path: Path) -> int:
    """What a plain SQLite reader sees: committed rows only."""
    connection = sqlite3.connect(path)
    try:
        query = "SELECT count(*) FROM entities WHERE kind = 'artifact'"
        return int(connection.execute(query).fetchone()[0])
    finally:
        connection.close()


def kill_holding_writer(tmp_path: Path, calls: int) -> tuple[Path, list[str]]:
    """A writer whose group never commits makes ``calls`` calls and is killed: its calls are
    in the journal only."""
    db = tmp_path / "group.db"
    url = f"sqlite:///{db}"
    SqlStore(url).close()
    ack = tmp_path / "ack.txt"
    with writer(url, ack, "hold", calls) as child:
        wait_for(ack, "D", child)
        assert committed_artifacts(db) == 0  # nothing committed: the journal holds it all
        assert os.path.getsize(f"{db}-mllineage") > 0
    return db, acknowledged(ack)


def test_calls_a_killed_process_never_committed_are_replayed(tmp_path: Path) -> None:
    db, arns = kill_holding_writer(tmp_path, 30)
    assert len(arns) == 30
    with Session(f"sqlite:///{db}") as session:
        listed = {a.artifact_arn for a in Artifact.list(sagemaker_session=session)}
        assert listed == set(arns)
        store = session.store
        assert isinstance(store, SqlStore)
        assert every_edge(store) == set(zip(arns, arns[1:], strict=False))
        changes = store.list_changes(Arn=arns[-1], IncludeAssociations=False)["Changes"]
        assert [c["Operation"] for c in changes] == ["CreateArtifact"]
    assert committed_artifacts(db) == 30
    assert os.path.getsize(f"{db}-mllineage") == 0  # applied, then emptied by a later writer
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    connection.close()


def test_a_torn_record_at_the_end_of_the_journal_is_ignored(tmp_path: Path) -> None:
    db, arns = kill_holding_writer(tmp_path, 12)
    with open(f"{db}-mllineage", "ab") as journal:
        journal.write(b"MLJ2\x05\x00\x00\x00\xff\x00\x00\x00half a record")
    store = SqlStore(f"sqlite:///{db}")
    try:
        assert every_artifact(store) == set(arns)
        # The store works on: a new write lands beside the replayed ones.
        store.create_artifact(ArtifactType="After", Source={"SourceUri": "s3://after"})
        assert len(every_artifact(store)) == 13
    finally:
        store.close()


def test_a_group_that_replays_a_torn_journal_journals_its_own_calls_where_they_are_read(
    tmp_path: Path,
) -> None:
    """A process killed mid-record leaves a torn record after its whole ones. The next group
    replays the whole ones and journals its own calls after them: not after the torn record,
    where the next recovery (should this process die too) would stop."""
    db, arns = kill_holding_writer(tmp_path, 12)
    journal = Path(f"{db}-mllineage")
    left = journal.read_bytes()
    journal.write_bytes(b"")  # (so that the store opens without replaying it)
    store = SqlStore(f"sqlite:///{db}")
    try:
        writer = store.db.group
        assert writer is not None
        writer.group_seconds = 3600  # (the group stays open: its calls are in the journal)
        journal.write_bytes(left + b"MLJ2\x05\x00\x00\x00\xff\x00\x00\x00half a record")
        store.create_artifact(ArtifactType="After", Source={"SourceUri": "s3://after"})
        records = list(group_commit.read_records(journal.read_bytes()))
        assert len(records) == 24  # the 23 replayed (12 creates, 11 associations), then its own
        assert len({group for group, _, _ in records}) == 1
        assert records[-1][2] == journal.stat().st_size
    finally:
        store.close()
    store = SqlStore(f"sqlite:///{db}")
    try:
        assert len(every_artifact(store)) == 13
        assert set(arns) <= every_artifact(store)
    finally:
        store.close()


def test_a_json_record_of_an_earlier_build_is_replayed(tmp_path: Path) -> None:
    """Records were JSON (magic ``MLJ1``, named parameters) before they were in marshal's
    format: a journal that a killed process of such a build left is replayed all the same."""
    db = tmp_path / "earlier.db"
    SqlStore(f"sqlite:///{db}").close()
    sql = (
        "INSERT INTO changes (at, scope, arn, peer_arn, op, actor, detail) "
        "VALUES (:at, :scope, :arn, NULL, 'CreateArtifact', '{}', '{}')"
    )
    params = {"at": 1, "scope": "arn:aws:sagemaker:local:000000000000:", "arn": "arn:earlier"}
    payload = json.dumps([[sql, params, False]]).encode()
    group = 1  # the group after user_version 0, a new database's
    header = struct.pack("<4sIII", b"MLJ1", group, len(payload), zlib.crc32(payload))
    Path(f"{db}-mllineage").write_bytes(header + payload)
    SqlStore(f"sqlite:///{db}").close()  # opening the file replays what a dead process left
    with closing(sqlite3.connect(db)) as connection:
        query = "SELECT count(*) FROM changes WHERE arn = 'arn:earlier'"
        assert connection.execute(query).fetchone() == (1,)
    assert os.path.getsize(f"{db}-mllineage") == 0


@pytest.mark.parametrize("name", ["same", "symlink"])
def test_a_process_reads_every_write_another_process_has_returned(
    tmp_path: Path, name: str
) -> None:
    db = tmp_path / "flow.db"
    url = f"sqlite:///{db}"
    SqlStore(url).close()
    writer_url = url
    if name == "symlink":  # the writer names the file otherwise: the same journal
        (tmp_path / "link.db").symlink_to(db)
        writer_url = f"sqlite:///{tmp_path / 'link.db'}"
    ack = tmp_path / "ack.txt"
    seen = 0
    with closing(SqlStore(url)) as store, writer(writer_url, ack, "flow", 300) as child:
        while child.poll() is None or seen < len(acknowledged(ack)):
            for arn in acknowledged(ack)[seen:]:
                # Acknowledged means returned: this process must see it at once.
                assert store.describe_artifact(ArtifactArn=arn)["ArtifactArn"] == arn
                seen += 1
            if "D\n" in ack.read_text().splitlines(True) and seen == len(acknowledged(ack)):
                break
    assert seen == 300


def test_sessions_of_one_process_read_each_others_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'two.db'}"
    with Session(url) as first, Session(url) as second:
        for i in range(20):
            arn = Artifact.create(
                artifact_type="T", source={"source_uri": f"s3://two/{i}"}, sagemaker_session=first
            ).artifact_arn
            assert Artifact.load(arn, sagemaker_session=second).artifact_type == "T"


def test_a_call_that_is_not_journaled_commits_before_it_returns(tmp_path: Path) -> None:
    db = tmp_path / "sync.db"
    with Session(f"sqlite:///{db}") as session:
        artifact = Artifact.create(
            artifact_type="T", source={"source_uri": "s3://sync"}, sagemaker_session=session
        )
        artifact.properties = {"k": "v"}
        artifact.save()  # an update: written with SQLAlchemy Core, so committed at once
        connection = sqlite3.connect(db)
        try:
            rows = connection.execute("SELECT properties FROM entities").fetchall()
        finally:
            connection.close()
        assert rows == [('{"k":"v"}',)]


def test_a_call_marshal_cannot_record_commits_before_it_returns(tmp_path: Path) -> None:
    """A str subclass (an enum of types, say) is a string to SQLite but not to marshal, the
    journal's format: the call is not journaled, so it commits before it returns."""

    class TypeName(str):
        pass

    db = tmp_path / "subclass.db"
    with Session(f"sqlite:///{db}") as session:
        Artifact.create(
            artifact_type=TypeName("Dataset"),
            source={"source_uri": "s3://subclass"},
            sagemaker_session=session,
        )
        assert committed_artifacts(db) == 1
        assert os.path.getsize(f"{db}-mllineage") == 0


def test_writers_of_several_processes_all_make_progress(tmp_path: Path) -> None:
    """Two processes ingest without pause; a third process's calls still get through, and
    both keep going. A group lets a waiting writer in before it begins the next one: without
    that, the third's calls waited for seconds here (SQLite's busy handler polls, and a group
    takes the lock again within microseconds); with it, tens of milliseconds. The bound
    below is a starvation bound, far above either figure of a working lock."""
    db = tmp_path / "busy.db"
    url = f"sqlite:///{db}"
    SqlStore(url).close()
    acks = [tmp_path / "a.txt", tmp_path / "b.txt"]
    waits = []
    with writer(url, acks[0], "flow", 10**9), writer(url, acks[1], "flow", 10**9):
        with closing(SqlStore(url)) as store:
            for i in range(40):
                start = time.monotonic()
                store.create_artifact(ArtifactType="Third", Source={"SourceUri": f"s3://t/{i}"})
                waits.append(time.monotonic() - start)
                time.sleep(0.01)
        before = [len(acknowledged(a)) for a in acks]
        time.sleep(0.5)
        after = [len(acknowledged(a)) for a in acks]
    assert max(waits) < 2.0, sorted(waits)[-5:]
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)
    with closing(SqlStore(url)) as store:
        assert len(every_artifact(store)) >= 40 + sum(after)


@pytest.mark.parametrize("calls", [1, 5])
def test_nothing_is_left_in_the_journal_after_a_clean_exit(tmp_path: Path, calls: int) -> None:
    db = tmp_path / "clean.db"
    url = f"sqlite:///{db}"
    SqlStore(url).close()
    ack = tmp_path / "ack.txt"
    with writer(url, ack, "flow", calls) as child:
        child.wait(timeout=60)
        assert child.returncode == 0
    assert committed_artifacts(db) == calls
    assert os.path.getsize(f"{db}-mllineage") == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_writes_through_its_own_connection(tmp_path: Path) -> None:
    """The parent's open group is committed before the fork; the child, which ends without
    committing (``os._exit``), leaves its call in the journal; the parent's next read
    replays it."""
    url = f"sqlite:///{tmp_path / 'fork.db'}"
    with Session(url) as session:
        before = Artifact.create(
            artifact_type="T", source={"source_uri": "s3://parent"}, sagemaker_session=session
        ).artifact_arn
        pid = fork_and_create(session, "s3://child")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        for uri in ("s3://parent", "s3://child"):
            [found] = Artifact.list(source_uri=uri, sagemaker_session=session)
            assert (found.artifact_arn == before) == (uri == "s3://parent")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_while_another_thread_holds_the_writer(tmp_path: Path) -> None:
    """The fork waits for the writer's mutex (a committing thread, another caller may hold it
    at that moment): the child's copy of the lock is free, and its call goes through."""
    with Session(f"sqlite:///{tmp_path / 'fork.db'}") as session:
        writer = session.store.db.group  # type: ignore[attr-defined]
        held = threading.Event()

        def hold() -> None:
            with writer.mutex:
                held.set()
                time.sleep(0.3)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait()
        pid = fork_and_create(session, "s3://child")
        holder.join()
        deadline = time.monotonic() + 30
        while (status := os.waitpid(pid, os.WNOHANG)) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail("the child waited for a lock no thread of its own held")
            time.sleep(0.01)
        assert os.waitstatus_to_exitcode(status[1]) == 0
        [found] = Artifact.list(source_uri="s3://child", sagemaker_session=session)
        assert found.artifact_type == "T"


def fork_and_create(session: Session, uri: str) -> int:
    """Fork a child that creates an artifact of ``uri`` and exits at once (``os._exit``: no
    cleanup, so what it wrote is left as a killed process would leave it); its pid."""
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            Artifact.create(
                artifact_type="T", source={"source_uri": uri}, sagemaker_session=session
            )
            code = 0
        finally:
            os._exit(code)
    return pid


def test_commits_are_checkpointed_in_the_background(tmp_path: Path) -> None:
    """The pages a commit writes to the WAL reach the database file without another write
    (SQLite alone copies them only once the WAL holds 10,000 pages) and the thread that
    copies them stops with the store."""
    db = tmp_path / "checkpoints.db"
    with Session(f"sqlite:///{db}") as session:
        size = db.stat().st_size
        with session.bulk() as bulk:
            for i in range(500):
                bulk.artifact(artifact_type="T", source={"source_uri": f"s3://b/{i}"})
        deadline = time.monotonic() + 10
        while db.stat().st_size == size and time.monotonic() < deadline:
            time.sleep(0.01)
        assert db.stat().st_size > size
        [thread] = checkpoint_threads(db)
    thread.join(timeout=5)
    assert not thread.is_alive()


def checkpoint_threads(db: Path) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"mllineage-checkpoints {db}"]


def test_group_commit_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLLINEAGE_GROUP_COMMIT_MS", "0")
    db = tmp_path / "off.db"
    with Session(f"sqlite:///{db}") as session:
        for i in range(3):
            Artifact.create(
                artifact_type="T", source={"source_uri": f"s3://off/{i}"}, sagemaker_session=session
            )
            assert committed_artifacts(db) == i + 1  # committed before the call returned


@pytest.mark.parametrize("value", ["-1", "1001", "soon"])
def test_a_bad_group_commit_setting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MLLINEAGE_GROUP_COMMIT_MS", value)
    with pytest.raises(ValueError, match="MLLINEAGE_GROUP_COMMIT_MS must be a number"):
        Session(f"sqlite:///{tmp_path / 'bad.db'}")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new database file whose calls share a group for a second (the longest window)."""
    monkeypatch.setenv("MLLINEAGE_GROUP_COMMIT_MS", "1000")
    return tmp_path / "group.db"


def test_a_call_that_fails_after_it_wrote_undoes_itself_and_nothing_else(db: Path) -> None:
    # (Calls run in the group's transaction without a savepoint each: a failed call that wrote
    # rolls the group back, and the group's journaled calls are replayed.)
    with Session(f"sqlite:///{db}") as session:
        store = session.store
        made = [
            store.create_artifact(ArtifactType="T", Source={"SourceUri": f"s3://ok/{i}"})[
                "ArtifactArn"
            ]
            for i in range(3)
        ]
        store.add_association(SourceArn=made[0], DestinationArn=made[1])
        assert committed_artifacts(db) == 0  # (all in one open group)
        # Writes a new artifact and its association from made[1], then finds that the one to
        # made[0] would close a cycle.
        with pytest.raises(ValidationException, match="cycle"):
            store.put_lineage(
                Entities=[
                    {
                        "EntityKind": "artifact",
                        "ArtifactType": "T",
                        "Source": {"SourceUri": "s3://x"},
                    }
                ],
                Associations=[
                    {"Source": made[1], "Destination": 0},
                    {"Source": 0, "Destination": made[0]},
                ],
            )
        with pytest.raises(ValidationException, match="already exists"):  # (wrote nothing)
            store.create_artifact(ArtifactType="T", Source={"SourceUri": "s3://ok/0"})
        made.append(
            store.create_artifact(ArtifactType="T", Source={"SourceUri": "s3://ok/3"})[
                "ArtifactArn"
            ]
        )
        assert committed_artifacts(db) == 0
    assert committed_artifacts(db) == 4  # (committed at close)
    with Session(f"sqlite:///{db}") as again:
        uris = {a.source["source_uri"] for a in Artifact.list(sagemaker_session=again)}
        assert uris == {f"s3://ok/{i}" for i in range(4)}
        edges = again.store.list_associations()["AssociationSummaries"]
        assert [(e["SourceArn"], e["DestinationArn"]) for e in edges] == [(made[0], made[1])]


def _index_names(db: Path) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        return sorted(
            n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
        )


def test_a_large_call_refused_at_its_first_row_keeps_every_index(db: Path) -> None:
    # (It dropped the indexes to build them after its inserts: the group is rolled back.)
    with Session(f"sqlite:///{db}") as session:
        session.store.create_context(ContextName="taken", ContextType="T")
        indexes = _index_names(db)
        request = [{"EntityKind": "context", "ContextName": "Taken", "ContextType": "T"}]
        request += [
            {"EntityKind": "artifact", "ArtifactType": "T", "Source": {"SourceUri": f"s3://l/{i}"}}
            for i in range(REBUILD_MIN_ROWS)
        ]
        with pytest.raises(ValidationException, match="Context already exists"):
            session.store.put_lineage(Entities=request)
        session.store.create_context(ContextName="after", ContextType="T")
    assert _index_names(db) == indexes
    assert committed_artifacts(db) == 0
    with Session(f"sqlite:///{db}") as again:
        names = [c["ContextName"] for c in again.store.list_contexts()["ContextSummaries"]]
        assert sorted(names) == ["after", "taken"]


def test_a_call_whose_record_the_disk_cuts_short_fails_and_changes_nothing(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk takes part of a record: the call must fail, its writes must not commit
    # with the group, and the group's earlier calls and later ones must be kept.
    real_write = os.write

    def half_written(fd: int, data: bytes) -> int:
        return real_write(fd, data[: len(data) // 2])

    with Session(f"sqlite:///{db}") as session:
        store = session.store
        for i in range(2):
            store.create_artifact(ArtifactType="T", Source={"SourceUri": f"s3://ok/{i}"})
        with monkeypatch.context() as patch:
            patch.setattr(group_commit.os, "write", half_written)
            with pytest.raises(InternalFailure, match="short write"):
                store.create_artifact(ArtifactType="T", Source={"SourceUri": "s3://cut"})
        store.create_artifact(ArtifactType="T", Source={"SourceUri": "s3://ok/2"})
        journal = Path(f"{db}-mllineage").read_bytes()
        assert len(list(group_commit.read_records(journal))) == 3  # whole, and all of them
    with Session(f"sqlite:///{db}") as again:
        uris = {a.source["source_uri"] for a in Artifact.list(sagemaker_session=again)}
        assert uris == {f"s3://ok/{i}" for i in range(3)}
