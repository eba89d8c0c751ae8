"""Property-based tests: no request body, well-formed or not, makes the server answer 5xx."""

from __future__ import annotations

from typing import Any

import botocore.session
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllineage.server.testing import ServerProcess
from mllineage.store.operations import OPERATIONS, Operation
from mllineage.store.wire import encode_body
from tests.server.support import Account, call

MODEL = botocore.session.get_session().get_service_model("sagemaker")
ARN = "arn:aws:sagemaker:us-east-1:{account}:{kind}/{name}"
# Members of the extension operations (not in botocore's model).
EXTENSION_MEMBERS = {
    "ListEntityDetails": ["EntityKind", "SourceUri", "ArtifactType", "CreatedAfter", "SortBy"]
    + ["SortOrder", "NextToken", "MaxResults"],
    "LineageGraph": ["StartArns", "Direction", "IncludeEdges", "Filters", "MaxDepth"],
    "PutLineage": ["Entities", "Associations"],
}
# For an extension added later without an entry above: members of every kind.
ANY_MEMBERS = ["EntityKind", "StartArns", "Entities", "Associations", "Filters", "NextToken"]
NAMES = st.sampled_from(
    ["SourceUri", "SourceTypes", "SourceIdType", "Value", "Key", "Types", "LineageTypes"]
    + ["Properties", "CreatedAfter", "ModifiedBefore", "SourceType", "SourceId", "CommitId"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.text(alphabet="abc-_.0", min_size=1, max_size=300),
    st.sampled_from(
        ["Both", "Ascendants", "CreationTime", "Name", "Descending", "artifact", "action"]
        + ["context", "AssociatedWith", "SameAs", "Completed", "MD5Hash", "Artifact", "s3://x"]
        + ["arn:aws:sagemaker:us-east-1:000000000000:artifact/0", "eyJwIjpbMV0sImYiOiIifQ"]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(NAMES, st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=20,
)


def _members(operation: Operation) -> list[str]:
    if operation.target_prefix != "SageMaker":
        return EXTENSION_MEMBERS.get(operation.name, ANY_MEMBERS)
    return list(MODEL.operation_model(operation.name).input_shape.members)


def _assert_not_5xx(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code != 200:
        assert set(body) == {"__type", "message"}
        assert "Traceback" not in body["message"]


@pytest.fixture
def seeded(server: ServerProcess, account: Account) -> dict[str, str]:
    """Entities the random requests can hit, so that not every call ends in ResourceNotFound."""
    artifact = call(
        server,
        account,
        "SageMaker.CreateArtifact",
        {"ArtifactType": "T", "Source": {"SourceUri": "s3://x"}, "Tags": [{"Key": "k"}]},
    ).json()["ArtifactArn"]
    context = call(
        server,
        account,
        "SageMaker.CreateContext",
        {"ContextName": "ctx", "ContextType": "T", "Source": {"SourceUri": "s"}},
    ).json()["ContextArn"]
    call(
        server,
        account,
        "SageMaker.AddAssociation",
        {"SourceArn": artifact, "DestinationArn": context},
    )
    return {"artifact": artifact, "context": context}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
def test_random_bodies_never_produce_5xx(
    server: ServerProcess, account: Account, seeded: dict[str, str], operation: Operation
) -> None:
    members = _members(operation)
    values = st.one_of(JSON, st.sampled_from(list(seeded.values())), st.just(["ctx"]))

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.dictionaries(st.sampled_from(members), values, max_size=len(members)))
    def run(body: dict[str, Any]) -> None:
        response = call(server, account, f"{operation.target_prefix}.{operation.name}", body)
        _assert_not_5xx(response)

    run()


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    target=st.one_of(
        st.sampled_from([f"{op.target_prefix}.{op.name}" for op in OPERATIONS]),
        # Printable ASCII, without the outer spaces that HTTP clients refuse to send.
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(
            str.strip
        ),
    ),
    body=st.one_of(st.binary(max_size=200), JSON.map(lambda v: encode_body({"v": v})[5:-1])),
)
def test_random_bytes_never_produce_5xx(
    server: ServerProcess, account: Account, target: str, body: bytes
) -> None:
    _assert_not_5xx(call(server, account, target, body))
