"""mllineage: the SageMaker ML Lineage Tracking API on SQLite, PostgreSQL or a server.

Example:
    >>> from mllineage import Artifact, Action, Association, LineageQuery
    >>> data = Artifact.create(artifact_type="Dataset", source={"source_uri": "s3://b/d.csv"})
    >>> with mllineage.run("train", inputs=["data.csv"], params={"eta": 0.2}) as run:
    ...     run.output("model.pkl")
"""

from mllineage.api.association import Association
from mllineage.api.entities import Action, Artifact, Context
from mllineage.api.query import (
    LineageEntityEnum,
    LineageFilter,
    LineageQuery,
    LineageQueryDirectionEnum,
)
from mllineage.api.session import Session
from mllineage.capture.run import Run, run
from mllineage.capture.track import track
from mllineage.errors import ClientError
from mllineage.version import __version__
from mllineage.viz.visualize import LineageTableVisualizer

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
    "Run",
    "Session",
    "__version__",
    "run",
    "track",
]
