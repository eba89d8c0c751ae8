"""Read an ML Metadata store and write it to stdout as JSON lines (run by ``import mlmd``).

This file runs under the interpreter that has ``ml-metadata`` installed (``--python``), which
need not have mllineage: it imports nothing of mllineage and nothing outside the standard
library but ``ml_metadata`` and the protobuf it brings.

Usage: ``python mlmd_reader.py CONFIG`` where CONFIG is an SQLite file, a JSON file of an
MLMD ``ConnectionConfig``, or ``mysql://user:password@host:port/database`` /
``postgresql://user:password@host:port/database``.

Output, one JSON object per line, in this order: ``{"record": "artifact" | "execution" |
"context", "id", "type", "name", "uri", "state", "external_id", "create_time",
"update_time", "properties", "custom_properties"}`` (every value as text), then ``{"record":
"event", "artifact_id", "execution_id", "type", "time"}``, ``{"record": "attribution",
"artifact_id", "context_id"}``, ``{"record": "association", "execution_id", "context_id"}``,
``{"record": "parent_context", "child_id", "parent_id"}``, and ``{"record": "end",
"counts": {...}}``. A failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any
from urllib.parse import unquote, urlsplit

from google.protobuf import json_format
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

_CHUNK = 1000


def connection_config(target: str) -> Any:
    config = metadata_store_pb2.ConnectionConfig()
    parts = urlsplit(target)
    if parts.scheme in ("mysql", "postgresql", "postgres"):
        fields = {
            "host": parts.hostname or "localhost",
            "port": parts.port or (3306 if parts.scheme == "mysql" else 5432),
            "user": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
        }
        if parts.scheme == "mysql":
            config.mysql.CopyFrom(metadata_store_pb2.MySQLDatabaseConfig(
                database=parts.path.lstrip("/"), **fields))  # fmt: skip
        else:
            config.postgresql.CopyFrom(metadata_store_pb2.PostgreSQLDatabaseConfig(
                dbname=parts.path.lstrip("/"), **fields))  # fmt: skip
        return config
    if not os.path.isfile(target):
        raise SystemExit(f"no such ML Metadata store: {target}")
    if target.endswith(".json"):
        with open(target, encoding="utf-8") as handle:
            return json_format.ParseDict(json.load(handle), config)
    config.sqlite.filename_uri = target
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return config


def value_text(value: Any) -> str:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return str(value.string_value)
    if kind == "struct_value":
        return json.dumps(json_format.MessageToDict(value.struct_value), sort_keys=True)
    if kind == "proto_value":
        return json.dumps(json_format.MessageToDict(value.proto_value), sort_keys=True)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind is None:
        return ""
    return repr(getattr(value, kind))


def node(record: str, item: Any, types: dict[int, str], state: str) -> dict[str, Any]:
    return {
        "record": record,
        "id": item.id,
        "type": types.get(item.type_id, item.type or "Unknown"),
        "name": item.name,
        "uri": getattr(item, "uri", ""),
        "state": state,
        "external_id": item.external_id,
        "create_time": item.create_time_since_epoch,
        "update_time": item.last_update_time_since_epoch,
        "properties": {k: value_text(v) for k, v in item.properties.items()},
        "custom_properties": {k: value_text(v) for k, v in item.custom_properties.items()},
    }


def emit(record: dict[str, Any], counts: dict[str, int]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    counts[record["record"]] = counts.get(record["record"], 0) + 1


def read(store: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    pb = metadata_store_pb2
    kinds = (
        ("artifact", store.get_artifact_types, store.get_artifacts, pb.Artifact.State),
        ("execution", store.get_execution_types, store.get_executions, pb.Execution.State),
        ("context", store.get_context_types, store.get_contexts, None),
    )
    ids: dict[str, list[int]] = {}
    for record, get_types, get_items, states in kinds:
        types = {t.id: t.name for t in get_types()}
        ids[record] = []
        for item in get_items():
            state = ""
            if states is not None:
                number = item.state if record == "artifact" else item.last_known_state
                state = states.Name(number)
            emit(node(record, item, types, state), counts)
            ids[record].append(item.id)
    execution_ids = ids["execution"]
    for start in range(0, len(execution_ids), _CHUNK):
        for event in store.get_events_by_execution_ids(execution_ids[start : start + _CHUNK]):
            emit({"record": "event", "artifact_id": event.artifact_id,
                  "execution_id": event.execution_id,
                  "type": pb.Event.Type.Name(event.type),
                  "time": event.milliseconds_since_epoch}, counts)  # fmt: skip
    for context_id in ids["context"]:
        for artifact in store.get_artifacts_by_context(context_id):
            emit({"record": "attribution", "artifact_id": artifact.id,
                  "context_id": context_id}, counts)  # fmt: skip
        for execution in store.get_executions_by_context(context_id):
            emit({"record": "association", "execution_id": execution.id,
                  "context_id": context_id}, counts)  # fmt: skip
        for parent in store.get_parent_contexts_by_context(context_id):
            emit({"record": "parent_context", "child_id": context_id,
                  "parent_id": parent.id}, counts)  # fmt: skip
    return counts


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: mlmd_reader.py CONFIG\n")
        return 2
    try:
        store = metadata_store.MetadataStore(connection_config(argv[1]))
        counts = read(store)
    except SystemExit as stop:
        sys.stderr.write(f"{stop}\n")
        return 1
    except Exception as error:  # noqa: BLE001 - one line for the importer to show
        sys.stderr.write(f"ML Metadata: {type(error).__name__}: {' '.join(str(error).split())}\n")
        return 1
    sys.stdout.write(json.dumps({"record": "end", "counts": counts}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
