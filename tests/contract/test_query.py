"""QueryLineage and its whole-answer extension lineage_graph: directions, depth, filters,
limits and paging."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from mllineage.errors import ResourceLimitExceeded, ResourceNotFound, ValidationException
from mllineage.store.base import Store
from tests.conftest import StoreFactory
from tests.helpers import (
    action,
    artifact,
    bulk_artifacts,
    bulk_links,
    chain,
    context,
    link,
    refused,
)

#   raw --> prep --> clean --> train --> model --> endpoint
#                     side ---^
EDGES = [
    ("raw", "prep", "ContributedTo"),
    ("prep", "clean", "Produced"),
    ("clean", "train", "ContributedTo"),
    ("side", "train", "ContributedTo"),
    ("train", "model", "Produced"),
    ("model", "endpoint", "AssociatedWith"),
]
EVERYTHING = ("raw", "prep", "clean", "side", "train", "model", "endpoint")


@pytest.fixture
def g(store: Store) -> dict[str, str]:
    """The lineage above; name -> ARN."""
    arns = {
        "raw": artifact(
            store, "s3://b/raw/2024", ArtifactName="raw", Properties={"split": "all", "v": "1"}
        ),
        "prep": action(store, "prep", ActionType="Processing", Status="Completed"),
        "clean": artifact(
            store,
            "s3://b/clean/2024",
            ArtifactName="clean",
            Properties={"split": "train", "v": "1"},
        ),
        "side": artifact(store, "s3://b/side", ArtifactType="Labels", Properties={"v": "1"}),
        "train": action(store, "train", Properties={"algorithm": "xgboost", "v": "2"}),
        "model": artifact(store, "s3://b/models/m.tar.gz", ArtifactType="Model"),
        "endpoint": context(store, "endpoint", ContextType="Endpoint"),
    }
    for source, destination, kind in EDGES:
        link(store, arns[source], arns[destination], kind)
    return arns


def query(store: Store, g: dict[str, str], *starts: str, **request: Any) -> dict[str, Any]:
    return store.query_lineage(StartArns=[g[s] for s in starts], **request)


def names(g: dict[str, str], answer: dict[str, Any]) -> set[str]:
    by_arn = {arn: name for name, arn in g.items()}
    return {by_arn[v["Arn"]] for v in answer["Vertices"]}


def edge_names(g: dict[str, str], answer: dict[str, Any]) -> set[tuple[str, str]]:
    by_arn = {arn: name for name, arn in g.items()}
    return {(by_arn[e["SourceArn"]], by_arn[e["DestinationArn"]]) for e in answer["Edges"]}


# -- directions and depth -------------------------------------------------------------------
def test_descendants(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "raw", Direction="Descendants")
    assert names(g, answer) == {"raw", "prep", "clean", "train", "model", "endpoint"}
    assert edge_names(g, answer) == {(s, d) for s, d, _ in EDGES if s != "side"}


def test_ascendants(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "model", Direction="Ascendants")
    assert names(g, answer) == {"model", "train", "clean", "side", "prep", "raw"}
    assert ("train", "model") in edge_names(g, answer)
    assert ("model", "endpoint") not in edge_names(g, answer)


def test_both_expands_every_visited_vertex(store: Store, g: dict[str, str]) -> None:
    # "side" is neither an ancestor nor a descendant of "raw": only reached by going down to
    # "train" and then up again, as SageMaker's Both does.
    answer = query(store, g, "raw", Direction="Both")
    assert names(g, answer) == set(g)
    assert edge_names(g, answer) == {(s, d) for s, d, _ in EDGES}
    down = names(g, query(store, g, "raw", Direction="Descendants"))
    up = names(g, query(store, g, "raw", Direction="Ascendants"))
    assert "side" not in down | up


def test_both_is_the_default_direction(store: Store, g: dict[str, str]) -> None:
    assert names(g, query(store, g, "clean")) == set(g)


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        (1, {"raw", "prep"}),
        (2, {"raw", "prep", "clean"}),
        (3, {"raw", "prep", "clean", "train"}),
        (4, {"raw", "prep", "clean", "train", "model"}),
        (5, {"raw", "prep", "clean", "train", "model", "endpoint"}),
        (100, {"raw", "prep", "clean", "train", "model", "endpoint"}),
    ],
)
def test_depth_counts_associations(
    store: Store, g: dict[str, str], depth: int, expected: set[str]
) -> None:
    answer = query(store, g, "raw", Direction="Descendants", MaxDepth=depth)
    assert names(g, answer) == expected
    assert edge_names(g, answer) == {(s, d) for s, d, _ in EDGES if {s, d} <= expected}


def test_both_depth_1(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "train", Direction="Both", MaxDepth=1)
    assert names(g, answer) == {"train", "clean", "side", "model"}


def test_depth_is_the_shortest_distance(store: Store) -> None:
    a, b, c, d = chain(store, 4)
    link(store, a, d)  # d is 1 away through the shortcut and 3 away along the chain
    answer = store.query_lineage(StartArns=[a], Direction="Descendants", MaxDepth=1)
    assert {v["Arn"] for v in answer["Vertices"]} == {a, b, d}


def test_default_depth_is_10(store: Store) -> None:
    arns = chain(store, 13)
    answer = store.query_lineage(StartArns=[arns[0]], Direction="Descendants")
    assert {v["Arn"] for v in answer["Vertices"]} == set(arns[:11])


def test_several_start_arns(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "side", "endpoint", Direction="Ascendants")
    assert names(g, answer) == set(g)
    answer = query(store, g, "side", "prep", Direction="Descendants", MaxDepth=1)
    assert names(g, answer) == {"side", "train", "prep", "clean"}


def test_repeated_start_arns_count_once(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "model", "model", Direction="Descendants")
    assert [v["Arn"] for v in answer["Vertices"]].count(g["model"]) == 1


def test_a_lone_vertex(store: Store) -> None:
    arn = artifact(store, ArtifactType="Image")
    answer = store.query_lineage(StartArns=[arn])
    assert answer["Vertices"] == [{"Arn": arn, "Type": "Image", "LineageType": "Artifact"}]
    assert answer["Edges"] == []


def test_vertex_and_edge_shapes(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "train", Direction="Ascendants", MaxDepth=1)
    vertices = {v["Arn"]: v for v in answer["Vertices"]}
    assert vertices[g["train"]] == {"Arn": g["train"], "Type": "Training", "LineageType": "Action"}
    assert vertices[g["side"]] == {"Arn": g["side"], "Type": "Labels", "LineageType": "Artifact"}
    assert {
        "SourceArn": g["side"],
        "DestinationArn": g["train"],
        "AssociationType": "ContributedTo",
    } in answer["Edges"]
    endpoint = query(store, g, "endpoint", MaxDepth=1)["Vertices"]
    assert {"Arn": g["endpoint"], "Type": "Endpoint", "LineageType": "Context"} in endpoint


def test_include_edges_false(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "raw", IncludeEdges=False)
    assert names(g, answer) == set(g)
    assert answer["Edges"] == []


# -- filters ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({"Types": ["Dataset"]}, {"raw", "clean"}, id="types"),
        pytest.param({"Types": ["Dataset", "Model"]}, {"raw", "clean", "model"}, id="two-types"),
        pytest.param({"LineageTypes": ["Action"]}, {"prep", "train"}, id="lineage-types"),
        pytest.param(
            {"LineageTypes": ["Artifact", "Context"]},
            {"raw", "clean", "side", "model", "endpoint"},
            id="two-lineage-types",
        ),
        pytest.param({"Properties": {"v": "1"}}, {"raw", "clean", "side"}, id="property"),
        pytest.param({"Properties": {"v": "1", "split": "train"}}, {"clean"}, id="properties-and"),
        pytest.param({"Properties": {"v": "3"}}, set(), id="property-no-match"),
        pytest.param(
            {"Types": ["Dataset"], "Properties": {"split": "all"}}, {"raw"}, id="types-and-props"
        ),
        pytest.param({"Types": ["Training"], "LineageTypes": ["Artifact"]}, set(), id="and"),
        pytest.param({}, set(EVERYTHING), id="empty"),
    ],
)
def test_filters(
    store: Store, g: dict[str, str], filters: dict[str, Any], expected: set[str]
) -> None:
    assert names(g, query(store, g, "raw", Filters=filters)) == expected


def test_traversal_passes_through_filtered_out_vertices(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "raw", Direction="Descendants", Filters={"LineageTypes": ["Artifact"]})
    assert names(g, answer) == {"raw", "clean", "model"}
    assert answer["Edges"] == []  # every traversed edge has an action at one end


def test_edges_are_those_between_returned_vertices(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "raw", Filters={"Types": ["Training", "Model", "Endpoint"]})
    assert names(g, answer) == {"train", "model", "endpoint"}
    assert edge_names(g, answer) == {("train", "model"), ("model", "endpoint")}


def test_a_filter_can_drop_the_start_vertex(store: Store, g: dict[str, str]) -> None:
    answer = query(store, g, "raw", Direction="Descendants", Filters={"Types": ["Model"]})
    assert names(g, answer) == {"model"}


def test_created_filters_are_inclusive(store: Store, g: dict[str, str]) -> None:
    clean = store.describe_artifact(ArtifactArn=g["clean"])["CreationTime"]
    after = query(store, g, "raw", Filters={"CreatedAfter": clean})
    assert names(g, after) == {"clean", "side", "train", "model", "endpoint"}
    before = query(store, g, "raw", Filters={"CreatedBefore": clean.isoformat()})
    assert names(g, before) == {"raw", "prep", "clean"}
    both = query(store, g, "raw", Filters={"CreatedAfter": clean, "CreatedBefore": clean})
    assert names(g, both) == {"clean"}


def test_modified_filters(store: Store, g: dict[str, str]) -> None:
    store.update_action(ActionName="prep", Description="touched")
    touched = store.describe_action(ActionName="prep")["LastModifiedTime"]
    assert names(g, query(store, g, "raw", Filters={"ModifiedAfter": touched})) == {"prep"}
    untouched = query(
        store, g, "raw", Filters={"ModifiedBefore": touched - timedelta(microseconds=1)}
    )
    assert names(g, untouched) == set(g) - {"prep"}


def test_source_uris_filter_of_lineage_graph(store: Store, g: dict[str, str]) -> None:
    answer = store.lineage_graph(
        StartArns=[g["model"]], Direction="Ascendants", Filters={"SourceUris": ["s3://b/raw"]}
    )
    assert names(g, answer) == {"raw"}
    answer = store.lineage_graph(
        StartArns=[g["model"]],
        Direction="Ascendants",
        Filters={"SourceUris": ["s3://b/clean/", "s3://b/side"], "Properties": {"v": "1"}},
    )
    assert names(g, answer) == {"clean", "side"}
    answer = store.lineage_graph(StartArns=[g["model"]], Filters={"SourceUris": ["s3://b/r"]})
    assert answer["Vertices"] == []


def test_source_uris_is_an_extension_only(store: Store, g: dict[str, str]) -> None:
    with refused(ValidationException, "unknown parameter.*SourceUris"):
        query(store, g, "raw", Filters={"SourceUris": ["s3://b/raw"]})


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        pytest.param({"LineageTypes": ["Model"]}, "LineageTypes entry must be one of", id="lt"),
        pytest.param({"Types": "Dataset"}, "Types must be a list", id="types-str"),
        pytest.param({"CreatedAfter": "soon"}, "CreatedAfter must be a datetime", id="time"),
        pytest.param({"Properties": {"k": 1}}, "must be a string", id="prop-value"),
        pytest.param({"Colour": "red"}, "unknown parameter", id="unknown"),
        pytest.param([], "Filters must be a dict", id="list"),
    ],
)
def test_bad_filters(store: Store, g: dict[str, str], filters: Any, message: str) -> None:
    with refused(ValidationException, message):
        query(store, g, "raw", Filters=filters)


# -- lineage_graph: the whole answer with properties ------------------------------------------
def test_lineage_graph_vertices_carry_properties(store: Store, g: dict[str, str]) -> None:
    graph = store.lineage_graph(StartArns=[g["train"]], Direction="Ascendants", MaxDepth=1)
    vertices = {v["Arn"]: v for v in graph["Vertices"]}
    train = vertices[g["train"]]
    assert train["Type"] == "Training"
    assert train["LineageType"] == "Action"
    assert train["Properties"]["action_name"] == "train"
    assert train["Properties"]["action_type"] == "Training"
    assert train["Properties"]["algorithm"] == "xgboost"
    described = store.describe_action(ActionName=g["train"])
    assert train["Properties"]["creation_time"] == described["CreationTime"].isoformat()
    assert train["Properties"]["last_modified_time"] == described["LastModifiedTime"].isoformat()
    clean = vertices[g["clean"]]["Properties"]
    assert clean["artifact_name"] == "clean"
    assert clean["artifact_type"] == "Dataset"
    assert clean["source_uri"] == "s3://b/clean/2024"
    assert clean["split"] == "train"
    assert "creation_time" in clean
    same = store.query_lineage(StartArns=[g["train"]], Direction="Ascendants", MaxDepth=1)
    assert {v["Arn"] for v in same["Vertices"]} == set(vertices)
    assert graph["Edges"] == same["Edges"]


def test_lineage_graph_status_of_actions(store: Store, g: dict[str, str]) -> None:
    graph = store.lineage_graph(StartArns=[g["prep"]], MaxDepth=1, Direction="Descendants")
    prep = next(v for v in graph["Vertices"] if v["Arn"] == g["prep"])
    assert prep["Properties"]["status"] == "Completed"


# -- request limits -----------------------------------------------------------------------------
def test_start_arns_1_to_10(store: Store) -> None:
    arns = [artifact(store) for _ in range(11)]
    assert len(store.query_lineage(StartArns=arns[:10])["Vertices"]) == 10
    with refused(ValidationException, "StartArns must list 1 to 10 ARNs, got 11"):
        store.query_lineage(StartArns=arns)
    with refused(ValidationException, "StartArns must list 1 to 10 ARNs, got 0"):
        store.query_lineage(StartArns=[])
    with refused(ValidationException, "missing required parameter.*StartArns"):
        store.query_lineage(Direction="Both")
    with refused(ValidationException, "StartArns must be a list"):
        store.query_lineage(StartArns=arns[0])


@pytest.mark.parametrize("depth", [0, -1, 101])
def test_max_depth_outside_1_to_100(store: Store, depth: int) -> None:
    arn = artifact(store)
    with refused(ValidationException, "MaxDepth must be between 1 and 100"):
        store.query_lineage(StartArns=[arn], MaxDepth=depth)
    with refused(ValidationException, "MaxDepth must be between 1 and 100"):
        store.lineage_graph(StartArns=[arn], MaxDepth=depth)


def test_max_depth_100_follows_100_associations(store: Store) -> None:
    arns = chain(store, 102)
    answer = store.query_lineage(StartArns=[arns[0]], Direction="Descendants", MaxDepth=100)
    assert {v["Arn"] for v in answer["Vertices"]} == set(arns[:101])
    assert len(answer["Edges"]) == 100


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        pytest.param({"Direction": "Up"}, "Direction must be one of", id="direction"),
        pytest.param({"IncludeEdges": "yes"}, "IncludeEdges must be True or False", id="edges"),
        pytest.param({"MaxDepth": "5"}, "MaxDepth must be an integer", id="depth-type"),
    ],
)
def test_bad_query_requests(store: Store, request_: dict[str, Any], message: str) -> None:
    with refused(ValidationException, message):
        store.query_lineage(StartArns=[artifact(store)], **request_)


def test_missing_start_arn(store: Store) -> None:
    present = artifact(store)
    gone = artifact(store)
    store.delete_artifact(ArtifactArn=gone)
    with refused(ResourceNotFound, f"StartArns: no artifact, action or context with ARN {gone}"):
        store.query_lineage(StartArns=[present, gone])
    with refused(ValidationException, "is not a SageMaker"):
        store.query_lineage(StartArns=["arn:aws:sagemaker:local:000000000000:endpoint/e"])


# -- result limits --------------------------------------------------------------------------
@pytest.fixture
def ten_thousand(store: Store) -> list[str]:
    """A tree of exactly 10,000 vertices: a root, 99 children, 100 grandchildren each."""
    [root] = bulk_artifacts(store, 1)
    children = bulk_artifacts(store, 99)
    grandchildren = bulk_artifacts(store, 99 * 100)
    pairs = [(root, c) for c in children]
    pairs += [(children[i // 100], gc) for i, gc in enumerate(grandchildren)]
    bulk_links(store, pairs)
    return [root, *children, *grandchildren]


def test_10000_vertices_are_allowed(store: Store, ten_thousand: list[str]) -> None:
    answer = store.query_lineage(StartArns=[ten_thousand[0]], IncludeEdges=False)
    assert len(answer["Vertices"]) == 10_000


def test_more_than_10000_vertices_are_refused(store: Store, ten_thousand: list[str]) -> None:
    link(store, ten_thousand[0], artifact(store))
    with refused(ResourceLimitExceeded, "more than 10,000 vertices"):
        store.query_lineage(StartArns=[ten_thousand[0]], IncludeEdges=False)
    with refused(ResourceLimitExceeded, "more than 10,000 vertices"):
        store.lineage_graph(StartArns=[ten_thousand[-1]], Direction="Both")
    # Reducing the depth or filtering, as the message advises, answers.
    shallow = store.query_lineage(StartArns=[ten_thousand[0]], MaxDepth=1)
    assert len(shallow["Vertices"]) == 101
    filtered = store.query_lineage(StartArns=[ten_thousand[0]], Filters={"Types": ["Dataset"]})
    assert len(filtered["Vertices"]) == 1


def test_a_query_past_its_time_is_refused(make_store: StoreFactory) -> None:
    store = make_store(query_timeout=1e-9)
    arns = chain(store, 3)
    with refused(ResourceLimitExceeded, "ran longer than"):
        store.query_lineage(StartArns=[arns[0]])
    with refused(ResourceLimitExceeded, "ran longer than"):
        store.lineage_graph(StartArns=[arns[0]])


def test_a_query_within_its_time_answers(make_store: StoreFactory) -> None:
    store = make_store(query_timeout=30)
    arns = chain(store, 3)
    assert len(store.query_lineage(StartArns=[arns[0]])["Vertices"]) == 3


# -- paging -----------------------------------------------------------------------------------
def pages(store: Store, **request: Any) -> list[dict[str, Any]]:
    out = []
    while True:
        page = store.query_lineage(**request)
        out.append(page)
        if "NextToken" not in page:
            return out
        request = {**request, "NextToken": page["NextToken"]}


@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_query_pages_cover_the_answer_once(store: Store, g: dict[str, str], size: int) -> None:
    request = {"StartArns": [g["raw"]], "Direction": "Both"}
    whole = store.query_lineage(**request)
    paged = pages(store, MaxResults=size, **request)
    vertices = list(itertools.chain.from_iterable(p["Vertices"] for p in paged))
    edges = list(itertools.chain.from_iterable(p["Edges"] for p in paged))
    assert vertices == whole["Vertices"]
    assert edges == whole["Edges"]
    assert all(len(p["Vertices"]) <= size and len(p["Edges"]) <= size for p in paged)
    assert len(paged) == -(-max(len(vertices), len(edges)) // size)


@pytest.mark.parametrize("size", [0, 51])
def test_query_max_results_1_to_50(store: Store, g: dict[str, str], size: int) -> None:
    with refused(ValidationException, "MaxResults must be between 1 and 50"):
        query(store, g, "raw", MaxResults=size)


def test_query_token_from_another_request_is_refused(store: Store, g: dict[str, str]) -> None:
    token = query(store, g, "raw", MaxResults=1)["NextToken"]
    with refused(ValidationException, "NextToken was issued for a different request"):
        query(store, g, "clean", MaxResults=1, NextToken=token)
    with refused(ValidationException, "NextToken was issued for a different request"):
        query(store, g, "raw", Direction="Descendants", MaxResults=1, NextToken=token)
    with refused(ValidationException, "NextToken"):
        store.list_artifacts(NextToken=token)
    assert query(store, g, "raw", MaxResults=1, NextToken=token)["Vertices"]
