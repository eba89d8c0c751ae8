"""PutLineage's plain items checked a column at a time (``store/sql/bulk_columns.py``) give
the rows (the associations) the item-by-item checks give, and leave every request they cannot
vouch for to them."""

from __future__ import annotations

import functools
import hashlib
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mllineage import Session
from mllineage.errors import ValidationException
from mllineage.store.common import dumps
from mllineage.store.sql import bulk, bulk_columns
from mllineage.store.sql.entities import source_key
from mllineage.store.sql.schema import entities
from mllineage.store.sql.store import SqlStore

AT = 1_795_564_698_414_430
RANDOM_HEX = 20  # the random end of an artifact's ARN

# Text without what the rules refuse (control characters, lone surrogates), quotes,
# backslashes and non-ASCII included: the source's JSON is written around the URI's.
text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f"),
    min_size=1,
    max_size=30,
)
arn_name = st.from_regex(r"[A-Za-z0-9](?:[-_.]{0,2}[A-Za-z0-9]){0,10}", fullmatch=True)
artifact = st.builds(
    lambda name, kind, uri: {
        "EntityKind": "artifact",
        "ArtifactName": name,
        "ArtifactType": kind,
        "Source": {"SourceUri": uri},
    },
    text,
    text,
    text,
)


def _named(kind: str) -> Any:
    noun = kind.capitalize()
    return st.builds(
        lambda name, type_: {"EntityKind": kind, f"{noun}Name": name, f"{noun}Type": type_},
        arn_name,
        text,
    )


plain = st.lists(st.one_of(artifact, _named("action"), _named("context")), min_size=1)


@functools.cache
def _store() -> SqlStore:
    store = Session("sqlite:///:memory:").store
    assert isinstance(store, SqlStore)
    return store


def _item_by_item(items: list[dict[str, Any]]) -> list[list[Any]]:
    rows = [_store()._bulk_row(i, item, AT, False)[0] for i, item in enumerate(items)]
    return list(map(bulk_columns.as_row, rows))


def _columns(items: list[Any]) -> list[list[Any]] | None:
    store = _store()
    return bulk_columns.entity_rows(items, AT, store.scope, store.actor_json)


def _without_random(row: list[Any]) -> list[Any]:
    if row[bulk_columns.KIND] != "artifact":
        return row
    arn = row[bulk_columns.ARN]
    return row[: bulk_columns.ARN] + [arn[:-RANDOM_HEX]] + row[bulk_columns.ARN + 1 :]


@given(text, st.sampled_from([None, []]))
def test_a_uri_alone_keys_its_source_as_stores_of_earlier_builds_keyed_it(
    uri: str, no_types: list[Any] | None
) -> None:
    # (The key of a source was always the SHA-256 of dumps([uri, sorted types]): the unique
    # index of every existing store holds such keys, and lookups by source must find them.)
    earlier = hashlib.sha256(dumps([uri, []]).encode()).hexdigest()
    source: dict[str, Any] = {"SourceUri": uri}
    if no_types is not None:
        source["SourceTypes"] = no_types
    assert source_key(source) == earlier


def test_a_row_holds_the_columns_in_the_tables_order() -> None:
    assert bulk_columns.COLUMNS == tuple(column.name for column in entities.columns)
    assert bulk_columns.as_row({"arn": "a", "log_id": 7}) == [
        "a" if name == "arn" else 7 if name == "log_id" else None for name in bulk_columns.COLUMNS
    ]


@settings(max_examples=300)
@given(plain)
def test_plain_entities_make_the_rows_the_single_checks_make(items: list[dict[str, Any]]) -> None:
    rows = _columns(items)
    assert rows is not None
    assert list(map(_without_random, rows)) == list(map(_without_random, _item_by_item(items)))
    arns = [row[bulk_columns.ARN] for row in rows if row[bulk_columns.KIND] == "artifact"]
    assert len(set(arns)) == len(arns)  # (the random parts are drawn apart)


@settings(max_examples=300)
@given(plain, st.data())
def test_the_columns_refuse_what_the_single_checks_refuse_and_agree_on_the_rest(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(items) - 1))
    item = items[index]
    member = data.draw(st.sampled_from(sorted(item)))
    value = data.draw(
        st.sampled_from(
            [None, "", "a\x00b", "a\x85", "\ud800", "x" * 120, "x" * 121, "x" * 257, "x" * 2049]
            + [5, True, "a b", "-a", "action", "bogus", {"SourceUri": "s3://b", "X": 1}]
            + [{"SourceUri": 5}, {"SourceUri": ""}, {}, {"source_uri": "s3://b"}, ["s3://b"]]
        )
    )
    items[index] = item | {member: value}
    try:
        single = _item_by_item(items)
    except ValueError:
        assert _columns(items) is None
        return
    rows = _columns(items)
    assert rows is None or list(map(_without_random, rows)) == list(map(_without_random, single))


def test_other_members_and_kinds_leave_the_request_to_the_single_checks() -> None:
    base = {"EntityKind": "action", "ActionName": "a", "ActionType": "T"}
    for item in (
        base | {"Status": "Completed"},
        base | {"Properties": {"k": "v"}},
        base | {"EntityKind": "bogus"},
        base | {"EntityKind": ["action"]},
        {"EntityKind": "artifact", "ArtifactType": "T"},  # (no source)
        {
            "EntityKind": "artifact",
            "ArtifactType": "T",
            "Source": {
                "SourceUri": "s3://b",
                "SourceTypes": [{"SourceIdType": "S3ETag", "Value": "1"}],
            },
        },
    ):
        assert _columns([base, item]) is None
    assert _columns([]) is None
    assert _columns([["not", "a", "dict"]]) is None


def test_names_are_checked_as_the_rules_say() -> None:
    """The columns' own reading of the name rules, at their edges."""
    longest = "n" * 120
    for name, ok in ((longest, True), (longest + "n", False), ("a.b-c_d", True), ("-a", False)):
        request = [{"EntityKind": "action", "ActionName": name, "ActionType": "T"}]
        assert (_columns(request) is not None) is ok, name
    assert _columns([{"EntityKind": "action", "ActionName": string.digits, "ActionType": "T"}])


ARN = "arn:aws:sagemaker:us-west-2:123456789012:artifact/" + "a" * 32
edge = st.fixed_dictionaries(
    {
        "Source": st.integers(0, 9),
        "Destination": st.integers(0, 9),
        "AssociationType": st.sampled_from(["ContributedTo", "Produced", "DerivedFrom"]),
    }
)


def _edges_item_by_item(items: list[Any], count: int) -> bulk_columns.Edges | None:
    try:
        return bulk._bulk_edges(items, count)
    except (ValueError, ValidationException):
        return None


@settings(max_examples=300)
@given(st.lists(edge, min_size=1), st.data())
def test_plain_associations_make_the_columns_the_single_checks_make(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    changed = data.draw(st.booleans())
    if changed:  # (one item changed, perhaps to what the columns cannot vouch for)
        index = data.draw(st.integers(0, len(items) - 1))
        member = data.draw(st.sampled_from(["Source", "Destination", "AssociationType", "X"]))
        value = data.draw(st.sampled_from([None, -1, 10, True, 2.0, "2", ARN, "SameAs", "Bogus"]))
        items[index] = items[index] | {member: value}
    single = _edges_item_by_item(items, 10)
    columns = bulk_columns.new_edges(items, 10)
    assert columns is None or columns == single
    if not changed:  # (plain: refused only for an association of an entity with itself)
        assert columns == single


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=30))
def test_new_entities_are_ordered_as_kahns_method_orders_them(
    pairs: list[tuple[int, int]],
) -> None:
    """The order of a call's new entities: the request's where every association goes from a
    lower index to a higher one, else the lowest ready first; a cycle is refused."""
    pairs = [(s, d) for s, d in pairs if s != d]
    edges = bulk_columns.Edges([s for s, _ in pairs], [d for _, d in pairs], [], [])
    try:
        order = bulk._new_order(10, edges)
    except ValidationException:
        order = None
    expected: list[int] | None = []
    left = set(range(10))
    while left:
        ready = [n for n in sorted(left) if not any(d == n and s in left for s, d in pairs)]
        if not ready:
            expected = None
            break
        expected.append(ready[0])  # type: ignore[union-attr]
        left.remove(ready[0])
    assert order == expected
