"""The web UI's server side: sign-in, sessions, CSRF, refusals, and the JSON API's answers.

Apps are built with ``create_app`` on a real SqlStore (an SQLite file, and PostgreSQL when
``MLLINEAGE_TEST_POSTGRES_URL`` is set) and served over real HTTP (``ui_support``); the last
tests run ``mllineage serve`` itself with two workers.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllineage.api.query import LineageQuery, LineageQueryDirectionEnum
from mllineage.api.session import Session
from mllineage.server.app import create_app
from mllineage.server.auth import Credential, SigV4Verifier
from mllineage.server.testing import ServerProcess
from mllineage.server.ui_session import SESSION_COOKIE, SessionSigner
from mllineage.store.base import Store
from mllineage.store.sql.store import SqlStore
from mllineage.viz.graph import LineageGraph
from tests.conftest import POSTGRES_URL, fresh_account_id, needs_postgres
from tests.server.ui_support import client, serve_app

SESSION_KEY = "test-session-key-" + "x" * 20
SECRET_A = "alice/secret+KEY-1"
SECRET_B = "bob/secret+KEY-2"

DATA_ROUTES = ["summary", "entities", "entity", "history", "lineage", "export"]
PAGE_ROUTES = ["/ui/", "/ui/artifacts?type=Model", "/ui/entity?arn=x", "/ui/lineage?arn=x"]


@dataclass
class World:
    """One database with two accounts: A's small pipeline, and one artifact of B."""

    store: SqlStore
    a: Credential
    b: Credential
    arns: dict[str, str]
    b_arn: str

    def store_of(self, credential: Credential) -> Store:
        return self.store.bind(account_id=credential.account_id, user=credential.user_context())


def seed(store: Store) -> dict[str, str]:
    """raw -> prep -> train -> job -> model -> endpoint."""
    arns = {
        "raw": store.create_artifact(
            ArtifactName="raw-data",
            ArtifactType="Dataset",
            Source={"SourceUri": "s3://b/raw/"},
            Properties={"team": "a"},
        )["ArtifactArn"],
        "prep": store.create_action(ActionName="prep", ActionType="Processing")["ActionArn"],
        "train": store.create_artifact(
            ArtifactName="train-data",
            ArtifactType="Dataset",
            Source={"SourceUri": "s3://b/train/x.csv"},
            Properties={"team": "a", "stage": "prod"},
        )["ArtifactArn"],
        "job": store.create_action(
            ActionName="train-job", ActionType="Training", Status="Completed"
        )["ActionArn"],
        "model": store.create_artifact(
            ArtifactName="churn-model",
            ArtifactType="Model",
            Source={"SourceUri": "s3://b/models/m.tar.gz"},
            Properties={"accuracy": "0.9"},
            Tags=[{"Key": "owner", "Value": "alice"}],
        )["ArtifactArn"],
        "endpoint": store.create_context(ContextName="endpoint-prod", ContextType="Endpoint")[
            "ContextArn"
        ],
    }
    for (source, destination), kind in zip(
        itertools.pairwise(["raw", "prep", "train", "job", "model", "endpoint"]),
        ["ContributedTo", "Produced", "ContributedTo", "Produced", "AssociatedWith"],
        strict=True,
    ):
        store.add_association(
            SourceArn=arns[source], DestinationArn=arns[destination], AssociationType=kind
        )
    return arns


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, needs_postgres]),
    ],
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    url = POSTGRES_URL if request.param == "postgres" else None
    store = SqlStore(url or f"sqlite:///{tmp_path_factory.mktemp('ui') / 'lineage.db'}")
    a = Credential("AKIDUIALICE", SECRET_A, fresh_account_id(), "alice")
    b = Credential("AKIDUIBOB", SECRET_B, fresh_account_id(), "bob")
    world = World(store, a, b, {}, "")
    world.arns = seed(world.store_of(a))
    world.b_arn = world.store_of(b).create_artifact(
        ArtifactName="b-private", ArtifactType="Dataset", Source={"SourceUri": "s3://b/raw/"}
    )["ArtifactArn"]
    yield world
    store.close()


@pytest.fixture(scope="module")
def secured(world: World) -> Iterator[str]:
    """The URL of a server with SigV4 (and so UI sign-in) on, for accounts A and B."""
    app = create_app(world.store, auth=SigV4Verifier([world.a, world.b]), session_key=SESSION_KEY)
    with serve_app(app) as url:
        yield url


@pytest.fixture(scope="module")
def open_url(world: World) -> Iterator[str]:
    """The URL of a --no-auth server serving account A."""
    with serve_app(create_app(world.store_of(world.a), auth=None)) as url:
        yield url


@contextmanager
def sign_in(url: str, credential: Credential) -> Iterator[httpx.Client]:
    """A client signed in with ``credential``, sending its CSRF token."""
    with client(url) as session:
        response = session.post(
            "/ui/api/session",
            json={
                "access_key_id": credential.access_key_id,
                "secret_access_key": credential.secret_access_key,
            },
        )
        assert response.status_code == 200, response.text
        session.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        yield session


@pytest.fixture
def alice(secured: str, world: World) -> Iterator[httpx.Client]:
    with sign_in(secured, world.a) as session:
        yield session


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def data_params(world: World) -> dict[str, dict[str, str]]:
    model = world.arns["model"]
    return {
        "summary": {},
        "entities": {"kind": "artifact"},
        "entity": {"arn": model},
        "history": {"arn": model},
        "lineage": {"arn": model},
        "export": {"arn": model, "format": "dot"},
    }


# -- sessions ---------------------------------------------------------------------------------
def test_session_answers_signed_out(secured: str) -> None:
    body = httpx.get(secured + "/ui/api/session").json()
    assert body == {
        "auth": True,
        "signed_in": False,
        "access_key_id": None,
        "account_id": None,
        "csrf_token": None,
        "version": body["version"],
    }


def test_session_clears_a_cookie_that_is_no_longer_valid(secured: str, world: World) -> None:
    expired = _cookie(world, "expired")
    response = httpx.get(
        secured + "/ui/api/session", headers={"Cookie": f"{SESSION_COOKIE}={expired}"}
    )
    assert response.json()["signed_in"] is False
    assert "max-age=0" in response.headers["set-cookie"].lower()


def test_sign_in_sets_a_strict_http_only_cookie(secured: str, world: World) -> None:
    with client(secured) as session:
        response = session.post(
            "/ui/api/session",
            json={"access_key_id": world.a.access_key_id, "secret_access_key": SECRET_A},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["signed_in"] is True
        assert body["access_key_id"] == world.a.access_key_id
        assert body["account_id"] == world.a.account_id
        assert len(body["csrf_token"]) >= 32
        cookie = response.headers["set-cookie"]
        attributes = {p.strip().split("=")[0].lower() for p in cookie.split(";")[1:]}
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert {"httponly", "samesite", "path", "max-age"} <= attributes
        assert "samesite=strict" in cookie.lower()
        assert "path=/ui;" in cookie.lower() + ";"
        assert "secure" not in attributes  # plain http here; https adds it
        assert SECRET_A not in response.text + str(response.headers)
        assert session.get("/ui/api/session").json() == body


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        pytest.param("AKIDUIALICE", "not-the-secret-1", id="wrong-secret"),
        pytest.param("AKIDNOBODY", SECRET_A, id="unknown-key"),
        pytest.param("AKIDUIALICE", SECRET_B, id="another-keys-secret"),
    ],
)
def test_sign_in_with_wrong_credentials_is_refused(secured: str, key: str, secret: str) -> None:
    response = httpx.post(
        secured + "/ui/api/session", json={"access_key_id": key, "secret_access_key": secret}
    )
    assert error_of(response) == (401, "BadCredentials", "the access key ID or secret is wrong")
    assert "set-cookie" not in response.headers
    assert secret not in response.text


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param(
            {"data": {"access_key_id": "AKIDUIALICE", "secret_access_key": SECRET_A}},
            (415, "UnsupportedMediaType"),
            id="form-body",
        ),
        pytest.param(
            {
                "json": {"access_key_id": "AKIDUIALICE", "secret_access_key": SECRET_A},
                "headers": {"Origin": "https://evil.example"},
            },
            (403, "BadOrigin"),
            id="cross-origin",
        ),
        pytest.param({"json": ["AKIDUIALICE"]}, (400, "BadParameter"), id="not-an-object"),
        pytest.param(
            {"json": {"access_key_id": "AKIDUIALICE"}}, (400, "BadParameter"), id="no-secret"
        ),
        pytest.param(
            {"content": b"{", "headers": {"Content-Type": "application/json"}},
            (400, "BadParameter"),
            id="bad-json",
        ),
        pytest.param(
            {
                "content": b'{"access_key_id": "AKIDUIALICE", "secret_access_key": "\\ud800"}',
                "headers": {"Content-Type": "application/json"},
            },
            (400, "BadParameter"),
            id="lone-surrogate",
        ),
    ],
)
def test_sign_in_needs_a_same_origin_json_body(
    secured: str, kwargs: dict[str, Any], expected: tuple[int, str]
) -> None:
    response = httpx.post(secured + "/ui/api/session", **kwargs)
    assert error_of(response)[:2] == expected
    assert "set-cookie" not in response.headers


def test_sign_in_from_the_servers_own_origin(secured: str, world: World) -> None:
    response = httpx.post(
        secured + "/ui/api/session",
        json={"access_key_id": world.a.access_key_id, "secret_access_key": SECRET_A},
        headers={"Origin": secured},
    )
    assert response.status_code == 200


def test_cookie_is_secure_behind_https(secured: str, world: World) -> None:
    response = httpx.post(
        secured + "/ui/api/session",
        json={"access_key_id": world.a.access_key_id, "secret_access_key": SECRET_A},
        headers={"X-Forwarded-Proto": "https", "Origin": secured.replace("http:", "https:")},
    )
    assert response.status_code == 200
    assert "; secure" in response.headers["set-cookie"].lower()


def test_sign_out_needs_the_csrf_token(secured: str, world: World) -> None:
    with sign_in(secured, world.a) as session:
        token = session.headers.pop("X-CSRF-Token")
        assert error_of(session.delete("/ui/api/session"))[:2] == (403, "BadCsrfToken")
        wrong = session.delete("/ui/api/session", headers={"X-CSRF-Token": "0" * 64})
        assert error_of(wrong)[:2] == (403, "BadCsrfToken")
        assert session.get("/ui/api/summary").status_code == 200  # still signed in
        out = session.delete("/ui/api/session", headers={"X-CSRF-Token": token})
        assert out.status_code == 204
        assert "max-age=0" in out.headers["set-cookie"].lower()
        assert error_of(session.get("/ui/api/summary"))[:2] == (401, "NotSignedIn")
        assert session.delete("/ui/api/session").status_code == 204  # signed out already


def test_other_writes_need_the_csrf_token(alice: httpx.Client) -> None:
    token = alice.headers.pop("X-CSRF-Token")
    assert error_of(alice.post("/ui/api/summary"))[:2] == (403, "BadCsrfToken")
    assert error_of(alice.put("/ui/api/entity", headers={"X-CSRF-Token": "x"}))[:2] == (
        403,
        "BadCsrfToken",
    )
    allowed = alice.post("/ui/api/summary", headers={"X-CSRF-Token": token})
    assert error_of(allowed)[:2] == (405, "MethodNotAllowed")


def test_csrf_token_belongs_to_its_session(secured: str, world: World) -> None:
    with sign_in(secured, world.a) as first, sign_in(secured, world.a) as second:
        assert first.headers["X-CSRF-Token"] != second.headers["X-CSRF-Token"]
        crossed = first.delete(
            "/ui/api/session", headers={"X-CSRF-Token": second.headers["X-CSRF-Token"]}
        )
        assert crossed.status_code == 403


# -- refusals without a valid session ------------------------------------------------------------
def _cookie(world: World, how: str) -> str | None:
    """A session cookie value that must not be honoured."""
    now = time.time()
    if how == "none":
        return None
    if how == "forged":
        return SessionSigner("another key", {world.a.access_key_id: world.a}).issue(world.a)[0]
    if how == "garbage":
        return "not-a-cookie"
    if how == "expired":
        signer = SessionSigner(SESSION_KEY, {"k": world.a}, clock=lambda: now - 13 * 3600)
        return signer.issue(world.a)[0]
    if how == "tampered":
        signature = SessionSigner(SESSION_KEY, {}).issue(world.a)[0].rpartition(".")[2]
        other = SessionSigner(SESSION_KEY, {}).issue(world.b)[0].rpartition(".")[0]
        return f"{other}.{signature}"  # B's payload under A's signature
    if how == "removed-key":
        gone = Credential("AKIDUIGONE", "gone-secret", world.a.account_id)
        return SessionSigner(SESSION_KEY, {"k": gone}).issue(gone)[0]
    if how == "changed-secret":
        old = Credential(world.a.access_key_id, "old-secret", world.a.account_id)
        return SessionSigner(SESSION_KEY, {"k": old}).issue(old)[0]
    raise AssertionError(how)


BAD_COOKIES = ["none", "garbage", "forged", "expired", "tampered", "removed-key", "changed-secret"]


@pytest.mark.parametrize("how", BAD_COOKIES)
@pytest.mark.parametrize("route", DATA_ROUTES)
def test_data_routes_refuse_without_a_valid_session(
    secured: str, world: World, route: str, how: str
) -> None:
    cookie = _cookie(world, how)
    with client(secured) as session:
        if cookie is not None:
            session.cookies.set(SESSION_COOKIE, cookie, path="/ui")
        response = session.get(f"/ui/api/{route}", params=data_params(world)[route])
    assert error_of(response)[:2] == (401, "NotSignedIn")
    assert "b-private" not in response.text
    assert "churn-model" not in response.text


@pytest.mark.parametrize("how", BAD_COOKIES)
@pytest.mark.parametrize("page", PAGE_ROUTES)
def test_pages_redirect_to_sign_in_without_a_valid_session(
    secured: str, world: World, page: str, how: str
) -> None:
    cookie = _cookie(world, how)
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}
    response = httpx.get(secured + page, headers=headers)
    assert response.status_code == 303
    location = httpx.URL(response.headers["location"])
    assert location.path == "/ui/login"
    assert location.params["next"] == page


@pytest.mark.parametrize("how", ["none", "forged", "expired"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "GET"])
def test_other_api_requests_refuse_without_a_valid_session(
    secured: str, world: World, method: str, how: str
) -> None:
    cookie = _cookie(world, how)
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}
    for path in ("/ui/api/summary", "/ui/api/nope", "/ui/api/entities/more"):
        if method == "GET" and path == "/ui/api/summary":
            continue
        response = httpx.request(method, secured + path, headers=headers)
        assert error_of(response)[:2] == (401, "NotSignedIn"), (method, path)


def test_sign_in_page_and_assets_are_public(secured: str) -> None:
    assert httpx.get(secured + "/ui/login?next=%2Fui%2F").status_code == 200
    assert httpx.get(secured + "/ui/api/session").status_code == 200
    assert error_of(httpx.get(secured + "/ui/assets/no-such-file.js"))[:2] == (404, "NotFound")


def test_a_valid_session_reads_every_route(alice: httpx.Client, world: World) -> None:
    for route, params in data_params(world).items():
        assert alice.get(f"/ui/api/{route}", params=params).status_code == 200, route
    for page in PAGE_ROUTES:
        assert alice.get(page).status_code == 200, page


def test_sessions_end_when_they_expire(world: World) -> None:
    clock = [1_000_000.0]
    signer = SessionSigner(SESSION_KEY, {world.a.access_key_id: world.a}, clock=lambda: clock[0])
    value, session = signer.issue(world.a)
    assert signer.open(value) == session
    clock[0] += signer.max_age - 1
    assert signer.open(value) == session
    clock[0] += 1
    assert signer.open(value) is None


def test_cookie_holds_no_secret_and_a_sha256_signature(world: World) -> None:
    signer = SessionSigner(SESSION_KEY, {world.a.access_key_id: world.a})
    value, _ = signer.issue(world.a)
    assert len(value.rpartition(".")[2]) == 43  # 32 bytes of HMAC-SHA256, base64url
    assert world.a.secret_access_key not in value
    opened = signer.open(value)
    assert opened is not None
    assert world.a.secret_access_key not in repr(opened)


# -- accounts --------------------------------------------------------------------------------
def test_a_key_sees_only_its_own_account(alice: httpx.Client, world: World) -> None:
    summary = alice.get("/ui/api/summary").json()
    assert summary["kinds"]["artifact"]["total"] == 3
    listed = alice.get("/ui/api/entities", params={"kind": "artifact"}).json()["items"]
    assert world.b_arn not in {i["arn"] for i in listed}
    for route in ("entity", "history", "lineage", "export"):
        response = alice.get(f"/ui/api/{route}", params={"arn": world.b_arn})
        assert error_of(response)[:2] == (404, "NotFound"), route
        assert "b-private" not in response.text
    with sign_in(alice.base_url.__str__(), world.b) as bob:
        items = bob.get("/ui/api/entities", params={"kind": "artifact"}).json()["items"]
        assert [i["arn"] for i in items] == [world.b_arn]
        assert bob.get("/ui/api/entity", params={"arn": world.arns["model"]}).status_code == 404


# -- the API's answers -------------------------------------------------------------------------
def test_summary(alice: httpx.Client) -> None:
    assert alice.get("/ui/api/summary").json() == {
        "kinds": {
            "artifact": {"total": 3, "types": {"Dataset": 2, "Model": 1}},
            "action": {"total": 2, "types": {"Processing": 1, "Training": 1}},
            "context": {"total": 1, "types": {"Endpoint": 1}},
        },
        "associations": 5,
        "empty": False,
    }


def test_summary_of_an_empty_account(secured: str, world: World) -> None:
    empty = Credential("AKIDUIEMPTY", "empty-secret", fresh_account_id())
    app = create_app(world.store, auth=SigV4Verifier([empty]), session_key=SESSION_KEY)
    with serve_app(app) as url, sign_in(url, empty) as session:
        summary = session.get("/ui/api/summary").json()
    assert summary["empty"] is True
    assert summary["associations"] == 0


def _listed(session: httpx.Client, **params: Any) -> list[str | None]:
    response = session.get("/ui/api/entities", params=params)
    assert response.status_code == 200, response.text
    return [i["name"] for i in response.json()["items"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"kind": "artifact"}, ["churn-model", "train-data", "raw-data"], id="all"),
        pytest.param({"kind": "artifact", "type": "Model"}, ["churn-model"], id="type"),
        pytest.param({"kind": "artifact", "name": "tra"}, ["train-data"], id="name-prefix"),
        pytest.param({"kind": "artifact", "name": "Tra"}, [], id="name-case"),
        pytest.param({"kind": "artifact", "source_uri": "s3://b/train"}, ["train-data"], id="uri"),
        pytest.param({"kind": "artifact", "source_uri": "s3://b/tr"}, [], id="uri-boundary"),
        pytest.param(
            {"kind": "artifact", "property": ["team:a", "stage:prod"]}, ["train-data"], id="props"
        ),
        pytest.param(
            {"kind": "artifact", "sort": "name", "order": "asc"},
            ["churn-model", "raw-data", "train-data"],
            id="sort-name",
        ),
        pytest.param(
            {"kind": "artifact", "order": "asc"},
            ["raw-data", "train-data", "churn-model"],
            id="oldest-first",
        ),
        pytest.param({"kind": "action", "type": ""}, ["train-job", "prep"], id="empty-is-absent"),
        pytest.param({"kind": "context"}, ["endpoint-prod"], id="contexts"),
    ],
)
def test_entities_filters(alice: httpx.Client, params: dict[str, Any], expected: list[str]) -> None:
    assert _listed(alice, **params) == expected


def test_entities_created_bounds(alice: httpx.Client) -> None:
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert _listed(alice, kind="artifact", created_after=future) == []
    assert len(_listed(alice, kind="artifact", created_before=future)) == 3


def test_entities_pages(alice: httpx.Client, world: World) -> None:
    seen: list[str] = []
    token = None
    while True:
        params = {"kind": "artifact", "max_results": "2", "next_token": token or ""}
        page = alice.get("/ui/api/entities", params=params).json()
        seen += [i["arn"] for i in page["items"]]
        token = page["next_token"]
        if token is None:
            break
    assert seen == [world.arns[k] for k in ("model", "train", "raw")]


def test_entity_item_shape(alice: httpx.Client, world: World) -> None:
    [item] = alice.get("/ui/api/entities", params={"kind": "action", "type": "Training"}).json()[
        "items"
    ]
    assert set(item) == {
        "arn",
        "kind",
        "name",
        "type",
        "source_uri",
        "status",
        "created",
        "last_modified",
        "created_by",
    }
    assert item["arn"] == world.arns["job"]
    assert item["status"] == "Completed"
    assert item["created_by"] == "alice"
    assert item["created"].endswith("Z")
    assert datetime.fromisoformat(item["created"].replace("Z", "+00:00"))


def test_entity(alice: httpx.Client, world: World) -> None:
    body = alice.get("/ui/api/entity", params={"arn": world.arns["model"]}).json()
    assert body["arn"] == world.arns["model"]
    assert (body["kind"], body["name"], body["type"]) == ("artifact", "churn-model", "Model")
    assert body["source_uri"] == "s3://b/models/m.tar.gz"
    assert body["properties"] == {"accuracy": "0.9"}
    assert body["tags"] == {"owner": "alice"}
    assert body["created_by"] == body["last_modified_by"] == "alice"
    assert body["description"] is None
    assert body["inputs"] == [
        {
            "arn": world.arns["job"],
            "kind": "action",
            "name": "train-job",
            "type": "Training",
            "association_type": "Produced",
        }
    ]
    assert [o["arn"] for o in body["outputs"]] == [world.arns["endpoint"]]
    assert body["outputs"][0]["kind"] == "context"


@pytest.mark.parametrize(
    ("key", "kind", "name", "status"),
    [("job", "action", "train-job", "Completed"), ("endpoint", "context", "endpoint-prod", None)],
)
def test_entity_of_each_kind(
    alice: httpx.Client, world: World, key: str, kind: str, name: str, status: str | None
) -> None:
    body = alice.get("/ui/api/entity", params={"arn": world.arns[key]}).json()
    assert (body["kind"], body["name"], body["status"]) == (kind, name, status)
    assert len(body["inputs"]) == 1


def test_history(alice: httpx.Client, world: World) -> None:
    store = world.store_of(world.a)
    arn = store.create_context(ContextName="history-ctx", ContextType="Project")["ContextArn"]
    store.update_context(ContextName=arn, Description="now described")
    events = alice.get("/ui/api/history", params={"arn": arn}).json()["events"]
    assert [e["operation"] for e in events] == ["UpdateContext", "CreateContext"]
    assert events[0]["changes"] == {"description": [None, "now described"]}
    assert events[0]["by"] == "alice"
    assert events[0]["summary"] == "description: None -> now described"
    assert events[0]["at"] >= events[1]["at"]
    store.delete_context(ContextName=arn)
    assert alice.get("/ui/api/entity", params={"arn": arn}).status_code == 404
    after = alice.get("/ui/api/history", params={"arn": arn}).json()["events"]
    assert after[0]["operation"] == "DeleteContext"


def _lineage(session: httpx.Client, **params: Any) -> dict[str, Any]:
    response = session.get("/ui/api/lineage", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _names(body: dict[str, Any]) -> set[str]:
    return {v["name"] for v in body["vertices"]}


def test_lineage_direction_and_depth(alice: httpx.Client, world: World) -> None:
    model = world.arns["model"]
    up = _lineage(alice, arn=model, direction="up", depth=2)
    assert up["start"] == model
    assert _names(up) == {"churn-model", "train-job", "train-data"}
    assert up["truncated"] is True
    assert {(e["source"], e["destination"]) for e in up["edges"]} == {
        (world.arns["train"], world.arns["job"]),
        (world.arns["job"], model),
    }
    down = _lineage(alice, arn=model, direction="down", depth=5)
    assert _names(down) == {"churn-model", "endpoint-prod"}
    assert down["truncated"] is False
    both = _lineage(alice, arn=world.arns["train"])  # both ways, depth 3
    assert _names(both) == {
        "raw-data",
        "prep",
        "train-data",
        "train-job",
        "churn-model",
        "endpoint-prod",
    }
    assert both["truncated"] is False
    [vertex] = [v for v in both["vertices"] if v["arn"] == world.arns["raw"]]
    assert vertex["kind"] == "artifact"
    assert vertex["type"] == "Dataset"
    assert vertex["source_uri"] == "s3://b/raw/"
    assert vertex["properties"]["team"] == "a"
    assert {"source", "destination", "association_type"} == set(both["edges"][0])


def test_lineage_filters_keep_the_start(alice: httpx.Client, world: World) -> None:
    model = world.arns["model"]
    actions = _lineage(alice, arn=model, direction="up", depth=4, kind="action")
    assert _names(actions) == {"churn-model", "train-job", "prep"}
    assert actions["edges"] == [
        {"source": world.arns["job"], "destination": model, "association_type": "Produced"}
    ]
    typed = _lineage(alice, arn=model, depth=5, type=["Dataset", "Endpoint"])
    assert _names(typed) == {"churn-model", "raw-data", "train-data", "endpoint-prod"}


def test_lineage_as_of(alice: httpx.Client, world: World) -> None:
    store = world.store_of(world.a)
    before = datetime.now(timezone.utc)
    time.sleep(0.01)
    later = store.create_artifact(
        ArtifactName="later", ArtifactType="Report", Source={"SourceUri": "s3://b/later"}
    )["ArtifactArn"]
    store.add_association(
        SourceArn=world.arns["endpoint"], DestinationArn=later, AssociationType="ContributedTo"
    )
    model = world.arns["model"]
    try:
        assert "later" in _names(_lineage(alice, arn=model, direction="down"))
        past = _lineage(alice, arn=model, direction="down", as_of=before.isoformat())
        assert _names(past) == {"churn-model", "endpoint-prod"}
    finally:
        store.delete_artifact(ArtifactArn=later)


@pytest.mark.parametrize(
    ("fmt", "media_type", "suffix", "marker"),
    [
        ("dot", "text/vnd.graphviz", "dot", "digraph lineage"),
        ("mermaid", "text/plain", "mmd", "flowchart LR"),
        ("graphml", "application/graphml+xml", "graphml", "<graphml"),
        ("json", "application/json", "json", '"Vertices"'),
        ("html", "text/html", "html", "<html"),
    ],
)
def test_export_is_the_cli_graph(
    alice: httpx.Client, world: World, fmt: str, media_type: str, suffix: str, marker: str
) -> None:
    model = world.arns["model"]
    response = alice.get("/ui/api/export", params={"arn": model, "format": fmt, "depth": "5"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="lineage-{model.rsplit("/", 1)[-1]}.{suffix}"'
    assert marker in response.text
    graph = LineageQuery(
        [model],
        LineageQueryDirectionEnum.BOTH,
        max_depth=5,
        sagemaker_session=Session(store=world.store_of(world.a)),
    ).query()
    if fmt == "json":
        exported = json.loads(response.text)
        key = lambda v: v["Arn"]  # noqa: E731
        assert sorted(exported["Vertices"], key=key) == sorted(graph["Vertices"], key=key)
    elif fmt in ("dot", "mermaid"):
        assert sorted(response.text.splitlines()) == sorted(graph.render(fmt).splitlines())


def test_export_of_a_filtered_view(alice: httpx.Client, world: World) -> None:
    params = {"arn": world.arns["model"], "format": "json", "direction": "up", "kind": "action"}
    exported = LineageGraph.of(json.loads(alice.get("/ui/api/export", params=params).text))
    assert {v["Type"] for v in exported.vertices} == {"Artifact", "Action"}  # start + actions


# -- parameter mistakes ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("route", "params", "message"),
    [
        ("entities", {}, "kind is required"),
        ("entities", {"kind": "model"}, "kind must be one of artifact, action, context, got"),
        ("entities", {"kind": ["artifact", "action"]}, "kind must be given once"),
        ("entities", {"kind": "artifact", "q": "x"}, "unknown parameter 'q'"),
        (
            "entities",
            {"kind": "artifact", "max_results": "0"},
            "max_results must be an integer from 1 to 100",
        ),
        ("entities", {"kind": "artifact", "max_results": "x"}, "max_results must be an integer"),
        ("entities", {"kind": "artifact", "sort": "size"}, "sort must be one of created, name"),
        ("entities", {"kind": "artifact", "order": "up"}, "order must be one of desc, asc"),
        ("entities", {"kind": "artifact", "created_after": "yesterday"}, "created_after must be"),
        ("entities", {"kind": "artifact", "property": "novalue"}, "property must be key:value"),
        ("entities", {"kind": "artifact", "property": ["a:1", "a:2"]}, "property 'a' is given"),
        ("entities", {"kind": "artifact", "name": "x" * 121}, "name must be 1 to 120 characters"),
        ("entities", {"kind": "artifact", "source_uri": "x" * 3000}, "source_uri"),
        ("entities", {"kind": "artifact", "next_token": "forged"}, "next_token"),
        ("entity", {}, "arn is required"),
        ("entity", {"arn": "nope"}, "arn 'nope' is not a SageMaker"),
        ("history", {"arn": "arn:aws:s3:::bucket"}, "arn"),
        ("lineage", {"arn": "MODEL", "depth": "11"}, "depth must be an integer from 1 to 10"),
        ("lineage", {"arn": "MODEL", "depth": "-1"}, "depth must be an integer from 1 to 10"),
        (
            "lineage",
            {"arn": "MODEL", "direction": "sideways"},
            "direction must be one of both, up, down",
        ),
        ("lineage", {"arn": "MODEL", "as_of": "then"}, "as_of must be"),
        ("lineage", {"arn": "MODEL", "kind": "model"}, "kind must be one of artifact"),
        ("export", {"arn": "MODEL", "format": "png"}, "format must be one of dot, mermaid"),
        ("summary", {"x": "1"}, "unknown parameter 'x'"),
    ],
)
def test_parameter_mistakes_name_the_parameter(
    alice: httpx.Client, world: World, route: str, params: dict[str, Any], message: str
) -> None:
    params = {k: (world.arns["model"] if v == "MODEL" else v) for k, v in params.items()}
    status, code, text = error_of(alice.get(f"/ui/api/{route}", params=params))
    assert (status, code) == (400, "BadParameter")
    assert text.startswith(message) or message in text, text


QUERY_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["artifact", "both", "10", "²", "-0", "1e3", "2024-01-01T00:00:00Z", ":"]),
)


@settings(max_examples=60, deadline=None)
@given(
    route=st.sampled_from([*DATA_ROUTES, "session", "nope"]),
    query=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "kind",
                    "arn",
                    "depth",
                    "as_of",
                    "max_results",
                    "property",
                    "next_token",
                    "format",
                    "type",
                    "x",
                ]
            ),
            QUERY_VALUES,
        ),
        max_size=5,
    ),
)
def test_any_query_is_answered_without_a_server_error(
    open_url: str, route: str, query: list[tuple[str, str]]
) -> None:
    response = httpx.get(f"{open_url}/ui/api/{route}", params=query)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message"}


@settings(max_examples=60, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["access_key_id", "secret_access_key", "x"]), inner
                )
            ),
            max_leaves=6,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_any_sign_in_body_is_refused_without_a_server_error(secured: str, body: bytes) -> None:
    response = httpx.post(
        secured + "/ui/api/session", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 401), response.text
    assert "set-cookie" not in response.headers


def test_odd_asset_paths_are_not_found(open_url: str) -> None:
    for path in ("a%00b", "%2e%2e%2f%2e%2e%2fserver%2fui.py", "a" * 5000, "%2e%2e", ""):
        response = httpx.get(f"{open_url}/ui/assets/{path}")
        assert error_of(response)[:2] == (404, "NotFound"), path


def test_unknown_arns_are_not_found(alice: httpx.Client, world: World) -> None:
    gone = world.arns["model"].rsplit("/", 1)[0] + "/0123456789abcdef0123456789abcdef"
    for route in ("entity", "history", "lineage", "export"):
        assert error_of(alice.get(f"/ui/api/{route}", params={"arn": gone}))[:2] == (
            404,
            "NotFound",
        )


def test_unknown_routes_and_methods(alice: httpx.Client) -> None:
    assert error_of(alice.get("/ui/api/nope"))[:2] == (404, "NotFound")
    assert error_of(alice.post("/ui/entity"))[:2] == (405, "MethodNotAllowed")
    assert alice.get("/ui").headers["location"] == "/ui/"


# -- auth off ----------------------------------------------------------------------------------
def test_without_auth_everything_is_open(open_url: str, world: World) -> None:
    with client(open_url) as session:
        body = session.get("/ui/api/session").json()
        assert (body["auth"], body["signed_in"], body["csrf_token"]) == (False, True, None)
        assert (body["access_key_id"], body["account_id"]) == (None, world.a.account_id)
        for route, params in data_params(world).items():
            assert session.get(f"/ui/api/{route}", params=params).status_code == 200, route
        for page in PAGE_ROUTES:
            assert session.get(page).status_code == 200, page
        assert session.get("/ui/api/summary").json()["kinds"]["artifact"]["total"] == 3
        sign = session.post(
            "/ui/api/session", json={"access_key_id": "AKIDUIALICE", "secret_access_key": "x"}
        )
        assert error_of(sign)[:2] == (400, "AuthDisabled")
        assert error_of(session.delete("/ui/api/session"))[:2] == (400, "AuthDisabled")


# -- the page and its assets -------------------------------------------------------------------
def test_shell_and_assets_from_the_static_directory(tmp_path: Path, world: World) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>shell</title>")
    (tmp_path / "assets" / "main-ABC123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the assets")
    app = create_app(world.store_of(world.a), auth=None, ui_static_dir=tmp_path)
    with serve_app(app) as url, client(url) as session:
        for page in ("/ui/", "/ui/lineage?arn=x", "/ui/some/deep/path"):
            shell = session.get(page)
            assert shell.text == "<!doctype html><title>shell</title>"
            assert shell.headers["cache-control"] == "no-store"
            assert "frame-ancestors 'none'" in shell.headers["content-security-policy"]
        asset = session.get("/ui/assets/main-ABC123.js")
        assert asset.text == "console.log(1)"
        assert "immutable" in asset.headers["cache-control"]
        assert asset.headers["content-type"].startswith(
            ("text/javascript", "application/javascript")
        )
        for path in ("/ui/assets/%2e%2e/secret.txt", "/ui/assets/..%2fsecret.txt", "/ui/assets/"):
            assert session.get(path).status_code == 404, path


def test_shell_says_when_the_bundle_is_missing(tmp_path: Path, world: World) -> None:
    app = create_app(world.store_of(world.a), auth=None, ui_static_dir=tmp_path / "none")
    with serve_app(app) as url:
        page = httpx.get(url + "/ui/")
    assert page.status_code == 200
    assert "bundle is missing" in page.text


def test_browsers_asking_for_the_root_go_to_the_ui(open_url: str) -> None:
    page = httpx.get(open_url + "/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert (page.status_code, page.headers["location"]) == (307, "/ui/")
    assert httpx.get(open_url + "/").json()["name"] == "mllineage"


# -- mllineage serve -------------------------------------------------------------------------------
def test_serve_workers_share_sessions_and_never_log_the_secret(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lineage.db'}"
    secret = "s3cr3t/VALUE+that-must-not-leak"
    with ServerProcess(
        db,
        credentials={"AKIDSERVE": (secret, "123456789012")},
        args=["--workers", "2", "--log-level", "info"],
    ) as server:
        refused = httpx.post(
            server.url + "/ui/api/session",
            json={"access_key_id": "AKIDSERVE", "secret_access_key": secret + "x"},
        )
        assert refused.status_code == 401
        typed_in_the_wrong_field = httpx.post(
            server.url + "/ui/api/session",
            json={"access_key_id": secret, "secret_access_key": "AKIDSERVE"},
        )
        assert typed_in_the_wrong_field.status_code == 401
        with sign_in(server.url, Credential("AKIDSERVE", secret, "123456789012")) as session:
            # New connections land on either worker; each must honour the other's cookie.
            for _ in range(20):
                fresh = httpx.get(
                    server.url + "/ui/api/summary",
                    headers={"Cookie": f"{SESSION_COOKIE}={session.cookies[SESSION_COOKIE]}"},
                )
                assert fresh.status_code == 200, fresh.text
                assert secret not in fresh.text
            assert session.delete("/ui/api/session").status_code == 204
        log = server.log()
    assert "ui POST /ui/api/session status=200" in log
    assert "ui sign-in refused for access key AKIDSERVE" in log
    assert "ui sign-in refused for an unknown access key" in log
    assert "ui sign-in: access key AKIDSERVE, account 123456789012" in log
    assert secret not in log
