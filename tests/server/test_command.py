"""``mllineage serve``: what it refuses before starting, and what it announces."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from mllineage.server.command import is_loopback, redact_url, serve
from mllineage.server.testing import ServerProcess

app = typer.Typer()
app.command()(serve)
runner = CliRunner()
NO_KEYS = {"MLLINEAGE_CREDENTIALS": ""}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_no_auth_is_refused_on_a_remote_address(host: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--store", f"sqlite:///{tmp_path}/db", "--no-auth", "--host", host], env=NO_KEYS
    )
    assert result.exit_code == 2
    assert "refusing --no-auth" in result.output
    assert "--allow-unauthenticated-remote" in result.output


def test_authentication_needs_keys(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--store", f"sqlite:///{tmp_path}/db"], env=NO_KEYS)
    assert result.exit_code == 2
    assert "no access keys configured" in result.output


def test_bad_credentials_file_is_reported(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text('{"AKID": {"secret_access_key": "s", "account_id": "12"}}')
    result = runner.invoke(
        app, ["--store", f"sqlite:///{tmp_path}/db", "--credentials", str(keys)], env=NO_KEYS
    )
    assert result.exit_code == 2
    assert "account ID must be 12 digits" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "http://127.0.0.1:1"], "needs a sqlite:/// or postgresql:// URL"),
        (["--log-level", "loud"], "must be one of"),
        (["--store", "sqlite://", "--workers", "2", "--no-auth"], "in-memory store"),
    ],
)
def test_bad_options(args: list[str], message: str) -> None:
    result = runner.invoke(app, args, env=NO_KEYS)
    assert result.exit_code == 2
    assert message in result.output


def test_no_auth_is_announced_and_serves_unsigned_requests(tmp_path: Path) -> None:
    with ServerProcess(f"sqlite:///{tmp_path / 'db'}") as process:
        response = httpx.post(
            process.url,
            content=b"{}",
            headers={
                "X-Amz-Target": "SageMaker.ListArtifacts",
                "Content-Type": "application/x-amz-json-1.1",
            },
        )
        assert response.json() == {"ArtifactSummaries": []}
        assert httpx.get(process.url).json()["authentication"] == "none"
        log = process.log()
    assert "WARNING: authentication is OFF" in log


def test_two_workers(tmp_path: Path) -> None:
    with ServerProcess(f"sqlite:///{tmp_path / 'db'}", args=["--workers", "2"]) as process:
        for _ in range(4):
            assert httpx.get(process.url + "/health").json()["status"] == "ok"


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True)]
    + [("0.0.0.0", False), ("10.0.0.1", False), ("myhost", False)],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_redact_url() -> None:
    assert redact_url("postgresql://me:pw@db:5432/x") == "postgresql://me:***@db:5432/x"
    assert redact_url("sqlite:///tmp/x.db") == "sqlite:///tmp/x.db"
