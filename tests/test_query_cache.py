"""The graph cache of lineage queries on an SQLite file is never staler than the file.

Every test warms the cache with a query, changes the graph some way, and checks the next query
sees exactly the change (and that an answer never depends on whether the cache was warm).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mllineage import Session, limits
from mllineage.api.transfer import export_store, import_store
from mllineage.errors import ResourceLimitExceeded, ResourceNotFound
from mllineage.store.sql.engine import Database
from mllineage.store.sql.graph_cache import GraphCache
from mllineage.store.sql.store import SqlStore
from tests.conftest import NO_POSTGRES, POSTGRES_URL
from tests.helpers import action, artifact, chain, link, refused

OTHER_ACCOUNT = "222222222222"


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "lineage.db")


@pytest.fixture
def store(path: str) -> Iterator[SqlStore]:
    with_cache = SqlStore(f"sqlite:///{path}")
    yield with_cache
    with_cache.close()


def graph(store: SqlStore, start: str, **request: Any) -> dict[str, Any]:
    request.setdefault("Direction", "Both")
    request.setdefault("MaxDepth", 20)
    return store.lineage_graph(StartArns=[start], **request)


def arns(answer: dict[str, Any]) -> set[str]:
    return {v["Arn"] for v in answer["Vertices"]}


def edges(answer: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["SourceArn"], e["DestinationArn"]) for e in answer["Edges"]}


def warm(store: SqlStore, start: str) -> dict[str, Any]:
    """Query twice (the second from the cache); both answers agree."""
    first = graph(store, start)
    assert graph(store, start) == first
    return first


def test_only_sqlite_files_have_a_cache(store: SqlStore) -> None:
    assert store.db.graph_cache is not None
    assert Database("sqlite://").graph_cache is None


@pytest.mark.skipif(POSTGRES_URL is None, reason=NO_POSTGRES)
def test_postgres_has_no_cache() -> None:
    assert POSTGRES_URL is not None
    database = Database(POSTGRES_URL)
    assert database.graph_cache is None
    database.dispose()


def test_a_warm_answer_equals_the_uncached_one(store: SqlStore, path: str) -> None:
    data = chain(store, 5)
    job = action(store)
    link(store, data[2], job)
    store.update_artifact(ArtifactArn=data[1], Properties={"owner": "ml"})
    warmed = warm(store, data[0])
    fresh = SqlStore(f"sqlite:///{path}")
    assert fresh.lineage_graph(StartArns=[data[0]], Direction="Both", MaxDepth=20) == warmed
    fresh.close()
    for direction in ("Ascendants", "Descendants"):
        for include_edges in (True, False):
            request = {"Direction": direction, "IncludeEdges": include_edges}
            assert graph(store, data[2], **request) == graph(store, data[2], **request)
    short = store.query_lineage(StartArns=[data[4]], Direction="Ascendants", MaxDepth=2)
    assert len(short["Vertices"]) == 3


def test_a_remembered_walk_answers_as_a_new_walk(
    store: SqlStore, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = chain(store, 4)
    link(store, data[1], action(store))
    variants: list[dict[str, Any]] = [
        {"Filters": {"LineageTypes": ["Action"]}},
        {},
        {"IncludeEdges": False},
        {"Filters": {"Types": ["Dataset"]}, "IncludeEdges": False},
    ]
    for request in variants:  # the first walks; the others reuse its walk
        new = SqlStore(f"sqlite:///{path}")
        assert graph(store, data[0], **request) == graph(new, data[0], **request)
        new.close()
    monkeypatch.setattr(limits, "QUERY_MAX_VERTICES", 3)
    with refused(ResourceLimitExceeded, "more than 3 vertices"):
        graph(store, data[0])
    assert len(graph(store, data[0], Filters={"LineageTypes": ["Action"]})["Vertices"]) == 1
    monkeypatch.setattr(store, "query_timeout", 0.0)  # the time limit too
    with refused(ResourceLimitExceeded, "ran longer than"):
        graph(store, data[0], Filters={"LineageTypes": ["Action"]})


def test_changing_a_returned_answer_does_not_change_the_next(store: SqlStore) -> None:
    data = chain(store, 2)
    first = warm(store, data[0])
    first["Vertices"][0]["Properties"]["artifact_type"] = "Changed"
    first["Vertices"][0]["Properties"]["new"] = "x"
    again = graph(store, data[0])
    assert again["Vertices"][0]["Properties"]["artifact_type"] == "Dataset"
    assert "new" not in again["Vertices"][0]["Properties"]


def test_sees_writes_of_the_same_store(store: SqlStore) -> None:
    data = chain(store, 3)
    warm(store, data[0])
    extra = artifact(store)
    link(store, data[2], extra)
    assert extra in arns(graph(store, data[0]))
    store.update_artifact(ArtifactArn=extra, Properties={"stage": "gold"})
    [vertex] = [v for v in graph(store, data[0])["Vertices"] if v["Arn"] == extra]
    assert vertex["Properties"]["stage"] == "gold"
    store.delete_association(SourceArn=data[2], DestinationArn=extra)
    assert extra not in arns(graph(store, data[0]))
    store.delete_artifact(ArtifactArn=data[1])
    assert arns(graph(store, data[0])) == {data[0]}


def test_sees_writes_of_another_store_on_the_file(store: SqlStore, path: str) -> None:
    data = chain(store, 3)
    warm(store, data[0])
    other = SqlStore(f"sqlite:///{path}")  # its own engine and connections
    extra = artifact(other)
    link(other, data[2], extra)
    assert extra in arns(graph(store, data[0]))
    other.update_artifact(ArtifactArn=data[1], Properties={"k": "v"})
    assert {v["Arn"]: v for v in graph(store, data[0])["Vertices"]}[data[1]]["Properties"][
        "k"
    ] == "v"
    other.close()


WRITER = """
import sys
from mllineage.store.sql.store import SqlStore
from mllineage.api.transfer import export_store, import_store
store = SqlStore("sqlite:///" + sys.argv[1])
new = store.create_action(ActionName="from-another-process", ActionType="Training")["ActionArn"]
store.add_association(SourceArn=sys.argv[2], DestinationArn=new)
store.delete_artifact(ArtifactArn=sys.argv[3])
print(new)
"""


def write_from_another_process(path: str, source: str, doomed: str) -> str:
    """Run WRITER in a child process: a new action linked from ``source``, ``doomed`` deleted;
    the new action's ARN."""
    return subprocess.run(
        [sys.executable, "-c", WRITER, path, source, doomed],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_sees_writes_of_another_process(store: SqlStore, path: str) -> None:
    data = chain(store, 3)
    warm(store, data[0])
    new = write_from_another_process(path, data[0], data[2])
    assert arns(graph(store, data[0])) == {data[0], data[1], new}


def test_a_rolled_back_batch_leaves_no_trace(store: SqlStore) -> None:
    data = chain(store, 2)
    warm(store, data[0])

    def write_then_fail() -> None:
        with store.batch():
            extra = artifact(store)
            link(store, data[1], extra)
            store.update_artifact(ArtifactArn=data[1], Properties={"k": "uncommitted"})
            inside = graph(store, data[0])
            assert extra in arns(inside)  # the batch reads its own writes
            assert graph(store, data[0]) == inside
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError, match="undo"):
        write_then_fail()
    after = graph(store, data[0])
    assert arns(after) == set(data)
    assert all("k" not in v["Properties"] for v in after["Vertices"])


def test_a_committed_batch_is_seen(store: SqlStore) -> None:
    data = chain(store, 2)
    with store.batch():
        warm(store, data[0])
        extra = artifact(store)
        link(store, data[1], extra)
    assert extra in arns(graph(store, data[0]))


def test_sees_an_import(store: SqlStore, path: str, tmp_path: Path) -> None:
    data = chain(store, 3)
    with Session(f"sqlite:///{path}") as session:
        export_store(session, tmp_path / "dump.jsonl")
    for arn in data:
        store.delete_artifact(ArtifactArn=arn)
    kept = artifact(store)
    warm(store, kept)
    with Session(f"sqlite:///{path}") as session:
        import_store(session, tmp_path / "dump.jsonl")
    assert arns(warm(store, data[0])) == set(data)


def test_time_travel_is_unaffected(store: SqlStore) -> None:
    data = chain(store, 3)
    before = store.describe_artifact(ArtifactArn=artifact(store))["CreationTime"]
    warm(store, data[0])
    store.delete_artifact(ArtifactArn=data[2])
    store.update_artifact(ArtifactArn=data[1], Properties={"k": "later"})
    warm(store, data[0])
    past = graph(store, data[0], AsOf=before)
    assert arns(past) == set(data)
    assert all("k" not in v["Properties"] for v in past["Vertices"])
    assert arns(graph(store, data[0])) == set(data[:2])


def test_accounts_sharing_the_file_stay_apart(store: SqlStore) -> None:
    data = chain(store, 3)
    warm(store, data[0])
    theirs = store.bind(account_id=OTHER_ACCOUNT)
    with refused(ResourceNotFound, "no artifact"):
        graph(theirs, data[0])
    own = chain(theirs, 2)
    assert arns(warm(theirs, own[0])) == set(own)
    assert arns(graph(store, data[0])) == set(data)


def test_a_full_cache_starts_over(path: str) -> None:
    store = SqlStore(f"sqlite:///{path}")
    assert store.db.graph_cache is not None
    store.db.graph_cache.max_entries = 3
    data = chain(store, 6)
    answers = [warm(store, start) for start in data]
    assert all(arns(answer) == set(data) for answer in answers)
    gen = store.db.graph_cache.current()
    assert gen.entries <= 3 + 3 * len(data)
    store.close()


def test_a_generation_ends_with_any_commit(store: SqlStore, path: str) -> None:
    data = chain(store, 2)
    cache = store.db.graph_cache
    assert isinstance(cache, GraphCache)
    gen = cache.current()
    assert cache.current() is gen
    assert cache.still_current(gen)
    other = SqlStore(f"sqlite:///{path}")
    other.update_artifact(ArtifactArn=data[0], Properties={"k": "v"})
    assert not cache.still_current(gen)
    assert cache.current() is not gen
    other.close()


def test_answers_stay_whole_while_another_thread_writes(store: SqlStore) -> None:
    """A chain grows one link per commit; every answer is some whole prefix of it."""
    data = chain(store, 2)
    grown = list(data)
    done = threading.Event()
    errors: list[BaseException] = []

    def grow() -> None:
        try:
            for _ in range(30):
                grown.append(artifact(store))
                link(store, grown[-2], grown[-1])
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            done.set()

    writer = threading.Thread(target=grow)
    writer.start()
    while not done.is_set():
        answer = graph(store, data[0], Direction="Descendants", MaxDepth=100)
        found = arns(answer)
        assert found == set(grown[: len(found)])
        assert len(edges(answer)) == len(found) - 1
    writer.join()
    assert not errors
    assert arns(graph(store, data[0], Direction="Descendants", MaxDepth=100)) == set(grown)


class CommitsBeforeTheWalk(SqlStore):
    """A store whose next walk starts just after another connection commits."""

    before_walk: Any = None

    def _walk(self, *args: Any, **kwargs: Any) -> Any:
        self._commit_first()
        return super()._walk(*args, **kwargs)

    def _walk_as_of(self, *args: Any, **kwargs: Any) -> Any:
        self._commit_first()
        return super()._walk_as_of(*args, **kwargs)

    def _commit_first(self) -> None:
        if self.before_walk is not None:
            self.before_walk()
            self.before_walk = None


@pytest.mark.parametrize("as_of", [False, True], ids=["live", "as-of-later"])
def test_a_commit_during_a_query_never_mixes_two_states(path: str, as_of: bool) -> None:
    store = CommitsBeforeTheWalk(f"sqlite:///{path}")
    data = chain(store, 2)
    # An instant after the commit below: the state then is the state after it.
    at = {"AsOf": datetime.now(timezone.utc) + timedelta(days=1)} if as_of else {}
    warm(store, data[0])  # knows data[0], data[1] and their associations
    assert arns(graph(store, data[0], **at)) == set(data)
    other = SqlStore(f"sqlite:///{path}")
    extra = ""

    def commit() -> None:
        nonlocal extra
        extra = artifact(other)
        link(other, data[1], extra)
        other.update_artifact(ArtifactArn=data[0], Properties={"k": "new"})

    store.before_walk = commit
    answer = graph(store, data[0], **at)
    assert arns(answer) == {*data, extra}
    assert answer["Vertices"][0]["Properties"]["k"] == "new"
    assert graph(store, data[0], **at) == answer
    other.close()
    store.close()


# -- time travel through the cache -----------------------------------------------------------
def instant() -> datetime:
    """Now, after every change made so far and before any made later."""
    time.sleep(0.002)
    now = datetime.now(timezone.utc)
    time.sleep(0.002)
    return now


def picture(answer: dict[str, Any]) -> tuple[dict[str, dict[str, str]], set[tuple[str, ...]]]:
    """An answer, free of the order of its vertices and edges."""
    vertices = {v["Arn"]: v["Properties"] for v in answer["Vertices"]}
    return vertices, {tuple(e.values()) for e in answer["Edges"]}


def uncached(path: str, start: str, **request: Any) -> dict[str, Any]:
    """The answer of a store with no cache yet, on the same file."""
    fresh = SqlStore(f"sqlite:///{path}")
    try:
        return graph(fresh, start, **request)
    finally:
        fresh.close()


def test_as_of_serves_the_past_not_what_the_cache_holds(store: SqlStore, path: str) -> None:
    data = chain(store, 4)
    job = action(store)
    link(store, data[1], job)
    built = instant()
    live = warm(store, data[0])
    past = graph(store, data[0], AsOf=built)
    assert picture(past) == picture(live)  # nothing changed since: the present
    assert graph(store, data[0], AsOf=built) == past

    store.update_artifact(ArtifactArn=data[1], Properties={"stage": "gold"})
    gold = instant()
    extra = artifact(store)
    link(store, data[3], extra)
    store.delete_association(SourceArn=data[1], DestinationArn=job)
    store.delete_artifact(ArtifactArn=data[2])
    store.update_artifact(ArtifactArn=data[1], Properties={"stage": "platinum"})
    changed = instant()
    now = warm(store, data[0])  # the cache holds the new state now
    assert arns(now) == {data[0], data[1]}

    for _ in range(2):  # cold, then warm: each instant its own past
        assert picture(graph(store, data[0], AsOf=built)) == picture(past)
        then = {v["Arn"]: v["Properties"] for v in graph(store, data[0], AsOf=gold)["Vertices"]}
        assert then[data[1]]["stage"] == "gold"
        assert set(then) == arns(past)
        assert picture(graph(store, data[0], AsOf=changed)) == picture(now)
    assert picture(uncached(path, data[0], AsOf=built)) == picture(past)
    # The changed part replayed, the rest from the cache: a start that did not change.
    assert picture(graph(store, data[3], AsOf=built)) == picture(live)
    assert arns(graph(store, data[3], AsOf=changed)) == {data[3], extra}
    with refused(ResourceNotFound, "no artifact"):
        graph(store, data[2], AsOf=changed)


def test_as_of_keeps_filters_edges_and_accounts(store: SqlStore, path: str) -> None:
    data = chain(store, 3)
    store.update_artifact(ArtifactArn=data[1], Properties={"k": "v"})
    built = instant()
    theirs = store.bind(account_id=OTHER_ACCOUNT)
    with refused(ResourceNotFound, "no artifact"):
        graph(theirs, data[0], AsOf=built)
    store.update_artifact(ArtifactArn=data[1], Properties={"k": "w"})
    for when in (built, instant()):
        for request in (
            {"Filters": {"Properties": {"k": "v"}}},
            {"IncludeEdges": False},
            {"Direction": "Descendants", "MaxDepth": 1},
        ):
            warm(store, data[0])
            cached = graph(store, data[0], AsOf=when, **request)
            assert picture(cached) == picture(uncached(path, data[0], AsOf=when, **request))
    filtered = graph(store, data[0], AsOf=built, Filters={"Properties": {"k": "v"}})
    assert arns(filtered) == {data[1]}
    assert graph(store, data[0], AsOf=built, IncludeEdges=False)["Edges"] == []
    for start in data:  # replayed (data[1]) or not, what one account read stays its own
        assert arns(graph(store, start, AsOf=built)) == set(data)
        with refused(ResourceNotFound, "no artifact"):
            graph(theirs, start, AsOf=built)


def test_as_of_sees_another_process_commit_between_queries(store: SqlStore, path: str) -> None:
    data = chain(store, 3)
    built = instant()
    past = warm(store, data[0])
    assert picture(graph(store, data[0], AsOf=built)) == picture(past)
    new = write_from_another_process(path, data[0], data[2])
    assert picture(graph(store, data[0], AsOf=built)) == picture(past)
    assert arns(graph(store, data[0], AsOf=instant())) == {data[0], data[1], new}
