"""``POST /api/v1/lineage``: OpenLineage events in, as OpenLineage clients send them.

The path and the authentication (``Authorization: Bearer <api key>``) are those that
openlineage-python's ``HttpTransport``, Airflow's and dbt's integrations and the Spark listener
use by default; the body is one RunEvent, DatasetEvent or JobEvent, plain or
``Content-Encoding: gzip``. The answer is ``201`` with ``{"eventId", "created"}`` once the event
is kept and mapped (one transaction), else a JSON ``{"error", "message"}`` with a 4xx status
for anything the client sent wrong: 400 an invalid event, 401 no or a wrong key, 413 too large
an event, 415 another content type or encoding.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mllineage import limits
from mllineage.capture.openlineage import ingest
from mllineage.errors import ClientError
from mllineage.server.api_keys import ApiKey, ApiKeys
from mllineage.store.base import Store
from mllineage.store.openlineage import check_event

logger = logging.getLogger("mllineage.server")

PATH = "/api/v1/lineage"
_JSON_TYPES = ("application/json", "")


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class OpenLineageEndpoint:
    """The route's handler.

    Args:
        store: the server's store; with ``api_keys`` it must have ``bind()``.
        api_keys: the accepted bearer keys, or None when authentication is off (every event
            is then kept in the store's own account).
        max_event_bytes: larger events (after gunzip) are refused with 413.
    """

    def __init__(
        self,
        store: Store,
        api_keys: ApiKeys | None,
        max_event_bytes: int = limits.OPENLINEAGE_MAX_EVENT_BYTES,
    ) -> None:
        self.store = store
        self.api_keys = api_keys
        self.max_event_bytes = max_event_bytes
        self._bound: dict[str, Store] = {}

    def routes(self) -> list[Route]:
        return [Route(PATH, self.handle, methods=["POST"])]

    async def handle(self, request: Request) -> Response:
        key = None
        try:
            body = await self._read_body(request)
            key = self._authenticate(request.headers.get("authorization"))
            check_media_type(request.headers.get("content-type"))
            text = self._decode(body, request.headers.get("content-encoding"))
            try:
                info = check_event(text, "the event")
            except ValueError as error:
                raise _Refused(400, "InvalidEvent", str(error)) from None
            done = await run_in_threadpool(ingest, self._store_for(key), info.event)
        except _Refused as refused:
            return _error(refused.status, refused.code, refused.message)
        except ClientError as error:
            return _error(error.http_status, error.code, error.message)
        except ClientDisconnect:
            return Response(status_code=400)
        logger.info(
            "openlineage event %s (%s) account=%s created=%s",
            done.event_id[:16],
            done.kind,
            key.account_id if key else "-",
            done.created,
        )
        return JSONResponse({"eventId": done.event_id, "created": done.created}, 201)

    async def _read_body(self, request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_event_bytes:
            raise _Refused(413, "EventTooLarge", self._too_large())
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_event_bytes:
                raise _Refused(413, "EventTooLarge", self._too_large())
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> str:
        return f"the event is larger than the server's limit of {self.max_event_bytes} bytes"

    def _authenticate(self, header: str | None) -> ApiKey | None:
        """The key of an ``Authorization: Bearer`` header (None when authentication is off)."""
        if self.api_keys is None:
            return None
        scheme, _, presented = (header or "").strip().partition(" ")
        if not header or scheme.lower() != "bearer" or not presented.strip():
            raise _Refused(
                401,
                "MissingAuthenticationToken",
                "send the API key as 'Authorization: Bearer <key>' (OPENLINEAGE_API_KEY)",
            )
        key = self.api_keys.find(presented.strip())
        if key is None:
            raise _Refused(401, "UnrecognizedApiKey", "the API key is not valid")
        return key

    def _decode(self, body: bytes, encoding: str | None) -> bytes:
        encoding = (encoding or "identity").strip().lower()
        if encoding == "identity":
            return body
        if encoding != "gzip":
            raise _Refused(
                415, "UnsupportedContentEncoding", f"Content-Encoding {encoding[:40]!r}: use gzip"
            )
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out = inflater.decompress(body, self.max_event_bytes + 1)
        except zlib.error as error:
            raise _Refused(400, "InvalidGzip", f"the body is not valid gzip: {error}") from None
        if len(out) > self.max_event_bytes:
            raise _Refused(413, "EventTooLarge", self._too_large())
        if not inflater.eof:
            raise _Refused(400, "InvalidGzip", "the gzip body is cut short")
        return out

    def _store_for(self, key: ApiKey | None) -> Store:
        if key is None:
            return self.store
        bound = self._bound.get(key.digest)
        if bound is None:
            bind: Callable[..., Store] = getattr(self.store, "bind")  # noqa: B009
            bound = bind(account_id=key.account_id, user=key.user_context())
            self._bound[key.digest] = bound
        return bound


def check_media_type(value: str | None) -> None:
    media_type = (value or "").split(";", 1)[0].strip().lower()
    if media_type not in _JSON_TYPES:
        raise _Refused(
            415, "UnsupportedMediaType", f"Content-Type must be application/json, got {value!r}"
        )


def _error(status: int, code: str, message: str) -> Response:
    headers: dict[str, Any] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="mllineage"'
    return JSONResponse({"error": code, "message": message}, status, headers=headers)
