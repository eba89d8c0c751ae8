"""PutLineage (``Session.bulk()``): many entities and associations, atomically, on every store."""

from __future__ import annotations

from typing import Any

import pytest

from mllineage import Artifact, Association, LineageQuery, Session
from mllineage.errors import ResourceLimitExceeded, ResourceNotFound, ValidationException
from mllineage.store.base import Store
from mllineage.store.sql.bulk import REBUILD_MIN_ROWS
from mllineage.store.sql.store import SqlStore
from tests.helpers import chain_request, refused, unique


def _entity_count(store: Store) -> int:
    return sum(
        len(list(store.paginate(f"list_{kind}s", f"{kind.title()}Summaries", MaxResults=100)))
        for kind in ("artifact", "action", "context")
    )


def test_put_lineage_writes_entities_and_associations(store: Store) -> None:
    name = unique("proc")
    answer = store.put_lineage(
        Entities=[
            {
                "EntityKind": "artifact",
                "ArtifactType": "Dataset",
                "Source": {"SourceUri": f"s3://bulk/{name}/in"},
                "Properties": {"k": "v"},
            },
            {
                "EntityKind": "action",
                "ActionName": name,
                "ActionType": "Processing",
                "Status": "Completed",
                "Tags": [{"Key": "team", "Value": "ml"}],
            },
            {"EntityKind": "context", "ContextName": name, "ContextType": "Pipeline"},
        ],
        Associations=[
            {"Source": 0, "Destination": 1, "AssociationType": "ContributedTo"},
            {"Source": 1, "Destination": 2},
        ],
    )
    data, action, context = answer["Arns"]
    assert answer["AssociationCount"] == 2
    assert store.describe_artifact(ArtifactArn=data)["Properties"] == {"k": "v"}
    assert store.describe_action(ActionName=action)["Status"] == "Completed"
    assert store.list_tags(ResourceArn=action)["Tags"] == [{"Key": "team", "Value": "ml"}]
    edges = store.list_associations(SourceArn=action)["AssociationSummaries"]
    assert [(e["DestinationArn"], e["AssociationType"]) for e in edges] == [
        (context, "AssociatedWith")
    ]
    graph = store.lineage_graph(StartArns=[context], Direction="Ascendants")
    assert {v["Arn"] for v in graph["Vertices"]} == {data, action, context}


def test_put_lineage_links_new_entities_to_existing_ones_both_ways(store: Store) -> None:
    old_in = store.create_artifact(
        ArtifactType="Dataset", Source={"SourceUri": f"s3://{unique()}"}
    )["ArtifactArn"]
    old_out = store.create_artifact(ArtifactType="Model", Source={"SourceUri": f"s3://{unique()}"})[
        "ArtifactArn"
    ]
    answer = store.put_lineage(
        Entities=[{"EntityKind": "action", "ActionName": unique(), "ActionType": "Training"}],
        Associations=[
            {"Source": old_in, "Destination": 0, "AssociationType": "ContributedTo"},
            {"Source": 0, "Destination": old_out, "AssociationType": "Produced"},
        ],
    )
    [train] = answer["Arns"]
    graph = store.lineage_graph(StartArns=[old_out], Direction="Ascendants")
    assert [v["Arn"] for v in graph["Vertices"]] == [old_out, train, old_in]
    with refused(ValidationException, "cycle"):
        store.add_association(SourceArn=old_out, DestinationArn=old_in)


def test_put_lineage_places_new_entities_after_an_existing_one_that_was_moved(
    store: Store,
) -> None:
    """``a`` moves above everything when the older ``b`` comes after it; the new entities,
    listed against the order of their own association, must still come after ``a``."""
    a, b = (
        store.create_artifact(ArtifactType="Dataset", Source={"SourceUri": f"s3://{unique()}"})[
            "ArtifactArn"
        ]
        for _ in range(2)
    )
    store.add_association(SourceArn=b, DestinationArn=a)
    artifact = {"EntityKind": "artifact", "ArtifactType": "Model"}
    x, y = store.put_lineage(
        Entities=[
            artifact | {"Source": {"SourceUri": f"s3://{unique()}"}},
            artifact | {"Source": {"SourceUri": f"s3://{unique()}"}},
        ],
        Associations=[{"Source": 1, "Destination": 0}, {"Source": a, "Destination": 1}],
    )["Arns"]
    graph = store.lineage_graph(StartArns=[x], Direction="Ascendants")
    assert [v["Arn"] for v in graph["Vertices"]] == [x, y, a, b]
    for source, destination in ((x, b), (x, a), (y, b)):
        with refused(ValidationException, "cycle"):
            store.add_association(SourceArn=source, DestinationArn=destination)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        pytest.param(
            lambda b: b["Associations"].append({"Source": 3, "Destination": 0}),
            ValidationException,
            "cycle",
            id="cycle",
        ),
        pytest.param(
            lambda b: b["Associations"].append({"Source": 0, "Destination": 0}),
            ValidationException,
            "itself",
            id="self-loop",
        ),
        pytest.param(
            lambda b: b["Associations"].append({"Source": 0, "Destination": 1}),
            ValidationException,
            "twice",
            id="duplicate",
        ),
        pytest.param(
            lambda b: b["Entities"].append(dict(b["Entities"][0])),
            ValidationException,
            "twice",
            id="same-source",
        ),
        pytest.param(
            lambda b: b["Associations"].append({"Source": 0, "Destination": 9}),
            ValidationException,
            "index 9",
            id="bad-index",
        ),
        pytest.param(
            lambda b: b["Associations"].append(
                {
                    "Source": 0,
                    "Destination": "arn:aws:sagemaker:local:000000000000:artifact/" + "0" * 32,
                }
            ),
            ResourceNotFound,
            "no artifact",
            id="missing-arn",
        ),
        pytest.param(
            lambda b: b["Entities"][2].update(Properties={"k": 5}),
            ValidationException,
            r"Entities\[2\]",
            id="bad-property",
        ),
    ],
)
def test_put_lineage_is_all_or_nothing(
    store: Store, change: Any, error: type[Exception], match: str
) -> None:
    before = _entity_count(store)
    batch = chain_request(4, unique())
    change(batch)
    with pytest.raises(error, match=match):  # type: ignore[call-overload]
        store.put_lineage(**batch)
    assert _entity_count(store) == before


@pytest.mark.parametrize(
    ("kind", "request_"),
    [
        pytest.param("action", {"ActionName": "a", "ActionType": None}, id="missing-type"),
        pytest.param("action", {"ActionType": "T"}, id="missing-name"),
        pytest.param("artifact", {"ArtifactName": "x"}, id="missing-artifact-type"),
        pytest.param("action", {"ActionName": "a", "ActionType": "T", "Bogus": 1}, id="unknown"),
        pytest.param("action", {"ActionName": "a b", "ActionType": "T"}, id="bad-name"),
        pytest.param("action", {"ActionName": "a", "ActionType": ""}, id="empty-type"),
        pytest.param(
            "action", {"ActionName": "a", "ActionType": "T", "Status": "Done"}, id="bad-status"
        ),
        pytest.param(
            "artifact",
            {"ArtifactType": "T", "Source": {"SourceUri": "s3://x", "X": 1}},
            id="bad-source",
        ),
        pytest.param(
            "context", {"ContextName": "c", "ContextType": "T", "Tags": [{"K": 1}]}, id="bad-tag"
        ),
    ],
)
def test_put_lineage_refuses_an_entity_as_create_does(
    store: Store, kind: str, request_: dict[str, Any]
) -> None:
    with pytest.raises(ValidationException) as single:
        getattr(store, f"create_{kind}")(**request_)
    with pytest.raises(ValidationException) as bulk:
        store.put_lineage(Entities=[{"EntityKind": kind, **request_}])
    assert bulk.value.message == f"Entities[0]: {single.value.message}"


def test_put_lineage_reads_members_that_are_none_as_absent(store: Store) -> None:
    name = unique()
    answer = store.put_lineage(
        Entities=[
            {"EntityKind": "action", "ActionName": name, "ActionType": "T", "Status": None},
            {"EntityKind": "artifact", "ArtifactName": None, "ArtifactType": "T", "Tags": None},
        ],
        Associations=[{"Source": 0, "Destination": 1, "AssociationType": None}],
    )
    action, artifact = answer["Arns"]
    assert "Status" not in store.describe_action(ActionName=name)
    [edge] = store.list_associations(SourceArn=action)["AssociationSummaries"]
    assert (edge["DestinationArn"], edge["AssociationType"]) == (artifact, "AssociatedWith")
    with refused(ValidationException, r"unknown parameter\(s\) Bogus; valid parameters: Assoc"):
        store.put_lineage(
            Entities=[{"EntityKind": "action", "ActionName": unique(), "ActionType": "T"}],
            Associations=[{"Source": 0, "Destination": 0, "Bogus": 1}],
        )


def test_put_lineage_refuses_an_identity_that_exists(store: Store) -> None:
    name = unique()
    store.create_action(ActionName=name, ActionType="Training")
    before = _entity_count(store)
    with refused(ValidationException, "already exists"):
        store.put_lineage(
            Entities=[
                {
                    "EntityKind": "artifact",
                    "ArtifactType": "Dataset",
                    "Source": {"SourceUri": f"s3://{unique()}"},
                },
                {"EntityKind": "action", "ActionName": name.upper(), "ActionType": "Training"},
            ]
        )
    assert _entity_count(store) == before


def test_put_lineage_refuses_an_artifact_source_that_exists(store: Store) -> None:
    uri = f"s3://{unique()}/data.csv"
    arn = store.create_artifact(ArtifactType="Dataset", Source={"SourceUri": uri})["ArtifactArn"]
    before = _entity_count(store)
    with refused(ValidationException, f"source '{uri}'.* already exists: {arn}"):
        store.put_lineage(
            Entities=[
                {"EntityKind": "action", "ActionName": unique(), "ActionType": "Training"},
                {"EntityKind": "artifact", "ArtifactType": "Model", "Source": {"SourceUri": uri}},
            ]
        )
    assert _entity_count(store) == before


def _plain_request(prefix: str) -> dict[str, Any]:
    """Twenty named artifacts each read by one of twenty actions: members a bulk block gives
    (what PutLineage checks a column at a time)."""
    entities = [
        {
            "EntityKind": "artifact",
            "ArtifactName": f"{prefix}-d{i}",
            "ArtifactType": "Dataset",
            "Source": {"SourceUri": f"s3://bulk/{prefix}/d{i}"},
        }
        for i in range(20)
    ]
    entities += [
        {"EntityKind": "action", "ActionName": f"{prefix}-a{i}", "ActionType": "Processing"}
        for i in range(20)
    ]
    links = [
        {"Source": i, "Destination": 20 + i, "AssociationType": "ContributedTo"} for i in range(20)
    ]
    return {"Entities": entities, "Associations": links}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param(
            lambda r, _: r["Entities"][25].update(ActionName="a b"),
            r"Entities\[25\]: ActionName 'a b' must start",
            id="action-name",
        ),
        pytest.param(
            lambda r, _: r["Entities"][3].update(ArtifactName="x\x00"),
            r"Entities\[3\]: ArtifactName must not contain control characters",
            id="artifact-name",
        ),
        pytest.param(
            lambda r, _: r["Entities"][30].update(ActionType=""),
            r"Entities\[30\]: ActionType must be 1 to 256 characters long, got 0",
            id="empty-type",
        ),
        pytest.param(
            lambda r, _: r["Entities"][7].update(Source={"SourceUri": "s" * 2049}),
            r"Entities\[7\]: Source.SourceUri must be 1 to 2048 characters long",
            id="long-uri",
        ),
        pytest.param(
            lambda r, _: [r["Entities"][i].update(ArtifactType=5) for i in (12, 2)],
            r"Entities\[2\]: ArtifactType must be a string",
            id="first-of-two",
        ),
        pytest.param(
            lambda r, p: r["Entities"][21].update(ActionName=f"{p}-A0"),
            r"Entities\[21\]: the action name .* appears twice",
            id="same-name",
        ),
        pytest.param(
            lambda r, p: r["Entities"][4].update(Source={"SourceUri": f"s3://bulk/{p}/d9"}),
            r"Entities\[9\]: the artifact source .* appears twice",
            id="same-source",
        ),
        pytest.param(
            lambda r, _: r["Associations"][5].update(Destination=40),
            r"Associations\[5\].Destination is entity index 40, but Entities has 40",
            id="no-such-index",
        ),
        pytest.param(
            lambda r, _: r["Associations"][6].update(Destination=6),
            r"Associations\[6\]: an entity cannot be associated with itself",
            id="itself",
        ),
        pytest.param(
            lambda r, _: r["Associations"][2].update(AssociationType="Bogus"),
            r"Associations\[2\].AssociationType",
            id="association-type",
        ),
    ],
)
def test_a_plain_request_with_an_item_at_fault_is_refused_naming_the_first(
    store: Store, change: Any, match: str
) -> None:
    prefix = unique()
    request = _plain_request(prefix)
    change(request, prefix)
    before = _entity_count(store)
    with refused(ValidationException, match):
        store.put_lineage(**request)
    assert _entity_count(store) == before
    assert len(store.put_lineage(**_plain_request(prefix))["Arns"]) == 40  # (nothing was kept)


def test_a_plain_request_is_refused_when_a_name_or_source_exists(store: Store) -> None:
    prefix = unique()
    store.create_action(ActionName=f"{prefix}-A7", ActionType="Training")
    uri = f"s3://bulk/{prefix}/d3"
    arn = store.create_artifact(ArtifactType="Dataset", Source={"SourceUri": uri})["ArtifactArn"]
    with refused(ValidationException, "Action already exists: .*action/" + f"{prefix}-a7"):
        store.put_lineage(**_plain_request(prefix))
    store.delete_action(ActionName=f"{prefix}-A7")
    with refused(ValidationException, f"source '{uri}'.* already exists: {arn}"):
        store.put_lineage(**_plain_request(prefix))


def test_a_plain_request_stores_what_single_creates_store(store: Store) -> None:
    """A plain request's shared values (scope, times, the caller) are written into its insert
    statements on SQLite: a caller whose name holds quotes, colons and placeholders reads back
    as it was given, on the entities and on the associations."""
    if not isinstance(store, SqlStore):
        pytest.skip("the caller of a server's store is the server's request signer")
    user = {"UserProfileName": 'o\'brien :name ?1 "q" \u00fc', "DomainId": "d-'1'"}
    caller = store.bind(user=user)
    prefix = unique()
    arns = caller.put_lineage(**_plain_request(prefix))["Arns"]
    single = caller.create_artifact(ArtifactType="Dataset", Source={"SourceUri": f"s3://{prefix}"})
    expected = caller.describe_artifact(ArtifactArn=single["ArtifactArn"])["CreatedBy"]
    assert expected == user
    for arn in (arns[0], arns[19]):
        described = caller.describe_artifact(ArtifactArn=arn)
        assert (described["CreatedBy"], described["LastModifiedBy"]) == (user, user)
        assert described["CreationTime"] == described["LastModifiedTime"]
    action = caller.describe_action(ActionName=f"{prefix}-a3")
    assert (action["CreatedBy"], action["ActionArn"]) == (user, arns[23])
    links = caller.list_associations(DestinationArn=arns[23])["AssociationSummaries"]
    assert [(a["SourceArn"], a["CreatedBy"]) for a in links] == [(arns[3], user)]
    assert links[0]["CreationTime"] == action["CreationTime"]


def test_put_lineage_keeps_the_association_limit(store: Store) -> None:
    hub = store.create_context(ContextName=unique(), ContextType="Hub")["ContextArn"]
    batch: dict[str, Any] = {"Entities": [], "Associations": []}
    for i in range(1001):
        batch["Entities"].append(
            {
                "EntityKind": "artifact",
                "ArtifactType": "Dataset",
                "Source": {"SourceUri": f"s3://{unique()}/{i}"},
            }
        )
        batch["Associations"].append({"Source": i, "Destination": hub})
    with refused(ResourceLimitExceeded, "1000"):
        store.put_lineage(**batch)
    assert store.list_associations(DestinationArn=hub)["AssociationSummaries"] == []


def test_session_bulk_writes_on_exit_and_sets_arns(tmp_path: Any) -> None:
    with Session(f"sqlite:///{tmp_path}/bulk.db") as session:
        with session.bulk() as bulk:
            data = bulk.artifact(artifact_type="Dataset", source={"source_uri": "s3://b/d"})
            train = bulk.action(action_name="train", action_type="Training")
            bulk.associate(data, train, "ContributedTo")
            with pytest.raises(ValueError, match="once the bulk block has been written"):
                _ = data.arn
        assert Artifact.load(data.arn, sagemaker_session=session).source == {
            "source_uri": "s3://b/d"
        }
        [edge] = Association.list(source_arn=data.arn, sagemaker_session=session)
        assert edge.destination_arn == train.arn
        graph = LineageQuery([train.arn], "Ascendants", sagemaker_session=session).query()
        assert len(graph["Vertices"]) == 2


def _entity_details(session: Session) -> list[dict[str, Any]]:
    """Every entity as described, with its tags, without the ARN and the times."""
    out = []
    for kind in ("artifact", "action", "context"):
        for entity in session.store.list_entity_details(EntityKind=kind)["Entities"]:
            arn = entity[f"{kind.title()}Arn"]
            entity["Tags"] = session.store.list_tags(ResourceArn=arn)["Tags"]
            out.append({k: v for k, v in entity.items() if not k.endswith(("Arn", "Time"))})
    return out


def test_session_bulk_writes_what_a_plain_put_lineage_writes(tmp_path: Any) -> None:
    """``Session.bulk()`` converts the Python arguments to PutLineage's items: it writes what
    PutLineage writes of the same items in a plain list."""
    with (
        Session(f"sqlite:///{tmp_path}/bulk.db") as bulk_session,
        Session(f"sqlite:///{tmp_path}/plain.db") as plain_session,
    ):
        with bulk_session.bulk() as bulk:
            bulk.artifact(
                artifact_type="Dataset",
                source={
                    "source_uri": "s3://b/d",
                    "source_types": [{"SourceIdType": "MD5Hash", "Value": "x"}],
                },
                properties={"k": "v"},
                tags=[{"Key": "t", "Value": "1"}, {"Key": "t", "Value": "2"}],
                metadata_properties={"CommitId": "c"},
            )
            bulk.action(
                action_name="Train",
                action_type="Training",
                source={"source_uri": "s3://b/code", "source_type": "git"},
                status="Completed",
                description="",
            )
            bulk.context(context_type="Pipeline", description="d")
        plain_session.store.put_lineage(Entities=list(bulk._entities))
        assert _entity_details(bulk_session) == _entity_details(plain_session)


def _add_then_fail(session: Session) -> None:
    with session.bulk() as bulk:
        bulk.artifact(artifact_type="Dataset", source={"source_uri": "s3://b/d"})
        raise RuntimeError("stop")


def test_session_bulk_writes_nothing_when_the_block_raises(tmp_path: Any) -> None:
    with Session(f"sqlite:///{tmp_path}/bulk.db") as session:
        with pytest.raises(RuntimeError, match="stop"):
            _add_then_fail(session)
        assert Artifact.list(sagemaker_session=session) == []


def test_session_bulk_checks_arguments_as_create_does(tmp_path: Any) -> None:
    with Session(f"sqlite:///{tmp_path}/bulk.db") as session, session.bulk() as bulk:
        with pytest.raises(ValueError, match="artifact_type is required"):
            bulk.artifact(source={"source_uri": "s3://b/d"})
        with pytest.raises(ValueError, match="association_type must be one of"):
            bulk.associate(
                "arn:aws:sagemaker:local:000000000000:action/a",
                "arn:aws:sagemaker:local:000000000000:action/b",
                "Feeds",
            )


def test_a_refused_call_inside_a_batch_changes_nothing_and_the_batch_goes_on(
    store: Store,
) -> None:
    if type(store).__name__ == "HttpStore":
        pytest.skip("batch() is not atomic through a server")
    name = unique()
    with store.batch():
        first = store.create_action(ActionName=name, ActionType="Training")["ActionArn"]
        with refused(ValidationException, "already exists"):
            store.create_action(ActionName=name, ActionType="Training")
        second = store.create_action(ActionName=unique(), ActionType="Training")["ActionArn"]
        store.add_association(SourceArn=first, DestinationArn=second)
    [edge] = store.list_associations(SourceArn=first)["AssociationSummaries"]
    assert edge["DestinationArn"] == second


def _indexes(store: Store) -> list[tuple[str, str, int]]:
    """(name, definition, root page) of each index of an SQLite store; [] for other stores."""
    if not (isinstance(store, SqlStore) and store.db.is_sqlite):
        return []
    sql = "SELECT name, sql, rootpage FROM sqlite_master WHERE type = 'index' ORDER BY name"
    return store.db.run(lambda conn: conn.exec_driver_sql(sql).all(), write=False)


def _first_of_a_large_call(store: Store) -> tuple[str, str]:
    """A name for a large call, and the existing artifact its chain begins at."""
    name = unique()
    first = store.create_artifact(
        ArtifactType="Dataset", Source={"SourceUri": f"s3://large/{name}/first"}
    )["ArtifactArn"]
    return name, first


def _large_call(name: str, first: str) -> dict[str, Any]:
    """REBUILD_MIN_ROWS artifacts in a chain that begins at the existing ``first``."""
    return {
        "Entities": [
            {
                "EntityKind": "artifact",
                "ArtifactType": "Shard" if i % 2 else "Dataset",
                "Source": {"SourceUri": f"s3://large/{name}/{i}"},
            }
            for i in range(REBUILD_MIN_ROWS)
        ],
        "Associations": [
            {"Source": first, "Destination": 0, "AssociationType": "ContributedTo"},
            *({"Source": i, "Destination": i + 1} for i in range(REBUILD_MIN_ROWS - 1)),
        ],
    }


def test_a_call_larger_than_the_store_keeps_every_rule_and_index(store: Store) -> None:
    # (On SQLite the call builds the tables' indexes again instead of inserting into them.)
    name, first = _first_of_a_large_call(store)
    before = _indexes(store)
    arns = store.put_lineage(**_large_call(name, first))["Arns"]
    after = _indexes(store)
    assert [i[:2] for i in after] == [i[:2] for i in before]
    if before:  # the indexes were built again: new pages
        assert {i[0] for i in before if i[2] not in {j[2] for j in after}} >= {
            "ix_entities_list",
            "ix_associations_dst",
        }
    # What each index serves, on the new rows.
    [found] = store.list_artifacts(SourceUri=f"s3://large/{name}/7")["ArtifactSummaries"]
    assert found["ArtifactArn"] == arns[7]
    shards = store.list_artifacts(ArtifactType="Shard", SortBy="CreationTime", MaxResults=3)
    assert {s["ArtifactType"] for s in shards["ArtifactSummaries"]} == {"Shard"}
    [edge] = store.list_associations(DestinationArn=arns[5])["AssociationSummaries"]
    assert edge["SourceArn"] == arns[4]
    graph = store.lineage_graph(StartArns=[first], Direction="Descendants", MaxDepth=3)
    assert {v["Arn"] for v in graph["Vertices"]} == {first, *arns[:3]}
    # The unique source index is back: a single create refuses a source of the call.
    with refused(ValidationException, f"already exists: {arns[5]}"):
        store.create_artifact(ArtifactType="Dataset", Source={"SourceUri": f"s3://large/{name}/5"})
    with refused(ValidationException, "would create a cycle"):
        store.add_association(SourceArn=arns[9], DestinationArn=first)


def test_a_larger_call_that_fails_after_its_inserts_leaves_the_store_as_it_was(
    store: Store,
) -> None:
    name, first = _first_of_a_large_call(store)
    before, count = _indexes(store), _entity_count(store)
    call = _large_call(name, first)
    # The last association closes a cycle: found after the others are written.
    call["Associations"].append({"Source": REBUILD_MIN_ROWS - 1, "Destination": first})
    with refused(ValidationException, "cycle"):
        store.put_lineage(**call)
    assert _indexes(store) == before
    assert _entity_count(store) == count
    assert store.list_associations(SourceArn=first)["AssociationSummaries"] == []
    call["Associations"].pop()
    assert len(store.put_lineage(**call)["Arns"]) == REBUILD_MIN_ROWS


def test_a_larger_call_with_a_source_or_name_that_exists_is_refused_naming_it(
    store: Store,
) -> None:
    # (Found by the unique indexes as the call writes, or builds them again on SQLite.)
    name, first = _first_of_a_large_call(store)
    uri = f"s3://large/{name}/{REBUILD_MIN_ROWS - 1}"
    taken = store.create_artifact(ArtifactType="Dataset", Source={"SourceUri": uri})
    before, count = _indexes(store), _entity_count(store)
    call = _large_call(name, first)
    with refused(ValidationException, f"source '{uri}'.* already exists: {taken['ArtifactArn']}"):
        store.put_lineage(**call)
    call["Entities"].append({"EntityKind": "context", "ContextName": name, "ContextType": "T"})
    store.create_context(ContextName=name.upper(), ContextType="T")
    store.delete_artifact(ArtifactArn=taken["ArtifactArn"])
    with refused(ValidationException, f"Context already exists: .*context/{name.lower()}"):
        store.put_lineage(**call)
    assert _indexes(store) == before
    assert _entity_count(store) == count
    assert store.list_associations(SourceArn=first)["AssociationSummaries"] == []
