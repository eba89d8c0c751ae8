"""Bad input to the public Python API (Hypothesis): random strings, unicode, huge values, wrong
types, nested garbage and SQL-looking text in every argument of the entity, association, query
and tag calls. A call either succeeds or raises ``ValueError``/``ClientError`` with a message;
a refused call changes no row of the database (a snapshot of every table is compared).

Every call runs on an SQLite file directly and through a server on one (an ``HttpStore``); the
server's own side (every operation, random bodies, never a 5xx) is ``tests/server/test_fuzz.py``.
"""

from __future__ import annotations

import secrets
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
from mllineage.server.testing import ServerProcess
from mllineage.store.base import Store
from mllineage.store.http import HttpStore
from mllineage.store.sql.store import SqlStore
from tests.reliability.stores import table_rows

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


BAD = st.one_of(GARBAGE, st.just(HUGE_DICT))


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid value or garbage."""
    return st.one_of(valid, BAD)


class Args:
    """Draws a call's arguments: all valid, or exactly one of them garbage, so that calls get
    past the first check to the store's and every argument's checks are reached."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.bad = draw(st.integers(0, 7))  # which argument is garbage (0: none)
        self.drawn = 0

    def __call__(self, valid: st.SearchStrategy[Any]) -> Any:
        self.drawn += 1
        return self.draw(BAD if self.drawn == self.bad else valid)


# Valid values (garbage comes from maybe()): printable unicode, SQL-looking text included.
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30),
    st.sampled_from(SQL[:3] + SQL[4:]),
)
NAME = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9\-]{0,20}", fullmatch=True)
PROPERTIES = st.dictionaries(TEXT, TEXT, max_size=4)
TAGS = st.lists(st.fixed_dictionaries({"Key": TEXT, "Value": TEXT}), max_size=4)
SOURCE = st.fixed_dictionaries(
    {"source_uri": TEXT},
    optional={
        "source_types": st.lists(
            st.fixed_dictionaries(
                {"SourceIdType": st.sampled_from(["MD5Hash", "S3ETag", "Custom"]), "Value": TEXT}
            ),
            max_size=2,
        )
    },
)
WHEN = st.one_of(
    st.datetimes(timezones=st.just(timezone.utc)), st.dates().map(lambda d: d.isoformat())
)
SORT_BY = st.sampled_from(["CreationTime", "Name"])
SORT_ORDER = st.sampled_from(["Descending", "Ascending"])


class World:
    """A small store on a file, and a way to snapshot every row of it."""

    def __init__(self, path: Path, store: Store | None = None) -> None:
        self.path = path
        self.session = Session(f"sqlite:///{path}", store=store)
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
        return table_rows(self.path)


@pytest.fixture(scope="module", params=["sqlite-file", "http"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The store, used directly or through a server (whose SQLite file the test reads)."""
    path = tmp_path_factory.mktemp("bad-input") / "lineage.db"
    if request.param == "sqlite-file":
        world = World(path)
        yield world
        world.session.close()
        return
    SqlStore(f"sqlite:///{path}").close()
    key, secret = "AKIDFUZZ", secrets.token_urlsafe(24)
    with ServerProcess(f"sqlite:///{path}", credentials={key: secret}) as server:
        world = World(path, HttpStore(server.url, access_key=key, secret_key=secret))
        yield world
        world.session.close()


FILTER = st.builds(
    LineageFilter,
    entities=maybe(st.lists(st.sampled_from(list(LineageEntityEnum)), max_size=3)),
    sources=maybe(st.lists(st.one_of(TEXT, SOURCE), max_size=3)),
    created_before=maybe(WHEN),
    created_after=maybe(WHEN),
    modified_before=maybe(WHEN),
    modified_after=maybe(WHEN),
    properties=maybe(PROPERTIES),
)


# Each operation draws its arguments (valid or garbage, one by one) and makes the call.
Call = Callable[[World, Args], Any]


def create_artifact(w: World, arg: Args) -> Any:
    return Artifact.create(
        artifact_name=arg(NAME),
        artifact_type=arg(NAME),
        source=arg(SOURCE),
        properties=arg(PROPERTIES),
        tags=arg(TAGS),
        metadata_properties=arg(PROPERTIES),
        sagemaker_session=w.session,
    )


def create_action(w: World, arg: Args) -> Any:
    return Action.create(
        action_name=arg(NAME),
        action_type=arg(NAME),
        source=arg(SOURCE),
        properties=arg(PROPERTIES),
        status=arg(st.sampled_from(["Completed", "Failed", "InProgress"])),
        tags=arg(TAGS),
        description=arg(TEXT),
        sagemaker_session=w.session,
    )


def create_context(w: World, arg: Args) -> Any:
    return Context.create(
        context_name=arg(NAME),
        context_type=arg(NAME),
        source=arg(SOURCE),
        properties=arg(PROPERTIES),
        tags=arg(TAGS),
        description=arg(TEXT),
        sagemaker_session=w.session,
    )


def list_entities(w: World, arg: Args) -> Any:
    kind = arg.draw(st.sampled_from([Artifact, Action, Context]))
    first = {Artifact: "source_uri", Action: "source_uri", Context: "source_uri"}[kind]
    return list(
        kind.list(  # type: ignore[attr-defined]
            **{first: arg(TEXT)},
            created_after=arg(WHEN),
            created_before=arg(WHEN),
            sort_by=arg(SORT_BY),
            sort_order=arg(SORT_ORDER),
            max_results=arg(st.integers(1, 100)),
            sagemaker_session=w.session,
        )
    )


def create_association(w: World, arg: Args) -> Any:
    return Association.create(
        arg(st.sampled_from(w.arns)),
        arg(st.sampled_from(w.arns)),
        arg(st.sampled_from(["ContributedTo", "AssociatedWith", "SameAs"])),
        sagemaker_session=w.session,
    )


def list_associations(w: World, arg: Args) -> Any:
    return list(
        Association.list(
            source_arn=arg(st.sampled_from(w.arns)),
            destination_arn=arg(st.none()),
            association_type=arg(st.sampled_from(["ContributedTo", "Produced"])),
            created_after=arg(WHEN),
            sort_by=arg(SORT_BY),
            max_results=arg(st.integers(1, 100)),
            sagemaker_session=w.session,
        )
    )


def query(w: World, arg: Args) -> Any:
    return LineageQuery(
        arg(st.lists(st.sampled_from(w.arns), min_size=1, max_size=10)),
        arg(st.sampled_from(list(LineageQueryDirectionEnum))),
        include_edges=arg(st.booleans()),
        filters=arg(FILTER),
        max_depth=arg(st.integers(1, 100)),
        sagemaker_session=w.session,
    ).query()


def tags(w: World, arg: Args) -> Any:
    entity = arg.draw(st.sampled_from([w.artifact, w.action, w.context]))
    if arg.draw(st.booleans()):
        return entity.set_tags(arg(TAGS))
    return entity.remove_tags(arg(st.lists(TEXT, max_size=3)))


def save(w: World, arg: Args) -> Any:
    entity = Artifact.load(w.artifact.artifact_arn, sagemaker_session=w.session)
    entity.properties = arg(PROPERTIES)
    entity.artifact_name = arg(NAME)
    return entity.save()


def load(w: World, arg: Args) -> Any:
    kind = arg.draw(st.sampled_from([Artifact, Action, Context]))
    return kind.load(arg(st.sampled_from(w.arns)), sagemaker_session=w.session)  # type: ignore[attr-defined]


def bulk(w: World, arg: Args) -> Any:
    with w.session.bulk() as writer:
        ref = writer.artifact(
            artifact_type=arg(NAME),
            source=arg(SOURCE),
            properties=arg(PROPERTIES),
            tags=arg(TAGS),
        )
        writer.associate(
            ref,
            arg(st.one_of(st.sampled_from(w.arns), st.just(ref))),
            arg(st.sampled_from(["ContributedTo", "Produced"])),
        )


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


def try_call(world: World, call: Call, arg: Args, counts: dict[str, int]) -> None:
    before = world.snapshot()
    refusal: ValueError | ClientError | None = None
    try:
        call(world, arg)
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
    try_call(world, call, Args(data.draw), figures)


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
