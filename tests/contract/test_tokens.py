"""Page tokens are not signed: a forged one is refused with ValidationException, never a 5xx."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from mllineage.errors import ValidationException
from mllineage.store.base import Store
from mllineage.store.common import encode_token, fingerprint
from tests.helpers import refused, unique

FORGED = [
    pytest.param({"x": 1}, id="dict"),
    pytest.param([{"a": 1}, 2], id="nested"),
    pytest.param([1.5, 2], id="float"),
    pytest.param(["later", "x"], id="string-id"),
    pytest.param([1], id="short"),
    pytest.param(True, id="bool"),
    pytest.param("start", id="string"),
]


def _forged(position: Any, request: dict[str, Any]) -> str:
    """A token in the store's own format, for the right request, with a wrong position."""
    return encode_token(position, fingerprint(request))


@pytest.mark.parametrize("position", FORGED)
def test_forged_tokens_are_refused(store: Store, position: Any) -> None:
    arn = store.create_artifact(ArtifactType="Dataset", Source={"SourceUri": f"s3://{unique()}"})[
        "ArtifactArn"
    ]
    with refused(ValidationException, "NextToken"):
        store.list_tags(ResourceArn=arn, NextToken=encode_token(position, arn))
    with refused(ValidationException, "NextToken"):
        store.list_artifacts(NextToken=_forged(position, {"kind": "artifact"}))
    with refused(ValidationException, "NextToken"):
        store.list_associations(NextToken=_forged(position, {}))
    with refused(ValidationException, "NextToken"):
        store.query_lineage(
            StartArns=[arn],
            NextToken=_forged(position, {"StartArns": str([arn])}),
        )


def _fingerprint_of(token: str) -> str:
    """The request fingerprint inside a token the store issued."""
    padded = token + "=" * (-len(token) % 4)
    return str(json.loads(base64.urlsafe_b64decode(padded))["f"])


@pytest.mark.parametrize("position", FORGED)
def test_forged_history_tokens_are_refused(store: Store, position: Any) -> None:
    name = unique()
    arn = store.create_action(ActionName=name, ActionType="Training")["ActionArn"]
    for status in ("InProgress", "Completed"):
        store.update_action(ActionName=name, Status=status)
    token = store.list_changes(Arn=arn, MaxResults=1)["NextToken"]
    with refused(ValidationException, "NextToken"):
        store.list_changes(
            Arn=arn, MaxResults=1, NextToken=encode_token(position, _fingerprint_of(token))
        )
