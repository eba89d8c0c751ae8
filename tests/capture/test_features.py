"""What ``mllineage.run`` records beyond the issue's must-holds: values, names, overflow,
nesting, contexts, the association limit, an unreachable store, and ``@mllineage.track``."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError

import mllineage
from mllineage import Action, Artifact, Association, Context, Session
from mllineage.capture import links
from mllineage.capture.gitinfo import without_credentials
from mllineage.capture.run import action_name
from mllineage.capture.values import read_json_properties, to_property_value


def associations(session: Session, source: str, destination: str) -> list[str]:
    found = Association.list(
        source_arn=source, destination_arn=destination, sagemaker_session=session
    )
    return [a.association_type or "" for a in found]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(5, "5", id="int"),
        pytest.param(0.2, "0.2", id="float"),
        pytest.param(True, "true", id="bool"),
        pytest.param(None, "null", id="none"),
        pytest.param(Path("/a/b"), "/a/b", id="path"),
        pytest.param([1, "x"], '[1,"x"]', id="list"),
        pytest.param({"b": 1, "a": 2}, '{"a":2,"b":1}', id="dict"),
    ],
)
def test_values_become_property_strings(value: object, text: str) -> None:
    assert to_property_value(value) == text


@pytest.mark.parametrize(
    "name",
    ["train", "train churn / v2!", "-x-", "é" * 5, "a" * 300, "model_v1.2"],
)
def test_action_names_are_readable_unique_and_valid(name: str) -> None:
    made = action_name(name, "0123abcd")
    assert len(made) <= 120
    assert re.fullmatch(r"[A-Za-z0-9](?:[-_.]*[A-Za-z0-9])*", made)
    assert made.endswith("-0123abcd")


def test_params_beyond_the_limits_go_to_a_json_artifact(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    params = {f"p{i:02d}": i for i in range(40)}
    params["layers"] = list(range(200))  # over 256 characters as JSON
    params["note"] = ""  # an empty value, which no property may hold
    with mllineage.run("sweep", params=params, sagemaker_session=session) as run:
        run.log(accuracy=0.91, converged=True)
    action = Action.load(run.action.action_name, sagemaker_session=session)
    assert len(action.properties) <= 30
    kept = {k for k in action.properties if not k.startswith("mllineage.")}
    assert kept == {f"p{i:02d}" for i in range(22)}
    overflow = Artifact.load(action.properties["mllineage.overflow"], sagemaker_session=session)
    assert overflow.artifact_type == "Overflow"
    document = read_json_properties(overflow.properties)
    assert document["layers"] == list(range(200))
    assert document["note"] == ""
    assert document["accuracy"] == 0.91
    assert document["converged"] is True
    assert {f"p{i:02d}" for i in range(22, 40)} <= set(document)
    assert associations(session, run.arn, str(overflow.artifact_arn)) == ["AssociatedWith"]


def test_log_adds_properties_while_the_run_is_open(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with mllineage.run("train", sagemaker_session=session) as run:
        run.log(epoch=1, loss=0.5)
        assert Action.load(run.arn, sagemaker_session=session).properties["loss"] == "0.5"
        run.log(loss=0.25)
    properties = Action.load(run.arn, sagemaker_session=session).properties
    assert (properties["epoch"], properties["loss"]) == ("1", "0.25")
    with pytest.raises(ValueError, match="reserved"):
        run.log(**{"mllineage.status": "x"})


def test_the_environment_is_an_artifact_beside_the_run(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runs = []
    for _ in range(2):
        with mllineage.run("train", sagemaker_session=session) as run:
            runs.append(run)
    (environment,) = Artifact.list(artifact_type="Environment", sagemaker_session=session)
    document = read_json_properties(environment.properties)
    assert document["python"] == runs[0].action.properties["mllineage.python"]
    assert "botocore" in document["packages"]
    for run in runs:
        assert associations(session, run.arn, str(environment.artifact_arn)) == ["AssociatedWith"]


def test_a_nested_run_records_its_parent(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with mllineage.run("pipeline", context="pipelines", sagemaker_session=session) as parent:
        with mllineage.run("step", type="Processing") as child:  # the parent's session
            pass
    assert child.parent is parent
    assert child.context is not None
    assert child.context.base.context_name == "pipelines"
    assert child.action.properties["mllineage.parent_run"] == parent.arn
    assert associations(session, child.arn, parent.arn) == ["AssociatedWith"]
    assert mllineage.capture.run.current_run() is None


def test_an_unchanged_input_cannot_be_an_output(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("data.csv").write_text("x\n1\n")
    with mllineage.run("clean", inputs=["data.csv"], sagemaker_session=session) as run:
        with pytest.raises(ValueError, match="is an input of this run, unchanged"):
            run.output("data.csv")
        Path("data.csv").write_text("x\n1\n2\n")  # cleaned in place: a new version
        cleaned = run.output("data.csv")
    assert cleaned.artifact_arn != run.inputs[0].artifact_arn
    assert run.status == "Completed"


def test_a_context_holds_the_run_and_its_artifacts(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("data.csv").write_text("x\n1\n")
    Path("model.pkl").write_bytes(b"model")
    with mllineage.run(
        "train", inputs=["data.csv"], context="churn", sagemaker_session=session
    ) as run:
        model = run.output("model.pkl")
    context = Context.load("churn", sagemaker_session=session)
    assert context.context_type == "Experiment"
    for member in (run.arn, str(run.inputs[0].artifact_arn), str(model.artifact_arn)):
        assert associations(session, member, str(context.context_arn)) == ["AssociatedWith"]


def test_an_environment_variable_names_the_default_context(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    given = Context.create(context_name="given", context_type="Pipeline", sagemaker_session=session)
    monkeypatch.setenv("MLLINEAGE_CONTEXT", "nightly")
    with mllineage.run("step", sagemaker_session=session) as by_env:
        pass
    with mllineage.run("step", context=given, sagemaker_session=session) as by_arg:
        pass
    nightly = Context.load("nightly", sagemaker_session=session)
    assert associations(session, by_env.arn, str(nightly.context_arn)) == ["AssociatedWith"]
    assert associations(session, by_arg.arn, str(given.context_arn)) == ["AssociatedWith"]


def fill(session: Session, arn: str, count: int, *, as_source: bool) -> None:
    """Give the entity ``arn`` ``count`` more associations, in one PutLineage call."""
    with session.bulk() as bulk:
        for i in range(count):
            other = bulk.artifact(artifact_type="Filler", source={"source_uri": f"s3://f/{i}"})
            bulk.associate(*((arn, other) if as_source else (other, arn)), "ContributedTo")


def test_a_full_context_continues_in_a_part(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    context = Context.create(
        context_name="busy", context_type="Pipeline", sagemaker_session=session
    )
    fill(session, str(context.context_arn), 1000, as_source=False)
    with mllineage.run("step", context="busy", sagemaker_session=session) as run:
        pass
    part = Context.load("busy-part-2", sagemaker_session=session)
    assert part.properties[links.PART_OF] == "busy"
    assert associations(session, run.arn, str(part.context_arn)) == ["AssociatedWith"]
    assert Context.load("busy", sagemaker_session=session).properties[links.CURRENT_PART] == "2"
    with mllineage.run("step", context="busy", sagemaker_session=session) as later:
        pass
    assert associations(session, later.arn, str(part.context_arn)) == ["AssociatedWith"]


def test_a_full_dataset_continues_in_a_part(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("data.csv").write_text("x\n1\n")
    with mllineage.run("train", inputs=["data.csv"], sagemaker_session=session) as first:
        pass
    dataset = first.inputs[0]
    fill(session, str(dataset.artifact_arn), 999, as_source=True)
    with mllineage.run("train", inputs=["data.csv"], sagemaker_session=session) as second:
        pass
    part = second.inputs[0]
    assert links.part_of(part) == 2
    assert links.content_types(part) == links.content_types(dataset)
    assert part.properties[links.PART_OF] == dataset.artifact_arn
    with mllineage.run("train", inputs=["data.csv"], sagemaker_session=session) as third:
        pass
    assert third.inputs[0].artifact_arn == part.artifact_arn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_store_fails_at_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLLINEAGE_URL", f"http://127.0.0.1:{free_port()}")
    entered = []
    with pytest.raises(EndpointConnectionError):  # noqa: PT012
        with mllineage.run("train"):
            entered.append(True)
    assert not entered


def test_a_missing_input_fails_before_anything_is_written(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError):
        mllineage.run("train", inputs=["missing.csv"], sagemaker_session=session).start()
    assert not Action.list(sagemaker_session=session)


def test_keyboard_interrupt_stops_the_run(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KeyboardInterrupt), mllineage.run("train", sagemaker_session=session) as run:
        raise KeyboardInterrupt
    assert Action.load(run.arn, sagemaker_session=session).status == "Stopped"


def test_track_records_inputs_outputs_returns_and_params(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("raw.csv").write_text("a\n1\n2\n")

    @mllineage.track(
        inputs=["source"],
        outputs=["target", "return"],
        type="Processing",
        sagemaker_session=session,
    )
    def prepare(source: str, target: str, fraction: float = 0.5) -> str:
        Path(target).write_text(Path(source).read_text()[:4])
        Path("stats.json").write_text(json.dumps({"fraction": fraction}))
        return "stats.json"

    assert prepare("raw.csv", "clean.csv", fraction=0.25) == "stats.json"
    (action,) = Action.list(action_type="Processing", sagemaker_session=session)
    assert action.action_name.startswith("test_track_records_inputs_outputs_returns_and_params")
    assert action.status == "Completed"
    assert action.properties["fraction"] == "0.25"
    produced = Association.list(
        source_arn=action.action_arn, association_type="Produced", sagemaker_session=session
    )
    made = {
        Artifact.load(a.destination_arn, sagemaker_session=session).artifact_name for a in produced
    }
    assert made == {"clean.csv", "stats.json"}
    (used,) = Association.list(
        destination_arn=action.action_arn,
        association_type="ContributedTo",
        sagemaker_session=session,
    )
    assert Artifact.load(used.source_arn, sagemaker_session=session).artifact_name == "raw.csv"


def test_track_refuses_a_parameter_the_function_lacks() -> None:
    with pytest.raises(ValueError, match="'data', which is no parameter"):

        @mllineage.track(inputs=["data"])
        def fit(path: str) -> None: ...


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://user:token@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
    ],
)
def test_remote_urls_lose_their_credentials(url: str, clean: str) -> None:
    assert without_credentials(url) == clean
