"""The README's examples run as written: its Python blocks and its `mllineage` commands."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
POSTGRES_URL = os.environ.get("MLLINEAGE_TEST_POSTGRES_URL")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MLLINEAGE_URL"] = f"sqlite:///{tmp_path}/lineage.db"
    return env


@pytest.mark.parametrize("code", _blocks("python"), ids=lambda c: c.splitlines()[0][:40])
def test_python_block_runs(code: str, tmp_path: Path) -> None:
    if "postgresql://" in code:
        if not POSTGRES_URL:
            pytest.skip("MLLINEAGE_TEST_POSTGRES_URL is not set")
        code = re.sub(r'"postgresql://[^"]*"', repr(POSTGRES_URL), code)
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


def _commands() -> list[str]:
    commands = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("mllineage "):
                commands.append(line)
    return commands


@pytest.mark.parametrize("command", _commands())
def test_cli_example_runs(command: str, tmp_path: Path) -> None:
    if " serve" in f" {command}":
        pytest.skip("the server is exercised by tests/server")
    argv = shlex.split(command)
    result = subprocess.run(
        [sys.executable, "-m", "mllineage.cli", *argv[1:]],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
