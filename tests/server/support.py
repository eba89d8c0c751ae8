"""Helpers for the server tests: the test server's accounts, boto3 clients, raw requests."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from mllineage.server.testing import ServerProcess
from mllineage.store.http import HttpStore
from mllineage.store.wire import CONTENT_TYPE, encode_body

REGION = "us-east-1"
POOL_SIZE = 2000
# One pooled client: a new connection per request would dominate the run time of the tests.
_CLIENT = httpx.Client(timeout=30)


@dataclass(frozen=True)
class Account:
    """An access key of the test server, and the account it maps to."""

    access_key: str
    secret_key: str
    account_id: str


def pool_account(index: int) -> Account:
    return Account(f"AKIDTEST{index:06d}", f"secret/{index:06d}+key", f"{100_000_000_000 + index}")


def client_for(server: ServerProcess, account: Account, **kwargs: Any) -> Any:
    """A real boto3 SageMaker client pointed at the server."""
    return boto3.client(
        "sagemaker",
        endpoint_url=server.url,
        region_name=kwargs.pop("region_name", REGION),
        aws_access_key_id=account.access_key,
        aws_secret_access_key=account.secret_key,
        config=Config(retries={"max_attempts": 1}),
        **kwargs,
    )


def signed_request(
    url: str,
    target: str | None,
    body: bytes,
    account: Account,
    *,
    region: str = REGION,
    service: str = "sagemaker",
    content_type: str = CONTENT_TYPE,
) -> AWSRequest:
    """A POST signed as botocore signs it (the caller may tamper with it afterwards)."""
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={"Content-Type": content_type, **({"X-Amz-Target": target} if target else {})},
    )
    SigV4Auth(Credentials(account.access_key, account.secret_key), service, region).add_auth(
        request
    )
    return request


def send(request: AWSRequest, body: bytes | None = None) -> httpx.Response:
    """Send a prepared request as it is (optionally with another body)."""
    return _CLIENT.post(
        request.url,
        content=request.body if body is None else body,
        headers=dict(request.headers.items()),
    )


def call(server: ServerProcess, account: Account, target: str, payload: Any) -> httpx.Response:
    """Sign and send one raw JSON request."""
    body = payload if isinstance(payload, bytes) else encode_body(payload)
    return send(signed_request(server.url, target, body, account))


def sign_at(
    request: AWSRequest,
    account: Account,
    moment: datetime,
    *,
    region: str = REGION,
    service: str = "sagemaker",
) -> AWSRequest:
    """Sign ``request`` as if the clock read ``moment``: botocore's SigV4 steps, with our own
    ``X-Amz-Date`` instead of botocore's clock."""
    signer = SigV4Auth(Credentials(account.access_key, account.secret_key), service, region)
    stamp = moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for header in ("Authorization", "X-Amz-Date"):
        if header in request.headers:
            del request.headers[header]
    request.headers["X-Amz-Date"] = stamp
    request.context["timestamp"] = stamp
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signed_headers = signer.signed_headers(signer.headers_to_sign(request))
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return request


class HttpBackend:
    """A server process in front of ``store_url`` whose every access key has its own account,
    so that each :meth:`open` returns an :class:`HttpStore` on an empty store.

    The contract suite uses it to run through HTTP (see ``tests/conftest.py``).
    """

    def __init__(self, store_url: str, *, pool_size: int = 5000) -> None:
        # Random accounts: a PostgreSQL database may outlive one test session.
        base = secrets.randbelow(10**12 - pool_size)
        self.accounts = [
            Account(f"AKIDPOOL{i:06d}", secrets.token_urlsafe(24), f"{base + i:012d}")
            for i in range(pool_size)
        ]
        self._next = itertools.count()
        self.server = ServerProcess(
            store_url,
            credentials={a.access_key: (a.secret_key, a.account_id) for a in self.accounts},
        )

    def start(self) -> HttpBackend:
        self.server.start()
        _BACKENDS[self.server.url] = self
        return self

    def stop(self) -> None:
        _BACKENDS.pop(self.server.url, None)
        self.server.stop()

    def open(self) -> HttpStore:
        """An HTTP store signed by the next unused access key: an empty account."""
        index = next(self._next)
        if index >= len(self.accounts):
            raise RuntimeError("the HTTP backend's pool of accounts is used up; raise pool_size")
        account = self.accounts[index]
        return HttpStore(
            self.server.url, access_key=account.access_key, secret_key=account.secret_key
        )


_BACKENDS: dict[str, HttpBackend] = {}


def other_http_account(store: HttpStore) -> HttpStore:
    """The server behind ``store`` seen by another (empty) account."""
    return _BACKENDS[store.url].open()
