"""Fixtures of the importer tests: the ML Metadata interpreter, and an MLMD store it builds."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mllineage.capture.importers.mlmd import ENV_PYTHON
from tests.cli.conftest import cli, store_url  # noqa: F401 - the CLI tests' fixtures

HERE = Path(__file__).parent
NO_MLMD = (
    f"no ML Metadata interpreter: set {ENV_PYTHON} to a Python with ml-metadata==1.17.1 "
    "(.ci/run makes one)"
)


@pytest.fixture(scope="session")
def mlmd_python() -> str:
    """The interpreter that has ml-metadata (``$MLLINEAGE_MLMD_PYTHON``)."""
    python = os.environ.get(ENV_PYTHON)
    if not python:
        pytest.skip(NO_MLMD)
    done = subprocess.run(
        [python, "-c", "import ml_metadata; print(ml_metadata.__version__)"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if done.returncode:
        pytest.skip(f"{NO_MLMD}; {python} cannot import ml_metadata")
    return python


def build_mlmd(python: str, path: Path, pipelines: int = 1) -> dict[str, Any]:
    """An MLMD store at ``path`` built by MLMD itself; returns what ``mlmd_build.py`` prints
    (its last artifact and MLMD's own upstream lineage of it)."""
    done = subprocess.run(
        [python, str(HERE / "mlmd_build.py"), str(path), str(pipelines)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer
