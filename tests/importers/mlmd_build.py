"""Build an ML Metadata 1.17.1 store (run by the MLMD interpreter, not by pytest).

Usage: python mlmd_build.py STORE.sqlite [N_PIPELINES]

Prints one JSON line: the MLMD ids of the last artifact and MLMD's own upstream lineage of
it (``get_lineage_subgraph``): {"last": id, "artifacts": [...], "executions": [...],
"counts": {...}}.
"""

import json
import sys

from google.protobuf import struct_pb2
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

path = sys.argv[1]
pipelines = int(sys.argv[2]) if len(sys.argv) > 2 else 1
config = pb.ConnectionConfig()
config.sqlite.filename_uri = path
config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
store = metadata_store.MetadataStore(config)


def type_id(kind, name, **properties):
    t = {"artifact": pb.ArtifactType, "execution": pb.ExecutionType, "context": pb.ContextType}
    proto = t[kind](name=name)
    for key, value in properties.items():
        proto.properties[key] = value
    return getattr(store, f"put_{kind}_type")(proto)


dataset = type_id("artifact", "Dataset", split=pb.STRING, rows=pb.INT)
model = type_id("artifact", "Model", accuracy=pb.DOUBLE)
trainer = type_id("execution", "Trainer", epochs=pb.INT)
evaluator = type_id("execution", "Evaluator")
run_type = type_id("context", "PipelineRun", pipeline=pb.STRING)
pipeline_type = type_id("context", "Pipeline")


def artifact(type_, uri, name="", **properties):
    a = pb.Artifact(type_id=type_, uri=uri, state=pb.Artifact.LIVE)
    if name:
        a.name = name
    for key, value in properties.items():
        target = a.properties if key in ("split", "rows", "accuracy") else a.custom_properties
        if isinstance(value, bool):
            target[key].bool_value = value
        elif isinstance(value, int):
            target[key].int_value = value
        elif isinstance(value, float):
            target[key].double_value = value
        elif isinstance(value, dict):
            s = struct_pb2.Struct()
            s.update(value)
            target[key].struct_value.CopyFrom(s)
        else:
            target[key].string_value = value
    return a


def event(kind, artifact_id=None):
    e = pb.Event(type=kind)
    if artifact_id is not None:
        e.artifact_id = artifact_id
    return e


last = None
[pipeline_id] = store.put_contexts([pb.Context(type_id=pipeline_type, name="churn")])
for n in range(pipelines):
    raw, split = store.put_artifacts(
        [
            artifact(
                dataset, f"s3://data/raw-{n}.csv", f"raw-{n}", split="all", rows=1000, verified=True
            ),
            artifact(
                dataset,
                f"s3://data/train-{n}.csv",
                split="train",
                rows=800,
                schema={"columns": ["a", "b"], "version": 2},
            ),
        ]
    )
    raw_a, split_a = store.get_artifacts_by_id([raw, split])
    train = pb.Execution(type_id=trainer, last_known_state=pb.Execution.COMPLETE)
    train.properties["epochs"].int_value = 10
    train.custom_properties["learning_rate"].double_value = 0.01
    run = pb.Context(type_id=run_type, name=f"run-{n}")
    run.properties["pipeline"].string_value = "churn"
    [model_artifact] = [artifact(model, f"s3://models/m-{n}", accuracy=0.91)]
    train_id, ids, [run_id] = store.put_execution(
        train,
        [
            (raw_a, event(pb.Event.INPUT)),
            (split_a, event(pb.Event.INPUT)),
            (model_artifact, event(pb.Event.OUTPUT)),
        ],
        [run],
    )
    model_id = ids[2]
    evaluate = pb.Execution(type_id=evaluator, last_known_state=pb.Execution.FAILED)
    report = artifact(dataset, "", split="eval")  # an artifact with no URI
    model_a, split_a = store.get_artifacts_by_id([model_id, split])
    eval_id, ids, _ = store.put_execution(
        evaluate,
        [
            (model_a, event(pb.Event.INPUT)),
            (split_a, event(pb.Event.DECLARED_INPUT)),
            (report, event(pb.Event.OUTPUT)),
        ],
        store.get_contexts_by_id([run_id]),
    )
    report_id = ids[2]
    store.put_parent_contexts([pb.ParentContext(child_id=run_id, parent_id=pipeline_id)])
    last = report_id

options = pb.LineageSubgraphQueryOptions(
    starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(filter_query=f"id = {last}"),
    max_num_hops=10,
    direction=pb.LineageSubgraphQueryOptions.UPSTREAM,
)
graph = store.get_lineage_subgraph(options)
print(
    json.dumps(
        {
            "last": last,
            "artifacts": sorted(a.id for a in graph.artifacts),
            "executions": sorted(e.id for e in graph.executions),
            "counts": {
                "artifact": len(store.get_artifacts()),
                "execution": len(store.get_executions()),
                "context": len(store.get_contexts()),
            },
        }
    )
)
