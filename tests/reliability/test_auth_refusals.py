"""No one gets in: every kind of bad request the issue lists, sent again and again to one server
logging at debug level, is refused with a 4xx; no secret appears in any answer or in the
server's log; and ``--no-auth`` binds beyond loopback only when forced.

Each refusal also has a focused test in ``tests/server/test_auth.py``; this one counts them and
checks them together, with another account's access and the log.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from botocore.awsrequest import AWSRequest
from typer.testing import CliRunner

from mllineage.server.command import serve
from mllineage.server.testing import ServerProcess
from mllineage.store.wire import encode_body
from tests.conftest import POSTGRES_URL
from tests.server.support import REGION, Account, send, sign_at, signed_request

TARGET = "SageMaker.ListArtifacts"
BODY = b'{"MaxResults": 5}'


def _flip_signature(request: AWSRequest) -> None:
    header = request.headers["Authorization"]
    last = header[-1]
    request.headers.replace_header("Authorization", header[:-1] + ("0" if last != "0" else "1"))


def refusals(
    url: str, alice: Account, bob_arn: str
) -> dict[str, Callable[[], tuple[httpx.Response, str | None]]]:
    """Each kind of request that must be refused: a function sending one, and the code."""
    stranger = Account("AKIDSTRANGER", secrets.token_urlsafe(24), alice.account_id)
    wrong = Account(alice.access_key, "not-" + alice.secret_key, alice.account_id)

    def signed(account: Account = alice, target: str = TARGET, body: bytes = BODY) -> AWSRequest:
        return signed_request(url, target, body, account)

    def unsigned() -> httpx.Response:
        request = signed()
        del request.headers["Authorization"]
        return send(request)

    def badly_signed() -> httpx.Response:
        request = signed()
        _flip_signature(request)
        return send(request)

    def malformed() -> httpx.Response:
        request = signed()
        request.headers.replace_header("Authorization", "AWS4-HMAC-SHA256 Credential=x")
        return send(request)

    def aged(delta: timedelta) -> Callable[[], httpx.Response]:
        return lambda: send(sign_at(signed(), alice, datetime.now(timezone.utc) - delta))

    def changed_body() -> httpx.Response:
        request = signed()
        assert send(request).status_code == 200  # the original is served...
        return send(request, body=b'{"MaxResults": 6}')  # ...its replay with another body not

    def changed_target() -> httpx.Response:
        request = signed()
        request.headers.replace_header("X-Amz-Target", "SageMaker.DeleteArtifact")
        return send(request)

    def other_account(target: str, payload: dict[str, Any]) -> Callable[[], httpx.Response]:
        return lambda: send(signed(target=target, body=encode_body(payload)))

    kinds: dict[str, tuple[Callable[[], httpx.Response], str]] = {
        "unsigned": (unsigned, "MissingAuthenticationTokenException"),
        "badly-signed": (badly_signed, "InvalidSignatureException"),
        "malformed-authorization": (malformed, "IncompleteSignatureException"),
        "wrong-secret": (lambda: send(signed(wrong)), "InvalidSignatureException"),
        "unknown-key": (lambda: send(signed(stranger)), "UnrecognizedClientException"),
        "expired-16-min": (aged(timedelta(minutes=16)), "InvalidSignatureException"),
        "from-the-future": (aged(timedelta(minutes=-20)), "InvalidSignatureException"),
        "replayed-changed-body": (changed_body, "InvalidSignatureException"),
        "replayed-changed-target": (changed_target, "InvalidSignatureException"),
        "other-account-describe": (
            other_account("SageMaker.DescribeArtifact", {"ArtifactArn": bob_arn}),
            "ResourceNotFound",
        ),
        "other-account-delete": (
            other_account("SageMaker.DeleteArtifact", {"ArtifactArn": bob_arn}),
            "ResourceNotFound",
        ),
        "other-account-tag": (
            other_account(
                "SageMaker.AddTags", {"ResourceArn": bob_arn, "Tags": [{"Key": "k", "Value": "v"}]}
            ),
            "ResourceNotFound",
        ),
        "other-account-link": (
            other_account(
                "SageMaker.AddAssociation", {"SourceArn": bob_arn, "DestinationArn": bob_arn}
            ),
            "ResourceNotFound",
        ),
    }
    return {name: (lambda f=f, c=c: (f(), c)) for name, (f, c) in kinds.items()}


@pytest.mark.parametrize(
    "rounds", [pytest.param(3, id="fast"), pytest.param(100, id="long", marks=pytest.mark.slow)]
)
def test_every_refusal_keeps_secrets(tmp_path: Path, rounds: int, figures: dict[str, Any]) -> None:
    alice = Account("AKIDALICE", "alice/" + secrets.token_urlsafe(24), "111111111111")
    bob = Account("AKIDBOB", "bob+" + secrets.token_urlsafe(24), "222222222222")
    keys = {a.access_key: (a.secret_key, a.account_id) for a in (alice, bob)}
    store = f"sqlite:///{tmp_path / 'auth.db'}"
    with ServerProcess(
        store, credentials=keys, args=["--log-level", "debug", "--region", REGION]
    ) as server:
        bob_arn = send(
            signed_request(
                server.url,
                "SageMaker.CreateArtifact",
                encode_body({"ArtifactType": "Model", "Source": {"SourceUri": "s3://bob/m"}}),
                bob,
            )
        ).json()["ArtifactArn"]
        bob_before = send(
            signed_request(
                server.url, "SageMaker.DescribeArtifact", encode_body({"ArtifactArn": bob_arn}), bob
            )
        ).json()
        counts: dict[str, int] = {}
        for _ in range(rounds):
            for name, attempt in refusals(server.url, alice, bob_arn).items():
                response, code = attempt()
                assert response.status_code == 400, (name, response.text)
                assert response.json()["__type"] == code, (name, response.text)
                for secret in (alice.secret_key, bob.secret_key):
                    assert secret not in response.text, name
                counts[name] = counts.get(name, 0) + 1
        bob_after = send(
            signed_request(
                server.url, "SageMaker.DescribeArtifact", encode_body({"ArtifactArn": bob_arn}), bob
            )
        ).json()
        log = server.log()
    assert bob_after == bob_before  # nothing another account tried changed Bob's artifact
    assert "InvalidSignatureException" in log  # the log records the refusals...
    for secret in (alice.secret_key, bob.secret_key):
        assert secret not in log  # ...but never a secret
    figures.update(
        refusal_kinds=len(counts),
        refused_requests=sum(counts.values()),
        accepted_by_mistake=0,
        secrets_in_answers=0,
        secrets_in_log=0,
        server_errors_5xx=log.count("InternalFailure"),
    )
    assert "InternalFailure" not in log


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="MLLINEAGE_TEST_POSTGRES_URL is not set")
def test_the_database_password_stays_out_of_the_log() -> None:
    assert POSTGRES_URL
    password = "pw-" + secrets.token_hex(8)  # trust auth ignores it; the server must hide it
    url = POSTGRES_URL.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    assert password in url
    with ServerProcess(url, args=["--log-level", "debug"]) as server:
        assert httpx.get(server.url).status_code == 200
        assert password not in httpx.get(server.url).text
        log = server.log()
    assert "***" in log
    assert password not in log


def test_no_auth_beyond_loopback_only_when_forced(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(serve)
    runner = CliRunner()
    # An unusable store makes the command stop right after the --no-auth guard, before binding.
    args = ["--store", "http://127.0.0.1:1", "--no-auth", "--host", "0.0.0.0"]
    refused = runner.invoke(app, args, env={"MLLINEAGE_CREDENTIALS": ""})
    assert refused.exit_code == 2
    assert "refusing --no-auth on 0.0.0.0" in refused.output
    forced = runner.invoke(
        app, [*args, "--allow-unauthenticated-remote"], env={"MLLINEAGE_CREDENTIALS": ""}
    )
    assert forced.exit_code == 2
    assert "refusing --no-auth" not in forced.output
    assert "needs a sqlite:/// or postgresql:// URL" in forced.output
