"""SageMaker's JSON 1.1 wire format, shared by the HTTP store (client) and the server.

Both sides encode and decode bodies here, so they cannot disagree on how a timestamp travels
or how an error is spelled:

* bodies are JSON objects; timestamps travel as epoch seconds (a float with microseconds);
* an error is ``{"__type": code, "message": text}`` with the class's HTTP status;
* errors of the protocol itself (signatures, unknown targets, unreadable bodies) have classes
  here, next to the store's errors in :mod:`mllineage.errors`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from mllineage import validation
from mllineage.errors import ClientError, error_for_code

CONTENT_TYPE = "application/x-amz-json-1.1"
#: Media types the server accepts for a request body. ``application/json`` is for curl users.
ACCEPTED_CONTENT_TYPES = frozenset(
    {"application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json"}
)
#: Request members that hold timestamps: at the top level (the list operations) and inside a
#: lineage query's ``Filters``. A test checks these against botocore's model.
REQUEST_TIMESTAMP_MEMBERS = frozenset({"CreatedAfter", "CreatedBefore"})
FILTER_TIMESTAMP_MEMBERS = frozenset(
    {"CreatedAfter", "CreatedBefore", "ModifiedAfter", "ModifiedBefore"}
)
#: Timestamp members of the extension requests (the history and time-travel operations).
EXTENSION_REQUEST_TIMESTAMP_MEMBERS = frozenset({"AsOf", "Before"})
#: JSON nested deeper than this is refused before anything walks it (no request needs 10).
MAX_JSON_DEPTH = 64
#: Response members that hold timestamps (every ``Timestamp`` member of the lineage outputs,
#: plus the ones the extension operations return); a test checks this against botocore's model.
RESPONSE_TIMESTAMP_KEYS = frozenset({"CreationTime", "LastModifiedTime"})
#: Timestamps of the extension responses (``list_changes``).
EXTENSION_RESPONSE_TIMESTAMP_KEYS = frozenset({"ChangeTime"})
_RESPONSE_TIMESTAMPS = RESPONSE_TIMESTAMP_KEYS | EXTENSION_RESPONSE_TIMESTAMP_KEYS

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = Decimal("0.000001")


# -- errors of the protocol --------------------------------------------------------------------
class SerializationException(ClientError):
    """The body is not a JSON object (malformed JSON, a list, a bare string...)."""

    code = "SerializationException"
    http_status = 400


class UnknownOperationException(ClientError):
    """``X-Amz-Target`` is missing or names no operation this server carries out."""

    code = "UnknownOperationException"
    http_status = 400


class UnsupportedMediaTypeException(ClientError):
    """The body's ``Content-Type`` is not ``application/x-amz-json-1.1``."""

    code = "UnsupportedMediaTypeException"
    http_status = 415


class RequestEntityTooLargeException(ClientError):
    """The body is larger than the server accepts."""

    code = "RequestEntityTooLargeException"
    http_status = 413


class MissingAuthenticationTokenException(ClientError):
    """The request carries no SigV4 ``Authorization`` header."""

    code = "MissingAuthenticationTokenException"
    http_status = 400


class IncompleteSignatureException(ClientError):
    """The ``Authorization`` header or the ``X-Amz-Date`` header cannot be read."""

    code = "IncompleteSignatureException"
    http_status = 400


class UnrecognizedClientException(ClientError):
    """The access key ID is not one the server knows."""

    code = "UnrecognizedClientException"
    http_status = 400


class InvalidSignatureException(ClientError):
    """The signature does not match, its scope is wrong, or it has expired."""

    code = "InvalidSignatureException"
    http_status = 400


PROTOCOL_ERROR_CLASSES: dict[str, type[ClientError]] = {
    cls.code: cls
    for cls in (
        SerializationException,
        UnknownOperationException,
        UnsupportedMediaTypeException,
        RequestEntityTooLargeException,
        MissingAuthenticationTokenException,
        IncompleteSignatureException,
        UnrecognizedClientException,
        InvalidSignatureException,
    )
}


def error_from_wire(code: str, message: str, operation_name: str) -> ClientError:
    """The :class:`ClientError` for an error response: the same class the server raised."""
    cls = PROTOCOL_ERROR_CLASSES.get(code)
    if cls is not None:
        return cls(message, operation_name)
    return error_for_code(code, message, operation_name)


def error_body(error: ClientError) -> dict[str, str]:
    """The JSON body of an error response, as AWS's JSON protocol spells it."""
    return {"__type": error.code, "message": error.message}


# -- timestamps --------------------------------------------------------------------------------
def datetime_to_epoch(value: datetime | date) -> float | int:
    """Epoch seconds for a datetime (naive means local time) or a date (local midnight).

    Whole seconds stay integers; otherwise the float carries the microseconds exactly (for any
    instant before the year 2255, where doubles run out of digits).
    """
    moment = validation.to_datetime(value, "timestamp")
    delta = moment - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if micros % 1_000_000 == 0:
        return micros // 1_000_000
    return micros / 1_000_000


def epoch_to_datetime(value: Any, arg: str) -> datetime:
    """An aware UTC datetime, to the microsecond, from wire epoch seconds.

    Raises:
        ValueError: ``value`` is not a number, or not an instant between the years 1 and 9999.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"{arg} must be a timestamp in epoch seconds, got {type(value).__name__}")
    try:
        micros = int(Decimal(value).quantize(_MICROSECOND) * 1_000_000)
        return _EPOCH + timedelta(microseconds=micros)
    except (ArithmeticError, InvalidOperation, OverflowError, ValueError):
        raise ValueError(f"{arg} is not a valid timestamp: {value}") from None


# -- bodies ------------------------------------------------------------------------------------
def _encode_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return datetime_to_epoch(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"a {type(value).__name__} cannot be sent as JSON")


def encode_body(body: Mapping[str, Any]) -> bytes:
    """A request or response body as JSON bytes, with datetimes as epoch seconds.

    Raises:
        TypeError: a value has no JSON form.
        ValueError: a float is NaN or infinite (JSON has no spelling for them).
    """
    return json.dumps(
        body, default=_encode_default, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(data: bytes) -> Any:
    """Parse JSON strictly: no NaN or Infinity, decimals kept exact (as ``Decimal``), and at
    most :data:`MAX_JSON_DEPTH` levels of nesting.

    Raises:
        ValueError: the bytes are not UTF-8 JSON, or nest too deeply.
    """
    try:
        value = json.loads(
            data.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant
        )
    except RecursionError:
        raise ValueError(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    # Iterative, so that no later recursive walk can run out of stack.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        if children and depth >= MAX_JSON_DEPTH:
            raise ValueError(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)
    return value


def map_request_timestamps(
    request: Mapping[str, Any], convert: Callable[[Any, str], Any]
) -> dict[str, Any]:
    """A copy of ``request`` with ``convert(value, member path)`` applied to every timestamp
    member that is present and not ``None``."""
    out = dict(request)
    for key in (REQUEST_TIMESTAMP_MEMBERS | EXTENSION_REQUEST_TIMESTAMP_MEMBERS) & out.keys():
        if out[key] is not None:
            out[key] = convert(out[key], key)
    filters = out.get("Filters")
    if isinstance(filters, Mapping):
        converted = dict(filters)
        for key in FILTER_TIMESTAMP_MEMBERS & converted.keys():
            if converted[key] is not None:
                converted[key] = convert(converted[key], f"Filters.{key}")
        out["Filters"] = converted
    return out


def plain_numbers(value: Any) -> Any:
    """``value`` with every ``Decimal`` left by :func:`decode_json` turned into a float."""
    if isinstance(value, dict):
        return {key: plain_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_numbers(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


def decode_response(value: Any) -> Any:
    """A response as the store returns it: timestamps become aware UTC datetimes."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _RESPONSE_TIMESTAMPS and not isinstance(item, (str, bool, type(None))):
                out[key] = epoch_to_datetime(item, key)
            else:
                out[key] = decode_response(item)
        return out
    if isinstance(value, list):
        return [decode_response(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    return value
