"""mllineage: the SageMaker ML Lineage Tracking API on SQLite, PostgreSQL or a server."""

from mllineage.errors import ClientError

__all__ = ["ClientError"]
__version__ = "0.1.0"
