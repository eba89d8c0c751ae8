"""``python -m mllineage.server``: the ``mllineage serve`` command on its own."""

import typer

from mllineage.server.command import serve

if __name__ == "__main__":
    typer.run(serve)
