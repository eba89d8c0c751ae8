"""Must hold 5: bad events get a clear 4xx from a real server, and change nothing."""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mllineage.server.testing import ServerProcess
from tests.openlineage.support import OlAccount, export_state, ol_account, reader

RUN_ID = "0190f1d2-8c4b-7a9e-b2c3-1234567890ab"


def event() -> dict[str, Any]:
    return {
        "eventType": "START",
        "eventTime": "2024-05-01T10:00:00.000Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": RUN_ID, "facets": {}},
        "job": {"namespace": "ns", "name": "job"},
        "inputs": [{"namespace": "s3://b", "name": "in.csv"}],
        "outputs": [{"namespace": "s3://b", "name": "out.csv"}],
    }


def without(*path: str) -> dict[str, Any]:
    out = event()
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return out


def with_value(value: Any, *path: str) -> dict[str, Any]:
    out = event()
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return out


INVALID = [
    pytest.param(without("eventTime"), "eventTime is required", id="no-eventTime"),
    pytest.param(without("run", "runId"), "run.runId is required", id="no-runId"),
    pytest.param(without("job", "namespace"), "job.namespace is required", id="no-job-namespace"),
    pytest.param(without("job", "name"), "job.name is required", id="no-job-name"),
    pytest.param(without("job"), "job is required", id="no-job"),
    pytest.param(without("run"), "run is required", id="no-run"),
    pytest.param(with_value("not-a-uuid", "run", "runId"), "must be a UUID", id="bad-uuid"),
    pytest.param(with_value(12, "run", "runId"), "run.runId must be a string", id="uuid-number"),
    pytest.param(with_value(1714557600, "eventTime"), "eventTime must be a string", id="time-num"),
    pytest.param(with_value("yesterday", "eventTime"), "ISO 8601", id="time-text"),
    pytest.param(with_value("2024-05-01", "eventTime"), "time of day", id="time-no-time"),
    pytest.param(with_value("DONE", "eventType"), "eventType must be one of", id="bad-type"),
    pytest.param(with_value("ns/job", "job"), "job must be an object", id="job-string"),
    pytest.param(with_value({"a": 1}, "inputs"), "inputs must be an array", id="inputs-object"),
    pytest.param(with_value([{"name": "x"}], "outputs"), "outputs[0].namespace", id="no-ds-ns"),
    pytest.param(
        with_value([{"namespace": 3, "name": "x"}], "inputs"),
        "inputs[0].namespace",
        id="ds-ns-number",
    ),
    pytest.param(with_value([], "run", "facets"), "run.facets must be an object", id="facets"),
    pytest.param(
        with_value("https://openlineage.io/spec/1-0-5/OpenLineage.json", "schemaURL"),
        "2.x spec",
        id="spec-1",
    ),
    pytest.param(["not", "an", "event"], "must be a JSON object", id="array"),
    pytest.param({"eventTime": "2024-05-01T10:00:00Z"}, "neither run", id="no-kind"),
]


def post(
    server: ServerProcess,
    body: bytes,
    key: str | None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    return httpx.post(f"{server.url}/api/v1/lineage", content=body, headers=sent, timeout=60)


def refused(
    server: ServerProcess,
    account: OlAccount,
    status: int,
    code: str,
    send: Callable[[], httpx.Response],
    match: str = "",
) -> None:
    store = reader(server, account)
    before = export_state(store)
    reply = send()
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["error"] == code
    assert match in body["message"]
    assert export_state(store) == before


@pytest.mark.parametrize(("bad", "match"), INVALID)
def test_invalid_events_are_refused(
    ol_server: ServerProcess, ol_account: OlAccount, bad: Any, match: str
) -> None:
    body = json.dumps(bad).encode()
    refused(
        ol_server,
        ol_account,
        400,
        "InvalidEvent",
        lambda: post(ol_server, body, ol_account.api_key),
        match,
    )


def test_not_json_is_refused(ol_server: ServerProcess, ol_account: OlAccount) -> None:
    send = lambda: post(ol_server, b"{not json", ol_account.api_key)  # noqa: E731
    refused(ol_server, ol_account, 400, "InvalidEvent", send, "not valid JSON")


def test_a_10_mb_event_is_refused(ol_server: ServerProcess, ol_account: OlAccount) -> None:
    big = copy.deepcopy(event())
    big["run"]["facets"]["padding"] = {"text": "x" * 10_000_000}
    body = json.dumps(big).encode()
    send = lambda: post(ol_server, body, ol_account.api_key)  # noqa: E731
    refused(ol_server, ol_account, 413, "EventTooLarge", send, "larger than")
    # the same, gzipped (small on the wire, 10 MB once inflated)
    zipped = gzip.compress(body)
    send = lambda: post(ol_server, zipped, ol_account.api_key, {"Content-Encoding": "gzip"})  # noqa: E731
    refused(ol_server, ol_account, 413, "EventTooLarge", send, "larger than")


def test_invalid_gzip_is_refused(ol_server: ServerProcess, ol_account: OlAccount) -> None:
    body = json.dumps(event()).encode()
    send = lambda: post(ol_server, body, ol_account.api_key, {"Content-Encoding": "gzip"})  # noqa: E731
    refused(ol_server, ol_account, 400, "InvalidGzip", send, "not valid gzip")
    cut = gzip.compress(body)[:-12]
    send = lambda: post(ol_server, cut, ol_account.api_key, {"Content-Encoding": "gzip"})  # noqa: E731
    refused(ol_server, ol_account, 400, "InvalidGzip", send)


def test_other_media_types_are_refused(ol_server: ServerProcess, ol_account: OlAccount) -> None:
    body = json.dumps(event()).encode()
    send = lambda: post(ol_server, body, ol_account.api_key, {"Content-Type": "text/xml"})  # noqa: E731
    refused(ol_server, ol_account, 415, "UnsupportedMediaType", send)
    send = lambda: post(ol_server, body, ol_account.api_key, {"Content-Encoding": "br"})  # noqa: E731
    refused(ol_server, ol_account, 415, "UnsupportedContentEncoding", send)


@pytest.mark.parametrize(
    ("key", "code"),
    [
        pytest.param(None, "MissingAuthenticationToken", id="missing"),
        pytest.param("ol-test-api-key-wrong-0123456789", "UnrecognizedApiKey", id="wrong"),
        pytest.param("x", "UnrecognizedApiKey", id="short"),
    ],
)
def test_missing_or_wrong_keys_are_refused(
    ol_server: ServerProcess, ol_account: OlAccount, key: str | None, code: str
) -> None:
    body = json.dumps(event()).encode()
    refused(ol_server, ol_account, 401, code, lambda: post(ol_server, body, key))
    reply = post(ol_server, body, key)
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_sigv4_header_is_no_api_key(ol_server: ServerProcess, ol_account: OlAccount) -> None:
    body = json.dumps(event()).encode()
    send = lambda: post(  # noqa: E731
        ol_server,
        body,
        None,
        {"Authorization": f"AWS4-HMAC-SHA256 Credential={ol_account.access_key}/x"},
    )
    refused(ol_server, ol_account, 401, "MissingAuthenticationToken", send)


def test_another_accounts_key_writes_only_there(
    ol_server: ServerProcess, ol_account: OlAccount
) -> None:
    """An API key stands for its account: an event sent with another account's key changes
    nothing here, and what it made there cannot be read from here."""
    other = ol_account_other(ol_account)
    mine = reader(ol_server, ol_account)
    before = export_state(mine)
    sent = event()
    sent["run"]["runId"] = str(uuid.uuid4())
    reply = post(ol_server, json.dumps(sent).encode(), other.api_key)
    assert reply.status_code == 201
    assert export_state(mine) == before
    theirs = reader(ol_server, other).list_openlineage_events(RunId=sent["run"]["runId"])
    assert len(theirs["Events"]) == 1
    assert mine.list_openlineage_events(RunId=sent["run"]["runId"])["Events"] == []


def ol_account_other(account: OlAccount) -> OlAccount:
    """The last account of the server's pool (tests take theirs from the front)."""
    from tests.openlineage.support import POOL

    other = ol_account(POOL - 1)
    assert other != account
    return other


def test_the_server_answers_a_valid_event(ol_server: ServerProcess, ol_account: OlAccount) -> None:
    reply = post(ol_server, json.dumps(event()).encode(), ol_account.api_key)
    assert reply.status_code == 201
    assert reply.json()["created"] is True
    again = post(
        ol_server,
        gzip.compress(json.dumps(event()).encode()),
        ol_account.api_key,
        {"Content-Encoding": "gzip"},
    )
    assert again.status_code == 201
    assert again.json() == {"eventId": reply.json()["eventId"], "created": False}
