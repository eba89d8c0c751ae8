"""Helpers every store implementation shares: request checks, clocks and page tokens."""

from __future__ import annotations

import base64
import functools
import gc
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

from mllineage import validation
from mllineage.errors import ClientError, ValidationException

F = TypeVar("F", bound=Callable[..., Any])


def operation(name: str) -> Callable[[F], F]:
    """Mark a store method as the operation ``name``: argument mistakes found while it runs
    (``ValueError``) become ``ValidationException``, and every ``ClientError`` it raises names
    the operation, as botocore's do."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ClientError as error:
                if error.operation_name == name:
                    raise
                raise type(error)(error.message, name) from error.__cause__
            except ValueError as error:
                raise ValidationException(str(error), name) from None

        return wrapper  # type: ignore[return-value]

    return decorate


def check_members(
    request: Mapping[str, Any],
    allowed: Iterable[str],
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """Refuse unknown and missing request members; drop members that are ``None``.

    Bulk calls check a member list per item: give ``allowed`` as a frozenset there."""
    if not isinstance(allowed, frozenset):
        allowed = frozenset(allowed)
    if not allowed.issuperset(request):
        raise ValueError(
            f"unknown parameter(s) {', '.join(sorted(map(str, set(request) - allowed)))}; valid "
            f"parameters: {', '.join(sorted(allowed))}"
        )
    present = {k: v for k, v in request.items() if v is not None}
    missing = [k for k in required if k not in present]
    if missing:
        raise ValueError(f"missing required parameter(s) {', '.join(missing)}")
    return present


_pause_lock = threading.Lock()
_pauses = 0  # calls in progress that have paused the cycle collector
_paused_by_us = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a call builds tens of thousands of small
    containers (a bulk write, a large lineage answer). None of them is garbage before the call
    ends, yet every 700 of them start a collection, and every few of those walk every object
    the process holds: a third of a large PutLineage's Python time, measured, and 25-50 ms
    pauses in one repeated depth-20 query in four. Reference counting still frees what it
    frees. Calls of several threads share the pause: the collector resumes when the last one
    ends, and only if it was on when the first began (one turned off by the application
    stays off)."""
    global _pauses, _paused_by_us
    with _pause_lock:
        if _pauses == 0:
            _paused_by_us = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _paused_by_us:
                gc.enable()


_clock_lock = threading.Lock()
_last_us = 0


def now_us() -> int:
    """Microseconds since the epoch, strictly increasing within this process."""
    global _last_us
    with _clock_lock:
        _last_us = max(time.time_ns() // 1000, _last_us + 1)
        return _last_us


def us_to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, tz=timezone.utc).replace(
        microsecond=us % 1_000_000
    )


def datetime_to_us(value: Any, arg: str) -> int:
    dt = validation.to_datetime(value, arg)
    delta = dt - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _c_encoder() -> Callable[[Any, int], Any] | None:
    """``JSONEncoder.encode`` builds its C encoder (and a closure) on every call, a third of
    what encoding a small dict costs, and every single-item write encodes several: build it
    once. It skips the check for circular references: what is stored is validated JSON-like
    data, and a cycle still fails (RecursionError). The accelerator is private: where it is
    missing, takes other arguments or writes anything else than the encoder, None (the
    encoder is used)."""
    make = getattr(json.encoder, "c_make_encoder", None)  # (typeshed omits it)
    sample = {"k": ["v\u00e9\n", 1, 2.5, None, True, {}]}
    try:
        encoder = make(  # type: ignore[misc]
            None,
            _ENCODER.default,
            json.encoder.encode_basestring,
            None,
            ":",
            ",",
            False,
            False,
            True,
        )
        same = "".join(encoder(sample, 0)) == _ENCODER.encode(sample)
    except TypeError:
        return None
    return encoder if same else None


_C_ENCODER = _c_encoder()


def dumps(value: Any) -> str:
    """Compact JSON (the form stored in the database)."""
    if not value and isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    if _C_ENCODER is None or isinstance(value, str):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def fingerprint(value: Any) -> str:
    return hashlib.sha256(dumps(value).encode()).hexdigest()[:16]


def encode_token(position: Any, request_fingerprint: str) -> str:
    payload = dumps({"p": position, "f": request_fingerprint}).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_token(token: Any, request_fingerprint: str) -> Any:
    """The position stored in a NextToken made by :func:`encode_token` for the same request."""
    if not isinstance(token, str) or not token:
        raise ValueError("NextToken must be a non-empty string from a previous response")
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position, made_for = payload["p"], payload["f"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("NextToken is not a token this store issued") from None
    if made_for != request_fingerprint:
        raise ValueError(
            "NextToken was issued for a different request; repeat the same filters and sort"
        )
    # Tokens are not signed: hold a decoded one to the shapes this store issues, so that a
    # forged token is refused here rather than reaching SQL.
    if _is_int(position) or (
        isinstance(position, list)
        and position
        and all(_is_int(item) or isinstance(item, str) for item in position)
    ):
        return position
    raise ValueError("NextToken is not a token this store issued")


def decode_offset(token: Any, request_fingerprint: str) -> int:
    """The offset stored in a NextToken made by ``encode_token(offset, ...)``."""
    position = decode_token(token, request_fingerprint)
    if not _is_int(position) or position < 0:
        raise ValueError("NextToken is not a token this store issued")
    return int(position)


def decode_position(token: Any, request_fingerprint: str, types: tuple[type, ...]) -> list[Any]:
    """The position stored in a NextToken: a list with one value of each of ``types``."""
    position = decode_token(token, request_fingerprint)
    if (
        not isinstance(position, list)
        or len(position) != len(types)
        or not all(
            isinstance(v, t) and (t is not int or _is_int(v))
            for v, t in zip(position, types, strict=True)
        )
    ):
        raise ValueError("NextToken is not a token this store issued")
    return position


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
