"""Bad input to every server operation (Hypothesis): random members with nested garbage, SQL-
looking text and huge values, signed and sent to a real server. Every answer is a 200 or a 4xx
with AWS's error shape, never a 5xx; and a refused request changes no row of the database
behind the server (a snapshot of every table is compared).

``tests/server/test_fuzz.py`` covers the same operations (and random bytes) for the 5xx part.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllineage.server.testing import ServerProcess
from mllineage.store.operations import OPERATIONS, Operation
from mllineage.store.sql.store import SqlStore
from tests.reliability.stores import table_rows
from tests.reliability.test_bad_input import SQL
from tests.server.support import REGION, Account, call
from tests.server.test_fuzz import JSON, _members

HUGE = "x" * 300_000


class Served:
    """A server on an SQLite file, an account, and entities the requests can hit."""

    def __init__(self, path: Path, server: ServerProcess, account: Account) -> None:
        self.path = path
        self.server = server
        self.account = account
        artifact = self.send(
            "SageMaker.CreateArtifact",
            {"ArtifactType": "T", "Source": {"SourceUri": "s3://x"}, "Tags": [{"Key": "k"}]},
        ).json()["ArtifactArn"]
        context = self.send(
            "SageMaker.CreateContext",
            {"ContextName": "ctx", "ContextType": "T", "Properties": {"p": "v"}},
        ).json()["ContextArn"]
        self.send("SageMaker.AddAssociation", {"SourceArn": artifact, "DestinationArn": context})
        self.values = [artifact, context, "ctx", [artifact], [{"Key": "k", "Value": "v"}]]

    def send(self, target: str, body: Any) -> Any:
        return call(self.server, self.account, target, body)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    path = tmp_path_factory.mktemp("server-bad-input") / "lineage.db"
    SqlStore(f"sqlite:///{path}").close()
    account = Account("AKIDSERVERFUZZ", secrets.token_urlsafe(24), "000000000000")
    keys = {account.access_key: account.secret_key}
    with ServerProcess(f"sqlite:///{path}", credentials=keys, args=["--region", REGION]) as server:
        yield Served(path, server, account)


def fuzz_operation(
    served: Served, operation: Operation, examples: int, figures: dict[str, Any]
) -> None:
    members = _members(operation)
    values = st.one_of(JSON, st.sampled_from(served.values), st.sampled_from(SQL), st.just(HUGE))
    target = f"{operation.target_prefix}.{operation.name}"

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.dictionaries(st.sampled_from(members), values, max_size=len(members)))
    def run(body: dict[str, Any]) -> None:
        before = table_rows(served.path)
        response = served.send(target, body)
        figures["requests"] = figures.get("requests", 0) + 1
        assert response.status_code < 500, response.text
        if response.status_code == 200:
            figures["accepted"] = figures.get("accepted", 0) + 1
            return
        figures["refused"] = figures.get("refused", 0) + 1
        answer = response.json()
        assert set(answer) == {"__type", "message"}
        assert answer["message"].strip()
        assert "Traceback" not in answer["message"]
        assert table_rows(served.path) == before, f"a refused {target} changed rows: {answer}"

    run()
    figures["server_errors_5xx"] = 0


OPERATION_PARAMS = [pytest.param(op, id=op.name) for op in OPERATIONS]


@pytest.mark.parametrize("operation", OPERATION_PARAMS)
def test_refused_requests_change_nothing(
    served: Served, operation: Operation, figures: dict[str, Any]
) -> None:
    fuzz_operation(served, operation, 10, figures)


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATION_PARAMS)
def test_refused_requests_change_nothing_long(
    served: Served, operation: Operation, figures: dict[str, Any]
) -> None:
    fuzz_operation(served, operation, 300, figures)
