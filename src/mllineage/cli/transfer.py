"""``mllineage export`` and ``mllineage import``: move a whole store through a JSON Lines file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from mllineage.api.transfer import export_store, import_records, import_store, read_export
from mllineage.cli.common import StoreOption, err_console, note, open_session


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    """A progress bar on stderr when it is a terminal; nothing at all in a pipe."""
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    else:
        columns.append(TextColumn("{task.completed} records"))
    with Progress(
        *columns,
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        yield progress


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}s" for kind, n in counts.items())


def export(
    file: Annotated[
        Path, typer.Argument(help="The JSON Lines file to write ('-' for stdout).", dir_okay=False)
    ],
    store: StoreOption = None,
) -> None:
    """Export every entity, property, tag, timestamp and association to a JSON Lines file.

    Example: mllineage export backup.jsonl
    """
    with open_session(store) as session, progress_bar("exporting", None) as progress:
        task = progress.add_task("exporting", total=None)
        summary = export_store(session, str(file), lambda n: progress.update(task, completed=n))
    note(f"exported {_counts(summary.counts)} to {file}")


def import_(
    file: Annotated[
        Path,
        typer.Argument(help="A file written by mllineage export ('-' for stdin).", dir_okay=False),
    ],
    arn_map: Annotated[
        Path | None,
        typer.Option(
            "--arn-map",
            help="Write a JSON object mapping the file's ARNs to the new ones here.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Import an export file, all or nothing (a record the store refuses imports nothing).

    Example: mllineage --store postgresql://user@host/lineage import backup.jsonl
    """
    body = None  # (read once here, for the progress bar's total, unless it is stdin)
    if str(file) != "-":
        if not file.is_file():
            raise typer.BadParameter(f"no such file: {file}", param_hint="'FILE'")
        with file.open(encoding="utf-8") as handle:
            body = read_export(handle)
    total = None if body is None else len(body)
    with open_session(store) as session, progress_bar("importing", total) as progress:
        if session.url.startswith(("http://", "https://")):
            note(
                "warning: through a server, an import into another region or account goes "
                "record by record, so a record the server refuses leaves the ones before it "
                "imported (an import that keeps its ARNs is one request, all or nothing, within "
                "the server's --max-bulk-body-bytes)"
            )
        task = progress.add_task("importing", total=total)

        def update(done: int) -> None:
            progress.update(task, completed=done)

        summary = (
            import_store(session, "-", update)
            if body is None
            else import_records(session, body, update)
        )
    if arn_map is not None:
        arn_map.write_text(json.dumps(summary.arn_map, indent=2) + "\n", encoding="utf-8")
    changed = sum(1 for old, new in summary.arn_map.items() if old != new)
    note(f"imported {_counts(summary.counts)} from {file}")
    if changed:
        note(
            f"{changed} entities have new ARNs (artifact ARNs are assigned by the store)"
            + (f": see {arn_map}" if arn_map else "; --arn-map FILE lists them")
        )
