"""``mllineage query`` and ``mllineage graph``: walk the lineage graph, print or draw it."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.tree import Tree

from mllineage.api.query import LineageFilter, LineageQuery, LineageQueryDirectionEnum
from mllineage.cli.common import (
    AsOfOption,
    StoreOption,
    check_arns,
    check_time,
    console,
    echo,
    kind_text,
    note,
    open_session,
    parse_properties,
    properties_of,
    text,
)
from mllineage.limits import QUERY_DEFAULT_DEPTH, QUERY_MAX_DEPTH, QUERY_MIN_DEPTH
from mllineage.viz.graph import FORMATS, LineageGraph, format_for_path
from mllineage.viz.style import vertex_name, vertex_type


class Direction(str, Enum):
    up = "up"
    down = "down"
    both = "both"


DIRECTIONS = {
    Direction.up: LineageQueryDirectionEnum.ASCENDANTS,
    Direction.down: LineageQueryDirectionEnum.DESCENDANTS,
    Direction.both: LineageQueryDirectionEnum.BOTH,
}


class Kind(str, Enum):
    artifact = "artifact"
    action = "action"
    context = "context"


class QueryFormat(str, Enum):
    table = "table"
    tree = "tree"
    json = "json"
    dot = "dot"
    mermaid = "mermaid"


class GraphFormat(str, Enum):
    dot = "dot"
    mermaid = "mermaid"
    graphml = "graphml"
    json = "json"
    html = "html"


assert {f.value for f in GraphFormat} == set(FORMATS)

ArnsArgument = Annotated[
    list[str],
    typer.Argument(
        metavar="ARN...", help="Start ARNs (1-10).", callback=check_arns, show_default=False
    ),
]
DirectionOption = Annotated[
    Direction,
    typer.Option(
        "--direction",
        "-d",
        case_sensitive=False,
        help="up: what led here; down: what this led to; both.",
    ),
]
DepthOption = Annotated[
    int,
    typer.Option(
        "--depth",
        min=QUERY_MIN_DEPTH,
        max=QUERY_MAX_DEPTH,
        help="Associations to follow from a start vertex.",
    ),
]
KindOption = Annotated[
    list[Kind] | None,
    typer.Option("--kind", "-k", case_sensitive=False, help="Only these kinds (repeatable)."),
]
TypeOption = Annotated[
    list[str] | None,
    typer.Option("--type", "-t", help="Only these entity types, e.g. Model (repeatable)."),
]
PropertyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--property",
        "-p",
        metavar="KEY=VALUE",
        callback=parse_properties,
        help="Only vertices with this property value (repeatable; all must hold).",
    ),
]
AfterOption = Annotated[
    str | None,
    typer.Option("--created-after", callback=check_time, help="Only created at or after this."),
]
BeforeOption = Annotated[
    str | None,
    typer.Option("--created-before", callback=check_time, help="Only created at or before this."),
]


def run_query(
    store: str | None,
    arns: list[str],
    direction: Direction,
    depth: int,
    kinds: list[Kind] | None,
    types: list[str] | None,
    properties: list[str] | None,
    created_after: str | None,
    created_before: str | None,
    as_of: str | None = None,
) -> LineageGraph:
    filters = None
    if kinds or types or properties or created_after or created_before:
        filters = LineageFilter(
            entities=[k.value.capitalize() for k in kinds] if kinds else None,
            sources=list(types) if types else None,
            properties=properties_of(properties) if properties else None,
            created_after=created_after,
            created_before=created_before,
        )
    with open_session(store) as session:
        return LineageQuery(
            arns,
            DIRECTIONS[direction],
            filters=filters,
            max_depth=depth,
            sagemaker_session=session,
            as_of=as_of,
        ).query()


def query(
    arns: ArnsArgument,
    direction: DirectionOption = Direction.both,
    depth: DepthOption = QUERY_DEFAULT_DEPTH,
    kind: KindOption = None,
    type_: TypeOption = None,
    prop: PropertyOption = None,
    created_after: AfterOption = None,
    created_before: BeforeOption = None,
    output_format: Annotated[
        QueryFormat, typer.Option("--format", "-f", case_sensitive=False, help="How to print.")
    ] = QueryFormat.table,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    as_of: AsOfOption = None,
    store: StoreOption = None,
) -> None:
    """Walk the lineage graph from ARNs and print the vertices and edges found.

    Example: mllineage query ARN --direction up --depth 3 --type Dataset --format tree
    """
    graph = run_query(
        store, arns, direction, depth, kind, type_, prop, created_after, created_before, as_of
    )
    fmt = QueryFormat.json if as_json else output_format
    if fmt == QueryFormat.table:
        print_table(graph)
    elif fmt == QueryFormat.tree:
        console.print(lineage_tree(graph, direction))
    else:
        echo(graph.render(fmt.value))


def graph(
    arns: ArnsArgument,
    direction: DirectionOption = Direction.both,
    depth: DepthOption = QUERY_DEFAULT_DEPTH,
    kind: KindOption = None,
    type_: TypeOption = None,
    prop: PropertyOption = None,
    created_after: AfterOption = None,
    created_before: BeforeOption = None,
    output_format: Annotated[
        GraphFormat | None,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="dot, mermaid, graphml, json or html (default: from the file's suffix, else dot).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (default: stdout).", dir_okay=False
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Title of the HTML page.", show_default=False)
    ] = None,
    as_of: AsOfOption = None,
    store: StoreOption = None,
) -> None:
    """Draw the lineage around ARNs: DOT, Mermaid, GraphML, JSON or an interactive HTML page.

    Example: mllineage graph ARN --direction both --format html -o lineage.html
    """
    if output_format is not None:
        fmt = str(output_format.value)
    elif output is not None:
        try:
            fmt = format_for_path(output)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="'--format'") from None
    else:
        fmt = "dot"
    result = run_query(
        store, arns, direction, depth, kind, type_, prop, created_after, created_before, as_of
    )
    rendered = result.to_html(title) if fmt == "html" else result.render(fmt)
    if output is None:
        echo(rendered)
        return
    output.write_text(rendered, encoding="utf-8")
    note(f"wrote {len(result.vertices)} vertices and {len(result.edges)} edges to {output} ({fmt})")


# -- terminal renderings --------------------------------------------------------------------
def _label(vertex: dict[str, object] | None, arn: str, starts: set[str]) -> str:
    if vertex is None:
        return f"[dim]{text(arn)}[/] [dim](filtered out)[/]"
    star = " [bold yellow]★[/]" if arn in starts else ""
    return (
        f"{kind_text(str(vertex.get('Type', '')))} [bold]{text(vertex_name(vertex))}[/]"
        f" [dim]({text(vertex_type(vertex))})[/]{star}"
    )


def print_table(graph: LineageGraph) -> None:
    starts = set(graph.start_arns)
    table = Table(
        box=box.SIMPLE_HEAD, title=f"{len(graph.vertices)} vertices", title_justify="left"
    )
    for column in ("", "Kind", "Name", "Type", "ARN"):
        table.add_column(column, overflow="fold")
    for v in graph.vertices:
        table.add_row(
            "★" if v["Arn"] in starts else "",
            kind_text(str(v.get("Type", ""))),
            text(vertex_name(v)),
            text(vertex_type(v)),
            text(v["Arn"]),
        )
    console.print(table)
    if not graph.edges:
        return
    names = {v["Arn"]: vertex_name(v) for v in graph.vertices}
    edges = Table(box=box.SIMPLE_HEAD, title=f"{len(graph.edges)} edges", title_justify="left")
    for column in ("Source", "Association", "Destination"):
        edges.add_column(column, overflow="fold")
    for e in graph.edges:
        edges.add_row(
            text(names.get(e["SourceArn"], e["SourceArn"])),
            text(e.get("AssociationType")),
            text(names.get(e["DestinationArn"], e["DestinationArn"])),
        )
    console.print(edges)


def lineage_tree(graph: LineageGraph, direction: Direction) -> Tree:
    """Each start vertex with what it led to (down) and what led to it (up); a vertex reached
    again is shown once and then referred to."""
    by_arn = {v["Arn"]: v for v in graph.vertices}
    starts = set(graph.start_arns)
    outgoing: dict[str, list[tuple[str, str]]] = {}
    incoming: dict[str, list[tuple[str, str]]] = {}
    for e in graph.edges:
        kind = str(e.get("AssociationType", ""))
        outgoing.setdefault(e["SourceArn"], []).append((e["DestinationArn"], kind))
        incoming.setdefault(e["DestinationArn"], []).append((e["SourceArn"], kind))

    root = Tree(f"[bold]Lineage[/]: {len(graph.vertices)} vertices, {len(graph.edges)} edges")
    shown: set[str] = set()
    for start in graph.start_arns:
        node = root.add(_label(by_arn.get(start), start, starts))
        shown.add(start)
        branches = []
        if direction in (Direction.up, Direction.both):
            branches.append(("▲ upstream", incoming, "←"))
        if direction in (Direction.down, Direction.both):
            branches.append(("▼ downstream", outgoing, "→"))
        for title, adjacency, arrow in branches:
            if adjacency.get(start):
                seen: set[str] = {start}
                _grow(node.add(f"[dim]{title}[/]"), start, adjacency, arrow, by_arn, starts, seen)
                shown |= seen
    rest = len(set(by_arn) - shown)
    if rest:
        root.add(f"[dim]{rest} more vertices not linked to a start vertex in this result[/]")
    return root


def _grow(
    tree: Tree,
    arn: str,
    adjacency: dict[str, list[tuple[str, str]]],
    arrow: str,
    by_arn: dict[str, dict[str, object]],
    starts: set[str],
    seen: set[str],
) -> None:
    for other, kind in adjacency.get(arn, []):
        label = f"[dim]{arrow} {text(kind)}[/] {_label(by_arn.get(other), other, starts)}"
        if other in seen:
            tree.add(label + " [dim](see above)[/]")
            continue
        seen.add(other)
        _grow(tree.add(label), other, adjacency, arrow, by_arn, starts, seen)
