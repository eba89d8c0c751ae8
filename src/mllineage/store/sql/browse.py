"""What browsing needs beyond the AWS list filters: name prefixes, property values, counts.

These serve the ``ListEntityDetails`` extension (``NamePrefix``, ``Properties``) and the
``CountEntities`` extension, which the web UI's search and home page use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, cast, exists, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from mllineage.store.sql.schema import associations, entities

_SURROGATES = range(0xD800, 0xE000)


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (code point order),
    or ``None`` when there is none (a prefix of U+10FFFF characters only)."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if code in _SURROGATES:
            code = _SURROGATES.stop
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


def name_prefix_condition(column: Any, prefix: str) -> ColumnElement[bool]:
    """Names that start with ``prefix`` (case-sensitive), as an index range."""
    upper = prefix_upper_bound(prefix)
    if upper is None:
        return and_(column >= prefix)
    return and_(column >= prefix, column < upper)


def properties_condition(
    is_sqlite: bool, column: Any, properties: dict[str, str]
) -> ColumnElement[bool]:
    """Rows whose JSON ``properties`` hold every key of ``properties`` with that exact value.

    Keys and values travel as bound parameters (never spliced into a JSON path).
    """
    if not is_sqlite:
        return cast(column, JSONB).contains(properties)
    conditions = []
    for key, value in properties.items():
        each = func.json_each(column).table_valued("key", "value")
        conditions.append(
            exists(
                select(literal(1)).select_from(each).where(each.c.key == key, each.c.value == value)
            )
        )
    return and_(*conditions)


def count_entities(conn: Connection, scope: str) -> dict[str, Any]:
    """``CountEntities``: how many entities of each kind and type, and associations, ``scope``
    holds (one grouped read of the type index, one count of the association index)."""
    rows = conn.execute(
        select(entities.c.kind, entities.c.type, func.count())
        .where(entities.c.scope == scope)
        .group_by(entities.c.kind, entities.c.type)
        .order_by(entities.c.kind, entities.c.type)
    ).all()
    total = conn.execute(
        select(func.count()).select_from(associations).where(associations.c.scope == scope)
    ).scalar_one()
    return {
        "Counts": [{"EntityKind": kind, "Type": type_, "Count": int(n)} for kind, type_, n in rows],
        "AssociationCount": int(total),
    }
