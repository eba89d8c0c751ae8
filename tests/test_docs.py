"""The examples of the README and of every page in docs/ run as written: their Python blocks
and their `mllineage` commands (blocks marked `console` or `text` are shown, not run)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mllineage.server.testing import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
POSTGRES_URL = os.environ.get("MLLINEAGE_TEST_POSTGRES_URL")
README_SERVER = "http://127.0.0.1:8080"


def _blocks(language: str) -> list[tuple[str, str]]:
    """(page name, block) of every ``language`` block of the README and the docs."""
    return [
        (page.name, textwrap.dedent(block))
        for page in PAGES
        for block in re.findall(rf"```{language}\n(.*?)```", page.read_text(), flags=re.S)
    ]


def _id(page: str, first_line: str) -> str:
    return f"{page}:{first_line[:50]}"


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MLLINEAGE_URL"] = f"sqlite:///{tmp_path}/lineage.db"
    env["MLLINEAGE_HASH_CACHE"] = str(tmp_path / "hashes.sqlite")  # not the user's cache
    return env


@pytest.mark.parametrize(
    "code",
    [pytest.param(code, id=_id(page, code.splitlines()[0])) for page, code in _blocks("python")],
)
def test_python_block_runs(code: str, tmp_path: Path) -> None:
    if "postgresql://" in code:
        if not POSTGRES_URL:
            pytest.skip("MLLINEAGE_TEST_POSTGRES_URL is not set")
        code = re.sub(r'"postgresql://[^"]*"', repr(POSTGRES_URL), code)
    env = _env(tmp_path)
    if README_SERVER not in code:
        _run_block(code, env, tmp_path)
        return
    # The server examples run against a real server with the README's credentials.
    with ServerProcess(
        env["MLLINEAGE_URL"], credentials={"AKIDEXAMPLE": ("a-long-random-secret", "123456789012")}
    ) as server:
        env["MLLINEAGE_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
        env["MLLINEAGE_SECRET_ACCESS_KEY"] = "a-long-random-secret"
        _run_block(code.replace(README_SERVER, server.url), env, tmp_path)


def _run_block(code: str, env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    assert "False" not in result.stdout.split(), result.stdout


def _command_blocks() -> list[tuple[str, list[str]]]:
    """The `mllineage ...` lines of each bash block; a block's lines share one store, so a
    block can start with `mllineage demo` and then look at what it recorded."""
    blocks = []
    for page, block in _blocks("bash"):
        commands = []
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("mllineage "):
                commands.append(line)
        if commands:
            blocks.append((page, commands))
    return blocks


@pytest.mark.parametrize(
    "commands",
    [pytest.param(commands, id=_id(page, commands[-1])) for page, commands in _command_blocks()],
)
def test_cli_examples_run(commands: list[str], tmp_path: Path) -> None:
    for command in commands:
        if " serve" in f" {command}":
            continue  # the server is exercised by tests/server
        argv = shlex.split(command)
        result = subprocess.run(
            [sys.executable, "-m", "mllineage.cli", *argv[1:]],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        assert "Traceback" not in result.stderr


def test_every_cli_command_has_an_example() -> None:
    import typer.main

    from mllineage.cli import app

    examples = " ".join(" ".join(c) for _, c in _command_blocks())
    examples += " " + " ".join(page.read_text() for page in PAGES)

    def names(group: Any, prefix: str = "") -> list[str]:
        found = []
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                found += names(command, f"{prefix}{name} ")
            else:
                found.append(f"{prefix}{name}")
        return found

    missing = [
        name
        for name in names(typer.main.get_command(app))
        if not re.search(rf"mllineage (--store \S+ )?{name}\b", examples)
    ]
    assert not missing, f"commands without an example in the README or docs/: {missing}"


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(code, id=_id(page, code.splitlines()[0]))
        for page, code in _blocks("python")
        if page == "README.md" and README_SERVER not in code
    ],
)
def test_a_readme_example_runs_twice(code: str, tmp_path: Path) -> None:
    """A reader runs an example again (a rerun of a pipeline): it must not fail on what the
    first run recorded."""
    env = _env(tmp_path)
    _run_block(code, env, tmp_path)
    _run_block(code, env, tmp_path)
