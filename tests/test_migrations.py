"""Upgrading a store written by an older mllineage: data kept, rules still enforced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from mllineage.errors import ValidationException
from mllineage.store.sql.engine import HEAD_REVISION, SchemaOutOfDate
from mllineage.store.sql.store import SqlStore
from tests.conftest import POSTGRES_URL, needs_postgres


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
    engine.dispose()
    with pytest.raises(SchemaOutOfDate, match="db upgrade"):
        SqlStore(old_store_url)
    store = SqlStore(old_store_url, upgrade=True)
    try:
        assert store.describe_action(ActionName="train")["ActionName"] == "Train"
        with pytest.raises(ValidationException, match="already exists"):
            store.create_action(ActionName="TRAIN", ActionType="Training")
        indexes = store.db.run(
            lambda conn: {i["name"] for i in inspect(conn).get_indexes("entities")}, write=False
        )
        assert "ux_entities_name_key" not in indexes
        assert "ix_entities_topo" in indexes
        revision = store.db.run(store.db.current_revision, write=False)
        assert revision == HEAD_REVISION
    finally:
        store.close()
