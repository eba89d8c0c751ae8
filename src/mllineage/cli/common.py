"""What the CLI's commands share: the global options, consoles, sessions and parameter checks.

Every check here raises ``typer.BadParameter`` so a mistake in the command line is one line
and exit code 2 (Click's convention for usage errors); what the store refuses is exit code 1.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from mllineage import validation
from mllineage.api.session import ENV_URL, Session, default_store_url
from mllineage.limits import QUERY_MAX_START_ARNS

console = Console()
err_console = Console(stderr=True)


class _State:
    store: str | None = None
    debug: bool = False


state = _State()

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help=f"Store URL (default: ${ENV_URL} or the embedded SQLite file).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def store_url(store: str | None = None) -> str:
    return store or state.store or default_store_url()


def open_session(store: str | None = None) -> Session:
    return Session(store_url(store))


def echo(text: str) -> None:
    """Write text as it is (no markup, no wrapping): JSON, DOT, Mermaid, GraphML."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def note(message: str) -> None:
    """A remark for the person at the terminal, on stderr so pipes carry only the data."""
    err_console.print(escape(message), highlight=False, soft_wrap=True)


# -- parameter checks -----------------------------------------------------------------------
def check_time(value: str | None) -> str | None:
    """``--created-after``, ``--created-before``, ``--as-of``: an ISO 8601 date or time."""
    if value is None:
        return None
    try:
        validation.to_datetime(value, "time")
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date or time, e.g. 2024-01-31 or 2024-01-31T12:00:00Z"
        ) from None
    return value


AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="As the store stood at this ISO 8601 date/time (from the change history).",
        callback=check_time,
        show_default=False,
    ),
]


def check_arn(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validation.parse_arn(value, "ARN").arn
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def check_arns(values: list[str]) -> list[str]:
    if len(values) > QUERY_MAX_START_ARNS:
        raise typer.BadParameter(
            f"at most {QUERY_MAX_START_ARNS} start ARNs are allowed, got {len(values)}"
        )
    return [a for a in (check_arn(v) for v in values) if a is not None]


def parse_properties(values: list[str] | None) -> list[str]:
    """``--property KEY=VALUE`` (repeatable): checked here, turned into a dict by
    :func:`properties_of`."""
    for value in values or []:
        key, sep, _ = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {value!r}")
    return values or []


def properties_of(values: list[str]) -> dict[str, str]:
    return dict(v.split("=", 1) for v in values)


class SortOrder(str, Enum):
    Ascending = "Ascending"
    Descending = "Descending"


# -- display helpers ------------------------------------------------------------------------
KIND_COLORS = {"artifact": "blue", "action": "dark_orange", "context": "green"}


def kind_text(kind: str) -> str:
    color = KIND_COLORS.get(kind.lower(), "white")
    return f"[bold {color}]{kind.capitalize()}[/]"


def when(value: Any) -> str:
    """A timestamp for a table: UTC, to the second."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    return str(value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"))


def text(value: Any) -> str:
    """A value for a table cell, with Rich markup characters escaped."""
    return escape("" if value is None else str(value))
