"""The ``mllineage`` command line.

Commands: ``ls``, ``show``, ``query``, ``graph``, ``export``, ``import``, ``history``,
``openlineage``, ``demo``, ``db upgrade``, ``serve`` and ``version``. Every command reads the
store from ``--store``, else ``MLLINEAGE_URL``, else the embedded SQLite file. Errors are one
line on stderr and a non-zero exit code: 2 for a mistake in the command line, 1 for anything
else; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from mllineage.cli.browse import ls_app, show
from mllineage.cli.common import (
    StoreOption,
    console,
    err_console,
    open_session,
    state,
    store_url,
)
from mllineage.cli.graph import graph, query
from mllineage.cli.history import history
from mllineage.cli.importers import import_app
from mllineage.cli.openlineage import openlineage_app
from mllineage.cli.transfer import export
from mllineage.errors import ClientError
from mllineage.version import __version__

app = typer.Typer(
    name="mllineage",
    help="Open-source ML lineage tracking with the SageMaker Lineage API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the store's database schema.", no_args_is_help=True)
app.add_typer(ls_app, name="ls")
app.command()(show)
app.command()(query)
app.command()(graph)
app.command()(export)
app.add_typer(import_app, name="import")
app.command()(history)
app.add_typer(db_app, name="db")
app.add_typer(openlineage_app, name="openlineage")


@app.callback()
def _main(
    store: StoreOption = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    state.store = store
    state.debug = debug


def _session(store: str | None = None) -> Any:
    return open_session(store)


@app.command()
def demo(store: StoreOption = None) -> None:
    """Record a realistic demo pipeline run in the store and show its lineage.

    Example: mllineage demo --store sqlite:///demo.db
    """
    from mllineage.cli.demo import run_demo

    with _session(store) as session:
        run_demo(session, console)


@app.command()
def version() -> None:
    """Print the mllineage version."""
    console.print(__version__)


@db_app.command("upgrade")
def db_upgrade(store: StoreOption = None) -> None:
    """Migrate the store's schema to this version of mllineage (back it up first).

    Example: mllineage db upgrade --store postgresql://user@host/lineage
    """
    from mllineage.store.sql.engine import HEAD_REVISION, Database

    url = store_url(store)
    if url.startswith(("http://", "https://")):
        raise typer.BadParameter(
            "a server upgrades its own database: run this where the server's store is",
            param_hint="'--store'",
        )
    db = Database(url)
    try:
        before = db.ensure_schema(upgrade=True)
    finally:
        db.dispose()
    if before is None:
        console.print(f"{url}: created the schema (revision {HEAD_REVISION})")
    elif before == HEAD_REVISION:
        console.print(f"{url}: schema is up to date (revision {HEAD_REVISION})")
    else:
        console.print(f"{url}: upgraded the schema from revision {before} to {HEAD_REVISION}")


def _register_serve() -> None:
    try:
        from mllineage.server.command import serve
    except ImportError:  # the [server] extra is not installed

        @app.command(name="serve")
        def serve_missing() -> None:
            """Run the SageMaker-compatible lineage server (needs the server extra)."""
            raise typer.BadParameter("the server needs its extra: pip install 'mllineage[server]'")

        return
    app.command(name="serve")(serve)


_register_serve()


def main(argv: list[str] | None = None) -> Any:
    """Entry point: errors become one readable line on stderr and a non-zero exit code (2 for
    a mistake in the command line, 1 otherwise); ``--debug`` shows the traceback instead."""
    try:
        return app(args=argv, prog_name="mllineage", standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001 - the one place that turns errors into messages
        if type(error).__name__ == "NoArgsIsHelpError":
            sys.exit(2)  # the help has been printed: Click's convention for a bare group
        if state.debug or "--debug" in (argv if argv is not None else sys.argv):
            raise
        err_console.print(
            f"[red]error:[/] {escape(_describe(error))}", highlight=False, soft_wrap=True
        )
        sys.exit(getattr(error, "exit_code", 1) or 1)


def _describe(error: Exception) -> str:
    """One line that says what went wrong, without a traceback."""
    from mllineage.store.sql.engine import SchemaOutOfDate

    if hasattr(error, "format_message") and hasattr(error, "exit_code"):  # Click's errors
        return " ".join(str(error.format_message()).split())
    if isinstance(error, SchemaOutOfDate):
        return error.message
    if isinstance(error, ClientError):
        return f"{error.response['Error']['Code']}: {error.message}"
    return " ".join(str(error).split()) or type(error).__name__
