"""SigV4 authentication: refusals as AWS answers them, against the real server, and the
verifier and credential loading on their own (with an injected clock)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from mllineage.server.auth import (
    Credential,
    SignedRequest,
    SigV4Verifier,
    load_credentials,
    load_credentials_file,
    parse_credentials_env,
)
from mllineage.server.testing import ServerProcess
from mllineage.store.wire import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from tests.server.support import Account, client_for, send, sign_at, signed_request

TARGET = "SageMaker.ListArtifacts"


def _refusal(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["__type"], body["message"]


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


# -- against the server ------------------------------------------------------------------------
def test_signed_requests_are_served(sm: Any) -> None:
    assert sm.list_artifacts()["ArtifactSummaries"] == []


def test_unsigned_request(server: ServerProcess) -> None:
    unsigned = boto3.client(
        "sagemaker",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError, match="Missing Authentication Token") as info:
        unsigned.list_artifacts()
    assert _code(info) == "MissingAuthenticationTokenException"
    raw = httpx.post(
        server.url, content=b"{}", headers={"X-Amz-Target": TARGET, "Content-Type": "x"}
    )
    assert _refusal(raw)[:2] == (400, "MissingAuthenticationTokenException")


def test_wrong_secret(server: ServerProcess, account: Account) -> None:
    wrong = Account(account.access_key, "not-the-secret", account.account_id)
    with pytest.raises(ClientError, match="signature we calculated does not match") as info:
        client_for(server, wrong).list_artifacts()
    assert _code(info) == "InvalidSignatureException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_access_key(server: ServerProcess) -> None:
    stranger = Account("AKIDUNKNOWN", "whatever", "000000000000")
    with pytest.raises(
        ClientError, match="security token included in the request is invalid"
    ) as info:
        client_for(server, stranger).list_artifacts()
    assert _code(info) == "UnrecognizedClientException"


def test_body_changed_after_signing(server: ServerProcess, account: Account) -> None:
    request = signed_request(server.url, TARGET, b'{"MaxResults": 5}', account)
    assert send(request).status_code == 200
    status, code, _ = _refusal(send(request, body=b'{"MaxResults": 6}'))
    assert (status, code) == (400, "InvalidSignatureException")


def test_target_changed_after_signing(server: ServerProcess, account: Account) -> None:
    request = signed_request(server.url, "SageMaker.ListActions", b"{}", account)
    request.headers.replace_header("X-Amz-Target", TARGET)
    assert _refusal(send(request))[:2] == (400, "InvalidSignatureException")


def test_unsigned_target_is_refused(server: ServerProcess, account: Account) -> None:
    request = signed_request(server.url, None, b"{}", account)
    request.headers["X-Amz-Target"] = TARGET  # added after signing
    status, code, message = _refusal(send(request))
    assert (status, code) == (400, "IncompleteSignatureException")
    assert "X-Amz-Target" in message


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        pytest.param(timedelta(minutes=14), None, id="14-min-old"),
        pytest.param(timedelta(minutes=-14), None, id="14-min-ahead"),
        pytest.param(timedelta(minutes=16), "Signature expired", id="16-min-old"),
        pytest.param(timedelta(hours=-1), "Signature not yet current", id="1-hour-ahead"),
        pytest.param(timedelta(days=400), "Signature expired", id="a-year-old"),
    ],
)
def test_request_age(
    server: ServerProcess, account: Account, age: timedelta, expected: str | None
) -> None:
    request = signed_request(server.url, TARGET, b"{}", account)
    sign_at(request, account, datetime.now(timezone.utc) - age)
    response = send(request)
    if expected is None:
        assert response.status_code == 200
    else:
        status, code, message = _refusal(response)
        assert (status, code) == (400, "InvalidSignatureException")
        assert message.startswith(expected)


def test_wrong_region_scope(server: ServerProcess, account: Account) -> None:
    # The test server was started with --region us-east-1.
    with pytest.raises(ClientError, match="scoped to a valid region") as info:
        client_for(server, account, region_name="eu-west-1").list_artifacts()
    assert _code(info) == "InvalidSignatureException"


def test_wrong_service_scope(server: ServerProcess, account: Account) -> None:
    request = signed_request(server.url, TARGET, b"{}", account, service="s3")
    status, code, message = _refusal(send(request))
    assert (status, code) == (400, "InvalidSignatureException")
    assert "'sagemaker'" in message


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("Basic dXNlcjpwYXNz", "only AWS4-HMAC-SHA256"),
        ("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sagemaker/aws4_request", "requires"),
        ("AWS4-HMAC-SHA256 Credential=AKID, SignedHeaders=host, Signature=00", "5 slash"),
    ],
)
def test_malformed_authorization(
    server: ServerProcess, account: Account, authorization: str, message: str
) -> None:
    request = signed_request(server.url, TARGET, b"{}", account)
    request.headers.replace_header("Authorization", authorization)
    status, code, text = _refusal(send(request))
    assert (status, code) == (400, "IncompleteSignatureException")
    assert message in text


def test_missing_date(server: ServerProcess, account: Account) -> None:
    request = signed_request(server.url, TARGET, b"{}", account)
    del request.headers["X-Amz-Date"]
    assert _refusal(send(request))[:2] == (400, "IncompleteSignatureException")


def test_other_accounts_are_invisible(
    server: ServerProcess, sm: Any, new_account: Callable[[], Account]
) -> None:
    mine = sm.create_context(ContextName="shared-name", ContextType="T", Source={"SourceUri": "s"})
    other = client_for(server, new_account())
    with pytest.raises(other.exceptions.ResourceNotFound):
        other.describe_context(ContextName="shared-name")
    with pytest.raises(other.exceptions.ResourceNotFound):
        other.describe_context(ContextName=mine["ContextArn"])
    # The same name is free in the other account, under another ARN.
    theirs = other.create_context(
        ContextName="shared-name", ContextType="T", Source={"SourceUri": "s"}
    )
    assert theirs["ContextArn"] != mine["ContextArn"]
    with pytest.raises(other.exceptions.ResourceNotFound):
        other.query_lineage(StartArns=[mine["ContextArn"]])
    with pytest.raises(other.exceptions.ResourceNotFound):
        other.add_association(SourceArn=theirs["ContextArn"], DestinationArn=mine["ContextArn"])


def test_secrets_never_reach_the_log(tmp_path: Path) -> None:
    secret = "very-secret-value/+abc"
    with ServerProcess(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        credentials={"AKIDLOGTEST": secret},
        args=["--log-level", "debug"],
    ) as process:
        good = client_for(process, Account("AKIDLOGTEST", secret, "000000000000"))
        good.list_artifacts()
        with pytest.raises(ClientError) as info:
            client_for(process, Account("AKIDLOGTEST", secret + "x", "0" * 12)).list_artifacts()
        assert secret not in str(info.value)
        log = process.log()
    assert "ListArtifacts" in log
    assert secret not in log


# -- the verifier on its own, with an injected clock -------------------------------------------
def _signed(account: Account, moment: datetime, body: bytes = b"{}") -> SignedRequest:
    request = signed_request("http://127.0.0.1:9", TARGET, body, account)
    sign_at(request, account, moment)
    headers = [("Host", "127.0.0.1:9"), *request.headers.items()]
    return SignedRequest("POST", "/", "", headers, body)


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
ALICE = Account("AKIDALICE", "alice-secret", "111111111111")


def _verifier(**kwargs: Any) -> SigV4Verifier:
    return SigV4Verifier(
        [Credential(ALICE.access_key, ALICE.secret_key, ALICE.account_id, "alice")],
        clock=NOW.timestamp,
        **kwargs,
    )


def test_verifier_accepts_exactly_fifteen_minutes_of_skew() -> None:
    verifier = _verifier()
    for skew in (timedelta(0), timedelta(minutes=15), timedelta(minutes=-15)):
        caller = verifier.verify(_signed(ALICE, NOW + skew))
        assert caller.credential.account_id == "111111111111"
        assert caller.credential.user_context()["UserProfileName"] == "alice"
    with pytest.raises(InvalidSignatureException, match="Signature expired: 20240501T114459Z"):
        verifier.verify(_signed(ALICE, NOW - timedelta(minutes=15, seconds=1)))
    with pytest.raises(InvalidSignatureException, match="not yet current"):
        verifier.verify(_signed(ALICE, NOW + timedelta(minutes=15, seconds=1)))


def test_verifier_refusals() -> None:
    verifier = _verifier(region="us-east-1")
    with pytest.raises(MissingAuthenticationTokenException):
        verifier.verify(SignedRequest("POST", "/", "", [("Host", "h")], b""))
    with pytest.raises(UnrecognizedClientException):
        verifier.verify(_signed(Account("AKIDBOB", "x", "0" * 12), NOW))
    with pytest.raises(InvalidSignatureException, match="does not match"):
        verifier.verify(_signed(Account(ALICE.access_key, "wrong", "0" * 12), NOW))
    signed = _signed(ALICE, NOW, b'{"a": 1}')
    with pytest.raises(InvalidSignatureException):
        verifier.verify(SignedRequest("POST", "/", "", signed.headers, b'{"a": 2}'))
    with pytest.raises(InvalidSignatureException):
        verifier.verify(SignedRequest("POST", "/other", "", signed.headers, signed.body))
    with pytest.raises(InvalidSignatureException):
        verifier.verify(SignedRequest("POST", "/", "x=1", signed.headers, signed.body))
    no_host = [(k, v) for k, v in signed.headers if k.lower() != "host"]
    with pytest.raises(InvalidSignatureException):
        verifier.verify(SignedRequest("POST", "/", "", no_host, signed.body))
    other_host = [*no_host, ("Host", "evil.example")]
    with pytest.raises(InvalidSignatureException):
        verifier.verify(SignedRequest("POST", "/", "", other_host, signed.body))
    bad_sha = [*signed.headers, ("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD")]
    with pytest.raises(InvalidSignatureException, match="x-amz-content-sha256"):
        verifier.verify(SignedRequest("POST", "/", "", bad_sha, signed.body))
    bad_date = [(k, "yesterday" if k == "X-Amz-Date" else v) for k, v in signed.headers]
    with pytest.raises(IncompleteSignatureException, match="X-Amz-Date"):
        verifier.verify(SignedRequest("POST", "/", "", bad_date, signed.body))


def test_verifier_repr_hides_secrets() -> None:
    verifier = _verifier()
    assert "alice-secret" not in repr(verifier)
    assert "alice-secret" not in repr(verifier.credentials)


# -- loading credentials -----------------------------------------------------------------------
def test_credentials_from_json_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps(
            {
                "AKIDA": {"secret_access_key": "a", "account_id": "111111111111", "user": "ann"},
                "AKIDB": "b",
            }
        )
    )
    creds = {c.access_key_id: c for c in load_credentials_file(path)}
    assert creds["AKIDA"] == Credential("AKIDA", "a", "111111111111", "ann")
    assert creds["AKIDB"] == Credential("AKIDB", "b", "000000000000")


def test_credentials_from_ini_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text(
        "[alice]\naws_access_key_id = AKIDA\naws_secret_access_key = a/b+c\n"
        "account_id = 111111111111\n\n[bob]\naws_access_key_id = AKIDB\n"
        "aws_secret_access_key = b\n"
    )
    creds = load_credentials_file(path, default_account="222222222222")
    assert creds == [
        Credential("AKIDA", "a/b+c", "111111111111", "alice"),
        Credential("AKIDB", "b", "222222222222", "bob"),
    ]


def test_credentials_from_env_and_file_together(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text('{"AKIDA": "a"}')
    env = {"MLLINEAGE_CREDENTIALS": "AKIDB:b:333333333333, AKIDC:c"}
    creds = load_credentials(path, env)
    assert sorted(creds) == ["AKIDA", "AKIDB", "AKIDC"]
    assert creds["AKIDB"].account_id == "333333333333"
    assert creds["AKIDC"].account_id == "000000000000"


@pytest.mark.parametrize(
    "text",
    ["AKIDA", "AKIDA:s3cr3t:1:2", "AKIDA:s3cr3t:12345", "bad key:s3cr3t", "AKIDA:"],
)
def test_bad_env_credentials_never_echo_the_secret(text: str) -> None:
    with pytest.raises(ValueError, match="entry|access key") as info:
        parse_credentials_env(text)
    assert "s3cr3t" not in str(info.value)


def test_conflicting_duplicate_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text('{"AKIDA": "one"}')
    with pytest.raises(ValueError, match="configured twice"):
        load_credentials(path, {"MLLINEAGE_CREDENTIALS": "AKIDA:two"})
    assert (
        load_credentials(path, {"MLLINEAGE_CREDENTIALS": "AKIDA:one"})["AKIDA"].secret_access_key
        == "one"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"AKIDA": 5}', "must map to a secret"),
        ("{not json", "not valid JSON"),
        ("[alice]\naws_access_key_id = A\n", "needs aws_access_key_id and aws_secret_access_key"),
        ("no sections here", "neither JSON nor INI"),
    ],
)
def test_bad_credentials_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "keys"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_credentials_file(path)
