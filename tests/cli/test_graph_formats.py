"""Graph exports: DOT that Graphviz renders, GraphML that networkx reads back, Mermaid, JSON,
DataFrames, and the HTML page in a real headless Chromium."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from mllineage import LineageQuery, LineageQueryDirectionEnum, Session
from mllineage.store.sql.store import SqlStore
from mllineage.viz.graph import LineageGraph

Cli = Any


@pytest.fixture
def graph(session: Session, pipeline: dict[str, str]) -> LineageGraph:
    return LineageQuery(
        [pipeline["model"]], LineageQueryDirectionEnum.BOTH, sagemaker_session=session
    ).query()


def _pairs(graph: LineageGraph) -> set[tuple[str, str]]:
    return {(e["SourceArn"], e["DestinationArn"]) for e in graph["Edges"]}


def test_query_result_is_still_the_spec_dict(graph: LineageGraph, pipeline: dict[str, str]) -> None:
    plain = json.loads(json.dumps(graph))
    assert plain == graph
    assert set(plain) == {"Vertices", "Edges"}
    assert graph.start_arns == (pipeline["model"],)
    copy = pickle.loads(pickle.dumps(graph))
    assert copy == graph
    assert copy.start_arns == graph.start_arns


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_dot_renders_with_graphviz_with_every_node_and_edge(graph: LineageGraph) -> None:
    rendered = subprocess.run(
        ["dot", "-Tjson"], input=graph.to_dot(), capture_output=True, text=True, check=True
    )
    assert rendered.stderr == ""
    layout = json.loads(rendered.stdout)
    nodes = {o["_gvid"]: o for o in layout["objects"]}
    assert {o["name"] for o in nodes.values()} == {v["Arn"] for v in graph["Vertices"]}
    edges = {(nodes[e["tail"]]["name"], nodes[e["head"]]["name"]): e for e in layout["edges"]}
    assert set(edges) == _pairs(graph)
    for edge in graph["Edges"]:
        drawn = edges[(edge["SourceArn"], edge["DestinationArn"])]
        assert drawn["label"] == edge["AssociationType"]
    by_name = {o["name"]: o for o in nodes.values()}
    raw = next(v for v in graph["Vertices"] if "customers" in str(v["Properties"]))
    # Graphviz keeps the label as written: \n is its line break.
    assert by_name[raw["Arn"]]["label"] == 'raw "customers" <2024> & #1\\nDataset'
    assert layout["rankdir"] == "LR"
    start = by_name[graph.start_arns[0]]
    assert start["peripheries"] == "2"
    kinds = {v["Type"]: by_name[v["Arn"]]["fillcolor"] for v in graph["Vertices"]}
    assert len(set(kinds.values())) == 3


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_command_writes_a_dot_file_graphviz_draws(
    cli: Cli, pipeline: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "lineage.gv"
    result = cli("graph", pipeline["train"], "-d", "up", "-o", str(out))
    assert result.code == 0, result.err
    assert "wrote 4 vertices and 3 edges" in result.err
    svg = subprocess.run(["dot", "-Tsvg", str(out)], capture_output=True, text=True, check=True)
    assert svg.stdout.count('class="node"') == 4
    assert svg.stdout.count('class="edge"') == 3


def test_graphml_round_trips_through_networkx(graph: LineageGraph, tmp_path: Path) -> None:
    path = graph.save(tmp_path / "lineage.graphml")
    read = nx.read_graphml(path)
    built = graph.to_networkx()
    assert read.is_directed()
    assert dict(read.nodes(data=True)) == dict(built.nodes(data=True))
    assert sorted(read.edges(data=True)) == sorted(built.edges(data=True))
    assert set(read.edges) == _pairs(graph)
    for vertex in graph["Vertices"]:
        attrs = read.nodes[vertex["Arn"]]
        assert attrs["kind"] == vertex["Type"]
        assert attrs["start"] is (vertex["Arn"] in graph.start_arns)
        for key, value in vertex["Properties"].items():
            assert attrs[key] == value


def test_mermaid_has_every_node_and_labelled_edge(graph: LineageGraph) -> None:
    text = graph.to_mermaid()
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes = [line for line in lines if re.match(r"\s+n\d+[\[({]", line)]
    assert len(nodes) == len(graph["Vertices"])
    edges = [line for line in lines if "-->|" in line]
    assert len(edges) == len(graph["Edges"])
    assert all(re.fullmatch(r'\s+n\d+ -->\|"\w+"\| n\d+', e) for e in edges)
    raw = next(line for line in nodes if "customers" in line)
    assert "#quot;customers#quot; #lt;2024#gt; #amp; #35;1" in raw
    assert ":::artifact" in raw
    assert re.search(r"^  class n\d+ start$", text, flags=re.M)


def test_dataframes(graph: LineageGraph, pipeline: dict[str, str]) -> None:
    vertices = graph.to_dataframe()
    assert list(vertices.columns[:5]) == ["Arn", "Type", "Name", "EntityType", "Start"]
    assert set(vertices["Arn"]) == {v["Arn"] for v in graph["Vertices"]}
    model = vertices.set_index("Arn").loc[pipeline["model"]]
    assert bool(model["Start"]) is True
    assert model["accuracy"] == "0.94"
    edges = graph.to_dataframe("edges")
    assert set(zip(edges["SourceArn"], edges["DestinationArn"], strict=True)) == _pairs(graph)
    assert set(edges["AssociationType"]) == {e["AssociationType"] for e in graph["Edges"]}


def test_graph_command_formats_follow_the_suffix(
    cli: Cli, pipeline: dict[str, str], tmp_path: Path
) -> None:
    for name, head in [
        ("g.json", '{\n  "Vertices"'),
        ("g.mmd", "flowchart LR"),
        ("g.graphml", "<?xml"),
        ("g.html", "<!DOCTYPE html>"),
        ("g.dot", "digraph lineage"),
    ]:
        result = cli("graph", pipeline["model"], "-o", str(tmp_path / name))
        assert result.code == 0, result.err
        assert (tmp_path / name).read_text().startswith(head)
    stdout = cli("graph", pipeline["model"], "--format", "graphml")
    assert stdout.out.startswith("<?xml")


# -- the HTML page in Chromium --------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)"
)


def _chromium(tmp_path: Path, *args: str) -> str:
    assert CHROMIUM is not None
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            # No network at all: any fetch would go to a dead proxy and fail.
            "--proxy-server=127.0.0.1:9",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            "--window-size=1400,900",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _two_hundred_vertices(store: SqlStore) -> tuple[str, int]:
    """A layered DAG of 200 artifacts and actions below one root; its root and edge count."""
    sizes = [1, 11, 22, 22, 24, 24, 24, 24, 24, 24]
    assert sum(sizes) == 200
    layers: list[list[str]] = []
    edges = 0
    with store.batch():
        for depth, size in enumerate(sizes):
            layer = []
            for i in range(size):
                if depth % 2 == 0:
                    arn = store.create_artifact(
                        ArtifactName=f"data-{depth}-{i}",
                        ArtifactType="Dataset",
                        Source={"SourceUri": f"s3://b/{depth}/{i}"},
                    )["ArtifactArn"]
                else:
                    arn = store.create_action(ActionName=f"step-{depth}-{i}", ActionType="Job")[
                        "ActionArn"
                    ]
                if layers:
                    parent = layers[-1][i % len(layers[-1])]
                    kind = "ContributedTo" if depth % 2 else "Produced"
                    store.add_association(
                        SourceArn=parent, DestinationArn=arn, AssociationType=kind
                    )
                    edges += 1
                layer.append(arn)
            layers.append(layer)
    return layers[0][0], edges


@needs_chromium
def test_html_page_shows_every_node_of_a_200_vertex_graph_offline(
    store_url: str, tmp_path: Path
) -> None:
    store = SqlStore(store_url)
    try:
        root, edge_count = _two_hundred_vertices(store)
    finally:
        store.close()
    with Session(store_url) as session:
        graph = LineageQuery(
            [root], LineageQueryDirectionEnum.DESCENDANTS, sagemaker_session=session
        ).query()
    assert len(graph["Vertices"]) == 200
    page = graph.save(tmp_path / "lineage.html")
    html = page.read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)  # everything inline

    dom = _chromium(tmp_path, "--dump-dom", page.as_uri())
    status = re.search(r'<div id="status"[^>]*>', dom)
    assert status is not None, dom[-2000:]
    attrs = dict(re.findall(r'data-([\w-]+)="([^"]*)"', status.group(0)))
    assert attrs["state"] == "ready"
    assert attrs["nodes"] == "200"
    assert attrs["visible-nodes"] == "200"
    assert attrs["edges"] == str(edge_count)

    shot = tmp_path / "lineage.png"
    _chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG")
    assert len(png) > 20_000  # a drawn graph, not a blank page


def test_bundled_libraries_match_the_frontend_lockfile() -> None:
    """src/mllineage/static holds what `npm ci && npm run build` in frontend/ produces."""
    root = Path(__file__).resolve().parents[2]
    lock = json.loads((root / "frontend" / "package-lock.json").read_text())
    shipped = json.loads((root / "src" / "mllineage" / "static" / "versions.json").read_text())
    for name, version in shipped.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
        assert (root / "src" / "mllineage" / "static" / f"{name}.min.js").stat().st_size > 10_000
