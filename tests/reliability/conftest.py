"""Fixtures of the reliability suite: the figures each test publishes (see RELIABILITY.md).

Each test puts what it did into ``figures`` (processes, operations, kills, refusals, ...). They
are printed in the test's report section and, when ``MLLINEAGE_RELIABILITY_FIGURES`` names a
file, appended to it as one JSON line per test: that is where RELIABILITY.md's numbers come from.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A dict the test fills with its figures; published when the test ends (a failing test
    fails before it has recorded its zeros)."""
    found: dict[str, Any] = {}
    started = time.monotonic()
    yield found
    found["seconds"] = round(time.monotonic() - started, 1)
    line = json.dumps({"test": request.node.nodeid, **found}, sort_keys=True)
    print(f"\nfigures: {line}")
    path = os.environ.get("MLLINEAGE_RELIABILITY_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
