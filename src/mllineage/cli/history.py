"""``mllineage history``: an entity's recorded changes, and pruning old history."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from mllineage.api.history import Change, entity_history, prune_history
from mllineage.cli.browse import load_entity
from mllineage.cli.common import (
    JsonOption,
    StoreOption,
    check_arn,
    check_time,
    console,
    echo,
    open_session,
    text,
    when,
)


def history(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="ARN",
            help="An ARN (also of a deleted entity), an action/context name, or 'prune'.",
        ),
    ],
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="With 'prune': drop history recorded before this ISO 8601 date or time.",
            show_default=False,
        ),
    ] = None,
    no_associations: Annotated[
        bool,
        typer.Option("--no-associations", help="Leave out associations added and removed."),
    ] = False,
    as_json: JsonOption = False,
    store: StoreOption = None,
) -> None:
    """Show who changed an entity, when and how (newest first); or, as `history prune
    --before DATE`, drop the history older than DATE and keep everything live.

    Example: mllineage history churn-endpoint-prod
    """
    if ref == "prune":
        _prune(before, store)
        return
    if before is not None:
        raise typer.BadParameter("--before goes with 'prune'", param_hint="'--before'")
    with open_session(store) as session:
        arn = check_arn(ref) if ref.startswith("arn:") else load_entity(session, ref)._arn
        assert arn is not None
        changes = entity_history(session, arn, include_associations=not no_associations)
    if as_json:
        echo(json.dumps([_record(c) for c in changes], indent=2, ensure_ascii=False))
        return
    table = Table(box=box.SIMPLE_HEAD, title=f"History of {arn}: {len(changes)} changes")
    table.title_justify = "left"
    table.add_column("When (UTC)", no_wrap=True)
    table.add_column("Operation")
    table.add_column("Who")
    table.add_column("What", overflow="fold")
    for change in changes:
        table.add_row(
            when(change.time),
            text(change.operation),
            text(_who(change.actor)),
            text(change.summary(arn)),
        )
    console.print(table)


def _prune(before: str | None, store: str | None) -> None:
    if before is None:
        raise typer.BadParameter("prune needs --before DATE", param_hint="'--before'")
    check_time(before)
    with open_session(store) as session:
        result = prune_history(before, session)
    console.print(
        f"removed {result['RemovedChanges']:,} changes recorded before {before}; "
        f"kept {result['KeptChanges']:,} that the state at that time needs"
    )


def _record(change: Change) -> dict[str, Any]:
    return {
        "time": change.time.isoformat(),
        "operation": change.operation,
        "arn": change.arn,
        "peer_arn": change.peer_arn,
        "actor": change.actor,
        "detail": change.detail,
    }


def _who(user: Any) -> str:
    if isinstance(user, dict):
        return str(user.get("UserProfileName") or user.get("UserProfileArn") or user)
    return str(user)
