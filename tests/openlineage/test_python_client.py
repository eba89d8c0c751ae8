"""Must hold 1: openlineage-python's HttpTransport (API key; plain and gzip) sends a three-job
pipeline with parent runs and dataset versions to a real server, and the mllineage API answers
what it read, who produced what, and what is downstream."""

from __future__ import annotations

from mllineage import Action, Session
from mllineage.server.testing import ServerProcess
from tests.openlineage.pipeline import (
    CLEAN,
    DAILY,
    DAY1,
    DAY2,
    MODEL,
    NAMESPACE,
    RAW,
    PipelineRun,
    emit_pipeline,
)
from tests.openlineage.support import (
    OlAccount,
    client,
    downstream,
    graph_size,
    producers,
    read_by,
    reader,
    replay_shuffled,
    run_arn,
)


def uri(where: tuple[str, str]) -> str:
    return f"{where[0]}/{where[1]}"


def test_pipeline_from_the_python_client(ol_server: ServerProcess, ol_account: OlAccount) -> None:
    first, second = PipelineRun(), PipelineRun()
    emit_pipeline(client(ol_server, ol_account), first, DAY1, "clean-v1", fails=False)
    emit_pipeline(client(ol_server, ol_account, gzip=True), second, DAY2, "clean-v2", fails=True)
    store = reader(ol_server, ol_account)
    session = Session(store=store)

    # which datasets (and versions) did run X read
    assert read_by(session, first.extract) == {(uri(RAW), "raw-v1")}
    assert read_by(session, first.transform) == {(uri(CLEAN), "clean-v1")}
    assert read_by(session, second.transform) == {(uri(CLEAN), "clean-v2")}
    assert read_by(session, second.train) == {(uri(DAILY), f"run:{second.transform}")}

    # which runs of job J produced dataset D
    assert producers(session, uri(CLEAN), f"{NAMESPACE}/etl_dag.extract") == {
        first.extract,
        second.extract,
    }
    assert producers(session, uri(DAILY), f"{NAMESPACE}/etl_dag.transform") == {
        first.transform,
        second.transform,
    }
    assert producers(session, uri(CLEAN), f"{NAMESPACE}/etl_dag.train") == set()

    # what is downstream of dataset D
    assert downstream(session, uri(RAW)) == (
        {uri(CLEAN), uri(DAILY), uri(MODEL)},
        {f"{NAMESPACE}/etl_dag.{job}" for job in ("extract", "transform", "train")},
    )
    assert downstream(session, uri(DAILY)) == ({uri(MODEL)}, {f"{NAMESPACE}/etl_dag.train"})

    # runs: status from the event type, parents linked, facets as properties
    failed = Action.load(run_arn(session, second.train), sagemaker_session=session)
    assert failed.status == "Failed"
    assert failed.properties["openlineage.error_message"] == "ValueError: training diverged"
    assert failed.properties["openlineage.parent_run_id"] == second.parent
    assert failed.properties["openlineage.job_type"] == "TASK"
    done = Action.load(run_arn(session, first.parent), sagemaker_session=session)
    assert done.status == "Completed"
    children = {
        a["DestinationArn"]
        for a in store.paginate(
            "list_associations", "AssociationSummaries", SourceArn=done.action_arn
        )
        if a["DestinationType"] == "OpenLineageRun"
    }
    assert children == {run_arn(session, r) for r in (first.extract, first.transform, first.train)}
    assert graph_size(store) == {"artifact": 13, "action": 8, "context": 12, "associations": 40}
    assert replay_shuffled(ol_server, ol_account) == 16
