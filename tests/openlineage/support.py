"""Helpers of the OpenLineage tests: a real server with API keys, openlineage-python clients
(the producer itself, from PyPI), and the questions the tests ask the lineage graph."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)

from mllineage import Artifact, LineageQuery, Session
from mllineage.capture.openlineage import DATASET_TYPE
from mllineage.server.testing import ServerProcess
from mllineage.store.base import Store
from mllineage.store.http import HttpStore

POOL = 200


@dataclass(frozen=True)
class OlAccount:
    """An account of the test server: its OpenLineage API key and an access key to read it."""

    api_key: str
    access_key: str
    secret_key: str
    account_id: str


def ol_account(index: int) -> OlAccount:
    return OlAccount(
        f"ol-test-api-key-{index:04d}-0123456789",
        f"AKIDOL{index:06d}",
        f"ol-secret-{index:06d}",
        f"{200_000_000_000 + index}",
    )


def fresh_ol_account() -> OlAccount:
    """An account no other test uses (the test PostgreSQL database outlives a test run)."""
    import secrets

    from tests.conftest import fresh_account_id

    token = secrets.token_hex(8)
    return OlAccount(f"ol-fresh-{token}", f"AKIDF{token}", f"secret-{token}", fresh_account_id())


def start_server(store_url: str, *args: str, extra: tuple[OlAccount, ...] = ()) -> ServerProcess:
    accounts = [ol_account(i) for i in range(POOL)] + list(extra)
    return ServerProcess(
        store_url,
        credentials={a.access_key: (a.secret_key, a.account_id) for a in accounts},
        api_keys={a.api_key: a.account_id for a in accounts},
        args=args,
    ).start()


class Accounts:
    """Hands out the server's accounts, one per test (each test sees an empty account)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self._next: Iterator[int] = itertools.count()

    def take(self) -> OlAccount:
        index = next(self._next)
        if index >= POOL:
            raise RuntimeError("the OpenLineage test server's accounts are used up: raise POOL")
        return ol_account(index)


def client(server: ServerProcess, account: OlAccount, *, gzip: bool = False) -> OpenLineageClient:
    """openlineage-python's own client, sending to the server with ``HttpTransport``."""
    config = HttpConfig(
        url=server.url,
        auth=ApiKeyTokenProvider({"apiKey": account.api_key}),
        compression=HttpCompression.GZIP if gzip else None,
        timeout=30.0,
    )
    return OpenLineageClient(transport=HttpTransport(config))


def reader(server: ServerProcess, account: OlAccount) -> HttpStore:
    """An HTTP store of the account (SigV4), for reading what the events made."""
    return HttpStore(server.url, access_key=account.access_key, secret_key=account.secret_key)


# -- questions asked through the mllineage API -------------------------------------------------
def versions(session: Session, uri: str, artifact_type: str | None = None) -> list[Artifact]:
    """Every artifact of the dataset ``uri`` (its versions and read partitions)."""
    found = Artifact.list(source_uri=uri, artifact_type=artifact_type, sagemaker_session=session)
    return [a for a in found if a.source and a.source["source_uri"] == uri]


def run_arn(session: Session, run_id: str) -> str:
    from mllineage import Action
    from mllineage.capture.openlineage import run_action_name

    return str(Action.load(run_action_name(run_id), sagemaker_session=session).action_arn)


def read_by(session: Session, run_id: str) -> set[tuple[str, str | None]]:
    """Which datasets (and versions) did the run read: (source URI, version)."""
    graph = LineageQuery(
        [run_arn(session, run_id)], "Ascendants", max_depth=1, sagemaker_session=session
    ).query()
    return {
        (v["Properties"]["source_uri"], v["Properties"].get("openlineage.version"))
        for v in graph["Vertices"]
        if v["Type"] == "Artifact"
    }


def producers(session: Session, uri: str, job: str) -> set[str]:
    """Which runs of the job (``namespace/name``) produced the dataset: their run IDs."""
    out = set()
    for version in versions(session, uri, DATASET_TYPE):
        graph = LineageQuery(
            [version.artifact_arn], "Ascendants", max_depth=1, sagemaker_session=session
        ).query()
        out |= {
            v["Properties"]["openlineage.run_id"]
            for v in graph["Vertices"]
            if v["Type"] == "Action" and v["Properties"].get("openlineage.job") == job
        }
    return out


def downstream(session: Session, uri: str) -> tuple[set[str], set[str]]:
    """What is downstream of the dataset: the URIs of the datasets and the jobs of the runs."""
    starts = [a.artifact_arn for a in versions(session, uri)]
    datasets: set[str] = set()
    jobs: set[str] = set()
    for i in range(0, len(starts), 10):
        graph = LineageQuery(
            starts[i : i + 10], "Descendants", max_depth=20, sagemaker_session=session
        ).query()
        for v in graph["Vertices"]:
            if v["Type"] == "Artifact":
                datasets.add(v["Properties"]["source_uri"])
            elif v["Type"] == "Action":
                jobs.add(v["Properties"]["openlineage.job"])
    return datasets - {uri}, jobs


def graph_size(store: Store) -> dict[str, int]:
    """Entities by kind and the associations of the store's account."""
    counts = store.count_entities()
    out = {"associations": counts["AssociationCount"]}
    for row in counts["Counts"]:
        key = row["EntityKind"]
        out[key] = out.get(key, 0) + row["Count"]
    return out


def export_state(store: Store) -> Any:
    """The account's export (``mllineage export``: every entity with its times and every
    association) and the IDs of its raw events."""
    from mllineage.api.transfer import export_records
    from mllineage.capture.openlineage.ingest import kept_events

    records = [r for r in export_records(store) if r["record"] != "header"]
    return records, sorted(info.event_id for info in kept_events(store))


def replay_shuffled(server: ServerProcess, account: OlAccount, seed: int = 21) -> int:
    """Must hold 4: send every kept event of the account again, in a shuffled order, through
    the endpoint, then map them all again (``mllineage openlineage replay``); the export must
    not change. Returns the number of events."""
    import random

    from mllineage.capture.openlineage import replay

    store = reader(server, account)
    before = export_state(store)
    events = [item["Event"] for item in store.paginate("list_openlineage_events", "Events")]
    random.Random(seed).shuffle(events)
    for text in events:
        reply = post_event(server, account, text)
        assert reply.status_code == 201, reply.text
        assert reply.json()["created"] is False
    assert export_state(store) == before
    replay(store)
    assert export_state(store) == before
    return len(events)


def post_event(server: ServerProcess, account: OlAccount, text: str) -> Any:
    """POST an event's JSON text to the server's OpenLineage route with the account's key."""
    import httpx

    return httpx.post(
        f"{server.url}/api/v1/lineage",
        content=text.encode(),
        headers={"Authorization": f"Bearer {account.api_key}", "Content-Type": "application/json"},
        timeout=120,
    )
