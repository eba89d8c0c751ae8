"""No full-table scans on the lineage paths: every statement that a lineage query or an
association write issues is answered from an index, on SQLite and on PostgreSQL; and a list
page after a NextToken starts with a seek past the last row, not a read of its ties.

The statements are captured from real store calls (SQLite's trace callback; PostgreSQL's
auto_explain, which reports each executed statement's plan as a notice), so the test follows
the store's SQL wherever it changes. The graph is large enough, and analysed, for a planner to
prefer a scan if the indexes did not serve.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from mllineage.errors import ValidationException
from mllineage.store.sql.bulk import ANALYZE_MIN_ROWS
from mllineage.store.sql.graph_sql import _rows
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, fresh_account_id, needs_postgres
from tests.helpers import (
    action,
    artifact,
    bulk_artifacts,
    bulk_links,
    chain_request,
    context,
    link,
    unique,
)

# What graph_sql.py sends, by dialect: each must be seen (and pass) or the test proves nothing.
GRAPH_SQL = {
    "neighbours forward": r"SELECT dst_id FROM associations WHERE src_id",
    "neighbours backward": r"SELECT src_id FROM associations WHERE dst_id",
    "positions": r"SELECT id, COALESCE\(topo, id\) FROM entities WHERE id",
    "hop forward": r"SELECT src_id, dst_id, type FROM associations WHERE src_id",
    "hop backward": r"SELECT src_id, dst_id, type FROM associations WHERE dst_id",
    "fetch vertices": r"FROM entities WHERE id (IN|= ANY)",
}


def build_graph(store: SqlStore, width: int, ballast: int) -> dict[str, Any]:
    """A root with ``width`` children of ``width`` children each (loaded in bulk), a small
    pipeline made through the API, ``ballast`` unrelated pairs of linked entities (the rest of
    the store, many times the size of what the calls touch) and fresh statistics."""
    others = bulk_artifacts(store, 2 * ballast)
    bulk_links(store, zip(others[::2], others[1::2], strict=True))
    [root] = bulk_artifacts(store, 1)
    children = bulk_artifacts(store, width)
    leaves = bulk_artifacts(store, width * width)
    bulk_links(
        store,
        [(root, c) for c in children] + [(children[i // width], x) for i, x in enumerate(leaves)],
    )
    data = artifact(store, "s3://plan/data", Properties={"split": "train"})
    job = action(store, "plan-job")
    model = artifact(store, "s3://plan/model", ArtifactType="Model")
    ctx = context(store, "plan-ctx")
    link(store, data, job)
    link(store, job, model)
    link(store, model, ctx)
    store.db.run(lambda conn: [conn.exec_driver_sql(f"ANALYZE {t}") for t in TABLES], write=True)
    return {"root": root, "children": children, "leaves": leaves, "pipeline": [data, job, model]}


TABLES = ("entities", "associations")


def exercise(store: SqlStore, graph: dict[str, Any]) -> None:
    """The lineage paths: queries in every direction, and association writes that take the
    fast path, the relocation of a small closure and the Pearce-Kelly reorder."""
    data, job, model = graph["pipeline"]
    for direction in ("Ascendants", "Descendants", "Both"):
        store.query_lineage(StartArns=[job], Direction=direction, MaxDepth=5)
    store.query_lineage(
        StartArns=[graph["root"]], Direction="Descendants", MaxDepth=1, IncludeEdges=True
    )
    store.lineage_graph(
        StartArns=[model], Direction="Ascendants", Filters={"Properties": {"split": "train"}}
    )
    output, source = artifact(store), artifact(store)
    link(store, model, output)  # older -> newer: the fast path
    link(store, source, data)  # newer -> older, a small closure: relocation
    link(store, artifact(store), graph["root"])  # a closure past the budget: Pearce-Kelly
    store.delete_association(SourceArn=model, DestinationArn=output)
    store.delete_artifact(ArtifactArn=source)


def check_graph_sql_seen(statements: list[str]) -> None:
    for name, pattern in GRAPH_SQL.items():
        assert any(re.search(pattern, s) for s in statements), f"{name} was never issued"


# -- SQLite ---------------------------------------------------------------------------------
@contextmanager
def sqlite_statements(store: SqlStore) -> Iterator[list[str]]:
    """Every SQL statement the store sends to SQLite in the block, with its values inlined."""
    statements: list[str] = []

    def trace(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    engines = [store.db.engine]
    writer = store.db.group
    if writer is not None:  # writes go through the file's group writer, on its own engine
        engines.append(writer.engine)
        with writer.mutex:  # its connection is checked out again, with the trace
            writer.flush()
            if writer._conn is not None:
                writer._conn.close()
                writer._conn = None
    for engine in engines:
        event.listen(engine, "checkout", trace)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "checkout", trace)


def sqlite_plan(store: SqlStore, statement: str) -> list[str]:
    rows = store.db.run(
        lambda conn: conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}").all(), write=False
    )
    return [row[3] for row in rows]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'plan.db'}")
    yield store
    store.close()


def test_sqlite_lineage_paths_use_indexes(sqlite_store: SqlStore) -> None:
    graph = build_graph(sqlite_store, width=50, ballast=25_000)
    with sqlite_statements(sqlite_store) as statements:
        exercise(sqlite_store, graph)
    check_graph_sql_seen(statements)
    explained = [s for s in statements if re.match(r"\s*(SELECT|UPDATE|DELETE|WITH)\b", s)]
    assert len(explained) > 20
    for statement in explained:
        plan = sqlite_plan(sqlite_store, statement)
        scans = [s for s in plan if s.startswith("SCAN ") and s != "SCAN CONSTANT ROW"]
        assert not scans, f"{statement}\n  scans: {scans}\n  plan: {plan}"
        last_id = re.fullmatch(r"SELECT MAX\(id\) FROM (\w+)", statement.strip())
        if last_id and plan == [f"SEARCH {last_id[1]}"]:
            continue  # (the last rowid, read from the end of the table's own b-tree)
        assert any(re.search(r"USING .*(INDEX|PRIMARY KEY)", step) for step in plan), (
            f"{statement}\n  plan: {plan}"
        )


def test_sqlite_hop_plans_name_their_index(sqlite_store: SqlStore) -> None:
    graph = build_graph(sqlite_store, width=10, ballast=5_000)
    with sqlite_statements(sqlite_store) as statements:
        exercise(sqlite_store, graph)
    hops = [s for s in statements if "FROM associations" in s and " IN (" in s]
    assert hops
    for statement in hops:
        plan = " | ".join(sqlite_plan(sqlite_store, statement))
        assert re.search(r"SEARCH associations USING (PRIMARY KEY|COVERING INDEX)", plan), plan
    fetches = [s for s in statements if "FROM entities WHERE id IN (" in s]
    assert fetches
    for statement in fetches:
        plan = " | ".join(sqlite_plan(sqlite_store, statement))
        assert plan == "SEARCH entities USING INTEGER PRIMARY KEY (rowid=?)", plan


# -- PostgreSQL -----------------------------------------------------------------------------
INDEX_SCAN = r"Index (Only )?Scan (using|on) ({})"  # plain, index-only or bitmap


@contextmanager
def postgres_plans(store: SqlStore) -> Iterator[list[str]]:
    """The plan of every statement the store runs in the block, from auto_explain."""
    plans: list[str] = []

    def explain(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("LOAD 'auto_explain'")
            cursor.execute("SET auto_explain.log_min_duration = 0")
            cursor.execute("SET auto_explain.log_level = 'notice'")
            cursor.execute("SET client_min_messages = 'notice'")
        dbapi_connection.add_notice_handler(lambda notice: plans.append(notice.message_primary))

    event.listen(store.db.engine, "checkout", explain)
    try:
        yield plans
    finally:
        event.remove(store.db.engine, "checkout", explain)


@pytest.fixture
def postgres_store() -> Iterator[SqlStore]:
    """A store with an engine of its own (its connections get auto_explain)."""
    if not POSTGRES_URL:
        pytest.skip("MLLINEAGE_TEST_POSTGRES_URL is not set")
    store = SqlStore(POSTGRES_URL, account_id=fresh_account_id())
    yield store
    store.close()


@needs_postgres
@pytest.mark.postgres
def test_postgres_lineage_paths_use_indexes(postgres_store: SqlStore) -> None:
    graph = build_graph(postgres_store, width=50, ballast=25_000)
    with postgres_plans(postgres_store) as plans:
        exercise(postgres_store, graph)
    statements = [p for p in plans if "Query Text:" in p]
    check_graph_sql_seen(statements)
    on_graph = [p for p in statements if re.search(r"\b(entities|associations)\b", p)]
    assert len(on_graph) > 20
    for plan in on_graph:
        assert not re.search(r"Seq Scan on (entities|associations)", plan), plan
    hops = [p for p in on_graph if re.search(r"FROM associations WHERE \w+ = ANY", p)]
    assert len(hops) > 5
    for plan in hops:
        assert re.search(INDEX_SCAN.format("associations_pkey|ix_associations_dst"), plan), plan
    fetches = [p for p in on_graph if re.search(r"FROM entities WHERE id = ANY", p)]
    assert fetches
    for plan in fetches:
        assert re.search(INDEX_SCAN.format("entities_pkey"), plan), plan


# -- list pages -----------------------------------------------------------------------------
def page_through_ties(store: SqlStore) -> None:
    """Every page, 5 rows each, of lists whose rows share a creation time (one bulk call), in
    both orders: unfiltered, by type and by name."""
    store.put_lineage(
        Entities=[
            {"EntityKind": "action", "ActionName": f"tie-{i}", "ActionType": "Tie"}
            for i in range(30)
        ],
        Associations=[{"Source": i, "Destination": i + 1} for i in range(29)],
    )
    for order in ("Ascending", "Descending"):
        for method, key, request in (
            ("list_actions", "ActionSummaries", {}),
            ("list_actions", "ActionSummaries", {"ActionType": "Tie"}),
            ("list_actions", "ActionSummaries", {"SortBy": "Name"}),
            ("list_associations", "AssociationSummaries", {}),
        ):
            rows = list(store.paginate(method, key, SortOrder=order, MaxResults=5, **request))
            assert len(rows) == (29 if method == "list_associations" else 30)


def test_sqlite_list_pages_seek_past_the_last_row(sqlite_store: SqlStore) -> None:
    bulk_artifacts(sqlite_store, 2_000)  # (other rows, for the planner to prefer an index)
    with sqlite_statements(sqlite_store) as statements:
        page_through_ties(sqlite_store)
    # The rest of a tie: the sort value and the tie-breakers (an id, or an association's two
    # ends) are all constraints of the index search, not filters on a range of sort values.
    rest = [s for s in statements if re.search(r"\((entities\.id|associations\.src_id)", s)]
    assert len(rest) > 20
    seek = r"(created_at|name)=\? AND (id[<>]\?|\(src_id,dst_id\)[<>]\(\?,\?\))"
    for statement in rest:
        plan = " | ".join(sqlite_plan(sqlite_store, statement))
        assert re.search(seek, plan), f"{statement}\n  {plan}"
    # Ties go the sort's way, so one index gives the whole order of every page, in both
    # orders: the database sorts nothing (it sorted a page's first tie, ties the other way).
    pages = [s for s in statements if re.search(r"FROM (entities|associations).*ORDER BY", s, re.S)]
    assert len(pages) > 40
    for statement in pages:
        plan = " | ".join(sqlite_plan(sqlite_store, statement))
        assert "TEMP B-TREE" not in plan, f"{statement}\n  {plan}"


def test_sqlite_a_list_under_a_source_uri_reads_the_artifacts_under_it(
    sqlite_store: SqlStore,
) -> None:
    # Among many artifacts made since, the few under a URI are found through the source-URI
    # index and sorted, not by walking every artifact newest first for the few that match.
    under = [artifact(sqlite_store, f"s3://b/raw/{i}") for i in range(3)]
    artifact(sqlite_store, "s3://b/raw-2/x")  # (in the index range, not under the URI)
    bulk_artifacts(sqlite_store, 2_000)
    with sqlite_statements(sqlite_store) as statements:
        listed = list(
            sqlite_store.paginate(
                "list_artifacts", "ArtifactSummaries", SourceUri="s3://b/raw", MaxResults=2
            )
        )
    assert [s["ArtifactArn"] for s in listed] == under[::-1]
    lists = [s for s in statements if re.search(r"FROM entities.*source_uri >=", s, re.S)]
    assert lists
    for statement in lists:
        plan = " | ".join(sqlite_plan(sqlite_store, statement))
        assert "USING INDEX ux_entities_source" in plan, f"{statement}\n  {plan}"


@needs_postgres
@pytest.mark.postgres
def test_postgres_list_pages_seek_past_the_last_row(postgres_store: SqlStore) -> None:
    with postgres_plans(postgres_store) as plans:
        page_through_ties(postgres_store)
    rest = [p for p in plans if re.search(r"\((entities\.id|associations\.src_id)", p)]
    assert len(rest) > 20
    for plan in rest:  # (a seek past the last row's tie-breakers, whichever index serves it)
        assert "Seq Scan" not in plan, plan
        assert re.search(r"Index Cond: .*(\bid [<>]|ROW\(src_id, dst_id\) [<>])", plan), plan


@needs_postgres
@pytest.mark.postgres
def test_postgres_a_large_put_lineage_refreshes_the_statistics(postgres_store: SqlStore) -> None:
    # Autovacuum may be off (it is on this project's machines) or not have come round yet:
    # the call itself has the planner's statistics count the rows it added.
    def known() -> float:
        sql = "SELECT reltuples FROM pg_class WHERE oid = 'associations'::regclass"
        return float(postgres_store.db.run(lambda conn: _rows(conn, sql, ())[0][0], write=False))

    before = max(known(), 0)
    count = max(ANALYZE_MIN_ROWS, int(before / 4))  # (well past a tenth of the table)
    if count > 60_000:
        pytest.skip(f"the test database's associations ({before:,.0f}) need too large a call")
    postgres_store.put_lineage(**chain_request(count + 1, unique()))
    assert known() >= (before + count) * 0.9  # (ANALYZE estimates a large table from a sample)


@needs_postgres
@pytest.mark.postgres
def test_postgres_source_lookups_read_the_source_index(postgres_store: SqlStore) -> None:
    # There the index keys a URI's first characters (a whole one may pass its entry limit):
    # lists under a URI and lookups by source must still read through it.
    store = postgres_store
    sources = [{"SourceUri": f"s3://plan/raw/{i}/part"} for i in range(20_000)]
    store.put_lineage(
        Entities=[{"EntityKind": "artifact", "ArtifactType": "D", "Source": s} for s in sources]
    )
    store.db.run(lambda conn: conn.exec_driver_sql("ANALYZE entities"), write=True)
    with postgres_plans(store) as plans:
        assert len(store.list_artifacts(SourceUri="s3://plan/raw/123")["ArtifactSummaries"]) == 1
        assert len(store.list_artifacts(SourceUri="s3://plan/raw/7/part")["ArtifactSummaries"]) == 1
        with pytest.raises(ValidationException, match="already exists"):
            store.create_artifact(ArtifactType="D", Source=sources[5])
        with pytest.raises(ValidationException, match="already exists"):
            store.put_lineage(
                Entities=[{"EntityKind": "artifact", "ArtifactType": "D", "Source": sources[6]}]
            )
        store.delete_artifact(Source=sources[7])
    by_source = [p for p in plans if re.search(r"FROM entities .*source_uri", p, re.S)]
    assert len(by_source) >= 5
    for plan in by_source:
        assert "Seq Scan" not in plan, plan
        assert re.search(INDEX_SCAN.format("ux_entities_source"), plan), plan
        assert re.search(r"Index Cond: .*substr\(", plan), plan  # (a seek, not a scope's scan)
