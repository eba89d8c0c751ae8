"""``mllineage ls`` and ``mllineage show``: look at what the store holds."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from mllineage import validation
from mllineage.api.association import Association
from mllineage.api.entities import Action, Artifact, Context, _LineageEntity
from mllineage.api.session import Session
from mllineage.cli.common import (
    AsOfOption,
    JsonOption,
    SortOrder,
    StoreOption,
    check_arn,
    check_time,
    console,
    echo,
    kind_text,
    open_session,
    text,
    when,
)
from mllineage.errors import ResourceNotFound
from mllineage.limits import LIST_MAX_RESULTS
from mllineage.viz.display import entity_record

ls_app = typer.Typer(
    help="List artifacts, actions, contexts or associations, newest first.",
    no_args_is_help=True,
)

TypeOption = Annotated[
    str | None, typer.Option("--type", "-t", help="Only this type, e.g. Model.", show_default=False)
]
SourceUriOption = Annotated[
    str | None,
    typer.Option(
        "--source-uri",
        help="Only sources at or below this URI (path boundaries).",
        show_default=False,
    ),
]
AfterOption = Annotated[
    str | None,
    typer.Option(
        "--created-after",
        help="Only created at or after this ISO 8601 date/time.",
        callback=check_time,
        show_default=False,
    ),
]
BeforeOption = Annotated[
    str | None,
    typer.Option(
        "--created-before",
        help="Only created at or before this ISO 8601 date/time.",
        callback=check_time,
        show_default=False,
    ),
]
OrderOption = Annotated[
    SortOrder, typer.Option("--sort-order", case_sensitive=False, help="Sort direction.")
]
LimitOption = Annotated[
    int, typer.Option("--limit", "-n", min=1, help="Show at most this many (see --all).")
]
AllOption = Annotated[bool, typer.Option("--all", help="Show every match (no --limit).")]


SORT_ENTITIES = ("CreationTime", "Name")
SORT_ASSOCIATIONS = ("CreationTime", "SourceArn", "DestinationArn", "SourceType", "DestinationType")


def _sort_check(choices: tuple[str, ...]) -> Any:
    def check(value: str) -> str:
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
        raise typer.BadParameter(f"must be one of {', '.join(choices)}, got {value!r}")

    return check


def _take(items: Iterator[Any], limit: int, every: bool) -> list[Any]:
    return list(items if every else itertools.islice(items, limit))


def _page(limit: int, every: bool) -> int:
    return LIST_MAX_RESULTS if every else min(limit, LIST_MAX_RESULTS)


def _print_entities(items: list[Any], as_json: bool, kind: str) -> None:
    if as_json:
        echo(json.dumps([entity_record(i) for i in items], indent=2, ensure_ascii=False))
        return
    table = Table(box=box.SIMPLE_HEAD, title=f"{len(items)} {kind}s", title_justify="left")
    table.add_column("Name", overflow="fold")
    table.add_column("Type")
    if kind == "artifact":
        table.add_column("Source URI", overflow="fold")
    if kind == "action":
        table.add_column("Status")
    table.add_column("Created")
    table.add_column("ARN", overflow="fold")
    for item in items:
        record = entity_record(item)
        row = [text(record[f"{kind}_name"]), text(record[f"{kind}_type"])]
        if kind == "artifact":
            row.append(text((item.source or {}).get("source_uri")))
        if kind == "action":
            row.append(text(record["status"]))
        row += [when(record["creation_time"]), text(record[f"{kind}_arn"])]
        table.add_row(*row)
    console.print(table)


@ls_app.command("artifacts")
def ls_artifacts(
    type_: TypeOption = None,
    source_uri: SourceUriOption = None,
    created_after: AfterOption = None,
    created_before: BeforeOption = None,
    sort_order: OrderOption = SortOrder.Descending,
    limit: LimitOption = 100,
    every: AllOption = False,
    as_json: JsonOption = False,
    as_of: AsOfOption = None,
    store: StoreOption = None,
) -> None:
    """List artifacts (datasets, models, ...).

    Example: mllineage ls artifacts --type Model --created-after 2024-01-01 --json
    """
    with open_session(store) as session:
        items = Artifact.list_all(
            source_uri=source_uri,
            artifact_type=type_,
            created_after=created_after,
            created_before=created_before,
            sort_order=sort_order.value,
            page_size=_page(limit, every),
            sagemaker_session=session,
            as_of=as_of,
        )
        _print_entities(_take(items, limit, every), as_json, "artifact")


SortByOption = Annotated[
    str,
    typer.Option(
        "--sort-by",
        help="CreationTime or Name.",
        callback=_sort_check(SORT_ENTITIES),
    ),
]


@ls_app.command("actions")
def ls_actions(
    type_: TypeOption = None,
    source_uri: SourceUriOption = None,
    created_after: AfterOption = None,
    created_before: BeforeOption = None,
    sort_by: SortByOption = "CreationTime",
    sort_order: OrderOption = SortOrder.Descending,
    limit: LimitOption = 100,
    every: AllOption = False,
    as_json: JsonOption = False,
    as_of: AsOfOption = None,
    store: StoreOption = None,
) -> None:
    """List actions (training jobs, processing, deployments, ...).

    Example: mllineage ls actions --type Training --sort-by Name --sort-order Ascending
    """
    with open_session(store) as session:
        items = Action.list_all(
            source_uri=source_uri,
            action_type=type_,
            created_after=created_after,
            created_before=created_before,
            sort_by=sort_by,
            sort_order=sort_order.value,
            page_size=_page(limit, every),
            sagemaker_session=session,
            as_of=as_of,
        )
        _print_entities(_take(items, limit, every), as_json, "action")


@ls_app.command("contexts")
def ls_contexts(
    type_: TypeOption = None,
    source_uri: SourceUriOption = None,
    created_after: AfterOption = None,
    created_before: BeforeOption = None,
    sort_by: SortByOption = "CreationTime",
    sort_order: OrderOption = SortOrder.Descending,
    limit: LimitOption = 100,
    every: AllOption = False,
    as_json: JsonOption = False,
    as_of: AsOfOption = None,
    store: StoreOption = None,
) -> None:
    """List contexts (pipelines, experiments, endpoints, ...).

    Example: mllineage ls contexts --type Pipeline -n 5
    """
    with open_session(store) as session:
        items = Context.list_all(
            source_uri=source_uri,
            context_type=type_,
            created_after=created_after,
            created_before=created_before,
            sort_by=sort_by,
            sort_order=sort_order.value,
            page_size=_page(limit, every),
            sagemaker_session=session,
            as_of=as_of,
        )
        _print_entities(_take(items, limit, every), as_json, "context")


@ls_app.command("associations")
def ls_associations(
    source: Annotated[
        str | None,
        typer.Option(
            "--source", help="Only from this ARN.", callback=check_arn, show_default=False
        ),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Option(
            "--destination", help="Only to this ARN.", callback=check_arn, show_default=False
        ),
    ] = None,
    type_: Annotated[
        str | None,
        typer.Option(
            "--type",
            "-t",
            help=f"Only this association type: {', '.join(validation.ASSOCIATION_TYPES)}.",
            show_default=False,
        ),
    ] = None,
    source_type: Annotated[
        str | None,
        typer.Option("--source-type", help="Only from entities of this type.", show_default=False),
    ] = None,
    destination_type: Annotated[
        str | None,
        typer.Option(
            "--destination-type", help="Only to entities of this type.", show_default=False
        ),
    ] = None,
    created_after: AfterOption = None,
    created_before: BeforeOption = None,
    sort_by: Annotated[
        str,
        typer.Option(
            "--sort-by",
            help=", ".join(SORT_ASSOCIATIONS) + ".",
            callback=_sort_check(SORT_ASSOCIATIONS),
        ),
    ] = "CreationTime",
    sort_order: OrderOption = SortOrder.Descending,
    limit: LimitOption = 100,
    every: AllOption = False,
    as_json: JsonOption = False,
    as_of: AsOfOption = None,
    store: StoreOption = None,
) -> None:
    """List associations (the edges of the lineage graph).

    Example: mllineage ls associations --type Produced --json
    """
    if type_ is not None and type_ not in validation.ASSOCIATION_TYPES:
        raise typer.BadParameter(
            f"must be one of {', '.join(validation.ASSOCIATION_TYPES)}, got {type_!r}",
            param_hint="'--type'",
        )
    with open_session(store) as session:
        items = _take(
            Association.list_all(
                source_arn=source,
                destination_arn=destination,
                association_type=type_,
                source_type=source_type,
                destination_type=destination_type,
                created_after=created_after,
                created_before=created_before,
                sort_by=sort_by,
                sort_order=sort_order.value,
                page_size=_page(limit, every),
                sagemaker_session=session,
                as_of=as_of,
            ),
            limit,
            every,
        )
    if as_json:
        echo(json.dumps([entity_record(a) for a in items], indent=2, ensure_ascii=False))
        return
    console.print(_association_table(items, f"{len(items)} associations"))


def _association_table(items: list[Association], title: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
    for column in ("Source", "Association", "Destination", "Created"):
        table.add_column(column, overflow="fold")
    for a in items:
        table.add_row(
            _end(a.source_name, a.source_type, a.source_arn),
            text(a.association_type),
            _end(a.destination_name, a.destination_type, a.destination_arn),
            when(a.creation_time),
        )
    return table


def _end(name: str | None, entity_type: str | None, arn: str) -> str:
    kind = validation.parse_arn(arn, "arn", validation.ENTITY_KINDS).kind
    label = text(name or arn.rsplit("/", 1)[-1])
    return f"{kind_text(kind)} {label} [dim]({text(entity_type)})[/]\n[dim]{text(arn)}[/]"


# -- show -----------------------------------------------------------------------------------
def load_entity(session: Session, ref: str) -> _LineageEntity:
    """An entity by ARN, or an action or context by name.

    Raises:
        typer.BadParameter: not an ARN, and no action or context (or both) has that name.
        ClientError: ``ResourceNotFound`` for an unknown ARN.
    """
    classes: dict[str, type[_LineageEntity]] = {
        "artifact": Artifact,
        "action": Action,
        "context": Context,
    }
    if ref.startswith("arn:"):
        arn = check_arn(ref)
        assert arn is not None
        kind = validation.parse_arn(arn, "ARN").kind
        return classes[kind].load(arn, sagemaker_session=session)  # type: ignore[attr-defined,no-any-return]
    found: list[_LineageEntity] = []
    for cls in (Action, Context):
        try:
            found.append(cls.load(ref, sagemaker_session=session))
        except (ResourceNotFound, ValueError):
            pass
    if not found:
        raise ResourceNotFound(
            f"{ref!r} is neither an ARN nor the name of an action or context "
            "(artifacts are found by ARN: mllineage ls artifacts)"
        )
    if len(found) > 1:
        raise typer.BadParameter(f"an action and a context are both named {ref!r}: give the ARN")
    return found[0]


def show(
    ref: Annotated[str, typer.Argument(metavar="ARN", help="An ARN, or an action/context name.")],
    as_json: JsonOption = False,
    store: StoreOption = None,
) -> None:
    """Show an entity: its fields, properties, tags, timestamps and direct neighbours.

    Example: mllineage show arn:aws:sagemaker:local:000000000000:context/churn-endpoint-prod
    """
    with open_session(store) as session:
        entity = load_entity(session, ref)
        arn = entity._arn
        tags = list(entity.tags)
        inputs = list(Association.list_all(destination_arn=arn, sagemaker_session=session))
        outputs = list(Association.list_all(source_arn=arn, sagemaker_session=session))
    record = entity_record(entity)
    if as_json:
        out = {
            **record,
            "tags": tags,
            "inputs": [entity_record(a) for a in inputs],
            "outputs": [entity_record(a) for a in outputs],
        }
        echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    kind = entity._kind
    console.print(f"{kind_text(kind)} [bold]{text(record[f'{kind}_name'])}[/]")
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column(overflow="fold")
    rows = {
        "ARN": record[f"{kind}_arn"],
        "type": record[f"{kind}_type"],
        "status": record.get("status"),
        "description": record.get("description"),
        "source": json.dumps(entity.source) if entity.source else None,
        "created": f"{when(record['creation_time'])} by {_who(record['created_by'])}",
        "last modified": f"{when(record['last_modified_time'])} by "
        f"{_who(record['last_modified_by'])}",
    }
    for key, value in rows.items():
        if value is not None:
            fields.add_row(key, text(value))
    console.print(fields)
    for title, pairs in (
        ("Properties", dict(sorted(entity.properties.items()))),
        ("Tags", {t["Key"]: t["Value"] for t in tags}),
    ):
        table = Table(box=box.SIMPLE_HEAD, title=f"{title}: {len(pairs)}", title_justify="left")
        table.add_column("Key")
        table.add_column("Value", overflow="fold")
        for key, value in pairs.items():
            table.add_row(text(key), text(value))
        console.print(table if pairs else f"[dim]{title}: none[/]")
    console.print(_neighbours(inputs, "source", f"Inputs (upstream): {len(inputs)}"))
    console.print(_neighbours(outputs, "destination", f"Outputs (downstream): {len(outputs)}"))


def _neighbours(items: list[Association], end: str, title: str) -> Table:
    """The other ends of an entity's associations: ``end`` is ``source`` or ``destination``."""
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
    for column in ("Association", "Kind", "Name", "Type", "ARN"):
        table.add_column(column, overflow="fold")
    for a in items:
        arn = getattr(a, f"{end}_arn")
        kind = validation.parse_arn(arn, "arn", validation.ENTITY_KINDS).kind
        table.add_row(
            text(a.association_type),
            kind_text(kind),
            text(getattr(a, f"{end}_name") or arn.rsplit("/", 1)[-1]),
            text(getattr(a, f"{end}_type")),
            text(arn),
        )
    return table


def _who(user: Any) -> str:
    if isinstance(user, dict):
        return str(user.get("UserProfileName") or user.get("UserProfileArn") or user or "?")
    return "?" if user is None else str(user)
