"""``mllineage openlineage``: OpenLineage events without a server, and the raw events kept.

* ``import FILE...``: the events of OpenLineage's file transport (JSON Lines) into any store,
  with a progress bar on a terminal (none in a pipe);
* ``events``: list the raw events kept (``--run-id``, ``--job``), ``event ID`` prints one;
* ``replay``: map every kept event again (after an upgrade that changed the mapping).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from mllineage.capture.openlineage import count_events, import_files, replay
from mllineage.cli.common import JsonOption, StoreOption, console, echo, note, open_session
from mllineage.cli.transfer import progress_bar

openlineage_app = typer.Typer(
    help="Take in OpenLineage events (Airflow, dbt, Spark, ...) and read the raw events kept.",
    no_args_is_help=True,
)


@openlineage_app.command("import")
def import_events(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files of OpenLineage events: JSON Lines (the file transport), or JSON.",
            exists=True,
            dir_okay=False,
        ),
    ],
    store: StoreOption = None,
) -> None:
    """Ingest OpenLineage events from files into the store (idempotent: run it again freely).

    Example: mllineage openlineage import events.jsonl
    """
    with open_session(store) as session:
        total = count_events(files)
        with progress_bar("importing OpenLineage events", total) as progress:
            task = progress.add_task("importing OpenLineage events", total=total)
            summary = import_files(session.store, files, lambda n: progress.advance(task, n))
    note(f"imported {summary.events} events ({summary.new} new) of {summary.runs} runs")


@openlineage_app.command("events")
def list_events(
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Only the events of this run.")
    ] = None,
    job: Annotated[
        str | None,
        typer.Option(
            "--job", help="Only the events of this job: NAMESPACE/NAME.", show_default=False
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the raw OpenLineage events kept, newest first.

    Example: mllineage openlineage events --job airflow/etl_dag.extract
    """
    request: dict[str, Any] = {"SortOrder": "Descending", "MaxResults": min(limit, 100)}
    if run_id is not None:
        request["RunId"] = run_id
    if job is not None:
        namespace, slash, name = job.partition("/")
        if not slash or not namespace or not name:
            raise typer.BadParameter("give the job as NAMESPACE/NAME", param_hint="'--job'")
        request |= {"JobNamespace": namespace, "JobName": name}
    with open_session(store) as session:
        pages = session.store.paginate("list_openlineage_events", "Events", **request)
        events = [event for _, event in zip(range(limit), pages, strict=False)]
    if as_json:
        echo(json.dumps([{**e, "Event": json.loads(e["Event"])} for e in events], indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, title=f"{len(events)} OpenLineage events")
    for column in ("event time", "type", "job", "run"):
        table.add_column(column)
    table.add_column("event id", overflow="fold")  # (whole, to copy into `openlineage event`)
    for event in events:
        job_name = f"{event.get('JobNamespace', '')}/{event.get('JobName', '')}".strip("/")
        table.add_row(
            event["EventTime"],
            event.get("EventType") or event["EventKind"],
            escape(job_name),
            event.get("RunId", ""),
            event["EventId"],
        )
    console.print(table)


@openlineage_app.command("event")
def show_event(
    event_id: Annotated[str, typer.Argument(help="The event's ID (SHA-256, as listed).")],
    store: StoreOption = None,
) -> None:
    """Print one raw OpenLineage event, as JSON.

    Example: mllineage openlineage event 3b1f0c...
    """
    with open_session(store) as session:
        found = session.store.list_openlineage_events(EventId=event_id, MaxResults=1)["Events"]
    if not found:
        raise typer.BadParameter(f"no OpenLineage event {event_id!r} is kept", param_hint="ID")
    echo(json.dumps(json.loads(found[0]["Event"]), indent=2, ensure_ascii=False))


@openlineage_app.command("replay")
def replay_events(store: StoreOption = None) -> None:
    """Map every kept OpenLineage event again (what exists already stays as it is).

    Example: mllineage openlineage replay
    """
    with open_session(store) as session:
        with progress_bar("replaying OpenLineage events", None) as progress:
            task = progress.add_task("replaying OpenLineage events", total=None)
            summary = replay(session.store, lambda n: progress.advance(task, n))
    note(f"replayed {summary.events} events of {summary.runs} runs")
