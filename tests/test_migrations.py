"""Upgrading a store written by an older mllineage: data kept, rules still enforced."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, inspect, text

from mllineage.errors import ValidationException
from mllineage.store.sql.engine import HEAD_REVISION, SchemaOutOfDate
from mllineage.store.sql.entities import source_key
from mllineage.store.sql.schema import associations, changes, entities
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, needs_postgres

TABLES = (entities, associations, changes)
OLD_URI = "s3://b/old/data.csv"
OLD_ARTIFACT = "arn:aws:sagemaker:local:000000000000:artifact/" + "0" * 32


def _at_revision(url: str, revision: str) -> None:
    """A fresh schema at ``revision``."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", "mllineage.store.sql:migrations")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=needs_postgres)])
def old_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/old.db"
        _at_revision(url, "0001")
        yield url
        return
    assert POSTGRES_URL is not None
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    schema = "upgrade_test"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    _at_revision(url, "0001")
    yield url
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


Indexes = dict[str, tuple[tuple[str, ...], bool]]


def _part(text: str) -> str:
    """A column or an expression of an index, as both sides spell it: PostgreSQL reads
    ``substr(source_uri, 1, 500)`` back as ``substr((source_uri)::text, 1, 500)``."""
    return re.sub(r"::text|[()\s]", "", text)


def _indexes(store: SqlStore) -> Indexes:
    """(columns or expressions, unique) of each index of the lineage tables, by name."""

    def read(conn: Connection) -> Indexes:
        inspector = inspect(conn)
        return {
            index["name"]: (
                tuple(map(_part, index.get("expressions") or map(str, index["column_names"]))),
                bool(index["unique"]),
            )
            for table in TABLES
            for index in inspector.get_indexes(table.name)
            if "duplicates_constraint" not in index  # (PostgreSQL's of the unique ARN)
        }

    return store.db.run(read, write=False)


def _declared_indexes(dialect: str) -> Indexes:
    """What ``schema.py`` declares for ``dialect`` (the tables' code reads, and PutLineage
    drops and builds again): the migrations must make the same."""
    return {
        str(index.name): (
            tuple(_part(getattr(part, "name", None) or str(part)) for part in index.expressions),
            bool(index.unique),
        )
        for table in TABLES
        for index in table.indexes
        if index._ddl_if is None or index._ddl_if.dialect == dialect
    }


def test_a_new_store_has_the_indexes_the_schema_declares(old_store_url: str) -> None:
    store = SqlStore(old_store_url, upgrade=True)
    try:
        declared = _declared_indexes(store.db.dialect)
        assert _indexes(store) == declared
        key = "substrsource_uri,1,500" if store.db.dialect == "postgresql" else "source_uri"
        assert declared["ux_entities_source"] == (("scope", "kind", key, "source_key"), True)
    finally:
        store.close()


def test_upgrade_from_0001_keeps_data_and_rules(old_store_url: str) -> None:
    engine = create_engine(old_store_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entities (scope, kind, arn, name, name_key, type, properties, tags, "
                "created_at, created_by, modified_at, modified_by) VALUES ("
                "'arn:aws:sagemaker:local:000000000000:', 'action', "
                "'arn:aws:sagemaker:local:000000000000:action/train', 'Train', 'train', "
                "'Training', '{}', '[]', 1, '{}', 1, '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO entities (scope, kind, arn, type, source_uri, source_key, source, "
                "properties, tags, created_at, created_by, modified_at, modified_by) VALUES ("
                "'arn:aws:sagemaker:local:000000000000:', 'artifact', :arn, 'Dataset', "
                ":uri, :key, :source, '{}', '[]', 1, '{}', 1, '{}')"
            ),
            {"arn": OLD_ARTIFACT, "uri": OLD_URI, "key": source_key({"SourceUri": OLD_URI})}
            | {"source": json.dumps({"SourceUri": OLD_URI})},
        )
    engine.dispose()
    with pytest.raises(SchemaOutOfDate, match="db upgrade"):
        SqlStore(old_store_url)
    store = SqlStore(old_store_url, upgrade=True)
    try:
        assert store.describe_action(ActionName="train")["ActionName"] == "Train"
        with pytest.raises(ValidationException, match="already exists"):
            store.create_action(ActionName="TRAIN", ActionType="Training")
        # An artifact's source is as unique as before, through the index by URI (0005).
        for create in (
            lambda: store.create_artifact(ArtifactType="Model", Source={"SourceUri": OLD_URI}),
            lambda: store.put_lineage(
                Entities=[
                    {"EntityKind": "artifact", "ArtifactType": "Model"}
                    | {"Source": {"SourceUri": OLD_URI}}
                ]
            ),
        ):
            with pytest.raises(ValidationException, match=f"already exists: {OLD_ARTIFACT}"):
                create()
        store.delete_artifact(Source={"SourceUri": OLD_URI})
        store.create_artifact(ArtifactType="Model", Source={"SourceUri": OLD_URI})
        assert _indexes(store) == _declared_indexes(store.db.dialect)
        revision = store.db.run(store.db.current_revision, write=False)
        assert revision == HEAD_REVISION
    finally:
        store.close()
