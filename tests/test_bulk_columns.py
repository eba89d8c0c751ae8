"""PutLineage's plain entities checked a column at a time (``store/sql/bulk_columns.py``) give
the rows the item-by-item checks give, and leave every request they cannot vouch for to them."""

from __future__ import annotations

import functools
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mllineage import Session
from mllineage.store.sql import bulk_columns
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
