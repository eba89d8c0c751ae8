"""Lineage is a DAG: every association that would close a cycle is refused, however the
entities were created, and a refused association changes nothing."""

from __future__ import annotations

import random

import pytest

from mllineage.errors import ValidationException
from mllineage.store.base import Store
from tests.helpers import (
    action,
    artifact,
    bulk_artifacts,
    bulk_links,
    chain,
    context,
    edges_of,
    is_acyclic,
    link,
    refused,
)

CYCLE = "would create a cycle"


def test_self_loop(store: Store) -> None:
    arn = artifact(store)
    with refused(ValidationException, "cannot be associated with itself"):
        link(store, arn, arn)
    assert edges_of(store) == set()


@pytest.mark.parametrize("make", [artifact, action, context], ids=["artifact", "action", "context"])
def test_self_loop_of_every_kind(store: Store, make) -> None:  # noqa: ANN001
    arn = make(store)
    with refused(ValidationException, "cannot be associated with itself"):
        link(store, arn, arn, "SameAs")


def test_two_cycle(store: Store) -> None:
    a, b = artifact(store), action(store)
    link(store, a, b)
    with refused(ValidationException, CYCLE):
        link(store, b, a)
    assert edges_of(store) == {(a, b)}


def test_two_cycle_against_creation_order(store: Store) -> None:
    a, b = artifact(store), artifact(store)
    link(store, b, a)  # newer to older
    with refused(ValidationException, CYCLE):
        link(store, a, b)


@pytest.mark.parametrize("length", [3, 10, 60])
def test_long_cycle(store: Store, length: int) -> None:
    arns = chain(store, length)
    with refused(ValidationException, CYCLE):
        link(store, arns[-1], arns[0])
    with refused(ValidationException, CYCLE):
        link(store, arns[-1], arns[length // 2])
    link(store, arns[0], arns[-1])  # a shortcut is no cycle


def test_long_cycle_built_newest_first(store: Store) -> None:
    arns = [artifact(store) for _ in range(20)]
    for source, destination in zip(arns[1:], arns, strict=False):  # every edge newer -> older
        link(store, source, destination)
    with refused(ValidationException, CYCLE):
        link(store, arns[0], arns[-1])
    link(store, arns[-1], arns[0])


def test_cycle_types_do_not_matter(store: Store) -> None:
    a, b, c = artifact(store), action(store), context(store)
    link(store, a, b, "SameAs")
    link(store, b, c, "AssociatedWith")
    with refused(ValidationException, CYCLE):
        link(store, c, a, "DerivedFrom")


def test_deleting_an_edge_reopens_the_path(store: Store) -> None:
    a, b, c = chain(store, 3)
    with refused(ValidationException, CYCLE):
        link(store, c, a)
    store.delete_association(SourceArn=a, DestinationArn=b)
    link(store, c, a)
    with refused(ValidationException, CYCLE):
        link(store, a, b)  # a -> b -> c -> a


def test_deleting_an_entity_reopens_the_path(store: Store) -> None:
    a = artifact(store)
    job = action(store, "job")
    b = artifact(store)
    link(store, a, job)
    link(store, job, b)
    store.delete_action(ActionName="job")
    link(store, b, a)


# -- the Pearce-Kelly reorder ---------------------------------------------------------------
# New entities come last in the store's topological order, so an edge from a newer to an
# older entity makes the store move entities around. Cycles through the moved region must
# still be caught, and legal edges accepted.


def test_reorder_then_cycle_through_the_moved_region(store: Store) -> None:
    a, b, c, d = (artifact(store) for _ in range(4))
    link(store, d, a)  # newest -> oldest: d must move before a
    link(store, a, b)  # a moved after d; a -> b is again against the order
    with refused(ValidationException, CYCLE):
        link(store, b, d)  # d -> a -> b -> d
    link(store, c, d)  # c -> d -> a -> b: legal
    with refused(ValidationException, CYCLE):
        link(store, b, c)
    link(store, c, b)  # a second path into b is fine
    assert is_acyclic(edges_of(store))


def test_reorder_of_whole_subgraphs(store: Store) -> None:
    # Two chains created in turn; joining the end of the newer one to the start of the older
    # moves a whole chain at once.
    old = chain(store, 6)
    new = chain(store, 6)
    link(store, new[-1], old[0])  # every `new` vertex must now come before every `old` one
    for upstream in new:
        for downstream in old:
            with refused(ValidationException, CYCLE):
                link(store, downstream, upstream)
    link(store, new[0], old[-1])
    link(store, new[2], old[3])
    assert is_acyclic(edges_of(store))


def test_reorder_with_unrelated_entities_in_between(store: Store) -> None:
    a = artifact(store)
    bystanders = [artifact(store) for _ in range(5)]
    b = artifact(store)
    link(store, bystanders[0], bystanders[1])
    link(store, b, a)
    link(store, bystanders[1], b)  # a bystander upstream of b, so upstream of a too
    with refused(ValidationException, CYCLE):
        link(store, a, bystanders[0])
    link(store, bystanders[4], a)
    link(store, a, bystanders[2])


def test_refused_edge_leaves_the_order_intact(store: Store) -> None:
    a, b, c = (artifact(store) for _ in range(3))
    link(store, c, a)
    with refused(ValidationException, CYCLE):
        link(store, a, c)
    link(store, a, b)
    with refused(ValidationException, CYCLE):
        link(store, b, c)
    assert edges_of(store) == {(c, a), (a, b)}


def test_random_edges_never_close_a_cycle(store: Store) -> None:
    # A small model check: the store refuses exactly the edges that close a cycle.
    rng = random.Random(20241124)
    arns = [artifact(store) for _ in range(14)]
    accepted: set[tuple[str, str]] = set()
    for _ in range(90):
        source, destination = rng.sample(arns, 2)
        if (source, destination) in accepted:
            continue
        would_cycle = not is_acyclic(accepted | {(source, destination)})
        if would_cycle:
            with refused(ValidationException, CYCLE):
                link(store, source, destination)
        else:
            link(store, source, destination)
            accepted.add((source, destination))
        if rng.random() < 0.1 and accepted:
            gone = rng.choice(sorted(accepted))
            store.delete_association(SourceArn=gone[0], DestinationArn=gone[1])
            accepted.discard(gone)
    assert edges_of(store) == accepted


def test_reorder_past_the_relocation_budget(store: Store) -> None:
    # The destination has more than 2,000 descendants: rather than move them all, the store
    # repairs the order with Pearce-Kelly. Cycles through the repaired region are caught.
    [root] = bulk_artifacts(store, 1)
    children = bulk_artifacts(store, 46)
    leaves = bulk_artifacts(store, 46 * 46)
    bulk_links(
        store,
        [(root, c) for c in children] + [(children[i // 46], x) for i, x in enumerate(leaves)],
    )
    source = artifact(store)  # newer than the whole tree
    link(store, source, root)
    for descendant in (root, children[0], leaves[-1]):
        with refused(ValidationException, CYCLE):
            link(store, descendant, source)
    upstream = artifact(store)
    link(store, upstream, source)  # moves source's (large) closure again
    with refused(ValidationException, CYCLE):
        link(store, leaves[7], upstream)
    link(store, leaves[7], artifact(store))
    link(store, children[1], leaves[0])  # within the region, along the order: legal
    with refused(ValidationException, CYCLE):
        link(store, leaves[0], children[1])
