"""The edge limit of a lineage query, exercised with a lowered limit (building 100,001 real
edges would take the suite minutes; the code path is the same)."""

from __future__ import annotations

import pytest

from mllineage import limits
from mllineage.errors import ResourceLimitExceeded
from mllineage.store.base import Store
from tests.helpers import refused, unique


def test_a_query_past_the_edge_limit_fails_and_names_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    if type(store).__name__ == "HttpStore":
        pytest.skip("the limit is lowered in this process, not in the server's")
    hub = store.create_context(ContextName=unique(), ContextType="Hub")["ContextArn"]
    for _ in range(4):
        member = store.create_action(ActionName=unique(), ActionType="Step")["ActionArn"]
        store.add_association(SourceArn=member, DestinationArn=hub)
    monkeypatch.setattr(limits, "QUERY_MAX_EDGES", 3)
    for call in (store.lineage_graph, store.query_lineage):
        with refused(ResourceLimitExceeded, "more than 3 edges"):
            call(StartArns=[hub], Direction="Ascendants")
        answer = call(StartArns=[hub], Direction="Ascendants", IncludeEdges=False)
        assert len(answer["Vertices"]) == 5
        assert answer["Edges"] == []
