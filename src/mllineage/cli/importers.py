"""``mllineage import``: a backup file (``import FILE``, as before) or another system's lineage
(``import mlflow``, ``import mlmd``, ``import sagemaker``).

Each importer shows a progress bar on a terminal (nothing of it in a pipe), prints a summary
on stderr at the end (added, updated, unchanged, skipped and why), takes ``--dry-run``, and
stops with one line naming what is wrong when the source cannot be read or the store refuses
something (nothing of the refused batch is written).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from mllineage import validation
from mllineage.capture.importers.common import Progress, Summary
from mllineage.cli.common import StoreOption, check_time, note, open_session
from mllineage.cli.transfer import import_, progress_bar


class _FileByDefault(TyperGroup):
    """``mllineage import FILE`` keeps working: anything that is not a subcommand's name is
    the ``file`` subcommand's argument or option."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["file", *args]
        return super().parse_args(ctx, args)


import_app = typer.Typer(
    cls=_FileByDefault,
    help="Import a backup file (mllineage import FILE) or lineage from MLflow, ML Metadata or "
    "SageMaker.",
    no_args_is_help=True,
)
import_app.command(name="file")(import_)

DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Read both sides and say what would change; write nothing."),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Only what was created (MLflow: runs started) at or after this ISO 8601 time.",
        callback=check_time,
        show_default=False,
    ),
]


@contextmanager
def _reporting(what: str) -> Iterator[Progress]:
    """A progress callback drawing a bar on a terminal."""
    with progress_bar(what, None) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _report(summary: Summary, source: str) -> None:
    note(f"{'dry run: ' if summary.dry_run else ''}imported from {source}")
    for line in summary.lines():
        note(line)


def _since(value: str | None) -> datetime | None:
    return None if value is None else validation.to_datetime(value, "--since")


@import_app.command(name="mlflow")
def mlflow_command(
    tracking_uri: Annotated[
        str,
        typer.Option(
            "--tracking-uri",
            envvar="MLFLOW_TRACKING_URI",
            help="The MLflow tracking server, http(s)://host:port (default $MLFLOW_TRACKING_URI).",
        ),
    ],
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", help="An experiment name or ID (repeatable; default: all)."),
    ] = None,
    since: SinceOption = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep importing what is new until interrupted.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=1.0, help="Seconds between --follow passes.")
    ] = 30.0,
    dry_run: DryRunOption = False,
    store: StoreOption = None,
) -> None:
    """Import MLflow experiments, runs, datasets, logged models and registered model versions.

    Example: mllineage import mlflow --tracking-uri http://127.0.0.1:5000 --experiment churn
    """
    from mllineage.capture.importers.mlflow import MlflowImport

    with open_session(store) as session, _reporting("MLflow runs") as progress:
        job = MlflowImport(session.store, tracking_uri, dry_run=dry_run, progress=progress)
        try:
            if follow:
                note(f"following {tracking_uri} every {interval:g} s (Ctrl-C stops)")
                job.follow(experiment, _since(since), interval, on_pass=_each_pass(tracking_uri))
                return
            summary = job.run(experiment, _since(since))
        finally:
            job.close()
    _report(summary, tracking_uri)


def _each_pass(source: str) -> Callable[[Summary], None]:
    def report(summary: Summary) -> None:
        if summary.changed:
            _report(summary, source)

    return report


@import_app.command(name="mlmd")
def mlmd_command(
    uri: Annotated[
        str,
        typer.Argument(
            help="The ML Metadata store: its SQLite file, or a JSON file of MLMD connection "
            "config (mysql or postgresql)."
        ),
    ],
    python: Annotated[
        str | None,
        typer.Option(
            "--python",
            envvar="MLLINEAGE_MLMD_PYTHON",
            help="A Python interpreter with ml-metadata installed (default "
            "$MLLINEAGE_MLMD_PYTHON, else this one).",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRunOption = False,
    store: StoreOption = None,
) -> None:
    """Import an ML Metadata store: types, artifacts, executions, events and contexts.

    Example: mllineage import mlmd metadata.sqlite --python /opt/mlmd/bin/python
    """
    from mllineage.capture.importers.mlmd import MlmdImport

    with open_session(store) as session, _reporting("MLMD nodes") as progress:
        job = MlmdImport(session.store, uri, python=python, dry_run=dry_run, progress=progress)
        summary = job.run()
    _report(summary, uri)


@import_app.command(name="sagemaker")
def sagemaker_command(
    region: Annotated[
        str | None,
        typer.Option("--region", help="The account's region (default: boto3's configuration)."),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", help="Another endpoint speaking SageMaker's API."),
    ] = None,
    since: SinceOption = None,
    dry_run: DryRunOption = False,
    store: StoreOption = None,
) -> None:
    """Copy a SageMaker account's lineage, keeping ARNs, times and creators.

    Example: mllineage import sagemaker --region eu-west-1
    """
    from mllineage.capture.importers.sagemaker import SageMakerImport, sagemaker_client

    client = sagemaker_client(region, endpoint_url)
    source = endpoint_url or f"SageMaker ({client.meta.region_name})"
    with _reporting("SageMaker entities") as progress:
        job = SageMakerImport(
            client,
            lambda region, account: _target(store, region, account),
            dry_run=dry_run,
            progress=progress,
        )
        summary = job.run(_since(since))
    _report(summary, source)


def _target(store: str | None, region: str, account: str) -> Any:
    from mllineage.api.session import Session
    from mllineage.cli.common import store_url

    return Session(store_url(store), region=region, account_id=account)
