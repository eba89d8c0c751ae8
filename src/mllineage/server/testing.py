"""Run a real mllineage server process for tests and benchmarks.

Example:
    >>> with ServerProcess("sqlite:///lineage.db", credentials={"AKID": "secret"}) as server:
    ...     client = boto3.client("sagemaker", endpoint_url=server.url, ...)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from mllineage.server.auth import DEFAULT_ACCOUNT_ID


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """``python -m mllineage.server`` in a child process on 127.0.0.1 and a free port.

    Args:
        store: the store URL the server opens.
        credentials: access key ID -> secret, or -> (secret, account ID); ``None`` starts the
            server with ``--no-auth``.
        args: more command-line options, e.g. ``["--region", "us-east-1"]``.
        api_keys: OpenLineage API keys (``Authorization: Bearer``) -> account ID, written to
            the credentials file beside ``credentials``.
        startup_timeout: seconds to wait for ``GET /health`` to answer.

    The process is started by :meth:`start` (or ``with``) and always ended by :meth:`stop`.
    """

    def __init__(
        self,
        store: str,
        *,
        credentials: Mapping[str, str | tuple[str, str]] | None = None,
        args: Sequence[str] = (),
        startup_timeout: float = 60.0,
        api_keys: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.credentials = dict(credentials) if credentials is not None else None
        self.api_keys = dict(api_keys or {})
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        self._tmp = tempfile.TemporaryDirectory(prefix="mllineage-server-")
        tmp = Path(self._tmp.name)
        self.log_path = tmp / "server.log"
        command = [sys.executable, "-m", "mllineage.server", "--store", self.store]
        command += ["--host", "127.0.0.1", "--log-level", "warning", *self.args]
        if self.credentials is None:
            command.append("--no-auth")
        else:
            creds_file = tmp / "credentials.json"
            creds_file.write_text(
                _credentials_json(self.credentials, self.api_keys), encoding="utf-8"
            )
            command += ["--credentials", str(creds_file)]
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("MLLINEAGE_CREDENTIALS", "MLLINEAGE_API_KEYS")
        }
        # A port picked here can be taken before the child binds it: try a few.
        for _attempt in range(5):
            self.port = free_port()
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    [*command, "--port", str(self.port)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            if self._wait_ready():
                return self
            self._end_process()
        self.stop()
        raise RuntimeError(f"the mllineage server did not start: {self.log()[-2000:]}")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/health", timeout=2.0).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def log(self) -> str:
        """What the server printed so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _end_process(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None

    def stop(self) -> None:
        """End the process (terminate, then kill if it lingers) and remove its files."""
        self._end_process()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _credentials_json(
    credentials: Mapping[str, str | tuple[str, str]], api_keys: Mapping[str, str]
) -> str:
    import json

    entries: dict[str, dict[str, str]] = {}
    for key, value in credentials.items():
        secret, account = (value, DEFAULT_ACCOUNT_ID) if isinstance(value, str) else value
        entries[key] = {"secret_access_key": secret, "account_id": account}
    for number, (api_key, account) in enumerate(api_keys.items(), start=1):
        entries[f"openlineage-{number}"] = {"api_key": api_key, "account_id": account}
    return json.dumps(entries)
