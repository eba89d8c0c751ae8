"""A stateful property test of history and time travel.

Random sequences of creates, updates, tag changes, deletes, association changes, PutLineage
calls (some of them refused) and prunes; after each step the whole store is read (every list,
every entity with its tags, every association, a lineage query from each entity) and kept with
the instant. Every read ``AsOf`` that instant must return exactly that picture, at the step and
at the end (later changes never alter the past); replaying each entity's recorded history from
nothing must give its current state, and its history must list the association changes made;
and a prune leaves live data and later pictures as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mllineage.errors import ClientError, ResourceNotFound
from mllineage.store.common import now_us, us_to_datetime
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, fresh_account_id, needs_postgres

KINDS = {"artifact": "ArtifactArn", "action": "ActionName", "context": "ContextName"}
NAMES = st.sampled_from(["a", "b", "c"])  # few, so that names are reused after a delete
URIS = st.sampled_from([f"s3://bucket/{i}" for i in range(4)])
KEYS = st.sampled_from(["k1", "k2", "k3", "k4"])
VALUES = st.sampled_from(["x", "y", "z"])
PROPS = st.dictionaries(KEYS, VALUES, max_size=3)
ASSOCIATION_TYPES = st.sampled_from(["ContributedTo", "AssociatedWith", "DerivedFrom"])

Picture = dict[str, Any]


def _all(call: Callable[..., dict[str, Any]], key: str, **request: Any) -> list[Any]:
    out: list[Any] = []
    while True:
        page = call(**request)
        out += page[key]
        if "NextToken" not in page:
            return out
        request["NextToken"] = page["NextToken"]


def _graph(answer: dict[str, Any]) -> Any:
    vertices = sorted((v["Arn"], sorted(v["Properties"].items())) for v in answer["Vertices"])
    edges = sorted(tuple(e.values()) for e in answer["Edges"])
    return vertices, edges


def picture(store: SqlStore, known: set[str], as_of: datetime | None = None) -> Picture:
    """Everything the store shows, now or as of an instant."""
    at = {} if as_of is None else {"AsOf": as_of}
    out: Picture = {"lists": {}, "entities": {}, "graphs": {}}
    for kind in KINDS:
        out["lists"][kind] = _all(
            store.list_entity_details, "Entities", EntityKind=kind, MaxResults=3, **at
        )
    for arn in sorted(known):
        kind = arn.split(":")[5].split("/")[0]
        try:
            described = store.describe_entity(EntityKind=kind, **{KINDS[kind]: arn}, **at)
        except ResourceNotFound:
            out["entities"][arn] = None
            continue
        out["entities"][arn] = described
        out["graphs"][arn] = _graph(
            store.lineage_graph(StartArns=[arn], Direction="Both", MaxDepth=3, **at)
        )
    if as_of is None:
        associations = _all(store.list_associations, "AssociationSummaries", MaxResults=4)
    else:
        associations = _all(
            store.list_associations_as_of, "AssociationSummaries", MaxResults=4, AsOf=as_of
        )
    out["associations"] = _ties_by_arn(associations)
    return out


def _ties_by_arn(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first, as listed; associations made by one call share a CreationTime, and both
    lists break that tie by the ends' internal ids, but the past knows no id for an entity
    deleted since (it goes by ARN there): compare ties in one order."""
    times = [s["CreationTime"] for s in summaries]
    assert times == sorted(times, reverse=True)
    by_arn = sorted(summaries, key=lambda s: (s["SourceArn"], s["DestinationArn"]))
    return sorted(by_arn, key=lambda s: s["CreationTime"], reverse=True)


def replayed(changes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """An entity's state rebuilt from its recorded history alone (oldest first), written
    from the documented shape of the records, independently of the store's own replay."""
    state: dict[str, Any] | None = None
    for change in changes:
        op, detail, when, who = (
            change["Operation"],
            change["Detail"],
            change["ChangeTime"],
            change["Actor"],
        )
        if op in ("AddAssociation", "DeleteAssociation"):
            continue
        if op.startswith("Create") or op == "Snapshot":
            state = {
                "name": detail["name"],
                "type": detail["type"],
                "source": detail["source"],
                "description": detail["description"],
                "status": detail["status"],
                "properties": dict(detail["properties"]),
                "tags": {t["Key"]: t["Value"] for t in detail["tags"]},
                "created": us_to_datetime(detail["created_at"]) if "created_at" in detail else when,
                "created_by": detail.get("created_by", who),
                "modified": us_to_datetime(detail["modified_at"])
                if "modified_at" in detail
                else when,
                "modified_by": detail.get("modified_by", who),
            }
        elif op.startswith("Delete"):
            state = None
        elif state is not None and op.startswith("Update"):
            for field in ("name", "description", "status"):
                if field in detail:
                    state[field] = detail[field][1]
            for key, (_, new) in detail.get("properties", {}).items():
                if new is None:
                    del state["properties"][key]
                else:
                    state["properties"][key] = new
            state["modified"], state["modified_by"] = when, who
        elif state is not None and op == "Tags":
            for key, (_, new) in detail["tags"].items():
                if new is None:
                    del state["tags"][key]
                else:
                    state["tags"][key] = new
    return state


def described_state(kind: str, described: dict[str, Any]) -> dict[str, Any]:
    noun = kind.capitalize()
    return {
        "name": described.get(f"{noun}Name"),
        "type": described[f"{noun}Type"],
        "source": described.get("Source"),
        "description": described.get("Description"),
        "status": described.get("Status"),
        "properties": described["Properties"],
        "tags": {t["Key"]: t["Value"] for t in described["Tags"]},
        "created": described["CreationTime"],
        "created_by": described["CreatedBy"],
        "modified": described["LastModifiedTime"],
        "modified_by": described["LastModifiedBy"],
    }


class TimeTravel(RuleBasedStateMachine):
    open_store: Callable[[], SqlStore]

    def __init__(self) -> None:
        super().__init__()
        self.store = self.open_store()
        self.known: set[str] = set()  # every ARN ever created
        # In the order made: ARNs are random, so sorting them would draw differently each run.
        self.live: dict[str, str] = {}  # ARN -> kind
        self.edges: dict[tuple[str, str], None] = {}
        self.pictures: list[tuple[int, Picture]] = []
        # (call, op, source, destination) of every association added or removed, in order,
        # while no prune has dropped any.
        self.edge_log: list[tuple[int, str, str, str]] | None = []
        self.calls = 0  # steps so far: each makes one call

    # -- steps --------------------------------------------------------------------------------
    def _try(self, call: Callable[..., Any], **request: Any) -> Any:
        try:
            return call(**request)
        except ClientError:
            return None  # refused: the checks below make sure it left no trace

    @rule(uri=URIS, props=PROPS, name=st.none() | NAMES)
    def create_artifact(self, uri: str, props: dict[str, str], name: str | None) -> None:
        made = self._try(
            self.store.create_artifact,
            ArtifactType="Dataset",
            Source={"SourceUri": uri},
            Properties=props,
            ArtifactName=name,
            Tags=[{"Key": "team", "Value": "ml"}],
        )
        if made:
            self._born(made["ArtifactArn"], "artifact")

    @rule(kind=st.sampled_from(["action", "context"]), name=NAMES, props=PROPS)
    def create_named(self, kind: str, name: str, props: dict[str, str]) -> None:
        noun = kind.capitalize()
        extra = {"Status": "InProgress"} if kind == "action" else {}
        made = self._try(
            getattr(self.store, f"create_{kind}"),
            **{f"{noun}Name": name, f"{noun}Type": "Step"},
            Description="new",
            Properties=props,
            **extra,
        )
        if made:
            self._born(made[f"{noun}Arn"], kind)

    def _born(self, arn: str, kind: str) -> None:
        self.known.add(arn)
        self.live[arn] = kind

    @precondition(lambda self: self.live)
    @rule(data=st.data(), props=PROPS, remove=st.lists(KEYS, max_size=2), text=VALUES)
    def update(self, data: Any, props: dict[str, str], remove: list[str], text: str) -> None:
        arn = data.draw(st.sampled_from(list(self.live)))
        kind = self.live[arn]
        request: dict[str, Any] = {
            "Properties": props,
            "PropertiesToRemove": [k for k in remove if k not in props],
        }
        if kind == "artifact":
            request["ArtifactName"] = text
        else:
            request["Description"] = text
        if kind == "action":
            request["Status"] = data.draw(st.sampled_from(["Completed", "Failed"]))
        self._try(getattr(self.store, f"update_{kind}"), **{KINDS[kind]: arn}, **request)

    @precondition(lambda self: self.live)
    @rule(data=st.data(), tags=st.dictionaries(KEYS, VALUES, max_size=2), drop=st.booleans())
    def change_tags(self, data: Any, tags: dict[str, str], drop: bool) -> None:
        arn = data.draw(st.sampled_from(list(self.live)))
        if drop:
            self.store.delete_tags(ResourceArn=arn, TagKeys=[*tags, "team"])
        elif tags:
            self.store.add_tags(
                ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def delete(self, data: Any) -> None:
        arn = data.draw(st.sampled_from(list(self.live)))
        kind = self.live.pop(arn)
        getattr(self.store, f"delete_{kind}")(**{KINDS[kind]: arn})
        for edge in [e for e in self.edges if arn in e]:
            self._linked(*edge, "DeleteAssociation")

    @precondition(lambda self: len(self.live) >= 2)
    @rule(data=st.data(), kind=ASSOCIATION_TYPES)
    def associate(self, data: Any, kind: str) -> None:
        src, dst = data.draw(st.lists(st.sampled_from(list(self.live)), min_size=2, max_size=2))
        if self._try(
            self.store.add_association, SourceArn=src, DestinationArn=dst, AssociationType=kind
        ):
            self._linked(src, dst)

    @rule(
        data=st.data(),
        uris=st.lists(URIS, min_size=1, max_size=3, unique=True),
        name=NAMES,
        kind=ASSOCIATION_TYPES,
    )
    def put_lineage(self, data: Any, uris: list[str], name: str, kind: str) -> None:
        """A chain of new artifacts into a new action, maybe from an existing entity."""
        entities: list[dict[str, Any]] = [
            {"EntityKind": "artifact", "ArtifactType": "Dataset", "Source": {"SourceUri": u}}
            for u in uris
        ]
        entities.append({"EntityKind": "action", "ActionName": name, "ActionType": "Step"})
        ends: list[tuple[Any, Any]] = [(i, i + 1) for i in range(len(uris))]
        if self.live and data.draw(st.booleans()):
            ends.append((data.draw(st.sampled_from(list(self.live))), 0))
        made = self._try(
            self.store.put_lineage,
            Entities=entities,
            Associations=[
                {"Source": s, "Destination": d, "AssociationType": kind} for s, d in ends
            ],
        )
        if made:
            arns = made["Arns"]
            for arn, entity in zip(arns, entities, strict=True):
                self._born(arn, entity["EntityKind"])
            for s, d in ends:
                self._linked(*(arns[e] if isinstance(e, int) else e for e in (s, d)))

    def _linked(self, src: str, dst: str, op: str = "AddAssociation") -> None:
        """Note an association added or removed by this step's call."""
        if op == "AddAssociation":
            self.edges[(src, dst)] = None
        else:
            del self.edges[(src, dst)]
        if self.edge_log is not None:
            self.edge_log.append((self.calls, op, src, dst))

    @precondition(lambda self: self.edges)
    @rule(data=st.data())
    def disassociate(self, data: Any) -> None:
        src, dst = data.draw(st.sampled_from(list(self.edges)))
        self.store.delete_association(SourceArn=src, DestinationArn=dst)
        self._linked(src, dst, "DeleteAssociation")

    @precondition(lambda self: len(self.pictures) >= 2)
    @rule(data=st.data())
    def prune(self, data: Any) -> None:
        """Prune at the instant of an earlier picture: live data and every picture from that
        instant on must read as before."""
        index = data.draw(st.integers(0, len(self.pictures) - 1))
        horizon = self.pictures[index][0]
        live = picture(self.store, self.known)
        self.store.prune_history(Before=us_to_datetime(horizon))
        self.edge_log = None
        assert picture(self.store, self.known) == live
        self.pictures = self.pictures[index:]

    # -- checks -------------------------------------------------------------------------------
    @invariant()
    def the_present_reads_as_of_now(self) -> None:
        self.calls += 1
        at = now_us()
        now = picture(self.store, self.known)
        self.pictures.append((at, now))
        assert picture(self.store, self.known, us_to_datetime(at)) == now

    def _check_association_history(self, arn: str) -> None:
        """The association changes an entity's history lists (a page of two at a time) are
        those made, call by call, unless a prune has dropped some. (The changes one call
        makes share their time; their order among themselves means nothing.)"""
        if self.edge_log is None:
            return
        listed: dict[datetime, list[tuple[str, str, str]]] = {}
        for c in reversed(_all(self.store.list_changes, "Changes", Arn=arn, MaxResults=2)):
            if "PeerArn" in c:
                listed.setdefault(c["ChangeTime"], []).append(
                    (c["Operation"], c["Arn"], c["PeerArn"])
                )
        made: dict[int, list[tuple[str, str, str]]] = {}
        for call, *change in self.edge_log:
            if arn in change[1:]:
                made.setdefault(call, []).append(tuple(change))
        assert [sorted(c) for c in listed.values()] == [sorted(c) for c in made.values()]

    def teardown(self) -> None:
        try:
            for at, then in self.pictures:
                known = set(then["entities"])
                assert picture(self.store, known, us_to_datetime(at)) == then
            for arn in self.known:
                try:
                    changes = _all(
                        self.store.list_changes, "Changes", Arn=arn, IncludeAssociations=False
                    )
                except ResourceNotFound:  # deleted, and its history pruned since
                    changes = []
                state = replayed(list(reversed(changes)))
                self._check_association_history(arn)
                if arn not in self.live:
                    assert state is None
                    continue
                kind = self.live[arn]
                described = self.store.describe_entity(EntityKind=kind, **{KINDS[kind]: arn})
                assert state == described_state(kind, described)
        finally:
            self.store.close()


SETTINGS = settings(
    max_examples=15,
    # Each step reads the whole store several times: shrinking a failure would take minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _machine(open_store: Callable[[], SqlStore]) -> type[TimeTravel]:
    return type("Machine", (TimeTravel,), {"open_store": staticmethod(open_store)})


def test_as_of_reads_match_every_step_sqlite() -> None:
    run_state_machine_as_test(_machine(lambda: SqlStore("sqlite://")), settings=SETTINGS)


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path_factory.mktemp('machine') / 'lineage.db'}")
    assert store.db.graph_cache is not None
    yield store
    store.close()


def test_as_of_reads_match_every_step_sqlite_file(sqlite_file: SqlStore) -> None:
    # On a file, live and AsOf queries go through the graph cache: every step's live reads warm
    # it, and the past must still be the past. Each example is a fresh account on the file.
    run_state_machine_as_test(
        _machine(lambda: sqlite_file.bind(account_id=fresh_account_id())), settings=SETTINGS
    )


@pytest.fixture(scope="module")
def postgres() -> Iterator[SqlStore]:
    assert POSTGRES_URL
    store = SqlStore(POSTGRES_URL)
    yield store
    store.close()


@needs_postgres
@pytest.mark.postgres
def test_as_of_reads_match_every_step_postgres(postgres: SqlStore) -> None:
    # Each example is a fresh account on the shared database.
    run_state_machine_as_test(
        _machine(lambda: postgres.bind(account_id=fresh_account_id())), settings=SETTINGS
    )
