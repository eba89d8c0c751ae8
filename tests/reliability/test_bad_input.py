"""Bad input to the public Python API (Hypothesis): random strings, unicode, huge values, wrong
types, nested garbage and SQL-looking text in every argument of the entity, association, query
and tag calls. A call either succeeds or raises ``ValueError``/``ClientError`` with a message;
a refused call changes no row of the database (a snapshot of every table is compared).

The server's side (every operation, random bodies, never a 5xx) is ``tests/server/test_fuzz.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllineage import (
    Action,
    Artifact,
    Association,
    ClientError,
    Context,
    LineageEntityEnum,
    LineageFilter,
    LineageQuery,
    LineageQueryDirectionEnum,
    Session,
)

SQL = [
    "'; DROP TABLE entities; --",
    "x' OR '1'='1",
    '" OR 1=1 --',
    "%",
    "_",
    "\\",
    "a%' UNION SELECT * FROM associations --",
    "); DELETE FROM entities WHERE (1=1",
]
ODD = ["", " ", "\x00", "\ud800", "é" * 300, "😀" * 121, "\u202e", "x" * 10**6, "\n\t"]
STRINGS = st.one_of(st.text(max_size=40), st.sampled_from(SQL + ODD), st.text(min_size=250))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    STRINGS,
    st.binary(max_size=10),
    st.builds(object),
    st.just(datetime(1, 1, 1)),
    st.just(datetime.max.replace(tzinfo=timezone.utc)),
    st.sampled_from(list(LineageEntityEnum) + list(LineageQueryDirectionEnum)),
)
GARBAGE = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.one_of(STRINGS, st.integers()), children, max_size=4),
    ),
    max_leaves=12,
)
HUGE_DICT = {f"k{i}": "v" for i in range(5000)}


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid value half of the time, garbage the other half."""
    return st.one_of(valid, GARBAGE, st.just(HUGE_DICT))


NAME = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9\-]{0,20}", fullmatch=True)
PROPERTIES = st.dictionaries(STRINGS, STRINGS, max_size=4)
TAGS = st.lists(st.fixed_dictionaries({"Key": STRINGS, "Value": STRINGS}), max_size=4)
SOURCE = st.fixed_dictionaries(
    {"source_uri": STRINGS},
    optional={
        "source_types": st.lists(
            st.fixed_dictionaries({"SourceIdType": STRINGS, "Value": STRINGS}), max_size=2
        )
    },
)
WHEN = st.one_of(st.datetimes(timezones=st.just(timezone.utc)), STRINGS)
SORT = st.sampled_from(["CreationTime", "Name", "Descending", "Ascending"])


class World:
    """A small store on a file, and a way to snapshot every row of it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.session = Session(f"sqlite:///{path}")
        s = self.session
        self.artifact = Artifact.create(
            artifact_type="Dataset", source={"source_uri": "s3://b/x"}, sagemaker_session=s
        )
        self.action = Action.create(action_name="fuzz-act", action_type="T", sagemaker_session=s)
        self.context = Context.create(
            context_name="fuzz-ctx", context_type="T", sagemaker_session=s
        )
        Association.create(
            self.artifact.artifact_arn, self.action.action_arn, "ContributedTo", sagemaker_session=s
        )
        self.arns = [self.artifact.artifact_arn, self.action.action_arn, self.context.context_arn]

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        connection = sqlite3.connect(self.path)
        try:
            tables = [
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            return {
                table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
                for table in tables
            }
        finally:
            connection.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = World(tmp_path_factory.mktemp("bad-input") / "lineage.db")
    yield world
    world.session.close()


def arn(world_arns: list[str]) -> st.SearchStrategy[Any]:
    return maybe(st.sampled_from(world_arns))


def _filter(draw: Any) -> Any:
    return draw(
        st.one_of(
            GARBAGE,
            st.builds(
                LineageFilter,
                entities=maybe(st.lists(st.sampled_from(list(LineageEntityEnum)), max_size=3)),
                sources=maybe(st.lists(st.one_of(STRINGS, SOURCE), max_size=3)),
                created_before=maybe(WHEN),
                created_after=maybe(WHEN),
                modified_before=maybe(WHEN),
                modified_after=maybe(WHEN),
                properties=maybe(PROPERTIES),
            ),
        )
    )


# Each operation draws its arguments (valid or garbage, one by one) and makes the call.
Call = Callable[[World, Any], Any]


def create_artifact(w: World, draw: Any) -> Any:
    return Artifact.create(
        artifact_name=draw(maybe(NAME)),
        artifact_type=draw(maybe(NAME)),
        source=draw(maybe(SOURCE)),
        properties=draw(maybe(PROPERTIES)),
        tags=draw(maybe(TAGS)),
        metadata_properties=draw(maybe(PROPERTIES)),
        sagemaker_session=w.session,
    )


def create_action(w: World, draw: Any) -> Any:
    return Action.create(
        action_name=draw(maybe(NAME)),
        action_type=draw(maybe(NAME)),
        source=draw(maybe(SOURCE)),
        properties=draw(maybe(PROPERTIES)),
        status=draw(maybe(st.sampled_from(["Completed", "Failed", "InProgress"]))),
        tags=draw(maybe(TAGS)),
        description=draw(maybe(STRINGS)),
        sagemaker_session=w.session,
    )


def create_context(w: World, draw: Any) -> Any:
    return Context.create(
        context_name=draw(maybe(NAME)),
        context_type=draw(maybe(NAME)),
        source=draw(maybe(SOURCE)),
        properties=draw(maybe(PROPERTIES)),
        tags=draw(maybe(TAGS)),
        description=draw(maybe(STRINGS)),
        sagemaker_session=w.session,
    )


def list_entities(w: World, draw: Any) -> Any:
    kind = draw(st.sampled_from([Artifact, Action, Context]))
    first = {Artifact: "source_uri", Action: "source_uri", Context: "source_uri"}[kind]
    return list(
        kind.list(  # type: ignore[attr-defined]
            **{first: draw(maybe(STRINGS))},
            created_after=draw(maybe(WHEN)),
            created_before=draw(maybe(WHEN)),
            sort_by=draw(maybe(SORT)),
            sort_order=draw(maybe(SORT)),
            max_results=draw(maybe(st.integers(-5, 200))),
            sagemaker_session=w.session,
        )
    )


def create_association(w: World, draw: Any) -> Any:
    return Association.create(
        draw(arn(w.arns)),
        draw(arn(w.arns)),
        draw(maybe(st.sampled_from(["ContributedTo", "AssociatedWith", "SameAs"]))),
        sagemaker_session=w.session,
    )


def list_associations(w: World, draw: Any) -> Any:
    return list(
        Association.list(
            source_arn=draw(arn(w.arns)),
            destination_arn=draw(maybe(st.none())),
            association_type=draw(maybe(st.sampled_from(["ContributedTo", "Produced"]))),
            created_after=draw(maybe(WHEN)),
            sort_by=draw(maybe(SORT)),
            max_results=draw(maybe(st.integers(-5, 200))),
            sagemaker_session=w.session,
        )
    )


def query(w: World, draw: Any) -> Any:
    return LineageQuery(
        draw(maybe(st.lists(st.sampled_from(w.arns), min_size=1, max_size=12))),
        draw(maybe(st.sampled_from(list(LineageQueryDirectionEnum)))),
        include_edges=draw(maybe(st.booleans())),
        filters=_filter(draw),
        max_depth=draw(maybe(st.integers(-5, 120))),
        sagemaker_session=w.session,
    ).query()


def tags(w: World, draw: Any) -> Any:
    entity = draw(st.sampled_from([w.artifact, w.action, w.context]))
    if draw(st.booleans()):
        return entity.set_tags(draw(maybe(TAGS)))
    return entity.remove_tags(draw(maybe(st.lists(STRINGS, max_size=3))))


def save(w: World, draw: Any) -> Any:
    entity = Artifact.load(w.artifact.artifact_arn, sagemaker_session=w.session)
    entity.properties = draw(maybe(PROPERTIES))
    entity.artifact_name = draw(maybe(NAME))
    return entity.save()


def load(w: World, draw: Any) -> Any:
    kind = draw(st.sampled_from([Artifact, Action, Context]))
    return kind.load(draw(arn(w.arns)), sagemaker_session=w.session)  # type: ignore[attr-defined]


def bulk(w: World, draw: Any) -> Any:
    with w.session.bulk() as writer:
        ref = writer.artifact(
            artifact_type=draw(maybe(NAME)),
            source=draw(maybe(SOURCE)),
            properties=draw(maybe(PROPERTIES)),
            tags=draw(maybe(TAGS)),
        )
        writer.associate(ref, draw(st.one_of(arn(w.arns), st.just(ref))), draw(maybe(NAME)))


CALLS: list[Call] = [
    create_artifact,
    create_action,
    create_context,
    list_entities,
    create_association,
    list_associations,
    query,
    tags,
    save,
    load,
    bulk,
]


def try_call(world: World, call: Call, draw: Any, counts: dict[str, int]) -> None:
    before = world.snapshot()
    refusal: ValueError | ClientError | None = None
    try:
        call(world, draw)
    except (ValueError, ClientError) as error:  # anything else fails the test
        refusal = error
    counts["cases"] = counts.get("cases", 0) + 1
    if refusal is None:
        counts["accepted"] = counts.get("accepted", 0) + 1
        return
    counts["refused"] = counts.get("refused", 0) + 1
    message = (
        refusal.response["Error"]["Message"] if isinstance(refusal, ClientError) else str(refusal)
    )
    assert message.strip(), f"{type(refusal).__name__} without a message"
    assert world.snapshot() == before, f"a refused call changed rows: {message}"


def _fuzz(world: World, call: Call, figures: dict[str, Any], data: st.DataObject) -> None:
    try_call(world, call, data.draw, figures)


@pytest.mark.parametrize("call", [pytest.param(c, id=c.__name__) for c in CALLS])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_bad_arguments_are_refused_cleanly(
    world: World, call: Call, figures: dict[str, Any], data: st.DataObject
) -> None:
    _fuzz(world, call, figures, data)


@pytest.mark.slow
@pytest.mark.parametrize("call", [pytest.param(c, id=c.__name__) for c in CALLS])
@settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_bad_arguments_are_refused_cleanly_long(
    world: World, call: Call, figures: dict[str, Any], data: st.DataObject
) -> None:
    _fuzz(world, call, figures, data)
