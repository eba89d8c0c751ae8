"""mllineage: the SageMaker ML Lineage Tracking API on SQLite, PostgreSQL or a server.

Example:
    >>> from mllineage import Artifact, Action, Association, LineageQuery
    >>> data = Artifact.create(artifact_type="Dataset", source={"source_uri": "s3://b/d.csv"})
"""

from mllineage.association import Association
from mllineage.entities import Action, Artifact, Context
from mllineage.errors import ClientError
from mllineage.query import (
    LineageEntityEnum,
    LineageFilter,
    LineageQuery,
    LineageQueryDirectionEnum,
)
from mllineage.session import Session
from mllineage.visualize import LineageTableVisualizer

__all__ = [
    "Action",
    "Artifact",
    "Association",
    "ClientError",
    "Context",
    "LineageEntityEnum",
    "LineageFilter",
    "LineageQuery",
    "LineageQueryDirectionEnum",
    "LineageTableVisualizer",
    "Session",
]
__version__ = "0.1.0"
