"""The mllineage server: SageMaker's lineage API over HTTP, in front of any store.

Run it with ``mllineage serve`` (or ``python -m mllineage.server``); embed it with
:func:`create_app`.
"""

from mllineage.server.app import create_app

__all__ = ["create_app"]
