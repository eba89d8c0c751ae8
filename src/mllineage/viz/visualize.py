"""LineageTableVisualizer: a query's answer as a table, in a terminal or a notebook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from mllineage.viz.style import vertex_name


class LineageTableVisualizer:
    """Render a lineage graph (from ``LineageQuery.query()``) as tables.

    Example:
        >>> LineageTableVisualizer().show(LineageQuery([arn], "Both").query())
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def show(self, lineage_graph: Mapping[str, Any]) -> Any:
        """Print the vertices (type, name, ARN) and the relationships between them.

        Returns:
            A pandas DataFrame of the vertices (columns ``Type``, ``Name``, ``ARN``) when
            pandas is installed, else ``None``.
        Raises:
            ValueError: ``lineage_graph`` is not the dict ``LineageQuery.query()`` returns.
        """
        if not isinstance(lineage_graph, Mapping) or "Vertices" not in lineage_graph:
            raise ValueError(
                "lineage_graph must be the dict LineageQuery.query() returns, "
                "with 'Vertices' and 'Edges'"
            )
        vertices = list(lineage_graph["Vertices"])
        edges = list(lineage_graph.get("Edges") or [])
        rows = [(str(v.get("Type", "")), vertex_name(v), str(v.get("Arn", ""))) for v in vertices]

        table = Table(
            box=box.ASCII2, title=f"Lineage: {len(vertices)} entities", title_justify="left"
        )
        for column in ("Type", "Name", "ARN"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self.console.print(table)

        if edges:
            names = {v.get("Arn"): vertex_name(v) for v in vertices}
            relations = Table(
                box=box.ASCII2, title=f"Relationships: {len(edges)}", title_justify="left"
            )
            for column in ("Source", "Association", "Destination"):
                relations.add_column(column, overflow="fold")
            for edge in edges:
                relations.add_row(
                    names.get(edge["SourceArn"], edge["SourceArn"]),
                    str(edge.get("AssociationType", "")),
                    names.get(edge["DestinationArn"], edge["DestinationArn"]),
                )
            self.console.print(relations)

        try:
            import pandas as pd
        except ImportError:
            return None
        return pd.DataFrame(rows, columns=["Type", "Name", "ARN"])
