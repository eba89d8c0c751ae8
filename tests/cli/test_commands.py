"""``mllineage ls``, ``show``, ``query`` and the command line's errors, run in-process."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import pytest

from mllineage import Artifact, Association, Session
from mllineage.cli import app
from mllineage.store.sql.engine import HEAD_REVISION
from mllineage.store.sql.store import SqlStore

Cli = Any


def test_ls_artifacts_json_filters_by_type_and_source(cli: Cli, pipeline: dict[str, str]) -> None:
    result = cli(
        "ls", "artifacts", "--type", "Dataset", "--source-uri", "s3://bucket/raw", "--json"
    )
    assert result.code == 0, result.err
    records = json.loads(result.out)
    assert [r["artifact_arn"] for r in records] == [pipeline["raw"]]
    assert records[0]["properties"]["rows"] == "50000"
    assert records[0]["creation_time"].endswith("+00:00")


def test_ls_sorts_and_limits(cli: Cli, pipeline: dict[str, str]) -> None:
    newest = json.loads(cli("ls", "artifacts", "--json").out)
    oldest = json.loads(cli("ls", "artifacts", "--sort-order", "ascending", "--json").out)
    assert [r["artifact_name"] for r in newest] == ["model", "clean", 'raw "customers" <2024> & #1']
    assert oldest == newest[::-1]
    limited = json.loads(cli("ls", "artifacts", "-n", "1", "--json").out)
    assert [r["artifact_name"] for r in limited] == ["model"]
    by_name = json.loads(cli("ls", "actions", "--sort-by", "Name", "--all", "--json").out)
    assert [r["action_name"] for r in by_name] == ["train", "prep"]


def test_ls_created_window(cli: Cli, pipeline: dict[str, str]) -> None:
    assert json.loads(cli("ls", "contexts", "--created-after", "2999-01-01", "--json").out) == []
    assert (
        len(json.loads(cli("ls", "contexts", "--created-before", "2999-01-01", "--json").out)) == 2
    )


def test_ls_associations_filters(cli: Cli, pipeline: dict[str, str]) -> None:
    result = cli("ls", "associations", "--type", "Produced", "--json")
    pairs = {(r["source_arn"], r["destination_arn"]) for r in json.loads(result.out)}
    assert pairs == {(pipeline["prep"], pipeline["clean"]), (pipeline["train"], pipeline["model"])}
    result = cli("ls", "associations", "--destination", pipeline["pipeline"], "--json")
    assert {r["source_name"] for r in json.loads(result.out)} == {
        "model",
        'raw "customers" <2024> & #1',
    }


def test_ls_tables_show_names(cli: Cli, pipeline: dict[str, str]) -> None:
    for kind, expected in [
        ("artifacts", "model"),
        ("actions", "Processing"),
        ("contexts", "Endpoint"),
        ("associations", "ContributedTo"),
    ]:
        result = cli("ls", kind)
        assert result.code == 0, result.err
        assert expected in result.out


def test_show_entity_with_tags_and_neighbours(cli: Cli, pipeline: dict[str, str]) -> None:
    result = cli("show", pipeline["raw"], "--json")
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert shown["artifact_name"] == 'raw "customers" <2024> & #1'
    assert shown["source"]["source_types"] == [{"SourceIdType": "S3ETag", "Value": "abc123"}]
    assert {t["Key"]: t["Value"] for t in shown["tags"]} == {
        "Project": "Churn",
        "Owner": "data-team",
    }
    assert shown["inputs"] == []
    assert {o["destination_arn"] for o in shown["outputs"]} == {
        pipeline["prep"],
        pipeline["pipeline"],
    }
    assert shown["created_by"]["UserProfileName"]


def test_show_by_name_prints_fields_properties_and_neighbours(
    cli: Cli, pipeline: dict[str, str]
) -> None:
    result = cli("show", "train")
    assert result.code == 0, result.err
    for text in ("Training", "Completed", "algorithm", "xgboost", "Inputs (upstream): 1", "clean"):
        assert text in result.out
    assert "[markup]" in cli("show", pipeline["raw"]).out  # values are not read as Rich markup


def test_query_directions(cli: Cli, pipeline: dict[str, str]) -> None:
    def names(*args: str) -> set[str]:
        result = cli("query", pipeline["train"], "--json", *args)
        assert result.code == 0, result.err
        return {
            v["Properties"].get("artifact_name")
            or v["Properties"].get("action_name")
            or v["Properties"].get("context_name")
            for v in json.loads(result.out)["Vertices"]
        }

    assert names("--direction", "up") == {"train", "clean", "prep", 'raw "customers" <2024> & #1'}
    assert names("-d", "down", "--depth", "1") == {"train", "model"}
    assert names("-d", "both", "--depth", "1") == {"train", "model", "clean"}


def test_as_of_shows_the_store_as_it_was(
    cli: Cli, session: Session, pipeline: dict[str, str]
) -> None:
    time.sleep(0.01)
    instant = datetime.now(timezone.utc).isoformat()
    time.sleep(0.01)
    retrained = Artifact.create(
        artifact_name="model-v2",
        artifact_type="Model",
        source={"source_uri": "s3://bucket/model-v2"},
        sagemaker_session=session,
    )
    Association.create(
        pipeline["train"], retrained.artifact_arn, "Produced", sagemaker_session=session
    )

    def run(*args: str) -> Any:
        result = cli(*args, "--json")
        assert result.code == 0, result.err
        return json.loads(result.out)

    def names(graph: dict[str, Any]) -> set[str]:
        return {v["Properties"].get("artifact_name") for v in graph["Vertices"]} - {None}

    down = ("query", pipeline["train"], "-d", "down", "--depth", "1")
    assert names(run(*down)) == {"model", "model-v2"}
    assert names(run(*down, "--as-of", instant)) == {"model"}
    artifacts = {a["artifact_name"] for a in run("ls", "artifacts", "--as-of", instant)}
    assert "model" in artifacts
    assert "model-v2" not in artifacts
    links = run("ls", "associations", "--source", pipeline["train"], "--as-of", instant)
    assert [a["destination_arn"] for a in links] == [pipeline["model"]]
    graph = cli("graph", *down[1:], "-f", "json", "--as-of", instant)
    assert graph.code == 0, graph.err
    assert names(json.loads(graph.out)) == {"model"}


def test_query_filters(cli: Cli, pipeline: dict[str, str]) -> None:
    result = cli(
        "query",
        pipeline["model"],
        "-d",
        "up",
        "--type",
        "Dataset",
        "-p",
        "split=train",
        "--format",
        "json",
    )
    vertices = json.loads(result.out)["Vertices"]
    assert [v["Arn"] for v in vertices] == [pipeline["clean"]]
    result = cli("query", pipeline["model"], "-d", "up", "--kind", "action", "--json")
    assert {v["Arn"] for v in json.loads(result.out)["Vertices"]} == {
        pipeline["train"],
        pipeline["prep"],
    }


def test_query_table_and_tree(cli: Cli, pipeline: dict[str, str]) -> None:
    table = cli("query", pipeline["model"], "-d", "up")
    assert table.code == 0, table.err
    assert "★" in table.out
    assert "5 vertices" in table.out
    assert "4 edges" in table.out
    tree = cli("query", pipeline["model"], "-d", "both", "--format", "tree")
    assert tree.code == 0, tree.err
    assert "▲ upstream" in tree.out
    assert "▼ downstream" in tree.out
    assert "← Produced" in tree.out
    assert "→ ContributedTo" in tree.out


def test_query_dot_and_mermaid_go_to_stdout(cli: Cli, pipeline: dict[str, str]) -> None:
    dot = cli("query", pipeline["model"], "-d", "up", "--format", "dot")
    assert dot.out.startswith("digraph lineage {")
    assert pipeline["model"] in dot.out
    mermaid = cli("query", pipeline["model"], "-d", "up", "--format", "mermaid")
    assert mermaid.out.startswith("flowchart LR")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(["query", "ARN_OF_MISSING"], 1, "ResourceNotFound", id="unknown-arn"),
        pytest.param(["show", "ARN_OF_MISSING"], 1, "ResourceNotFound", id="show-unknown-arn"),
        pytest.param(["show", "no-such-name"], 1, "neither an ARN nor the name", id="unknown-name"),
        pytest.param(["query", "not-an-arn"], 2, "is not a SageMaker", id="malformed-arn"),
        pytest.param(["query", "MODEL", "-d", "sideways"], 2, "'--direction'", id="bad-direction"),
        pytest.param(
            ["query", "MODEL", "-p", "novalue"], 2, "expected KEY=VALUE", id="bad-property"
        ),
        pytest.param(["query", "MODEL", "--depth", "101"], 2, "'--depth'", id="depth-too-deep"),
        pytest.param(["query", *["MODEL"] * 11], 2, "at most 10 start ARNs", id="too-many-arns"),
        pytest.param(["ls", "artifacts", "--created-after", "soon"], 2, "ISO 8601", id="bad-time"),
        pytest.param(["ls", "associations", "-t", "Bogus"], 2, "ContributedTo", id="bad-type"),
        pytest.param(["ls", "actions", "--sort-by", "Size"], 2, "CreationTime", id="bad-sort"),
        pytest.param(["graph", "MODEL", "-o", "x.png"], 2, "cannot tell the format", id="bad-ext"),
        pytest.param(["import", "missing.jsonl"], 2, "no such file", id="missing-file"),
        pytest.param(["frobnicate"], 2, "No such command", id="unknown-command"),
        pytest.param(["query", "MODEL", "--as-of", "soon"], 2, "ISO 8601", id="bad-as-of"),
    ],
)
def test_bad_input_is_one_line_and_the_conventional_exit_code(
    cli: Cli, pipeline: dict[str, str], args: list[str], code: int, message: str
) -> None:
    missing = pipeline["model"][:-4] + "0000"
    args = [{"ARN_OF_MISSING": missing, "MODEL": pipeline["model"]}.get(a, a) for a in args]
    result = cli(*args)
    assert result.code == code
    assert message in result.err
    assert result.err.startswith("error: ")
    assert result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err


def test_debug_shows_the_traceback(cli: Cli, pipeline: dict[str, str]) -> None:
    from mllineage.errors import ResourceNotFound

    with pytest.raises(ResourceNotFound):
        cli("--debug", "show", pipeline["model"][:-4] + "0000")


def test_out_of_date_schema_names_the_fix(cli: Cli, store_url: str) -> None:
    SqlStore(store_url).close()
    from sqlalchemy import create_engine, text

    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    result = cli("ls", "artifacts")
    assert result.code == 1
    assert "mllineage db upgrade" in result.err
    assert result.err.count("\n") == 1
    assert "InternalFailure" not in result.err


def test_db_upgrade_on_a_current_store(cli: Cli, store_url: str) -> None:
    result = cli("db", "upgrade")  # (no store yet)
    assert result.code == 0, result.err
    assert f"created the schema (revision {HEAD_REVISION})" in result.out
    result = cli("db", "upgrade")
    assert result.code == 0, result.err
    assert f"schema is up to date (revision {HEAD_REVISION})" in result.out


def test_db_upgrade_says_from_which_revision(cli: Cli, store_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    engine = create_engine(store_url)
    with engine.begin() as conn:  # (a store an mllineage of schema 0004 wrote)
        config = Config()
        config.set_main_option("script_location", "mllineage.store.sql:migrations")
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
    engine.dispose()
    result = cli("db", "upgrade")
    assert result.code == 0, result.err
    assert f"upgraded the schema from revision 0004 to {HEAD_REVISION}" in result.out
    assert cli("ls", "artifacts").code == 0


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import typer.main

    command = typer.main.get_command(group) if not hasattr(group, "commands") else group
    found = []
    for name, sub in sorted(command.commands.items()):
        if hasattr(sub, "commands"):
            found += _commands(sub, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(app)


def test_the_command_set() -> None:
    assert {" ".join(c) for c in COMMANDS} >= {
        "ls artifacts",
        "ls actions",
        "ls contexts",
        "ls associations",
        "show",
        "query",
        "graph",
        "export",
        "import file",
        "import mlflow",
        "import mlmd",
        "import sagemaker",
        "demo",
        "version",
        "db upgrade",
        "serve",
    }


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(cli: Cli, command: tuple[str, ...]) -> None:
    result = cli(*command, "--help")
    assert result.code == 0
    assert "Usage" in result.out
    assert len(result.out) > 200


def test_shell_completion_script(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # Typer names the shell from the process tree (shellingham), which a CI runner or a
    # detached job may not show; the script itself is what is checked here.
    import shellingham

    monkeypatch.setattr(shellingham, "detect_shell", lambda: ("bash", "/bin/bash"))
    result = cli("--show-completion", "bash")
    assert "_mllineage_completion" in result.out
