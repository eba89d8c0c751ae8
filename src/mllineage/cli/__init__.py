"""The ``mllineage`` command line: the Typer app in ``app.py``, one module per command group."""

from mllineage.cli.app import app, main

__all__ = ["app", "main"]
