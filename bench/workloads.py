"""Deterministic lineage graphs for the benchmarks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    key: str  # unique within the workload
    kind: str  # artifact | action | context
    type: str
    uri: str | None = None


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    type: str


def diamond(n: int, seed: int = 7) -> tuple[list[Node], list[Edge]]:
    """N processing actions; action i reads dataset i and two random earlier datasets
    (ContributedTo) and produces dataset i+1 (Produced): 2N+1 vertices, about 4N edges."""
    rng = random.Random(seed)
    nodes = [Node(f"d{i}", "artifact", "Dataset", f"s3://bench/diamond/d{i}") for i in range(n + 1)]
    nodes += [Node(f"a{i}", "action", "Processing") for i in range(n)]
    edges: list[Edge] = []
    for i in range(n):
        inputs = {i}
        if i > 0:
            inputs.update(rng.sample(range(i), min(2, i)))
        edges += [Edge(f"d{j}", f"a{i}", "ContributedTo") for j in sorted(inputs)]
        edges.append(Edge(f"a{i}", f"d{i + 1}", "Produced"))
    return nodes, edges


def pipeline(target_vertices: int, seed: int = 11) -> tuple[list[Node], list[Edge]]:
    """Pipeline runs: raw datasets (each shared by many runs) -> processing -> processed
    dataset -> training -> model -> deployment; each model DerivedFrom the previous one; every
    run in its own Pipeline context. Six vertices per run, plus one raw dataset per 50 runs."""
    rng = random.Random(seed)
    runs = max(1, target_vertices * 50 // 301)
    raw_count = max(2, runs // 50)
    nodes = [
        Node(f"raw{r}", "artifact", "Dataset", f"s3://bench/raw/{r}/") for r in range(raw_count)
    ]
    edges: list[Edge] = []
    for run in range(runs):
        p = f"r{run}"
        nodes += [
            Node(f"{p}-proc", "action", "Processing"),
            Node(f"{p}-data", "artifact", "Dataset", f"s3://bench/processed/{run}/"),
            Node(f"{p}-train", "action", "Training"),
            Node(f"{p}-model", "artifact", "Model", f"s3://bench/models/{run}/model.tar.gz"),
            Node(f"{p}-deploy", "action", "Deployment"),
            Node(f"{p}-ctx", "context", "Pipeline"),
        ]
        # A raw dataset may serve at most ~400 runs (the 1,000-association limit).
        raw = f"raw{min(raw_count - 1, run * raw_count // runs + rng.randrange(2))}"
        edges += [
            Edge(raw, f"{p}-proc", "ContributedTo"),
            Edge(f"{p}-proc", f"{p}-data", "Produced"),
            Edge(f"{p}-data", f"{p}-train", "ContributedTo"),
            Edge(f"{p}-train", f"{p}-model", "Produced"),
            Edge(f"{p}-model", f"{p}-deploy", "ContributedTo"),
        ]
        if run > 0:
            edges.append(Edge(f"r{run - 1}-model", f"{p}-model", "DerivedFrom"))
        edges += [
            Edge(f"{p}-{m}", f"{p}-ctx", "AssociatedWith")
            for m in ("proc", "data", "train", "model", "deploy")
        ]
    return nodes, edges


def layered(sizes: tuple[int, ...], seed: int = 5) -> tuple[list[Node], list[Edge]]:
    """Layers of datasets and actions, alternating, layer k+1 downstream of layer k: every
    vertex has one parent in the layer before it and half have a second. The lineage of the
    first vertex downstream to depth ``len(sizes) - 1`` is every vertex (``sum(sizes)``)."""
    rng = random.Random(seed)
    kinds = [("artifact", "Dataset"), ("action", "Processing")]
    layers: list[list[Node]] = []
    for depth, size in enumerate(sizes):
        kind, type_ = kinds[depth % 2]
        layers.append(
            [Node(f"l{depth}n{i}", kind, type_, f"s3://bench/ui/{depth}/{i}/") for i in range(size)]
        )
    edges: list[Edge] = []
    for depth in range(1, len(sizes)):
        parents, children = layers[depth - 1], layers[depth]
        link = "ContributedTo" if depth % 2 else "Produced"
        for i, child in enumerate(children):
            first = i * len(parents) // len(children)
            edges.append(Edge(parents[first].key, child.key, link))
            second = rng.randrange(len(parents))
            if second != first and rng.random() < 0.5:
                edges.append(Edge(parents[second].key, child.key, link))
    return [node for layer in layers for node in layer], edges


def chunks(items: list[Edge], size: int) -> Iterator[list[Edge]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
