"""Python values as property strings, and JSON documents held in an artifact's properties.

The spec's ``create`` takes only strings; capture converts here, once: ``True`` -> ``"true"``,
``None`` -> ``"null"``, numbers with ``repr`` (``0.2`` -> ``"0.2"``), dates in ISO 8601,
paths as strings, enums by value, numpy scalars by their Python value, anything else as
compact JSON. A value the property rules refuse (empty, over 256 characters, control
characters) is not cut: it goes into a JSON document held by an artifact (see
:func:`json_properties`).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime
from enum import Enum
from typing import Any

from mllineage import limits, validation

#: Property keys of capture's own values start with this; users' keys may not.
RESERVED_PREFIX = "mllineage."
_CHUNK_KEY = "json.{:02d}"


def to_property_value(value: Any) -> str:
    """The string a property holds for ``value``."""
    if isinstance(value, Enum):
        value = value.value
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        try:  # a numpy scalar (a 0-d array too)
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)  # type: ignore[no-any-return]
    return to_json(value)


def fits(key: str, value: str) -> bool:
    """Whether ``key: value`` keeps to the property rules (1-256 characters, no control
    characters): the one check is the store's own."""
    try:
        validation.check_properties({key: value}, "properties")
    except ValueError:
        return False
    return True


def check_user_key(key: Any, arg: str) -> str:
    """A user's property key: a string not in capture's reserved namespace."""
    if not isinstance(key, str):
        raise ValueError(f"{arg} keys must be strings, got {type(key).__name__}")
    if key.startswith(RESERVED_PREFIX):
        raise ValueError(f"{arg} key {key!r}: keys starting with {RESERVED_PREFIX!r} are reserved")
    return key


def to_json(document: Any) -> str:
    """The canonical compact JSON of a document (keys sorted; other objects as ``str``)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)


def document_digest(document: Any) -> str:
    """The sha256 (hex) of :func:`to_json`."""
    return hashlib.sha256(to_json(document).encode()).hexdigest()


def json_properties(document: Any) -> list[dict[str, str]]:
    """``document`` as compact JSON cut into property values (``json.00``, ``json.01``...),
    at most 30 to a dict: one dict per artifact needed to hold it."""
    text = to_json(document)
    size = limits.PROPERTY_VALUE_MAX_LENGTH
    pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
    per = limits.MAX_PROPERTIES
    return [
        {_CHUNK_KEY.format(n): piece for n, piece in enumerate(pieces[start : start + per])}
        for start in range(0, len(pieces), per)
    ]


def read_json_properties(*properties: dict[str, str]) -> Any:
    """The document :func:`json_properties` cut into the properties of one or more artifacts
    (given in order)."""
    text = "".join(
        props[key] for props in properties for key in sorted(props) if key.startswith("json.")
    )
    return json.loads(text)
