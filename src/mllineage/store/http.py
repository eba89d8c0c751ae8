"""``HttpStore``: the store interface as a client of an mllineage server (or any endpoint that
speaks SageMaker's lineage API).

Every operation goes through one helper, :meth:`HttpStore._call`, driven by the same table of
operations as the server (:mod:`mllineage.store.operations`) and the same wire codec
(:mod:`mllineage.store.wire`), so client and server cannot disagree.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from mllineage import validation
from mllineage.errors import ClientError, InternalFailure, ValidationException
from mllineage.store.base import Response, Store
from mllineage.store.operations import OPERATIONS, Operation
from mllineage.store.wire import (
    CONTENT_TYPE,
    datetime_to_epoch,
    decode_json,
    decode_response,
    encode_body,
    error_from_wire,
    map_request_timestamps,
)

DEFAULT_REGION = "us-east-1"
#: Seconds to wait for an answer: a lineage query may take the server its full 60 s.
DEFAULT_TIMEOUT = 90.0
_CONNECT_TIMEOUT = 10.0
_BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
_CREDENTIAL_ENV = (
    ("MLLINEAGE_ACCESS_KEY_ID", "MLLINEAGE_SECRET_ACCESS_KEY"),
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
)
# What a reply without a readable JSON error body most likely means.
_STATUS_CODES = {413: "RequestEntityTooLargeException", 415: "UnsupportedMediaTypeException"}


def _env_credentials() -> tuple[str, str] | None:
    for key_var, secret_var in _CREDENTIAL_ENV:
        key, secret = os.environ.get(key_var), os.environ.get(secret_var)
        if key and secret:
            return key, secret
    return None


def _check_keys(value: Any, path: str) -> None:
    """Refuse keys that JSON would silently turn into strings, as the SQL store refuses them."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(
                    f"{path or 'request'} key must be a string, got {type(key).__name__}"
                )
            _check_keys(item, f"{path}.{key}" if path else key)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_keys(item, path)


class HttpStore(Store):
    """A lineage store reached over HTTP(S) at ``url``.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8080``.
        region: the region requests are signed for (default ``us-east-1``); the server puts
            its own region in ARNs.
        account_id: the account you expect to act in. The server decides the account from
            the access key, so this is informational.
        access_key, secret_key: SigV4 credentials. Default: ``MLLINEAGE_ACCESS_KEY_ID`` and
            ``MLLINEAGE_SECRET_ACCESS_KEY``, else ``AWS_ACCESS_KEY_ID`` and
            ``AWS_SECRET_ACCESS_KEY``; with none, requests go unsigned (for ``--no-auth``).
        timeout: seconds to wait for each answer.

    Raises (from every operation): the :class:`mllineage.ClientError` subclass the server
    answered with; ``botocore.exceptions.EndpointConnectionError`` or ``ReadTimeoutError``
    when the server cannot be reached or does not answer in time, as boto3 would.

    Example:
        >>> store = HttpStore("http://127.0.0.1:8080", access_key="AKID", secret_key="...")
        >>> store.describe_artifact(ArtifactArn=arn)["Source"]  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        region: str | None = None,
        account_id: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"url must be http(s)://host[:port], got {url!r}")
        if parsed.userinfo:
            raise ValueError(
                "put credentials in MLLINEAGE_ACCESS_KEY_ID/MLLINEAGE_SECRET_ACCESS_KEY, "
                "not in the URL"
            )
        if (access_key is None) != (secret_key is None):
            raise ValueError("give both access_key and secret_key, or neither")
        self.url = url
        self.region = region or DEFAULT_REGION
        self.account_id = account_id
        self._endpoint = str(parsed.copy_with(path=parsed.path or "/"))
        self._host = parsed.netloc.decode("ascii")
        pair = (access_key, secret_key) if access_key and secret_key else _env_credentials()
        self._signer = (
            SigV4Auth(Credentials(pair[0], pair[1]), "sagemaker", self.region) if pair else None
        )
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=_CONNECT_TIMEOUT),
            # Connection failures are retried: nothing was sent, so even writes are safe.
            transport=httpx.HTTPTransport(retries=2),
            follow_redirects=False,
        )
        # A store dropped without close() still releases its connections (and does not leave
        # ResourceWarnings behind).
        self._finalizer = weakref.finalize(self, self._client.close)

    def __repr__(self) -> str:
        signed = "signed" if self._signer is not None else "unsigned"
        return f"HttpStore({self.url!r}, region={self.region!r}, {signed})"

    def close(self) -> None:
        self._finalizer()

    def batch(self) -> AbstractContextManager[None]:
        """Not atomic over HTTP: the server commits each call inside the block on its own.

        The block runs as it would without ``batch()`` so that code written for the embedded
        store (bulk ingests, the demo) also runs through a server; a failure part-way leaves
        the calls before it in place.
        """
        return self._no_batch()

    @contextmanager
    def _no_batch(self) -> Iterator[None]:
        yield

    # -- the one helper ----------------------------------------------------------------------
    def _call(self, operation_name: str, request: dict[str, Any]) -> Response:
        """Send one operation and return its response (timestamps as aware UTC datetimes)."""
        operation = _BY_NAME[operation_name]
        body = self._encode(operation_name, request)
        headers = {
            "Host": self._host,
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": f"{operation.target_prefix}.{operation.name}",
        }
        if self._signer is not None:
            signed = AWSRequest(method="POST", url=self._endpoint, data=body, headers=headers)
            self._signer.add_auth(signed)
            headers = dict(signed.headers.items())
        try:
            reply = self._client.post(self._endpoint, content=body, headers=headers)
        except httpx.TimeoutException as error:
            if isinstance(error, httpx.ConnectTimeout):
                raise EndpointConnectionError(endpoint_url=self.url, error=error) from error
            raise ReadTimeoutError(endpoint_url=self.url, error=error) from error
        except httpx.TransportError as error:
            raise EndpointConnectionError(endpoint_url=self.url, error=error) from error
        if reply.status_code == 200:
            try:
                result: Response = decode_response(decode_json(reply.content))
            except ValueError as error:
                raise InternalFailure(
                    f"the server at {self.url} sent a response that is not JSON: {error}",
                    operation_name,
                ) from None
            return result
        raise self._error(operation_name, reply)

    def _encode(self, operation_name: str, request: dict[str, Any]) -> bytes:
        # As in SqlStore, a member given as None is a member not given.
        present = {k: v for k, v in request.items() if v is not None}

        def to_epoch(value: Any, arg: str) -> Any:
            # Strings and datetimes are read here, so naive ones mean the caller's local time.
            if isinstance(value, (datetime, date, str)):
                return datetime_to_epoch(validation.to_datetime(value, arg))
            return value

        try:
            _check_keys(present, "")
            return encode_body(map_request_timestamps(present, to_epoch))
        except (TypeError, ValueError) as error:
            raise ValidationException(str(error), operation_name) from None

    def _error(self, operation_name: str, reply: httpx.Response) -> ClientError:
        try:
            body = decode_json(reply.content)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("__type"), str):
            # AWS may qualify the code ("com.amazon.coral#Code") or append a URI after ':'.
            code = body["__type"].split(":", 1)[0].rsplit("#", 1)[-1]
            message = body.get("message", body.get("Message", ""))
            return error_from_wire(code, str(message), operation_name)
        text = reply.text[:200].strip()
        if reply.status_code >= 500:
            return InternalFailure(
                f"the server at {self.url} failed with HTTP {reply.status_code}: {text}",
                operation_name,
            )
        code = _STATUS_CODES.get(reply.status_code, f"Http{reply.status_code}")
        return error_from_wire(
            code, f"HTTP {reply.status_code} from {self.url}: {text}", operation_name
        )

    # -- artifacts ---------------------------------------------------------------------------
    def create_artifact(self, **request: Any) -> Response:
        return self._call("CreateArtifact", request)

    def describe_artifact(self, **request: Any) -> Response:
        return self._call("DescribeArtifact", request)

    def list_artifacts(self, **request: Any) -> Response:
        return self._call("ListArtifacts", request)

    def update_artifact(self, **request: Any) -> Response:
        return self._call("UpdateArtifact", request)

    def delete_artifact(self, **request: Any) -> Response:
        return self._call("DeleteArtifact", request)

    # -- actions -----------------------------------------------------------------------------
    def create_action(self, **request: Any) -> Response:
        return self._call("CreateAction", request)

    def describe_action(self, **request: Any) -> Response:
        return self._call("DescribeAction", request)

    def list_actions(self, **request: Any) -> Response:
        return self._call("ListActions", request)

    def update_action(self, **request: Any) -> Response:
        return self._call("UpdateAction", request)

    def delete_action(self, **request: Any) -> Response:
        return self._call("DeleteAction", request)

    # -- contexts ----------------------------------------------------------------------------
    def create_context(self, **request: Any) -> Response:
        return self._call("CreateContext", request)

    def describe_context(self, **request: Any) -> Response:
        return self._call("DescribeContext", request)

    def list_contexts(self, **request: Any) -> Response:
        return self._call("ListContexts", request)

    def update_context(self, **request: Any) -> Response:
        return self._call("UpdateContext", request)

    def delete_context(self, **request: Any) -> Response:
        return self._call("DeleteContext", request)

    # -- associations ------------------------------------------------------------------------
    def add_association(self, **request: Any) -> Response:
        return self._call("AddAssociation", request)

    def delete_association(self, **request: Any) -> Response:
        return self._call("DeleteAssociation", request)

    def list_associations(self, **request: Any) -> Response:
        return self._call("ListAssociations", request)

    # -- lineage -----------------------------------------------------------------------------
    def query_lineage(self, **request: Any) -> Response:
        return self._call("QueryLineage", request)

    def lineage_graph(self, **request: Any) -> Response:
        return self._call("LineageGraph", request)

    # -- tags --------------------------------------------------------------------------------
    def add_tags(self, **request: Any) -> Response:
        return self._call("AddTags", request)

    def list_tags(self, **request: Any) -> Response:
        return self._call("ListTags", request)

    def delete_tags(self, **request: Any) -> Response:
        return self._call("DeleteTags", request)

    # -- extensions --------------------------------------------------------------------------
    def list_entity_details(self, **request: Any) -> Response:
        return self._call("ListEntityDetails", request)

    def put_lineage(self, **request: Any) -> Response:
        return self._call("PutLineage", request)

    def describe_entity(self, **request: Any) -> Response:
        return self._call("DescribeEntity", request)

    def list_associations_as_of(self, **request: Any) -> Response:
        return self._call("ListAssociationsAsOf", request)

    def list_changes(self, **request: Any) -> Response:
        return self._call("ListChanges", request)

    def prune_history(self, **request: Any) -> Response:
        return self._call("PruneHistory", request)

    def count_entities(self, **request: Any) -> Response:
        return self._call("CountEntities", request)

    def put_openlineage_event(self, **request: Any) -> Response:
        return self._call("PutOpenLineageEvent", request)

    def list_openlineage_events(self, **request: Any) -> Response:
        return self._call("ListOpenLineageEvents", request)
