"""``mllineage export`` / ``import``: a lossless round trip between stores, and refusals that
leave the store unchanged."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from mllineage import Session
from mllineage.api.transfer import TransferError, export_store, import_store

from .conftest import build_pipeline

Cli = Any
POSTGRES_URL = os.environ.get("MLLINEAGE_TEST_POSTGRES_URL")
# What the store assigns on every create (see the module docstring of mllineage.api.transfer).
ASSIGNED = {"CreationTime", "LastModifiedTime", "CreatedBy", "LastModifiedBy", "exported_at"}


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _comparable(records: list[dict[str, Any]], arn_map: dict[str, str]) -> list[dict[str, Any]]:
    """Records with the file's ARNs mapped to the new store's and assigned fields dropped."""
    out = []
    for record in records:
        mapped = {}
        for key, value in record.items():
            if key in ASSIGNED:
                continue
            mapped[key] = arn_map.get(value, value) if isinstance(value, str) else value
        out.append(mapped)
    return out


def _dump(session: Session, path: Path) -> list[dict[str, Any]]:
    export_store(session, path)
    return _records(path)


def test_export_holds_everything(cli: Cli, pipeline: dict[str, str], tmp_path: Path) -> None:
    result = cli("export", str(tmp_path / "dump.jsonl"))
    assert result.code == 0, result.err
    assert "3 artifacts, 2 actions, 2 contexts, 7 associations" in result.err
    records = _records(tmp_path / "dump.jsonl")
    assert records[0]["format"] == "mllineage-export"
    assert records[0]["version"] == 1
    assert records[-1] == {
        "record": "end",
        "counts": {"artifact": 3, "action": 2, "context": 2, "association": 7},
    }
    raw = next(r for r in records if r.get("ArtifactArn") == pipeline["raw"])
    assert raw["Source"]["SourceTypes"] == [{"SourceIdType": "S3ETag", "Value": "abc123"}]
    assert raw["Properties"]["note"] == 'quoted "value" \\ and [markup]'
    assert {t["Key"] for t in raw["Tags"]} == {"Project", "Owner"}
    assert raw["CreationTime"].endswith("+00:00")
    assert len(raw["CreationTime"].split(".")[1]) == len("123456+00:00")  # microseconds
    train = next(r for r in records if r.get("ActionArn") == pipeline["train"])
    assert train["Status"] == "Completed"
    assert train["Source"]["SourceUri"].endswith("training-job/t1")


def test_round_trip_through_the_cli(cli: Cli, pipeline: dict[str, str], tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert cli("export", str(first)).code == 0
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    arn_map = tmp_path / "arns.json"
    result = cli("--store", copy, "import", str(first), "--arn-map", str(arn_map))
    assert result.code == 0, result.err
    assert "imported 3 artifacts, 2 actions, 2 contexts, 7 associations" in result.err
    assert cli("--store", copy, "export", str(second)).code == 0
    mapping = json.loads(arn_map.read_text())
    assert set(mapping) == set(pipeline.values())
    assert _comparable(_records(first), mapping) == _comparable(_records(second), {})


@pytest.mark.skipif(not POSTGRES_URL, reason="MLLINEAGE_TEST_POSTGRES_URL is not set")
def test_round_trip_sqlite_to_postgres_and_back(session: Session, tmp_path: Path) -> None:
    build_pipeline(session)
    original = _dump(session, tmp_path / "sqlite.jsonl")
    account = f"{uuid.uuid4().int % 10**12:012d}"
    with Session(POSTGRES_URL, account_id=account) as postgres:
        to_pg = import_store(postgres, tmp_path / "sqlite.jsonl")
        on_pg = _dump(postgres, tmp_path / "postgres.jsonl")
    assert _comparable(original, to_pg.arn_map) == _comparable(on_pg, {})
    with Session(f"sqlite:///{tmp_path / 'back.db'}") as back:
        to_sqlite = import_store(back, tmp_path / "postgres.jsonl")
        again = _dump(back, tmp_path / "back.jsonl")
    assert _comparable(on_pg, to_sqlite.arn_map) == _comparable(again, {})


def _broken(records: list[dict[str, Any]], how: str) -> list[dict[str, Any]]:
    records = [dict(r) for r in records]
    body, end = records[1:-1], records[-1]
    associations = [r for r in body if r["record"] == "association"]
    if how == "cycle":
        first = associations[0]
        body.append(
            {**first, "SourceArn": first["DestinationArn"], "DestinationArn": first["SourceArn"]}
        )
        end = {**end, "counts": {**end["counts"], "association": end["counts"]["association"] + 1}}
    elif how == "dangling":
        associations[0]["DestinationArn"] = associations[0]["DestinationArn"][:-3] + "zzz"
    elif how == "invalid-property":
        entity = next(r for r in body if r["record"] == "context")
        entity["Properties"] = {**entity["Properties"], "too-long": "x" * 257}
    elif how == "too-many-properties":
        entity = next(r for r in body if r["record"] == "artifact")
        entity["Properties"] = {f"k{i}": "v" for i in range(31)}
    elif how == "truncated":
        return records[:-2]
    elif how == "newer-version":
        records[0]["version"] = 99
    elif how == "not-an-export":
        records[0]["format"] = "something-else"
    elif how == "wrong-counts":
        end = {**end, "counts": {**end["counts"], "artifact": 99}}
    return [records[0], *body, end]


@pytest.mark.parametrize(
    ("how", "message"),
    [
        pytest.param("cycle", "cycle", id="cycle"),
        pytest.param("dangling", "dangling association", id="dangling"),
        pytest.param("invalid-property", "256", id="invalid-property"),
        pytest.param("too-many-properties", "30", id="too-many-properties"),
        pytest.param("truncated", "truncated", id="truncated"),
        pytest.param("newer-version", "newer", id="newer-version"),
        pytest.param("not-an-export", "not an mllineage export", id="not-an-export"),
        pytest.param("wrong-counts", "does not hold", id="wrong-counts"),
    ],
)
def test_a_bad_file_is_refused_and_changes_nothing(
    cli: Cli, pipeline: dict[str, str], tmp_path: Path, how: str, message: str
) -> None:
    assert cli("export", str(tmp_path / "good.jsonl")).code == 0
    bad = tmp_path / "bad.jsonl"
    lines = _broken(_records(tmp_path / "good.jsonl"), how)
    bad.write_text("".join(json.dumps(r) + "\n" for r in lines))
    target = f"sqlite:///{tmp_path / 'target.db'}"
    with Session(target) as session:
        session.store.create_context(ContextName="already-here", ContextType="Project")
        before = _dump(session, tmp_path / "before.jsonl")
    result = cli("--store", target, "import", str(bad))
    assert result.code == 1
    assert message in result.err, result.err
    assert result.err.count("\n") == 1
    with Session(target) as session:
        after = _dump(session, tmp_path / "after.jsonl")
    assert _comparable(after, {}) == _comparable(before, {})


def test_a_conflict_with_the_store_rolls_back_everything(
    session: Session, pipeline: dict[str, str], tmp_path: Path
) -> None:
    _dump(session, tmp_path / "dump.jsonl")
    with Session(f"sqlite:///{tmp_path / 'target.db'}") as target:
        target.store.create_context(ContextName="pipeline", ContextType="Other")
        with pytest.raises(TransferError, match="nothing was imported.*already exists"):
            import_store(target, tmp_path / "dump.jsonl")
        remaining = _dump(target, tmp_path / "after.jsonl")
    assert [r["record"] for r in remaining] == ["header", "context", "end"]


def test_round_trip_in_the_same_account_is_exact(
    cli: Cli, pipeline: dict[str, str], tmp_path: Path
) -> None:
    """Into a store of the same region and account, ARNs, timestamps and creators are kept."""
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert cli("export", str(first)).code == 0
    copy = f"sqlite:///{tmp_path / 'exact.db'}"
    result = cli("--store", copy, "import", str(first))
    assert result.code == 0, result.err
    assert cli("--store", copy, "export", str(second)).code == 0
    strip = [{k: v for k, v in r.items() if k != "exported_at"} for r in _records(first)]
    again = [{k: v for k, v in r.items() if k != "exported_at"} for r in _records(second)]
    assert again == strip
    # A second import of the same file is refused whole: the ARNs exist.
    result = cli("--store", copy, "import", str(first))
    assert result.code == 1
    assert "already exists" in result.err


@pytest.mark.skipif(not POSTGRES_URL, reason="MLLINEAGE_TEST_POSTGRES_URL is not set")
def test_round_trip_sqlite_to_postgres_and_back_is_exact(tmp_path: Path) -> None:
    """In one region and account, SQLite -> PostgreSQL -> SQLite keeps every entity, property,
    tag, timestamp, creator, ARN and association exactly."""
    assert POSTGRES_URL
    account = f"{uuid.uuid4().int % 10**12:012d}"

    def strip(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "exported_at"} for r in records]

    with Session(f"sqlite:///{tmp_path / 'first.db'}", account_id=account) as first:
        build_pipeline(first)
        original = strip(_dump(first, tmp_path / "first.jsonl"))
    with Session(POSTGRES_URL, account_id=account) as postgres:
        import_store(postgres, tmp_path / "first.jsonl")
        on_postgres = strip(_dump(postgres, tmp_path / "postgres.jsonl"))
    with Session(f"sqlite:///{tmp_path / 'back.db'}", account_id=account) as back:
        import_store(back, tmp_path / "postgres.jsonl")
        again = strip(_dump(back, tmp_path / "back.jsonl"))
    assert on_postgres == original
    assert again == original
