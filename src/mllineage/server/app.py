"""The ASGI application: SageMaker's JSON 1.1 protocol in front of any lineage store.

``POST /`` carries the API: ``X-Amz-Target: SageMaker.<Operation>`` (or ``Mllineage.<Operation>``
for mllineage's extensions, see :mod:`mllineage.store.operations`) and a JSON body of the
operation's request members. ``GET /`` says what the server is (a browser is sent on to the
web UI), ``GET /health`` checks the store, and ``/ui/...`` is the web UI (see
:mod:`mllineage.server.ui`).

Every refusal of the API is a JSON error ``{"__type": code, "message": text}`` with a 4xx
status (the web UI's are ``{"error": {"code", "message"}}``); only a bug is a 500, and then the
traceback goes to the server's log, never to the client.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mllineage.errors import ClientError, InternalFailure, ValidationException
from mllineage.server import mlflow_webhook
from mllineage.server.api_keys import ApiKeys
from mllineage.server.auth import Caller, Credential, SignedRequest, SigV4Verifier
from mllineage.server.openlineage import OpenLineageEndpoint
from mllineage.server.ui import STATIC_DIR, Ui
from mllineage.server.ui import error_response as ui_error_response
from mllineage.server.ui_session import SESSION_MAX_AGE_SECONDS, SessionSigner
from mllineage.store.base import Store
from mllineage.store.operations import BY_TARGET, OPERATIONS, Operation
from mllineage.store.wire import (
    ACCEPTED_CONTENT_TYPES,
    CONTENT_TYPE,
    RequestEntityTooLargeException,
    SerializationException,
    UnknownOperationException,
    UnsupportedMediaTypeException,
    decode_json,
    encode_body,
    epoch_to_datetime,
    error_body,
    map_request_timestamps,
    plain_numbers,
)
from mllineage.version import __version__

logger = logging.getLogger("mllineage.server")

#: The largest request body accepted. The largest valid request (30 properties of 256
#: characters, 50 tags, a 2 KiB URI, a 3 KiB description) is far below it.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
#: The largest ``Mllineage.PutLineage`` body (``Session.bulk()``: one request, all or nothing):
#: ~100 bytes per item, so about 300,000 items.
DEFAULT_MAX_BULK_BODY_BYTES = 32 * 1024 * 1024
BULK_TARGET = "Mllineage.PutLineage"


def _too_large(limit: int, bulk: bool) -> str:
    if bulk:
        return (
            f"the PutLineage request body is larger than the server's limit of {limit} bytes;"
            " write the bulk() block in parts, or start the server with a larger"
            " --max-bulk-body-bytes"
        )
    return f"the request body is larger than the server's limit of {limit} bytes"


class BindableStore(Protocol):
    """A store that can serve several accounts from one database (``SqlStore`` can)."""

    def bind(
        self,
        *,
        region: str | None = None,
        account_id: str | None = None,
        user: dict[str, Any] | None = None,
    ) -> Store: ...


class _Api:
    """The ``POST /`` handler and what it needs: the store, the verifier, the limits."""

    def __init__(
        self,
        store: Store,
        auth: SigV4Verifier | None,
        max_body_bytes: int,
        max_bulk_body_bytes: int,
    ) -> None:
        self.store = store
        self.auth = auth
        self.max_body_bytes = max_body_bytes
        self.max_bulk_body_bytes = max_bulk_body_bytes
        self._bound: dict[str, Store] = {}

    def store_for(self, caller: Caller | None) -> Store:
        """The store as the caller sees it: their account, their name on what they write."""
        return self.store_for_key(caller.credential if caller is not None else None)

    def store_for_key(self, credential: Credential | None) -> Store:
        """The store an access key's signed requests see (``None``: the server's own)."""
        if credential is None:
            return self.store
        key = credential.access_key_id
        bound = self._bound.get(key)
        if bound is None:
            bind: Callable[..., Store] = getattr(self.store, "bind")  # noqa: B009
            bound = bind(account_id=credential.account_id, user=credential.user_context())
            self._bound[key] = bound
        return bound

    async def read_body(self, request: Request, target: str = "") -> bytes:
        bulk = target == BULK_TARGET
        limit = self.max_bulk_body_bytes if bulk else self.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise RequestEntityTooLargeException(_too_large(limit, bulk))
        chunks: list[bytes] = []
        size = 0
        # Count while reading, for chunked bodies and for clients that misstate their length.
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestEntityTooLargeException(_too_large(limit, bulk))
            chunks.append(chunk)
        return b"".join(chunks)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        target = request.headers.get("x-amz-target", "")
        account = "-"
        outcome = "ok"
        try:
            body = await self.read_body(request, target)
            caller = self.authenticate(request, body)
            if caller is not None:
                account = caller.credential.account_id
            operation = resolve_target(target)
            check_content_type(request.headers.get("content-type"))
            params = decode_request(body)
            store = self.store_for(caller)
            result = await run_in_threadpool(call_store, store, operation, params)
            response = Response(encode_body(result), 200, media_type=CONTENT_TYPE)
        except ClientError as error:
            outcome = error.code
            response = error_response(error)
        except ClientDisconnect:
            outcome = "disconnected"
            response = Response(status_code=400)  # nobody is left to read it
        except Exception:
            outcome = "InternalFailure"
            logger.exception("request %s (%s) failed", request_id, target or "no target")
            response = error_response(
                InternalFailure(f"the server failed to process the request (id {request_id})")
            )
        response.headers["x-amzn-RequestId"] = request_id
        logger.info(
            "%s %s account=%s status=%d %s %.1fms",
            request_id,
            target[:80] or "-",
            account,
            response.status_code,
            outcome,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def authenticate(self, request: Request, body: bytes) -> Caller | None:
        if self.auth is None:
            return None
        return self.auth.verify(
            SignedRequest(
                method=request.method,
                raw_path=request.scope.get("raw_path", b"/").decode("latin-1"),
                query_string=request.scope.get("query_string", b"").decode("latin-1"),
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                ],
                body=body,
            )
        )


def resolve_target(target: str) -> Operation:
    """The operation an ``X-Amz-Target`` header names."""
    if not target:
        raise UnknownOperationException(
            "the X-Amz-Target header is missing; send 'SageMaker.<Operation>'"
        )
    operation = BY_TARGET.get(target)
    if operation is None:
        raise UnknownOperationException(
            f"unknown operation {target[:120]!r}; this server carries out "
            + ", ".join(f"{op.target_prefix}.{op.name}" for op in OPERATIONS)
        )
    return operation


def check_content_type(value: str | None) -> None:
    media_type = (value or "").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES:
        raise UnsupportedMediaTypeException(
            f"Content-Type must be {CONTENT_TYPE}, got {(value or 'none')[:100]!r}"
        )


def _wire_timestamp(value: Any, arg: str) -> Any:
    # Numbers are epoch seconds (what every AWS SDK sends); anything else is left for the store
    # to accept (an ISO 8601 string) or refuse with its own message.
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            return epoch_to_datetime(value, arg)
        except ValueError as error:
            raise ValidationException(str(error)) from None
    return value


def decode_request(body: bytes) -> dict[str, Any]:
    """The store call's keyword arguments from a request body (an empty body means ``{}``)."""
    if not body.strip():
        return {}
    try:
        params = decode_json(body)
    except ValueError as error:
        raise SerializationException(f"the request body is not valid JSON: {error}") from None
    if not isinstance(params, dict):
        raise SerializationException(
            f"the request body must be a JSON object, got a JSON {_json_kind(params)}"
        )
    result: dict[str, Any] = plain_numbers(map_request_timestamps(params, _wire_timestamp))
    return result


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None or isinstance(value, bool):
        return "literal"
    return "number"


def call_store(store: Store, operation: Operation, params: dict[str, Any]) -> Any:
    """Run one operation (in a worker thread: stores are synchronous)."""
    try:
        return getattr(store, operation.method)(**params)
    except ClientError as error:
        if error.operation_name != operation.name:
            raise type(error)(error.message, operation.name) from error
        raise


def error_response(error: ClientError) -> Response:
    return Response(
        encode_body(error_body(error)),
        error.http_status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-ErrorType": error.code},
    )


# -- GET routes --------------------------------------------------------------------------------
def _info(api: _Api) -> dict[str, Any]:
    return {
        "name": "mllineage",
        "version": __version__,
        "description": "ML lineage tracking server speaking the SageMaker ML Lineage API "
        "(JSON 1.1 protocol, POST / with X-Amz-Target)",
        "authentication": "sigv4" if api.auth is not None else "none",
        "operations": [f"{op.target_prefix}.{op.name}" for op in OPERATIONS],
    }


def create_app(
    store: Store,
    *,
    auth: SigV4Verifier | None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_bulk_body_bytes: int = DEFAULT_MAX_BULK_BODY_BYTES,
    session_key: str | bytes | None = None,
    session_max_age: int = SESSION_MAX_AGE_SECONDS,
    ui_static_dir: Path = STATIC_DIR,
    api_keys: ApiKeys | None = None,
    mlflow_webhook_secret: str | None = None,
    mlflow_tracking_uri: str | None = None,
) -> Starlette:
    """The mllineage server as an ASGI application.

    Args:
        store: where the lineage lives. With ``auth``, it must have ``bind()`` (``SqlStore``
            does), so that each access key is served in its own account.
        auth: the SigV4 verifier; ``None`` turns authentication off and serves every request
            as the store's own account and user (for local use only).
        max_body_bytes: larger request bodies are refused with HTTP 413.
        max_bulk_body_bytes: the same for ``Mllineage.PutLineage`` (a ``Session.bulk()``
            block is one request).
        session_key: signs the web UI's session cookies; every process serving the same
            users must share it (default: a new random key, so sessions end with the process).
        session_max_age: seconds a web UI sign-in lasts.
        ui_static_dir: the built web UI (``index.html`` and ``assets/``).
        api_keys: the bearer keys of ``POST /api/v1/lineage`` (OpenLineage events); with
            ``auth`` and no keys, that route refuses every event.
        mlflow_webhook_secret: serve MLflow's registry webhooks signed with this secret at
            ``POST /mlflow/webhook`` (:mod:`mllineage.server.mlflow_webhook`).
        mlflow_tracking_uri: the MLflow server those webhooks come from (read for the runs).

    Example:
        >>> from mllineage.store.sql.store import SqlStore
        >>> app = create_app(SqlStore("sqlite://"), auth=None)
        >>> # uvicorn.run(app, host="127.0.0.1", port=8080)
    """
    if auth is not None and not callable(getattr(store, "bind", None)):
        raise TypeError(
            f"{type(store).__name__} cannot serve several accounts (it has no bind()); "
            "use an SQL store behind an authenticating server"
        )
    api = _Api(store, auth, max_body_bytes, max_bulk_body_bytes)
    signer = None
    if auth is not None:
        signer = SessionSigner(
            session_key if session_key is not None else secrets.token_bytes(32),
            auth.credentials,
            max_age=session_max_age,
        )
    ui = Ui(api.store_for_key, signer, read_body=api.read_body, static_dir=ui_static_dir)
    openlineage = OpenLineageEndpoint(store, (api_keys or ApiKeys()) if auth is not None else None)

    async def index(request: Request) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/ui/", 307)
        return JSONResponse(_info(api))

    async def health(request: Request) -> Response:
        try:
            await run_in_threadpool(store.list_artifacts, MaxResults=1)
        except Exception:
            logger.exception("health check: the store did not answer")
            return JSONResponse({"status": "unavailable", "version": __version__}, 503)
        return JSONResponse({"status": "ok", "version": __version__})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path == "/ui" or request.url.path.startswith("/ui/"):
            code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "BadRequest")
            return ui_error_response(exc.status_code, code, str(exc.detail))
        code = {404: "NotFoundException", 405: "MethodNotAllowedException"}.get(
            exc.status_code, "BadRequestException"
        )
        message = (
            exc.detail
            if exc.status_code != 405
            else (f"{request.method} is not allowed on {request.url.path}; the API is POST /")
        )
        return JSONResponse(
            {"__type": code, "message": message},
            exc.status_code,
            headers={**(exc.headers or {}), "x-amzn-ErrorType": code},
        )

    return Starlette(
        routes=[
            Route("/", api.handle, methods=["POST"]),
            Route("/", index, methods=["GET", "HEAD"]),
            Route("/health", health, methods=["GET", "HEAD"]),
            *openlineage.routes(),
            *ui.routes(),
            *(
                mlflow_webhook.routes(
                    store, mlflow_webhook_secret, mlflow_tracking_uri, api.read_body
                )
                if mlflow_webhook_secret
                else []
            ),
        ],
        exception_handlers={HTTPException: http_error},
    )
