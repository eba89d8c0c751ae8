"""``POST /mlflow/webhook``: MLflow's model registry webhooks, for live lineage from MLflow.

MLflow (3.3 and later, with a SQL backend) signs each delivery as Standard Webhooks do:
``X-MLflow-Signature: v1,<base64 HMAC-SHA256 of "{delivery id}.{timestamp}.{body}">`` with
the webhook's secret, ``X-MLflow-Delivery-Id`` and ``X-MLflow-Timestamp`` (Unix seconds). A
delivery whose signature is missing or wrong, or whose timestamp is more than five minutes
away from the server's clock (a replay), is refused with 401 and changes nothing.

A delivery about a model version (created, or an alias or tag set or deleted) imports that
version as ``mllineage import mlflow`` would, with its run, datasets and logged model: with
``--mlflow-tracking-uri`` the receiver reads them from MLflow's REST API; without it, it
records what the delivery carries (the version, its registered model, the run and the
model it came from). The lineage goes to the server's own account (the one ``--no-auth`` and
keys without an account use).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mllineage.capture.importers.common import Batch, ImportRefused, SourceError, Summary, Writer
from mllineage.capture.importers.mlflow import Mapper, MlflowImport, owned
from mllineage.errors import ClientError
from mllineage.store.base import Store

logger = logging.getLogger("mllineage.server")

PATH = "/mlflow/webhook"
SIGNATURE_HEADER = "x-mlflow-signature"
DELIVERY_HEADER = "x-mlflow-delivery-id"
TIMESTAMP_HEADER = "x-mlflow-timestamp"
#: Seconds a delivery's timestamp may be away from the server's clock.
TOLERANCE_SECONDS = 300


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The ``X-MLflow-Signature`` MLflow sends for a delivery."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verified(
    secret: str, headers: Any, body: bytes, now: Callable[[], float] = time.time
) -> str | None:
    """Why a delivery is refused (``None``: it is MLflow's, signed with ``secret``)."""
    given = headers.get(SIGNATURE_HEADER)
    delivery_id = headers.get(DELIVERY_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not given or not delivery_id or not timestamp:
        return "the delivery is not signed (X-MLflow-Signature, -Delivery-Id, -Timestamp)"
    if not timestamp.isdigit() or abs(now() - int(timestamp)) > TOLERANCE_SECONDS:
        return "X-MLflow-Timestamp is not within five minutes of the server's clock"
    expected = signature(secret, delivery_id, timestamp, body)
    if not any(hmac.compare_digest(expected, s.strip()) for s in given.split(" ")):
        return "X-MLflow-Signature does not match the delivery (check the webhook's secret)"
    return None


def _from_payload(store: Store, event: dict[str, Any]) -> Summary:
    """A model version created, as far as the delivery tells (no tracking URI to ask)."""
    summary = Summary()
    data = event.get("data") or {}
    if event.get("entity") != "model_version" or event.get("action") != "created":
        summary.skip("webhook events other than a new model version (no --mlflow-tracking-uri)")
        return summary
    mapper = Mapper("mlflow", summary)
    batch = Batch()
    model = mapper.registered_model({"name": data["name"]})
    model.update = False
    mapper.version(data, [], batch.add(model), batch)
    Writer(store, summary, owned=owned).write(batch)
    return summary


def apply(store: Store, tracking_uri: str | None, event: dict[str, Any]) -> Summary:
    """Make the store hold what one delivery announces."""
    if tracking_uri is None:
        return _from_payload(store, event)
    job = MlflowImport(store, tracking_uri)
    try:
        return job.apply_event(event)
    finally:
        job.close()


def routes(
    store: Store,
    secret: str,
    tracking_uri: str | None,
    read_body: Callable[[Request], Awaitable[bytes]],
) -> list[Route]:
    """The receiver's route, for :func:`mllineage.server.app.create_app`."""

    async def receive(request: Request) -> Response:
        try:
            body = await read_body(request)
        except ClientError as error:  # (too large)
            return JSONResponse({"error": error.code, "message": error.message}, error.http_status)
        refused = verified(secret, request.headers, body)
        if refused is not None:
            return JSONResponse({"error": "Unauthorized", "message": refused}, 401)
        try:
            event = json.loads(body)
            if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
                raise ValueError("expected {entity, action, data}")
            summary = await run_in_threadpool(apply, store, tracking_uri, event)
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": "BadRequest", "message": f"not a webhook: {error}"}, 400)
        except ImportRefused as error:
            return JSONResponse({"error": "Refused", "message": str(error)}, 422)
        except SourceError as error:  # MLflow retries a 503
            logger.warning("MLflow webhook: %s", error)
            return JSONResponse({"error": "SourceUnavailable", "message": str(error)}, 503)
        return JSONResponse({"status": "ok", "summary": summary.as_dict()})

    return [Route(PATH, receive, methods=["POST"])]
