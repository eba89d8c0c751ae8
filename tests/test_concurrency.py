"""Several processes writing to one store at once: SQLite files and PostgreSQL.

Each test starts its writers with the ``spawn`` method (a fresh interpreter, as separate
programs would be) and releases them together with a barrier. Workers report what happened
to every call instead of raising, so the parent can assert on the whole story.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mllineage.errors import ClientError
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, fresh_account_id, needs_postgres
from tests.helpers import edges_of, is_acyclic

SPAWN = multiprocessing.get_context("spawn")
TIMEOUT = 120  # seconds for a worker; a hang is a failure, not a stuck suite


# -- running workers ------------------------------------------------------------------------
def _child(
    fn: Callable[..., Any], args: tuple[Any, ...], barrier: Any, results: Any, index: int
) -> None:
    try:
        results.put((index, "ok", fn(*args, barrier)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((index, "crash", traceback.format_exc()))


Job = tuple[Callable[..., Any], tuple[Any, ...]]


def run_together(*jobs: Job, timeout: float = TIMEOUT) -> list[Any]:
    """Run each ``fn(*args, barrier)`` in a spawned process of its own; their return values
    (``timeout``: seconds to wait for each worker's result)."""
    barrier = SPAWN.Barrier(len(jobs))
    results = SPAWN.Queue()
    workers = [
        SPAWN.Process(target=_child, args=(fn, args, barrier, results, i))
        for i, (fn, args) in enumerate(jobs)
    ]
    for worker in workers:
        worker.start()
    outcomes: dict[int, Any] = {}
    try:
        for _ in workers:
            index, status, value = results.get(timeout=timeout)
            assert status == "ok", f"worker {index} crashed:\n{value}"
            outcomes[index] = value
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
                worker.join()
        results.close()
        results.join_thread()
    return [outcomes[i] for i in range(len(jobs))]


def outcome(call: Callable[[], Any]) -> str:
    """ "ok", or the error code of the ClientError the call raised (anything else escapes)."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


# -- the stores -------------------------------------------------------------------------------
@pytest.fixture(
    params=[
        pytest.param("sqlite-file", id="sqlite-file"),
        pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, needs_postgres]),
    ]
)
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(URL, account) of an empty store that several processes can open."""
    if request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        account = "000000000000"
    else:
        assert POSTGRES_URL
        url, account = POSTGRES_URL, fresh_account_id()
    SqlStore(url, account_id=account).close()  # create the schema before the race
    return url, account


@pytest.fixture
def parent(shared: tuple[str, str]) -> Iterator[SqlStore]:
    """The parent's own view of the shared store."""
    store = SqlStore(shared[0], account_id=shared[1])
    yield store
    store.close()


# -- many writers on one SQLite file ----------------------------------------------------------
def write_lineage(url: str, account: str, tag: str, count: int, barrier: Any) -> list[str]:
    """Create ``count`` artifacts chained by associations, and an action fed by all of them;
    every call must succeed."""
    store = SqlStore(url, account_id=account)
    try:
        barrier.wait()
        arns: list[str] = []
        for i in range(count):
            arn = store.create_artifact(
                ArtifactType="Dataset", Source={"SourceUri": f"s3://b/{tag}/{i}"}
            )["ArtifactArn"]
            if arns:
                store.add_association(SourceArn=arns[-1], DestinationArn=arn)
            arns.append(arn)
            if i % 50 == 0:  # readers interleave with the writers
                store.list_artifacts(SourceUri=f"s3://b/{tag}")
        job = store.create_action(ActionName=f"job-{tag}", ActionType="Training")["ActionArn"]
        store.add_association(SourceArn=arns[-1], DestinationArn=job)
        return arns
    finally:
        store.close()


def test_processes_write_one_sqlite_file_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    SqlStore(url).close()
    count, writers = 250, 3
    created = run_together(
        *[(write_lineage, (url, "000000000000", f"w{i}", count)) for i in range(writers)]
    )
    store = SqlStore(url)
    try:
        listed = {
            a["ArtifactArn"]
            for a in store.paginate("list_artifacts", "ArtifactSummaries", MaxResults=100)
        }
        assert listed == {arn for arns in created for arn in arns}
        assert len(listed) == count * writers
        edges = edges_of(store)
        assert len(edges) == writers * count  # count - 1 chain links and one into the job
        for arns in created:
            assert set(zip(arns, arns[1:], strict=False)) <= edges
    finally:
        store.close()


# -- racing writers never close a cycle -------------------------------------------------------
def add_each(url: str, account: str, pairs: list[tuple[str, str]], barrier: Any) -> list[str]:
    """Add each association, all workers in step: the outcome of every call."""
    store = SqlStore(url, account_id=account)
    try:
        results = []
        for source, destination in pairs:
            barrier.wait()
            results.append(
                outcome(
                    lambda s=source, d=destination: store.add_association(
                        SourceArn=s, DestinationArn=d
                    )
                )
            )
        return results
    finally:
        store.close()


def make_artifacts(store: SqlStore, count: int) -> list[str]:
    with store.batch():
        return [
            store.create_artifact(ArtifactType="Race", Source={"SourceUri": f"s3://race/{i}"})[
                "ArtifactArn"
            ]
            for i in range(count)
        ]


def test_opposite_associations_race(shared: tuple[str, str], parent: SqlStore) -> None:
    rounds = 100
    arns = make_artifacts(parent, 2 * rounds)
    pairs = [(arns[2 * i], arns[2 * i + 1]) for i in range(rounds)]
    forward, backward = run_together(
        (add_each, (*shared, pairs)), (add_each, (*shared, [(b, a) for a, b in pairs]))
    )
    for i, outcomes in enumerate(zip(forward, backward, strict=True)):
        assert sorted(outcomes) == ["ValidationException", "ok"], f"round {i}: {outcomes}"
    edges = edges_of(parent)
    assert len(edges) == rounds
    assert is_acyclic(edges)


def test_triangles_race(shared: tuple[str, str], parent: SqlStore) -> None:
    rounds = 40
    arns = make_artifacts(parent, 3 * rounds)
    triangles = [arns[3 * i : 3 * i + 3] for i in range(rounds)]
    sides = [[(t[k], t[(k + 1) % 3]) for t in triangles] for k in range(3)]
    results = run_together(*[(add_each, (*shared, side)) for side in sides])
    for i, outcomes in enumerate(zip(*results, strict=True)):
        assert sorted(outcomes) == ["ValidationException", "ok", "ok"], f"round {i}: {outcomes}"
    edges = edges_of(parent)
    assert len(edges) == 2 * rounds
    assert is_acyclic(edges)


# -- deleting an entity while another process links it ----------------------------------------
def delete_each(url: str, account: str, arns: list[str], barrier: Any) -> list[str]:
    store = SqlStore(url, account_id=account)
    try:
        results = []
        for arn in arns:
            barrier.wait()
            results.append(outcome(lambda a=arn: store.delete_artifact(ArtifactArn=a)))
        return results
    finally:
        store.close()


def test_delete_races_add_association(shared: tuple[str, str], parent: SqlStore) -> None:
    rounds = 60
    arns = make_artifacts(parent, 2 * rounds)
    doomed, kept = arns[::2], arns[1::2]
    linked, deleted = run_together(
        (add_each, (*shared, list(zip(doomed, kept, strict=True)))),
        (delete_each, (*shared, doomed)),
    )
    assert deleted == ["ok"] * rounds
    assert set(linked) <= {"ok", "ResourceNotFound"}, linked
    assert edges_of(parent) == set()  # a link that won the race went with its source
