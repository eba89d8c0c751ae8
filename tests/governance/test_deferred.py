"""A PutLineage keeps its creations' changes in the rows it makes (``deferred.py``): it writes
no change row per item, gives each creation the id it would have had in the log, and the
change reaches ``changes`` under that id before its row changes or goes, or by a prune."""

from __future__ import annotations

from typing import Any

import pytest

from mllineage.store.common import now_us, us_to_datetime
from mllineage.store.sql.store import SqlStore
from tests.conftest import needs_postgres, open_backend


@pytest.fixture(params=["sqlite-file", pytest.param("postgres", marks=needs_postgres)])
def sql_store(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    store = open_backend(request.param, request, tmp_path)
    assert isinstance(store, SqlStore)
    yield store
    if request.param != "postgres":  # (the session's shared engine stays open)
        store.close()


def _all(store: SqlStore, sql: str, *params: Any) -> list[Any]:
    return store.db.run(lambda conn: conn.exec_driver_sql(sql, params).all(), write=False)


def _log_ids(store: SqlStore, arns: list[str]) -> dict[str, int | None]:
    mark = "?" if store.db.is_sqlite else "%s"
    return {
        arn: log_id
        for arn in arns
        for (log_id,) in _all(store, f"SELECT log_id FROM entities WHERE arn = {mark}", arn)
    }


def _changes(store: SqlStore) -> list[Any]:
    mark = "?" if store.db.is_sqlite else "%s"
    return _all(
        store, f"SELECT id, op, arn FROM changes WHERE scope = {mark} ORDER BY id", store.scope
    )


def _edge_log_ids(store: SqlStore) -> list[int | None]:
    mark = "?" if store.db.is_sqlite else "%s"
    sql = f"SELECT log_id FROM associations WHERE scope = {mark}"
    return [log_id for (log_id,) in _all(store, sql, store.scope)]


def test_put_lineage_writes_no_change_per_item(sql_store: SqlStore) -> None:
    store = sql_store
    arns = store.put_lineage(
        Entities=[
            {
                "EntityKind": "artifact",
                "ArtifactType": "Dataset",
                "Source": {"SourceUri": f"s3://d/{i}"},
            }
            for i in range(100)
        ],
        Associations=[{"Source": i, "Destination": i + 1} for i in range(0, 100, 2)],
    )["Arns"]
    written = _changes(store)
    # On SQLite one marker keeps the block of ids free; PostgreSQL draws them from its sequence.
    assert [op for _, op, _ in written] == (["PutLineage"] if store.db.is_sqlite else [])
    kept = _log_ids(store, arns)
    assert None not in kept.values()
    assert len(set(kept.values())) == 100
    edge_ids = _edge_log_ids(store)
    assert len(set(edge_ids)) == 50
    assert not set(edge_ids) & set(kept.values())
    assert min(edge_ids) > max(kept.values())  # entities first, as the log orders them

    # A later change takes an id above every kept one (a single create on an SQLite file keeps
    # its creation in its row too, with an id of its group's block; PostgreSQL logs it).
    after = store.create_action(ActionName="after", ActionType="Training")["ActionArn"]
    if store.db.is_sqlite:
        assert _log_ids(store, [after])[after] > max(edge_ids)
    else:
        later = _changes(store)[-1]
        assert later[1] == "CreateAction"
        assert later[0] > max(edge_ids)

    # Updating an entity writes its creation first, under the id it was given.
    store.update_artifact(ArtifactArn=arns[4], Properties={"v": "2"})
    created = [c for c in _changes(store) if c[2] == arns[4]]
    assert [(c[0], c[1]) for c in created][0] == (kept[arns[4]], "CreateArtifact")
    assert [c[1] for c in created] == ["CreateArtifact", "UpdateArtifact"]
    assert _log_ids(store, [arns[4]]) == {arns[4]: None}
    assert _log_ids(store, [arns[5]]) == {arns[5]: kept[arns[5]]}

    # A prune writes out (and then prunes) every creation kept before its instant.
    store.prune_history(Before=us_to_datetime(now_us()))
    assert set(_log_ids(store, arns).values()) == {None}
    assert _edge_log_ids(store) == [None] * 50
    assert "PutLineage" not in [op for _, op, _ in _changes(store)]
    history = store.list_changes(Arn=arns[5])["Changes"]
    assert [c["Operation"] for c in history] == ["AddAssociation", "Snapshot"]


def test_as_of_reads_each_accounts_kept_creations(tmp_path: Any) -> None:
    """Accounts of one SQLite file share its graph cache; what changed since an instant is
    each account's own (another account's answer at the same instant must not be reused)."""
    mine = SqlStore(f"sqlite:///{tmp_path / 'shared.db'}")
    theirs = mine.bind(account_id="111111111111")
    try:
        starts = {}
        for store in (mine, theirs):
            starts[store.account_id] = store.create_action(ActionName="run", ActionType="T")[
                "ActionArn"
            ]
        then = us_to_datetime(now_us())
        for store in (mine, theirs):
            store.put_lineage(
                Entities=[{"EntityKind": "artifact", "ArtifactType": "Model"}],
                Associations=[{"Source": starts[store.account_id], "Destination": 0}],
            )
        for store in (mine, theirs):
            start = starts[store.account_id]
            past = store.lineage_graph(StartArns=[start], Direction="Both", AsOf=then)
            assert [v["Arn"] for v in past["Vertices"]] == [start]
            now = store.lineage_graph(StartArns=[start], Direction="Both")
            assert len(now["Vertices"]) == 2
    finally:
        theirs.close()
        mine.close()


def test_a_prune_between_single_creates_keeps_their_ids_apart(tmp_path: Any) -> None:
    """Single creates on an SQLite file share a block of change ids, whose marker a prune may
    delete while later creations of the block are still kept in their rows: the prune leaves a
    marker above them, so no later change takes one of their ids."""
    store = SqlStore(f"sqlite:///{tmp_path / 'prune.db'}")
    try:
        first = store.create_action(ActionName="first", ActionType="T")["ActionArn"]
        between = us_to_datetime(now_us())
        second = store.create_action(ActionName="second", ActionType="T")["ActionArn"]
        store.prune_history(Before=between)
        third = store.create_action(ActionName="third", ActionType="T")["ActionArn"]
        for arn in (first, second, third):
            store.update_action(ActionName=arn.rsplit("/", 1)[1], Properties={"v": "2"})
        for arn in (second, third):
            ops = [c["Operation"] for c in store.list_changes(Arn=arn)["Changes"]]
            assert ops == ["UpdateAction", "CreateAction"]
        ops = [c["Operation"] for c in store.list_changes(Arn=first)["Changes"]]
        assert ops == ["UpdateAction", "Snapshot"]
    finally:
        store.close()
