"""OpenLineage in: events from Airflow, dbt, Spark and any OpenLineage producer become
artifacts, actions, contexts and associations (the mapping: ``mapping.py``,
docs/openlineage.md).

Example:
    >>> from mllineage.capture.openlineage import ingest
    >>> ingest(store, event_json)  # doctest: +SKIP
"""

from mllineage.capture.openlineage.ingest import (
    Ingested,
    Summary,
    count_events,
    import_files,
    ingest,
    kept_events,
    read_events,
    replay,
)
from mllineage.capture.openlineage.mapping import (
    DATASET_TYPE,
    JOB_DAY_TYPE,
    JOB_TYPE,
    READ_TYPE,
    RUN_TYPE,
    job_context_name,
    run_action_name,
)
from mllineage.capture.openlineage.naming import dataset_uri

__all__ = [
    "DATASET_TYPE",
    "JOB_DAY_TYPE",
    "JOB_TYPE",
    "READ_TYPE",
    "RUN_TYPE",
    "Ingested",
    "Summary",
    "count_events",
    "dataset_uri",
    "import_files",
    "ingest",
    "job_context_name",
    "kept_events",
    "read_events",
    "replay",
    "run_action_name",
]
