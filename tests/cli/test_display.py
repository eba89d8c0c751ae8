"""What a notebook shows: ``_repr_html_`` of entities, lists, associations and query results,
and ``to_dataframe()`` of lists."""

from __future__ import annotations

import html
import re

from mllineage import (
    Action,
    Artifact,
    Association,
    Context,
    LineageQuery,
    LineageQueryDirectionEnum,
    Session,
)
from mllineage.viz.display import NOTEBOOK_PICTURE_MAX_VERTICES, EntityList


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_entity_cards(session: Session, pipeline: dict[str, str]) -> None:
    raw = Artifact.load(pipeline["raw"], sagemaker_session=session)
    card = raw._repr_html_()
    assert "<script" not in card
    assert "&lt;2024&gt;" in card  # escaped, never raw markup
    text = _text(card)
    for expected in (
        "Artifact",
        'raw "customers" <2024> & #1',
        "Dataset",
        pipeline["raw"],
        "50000",
    ):
        assert expected in text
    _ = raw.tags  # fetched tags are shown too
    assert "data-team" in _text(raw._repr_html_())
    train = Action.load(pipeline["train"], sagemaker_session=session)
    assert "Completed" in _text(train._repr_html_())
    endpoint = Context.load(pipeline["endpoint"], sagemaker_session=session)
    assert "production" in _text(endpoint._repr_html_())


def test_lists_are_lists_with_a_table_and_a_dataframe(
    session: Session, pipeline: dict[str, str]
) -> None:
    models = Artifact.list(sagemaker_session=session)
    assert isinstance(models, list)
    assert isinstance(models, EntityList)
    assert "3 results" in _text(models._repr_html_())
    frame = models.to_dataframe()
    assert list(frame["artifact_name"]) == ["model", "clean", 'raw "customers" <2024> & #1']
    assert frame.set_index("artifact_name").loc["model", "properties.accuracy"] == "0.94"
    assert str(frame["creation_time"].dtype).startswith("datetime64")
    links = Association.list(association_type="Produced", sagemaker_session=session)
    assert "Produced" in _text(links._repr_html_())
    assert set(links.to_dataframe()["destination_name"]) == {"clean", "model"}
    assert "Produced" in _text(links[0]._repr_html_())
    empty = Context.list(context_type="Nothing", sagemaker_session=session)
    assert "no results" in empty._repr_html_()


def test_query_results_show_a_picture_and_tables(
    session: Session, pipeline: dict[str, str]
) -> None:
    graph = LineageQuery(
        [pipeline["model"]], LineageQueryDirectionEnum.ASCENDANTS, sagemaker_session=session
    ).query()
    shown = graph._repr_html_()
    assert shown.count("<iframe") == 1
    assert 'sandbox="allow-scripts allow-downloads"' in shown
    text = _text(shown)
    assert "5 vertices, 4 edges" in text
    assert "model ★" in text
    assert "ContributedTo" in text


def test_large_query_results_show_tables_only(session: Session) -> None:
    from mllineage.viz.graph import LineageGraph

    vertices = [
        {
            "Arn": f"arn:aws:sagemaker:local:000000000000:action/a{i}",
            "Type": "Action",
            "Properties": {"action_name": f"a{i}", "action_type": "Job"},
        }
        for i in range(NOTEBOOK_PICTURE_MAX_VERTICES + 1)
    ]
    shown = LineageGraph(vertices, [])._repr_html_()
    assert "<iframe" not in shown
    assert "a500" in shown
