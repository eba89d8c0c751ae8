"""Two server processes on one PostgreSQL database: they serve the same data, and racing
opposite-direction AddAssociation calls through them never close a cycle."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mllineage.server.testing import ServerProcess
from tests.server.support import Account, client_for

POSTGRES_URL = os.environ.get("MLLINEAGE_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="MLLINEAGE_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture(scope="module")
def account() -> Account:
    # A random account: the database may outlive this test session.
    return Account("AKIDPGTEST", secrets.token_hex(16), f"{secrets.randbelow(10**12):012d}")


@pytest.fixture(scope="module")
def servers(account: Account) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    assert POSTGRES_URL
    keys = {account.access_key: (account.secret_key, account.account_id)}
    with (
        ServerProcess(POSTGRES_URL, credentials=keys) as first,
        ServerProcess(POSTGRES_URL, credentials=keys) as second,
    ):
        yield first, second


def test_both_servers_serve_the_same_data(
    servers: tuple[ServerProcess, ServerProcess], account: Account
) -> None:
    one, two = (client_for(s, account) for s in servers)
    arn = one.create_context(
        ContextName=f"shared-{secrets.token_hex(4)}", ContextType="T", Source={"SourceUri": "s"}
    )["ContextArn"]
    assert two.describe_context(ContextName=arn)["ContextArn"] == arn
    two.add_tags(ResourceArn=arn, Tags=[{"Key": "seen-by", "Value": "two"}])
    assert one.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "seen-by", "Value": "two"}]


def test_racing_opposite_associations_never_close_a_cycle(
    servers: tuple[ServerProcess, ServerProcess], account: Account
) -> None:
    one, two = (client_for(s, account) for s in servers)
    pairs = []
    for i in range(40):
        a = one.create_context(
            ContextName=f"a-{i}-{secrets.token_hex(4)}", ContextType="T", Source={"SourceUri": "s"}
        )["ContextArn"]
        b = two.create_context(
            ContextName=f"b-{i}-{secrets.token_hex(4)}", ContextType="T", Source={"SourceUri": "s"}
        )["ContextArn"]
        pairs.append((a, b))

    def add(client: Any, source: str, destination: str) -> str:
        try:
            client.add_association(SourceArn=source, DestinationArn=destination)
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "added"

    with ThreadPoolExecutor(max_workers=8) as pool:
        forward = [pool.submit(add, one, a, b) for a, b in pairs]
        backward = [pool.submit(add, two, b, a) for a, b in pairs]
        outcomes = [(f.result(), b.result()) for f, b in zip(forward, backward, strict=True)]
    for (a, b), outcome in zip(pairs, outcomes, strict=True):
        # Exactly one direction wins; the other would close a cycle.
        assert sorted(outcome) == ["ValidationException", "added"]
        edges = [
            *one.list_associations(SourceArn=a)["AssociationSummaries"],
            *one.list_associations(SourceArn=b)["AssociationSummaries"],
        ]
        assert len(edges) == 1
