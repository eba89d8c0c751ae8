"""The ``mllineage`` command line."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from mllineage import __version__
from mllineage.errors import ClientError
from mllineage.session import ENV_URL, Session, default_store_url

app = typer.Typer(
    name="mllineage",
    help="Open-source ML lineage tracking with the SageMaker Lineage API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the store's database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

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


@app.callback()
def _main(
    store: StoreOption = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    state.store = store
    state.debug = debug


def _session(store: str | None = None) -> Session:
    return Session(store or state.store or default_store_url())


@app.command()
def demo(store: StoreOption = None) -> None:
    """Record a realistic demo pipeline run in the store and show its lineage.

    Example: mllineage demo --store sqlite:///demo.db
    """
    from mllineage.demo import run_demo

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
    from mllineage.store.sql.store import SqlStore

    url = store or state.store or default_store_url()
    SqlStore(url, upgrade=True).close()
    console.print(f"{url}: schema is up to date")


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
    """Entry point: errors become one readable line and exit code 1 (tracebacks with --debug)."""
    try:
        return app(args=argv, standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001 - the one place that turns errors into messages
        if state.debug or "--debug" in (argv or sys.argv):
            raise
        err_console.print(f"[red]error:[/] {_describe(error)}", highlight=False)
        sys.exit(getattr(error, "exit_code", 1) or 1)


def _describe(error: Exception) -> str:
    import click

    if isinstance(error, click.ClickException):
        return error.format_message()
    if isinstance(error, ClientError):
        return f"{error.response['Error']['Code']}: {error.message}"
    return str(error) or type(error).__name__


if __name__ == "__main__":
    main()
