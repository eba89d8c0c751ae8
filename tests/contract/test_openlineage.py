"""Raw OpenLineage events (PutOpenLineageEvent, ListOpenLineageEvents) and their mapping, on
every store: idempotent, order-tolerant, and refusing what is not an event."""

from __future__ import annotations

import json
import random

import pytest

from mllineage.capture.openlineage import ingest, run_action_name
from mllineage.errors import ResourceNotFound, ValidationException
from mllineage.store.base import Store
from tests.helpers import refused
from tests.openlineage.events import new_run, run_event
from tests.openlineage.support import export_state, graph_size

JOB = {"namespace": "n", "name": "j"}


def status_of(store: Store, run_id: str) -> str:
    return str(store.describe_action(ActionName=run_action_name(run_id))["Status"])


def test_put_keeps_an_event_once(store: Store) -> None:
    run = new_run()
    text = run_event("START", run)
    first = store.put_openlineage_event(Event=text)
    # the same event, its members in another order and spaced differently
    again = store.put_openlineage_event(
        Event=json.dumps(json.loads(text), indent=2, sort_keys=True)
    )
    assert first["Created"] is True
    assert again == {"EventId": first["EventId"], "Created": False}
    events = store.list_openlineage_events(RunId=run)["Events"]
    assert [e["EventId"] for e in events] == [first["EventId"]]
    assert events[0]["EventType"] == "START"
    assert events[0]["JobName"] == "job"
    assert json.loads(events[0]["Event"]) == json.loads(text)


def test_list_filters_and_pages(store: Store) -> None:
    runs = [new_run() for _ in range(3)]
    for minute, run in enumerate(runs):
        store.put_openlineage_event(Event=run_event("START", run, at=minute, job=f"j{minute}"))
        store.put_openlineage_event(Event=run_event("COMPLETE", run, at=minute + 10))
    pages = list(store.paginate("list_openlineage_events", "Events", MaxResults=4))
    assert len(pages) == 6
    times = [e["EventTime"] for e in pages]
    assert times == sorted(times)
    newest = store.list_openlineage_events(SortOrder="Descending", MaxResults=1)["Events"]
    assert newest[0]["EventTime"] == times[-1]
    assert len(store.list_openlineage_events(RunId=runs[1])["Events"]) == 2
    assert len(store.list_openlineage_events(JobNamespace="scheduler", JobName="j2")["Events"]) == 1


def test_events_are_kept_per_account(store: Store, other_account: Store) -> None:
    run = new_run()
    store.put_openlineage_event(Event=run_event("START", run))
    assert other_account.list_openlineage_events(RunId=run)["Events"] == []


@pytest.mark.parametrize(
    ("event", "match"),
    [
        pytest.param("{", "not valid JSON", id="not-json"),
        pytest.param("[]", "must be a JSON object", id="array"),
        pytest.param(
            json.dumps({"eventTime": "2024-01-01T00:00:00Z", "run": {}, "job": JOB}),
            "runId",
            id="no-run-id",
        ),
        pytest.param(
            json.dumps({"eventTime": 5, "job": {"namespace": "n", "name": "j"}}),
            "eventTime must be a string",
            id="time-number",
        ),
    ],
)
def test_put_refuses_what_is_not_an_event(store: Store, event: str, match: str) -> None:
    with refused(ValidationException, match):
        store.put_openlineage_event(Event=event)
    assert store.list_openlineage_events()["Events"] == []


def test_start_then_complete_is_one_action(store: Store) -> None:
    run = new_run()
    ingest(store, run_event("START", run, inputs=("in",)))
    assert status_of(store, run) == "InProgress"
    ingest(store, run_event("COMPLETE", run, at=5, outputs=("out",)))
    assert status_of(store, run) == "Completed"
    assert graph_size(store)["action"] == 1
    props = store.describe_action(ActionName=run_action_name(run))["Properties"]
    assert props["openlineage.start_time"].startswith("2025-01-01T00:00:00")
    assert props["openlineage.end_time"].startswith("2025-01-01T00:05:00")
    # inputs and outputs announced in different events are merged
    arn = store.describe_action(ActionName=run_action_name(run))["ActionArn"]
    ends = {
        a["AssociationType"] for a in store.list_associations(SourceArn=arn)["AssociationSummaries"]
    }
    assert ends == {"Produced", "AssociatedWith"}
    assert (
        store.list_associations(DestinationArn=arn)["AssociationSummaries"][0]["AssociationType"]
        == "ContributedTo"
    )


@pytest.mark.parametrize(
    ("states", "status"),
    [
        pytest.param(["COMPLETE"], "Completed", id="complete-without-start"),
        pytest.param(["START", "FAIL", "RUNNING"], "Failed", id="late-running"),
        pytest.param(["ABORT", "START"], "Stopped", id="start-after-abort"),
        pytest.param(["RUNNING", "OTHER"], "InProgress", id="running"),
    ],
)
def test_status_follows_the_events(store: Store, states: list[str], status: str) -> None:
    run = new_run()
    minutes = {"START": 0, "RUNNING": 1, "OTHER": 2, "COMPLETE": 3, "FAIL": 3, "ABORT": 3}
    for state in states:
        ingest(store, run_event(state, run, at=minutes[state]))
    assert status_of(store, run) == status


def test_the_same_event_twice_changes_nothing(store: Store) -> None:
    run = new_run()
    text = run_event("COMPLETE", run, inputs=("a",), outputs=("b",))
    assert ingest(store, text).created is True
    before = export_state(store)
    assert ingest(store, text).created is False
    assert export_state(store) == before


def test_any_order_gives_the_same_graph(store: Store, other_account: Store) -> None:
    """Two accounts fed one run's events in opposite orders hold the same graph."""
    run = new_run()
    events = [
        run_event("START", run, inputs=("raw",), versions={"raw": "v1"}),
        run_event("RUNNING", run, at=1, outputs=("mid",)),
        run_event("COMPLETE", run, at=2, outputs=("final",)),
    ]
    for text in events:
        ingest(store, text)
    for text in reversed(events):
        ingest(other_account, text)
    assert graph_size(store) == graph_size(other_account)
    mine = store.describe_action(ActionName=run_action_name(run))
    theirs = other_account.describe_action(ActionName=run_action_name(run))
    assert mine["Status"] == theirs["Status"] == "Completed"
    assert mine["Properties"] == theirs["Properties"]


def test_a_replay_in_any_order_changes_nothing(store: Store) -> None:
    texts = []
    for hour in range(4):
        run = new_run()
        texts += [
            run_event("START", run, at=60 * hour, inputs=("src",), outputs=("dst",)),
            run_event("COMPLETE", run, at=60 * hour + 5, inputs=("src",), outputs=("dst",)),
        ]
    for text in texts:
        ingest(store, text)
    before = export_state(store)
    random.Random(4).shuffle(texts)
    for text in texts:
        ingest(store, text)
    assert export_state(store) == before


def test_an_input_binds_to_the_version_it_read(store: Store) -> None:
    writer, named, latest = new_run(), new_run(), new_run()
    ingest(store, run_event("COMPLETE", named, inputs=("d",), versions={"d": "v3"}))
    ingest(store, run_event("COMPLETE", writer, at=1, outputs=("d",), versions={"d": "v7"}))
    ingest(store, run_event("COMPLETE", latest, at=2, inputs=("d",)))

    def read(run: str) -> str:
        arn = store.describe_action(ActionName=run_action_name(run))["ActionArn"]
        graph = store.lineage_graph(StartArns=[arn], Direction="Ascendants", MaxDepth=1)
        (vertex,) = [v for v in graph["Vertices"] if v["LineageType"] == "Artifact"]
        return str(vertex["Properties"]["openlineage.version"])

    assert read(named) == "v3"
    assert read(latest) == "v7"


def test_unknown_run_is_not_found(store: Store) -> None:
    with refused(ResourceNotFound, "does not exist"):
        store.describe_action(ActionName=run_action_name(new_run()))
