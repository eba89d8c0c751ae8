"""Virtual environments for the real OpenLineage producers (dbt, Airflow), whose pins conflict
with the project's own: made from the package registries the first time a test needs one,
and kept under ``$MLLINEAGE_TEST_CACHE`` (default ``~/.cache/mllineage-tests``), outside the
repository, keyed by their requirements so that a change of a pin makes a new one."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

DBT = ("dbt-core==1.10.15", "dbt-duckdb==1.10.0", "openlineage-dbt==1.54.0")
AIRFLOW = ("apache-airflow==2.10.5", "apache-airflow-providers-openlineage==2.1.3")


def cache_root() -> Path:
    root = os.environ.get("MLLINEAGE_TEST_CACHE") or str(Path.home() / ".cache/mllineage-tests")
    return Path(root)


def producer_venv(name: str, requirements: tuple[str, ...]) -> Path:
    """The ``bin`` folder of a virtual environment with ``requirements`` installed."""
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    home = cache_root() / f"{name}-{digest}"
    done = home / ".installed"
    cache_root().mkdir(parents=True, exist_ok=True)
    with open(cache_root() / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # (pytest-xdist workers may ask at once)
        if not done.exists():
            shutil.rmtree(home, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
            subprocess.run(
                [str(home / "bin/python"), "-m", "pip", "install", "-q", *requirements],
                check=True,
                capture_output=True,
                timeout=1800,
            )
            done.write_text("\n".join(requirements))
    return home / "bin"
