"""What a run ran on: the Python version, the platform, and the versions of the distributions
whose top-level modules the process has imported (``numpy``, ``scikit-learn``...).

Only imported modules count (``sys.modules``), not everything installed: that is what the run
used. A module name is looked up as a distribution name first (one metadata read each); the
others (``sklearn`` is ``scikit-learn``) through ``importlib.metadata.packages_distributions``,
which scans every installed distribution (~0.3 s), so its answer is kept for the process.
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import sys
from typing import Any


@functools.cache
def _distributions_by_module() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


@functools.cache
def _distribution_of(module: str) -> tuple[str, str] | None:
    """(distribution name, version) providing the top-level ``module``, if installed."""
    try:
        return module, importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        pass
    for name in _distributions_by_module().get(module, []):
        try:
            return name, importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def imported_packages() -> dict[str, str]:
    """``{distribution: version}`` of the third-party top-level modules imported so far."""
    stdlib = sys.stdlib_module_names
    modules = {name.partition(".")[0] for name in list(sys.modules)}
    found: dict[str, str] = {}
    for module in sorted(modules):
        if module.startswith("_") or module in stdlib:
            continue
        distribution = _distribution_of(module)
        if distribution is not None:
            found[distribution[0]] = distribution[1]
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def python_version() -> str:
    return platform.python_version()


def environment() -> dict[str, Any]:
    """The environment of this process, as a JSON-ready document."""
    return {
        "python": python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": imported_packages(),
    }
