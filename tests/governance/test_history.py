"""History and time travel on every store: what is recorded, reads ``AsOf`` an instant,
refused calls, and pruning."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from mllineage import Artifact, Association, LineageQuery, LineageQueryDirectionEnum, Session
from mllineage.api.history import prune_history
from mllineage.errors import ClientError, ResourceNotFound, ValidationException
from mllineage.store.base import Store
from mllineage.store.common import now_us, us_to_datetime
from tests.helpers import action, artifact, chain_request, context, link, refused, unique


def _ops(store: Store, arn: str, **request: Any) -> list[str]:
    return [c["Operation"] for c in store.paginate("list_changes", "Changes", Arn=arn, **request)]


def _modified(store: Store, arn: str) -> datetime:
    described = store.describe_entity(EntityKind="artifact", ArtifactArn=arn)
    return described["LastModifiedTime"]  # type: ignore[no-any-return]


def _last_change(store: Store, arn: str) -> datetime:
    return store.list_changes(Arn=arn, MaxResults=1)["Changes"][0]["ChangeTime"]  # type: ignore[no-any-return]


def test_history_records_every_change_newest_first_with_who(store: Store) -> None:
    data = artifact(store, Properties={"a": "1"})
    act = action(store)
    store.update_artifact(ArtifactArn=data, Properties={"b": "2"}, PropertiesToRemove=["a"])
    store.add_tags(ResourceArn=data, Tags=[{"Key": "k", "Value": "v"}])
    link(store, data, act)
    store.delete_association(SourceArn=data, DestinationArn=act)
    store.delete_artifact(ArtifactArn=data)
    changes = list(store.paginate("list_changes", "Changes", Arn=data))
    assert [c["Operation"] for c in changes] == [
        "DeleteArtifact",
        "DeleteAssociation",
        "AddAssociation",
        "Tags",
        "UpdateArtifact",
        "CreateArtifact",
    ]
    times = [c["ChangeTime"] for c in changes]
    assert times == sorted(times, reverse=True)
    assert all(c["Actor"] for c in changes)
    update = changes[4]["Detail"]
    assert update["properties"] == {"a": ["1", None], "b": [None, "2"]}
    assert changes[3]["Detail"] == {"tags": {"k": [None, "v"]}}
    assert changes[2]["PeerArn"] == act
    assert changes[0]["Detail"]["properties"] == {"b": "2"}  # the tombstone keeps the state
    # The other end sees the association changes; without associations, only its own.
    assert _ops(store, act) == ["DeleteAssociation", "AddAssociation", "CreateAction"]
    assert _ops(store, act, IncludeAssociations=False) == ["CreateAction"]


def test_history_pages_and_unknown_arn(store: Store) -> None:
    data = artifact(store)
    for i in range(5):
        store.update_artifact(ArtifactArn=data, Properties={"i": str(i)})
    first = store.list_changes(Arn=data, MaxResults=4)
    assert len(first["Changes"]) == 4
    assert "NextToken" in first
    rest = store.list_changes(Arn=data, MaxResults=4, NextToken=first["NextToken"])
    assert [c["Operation"] for c in rest["Changes"]] == ["UpdateArtifact", "CreateArtifact"]
    assert "NextToken" not in rest
    missing = data[:-4] + "0000"
    with refused(ResourceNotFound, "no history"):
        store.list_changes(Arn=missing)


def test_describe_as_of_sees_each_state(store: Store) -> None:
    data = artifact(store, Properties={"approval": "pending"})
    created = _modified(store, data)
    store.update_artifact(ArtifactArn=data, Properties={"approval": "approved"})
    approved = _modified(store, data)
    store.delete_artifact(ArtifactArn=data)

    def props(at: datetime) -> dict[str, str]:
        described = store.describe_entity(EntityKind="artifact", ArtifactArn=data, AsOf=at)
        return described["Properties"]  # type: ignore[no-any-return]

    assert props(created) == {"approval": "pending"}
    assert props(approved - timedelta(microseconds=1)) == {"approval": "pending"}
    assert props(approved) == {"approval": "approved"}  # inclusive
    with refused(ResourceNotFound, "no artifact"):
        store.describe_entity(EntityKind="artifact", ArtifactArn=data)
    with refused(ResourceNotFound, "no artifact"):
        store.describe_entity(
            EntityKind="artifact", ArtifactArn=data, AsOf=created - timedelta(microseconds=1)
        )


def test_names_reused_after_delete_keep_separate_lives(store: Store) -> None:
    name = unique("act")
    arn = action(store, name, Description="first")
    first = store.describe_action(ActionName=name)["CreationTime"]
    store.delete_action(ActionName=name)
    action(store, name, Description="second")
    then = store.describe_entity(EntityKind="action", ActionName=name, AsOf=first)
    assert then["Description"] == "first"
    assert then["ActionArn"] == arn
    assert store.describe_entity(EntityKind="action", ActionName=arn)["Description"] == "second"


def test_lists_and_queries_as_of(store: Store) -> None:
    raw = artifact(store)
    model = artifact(store, ArtifactType="Model")
    ctx = context(store)
    link(store, raw, model)
    link(store, model, ctx, "AssociatedWith")
    before = _last_change(store, model)
    store.delete_artifact(ArtifactArn=raw)
    later = artifact(store)
    now = _last_change(store, later)

    def arns(at: datetime) -> set[str]:
        page = store.list_entity_details(EntityKind="artifact", AsOf=at, MaxResults=100)
        return {e["ArtifactArn"] for e in page["Entities"]}

    assert arns(before) == {raw, model}
    assert arns(now) == {model, later}
    models = store.list_entity_details(EntityKind="artifact", AsOf=now, ArtifactType="Model")
    assert [e["ArtifactArn"] for e in models["Entities"]] == [model]

    graph = store.lineage_graph(StartArns=[model], Direction="Both", AsOf=before)
    assert {v["Arn"] for v in graph["Vertices"]} == {raw, model, ctx}
    assert len(graph["Edges"]) == 2
    graph = store.lineage_graph(StartArns=[model], Direction="Both", AsOf=now)
    assert {v["Arn"] for v in graph["Vertices"]} == {model, ctx}
    with refused(ResourceNotFound, "StartArns"):
        store.lineage_graph(StartArns=[raw], Direction="Both", AsOf=now)

    edges = store.list_associations_as_of(AsOf=before)["AssociationSummaries"]
    assert {(e["SourceArn"], e["DestinationArn"]) for e in edges} == {(raw, model), (model, ctx)}
    edges = store.list_associations_as_of(AsOf=now, DestinationArn=ctx)["AssociationSummaries"]
    assert [(e["SourceArn"], e["AssociationType"]) for e in edges] == [(model, "AssociatedWith")]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda s, a: s.update_artifact(
                ArtifactArn=a, Properties={f"k{i}": "v" for i in range(31)}
            ),
            id="too-many-properties",
        ),
        pytest.param(lambda s, a: link(s, a, a), id="self-loop"),
        pytest.param(
            lambda s, a: s.add_tags(
                ResourceArn=a, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]
            ),
            id="too-many-tags",
        ),
        pytest.param(
            lambda s, a: s.put_lineage(
                Entities=[{"EntityKind": "action", "ActionName": "x", "ActionType": "T"}],
                Associations=[{"Source": 0, "Destination": a}, {"Source": 0, "Destination": a}],
            ),
            id="bulk-duplicate-association",
        ),
    ],
)
def test_a_refused_call_records_nothing(store: Store, call: Any) -> None:
    data = artifact(store)
    before = list(store.paginate("list_changes", "Changes", Arn=data))
    with pytest.raises(ClientError):
        call(store, data)
    assert list(store.paginate("list_changes", "Changes", Arn=data)) == before
    with refused(ResourceNotFound, "no history"):
        store.list_changes(Arn=f"{data.rsplit(':', 1)[0]}:action/x")


def test_prune_keeps_live_data_and_later_reads(store: Store) -> None:
    data = artifact(store, Properties={"v": "1"})
    gone = artifact(store)
    act = action(store)
    link(store, data, act)
    link(store, gone, act)
    store.update_artifact(ArtifactArn=data, Properties={"v": "2"})
    store.delete_artifact(ArtifactArn=gone)
    horizon = _last_change(store, gone) + timedelta(microseconds=1)
    store.update_artifact(ArtifactArn=data, Properties={"v": "3"})
    after = _last_change(store, data)

    def picture(at: datetime | None) -> Any:
        extra = {} if at is None else {"AsOf": at}
        return (
            store.list_entity_details(EntityKind="artifact", MaxResults=100, **extra),
            store.lineage_graph(StartArns=[act], Direction="Both", **extra),
        )

    live, at_horizon, at_after = picture(None), picture(horizon), picture(after)
    result = store.prune_history(Before=horizon)
    assert result["RemovedChanges"] > 0
    assert picture(None) == live
    assert picture(horizon) == at_horizon
    assert picture(after) == at_after
    assert _ops(store, data) == ["UpdateArtifact", "Snapshot", "AddAssociation"]
    with refused(ResourceNotFound, "no history"):
        store.list_changes(Arn=gone)


def test_prune_keeps_the_order_of_entities_made_in_one_call(store: Store) -> None:
    # Entities made by one call share a creation time; lists break that tie by the order they
    # were made (newest first, as the list's default order), now and AsOf, also once a prune
    # has folded their histories into snapshots.
    arns = store.put_lineage(**chain_request(3, unique()))["Arns"]
    store.update_artifact(ArtifactArn=arns[0], Properties={"v": "2"})
    horizon = _last_change(store, arns[0]) + timedelta(microseconds=1)

    def listed(**at: Any) -> list[str]:
        entities = store.list_entity_details(EntityKind="artifact", MaxResults=100, **at)
        return [e["ArtifactArn"] for e in entities["Entities"]]

    assert listed() == listed(AsOf=horizon) == arns[::-1]
    store.prune_history(Before=horizon)
    assert listed(AsOf=horizon) == listed() == arns[::-1]


@pytest.mark.parametrize("order", ["Ascending", "Descending"])
def test_associations_as_of_now_are_listed_as_the_live_ones(store: Store, order: str) -> None:
    # One call's associations share a creation time: the past breaks those ties as the live
    # list does, by the ends' ids in the sort's direction, for every sort and across pages.
    made = store.put_lineage(
        Entities=[
            *({"EntityKind": "artifact", "ArtifactType": t} for t in ("Dataset", "Model", "Data")),
            {"EntityKind": "action", "ActionName": f"train-{unique()}", "ActionType": "Training"},
        ],
        Associations=[
            {"Source": 0, "Destination": 3, "AssociationType": "ContributedTo"},
            {"Source": 2, "Destination": 3, "AssociationType": "ContributedTo"},
            {"Source": 3, "Destination": 1, "AssociationType": "Produced"},
            {"Source": 0, "Destination": 1, "AssociationType": "DerivedFrom"},
            {"Source": 2, "Destination": 1, "AssociationType": "DerivedFrom"},
        ],
    )
    now = us_to_datetime(now_us())
    for sort_by in ("CreationTime", "SourceArn", "DestinationArn", "SourceType", "DestinationType"):
        request = {"SortBy": sort_by, "SortOrder": order, "MaxResults": 2}
        live = list(store.paginate("list_associations", "AssociationSummaries", **request))
        then = list(
            store.paginate("list_associations_as_of", "AssociationSummaries", AsOf=now, **request)
        )
        assert len(live) == made["AssociationCount"] == 5
        assert then == live, sort_by


@pytest.mark.parametrize("order", ["Ascending", "Descending"])
def test_artifacts_by_name_as_of_now_are_listed_as_the_live_ones(store: Store, order: str) -> None:
    # Names repeat and may be missing (sorted as ""); one call's artifacts share a time.
    store.put_lineage(
        Entities=[
            {"EntityKind": "artifact", "ArtifactType": "Dataset", **name}
            for name in ({"ArtifactName": "b"}, {}, {"ArtifactName": "a"}, {"ArtifactName": "b"})
        ]
    )
    artifact(store, ArtifactName="a")
    now = us_to_datetime(now_us())
    request = {"EntityKind": "artifact", "SortBy": "Name", "SortOrder": order, "MaxResults": 2}
    live = list(store.paginate("list_entity_details", "Entities", **request))
    then = list(store.paginate("list_entity_details", "Entities", AsOf=now, **request))
    names = [e.get("ArtifactName", "") for e in live]
    assert len(names) == 5
    assert names == sorted(names, reverse=order == "Descending")
    assert [e["ArtifactArn"] for e in then] == [e["ArtifactArn"] for e in live]


def test_browse_filters_and_tags_as_of_now_give_the_live_list(store: Store) -> None:
    # (The web UI's search asks for NamePrefix and Properties, an export for IncludeTags.)
    prefix = unique("browse")
    names = [("a", "dev"), ("ab", "prod"), ("b", "prod"), ("Ac", "prod")]
    for i, (name, stage) in enumerate(names):
        store.create_context(
            ContextName=f"{prefix}-{name}",
            ContextType="Experiment",
            Properties={"stage": stage, "i": str(i)},
            Tags=[{"Key": "n", "Value": str(i)}],
        )
    store.update_context(ContextName=f"{prefix}-b", Properties={"stage": "dev"})
    now = us_to_datetime(now_us())
    for request in (
        {"NamePrefix": f"{prefix}-a"},
        {"Properties": {"stage": "prod"}},
        {"NamePrefix": f"{prefix}-", "Properties": {"stage": "dev"}, "IncludeTags": True},
        {"NamePrefix": f"{prefix}-", "Properties": {}, "IncludeTags": False},
    ):
        request |= {"EntityKind": "context", "MaxResults": 1}
        live = list(store.paginate("list_entity_details", "Entities", **request))
        then = list(store.paginate("list_entity_details", "Entities", AsOf=now, **request))
        assert live, request
        assert then == live, request
    [tagged] = store.list_entity_details(
        EntityKind="context", NamePrefix=f"{prefix}-ab", IncludeTags=True, AsOf=now
    )["Entities"]
    assert tagged["Tags"] == [{"Key": "n", "Value": "1"}]
    with refused(ValidationException, "NamePrefix must be 1 to 120 characters"):
        store.list_entity_details(EntityKind="context", NamePrefix="", AsOf=now)


def test_python_api_history_and_as_of(store: Store) -> None:
    session = Session(store=store)
    data = Artifact.create(
        artifact_type="Dataset",
        source={"source_uri": f"s3://b/{unique()}"},
        sagemaker_session=session,
    )
    model = Artifact.create(
        artifact_type="Model",
        source={"source_uri": f"s3://b/{unique()}"},
        properties={"approval": "pending"},
        sagemaker_session=session,
    )
    Association.create(
        data.artifact_arn, model.artifact_arn, "ContributedTo", sagemaker_session=session
    )
    serving = model.history()[0].time
    model.properties["approval"] = "approved"
    model.save()
    data.delete()

    history = model.history()
    assert [c.operation for c in history] == [
        "DeleteAssociation",
        "UpdateArtifact",
        "AddAssociation",
        "CreateArtifact",
    ]
    assert history[1].detail["properties"] == {"approval": ["pending", "approved"]}
    assert [c.operation for c in model.history(include_associations=False)] == [
        "UpdateArtifact",
        "CreateArtifact",
    ]
    then = Artifact.load(model.artifact_arn, sagemaker_session=session, as_of=serving)
    assert then.properties == {"approval": "pending"}
    assert {a.artifact_arn for a in Artifact.list(sagemaker_session=session, as_of=serving)} == {
        data.artifact_arn,
        model.artifact_arn,
    }
    assert len(list(Artifact.list_all(sagemaker_session=session, as_of=serving))) == 2
    graph = LineageQuery(
        [model.artifact_arn],
        LineageQueryDirectionEnum.ASCENDANTS,
        sagemaker_session=session,
        as_of=serving.isoformat(),
    ).query()
    assert {v["Arn"] for v in graph["Vertices"]} == {data.artifact_arn, model.artifact_arn}
    assert len(Association.list(sagemaker_session=session, as_of=serving)) == 1
    assert len(list(Association.list_all(sagemaker_session=session, as_of=serving))) == 1
    assert len(Association.list(sagemaker_session=session)) == 0
    removed = prune_history(model.history()[0].time + timedelta(microseconds=1), session)
    assert removed["RemovedChanges"] >= 1
    assert Artifact.load(model.artifact_arn, sagemaker_session=session).properties == {
        "approval": "approved"
    }


def _story(store: Store, make: Any) -> tuple[dict[str, str], list[datetime], str]:
    """Three entities and two associations made by ``make``, then an update, a tag change,
    an association removed and an entity deleted, one per instant. The ARNs by role, the
    instants (after the creations, after each change) and the story's unique part of names."""
    tag = unique("s")
    arns = make(
        [
            {
                "EntityKind": "artifact",
                "ArtifactType": "Dataset",
                "Source": {"SourceUri": f"s3://bucket/{tag}"},
                "Properties": {"p": "1"},
                "Tags": [{"Key": "t", "Value": "1"}],
            },
            {"EntityKind": "action", "ActionName": f"{tag}-train", "ActionType": "Training"},
            {"EntityKind": "context", "ContextName": f"{tag}-run", "ContextType": "Run"},
        ],
        [
            {"Source": 0, "Destination": 1, "AssociationType": "ContributedTo"},
            {"Source": 1, "Destination": 2, "AssociationType": "AssociatedWith"},
        ],
    )
    role = dict(zip(("data", "train", "run"), arns, strict=True))
    instants = [_now()]
    store.update_artifact(ArtifactArn=role["data"], Properties={"p": "2"})
    instants.append(_now())
    store.add_tags(ResourceArn=role["train"], Tags=[{"Key": "k", "Value": "v"}])
    instants.append(_now())
    store.delete_association(SourceArn=role["data"], DestinationArn=role["train"])
    instants.append(_now())
    store.delete_context(ContextName=f"{tag}-run")
    instants.append(_now())
    return role, instants, tag


def _now() -> datetime:
    """An instant after every change made so far."""
    return us_to_datetime(now_us())


def _recorded(store: Store, role: dict[str, str], instants: list[datetime], tag: str) -> Any:
    """Every history and every ``AsOf`` read of the story's entities: ARNs as roles, times
    as the number of instants they follow, without the story's own part of names."""
    names = {arn: name for name, arn in role.items()}

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: plain(us_to_datetime(v) if k.endswith("_at") else v)  # (a detail's times)
                for k, v in value.items()
                if k != "ChangeTime"
            }
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, str) and value[:2] == "20" and value[-6:] == "+00:00":
            value = datetime.fromisoformat(value)  # (a time among a vertex's Properties)
        if isinstance(value, datetime):
            return sum(value > at for at in instants)
        return names.get(value, value).replace(tag, "") if isinstance(value, str) else value

    out: dict[str, Any] = {}
    for name, arn in role.items():
        for edges in (True, False):
            whole = list(
                store.paginate("list_changes", "Changes", Arn=arn, IncludeAssociations=edges)
            )
            paged = list(
                store.paginate(
                    "list_changes", "Changes", Arn=arn, IncludeAssociations=edges, MaxResults=1
                )
            )
            assert paged == whole
            out[f"{name} history {edges}"] = plain(whole)
        kind = arn.split(":")[5].split("/")[0]
        key = {"artifact": "ArtifactArn", "action": "ActionName", "context": "ContextName"}[kind]
        for i, at in enumerate(instants):
            try:
                described = store.describe_entity(EntityKind=kind, **{key: arn}, AsOf=at)
            except ResourceNotFound:
                described = None
            out[f"{name} at {i}"] = plain(described)
            graph = (
                store.lineage_graph(StartArns=[arn], Direction="Both", AsOf=at)
                if described
                else None
            )
            out[f"{name} graph at {i}"] = plain(graph)
    for i, at in enumerate(instants):
        out[f"associations at {i}"] = plain(
            store.list_associations_as_of(SourceArn=role["data"], AsOf=at)
        )
    return out


def test_put_lineage_records_what_single_calls_would(store: Store) -> None:
    """A PutLineage keeps its creations' changes in the rows it makes (until they change):
    the history, the ``AsOf`` reads and the pages of both are those of the same items made
    by single calls."""

    def singly(entities: list[dict[str, Any]], edges: list[dict[str, Any]]) -> list[str]:
        arns = []
        for item in entities:
            body = {k: v for k, v in item.items() if k != "EntityKind"}
            made = getattr(store, f"create_{item['EntityKind']}")(**body)
            arns.append(next(v for k, v in made.items() if k.endswith("Arn")))
        for edge in edges:
            link(store, arns[edge["Source"]], arns[edge["Destination"]], edge["AssociationType"])
        return arns

    def in_bulk(entities: list[dict[str, Any]], edges: list[dict[str, Any]]) -> list[str]:
        return list(store.put_lineage(Entities=entities, Associations=edges)["Arns"])

    by_calls = _recorded(store, *_story(store, singly))
    by_bulk = _recorded(store, *_story(store, in_bulk))
    assert by_bulk == by_calls
    assert by_bulk["data history True"][-1]["Operation"] == "CreateArtifact"
    assert [c["Operation"] for c in by_bulk["run history True"]] == [
        "DeleteContext",
        "DeleteAssociation",
        "AddAssociation",
        "CreateContext",
    ]
