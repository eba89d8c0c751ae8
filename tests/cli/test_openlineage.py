"""``mllineage openlineage``: import files of events, list and show them, replay them."""

from __future__ import annotations

import json
from pathlib import Path

from mllineage import Session
from mllineage.capture.openlineage import run_action_name
from tests.openlineage.events import new_run, run_event


def events_file(path: Path, run: str) -> Path:
    lines = [
        run_event("START", run, inputs=("raw",), outputs=("clean",)),
        run_event("COMPLETE", run, at=2, inputs=("raw",), outputs=("clean",)),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_list_show_replay(cli, store_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    run = new_run()
    path = events_file(tmp_path / "events.jsonl", run)
    done = cli("openlineage", "import", str(path))
    assert done.code == 0, done.err
    assert "imported 2 events (2 new) of 1 runs" in done.err
    assert done.out == ""  # quiet in a pipe: no progress bar
    assert "(0 new)" in cli("openlineage", "import", str(path)).err
    with Session(store_url) as session:
        action = session.store.describe_action(ActionName=run_action_name(run))
        assert action["Status"] == "Completed"

    listed = cli("openlineage", "events", "--run-id", run, "--json")
    assert listed.code == 0, listed.err
    events = json.loads(listed.out)
    assert [e["EventType"] for e in events] == ["COMPLETE", "START"]
    table = cli("openlineage", "events", "--job", "scheduler/job")
    assert "COMPLETE" in table.out
    assert events[0]["EventId"][:8] in table.out

    shown = cli("openlineage", "event", events[1]["EventId"])
    assert json.loads(shown.out)["eventType"] == "START"
    assert cli("openlineage", "event", "0" * 64).code == 2

    replayed = cli("openlineage", "replay")
    assert replayed.code == 0
    assert "replayed 2 events of 1 runs" in replayed.err


def test_a_bad_line_is_named(cli, store_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "bad.jsonl"
    path.write_text(run_event("START", new_run()) + "\n" + '{"eventTime": "now"}\n')
    done = cli("openlineage", "import", str(path))
    assert done.code == 1
    assert f"{path}:2:" in done.err


def test_a_bad_job_option(cli, store_url: str) -> None:  # noqa: ANN001
    assert cli("openlineage", "events", "--job", "no-slash").code == 2
